"""Trainer: strict config, masked multi-task loss, checkpoints, exact resume, run()."""
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from ctlib.data.dataset import CrystalDataset
from ctlib.embeddings import ElementEmbedding
from ctlib.models import build_model, tiny_config
from ctlib.results import RECORD_KEYS, ResultStore
from ctlib.runs import run
from ctlib.config import TrainConfig
from ctlib.train import KILL_HOOK_ENV, Trainer, regression_metrics

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def toy_dataset(n=48, seed=0):
    """Small crystals built in code; targets are exact functions of each structure
    (volume per atom, mean Z), the second missing for every third structure."""
    from pymatgen.core import Lattice, Structure

    rng = np.random.default_rng(seed)
    structs, vpa, mean_z = [], [], []
    for i in range(n):
        k = int(rng.integers(1, 4))
        els = [str(e) for e in rng.choice(["Li", "O", "Na", "Cl", "Mg", "Fe", "Si"], size=k)]
        lat = Lattice.orthorhombic(*(3.0 + 2.0 * rng.random(3)))
        s = Structure(lat, els, rng.random((k, 3)))
        structs.append(s)
        vpa.append(s.volume / k)
        mean_z.append(np.mean([site.specie.Z for site in s]) if i % 3 else np.nan)
    return CrystalDataset.from_structures(
        structs, targets={"vpa": vpa, "mean_z": mean_z}, name="toy",
        units={"vpa": "Å^3/atom", "mean_z": ""})


SPLIT = {"train": np.arange(0, 32), "val": np.arange(32, 40), "test": np.arange(40, 48)}


def tiny_ct(n_tasks=1, seed=0, **over):
    torch.manual_seed(seed)
    return build_model("ct", n_tasks, {**tiny_config("ct"), **over})


def cfg(**over):
    base = dict(epochs=3, batch_size=8, lr=2e-3, device="cpu", num_threads=1)
    return TrainConfig(**{**base, **over})


@pytest.fixture(scope="module")
def ds():
    return toy_dataset()


# ------------------------------------------------------------------ config
def test_train_config_is_strict():
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'epoch' \(did you mean 'epochs'\?\)"
                                         r".*Valid keys: optimizer, lr"):
        TrainConfig.from_dict({"epoch": 3})
    for bad, msg in [({"optimizer": "rmsprop"}, "optimizer"), ({"lr": "1e-3"}, "1.0e-3"),
                     ({"lr": 0}, "lr"), ({"patience": 0}, "patience"),
                     ({"task_weights": "foo"}, "task_weights"), ({"epochs": 2.5}, "epochs"),
                     ({"augment": "yes"}, "augment"), ({"device": "tpu"}, "device"),
                     ({"scheduler": "plateau"}, "scheduler"), ({"loss": "huber"}, "loss")]:
        with pytest.raises(ValueError, match=msg):
            TrainConfig.from_dict(bad)
    with pytest.raises(ValueError, match=r"^TrainConfig\.optimizer must be one of \['adamw', 'adam', "
                                         r"'sgd'\], got 'rmsprop'$"):
        TrainConfig.from_dict({"optimizer": "rmsprop"})
    with pytest.raises(ValueError, match=r"^TrainConfig\.epochs must be an int >= 1, got 2\.5$"):
        TrainConfig(epochs=2.5)
    c = TrainConfig.from_dict({"optimizer": "sgd", "task_weights": [1, 2]})
    assert TrainConfig.from_dict(c.to_dict()) == c and c.task_weights == [1.0, 2.0]
    assert "device" not in c.hash_dict() and "lr" in c.hash_dict()
    # every result-changing field is hashed, at its default too
    assert c.hash_dict()["max_tokens"] is None and c.hash_dict()["precision"] == "fp32"
    assert c.replace(max_tokens=512).hash_dict()["max_tokens"] == 512
    with pytest.raises(ValueError, match="max_tokens"):
        c.replace(max_tokens=0)
    with pytest.raises(ValueError, match="unknown"):
        c.replace(lrr=1.0)


