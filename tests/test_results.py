"""The results store: hashing, atomic writes, lookup, provenance helpers."""
import json
import os

import numpy as np
import pytest

from ctlib.results import (
    RECORD_KEYS, ResultStore, canonical_json, config_hash, make_run_id, package_versions,
    split_hash,
)
from ctlib.utils import code_version, read_cache_json, to_jsonable, write_json_atomic


def _record(run_id="cgcnn-e_form-abcdef12-s0", h="abcdef123456", profile="smoke",
            experiment="exp", mae=0.1, extra=None):
    rec = {k: None for k in RECORD_KEYS}
    rec.update(schema=1, run_id=run_id, profile=profile, experiment=experiment, model="cgcnn",
               targets=["e_form"], config={"a": 1}, config_hash=h,
               dataset={"name": "toy", "sha256": "x", "split_counts": {"train": 3}},
               seed=0, code={"commit": "c0ffee", "dirty": False}, packages={}, device="cpu",
               started="t0", finished="t1", wall_s=1.0, history=[{"epoch": 1}], best_epoch=1,
               test={"e_form": {"mae": mae, "rmse": 0.2, "r2": 0.5, "n": 10}},
               extra=extra or {})
    return rec


def test_config_hash_ignores_key_order_and_sees_values():
    a = {"model": "ct", "train": {"lr": 1e-3, "epochs": 2}, "targets": ["x"]}
    b = {"targets": ["x"], "train": {"epochs": 2, "lr": 1e-3}, "model": "ct"}
    assert config_hash(a) == config_hash(b)
    assert len(config_hash(a)) == 12 and int(config_hash(a), 16) >= 0
    assert config_hash(a) != config_hash({**a, "targets": ["y"]})
    assert config_hash({"x": (1, 2)}) == config_hash({"x": [1, 2]})
    assert config_hash({"x": np.int64(3)}) == config_hash({"x": 3})


def test_to_jsonable_nan_becomes_null_and_rejects_objects():
    out = to_jsonable({"a": np.float32(np.nan), "b": np.arange(3), "c": {1: 2.5}})
    assert out == {"a": None, "b": [0, 1, 2], "c": {"1": 2.5}}
    json.loads(canonical_json({"a": float("inf")}))  # strict JSON, no Infinity
    with pytest.raises(TypeError, match="object"):
        to_jsonable({"a": object()})


def test_split_hash_depends_on_order_and_content_not_dtype():
    s = {"train": np.array([0, 1, 2]), "val": np.array([3]), "test": np.array([4, 5])}
    assert split_hash(s) == split_hash({k: v.astype(np.int32) for k, v in s.items()})
    assert split_hash(s) != split_hash({**s, "train": np.array([1, 0, 2])})
    assert split_hash(s) != split_hash({**s, "val": np.array([4]), "test": np.array([3, 5])})


def test_run_id_is_readable_and_filesystem_safe():
    rid = make_run_id("cgcnn", ["formation_energy_per_atom"], "0123456789ab", 2)
    assert rid == "cgcnn-formation_energy_per_atom-01234567-s2"
    rid = make_run_id("ct", ["a b/c", "band_gap"], "0123456789ab", 0)
    assert "/" not in rid and " " not in rid and rid.endswith("-01234567-s0")
    many = make_run_id("ct", [f"target_number_{i}" for i in range(10)], "0123456789ab", 0)
    assert "10tasks" in many


def test_code_version_in_repo_and_without_git(tmp_path, monkeypatch):
    v = code_version()
    assert set(v) == {"commit", "dirty"}
    if v["commit"] is not None:  # running inside the git checkout
        assert len(v["commit"]) == 40 and isinstance(v["dirty"], bool)
    # a folder outside any repository: no commit, no crash
    assert code_version(tmp_path) == {"commit": None, "dirty": None}
    monkeypatch.setenv("PATH", str(tmp_path))  # git not found at all
    assert code_version() == {"commit": None, "dirty": None}


def test_package_versions_lists_the_stack():
    v = package_versions()
    assert set(v) == {"torch", "torch_geometric", "pymatgen", "numpy", "ctlib"}
    assert v["numpy"] == np.__version__


