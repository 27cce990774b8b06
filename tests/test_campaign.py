"""ctlib campaign: plan order, status table, budget stop and resume, no repeats (smoke profile)."""
import dataclasses

import pandas as pd
import pytest

from ctlib import campaign
from ctlib.cli import main


@pytest.fixture
def stores(tmp_path, monkeypatch, data_root):
    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("CTLIB_RUNS", str(tmp_path / "runs"))
    return tmp_path


def test_cpu_plan_starts_with_the_ct_pretraining():
    steps = campaign.plan("cpu")
    assert [s.tier for s in steps[:3]] == [1, 1, 1]
    assert [s.name for s in steps[:3]] == ["CT pretraining, multi-task E_f + E_g",
                                           "CT pretraining, E_f", "CT pretraining, E_g"]
    assert steps[0].hours == 3.0 and steps[1].hours == 2.0  # 30 and 20 epochs at ~6 min
    assert steps[3].tier == 1 and steps[3].name == "CT pretraining, multi-task, onecycle to lr 3e-4, 12 epochs"
    assert steps[3].hours == 1.2 and steps[3].runs[0].startswith("fronts_schedule/ct-")
    assert [s.tier for s in campaign.plan("quick")[3:4]] == [2]      # quick has no second schedule


def test_campaign_budget_stops_then_resumes_and_never_repeats(stores, capsys):
    # a zero budget stops after the first epoch of the first run, with its checkpoint kept
    assert campaign.run_campaign("smoke", hours=1e-9, tiers=(1,)) == 3
    captured = capsys.readouterr()
    assert "budget spent" in captured.out
    assert "epoch 1/2 loss" in captured.err    # the log shows each epoch of each run (stderr)
    st = campaign.status("smoke")
    assert st.loc[0, "state"] == "running (epoch 1/2)" and st["done"].sum() == 0
    assert st.loc[1, "state"] == "pending"

    assert campaign.run_campaign("smoke", tiers=(1,)) == 0
    st = campaign.status("smoke")
    assert list(st["state"][:4]) == ["done"] * 4 and st["cpu_h_spent"][:4].sum() > 0   # with smoke's
    assert st["h_left"][:4].sum() == 0 and (st["state"][4:] == "pending").all()        # second schedule
    stored = sorted(p.name for p in (stores / "results" / "smoke" / "fronts").glob("*.json"))
    assert len(stored) == 3
    assert len(list((stores / "results" / "smoke" / "fronts_schedule").glob("*.json"))) == 1
    # the multi-task run resumed from its checkpoint of epoch 1
    import json

    mt = [json.loads((stores / "results" / "smoke" / "fronts" / n).read_text()) for n in stored
          if "+" in n][0]
    assert mt["resumed_from_epoch"] == 1

    mtimes = {p: p.stat().st_mtime for p in (stores / "results").rglob("*.json")}
    assert campaign.run_campaign("smoke", tiers=(1,)) == 0  # nothing left: nothing trained again
    assert {p: p.stat().st_mtime for p in (stores / "results").rglob("*.json")} == mtimes


def test_status_counts_table2s_fronts_and_shows_the_newest_run_under_way(stores):
    # Table II pretrains its MEGNet front under fronts/, not table2/: its fronts' step runs then
    import os

    import torch

    st = campaign.status("smoke").set_index("step")
    fronts = "Table II fronts (C, M, A; full train split)"     # smoke: every front into CGCNN
    assert st.loc[fronts, "runs"] == 3 * 2                    # on E_f and E_g, one front seed
    assert [s.name for s in campaign.plan("cpu")][6:8] == [
        "Table II back ends", "Table II fronts (C, M; full train split)"]
    assert st.loc[fronts, "h_planned"] == 2.0 and st.loc["Table II back ends", "h_planned"] == 1.8

    def checkpoint(experiment, run_id, epoch, epochs, mtime):
        folder = stores / "runs" / "smoke" / experiment / run_id
        folder.mkdir(parents=True)
        torch.save({"identity": run_id.split("-")[-2], "epoch": epoch, "done": False,
                    "train_config": {"epochs": epochs},
                    "history": [{"epoch": e, "time_s": 36.0} for e in range(1, epoch + 1)]},
                   folder / "last.pt")
        os.utime(folder / "last.pt", (mtime, mtime))

    checkpoint("fronts", "megnet-formation_energy_per_atom-0123abcd-s0", 1, 2, 1000.0)
    st = campaign.status("smoke").set_index("step")
    assert st.loc[fronts, "state"] == "running (epoch 1/2)"
    assert st.loc["Table II back ends", "state"] == "pending"
    assert st.loc["Table III (cross-task) + controls", "state"] == "pending"
    assert st.loc["CT pretraining, E_f", "state"] == "pending"
    # a back end under table2/ while Table III is unfinished is Table III's (its CT-C E_g runs
    # are stored there, and the campaign trains Table III first): it shows there, once
    checkpoint("table2", "cgcnn-band_gap-4567cdef-s2", 3, 5, 2000.0)
    st = campaign.status("smoke").set_index("step")
    assert st.loc["Table III (cross-task) + controls", "state"] == "running (epoch 3/5)"
    assert st.loc["Table II back ends", "state"] == "pending"
    assert st.loc[fronts, "state"] == "running (epoch 1/2)"
    # two runs paused in a step's folders both show, the newer first, whichever folder comes
    # first; each adds its own remaining epochs at its own epoch time
    before = campaign.status("smoke").set_index("step").loc[fronts]
    checkpoint("fronts", "cgcnn-band_gap-89abcdef-s0", 4, 6, 3000.0)
    st = campaign.status("smoke").set_index("step").loc[fronts]
    assert st["state"] == "running (2 runs: epoch 4/6, 1/2)"
    assert st["cpu_h_spent"] == pytest.approx(before["cpu_h_spent"] + 4 * 0.01)
    per_run = before["h_planned"] / before["runs"] * before["pace"]
    assert st["h_left"] == pytest.approx(before["h_left"] + 2 * 0.01 - per_run)
    os.utime(stores / "runs" / "smoke" / "fronts" / "megnet-formation_energy_per_atom-0123abcd-s0"
             / "last.pt", (4000.0, 4000.0))
    assert campaign.status("smoke").set_index("step").loc[fronts, "state"] == \
        "running (2 runs: epoch 1/2, 4/6)"
    # a parallel step's run had one core: its hours are that share of the machine's
    scarce = [s for s in campaign.plan("smoke") if s.parallel][0]
    experiment, prefix = scarce.runs[0].split("/", 1)
    quiet = campaign.status("smoke").set_index("step").loc[scarce.name]
    checkpoint(experiment, f"{prefix}band_gap-0a1b2c3d-s0", 2, 4, 5000.0)
    st = campaign.status("smoke").set_index("step").loc[scarce.name]
    share = 1 / (os.cpu_count() or 1)
    assert st["state"] == "running (epoch 2/4)"
    assert st["cpu_h_spent"] == pytest.approx(quiet["cpu_h_spent"] + 2 * 0.01 * share)


