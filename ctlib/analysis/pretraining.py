"""CT pretraining, epoch by epoch: validation curves and the chemistry of the element table.

The paper pretrains CrystalTransformer on MP* and claims that the element table
it learns (method A) carries chemistry: it clusters (Figures 3-5) and it
predicts elemental properties (Table VI). A final table only shows where
training ended. This module follows the table through pretraining, from the
snapshots a pretraining run keeps at the profile's ``extra["snapshot_epochs"]``
(``results/<profile>/fronts/embeddings/<run_id>/epoch_NNN.json``; epoch 0 =
the untrained table), and measures for every snapshot:

* **drift**: ``||T_e - T_0||_F / ||T_0||_F``, how far the table has moved from
  its untrained start (0 = unchanged; unitless);
* **best silhouette**: k-means (k = 2..8, :func:`ctlib.analysis.clustering.kmeans_scan`)
  on the column-standardised table; the silhouette-best k by
  :func:`ctlib.analysis.clustering.choose_k` and its mean silhouette (in [-1, 1]);
* **reverse-prediction R²** of the five elemental properties of
  :data:`ctlib.analysis.reverse.PROPERTIES`, with a cheap fixed model (a
  30-tree random forest (:func:`probe_trees`), ``max_features=0.3``, fixed seeds) in 5-fold CV
  repeated twice (:func:`ctlib.analysis.reverse.cv_splits`); pooled
  out-of-fold R², mean over repeats. The model is not the paper's CatBoost
  (notebook 08 runs that on the final table): it is a cheap probe, about 1.5
  CPU-seconds per table for all five properties on 89 elements, so that every
  snapshot can be measured.

The same numbers are computed for the reference tables of
:func:`ctlib.analysis.reverse.baseline_tables` (cgcnn92, megnet16, mat2vec,
random128), so the curves have fixed marks to rise towards.

Runs are found with :func:`ctlib.experiments.pretrain_ct_multitask` and
:func:`ctlib.experiments.pretrain_front` with ``train=False`` (never trains).
A run that is not stored yet but has snapshots in the store (a pretraining in
progress) is picked up by its run-id prefix and labelled ``in progress``; its
history comes from its checkpoint ``last.pt`` where this machine has it, else
from the ``progress.json`` the run writes beside its snapshots.

A run stored without snapshots (profiles without ``snapshot_epochs``, e.g.
smoke) still gives two points: epoch 0, the untrained table rebuilt by
:func:`ctlib.experiments.untrained_ct_table` (identical to the run's epoch-0
snapshot: same seed, same model config), and the final table at the run's best
epoch (the table that is transferred).

The per-table measures are kept in a bounded memo (:data:`MEMO_SIZE`
entries, keyed by table content and settings) and, where a caller passes
``cache_dir`` (the book: ``results/<profile>/analysis/chemistry``), in a
committed on-disk cache of one small JSON file per measure, named by the hash
of the table's exact bytes, the elements and property values, the settings and
the installed scikit-learn version: a changed table gets a new entry and a
stale one is never read. With it, a fresh clone renders the pretraining page
without refitting the ~1,500 forests and k-means scans behind it.
"""
from __future__ import annotations

import hashlib
import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.lookup import (
    folder_snapshots, profile_dir, record_embedding_path, record_snapshots, run_checkpoint,
    run_progress, unfinished_run_ids,
)
from ctlib.results import default_root

__all__ = [
    "KINDS", "ALT", "LABELS", "SHORT", "REFERENCES", "KS", "STORED", "IN_PROGRESS", "PENDING",
    "PretrainingRun", "kind_targets", "run_prefix", "find_pretraining_runs", "final_tables", "runs_frame",
    "validation_curves", "final_metrics", "snapshot_frame", "load_table",
    "relative_drift", "best_silhouette", "reverse_r2", "chemistry_vs_epoch", "schedule_comparison",
    "learned_part_chemistry", "plot_learned_part",
    "budget_table", "plot_validation_curves", "plot_chemistry", "clear_memo",
]

#: The three CT pretrainings of a profile: multi-task E_f + E_g, E_f alone, E_g alone.
KINDS = ("mt", "E_f", "E_g")
#: The multi-task pretraining once more under the profile's ``extra["ct_alt_schedule"]``
#: (:func:`ctlib.experiments.pretrain_ct_alt_schedule`), where the profile has one.
ALT = "mt_alt"
#: Display names of :data:`KINDS` and :data:`ALT`.
LABELS = {"mt": "CT multi-task (E_f + E_g)", "E_f": "CT E_f", "E_g": "CT E_g",
          ALT: "CT multi-task, other schedule"}
#: Short names of the kinds, for axis labels.
SHORT_LABELS = {"mt": "CT mt", "E_f": "CT E_f", "E_g": "CT E_g", ALT: "CT mt, other schedule"}
#: Short task name of a target (the column names of the tidy frames).
SHORT = {"formation_energy_per_atom": "E_f", "band_gap": "E_g"}
#: Reference tables measured beside the CT snapshots (names of ``reverse.baseline_tables``).
REFERENCES = ("cgcnn92", "megnet16", "mat2vec", "random128")
#: Numbers of k-means clusters scanned for the best silhouette.
KS = tuple(range(2, 9))
#: Trees of the forest probe, unless a profile's ``extra["probe_trees"]`` says otherwise.
PROBE_TREES = 30
#: Statuses of a pretraining run.
STORED, IN_PROGRESS, PENDING = "stored", "in progress", "pending"
#: Entries of the bounded memo of per-table metrics.
MEMO_SIZE = 512
_MEMO: OrderedDict = OrderedDict()


def clear_memo() -> None:
    """Empty the memo of per-table metrics (tests; a changed property table)."""
    _MEMO.clear()


def _memo(key, compute, cache_dir=None):
    """``compute()``, memoised under ``key`` and, with ``cache_dir``, in ``<cache_dir>/<hash>.json``."""
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    path = None if cache_dir is None else Path(cache_dir) / f"{_cache_name(key)}.json"
    value = _read_cached(path, key[0]) if path is not None else None
    if value is None:
        value = compute()
        if path is not None and np.all(np.isfinite(np.asarray(value, dtype=float))):
            from ctlib.utils import write_json_atomic

            write_json_atomic(path, {"measure": key[0], "settings": repr(key[2:]), "value": list(value)})
    _MEMO[key] = value
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return value


