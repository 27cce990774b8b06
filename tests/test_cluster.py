"""Campaign steps on a Dask cluster (ctlib.cluster): plan mode names the runs a step would
train without training them, one task trains one run, a back end waits for its front,
and a worker killed mid-run loses nothing (the run resumes from its epoch checkpoint)."""
import json
import sys

import cloudpickle
import pytest

from ctlib import cluster
from ctlib import experiments as ex
from ctlib.config import get_profile
from ctlib.context import RunContext
from ctlib.train import KILL_HOOK_ENV


# the step functions below travel to the workers by value (tests/ is not on their path)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture
def stores(tmp_path, monkeypatch, data_root):
    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("CTLIB_RUNS", str(tmp_path / "runs"))
    return tmp_path


def two_seeds(p, train, device, context=None):
    """A step function: two smoke CGCNN runs on HOIP (seeds 0 and 1)."""
    ds, split = ex.hoip_data(p)
    return [ex.train_one("cgcnn", ["atomization_energy_per_atom"], ds, split, profile=p, seed=s,
                         experiment="scarce", device=device, train=train, context=context) for s in (0, 1)]


def front_then_back(p, train, device, context=None):
    """A step function whose back end needs its front's table (as Table II's)."""
    front = ex.pretrain_front("cgcnn", "E_f", p, 0, device=device, train=train, context=context)
    emb = ex.embedding_path(front)
    if emb is None:
        return [front, None]
    ds, split = ex.hoip_data(p)
    return [front, ex.train_one("cgcnn", ["atomization_energy_per_atom"], ds, split, profile=p, seed=0,
                                experiment="scarce", embedding=emb, device=device, train=train,
                                context=context)]


def test_plan_mode_names_the_runs_and_trains_nothing(stores):
    p = get_profile("smoke")
    ids = cluster.pending_runs(p, two_seeds)
    assert len(ids) == 2 and all(i.startswith("cgcnn-") and i.endswith(f"-s{s}") for i, s in zip(ids, (0, 1)))
    assert not (stores / "results").exists() and not (stores / "runs").exists()
    # only=: a task trains its own run and looks the other one up
    recs = two_seeds(p, True, "cpu", RunContext(only=frozenset(ids[1:])))
    assert recs[0] is None and recs[1]["run_id"] == ids[1]
    assert cluster.pending_runs(p, two_seeds) == ids[:1]


def test_a_back_end_is_named_only_once_its_front_is_stored(stores):
    p = get_profile("smoke")
    first = cluster.pending_runs(p, front_then_back)
    assert len(first) == 1 and first[0].startswith("cgcnn-formation_energy_per_atom-")   # the front only
    front_then_back(p, True, "cpu", RunContext(only=frozenset(first)))
    second = cluster.pending_runs(p, front_then_back)
    assert len(second) == 1 and second[0] != first[0]                                    # now its back end


@pytest.mark.slow
def test_a_local_cluster_trains_a_step_and_a_killed_worker_loses_no_run(stores):
    """Every worker process kills itself (SIGKILL) right after epoch 1's checkpoint of each
    run; the nanny starts a new worker, the scheduler gives it the task again, and the run
    resumes from epoch 1: both runs are stored, each resumed, none trained twice."""
    p = get_profile("smoke")
    lines = []
    clu, client = cluster.local_cluster(2, env={KILL_HOOK_ENV: "1"})
    try:
        assert cluster.train_step(client, p, two_seeds, device="cpu", pin=True, out=lines.append) == 0
        assert cluster.train_step(client, p, front_then_back, device="cpu", pin=True, out=lines.append) == 0
    finally:
        client.close()
        clu.close()
    recs = [json.loads(f.read_text()) for f in sorted((stores / "results" / "smoke").glob("*/*.json"))]
    assert len(recs) == 4 and len(lines) == 4                       # 2 seeds, then a front and its back end
    assert all(r["resumed_from_epoch"] == 1 and r["epochs_run"] == 2 for r in recs)
    assert cluster.pending_runs(p, two_seeds) == [] and cluster.pending_runs(p, front_then_back) == []


