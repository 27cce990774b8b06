"""The CT pretraining runs of a profile: which exist, their status, their final numbers, their recipe.

Finds the three CT pretrainings of a profile (multi-task E_f + E_g, E_f alone,
E_g alone) and the multi-task one under the profile's other schedule in the
results store (:func:`find_pretraining_runs`, which never trains), including a
run under way that has no record yet (found by its run-id prefix and seed: its
snapshots, its checkpoint ``last.pt`` where this machine has it, else its
``progress.json``). From them: one row per run (:func:`runs_frame`), the final
validation and test errors per task and whether the validation curve had
flattened (:func:`final_metrics`, :func:`recent_gain`), the pretraining seeds
stored (:func:`stored_seeds`), and the profile's pretraining recipe beside the
authors' (:func:`budget_table`).

Imports: numpy, pandas, :mod:`ctlib.lookup`, :mod:`ctlib.results` and, inside
functions, :mod:`ctlib.experiments`. It is the bottom of the package: it imports
no other module of :mod:`ctlib.analysis.pretraining`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.lookup import (
    folder_snapshots, record_embedding_path, record_snapshots, run_checkpoint,
    run_progress, snapshot_dir, stored_records, unfinished_run_ids,
)
from ctlib.results import default_root

__all__ = [
    "KINDS", "ALT", "FP32", "LABELS", "SHORT_LABELS", "SHORT", "STORED", "IN_PROGRESS", "PENDING",
    "PLATEAU_GAIN", "PLATEAU_WINDOW", "PretrainingRun", "kind_targets", "run_prefix",
    "find_pretraining_runs", "unfinished_run", "stored_seeds", "runs_frame", "recent_gain",
    "final_metrics", "budget_table",
]

#: The three CT pretrainings of a profile: multi-task E_f + E_g, E_f alone, E_g alone.
KINDS = ("mt", "E_f", "E_g")
#: The multi-task pretraining once more under the profile's ``recipe.ct_alt_schedule``
#: (:func:`ctlib.experiments.pretrain_ct_alt_schedule`), where the profile has one.
ALT = "mt_alt"
#: The multi-task pretraining in fp32 (:func:`ctlib.experiments.pretrain_ct_fp32`): the
#: pretraining seeds 0, 1 and 2, which differ in their seed alone.
FP32 = "mt_fp32"
#: Display names of :data:`KINDS`, :data:`ALT` and :data:`FP32`.
LABELS = {"mt": "CT multi-task (E_f + E_g)", "E_f": "CT E_f", "E_g": "CT E_g",
          ALT: "CT multi-task, other schedule", FP32: "CT multi-task, fp32"}
#: Short names of the kinds, for axis labels.
SHORT_LABELS = {"mt": "CT mt", "E_f": "CT E_f", "E_g": "CT E_g", ALT: "CT mt, other schedule",
                FP32: "CT mt fp32"}
#: Short task name of a target (the column names of the tidy frames).
SHORT = {"formation_energy_per_atom": "E_f", "band_gap": "E_g"}
#: Statuses of a pretraining run.
STORED, IN_PROGRESS, PENDING = "stored", "in progress", "pending"


# --------------------------------------------------------------------------- #
# Finding the runs
# --------------------------------------------------------------------------- #
def kind_targets(kind: str) -> list[str]:
    """Target names of a pretraining kind: ``"mt"`` -> both MP-2018 targets, ``"E_f"`` -> one."""
    from ctlib.experiments import TARGETS

    if kind in ("mt", ALT, FP32):
        return list(TARGETS.values())
    if kind in TARGETS:
        return [TARGETS[kind]]
    raise ValueError(f"unknown pretraining kind {kind!r}; choose one of {[*KINDS, ALT, FP32]}")


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
        kinds: which of :data:`KINDS`, :data:`ALT` and :data:`FP32` (default: :data:`KINDS`,
            plus :data:`ALT` where the profile has ``recipe.ct_alt_schedule``).
        unfinished: look for unfinished runs' snapshots and checkpoints.

    Returns:
        kind -> :class:`PretrainingRun`, in the order of ``kinds``.
    """
    from ctlib import experiments as ex

    p = ex._profile(profile)
    seed = ex.front_seed(p, 0) if seed is None else int(seed)
    root = default_root()
    alt = p.recipe.ct_alt_schedule or {}
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
        elif kind == FP32:
            rec = ex.pretrain_ct_fp32(p, seed, train=False)
            experiment = ex.FP32_EXPERIMENT
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
    snaps = folder_snapshots(snapshot_dir(profile, experiment, rid, root))
    return rid, snaps, run_checkpoint(profile, experiment, rid) or run_progress(profile, experiment, rid, root)


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
# Final numbers from the records
# --------------------------------------------------------------------------- #
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


def stored_seeds(profile, kind: str = "mt") -> list[int]:
    """The pretraining seeds of one kind that the store holds a finished run of.

    A seed counts when :func:`find_pretraining_runs` finds the run of ``kind``
    with that seed stored (the same exact lookup as the page, so a run of
    another configuration under the same id prefix does not count). The
    candidates are the seeds of the records named ``<run_prefix(kind)>*`` in
    the kind's experiment folder (``fronts``; ``fronts_schedule`` for
    :data:`ALT`, ``fronts_fp32`` for :data:`FP32`).

    Args:
        profile: profile name or :class:`ctlib.config.Profile`.
        kind: one of :data:`KINDS`, :data:`ALT` or :data:`FP32`.

    Returns:
        the seeds, ascending (``[]`` when none is stored).
    """
    from ctlib import experiments as ex

    p = ex._profile(profile)
    experiment = {ALT: ex.ALT_SCHEDULE_EXPERIMENT, FP32: ex.FP32_EXPERIMENT}.get(kind, "fronts")
    recs = stored_records(p.name, default_root(), experiment=experiment, name=run_prefix(kind) + "*")
    seeds = sorted({int(rec["seed"]) for _, rec in recs if isinstance(rec.get("seed"), int)})
    return [s for s in seeds
            if find_pretraining_runs(p, s, kinds=(kind,), unfinished=False)[kind].status == STORED]


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
    if p.recipe.ct_alt_schedule:
        rows.append({"setting": "other schedule (multi-task, a second run)", "paper": "—",
                     p.name: ex.alt_schedule_text(p)})
    return pd.DataFrame(rows, columns=["setting", "paper", p.name])