def _cache_name(key) -> str:
    """24 hex digits naming one memo key in an on-disk cache (the key and scikit-learn's version)."""
    import sklearn

    return hashlib.sha256(repr((key, sklearn.__version__)).encode()).hexdigest()[:24]


def _read_cached(path: Path, measure: str):
    """A cached measure (``(k, silhouette)`` or a list of R²), or None when ``path`` is absent."""
    from ctlib.utils import read_cache_json

    def parse(data):
        if data["measure"] != measure:
            raise ValueError(f"it holds a {data['measure']!r} measure, not {measure!r}")
        value = data["value"]
        return (int(value[0]), float(value[1])) if measure == "silhouette" else [float(v) for v in value]

    return read_cache_json(path, parse, what="pretraining-chemistry")


def _digest(*arrays) -> str:
    h = hashlib.sha1()
    for a in arrays:
        if isinstance(a, np.ndarray):
            a = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        else:
            h.update(repr(a).encode())
        h.update(b"|")
    return h.hexdigest()


# --------------------------------------------------------------------------- #
# Finding the runs
# --------------------------------------------------------------------------- #
def kind_targets(kind: str) -> list[str]:
    """Target names of a pretraining kind: ``"mt"`` -> both MP-2018 targets, ``"E_f"`` -> one."""
    from ctlib.experiments import TARGETS

    if kind in ("mt", ALT):
        return list(TARGETS.values())
    if kind in TARGETS:
        return [TARGETS[kind]]
    raise ValueError(f"unknown pretraining kind {kind!r}; choose one of {[*KINDS, ALT]}")


def run_prefix(kind: str) -> str:
    """Run-id prefix of a pretraining kind, e.g. ``"ct-formation_energy_per_atom+band_gap-"``."""
    return "ct-" + "+".join(kind_targets(kind)) + "-"


@dataclass
class PretrainingRun:
    """One CT pretraining of a profile, as far as the store knows it.

    Attributes:
        kind: ``"mt"``, ``"E_f"`` or ``"E_g"`` (:data:`KINDS`), or :data:`ALT`.
        label: display name.
        targets: target names it trains on.
        seed: the pretraining seed.
        status: ``"stored"`` (a record), ``"in progress"`` (snapshots or a
            checkpoint but no record yet) or ``"pending"`` (nothing).
        run_id: the run id (None when pending).
        record: the stored run record (None unless stored).
        snapshots: epoch -> snapshot file (``epoch_NNN.json``) that exist.
        history: per-epoch history (the record's, else the checkpoint's;
            ``[]`` when neither): dicts with ``epoch``, ``train_loss``, ``lr``,
            ``time_s``, ``val_mae`` (target -> eV/atom or eV), ``val_mae_mean``.
        epochs_planned: epochs of the profile's training config for this run.
        final_table: the record's element-table file (the best epoch's table),
            None unless stored.
        best_epoch: the record's (or checkpoint's) best epoch on validation MAE.
    """

    kind: str
    label: str
    targets: list[str]
    seed: int
    status: str
    run_id: str | None = None
    record: dict | None = None
    snapshots: dict[int, Path] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    epochs_planned: int | None = None
    final_table: Path | None = None
    best_epoch: int | None = None

    @property
    def epochs_done(self) -> int:
        """Epochs trained so far (history length, else the newest snapshot's epoch)."""
        if self.history:
            return len(self.history)
        return max(self.snapshots) if self.snapshots else 0


def _best_epoch(history: Sequence[dict]) -> int | None:
    """The epoch of lowest mean validation MAE in a history (None without validation)."""
    scored = [h for h in history if h.get("val_mae_mean") is not None]
    return min(scored, key=lambda h: h["val_mae_mean"])["epoch"] if scored else None


def find_pretraining_runs(profile, seed: int | None = None, *, kinds: Sequence[str] | None = None,
                          unfinished: bool = True) -> dict[str, PretrainingRun]:
    """The CT pretraining runs of a profile (multi-task, E_f, E_g, and the
    multi-task one under another schedule where the profile has one), from the store.

    Looks each run up with :func:`ctlib.experiments.pretrain_ct_multitask` /
    :func:`ctlib.experiments.pretrain_front` /
    :func:`ctlib.experiments.pretrain_ct_alt_schedule` and ``train=False``: nothing is
    trained. A run without a record is ``in progress`` when snapshots or a
    checkpoint of a run with its id prefix and seed exist (``unfinished``), else
    ``pending``.

    Args:
        profile: profile name or :class:`ctlib.config.Profile`.
        seed: pretraining seed (default: :func:`ctlib.experiments.front_seed` of
            seed 0, the front every back end of cpu uses).
        kinds: which of :data:`KINDS` and :data:`ALT` (default: :data:`KINDS`, plus
            :data:`ALT` where the profile has ``extra["ct_alt_schedule"]``).
        unfinished: look for unfinished runs' snapshots and checkpoints.

    Returns:
        kind -> :class:`PretrainingRun`, in the order of ``kinds``.
    """
    from ctlib import experiments as ex

    p = ex._profile(profile)
    seed = ex.front_seed(p, 0) if seed is None else int(seed)
    root = default_root()
    alt = p.extra.get("ct_alt_schedule") or {}
    if kinds is None:
        kinds = (*KINDS, ALT) if alt else KINDS
    out = {}
    for kind in kinds:
        targets = kind_targets(kind)
        experiment, label = "fronts", LABELS[kind]
        planned = int(ex.train_config("ct", p, len(targets), front=True)["epochs"])
        if kind == "mt":
            rec = ex.pretrain_ct_multitask(p, seed, train=False)
        elif kind == ALT:
            rec = ex.pretrain_ct_alt_schedule(p, seed, train=False)
            experiment, label = ex.ALT_SCHEDULE_EXPERIMENT, f"CT multi-task, {ex.alt_schedule_text(p)}"
            planned = int(alt.get("epochs", planned))
        else:
            rec = ex.pretrain_front("ct", kind, p, seed, train=False)
        run = PretrainingRun(kind, label, targets, seed, PENDING, epochs_planned=planned)
        if rec is not None:
            run.status, run.run_id, run.record = STORED, rec["run_id"], rec
            run.snapshots = record_snapshots(rec, root)
            run.history = list(rec.get("history") or [])
            run.best_epoch = rec.get("best_epoch")
            fin = record_embedding_path(rec, root)
            run.final_table = fin if fin is not None and fin.is_file() else None
        elif unfinished:
            found = unfinished_run(p.name, experiment, run_prefix(kind), seed, root)
            if found is not None:
                rid, run.snapshots, ck = found
                run.status, run.run_id = IN_PROGRESS, rid
                if ck is not None:
                    run.history = list(ck.get("history") or [])
                    run.best_epoch = ck.get("best_epoch", _best_epoch(run.history))
        out[kind] = run
    return out


