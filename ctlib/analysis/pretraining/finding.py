"""The finding of the CT pretraining page: where the multi-task table's chemistry levelled off,
and what the numbers say about it, as one Markdown paragraph.

:func:`plateau_epoch` / :func:`plateau_epochs` apply the page's plateau rule
(the first snapshot within 5 % of a run's highest mean reverse-prediction R²,
every later one staying within it); :func:`finding_text` writes the page's
opening paragraph from the stored runs, their validation curves and the
measures of :mod:`.chemistry`: the multi-task table's mean R² from its random
start to its plateau, whether validation MAE was still falling after it, the
other schedule (against the pretraining seeds' spread once they are stored), the
reference tables and the paper's Table VI, the number of multi-task pretraining
seeds stored, and what the fp32 pretraining seeds say about the table's draw
(:func:`~ctlib.analysis.pretraining.seeds.seed_finding`). Every number is computed;
none is typed in.

Imports: numpy, pandas, :mod:`.runs`, :mod:`.seeds` and, inside functions,
:mod:`ctlib.experiments` (units), :mod:`ctlib.report` (the paper's Table VI)
and :mod:`ctlib.analysis.reverse` (the property names).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.pretraining.runs import ALT, PENDING, PLATEAU_GAIN, STORED, PretrainingRun
from ctlib.analysis.pretraining.seeds import against_seeds, seed_finding

__all__ = ["PLATEAU_FRACTION", "plateau_epoch", "plateau_epochs", "finding_text", "one_draw"]

#: A table's mean R² has levelled off at the first snapshot within this fraction of the
#: run's highest mean R² (0.95: within 5 %), where every later snapshot stays within it.
PLATEAU_FRACTION = 0.95


def plateau_epoch(epochs: Sequence[float], values: Sequence[float], frac: float = PLATEAU_FRACTION) -> int | None:
    """The first epoch whose value is within ``1 - frac`` of the highest value.

    Args:
        epochs: epochs in ascending order.
        values: one value per epoch (e.g. mean R²; NaN: not measured).
        frac: 0.95 = within 5 % of the highest value (``frac * max`` for a
            positive maximum, ``(2 - frac) * max`` for a negative one).

    Returns:
        the epoch (int), or None when no value is finite.
    """
    v = np.asarray(values, dtype=float)
    e = np.asarray(epochs, dtype=float)
    if not np.isfinite(v).any():
        return None
    top = float(np.nanmax(v))
    return int(e[v >= _threshold(top, frac)][0])


def _threshold(top: float, frac: float) -> float:
    return frac * top if top >= 0 else (2 - frac) * top


def _run_rows(chem: pd.DataFrame, kind: str) -> pd.DataFrame:
    return chem[chem["kind"] == kind].sort_values("epoch") if len(chem) else chem


def plateau_epochs(chem: pd.DataFrame, frac: float = PLATEAU_FRACTION) -> dict[str, int | None]:
    """Per run kind of ``chem``: the epoch its table's mean R² levelled off.

    Over the tables after epoch 0: the :func:`plateau_epoch` of ``r2_mean``, when
    every later table stays within the same margin; None when the run has fewer
    than two tables after epoch 0 (no curve to tell) or its R² left the margin
    again.
    """
    out = {}
    for kind in dict.fromkeys(chem["kind"]) if len(chem) else []:
        if kind == "reference":
            continue
        g = _run_rows(chem, kind)
        g = g[g["epoch"] > 0]
        ep = plateau_epoch(g["epoch"], g["r2_mean"], frac) if len(g) >= 2 else None
        if ep is not None:
            thr = _threshold(float(g["r2_mean"].max()), frac)
            ep = ep if bool((g.loc[g["epoch"] >= ep, "r2_mean"] >= thr).all()) else None
        out[kind] = ep
    return out


def _final_row(g: pd.DataFrame) -> pd.Series:
    """The table that is transferred (the stored run's best epoch), else the newest one."""
    fin = g["is_final"].astype(bool)
    return g[fin].iloc[0] if fin.any() else g.iloc[-1]


def _listing(items: Sequence[tuple[str, float]]) -> str:
    """``"a (0.100), b (0.200) and c (0.300)"``."""
    parts = [f"{n} ({v:.3f})" for n, v in items]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _among(x: float, refs: Sequence[tuple[str, float]], *, short: bool = False) -> str:
    """Where ``x`` stands among the reference values: ``"below a (0.5) and b (0.4), and above c
    (0.1)"``; ``short``: only the smaller side, e.g. ``"below a (0.5) only"``."""
    below = [(n, v) for n, v in refs if v > x]
    above = [(n, v) for n, v in refs if v <= x]
    if not below or not above:
        return f"{'above' if not below else 'below'} every reference table"
    if short:
        return f"below {_listing(below)} only" if len(below) <= len(above) else f"above {_listing(above)} only"
    return f"below {_listing(below)}{',' if len(below) > 1 else ''} and above {_listing(above)}"


def _val_at_best(curves: pd.DataFrame, run: PretrainingRun) -> dict[str, float]:
    """task -> the run's validation MAE at its best epoch (its lowest where it has none)."""
    c = curves[curves["kind"] == run.kind] if len(curves) else curves
    out = {}
    for task, g in c.groupby("task", sort=False) if len(c) else []:
        at = g.loc[g["epoch"] == run.best_epoch, "val_mae"] if run.best_epoch is not None else g["val_mae"].iloc[:0]
        out[task] = float(at.iloc[0]) if len(at) and np.isfinite(at.iloc[0]) else float(g["val_mae"].min())
    return out


def _mae_since(curves: pd.DataFrame, run: PretrainingRun, since: int) -> list[tuple[str, float, float]]:
    """Per task: ``(task, lowest validation MAE up to epoch since, MAE at the best epoch)``."""
    c = curves[curves["kind"] == run.kind] if len(curves) else curves
    end = _val_at_best(curves, run)
    return [(t, float(g.loc[g["epoch"] <= since, "val_mae"].min()), end[t])
            for t, g in (c.groupby("task", sort=False) if len(c) else [])]


def _seeds_line(seeds_stored: Sequence[int] | None, shown: int) -> str:
    if seeds_stored is None:
        return ""
    n, seeds = len(seeds_stored), ", ".join(map(str, seeds_stored))
    which = f" (seed{'s' if n != 1 else ''} {seeds})" if n else ""
    other = [s for s in seeds_stored if s != shown]
    how = f"; `-p seeds {other[0]}` shows another" if other else ""
    return f"\n\nPretraining seeds of the multi-task table in the store: {n}{which}. This page shows seed {shown}{how}."


def finding_text(runs: Mapping[str, PretrainingRun], chem: pd.DataFrame, curves: pd.DataFrame, *,
                 learned: pd.DataFrame | None = None, seeds_stored: Sequence[int] | None = None,
                 seeds: pd.DataFrame | None = None) -> str:
    """The page's opening finding, in Markdown, computed from the stored runs and their measures.

    Says how the multi-task table's mean reverse-prediction R² moved from its
    random start (epoch 0) and where it levelled off (:func:`plateau_epochs`),
    whether the validation MAE was still falling after that (a fall of
    :data:`~ctlib.analysis.pretraining.runs.PLATEAU_GAIN` or more), how the
    same pretraining under the other schedule compares, and where the final
    table (and its learned part) stands among the reference tables and the
    paper's Table VI; then how many pretraining seeds of the multi-task table
    the store holds. A run in progress is called provisional; a pending one
    gives a "pending" paragraph.

    Args:
        runs: :func:`~ctlib.analysis.pretraining.runs.find_pretraining_runs` output.
        chem: ``chemistry_vs_epoch`` output for ``runs``, with the reference rows
            (mean R² unitless).
        curves: :func:`~ctlib.analysis.pretraining.curves.validation_curves` output
            (MAE in eV/atom for E_f, eV for E_g).
        learned: ``learned_part_chemistry`` output (adds the learned part's mean R²).
        seeds_stored: :func:`~ctlib.analysis.pretraining.runs.stored_seeds` of ``"mt"``
            (None: no seeds line).
        seeds: :func:`~ctlib.analysis.pretraining.seeds.seed_table` output (the fp32
            pretraining seeds): adds :func:`~ctlib.analysis.pretraining.seeds.seed_finding`
            as a last paragraph (None: none).

    Returns:
        Markdown: one paragraph, the seeds line as a second, and the pretraining seeds' finding.
    """
    mt = runs.get("mt")
    shown = next(iter(runs.values())).seed if runs else 0
    draws = seed_finding(seeds, _reference_r2(chem))
    tail = _seeds_line(seeds_stored, shown) + (f"\n\n{draws}" if draws else "")
    g = _run_rows(chem, "mt")
    if mt is None or mt.status == PENDING or not len(g):
        return (f"**Finding pending.** The multi-task CT pretraining (seed {shown}) is not in this profile's "
                "store yet, so nothing can be said about its element table." + tail)
    if not (g["epoch"] > 0).any():
        return (f"**Finding pending.** The multi-task CT pretraining (seed {shown}) is {mt.status}; only its "
                f"random start (epoch 0) is measured so far, mean reverse-prediction R² "
                f"{g['r2_mean'].iloc[0]:.3f}." + tail)
    final = _final_row(g)
    text = (_evolution(mt, g, chem, curves) + _other_schedule(runs, chem, curves, float(final["r2_mean"]), seeds)
            + _references(chem, float(final["r2_mean"]), learned))
    return text + tail


def _evolution(mt: PretrainingRun, g: pd.DataFrame, chem: pd.DataFrame, curves: pd.DataFrame) -> str:
    """The finding's first sentences: the multi-task table's mean R² from its start to its
    plateau, and the validation MAE after the plateau (``g``: its rows of ``chem``)."""
    from ctlib.experiments import UNITS

    after, start, final = g[g["epoch"] > 0], g[g["epoch"] == 0], _final_row(g)
    x, top, last = float(final["r2_mean"]), float(after["r2_mean"].max()), int(after["epoch"].max())
    prov = "" if mt.status == STORED else (f" (provisional: the run is {mt.status}, {mt.epochs_done} of "
                                           f"{mt.epochs_planned} epochs)")
    rose = f"rose from {start['r2_mean'].iloc[0]:.3f} at its random start (epoch 0) to " if len(start) else "is "
    at = "its best epoch" if bool(final["is_final"]) else "epoch"
    out = (f"**Finding.** The multi-task table's mean reverse-prediction R² (five elemental properties, forest "
           f"probe){prov} {rose}{x:.3f} at {at} {int(final['epoch'])}")
    plateau = plateau_epochs(chem).get("mt")
    if len(after) < 2:
        return out + "; no table in between was measured, so when it levelled off is not known. "
    if plateau is None or plateau >= last:
        return out + f"; it was still moving at its last snapshot (epoch {last}; highest so far {top:.3f}). "
    out += (f". It levelled off at epoch {plateau} of {last}: every snapshot from there on is within "
            f"{100 * (1 - PLATEAU_FRACTION):.0f} % of its highest value, {top:.3f}. ")
    end = int(mt.best_epoch) if mt.best_epoch is not None else last
    falls = [(t, b, e, (b - e) / b) for t, b, e in _mae_since(curves, mt, plateau) if b > 0]
    if not falls or end <= plateau:
        return out
    r2_then = float(after.loc[after["epoch"] == plateau, "r2_mean"].iloc[0])
    mae = " and ".join(f"from {b:.3f} to {e:.3f} {UNITS.get(t, '')} for {t} ({-100 * f:+.0f} %)"
                       for t, b, e, f in falls)
    still = any(f >= PLATEAU_GAIN for *_, f in falls)
    return out + (f"Validation MAE {'was still falling' if still else 'had levelled off too'} after that: from "
                  f"its lowest up to epoch {plateau} to the best epoch {end} it went {mae}, while the mean R² "
                  f"moved by {x - r2_then:+.3f}. ")


def _other_schedule(runs: Mapping[str, PretrainingRun], chem: pd.DataFrame, curves: pd.DataFrame,
                    x: float, seeds: pd.DataFrame | None = None) -> str:
    """The finding's sentence on the multi-task pretraining under the other schedule ("" without
    one); ``x``: the first schedule's final mean R²; ``seeds``: the pretraining seeds' table, to
    judge the difference against (:func:`~ctlib.analysis.pretraining.seeds.against_seeds`)."""
    from ctlib.experiments import UNITS

    alt, mt, ga = runs.get(ALT), runs.get("mt"), _run_rows(chem, ALT)
    if alt is None or mt is None or alt.status == PENDING or not len(ga):
        return ""
    xa, pa, na = float(_final_row(ga)["r2_mean"]), plateau_epochs(chem).get(ALT), int(ga["epoch"].max())
    name = alt.label.split(", ", 1)[1] if ", " in alt.label else alt.label
    va, vm = _val_at_best(curves, alt), _val_at_best(curves, mt)
    both = [t for t in vm if t in va]
    word = ("higher " if both and all(va[t] > vm[t] for t in both) else
            "lower " if both and all(va[t] < vm[t] for t in both) else "")
    vals = ", ".join(f"{t} {va[t]:.3f} against {vm[t]:.3f} {UNITS.get(t, '')}" for t in both)
    level = f"levelled off at epoch {pa} of {na} and " if pa is not None and pa < na else ""
    return (f"The same pretraining under the other schedule ({name}"
            f"{'' if alt.status == STORED else f'; {alt.status}, provisional'}) {level}ended at {xa:.3f}, "
            f"{xa - x:+.3f} against the first schedule's table"
            f"{f', with a {word}validation MAE ({vals})' if vals else ''}; {against_seeds(xa - x, seeds)}. ")


def one_draw(chem: pd.DataFrame, seeds: pd.DataFrame | None) -> str | None:
    """The finding's "One draw or many" paragraph without its bold lead, for the page's summary
    (key ``one_draw``, which the intro's objection 2 quotes); None for a profile without the
    fp32 pretraining seeds (``seeds`` None)."""
    return None if seeds is None else seed_finding(seeds, _reference_r2(chem), label=False)


def _reference_r2(chem: pd.DataFrame) -> list[tuple[str, float]]:
    """``(label, mean R²)`` of each reference table among ``chem``'s rows."""
    if not len(chem):
        return []
    return [(r.label, float(r.r2_mean)) for r in chem[chem["kind"] == "reference"].itertuples()]


def _references(chem: pd.DataFrame, x: float, learned: pd.DataFrame | None) -> str:
    """The finding's sentences on the final table (mean R² ``x``) and its learned part beside
    the reference tables of ``chem`` and the paper's Table VI."""
    from ctlib import report
    from ctlib.analysis import reverse

    refs = _reference_r2(chem)
    paper6 = report.paper_tables()["table6_reverse_prediction_r2"]
    paper = float(np.mean([paper6["values"][paper6["columns"].index(reverse.PROPERTIES[p])]
                           for p in reverse.PROPERTIES]))
    out = f"The final table ({x:.3f}) is {_among(x, refs)}" if refs else f"The final table has {x:.3f}"
    out += f"; the paper reports {paper:.3f} for its CT table (Table VI, with CatBoost, not this cheaper forest)"
    lp = (learned[(learned["kind"] == "mt") & (learned["table"] == "learned part")]
          if learned is not None and len(learned) else pd.DataFrame())
    if len(lp):
        y = float(lp["r2_mean"].iloc[0])
        out += f". Without its random start (its learned part) it reaches {y:.3f}" + (
            f", {_among(y, refs, short=True)}" if refs else "")
    return out + "."
