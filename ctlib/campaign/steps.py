"""What a campaign trains: its :class:`Step` objects in priority order (:func:`plan`), and
a step's output as one entry per run (:func:`_runs`)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

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
        parallel: runs that campaign workers share, one core each (a Dask task per run;
            consecutive parallel steps are queued together, so a step's last long run
            leaves no core idle); False trains the step in one process on every core.
        measured_on: the CPU model (:func:`ctlib.results.cpu_model`) on whose idle cores
            ``hours`` was measured, "" where it was planned on the first campaign's machine;
            on that CPU the status does not scale the hours by other steps' pace.
    """

    tier: int
    name: str
    hours: float
    runs: tuple[str, ...]
    train: Callable
    parallel: bool = False
    measured_on: str = ""


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


def _chain_step(trains: tuple, p: Profile, train: bool, device: str, context=None) -> list:
    out = []
    for fn in trains:
        recs = fn(p, train, device, context)
        out += recs.to_dict("records") if isinstance(recs, pd.DataFrame) else list(recs)
    return out


def chain(trains) -> Callable:
    """One step function for several steps' ``trains``, in order: its runs are theirs, one
    record (None = not stored) per run. The runner gives consecutive parallel steps to a Dask
    cluster as one, so that the next step's runs fill a worker the last run of a step leaves idle."""
    return functools.partial(_chain_step, tuple(trains))


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
            # fp32 and differ in their seed alone. On the idle AMD cores one 2-thread process
            # trains 68 structures/s and two 1-thread ones 79 in all (benchmarks/workers.py
            # --model ct --n-train 4000 --epochs 3 --skip-one-thread): a seed takes 9.9 h on one
            # core, 5.7 h on two. The seeds go to the Dask workers, one core each, with the
            # parallel steps below queued behind them (the runner chains consecutive parallel
            # steps): while seed 2 trains alone, the other core trains the matched back ends,
            # CT-M and the headline, so no core idles. 3 x 9.9 core-h on 2 cores: 14.9 h
            # (one 2-thread process: 17.1 h, with CT-M's 5.4 h after it). Measured in the
            # campaign (sessions 28-29, two seeds side by side): 45-51 structures/s a seed, about
            # 15.5 min an epoch, so 3 x 7.75 core-h on 2 cores: 11.6 h
            Step(8, "CT pretraining, multi-task in fp32, front seeds 0, 1 and 2", 11.6,
                 (f"{FP32_EXPERIMENT}/ct-{ef}+{eg}-",), _ct_seeds((0, 1, 2)), parallel=True,
                 measured_on="AMD EPYC"),
            # back-end seed s from front seed s: 6 Table III back ends at ~6 min, 6 scarce runs; a
            # seed's runs are queued as soon as its table is stored
            Step(8, "the multi-task table of each back end's own seed (Table III, data-scarce)", 1.0,
                 ("table3/cgcnn-", "scarce/cgcnn-"), _matched, parallel=True),
            # 12 MEGNet back ends of 4,000 cells, 60 epochs. On the idle AMD cores two 1-thread
            # workers train 1.11x the structures/s of one 2-thread process and finish 1.14x the
            # run-epochs per hour, 26.8 s a run-epoch, 1.25 GB each (benchmarks/workers.py --set
            # mp_E_f --model megnet --epochs 4 --skip-one-thread): 5.4 h; their fronts are stored
            Step(9, "CT-M: MEGNet back ends from the CT tables and MEGNet's default start", 5.4,
                 ("table2/megnet-",), _table2(("megnet",)), parallel=True, measured_on="AMD EPYC"),
            # 12 CGCNN runs on 44,441 cells, 30 epochs. Its fronts are tier 8's, so the runs share
            # the cores: two 1-thread workers train 1.12x the structures/s of one 2-thread process
            # there and finish 1.23x the run-epochs per hour, at 1.2 GB each, 59.6 s a run-epoch
            # (benchmarks/workers.py --set mp_E_f --n-train 44441 --epochs 2): 6.0 h of training
            # on idle cores, plus validation
            Step(10, "the headline at the paper's back-end size (whole train split)", 6.5,
                 ("headline/cgcnn-",), _table("headline"), parallel=True, measured_on="AMD EPYC"),
            # CT multi-task in fp32 on 25 % and 50 % of the train split (1.6 and 3.0 h at tier 8's
            # measured speed), 15 Castelli runs (0.3 h; the whole split's point is tier 8's seed 0)
            Step(11, "CT pretrained on less data, and its Castelli transfer", 4.9,
                 (f"{FRACTION_EXPERIMENT}/ct-", "fraction/cgcnn-"), _fractions, measured_on="AMD EPYC"),
    ]
    return [s for s in steps if s.tier <= p.campaign.last_tier]
