"""The CT pretraining page (notebook 11) and the package ctlib.analysis.pretraining.

Synthetic tables with known answers for the three measures (drift, best silhouette,
reverse-prediction R²), hand-built run records for the tidy frames, a fake store for an
unfinished run, one real smoke pretraining with snapshots whose epoch-0 table must
equal the rebuilt untrained table, synthetic measures with a known plateau for the
page's finding, and the layout of the package (one job per module, imports downwards).
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ctlib.analysis import pretraining  # noqa: E402
from ctlib.elements import ELEMENTS  # noqa: E402
from ctlib.embeddings import ElementEmbedding  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EF, EG = "formation_energy_per_atom", "band_gap"


@pytest.fixture(autouse=True)
def _fresh_memo():
    pretraining.clear_memo()
    yield
    pretraining.clear_memo()


def _table(seed=0, d=8):
    return np.random.default_rng(seed).standard_normal((len(ELEMENTS), d))


def _save(path: Path, matrix) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementEmbedding(list(ELEMENTS), matrix).save(path)
    return path


# ------------------------------------------------------------------ drift
def test_drift_of_an_unchanged_table_is_zero_and_of_a_scaled_table_is_known():
    T0 = _table()
    assert pretraining.relative_drift(T0, T0) == 0.0
    assert pretraining.relative_drift(3.0 * T0, T0) == pytest.approx(2.0)
    assert pretraining.relative_drift(0.5 * T0, T0) == pytest.approx(0.5)
    assert pretraining.relative_drift(-T0, T0) == pytest.approx(2.0)
    shift = np.zeros_like(T0)
    shift[0, 0] = 1.0
    assert pretraining.relative_drift(T0 + shift, T0) == pytest.approx(1.0 / np.linalg.norm(T0))


def test_drift_refuses_bad_shapes_and_a_zero_reference():
    with pytest.raises(ValueError, match="same shape"):
        pretraining.relative_drift(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="all zeros"):
        pretraining.relative_drift(np.ones((3, 2)), np.zeros((3, 2)))


# ------------------------------------------------------------------ silhouette
def test_best_silhouette_finds_planted_clusters_and_not_in_noise():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((3, 6)) * 10
    X = np.concatenate([c + 0.3 * rng.standard_normal((30, 6)) for c in centres])
    k, sil = pretraining.best_silhouette(X)
    assert k == 3 and sil > 0.8
    k_noise, sil_noise = pretraining.best_silhouette(_table(2, 128))
    assert sil_noise < 0.1
    assert 2 <= k_noise <= 8


def test_best_silhouette_with_two_ks_uses_the_same_rule():
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.standard_normal((20, 4)), 20 + rng.standard_normal((20, 4))])
    assert pretraining.best_silhouette(X, ks=(2, 3))[0] == 2


def test_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(pretraining.chemistry, "MEMO_SIZE", 3)   # the memo lives there
    for s in range(6):
        pretraining.best_silhouette(_table(s, 4), ks=(2, 3), n_init=2)
    assert len(pretraining._MEMO) == 3


def test_disk_cache_returns_the_measures_without_refitting_and_names_a_bad_file(tmp_path, monkeypatch):
    T, props = _props()
    tabs = {"informative": (list(ELEMENTS), T)}
    r2 = pretraining.reverse_r2(tabs, props, props=["signal"], repeats=2, cache_dir=tmp_path)
    k = pretraining.best_silhouette(T, ks=(2, 3), n_init=2, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2
    pretraining.clear_memo()

    def no_fit(*a, **k):
        raise AssertionError("refitted although the measure is cached")

    monkeypatch.setattr(pretraining.chemistry, "_forest", no_fit)
    from ctlib.analysis import clustering

    monkeypatch.setattr(clustering, "kmeans_scan", no_fit)
    again = pretraining.reverse_r2(tabs, props, props=["signal"], repeats=2, cache_dir=tmp_path)
    assert again["r2_repeats"].tolist() == r2["r2_repeats"].tolist()
    assert pretraining.best_silhouette(T, ks=(2, 3), n_init=2, cache_dir=tmp_path) == k
    # another table (one value moved) is another entry, never the cached one
    T2 = T.copy()
    T2[0, 0] += 1e-9
    with pytest.raises(AssertionError, match="refitted"):
        pretraining.best_silhouette(T2, ks=(2, 3), n_init=2, cache_dir=tmp_path)
    # a damaged file is named, with what to do
    pretraining.clear_memo()
    for f in tmp_path.glob("*.json"):
        f.write_text("{not json")
    with pytest.raises(ValueError, match=r"cache file .*\.json is unreadable.*delete it"):
        pretraining.best_silhouette(T, ks=(2, 3), n_init=2, cache_dir=tmp_path)


# ------------------------------------------------------------------ reverse prediction
def _props() -> pd.DataFrame:
    """A table whose 6 columns are noisy copies of a hidden z, and a property = 2 z."""
    rng = np.random.default_rng(7)
    z = rng.standard_normal(len(ELEMENTS))
    T = z[:, None] + 0.1 * rng.standard_normal((len(ELEMENTS), 6))
    return T, pd.DataFrame({"signal": 2.0 * z, "other": rng.standard_normal(len(ELEMENTS))},
                           index=list(ELEMENTS))


def test_reverse_r2_high_for_an_informative_table_and_low_for_noise():
    T, props = _props()
    props.loc["He", "signal"] = np.nan          # an element without a value is left out
    tabs = {"informative": (list(ELEMENTS), T), "noise": (list(ELEMENTS), _table(9, 6))}
    r2 = pretraining.reverse_r2(tabs, props, props=["signal"], repeats=2)
    got = r2.set_index("table")
    assert got.at["informative", "r2_mean"] > 0.8
    assert got.at["noise", "r2_mean"] < 0.2
    assert set(got["n_elements"]) == {len(ELEMENTS) - 1}
    assert all(len(v) == 2 for v in got["r2_repeats"])
    again = pretraining.reverse_r2(tabs, props, props=["signal"], repeats=2)        # fixed seeds: same numbers
    assert again["r2_mean"].tolist() == r2["r2_mean"].tolist()


def test_reverse_r2_uses_only_elements_every_table_has():
    T, props = _props()
    small = (list(ELEMENTS[:40]), T[:40])
    r2 = pretraining.reverse_r2({"all": (list(ELEMENTS), T), "small": small}, props, props=["signal"], repeats=1)
    assert set(r2["n_elements"]) == {40}
    with pytest.raises(ValueError, match="5-fold"):
        pretraining.reverse_r2({"tiny": (list(ELEMENTS[:3]), T[:3])}, props, props=["signal"], repeats=1)


# ------------------------------------------------------------------ hand-built runs
def _history(targets, n):
    return [{"epoch": e, "train_loss": 1.0 / e, "lr": 1e-3 / e, "time_s": 2.0,
             "val_mae": {t: 0.5 / e for t in targets}, "val_mae_mean": 0.5 / e} for e in range(1, n + 1)]


def _stored_run(tmp_path, *, snapshots=True):
    """A stored multi-task run of 3 epochs: snapshots at 0 and 2 (= 2 x epoch 0), best epoch 3."""
    T0 = _table(11)
    snaps = {}
    if snapshots:
        snaps = {0: _save(tmp_path / "snap" / "epoch_000.json", T0),
                 2: _save(tmp_path / "snap" / "epoch_002.json", 2.0 * T0)}
    final = _save(tmp_path / "final.json", 3.0 * T0)
    rec = {"run_id": "ct-x-s0", "history": _history([EF, EG], 3), "best_epoch": 3, "wall_s": 7200.0,
           "device": "cpu", "val": {EF: {"mae": 0.17}, EG: {"mae": 0.2}},
           "test": {EF: {"mae": 0.18, "rmse": 0.25, "r2": 0.9, "n": 100},
                    EG: {"mae": 0.21, "rmse": 0.3, "r2": 0.8, "n": 100}},
           "dataset": {"split_counts": {"train": 1234}}}
    run = pretraining.PretrainingRun("mt", pretraining.LABELS["mt"], [EF, EG], 0, pretraining.STORED, run_id="ct-x-s0", record=rec,
                           snapshots=snaps, history=rec["history"], epochs_planned=3, final_table=final,
                           best_epoch=3)
    return run, T0


def test_frames_of_a_stored_a_running_and_a_pending_run(tmp_path):
    stored, _ = _stored_run(tmp_path)
    running = pretraining.PretrainingRun("E_f", pretraining.LABELS["E_f"], [EF], 0, pretraining.IN_PROGRESS, run_id="ct-y-s0",
                               history=_history([EF], 2), epochs_planned=20, best_epoch=2)
    pending = pretraining.PretrainingRun("E_g", pretraining.LABELS["E_g"], [EG], 0, pretraining.PENDING, epochs_planned=20)
    runs = {"mt": stored, "E_f": running, "E_g": pending}

    curves = pretraining.validation_curves(runs)
    assert len(curves) == 3 * 2 + 2            # mt: 3 epochs x 2 tasks; E_f: 2 epochs
    mt_ef = curves[(curves.kind == "mt") & (curves.task == "E_f")]
    assert mt_ef["val_mae"].tolist() == pytest.approx([0.5, 0.25, 0.5 / 3])
    assert set(curves.status) == {pretraining.STORED, pretraining.IN_PROGRESS}

    fm = pretraining.final_metrics(runs).set_index(["kind", "task"])
    assert fm.at[("mt", "E_f"), "val_mae"] == 0.17 and fm.at[("mt", "E_g"), "test_mae"] == 0.21
    assert fm.at[("mt", "E_f"), "unit"] == "eV/atom" and fm.at[("mt", "E_g"), "unit"] == "eV"
    assert fm.at[("E_f", "E_f"), "val_mae"] == pytest.approx(0.25)      # best so far
    assert math.isnan(fm.at[("E_f", "E_f"), "test_mae"])
    assert math.isnan(fm.at[("E_g", "E_g"), "val_mae"]) and fm.at[("E_g", "E_g"), "n_test"] == 0

    rf = pretraining.runs_frame(runs).set_index("kind")
    assert rf.at["mt", "wall_h"] == pytest.approx(2.0) and rf.at["mt", "snapshots"] == "0, 2"
    assert rf.at["E_f", "epochs_done"] == 2 and rf.at["E_g", "status"] == pretraining.PENDING

    assert pretraining.validation_curves({"E_g": pending}).empty


def test_recent_gain_says_whether_the_validation_curve_has_flattened():
    falling = [1.0, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4]
    assert pretraining.recent_gain(falling, window=2) == pytest.approx((0.5 - 0.4) / 0.5)
    assert pretraining.recent_gain([0.5, 0.3, 0.31, 0.35, 0.32], window=3) == 0.0   # nothing better lately
    assert pretraining.recent_gain([0.5, None, 0.4, 0.39], window=2) == pytest.approx(0.22)  # gaps skipped
    assert math.isnan(pretraining.recent_gain([0.5, 0.4], window=2))                 # too short to tell
    assert math.isnan(pretraining.recent_gain([None, None, 0.4], window=1))

    hist = _history([EF], 12)                       # 0.5 / epoch: the last 5 epochs still gain 5/12
    run = pretraining.PretrainingRun("E_f", pretraining.LABELS["E_f"], [EF], 0, pretraining.IN_PROGRESS,
                                     run_id="ct-y-s0", history=hist, epochs_planned=20)
    row = pretraining.final_metrics({"E_f": run}).iloc[0]
    assert row.recent_gain == pytest.approx(5 / 12) and not row.flat
    for h in hist[7:]:
        h["val_mae"] = {EF: 0.5 / 7 * 1.01}          # no better than epoch 7 after it
    row = pretraining.final_metrics({"E_f": run}).iloc[0]
    assert row.recent_gain == 0.0 and row.flat


def test_snapshot_frame_adds_the_final_table_and_rebuilds_epoch_zero(tmp_path):
    stored, _ = _stored_run(tmp_path)
    f = pretraining.snapshot_frame({"mt": stored})
    assert f["epoch"].tolist() == [0, 2, 3]
    assert f["source"].tolist() == ["snapshot", "snapshot", "final (best epoch)"]
    assert f["is_final"].tolist() == [False, False, True]
    bare, _ = _stored_run(tmp_path / "bare", snapshots=False)     # a record without snapshots (smoke)
    f = pretraining.snapshot_frame({"mt": bare})
    assert f["epoch"].tolist() == [0, 3]
    assert f["source"].tolist() == ["rebuilt untrained", "final (best epoch)"] and f["path"].iloc[0] is None
    pending = pretraining.PretrainingRun("E_g", pretraining.LABELS["E_g"], [EG], 0, pretraining.PENDING)
    assert pretraining.snapshot_frame({"E_g": pending}).empty


def test_chemistry_vs_epoch_drift_from_snapshots(tmp_path):
    stored, T0 = _stored_run(tmp_path)
    chem = pretraining.chemistry_vs_epoch({"mt": stored}, "smoke", references=(), repeats=1, ks=(2, 3))
    assert chem["epoch"].tolist() == [0, 2, 3]
    # snapshots are written with 6 significant digits
    assert chem["drift"].tolist() == pytest.approx([0.0, 1.0, 2.0], abs=1e-5)
    assert set(chem["k_best"]) <= {2, 3}
    assert {f"r2_{p}" for p in ("atomic_radius", "melting_point")} <= set(chem.columns)
    assert np.isfinite(chem["r2_mean"]).all()
    # the learned part (snapshot minus epoch 0) from epoch 2 on; nothing at epoch 0
    assert np.isnan(chem["r2_mean_learned"].iloc[0]) and np.isfinite(chem["r2_mean_learned"].iloc[1:]).all()
    empty = pretraining.chemistry_vs_epoch({"mt": pretraining.PretrainingRun("mt", "x", [EF, EG], 0, pretraining.PENDING)}, "smoke",
                                 references=())
    assert empty.empty and "drift" in empty.columns


def test_budget_table_states_the_cpu_differences(tmp_path):
    stored, _ = _stored_run(tmp_path)
    b = pretraining.budget_table("cpu", {"mt": stored}).set_index("setting")
    assert "1,234 cells" in b.at["pretraining data", "cpu"] and "MP*" in b.at["pretraining data", "paper"]
    assert b.at["epochs", "cpu"] == "30 (multi-task) / 20 (single-task)" and b.at["epochs", "paper"] == "500"
    assert b.at["optimizer", "cpu"].startswith("adamw") and b.at["optimizer", "paper"].startswith("sgd")
    assert b.at["schedule", "cpu"] == "cosine decay" and "StepLR" in b.at["schedule", "paper"]
    assert "coord_scale 0.1" in b.at["positions", "cpu"] and b.at["precision", "cpu"] == "bf16"
    assert b.at["other schedule (multi-task, a second run)", "cpu"] == "onecycle to lr 3e-4, 12 epochs"


def test_figures_draw_stored_and_empty_frames(tmp_path):
    stored, _ = _stored_run(tmp_path)
    runs = {"mt": stored}
    fig = pretraining.plot_validation_curves(pretraining.validation_curves(runs))
    assert len(fig.axes) == 3
    fig = pretraining.plot_validation_curves(pretraining.validation_curves({}))
    assert "pending" in " ".join(t.get_text() for t in fig.axes[0].texts)
    chem = pretraining.chemistry_vs_epoch(runs, "smoke", references=(), repeats=1, ks=(2, 3))
    assert len(pretraining.plot_chemistry(chem).axes) == 3
    pretraining.plot_chemistry(chem.iloc[:0])


# ------------------------------------------------------------------ the store
def test_an_unfinished_run_is_found_by_its_snapshots_and_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "res"))
    monkeypatch.setenv("CTLIB_RUNS", str(tmp_path / "runs"))
    runs = pretraining.find_pretraining_runs("smoke")
    assert list(runs) == ["mt", "E_f", "E_g", pretraining.ALT]      # smoke defines a second schedule
    assert [r.status for r in runs.values()] == [pretraining.PENDING] * 4
    assert [r.epochs_planned for r in runs.values()] == [2, 2, 2, 2]
    assert "onecycle to lr 3e-4" in runs[pretraining.ALT].label
    # the same run id under the other schedule's experiment is that run, not the cosine one
    alt_snap = tmp_path / "res" / "smoke" / "fronts_schedule" / "embeddings" / (pretraining.run_prefix("mt") + "4567cdef-s0")
    _save(alt_snap / "epoch_000.json", _table())
    runs = pretraining.find_pretraining_runs("smoke")
    assert runs["mt"].status == pretraining.PENDING and runs[pretraining.ALT].status == pretraining.IN_PROGRESS
    assert list(pretraining.find_pretraining_runs("quick")) == ["mt", "E_f", "E_g"]
    rid = pretraining.run_prefix("mt") + "0123abcd-s0"
    snap = tmp_path / "res" / "smoke" / "fronts" / "embeddings" / rid
    _save(snap / "epoch_000.json", _table())
    _save(snap / "epoch_001.json", _table(1))
    # another seed and another kind must not be picked up
    _save(tmp_path / "res" / "smoke" / "fronts" / "embeddings" / (pretraining.run_prefix("mt") + "0123abcd-s1")
          / "epoch_000.json", _table())
    runs = pretraining.find_pretraining_runs("smoke", kinds=("mt", "E_f"))
    mt = runs["mt"]
    assert mt.status == pretraining.IN_PROGRESS and mt.run_id == rid and list(mt.snapshots) == [0, 1]
    assert mt.history == [] and mt.epochs_done == 1
    assert runs["E_f"].status == pretraining.PENDING
    # the committed progress file gives the validation curve where no checkpoint is at hand
    (snap / "progress.json").write_text(json.dumps(
        {"run_id": rid, "epochs_planned": 2, "history": _history([EF, EG], 2)}))
    mt = pretraining.find_pretraining_runs("smoke", kinds=("mt",))["mt"]
    assert len(mt.history) == 2 and mt.best_epoch == 2 and mt.epochs_done == 2
    ck = tmp_path / "runs" / "smoke" / "fronts" / rid / "last.pt"
    ck.parent.mkdir(parents=True)
    torch.save({"identity": {}, "epoch": 1, "history": _history([EF, EG], 1), "best_epoch": 1,
                "done": False}, ck)
    mt = pretraining.find_pretraining_runs("smoke", kinds=("mt",))["mt"]
    assert len(mt.history) == 1 and mt.best_epoch == 1
    assert len(pretraining.validation_curves({"mt": mt})) == 2


def test_real_smoke_pretraining_with_snapshots(tmp_path, monkeypatch, data_root):
    """A tiny CT multi-task pretraining with snapshots at 0, 1, 2: found as stored, its
    epoch-0 snapshot equals the rebuilt untrained table, and its drift starts at 0."""
    from ctlib import experiments as ex
    from ctlib.config import get_profile

    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "res"))
    monkeypatch.setenv("CTLIB_RUNS", str(tmp_path / "runs"))
    base = get_profile("smoke")
    p = base.replace(recipe=dataclasses.replace(base.recipe, snapshot_epochs=(0, 1, 2)))
    rec = ex.pretrain_ct_multitask(p, 0, train=True)
    assert len(rec["embedding_snapshots"]) == 3
    runs = pretraining.find_pretraining_runs(p, kinds=("mt",))
    mt = runs["mt"]
    assert mt.status == pretraining.STORED and mt.run_id == rec["run_id"] and list(mt.snapshots) == [0, 1, 2]
    progress = json.loads((tmp_path / "res" / "smoke" / "fronts" / "embeddings" / rec["run_id"]
                           / "progress.json").read_text())
    assert progress["epochs_planned"] == 2 and progress["history"] == rec["history"]
    rebuilt = pretraining.load_table(None, profile=p, seed=0, n_tasks=2)[1]
    stored0 = pretraining.load_table(mt.snapshots[0])[1]
    np.testing.assert_allclose(stored0, rebuilt, rtol=1e-5, atol=1e-6)
    chem = pretraining.chemistry_vs_epoch(runs, p, references=("random128",), repeats=1, ks=(2, 3))
    runs_rows = chem[chem.kind == "mt"]
    assert runs_rows["epoch"].tolist() == [0, 1, 2]
    assert runs_rows["drift"].iloc[0] == 0.0 and (runs_rows["drift"].iloc[1:] > 0).all()
    assert runs_rows["is_final"].sum() == 1
    assert chem[chem.kind == "reference"]["label"].tolist() == ["random128"]
    fm = pretraining.final_metrics(runs)
    assert (fm["n_test"] > 0).all() and np.isfinite(fm["test_mae"]).all()
    assert pretraining.stored_seeds(p) == [0] and pretraining.stored_seeds(p, pretraining.ALT) == []

    # the same pretraining under the other schedule: same start, its own store, both compared
    alt = ex.pretrain_ct_alt_schedule(p, 0, train=True)
    assert alt["experiment"] == "fronts_schedule" and alt["run_id"] != rec["run_id"]
    assert alt["config"]["train"]["scheduler"] == "onecycle" and alt["config"]["train"]["lr"] == 3e-4
    both = pretraining.find_pretraining_runs(p)
    assert pretraining.stored_seeds(p, pretraining.ALT) == [0]
    assert both[pretraining.ALT].status == pretraining.STORED and list(both[pretraining.ALT].snapshots) == [0, 1, 2]
    chem2 = pretraining.chemistry_vs_epoch({k: both[k] for k in ("mt", pretraining.ALT)}, p, references=(),
                                           repeats=1, ks=(2, 3))
    alt0 = chem2[(chem2.kind == pretraining.ALT) & (chem2.epoch == 0)]
    assert alt0["drift"].iloc[0] == 0.0
    np.testing.assert_allclose(pretraining.load_table(both[pretraining.ALT].snapshots[0])[1], rebuilt,
                               rtol=1e-5, atol=1e-6)                # the same untrained start
    cmp = pretraining.schedule_comparison(both, chem2).set_index("kind")
    assert list(cmp.index) == ["mt", pretraining.ALT] and cmp["epochs"].tolist() == ["2/2", "2/2"]
    assert np.isfinite(cmp["r2_last"]).all() and (cmp["epoch_last"] == 2).all()
    # the final table of every stored pretraining, by label: what pages 07 and 08 judge over
    tables = pretraining.final_tables(p)
    assert list(tables) == [both["mt"].label, both[pretraining.ALT].label]
    np.testing.assert_array_equal(tables[both["mt"].label][1], pretraining.load_table(both["mt"].final_table)[1])
    assert tables[both["mt"].label][1].shape == (len(ELEMENTS), rebuilt.shape[1])
    with pytest.raises(ValueError, match="ct_alt_schedule"):
        ex.pretrain_ct_alt_schedule("quick", 0, train=False)

    # the learned part: the stored table minus its rebuilt start, measured beside the table
    final = pretraining.load_table(both["mt"].final_table)[1]
    learned = ex.learned_part(both["mt"].final_table, p, 0).reindex(list(ELEMENTS))
    np.testing.assert_allclose(learned.matrix, final - rebuilt, rtol=1e-4, atol=1e-5)
    assert learned.provenance["run_id"] == rec["run_id"] and "learned part" in repr(learned)
    lp = pretraining.learned_part_chemistry(both, p, references=("random128",), repeats=1, ks=(2, 3))
    assert lp["table"].tolist() == ["as stored", "learned part"] * 2 + ["random128"]
    assert lp["kind"].tolist()[:4] == ["mt", "mt", pretraining.ALT, pretraining.ALT]
    stored_row = lp.iloc[0]
    chem_final = chem[(chem.kind == "mt") & chem.is_final].iloc[0]
    assert stored_row["drift"] == pytest.approx(chem_final["drift"])
    assert stored_row["silhouette"] == pytest.approx(chem_final["silhouette"])   # the same measures
    assert np.isfinite(lp["r2_mean"]).all()
    assert len(pretraining.plot_learned_part(lp).axes) == 1
    assert pretraining.learned_part_chemistry({}, p).empty
    with pytest.raises(ValueError, match="dimensions"):
        ex.learned_part(ElementEmbedding(list(ELEMENTS), np.zeros((len(ELEMENTS), 3))), p, 0)


# ------------------------------------------------------------------ the package
def test_the_package_keeps_the_old_names_and_imports_downwards():
    import ast

    from ctlib.analysis.pretraining import _stored_and_learned, unfinished_run  # noqa: F401  (fronts.py)

    old_all = ["KINDS", "ALT", "LABELS", "SHORT", "REFERENCES", "KS", "STORED", "IN_PROGRESS", "PENDING",
               "PretrainingRun", "kind_targets", "run_prefix", "find_pretraining_runs", "final_tables",
               "runs_frame", "validation_curves", "final_metrics", "snapshot_frame", "load_table",
               "relative_drift", "best_silhouette", "reverse_r2", "chemistry_vs_epoch", "schedule_comparison",
               "learned_part_chemistry", "plot_learned_part", "budget_table", "plot_validation_curves",
               "plot_chemistry", "clear_memo"]
    assert set(old_all) <= set(pretraining.__all__) and all(hasattr(pretraining, n) for n in pretraining.__all__)
    assert pretraining._MEMO is pretraining.chemistry._MEMO
    order = ["runs", "snapshots", "chemistry", "curves", "seeds", "finding", "page"]
    folder = Path(pretraining.__file__).parent
    assert sorted(p.stem for p in folder.glob("*.py")) == sorted(["__init__", *order])
    for i, name in enumerate(order):
        text = (folder / f"{name}.py").read_text()
        assert len(text.splitlines()) <= 600, name
        tree = ast.parse(text)
        assert ast.get_docstring(tree) and "Imports:" in ast.get_docstring(tree), name
        mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        own = {m.rsplit(".", 1)[1] for m in mods if m.startswith("ctlib.analysis.pretraining.")}
        assert own <= set(order[:i]), f"{name} imports {own - set(order[:i])}, not below it"
        assert not {m for m in mods if m.startswith(("ctlib.pages", "ctlib.book", "ctlib.claims", "ctlib.cli"))}
        assert "ctlib.analysis.pretraining" not in mods, name        # never the package itself (a cycle)


# ------------------------------------------------------------------ the finding
def test_plateau_epoch_is_the_first_value_within_five_percent_of_the_highest():
    assert pretraining.plateau_epoch([1, 2, 3, 4, 5, 6], [0.1, 0.5, 0.9, 0.96, 1.0, 0.97]) == 4
    assert pretraining.plateau_epoch([1, 2, 3], [-0.5, -0.2, -0.21]) == 2          # a negative best: -0.21
    assert pretraining.plateau_epoch([2, 4], [0.3, float("nan")]) == 2
    assert pretraining.plateau_epoch([1, 2], [float("nan")] * 2) is None
    assert pretraining.plateau_epoch([1, 2, 3], [0.1, 0.5, 0.9], frac=0.5) == 2


def _chem_rows(kind, label, r2, final_epoch=None, start=-0.1):
    """Measures of one run: epoch 0 at ``start``, then ``r2`` at epochs 1, 2, ..."""
    rows = [{"kind": kind, "label": label, "epoch": 0.0, "is_final": False, "r2_mean": start,
             "r2_mean_learned": math.nan}]
    rows += [{"kind": kind, "label": label, "epoch": float(e), "is_final": e == final_epoch, "r2_mean": v,
              "r2_mean_learned": v + 0.1} for e, v in enumerate(r2, start=1)]
    return rows


REFS = [{"kind": "reference", "label": n, "epoch": math.nan, "is_final": False, "r2_mean": v,
         "r2_mean_learned": math.nan} for n, v in (("cgcnn92", 0.55), ("megnet16", 0.45), ("random128", -0.05))]


def _finding_case():
    """A stored multi-task run that levels off at epoch 4 of 10 (R² 0.39, highest 0.4) while its
    validation MAE (0.5 / epoch) keeps falling; the other schedule levels off at epoch 3 of 6
    at 0.5 with a higher MAE (0.6 / epoch); three reference tables."""
    mt = pretraining.PretrainingRun("mt", pretraining.LABELS["mt"], [EF, EG], 0, pretraining.STORED, run_id="ct-a-s0",
                                    history=_history([EF, EG], 10), epochs_planned=10, best_epoch=10)
    alt_hist = [{**h, "val_mae": {t: 0.6 / h["epoch"] for t in (EF, EG)}} for h in _history([EF, EG], 6)]
    alt = pretraining.PretrainingRun(pretraining.ALT, "CT multi-task, onecycle to lr 3e-4, 12 epochs", [EF, EG], 0,
                                     pretraining.STORED, run_id="ct-b-s0", history=alt_hist, epochs_planned=6,
                                     best_epoch=6)
    runs = {"mt": mt, pretraining.ALT: alt}
    chem = pd.DataFrame(_chem_rows("mt", mt.label, [0.1, 0.2, 0.3, 0.39, 0.4, 0.39, 0.4, 0.395, 0.4, 0.4], 10)
                        + _chem_rows(pretraining.ALT, alt.label, [0.2, 0.45, 0.5, 0.49, 0.5, 0.5], 6) + REFS)
    learned = pd.DataFrame([{"kind": "mt", "label": mt.label, "table": "learned part", "r2_mean": 0.5}])
    return runs, chem, pretraining.validation_curves(runs), learned


def test_plateau_epochs_per_run_and_none_where_the_curve_leaves_the_margin():
    _, chem, _, _ = _finding_case()
    assert pretraining.plateau_epochs(chem) == {"mt": 4, pretraining.ALT: 3}
    dips = pd.DataFrame(_chem_rows("E_g", "CT E_g", [0.1, 0.4, 0.2, 0.39]) + _chem_rows("E_f", "CT E_f", [0.3])
                        + REFS)
    assert pretraining.plateau_epochs(dips) == {"E_g": None, "E_f": None}   # left the margin; one table
    assert pretraining.plateau_epochs(chem.iloc[:0]) == {}


def test_finding_says_where_the_table_levelled_off_from_the_numbers():
    from ctlib import report
    from ctlib.analysis import reverse

    runs, chem, curves, learned = _finding_case()
    text = pretraining.finding_text(runs, chem, curves, learned=learned, seeds_stored=[0, 1])
    t6 = report.paper_tables()["table6_reverse_prediction_r2"]
    paper = np.mean([t6["values"][t6["columns"].index(v)] for v in reverse.PROPERTIES.values()])
    for part in ("**Finding.**", "rose from -0.100 at its random start (epoch 0) to 0.400 at its best epoch 10",
                 "levelled off at epoch 4 of 10", "its highest value, 0.400",
                 # lowest MAE up to epoch 4: 0.5 / 4; at the best epoch 10: 0.05
                 "was still falling", "from 0.125 to 0.050 eV/atom for E_f (-60 %)", "from 0.125 to 0.050 eV for E_g",
                 "mean R² moved by +0.010",
                 "other schedule (onecycle to lr 3e-4, 12 epochs) levelled off at epoch 3 of 6 and ended at 0.500, "
                 "+0.100", "higher validation MAE (E_f 0.100 against 0.050 eV/atom",
                 "below cgcnn92 (0.550) and megnet16 (0.450), and above random128 (-0.050)",
                 f"the paper reports {paper:.3f}", "learned part) it reaches 0.500, below cgcnn92 (0.550) only",
                 "store: 2 (seeds 0, 1). This page shows seed 0; `-p seeds 1` shows another."):
        assert part in text, part
    assert text.count("\n\n") == 1                                  # the finding, then the seeds line
    # a flat validation curve after the plateau is said so
    runs["mt"].history = [{**h, "val_mae": {EF: 0.1, EG: 0.2}} for h in runs["mt"].history]
    flat = pretraining.finding_text(runs, chem, pretraining.validation_curves(runs))
    assert "had levelled off too" in flat and "Pretraining seeds" not in flat


def test_finding_without_snapshots_in_progress_and_pending():
    runs, chem, curves, _ = _finding_case()
    two = chem[chem.epoch.isin([0, 10]) & (chem.kind == "mt")]          # smoke: start and final only
    text = pretraining.finding_text({"mt": runs["mt"]}, pd.concat([two, chem[chem.kind == "reference"]]), curves)
    assert "no table in between was measured" in text and "levelled off at" not in text
    rising = chem[(chem.kind != "mt") | (chem.epoch <= 3)].copy()       # in progress, still rising at epoch 3
    mt = runs["mt"]
    mt.status, mt.best_epoch = pretraining.IN_PROGRESS, 3
    text = pretraining.finding_text({"mt": mt}, rising, curves)
    assert "provisional: the run is in progress" in text and "still moving at its last snapshot (epoch 3" in text
    text = pretraining.finding_text({"mt": mt}, rising[rising.epoch.fillna(0) == 0], curves)
    assert text.startswith("**Finding pending.**") and "only its random start" in text
    mt.status = pretraining.PENDING
    text = pretraining.finding_text({"mt": mt}, chem.iloc[:0], curves.iloc[:0], seeds_stored=[])
    assert text.startswith("**Finding pending.**") and "in the store: 0." in text


def test_stored_seeds_counts_only_the_pages_own_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "res"))
    assert pretraining.stored_seeds("smoke") == []
    rec = tmp_path / "res" / "smoke" / "fronts" / (pretraining.run_prefix("mt") + "deadbeef-s1.json")
    rec.parent.mkdir(parents=True)
    rec.write_text(json.dumps({"config_hash": "deadbeef", "seed": 1, "run_id": rec.stem}))
    assert pretraining.stored_seeds("smoke") == []            # another configuration under the same prefix


# ------------------------------------------------------------------ the page's tables
def test_page_settings_tables_and_summary(tmp_path):
    with pytest.raises(ValueError, match="one pretraining seed"):
        pretraining.page_settings("smoke", [0, 1])
    page = pretraining.page_settings("smoke", None, k_max=4, rp_repeats=None)
    assert (page.seed, page.ks, page.trees, page.repeats) == (0, (2, 3, 4), 10, 1)
    assert pretraining.page_settings("cpu", [2]).seed == 2 and pretraining.page_settings("cpu").trees == 30
    assert page.probe["n_estimators"] == 10 and page.probe["cache_dir"].parts[-2:] == ("analysis", "chemistry")

    stored, _ = _stored_run(tmp_path)
    pending = pretraining.PretrainingRun("E_g", pretraining.LABELS["E_g"], [EG], 0, pretraining.PENDING,
                                         epochs_planned=20)
    runs = {"mt": stored, "E_g": pending}
    status = pretraining.status_markdown(runs, "smoke")
    assert status.startswith("Pretraining seed 0.") and "`ct-x-s0`), 3 of 3 epochs" in status
    assert "*pending*" in status
    fm = pretraining.final_metrics(runs)
    mae = pretraining.headline_mae(fm).set_index(["pretraining", "task"])
    assert mae.at[(stored.label, "E_f (eV/atom)"), "validation MAE"] == "0.170"
    assert mae.at[(pending.label, "E_g (eV)"), "test MAE"] == "pending"
    chem = pretraining.chemistry_vs_epoch(runs, "smoke", references=(), repeats=1, ks=(2, 3))
    headline, note = pretraining.headline_r2(chem, runs)
    assert note == "final table (best epoch 3)" and headline["table"].iloc[-1].startswith("paper:")
    assert headline["mean"].iloc[0] == pytest.approx(chem[chem.is_final]["r2_mean"].iloc[0])
    assert "from epoch 0 to 3 the table moved by 2.00 of its norm" in pretraining.run_summary(runs, chem)
    assert "- CT E_g: pending." in pretraining.run_summary(runs, chem)
    assert pretraining.schedule_reading(None, "quick") == "The `quick` profile defines no second schedule."
    assert pretraining.learned_reading(chem.iloc[:0], chem).startswith("**Pending:**")
    assert pretraining.learned_groups(runs | {"mt": pending}, "smoke") == ""
    pretraining.chemistry_styler(chem).to_html()
    summary = pretraining.page_summary(page, runs_table=pretraining.runs_frame(runs), metrics=fm,
                                       curves=pretraining.validation_curves(runs), chem=chem, schedules=None,
                                       learned=chem.iloc[:0], headline=headline, mt_note=note, budget=pd.DataFrame(),
                                       finding="**Finding.**", seeds_stored=[0])
    assert list(summary)[:13] == ["profile", "seed", "settings", "runs", "final_metrics", "validation_curves",
                                  "chemistry", "schedule_comparison", "learned_part", "headline_r2", "mt_table",
                                  "budget", "finding"]
    # the tables at epochs 2 and 3 are 2 and 3 times the start: the same forest R², so level from epoch 2
    assert summary["plateau_epochs"] == {"mt": 2} and summary["mt_seeds_stored"] == [0] and summary["seconds"] >= 0
    assert summary["pretraining_seeds"] is None and summary["one_draw"] is None    # no fp32 seeds on smoke
    assert summary["settings"]["probe"] == "RandomForestRegressor(10 trees, max_features=0.3)"


# ------------------------------------------------------------------ the notebook
def test_notebook_11_follows_the_page_conventions():
    nb = nbformat.read(REPO / "notebooks" / "11_pretraining.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert set(code[0].metadata["tags"]) == {"parameters", "remove-cell"}
    assert all(c.metadata.get("tags") == ["hide-input"] for c in code[1:-1])
    assert code[-1].metadata.get("tags") == ["remove-cell"] and "write_summary(out, NB" in code[-1].source
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    src = "\n".join(c.source for c in code)
    assert "start_page(\"11_pretraining\"" in code[1].source
    assert 'NB = "11_pretraining"' in src or 'NB, out = "11_pretraining"' in src
    assert "savefig(" in src
    for line in code[0].source.splitlines():          # every parameter is commented
        assert "#" in line, line
    # thin: short cells, no loops, no functions, no pivots or fits (they live in the package)
    import ast

    loops = (ast.For, ast.While, ast.FunctionDef, ast.Lambda, ast.ListComp, ast.DictComp, ast.SetComp,
             ast.GeneratorExp)
    for c in code:
        assert len(c.source.splitlines()) <= 15, c.source[:60]
        tree = ast.parse(c.source)
        assert not [n for n in ast.walk(tree) if isinstance(n, loops)], c.source[:60]
        calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert not calls & {"pivot", "pivot_table", "groupby", "fit", "kmeans_labels", "pca_reduce"}, c.source[:60]
    # the finding opens the page: right after the parameters and set-up, before any heading and figure
    ids = [c.get("id") for c in nb.cells]
    first_md_after = next(i for i, c in enumerate(nb.cells) if i > 0 and c.cell_type == "markdown")
    finding = ids.index("11-finding")
    assert finding < first_md_after and "finding_text(" in nb.cells[finding].source
    assert "plot_chemistry(" in nb.cells[finding + 1].source             # then the key figure
    details = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Details"))
    assert ids.index("92d39cb4") > details and "status_markdown(" in nb.cells[ids.index("92d39cb4")].source
    assert "run_id" not in "\n".join(c.source for c in nb.cells[:details])


def test_the_claims_are_judged_over_the_pretraining_seeds_once_three_are_stored(monkeypatch):
    """pages 07 and 08: the fp32 pretraining seeds replace the mixed pretrainings at three."""
    from ctlib.analysis.pretraining import snapshots

    stored = {pretraining.FP32: [0, 1]}
    monkeypatch.setattr(snapshots, "stored_seeds", lambda p, kind: stored.get(kind, []))
    monkeypatch.setattr(snapshots, "final_tables", lambda p, seed=None: {"CT E_f": ("els", seed)})

    class Run:
        def __init__(self, s):
            self.final_table = f"fp32-s{s}.json"

    monkeypatch.setattr(snapshots, "find_pretraining_runs", lambda p, s, kinds, unfinished: {kinds[0]: Run(s)})
    monkeypatch.setattr(snapshots, "load_table", lambda path: ("els", path))
    assert pretraining.judged_over("cpu") == "pretrainings"
    assert pretraining.judged_tables("cpu", 0) == {"CT E_f": ("els", 0)}
    stored[pretraining.FP32] = [0, 1, 2]
    assert pretraining.judged_over("cpu") == "seeds"
    assert pretraining.judged_tables("cpu", 0) == {f"CT mt fp32, seed {s}": ("els", f"fp32-s{s}.json")
                                                   for s in (0, 1, 2)}
    assert pretraining.kind_targets(pretraining.FP32) == pretraining.kind_targets("mt")


def test_the_seed_table_sets_the_fp32_seeds_beside_the_book_table(monkeypatch):
    """Chapter 11: each pretraining seed's own errors and its table's chemistry, and the spread."""
    from ctlib.analysis.pretraining import seeds as sd

    def run(kind, seed, stored, mae):
        r = pretraining.PretrainingRun(kind, "x", pretraining.kind_targets("mt"), seed,
                                       pretraining.STORED if stored else pretraining.PENDING, epochs_planned=30)
        if stored:
            r.record = {"test": {t: {"mae": mae * (1 + i), "n": 10} for i, t in enumerate(r.targets)},
                        "val": {t: {"mae": mae} for t in r.targets}}
            r.history, r.final_table = [{"epoch": e} for e in range(1, 31)], f"{kind}-{seed}"
        return r

    found = {("mt", 0): run("mt", 0, True, 0.11), (pretraining.FP32, 0): run(pretraining.FP32, 0, True, 0.10),
             (pretraining.FP32, 1): run(pretraining.FP32, 1, True, 0.12), (pretraining.FP32, 2): run(pretraining.FP32, 2, False, 0)}
    monkeypatch.setattr(sd, "find_pretraining_runs", lambda p, s, kinds: {kinds[0]: found[kinds[0], s]})
    rng = np.random.default_rng(0)
    monkeypatch.setattr(sd, "load_table", lambda path: (list(ELEMENTS), rng.normal(size=(len(ELEMENTS), 8))))
    monkeypatch.setattr(sd, "reverse_r2", lambda tables, **kw: pd.DataFrame(
        [{"table": t, "property": p, "r2_mean": r} for t, r in zip(tables, (0.3, 0.2, 0.4)) for p in "ab"]))
    monkeypatch.setattr(sd, "best_silhouette", lambda X, ks, **kw: (3, 0.5))
    runs = pretraining.seed_runs("cpu")
    assert list(runs) == [sd.BOOK_TABLE, "fp32, seed 0", "fp32, seed 1", "fp32, seed 2"]
    # a profile that pretrains its book's table in fp32 says so (rehearsal: smoke's recipe)
    assert list(pretraining.seed_runs("rehearsal"))[0] == "fp32, seed 0 (the book's table)"
    settings = SimpleNamespace(repeats=1, trees=10, cache_dir=None, ks=(2, 3, 4), cluster_seed=0)
    t = pretraining.seed_table(runs, settings)
    assert t["test_E_f"].tolist()[:3] == pytest.approx([0.11, 0.10, 0.12]) and np.isnan(t["test_E_f"].iloc[3])
    assert t["r2_mean"].tolist()[:3] == [0.3, 0.2, 0.4] and t["epochs"].tolist()[0] == "30/30"
    text = pretraining.seed_reading(t)
    assert text.startswith("Over 2 fp32 pretraining seeds: test MAE on E_f 0.110 ± 0.014 eV/atom "
                           "(bf16 seed 0: 0.110, +0.0 std from the seeds' mean)")
    assert "probe R² 0.300 ± 0.141 (bf16 seed 0: 0.300" in text and "Best k of each seed's table: 3, 3." in text
    assert "Pending" in pretraining.seed_reading(t.iloc[[0, 1, 3]])
    # the opening finding: the seeds' reading, then where their R² range lies among the references
    refs = [("cgcnn92", 0.55), ("random128", -0.07), ("mat2vec", 0.25)]
    draw = pretraining.seed_finding(t, refs)
    assert draw.startswith("**One draw or many.** Over 2 fp32 pretraining seeds")
    assert draw.endswith("The seeds' tables span probe R² 0.200 to 0.400, all below cgcnn92 (0.550) and "
                         "above random128 (-0.070); mat2vec (0.250) falls within that range.")
    assert pretraining.seed_finding(t, [("mat2vec", 0.25)]).endswith(
        "span probe R² 0.200 to 0.400; mat2vec (0.250) falls within that range.")
    assert pretraining.seed_finding(t.iloc[[0, 1, 3]], refs) == (
        "**One draw or many:** pending; 1 of the 2 pretraining seeds of the multi-task table (fp32, "
        "the campaign's tier 8) stored so far.")
    assert pretraining.seed_finding(None, refs) == ""
    # the summary's copy for the intro (objection 2) is the same paragraph without its bold lead
    assert pretraining.seed_finding(t, refs, label=False) == draw.removeprefix("**One draw or many.** ")
    assert pretraining.seed_finding(t.iloc[[0, 1, 3]], refs, label=False).startswith("pending; 1 of the 2")
    chem = pd.DataFrame({"kind": ["reference", "reference", "run"], "label": ["cgcnn92", "mat2vec", "CT"],
                         "r2_mean": [0.55, 0.25, 0.3]})
    assert pretraining.one_draw(chem, t) == pretraining.seed_finding(t, refs[::2], label=False)
    assert pretraining.one_draw(chem, None) is None
    going = t.iloc[[0, 1, 3]].assign(status=[pretraining.STORED, pretraining.STORED, pretraining.IN_PROGRESS],
                                     epochs=["30/30", "30/30", "3/30"])
    assert pretraining.seed_finding(going, refs).endswith("stored so far (in progress: seed 2 at epoch 3/30).")


def test_a_difference_between_two_one_seed_tables_is_judged_against_the_seeds_spread():
    """Two tables of one seed each (the two schedules) differ by d in probe R². Two seeds of one
    recipe differ with std sqrt(2) s (s: the fp32 seeds' std); |d| under 2 sqrt(2) s is within
    what a new seed alone does."""
    def table(r2s):
        rows = [{"table": pretraining.BOOK_TABLE, "status": pretraining.STORED, "r2_mean": 0.9}]
        return pd.DataFrame(rows + [{"table": f"fp32, seed {i}", "status": pretraining.STORED, "r2_mean": r}
                                    for i, r in enumerate(r2s)])

    seeds = table([0.20, 0.30, 0.25])          # std 0.05: two draws differ by 0.071 in std
    assert pretraining.against_seeds(0.13, seeds) == (
        "one pretraining seed each. Two seeds of one recipe differ with a standard deviation of 0.071 (the std "
        "of the 3 fp32 pretraining seeds' R², 0.050, times sqrt 2); 0.130 is less than twice that, so a new "
        "seed alone could move a table as far, and this does not show that the schedule changes the table's "
        "chemistry")
    assert pretraining.against_seeds(-0.15, seeds).endswith("a larger change than a new seed alone makes")
    assert "no seed-to-seed spread" in pretraining.against_seeds(0.5, table([0.2]))
    assert "no seed-to-seed spread" in pretraining.against_seeds(0.5, None)
    # the schedule reading uses it once the seeds are stored
    sched = pd.DataFrame([{"label": lab, "status": pretraining.STORED, "r2_last": r, "epoch_last": 30, "r2_best": r,
                           "epochs": "30/30", "val_E_f": 0.1, "val_E_g": 0.5} for lab, r in (("A", 0.30), ("B", 0.20))])
    assert "0.100 is less than twice that" in pretraining.schedule_reading(sched, "cpu", seeds=seeds)
    assert "no seed-to-seed spread" in pretraining.schedule_reading(sched, "cpu")


def test_the_seed_curves_draw_one_line_per_seed_in_its_own_colour():
    """Chapter 11's seed figure: the fp32 seeds share a kind and a label, yet each gets its own
    line and colour (the same in every panel); a pending seed draws nothing."""
    import matplotlib

    matplotlib.use("Agg")

    def run(kind, seed, epochs):
        return pretraining.PretrainingRun(kind, pretraining.LABELS.get(kind, "CT multi-task (fp32)"),
                                          [EF, EG], seed, pretraining.STORED if epochs else pretraining.PENDING,
                                          history=_history([EF, EG], epochs), epochs_planned=3)

    runs = {"bf16": run("mt", 0, 3), "fp32, seed 0": run(pretraining.FP32, 0, 3),
            "fp32, seed 1": run(pretraining.FP32, 1, 2), "fp32, seed 2": run(pretraining.FP32, 2, 0)}
    curves = pretraining.seed_curves(runs)
    assert curves.groupby("label").size().to_dict() == {"bf16": 6, "fp32, seed 0": 6, "fp32, seed 1": 4}
    fig = pretraining.plot_validation_curves(curves)
    colours = [{ln.get_label(): ln.get_color() for ln in ax.get_lines()} for ax in fig.axes]
    assert colours[0] == colours[1] == colours[2]          # E_f, E_g and the schedule panel agree
    assert len(colours[0]) == 3 and len(set(colours[0].values())) == 3
    assert pretraining.seed_curves({}).empty