@pytest.mark.slow
def test_whole_smoke_campaign_stores_every_planned_run(stores, monkeypatch):
    # two workers share the data-scarce step, as on the 2-core machine
    assert campaign.run_campaign("smoke", workers=2) == 0
    assert not list((stores / "runs").rglob("*.lock"))    # every claim released
    import json
    import os

    shares = {json.loads(f.read_text())["machine_share"]
              for f in (stores / "results" / "smoke" / "scarce").glob("*.json")}
    assert shares == {min(1.0, 1 / os.cpu_count())}       # trained by single-core workers
    st = campaign.status("smoke")
    assert (st["state"] == "done").all() and (st["done"] == st["runs"]).all()
    assert set(st["tier"]) == {1, 2, 3, 4}
    # each run once: a table's copy of a run another table trained (copied_from) has its run id
    stored, runs = campaign.totals(st)
    assert stored == runs == len({json.loads(f.read_text())["run_id"]
                                  for f in (stores / "results" / "smoke").glob("*/*.json")})
    assert stored < st["done"].sum()                      # Tables II-IV share runs with Table III
    from ctlib import experiments as ex

    df = ex.scarce_transfer("smoke", train=False)
    assert df["run_id"].notna().all()
    assert set(df["start"]) >= {"cgcnn92", "onehot", "random", "CT untrained", "CT mt", "CT E_f",
                                *ex.EXTERNAL_TABLES}
    # a profile whose perovskite page reads the scarce runs (cpu) judges its claim on them
    from ctlib import claims
    from ctlib.config import PROFILES

    smoke = PROFILES["smoke"]
    monkeypatch.setitem(PROFILES, "smoke", smoke.replace(
        campaign=dataclasses.replace(smoke.campaign, perovskites_from_scarce=True)))
    pv = ex.perovskites("smoke", train=False)
    assert sorted(set(pv["column"])) == ["C", "CT-C"] and set(pv["table"]) == {"perovskites"}
    same = df[df["start"].isin(["cgcnn92", "CT E_f"])]
    assert sorted(pv["run_id"]) == sorted(same["run_id"]) and pv["mae"].notna().all()
    v = claims.judge(pv, claims.claims_for("perovskites")).iloc[0]
    assert v["run_here"] and v["n_seeds"] == 1 and v["verdict"] == "inconclusive (1 seed)"


@pytest.mark.slow
def test_the_cpu_plan_in_miniature_trains_tiers_1_to_11_and_the_claims_page_judges_them(stores):
    """The rehearsal profile: cpu's campaign plan (tiers 1-11, one front seed, the fp32
    pretraining seeds, the headline on the whole split, CT on less data) at smoke's sizes, 3
    seeds. Every step trains and stores its runs, back-end seed s of the matched and
    whole-split runs starts from fp32 pretraining seed s, and the claims they feed are judged
    on 3 seeds. The smoke campaign stops at tier 4, so without this the cpu tiers that follow
    the stored ones would first run in the campaign itself. It trains as the campaign does,
    with two workers (the parallel steps on a local Dask cluster)."""
    from ctlib import claims
    from ctlib import experiments as ex
    from ctlib.config import PROFILES
    from ctlib.lookup import stored_records
    from ctlib.runs import embedding_fingerprint

    assert PROFILES["rehearsal"].campaign == dataclasses.replace(PROFILES["cpu"].campaign, scarce_seeds=(0, 1))
    # two workers, as the campaign runs on 2 cores: the parallel steps (tier 8's seeds among
    # them) go to a local Dask cluster, chained, as they will on cpu
    assert campaign.run_campaign("rehearsal", workers=2) == 0
    st = campaign.status("rehearsal")
    assert set(st["tier"]) == set(range(1, 12)) and len(st) == len(campaign.plan("cpu"))
    assert (st["state"] == "done").all() and (st["done"] == st["runs"]).all() and (st["runs"] > 0).all()
    # front seed = back seed: each whole-split and matched CGCNN(mt) run starts from its own fp32 table
    tables = {s: embedding_fingerprint(ex.embedding_path(ex.pretrain_ct_fp32("rehearsal", s, train=False)))
              for s in (0, 1, 2)}
    assert len(set(tables.values())) == 3 and None not in tables.values()
    records = {r["run_id"]: r for _, r in stored_records("rehearsal", experiment="headline")}
    hl = ex.headline("rehearsal", train=False)
    mt = hl[hl["column"] == "CGCNN(mt)"]
    assert len(mt) == 6 and (mt["seed"] == mt["front_seed"]).all()
    assert all(records[r.run_id]["config"]["embedding_sha256"] == tables[r.seed] for r in mt.itertuples())
    fractions = ex.fraction_transfer("rehearsal", train=False)
    assert fractions["run_id"].notna().all() and fractions["start"].nunique() == 3
    mb = ex.matbench("rehearsal", train=False)
    assert mb["mae"].notna().all() and mb["start"].nunique() == 4
    v = claims.judge(claims.collect_tables("rehearsal", None)).set_index("id")
    for cid in ("III-mt-whole-split-E_f", "III-mt-whole-split-E_g", "III-mt-own-front-E_f",
                "III-mt-own-front-E_g", "II-CT-M-E_f", "II-CT-M-E_g"):
        assert v.loc[cid, "n_seeds"] == 3 and v.loc[cid, "verdict"] != "missing", cid


def test_campaign_cli_status_and_bad_input(stores, capsys):
    assert main(["campaign", "--profile", "smoke", "--status"]) == 0
    out = capsys.readouterr().out
    assert "CT pretraining, E_f" in out and "pending" in out and "h left" in out
    assert main(["campaign", "--profile", "nope", "--status"]) == 1
    assert "unknown profile 'nope'" in capsys.readouterr().err
    assert main(["campaign", "--profile", "smoke", "--hours", "0"]) == 1


def test_status_reads_a_run_under_way_from_its_progress_file_without_a_checkpoint(stores):
    """A fresh clone has no checkpoints, only the committed progress.json of a run under way."""
    import json

    rid = "ct-formation_energy_per_atom+band_gap-0123abcd-s0"
    folder = stores / "results" / "smoke" / "fronts" / "embeddings" / rid
    folder.mkdir(parents=True)
    (folder / "progress.json").write_text(json.dumps(
        {"run_id": rid, "epochs_planned": 2, "history": [{"epoch": 1, "time_s": 360.0}]}))
    st = campaign.status("smoke")
    assert st.loc[0, "state"] == "running (epoch 1/2)"
    assert st.loc[0, "cpu_h_spent"] == pytest.approx(0.1) and st.loc[0, "h_left"] == pytest.approx(0.1)
    assert list(st["h_planned"]) == [s.hours for s in campaign.plan("smoke")]
    # once the run's record is stored, its progress file no longer makes the step run
    (stores / "results" / "smoke" / "fronts" / f"{rid}.json").write_text(
        json.dumps({"run_id": rid, "config_hash": "0123abcd", "wall_s": 720.0}))
    assert campaign.status("smoke").loc[0, "state"] == "pending"


