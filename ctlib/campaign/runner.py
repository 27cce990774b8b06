"""How a campaign trains: :func:`run_campaign` walks the plan within a budget, one
process, lock-file workers (:func:`train_processes`) or a Dask cluster per parallel step."""
from __future__ import annotations

import os
import sys
import time
from typing import Callable

from ctlib.campaign.progress import format_status, status
from ctlib.campaign.steps import _runs, chain, plan
from ctlib.config import Profile, get_profile


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


def _parallel_after(todo: list, i: int) -> list:
    """The parallel steps that follow ``todo[i]`` without a step of one process between them:
    the Dask cluster queues their runs behind its own (:func:`ctlib.campaign.steps.chain`)."""
    out = []
    for s in todo[i + 1:]:
        if not s.parallel:
            break
        out.append(s)
    return out


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
        todo = [s for s in plan(p) if tiers is None or s.tier in tiers]
        for i, step in enumerate(todo):
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
                group = [step] + (_parallel_after(todo, i) if step.parallel else [])
                for s in group[1:]:
                    out(f"  and tier {s.tier}: {s.name} (queued behind it: its runs fill a worker that "
                        f"the step above leaves idle)")
                train = step.train if len(group) == 1 else chain([s.train for s in group])
                if cluster.train_step(dask[1], p, train, device=device, hours=ctx.hours_left(),
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
