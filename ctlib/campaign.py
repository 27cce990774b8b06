"""A profile's runs in priority order, trained within a time budget, resumably.

``ctlib campaign --profile cpu [--hours H]`` calls :func:`run_campaign`. It
walks the :func:`plan` of the profile step by step; every run goes through
:func:`ctlib.experiments.train_one`, so a run already stored under
``results/<profile>/`` is never repeated, and a run that was stopped (a killed
process, a spent budget) resumes from its last epoch checkpoint in
``$CTLIB_RUNS`` (default ``.cache/ctlib/runs``).

With ``--hours`` the campaign stops at the first epoch boundary after the
budget is spent (the epoch's checkpoint is written first) and before starting
a new run after it; the next call continues there. It prints a table of the
steps, done / running / pending, with the CPU-hours spent and an estimate of
the hours left, and every epoch of every run it trains prints one line to
stderr (the :class:`ctlib.context.RunContext` it passes down has ``log_every=1``).

With ``workers`` > 1 (``--workers``; on CPU the default is one per core), a
step of many runs with no front to pretrain (``Step.parallel``: the
data-scarce transfer, the zoo, Matbench, the learning curve, CT-M's MEGNet back
ends, the headline) is trained by a
local Dask cluster of that many single-thread worker processes, one run per
task (:mod:`ctlib.cluster`). One run leaves its second thread partly idle: on
Castelli-3,334 two single-core workers train 1.82x the structures/s of one
2-thread process; on the MP-2018 E_f back end 1.25x at 500 training cells and
1.33x at 8,000, but only 1.06x at the tables' 4,000, so Tables II-IV stay one
process (``benchmarks/workers.py``). ``executor="processes"`` keeps the older
workers, which walk the same step side by side and claim each run through a lock
file (``RunContext(claim=True)``, :func:`ctlib.runs.claim`); ``scheduler`` sends
every step's runs to a Dask cluster elsewhere. Under ``torchrun`` every process
walks the plan and each run is trained by all of them (:mod:`ctlib.train.distributed`).

Everything a run stores is the same whichever device trained it: the device is
not part of a run's config hash, only of its record.
"""
from __future__ import annotations

import functools
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ctlib.config import Profile, get_profile


@dataclass(frozen=True)
class Step:
    """One step of a campaign: a group of runs trained together.

    Attributes:
        tier: priority group (1 first).
        name: what the step trains, as the progress table shows it.
        hours: planned CPU-hours of the step's own runs on 2 cores (those no
            earlier step lists: see :func:`_own_runs`).
        runs: where its runs' checkpoint folders are, as
            ``<experiment>/<run-id prefix>`` (e.g. ``table2/cgcnn-`` or
            ``fronts/megnet-``), used to show a running step in the progress
            table; a table step lists the fronts it pretrains too, and the
            folders of runs it shares with a later step.
        train: ``train(profile, train: bool, device: str, context=None)`` -> the step's runs,
            as a list of records (None = not stored) or a tidy DataFrame of
            :mod:`ctlib.experiments` (``run_id`` NaN = not stored); with
            ``train=False`` it only looks runs up. ``context`` (a
            :class:`ctlib.context.RunContext`) goes down to every run it trains.
        parallel: many small runs, which campaign workers may share
            (one core each); False trains the step in one process.
    """

    tier: int
    name: str
    hours: float
    runs: tuple[str, ...]
    train: Callable
    parallel: bool = False


# Step functions are module-level functions (bound with functools.partial), so that they
# pickle by reference: a campaign worker process or a Dask task receives them as they are.
def _ct_front_step(short: str | None, p: Profile, train: bool, device: str, context=None) -> list:
    from ctlib import experiments as ex

    if short is None:
        return [ex.pretrain_ct_multitask(p, 0, device=device, train=train, context=context)]
    if short == "alt":
        return [ex.pretrain_ct_alt_schedule(p, 0, device=device, train=train, context=context)]
    return [ex.pretrain_front("ct", short, p, 0, device=device, train=train, context=context)]


