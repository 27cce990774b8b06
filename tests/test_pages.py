"""The building blocks of the result pages (ctlib.pages): number formats, tables with
pending runs and controls, the opening of each page, its budget note, and the
pending page of the interpretability chapters."""
from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from ctlib import claims, pages, report  # noqa: E402


def rows(spec: dict, *, table="II", seeds=(0, 1, 2), n_test=3126) -> pd.DataFrame:
    """Tidy rows: ``spec[(column, target)] = [mae per seed]`` or None (not stored yet)."""
    out = []
    for (col, tg), maes in spec.items():
        for i, s in enumerate(seeds):
            m = math.nan if maes is None else maes[i]
            out.append({"table": table, "column": col, "target": tg, "seed": s, "mae": m, "n_test": n_test,
                        "run_id": None if maes is None else f"{col}-{tg}-s{s}", "split_hash": "h"})
    return pd.DataFrame(out)


# ------------------------------------------------------------------ formats
@pytest.mark.parametrize("x, text", [(0.08342, "0.0834"), (0.1, "0.100"), (123.4, "123"), (1.2345, "1.23"),
                                     (0.09996, "0.100"), (0.0, "0.00"), (math.nan, "—"), (None, "—")])
def test_fmt_mae_has_three_significant_digits(x, text):
    assert pages.fmt_mae(x) == text


def test_signed_and_relative_formats():
    assert pages.fmt_signed(-0.04561) == "-0.0456" and pages.fmt_signed(0.5) == "+0.500"
    assert pages.fmt_rel(-0.1234) == "-12.3%" and pages.fmt_rel(math.nan) == "—"
    assert report.fmt_pm(0.0834, 0.004, 3, sig=3) == "0.0834 ± 0.0040 (n=3)"
    assert report.fmt_pm(1.234, math.nan, 1, sig=3) == "1.23 (n=1)"


# ------------------------------------------------------------------ tables
SPEC = {("C default", "E_f"): [0.10, 0.11, 0.12], ("CT-C", "E_f"): [0.09, 0.10, 0.11],
        ("CT0-C", "E_f"): None, ("C random", "E_f"): [0.2, 0.2, 0.2], ("M-C", "E_f"): None}


def test_compare_marks_pending_rows_controls_and_baselines():
    df = rows(SPEC)
    t = pages.compare(df, pages.paper_values("II"), base=pages.baselines("II", df["column"]))
    by = t.set_index("column")
    assert by.loc["M-C", "ours"] == pages.PENDING and by.loc["CT0-C", "ours"] == pages.PENDING
    assert by.loc["CT-C", "ours"] == "0.100 ± 0.010 (n=3)"          # std with the decimals of the mean
    assert by.loc["CT0-C", "role"] == by.loc["C random", "role"] == "control"
    assert by.loc["C default", "role"] == "baseline" and by.loc["CT-C", "role"] == "paper"
    assert by.loc["CT-C", "vs baseline"] == pytest.approx((0.10 - 0.11) / 0.11)
    assert math.isnan(by.loc["M-C", "vs baseline"])
    assert list(t["column"])[-2:] == ["CT0-C", "C random"]          # controls last
    assert by.loc["CT-C", "paper"] == report.paper_value("table2_frontend_backend", "E_f", "CT-C")
    assert by.loc["C default", "paper"] == report.paper_value("table1_models", "CGCNN", "MP-E_f")
    assert pd.isna(by.loc["CT0-C", "paper"])                         # a control has no paper value


def test_styled_shows_pending_and_labels_controls():
    df = rows(SPEC)
    html = pages.styled(pages.compare(df, pages.paper_values("II"),
                                      base=pages.baselines("II", df["column"]))).to_html()
    assert "CT0-C (control: untrained CT table)" in html and "C random (control: random 128-d table)" in html
    assert html.count(pages.PENDING) == 2 and ">nan<" not in html
    assert "0.0710" in html and "-9.1%" in html       # the paper's CT-C value, ours vs baseline


def test_bars_draw_pending_instead_of_failing():
    df = rows({("CT-C", "E_f"): None, ("C default", "E_f"): None, ("CT0-C", "E_f"): None,
               ("CT-C", "E_g"): [0.3, 0.3, 0.3], ("C default", "E_g"): None})
    t = pages.compare(df, pages.paper_values("II"))
    fig = pages.bars_by_target(t, "Table II")
    texts = [x.get_text() for ax in fig.axes for x in ax.texts]
    assert texts.count(pages.PENDING) == 4
    legend = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    assert any("pending" in x for x in legend)


