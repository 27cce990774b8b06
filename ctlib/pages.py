"""Building blocks of the result pages (notebooks 02-06, 09, 10).

Each notebook calls an experiment from :mod:`ctlib.experiments` (which trains
or reuses stored runs), then these helpers to set our numbers beside the
paper's, draw the figures and write the page's key numbers to JSON.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib import report


def write_summary(out_dir: str | Path, stem: str, obj: dict) -> Path:
    """Write ``<out_dir>/<stem>.json`` (the numbers tests and the claims page read)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.json"

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, (np.floating, np.integer)):
            return clean(v.item())
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    path.write_text(json.dumps(clean(obj), indent=1))
    return path


def compare(df: pd.DataFrame, paper: dict, by=("column", "target"), base: dict | None = None) -> pd.DataFrame:
    """Our mean ± std over seeds beside the paper's value, with the difference.

    Args:
        df: tidy experiment rows (``mae`` per seed).
        paper: ``{(column, target): paper value}``.
        base: optional ``{(column, target): (baseline column)}``; adds the
            relative change against that baseline, from the same seeds.
    """
    by = list(by)
    s = report.beside_paper(report.summarize(df, by), paper, by)
    if base:
        rel = []
        for _, r in s.iterrows():
            b = base.get(tuple(r[c] for c in by))
            if b is None:
                rel.append(math.nan)
                continue
            sel = df[(df[by[1]] == r[by[1]]) & (df[by[0]] == b)]
            mb = sel["mae"].mean()
            rel.append((r["mean"] - mb) / mb if mb else math.nan)
        s["vs baseline"] = rel
    return s


def styled(t: pd.DataFrame, digits: int = 3):
    """A compact display of a comparison table (percent for relative columns)."""
    fmt = {c: f"{{:.{digits}f}}" for c in ("paper", "ours - paper", "mean", "std") if c in t}
    if "vs baseline" in t:
        fmt["vs baseline"] = "{:+.1%}"
    show = [c for c in t.columns if c not in ("mean", "std", "n")]
    return t[show].style.format(fmt, na_rep="—").hide(axis="index")


def bar_vs_paper(t: pd.DataFrame, *, x="column", hue_order=None, title="", unit="", ax=None):
    """Grouped bars: ours (with seed std as error bar) beside the paper's value."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(7, 3.4))[1]
    labels = list(t[x])
    xs = np.arange(len(labels))
    ax.bar(xs - 0.2, t["paper"].astype(float), width=0.4, label="paper", color="#bbbbbb")
    ax.bar(xs + 0.2, t["mean"], width=0.4, yerr=t["std"].fillna(0), capsize=3, label="ours",
           color="#3b75af")
    ax.set_xticks(xs, labels, rotation=30, ha="right")
    ax.set_ylabel(f"test MAE ({unit})" if unit else "test MAE")
    ax.set_title(title)
    ax.legend(frameon=False)
    return ax


def learning_curves(records: list[dict], *, ax=None, title="", labels: list[str] | None = None):
    """Validation MAE per epoch for a set of run records (one line per run).

    ``labels``: one legend entry per record (default "<model> s<seed>").
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(6, 3.4))[1]
    for k, rec in enumerate(records):
        if not rec or not rec.get("history"):
            continue
        h = rec["history"]
        t = rec["config"]["targets"][0]
        ep = [e["epoch"] for e in h]
        val = [e["val_mae"][t] for e in h]
        label = labels[k] if labels is not None else f"{rec['config']['model']} s{rec['seed']}"
        ax.plot(ep, val, marker="o", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation MAE")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return ax


def parity(rec: dict, results_root: str | Path | None = None, *, ax=None, title=""):
    """Predicted vs true on the test split, from a run's predictions CSV."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(3.4, 3.4))[1]
    if not rec or not rec.get("predictions_path"):
        ax.text(0.5, 0.5, "no predictions stored", ha="center", transform=ax.transAxes)
        return ax
    from ctlib.experiments import results_root as _root

    p = pd.read_csv(Path(results_root or _root()) / rec["predictions_path"])
    t = rec["config"]["targets"][0]
    ax.scatter(p[t], p[f"{t}_pred"], s=3, alpha=0.4, rasterized=True)
    lo, hi = float(np.nanmin(p[t])), float(np.nanmax(p[t]))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    mae = float(np.mean(np.abs(p[t] - p[f"{t}_pred"])))
    ax.set_title(f"{title}\nMAE {mae:.3f}", fontsize=9)
    ax.set_xlabel("DFT")
    ax.set_ylabel("predicted")
    return ax


def records(df: pd.DataFrame, results_root: str | Path | None = None) -> dict[str, dict]:
    """Load the run records named in ``df['run_id']`` (searching the results tree)."""
    from ctlib.experiments import results_root as _root

    root = Path(results_root or _root())
    out = {}
    for rid in df["run_id"].dropna().unique():
        hits = sorted(root.rglob(f"{rid}.json"))
        hits = [h for h in hits if "embeddings" not in h.parts]
        if hits:
            out[rid] = json.loads(hits[0].read_text())
    return out


def provenance_line(df: pd.DataFrame) -> str:
    """One line on where the numbers came from: runs, devices, code commits."""
    recs = records(df)
    commits = sorted({(r.get("code") or {}).get("commit", "?")[:10] for r in recs.values()})
    devices = sorted({str(r.get("device")) for r in recs.values()})
    wall = sum(float(r.get("wall_s") or 0) for r in recs.values())
    return (f"{len(recs)} stored runs · devices: {', '.join(devices) or '—'} · code commits: "
            f"{', '.join(commits) or '—'} · total training wall time {wall / 60:.1f} min")