def _ct_front(short: str | None):
    """A step function for one CT pretraining, seed 0: ``None`` = multi-task, ``"alt"`` =
    multi-task under the profile's other schedule, else the single target ``short``."""
    return functools.partial(_ct_front_step, short)


def _table_step(name: str, p: Profile, train: bool, device: str, context=None, **kw):
    from ctlib import experiments as ex

    return getattr(ex, name)(p, device=device, train=train, context=context, **kw)


def _table(name: str, **kw):
    """A step function that runs one table function of :mod:`ctlib.experiments` (with ``kw``)."""
    return functools.partial(_table_step, name, **kw)


def _table2(backs):
    """A step function for Table II with the back ends ``backs`` only."""
    return _table("table2", backs=backs)


def _table4(variants):
    """A step function for the Table IV columns ``variants`` (None: all)."""
    return _table("table4", variants=variants)


def _ct_seeds_step(seeds, p: Profile, train: bool, device: str, context=None) -> list:
    from ctlib import experiments as ex

    return [ex.pretrain_ct_fp32(p, s, device=device, train=train, context=context) for s in seeds]


def _ct_seeds(seeds):
    """A step function for the pretraining seeds: CT multi-task in fp32
    (:func:`ctlib.experiments.pretrain_ct_fp32`) with the front ``seeds``."""
    return functools.partial(_ct_seeds_step, tuple(seeds))


def _fractions(p: Profile, train: bool, device: str, context=None) -> list:
    """The step function of the pretraining-data curve: the CT pretrainings on each of the
    profile's ``pretraining_fractions`` of the train split, then their Castelli transfer runs."""
    from ctlib import experiments as ex

    recs = [ex.pretrain_ct_fraction(p, f, ex.front_seed(p, 0), device=device, train=train, context=context)
            for f in p.sizes.pretraining_fractions]
    return recs + ex.fraction_transfer(p, device=device, train=train, context=context).to_dict("records")


def _matched(p: Profile, train: bool, device: str, context=None) -> list:
    """The step function of front seed = back seed: Table III's multi-task rows, then the
    data-scarce transfer's (:func:`ctlib.experiments.matched_fronts`, ``matched_scarce``)."""
    from ctlib import experiments as ex

    kw = dict(device=device, train=train, context=context)
    return (ex.matched_fronts(p, **kw).to_dict("records")
            + ex.matched_scarce(p, **kw).to_dict("records"))


def _table2_fronts(p: Profile, train: bool, device: str, context=None) -> list:
    """The step function of Table II's fronts other than CT (whose pretraining is tier 1):
    one record (None = not stored) per front model, target and front seed."""
    from ctlib import experiments as ex

    fronts = [f for f in ex.table2_fronts(p) if f != "ct"]
    return [ex.pretrain_front(f, short, p, s, device=device, train=train, context=context)
            for short in ex.TARGETS for f in fronts for s in ex.front_seeds(p)]


def _hours(rec: dict) -> float:
    """Machine-hours of a stored run: its ``wall_s`` (at least its epochs' ``train_s``: a
    record of a resumed run written before wall_s summed every process counted the last one
    only) times its ``machine_share`` (a worker on 1 of 2 cores: 0.5; older records: 1)."""
    def num(v, default=0.0):
        return float(v) if isinstance(v, (int, float)) and v == v else default
    share = num(rec.get("machine_share"), 1.0)
    return max(num(rec.get("wall_s")), num(rec.get("train_s"))) * share / 3600.0


def _runs(out) -> list[dict | None]:
    """A step's output as one entry per run: ``{"run_id", "hours", "device", "finished"}`` or
    None (not stored)."""
    rows = out.to_dict("records") if isinstance(out, pd.DataFrame) else out
    return [{"run_id": r["run_id"], "hours": _hours(r), "device": r.get("device"),
             "finished": str(r.get("finished") or "")}
            if r is not None and isinstance(r.get("run_id"), str) else None for r in rows]


