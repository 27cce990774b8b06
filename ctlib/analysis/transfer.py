"""The data-scarce transfer page: summaries per start, paired verdicts, figures.

Reads the tidy rows of :func:`ctlib.experiments.scarce_transfer` (CGCNN from
every start of :func:`ctlib.experiments.scarce_starts` on Castelli-3,334 and
HOIP) and :func:`ctlib.experiments.learning_curve` (CGCNN E_f on MP-2018 at
several back-end training sizes). Nothing here trains.

The paper's claim (Sec. III.C): on 3,334 merged perovskites (HOIP + the Pb-free
set of Nakajima & Sawada) CGCNN's formation-energy MAE falls from 0.054 to
0.046 eV/atom with the CT embedding, a relative change of
``(0.046 - 0.054) / 0.054 = -14.8 %`` (the paper rounds it to 16 %).
:func:`scarce_verdicts` judges our "CT vs cgcnn92" pairs with
:func:`ctlib.report.paired_verdict` against that change.

Rows missing from the store (``run_id`` None, ``mae`` NaN) are *pending*:
they count in ``n_planned`` but not in ``n``.

Page 03 (Table II) also reads :func:`table2_fronts`, :func:`fronts_waiting` and
:func:`fronts_table` here: each front's table measured beside the column it starts.
What page 12 shows of these numbers (its tables, readings and figures) is in
:mod:`ctlib.analysis.scarce`; Matbench's perovskites beside the leaderboard are in
:mod:`ctlib.analysis.matbench` (re-exported here, where pages 06 and 13 call them).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

# re-exported: pages 06 and 13 call them as transfer.matbench_*
from ctlib.analysis.matbench import (  # noqa: F401
    MATBENCH_COMPARISONS, MATBENCH_FOLDS, matbench_fidelity, matbench_table)

__all__ = [
    "CONTROLS", "PRETRAINED", "LEARNED", "STANDARD", "COMPARISONS", "PRETRAINING_COMPARISONS",
    "LEARNED_COMPARISONS", "DATASET_LABELS",
    "paper_numbers", "paper_rel", "start_group", "summarize_starts", "summary_table",
    "scarce_verdicts", "paired_verdicts", "learning_curve_summary", "LEARNING_CURVE_COMPARISONS",
    "learning_curve_changes", "learning_curve_trend", "plot_scarce", "plot_learning_curve",
    "plot_learning_curve_changes", "table2_fronts", "fronts_waiting", "fronts_table",
]

#: Starts that carry no pretrained information: a seeded random table and the untrained CT table.
CONTROLS = ("random", "CT untrained")
#: The CT tables pretrained on MP-2018.
PRETRAINED = ("CT mt", "CT E_f")
#: The same tables minus their untrained start (:func:`ctlib.experiments.learned_part`).
LEARNED = ("CT mt, learned part", "CT E_f, learned part")
#: CGCNN's own starts.
STANDARD = ("cgcnn92", "onehot")
#: (variant, baseline) pairs judged against the paper's perovskite change.
COMPARISONS = (("CT mt", "cgcnn92"), ("CT E_f", "cgcnn92"))
#: Each pretrained CT table against its own untrained start: what pretraining adds beyond the
#: table's shape (not a claim of the paper; judged with the same rule, direction "lower MAE").
PRETRAINING_COMPARISONS = (("CT mt", "CT untrained"), ("CT E_f", "CT untrained"))
#: Each table's learned part against the table as stored, then against cgcnn92: does the
#: random start the table still carries cost the back end anything (not a claim of the paper)?
LEARNED_COMPARISONS = (("CT mt, learned part", "CT mt"), ("CT E_f, learned part", "CT E_f"),
                       ("CT mt, learned part", "cgcnn92"), ("CT E_f, learned part", "cgcnn92"))
#: The learning curve's (variant, baseline) pairs: the pretrained table against CGCNN's two starts,
#: CGCNN's handcrafted features against one-hot (does any informed start matter less with data?),
#: and each published table of ``ctlib.experiments.LEARNING_CURVE_TABLES`` against cgcnn92.
LEARNING_CURVE_COMPARISONS = (("CT mt", "cgcnn92"), ("CT mt", "onehot"), ("cgcnn92", "onehot"),
                              ("ORB-v2 (last layer)", "cgcnn92"), ("CHGNet 0.3.0", "cgcnn92"))
#: How the page names the data-scarce sets.
DATASET_LABELS = {"castelli-3334": "Castelli-3,334 (formation energy)",
                  "hoip": "HOIP (atomization energy)"}
_GROUP_COLOURS = {"standard": "#4c72b0", "control": "#9a9a9a", "CT pretrained": "#dd8452",
                  "CT learned part": "#c44e52", "external table": "#55a868"}


def paper_numbers() -> dict:
    """The paper's perovskite MAEs, eV/atom: ``{"CGCNN": 0.054, "CT-CGCNN": 0.046}``."""
    from ctlib import report

    t = report.paper_tables()["perovskite_formation_energy"]
    return {"CGCNN": float(t["CGCNN"]), "CT-CGCNN": float(t["CT-CGCNN"])}