def test_a_run_under_way_with_no_epoch_done_keeps_the_plans_hours(stores):
    """A run that has just started (or restarted at epoch 0) measured nothing: it is not free."""
    import json

    pending = campaign.status("smoke").loc[0]
    rid = "ct-formation_energy_per_atom+band_gap-0123abcd-s0"
    folder = stores / "results" / "smoke" / "fronts" / "embeddings" / rid
    folder.mkdir(parents=True)
    (folder / "progress.json").write_text(json.dumps({"run_id": rid, "epochs_planned": 2, "history": []}))
    st = campaign.status("smoke").loc[0]
    assert st["state"] == "running (epoch 0/2)"
    assert st["h_left"] == pytest.approx(pending["h_left"]) and st["h_left"] > 0


def test_book_fragment_shows_the_plan_and_its_progress(stores):
    from ctlib import book

    text = book.campaign_fragment("smoke")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(campaign.plan("smoke"))
    assert "**0 of" in text and "| 1 | CT pretraining, multi-task E_f + E_g | 0 / 1 | pending |" in text


def test_stop_probe_replays_early_stopping_on_a_validation_curve():
    """tools/stop_probe.py: the replay stops where patience runs out and keeps the best so far."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "stop_probe.py"
    spec = importlib.util.spec_from_file_location("stop_probe", path)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    vals = [0.5, 0.3, 0.35, 0.32, 0.31, 0.2, 0.25]
    rows = [{"epoch": i + 1, "val_mae": v} for i, v in enumerate(vals)]
    assert probe.replay(rows, 3) == {"patience": 3, "stopped_at": 5, "best_epoch": 2, "best_val_mae": 0.3}
    assert probe.replay(rows, 4) == {"patience": 4, "stopped_at": None, "best_epoch": 6, "best_val_mae": 0.2}
    with pytest.raises(SystemExit):
        probe.main(["nope"])


def test_the_probe_sets_are_the_campaigns_sets(data_root):
    from ctlib import experiments as ex

    ds, split, target = ex.cgcnn_set("hoip", "smoke")
    assert (ds, split) == ex.hoip_data("smoke") and target == "atomization_energy_per_atom"
    ds, split, target = ex.cgcnn_set("mp_E_g", "smoke")
    assert target == "band_gap" and len(split["train"]) == len(ex.model_split(ex.mp_data("smoke")[1],
                                                                             "cgcnn", "smoke")["train"])
    with pytest.raises(ValueError, match="unknown set 'nope'"):
        ex.cgcnn_set("nope", "smoke")


def test_cpu_trains_whole_schedules_60_epoch_back_ends_and_100_epoch_scarce_runs(monkeypatch):
    """The cpu rule: no patience; MP-2018 back ends 60 epochs, the data-scarce runs 100."""
    from ctlib import experiments as ex

    tcfg = ex.train_config("cgcnn", "cpu")
    assert tcfg["patience"] is None and tcfg["epochs"] == 60 and tcfg["scheduler"] == "onecycle"
    from ctlib.experiments import pretrain, transfer

    calls = []
    for module in (pretrain, transfer):         # the pretrainings and the transfer runs alike
        monkeypatch.setattr(module, "train_one", lambda model, *a, **kw: calls.append((model, kw)))
    ex.scarce_transfer("cpu", seeds=[0], tasks=ex.SCARCE_TASKS[:1])
    scarce = [kw for model, kw in calls if kw.get("experiment") == "scarce"]
    # 13 starts less the two CT tables and their learned parts: no (patched) pretraining is stored
    assert len(scarce) == 9 and all(kw["train_overrides"] == {"epochs": 100} for kw in scarce)
    assert all(not kw.get("train_overrides") for model, kw in calls if kw.get("experiment") == "fronts")



def test_table2_trains_each_front_then_its_back_ends_for_every_seed_before_the_next_front(monkeypatch):
    """So one front's columns (and their claims) complete before the next front's hours begin."""
    from ctlib import experiments as ex
    from ctlib.experiments import tables

    calls = []
    monkeypatch.setattr(tables, "pretrain_front", lambda model, short, p, seed, **kw:
                        calls.append(("front", model, short, seed)) or {"front": model})
    monkeypatch.setattr(tables, "embedding_path", lambda rec: None if rec is None else f"{rec['front']}.json")
    monkeypatch.setattr(tables, "train_one", lambda model, targets, ds, sp, **kw: calls.append(
        ("back", kw.get("embedding") or kw.get("init"), targets[0], kw["seed"])))
    ex.table2("cpu", train=False)
    ef = [c for c in calls if c[2] in ("E_f", "formation_energy_per_atom")]
    backs = [c[1] for c in ef if c[0] == "back"]
    assert backs[:9] == ["cgcnn.json"] * 3 + ["megnet.json"] * 3 + ["ct.json"] * 3   # C-C, M-C, CT-C
    first_megnet = ef.index(("front", "megnet", "E_f", 0))
    assert [c[3] for c in ef[:first_megnet] if c[0] == "back"] == [0, 1, 2]           # every C-C seed first

def test_matched_fronts_start_back_end_seed_s_from_pretraining_seed_s(monkeypatch):
    """cpu pretrains one CT table for every back-end seed; the matched step pairs each back-end
    seed with the fp32 pretraining of its own seed instead (seed 0 too)."""
    from ctlib import experiments as ex
    from ctlib.experiments import tables, transfer

    for mod in (tables, transfer):
        monkeypatch.setattr(mod, "pretrain_ct_multitask", lambda p, seed, **kw: pytest.fail("bf16 table"))
        monkeypatch.setattr(mod, "pretrain_ct_fp32", lambda p, seed, **kw: {"seed": seed})
        monkeypatch.setattr(mod, "embedding_path", lambda rec: f"mt-s{rec['seed']}.json")
    backs = []
    fake = lambda model, targets, ds, sp, **kw: backs.append(  # noqa: E731
        (kw["experiment"], kw.get("embedding"), kw["seed"], targets[0])) or None
    monkeypatch.setattr(tables, "train_one", fake)
    m = ex.matched_fronts("cpu", train=False)
    assert set(m["table"]) == {ex.MATCHED_TABLE} and len(m) == 3 * 2 * 2
    mt = m[m["column"] == "CGCNN(mt)"]
    assert list(mt["front_seed"]) == list(mt["seed"]) == [0, 0, 1, 1, 2, 2]
    assert [b for b in backs if b[1]] == [("table3", f"mt-s{s}.json", s, t) for s in (0, 1, 2)
                                          for t in ("formation_energy_per_atom", "band_gap")]
    assert {b[0] for b in backs if not b[1]} == {"table1"}          # the cgcnn92 baselines
    backs.clear()
    monkeypatch.setattr(transfer, "train_one", fake)
    sc = ex.matched_scarce("cpu", train=False)
    assert set(sc["start"]) == {"cgcnn92", ex.MATCHED_START} and sorted(set(sc["seed"])) == [0, 1, 2]
    assert {(b[1], b[2]) for b in backs if b[1]} == {(f"mt-s{s}.json", s) for s in (0, 1, 2)}
    assert {b[0] for b in backs} == {"scarce"}
    # profiles that pretrain per seed are matched already
    assert ex.matched_fronts("quick", train=False).empty and ex.matched_scarce("paper", train=False).empty


def test_the_learning_curves_published_tables_did_not_train_on_our_labels_and_page_12_says_what_they_saw():
    import json
    from pathlib import Path

    from ctlib import experiments as ex, zoo
    from ctlib.analysis import transfer

    assert len(ex.LEARNING_CURVE_TABLES) == 2
    for name in ex.LEARNING_CURVE_TABLES:
        assert name in zoo.TABLES and not zoo.TABLES[name].sees_test          # not trained on our labels,
        assert zoo.TABLES[name].saw == zoo.SAW_ENERGIES                       # but on MP energies: page 12 says so
        assert (name, "cgcnn92") in transfer.LEARNING_CURVE_COMPARISONS   # judged on chapter 12
    root = Path(__file__).resolve().parents[1]
    cells = json.loads((root / "notebooks" / "12_scarce_transfer.ipynb").read_text())["cells"]
    text = next("".join(c["source"]) for c in cells if "".join(c["source"]).startswith("## Learning curve"))
    assert "MPtrj" in text and "most of this test split's materials with their DFT total energies" in text
    step = next(s for s in campaign.plan("cpu") if s.name.startswith("learning curve from"))
    assert step.tier == 6 and step.train.keywords == {"tables": ex.LEARNING_CURVE_TABLES}


def test_a_claimed_run_is_skipped_by_other_workers_and_a_dead_workers_claim_is_cleared(stores,
                                                                                      monkeypatch):
    """RunContext(claim=True): a run that another live process holds is not trained twice."""
    import subprocess
    import sys

    from ctlib import experiments as ex
    from ctlib import runs
    from ctlib.context import RunContext

    ds, split = ex.hoip_data("smoke")
    ctx = RunContext(claim=True)
    one = lambda seed: ex.train_one("cgcnn", ["atomization_energy_per_atom"], ds, split,  # noqa: E731
                                    profile="smoke", seed=seed, experiment="scarce", train=True, context=ctx)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        stats = ctx.stats
        start = dict(stats)
        assert one(0) is not None                                   # free: trained and stored
        assert stats["trained"] == start["trained"] + 1
        dirs = []                                                   # where seed 1's lock goes
        with monkeypatch.context() as m:
            m.setattr(runs, "claim", lambda d: dirs.append(d))
            assert one(1) is None
        lock = dirs[0].parent / f"{dirs[0].name}.lock"
        lock.write_text(f"{other.pid}\n")                          # held by a live process
        assert one(1) is None and stats["busy"] == start["busy"] + 2
        assert runs.clear_stale_locks() == [] and lock.exists()
        other.kill()
        other.wait()
        assert runs.clear_stale_locks() == [lock]                  # its process is gone
        assert one(1) is not None and not lock.exists()
        assert stats["trained"] == start["trained"] + 2
    finally:
        other.kill()


def test_hours_count_a_single_core_workers_share_of_the_machine():
    assert campaign._hours({"wall_s": 3600.0}) == 1.0                        # older records
    assert campaign._hours({"wall_s": 3600.0, "machine_share": 0.5}) == 0.5
    assert campaign._hours({"wall_s": 100.0, "train_s": 7200.0, "machine_share": 0.5}) == 1.0
    from ctlib import experiments as ex                      # a table step's tidy rows carry it too
    rows = [ex._row({"run_id": "a", "wall_s": 3600.0, "machine_share": 0.5,
                     "finished": "2026-12-01T12:00:00+00:00"}, "t"),
            ex._row({"run_id": "b", "wall_s": 3600.0}, "t"), ex._row(None, "t")]
    assert campaign._runs(pd.DataFrame(rows)) == [
        {"run_id": "a", "hours": 0.5, "device": None, "finished": "2026-12-01T12:00:00+00:00"},
        {"run_id": "b", "hours": 1.0, "device": None, "finished": ""}, None]
    steps = campaign.plan("cpu")
    assert [s.name for s in steps if s.parallel] == ["data-scarce transfer (Castelli, HOIP)",
                                                     "learning curve (500-8,000 cells)",
                                                     "embedding zoo: published tables in the "
                                                     "data-scarce transfer",
                                                     "learning curve from the two best published tables",
                                                     "Matbench perovskites, 5 folds (cgcnn92, one-hot, "
                                                     "CT mt, a published table)",
                                                     "CT pretraining, multi-task in fp32, front seeds 0, "
                                                     "1 and 2",
                                                     "the multi-task table of each back end's own seed "
                                                     "(Table III, data-scarce)",
                                                     "CT-M: MEGNet back ends from the CT tables and "
                                                     "MEGNet's default start",
                                                     "the headline at the paper's back-end size (whole "
                                                     "train split)"]


def test_the_methods_page_quotes_the_stored_stop_probe_records():
    """Every early-stopping number on the methods page is computed from results/cpu/analysis/stop_probe/
    (ctlib.notes, included by book/methods.md), and none is typed in the page or the profile."""
    import json
    from pathlib import Path

    from ctlib import notes

    root = Path(__file__).resolve().parents[1]
    rec = {p.stem: json.loads(p.read_text())
           for p in (root / "results" / "cpu" / "analysis" / "stop_probe").glob("*.json")}
    cgcnn = {"hoip-e100", "castelli-e100", "mp_E_f-e60", "mp_E_f-e100"}
    megnet = {"mp_E_f-megnet-e60", "mp_E_f-megnet-e100"}                   # tier 9's back end
    assert cgcnn <= set(rec) <= cgcnn | megnet
    assert all(r["provenance"]["dirty"] is False for r in rec.values())

    def at15(name):
        stop = next(r for r in rec[name]["replays"] if r["patience"] == 15)
        return stop["stopped_at"], stop["best_val_mae"] / rec[name]["best"]["best_val_mae"]

    text = notes.stop_probe_note(root / "results")
    (hoip_stop, hoip_x), (cas_stop, cas_x) = at15("hoip-e100"), at15("castelli-e100")
    assert f"cut a HOIP run at epoch {hoip_stop} with {hoip_x:.2f}× the validation MAE" in text
    assert f"Castelli-3,334 run at epoch {cas_stop} with {cas_x:.2f}×" in text
    e60, e100 = rec["mp_E_f-e60"], rec["mp_E_f-e100"]
    assert at15("mp_E_f-e100")[0] is None                      # patience 15 never stops there
    assert (f"validation MAE of {e60['best']['best_val_mae']:.3f} eV/atom against "
            f"{e100['best']['best_val_mae']:.3f} for 100 epochs, in "
            f"{100 * e60['wall_s'] / e100['wall_s']:.0f} % of the time") in text
    if megnet <= set(rec):
        m60, m100 = (rec[f"mp_E_f-megnet-e{n}"]["best"]["best_val_mae"] for n in (60, 100))
        assert (f"reached {m60:.3f} eV/atom at 60 epochs against {m100:.3f} at 100 "
                f"({100 * (m60 / m100 - 1):+.0f} %; CGCNN ") in text
    else:
        assert "MEGNet" not in text
    methods = (root / "book" / "methods.md").read_text()
    assert f"generated/{notes.STOP_PROBE_NOTE}" in methods
    typed = [f"{e60['best']['best_val_mae']:.3f}", f"{hoip_x:.1f}×", f"{cas_x:.2f}×"]
    config = (root / "ctlib" / "config.py").read_text()
    assert not [t for t in typed if t in methods or t.replace("×", "x") in config]
    # without the records the note says what to run
    assert "tools/stop_probe.py" in notes.stop_probe_note(root / "no-such-results")


def test_the_stop_probe_note_adds_megnet_once_both_its_schedules_are_stored(tmp_path):
    """The CT-M claims' back end (MEGNet from its own start): its 60-epoch schedule against 100,
    beside CGCNN's, only once both MEGNet records exist."""
    import json

    from ctlib import notes

    folder = tmp_path / "cpu" / "analysis" / "stop_probe"
    folder.mkdir(parents=True)

    def put(name, best, wall=100.0):
        rec = {"best": {"best_val_mae": best}, "wall_s": wall,
               "replays": [{"patience": notes.PATIENCE, "stopped_at": None, "best_val_mae": best}]}
        (folder / f"{name}.json").write_text(json.dumps(rec))

    for name, best in (("hoip-e100", 0.02), ("castelli-e100", 0.02), ("mp_E_f-e60", 0.108),
                       ("mp_E_f-e100", 0.100), ("mp_E_f-megnet-e60", 0.186)):
        put(name, best)
    assert "MEGNet" not in notes.stop_probe_note(tmp_path)
    put("mp_E_f-megnet-e100", 0.155)
    assert notes.stop_probe_note(tmp_path).rstrip().endswith(
        "MEGNet from its own start (the baseline of the CT-M claims) on the same cells reached 0.186 eV/atom "
        "at 60 epochs against 0.155 at 100 (+20 %; CGCNN +8 %).")


