"""Chapter 11's answer to "your CT table is one draw": the pretraining seeds side by side.

The book's table is the multi-task pretraining of seed 0 (on cpu in bf16 autocast). The pretraining
seeds (:data:`~ctlib.analysis.pretraining.runs.FP32`) are the same pretraining in fp32
with seeds 0, 1 and 2, so they differ in their seed alone. :func:`seed_runs` finds them,
:func:`seed_table` gives each one's own errors and the chemistry of its final table (the
page's cheap forest probe and best k, the same settings as every other table of the page),
:func:`seed_reading` says how far the seeds spread and where the book's table falls
within that spread: the precision's effect, against the seed's; :func:`seed_curves` gives
each run's validation curve, one line per seed. :func:`seed_finding` is that reading for
the page's opening finding, with where the seeds' R² falls among the reference tables, and
:func:`against_seeds` judges a difference between two one-seed tables (the two schedules)
against the seeds' spread.

Imports: numpy, pandas, :mod:`.runs`, :mod:`.snapshots`, :mod:`.chemistry`, :mod:`.curves`; nothing trains.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.pretraining.chemistry import best_silhouette, reverse_r2
from ctlib.analysis.pretraining.curves import validation_curves
from ctlib.analysis.pretraining.runs import FP32, IN_PROGRESS, STORED, PretrainingRun, final_metrics, find_pretraining_runs
from ctlib.analysis.pretraining.snapshots import load_table

__all__ = ["BOOK_TABLE", "seed_runs", "seed_curves", "seed_table", "seed_reading", "stored_seed_rows", "seed_r2",
           "seed_finding", "against_seeds"]

#: How :func:`seed_runs` labels the book's table (the multi-task pretraining of seed 0):
#: its precision first, e.g. cpu's :data:`BOOK_TABLE`.
BOOK_SUFFIX = ", seed 0 (the book's table)"
#: The label of the book's table on cpu, which pretrains it in bf16 autocast.
BOOK_TABLE = "bf16" + BOOK_SUFFIX


def _is_book(table: pd.DataFrame) -> pd.Series:
    return table["table"].str.endswith(BOOK_SUFFIX)


def seed_runs(profile, seeds=(0, 1, 2)) -> dict[str, PretrainingRun]:
    """label -> run: the book's table (``"<precision>, seed 0 (the book's table)"``, the
    profile's precision of its multi-task CT pretraining: :data:`BOOK_TABLE` on cpu), then
    ``"fp32, seed s"`` for each of ``seeds`` (stored, in progress or pending, as
    :func:`find_pretraining_runs` finds them)."""
    from ctlib.experiments import train_config

    precision = train_config("ct", profile, 2).get("precision") or "fp32"
    out = {precision + BOOK_SUFFIX: find_pretraining_runs(profile, 0, kinds=("mt",))["mt"]}
    for s in seeds:
        out[f"fp32, seed {s}"] = find_pretraining_runs(profile, s, kinds=(FP32,))[FP32]
    return out


def seed_curves(runs: Mapping[str, PretrainingRun]) -> pd.DataFrame:
    """:func:`~ctlib.analysis.pretraining.curves.validation_curves` of the runs of
    :func:`seed_runs`, each labelled by its key (the fp32 seeds share one kind and one label
    otherwise), for :func:`~ctlib.analysis.pretraining.curves.plot_validation_curves`: one line
    per seed; a run with no epoch yet draws none."""
    frames = [validation_curves({label: r}).assign(label=label) for label, r in runs.items() if r.history]
    return pd.concat(frames, ignore_index=True) if frames else validation_curves({})


def seed_table(runs: Mapping[str, PretrainingRun], settings) -> pd.DataFrame:
    """One row per run of :func:`seed_runs`: ``table, status, epochs`` ("done/planned"),
    ``val_E_f, test_E_f`` (eV/atom), ``val_E_g, test_E_g`` (eV) of its own CT model at the best
    epoch, ``r2_mean`` (the page's forest probe: mean pooled R² over the five properties)
    and ``k_best`` (silhouette-best k over ``settings.ks``) of its final table; NaN where the
    run or its table is not stored.

    Args:
        runs: :func:`seed_runs`.
        settings: the page's ``PageSettings`` (probe repeats and trees, k range, k-means seed,
            cache folder).
    """
    tables = {label: load_table(r.final_table) for label, r in runs.items()
              if r.status == STORED and r.final_table is not None}
    r2 = (reverse_r2(tables, repeats=settings.repeats, n_estimators=settings.trees, cache_dir=settings.cache_dir)
          .groupby("table")["r2_mean"].mean() if tables else pd.Series(dtype=float))
    rows = []
    for label, r in runs.items():
        row = {"table": label, "status": r.status, "epochs": f"{r.epochs_done}/{r.epochs_planned}"}
        for m in final_metrics({label: r}).itertuples():
            row[f"val_{m.task}"], row[f"test_{m.task}"] = m.val_mae, m.test_mae
        row["r2_mean"] = float(r2.get(label, np.nan))
        row["k_best"] = (best_silhouette(tables[label][1], settings.ks, seed=settings.cluster_seed,
                                         cache_dir=settings.cache_dir)[0] if label in tables else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def stored_seed_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`seed_table` output that are stored fp32 pretraining seeds (not the
    book's table, whatever its precision; not a seed still in progress)."""
    return table[~_is_book(table) & (table["status"] == STORED)]


