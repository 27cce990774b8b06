"""Defects that changed results (issue 9, part 1), each pinned by a test that
failed on the old code: coordinate scale on export, MEGNet's seeded random
table, OneCycle sizing under max_tokens, behaviour versions in the hash, clean
trees for committed profiles, no machine paths in records, damaged checkpoints,
time budgets and element-table snapshots."""
import json
import warnings

import numpy as np
import pytest
import torch

from ctlib import config, runs
from ctlib import train
from ctlib.embeddings import ElementEmbedding
from ctlib.models import build_model, tiny_config
from ctlib.results import ResultStore

from test_train import SPLIT, cfg, tiny_ct, toy_dataset


@pytest.fixture(scope="module")
def ds():
    return toy_dataset()


# ------------------------------------------------------------ coordinate scale
@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_exported_coordinate_layer_maps_angstrom_positions_as_ct_does(scale):
    model = tiny_ct(coord_scale=scale)
    emb = ElementEmbedding.from_model(model)
    pos = torch.tensor([[0.5, 3.0, 7.5], [12.0, -2.0, 4.0]])
    with torch.no_grad():
        expect = model.coord_embedding(pos * scale).numpy()
    got = pos.numpy() @ emb.coord_weight.T + emb.coord_bias
    np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------ MEGNet random table
def _megnet_table(seed):
    torch.manual_seed(seed)
    m = build_model("megnet", 1, tiny_config("megnet"))
    return next(v for k, v in m.atom_embedding.state_dict().items() if "table" in k).clone()


def test_megnet_random_table_follows_the_training_seed():
    a0, a0b, a1 = _megnet_table(0), _megnet_table(0), _megnet_table(1)
    assert torch.equal(a0, a0b)
    assert not torch.allclose(a0, a1)


# ------------------------------------------------------------ OneCycle sizing
def test_onecycle_is_sized_over_the_batches_of_every_epoch():
    big = toy_dataset(n=240, seed=1)  # several length buckets, so batches differ by epoch
    model = tiny_ct()
    tr = train.Trainer(model, cfg(scheduler="onecycle", epochs=4, max_tokens=5, batch_size=2))
    loader = tr._loader(big, np.arange(200), ["vpa"], shuffle=True, seed=0, graphs=None)
    counts = []
    for e in range(1, 5):
        loader.set_epoch(e)
        counts.append(len(loader))
    assert len(set(counts)) > 1, "the test needs batch counts that differ by epoch"
    sched = tr._scheduler(tr._optimizer(tr._param_groups()), loader)
    assert sched.total_steps == sum(counts)


def test_onecycle_fit_ends_at_the_end_of_its_cycle(ds):
    model = tiny_ct()
    tr = train.Trainer(model, cfg(scheduler="onecycle", epochs=3, max_tokens=12, batch_size=8))
    rec = tr.fit(ds, SPLIT, ["vpa"])  # the old code stepped past total_steps or stopped early, silently
    assert rec["epochs_run"] == 3 and len(rec["history"]) == 3


# ------------------------------------------------------------ behaviour versions
def _run(ds, tmp_path, **kw):
    return runs.run("ct", ["vpa"], ds, SPLIT, model_config=tiny_config("ct"),
                 train_config=cfg(epochs=1).to_dict(), store=ResultStore(tmp_path / "res"),
                 run_root=tmp_path / "runs", progress=False, **kw)


def test_behaviour_version_enters_the_hash(ds, tmp_path, monkeypatch):
    rec = _run(ds, tmp_path)
    assert rec["config"]["behaviour"] == {"trainer": 1, "model": 1, "input": 1}
    assert _run(ds, tmp_path, dry_run=True)["run_id"] == rec["run_id"]
    from ctlib import versions

    monkeypatch.setitem(versions.BEHAVIOUR, "ct", 99)
    assert _run(ds, tmp_path, dry_run=True) is None


def test_records_hold_no_machine_path(ds, tmp_path):
    rec = _run(ds, tmp_path)
    text = json.dumps(rec)
    assert str(tmp_path) not in text
    assert rec["run_dir"] == f"adhoc/adhoc/{rec['run_id']}"


# ------------------------------------------------------------ clean tree
def test_committed_profile_refuses_a_dirty_tree(ds, tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "code_version", lambda *a: {"commit": "abc", "dirty": True})
    monkeypatch.delenv(runs.ALLOW_DIRTY_ENV, raising=False)
    with pytest.raises(RuntimeError, match="uncommitted changes.*CTLIB_ALLOW_DIRTY=1"):
        _run(ds, tmp_path, profile="cpu")
    _run(ds, tmp_path, profile="smoke")  # not a committed profile
    monkeypatch.setenv(runs.ALLOW_DIRTY_ENV, "1")
    assert _run(ds, tmp_path, profile="cpu")["profile"] == "cpu"


