"""How the value of CT's table grows with its pretraining data (chapter 13's last section).

CT multi-task is pretrained on 25 %, 50 % and 100 % of the MP-2018 train split, with
one recipe (fp32, the same epochs and schedule: :func:`ctlib.experiments.pretrain_ct_fraction`
and :func:`ctlib.experiments.pretrain_ct_fp32`, seed 0). Each table is measured twice,
as the zoo measures every table:

* its chemistry: chapter 08's reverse prediction, mean pooled R² over the five
  properties (computed by the zoo page in the same call as the zoo's tables, so on the
  same elements and folds);
* its value as a start: CGCNN's test MAE on Castelli-3,334 from the table
  (:func:`ctlib.experiments.fraction_transfer`, the data-scarce step's seeds and epochs),
  mean ± std over seeds.

:func:`curve_tables` finds the tables (nothing trains), :func:`data_curve` joins the two
measures, :func:`plot_data_curve` draws them against the number of pretraining cells
beside reference lines (``cgcnn92``, the book's bf16 table, the best published table),
with the paper's MP* (134,243 materials) marked, and :func:`reading` says what the points
show. A table or run not stored yet is *pending*.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["MP_STAR", "DATASET", "curve_tables", "reverse_inputs", "references", "data_curve",
           "plot_data_curve", "reading"]

#: The paper's pretraining set MP* (134,243 materials of a later MP release; paper_tables.json).
MP_STAR = 134_243
#: The transfer set of the curve (:func:`ctlib.experiments.fraction_transfer`).
DATASET = "castelli-3334"


def curve_tables(profile) -> pd.DataFrame:
    """The CT tables of the curve, one row per pretraining fraction (ascending; 1.0 = the
    whole split): ``fraction``, ``start`` (:func:`ctlib.experiments.fraction_label`, the
    transfer's start label), ``n_cells`` (training cells of the run; NaN while pending),
    ``run_id`` (None while pending) and ``table`` (its
    :class:`~ctlib.embeddings.ElementEmbedding`, None while pending). Empty for a profile
    without ``sizes.pretraining_fractions``."""
    from ctlib import experiments as ex
    from ctlib.embeddings import ElementEmbedding
    from ctlib.lookup import record_embedding_path

    p = ex._profile(profile)
    if not p.sizes.pretraining_fractions:
        return pd.DataFrame(columns=["fraction", "start", "n_cells", "run_id", "table"])
    rows = []
    for f, rec in ex.curve_pretrainings(p, train=False).items():
        path = record_embedding_path(rec) if rec is not None else None
        n = ((rec or {}).get("dataset") or {}).get("split_counts", {}).get("train")
        rows.append({"fraction": f, "start": ex.fraction_label(f), "n_cells": float(n) if n else math.nan,
                     "run_id": (rec or {}).get("run_id"),
                     "table": ElementEmbedding.load(path) if path is not None and path.is_file() else None})
    return pd.DataFrame(rows)


def reverse_inputs(tables: pd.DataFrame) -> dict[str, tuple[list[str], np.ndarray]]:
    """The stored tables of :func:`curve_tables` as ``ctlib.analysis.zoo.reverse_r2`` takes
    them: ``start`` label -> ``(elements, (n, d) float64 matrix)``."""
    return {r.start: (list(r.table.elements), np.asarray(r.table.matrix, dtype=np.float64))
            for r in tables.itertuples() if r.table is not None}


def references(ranked: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """The curve's reference lines from the zoo's ranked view
    (``ctlib.analysis.zoo.rank_tables``): ``cgcnn92``, the book's CT table (bf16, the
    whole split) and the published table with the highest mean R² among those whose model
    was not trained on our test labels (``sees_test`` False); name -> ``(mean R², Castelli-3,334 MAE)``."""
    from ctlib.analysis.zoo import OWN

    r = ranked.set_index("table")
    out = {}
    for name, label in (("cgcnn92", "cgcnn92 (handcrafted)"), (OWN, "CT mt (bf16), the book's table")):
        if name in r.index:
            out[label] = (float(r.at[name, "r2_mean"]), float(r.at[name, "castelli_mae"]))
    pub = ranked[ranked["family"].astype(str).str.startswith("zoo")
                 & ~ranked["sees_test"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    pub = pub[np.isfinite(pub["r2_mean"].to_numpy(dtype=float))]
    if len(pub):
        best = pub.sort_values("r2_mean", ascending=False).iloc[0]
        out[f"{best['table']} (best published by R²)"] = (float(best["r2_mean"]), float(best["castelli_mae"]))
    return out


def data_curve(tables: pd.DataFrame, r2: pd.Series, rows: pd.DataFrame) -> pd.DataFrame:
    """The two measures per pretraining fraction.

    Args:
        tables: :func:`curve_tables`.
        r2: mean pooled reverse-prediction R² per table name (``ctlib.analysis.zoo.r2_by_table``),
            the tables named by their ``start`` label.
        rows: :func:`ctlib.experiments.fraction_transfer` rows (``dataset, start, seed, mae``).

    Returns:
        ``fraction, start, n_cells, r2_mean`` (NaN while the table is pending), ``mae``,
        ``mae_std`` (eV/atom, over seeds; NaN while pending), ``n`` (stored seeds) and
        ``n_planned``, in the order of ``tables``.
    """
    from ctlib.analysis import transfer

    out = tables[["fraction", "start", "n_cells"]].copy().reset_index(drop=True)
    out["r2_mean"] = pd.to_numeric(r2.reindex(out["start"]), errors="coerce").to_numpy(dtype=float)
    s = transfer.summarize_starts(rows) if len(rows) else pd.DataFrame(
        columns=["dataset", "start", "mean", "std", "n", "n_planned"])
    s = s[s["dataset"] == DATASET].set_index("start").reindex(out["start"])
    out["mae"] = pd.to_numeric(s["mean"], errors="coerce").to_numpy(dtype=float)
    out["mae_std"] = pd.to_numeric(s["std"], errors="coerce").to_numpy(dtype=float)
    out["n"] = pd.to_numeric(s["n"], errors="coerce").fillna(0).astype(int).to_numpy()
    out["n_planned"] = pd.to_numeric(s["n_planned"], errors="coerce").fillna(0).astype(int).to_numpy()
    return out


def plot_data_curve(curve: pd.DataFrame, references: Mapping[str, tuple[float, float]]):
    """Mean reverse-prediction R² (left) and Castelli-3,334 test MAE (right) against the
    pretraining cells (log scale): one point per stored fraction (error bar: std over
    seeds), joined in order; ``references`` (name -> ``(R², MAE)``, NaN where absent) as
    labelled horizontal lines; the paper's MP* as a dotted vertical line. Pending points
    are listed in the panel.

    Returns:
        the matplotlib Figure (two panels, 11 x 4.2 in).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    styles = [("0.45", "--"), ("C2", "-."), ("C4", (0, (1, 1.5))), ("C5", "--"), ("C7", "-.")]  # references
    for ax, col, err, ylabel in ((axes[0], "r2_mean", None, "mean reverse-prediction R² (5 properties)"),
                                 (axes[1], "mae", "mae_std", "CGCNN test MAE on Castelli-3,334 (eV/atom)")):
        ok = curve[np.isfinite(curve[col].to_numpy(dtype=float)) & np.isfinite(curve["n_cells"].to_numpy(dtype=float))]
        if len(ok):
            yerr = None if err is None else ok[err].fillna(0.0).to_numpy(dtype=float)
            ax.errorbar(ok["n_cells"], ok[col], yerr=yerr, marker="o", color="C0", capsize=3,
                        label="CT mt (fp32), seed 0")
            for row in ok.itertuples():
                ax.annotate(f"{100 * row.fraction:.0f} %", (row.n_cells, getattr(row, col)), textcoords="offset points",
                            xytext=(4, 6), fontsize=8)
        ys = list(ok[col].to_numpy(dtype=float))
        if len(ok) and yerr is not None:    # the error bars stay inside the panel
            ys += list(ok[col].to_numpy(dtype=float) + yerr) + list(ok[col].to_numpy(dtype=float) - yerr)
        for (name, vals), (c, ls) in zip(references.items(), styles):
            v = vals[0] if col == "r2_mean" else vals[1]
            if v is not None and np.isfinite(v):
                ax.axhline(v, ls=ls, lw=1.2, color=c, label=name)
                ys.append(v)
        if ys:     # the points and the references, with a margin (an empty panel keeps 0-1)
            lo, hi = min(ys), max(ys)
            pad = 0.15 * (hi - lo) if hi > lo else 0.1 * abs(hi) or 0.1
            ax.set_ylim(lo - pad, hi + 2 * pad)
        ax.axvline(MP_STAR, ls=":", color="0.4", lw=1)
        ax.text(MP_STAR, 0.02, " MP* (the paper's)", transform=ax.get_xaxis_transform(), fontsize=8,
                color="0.35", rotation=90, va="bottom")
        pend = curve.loc[~curve.index.isin(ok.index), "fraction"].tolist()
        if pend:
            ax.text(0.02, 0.97, "pending: " + ", ".join(f"{100 * f:.0f} %" for f in pend) + " of the split",
                    transform=ax.transAxes, fontsize=8, va="top", color="0.35")
        ax.set(xscale="log", xlabel="pretraining cells (MP-2018 train split)", ylabel=ylabel)
        ax.set_xlim(5e3, 2.5e5)
    handles, labels = axes[1].get_legend_handles_labels()
    if handles:     # under the panels, where it hides no line
        fig.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07 if handles else 0, 1, 1))
    return fig


