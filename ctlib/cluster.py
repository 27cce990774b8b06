"""A campaign step's runs on a Dask cluster: one task per run, wherever the cluster is.

:func:`train_step` walks a step function of :func:`ctlib.campaign.plan` in plan mode
(a :class:`ctlib.context.RunContext` with ``collect``): every run the step would train
now, i.e. whose inputs are stored, is named without training. Each is submitted as one
task; the task walks the same step function on a worker with ``only={run_id}``, so it
trains that run and only looks the others up, exactly as a run trained in-process. After
every finished task the step is walked again: a back end whose front was missing becomes
a run once the front is stored, so a back end waits for its front.

Nothing in a stored record depends on the executor: the run id, its config hash and its
numbers are those of :func:`ctlib.runs.run` in one process (the record's ``device``,
``machine_share`` and wall time say where and how long).

A worker that dies mid-run (killed, out of memory) loses at most the epoch under way: the
scheduler gives the task to another worker, and :func:`ctlib.runs.run` resumes it from
the last epoch checkpoint in the shared run folder (``$CTLIB_RUNS``). A cluster's workers
must therefore share that folder and the results store (``$CTLIB_RESULTS``) with the
process that calls :func:`train_step`, and see the same data (``$CTLIB_DATA``).

:func:`local_cluster` starts the one-machine default: one single-thread worker process per
core, each pinned to its core (``benchmarks/workers.py``: two such workers train 1.82x the
Castelli-3,334 runs per hour of one 2-thread process).
"""
from __future__ import annotations

import os
from typing import Callable

from ctlib.config import Profile
from ctlib.context import RunContext, TimeBudgetReached


def pending_runs(p: Profile, train: Callable, device: str = "auto") -> list[str]:
    """Run ids that the step function ``train`` would train now (inputs stored, run not).

    Args:
        p: the profile.
        train: a step function, ``train(profile, train, device, context)``.
        device: passed through to the step function.
    """
    ctx = RunContext(collect=[])
    train(p, True, device, ctx)
    return list(ctx.collect)


def _pin_to_core() -> None:
    """Pin this worker process to one core, chosen by its worker name (0, 1, ...), so that
    the trainer uses one torch thread (:func:`ctlib.utils.available_cores`)."""
    if not hasattr(os, "sched_getaffinity"):
        return
    from distributed import get_worker

    cores = sorted(os.sched_getaffinity(0))
    name = get_worker().name
    index = name if isinstance(name, int) else sum(map(ord, str(name)))
    os.sched_setaffinity(0, {cores[index % len(cores)]})


def train_run(p: Profile, train: Callable, run_id: str, device: str, deadline: float | None,
              pin: bool = False) -> str | None:
    """The task of one run: walk the step function and train only ``run_id``.

    ``deadline``: the campaign's wall-clock deadline (``time.time()``, s; None: none), fixed
    when the step was submitted, so a task that waited in the queue gets only what is left.

    Returns ``run_id``, or None when the budget ran out first: at once if it had before the
    task started; else after the run's checkpoint is written, and a later campaign resumes
    it. A budget stop is returned, not raised, so that Dask does not log it as a failed
    task with a traceback at every campaign's end.
    """
    ctx = RunContext(deadline=deadline, log_every=1, only=frozenset([run_id]))
    if ctx.spent():
        return None
    if pin:
        _pin_to_core()
    try:
        train(p, True, device, ctx)
    except TimeBudgetReached:
        return None
    return run_id


def train_step(client, p: Profile, train: Callable, *, device: str = "auto",
               hours: float | None = None, pin: bool = False,
               out: Callable[[str], None] = lambda _: None) -> int:
    """Train every run of one step on the Dask ``client``'s cluster.

    Args:
        client: a ``distributed.Client``.
        p: the profile.
        train: the step function (``Step.train``).
        device: each task's device (``auto``: CUDA where the worker has a GPU).
        hours: the budget left (None: none); a task stops at the first epoch boundary after it.
        pin: pin each worker process to one core (a :func:`local_cluster`).
        out: where a line per finished run goes.

    Returns:
        0 when the step has no run left that could be trained, 3 when the budget ran out.

    The runs start in the order the step function names them (a chain: step by step): the
    cluster holds no more tasks than it has threads, and when one finishes the step is walked
    again and the first pending runs fill the free threads, a back end whose front was just
    stored among them. Handed everything at once, Dask started independent tasks in an order
    of its own (the last submitted first, or a lone run ahead of a large group's), and the
    campaign trained later tiers' runs before earlier ones.

    Once the budget has run out, nothing more is submitted, and the call waits for the runs
    in flight instead of cancelling them: each stops at its next epoch boundary, after that
    epoch's checkpoint. Cancelling them let the caller close the cluster under a run
    mid-epoch, losing up to an epoch of work (a CT pretraining epoch on one core takes about
    20 minutes).
    """
    from distributed import as_completed

    submitted: set[str] = set()
    deadline = RunContext.with_budget(hours).deadline   # one for every task, however long it waits
    spent = False
    futures = as_completed()

    def fill() -> None:
        free = max(1, sum(client.nthreads().values())) - futures.count()
        if free <= 0:
            return
        for rid in [r for r in pending_runs(p, train, device) if r not in submitted][:free]:
            submitted.add(rid)
            futures.add(client.submit(train_run, p, train, rid, device, deadline, pin,
                                      key=f"ctlib-run-{rid}", pure=False))

    fill()
    for fut in futures:
        run_id = fut.result()
        if run_id is None:                    # the budget ran out: the other runs stop at their epoch's end
            spent = True
            continue
        out(f"stored {run_id}")
        if not spent:
            fill()
    return 3 if spent else 0


def connect(address: str):
    """A ``distributed.Client`` of the running scheduler at ``address`` (``tcp://host:8786``)."""
    from distributed import Client

    return Client(address)


def local_cluster(workers: int, **worker_kwargs):
    """A ``(LocalCluster, Client)`` of ``workers`` single-thread worker processes on this
    machine (the default executor of ``ctlib campaign``). ``worker_kwargs`` go to each
    worker's nanny (e.g. ``env={...}``). Close both when done (``client.close();
    cluster.close()``).

    The workers start without Dask's default ``MALLOC_TRIM_THRESHOLD_=65536``: with it, glibc
    hands freed memory back to the system after every batch, and a CGCNN epoch on
    Castelli-3,334 trained at 818 structures/s on one core against 2,266 without it (a
    2.8x slowdown; the same run in a plain process with the variable set reproduces it).

    It also runs Dask's housekeeping less often (:data:`QUIET`): no statistical profiler in
    the workers (a stack sample every 10 ms), system and memory monitors every 5 s and 2 s,
    an event-loop tick every second, no work stealing (a task waits on the scheduler until a
    worker is free, so there is nothing to steal). An idle cluster of two workers then took
    1.9 % of a core instead of 16.4 % (the scheduler's process 1.1 % instead of 7.3 %,
    nannies and workers 0.8 % instead of 9.1 %; 40 s on the AMD EPYC), time the workers'
    training runs get back on a 2-core machine. None of it touches what a run computes.
    """
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None, **QUIET}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, **worker_kwargs)
    return cluster, Client(cluster)


#: Dask settings of :func:`local_cluster` that cut its own CPU use (its workers inherit them).
QUIET = {"distributed.worker.profile.enabled": False,
         "distributed.admin.system-monitor.interval": "5s",
         "distributed.worker.memory.monitor-interval": "2s",
         "distributed.admin.tick.interval": "1s",
         "distributed.scheduler.work-stealing": False}
