"""Matbench's perovskites (``matbench_perovskites``, eV per cell, Matbench's own 5 folds):
our CGCNN runs from four starts beside the public leaderboard, and our CGCNN against the
leaderboard's with an interval. Reads :func:`ctlib.experiments.matbench` rows; nothing here
trains. Pages 06 and 13 call these through :mod:`ctlib.analysis.transfer`."""
from __future__ import annotations

import math

import pandas as pd

#: Matbench comparisons, paired by fold (direction only: the paper has no Matbench number).
MATBENCH_COMPARISONS = (("CT mt", "cgcnn92"), ("CT mt", "onehot"), ("TensorNet MatPES", "cgcnn92"),
                        ("cgcnn92", "onehot"))


def matbench_table(df: pd.DataFrame) -> pd.DataFrame:
    """Our Matbench runs beside the public leaderboard, best first.

    Args:
        df: :func:`ctlib.experiments.matbench` rows (``start``, ``fold``, ``mae`` in eV/cell).

    Returns:
        one row per entry: ``entry``, ``source`` ("ours (CGCNN back end)" or
        "leaderboard"), ``MAE (eV/cell)`` (mean over folds), ``std``, ``folds``
        (stored folds of ours; 5 for the leaderboard), ``cell`` (text, *pending*
        for a start without a stored fold). Leaderboard numbers:
        :func:`ctlib.report.published_baselines` (``matbench_perovskites``).
    """
    from ctlib import report

    rows = []
    for start, g in (df.groupby("start", sort=False) if len(df) else []):
        m, s, n = report.seed_stats(g["mae"])
        rows.append({"entry": f"CGCNN from {start}", "source": "ours (CGCNN back end)", "MAE (eV/cell)": m,
                     "std": s, "folds": n, "cell": "pending" if n == 0 else report.fmt_pm(m, s, n, sig=3)})
    for e in report.published_baselines()["matbench_perovskites"]["entries"]:
        std = math.nan if e.get("std") is None else float(e["std"])
        rows.append({"entry": e["model"], "source": "leaderboard", "MAE (eV/cell)": float(e["mae"]), "std": std,
                     "folds": 5, "cell": f"{e['mae']:g}" + ("" if e.get("std") is None else f" ± {e['std']:g}")})
    out = pd.DataFrame(rows, columns=["entry", "source", "MAE (eV/cell)", "std", "folds", "cell"])
    return out.sort_values("MAE (eV/cell)", na_position="last", kind="stable").reset_index(drop=True)


#: Matbench's folds: a start is set beside the leaderboard only once all of them are stored.
MATBENCH_FOLDS = 5


def matbench_fidelity(df: pd.DataFrame, start: str = "cgcnn92", entry: str = "CGCNN") -> dict:
    """Our CGCNN back end against the leaderboard's CGCNN on Matbench's own folds: how far
    our back end is from the published one, with Welch's 95 % interval.

    The leaderboard gives only the mean and standard deviation over its 5 folds, so the
    folds cannot be paired: the interval is Welch's from both sides' summary statistics
    (:func:`ctlib.report.welch_from_stats`), relative to the leaderboard's mean. Its
    standard deviation is read as over the folds with ddof 0 (numpy's default) and widened
    by sqrt(5/4) to a sample one, the wider of the two readings.

    Args:
        df: :func:`ctlib.experiments.matbench` rows (``start``, ``fold``, ``mae`` in eV/cell).
        start: our start that matches ``entry`` (CGCNN's own 92 features: ``cgcnn92``).
        entry: the leaderboard entry (:func:`ctlib.report.published_baselines`).

    Returns:
        ``{"ours", "ours_std", "folds", "board", "board_std", "rel", "rel_lo", "rel_hi",
        "word", "sentence"}``: MAEs in eV/cell, relative differences (ours - board) / board;
        ``word`` is ``"level with"``, ``"better than"``, ``"worse than"`` or ``"pending"``
        (fewer than :data:`MATBENCH_FOLDS` folds stored: NaN numbers).
    """
    from ctlib import report

    board = next(e for e in report.published_baselines()["matbench_perovskites"]["entries"]
                 if e["model"] == entry)
    b_mean, b_std = float(board["mae"]), float(board["std"]) * math.sqrt(MATBENCH_FOLDS / (MATBENCH_FOLDS - 1))
    vals = df.loc[(df["start"] == start) & df["mae"].notna(), "mae"] if len(df) else pd.Series(dtype=float)
    m, s, n = report.seed_stats(vals)
    out = {"ours": m, "ours_std": s, "folds": n, "board": b_mean, "board_std": float(board["std"]),
           "rel": math.nan, "rel_lo": math.nan, "rel_hi": math.nan, "word": "pending"}
    if n < MATBENCH_FOLDS:
        out["sentence"] = (f"Our CGCNN from `{start}` against the leaderboard's {entry}: pending "
                           f"({n} of {MATBENCH_FOLDS} folds stored).")
        return out
    d, lo, hi, _ = report.welch_from_stats(m, s, n, b_mean, b_std, MATBENCH_FOLDS)
    rel, lo, hi = d / b_mean, lo / b_mean, hi / b_mean
    word = "better than" if hi < 0 else "worse than" if lo > 0 else "level with"
    size = (f"; the interval rules out a gap of more than {100 * max(abs(lo), abs(hi)):.1f} % either way"
            if word == "level with" else
            f", by {100 * min(abs(lo), abs(hi)):.1f} to {100 * max(abs(lo), abs(hi)):.1f} %")
    out.update(rel=rel, rel_lo=lo, rel_hi=hi, word=word, sentence=(
        f"Our CGCNN from `{start}` scores {report.fmt_pm(m, s, n, sig=3)} eV/cell over Matbench's "
        f"{n} folds, against the leaderboard's {entry} at {b_mean:g} ± {board['std']:g}: "
        f"{100 * rel:+.1f} % (Welch's 95 % interval [{100 * lo:+.1f}, {100 * hi:+.1f}] %). "
        f"Our back end is {word} the published {entry} on the same split{size}."))
    return out
