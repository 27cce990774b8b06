"""Building blocks of the result pages (notebooks 02-10).

Each notebook calls an experiment from :mod:`ctlib.experiments` (which trains
or reuses stored runs), then these helpers; every page has the same shape:

1. :func:`page_top` / :func:`headline`: the paper's claims, our numbers and the
   verdicts (:mod:`ctlib.claims`, computed), with :func:`budget_note` saying where
   the profile's budget differs from the paper's;
2. the figure (:func:`bars_by_target`, :func:`perovskite_bars`, ...);
3. the details (:func:`compare` + :func:`styled`, :func:`provenance_line`, ...).

Runs not stored yet (NaN rows, ``run_id`` None) read **pending** in tables,
figures and verdicts; the control rows (:data:`CONTROLS`) are labelled. Every
MAE is shown by :func:`fmt_mae` (3 significant digits). Pages 07 and 08 use
:func:`find_ct_sources` (a pending page while the CT table is not stored) and
:func:`embedding_drift`. :func:`write_summary` writes the page's key numbers.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib import report


def _import_tqdm_quietly() -> None:
    """Import ``tqdm.auto`` once, without its "IProgress not found" warning.

    In a Jupyter kernel without ipywidgets, importing ``tqdm.auto`` warns
    (``TqdmWarning``) and the warning prints the machine path of the tqdm
    package onto the page. The book never shows progress bars (its calls pass
    ``progress=False``), so that one warning is dropped here, at the first
    import, before the training and analysis modules import ``tqdm.auto``.
    """
    import warnings

    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
        import tqdm.auto  # noqa: F401


_import_tqdm_quietly()


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


#: Rows that are controls, not columns of the paper: what each start is.
CONTROLS = {
    "C random": "random 128-d table",
    "CT0-C": "untrained CT table",
    "CGCNN(random)": "random 128-d table",
    "CGCNN(CT untrained)": "untrained CT table",
}
#: What a page shows for a number whose run is not stored yet.
PENDING = "pending"


def fmt_mae(x, sig: int = 3) -> str:
    """The book's one format of an MAE (or any metric): ``sig`` significant digits.

    ``fmt_mae(0.08342) == "0.0834"``; ``"—"`` for a missing value.
    """
    return report.fmt_sig(x, sig)


def fmt_signed(x, sig: int = 3) -> str:
    """Like :func:`fmt_mae` with an explicit sign (``+0.0123``, ``-0.0456``)."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    return ("+" if float(x) >= 0 else "-") + report.fmt_sig(abs(float(x)), sig)