def test_paper_values_and_baselines():
    t1 = pages.paper_values("I")
    assert t1[("ct", "E_g")] == report.paper_value("table1_models", "CrystalTransformer", "MP-E_g")
    assert pages.paper_values("III")[("CGCNN(mt)", "E_f")] == report.paper_value("table3_cross_task", "E_f",
                                                                                 "CGCNN(mt)")
    b = pages.baselines("II", ["CT-M", "CT0-C", "M onehot", "M default", "C random"])
    assert b[("CT-M", "E_f")] == "M default" and b[("CT0-C", "E_g")] == "C default"
    assert b[("M onehot", "E_f")] == "M default" and ("M default", "E_f") not in b
    assert pages.baselines("IV", ["CGCNN", "CGCNN(E_a)"]) == {("CGCNN(E_a)", t): "CGCNN" for t in ("E_f", "E_g")}
    with pytest.raises(ValueError):
        pages.paper_values("V")


# ------------------------------------------------------------------ the top of a page
def test_table1_scale_sets_the_fronts_beside_ct_and_the_paper():
    ct = pd.DataFrame({"column": ["ct", "ct"], "target": ["E_f", "E_g"], "mae": [0.11, 0.5]})
    fr = pd.DataFrame({"column": ["cgcnn", "cgcnn"], "target": ["E_f", "E_g"], "mae": [0.05, 0.3]})
    md = pages.table1_scale(fr, ct, {"cgcnn": 30, "ct": 20})
    assert "| target | CGCNN (one-hot), 30 epochs | CT, 20 epochs |" in md and "one seed each" in md
    assert "| E_f | 0.0500 (0.0830) | 0.110 (0.0970) |" in md          # ours (the paper's Table I)
    assert "| E_g | 0.300 (0.384) | 0.500 (0.563) |" in md and "not a verdict" in md
    two = pages.table1_scale(pd.concat([fr, fr.assign(mae=[0.07, np.nan])]), ct, {"cgcnn": 30, "ct": 20})
    assert "| E_f | 0.0600 (n=2) (0.0830) |" in two and "| E_g | 0.300 (0.384) |" in two  # a pending seed
    assert pages.table1_scale(pd.DataFrame(), ct, {}) == ""


def test_headline_states_claim_ours_change_and_verdict():
    df = rows({("C default", "E_f"): [0.10, 0.10, 0.10], ("CT-C", "E_f"): [0.08, 0.09, 0.085],
               ("C default", "E_g"): None, ("CT-C", "E_g"): None, ("C-C", "E_f"): None})
    v = claims.judge(df, claims.claims_for("II"))
    md = pages.headline(v, "cpu", budget="*Budget:* x.")
    line = next(x for x in md.splitlines() if "CT-C vs CGCNN) | " in x and "E_f" in x)
    assert "0.100 ± 0.000 (n=3) → 0.0850 ± 0.0050 (n=3)" in line
    assert "-15.0% [" in line and "**reproduced" in line
    eg = next(x for x in md.splitlines() if "improve CGCNN on E_g" in x)
    assert eg.count(pages.PENDING) == 2                       # ours and the verdict
    # the profile runs no ALIGNN front at all: not pending but "not run on this profile"
    a = next(x for x in md.splitlines() if "than A's into CGCNN on E_f" in x)
    assert claims.NOT_RUN in a and pages.PENDING not in a
    assert "Ours (profile `cpu`)" in md and md.rstrip().endswith("*Budget:* x.")


def test_headline_of_claims_without_a_relative_change():
    rows_ = [{"claim": "k = 3 clusters", "paper": "3", "ours": "k = 4", "verdict": report.CONTRADICTED},
             {"claim": "a | b", "paper": "R² 0.8", "ours": "—", "verdict": report.MISSING}]
    md = pages.headline(rows_, "quick")
    assert "Our change" not in md and "**contradicted**" in md and "a \\| b" in md
    assert md.splitlines()[-1].count(pages.PENDING) == 2


def test_budget_note_reads_the_profile_and_the_data():
    from ctlib import data, experiments

    full = data.benchmark_counts("mp2018")["with_structure"]["train"]
    note = pages.budget_note("smoke", "II")
    n = len(experiments.model_split(experiments.mp_data("smoke")[1], "cgcnn", "smoke")["train"])
    assert f"**{n:,} of the {full:,}**" in note
    assert "instead of MP*" in note and "1 training seed" in note and "tiny model widths" in note
    cpu = pages.budget_note("cpu", "III")
    assert f"**4,000 of the {full:,}**" in cpu and "(seed 0)" in cpu
    assert "60 epochs, the whole learning-rate schedule" in cpu and "early stopping" not in cpu
    assert "at most 2 epochs, early stopping after 5 epochs" in pages.budget_note("smoke", "III")
    assert "multi-task 30" in cpu and "the `paper` profile: 500" in cpu and "training seed" not in cpu
    assert "3,334 Castelli" in pages.budget_note("quick", "perovskites")
    assert "data-scarce transfer" not in pages.budget_note("quick", "perovskites")
    cpu_pv = pages.budget_note("cpu", "perovskites")
    assert "data-scarce transfer (5 seeds" in cpu_pv and "100 epochs, the whole" in cpu_pv
    paper = pages.budget_note("paper", "IV")
    assert "tiny" not in paper and "train on" not in paper and "epochs" not in paper
    with pytest.raises(ValueError):
        pages.budget_note("cpu", "VIII")