def plan(profile) -> list[Step]:
    """The ordered steps of a profile's campaign (the ``cpu`` profile's tiers).

    1. CT pretraining on the full MP-2018 train split, seed 0: multi-task
       (E_f + E_g), then E_f, then E_g; then, where the profile defines
       ``recipe.ct_alt_schedule``, the multi-task one under that schedule.
    2. The data-scarce transfer (:func:`ctlib.experiments.scarce_transfer`).
    3. Tables III, II and IV with a CGCNN back end. Table II pretrains its
       CGCNN and MEGNet fronts itself, each before its back ends; a step after
       it counts those fronts' runs and hours.
    4. The learning curve.

    Hours are the plan's estimates on 2 cores (see :mod:`ctlib.config`).
    """
    p = profile if isinstance(profile, Profile) else get_profile(profile)
    from ctlib.experiments import (ALT_SCHEDULE_EXPERIMENT, FP32_EXPERIMENT, FRACTION_EXPERIMENT,
                                   LEARNING_CURVE_TABLES, MODEL_LETTER, TABLE4_FIRST, TARGETS,
                                   alt_schedule_text, table2_fronts, train_config)

    def hours(n_tasks: int, epochs: int | None = None) -> float:
        # ~6 min per epoch of 44,441 cells in bf16 on 2 cores
        return round((epochs or train_config("ct", p, n_tasks)["epochs"]) * 0.1, 1)

    ef, eg = TARGETS["E_f"], TARGETS["E_g"]
    other_fronts = [f for f in table2_fronts(p) if f != "ct"]   # CT's pretraining is tier 1
    alt = p.recipe.ct_alt_schedule
    ct_alt = [Step(1, f"CT pretraining, multi-task, {alt_schedule_text(p)}",
                   hours(2, alt.get("epochs")), (f"{ALT_SCHEDULE_EXPERIMENT}/ct-{ef}+{eg}-",),
                   _ct_front("alt"))] if alt else []
    steps = [
        Step(1, "CT pretraining, multi-task E_f + E_g", hours(2), (f"fronts/ct-{ef}+{eg}-",),
             _ct_front(None)),
        Step(1, "CT pretraining, E_f", hours(1), (f"fronts/ct-{ef}-",), _ct_front("E_f")),
        Step(1, "CT pretraining, E_g", hours(1), (f"fronts/ct-{eg}-",), _ct_front("E_g")),
        *ct_alt,
        # CGCNN hours from tools/stop_probe.py: 100 epochs of Castelli-3,334 or HOIP ~1.5 min;
        # a 60-epoch 4,000-cell MP-2018 back end ~6 min on 2 cores (8,000 cells ~10, 500 ~3).
        # Two 1-thread workers against one 2-thread process, runs per hour (benchmarks/workers.py):
        # 1.82x on Castelli, 1.19x on HOIP; MP-2018 E_f back end 1.25x at 500 cells, 1.06x at
        # 4,000 (Tables II-IV: one process), 1.33x at 8,000. The scarce step and the learning
        # curve share; neither pretrains a front, which one single-thread worker would hold up.
        Step(2, "data-scarce transfer (Castelli, HOIP)", 1.8, ("scarce/cgcnn-",),
             _table("scarce_transfer"), parallel=True),
        # Table III's CT-C E_g back ends are Table II's runs, stored under table2/
        Step(3, "Table III (cross-task) + controls", 3.5, ("table3/cgcnn-", "table2/cgcnn-"),
             _table("table3")),
        # Table II trains each front before its back ends (experiments.table2); the fronts'
        # step comes after it, so that it counts their runs and hours but trains nothing itself.
        # A step's hours cover the runs no earlier step lists (Table II: 18 of its 42 back ends,
        # at ~6 min; the others are Table III's); fronts: CGCNN 30 epochs, MEGNet 20, ~0.5 h each
        Step(3, "Table II back ends", 1.8, ("table2/cgcnn-",), _table2(("cgcnn",))),
        Step(3, f"Table II fronts ({', '.join(MODEL_LETTER[f] for f in other_fronts)}; full train split)",
             2.0, tuple(f"fronts/{f}-" for f in other_fronts), _table2_fronts),
        Step(3, "Table IV (E_a+E_c, E_a^f)", 1.2, ("table4/cgcnn-",), _table4(TABLE4_FIRST)),
        Step(4, "learning curve (500-8,000 cells)", 2.7, ("learning_curve/cgcnn-",),
             _table("learning_curve"), parallel=True),
        # the second campaign (issues 35 and 37): 12 more Table IV back ends at ~6 min
            Step(5, "Table IV, one change per contrast (table at the back end's lr; "
                    "E_a+E_c without augmentation)", 1.2, ("table4/cgcnn-",), _table4(None)),
            # 11 published tables x 2 sets x 5 seeds, as tier 2's 130 runs in 2.1 h
            Step(6, "embedding zoo: published tables in the data-scarce transfer", 1.8,
                 ("zoo/cgcnn-",), _table("zoo_transfer"), parallel=True),
            # 2 tables x 4 sizes x 3 seeds as tier 4's 36 runs in 3.1 h
            Step(6, "learning curve from the two best published tables", 2.0, ("learning_curve/cgcnn-",),
                 _table("learning_curve", tables=LEARNING_CURVE_TABLES), parallel=True),
            # 4 starts x 5 folds of ~13,600 five-atom cells, 100 epochs: ~8 min a run on one core
            Step(7, "Matbench perovskites, 5 folds (cgcnn92, one-hot, CT mt, a published table)", 2.0,
                 ("matbench/cgcnn-",), _table("matbench"), parallel=True),
            # as tier 1's multi-task run (30 epochs) but in fp32: bf16 is emulated on the AMD CPU
            # that trains this campaign (CT fp32 87 structures/s, bf16 3.1, while two campaign
            # workers shared the cores: benchmarks/precision.py --speed 8), so seeds 0-2 are all
            # fp32 and differ in their seed alone; ~3 h each
            Step(8, "CT pretraining, multi-task in fp32, front seeds 0, 1 and 2", 9.0,
                 (f"{FP32_EXPERIMENT}/ct-{ef}+{eg}-",), _ct_seeds((0, 1, 2))),
            # back-end seed s from front seed s: 6 Table III back ends at ~6 min, 6 scarce runs
            Step(8, "the multi-task table of each back end's own seed (Table III, data-scarce)", 1.0,
                 ("table3/cgcnn-", "scarce/cgcnn-"), _matched),
            # 12 MEGNet back ends of 4,000 cells, 60 epochs. On the idle AMD cores two 1-thread
            # workers train 1.11x the structures/s of one 2-thread process and finish 1.14x the
            # run-epochs per hour, 26.8 s a run-epoch, 1.25 GB each (benchmarks/workers.py --set
            # mp_E_f --model megnet --epochs 4 --skip-one-thread): 5.4 h; their fronts are stored
            Step(9, "CT-M: MEGNet back ends from the CT tables and MEGNet's default start", 5.4,
                 ("table2/megnet-",), _table2(("megnet",)), parallel=True),
            # 12 CGCNN runs on 44,441 cells, 30 epochs. Its fronts are tier 8's, so the runs share
            # the cores: two 1-thread workers train 1.12x the structures/s of one 2-thread process
            # there and finish 1.23x the run-epochs per hour, at 1.2 GB each, 59.6 s a run-epoch
            # (benchmarks/workers.py --set mp_E_f --n-train 44441 --epochs 2): 6.0 h of training
            # on idle cores, plus validation
            Step(10, "the headline at the paper's back-end size (whole train split)", 6.5,
                 ("headline/cgcnn-",), _table("headline"), parallel=True),
            # CT multi-task in fp32 on 25 % and 50 % of the train split (~0.8 and 1.5 h), 15
            # Castelli runs (the whole split's point is tier 8's fp32 seed 0)
            Step(11, "CT pretrained on less data, and its Castelli transfer", 2.8,
                 (f"{FRACTION_EXPERIMENT}/ct-", "fraction/cgcnn-"), _fractions),
    ]
    return [s for s in steps if s.tier <= p.campaign.last_tier]