def fmt_rel(x) -> str:
    """A relative change in percent, one decimal, signed (``-12.3%``); ``—`` if missing."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    return f"{100 * float(x):+.1f}%"


def compare(df: pd.DataFrame, paper: dict, by=("column", "target"), base: dict | None = None) -> pd.DataFrame:
    """Our mean ± std over seeds beside the paper's value, with the difference.

    Args:
        df: tidy experiment rows (``mae`` per seed; NaN for a run not stored yet).
        paper: ``{(column, target): paper value}``.
        base: optional ``{(column, target): (baseline column)}``; adds the
            relative change of the mean MAE against that baseline column.

    Returns:
        one row per ``by`` group with ``mean``, ``std``, ``n``, ``paper``,
        ``ours`` (``"0.0834 ± 0.0040 (n=3)"``, or ``"pending"`` when no run of
        the group is stored), ``ours - paper``, ``role`` (``"control"`` for the
        rows of :data:`CONTROLS`, ``"baseline"`` for a column other rows are
        compared with, else ``"paper"``) and, with ``base``, ``vs baseline``.
        Controls come last within each target.
    """
    by = list(by)
    s = report.beside_paper(report.summarize(df, by), paper, by)
    s["ours"] = [PENDING if int(r["n"]) == 0 else report.fmt_pm(r["mean"], r["std"], int(r["n"]), sig=3)
                 for _, r in s.iterrows()]
    baselines = set((base or {}).values())
    s["role"] = ["control" if r[by[0]] in CONTROLS else "baseline" if r[by[0]] in baselines else "paper"
                 for _, r in s.iterrows()]
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
    if len(by) > 1:
        # keep the groups of by[1] in first-seen order, controls last within each, else as built
        order = {t: i for i, t in enumerate(dict.fromkeys(s[by[1]]))}
        keys = {"_group": s[by[1]].map(order), "_control": (s["role"] == "control").astype(int),
                "_row": np.arange(len(s))}
        s = s.assign(**keys).sort_values(list(keys)).drop(columns=list(keys))
    return s.reset_index(drop=True)


def label_row(column: str) -> str:
    """The row label of a table: the column, and for a control what it is."""
    return f"{column} (control: {CONTROLS[column]})" if column in CONTROLS else str(column)


def styled(t: pd.DataFrame, digits: int = 3):
    """A compact display of a :func:`compare` table.

    MAEs with ``digits`` significant digits, relative columns in percent,
    ``pending`` for runs not stored yet, controls labelled and set in grey italics.
    """
    show = t.copy()
    if "column" in show:
        show["column"] = [label_row(c) for c in show["column"]]
    fmt = {c: (lambda x, d=digits: fmt_mae(x, d)) for c in ("paper", "mean", "std") if c in show}
    if "ours - paper" in show:
        fmt["ours - paper"] = lambda x, d=digits: fmt_signed(x, d)
    if "vs baseline" in show:
        fmt["vs baseline"] = fmt_rel
    cols = [c for c in show.columns if c not in ("mean", "std", "n", "role")]
    role = show["role"] if "role" in show else pd.Series("paper", index=show.index)

    def grey(row):
        css = "color: #666666; font-style: italic" if role.loc[row.name] == "control" else ""
        return [css] * len(row)

    return show[cols].style.format(fmt, na_rep="—").apply(grey, axis=1).hide(axis="index")


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
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)
    else:
        ax.text(0.5, 0.5, f"{PENDING}: no stored run", ha="center", va="center", transform=ax.transAxes,
                color="#666666", style="italic")
    return ax


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


def records(df: pd.DataFrame, results_root: str | Path | None = None) -> dict[str, dict]:
    """The run records named in ``df['run_id']``, from any profile and experiment of the store.

    Returns:
        ``{run_id: record}``; an id with no stored record is left out, and an id
        stored under several experiments (one run reused) gives its first by path.
    """
    import glob

    from ctlib.lookup import stored_records

    out: dict[str, dict] = {}
    for rid in (df["run_id"].dropna().unique() if "run_id" in df else []):
        hits = stored_records("*", results_root, name=glob.escape(rid))  # reads only this id's files
        if hits:
            out[rid] = hits[0][1]
    return out


def provenance_line(df: pd.DataFrame) -> str:
    """One line on where the numbers came from: runs, devices, code commits, pending rows."""
    recs = records(df)
    commits = sorted({((r.get("code") or {}).get("commit") or "?")[:10] for r in recs.values()})
    devices = sorted({str(r.get("device")) for r in recs.values()})
    wall = sum(float(r.get("wall_s") or 0) for r in recs.values())
    pending = int(df["run_id"].isna().sum()) if "run_id" in df else 0
    tail = f" · {pending} of {len(df)} runs {PENDING} (not stored yet)" if pending else ""
    return (f"{len(recs)} stored runs · devices: {', '.join(devices) or '—'} · code commits: "
            f"{', '.join(commits) or '—'} · total training wall time {wall / 60:.1f} min{tail}")


# ------------------------------------------------------------ the top of a page
def _md(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _change(r) -> str:
    m = r.get("rel_mean")
    if m is None or not np.isfinite(float(m)):
        return "—"
    lo, hi = r.get("rel_lo"), r.get("rel_hi")
    if lo is None or not np.isfinite(float(lo)):
        return f"{fmt_rel(m)} (1 seed, no interval)"
    return f"{fmt_rel(m)} [{fmt_rel(lo)}, {fmt_rel(hi)}]"


#: How a direction table answers its question, by verdict (the rest read as the verdict).
ANSWERS = {report.REPRODUCED: "yes", report.CONTRADICTED: "no: it raises it", report.MISSING: PENDING}


def direction_table(v: pd.DataFrame, question: str, *, group: str = "dataset",
                    group_title: str = "data set", group_labels: dict | None = None):
    """A comparison that is not a claim of the paper, as a table that answers ``question``.

    Args:
        v: :func:`ctlib.analysis.transfer.paired_verdicts` rows judged in the
            direction "lower MAE" (``<group>, claim, verdict, mean_rel,
            rel_lo, rel_hi, n_seeds``).
        question: the answer column's title, e.g. "pretraining lowers the MAE?".
        group, group_title, group_labels: the group column of ``v``, its title
            and display names for its values.

    Returns:
        a Styler, one row per comparison: "yes" where the 95 % interval of the
        per-seed change lies below 0, "no: it raises it" where above, "pending"
        while a run is not stored, else the verdict (inconclusive, ...), with the mean change, its
        interval and the seeds.
    """
    labels = group_labels or {}
    return pd.DataFrame({
        group_title: [labels.get(d, d) for d in v[group]],
        "comparison": v["claim"],
        question: [ANSWERS.get(x, x) for x in v["verdict"]],
        "our change (mean)": [fmt_rel(x) for x in v["mean_rel"]],
        "95% interval": [f"[{fmt_rel(a)}, {fmt_rel(b)}]" if np.isfinite(a) else "—"
                         for a, b in zip(v["rel_lo"], v["rel_hi"])],
        "seeds": v["n_seeds"],
    }).style.hide(axis="index")


def direction_reading(v: pd.DataFrame, subject: str, pairs: str) -> str:
    """One Markdown sentence counting the answers of a :func:`direction_table`, e.g.
    "**Reading.** Pretraining lowers the MAE in 6 and raises it in 0 of the 6 (target,
    table) pairs judged; the other 0 intervals contain 0." Empty while none is judged."""
    judged = v[v["verdict"].isin([report.REPRODUCED, report.CONTRADICTED, report.INCONCLUSIVE])]
    if not len(judged):
        return ""
    lower = int((judged["verdict"] == report.REPRODUCED).sum())
    higher = int((judged["verdict"] == report.CONTRADICTED).sum())
    return (f"**Reading.** {subject} lowers the MAE in {lower} and raises it in {higher} of the "
            f"{len(judged)} {pairs} judged; the other {len(judged) - lower - higher} intervals contain 0.")