def test_regression_metrics_by_hand():
    m = regression_metrics(np.array([1.0, 2.0, 3.0, np.nan]), np.array([1.0, 2.0, 5.0, 9.0]))
    assert m["n"] == 3
    assert m["mae"] == pytest.approx(2 / 3)
    assert m["rmse"] == pytest.approx(math.sqrt(4 / 3))
    assert m["r2"] == pytest.approx(1 - 4 / 2)
    assert regression_metrics(np.array([np.nan]), np.array([1.0]))["mae"] is None
    assert regression_metrics(np.array([2.0]), np.array([1.0]))["r2"] is None


def test_masked_loss_ignores_missing_labels():
    tr = Trainer(tiny_ct(2), cfg(), None)
    tr.mean, tr.std = np.array([1.0, 10.0]), np.array([2.0, 5.0])
    pred = torch.tensor([[0.5, 1.0], [0.0, -1.0]], requires_grad=True)
    y = torch.tensor([[2.0, np.nan], [1.0, 20.0]])
    loss = tr._loss(pred, y, None)
    # task 0: ((0.5-0.5)^2 + (0-0)^2)/2 ; task 1: only row 1: (-1 - 2)^2
    assert loss.item() == pytest.approx(9.0)
    loss.backward()
    assert pred.grad[0, 1] == 0  # no gradient from the missing label
    w = torch.tensor([1.0, 0.5])
    assert tr._loss(pred, y, w).item() == pytest.approx(4.5)


# ------------------------------------------------------------------- fit
def test_fit_ct_multitask_record_checkpoints_predict(ds, tmp_path):
    run_dir = tmp_path / "run"
    tr = Trainer(tiny_ct(2), cfg(epochs=3), run_dir, progress=False)
    rec = tr.fit(ds, SPLIT, ["vpa", "mean_z"])
    assert {p.name for p in run_dir.iterdir()} == {"last.pt", "best.pt", "model", "trainer.json"}
    assert [h["epoch"] for h in rec["history"]] == [1, 2, 3]
    maes = [h["val_mae_mean"] for h in rec["history"]]
    assert rec["best_epoch"] == 1 + int(np.argmin(maes))
    for h in rec["history"]:
        assert set(h) >= {"train_loss", "val_mae", "lr", "structures_per_s"}
        assert set(h["val_mae"]) == {"vpa", "mean_z"}
    labelled = np.isfinite(ds.targets["mean_z"][SPLIT["test"]]).sum()
    assert rec["test"]["vpa"]["n"] == 8 and rec["test"]["mean_z"]["n"] == labelled
    assert rec["dataset"]["split_counts"] == {"train": 32, "val": 8, "test": 8}
    tr_y = ds.targets["vpa"][SPLIT["train"]]
    assert rec["normaliser"]["mean"][0] == pytest.approx(tr_y.mean())
    assert rec["normaliser"]["std"][0] == pytest.approx(tr_y.std())
    # predictions are in original units and match the stored metrics
    p = tr.predict(ds, SPLIT["test"])
    assert p.shape == (8, 2)
    again = tr.evaluate(ds, SPLIT["test"])
    for t in ("vpa", "mean_z"):
        assert again[t]["n"] == rec["test"][t]["n"]
        assert again[t]["mae"] == pytest.approx(rec["test"][t]["mae"], rel=1e-5)
    assert rec["test"]["vpa"]["mae"] == pytest.approx(
        np.abs(p[:, 0] - ds.targets["vpa"][SPLIT["test"]]).mean())
    # a finished run folder reloads for prediction
    tr2 = Trainer.load(run_dir)
    np.testing.assert_allclose(tr2.predict(ds, SPLIT["test"]), p, rtol=1e-6, atol=1e-6)
    # the best weights were restored: val metrics equal the best epoch's history
    best = rec["history"][rec["best_epoch"] - 1]["val_mae"]
    assert rec["val"]["vpa"]["mae"] == pytest.approx(best["vpa"], rel=1e-6)