def _progress(profile: str, step: Step, shown: set = frozenset()) -> dict | None:
    """``{"run_id", "epoch", "epochs", "train_s"}`` of the newest unfinished run of a step
    (across all the folders it lists) that is not in ``shown``: from its checkpoint
    (git-ignored), else from the ``progress.json`` it commits beside its snapshots (so a
    fresh clone knows it too); None when no run is under way."""
    import glob

    from ctlib.lookup import run_checkpoint, run_progress, stored_records, unfinished_run_times

    found = {}
    for where in step.runs:
        experiment, prefix = where.split("/", 1)
        for run_id, t in unfinished_run_times(profile, experiment, [prefix]).items():
            found[(experiment, run_id)] = t
    for experiment, run_id in sorted(found, key=found.get, reverse=True):
        if run_id in shown:
            continue
        ck = run_checkpoint(profile, experiment, run_id)
        if ck is not None:
            if ck.get("done"):
                continue
            return {"run_id": run_id, "epoch": int(ck["epoch"]), "epochs": int(ck["train_config"]["epochs"]),
                    "train_s": float(sum(h["time_s"] for h in ck["history"]))}
        pr = run_progress(profile, experiment, run_id)
        if pr is not None and pr.get("epochs_planned") and \
                not stored_records(profile, experiment=experiment, name=glob.escape(run_id)):
            return {"run_id": run_id, "epoch": len(pr["history"]), "epochs": int(pr["epochs_planned"]),
                    "train_s": float(sum(h.get("time_s") or 0.0 for h in pr["history"]))}
    return None