def headline(verdicts, profile: str, *, budget: str | None = None, lead: str | None = None) -> str:
    """The opening of a results page: the paper's claims, our numbers and the verdicts.

    Args:
        verdicts: rows of :func:`ctlib.claims.judge` (paired claims: adds our
            relative change with its 95 % interval) or of
            :func:`ctlib.claims.judge_k3` / :func:`ctlib.claims.judge_r2`
            (``claim``, ``paper``, ``ours``, ``verdict``): a DataFrame or list of dicts.
        profile: the profile the numbers come from (named in the table).
        budget: :func:`budget_note` text, printed under the table.
        lead: a sentence before the table.

    Returns:
        Markdown. ``missing`` verdicts read ``pending``.
    """
    from ctlib.claims import NOT_RUN as _NOT_RUN, PENDING as _P, shown_verdict

    rows = verdicts.to_dict("records") if isinstance(verdicts, pd.DataFrame) else list(verdicts)
    paired = any("rel_mean" in r for r in rows)
    head = ["Claim (paper)", "Paper", f"Ours (profile `{profile}`)"]
    if paired:
        head.append("Our change of the MAE [95% interval]")
    head.append("Verdict")
    if lead is None:
        lead = ("**What the paper claims here, what we find, and the verdict** (one rule for every claim: "
                "the paired relative change over seeds and its 95% interval; see the claims page)."
                if paired else "**What the paper claims here, what we find, and the verdict** (the rule "
                "is stated on the claims page).")
    out = [lead, "",
           "| " + " | ".join(head) + " |", "|" + "|".join([":--"] * len(head)) + "|"]
    for r in rows:
        v = shown_verdict(r)   # the word says the effect size too (weaker / stronger / not reproduced)
        ours = v if v == _P else "—" if v == _NOT_RUN else r.get("ours", "—")
        if r.get("fronts") and v not in (_P, _NOT_RUN):
            ours += f" ({r['fronts']})"   # two fronts' tables compared: each front's own accuracy
        cells = [r.get("claim", ""), r.get("paper", "—"), ours]
        if paired:
            cells.append(_change(r))
        cells.append(f"**{v}**")
        out.append("| " + " | ".join(_md(c) for c in cells) + " |")
    if budget:
        out += ["", budget]
    return "\n".join(out)


