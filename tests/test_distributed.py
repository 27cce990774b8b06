"""One run on several processes (torchrun, DDP, gloo on CPU): the per-epoch losses of 2
processes equal one process's with the same global batch, to floating-point rounding, and
a run killed mid-way resumes with another number of processes to the same result."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctlib.train import KILL_HOOK_ENV

TESTS = Path(__file__).resolve().parent
SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_train import SPLIT, tiny_ct, toy_dataset
from ctlib.train import Trainer, distributed
# CT without dropout or augmentation: nothing is drawn per process, so a step on two
# shards equals the step on the whole batch; two targets, one with missing labels
model = tiny_ct(2, dropout=0.0)
cfg = dict(epochs=3, batch_size=8, lr=1e-3, seed=0, augment=False, scheduler="onecycle")
rec = Trainer(model, cfg, sys.argv[2], progress=False).fit(toy_dataset(), SPLIT, ["vpa", "mean_z"])
if distributed.world()[0] == 0:
    json.dump({{"loss": [h["train_loss"] for h in rec["history"]],
               "val": [h["val_mae_mean"] for h in rec["history"]], "test": rec["test"]["vpa"]["mae"],
               "resumed": rec["resumed_from_epoch"], "world": distributed.world()[1]}},
              open(sys.argv[1], "w"))
"""


def _run(tmp_path, name: str, procs: int, run_dir: Path, env=None) -> subprocess.CompletedProcess:
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT.format(tests=str(TESTS)))
    out = tmp_path / f"{name}.json"
    cmd = [sys.executable, str(script), str(out), str(run_dir)]
    if procs > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}",
               str(script), str(out), str(run_dir)]
    full_env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", KILL_HOOK_ENV)}
    return subprocess.run(cmd, env={**full_env, "OMP_NUM_THREADS": "1", **(env or {})},
                          capture_output=True, text=True, timeout=600)


def _result(tmp_path, name):
    return json.loads((tmp_path / f"{name}.json").read_text())


@pytest.mark.slow
def test_two_processes_match_one_and_a_killed_run_resumes_with_another_count(tmp_path):
    one = _run(tmp_path, "one", 1, tmp_path / "run1")
    assert one.returncode == 0, one.stderr[-3000:]
    two = _run(tmp_path, "two", 2, tmp_path / "run2")
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = _result(tmp_path, "one"), _result(tmp_path, "two")
    assert a["world"] == 1 and b["world"] == 2
    assert b["loss"] == pytest.approx(a["loss"], rel=1e-5)
    assert b["val"] == pytest.approx(a["val"], rel=1e-5) and b["test"] == pytest.approx(a["test"], rel=1e-5)
    # two processes, killed right after epoch 2's checkpoint; then resumed by one process
    killed = _run(tmp_path, "killed", 2, tmp_path / "run3", env={KILL_HOOK_ENV: "2"})
    assert killed.returncode != 0 and not (tmp_path / "killed.json").exists()
    resumed = _run(tmp_path, "resumed", 1, tmp_path / "run3")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    c = _result(tmp_path, "resumed")
    assert c["resumed"] == 2 and c["loss"] == pytest.approx(a["loss"], rel=1e-5)
    assert c["test"] == pytest.approx(a["test"], rel=1e-5)


@pytest.mark.slow
def test_the_campaigns_pretraining_runs_under_torchrun(tmp_path, data_root):
    """`torchrun -m ctlib.cli campaign`: both processes walk the plan; each CT pretraining is
    one run on both, stored once by process 0, with the record of a one-process run."""
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", KILL_HOOK_ENV)}
    env.update(CTLIB_RESULTS=str(tmp_path / "results"), CTLIB_RUNS=str(tmp_path / "runs"), OMP_NUM_THREADS="1",
               CTLIB_DATA=str(data_root))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           "-m", "ctlib.cli", "campaign", "--profile", "smoke", "--tier", "1"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    recs = [json.loads(f.read_text()) for f in sorted((tmp_path / "results" / "smoke").glob("*/*.json"))]
    assert len(recs) == 4 and len({r["run_id"] for r in recs}) == 4          # the 4 tier-1 pretrainings
    assert all(r["epochs_run"] == 2 and r["test"] for r in recs)
    assert {k for r in recs for k in r} == {k for k in recs[0]}                # one record layout
