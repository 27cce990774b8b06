"""Result figures: bars beside the paper, validation curves, parity plots, perovskite bars."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd


from ctlib.pages.common import PENDING, fmt_mae


def bar_vs_paper(t: pd.DataFrame, *, x="column", hue_order=None, title="", unit="", ax=None):
    """Grouped bars: ours (seed std as error bar) beside the paper's value.

    Controls (``role == "control"``) are hatched and have no paper bar; a row
    whose runs are not stored yet gets the word "pending" instead of a bar.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    ax = ax or plt.subplots(figsize=(7, 3.4))[1]
    labels = list(t[x])
    xs = np.arange(len(labels))
    mean = t["mean"].astype(float).to_numpy()
    std = t["std"].astype(float).fillna(0).to_numpy()
    ctrl = (t["role"] == "control").to_numpy() if "role" in t else np.zeros(len(t), bool)
    paper = pd.to_numeric(t["paper"], errors="coerce").to_numpy(dtype=float)
    ax.bar(xs - 0.2, np.where(np.isfinite(paper), paper, 0), width=0.4, color="#bbbbbb",
           label="paper")
    ok = np.isfinite(mean)

    def err(sel):
        e = std[sel]
        return e if np.any(e > 0) else None   # one seed: no error bar

    ax.bar(xs[ok & ~ctrl] + 0.2, mean[ok & ~ctrl], width=0.4, yerr=err(ok & ~ctrl), capsize=3,
           color="#3b75af", label="ours")
    if (ok & ctrl).any():
        ax.bar(xs[ok & ctrl] + 0.2, mean[ok & ctrl], width=0.4, yerr=err(ok & ctrl), capsize=3,
               color="#a6c3de", hatch="//", edgecolor="#3b75af", label="ours, control")
    top = np.nanmax(np.concatenate([paper[np.isfinite(paper)], (mean + std)[ok], [0.0]]))
    for xi in xs[~ok]:
        ax.text(xi + 0.2, 0.02 * (top or 1.0), PENDING, rotation=90, ha="center", va="bottom",
                fontsize=8, color="#666666", style="italic")
    if not ok.any():
        ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    ax.set_xticks(xs, labels, rotation=30, ha="right")
    for lab, c in zip(ax.get_xticklabels(), ctrl):
        if c:
            lab.set_color("#666666")
            lab.set_style("italic")
    ax.set_ylabel(f"test MAE ({unit})" if unit else "test MAE")
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    handles, names = ax.get_legend_handles_labels()
    if (~ok).any():
        handles.append(Patch(color="none", label=f"{PENDING}: run not stored yet"))
    ax.legend(handles=handles, frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def bars_by_target(t: pd.DataFrame, title: str, *, units: dict | None = None):
    """One :func:`bar_vs_paper` panel per target of a :func:`compare` table; returns the Figure."""
    import matplotlib.pyplot as plt

    from ctlib.experiments import UNITS

    units = UNITS if units is None else units
    targets = list(dict.fromkeys(t["target"]))
    n = max(len(t[t["target"] == tg]) for tg in targets)
    if n > 6:     # many rows: one panel per line, so the figure stays readable at page width
        fig, axes = plt.subplots(len(targets), 1, figsize=(min(9.0, 0.55 * n + 2.0), 3.4 * len(targets)),
                                 squeeze=False)
        axes = axes[:, 0]
    else:
        fig, axes = plt.subplots(1, len(targets), figsize=(4.6 * len(targets), 3.6), squeeze=False)
        axes = axes[0]
    for ax, tg in zip(axes, targets):
        bar_vs_paper(t[t["target"] == tg], title=f"{title}, {tg}", unit=units.get(tg, ""), ax=ax)
    fig.tight_layout()
    return fig


def learning_curves(records: list[dict], *, ax=None, title="", labels: list[str] | None = None,
                    unit: str = ""):
    """Validation MAE per epoch for a set of run records (one line per run).

    ``labels``: one legend entry per record (default "<model> s<seed>"); ``unit``: the MAE's
    unit for the axis label (e.g. "eV/atom").
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
    ax.set_ylabel(f"validation MAE ({unit})" if unit else "validation MAE")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)
    else:
        ax.text(0.5, 0.5, f"{PENDING}: no stored run", ha="center", va="center", transform=ax.transAxes,
                color="#666666", style="italic")
    return ax


def curves_by_target(df: pd.DataFrame, results_root: str | Path | None = None, *, title: str = ""):
    """The validation MAE per epoch of every stored run of ``df``, one panel per target and
    one line per run, coloured by ``column`` (e.g. ``CGCNN`` and ``CGCNN(mt)`` of the
    headline): are the runs trained until the baseline's curve has flattened?

    Args:
        df: tidy rows with ``target``, ``column``, ``seed`` and ``run_id`` (a missing run
            draws nothing; a panel with none says "pending").
        results_root: the store to read the records from (default the project's).
        title: the start of each panel's title, before the target.

    Returns:
        the matplotlib Figure (validation MAE in the target's unit against the epoch).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter

    from ctlib.pages.common import records

    recs = records(df, results_root)
    targets = list(dict.fromkeys(df["target"]))
    colours = dict(zip(dict.fromkeys(df["column"]), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(1, len(targets), figsize=(4.6 * len(targets), 3.4), squeeze=False)
    for ax, tg in zip(axes[0], targets):
        drawn = set()
        for r in df[df["target"] == tg].itertuples():
            rec = recs.get(r.run_id) if isinstance(r.run_id, str) else None
            if not rec or not rec.get("history"):
                continue
            t = rec["config"]["targets"][0]
            ax.plot([e["epoch"] for e in rec["history"]], [e["val_mae"][t] for e in rec["history"]],
                    color=colours[r.column], lw=1.0, alpha=0.8,
                    label=None if r.column in drawn else f"{r.column} (one line per seed)")
            drawn.add(r.column)
        ax.set_xlabel("epoch")
        ax.set_title(f"{title}{tg}", fontsize=10)
        if drawn:
            ax.set_ylabel("validation MAE (log scale)")
            ax.set_yscale("log")
            for axis_format in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
                axis_format(FormatStrFormatter("%.2g"))
            ax.legend(frameon=False, fontsize=7)
        else:             # an empty panel: no axis numbers to read
            ax.set_ylabel("validation MAE")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(0.5, 0.5, f"{PENDING}: no stored run", ha="center", va="center", transform=ax.transAxes,
                    color="#666666", style="italic")
    fig.tight_layout()
    return fig


def parity(rec: dict, results_root: str | Path | None = None, *, ax=None, title=""):
    """Predicted vs true on the test split, from a run's predictions CSV ("pending" without one)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(3.4, 3.4))[1]
    if not rec or not rec.get("predictions_path"):
        ax.text(0.5, 0.5, f"{PENDING}:\nrun not stored" if not rec else "no predictions stored",
                ha="center", va="center", transform=ax.transAxes, color="#666666", style="italic")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        return ax
    from ctlib.experiments import results_root as _root

    p = pd.read_csv(Path(results_root or _root()) / rec["predictions_path"])
    t = rec["config"]["targets"][0]
    ax.scatter(p[t], p[f"{t}_pred"], s=4, alpha=0.4, rasterized=True)
    lo, hi = float(np.nanmin(p[t])), float(np.nanmax(p[t]))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    mae = float(np.mean(np.abs(p[t] - p[f"{t}_pred"])))
    ax.set_title(f"{title}\ntest MAE {fmt_mae(mae)}", fontsize=10)
    ax.set_xlabel("DFT")
    ax.set_ylabel("predicted")
    return ax


def parity_grid(rows: pd.DataFrame, recs: dict, *, title: str = "", ncols: int = 2,
                results_root: str | Path | None = None):
    """Parity plots of several runs in a grid of ``ncols`` columns (readable at page width).

    Args:
        rows: tidy rows (``run_id``, ``model``) of the runs to draw, one panel each.
        recs: run id -> record (:func:`records`).
    """
    import matplotlib.pyplot as plt

    n = max(1, len(rows))
    nrows = int(math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.2 * nrows), squeeze=False)
    for ax, (_, r) in zip(axes.flat, rows.iterrows()):
        parity(recs.get(r["run_id"]) if isinstance(r["run_id"], str) else None, results_root, ax=ax,
               title=str(r.get("model", r.get("column", ""))))
    for ax in list(axes.flat)[len(rows):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig



def perovskite_bars(df: pd.DataFrame):
    """One panel per perovskite task: test MAE of each model (pending where not stored)."""
    import matplotlib.pyplot as plt

    groups = list(df.groupby(["dataset", "target"], sort=False))
    ncols = min(3, len(groups))
    nrows = int(math.ceil(len(groups) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.2 * nrows), squeeze=False)
    for ax, ((d, t), g) in zip(axes.flat, groups):
        m = g.groupby("column", sort=False)["mae"].agg(["mean", "std"]).reset_index()
        xs = np.arange(len(m))
        colours = ["#3b75af" if str(c).startswith("CT-") else "#bbbbbb" for c in m["column"]]
        ok = np.isfinite(m["mean"].to_numpy(dtype=float))
        err = m["std"].fillna(0).to_numpy(dtype=float)[ok]
        ax.bar(xs[ok], m["mean"].to_numpy(dtype=float)[ok], yerr=err if np.any(err > 0) else None, capsize=3,
               color=[c for c, o in zip(colours, ok) if o])
        ax.grid(axis="x", visible=False)
        for xi in xs[~ok]:
            ax.text(xi, 0, PENDING, rotation=90, ha="center", va="bottom", fontsize=8, color="#666666",
                    style="italic")
        ax.set_xticks(xs, m["column"])
        unit = str(g["unit"].iloc[0]) if "unit" in g else ""
        ax.set_title(f"{d}\n{t}", fontsize=9)
        ax.set_ylabel(f"test MAE ({unit})" if unit else "test MAE")
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