def _n(x) -> str:
    return f"{int(x):,}"


def _stop_rule(p, epochs: str) -> str:
    """``epochs`` (text) and the profile's stopping rule, in words."""
    if p.patience is None:
        return f"{epochs} epochs, the whole learning-rate schedule, keeping the epoch of lowest validation MAE"
    return f"at most {epochs} epochs, early stopping after {p.patience} epochs without progress"


def budget_note(profile: str, table: str, *, df: pd.DataFrame | None = None) -> str:
    """Where the profile's budget differs from the paper's, for one table (Markdown, one paragraph).

    Every number is read from the profile (:mod:`ctlib.config`), the data
    (sizes of the splits) or ``df``; the paper's schedule is the ``paper``
    profile's. ``table``: ``"I"``, ``"II"``, ``"III"``, ``"IV"``, ``"perovskites"``
    or ``"embedding"`` (pages 07/08).
    """
    from ctlib import data, experiments
    from ctlib.config import get_profile

    p, P = get_profile(profile), get_profile("paper")
    parts = []
    if table in ("I", "II", "III", "IV"):
        counts = data.benchmark_counts("mp2018")
        full = counts["with_structure"]["train"]
        parts.append(f"data: MP-2018, the {counts['with_structure']['total'] / counts['benchmark']['total']:.0%} "
                     f"subset with current MP structures ({_n(full)} of the {_n(counts['benchmark']['train'])} "
                     f"training materials)")
        _, split = experiments.mp_data(p)
        models = ("cgcnn", "megnet", "alignn", "ct") if table == "I" else ("cgcnn",)
        sizes = {m: len(experiments.model_split(split, m, p)["train"]) for m in models}
        if any(n < full for n in sizes.values()):
            what = "CGCNN back ends" if table != "I" else "models"
            each = (_n(sizes["cgcnn"]) if len(set(sizes.values())) == 1
                    else ", ".join(f"{m} {_n(n)}" for m, n in sizes.items()))
            parts.append(f"{what} train on **{each} of the {_n(full)}** training structures (the paper: "
                         "the whole training split)")
        ep = {m: experiments.train_config(m, p)["epochs"] for m in models}
        ep_paper = {m: P.epochs[m] for m in models}
        if ep != ep_paper:
            def each(e):
                return (str(e[models[0]]) if len(models) == 1
                        else ", ".join(f"{e[m]} ({experiments.MODEL_LETTER[m]})" for m in models))
            parts.append(f"{_stop_rule(p, each(ep))} (the `paper` profile: {each(ep_paper)})")
        if table in ("II", "III", "IV"):
            ct1 = experiments.train_config("ct", p, 1, front=True)["epochs"]
            ctm = experiments.train_config("ct", p, 2, front=True)["epochs"]
            fr = "front ends pretrained on the MP-2018 training split instead of MP*"
            if {ct1, ctm} != {P.epochs["ct"]}:
                fr += f" (CT: {ct1} epochs" + (f", multi-task {ctm}" if ctm != ct1 else "")
                fr += f"; the `paper` profile: {P.epochs['ct']})"
            if "front_seed" in p.extra:
                fr += f", once (seed {p.extra['front_seed']}) for every back-end seed"
            parts.append(fr)
    elif table == "perovskites":
        parts.append(f"{_n(p.perovskite_n)} Castelli perovskites instead of the paper's merged HOIP + "
                     "Pb-free set")
        scarce = bool(p.extra.get("perovskites_from_scarce"))
        seeds, ep = experiments.scarce_schedule(p) if scarce else (p.seeds, p.epochs["cgcnn"])
        if ep != P.epochs["cgcnn"]:
            parts.append(f"{_stop_rule(p, str(ep))} (the `paper` profile: {P.epochs['cgcnn']})")
        parts.append("the CT embedding pretrained on the MP-2018 training split instead of MP*")
        if scarce:
            parts.append(f"the rows are the CGCNN runs of the data-scarce transfer ({len(seeds)} seeds; its "
                         "`cgcnn92` and `CT E_f` starts): MEGNet, the HOIP gap and Matbench's folds "
                         "are not run on this profile")
    elif table == "embedding":
        parts.append("the CT table pretrained on the MP-2018 training split instead of MP*")
        ctm = experiments.train_config("ct", p, 2, front=True)["epochs"]
        if ctm != P.epochs["ct"]:
            parts.append(f"multi-task CT pretraining for {ctm} epochs (the `paper` profile: {P.epochs['ct']})")
    else:
        raise ValueError(f"unknown table {table!r}")
    if len(p.seeds) != len(P.seeds):
        parts.append(f"{len(p.seeds)} training seed{'s' if len(p.seeds) != 1 else ''} (the `paper` "
                     f"profile: {len(P.seeds)})")
    if p.tiny:
        parts.append("tiny model widths (a test of the pipeline, not of the paper)")
    return f"*Budget of profile `{profile}`, where it differs from the paper:* " + "; ".join(parts) + "."