def unfinished_run(profile: str, experiment: str, prefix: str, seed: int,
                   root: Path) -> tuple[str, dict[int, Path], dict | None] | None:
    """The newest run under way with id prefix ``prefix`` and seed ``seed`` (no record yet):
    ``(run_id, its snapshots {epoch: file}, its checkpoint where this machine has it, else
    the committed progress file, else None)``; None when there is no such run."""
    ids = unfinished_run_ids(profile, experiment, [prefix], seed=seed, results_root=root)
    if not ids:
        return None
    rid = ids[0]
    snaps = folder_snapshots(profile_dir(profile, root) / experiment / "embeddings" / rid)
    return rid, snaps, run_checkpoint(profile, experiment, rid) or run_progress(profile, experiment, rid, root)


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


def runs_frame(runs: Mapping[str, PretrainingRun]) -> pd.DataFrame:
    """One row per run: ``kind, label, status, run_id, seed, epochs_done, epochs_planned,
    best_epoch, snapshots`` (the epochs with a snapshot file, as text), ``wall_h`` (hours of
    the stored run; NaN otherwise) and ``device``."""
    rows = []
    for r in runs.values():
        rec = r.record or {}
        rows.append({"kind": r.kind, "label": r.label, "status": r.status, "run_id": r.run_id,
                     "seed": r.seed, "epochs_done": r.epochs_done, "epochs_planned": r.epochs_planned,
                     "best_epoch": r.best_epoch,
                     "snapshots": ", ".join(str(e) for e in r.snapshots) or "—",
                     "wall_h": float(rec["wall_s"]) / 3600 if rec.get("wall_s") is not None else math.nan,
                     "device": rec.get("device")})
    out = pd.DataFrame(rows)
    if len(out):
        out["best_epoch"] = out["best_epoch"].astype("Int64")
    return out


# --------------------------------------------------------------------------- #
# Curves and final numbers from the records
# --------------------------------------------------------------------------- #
def validation_curves(runs: Mapping[str, PretrainingRun]) -> pd.DataFrame:
    """Validation MAE per epoch and task, tidy.

    Returns:
        one row per (run, epoch, task): ``kind, label, status, run_id, epoch,
        task`` (``"E_f"``/``"E_g"``), ``target``, ``val_mae`` (eV/atom for
        E_f, eV for E_g), ``val_mae_mean`` (mean over the run's tasks, the
        selection score), ``train_loss`` (normalised MSE), ``lr`` (learning rate
        after the epoch), ``time_s`` (seconds of the epoch). Empty (with
        these columns) when no run has a history.
    """
    cols = ["kind", "label", "status", "run_id", "epoch", "task", "target", "val_mae",
            "val_mae_mean", "train_loss", "lr", "time_s"]
    rows = []
    for r in runs.values():
        for h in r.history:
            vm = h.get("val_mae") or {}
            for t in r.targets:
                v = vm.get(t)
                rows.append({"kind": r.kind, "label": r.label, "status": r.status, "run_id": r.run_id,
                             "epoch": int(h["epoch"]), "task": SHORT.get(t, t), "target": t,
                             "val_mae": math.nan if v is None else float(v),
                             "val_mae_mean": _num(h.get("val_mae_mean")),
                             "train_loss": _num(h.get("train_loss")), "lr": _num(h.get("lr")),
                             "time_s": _num(h.get("time_s"))})
    return pd.DataFrame(rows, columns=cols)


def _num(v) -> float:
    return math.nan if v is None else float(v)


#: A pretraining task has flattened when its best validation MAE improved by
#: less than this fraction over the last :data:`PLATEAU_WINDOW` epochs.
PLATEAU_GAIN = 0.02
PLATEAU_WINDOW = 5


def recent_gain(values: Sequence[float | None], window: int = PLATEAU_WINDOW) -> float:
    """Relative gain of the best value over the last ``window`` entries of a curve.

    Args:
        values: one validation MAE per epoch, in order (None: not measured).

    Returns:
        ``(b_before - b_all) / b_before``, with ``b_before`` the lowest value
        before the last ``window`` entries and ``b_all`` the lowest of all: 0
        when the last ``window`` epochs found nothing better, 0.1 when they
        lowered the best MAE by 10 %. NaN for a curve of ``window`` entries or
        fewer (nothing to compare with).
    """
    v = np.array([math.nan if x is None else float(x) for x in values])
    if len(v) <= window or np.isnan(v[:-window]).all() or not np.nanmin(v[:-window]) > 0:
        return math.nan
    before = float(np.nanmin(v[:-window]))
    return (before - float(np.nanmin(v))) / before


