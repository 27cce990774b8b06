"""The R² tables of page 08 (Table VI and the comparison of tables) and the numbers it saves.

Turns the long CV frame of :func:`~ctlib.analysis.reverse.cv.reverse_prediction_table`
into one row per (table, property) (:func:`summary_table`), the paper's Table VI
beside ours (:func:`table6`), every table under the same protocol
(:func:`r2_wide`) and the numbers of the page's JSON summary that
``ctlib.claims.judge_r2`` reads (:func:`r2_numbers`, :func:`pooled_r2_values`).

Imports: numpy, pandas, :mod:`.data`, :mod:`.cv`, and :mod:`ctlib.report`
inside functions.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.reverse.cv import summarize_cv
from ctlib.analysis.reverse.data import PROPERTIES

__all__ = ["paper_r2", "summary_table", "r2_numbers", "pooled_r2_values", "mean_r2_by_table",
           "pretraining_numbers", "table6", "r2_wide"]


def paper_r2() -> dict[str, float]:
    """The paper's Table VI: property (our column name) -> R²."""
    from ctlib.report import paper_tables

    t = paper_tables()["table6_reverse_prediction_r2"]
    return {p: float(t["values"][t["columns"].index(name)]) for p, name in PROPERTIES.items()}


def summary_table(cv: pd.DataFrame) -> pd.DataFrame:
    """:func:`~ctlib.analysis.reverse.cv.summarize_cv` per (embedding, property) of a
    ``reverse_prediction_table`` result.

    Returns:
        one row per pair: ``embedding``, ``property`` and the keys of ``summarize_cv``.
    """
    rows = [{"embedding": name, "property": prop, **summarize_cv(g)}
            for (name, prop), g in cv.groupby(["embedding", "property"], sort=False)]
    return pd.DataFrame(rows)


def r2_numbers(summary: pd.DataFrame) -> dict:
    """``{embedding: {property: {r2_fold_mean, r2_fold_std, r2_pooled_mean, r2_pooled_std}}}`` of a
    :func:`summary_table` (None for NaN): what page 08 saves and ``claims.judge_r2`` reads."""
    keys = ["r2_fold_mean", "r2_fold_std", "r2_pooled_mean", "r2_pooled_std"]
    out: dict = {}
    for r in summary.to_dict("records"):
        out.setdefault(str(r["embedding"]), {})[str(r["property"])] = {
            k: (None if r[k] is None or not np.isfinite(r[k]) else float(r[k])) for k in keys}
    return out


def pooled_r2_values(cv: pd.DataFrame) -> dict[str, dict[str, list[float]]]:
    """``{embedding: {property: [pooled out-of-fold R² of repeat 0, 1, ...]}}``.

    The per-repeat values that ``ctlib.claims.judge_r2`` judges (``r2_pooled_values``).
    """
    out: dict[str, dict[str, list[float]]] = {}
    pooled = cv[cv["scope"] == "pooled"].sort_values("repeat")
    for (name, prop), g in pooled.groupby(["embedding", "property"], sort=False):
        out.setdefault(str(name), {})[str(prop)] = [float(v) for v in g["r2"]]
    return out


def mean_r2_by_table(summary: pd.DataFrame) -> dict[str, float]:
    """``{embedding: mean over the properties of its pooled R² (mean over repeats)}`` of a
    :func:`summary_table`, tables in first-appearance order (R² is unitless)."""
    return summary.groupby("embedding", sort=False)["r2_pooled_mean"].mean().to_dict()


def pretraining_numbers(summary: pd.DataFrame) -> list[dict]:
    """``[{"table": name, "r2": {property: pooled R² (mean over repeats)}}, ...]`` of a
    :func:`summary_table` of the CT pretrainings: the ``pretrainings`` entry of page 08's
    summary, one value per table, that ``ctlib.claims.judge_r2`` judges over."""
    return [{"table": t, "r2": {p: v["r2_pooled_mean"] for p, v in r.items()}}
            for t, r in r2_numbers(summary).items()]


def _pm(m, s, sig: int = 3) -> str:
    """``"m ± s"`` with ``sig`` significant digits; ``m`` alone when ``s`` is None or NaN; ``—`` for no ``m``."""
    from ctlib.report import fmt_sig

    if m is None or not np.isfinite(m):
        return "—"
    return fmt_sig(m, sig) if s is None or not np.isfinite(s) else f"{fmt_sig(m, sig)} ± {fmt_sig(s, sig)}"


def table6(summary: pd.DataFrame, counts: pd.DataFrame, paper_r2: Mapping[str, float], *,
           embedding: str = "CT (ours)") -> pd.DataFrame:
    """Table VI: the paper's R² beside ours for one embedding, per property.

    Args:
        summary: :func:`summary_table`.
        counts: the ``counts`` of ``reverse_prediction_table`` (``n_elements``).
        paper_r2: property -> the paper's R².

    Returns:
        DataFrame ``property`` (the paper's name), ``elements``, ``paper R²``,
        ``ours, pooled out-of-fold`` (mean ± std over repeats), ``ours − paper``,
        ``ours, per fold``.
    """
    ct = summary[summary["embedding"] == embedding].set_index("property")
    if ct.empty:
        raise KeyError(f"no rows for embedding {embedding!r} in the summary")
    return pd.DataFrame({
        "property": [PROPERTIES.get(p, p) for p in ct.index],
        "elements": [int(counts.at[p, "n_elements"]) for p in ct.index],
        "paper R²": [paper_r2.get(p, np.nan) for p in ct.index],
        "ours, pooled out-of-fold": [_pm(r.r2_pooled_mean, r.r2_pooled_std) for r in ct.itertuples()],
        "ours − paper": [r.r2_pooled_mean - paper_r2.get(p, np.nan) for p, r in zip(ct.index, ct.itertuples())],
        "ours, per fold": [_pm(r.r2_fold_mean, r.r2_fold_std) for r in ct.itertuples()],
    })


def r2_wide(summary: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Every table x property: pooled R² as 'mean ± std', and the mean over properties."""
    order = list(order) if order is not None else list(dict.fromkeys(summary["embedding"]))
    cells = summary.assign(cell=[_pm(m, s) for m, s in zip(summary["r2_pooled_mean"], summary["r2_pooled_std"])])
    wide = cells.pivot(index="embedding", columns="property", values="cell")
    props = [p for p in PROPERTIES if p in wide.columns] + [p for p in wide.columns if p not in PROPERTIES]
    wide = wide.reindex(index=order, columns=props)
    wide.columns = [PROPERTIES.get(c, c) for c in wide.columns]
    mean_r2 = summary.groupby("embedding", sort=False)["r2_pooled_mean"].mean().reindex(order)
    wide["mean over properties"] = [_pm(v, None) for v in mean_r2]
    wide.index.name = "table"
    return wide