def test_the_verdict_example_works_the_rule_through_one_claim():
    from ctlib import notes, report

    rows = [{"claim": "a", "verdict": report.MISSING, "changes": []},
            {"claim": "b", "verdict": report.REPRODUCED, "changes": [-0.1, -0.2], "seeds": [0, 1],
             "paper_rel": -0.15, "target": "E_f"},
            {"claim": "c", "verdict": report.WEAKER, "changes": [-0.02, -0.03, -0.04], "seeds": [0, 1, 2],
             "paper_rel": -0.20, "target": "E_g"}]
    text = notes.verdict_example({"profile": "cpu", "verdicts": rows})
    # c is worked through (its word needs the paper's number): mean -3 %, sd 1 point, t(2) = 4.303
    assert "*c* (E_g)" in text and "-3.0 % ± 2.5 points = [-5.5 %, -0.5 %]" in text
    assert "**weaker than claimed**" in text
    assert "No claim is judged" in notes.verdict_example(None)


def test_the_bottom_line_is_computed_from_the_chapter_summaries(tmp_path):
    import json

    from ctlib import notes, report

    assert "appears once" in notes.bottom_line(tmp_path)          # nothing ran: one line, no numbers
    v = lambda i, w, m, lo, hi, p: {"id": i, "verdict": w, "rel_mean": m, "rel_lo": lo, "rel_hi": hi,  # noqa: E731
                                    "paper_rel": p}
    (tmp_path / "10_claims.json").write_text(json.dumps({"profile": "cpu", "verdicts": [
        v("II-CT-C-E_f", report.NOT_REPRODUCED, 0.014, -0.052, 0.081, -0.145),
        v("II-CT-C-E_g", report.INCONCLUSIVE, -0.028, -0.06, 0.004, -0.065),
        {"id": "I-x", "verdict": report.MISSING}]}))
    (tmp_path / "08_reverse_prediction.json").write_text(json.dumps(
        {"r2_mean_over_properties": {"CT (ours)": 0.267, "cgcnn92": 0.554},
         "r2_pooled_values": {"CT (ours)": {"radius": [0.25, 0.27, 0.26], "gap": [0.27, 0.28, 0.27]},
                              "cgcnn92": {"radius": [0.55, 0.56, 0.55], "gap": [0.55, 0.56, 0.55]}}}))
    (tmp_path / "12_scarce_transfer.json").write_text(json.dumps({"verdicts": [
        {"dataset": "castelli-3334", "claim": "CT mt vs cgcnn92", "verdict": report.NOT_REPRODUCED,
         "mean_rel": -0.002, "rel_lo": -0.042, "rel_hi": 0.038, "paper_rel": -0.148}]}))
    (tmp_path / "02_models.json").write_text(json.dumps({"table1_fronts": [
        {"column": "cgcnn", "target": "E_f", "mae": 0.0447}, {"column": "megnet", "target": "E_f", "mae": 0.11}]}))
    text = notes.bottom_line(tmp_path)
    assert text.count(". ") + 1 <= 5
    assert "Of the 3 claims on the claims page, 2 are judged on profile `cpu` (the others are pending" in text
    assert "1 not reproduced, 1 inconclusive." in text                # no p-values: no Holm clause
    claims = json.loads((tmp_path / "10_claims.json").read_text())
    claims["verdicts"][0].update(p_value=0.6, p_value_paper=0.001)       # stays not reproduced
    claims["verdicts"][1].update(p_value=0.08, p_value_paper=0.2)
    claims["interpretability"] = [{"claim": "R² radius", "holm": {
        "verdict": report.WEAKER, "mean_rel": -0.3, "paper_rel": -0.8, "p_value": 0.03, "p_value_paper": 0.02}},
        {"claim": "k = 3 clusters", "holm": {}}]     # not in the family: not counted either
    (tmp_path / "10_claims.json").write_text(json.dumps(claims))
    text = notes.bottom_line(tmp_path)
    assert ("1 not reproduced, 1 inconclusive; tested all at once with the 1 reverse-prediction claim (3 verdicts, "
            "Holm's correction), they read 1 not reproduced, 2 inconclusive.") in text
    assert "*not reproduced* on formation energy (+1.4 % [-5.2, +8.1] against the paper's -14 %)" in text
    assert "as the input of CGCNN (back ends of 4,000 cells), is" in text and "whole train split" not in text
    claims = json.loads((tmp_path / "10_claims.json").read_text())
    claims["verdicts"] += [v("III-mt-whole-split-E_f", report.REPRODUCED, -0.05, -0.08, -0.02, -0.19),
                           v("III-mt-whole-split-E_g", report.INCONCLUSIVE, 0.01, -0.03, 0.05, -0.07)]
    (tmp_path / "10_claims.json").write_text(json.dumps(claims))
    (tmp_path / "01_data.json").write_text(json.dumps({"profile_sizes": {"train": 44441}}))
    text = notes.bottom_line(tmp_path)
    assert ("against -6 %); on the whole train split (44,441 cells), from the multi-task table of each back "
            "end's own seed, it is *reproduced* on formation energy (-5.0 % [-8.0, -2.0]) and *inconclusive* "
            "on band gap (+1.0 % [-3.0, +5.0]).") in text
    assert text.count(". ") + 1 <= 5
    assert ("less chemistry than CGCNN's handcrafted features: mean reverse-prediction R² 0.27 against 0.55 "
            "(difference -0.29, 95 % interval [") in text
    assert "Castelli-3,334: -0.2 % [-4.2, +3.8], *not reproduced*" in text
    assert "(0.083 eV/atom) is 2.1 times the published CGCNN (0.039); our CGCNN" in text and "0.045" in text
    assert "Matbench" not in text                                   # page 13 did not run: no clause
    mb = [{"dataset": "matbench-perovskites", "start": "cgcnn92", "fold": f, "seed": f, "mae": 0.044 + 0.0002 * f}
          for f in range(5)]
    (tmp_path / "13_zoo.json").write_text(json.dumps({"matbench": mb}))
    assert "reaches 0.045, and on Matbench's perovskites it is level with the leaderboard's CGCNN (-1.8 % " \
        "[-3.9, +0.3])." in notes.bottom_line(tmp_path)