def final_metrics(runs: Mapping[str, PretrainingRun]) -> pd.DataFrame:
    """Final validation and test error of each pretraining, per task.

    Returns:
        one row per (run, task): ``kind, label, status, run_id, task, target,
        unit, best_epoch, epochs_done, epochs_planned, val_mae`` (stored: the
        record's validation MAE of the restored best epoch; in progress: the
        lowest validation MAE so far; pending: NaN), ``recent_gain`` (how much
        the best validation MAE fell over the last :data:`PLATEAU_WINDOW`
        epochs, :func:`recent_gain`), ``flat`` (``recent_gain`` below
        :data:`PLATEAU_GAIN`; False when unknown), ``test_mae, test_rmse,
        test_r2, n_test`` (stored runs only; NaN/0 otherwise). Units: eV/atom
        for E_f, eV for E_g.
    """
    from ctlib.experiments import UNITS

    rows = []
    for r in runs.values():
        rec = r.record or {}
        for t in r.targets:
            task = SHORT.get(t, t)
            val = ((rec.get("val") or {}).get(t) or {}).get("mae")
            if val is None and r.history:
                vals = [(h.get("val_mae") or {}).get(t) for h in r.history]
                vals = [v for v in vals if v is not None]
                val = min(vals) if vals else None
            te = (rec.get("test") or {}).get(t) or {}
            gain = recent_gain([(h.get("val_mae") or {}).get(t) for h in r.history])
            rows.append({"kind": r.kind, "label": r.label, "status": r.status, "run_id": r.run_id,
                         "task": task, "target": t, "unit": UNITS.get(task, ""),
                         "best_epoch": r.best_epoch, "epochs_done": r.epochs_done,
                         "epochs_planned": r.epochs_planned, "val_mae": _num(val),
                         "recent_gain": gain, "flat": bool(gain < PLATEAU_GAIN),
                         "test_mae": _num(te.get("mae")), "test_rmse": _num(te.get("rmse")),
                         "test_r2": _num(te.get("r2")), "n_test": int(te.get("n") or 0)})
    return pd.DataFrame(rows)


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


def probe_trees(profile) -> int:
    """Trees of the forest probe on ``profile``: :data:`PROBE_TREES` (30), or the profile's
    ``extra["probe_trees"]`` (smoke: 10, enough to check that the pages run)."""
    from ctlib.config import get_profile

    return int(get_profile(profile).extra.get("probe_trees", PROBE_TREES))


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


def best_silhouette(X, ks: Sequence[int] = KS, *, seed: int = 0, n_init: int = 10,
                    cache_dir: str | Path | None = None) -> tuple[int, float]:
    """Silhouette-best number of k-means clusters of a column-standardised table.

    :func:`ctlib.analysis.clustering.standardize`, then
    :func:`~ctlib.analysis.clustering.kmeans_scan` over ``ks`` and the rule of
    :func:`~ctlib.analysis.clustering.choose_k` (highest mean silhouette, ties
    to the smaller k).

    Args:
        X: ``(n_elements, d)`` table.
        ks: numbers of clusters, each in ``2..n_elements-1``.
        seed, n_init: k-means random state and restarts.
        cache_dir: on-disk cache folder (see the module docstring; None: memo only).

    Returns:
        ``(k, silhouette)``: the chosen k and its mean silhouette (in [-1, 1]).
    """
    from ctlib.analysis import clustering

    ks = tuple(sorted({int(k) for k in ks}))
    A = np.asarray(X, dtype=np.float64)

    def compute():
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # 89 rows: threads only cost (20x slower on a busy machine)
            scan = clustering.kmeans_scan(clustering.standardize(A), ks, seed=seed, n_init=n_init)
        if len(scan) >= 3:
            k, _ = clustering.choose_k(scan)
        else:  # choose_k also reports the elbow, which needs 3 ks; same rule
            best = scan["silhouette"].max()
            k = int(scan.loc[scan["silhouette"] >= best - 1e-12, "k"].min())
        return int(k), float(scan.set_index("k").at[k, "silhouette"])

    return _memo(("silhouette", _digest(A), ks, int(seed), int(n_init)), compute, cache_dir)


def _forest(n_estimators: int, seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=int(n_estimators), max_features=0.3, random_state=int(seed),
                                 n_jobs=1)


def _pooled_r2(X: np.ndarray, y: np.ndarray, folds: int, repeats: int, seed: int,
               n_estimators: int, cache_dir=None) -> list[float]:
    """Pooled out-of-fold R² of the forest, one per repeat (folds of ``reverse.cv_splits``)."""
    from sklearn.metrics import r2_score

    from ctlib.analysis import reverse

    def compute():
        from threadpoolctl import threadpool_limits

        oof = {}
        with threadpool_limits(1):
            for r, _f, tr, te in reverse.cv_splits(len(y), folds=folds, repeats=repeats, seed=seed):
                m = _forest(n_estimators, seed + r).fit(X[tr], y[tr])
                oof.setdefault(r, np.full(len(y), np.nan))[te] = m.predict(X[te])
        return [float(r2_score(y, p)) for _, p in sorted(oof.items())]

    return _memo(("r2", _digest(X, y), folds, repeats, seed, n_estimators), compute, cache_dir)


def _common(tables: Mapping[str, tuple], properties: pd.DataFrame, props: Sequence[str],
            folds: int) -> dict[str, list[str]]:
    """property -> the elements with a value and a row in every table (first table's order)."""
    from ctlib.analysis import reverse

    order = list(next(iter(tables.values()))[0])
    out = {}
    for prop in props:
        keep = reverse.common_elements(tables, properties[prop].astype(float), order)
        if len(keep) < folds:
            raise ValueError(f"property {prop!r}: only {len(keep)} elements have a value and a row "
                             f"in every table; {folds}-fold CV needs at least {folds}")
        out[prop] = keep
    return out