def status(profile, device: str = "cpu") -> pd.DataFrame:
    """One row per step: tier, step, runs done / total, state, CPU-h planned, spent and left.

    ``state`` is ``done``, ``running (epoch k/N)`` for a step with a run under
    way (its checkpoint, else its committed ``progress.json``), or
    ``pending``. ``h_planned`` is the plan's estimate for the step's own runs
    (a run an earlier step lists too is trained and counted there). ``done`` and
    ``runs`` count every run of the step; :func:`totals` counts each run once.
    Spent hours add the stored runs' wall time and the finished epochs of a
    run under way; hours left are the plan's for pending runs, times
    ``pace``: the step's own pace on this CPU once it has
    :data:`MIN_RUNS_FOR_SPEED` runs stored here (a whole-split run and a zoo
    run differ), else the pace of the latest runs of any step
    (:func:`speed_factor`); plus the remaining epochs at the
    measured epoch time for a running one. A run under way shows under the first
    unfinished step that lists its folder (the campaign trains the steps in that
    order). ``df.attrs["speed"]`` holds ``(factor, runs measured)``, ``df.attrs["distinct"]``
    the totals of :func:`totals`.
    """
    p = profile if isinstance(profile, Profile) else get_profile(profile)
    steps = [(step, _runs(step.train(p, False, device))) for step in plan(p)]
    factor, n_here = speed_factor(steps)
    rows, seen, shown = [], set(), set()
    for i, ((step, recs), own) in enumerate(zip(steps, _own_runs(steps))):
        pace, n_step = speed_factor(steps, step_index=i)
        pace = pace if n_step >= MIN_RUNS_FOR_SPEED else factor
        done = [r for r in recs if r is not None]
        new = {r["run_id"]: r for r in done if r["run_id"] not in seen}  # a run shared by steps counts once
        seen |= set(new)
        spent = sum(r["hours"] for r in new.values())
        per_run = _planned_per_run(step, own) * pace
        left = per_run * (len(recs) - len(done))
        state = "done" if len(done) == len(recs) else "pending"
        ck = None if state == "done" else _progress(p.name, step, shown)
        if ck is not None and ck["epoch"] < ck["epochs"]:
            shown.add(ck["run_id"])
            state = f"running (epoch {ck['epoch']}/{ck['epochs']})"
            spent += ck["train_s"] / 3600.0
            per_epoch = ck["train_s"] / max(ck["epoch"], 1) / 3600.0
            left += per_epoch * (ck["epochs"] - ck["epoch"]) - per_run
        rows.append({"tier": step.tier, "step": step.name, "done": len(done), "runs": len(recs),
                     "state": state, "h_planned": step.hours, "cpu_h_spent": spent,
                     "pace": pace, "h_left": max(left, 0.0)})
    df = pd.DataFrame(rows)
    df.attrs["speed"] = (factor, n_here)
    df.attrs["distinct"] = (len(seen), len(seen) + sum(r is None for _, recs in steps for r in recs))
    return df