def test_the_three_objections_say_where_the_runs_stand_from_the_chapter_summaries(tmp_path):
    import json

    from ctlib import notes, report

    text = notes.objections(tmp_path)                        # nothing ran: three items, all pending
    assert text.count("*Where the runs stand:*") == 3 and "pending" in text
    import re
    assert not re.search(r"\d\.\d|%|\d,\d", text)                # no number without a summary behind it
    v = lambda i, w, m, lo, hi, p: {"id": i, "verdict": w, "rel_mean": m, "rel_lo": lo, "rel_hi": hi,  # noqa: E731
                                    "paper_rel": p, "n_seeds": 3}
    (tmp_path / "10_claims.json").write_text(json.dumps({"profile": "cpu", "verdicts": [
        v("II-CT-C-E_f", report.NOT_REPRODUCED, 0.014, -0.052, 0.081, -0.145),
        v("III-mt-whole-split-E_f", report.NOT_REPRODUCED, 0.01, -0.02, 0.04, -0.145),
        {"id": "III-mt-whole-split-E_g", "verdict": report.MISSING}]}))
    lc = lambda n, m, lo, hi: {"n_train": n, "claim": "CT mt vs cgcnn92", "mean_rel": m, "rel_lo": lo,  # noqa: E731
                               "rel_hi": hi, "n_seeds": 3}
    (tmp_path / "12_scarce_transfer.json").write_text(json.dumps({"learning_curve_change": [
        lc(500, -0.2, -0.3, -0.1), {**lc(500, 0.1, 0.0, 0.2), "claim": "CT mt vs onehot"},
        lc(8000, 0.015, -0.043, 0.072)]}))
    (tmp_path / "11_pretraining.json").write_text(json.dumps({
        "finding": "**Finding.** Rose.", "one_draw": "pending; 1 of the 3 seeds stored so far.",
        "plateau_epochs": {"mt": 20}, "runs": [{"kind": "mt", "epochs_planned": 30}],
        "budget": [{"setting": "pretraining data", "paper": "MP* (134,243 materials)"},
                   {"setting": "epochs", "paper": "500"}]}))
    ranked = [{"table": t, "kind": k, "sees_test": leak, "r2_mean": r} for t, k, leak, r in (
        ("magpie", "handcrafted", False, 0.75), ("megnet16", "input", True, 0.58), ("ORB", "last-layer", False, 0.58),
        ("CT mt", "input", False, 0.23), ("random", "random", False, -0.07))]
    mb = [{"dataset": "matbench-perovskites", "start": s, "fold": f, "seed": f, "n_test": 3786, "split_hash": f"h{f}",
           "n_train": 13628, "mae": (0.0440 if s == "cgcnn92" else 0.0420) + 0.0002 * f * (s == "CT mt")}
          for s in ("cgcnn92", "CT mt") for f in range(4)]      # fold 4 not stored: Matbench not judged yet
    (tmp_path / "13_zoo.json").write_text(json.dumps({"ranked": ranked, "matbench": mb, "data_curve": [
        {"fraction": 0.25, "r2_mean": 0.15}, {"fraction": 0.5, "r2_mean": None}, {"fraction": 1.0, "r2_mean": 0.23}]}))
    (tmp_path / "02_models.json").write_text(json.dumps({"table": [
        {"column": "ct", "target": "E_f", "mean": 0.109, "paper": 0.097},
        {"column": "ct", "target": "E_g", "mean": 0.534, "paper": 0.563}]}))
    text = notes.objections(tmp_path)
    one, two, three = text.splitlines()
    assert one.startswith('1. **"The back ends are too small."** Ours train on 4,000 cells')
    assert "CT's multi-task table against cgcnn92: pending." in one               # E_g not judged yet
    assert ("by -20.0 % [-30.0, -10.0] at 500, +1.5 % [-4.3, +7.2] at 8,000 back-end cells; the interval lies "
            "below 0 at 1 of the 2 sizes, and 1 of them holds the paper's -14 % (Table II, E_f).") in one
    assert "Matbench" not in one
    zoo = json.loads((tmp_path / "13_zoo.json").read_text())
    zoo["matbench"] += [{**r, "fold": 4, "seed": 4, "split_hash": "h4"} for r in zoo["matbench"] if r["fold"] == 0]
    (tmp_path / "13_zoo.json").write_text(json.dumps(zoo))
    one_mb = notes.objections(tmp_path).splitlines()[0]
    assert one_mb.startswith(one) and "On Matbench's perovskites (5 folds, 13,628 training cells each), the table " \
        "changes CGCNN's error against cgcnn92 by -4." in one_mb
    assert ", and our CGCNN from cgcnn92 is better than the leaderboard's CGCNN (-2.7 % [" in one_mb
    assert two.endswith("*Where the runs stand:* Pending; 1 of the 3 seeds stored so far. With back-end seed i "
                        "from front seed i, the multi-task table against cgcnn92 (Table III): pending.")
    assert "pretrained for 30 epochs on the MP-2018 train split; the paper's CT saw MP* (134,243 materials) for " \
           "500 epochs." in three
    assert "0.109 eV/atom on formation energy against the paper's CT at 0.097 (+12 %)" in three
    assert "levelled off at epoch 20 of 30." in three
    assert ("Among the 4 tables of the zoo whose model did not see our test labels, it ranks #3 on reverse "
            "prediction (mean R² 0.23, on the elements every zoo table covers); the best learned table there "
            "is ORB, 0.58.") in three
    assert "its mean R² goes 0.15 at 25 %, 0.23 at 100 %." in three
    claims = json.loads((tmp_path / "10_claims.json").read_text())
    claims["verdicts"][2] = v("III-mt-whole-split-E_g", report.INCONCLUSIVE, -0.01, -0.05, 0.03, -0.07)
    (tmp_path / "10_claims.json").write_text(json.dumps(claims))
    assert ("CT's multi-task table against cgcnn92: *not reproduced* on formation energy (+1.0 % [-2.0, +4.0]) and "
            "*inconclusive* on band gap (-1.0 % [-5.0, +3.0]), 3 seeds.") in notes.objections(tmp_path)