def page_top(df: pd.DataFrame, profile: str, table: str, **kw) -> tuple[pd.DataFrame, str]:
    """Verdicts of ``table``'s claims on ``df`` and the Markdown that opens the page.

    Returns:
        ``(verdicts, markdown)``: :func:`ctlib.claims.judge` on the claims of
        ``table``, and :func:`headline` with :func:`budget_note`.
    """
    from ctlib import claims

    v = claims.judge(df, claims.claims_for(table))
    return v, headline(v, profile, budget=budget_note(profile, table, df=df), **kw)


# ------------------------------------------------------------ the paper's columns
_T1_NAMES = {"cgcnn": "CGCNN", "megnet": "MEGNET", "alignn": "ALIGNN", "ct": "CrystalTransformer"}
_T_KEYS = {"II": "table2_frontend_backend", "III": "table3_cross_task", "IV": "table4_embedding_variants"}


def paper_values(table: str) -> dict:
    """``{(column, target): the paper's MAE}`` for our columns of Table I-IV.

    Table I: our model names; Table II: its front-back pairs and each back
    end's default start (``C default`` etc., the paper's Table I value); Tables
    III and IV: their columns. Controls and other starts have no paper value.
    """
    targets = ("E_f", "E_g")
    if table == "I":
        return {(m, t): report.paper_value("table1_models", n, f"MP-{t}") for m, n in _T1_NAMES.items()
                for t in targets}
    if table not in _T_KEYS:
        raise ValueError(f"no paper values for table {table!r}; use I, II, III or IV")
    key = _T_KEYS[table]
    out = {(c, t): report.paper_value(key, t, c) for c in report.paper_tables()[key]["columns"] for t in targets}
    if table == "II":
        for letter, m in (("C", "cgcnn"), ("M", "megnet"), ("A", "alignn")):
            for t in targets:
                out[(f"{letter} default", t)] = report.paper_value("table1_models", _T1_NAMES[m], f"MP-{t}")
    return out