def totals(df: pd.DataFrame) -> tuple[int, int]:
    """``(runs stored, runs in all)`` of a :func:`status` table, each run once: a table
    step's ``done`` / ``runs`` also count the runs it shares with an earlier step (Table
    II's controls are Table III's runs)."""
    return df.attrs.get("distinct", (int(df["done"].sum()), int(df["runs"].sum())))


def _own_runs(steps) -> list[int]:
    """Per step of ``[(Step, _runs(...)), ...]``, the runs its planned hours cover: its runs
    less the stored ones an earlier step lists too (a run not stored yet counts as its own;
    the campaign trains a shared run at the first step that lists it)."""
    seen, out = set(), []
    for _, recs in steps:
        ids = {r["run_id"] for r in recs if r is not None}
        out.append(len(recs) - len(ids & seen))
        seen |= ids
    return out


def _planned_per_run(step: Step, own: int) -> float:
    """The plan's CPU-hours for one of the ``own`` runs of ``step`` (:func:`_own_runs`)."""
    return step.hours / max(own, 1)


#: Stored runs of this CPU needed before :func:`speed_factor` departs from the plan.
MIN_RUNS_FOR_SPEED = 3
#: The latest runs of this CPU that :func:`speed_factor` reads (older code may have been slower).
SPEED_WINDOW = 8


def speed_factor(steps, cpu: str | None = None,
                 step_index: int | None = None) -> tuple[float, int]:
    """How much longer than planned runs take on this CPU: ``(factor, runs measured)``.

    The plan's hours were measured on one machine; another CPU may be several
    times slower (an AMD EPYC with AVX2 ran the CGCNN back ends 2.6x slower
    than the Intel one with AVX-512). The factor is the median, over the latest
    :data:`SPEED_WINDOW` runs whose record names this CPU model
    (:func:`ctlib.results.cpu_model`), by finishing time, of a run's machine
    hours over the planned hours per run of the first step that lists it
    (:func:`_planned_per_run`; a run shared by steps counts once; the latest,
    because the code gets faster: zeroing subnormal bond features halved a
    CGCNN run's time; the median, so that one run slowed by other work on the
    machine does not set the pace). 1.0 while fewer than
    :data:`MIN_RUNS_FOR_SPEED` such runs are stored.

    Args:
        steps: ``[(Step, _runs(...)), ...]`` as :func:`status` builds it.
        cpu: the CPU model to match (default: this machine's).
        step_index: read only the runs that ``steps[step_index]`` is the first to list
            (that step's own pace); None reads every step.
    """
    from ctlib.results import cpu_model

    cpu = cpu_model() if cpu is None else cpu
    ratios: dict[str, tuple[str, float]] = {}
    seen: set[str] = set()
    for i, ((step, recs), own) in enumerate(zip(steps, _own_runs(steps))):
        for r in recs:
            if r is None or r["run_id"] in seen:
                continue
            seen.add(r["run_id"])
            if (cpu and step.hours > 0 and step_index in (None, i)
                    and f", {cpu})" in str(r.get("device") or "")):
                ratios[r["run_id"]] = (r.get("finished") or "", r["hours"] / _planned_per_run(step, own))
    if len(ratios) < MIN_RUNS_FOR_SPEED:
        return 1.0, len(ratios)
    latest = sorted(ratios.values())[-SPEED_WINDOW:]
    return float(np.median([x for _, x in latest])), len(latest)