def test_the_chemistry_sentence_takes_its_word_from_the_interval_over_cv_repeats():
    from ctlib import notes

    def page(ct, c92):
        return {"r2_mean_over_properties": {"CT (ours)": sum(map(sum, ct)) / 6, "cgcnn92": sum(map(sum, c92)) / 6},
                "r2_pooled_values": {"CT (ours)": dict(zip("ab", ct)), "cgcnn92": dict(zip("ab", c92))}}

    # per-repeat means over the two properties: CT 0.30, 0.35, 0.40; cgcnn92 0.50, 0.55, 0.60:
    # -0.20 ± t(0.975, 4 df) 2.776 x sqrt(2 x 0.05² / 3)
    low = notes._chemistry(page([[0.3, 0.35, 0.4], [0.3, 0.35, 0.4]], [[0.5, 0.55, 0.6], [0.5, 0.55, 0.6]]))
    assert low.startswith("The table carries less chemistry") and "difference -0.20, 95 % interval [-0.31, -0.09]" \
        in low and "over 3 repeats of the CV, one pretrained table)." in low
    same = notes._chemistry(page([[0.3, 0.5, 0.4], [0.3, 0.5, 0.4]], [[0.35, 0.55, 0.45], [0.35, 0.55, 0.45]]))
    assert same.startswith("The table carries about as much chemistry") and "[-0.28, +0.18]" in same   # holds 0
    one = notes._chemistry({"r2_mean_over_properties": {"CT (ours)": 0.2, "cgcnn92": 0.5}})
    assert one.endswith("R² 0.20 against 0.50 (one CV repeat: no interval).") and "less" not in one
    assert notes._chemistry({}) == ""


