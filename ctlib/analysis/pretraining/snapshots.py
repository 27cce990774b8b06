"""The element tables of the CT pretraining runs: snapshots, final tables, and how far they moved.

A pretraining run keeps snapshots of its element table at the profile's
``recipe.snapshot_epochs`` (``results/<profile>/fronts/embeddings/<run_id>/
epoch_NNN.json``; epoch 0 = the untrained table) and stores its final table
(the best epoch's). This module lists the tables to measure, one per (run,
epoch) (:func:`snapshot_frame`: the snapshots, the final table where no
snapshot has its epoch, and the untrained table rebuilt by
:func:`ctlib.experiments.untrained_ct_table` where a run kept no epoch-0
snapshot), loads one as an ``(elements, (89, d) float64 matrix)`` pair
(:func:`load_table`), gives the final table of every stored pretraining
(:func:`final_tables`), the final tables of the pretraining seeds
(:func:`seed_tables`), the set pages 07 and 08 judge the interpretability claims
over (:func:`judged_tables`, :func:`judged_over`), and measures the relative drift
of a table from its start (:func:`relative_drift`).

Imports: numpy, pandas, :mod:`.runs` and, inside functions, :mod:`ctlib.elements`,
:mod:`ctlib.embeddings`, :mod:`ctlib.experiments`.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ctlib.analysis.pretraining.runs import FP32, STORED, PretrainingRun, find_pretraining_runs, stored_seeds

__all__ = ["final_tables", "seed_tables", "judged_over", "judged_tables", "SEEDS_FOR_A_VERDICT",
           "snapshot_frame", "load_table", "relative_drift"]

#: Pretraining seeds of one recipe that a verdict on a CT table needs
#: (:data:`ctlib.claims.MIN_TABLE_SEEDS`).
SEEDS_FOR_A_VERDICT = 3


def final_tables(profile, seed: int | None = None) -> dict[str, tuple[list[str], np.ndarray]]:
    """The final element table of every stored CT pretraining of a profile.

    The tables pages 07 and 08 judge the interpretability claims over: each
    pretraining (multi-task, E_f, E_g, and the multi-task one under the
    profile's other schedule) is a different CT table of the same
    architecture and data.

    Args:
        profile: profile name or :class:`ctlib.config.Profile`.
        seed: pretraining seed (default as :func:`find_pretraining_runs`).

    Returns:
        label -> ``(elements, (89, d) float64 matrix)`` (:func:`load_table`), in
        the order of :func:`find_pretraining_runs`; runs not stored are left out.
    """
    runs = find_pretraining_runs(profile, seed, unfinished=False)
    return {r.label: load_table(r.final_table) for r in runs.values()
            if r.status == STORED and r.final_table is not None}


def seed_tables(profile) -> dict[str, tuple[list[str], np.ndarray]]:
    """The final element table of each stored pretraining seed (:data:`FP32`: the multi-task
    pretraining in fp32, seeds 0, 1 and 2 on ``cpu``), labelled ``"CT mt fp32, seed s"``,
    by seed; ``{}`` when none is stored."""
    out = {}
    for s in stored_seeds(profile, FP32):
        run = find_pretraining_runs(profile, s, kinds=(FP32,), unfinished=False)[FP32]
        if run.final_table is not None:
            out[f"CT mt fp32, seed {s}"] = load_table(run.final_table)
    return out


def judged_over(profile) -> str:
    """What pages 07 and 08 judge the interpretability claims over, beside the analysed table:
    ``"seeds"`` once :data:`SEEDS_FOR_A_VERDICT` pretraining seeds of one recipe are stored
    (:func:`seed_tables`), else ``"pretrainings"`` (:func:`final_tables`: one seed each of
    different targets and schedules)."""
    return "seeds" if len(stored_seeds(profile, FP32)) >= SEEDS_FOR_A_VERDICT else "pretrainings"


def judged_tables(profile, seed: int | None = None) -> dict[str, tuple[list[str], np.ndarray]]:
    """The tables of :func:`judged_over`: the pretraining seeds' (:func:`seed_tables`) once
    enough are stored, else every stored pretraining of ``seed`` (:func:`final_tables`).
    Same shape as :func:`final_tables`."""
    return seed_tables(profile) if judged_over(profile) == "seeds" else final_tables(profile, seed)


def snapshot_frame(runs: Mapping[str, PretrainingRun], *, rebuild_untrained: bool = True) -> pd.DataFrame:
    """The element tables of each run to measure, one row per (run, epoch).

    Sources, per run: every snapshot file (``source="snapshot"``); the record's
    final table at its best epoch when no snapshot has that epoch
    (``"final (best epoch)"``); and, when there is no epoch-0 snapshot but
    the run has other tables, the untrained table rebuilt by
    :func:`ctlib.experiments.untrained_ct_table` (``"rebuilt untrained"``,
    ``path`` None) when ``rebuild_untrained``.

    Returns:
        ``kind, label, status, run_id, seed, n_tasks, epoch, source, path,
        is_final`` (True for the table at the stored run's best epoch), sorted
        by kind and epoch.
    """
    rows = []
    for r in runs.values():
        base = {"kind": r.kind, "label": r.label, "status": r.status, "run_id": r.run_id,
                "seed": r.seed, "n_tasks": len(r.targets)}
        items = {e: ("snapshot", p) for e, p in r.snapshots.items()}
        if r.final_table is not None and r.best_epoch is not None and int(r.best_epoch) not in items:
            items[int(r.best_epoch)] = ("final (best epoch)", r.final_table)
        if items and 0 not in items and rebuild_untrained:
            items[0] = ("rebuilt untrained", None)
        for e in sorted(items):
            src, path = items[e]
            rows.append({**base, "epoch": int(e), "source": src, "path": None if path is None else str(path),
                         "is_final": r.status == STORED and r.best_epoch is not None
                         and int(e) == int(r.best_epoch)})
    cols = ["kind", "label", "status", "run_id", "seed", "n_tasks", "epoch", "source", "path", "is_final"]
    return pd.DataFrame(rows, columns=cols)


def load_table(path=None, *, profile=None, seed: int = 0, n_tasks: int = 2):
    """An element table as ``(elements, matrix (89, d) float64)`` in the order of
    ``ctlib.elements.ELEMENTS``.

    ``path``: an element-embedding file; None rebuilds the untrained CT table
    of ``profile`` (:func:`ctlib.experiments.untrained_ct_table` with ``seed``
    and ``n_tasks``).
    """
    from ctlib.elements import ELEMENTS
    from ctlib.embeddings import ElementEmbedding

    if path is None:
        if profile is None:
            raise ValueError("load_table needs a path, or a profile to rebuild the untrained table")
        from ctlib.experiments import untrained_ct_table

        emb = untrained_ct_table(profile, seed, n_tasks)
    else:
        emb = ElementEmbedding.load(path)
    emb = emb.reindex(list(ELEMENTS))
    return list(emb.elements), emb.matrix.astype(np.float64)


# --------------------------------------------------------------------------- #
# The three measures of one table
# --------------------------------------------------------------------------- #
def relative_drift(table, reference) -> float:
    """``||table - reference||_F / ||reference||_F`` (unitless; 0 for an unchanged table).

    Args:
        table, reference: ``(n_elements, d)`` arrays over the same elements in
            the same order (e.g. a snapshot and the epoch-0 table).

    Raises:
        ValueError: shapes differ, or the reference is all zeros.
    """
    a = np.asarray(table, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"drift needs two (n, d) tables of the same shape, got {a.shape} and {b.shape}")
    nb = float(np.linalg.norm(b))
    if nb == 0.0:
        raise ValueError("the reference table is all zeros: relative drift is undefined")
    return float(np.linalg.norm(a - b)) / nb