def test_same_seed_same_result_and_other_seed_differs(ds):
    def once(seed):
        tr = Trainer(tiny_ct(1, seed=seed), cfg(seed=seed, augment=True), None, progress=False)
        return tr.fit(ds, SPLIT, "vpa")

    a, b, c = once(0), once(0), once(1)
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    assert a["test"] == b["test"]
    assert a["test"]["vpa"]["mae"] != c["test"]["vpa"]["mae"]


def test_early_stopping_and_step_schedule(ds):
    # SGD with a vanishing lr cannot change the weights: validation MAE stays flat
    tr = Trainer(tiny_ct(1), cfg(optimizer="sgd", lr=1e-30, epochs=10, patience=2), None,
                 progress=False)
    rec = tr.fit(ds, SPLIT, "vpa")
    assert rec["epochs_run"] == 3 and rec["stopped_early"] and rec["best_epoch"] == 1
    tr = Trainer(tiny_ct(1), cfg(scheduler="step", step_size=2, gamma=0.5, epochs=4), None,
                 progress=False)
    lrs = [h["lr"] for h in tr.fit(ds, SPLIT, "vpa")["history"]]
    assert lrs == pytest.approx([2e-3, 2e-3, 1e-3, 1e-3])
    tr = Trainer(tiny_ct(1), cfg(scheduler="onecycle", epochs=2), None, progress=False)
    lrs = [h["lr"] for h in tr.fit(ds, SPLIT, "vpa")["history"]]
    assert lrs[0] < 2e-3  # onecycle warms up from max_lr / 25


def test_embedding_lr_param_group_and_uncertainty_weights(ds):
    model = tiny_ct(2, embedding_trainable=True, uncertainty_weights=True)
    tr = Trainer(model, cfg(embedding_lr=1e-5, task_weights="uncertainty", epochs=1), None,
                 progress=False)
    groups = tr._param_groups()
    assert sorted(g["lr"] for g in groups) == [1e-5, 2e-3]
    emb_group = next(g for g in groups if g["lr"] == 1e-5)
    assert any(p is model.atom_embedding.table for p in emb_group["params"])
    tr.fit(ds, SPLIT, ["vpa", "mean_z"])
    assert model.log_vars.abs().sum() > 0  # the task log-variances were trained
    with pytest.raises(ValueError, match="3 entries but there are 2 targets"):
        Trainer(tiny_ct(2), cfg(task_weights=[1, 1, 1]), None).fit(ds, SPLIT, ["vpa", "mean_z"])


def test_fit_graph_model_on_used_structures_only(ds, monkeypatch):
    import ctlib.data.graphs as fz

    built, orig = [], fz.build_graphs
    monkeypatch.setattr(fz, "build_graphs", lambda d, *a, **k: built.append(len(d)) or orig(d, *a, **k))
    torch.manual_seed(0)
    model = build_model("cgcnn", 1, tiny_config("cgcnn"))
    small = {"train": np.arange(0, 16), "val": np.arange(32, 36), "test": np.arange(40, 44)}
    tr = Trainer(model, cfg(epochs=2), None, progress=False)
    rec = tr.fit(ds, small, "vpa")
    assert built == [24]  # graphs of the 24 used structures, not of all 48
    assert rec["dataset"]["n"] == len(ds) and rec["test"]["vpa"]["n"] == 4
    assert np.isfinite(rec["test"]["vpa"]["mae"])
    p = tr.predict(ds, small["test"][::-1])  # reuses the graphs built for fit
    assert built == [24] and p.shape == (4, 1)
    again = tr.evaluate(ds, small["test"])["vpa"]  # outside fit: other thread count, same numbers
    assert again["n"] == 4 and again["mae"] == pytest.approx(rec["test"]["vpa"]["mae"], rel=1e-5)
    np.testing.assert_allclose(p[::-1, 0], tr.predict(ds, small["test"])[:, 0], rtol=1e-6)
    tr.predict(ds, [20, 21])  # structures outside the fit: new graphs
    assert built == [24, 2]