def test_status_scales_the_plan_by_the_runs_stored_on_this_cpu():
    from types import SimpleNamespace

    step = SimpleNamespace(hours=4.0)                      # 4 runs planned at 1 h each
    here = lambda i, h: {"run_id": f"r{i}", "hours": h, "device": "cpu (2 threads, Fake CPU 9)",  # noqa: E731
                         "finished": f"2026-12-01T{i:02d}:00"}
    other = {"run_id": "o", "hours": 9.0, "device": "cpu (2 threads, Other CPU)"}
    old = {"run_id": "x", "hours": 9.0, "device": "cpu (2 threads)"}            # records before the model
    # r1 is shared with the second step: it counts once, at its first step, and the second step's
    # 0.5 planned hours are for its own run r3 alone (0.25 h if r1 were counted there too);
    # r3 ran beside other work (4x): the median keeps the pace of the others
    steps = [(step, [here(1, 2.0), here(2, 3.0), other, None]),
             (SimpleNamespace(hours=0.5), [here(3, 2.0), here(1, 2.0)])]
    assert campaign._own_runs(steps) == [4, 1]
    assert campaign.speed_factor(steps, cpu="Fake CPU 9") == pytest.approx((3.0, 3))  # median of 2, 3, 4
    assert campaign.speed_factor(steps[:1], cpu="Fake CPU 9") == (1.0, 2)     # too few runs: the plan
    assert campaign.speed_factor(steps, cpu="") == (1.0, 0)
    assert campaign.speed_factor([(step, [old, old, old])], cpu="Fake CPU 9") == (1.0, 0)  # no CPU model
    # a step's own pace reads only the runs it is the first to list (r1 is the first step's)
    two = [(SimpleNamespace(hours=3.0), [here(1, 1.0), here(2, 1.0), here(3, 1.0)]),
           (SimpleNamespace(hours=3.0), [here(4, 6.0), here(5, 6.0), here(6, 6.0), here(1, 1.0)])]
    assert campaign.speed_factor(two, cpu="Fake CPU 9") == pytest.approx((3.5, 6))
    assert campaign.speed_factor(two, cpu="Fake CPU 9", step_index=0) == pytest.approx((1.0, 3))
    assert campaign.speed_factor(two, cpu="Fake CPU 9", step_index=1) == pytest.approx((6.0, 3))
    assert campaign.speed_factor(steps, cpu="Fake CPU 9", step_index=1) == (1.0, 1)  # too few: the plan
    # only the latest SPEED_WINDOW runs of this CPU set the pace: code that got faster shows at once
    many = [(SimpleNamespace(hours=16.0), [here(i, 3.0 if i < 8 else 1.0) for i in range(16)])]   # all: 2.0
    assert campaign.speed_factor(many, cpu="Fake CPU 9") == (1.0, campaign.SPEED_WINDOW)
    df = pd.DataFrame([{"tier": 1, "done": 3, "runs": 6, "cpu_h_spent": 6.0, "h_left": 3.0},
                       {"tier": 2, "done": 0, "runs": 0, "cpu_h_spent": 0.5, "h_left": 0.0},
                       {"tier": 2, "done": 0, "runs": 0, "cpu_h_spent": 0.25, "h_left": 0.0}])
    df.attrs["speed"] = (2.0, 3)
    assert ("about 3.0 h left (the plan's hours x each step's own pace on this CPU once it has 3 runs "
            "stored there, else x 1 where they were measured there, else x 2.00 (the latest 3 runs "
            "stored there))") in campaign.format_status(df)
    # a step's hours measured on this CPU are not scaled by other steps' pace; its own pace wins
    amd, intel = campaign.Step(8, "x", 17.0, (), None, measured_on="AMD EPYC"), campaign.Step(7, "y", 2.0, (), None)
    assert campaign.step_pace(amd, (1.0, 0), 1.48, "AMD EPYC") == 1.0
    assert campaign.step_pace(amd, (1.0, 0), 1.48, "Intel Xeon") == 1.48
    assert campaign.step_pace(intel, (1.0, 2), 1.48, "AMD EPYC") == 1.48
    assert campaign.step_pace(amd, (1.2, 3), 1.48, "AMD EPYC") == campaign.step_pace(intel, (1.2, 3), 1.48, "") == 1.2
    df.attrs["distinct"] = (2, 5)                          # one stored run is shared by two steps
    assert "total: 2/5 distinct runs stored" in campaign.format_status(df)
    assert campaign.format_status(df).endswith("spent: tier 1 6.00, tier 2 0.75 CPU-h")
    from ctlib.results import cpu_model, device_info

    assert device_info("cpu").endswith(f", {cpu_model()})") or not cpu_model()