def table1_scale(fronts: pd.DataFrame, ct: pd.DataFrame, epochs: dict) -> str:
    """Markdown: the test MAE of Table II's fronts beside CT's Table I run and the paper's Table I.

    For a profile that runs Table I for CT only (cpu); ``""`` when ``fronts`` is
    empty. No verdict: the fronts start from one-hot, train for their own epochs
    and have one seed (:func:`ctlib.experiments.table1_fronts`).

    Args:
        fronts, ct: rows of ``table1_fronts`` and ``table1`` (``column, target,
            mae``; several seeds are averaged and counted).
        epochs: training epochs by model, e.g. ``{"cgcnn": 30, "megnet": 20, "ct": 20}``.
    """
    if fronts.empty:
        return ""
    stat = report.summarize(pd.concat([fronts, ct], ignore_index=True), ["column", "target"])
    stat = stat[stat["n"] > 0].set_index(["column", "target"])      # stored runs only
    models = list(dict.fromkeys(stat.index.get_level_values("column")))
    paper = paper_values("I")
    label = {"cgcnn": "CGCNN (one-hot)", "megnet": "MEGNet (one-hot)", "alignn": "ALIGNN (one-hot)", "ct": "CT"}
    names = [f"{label[m]}, {epochs.get(m, '?')} epochs" for m in models]

    def cell(m, t):
        n = int(stat["n"].get((m, t), 0))
        ours = fmt_mae(stat["mean"].get((m, t))) + ("" if n == 1 else f" (n={n})")
        return f"{ours} ({fmt_mae(paper.get((m, t)))})"

    targets = dict.fromkeys(stat.index.get_level_values("target"))
    rows = [f"| {t} | " + " | ".join(cell(m, t) for m in models) + " |" for t in targets]
    seeds = "one seed each" if set(stat["n"]) == {1} else "one seed each where no n is given"
    return ("**For scale, not a verdict.** Table II's fronts train CGCNN and MEGNet on the same whole train "
            f"split, but from one-hot instead of their standard inputs and for their own epochs; {seeds}. "
            "Test MAE, ours (the paper's Table I):\n\n"
            "| target | " + " | ".join(names) + " |\n|:--|" + "--:|" * len(models) + "\n" + "\n".join(rows))


def baseline_fidelity(table1: pd.DataFrame, fronts: pd.DataFrame) -> pd.DataFrame:
    """How faithful each baseline is: our runs on the whole train split beside the paper's
    Table I and the original authors' published numbers.

    Args:
        table1, fronts: rows of :func:`ctlib.experiments.table1` and
            :func:`ctlib.experiments.table1_fronts` (``column`` = model, ``target``,
            ``mae``; several seeds are averaged). A model without a stored run reads
            *pending*; ALIGNN, which no cpu run trains on the whole split, *not run*.

    Returns:
        one row per (model, target): ``model``, ``target``, ``ours`` (mean, n and how it was
        trained), ``paper`` (Table I), ``published``, ``paper / published`` and ``source``.
    """
    both = pd.concat([d for d in (table1, fronts) if len(d)], ignore_index=True)
    stat = report.summarize(both, ["column", "table", "target"]) if len(both) else pd.DataFrame()
    names = {"cgcnn": "CGCNN", "megnet": "MEGNET", "alignn": "ALIGNN", "ct": "CrystalTransformer"}
    rows = []
    for model in ("cgcnn", "megnet", "alignn", "ct"):
        for target in ("E_f", "E_g"):
            mine = stat[(stat["column"] == model) & (stat["target"] == target) & (stat["n"] > 0)] \
                if len(stat) else stat
            if len(mine):
                r = mine.iloc[0]
                how = "from one-hot (Table II's front)" if r["table"] == "I (fronts)" else "its standard input"
                ours = f"{fmt_mae(r['mean'])} (n={int(r['n'])}; {how})"
            else:
                trained = len(both) and ((both["column"] == model) & (both["target"] == target)).any()
                ours = PENDING if trained else "not run on this profile"
            paper = report.paper_value("table1_models", names[model], f"MP-{target}")
            pub = report.published_baselines()["models"].get(model, {})
            rows.append({"model": names[model].replace("MEGNET", "MEGNet").replace("CrystalTransformer", "CT"),
                         "target": target, "ours": ours, "paper": fmt_mae(paper),
                         "published": fmt_mae(pub.get(target)) if target in pub else "— (the paper's own)",
                         "paper / published": f"{paper / pub[target]:.2f}×" if target in pub else "—",
                         "source": f"{pub['source']}; {pub['benchmark']}" if pub else "—"})
    return pd.DataFrame(rows)