def test_fit_input_errors(ds, tmp_path):
    tr = Trainer(tiny_ct(1), cfg(), None)
    with pytest.raises(KeyError, match="no target 'nope'"):
        tr.fit(ds, SPLIT, "nope")
    with pytest.raises(ValueError, match="2 targets"):
        tr.fit(ds, SPLIT, ["vpa", "mean_z"])
    with pytest.raises(ValueError, match="keys 'train'"):
        tr.fit(ds, {"training": SPLIT["train"]}, "vpa")
    with pytest.raises(IndexError):
        tr.fit(ds, {"train": np.array([0, 999])}, "vpa")
    nan_train = {"train": np.array([0, 3, 6]), "val": SPLIT["val"]}  # i % 3 == 0: no mean_z
    with pytest.raises(ValueError, match="no finite label"):
        Trainer(tiny_ct(1), cfg(), None).fit(ds, nan_train, "mean_z")
    with pytest.raises(ValueError, match="augment"):
        Trainer(build_model("cgcnn", 1, tiny_config("cgcnn")), cfg(augment=True), None,
                progress=False).fit(ds, SPLIT, "vpa")
    # a run folder of another configuration is not silently resumed
    Trainer(tiny_ct(1), cfg(epochs=1), tmp_path / "r", progress=False).fit(ds, SPLIT, "vpa")
    with pytest.raises(ValueError, match="different run"):
        Trainer(tiny_ct(1), cfg(epochs=1, lr=1e-2), tmp_path / "r", progress=False).fit(ds, SPLIT, "vpa")
    with pytest.raises(RuntimeError, match="fit"):
        Trainer(tiny_ct(1), cfg(), None).predict(ds)
    with pytest.raises(TypeError, match="Linear is not a ctlib model"):
        Trainer(torch.nn.Linear(2, 1), cfg(), None)


# ---------------------------------------------------------- exact resume
def _resume_case(run_dir):
    """The run of the resume test: CT, two tasks, augmentation, dropout, StepLR."""
    tr = Trainer(tiny_ct(2), cfg(epochs=4, augment=True, scheduler="step", step_size=1,
                                 gamma=0.7), run_dir, progress=False)
    return tr.fit(toy_dataset(), SPLIT, ["vpa", "mean_z"])