def reading(curve: pd.DataFrame, references: Mapping[str, tuple[float, float]] | None = None) -> str:
    """What the curve shows, computed: each measure from the smallest to the largest stored
    fraction, and where the largest stands against each reference; a pending sentence
    while fewer than two points of a measure are stored."""
    parts = []
    for col, what, fmt in (("r2_mean", "the mean reverse-prediction R²", "{:.2f}"),
                           ("mae", "CGCNN's Castelli-3,334 test MAE", "{:.4f} eV/atom")):
        ok = curve[np.isfinite(curve[col].to_numpy(dtype=float))]
        if len(ok) < 2:
            parts.append(f"For {what}, {len(ok)} of {len(curve)} points are stored: *pending*.")
            continue
        lo, hi = ok.iloc[0], ok.iloc[-1]
        text = (f"From {100 * lo.fraction:.0f} % to {100 * hi.fraction:.0f} % of the train split "
                f"({lo.n_cells:,.0f} → {hi.n_cells:,.0f} cells), {what} goes from {fmt.format(lo[col])} "
                f"to {fmt.format(hi[col])}")
        if col == "mae" and np.isfinite(hi["mae_std"]):
            text += f" (± {hi['mae_std']:.4f} over {int(hi['n'])} seeds)"
        refs = [(n, v[0] if col == "r2_mean" else v[1]) for n, v in (references or {}).items()]
        refs = [f"{n} {fmt.format(v)}" for n, v in refs if v is not None and np.isfinite(v)]
        parts.append(text + (f"; for scale: {', '.join(refs)}." if refs else "."))
    return " ".join(parts)