def baselines(table: str, columns) -> dict:
    """``{(column, target): baseline column}`` for the *vs baseline* column of a page.

    Table II: each row against its back end's default start (``CT-C`` and
    ``CT0-C`` against ``C default``); Tables III and IV: against ``CGCNN``.
    """
    out = {}
    for c in dict.fromkeys(columns):
        c = str(c)
        if table == "II":
            back = (c.split("-", 1)[1] if c.startswith("CT0-") else c.split(" ")[0] if " " in c
                    else c.split("-")[-1])
            b = f"{back} default"
        elif table in ("III", "IV"):
            b = "CGCNN"
        else:
            raise ValueError(f"no baselines for table {table!r}")
        if b != c:
            out.update({(c, t): b for t in ("E_f", "E_g")})
    return out


def show_pending(what: str = "this section") -> None:
    """Display one line: ``what`` is pending (the analysed run is not stored yet)."""
    from IPython.display import Markdown, display

    what = str(what)
    display(Markdown(f"*{what[:1].upper() + what[1:]}: {PENDING} until the run is stored (see the top of "
                     "the page).*"))


def verdict_summary(verdicts: pd.DataFrame, interp: pd.DataFrame | None, profile: str) -> str:
    """The opening sentence of the claims page: how many claims got which verdict (Markdown)."""
    from ctlib.claims import shown_verdict

    def counts(df):
        c = pd.Series([shown_verdict(r) for r in df.to_dict("records")]).value_counts()
        return ", ".join(f"**{n}** {v}" for v, n in c.items())

    out = (f"On profile `{profile}`, the {len(verdicts)} claims judged from our tables: "
           f"{counts(verdicts)}.")
    if interp is not None and len(interp):
        out += f" The {len(interp)} interpretability claims (pages 07 and 08): {counts(interp)}."
    return out


# ------------------------------------------------------------ page 06
def perovskite_comparison(df: pd.DataFrame) -> pd.DataFrame:
    """Each perovskite task: the plain model and the CT-embedding one, and the change.

    Args:
        df: :func:`ctlib.experiments.perovskites` rows.

    Returns:
        ``dataset``, ``target``, ``unit``, ``model`` (``C``, ``CT-C``, ``M``, ``CT-M``),
        ``n_train``, ``ours`` (mean ± std over seeds, or ``pending``), ``mean``,
        ``vs baseline`` (relative change of the CT row's mean from its plain model's).
    """
    s = report.summarize(df, ["dataset", "target", "column"])
    rows = []
    for (d, t), g in s.groupby(["dataset", "target"], sort=False):
        for _, r in g.iterrows():
            base = g[g["column"] == str(r["column"]).replace("CT-", "")]["mean"]
            b = float(base.iloc[0]) if len(base) else math.nan
            sel = df[(df["dataset"] == d) & (df["column"] == r["column"]) & (df["target"] == t)]
            rows.append({"dataset": d, "target": t,
                         "unit": str(sel["unit"].iloc[0]) if "unit" in sel and len(sel) else "",
                         "model": r["column"],
                         "n_train": int(sel["n_train"].iloc[0]) if "n_train" in sel and len(sel) else None,
                         "ours": PENDING if int(r["n"]) == 0 else report.fmt_pm(r["mean"], r["std"], int(r["n"]),
                                                                                sig=3),
                         "mean": r["mean"],
                         "vs baseline": ((r["mean"] - b) / b if str(r["column"]).startswith("CT-") and b
                                         and np.isfinite(b) else math.nan)})
    return pd.DataFrame(rows)


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