def reverse_r2(tables: Mapping[str, tuple[Sequence[str], np.ndarray]], properties: pd.DataFrame | None = None,
               *, props: Sequence[str] | None = None, folds: int = 5, repeats: int = 2,
               n_estimators: int = PROBE_TREES, seed: int = 0, cache_dir: str | Path | None = None) -> pd.DataFrame:
    """Reverse-prediction R² of elemental properties from each table, with a cheap forest.

    Per property, the elements used are those with a value and a row in
    **every** table given (:func:`ctlib.analysis.reverse.common_elements`), so
    all tables see the same elements and the same folds
    (:func:`ctlib.analysis.reverse.cv_splits`, repeat r shuffled with seed
    ``seed + r``). Model: ``RandomForestRegressor(n_estimators, max_features=0.3,
    random_state=seed + r)``. R² is pooled over the out-of-fold predictions
    of one repeat.

    Args:
        tables: name -> ``(elements, (n, d) matrix)``.
        properties: symbol-indexed property table (default
            ``ctlib.elements.elemental_properties()``).
        props: columns to predict (default: :data:`ctlib.analysis.reverse.PROPERTIES`).
        folds, repeats, n_estimators, seed: the protocol above.
        cache_dir: on-disk cache folder (see the module docstring; None: memo only).

    Returns:
        one row per (table, property): ``table, property, n_elements,
        r2_mean, r2_std`` (over repeats, ddof=1; NaN for one repeat), ``r2_repeats``
        (the per-repeat values, a list).
    """
    from ctlib.analysis import reverse

    if properties is None:
        from ctlib.elements import elemental_properties

        properties = elemental_properties()
    props = (list(props) if props is not None
             else [p for p in reverse.PROPERTIES if p in properties.columns])
    if not tables:
        raise ValueError("no tables given")
    keep = _common(tables, properties, props, folds)
    rows = []
    for prop in props:
        col = properties[prop].astype(float)
        for name, (els, mat) in tables.items():
            X, y = reverse.property_matrix(els, mat, col, keep[prop])
            vals = _pooled_r2(X, y, folds, repeats, seed, n_estimators, cache_dir)
            rows.append({"table": name, "property": prop, "n_elements": len(keep[prop]),
                         "r2_mean": float(np.mean(vals)),
                         "r2_std": float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan,
                         "r2_repeats": list(vals)})
    return pd.DataFrame(rows, columns=["table", "property", "n_elements", "r2_mean", "r2_std", "r2_repeats"])