def test_the_pretraining_seeds_and_the_less_data_curve_change_only_the_precision(monkeypatch):
    """Tier 8's fronts and tier 11's are cpu's multi-task pretraining in fp32: same data, epochs
    and schedule; the curve's whole-split point is the fp32 seed 0, not the bf16 table."""
    from ctlib import experiments as ex
    from ctlib.experiments import pretrain, transfer

    calls = []
    monkeypatch.setattr(pretrain, "mp_data", lambda p: (None, {"train": list(range(100))}))
    monkeypatch.setattr(pretrain, "model_split", lambda split, model, p, front, n_train=None: split if n_train is None else n_train)
    monkeypatch.setattr(pretrain, "train_one", lambda *a, **kw: calls.append(kw) or None)
    ex.pretrain_ct_multitask("cpu", 0, train=False)
    ex.pretrain_ct_fp32("cpu", 1, train=False)
    ex.pretrain_ct_fraction("cpu", 0.25, 0, train=False)
    bf16, fp32, quarter = calls
    assert fp32["experiment"] == ex.FP32_EXPERIMENT and quarter["experiment"] == ex.FRACTION_EXPERIMENT
    assert fp32["train_overrides"] == quarter["train_overrides"] == {"precision": "fp32"}
    assert bf16.get("train_overrides") is None and ex.train_config("ct", "cpu", 2)["precision"] == "bf16"
    drop = {"experiment", "train_overrides", "seed"}
    assert {k: v for k, v in fp32.items() if k not in drop} == {k: v for k, v in bf16.items() if k not in drop}
    # the curve: 25 %, 50 % and the whole split, all fp32 pretrainings of front seed 0
    made = []
    monkeypatch.setattr(pretrain, "pretrain_ct_fraction", lambda p, f, s, **kw: made.append((f, s)) or {"f": f})
    monkeypatch.setattr(pretrain, "pretrain_ct_fp32", lambda p, s, **kw: made.append((1.0, s)) or {"f": 1.0})
    monkeypatch.setattr(pretrain, "pretrain_ct_multitask", lambda *a, **kw: pytest.fail("bf16 table"))
    monkeypatch.setattr(transfer, "embedding_path", lambda rec: f"t{rec['f']}.json")
    seen = {}
    monkeypatch.setattr(transfer, "scarce_transfer", lambda p, seeds, **kw: seen.update(kw["starts"]) or pd.DataFrame())
    ex.fraction_transfer("cpu", train=False)
    assert made == [(0.25, 0), (0.5, 0), (1.0, 0)]
    assert seen == {ex.fraction_label(f): {"embedding": f"t{f}.json"} for f in (0.25, 0.5, 1.0)}


def test_consecutive_parallel_steps_go_to_the_cluster_as_one(monkeypatch):
    """A parallel step's runs are queued with those of the parallel steps right after it, so
    that a worker the step's last run leaves idle takes the next step's runs; a step of one
    process ends the chain. Stored steps are skipped and nothing else changes."""
    from ctlib import cluster
    from ctlib.campaign import runner

    def step(tier, name, parallel, stored=False):
        fn = lambda p, train, device, ctx=None: [{"run_id": f"{name}-r"} if stored else None]  # noqa: E731
        return campaign.Step(tier, name, 1.0, (), fn, parallel=parallel)

    steps = [step(6, "lc", True), step(7, "matbench", True), step(8, "pretrain", False),
             step(9, "done already", True, stored=True), step(9, "ct-m", True), step(10, "headline", True)]
    monkeypatch.setattr(runner, "plan", lambda p: steps)
    monkeypatch.setattr(runner, "status", lambda p: None)
    monkeypatch.setattr(runner, "format_status", lambda st: "")
    groups, lines = [], []

    class Client:
        def close(self):
            pass

    monkeypatch.setattr(cluster, "local_cluster", lambda workers: (None, Client()))
    monkeypatch.setattr(cluster, "train_step", lambda client, p, train, **kw: groups.append(
        len(train(p, False, "cpu"))) or 0)
    assert campaign.run_campaign("smoke", workers=2, out=lines.append) == 0
    # lc + matbench as one (2 runs); matbench alone again (its runs are stored by then on a real
    # cluster: nothing pending); ct-m + headline as one; headline again
    assert groups == [2, 1, 2, 1]
    assert any(line.startswith("  and tier 7: matbench (queued behind it") for line in lines)
    assert not any("and tier 8" in line or "and tier 9: done already" in line for line in lines)


def test_the_methods_page_names_every_tier_of_the_cpu_plan():
    """A tier added to the cpu plan needs its bullet on the methods page ("- **What** (tier N)"):
    the reader of a verdict must find which fronts, seeds and sizes made its runs."""
    import re
    from pathlib import Path

    methods = (Path(__file__).resolve().parents[1] / "book" / "methods.md").read_text()
    named = set()
    for m in re.finditer(r"^- \*\*[^*\n]+\*\* \(tiers? (\d+)(?:-(\d+))?[);]", methods, re.M):
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        named |= set(range(a, b + 1))
    tiers = {s.tier for s in campaign.plan("cpu")}
    assert tiers and not tiers - named, f"tiers missing from book/methods.md: {sorted(tiers - named)}"