def pace_text(df: pd.DataFrame, cpu: str = "this CPU") -> str | None:
    """How the hours left of a :func:`status` table were scaled (its ``pace`` column), e.g.
    "the plan's hours x each step's own pace on this CPU once it has 3 runs stored there,
    else x 2.66 (the latest 6 runs stored there)"; None while the plan's hours are used as
    they are."""
    factor, n = df.attrs.get("speed", (1.0, 0))
    return (f"the plan's hours x each step's own pace on {cpu} once it has {MIN_RUNS_FOR_SPEED} "
            f"runs stored there, else x {factor:.2f} (the latest {n} runs stored there)"
            if n >= MIN_RUNS_FOR_SPEED else None)


def tier_hours(df: pd.DataFrame) -> str:
    """CPU-hours spent per tier of a :func:`status` table, e.g. "tier 1 11.82, tier 2 2.13"."""
    spent = df.groupby("tier", sort=True)["cpu_h_spent"].sum()
    return ", ".join(f"tier {t} {h:.2f}" for t, h in spent.items())


def format_status(df: pd.DataFrame) -> str:
    """The status table as aligned text, with a totals line and the hours per tier."""
    text = df.to_string(index=False, float_format=lambda x: f"{x:.2f}")
    n = df.attrs.get("speed", (1.0, 0))[1]
    how = pace_text(df) or (f"the plan's hours: {n} runs stored from this CPU, "
                            f"{MIN_RUNS_FOR_SPEED} needed to measure its pace")
    stored, runs = totals(df)
    return (f"{text}\n{'total':>5}: {stored}/{runs} distinct runs stored, "
            f"{df['cpu_h_spent'].sum():.2f} CPU-h spent, about {df['h_left'].sum():.1f} h left ({how})\n"
            f"{'spent':>5}: {tier_hours(df)} CPU-h")


POLL_S = 20.0  # a worker with nothing to claim waits this long for the others' runs


def _worker(p: Profile, train: Callable, hours: float | None, core: int | None, device: str) -> int:
    """Body of one lock-file worker: train the runs of the step function ``train`` that no
    other worker holds, on one core, until every run of the step is stored (0), the budget
    is spent (3), or the runs still missing wait for inputs that no worker is training (0)."""
    from ctlib.context import RunContext, TimeBudgetReached

    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})  # one core: the trainer then uses one torch thread
    ctx = RunContext.with_budget(hours, claim=True, log_every=1)
    stats = ctx.stats
    try:
        while True:
            trained, busy = stats["trained"], stats["busy"]
            if all(r is not None for r in _runs(train(p, True, device, ctx))):
                return 0
            if stats["trained"] > trained:
                continue  # what it stored may be the input of a run still missing
            if stats["busy"] == busy:
                return 0  # missing runs whose inputs no worker trains
            time.sleep(POLL_S)
    except TimeBudgetReached:
        return 3


def _worker_main(*args) -> None:
    sys.exit(_worker(*args))