def chemistry_vs_epoch(runs: Mapping[str, PretrainingRun], profile, *,
                       references: Sequence[str] = REFERENCES, ks: Sequence[int] = KS,
                       cluster_seed: int = 0, n_init: int = 10, folds: int = 5, repeats: int = 2,
                       n_estimators: int = PROBE_TREES, seed: int = 0,
                       properties: pd.DataFrame | None = None,
                       cache_dir: str | Path | None = None) -> pd.DataFrame:
    """Drift, best silhouette and reverse-prediction R² of every table of every run,
    and of the reference tables.

    Args:
        runs: :func:`find_pretraining_runs` output.
        profile: the profile (to rebuild the untrained table where a run has no
            epoch-0 snapshot).
        references: names of :func:`ctlib.analysis.reverse.baseline_tables`
            measured beside them (rows with ``kind="reference"``, epoch NaN).
        ks, cluster_seed, n_init: :func:`best_silhouette`.
        folds, repeats, n_estimators, seed: :func:`reverse_r2`.
        properties: property table (default ``elemental_properties()``).
        cache_dir: folder of the on-disk cache of the measures (see the module
            docstring; None: memo only).

    Returns:
        one row per table: ``kind, label, status, run_id, epoch, source,
        is_final, drift`` (vs the run's epoch-0 table; NaN for references),
        ``k_best, silhouette``, one ``r2_<property>`` column per property
        (pooled out-of-fold R², mean over repeats), ``r2_mean`` (mean over
        the properties), ``r2_mean_learned`` (the same mean R² of the table's
        learned part, the table minus its epoch-0 table; NaN at epoch 0 and for
        references) and ``seconds`` (wall time of this table's measures; near 0
        when memoised). Empty (same columns) when there is nothing to measure.
    """
    from ctlib.analysis import reverse

    if properties is None:
        from ctlib.elements import elemental_properties

        properties = elemental_properties()
    props = [p for p in reverse.PROPERTIES if p in properties.columns]
    snaps = snapshot_frame(runs)
    tables: dict[str, tuple] = {}
    meta: list[dict] = []
    epoch0: dict[str, np.ndarray] = {}
    for s in snaps.itertuples():
        els, mat = load_table(s.path, profile=profile, seed=int(s.seed), n_tasks=int(s.n_tasks))
        name = f"{s.kind} epoch {s.epoch}"
        tables[name] = (els, mat)
        if s.epoch == 0:
            epoch0[s.kind] = mat
        meta.append({"name": name, "kind": s.kind, "label": s.label, "status": s.status,
                     "run_id": s.run_id, "epoch": s.epoch, "source": s.source, "is_final": s.is_final})
    if references:
        from ctlib.elements import ELEMENTS

        refs = reverse.baseline_tables(list(ELEMENTS), seed=0, include=list(references))
        for ref, (els, mat) in refs.items():
            tables[ref] = (list(els), np.asarray(mat, dtype=np.float64))
            meta.append({"name": ref, "kind": "reference", "label": ref, "status": "reference",
                         "run_id": None, "epoch": math.nan,
                         "source": reverse.BASELINE_DESCRIPTIONS.get(ref, ref),
                         "is_final": False})
    cols = (["kind", "label", "status", "run_id", "epoch", "source", "is_final", "drift", "k_best",
             "silhouette"] + [f"r2_{p}" for p in props] + ["r2_mean", "r2_mean_learned", "seconds"])
    if not tables:
        return pd.DataFrame(columns=cols)
    keep = _common(tables, properties, props, folds)
    rows = []
    for m in meta:
        t0 = time.perf_counter()
        name, kind = m.pop("name"), m["kind"]
        els, mat = tables[name]
        ref = epoch0.get(kind)
        own = kind != "reference" and ref is not None
        drift = relative_drift(mat, ref) if own else math.nan
        learned = math.nan
        if own and m["epoch"] != 0:
            learned = float(np.mean(list(_r2s(els, mat - ref, keep, properties, folds=folds, repeats=repeats,
                                              seed=seed, n_estimators=n_estimators,
                                              cache_dir=cache_dir).values())))
        rows.append({**m, "drift": drift,
                     **_measures(els, mat, keep, properties, ks=ks, cluster_seed=cluster_seed,
                                 n_init=n_init, folds=folds, repeats=repeats, seed=seed,
                                 n_estimators=n_estimators, cache_dir=cache_dir),
                     "r2_mean_learned": learned, "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows, columns=cols)


def _r2s(els, mat, keep: Mapping[str, list[str]], properties: pd.DataFrame, *, folds, repeats, seed,
         n_estimators, cache_dir=None) -> dict[str, float]:
    """``r2_<property>`` -> the forest's pooled R² (mean over repeats) of one table
    (``keep``: property -> the elements of :func:`_common`)."""
    from ctlib.analysis import reverse

    out = {}
    for prop, elements in keep.items():
        X, y = reverse.property_matrix(els, mat, properties[prop].astype(float), elements)
        out[f"r2_{prop}"] = float(np.mean(_pooled_r2(X, y, folds, repeats, seed, n_estimators, cache_dir)))
    return out


def _measures(els, mat, keep: Mapping[str, list[str]], properties: pd.DataFrame, *, ks, cluster_seed,
              n_init, folds, repeats, seed, n_estimators, cache_dir=None) -> dict:
    """``k_best, silhouette, r2_<property>..., r2_mean`` of one table (see :func:`_r2s`)."""
    k, sil = best_silhouette(mat, ks, seed=cluster_seed, n_init=n_init, cache_dir=cache_dir)
    rr = _r2s(els, mat, keep, properties, folds=folds, repeats=repeats, seed=seed, n_estimators=n_estimators,
              cache_dir=cache_dir)
    return {"k_best": k, "silhouette": sil, **rr,
            "r2_mean": float(np.mean(list(rr.values()))) if rr else math.nan}


def learned_part_chemistry(runs: Mapping[str, PretrainingRun], profile, *,
                           references: Sequence[str] = REFERENCES, ks: Sequence[int] = KS,
                           cluster_seed: int = 0, n_init: int = 10, folds: int = 5, repeats: int = 2,
                           n_estimators: int = PROBE_TREES, seed: int = 0,
                           properties: pd.DataFrame | None = None,
                           cache_dir: str | Path | None = None) -> pd.DataFrame:
    """The final table of each stored pretraining beside its learned part (the table
    minus its untrained start, :func:`ctlib.experiments.learned_part`), with the
    measures of :func:`chemistry_vs_epoch` on the same elements and folds.

    A CT table is its random start plus what pretraining added; while the table
    has moved less than its start's norm (drift < 1), the start dominates it and
    is noise to every probe. The learned part shows what the pretraining put in.

    Args:
        runs: :func:`find_pretraining_runs` output; only stored runs with a
            final table are measured.
        profile: the profile (to rebuild each run's untrained table).
        references, ks, cluster_seed, n_init, folds, repeats, n_estimators, seed,
            properties, cache_dir: as :func:`chemistry_vs_epoch` (the same settings give the
            same numbers for the tables as stored, from its memo).

    Returns:
        one row per table: ``kind, label, table`` (``"as stored"``, ``"learned
        part"`` or the reference's name), ``drift`` (of the table as stored from
        its start; NaN for references), ``k_best, silhouette``, ``r2_<property>``
        and ``r2_mean``. Empty (same columns) when no pretraining is stored.
    """
    pairs = {}
    for kind, r in runs.items():
        if r.status != STORED or r.final_table is None:
            continue
        els, mat = load_table(r.final_table)
        _, start = load_table(None, profile=profile, seed=r.seed, n_tasks=len(r.targets))
        pairs[kind] = (r.label, els, mat, start)
    return _stored_and_learned(pairs, references, properties, ks=ks, cluster_seed=cluster_seed,
                               n_init=n_init, folds=folds, repeats=repeats, n_estimators=n_estimators,
                               seed=seed, cache_dir=cache_dir)


def _stored_and_learned(pairs: Mapping[str, tuple], references: Sequence[str],
                        properties: pd.DataFrame | None, *, ks, cluster_seed, n_init, folds, repeats,
                        n_estimators, seed, cache_dir) -> pd.DataFrame:
    """The measures of :func:`learned_part_chemistry` for ``pairs``: kind -> ``(label,
    elements, final table, its untrained start or None)``; a table without a start is
    measured as stored only (drift NaN). Empty (same columns) when ``pairs`` is."""
    from ctlib.analysis import reverse

    if properties is None:
        from ctlib.elements import elemental_properties

        properties = elemental_properties()
    props = [p for p in reverse.PROPERTIES if p in properties.columns]
    cols = (["kind", "label", "table", "drift", "k_best", "silhouette"] + [f"r2_{p}" for p in props]
            + ["r2_mean"])
    tables: dict[tuple, tuple] = {}
    drift: dict[str, float] = {}
    for kind, (label, els, mat, start) in pairs.items():
        tables[kind, label, "as stored"] = (els, mat)
        if start is not None:
            drift[kind] = relative_drift(mat, start)
            tables[kind, label, "learned part"] = (els, mat - start)
    if not tables:
        return pd.DataFrame(columns=cols)
    if references:
        from ctlib.elements import ELEMENTS

        for ref, (els, mat) in reverse.baseline_tables(list(ELEMENTS), seed=0, include=list(references)).items():
            tables["reference", ref, ref] = (list(els), np.asarray(mat, dtype=np.float64))
    keep = _common(tables, properties, props, folds)
    rows = [{"kind": kind, "label": label, "table": which, "drift": drift.get(kind, math.nan),
             **_measures(els, mat, keep, properties, ks=ks, cluster_seed=cluster_seed, n_init=n_init,
                         folds=folds, repeats=repeats, seed=seed, n_estimators=n_estimators,
                         cache_dir=cache_dir)}
            for (kind, label, which), (els, mat) in tables.items()]
    return pd.DataFrame(rows, columns=cols)


def plot_learned_part(lp: pd.DataFrame):
    """Mean reverse-prediction R² of each table as stored, its learned part and the
    references: bars = mean over the properties, dots = each property.

    Args:
        lp: :func:`learned_part_chemistry` output.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.62 * len(lp) + 1.5), 3.8))
    r2_cols = [c for c in lp.columns if c.startswith("r2_") and c != "r2_mean"]
    colours = {"as stored": "#dd8452", "learned part": "#c44e52"}
    x = np.arange(len(lp))
    ax.bar(x, lp["r2_mean"], color=[colours.get(t, "#9a9a9a") for t in lp["table"]],
           edgecolor="black", linewidth=0.5, zorder=2)
    for i, row in enumerate(lp.itertuples()):
        vals = [getattr(row, c) for c in r2_cols]
        ax.scatter(np.full(len(vals), i) + np.linspace(-0.2, 0.2, len(vals)), vals, s=10, color="black",
                   zorder=3, linewidths=0)
    names = [t if k == "reference" else f"{SHORT_LABELS.get(k, k)}, {t}"
             for k, t in zip(lp["kind"], lp["table"])]
    ax.set_xticks(x, names, rotation=40, ha="right")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_ylabel("R² (bar: mean over properties)")
    ax.set_title("Reverse prediction: the table as stored, its learned part, and the references",
                 fontsize=10)
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def schedule_comparison(runs: Mapping[str, PretrainingRun], chem: pd.DataFrame) -> pd.DataFrame:
    """The multi-task pretraining beside the same pretraining under the other schedule.

    Args:
        runs: :func:`find_pretraining_runs` output (kinds ``"mt"`` and :data:`ALT`).
        chem: :func:`chemistry_vs_epoch` output for those runs.

    Returns:
        one row per run present in ``runs``: ``kind, label, status,
        epochs`` (done / planned), ``val_E_f, val_E_g`` (lowest validation MAE
        so far, eV/atom and eV), ``epoch_last`` (the newest measured table),
        ``r2_last, silhouette_last, drift_last`` of that table, ``r2_best`` and
        ``epoch_r2_best`` (the snapshot with the highest mean R²). Empty when
        neither run is present.
    """
    rows = []
    fm = final_metrics({k: r for k, r in runs.items() if k in ("mt", ALT)})
    for kind in ("mt", ALT):
        r = runs.get(kind)
        if r is None:
            continue
        g = chem[chem["kind"] == kind].sort_values("epoch") if len(chem) else chem
        last = g.iloc[-1] if len(g) else None
        best = g.loc[g["r2_mean"].idxmax()] if len(g) else None
        val = fm[fm["kind"] == kind].set_index("task")["val_mae"] if len(fm) else pd.Series(dtype=float)
        rows.append({"kind": kind, "label": r.label, "status": r.status,
                     "epochs": f"{r.epochs_done}/{r.epochs_planned}",
                     "val_E_f": float(val.get("E_f", math.nan)), "val_E_g": float(val.get("E_g", math.nan)),
                     "epoch_last": math.nan if last is None else float(last["epoch"]),
                     "r2_last": math.nan if last is None else float(last["r2_mean"]),
                     "silhouette_last": math.nan if last is None else float(last["silhouette"]),
                     "drift_last": math.nan if last is None else float(last["drift"]),
                     "r2_best": math.nan if best is None else float(best["r2_mean"]),
                     "epoch_r2_best": math.nan if best is None else float(best["epoch"])})
    return pd.DataFrame(rows, columns=["kind", "label", "status", "epochs", "val_E_f", "val_E_g",
                                       "epoch_last", "r2_last", "silhouette_last", "drift_last",
                                       "r2_best", "epoch_r2_best"])


# --------------------------------------------------------------------------- #
# What this profile's pretraining is, beside the authors' recipe
# --------------------------------------------------------------------------- #
def _schedule(tc: dict) -> str:
    s = tc.get("scheduler", "none")
    if s == "step":
        return f"StepLR(step {tc.get('step_size')}, gamma {tc.get('gamma')})"
    if s == "cosine":
        return "cosine decay"
    if s == "onecycle":
        return "OneCycle"
    return str(s)


def budget_table(profile, runs: Mapping[str, PretrainingRun] | None = None) -> pd.DataFrame:
    """The profile's CT pretraining settings beside the authors' recipe (the ``paper`` profile).

    Rows: pretraining data, epochs, optimizer, learning rate, schedule, batch,
    positions (``coord_scale``), precision, seeds. Values come from
    :func:`ctlib.experiments.train_config` / :func:`~ctlib.experiments.model_config`
    (``front=True``; multi-task / single-task where they differ); the number of
    pretraining cells from a stored record when ``runs`` has one, else from the
    profile's MP-2018 draw.

    Returns:
        DataFrame with columns ``setting``, ``paper`` (the article and the
        authors' recipe) and ``<profile>``.
    """
    from ctlib import experiments as ex

    p = ex._profile(profile)
    n_cells = None
    for r in (runs or {}).values():
        counts = ((r.record or {}).get("dataset") or {}).get("split_counts") or {}
        if counts.get("train"):
            n_cells = int(counts["train"])
            break
    if n_cells is None:
        _, split = ex.mp_data(p)
        n_cells = len(ex.model_split(split, "ct", p, front=True)["train"])

    def both(name: str, fn) -> str:
        mt = fn(ex.train_config("ct", name, 2, front=True))
        st = fn(ex.train_config("ct", name, 1, front=True))
        return mt if mt == st else f"{mt} (multi-task) / {st} (single-task)"

    def col(name: str) -> dict:
        mc = ex.model_config("ct", name)
        scale = float(mc.get("coord_scale", 1.0))
        return {
            "epochs": both(name, lambda t: str(t["epochs"])),
            "optimizer": both(name, lambda t: t["optimizer"] + (f" (momentum {t['momentum']})"
                                                                 if t["optimizer"] == "sgd" else "")
                              + f", weight decay {t['weight_decay']:g}"),
            "learning rate": both(name, lambda t: f"{t['lr']:g}"),
            "schedule": both(name, _schedule),
            "batch": both(name, lambda t: f"{t['batch_size']} structures"
                                          + (f", at most {t['max_tokens']:,} padded atoms"
                                             if t.get("max_tokens") else "")),
            "positions": ("Å (coord_scale 1, the paper)" if scale == 1.0
                          else f"× {scale:g} (coord_scale {scale:g}{', i.e. nm' if scale == 0.1 else ''})"),
            "precision": both(name, lambda t: t.get("precision", "fp32")),
        }

    ours, paper = col(p.name), col("paper")
    fs = ex.front_seed(p, 0)
    rows = [{"setting": "pretraining data",
             "paper": "MP* (134,243 materials; 80/10/10 split)",
             p.name: f"MP-2018 train split, {n_cells:,} cells (MP* is not available offline; "
                     f"no test material enters pretraining)"}]
    rows += [{"setting": k, "paper": paper[k], p.name: ours[k]} for k in ours]
    rows.append({"setting": "seeds", "paper": "not stated",
                 p.name: f"one pretraining per kind, seed {fs}"})
    if p.extra.get("ct_alt_schedule"):
        rows.append({"setting": "other schedule (multi-task, a second run)", "paper": "—",
                     p.name: ex.alt_schedule_text(p)})
    return pd.DataFrame(rows, columns=["setting", "paper", p.name])


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
_STYLE = {"mt": dict(color="C0", ls="-", marker="o"), "E_f": dict(color="C1", ls="--", marker="s"),
          "E_g": dict(color="C2", ls=":", marker="^"), ALT: dict(color="C3", ls="-.", marker="D")}


def _legend_label(label: str, status: str) -> str:
    return label if status == STORED else f"{label} ({status})"


def plot_validation_curves(curves: pd.DataFrame, *, units: Mapping[str, str] | None = None):
    """Validation MAE vs epoch, one panel per task (E_f, E_g), one line per pretraining,
    and the learning rate vs epoch in a third panel. Runs in progress are drawn with
    hollow markers and labelled so.

    Args:
        curves: :func:`validation_curves` output.
        units: task -> unit (default ``ctlib.experiments.UNITS``).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from ctlib.experiments import UNITS

    units = dict(UNITS if units is None else units)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    for ax, task in zip(axes[:2], ("E_f", "E_g")):
        sub = curves[curves["task"] == task]
        for (kind, label, status), g in sub.groupby(["kind", "label", "status"], sort=False):
            st = dict(_STYLE.get(kind, {}))
            g = g.sort_values("epoch")
            ax.plot(g["epoch"], g["val_mae"], ms=3.5, label=_legend_label(label, status),
                    mfc="none" if status != STORED else st.get("color"), **st)
        ax.set(xlabel="epoch", ylabel=f"validation MAE ({units.get(task, '')})", title=f"{task}")
        if len(sub):
            _log_if_wide(ax, sub["val_mae"])
            ax.legend(frameon=False, fontsize=8)
        else:
            ax.text(0.5, 0.5, "pending: no epoch stored yet", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
    ax = axes[2]
    lr = curves.drop_duplicates(["kind", "epoch"])
    for (kind, label, status), g in lr.groupby(["kind", "label", "status"], sort=False):
        st = dict(_STYLE.get(kind, {}))
        st.pop("marker", None)
        g = g.sort_values("epoch")
        ax.plot(g["epoch"], g["lr"], label=_legend_label(label, status), **st)
    ax.set(xlabel="epoch", ylabel="learning rate (after the epoch)", title="schedule")
    if len(lr):
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    else:
        ax.text(0.5, 0.5, "pending", ha="center", va="center", transform=ax.transAxes, color="grey")
    for a in axes:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def plot_chemistry(chem: pd.DataFrame, *, references: Sequence[str] | None = None):
    """The element table's chemistry vs epoch: drift from epoch 0, best silhouette
    (with the chosen k written at each point) and mean reverse-prediction R², with
    that of the table's learned part dotted; the reference tables as grey
    horizontal lines in the last two panels.

    Args:
        chem: :func:`chemistry_vs_epoch` output.
        references: which reference rows to draw (default: all in ``chem``).

    Returns:
        the matplotlib Figure (one legend below the panels).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    runs = chem[chem["kind"] != "reference"]
    refs = chem[chem["kind"] == "reference"]
    if references is not None:
        refs = refs[refs["label"].isin(list(references))]
    dashes = [(0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (2, 3))]
    shades = ["0.25", "0.45", "0.6", "0.75"]
    panels = (("drift", "relative drift ‖T_e − T_0‖ / ‖T_0‖", "(A) distance from the untrained table"),
              ("silhouette", "best mean silhouette over k", "(B) cluster structure (k at each point)"),
              ("r2_mean", "mean R² over 5 properties", "(C) reverse prediction"))
    for ax, (col, ylabel, title) in zip(axes, panels):
        for (kind, label, status), g in runs.groupby(["kind", "label", "status"], sort=False):
            g = g.sort_values("epoch")
            st = dict(_STYLE.get(kind, {}))
            ax.plot(g["epoch"], g[col], ms=4, label=_legend_label(label, status),
                    mfc="none" if status != STORED else st.get("color"), **st)
            if col == "r2_mean" and "r2_mean_learned" in g and g["r2_mean_learned"].notna().any():
                gl = g[g["r2_mean_learned"].notna()]
                ax.plot(gl["epoch"], gl["r2_mean_learned"], color=st.get("color"), lw=1.0, ls=":",
                        marker=st.get("marker"), ms=3, mfc="none", alpha=0.8)
            if col == "silhouette":
                for e, v, k in zip(g["epoch"], g[col], g["k_best"]):
                    ax.annotate(str(int(k)), (e, v), textcoords="offset points", xytext=(0, 4),
                                fontsize=6.5, ha="center", color=st.get("color", "k"))
        if col != "drift":
            for i, r in enumerate(refs.itertuples()):
                ax.axhline(getattr(r, col), color=shades[i % len(shades)], lw=1.0,
                           ls=dashes[i % len(dashes)], label=f"{r.label} (reference)")
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not len(runs):
            ax.text(0.5, 0.5, "pending: no table stored yet", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
    handles, labels = axes[2].get_legend_handles_labels()
    if "r2_mean_learned" in runs and runs["r2_mean_learned"].notna().any():
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="0.3", lw=1.0, ls=":", marker="o", ms=3, mfc="none"))
        labels.append("dotted, panel C: the table's learned part (minus epoch 0)")
    if handles:
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   ncol=min(4, len(handles)), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _log_if_wide(ax, values) -> None:
    """Log y scale with plain tick labels when the values span more than a factor of 3."""
    from matplotlib.ticker import FuncFormatter

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) and v.max() / v.min() > 3:
        ax.set_yscale("log")
        fmt = FuncFormatter(lambda x, _pos: f"{x:g}")
        ax.yaxis.set_major_formatter(fmt)
        ax.yaxis.set_minor_formatter(fmt)