# ------------------------------------------------------------ damaged checkpoint
def test_truncated_last_pt_names_the_file_and_force(ds, tmp_path):
    model = tiny_ct()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "last.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match=r"last\.pt cannot be read.*--force"):
        train.Trainer(model, cfg(), run_dir).fit(ds, SPLIT, ["vpa"])


def test_broken_trainer_json_names_the_file(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.json").write_text("{}")
    (tmp_path / "trainer.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"trainer\.json cannot be read.*--force"):
        train.Trainer.load(tmp_path)


# ------------------------------------------------------------ budget and snapshots
def test_time_budget_stops_at_an_epoch_boundary_and_resumes(ds, tmp_path):
    from ctlib.context import RunContext, TimeBudgetReached

    run_dir = tmp_path / "run"
    spent = RunContext.with_budget(0.0)
    assert spent.spent() and spent.hours_left() == 0.0 and RunContext().hours_left() is None
    with pytest.raises(TimeBudgetReached, match="after epoch 1/3"):
        train.Trainer(tiny_ct(), cfg(), run_dir, context=spent).fit(ds, SPLIT, ["vpa"])
    first = torch.load(run_dir / "last.pt", weights_only=True)
    assert first["epoch"] == 1 and first["wall_s"] > 0
    rec = train.Trainer(tiny_ct(), cfg(), run_dir).fit(ds, SPLIT, ["vpa"])
    assert rec["resumed_from_epoch"] == 1 and rec["epochs_run"] == 3
    # the record's wall time counts both processes, so it is at least all epochs' time
    assert rec["wall_s"] > first["wall_s"] and rec["wall_s"] >= rec["train_s"]
    ref = train.Trainer(tiny_ct(), cfg(), None).fit(ds, SPLIT, ["vpa"])
    assert rec["test"]["vpa"]["mae"] == pytest.approx(ref["test"]["vpa"]["mae"], rel=1e-6)


def test_snapshots_keep_the_table_at_chosen_epochs(ds, tmp_path):
    rec = runs.run("ct", ["vpa"], ds, SPLIT, model_config=tiny_config("ct"),
                train_config=cfg(epochs=3).to_dict(), store=ResultStore(tmp_path / "res"),
                run_root=tmp_path / "runs", progress=False, snapshot_epochs=(0, 2, 9))
    assert [p.rsplit("/", 1)[-1] for p in rec["embedding_snapshots"]] == ["epoch_000.json",
                                                                          "epoch_002.json"]
    e0 = ElementEmbedding.load(tmp_path / "res" / rec["embedding_snapshots"][0])
    e2 = ElementEmbedding.load(tmp_path / "res" / rec["embedding_snapshots"][1])
    final = ElementEmbedding.load(tmp_path / "res" / rec["embedding_path"])
    assert e0.provenance["epoch"] == 0 and e2.provenance["epoch"] == 2
    assert not np.allclose(e0.matrix, final.matrix)  # training moved the table


def test_a_run_that_lost_its_checkpoint_restarts_without_the_old_snapshots(ds, tmp_path, capsys):
    store = ResultStore(tmp_path / "res")
    kw = dict(model_config=tiny_config("ct"), train_config=cfg(epochs=2).to_dict(), store=store,
              progress=False, snapshot_epochs=(0, 1, 2))
    first = runs.run("ct", ["vpa"], ds, SPLIT, run_root=tmp_path / "runs", **kw)
    folder = (tmp_path / "res" / first["embedding_snapshots"][0]).parent
    # the run is not stored and its checkpoint is gone; an earlier start left a later epoch
    store.path_for(first).unlink()
    stale = folder / "epoch_009.json"
    stale.write_text("{}")
    capsys.readouterr()
    again = runs.run("ct", ["vpa"], ds, SPLIT, run_root=tmp_path / "lost_cache", **kw)
    assert again["resumed_from_epoch"] is None and not stale.exists()
    assert "starts again at epoch 0 (no checkpoint to resume); the 2 epoch(s) of its earlier start" \
        in capsys.readouterr().err
    assert sorted(p.name for p in folder.glob("epoch_*.json")) == [
        "epoch_000.json", "epoch_001.json", "epoch_002.json"]


# ------------------------------------------------------------ precision
def test_bf16_precision_trains_and_is_hashed(ds, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = train.Trainer(tiny_ct(), cfg(precision="bf16", epochs=1))
    # a CPU without native bf16 is told that fp32 is faster there; one with it is not
    emulated = [w for w in caught if "without native bfloat16" in str(w.message)]
    assert len(emulated) == (0 if train.cpu_has_native_bf16() else 1)
    rec = trainer.fit(ds, SPLIT, ["vpa"])
    assert np.isfinite(rec["test"]["vpa"]["mae"])
    assert config.TrainConfig(precision="bf16").hash_dict() != config.TrainConfig().hash_dict()
    with pytest.raises(ValueError, match="precision"):
        config.TrainConfig(precision="fp16")


# ------------------------------------------------------------ Table V guard
def test_table5_without_its_ct_run_leaves_ct_c_missing(monkeypatch, tmp_path):
    from ctlib import data, experiments as ex

    toy = toy_dataset(n=60, seed=2)
    toy.targets["formation_energy_peratom"] = toy.targets["vpa"]
    toy.targets["optb88vdw_bandgap"] = toy.targets["vpa"]
    calls = []
    from ctlib.experiments import tables

    monkeypatch.setattr(tables, "jarvis_path", lambda: tmp_path / "dft_3d.json")
    monkeypatch.setattr(data, "load_jarvis_dft3d", lambda path: toy)
    monkeypatch.setattr(tables, "pretrain_front", lambda *a, **k: None)
    monkeypatch.setattr(tables, "train_one", lambda *a, **k: calls.append(k) or None)
    df = ex.table5("smoke")
    assert set(df["column"]) == {"CGCNN", "CT-C"}
    assert all("embedding" not in k for k in calls) and len(calls) == 2  # CGCNN on E_f, E_g only
    assert df.loc[df["column"] == "CT-C", "run_id"].isna().all()


# ------------------------------------------------------------ augmentation of E_a+E_c graphs
def test_graph_augmentation_moves_positions_rigidly(ds):
    from ctlib.data.augment import CrystalAugment
    from ctlib.data.graphs import build_graphs
    from ctlib.data.loader import make_loader

    graphs = build_graphs(ds, "crystal_graph", cache=False, progress=False)
    batch = next(iter(make_loader(ds, "crystal_graph", np.arange(8), ["vpa"], 8, shuffle=False,
                                  graphs=graphs)))
    out = CrystalAugment(p=1.0)(batch, torch.Generator().manual_seed(0))
    assert not torch.allclose(out.pos, batch.pos)
    for g in range(batch.num_graphs):
        sel = batch.batch == g
        np.testing.assert_allclose(torch.cdist(out.pos[sel], out.pos[sel]).numpy(),
                                   torch.cdist(batch.pos[sel], batch.pos[sel]).numpy(), atol=1e-4)
    np.testing.assert_allclose(out.edge_vec.norm(dim=1).numpy(), batch.edge_vec.norm(dim=1).numpy(),
                               atol=1e-4)
    assert torch.equal(out.edge_dist, batch.edge_dist)


def test_augment_trains_an_ea_ec_graph_front_and_refuses_a_plain_graph(ds):
    torch.manual_seed(0)
    plain = build_model("cgcnn", 1, tiny_config("cgcnn"))
    with pytest.raises(ValueError, match="E_a\\+E_c"):
        train.Trainer(plain, cfg(augment=True, epochs=1)).fit(ds, SPLIT, ["vpa"])
    ec = build_model("cgcnn", 1, {**tiny_config("cgcnn"), "embedding_with_coordinates": True})
    rec = train.Trainer(ec, cfg(augment=True, epochs=1)).fit(ds, SPLIT, ["vpa"])
    assert np.isfinite(rec["test"]["vpa"]["mae"])


def test_record_lists_the_elements_a_transferred_table_lacked(ds, tmp_path):
    full = ElementEmbedding.from_model(tiny_ct())
    keep = [e for e in full.elements if e not in ("Li", "O")]
    partial = full.reindex(keep)
    with pytest.warns(UserWarning, match="Li, O"):
        rec = runs.run("cgcnn", ["vpa"], ds, SPLIT, model_config=tiny_config("cgcnn"),
                    train_config=cfg(epochs=1).to_dict(), store=ResultStore(tmp_path / "res"),
                    run_root=tmp_path / "runs", progress=False, embedding=partial)
    assert rec["filled_elements"] == ["Li", "O"]


def test_the_same_table_hashes_alike_in_json_and_npz(tmp_path):
    emb = ElementEmbedding.from_model(tiny_ct())
    a, b = emb.save(tmp_path / "t.json"), emb.save(tmp_path / "t.npz")
    assert runs.embedding_fingerprint(ElementEmbedding.load(a)) == runs.embedding_fingerprint(a)
    assert runs.embedding_fingerprint(a) == runs.embedding_fingerprint(b)