def seed_r2(table: pd.DataFrame | None) -> np.ndarray:
    """The probe's mean R² of each stored fp32 seed's final table in :func:`seed_table`
    output (empty for None or while none is stored)."""
    if table is None or not len(table):
        return np.array([])
    vals = stored_seed_rows(table)["r2_mean"].to_numpy(dtype=float)
    return vals[np.isfinite(vals)]


def against_seeds(diff: float, table: pd.DataFrame | None) -> str:
    """A clause judging ``diff``, the difference in probe R² between two tables of one seed each
    (e.g. two schedules), against the spread of the fp32 pretraining seeds of :func:`seed_table`:
    two draws of one recipe differ with standard deviation sqrt(2) x the seeds' std, and a
    difference under twice that is within what a new seed alone moves a table. Says so when
    fewer than two seeds are stored. The seeds are fp32 and the schedules' tables bf16, so the
    seeds' spread stands in for the noise of a draw."""
    r2 = seed_r2(table)
    if len(r2) < 2:
        return "one pretraining seed each, so the R² difference has no seed-to-seed spread to be judged against"
    s = float(np.std(r2, ddof=1))
    sd = float(np.sqrt(2.0) * s)
    out = (f"one pretraining seed each. Two seeds of one recipe differ with a standard deviation of {sd:.3f} "
           f"(the std of the {len(r2)} fp32 pretraining seeds' R², {s:.3f}, times sqrt 2); {abs(diff):.3f} is ")
    if sd == 0 or abs(diff) >= 2 * sd:
        return out + "more than twice that, a larger change than a new seed alone makes"
    return out + ("less than twice that, so a new seed alone could move a table as far, and this does not "
                  "show that the schedule changes the table's chemistry")


def seed_finding(table: pd.DataFrame | None, references: Sequence[tuple[str, float]] = (), *,
                 label: bool = True) -> str:
    """The pretraining page's answer to "the table is one draw", for its opening finding:
    :func:`seed_reading` once two or more fp32 seeds are stored, then where the seeds' probe
    R² range lies against the reference tables (``(label, mean R²)``, the page's probe);
    while fewer are stored, how many are. Empty for None (a profile without the seeds).
    ``label=False`` leaves out the bold "One draw or many" lead, for text quoted elsewhere
    (the intro's objections read it from the page's summary)."""
    if table is None:
        return ""
    r2 = seed_r2(table)
    fp = table[~_is_book(table)]
    if len(r2) < 2:
        going = fp[fp["status"] == IN_PROGRESS]
        where = (" (in progress: " + ", ".join(f"{t.split(', ')[-1]} at epoch {e}"
                                               for t, e in zip(going["table"], going["epochs"])) + ")") \
            if len(going) else ""
        return (("**One draw or many:** " if label else "") + f"pending; {len(r2)} of the {len(fp)} pretraining "
                f"seeds of the multi-task table (fp32, the campaign's tier 8) stored so far{where}.")
    lo, hi = float(r2.min()), float(r2.max())

    def listing(refs):
        return ", ".join(f"{n} ({v:.3f})" for n, v in refs)

    above = [(n, v) for n, v in references if v > hi]
    below = [(n, v) for n, v in references if v < lo]
    inside = [(n, v) for n, v in references if lo <= v <= hi]
    span = ""
    if references:
        span = f" The seeds' tables span probe R² {lo:.3f} to {hi:.3f}"
        sides = ([f"below {listing(above)}"] if above else []) + ([f"above {listing(below)}"] if below else [])
        if sides:
            span += ", all " + " and ".join(sides)
        if inside:
            span += f"; {listing(inside)} {'falls' if len(inside) == 1 else 'fall'} within that range"
        span += "."
    return ("**One draw or many.** " if label else "") + seed_reading(table) + span


def seed_reading(table: pd.DataFrame) -> str:
    """The spread over the stored fp32 seeds (mean ± std of the test MAEs and the probe R²,
    the best k of each) and the book's table (bf16 on cpu) against it, in that spread's standard
    deviations; a pending sentence while fewer than two fp32 seeds are stored."""
    fp = table[~_is_book(table)]
    done = stored_seed_rows(table)
    if len(done) < 2:
        return (f"**Pending:** {len(done)} of the {len(fp)} fp32 pretraining seeds are stored; the spread "
                "over seeds needs two or more (the campaign's tier 8).")
    book = table[_is_book(table)].iloc[0]
    precision = str(book["table"]).split(",")[0]
    parts = []
    for col, what, unit in (("test_E_f", "test MAE on E_f", " eV/atom"), ("test_E_g", "test MAE on E_g", " eV"),
                            ("r2_mean", "probe R²", "")):
        vals = done[col].to_numpy(dtype=float)
        m, s = float(np.mean(vals)), float(np.std(vals, ddof=1))
        text = f"{what} {m:.3f} ± {s:.3f}{unit}"
        b = float(book.get(col, np.nan))
        if np.isfinite(b):
            z = f", {(b - m) / s:+.1f} std from the seeds' mean" if s > 0 else ""
            text += f" ({precision} seed 0: {b:.3f}{z})"
        parts.append(text)
    ks = ", ".join(str(int(k)) for k in done["k_best"] if np.isfinite(k))
    return (f"Over {len(done)} fp32 pretraining seeds: " + "; ".join(parts)
            + f". Best k of each seed's table: {ks or '—'}.")