_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_train import _resume_case
json.dump(_resume_case(sys.argv[1]), open(sys.argv[2], "w"))
"""


@pytest.mark.slow
def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    script = tmp_path / "train_once.py"
    script.write_text(textwrap.dedent(_SCRIPT.format(tests=str(TESTS))))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(KILL_HOOK_ENV, None)

    def go(run_dir, out, extra_env=None):
        return subprocess.run([sys.executable, str(script), str(run_dir), str(out)],
                              env={**env, **(extra_env or {})}, capture_output=True, text=True,
                              timeout=300)

    a = json.loads(json.dumps(_resume_case(tmp_path / "full")))  # uninterrupted, in-process
    killed = go(tmp_path / "part", tmp_path / "part.json", {KILL_HOOK_ENV: "2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "part.json").exists()
    resumed = go(tmp_path / "part", tmp_path / "part.json")
    assert resumed.returncode == 0, resumed.stderr
    b = json.loads((tmp_path / "part.json").read_text())
    assert b["resumed_from_epoch"] == 2 and a["resumed_from_epoch"] is None
    for t in ("vpa", "mean_z"):
        assert b["test"][t]["mae"] == pytest.approx(a["test"][t]["mae"], abs=1e-6, rel=0)
    assert [h["train_loss"] for h in a["history"]] == pytest.approx(
        [h["train_loss"] for h in b["history"]], abs=1e-9, rel=0)
    assert a["best_epoch"] == b["best_epoch"]


# --------------------------------------------------------------- run()
def test_run_records_provenance_caches_and_exports_embedding(ds, tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "results")
    kw = dict(model_config=tiny_config("ct"), train_config=cfg(epochs=2), store=store,
              experiment="unit", profile="smoke", run_root=tmp_path / "runs",
              extra={"front": "E_a"}, save_predictions=True, progress=False)
    rec = run("ct", "vpa", ds, SPLIT, seed=0, **kw)
    missing = [k for k in RECORD_KEYS if k not in rec]
    assert not missing
    assert rec["dataset"]["name"] == "toy" and rec["dataset"]["split_hash"]
    assert rec["code"].keys() == {"commit", "dirty"} and rec["packages"]["torch"]
    assert rec["device"].startswith("cpu") and rec["wall_s"] > 0
    assert rec["run_id"] == f"ct-vpa-{rec['config_hash'][:8]}-s0"
    path = tmp_path / "results" / "smoke" / "unit" / f"{rec['run_id']}.json"
    assert json.loads(path.read_text())["config_hash"] == rec["config_hash"]
    emb = ElementEmbedding.load(store.resolve(rec["embedding_path"]))
    assert emb.matrix.shape == (89, 16) and emb.provenance["run_id"] == rec["run_id"]
    assert emb.provenance["method"] == "A"
    preds = store.resolve(rec["predictions_path"])
    assert preds.read_text().splitlines()[0] == "id,vpa,vpa_pred"
    assert (tmp_path / "runs" / "smoke" / "unit" / rec["run_id"] / "best.pt").is_file()
    assert not list((tmp_path / "results").rglob("*.pt"))  # checkpoints stay out of results/

    # same config: returned from the store, nothing trains
    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("retrained a stored run"))
    assert run("ct", "vpa", ds, SPLIT, seed=0, **kw) == rec
    assert run("ct", "vpa", ds, SPLIT, seed=0, dry_run=True, **kw) == rec
    assert run("ct", "vpa", ds, SPLIT, seed=5, dry_run=True, **kw) is None
    # the same run asked for by another experiment is copied, not retrained
    other = run("ct", "vpa", ds, SPLIT, seed=0, **{**kw, "experiment": "again"})
    assert other["config_hash"] == rec["config_hash"] and other["copied_from"] == "unit"
    monkeypatch.undo()
    # another seed is another run; force retrains
    rec1 = run("ct", "vpa", ds, SPLIT, seed=1, **kw)
    assert rec1["config_hash"] != rec["config_hash"] and rec1["seed"] == 1
    forced = run("ct", "vpa", ds, SPLIT, seed=0, force=True, **kw)
    assert forced["config_hash"] == rec["config_hash"] and forced["finished"] >= rec["finished"]
    assert forced["test"] == rec["test"]  # same seed: same result
    assert len(store.all("unit", profile="smoke")) == 2


def test_run_with_transferred_embedding(ds, tmp_path):
    store = ResultStore(tmp_path / "results")
    src = ElementEmbedding.cgcnn92()
    f = src.save(tmp_path / "c92.json")
    kw = dict(model_config={**tiny_config("cgcnn"), "embedding_trainable": False},
              train_config=cfg(epochs=1), store=store, profile="smoke", experiment="transfer",
              run_root=tmp_path / "runs", progress=False)
    rec = run("cgcnn", "vpa", ds, SPLIT, embedding=f, **kw)
    assert rec["config"]["embedding_sha256"] and rec["config"]["model_config"]["embedding_init"] == "external"
    plain = run("cgcnn", "vpa", ds, SPLIT, **kw)
    assert plain["config_hash"] != rec["config_hash"]