# ------------------------------------------------------------ pages 07 and 08
def find_ct_sources(embedding: str, profile: str, *, seeds=None,
                    results_root: str | Path | None = None) -> tuple[list, str | None]:
    """The CT embedding(s) pages 07/08 analyse, or why the page is pending.

    Returns:
        ``(sources, None)`` when found (:func:`ctlib.lookup.resolve_embeddings`);
        ``([], markdown)`` when ``embedding="auto"`` finds no CT table of the
        profile: a "pending" paragraph (with the latest pretraining snapshot
        the campaign has written, if any). A run id or path that does not
        exist still raises.
    """
    from ctlib import lookup

    try:
        return lookup.resolve_embeddings(embedding, profile, seeds=seeds,
                                         results_root=results_root), None
    except lookup.EmbeddingNotFound:
        if str(embedding) != "auto":
            raise
    root = lookup.profile_dir(profile, results_root)
    snaps = sorted(root.glob("*/embeddings/ct-*/epoch_*.json")) if root.is_dir() else []
    progress = ""
    if snaps:
        last = max(snaps, key=lambda q: q.stem)
        progress = (f" The pretraining is under way: its latest element-table snapshot is from epoch "
                    f"{int(last.stem.split('_')[-1])} (run `{last.parent.name}`).")
    from ctlib.config import get_profile

    how = (f"`ctlib campaign --profile {profile}` has stored the run"
           if get_profile(profile).extra.get("campaign_only") else
           f"the training pages of profile `{profile}` (02 and 04) have stored the run")
    return [], (f"**{PENDING.capitalize()}: the CT pretraining of profile `{profile}` is not stored yet.** "
                f"This page analyses the CT element table (multi-task, else single-task E_f) and shows "
                f"nothing in its place; it fills in when {how}.{progress}")


def drift_text(drift: dict | None, start_desc: str = "") -> str:
    """One sentence: how far the analysed table moved from its start (:func:`clustering.table_drift`)."""
    if not drift:
        return "*Drift from the start table:* not measurable for this table."
    return (f"**Drift from the start:** the analysed table differs from {start_desc or 'its start'} by a "
            f"relative Frobenius distance of **{fmt_mae(drift['rel_frobenius'])}** "
            f"(0 = unchanged; an unrelated table of the same scale gives about 1.4), with a mean cosine "
            f"similarity of {fmt_mae(drift['mean_cosine'])} between each element's row before and after "
            f"({drift['n_elements']} elements × {drift['dim']} dimensions).")


def embedding_drift(source, profile: str, *, results_root: str | Path | None = None) -> tuple[dict | None, str]:
    """:func:`clustering.table_drift` of a source's table from its start, and the start's description.

    ``(None, reason)`` when the start cannot be had or its shape differs.
    """
    from ctlib.analysis import clustering

    try:
        start, desc = clustering.start_table(source, profile, results_root=results_root)
        return clustering.table_drift(source.embedding, start), desc
    except (ValueError, KeyError, FileNotFoundError, TypeError) as e:
        return None, f"no comparable start table ({e})"


def embedding_budget(source, profile: str) -> str:
    """The training of the analysed CT table, beside the paper's (a Markdown sentence)."""
    rec = source.record or {}
    tc = rec.get("train_config") or ((rec.get("config") or {}).get("train") or {})
    note = budget_note(profile, "embedding")
    if rec:
        ran = rec.get("epochs_run")
        note += (f" The analysed run trained for {ran if ran is not None else '?'} of "
                 f"{tc.get('epochs', '?')} epochs (seed {source.seed}).")
    return note