def test_a_queued_task_gets_only_the_budget_left_when_the_step_was_submitted():
    """Each task used to start its own budget when it began, so a step of many queued runs
    never stopped; now every task shares the one deadline the step fixed."""
    import time

    from ctlib.context import TimeBudgetReached

    seen = []
    step = lambda p, train, device, ctx: seen.append((ctx.deadline, ctx.only))  # noqa: E731
    deadline = time.time() + 60
    assert cluster.train_run("cpu", step, "r1", "cpu", deadline) == "r1"
    assert seen == [(deadline, frozenset(["r1"]))]
    assert cluster.train_run("cpu", step, "r2", "cpu", time.time() - 1) is None
    assert len(seen) == 1                                  # a spent budget trains nothing

    def stopped(p, train, device, ctx):
        raise TimeBudgetReached("time budget spent after epoch 1/3")

    # a run stopped at an epoch boundary returns None too: no failed Dask task, no traceback
    assert cluster.train_run("cpu", stopped, "r3", "cpu", time.time() + 60) is None


def stopped_at_the_deadline(folder, p, train, device, context=None):
    """A step function of two runs that both meet the budget's end: "quick" at once, "slow"
    after 3 s of its epoch, whose checkpoint it writes first (a marker file)."""
    import time
    from pathlib import Path

    from ctlib.context import TimeBudgetReached

    if context.collect is not None:                 # plan mode: name both runs
        context.collect += ["quick", "slow"]
        return [None, None]
    (run_id,) = context.only
    if run_id == "slow":
        time.sleep(3)
        (Path(folder) / "slow-checkpoint").write_text("epoch 1")
    raise TimeBudgetReached(f"{run_id}: time budget spent after epoch 1/3")


def runs_in_plan_order(folder, names, p, train, device, context=None):
    """A step function naming ``names``; each task appends its run id to a file."""
    from pathlib import Path

    if context.collect is not None:
        context.collect += names
        return [None] * len(names)
    with open(Path(folder) / "order.txt", "a") as fh:
        fh.write(" ".join(context.only) + "\n")
    return [{"run_id": n} for n in names]


@pytest.mark.parametrize("names", [
    ["front-s0", "front-s1", "back-a", "back-b"],
    # eight runs of one kind, then one of another: Dask queues the first kind on its scheduler
    # (a large task group) but hands the lone run straight to a worker, ahead of them
    [*(f"matbench-{i}" for i in range(8)), "seed-0"]])
def test_one_worker_trains_the_runs_in_the_order_the_plan_names_them(tmp_path, names):
    """Dask starts independent tasks submitted together in an order of its own (last-first,
    or a small group's task ahead of a large group's), so the campaign's chained steps ran
    CT-M's MEGNet runs, then the pretraining seeds, before the Matbench runs queued ahead of
    them. train_step submits no more runs than the cluster has threads, in plan order."""
    import functools

    step = functools.partial(runs_in_plan_order, str(tmp_path), names)
    clu, client = cluster.local_cluster(1)
    try:
        assert cluster.train_step(client, get_profile("smoke"), step, device="cpu") == 0
    finally:
        client.close()
        clu.close()
    assert (tmp_path / "order.txt").read_text().split() == names


def test_a_budget_stop_waits_for_the_runs_in_flight_to_reach_their_checkpoint(tmp_path):
    """The first task that meets the budget's end used to cancel the others, and the caller
    then closed the cluster under a run mid-epoch; now train_step returns only once every task
    in flight has stopped at its epoch boundary."""
    import functools

    step = functools.partial(stopped_at_the_deadline, str(tmp_path))
    clu, client = cluster.local_cluster(2)
    try:
        assert cluster.train_step(client, get_profile("smoke"), step, device="cpu", hours=1.0) == 3
        assert (tmp_path / "slow-checkpoint").exists()        # before the cluster closes
    finally:
        client.close()
        clu.close()


def test_a_local_clusters_workers_run_dasks_housekeeping_rarely_and_keep_malloc_as_it_is():
    """local_cluster's workers inherit QUIET (no profiler, slow monitors) and start without
    Dask's MALLOC_TRIM_THRESHOLD_, both of which cost the training runs CPU time."""
    import os

    import dask

    def worker_settings():
        return {k: dask.config.get(k) for k in cluster.QUIET} | {"trim": os.environ.get("MALLOC_TRIM_THRESHOLD_")}

    clu, client = cluster.local_cluster(1)
    try:
        (seen,) = client.run(worker_settings).values()
    finally:
        client.close()
        clu.close()
    assert seen == {**cluster.QUIET, "trim": None}
    assert dask.config.get("distributed.worker.profile.enabled")      # the caller's config is untouched