def train_processes(p: Profile, train: Callable, workers: int, device: str = "auto",
                    hours: float | None = None) -> int:
    """Train the runs of the step function ``train`` with ``workers`` processes that claim
    runs through lock files (``executor="processes"``), one core each, within ``hours``;
    returns 0, or 3 when the budget was spent. ``train`` must pickle (a module-level
    function or a :func:`functools.partial` of one)."""
    import multiprocessing

    from ctlib import runs

    runs.clear_stale_locks()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that has run torch
    procs = [ctx.Process(target=_worker_main,
                         args=(p, train, hours, cores[i % len(cores)] if cores else None, device))
             for i in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    codes = [proc.exitcode for proc in procs]
    if any(c not in (0, 3) for c in codes):
        raise RuntimeError(f"campaign worker(s) failed (exit codes {codes}); the error is in the log "
                           f"above. Stored runs are kept; run the campaign again to continue.")
    return 3 if 3 in codes else 0


def default_workers(device: str = "auto") -> int:
    """Campaign workers: one per available core on CPU, one on a GPU."""
    from ctlib.train import resolve_device
    from ctlib.utils import available_cores

    return 1 if resolve_device(device).type == "cuda" else available_cores()


def run_campaign(profile, hours: float | None = None, device: str = "auto",
                 out: Callable[[str], None] = print, tiers=None, workers: int = 1,
                 scheduler: str | None = None, executor: str = "dask") -> int:
    """Train the missing runs of ``profile`` in plan order, within ``hours``.

    ``tiers``: train only the steps of these tiers (default: all).
    ``workers``: processes that share a ``parallel`` step, one core each
    (:func:`default_workers`); 1 trains every step in this process.
    ``scheduler``: the address of a Dask scheduler (``tcp://host:8786``); every step's runs
    are then submitted to that cluster, one task per run (:mod:`ctlib.cluster`).
    ``executor``: how ``workers`` > 1 share a parallel step without a scheduler: ``dask``
    (a :func:`ctlib.cluster.local_cluster`, the default) or ``processes`` (worker processes
    that claim runs through lock files; kept to measure one against the other,
    ``benchmarks/workers.py``).

    Returns 0 when every planned run is stored, 3 when the budget ran out
    first (call again to continue). Errors propagate after the status table
    is printed.
    """
    from ctlib.context import RunContext, TimeBudgetReached

    if executor not in ("dask", "processes"):
        raise ValueError(f"executor must be 'dask' or 'processes', got {executor!r}")
    from ctlib.train import distributed

    if distributed.requested():   # under torchrun: every process walks the plan; each run uses them all
        if scheduler is not None:
            raise ValueError("--scheduler and torchrun do not mix: run the campaign under torchrun "
                             "(one run on several processes) or on a Dask cluster (one run per worker)")
        workers = 1
    p = profile if isinstance(profile, Profile) else get_profile(profile)
    t0 = time.time()
    out(f"campaign {p.name}: budget {'none' if hours is None else f'{hours:g} h'}"
        + (f", runs on the Dask scheduler {scheduler}" if scheduler else ""))
    out(format_status(status(p)))
    ctx = RunContext.with_budget(hours, log_every=1)
    code, started, dask = 0, False, None
    try:
        for step in plan(p):
            if tiers is not None and step.tier not in tiers:
                continue
            if all(r is not None for r in _runs(step.train(p, False, device))):
                continue
            if started and ctx.spent():  # the first pending step always gets a start
                code = 3
                break
            share = scheduler is not None or (step.parallel and workers > 1)
            how = ("" if not share else f" (Dask scheduler {scheduler})" if scheduler else
                   f" ({workers} workers, one core each)")
            out(f"[{time.strftime('%H:%M:%S')}] tier {step.tier}: {step.name}{how}")
            started = True
            if not share:
                step.train(p, True, device, ctx)
            elif executor == "processes" and scheduler is None:
                if train_processes(p, step.train, workers, device, ctx.hours_left()) == 3:
                    code = 3
                    break
            else:
                from ctlib import cluster

                if dask is None:
                    dask = (None, cluster.connect(scheduler)) if scheduler else cluster.local_cluster(workers)
                if cluster.train_step(dask[1], p, step.train, device=device, hours=ctx.hours_left(),
                                      pin=scheduler is None, out=out) == 3:
                    code = 3
                    break
    except TimeBudgetReached as stop:
        out(str(stop))
        code = 3
    finally:
        if dask is not None:
            dask[1].close()
            if dask[0] is not None:
                dask[0].close()
        out(f"after {(time.time() - t0) / 3600:.2f} h:")
        out(format_status(status(p)))
    if code == 3:
        out("budget spent: run the same command again to continue")
    return code
