"""The tables, readings and figures of the data-scarce transfer page (chapter 12).

The numbers come from :mod:`ctlib.analysis.transfer` (summaries per start, paired
verdicts, the learning curve's changes and trend); this module turns them into what
the page shows: the verdict table and its reasons, the reading of the learned-part
comparisons, the learning curve's figure, wide table and trend table, and the page's
summary records. Nothing here trains or reads the store.

Relative changes are fractions (``-0.148`` is -14.8 %); MAEs are in the data set's
unit (eV/atom for the perovskite sets and MP-2018 E_f).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ctlib.analysis import transfer

__all__ = ["fmt_pct", "verdict_table", "verdict_reasons", "learned_reading", "learning_curve_parts",
           "no_curve_note", "plot_learning_curve_pair", "learning_curve_wide", "changes_by_size",
           "trend_table", "trend_reasons", "as_records"]

#: What the page shows for a number whose runs are not stored yet.
PENDING = "pending"


def fmt_pct(x) -> str:
    """A relative change (a fraction) in percent, signed, one decimal: ``-0.1482 -> "-14.8%"``;
    ``"—"`` for None or NaN (the format of :func:`ctlib.pages.fmt_rel`)."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    return f"{100 * float(x):+.1f}%"


def _interval(lo, hi) -> str:
    return f"[{fmt_pct(lo)}, {fmt_pct(hi)}]" if np.isfinite(lo) else "—"


def verdict_table(verdicts: pd.DataFrame, labels: Mapping[str, str] = transfer.DATASET_LABELS) -> pd.DataFrame:
    """The paper's perovskite claim judged per data set, as the page shows it.

    Args:
        verdicts: :func:`ctlib.analysis.transfer.scarce_verdicts` output (one row per
            data set and comparison; changes as fractions).
        labels: display name of each data set (others keep their key).

    Returns:
        one row per verdict row, columns ``data set, claim, verdict, our change (mean),
        95% interval, seeds, paper`` (text; percentages signed with one decimal,
        ``"—"`` where missing). The verdict's word already says whether the paper's
        change lies in our interval (``effect_size_differs`` stays in the page's JSON).
    """
    return pd.DataFrame({
        "data set": [labels.get(d, d) for d in verdicts["dataset"]],
        "claim": verdicts["claim"],
        "verdict": verdicts["verdict"],
        "our change (mean)": [fmt_pct(v) for v in verdicts["mean_rel"]],
        "95% interval": [_interval(a, b) for a, b in zip(verdicts["rel_lo"], verdicts["rel_hi"])],
        "seeds": verdicts["n_seeds"],
        "paper": [fmt_pct(v) for v in verdicts["paper_rel"]],
    })


def verdict_reasons(verdicts: pd.DataFrame, labels: Mapping[str, str] = transfer.DATASET_LABELS) -> str:
    """Each verdict's reason as a Markdown bullet: ``- *<data set>, <claim>:* <reason>``."""
    return "\n".join(f"- *{labels.get(r.dataset, r.dataset)}, {r.claim}:* {r.reason}"
                     for r in verdicts.itertuples())


def learned_reading(learned: pd.DataFrame) -> str:
    """What the learned-part comparisons say, in one Markdown paragraph.

    Args:
        learned: :func:`ctlib.analysis.transfer.paired_verdicts` of
            :data:`~ctlib.analysis.transfer.LEARNED_COMPARISONS` (direction "lower MAE").

    Returns:
        ``"**Reading.** Against the table as stored, the learned part gives a lower MAE
        in 0 and a higher one in 2 of 4 (data set, table) pairs; ..."``, counting only the
        pairs against a stored table (:data:`~ctlib.analysis.transfer.PRETRAINED`) that
        were judged (reproduced, contradicted or inconclusive); ``""`` when none was.
    """
    from ctlib import report

    vs_stored = learned[learned["baseline"].isin(transfer.PRETRAINED)]
    judged = vs_stored[vs_stored["verdict"].isin([report.REPRODUCED, report.CONTRADICTED,
                                                  report.INCONCLUSIVE])]
    if not len(judged):
        return ""
    n_lower = int((judged["verdict"] == report.REPRODUCED).sum())
    n_higher = int((judged["verdict"] == report.CONTRADICTED).sum())
    text = (f"**Reading.** Against the table as stored, the learned part gives a lower MAE in {n_lower} and a "
            f"higher one in {n_higher} of {len(judged)} (data set, table) pairs"
            f"{report.others_contain_zero(len(judged) - n_lower - n_higher)}. ")
    if n_lower == 0:
        return text + ("Whatever the pretraining page's probe reads from the learned part, it does not make it "
                       "a better start for CGCNN on these sets.")
    if n_higher == 0:
        return text + "Removing the random start helps CGCNN where the interval is clear, and never hurts it."
    return text + "Removing the random start helps on some sets and hurts on others."