def paper_rel() -> float:
    """The paper's relative change of the perovskite MAE, ``(0.046 - 0.054) / 0.054`` (about -0.148)."""
    p = paper_numbers()
    return (p["CT-CGCNN"] - p["CGCNN"]) / p["CGCNN"]


def start_group(start: str) -> str:
    """``"standard"`` (cgcnn92, onehot), ``"control"`` (:data:`CONTROLS`),
    ``"CT pretrained"`` (:data:`PRETRAINED`), ``"CT learned part"`` (:data:`LEARNED`)
    or ``"external table"`` (the ``elementembeddings`` tables)."""
    if start in STANDARD:
        return "standard"
    if start in CONTROLS:
        return "control"
    if start in PRETRAINED:
        return "CT pretrained"
    if start in LEARNED:
        return "CT learned part"
    return "external table"


def _finite(v) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a[np.isfinite(a)]


def summarize_starts(df: pd.DataFrame, by: Sequence[str] = ("dataset", "start"),
                     value: str = "mae") -> pd.DataFrame:
    """Mean ± std over seeds of ``value`` per group, keeping pending groups.

    Args:
        df: tidy rows (``scarce_transfer`` or ``learning_curve``), one per
            (group, seed); pending runs have ``value`` NaN.
        by: grouping columns, in the order of their first appearance.

    Returns:
        one row per group: the ``by`` columns, ``unit`` (when ``df`` has it),
        ``group`` (:func:`start_group` of the ``start``/``column`` label),
        ``mean``, ``std`` (ddof=1; NaN below 2 seeds), ``n`` (finished
        seeds), ``n_planned`` (rows), ``seeds`` (finished seeds, a list) and
        ``cell`` (``"0.123 ± 0.004 (n=5)"``, ``"0.0176 ± 0.0005 (n=5)"``: three
        significant digits of the mean; ``"pending"``, or
        ``"… (3 of 5 seeds; 2 pending)"``).
    """
    from ctlib.report import fmt_pm

    by = list(by)
    label_col = "start" if "start" in df.columns else "column"
    rows = []
    for key, g in df.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        ok = g[np.isfinite(g[value].to_numpy(dtype=float))]
        vals = ok[value].to_numpy(dtype=float)
        n, planned = len(vals), len(g)
        mean = float(vals.mean()) if n else math.nan
        std = float(vals.std(ddof=1)) if n > 1 else math.nan
        if n == 0:
            cell = "pending"
        else:
            cell = fmt_pm(mean, std, n, sig=3)
            if n < planned:
                cell += f" ({n} of {planned} seeds; {planned - n} pending)"
        row = dict(zip(by, key))
        if "unit" in g.columns:
            row["unit"] = g["unit"].iloc[0]
        label = row.get(label_col, g[label_col].iloc[0] if label_col in g.columns else "")
        row.update(group=start_group(str(label)), mean=mean, std=std, n=n, n_planned=planned,
                   seeds=sorted(int(s) for s in ok["seed"]) if "seed" in ok.columns else [], cell=cell)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Starts as rows, datasets as columns, cells ``"mean ± std (n=…)"`` or ``"pending"``.

    Args:
        summary: :func:`summarize_starts` output grouped by ``dataset, start``.

    Returns:
        DataFrame indexed by ``start`` (first-appearance order) with a
        ``group`` column and one column per dataset (:data:`DATASET_LABELS`
        names, with the unit).
    """
    starts = list(dict.fromkeys(summary["start"]))
    out = pd.DataFrame(index=pd.Index(starts, name="start"))
    out["group"] = [start_group(s) for s in starts]
    for d, g in summary.groupby("dataset", sort=False):
        unit = g["unit"].iloc[0] if "unit" in g.columns else ""
        name = DATASET_LABELS.get(d, d) + (f", test MAE ({unit})" if unit else "")
        out[name] = g.set_index("start")["cell"].reindex(starts).fillna("pending")
    return out


def scarce_verdicts(df: pd.DataFrame, comparisons: Sequence[tuple[str, str]] = COMPARISONS, *,
                    rel: float | None = None, metric: str = "mae") -> pd.DataFrame:
    """The paired verdict of each (variant, baseline) start pair on each perovskite set:
    :func:`paired_verdicts` grouped by ``dataset``, starts labelled by ``start``, judged
    against the paper's change (default :func:`paper_rel`). For comparisons the paper
    makes no number for (the controls, the learned parts) call :func:`paired_verdicts`
    without ``rel``."""
    return paired_verdicts(df, comparisons, rel=paper_rel() if rel is None else rel, metric=metric)


def matched_verdicts(matched: pd.DataFrame) -> pd.DataFrame:
    """The paper's perovskite change judged on :func:`ctlib.experiments.matched_scarce`'s rows:
    the multi-task CT table of each back end's own pretraining seed against ``cgcnn92``, per
    data set (:func:`scarce_verdicts`); empty without rows (profiles already matched)."""
    from ctlib.experiments import MATCHED_START

    return scarce_verdicts(matched, [(MATCHED_START, "cgcnn92")]) if len(matched) else pd.DataFrame()


def paired_verdicts(df: pd.DataFrame, comparisons: Sequence[tuple[str, str]], *, rel: float | None = None,
                    metric: str = "mae", group: str = "dataset", label: str = "start") -> pd.DataFrame:
    """The paired verdict of each (variant, baseline) pair within each group of rows.

    Per value of ``group``, the rows whose ``label`` is the baseline and the
    variant go to :func:`ctlib.report.paired_verdict` (same seeds, same
    ``n_test`` and ``split_hash`` per seed, else *not comparable*; a side
    without finished runs gives *missing*).

    Args:
        df: tidy rows with ``group``, ``label``, ``seed, n_test, split_hash``
            and ``metric`` columns (:func:`ctlib.experiments.scarce_transfer`,
            ``table2``, ``table3``, ...).
        comparisons: ``(variant, baseline)`` labels.
        rel: the paper's relative change; its sign gives the claimed direction
            (negative: *reproduced* means a lower ``metric``) and it is the
            ``paper_rel`` of the effect-size test. None (default): the paper
            prints no number for these comparisons; the direction is "lower",
            ``paper_rel`` is NaN and ``effect_size_differs`` None.
        group, label: the columns that name a group and a start.

    Returns:
        one row per (group, comparison): ``<group>, claim`` (``"CT mt vs
        cgcnn92"``), ``variant, baseline, verdict, mean_rel, rel_lo, rel_hi``
        (the 95 % t-interval of the per-seed relative change of ``metric``),
        ``n_seeds, paper_rel, effect_size_differs, reason``, and ``seeds``,
        ``changes`` (lists: the paired seeds and their relative changes).
    """
    from ctlib import report

    rows = []
    for d in dict.fromkeys(df[group]):
        sub = df[df[group] == d]
        for var, base in comparisons:
            v = report.paired_verdict(sub[sub[label] == base], sub[sub[label] == var],
                                      -1.0 if rel is None else float(rel), metric=metric,
                                      paper_number=rel is not None)
            rows.append({group: d, "claim": f"{var} vs {base}", "variant": var, "baseline": base,
                         **v.to_dict()})
    return pd.DataFrame(rows, columns=[group, "claim", "variant", "baseline", "verdict", "mean_rel",
                                       "rel_lo", "rel_hi", "n_seeds", "paper_rel",
                                       "effect_size_differs", "reason", "seeds", "changes"])


def learning_curve_summary(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarize_starts` of :func:`ctlib.experiments.learning_curve` rows per
    (start, n_train): ``column, n_train, group, mean, std, n, n_planned, seeds, cell``,
    sorted by start (first appearance) and ``n_train``."""
    s = summarize_starts(df, by=("column", "n_train"))
    if s.empty:
        return s
    order = {c: i for i, c in enumerate(dict.fromkeys(df["column"]))}
    return s.sort_values(["column", "n_train"], key=lambda c: c.map(order) if c.name == "column" else c) \
        .reset_index(drop=True)


def learning_curve_changes(lc: pd.DataFrame,
                           comparisons: Sequence[tuple[str, str]] = LEARNING_CURVE_COMPARISONS) -> pd.DataFrame:
    """:func:`paired_verdicts` of each pair at each back-end size, direction "lower MAE".

    Args:
        lc: :func:`ctlib.experiments.learning_curve` rows.

    Returns:
        one row per (size, pair), smallest size first: ``n_train`` (int),
        ``claim`` and the columns of :func:`paired_verdicts`.
    """
    v = paired_verdicts(lc, comparisons, group="n_train", label="column")
    return v.sort_values("n_train", kind="stable").reset_index(drop=True)


def learning_curve_trend(lc: pd.DataFrame,
                         comparisons: Sequence[tuple[str, str]] = LEARNING_CURVE_COMPARISONS) -> pd.DataFrame:
    """Does a start's advantage shrink as the back end gets more data (the paper's argument
    that embeddings matter most when data are scarce)?

    At each size the per-seed relative change of the test MAE (variant vs
    baseline) is paired: the two runs of a seed share its training draw. Between
    sizes nothing is shared (seed s at 500 cells and seed s at 8,000 train on
    different draws), so the mean change at the smallest size minus the mean
    change at the largest is judged with Welch's interval
    (:func:`ctlib.report.unpaired_verdict`), direction "negative": *reproduced* =
    the advantage is larger at the smallest size (95 % interval below 0),
    *contradicted* = larger at the largest size. Judged only when both sizes'
    pairs are judged (:func:`learning_curve_changes`); otherwise the verdict of
    the first size that is not (*missing* while runs are pending).

    Returns:
        one row per pair: ``claim``, ``small``, ``large`` (the sizes),
        ``rel_small``, ``rel_large`` (mean changes), ``verdict``, ``mean_diff``,
        ``diff_lo``, ``diff_hi`` (Welch's 95 % interval of the
        difference of the mean changes), ``n_seeds`` (the fewer seeds of the two
        sizes), ``reason``.
    """
    from ctlib import report

    cols = ["claim", "small", "large", "rel_small", "rel_large", "verdict", "mean_diff", "diff_lo",
            "diff_hi", "n_seeds", "reason"]
    sizes = sorted(int(n) for n in lc["n_train"].unique()) if len(lc) else []
    if len(sizes) < 2:
        return pd.DataFrame(columns=cols)
    small, large = sizes[0], sizes[-1]
    ends = learning_curve_changes(lc[lc["n_train"].isin([small, large])], comparisons)
    rows = []
    for var, base in comparisons:
        at = {n: ends[(ends["n_train"] == n) & (ends["variant"] == var) & (ends["baseline"] == base)].iloc[0]
              for n in (small, large)}
        row = {"claim": f"{var} vs {base}", "small": small, "large": large,
               "rel_small": at[small]["mean_rel"], "rel_large": at[large]["mean_rel"],
               "mean_diff": math.nan, "diff_lo": math.nan, "diff_hi": math.nan, "n_seeds": 0}
        judged = (*report.SIX_WORDS, report.ONE_SEED)
        bad = [at[n] for n in (small, large) if at[n]["verdict"] not in judged]
        if bad:
            row.update(verdict=bad[0]["verdict"], reason=f"At {int(bad[0]['n_train']):,} cells: {bad[0]['reason']}")
        else:
            ns = [len(at[n]["changes"]) for n in (small, large)]
            v = report.unpaired_verdict(at[small]["changes"], at[large]["changes"], -1.0)
            lo, hi = v.interval
            where = {report.REPRODUCED: "lies below 0: the advantage is larger where data are scarce",
                     report.CONTRADICTED: "lies above 0: the advantage is larger with more data",
                     report.INCONCLUSIVE: "contains 0"}.get(v.verdict)
            reason = (f"The mean change at {small:,} cells ({ns[0]} seeds) minus the mean change at "
                      f"{large:,} ({ns[1]} seeds), unpaired (the sizes share no training draw): "
                      f"{100 * v.mean_rel:+.1f} points")
            reason += (f", Welch's 95 % interval [{100 * lo:+.1f}, {100 * hi:+.1f}] {where}."
                       if where and np.isfinite(lo) else ", with no interval from one seed.")
            row.update(verdict=v.verdict, mean_diff=v.mean_rel, diff_lo=lo, diff_hi=hi, n_seeds=v.n_seeds,
                       reason=reason)
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- #
# Table II's fronts (page 03): what each front's table carries
# --------------------------------------------------------------------------- #
def table2_fronts(df: pd.DataFrame, profile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every Table II front's table measured (nothing trains), beside the column it starts.

    :func:`ctlib.analysis.fronts.table2_front_runs`, then
    :func:`~ctlib.analysis.fronts.front_chemistry` with the profile's forest probe
    (:func:`ctlib.analysis.pretraining.probe_trees`), cached under the profile's
    ``analysis/chemistry`` folder, then :func:`~ctlib.analysis.fronts.front_summary`.

    Args:
        df: Table II's tidy rows (:func:`ctlib.experiments.table2`).
        profile: the profile's name or :class:`ctlib.config.Profile`.

    Returns:
        ``(chem, fronts)``: the chemistry of every stored front's table (empty while
        none is stored) and one row per front (:func:`~ctlib.analysis.fronts.front_summary`).
    """
    from ctlib import lookup
    from ctlib.analysis import fronts as front_analysis
    from ctlib.analysis.pretraining import probe_trees

    runs = front_analysis.table2_front_runs(profile)
    chem = front_analysis.front_chemistry(runs, profile, n_estimators=probe_trees(profile),
                                          cache_dir=lookup.analysis_dir(profile, "chemistry"))
    return chem, front_analysis.front_summary(runs, chem, df)


def fronts_waiting(fronts: pd.DataFrame) -> str:
    """One Markdown line naming the fronts not stored yet (``""`` when every front is stored).

    Args:
        fronts: :func:`ctlib.analysis.fronts.front_summary` rows (``front, task, status, epochs``).

    Returns:
        e.g. ``"Not measured yet: CGCNN front, E_g (pending, epoch 0/30)."``
    """
    waiting = fronts[fronts["status"] != "stored"]
    if not len(waiting):
        return ""
    return "Not measured yet: " + "; ".join(f"{r.front} front, {r.task} ({r.status}, epoch {r.epochs})"
                                            for r in waiting.itertuples()) + "."


def fronts_table(fronts: pd.DataFrame):
    """The stored fronts' chemistry beside the test MAE of the column each one starts.

    Args:
        fronts: :func:`ctlib.analysis.fronts.front_summary` rows.

    Returns:
        a pandas ``Styler`` without index over the stored fronts, columns ``task, front,
        epochs, drift, silhouette, best k, mean R², as stored, mean R², learned part,
        transferred into, test MAE`` (``"0.0912 ± 0.0031 (3/3 seeds)"``, MAE in the
        target's unit: eV/atom for E_f, eV for E_g); measures with 3 decimals, ``—`` when missing.
    """
    from ctlib.report import fmt_sig

    show = fronts[fronts["status"] == "stored"]
    show = show.assign(**{"test MAE": [f"{fmt_sig(m)} ± {fmt_sig(s)} ({n}/{p} seeds)" for m, s, n, p in
                                       zip(show["mae"], show["mae_std"], show["n"], show["n_planned"])]})
    show = show[["task", "front", "epochs", "drift", "silhouette", "k_best", "r2_stored", "r2_learned",
                 "column", "test MAE"]].rename(columns={
        "r2_stored": "mean R², as stored", "r2_learned": "mean R², learned part", "k_best": "best k",
        "column": "transferred into"})
    three = {c: "{:.3f}" for c in ("drift", "silhouette", "mean R², as stored", "mean R², learned part")}
    return show.style.format(three | {"best k": "{:.0f}"}, na_rep="—").hide(axis="index")


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
def plot_scarce(df: pd.DataFrame, summary: pd.DataFrame):
    """Test MAE of every start, one panel per dataset: bars = mean over seeds,
    error bars = std, dots = single seeds; controls grey and hatched; a start
    without finished runs is labelled *pending* at the axis.

    Args:
        df: :func:`ctlib.experiments.scarce_transfer` rows.
        summary: :func:`summarize_starts` of ``df`` by ``dataset, start``.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    datasets = list(dict.fromkeys(summary["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.2 * len(datasets), 4.3), squeeze=False)
    for ax, d in zip(axes[0], datasets):
        s = summary[summary["dataset"] == d].reset_index(drop=True)
        x = np.arange(len(s))
        colours = [_GROUP_COLOURS[g] for g in s["group"]]
        bars = ax.bar(x, s["mean"].fillna(0.0), yerr=s["std"].fillna(0.0), capsize=3, color=colours,
                      edgecolor="black", linewidth=0.5, zorder=2)
        for b, g in zip(bars, s["group"]):
            if g == "control":
                b.set_hatch("///")
        for i, start in enumerate(s["start"]):
            v = _finite(df[(df["dataset"] == d) & (df["start"] == start)]["mae"])
            if len(v):
                jitter = np.linspace(-0.18, 0.18, len(v)) if len(v) > 1 else np.zeros(1)
                ax.scatter(i + jitter, v, s=9, color="black", zorder=3, linewidths=0)
        finite = s["mean"].to_numpy(dtype=float)
        spread = np.nan_to_num(s["std"].to_numpy(dtype=float))
        top = np.nanmax(finite + spread) if np.isfinite(finite).any() else 1.0
        for i, n in enumerate(s["n"]):
            if n == 0:
                ax.text(i, 0.02 * top, "pending", rotation=90, ha="center", va="bottom", fontsize=8,
                        color="0.4")
        unit = s["unit"].iloc[0] if "unit" in s.columns else ""
        ax.set_xticks(x, list(s["start"]), rotation=40, ha="right")
        ax.set_ylabel(f"test MAE ({unit})" if unit else "test MAE")
        ax.set_title(DATASET_LABELS.get(d, d), fontsize=10)
        ax.set_ylim(0, top * 1.12 if np.isfinite(top) and top > 0 else 1.0)
        ax.grid(axis="x", visible=False)
    handles = [Patch(facecolor=c, edgecolor="black", linewidth=0.5, hatch="///" if g == "control" else None,
                     label=g) for g, c in _GROUP_COLOURS.items()]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False,
               bbox_to_anchor=(0.5, 1.04))
    fig.tight_layout()
    return fig


def _size_axes(ax, n_train):
    """``(fig, ax)`` for a figure against the back-end size: a new 6.4 x 4.0 in axes when ``ax``
    is None; log x with one labelled tick per size of ``n_train``."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    ax.set_xscale("log")
    sizes = sorted(set(int(n) for n in n_train))
    if sizes:
        ax.set_xlim(sizes[0] / 1.5, sizes[-1] * 1.5)
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.minorticks_off()
    return fig, ax


def _curve_note(g: pd.DataFrame) -> str:
    """What a start's learning-curve line lacks, for its legend label: the sizes with no run
    stored and, where fewer seeds than planned are stored, how many, e.g. " (1 of 3 seeds;
    8,000 pending)"; "" when every planned run is stored."""
    parts = []
    n, planned = g["n"].to_numpy(dtype=int), g["n_planned"].to_numpy(dtype=int)
    short = (n > 0) & (n < planned)
    if short.any():
        lo, hi = int(n[short].min()), int(n[short].max())
        parts.append(f"{lo if lo == hi else f'{lo}-{hi}'} of {int(planned.max())} seeds")
    pend = [f"{int(s):,}" for s in g.loc[g["n"] == 0, "n_train"]]
    if pend:
        parts.append(f"{', '.join(pend)} pending")
    return f" ({'; '.join(parts)})" if parts else ""


def plot_learning_curve(summary: pd.DataFrame, *, unit: str = "eV/atom", ax=None):
    """Test MAE vs the number of back-end training cells (log x), mean ± std over
    seeds, one line per start; pending points are left out, and the legend says which sizes
    are pending and where fewer seeds than planned are stored.

    Args:
        summary: :func:`learning_curve_summary` output.

    Returns:
        the matplotlib Figure.
    """
    fig, ax = _size_axes(ax, summary.get("n_train", []))
    markers = {"cgcnn92": "o", "onehot": "s", "CT mt": "^", "ORB-v2 (last layer)": "D", "CHGNet 0.3.0": "v"}
    colours = {"onehot": "#8172b3", "ORB-v2 (last layer)": "#55a868", "CHGNet 0.3.0": "#2f7d4a"}
    any_point = False
    for col, g in summary.groupby("column", sort=False):
        ok = g[g["n"] > 0]
        colour = colours.get(col, _GROUP_COLOURS[start_group(col)])
        if len(ok):
            any_point = True
            label = col + _curve_note(g)
            ax.errorbar(ok["n_train"], ok["mean"], yerr=ok["std"].fillna(0.0), marker=markers.get(col, "o"),
                        ms=5, capsize=3, label=label, color=colour)
        else:
            ax.plot([], [], marker=markers.get(col, "o"), ls="none", color=colour, label=f"{col} (pending)")
    ax.set(xlabel="back-end training cells (log scale)", ylabel=f"test MAE ({unit})",
           title="CGCNN E_f on MP-2018: learning curve")
    if not any_point:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "pending: no run stored yet", ha="center", va="center", transform=ax.transAxes,
                color="grey")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_learning_curve_changes(changes: pd.DataFrame, *, ax=None):
    """The paired relative change of the test MAE of each pair against the back-end size
    (log x): mean over seeds with its 95 % t-interval, a dashed line at 0; a pair judged
    at no size is named *pending* in the legend.

    Args:
        changes: :func:`learning_curve_changes` output.

    Returns:
        the matplotlib Figure.
    """
    fig, ax = _size_axes(ax, changes.get("n_train", []))
    ax.axhline(0.0, color="0.4", lw=0.8, ls="--", zorder=1)
    claims = list(dict.fromkeys(changes["claim"]))
    for i, claim in enumerate(claims):
        g = changes[(changes["claim"] == claim) & np.isfinite(changes["mean_rel"].to_numpy(dtype=float))]
        if not len(g):
            ax.plot([], [], marker="o", ls="none", label=f"{claim} (pending)")
            continue
        n = g["n_train"].to_numpy(dtype=float) * (1.0 + 0.04 * (i - (len(claims) - 1) / 2))   # dodge
        mean = 100 * g["mean_rel"].to_numpy(dtype=float)
        lo, hi = 100 * g["rel_lo"].to_numpy(dtype=float), 100 * g["rel_hi"].to_numpy(dtype=float)
        err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])
        ax.errorbar(n, mean, yerr=err, marker="o", ms=5, capsize=3, label=claim)
    ax.set(xlabel="back-end training cells (log scale)",
           ylabel="test MAE change, variant vs baseline (%)",
           title="Paired change, mean and 95 % interval over seeds")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
