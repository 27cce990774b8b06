"""The front ends of Table II: what each one's element table carries, beside how well it transfers.

Table II starts a CGCNN back end from the element table of each front end
(CGCNN, MEGNet, ALIGNN, CT), pretrained from one-hot on one target, and
compares the back ends' test MAE. The paper credits CT's table with carrying
chemistry. This module measures every front's final table with the cheap probe
of :mod:`ctlib.analysis.pretraining` (drift from its untrained start, best
k-means silhouette, forest reverse-prediction R² of five elemental properties),
as stored and as its learned part (the table minus its start), on the same
elements and folds as the reference tables, and sets it beside the Table II
column that table starts (``<letter>-C``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from ctlib.analysis.pretraining import (
    IN_PROGRESS, KS, PENDING, PROBE_TREES, REFERENCES, STORED, _stored_and_learned, load_table, unfinished_run,
)
from ctlib.lookup import record_embedding_path, record_snapshots
from ctlib.results import default_root

__all__ = ["FrontRun", "table2_front_runs", "front_chemistry", "front_summary", "front_reading"]

#: Display names of the front models.
NAMES = {"cgcnn": "CGCNN", "megnet": "MEGNet", "alignn": "ALIGNN", "ct": "CT"}


@dataclass
class FrontRun:
    """One front end of Table II (pretrained from one-hot on one target), as the store knows it.

    Attributes:
        model: ``"cgcnn"``, ``"megnet"``, ``"alignn"`` or ``"ct"``.
        task: ``"E_f"`` or ``"E_g"``.
        kind: ``"<letter> <task>"``, e.g. ``"C E_f"`` (the column letter of Table II).
        label: e.g. ``"CGCNN front, E_f"``.
        status: :data:`STORED`, :data:`IN_PROGRESS` or :data:`PENDING`.
        record: the run record (stored runs only).
        snapshots: epoch -> snapshot file (stored runs: the record's; else the store's).
        epochs_done / epochs_planned: epochs trained (history or checkpoint) / planned.
    """

    model: str
    task: str
    kind: str
    label: str
    status: str
    record: dict | None = None
    snapshots: dict[int, Path] = field(default_factory=dict)
    epochs_done: int = 0
    epochs_planned: int | None = None


def table2_front_runs(profile, seed: int | None = None) -> list[FrontRun]:
    """The front ends a profile's Table II transfers into its back ends, per target then front
    (:func:`ctlib.experiments.table2_fronts`; seed default: the front seed of back-end seed 0).
    Looked up with ``train=False``: nothing is trained."""
    from ctlib import experiments as ex

    p = ex._profile(profile)
    seed = ex.front_seed(p, 0) if seed is None else int(seed)
    root = default_root()
    out = []
    for task, target in ex.TARGETS.items():
        for model in ex.table2_fronts(p):
            letter = ex.MODEL_LETTER[model]
            run = FrontRun(model, task, f"{letter} {task}", f"{NAMES[model]} front, {task}", PENDING,
                           epochs_planned=int(ex.train_config(model, p, 1, front=True)["epochs"]))
            rec = ex.pretrain_front(model, task, p, seed, train=False)
            if rec is not None:
                run.status, run.record = STORED, rec
                run.snapshots = record_snapshots(rec, root)
                run.epochs_done = len(rec.get("history") or [])
            else:
                found = unfinished_run(p.name, "fronts", f"{model}-{target}-", seed, root)
                if found is not None:
                    _, run.snapshots, ck = found
                    run.status = IN_PROGRESS
                    run.epochs_done = len((ck or {}).get("history") or [])
            out.append(run)
    return out


def front_chemistry(fronts: Sequence[FrontRun], profile, *, references: Sequence[str] = REFERENCES,
                    ks: Sequence[int] = KS, cluster_seed: int = 0, n_init: int = 10, folds: int = 5,
                    repeats: int = 2, n_estimators: int = PROBE_TREES, seed: int = 0,
                    properties: pd.DataFrame | None = None,
                    cache_dir: str | Path | None = None) -> pd.DataFrame:
    """The chemistry of each stored Table II front's final table (the one its back ends
    start from), as stored and as its learned part (minus its epoch-0 snapshot, the
    untrained table; for CT without one, the rebuilt untrained table), beside the
    references: the measures and columns of :func:`learned_part_chemistry`, with ``kind``
    the front's (e.g. ``"C E_f"``), on the same elements and folds for every table.

    Args:
        fronts: :func:`table2_front_runs` output.
        profile: the profile (to rebuild a CT front's untrained table).
        references ... cache_dir: as :func:`learned_part_chemistry`.
    """
    pairs = {}
    root = default_root()
    for f in fronts:
        path = record_embedding_path(f.record, root) if f.status == STORED else None
        if path is None or not path.is_file():
            continue
        els, mat = load_table(path)
        if 0 in f.snapshots:
            start = load_table(f.snapshots[0])[1]
        elif f.model == "ct":
            start = load_table(None, profile=profile, seed=int(f.record.get("seed", 0)), n_tasks=1)[1]
        else:
            start = None
        pairs[f.kind] = (f.label, els, mat, start)
    return _stored_and_learned(pairs, references, properties, ks=ks, cluster_seed=cluster_seed,
                               n_init=n_init, folds=folds, repeats=repeats, n_estimators=n_estimators,
                               seed=seed, cache_dir=cache_dir)


def front_summary(fronts: Sequence[FrontRun], chem: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """One row per front: its table's chemistry beside the Table II column it starts.

    Args:
        fronts: :func:`table2_front_runs` output.
        chem: :func:`front_chemistry` output for them.
        df: Table II's tidy frame (:func:`ctlib.experiments.table2`; rows with
            ``column``, ``target``, ``mae``; ``mae`` NaN = not stored).

    Returns:
        ``task, front, status, epochs`` (done/planned), ``drift, k_best,
        silhouette, r2_stored, r2_learned`` (mean R² over the properties of the
        table as stored and of its learned part; NaN until the front is
        stored), ``column`` (``<letter>-C``), ``mae, mae_std`` (test MAE of that
        column over its stored seeds; eV/atom for E_f, eV for E_g), ``n`` and
        ``n_planned`` (seeds stored / planned).
    """
    from ctlib.experiments import MODEL_LETTER

    def measure(kind, table, col):
        row = chem[(chem["kind"] == kind) & (chem["table"] == table)]
        return float(row[col].iloc[0]) if len(row) else math.nan

    rows = []
    for f in fronts:
        column = f"{MODEL_LETTER[f.model]}-C"
        sel = df[(df["column"] == column) & (df["target"] == f.task)]
        mae = sel["mae"].dropna()
        rows.append({"task": f.task, "front": NAMES[f.model], "status": f.status,
                     "epochs": f"{f.epochs_done}/{f.epochs_planned}",
                     "drift": measure(f.kind, "as stored", "drift"),
                     "k_best": measure(f.kind, "as stored", "k_best"),
                     "silhouette": measure(f.kind, "as stored", "silhouette"),
                     "r2_stored": measure(f.kind, "as stored", "r2_mean"),
                     "r2_learned": measure(f.kind, "learned part", "r2_mean"),
                     "column": column, "mae": float(mae.mean()) if len(mae) else math.nan,
                     "mae_std": float(mae.std(ddof=1)) if len(mae) > 1 else math.nan,
                     "n": int(len(mae)), "n_planned": int(len(sel))})
    return pd.DataFrame(rows)


def front_reading(s: pd.DataFrame) -> str:
    """Per target, the fronts ranked by the chemistry of their tables and by how well those
    tables transfer (:func:`front_summary` output), as Markdown bullets; a rank on one seed,
    or on fewer seeds than planned, is marked as such."""
    from ctlib.report import fmt_sig as fmt_mae

    lines = []
    for task, g in s.groupby("task", sort=False):
        m = g.dropna(subset=["r2_stored"]).sort_values("r2_stored", ascending=False)
        if len(m) < 2:
            lines.append(f"- **{task}**: {len(m)} of {len(g)} fronts stored; nothing to compare yet.")
            continue
        learned = m.dropna(subset=["r2_learned"])
        text = (f"- **{task}**: mean R² of the table as stored, "
                + ", ".join(f"{r.front} {r.r2_stored:.2f}" for r in m.itertuples())
                + ("; of its learned part, " + ", ".join(f"{r.front} {r.r2_learned:.2f}"
                                                         for r in learned.itertuples()) if len(learned) else "")
                + ".")
        t = m[m["n"] > 0].sort_values("mae")
        if len(t) >= 2:
            text += (" Test MAE after transfer: "
                     + ", ".join(f"{r.column} {fmt_mae(r.mae)} ({r.n} of {r.n_planned} seeds)"
                                 for r in t.itertuples()) + ". ")
            same = list(m[m["n"] > 0]["column"]) == list(t["column"])
            text += ("The fronts rank the same by the chemistry of their stored tables and by transfer"
                     if same else "The ranks by chemistry and by transfer differ")
            text += (" (one seed: no spread to judge by)." if (t["n"] < 2).any() else
                     " (provisional: seeds pending)." if (t["n"] < t["n_planned"]).any() else ".")
        lines.append(text)
    return "\n".join(lines)