def learning_curve_parts(lc: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The learning curve's three frames, empty when the profile defines no sizes.

    Args:
        lc: :func:`ctlib.experiments.learning_curve` rows (``column, n_train, seed, mae, ...``).

    Returns:
        ``(summary, changes, trend)``: :func:`~ctlib.analysis.transfer.learning_curve_summary`,
        :func:`~ctlib.analysis.transfer.learning_curve_changes` and
        :func:`~ctlib.analysis.transfer.learning_curve_trend` of ``lc``; three empty frames
        when ``lc`` is empty.
    """
    if lc.empty:
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    return (transfer.learning_curve_summary(lc), transfer.learning_curve_changes(lc),
            transfer.learning_curve_trend(lc))


def no_curve_note(profile: str) -> str:
    """The page's line for a profile without learning-curve sizes."""
    return (f"The `{profile}` profile defines no learning-curve sizes (`sizes.learning_curve`); "
            "the `cpu` profile runs 500, 2,000, 4,000 and 8,000 cells.")


def plot_learning_curve_pair(summary: pd.DataFrame, changes: pd.DataFrame, *, unit: str = "eV/atom"):
    """The learning curve (left, :func:`~ctlib.analysis.transfer.plot_learning_curve`) beside
    the paired changes per size (right,
    :func:`~ctlib.analysis.transfer.plot_learning_curve_changes`), 12.4 x 4.2 in.

    Args:
        summary, changes: the first two frames of :func:`learning_curve_parts`.
        unit: the MAE's unit, for the left axis.

    Returns:
        the matplotlib Figure (two axes).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12.4, 4.2))
    transfer.plot_learning_curve(summary, unit=unit, ax=axes[0])
    transfer.plot_learning_curve_changes(changes, ax=axes[1])
    return fig


def learning_curve_wide(summary: pd.DataFrame, lc: pd.DataFrame) -> pd.DataFrame:
    """The learning curve's cells with starts as rows and sizes as columns.

    Args:
        summary: :func:`~ctlib.analysis.transfer.learning_curve_summary` of ``lc``.
        lc: the learning curve's rows (their first-appearance order of ``column`` orders the rows).

    Returns:
        DataFrame indexed by ``column`` (the start), one column per size ascending, named
        ``"2,000 cells"``, holding the ``cell`` text (``"0.123 ± 0.004 (n=3)"``, ``"pending"``).
    """
    wide = summary.pivot(index="column", columns="n_train", values="cell") \
        .reindex(list(dict.fromkeys(lc["column"])))
    wide.columns = [f"{n:,} cells" for n in wide.columns]
    return wide


def changes_by_size(changes: pd.DataFrame) -> pd.DataFrame:
    """:func:`~ctlib.analysis.transfer.learning_curve_changes` with ``n_train`` as text
    (``2000 -> "2,000 cells"``), the group label of the page's direction table."""
    return changes.assign(n_train=[f"{n:,} cells" for n in changes["n_train"]])


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend test of :func:`~ctlib.analysis.transfer.learning_curve_trend`, as the page shows it.

    Returns:
        one row per comparison, columns ``comparison``, ``change at <small> cells``,
        ``change at <large> cells`` (signed percent), ``larger advantage where data are
        scarce?`` (``"yes"``, ``"no: larger with more data"``, ``"pending"`` or the verdict),
        ``difference, 95% interval (points)`` (``"[-3.1, +0.4]"``, percentage points; ``"—"``)
        and ``seeds``.
    """
    from ctlib import report

    answers = {report.REPRODUCED: "yes", report.CONTRADICTED: "no: larger with more data",
               report.MISSING: PENDING}
    return pd.DataFrame({
        "comparison": trend["claim"],
        f"change at {trend['small'].iloc[0]:,} cells": [fmt_pct(v) for v in trend["rel_small"]],
        f"change at {trend['large'].iloc[0]:,} cells": [fmt_pct(v) for v in trend["rel_large"]],
        "larger advantage where data are scarce?": [answers.get(v, v) for v in trend["verdict"]],
        "difference, 95% interval (points)": [f"[{100 * a:+.1f}, {100 * b:+.1f}]" if np.isfinite(a) else "—"
                                              for a, b in zip(trend["diff_lo"], trend["diff_hi"])],
        "seeds": trend["n_seeds"],
    })


def trend_reasons(trend: pd.DataFrame) -> str:
    """Each trend row's reason as a Markdown bullet: ``- *<comparison>:* <reason>``."""
    return "\n".join(f"- *{r.claim}:* {r.reason}" for r in trend.itertuples())


def as_records(**frames: pd.DataFrame) -> dict[str, list[dict]]:
    """``{name: frame.to_dict("records")}`` for each frame, in the order given (a page's summary JSON)."""
    return {name: frame.to_dict("records") for name, frame in frames.items()}