def test_atomic_write_leaves_no_temp_files(tmp_path):
    p = write_json_atomic(tmp_path / "a" / "b.json", {"x": [1.5, float("nan")]})
    assert json.loads(p.read_text()) == {"x": [1.5, None]}
    assert os.listdir(p.parent) == ["b.json"]
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "a" / "b.json", {"x": object()})
    assert json.loads(p.read_text()) == {"x": [1.5, None]}  # old content intact
    assert os.listdir(p.parent) == ["b.json"]


def test_cache_file_reads_back_and_a_bad_one_is_named_with_what_to_do(tmp_path):
    path = tmp_path / "c" / "0a1b.json"
    assert read_cache_json(path, lambda d: d["v"], what="toy") is None  # absent: compute it
    write_json_atomic(path, {"v": [1, 2]})
    assert read_cache_json(path, lambda d: d["v"], what="toy") == [1, 2]
    with pytest.raises(ValueError, match=r"toy cache file .*0a1b\.json is unreadable \('w'\); delete it"):
        read_cache_json(path, lambda d: d["w"], what="toy")  # the parser's KeyError, reworded
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"0a1b\.json is unreadable .*delete it"):
        read_cache_json(path, lambda d: d, what="toy")


def test_store_layout_find_all_frame(tmp_path):
    store = ResultStore(tmp_path / "results")
    assert not (tmp_path / "results").exists()
    assert store.find("abcdef123456") is None and store.all() == []
    assert store.to_frame().empty
    assert not (tmp_path / "results").exists()  # reading never creates folders
    p = store.save(_record(extra={"front": "E_a"}))
    assert p == tmp_path / "results" / "smoke" / "exp" / "cgcnn-e_form-abcdef12-s0.json"
    store.save(_record(run_id="cgcnn-e_form-99999999-s1", h="999999999999",
                       experiment="other", mae=0.3))
    assert store.find("abcdef123456")["run_id"] == "cgcnn-e_form-abcdef12-s0"
    assert store.find("abcdef123456", experiment="other") is None
    assert store.find("abcdef12ffff") is None  # same 8-hex prefix, different hash
    assert len(store.all()) == 2 and len(store.all("exp")) == 1
    assert len(store.all(profile="quick")) == 0
    df = store.to_frame()
    assert len(df) == 2 and set(df["task"]) == {"e_form"}
    assert sorted(df["mae"]) == [0.1, 0.3]
    assert df.loc[df["experiment"] == "exp", "extra.front"].item() == "E_a"


def test_store_rejects_incomplete_and_corrupt(tmp_path):
    store = ResultStore(tmp_path)
    rec = _record()
    del rec["seed"]
    with pytest.raises(ValueError, match="seed"):
        store.save(rec)
    bad = tmp_path / "smoke" / "exp" / "x-abcdef12-s0.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        store.find("abcdef123456")


def test_the_store_alone_spells_its_layout(tmp_path):
    """Every path of the store comes from ResultStore; the layout it spells is the one the
    committed results use (a change here would lose every stored run)."""
    s = ResultStore(tmp_path)
    rel = lambda p: p.relative_to(tmp_path).as_posix()  # noqa: E731
    assert rel(s.path_for({"profile": "cpu", "experiment": "table2", "run_id": "r-1"})) == "cpu/table2/r-1.json"
    assert rel(s.analysis_dir("cpu", "zoo_reverse")) == "cpu/analysis/zoo_reverse"
    assert rel(s.snapshot_path("cpu", "fronts", "ct-x", 3)) == "cpu/fronts/embeddings/ct-x/epoch_003.json"
    assert rel(s.progress_path("cpu", "fronts", "ct-x")) == "cpu/fronts/embeddings/ct-x/progress.json"
    assert rel(s.artifact_path("cpu", "fronts", "embeddings", "ct-x", ".json")) == "cpu/fronts/embeddings/ct-x.json"
    for p in (s.path_for({"profile": "cpu", "experiment": "a", "run_id": "r"}), s.snapshot_path("cpu", "a", "r", 0)):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("{}")
    assert [rel(p) for p in s.record_paths("cpu")] == ["cpu/a/r.json"]
    assert [rel(p) for p in s.snapshot_paths("cpu", run_id="r")] == ["cpu/a/embeddings/r/epoch_000.json"]