def test_provenance_line_counts_pending_runs():
    df = rows(SPEC)
    assert "6 of 15 runs pending" in pages.provenance_line(df)


def test_records_finds_runs_of_any_profile_but_not_their_snapshots(tmp_path):
    rec = {"run_id": "r1", "config_hash": "c", "device": "cuda", "wall_s": 120.0,
           "code": {"commit": "abcdef123456"}}
    (tmp_path / "cpu" / "table2").mkdir(parents=True)
    (tmp_path / "cpu" / "table2" / "r1.json").write_text(json.dumps(rec))
    (tmp_path / "quick" / "fronts" / "embeddings" / "r2").mkdir(parents=True)
    (tmp_path / "quick" / "fronts" / "embeddings" / "r2.json").write_text(json.dumps({"Fe": [1.0]}))
    df = pd.DataFrame({"run_id": ["r1", "r2", None, "missing"]})
    found = pages.records(df, tmp_path)
    assert list(found) == ["r1"] and found["r1"]["device"] == "cuda"
    assert pages.records(pd.DataFrame({"mae": [1.0]}), tmp_path) == {}


def test_verdict_summary_counts_each_verdict():
    v = pd.DataFrame([{"verdict": report.REPRODUCED}, {"verdict": report.MISSING},
                      {"verdict": report.MISSING, "run_here": False}])
    text = pages.verdict_summary(v, pd.DataFrame([{"verdict": report.MISSING}]), "cpu")
    assert "the 3 claims" in text and "**1** reproduced" in text and "**1** pending" in text
    assert f"**1** {claims.NOT_RUN}" in text and "The 1 interpretability claims" in text


# ------------------------------------------------------------------ page 06
def test_perovskite_comparison_pairs_each_model_with_its_plain_start():
    df = pd.DataFrame([
        {"dataset": "castelli-3334", "target": "e_form_per_atom", "column": c, "seed": s, "mae": m,
         "unit": "eV/atom", "n_train": 2667}
        for c, ms in (("C", [0.10, 0.12]), ("CT-C", [0.09, 0.09]), ("M", [0.2, 0.2]), ("CT-M", [math.nan] * 2))
        for s, m in zip((0, 1), ms)])
    t = pages.perovskite_comparison(df).set_index("model")
    assert t.loc["CT-C", "vs baseline"] == pytest.approx((0.09 - 0.11) / 0.11)
    assert t.loc["CT-M", "ours"] == pages.PENDING and math.isnan(t.loc["CT-M", "vs baseline"])
    assert math.isnan(t.loc["C", "vs baseline"]) and t.loc["C", "n_train"] == 2667
    fig = pages.perovskite_bars(df)
    assert [x.get_text() for x in fig.axes[0].texts] == [pages.PENDING]


# ------------------------------------------------------------------ pages 07 and 08
def _write_run(root, profile="smoke", *, snapshot=True, seed=0):
    """A CT multi-task run record with an embedding (and its epoch-0 snapshot) in a results store."""
    from ctlib.embeddings import ElementEmbedding
    from ctlib.experiments import model_config, untrained_ct_table

    rid = f"ct-formation_energy_per_atom+band_gap-abcd1234-s{seed}"
    start = untrained_ct_table(profile)
    trained = ElementEmbedding(list(start.elements), np.asarray(start.matrix) * 1.1)
    emb_rel = f"{profile}/fronts/embeddings/{rid}.json"
    trained.save(root / emb_rel)
    snaps = []
    if snapshot:
        snap_rel = f"{profile}/fronts/embeddings/{rid}/epoch_000.json"
        start.save(root / snap_rel)
        snaps = [snap_rel]
    rec = {"run_id": rid, "profile": profile, "experiment": "fronts", "seed": seed, "config_hash": rid,
           "model": "ct", "targets": ["formation_energy_per_atom", "band_gap"],   # as runs.run writes
           "config": {"model": "ct", "targets": ["formation_energy_per_atom", "band_gap"], "seed": seed,
                      "model_config": model_config("ct", profile)},
           "train_config": {"epochs": 30}, "epochs_run": 3,
           "embedding_path": emb_rel, "embedding_snapshots": snaps}
    (root / profile / "fronts" / f"{rid}.json").write_text(json.dumps(rec))
    return rid


