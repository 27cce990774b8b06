"""The campaign's status table: per step, its runs stored, its state, and the CPU-hours
planned, spent and left, the hours left scaled by the pace measured on this CPU."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ctlib.campaign.steps import Step, _runs, plan
from ctlib.config import Profile, get_profile


def _progress(profile: str, step: Step, shown: set = frozenset()) -> list[dict]:
    """``[{"run_id", "epoch", "epochs", "train_s"}, ...]`` of a step's unfinished runs
    (across all the folders it lists) that are not in ``shown``, the newest first: each
    from its checkpoint (git-ignored), else from the ``progress.json`` it commits beside
    its snapshots (so a fresh clone knows it too); empty when no run is under way.
    ``train_s`` is the run's own training time (seconds of the cores it had)."""
    import glob

    from ctlib.lookup import run_checkpoint, run_progress, stored_records, unfinished_run_times

    found = {}
    for where in step.runs:
        experiment, prefix = where.split("/", 1)
        for run_id, t in unfinished_run_times(profile, experiment, [prefix]).items():
            found[(experiment, run_id)] = t
    out = []
    for experiment, run_id in sorted(found, key=found.get, reverse=True):
        if run_id in shown:
            continue
        ck = run_checkpoint(profile, experiment, run_id)
        if ck is not None:
            if not ck.get("done") and int(ck["epoch"]) < int(ck["train_config"]["epochs"]):
                out.append({"run_id": run_id, "epoch": int(ck["epoch"]),
                            "epochs": int(ck["train_config"]["epochs"]),
                            "train_s": float(sum(h["time_s"] for h in ck["history"]))})
            continue
        pr = run_progress(profile, experiment, run_id)
        if pr is not None and pr.get("epochs_planned") and len(pr["history"]) < int(pr["epochs_planned"]) \
                and not stored_records(profile, experiment=experiment, name=glob.escape(run_id)):
            out.append({"run_id": run_id, "epoch": len(pr["history"]), "epochs": int(pr["epochs_planned"]),
                        "train_s": float(sum(h.get("time_s") or 0.0 for h in pr["history"]))})
    return out


def _running_state(runs: list[dict]) -> str:
    """``running (epoch 3/30)`` for one run under way; ``running (2 runs: epoch 3/30, 5/30)``."""
    epochs = ", ".join(f"{r['epoch']}/{r['epochs']}" for r in runs)
    return f"running (epoch {epochs})" if len(runs) == 1 else f"running ({len(runs)} runs: epoch {epochs})"


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
    run differ), else 1 where the step's hours were measured on this CPU, else the pace
    of the latest runs of any step (:func:`step_pace`, :func:`speed_factor`); for each run
    under way, its remaining epochs at its measured epoch time instead. Hours are the
    machine's: a run of a parallel step had one core, so its hours count that share of
    them (as a stored record's ``wall_s x machine_share``). A run under way shows under
    the first unfinished step that lists its folder (the campaign trains the steps in
    that order). ``df.attrs["speed"]`` holds ``(factor, runs measured)``, ``df.attrs["distinct"]``
    the totals of :func:`totals`.
    """
    from ctlib.results import cpu_model

    p = profile if isinstance(profile, Profile) else get_profile(profile)
    steps = [(step, _runs(step.train(p, False, device))) for step in plan(p)]
    cpu = cpu_model()   # read once: speed_factor would read /proc/cpuinfo again for every step
    factor, n_here = speed_factor(steps, cpu)
    rows, seen, shown = [], set(), set()
    for i, ((step, recs), own) in enumerate(zip(steps, _own_runs(steps))):
        pace = step_pace(step, speed_factor(steps, cpu, step_index=i), factor, cpu)
        done = [r for r in recs if r is not None]
        new = {r["run_id"]: r for r in done if r["run_id"] not in seen}  # a run shared by steps counts once
        seen |= set(new)
        spent = sum(r["hours"] for r in new.values())
        per_run = _planned_per_run(step, own) * pace
        left = per_run * (len(recs) - len(done))
        state = "done" if len(done) == len(recs) else "pending"
        under_way = [] if state == "done" else _progress(p.name, step, shown)[:len(recs) - len(done)]
        # a parallel step's run has one core of the machine: its hours are that share of them
        share = 1.0 / max(1, os.cpu_count() or 1) if step.parallel else 1.0
        for ck in under_way:
            shown.add(ck["run_id"])
            spent += ck["train_s"] * share / 3600.0
            if ck["epoch"] > 0:   # measured: its remaining epochs at its own epoch time
                per_epoch = ck["train_s"] * share / ck["epoch"] / 3600.0
                left += per_epoch * (ck["epochs"] - ck["epoch"]) - per_run
            # at epoch 0 (started, or restarted after its checkpoint was lost) it keeps the plan's hours
        if under_way:
            state = _running_state(under_way)
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


def step_pace(step: Step, own: tuple[float, int], latest: float, cpu: str) -> float:
    """The factor :func:`status` scales a step's planned hours by on ``cpu``: ``own`` (the
    step's :func:`speed_factor` with its runs measured) once :data:`MIN_RUNS_FOR_SPEED` of
    its runs are stored there; else 1.0 where its hours were measured on that CPU
    (``Step.measured_on``); else ``latest``, the pace of the latest runs of every step."""
    if own[1] >= MIN_RUNS_FOR_SPEED:
        return own[0]
    return 1.0 if step.measured_on and step.measured_on == cpu else latest


def pace_text(df: pd.DataFrame, cpu: str = "this CPU") -> str | None:
    """How the hours left of a :func:`status` table were scaled (its ``pace`` column), e.g.
    "the plan's hours x each step's own pace on this CPU once it has 3 runs stored there,
    else x 2.66 (the latest 6 runs stored there)"; None while the plan's hours are used as
    they are."""
    factor, n = df.attrs.get("speed", (1.0, 0))
    return (f"the plan's hours x each step's own pace on {cpu} once it has {MIN_RUNS_FOR_SPEED} "
            f"runs stored there, else x 1 where they were measured there, else x {factor:.2f} "
            f"(the latest {n} runs stored there)"
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