def test_find_ct_sources_gives_a_pending_page_and_the_latest_snapshot(tmp_path):
    from ctlib.embeddings import ElementEmbedding

    sources, msg = pages.find_ct_sources("auto", "cpu", results_root=tmp_path)
    assert sources == [] and "Pending: the CT pretraining of profile `cpu` is not stored yet" in msg
    assert "ctlib campaign --profile cpu" in msg and str(tmp_path) not in msg
    snap = tmp_path / "cpu" / "fronts" / "embeddings" / "ct-formation_energy_per_atom+band_gap-1-s0"
    for e in (0, 4):
        ElementEmbedding.cgcnn92().save(snap / f"epoch_{e:03d}.json")
    assert "epoch 4" in pages.find_ct_sources("auto", "cpu", results_root=tmp_path)[1]
    assert "training pages" in pages.find_ct_sources("auto", "smoke", results_root=tmp_path)[1]
    from ctlib.lookup import EmbeddingNotFound
    with pytest.raises(EmbeddingNotFound):               # a named run that does not exist is an error
        pages.find_ct_sources("no-such-run", "cpu", results_root=tmp_path)


@pytest.mark.parametrize("snapshot", [True, False])
def test_embedding_drift_from_the_runs_start(tmp_path, snapshot):
    rid = _write_run(tmp_path, snapshot=snapshot)
    sources, msg = pages.find_ct_sources("auto", "smoke", results_root=tmp_path)
    assert msg is None and sources[0].run_id == rid
    drift, desc = pages.embedding_drift(sources[0], "smoke", results_root=tmp_path)
    assert ("epoch-0 snapshot" in desc) == snapshot
    assert drift["rel_frobenius"] == pytest.approx(0.1) and drift["mean_cosine"] == pytest.approx(1.0)
    text = pages.drift_text(drift, desc)
    assert "**0.100**" in text and desc in text
    assert "3 of 30 epochs" in pages.embedding_budget(sources[0], "smoke")
    assert str(tmp_path) not in sources[0].description


def test_show_pending_and_learning_curves_without_runs(capsys):
    import matplotlib.pyplot as plt

    ax = pages.learning_curves([None, None], title="x")
    assert ax.get_legend() is None and ax.texts[0].get_text().startswith(pages.PENDING)
    plt.close("all")
    ax = pages.parity(None)
    assert pages.PENDING in ax.texts[0].get_text()


def test_baseline_fidelity_sets_ours_beside_the_paper_and_the_published_numbers():
    import pandas as pd

    from ctlib import pages

    t1 = pd.DataFrame({"table": "I", "column": "ct", "target": ["E_f", "E_g"], "seed": 0, "mae": [0.109, 0.534]})
    fr = pd.DataFrame({"table": "I (fronts)", "column": ["cgcnn", "cgcnn", "megnet", "megnet"],
                       "target": ["E_f", "E_g"] * 2, "seed": 0, "mae": [0.0447, 0.311, float("nan"), 0.501]})
    out = pages.baseline_fidelity(t1, fr).set_index(["model", "target"])
    assert out.at[("CGCNN", "E_f"), "ours"] == "0.0447 (n=1; from one-hot (Table II's front))"
    assert out.at[("CGCNN", "E_f"), "paper / published"] == f"{0.083 / 0.039:.2f}×"
    assert out.at[("MEGNet", "E_f"), "ours"] == "pending"              # planned, not stored
    assert out.at[("ALIGNN", "E_g"), "ours"] == "not run on this profile"
    assert out.at[("CT", "E_f"), "ours"].startswith("0.109") and out.at[("CT", "E_f"), "published"].startswith("—")


def test_curves_by_target_draws_each_stored_run_and_says_pending_otherwise():
    # a committed cpu run: Table III's CGCNN(mt) back end, seed 0, 60 epochs
    rid = "cgcnn-formation_energy_per_atom-c3dff26b-s0"
    df = pd.DataFrame([{"target": "E_f", "column": "CGCNN(mt)", "seed": 0, "run_id": rid},
                       {"target": "E_g", "column": "CGCNN(mt)", "seed": 0, "run_id": None}])
    from pathlib import Path

    fig = pages.curves_by_target(df, Path(__file__).resolve().parents[1] / "results", title="headline, ")
    ef, eg = fig.axes
    assert len(ef.lines) == 1 and len(ef.lines[0].get_xdata()) == 60 and ef.get_yscale() == "log"
    assert ef.get_title() == "headline, E_f" and ef.get_legend().get_texts()[0].get_text().startswith("CGCNN(mt)")
    assert not eg.lines and "pending" in eg.texts[0].get_text()
    assert eg.get_yscale() == "linear" and not len(eg.get_yticks())    # no made-up axis on an empty panel
