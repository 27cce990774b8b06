"""The claims table: every claim goes through the one rule of ctlib.report."""
import json
import math

import pandas as pd
import pytest

from ctlib import claims, report
from ctlib.claims import CLAIMS, Claim

T2 = 0.95 * math.sqrt(2 / (4 * 0.975 * 0.025))      # Student-t 97.5 % quantile, df = 2


def tidy(column, maes, *, table="II", target="E_f", n_test=3126, seeds=(0, 1, 2), **extra):
    return pd.DataFrame({"table": table, "target": target, "column": column, "seed": list(seeds),
                         "mae": maes, "n_test": n_test, **extra})


CLAIM = Claim("x", "CT-C beats CGCNN", "II", "E_f", "C default", "CT-C", 0.083, 0.071)


def test_every_claim_has_a_direction():
    assert all(math.isfinite(c.paper_rel) and c.paper_rel != 0 for c in CLAIMS)
    assert len({c.id for c in CLAIMS}) == len(CLAIMS)


def test_judge_pairs_seeds_and_reports_the_interval():
    tables = pd.concat([tidy("C default", [0.10, 0.10, 0.10]), tidy("CT-C", [0.08, 0.09, 0.085]),
                        tidy("CT-C", [0.5, 0.5, 0.5], target="E_g")])      # other target: ignored
    row = claims.judge(tables, [CLAIM]).iloc[0]
    assert row["verdict"] == report.REPRODUCED
    h = T2 * 0.05 / math.sqrt(3)
    assert row["rel_mean"] == pytest.approx(-0.15)
    assert (row["rel_lo"], row["rel_hi"]) == pytest.approx((-0.15 - h, -0.15 + h))
    assert row["paper_rel"] == pytest.approx((0.071 - 0.083) / 0.083) and row["n_seeds"] == 3
    assert not row["effect_size_differs"]                   # -14.5 % lies inside [-27.4 %, -2.6 %]
    assert row["paper"] == "0.083 → 0.071 (-14%)"
    assert row["ours"] == "0.100 ± 0.000 (n=3) → 0.0850 ± 0.0050 (n=3)"    # 3 significant digits
    assert row["run_here"]



def test_pretraining_is_judged_against_the_untrained_table_on_table_iii_and_the_perovskites():
    untrained = [0.125, 0.124, 0.126]
    tables = pd.concat([tidy("CGCNN(CT untrained)", untrained, table="III"),
                        tidy("CGCNN(mt)", [0.109, 0.110, 0.108], table="III"),             # -13 % on each seed
                        tidy("CGCNN(E_f)", [0.130, 0.129, 0.131], table="III"),            # +4 %: raised
                        tidy("CGCNN(mt)", [0.108, 0.108, 0.108], table="II"),              # another table: ignored
                        tidy("CGCNN(CT untrained)", untrained, table="III", target="E_g")])
    scarce = tidy("CT untrained", [0.020, 0.021, 0.019], table="scarce").assign(dataset="hoip")
    scarce = pd.concat([scarce, scarce.assign(column="CT mt", mae=[0.0195, 0.0215, 0.0185])])
    v = claims.judge_pretraining(tables, scarce.assign(start=scarce["column"])).set_index(["test", "claim"])
    assert v.at[("MP-2018 E_f", "CGCNN(mt) vs CGCNN(CT untrained)"), "verdict"] == report.REPRODUCED
    assert v.at[("MP-2018 E_f", "CGCNN(mt) vs CGCNN(CT untrained)"), "mean_rel"] == pytest.approx(-0.128, abs=1e-3)
    assert v.at[("MP-2018 E_f", "CGCNN(E_f) vs CGCNN(CT untrained)"), "verdict"] == report.CONTRADICTED
    assert v.at[("MP-2018 E_f", "CGCNN(E_g) vs CGCNN(CT untrained)"), "verdict"] == report.MISSING
    assert v.at[("MP-2018 E_g", "CGCNN(mt) vs CGCNN(CT untrained)"), "verdict"] == report.MISSING
    hoip = v.loc["HOIP (atomization energy)"]
    assert hoip.at["CT mt vs CT untrained", "verdict"] == report.INCONCLUSIVE
    assert hoip.at["CT E_f vs CT untrained", "verdict"] == report.MISSING
    assert len(claims.judge_pretraining(tables)) == 6                           # without the perovskites

def test_judge_refuses_runs_on_different_test_sets():
    # Table I on quick: ALIGNN is tested on 1,000 structures, CGCNN on 3,126
    c = Claim("y", "ALIGNN beats CGCNN", "I", "E_f", "cgcnn", "alignn", 0.083, 0.022)
    tables = pd.concat([tidy("cgcnn", [0.10], table="I", seeds=[0]),
                        tidy("alignn", [0.12], table="I", seeds=[0], n_test=1000)])
    row = claims.judge(tables, [c]).iloc[0]
    assert row["verdict"] == report.NOT_COMPARABLE and "1,000" in row["reason"]


def test_judge_one_seed_and_perovskite_dataset_filter():
    c = [cl for cl in CLAIMS if cl.id == "perovskite-CT-C"][0]
    tables = pd.concat([
        tidy("C", [0.10], table="perovskites", target="e_form_per_atom", seeds=[0], dataset="castelli-3334"),
        tidy("CT-C", [0.09], table="perovskites", target="e_form_per_atom", seeds=[0], dataset="castelli-3334"),
        tidy("CT-C", [0.5], table="perovskites", target="e_form_per_atom", seeds=[0], dataset="hoip"),
    ])
    row = claims.judge(tables, [c]).iloc[0]
    assert row["verdict"] == report.ONE_SEED and row["rel_mean"] == pytest.approx(-0.1)


def test_judge_without_runs_says_missing_for_every_claim():
    empty = pd.DataFrame(columns=["table", "target", "column", "seed", "mae", "n_test", "dataset"])
    out = claims.judge(empty)
    assert len(out) == len(CLAIMS) and set(out["verdict"]) == {report.MISSING}


# ------------------------------------------------------------- interpretability
SCAN = [{"k": k, "inertia": 100.0 / k, "silhouette": s} for k, s in
        ((2, 0.30), (3, 0.40), (4, 0.35), (5, 0.32))]


def test_judge_k3_from_the_07_summary():
    full = {"paper_k": 3, "scan": SCAN, "null_silhouettes": {str(k): [0.1, 0.12, 0.14, 0.16, 0.2] for k in range(2, 6)}}
    assert claims.judge_k3(full)["verdict"] == report.REPRODUCED
    # only the max of the null saved (what 07 writes today): the threshold is that max
    only_max = {"paper_k": 3, "scan": SCAN, "null_silhouette_max": {"3": 0.41}}
    row = claims.judge_k3(only_max)
    assert row["verdict"] == report.INCONCLUSIVE and "only the maximum" in row["reason"]
    assert claims.judge_k3(None)["verdict"] == report.MISSING
    one = claims.judge_k3({**full, "seeds": [0]})
    assert one["verdict"] == report.ONE_SEED and "On this table alone: reproduced" in one["reason"]
    assert claims.judge_k3({**full, "seeds": [0, 1, 2]})["verdict"] == report.REPRODUCED


def test_judge_r2_from_the_08_summary():
    summary = {"repeats": 2, "paper_r2": {"atomic_radius": 0.784, "boiling_point": 0.864},
               "r2": {"CT (ours)": {"atomic_radius": {"r2_pooled_mean": 0.75, "r2_pooled_std": math.sqrt(0.005)},
                                    "boiling_point": {"r2_pooled_mean": 0.0, "r2_pooled_std": 0.1}}}}
    rows = claims.judge_r2(summary)
    assert [r["verdict"] for r in rows] == [report.REPRODUCED, report.INCONCLUSIVE]
    assert rows[0]["effect_size_differs"] is False
    assert "[0.115, 1.385]" in rows[0]["ours"]                  # 0.75 ± 12.706 * 0.05
    # one pretraining seed of the table: the CV repeats do not make a verdict
    held = claims.judge_r2({**summary, "seeds": [0]})
    assert [r["verdict"] for r in held] == [report.ONE_SEED, report.ONE_SEED]
    assert "On this table alone: reproduced" in held[0]["reason"] and "2 CV repeats" in held[0]["reason"]
    assert "per-seed" not in held[0]["reason"]
    assert claims.judge_r2({**summary, "seeds": [0, 1]})[0]["verdict"] == report.INCONCLUSIVE
    assert [r["verdict"] for r in claims.judge_r2({**summary, "seeds": [0, 1, 2]})] == [
        report.REPRODUCED, report.INCONCLUSIVE]
    one = claims.judge_r2({**summary, "repeats": 1,
                           "r2": {"CT (ours)": {"atomic_radius": {"r2_pooled_mean": 0.7, "r2_pooled_std": None}}}})
    assert one[0]["verdict"] == report.ONE_SEED and one[1]["verdict"] == report.MISSING


def test_k3_and_r2_are_judged_over_the_stored_pretrainings_when_seeds_are_too_few():
    full = {"paper_k": 3, "scan": SCAN, "null_silhouettes": {str(k): [0.1, 0.12, 0.14, 0.16, 0.2] for k in range(2, 6)},
            "seeds": [0]}
    tab = [{"table": f"CT {i}", "k_best": 2, "verdict": report.CONTRADICTED} for i in range(3)]
    row = claims.judge_k3({**full, "pretrainings": tab})
    assert row["verdict"] == report.CONTRADICTED and "3 stored CT pretrainings" in row["reason"]
    assert row["ours"] == "best k 2, 2, 2 over 3 pretrainings"
    mixed = tab[:2] + [{"table": "CT 2", "k_best": 3, "verdict": report.REPRODUCED}]
    assert claims.judge_k3({**full, "pretrainings": mixed})["verdict"] == report.INCONCLUSIVE
    # two tables are too few: held back as before; enough seeds of the table: judged on it
    assert claims.judge_k3({**full, "pretrainings": tab[:2]})["verdict"] == report.ONE_SEED
    assert claims.judge_k3({**full, "seeds": [0, 1, 2], "pretrainings": tab})["verdict"] == report.REPRODUCED
    # over the pretraining seeds of one recipe: the short cell says so
    seeds = claims.judge_k3({**full, "pretrainings": tab, "pretrainings_over": "seeds"})
    assert seeds["ours"] == "best k 2, 2, 2 over 3 pretraining seeds" and "3 pretraining seeds of the" in seeds["reason"]

    summary = {"repeats": 2, "paper_r2": {"atomic_radius": 0.784, "boiling_point": 0.864}, "seeds": [0],
               "r2": {"CT (ours)": {"atomic_radius": {"r2_pooled_mean": 0.75, "r2_pooled_std": 0.05},
                                    "boiling_point": {"r2_pooled_mean": 0.3, "r2_pooled_std": 0.01}}},
               "pretrainings": [{"table": "a", "r2": {"atomic_radius": 0.20, "boiling_point": 0.30}},
                                {"table": "b", "r2": {"atomic_radius": 0.25, "boiling_point": -0.30}},
                                {"table": "c", "r2": {"atomic_radius": 0.30, "boiling_point": 0.10}}]}
    rows = claims.judge_r2(summary)
    # R² 0.20-0.30 against 0.784: real, far smaller; boiling point [-0.73, +0.79] rules out 0.864
    assert [r["verdict"] for r in rows] == [report.WEAKER, report.NOT_REPRODUCED]
    assert rows[0]["ours"].startswith("0.250 ± 0.050 (n=3)") and "[0.126, 0.374]" in rows[0]["ours"]
    assert rows[0]["effect_size_differs"] is True and "per-table" in rows[0]["reason"]
    assert "a 0.200, b 0.250, c 0.300" in rows[0]["reason"]
    # over the pretraining seeds (the pages' pretrainings_over): the reason says what the tables are
    seeds = claims.judge_r2({**summary, "pretrainings_over": "seeds"})
    assert [r["verdict"] for r in seeds] == [report.WEAKER, report.NOT_REPRODUCED]
    assert "Judged over 3 pretraining seeds of the multi-task table" in seeds[0]["reason"]
    assert "over 3 pretraining seeds" in seeds[0]["reason"] and "stored CT pretrainings" not in seeds[0]["reason"]
    k = claims.judge_k3({**full, "pretrainings": tab, "pretrainings_over": "seeds"})
    assert k["verdict"] == report.CONTRADICTED and "3 pretraining seeds" in k["reason"]
    from ctlib.analysis import pretraining

    assert claims.MIN_TABLE_SEEDS == pretraining.SEEDS_FOR_A_VERDICT


def test_judge_interpretability_reads_the_page_summaries(tmp_path):
    out = claims.judge_interpretability(tmp_path)
    assert list(out["verdict"]) == [report.MISSING]              # pages 07 and 08 have not run
    (tmp_path / "07_clusters.json").write_text(json.dumps(
        {"paper_k": 3, "scan": SCAN, "null_silhouette_max": {"3": 0.2}}))
    (tmp_path / "08_reverse_prediction.json").write_text(json.dumps(
        {"repeats": 3, "paper_r2": {"melting_point": 0.856},
         "r2": {"CT (ours)": {"melting_point": {"r2_pooled_mean": -0.25, "r2_pooled_std": 0.05}}}}))
    out = claims.judge_interpretability(tmp_path)
    assert list(out["verdict"]) == [report.REPRODUCED, report.CONTRADICTED]


# ------------------------------------------------------------- pages and the scorecard
def test_claims_for_a_table():
    assert [c.id for c in claims.claims_for("perovskites")] == ["perovskite-CT-C"]
    two = claims.claims_for("II")
    assert len(two) == 12 and {c.target for c in two} == {"E_f", "E_g"}
    assert {c.id for c in claims.claims_for("IV", "E_g")} == {"IV-coords-E_g", "IV-frozen-vs-trainable-E_g",
                                                             "IV-frozen-vs-base-E_g"}
    with pytest.raises(ValueError, match="no claim for table 'V'"):
        claims.claims_for("V")


def test_a_claim_the_profile_does_not_run_is_not_pending():
    # cpu's Table II: C, M and CT fronts into CGCNN only; there is no ALIGNN column at all
    tables = pd.concat([tidy("C default", [0.10, 0.10, 0.10]), tidy("CT-C", [math.nan] * 3),
                        tidy("M default", [0.1, 0.1, 0.1], target="E_g")])
    out = claims.judge(tables, claims.claims_for("II", "E_f")).set_index("id")
    assert out.loc["II-CT-C-E_f", "verdict"] == report.MISSING and out.loc["II-CT-C-E_f", "run_here"]
    assert claims.shown_verdict(out.loc["II-CT-C-E_f"]) == claims.PENDING
    assert not out.loc["II-CT-A-E_f", "run_here"] and "no A default and no CT-A" in out.loc["II-CT-A-E_f", "reason"]
    assert claims.shown_verdict(out.loc["II-CT-A-E_f"]) == claims.NOT_RUN
    assert claims.verdict_label(report.REPRODUCED) == report.REPRODUCED
    html = claims.styled(out.reset_index()).to_html()
    assert claims.NOT_RUN in html and claims.PENDING in html and ">missing<" not in html


def test_jarvis_claims_and_untested_rows():
    j = claims.jarvis_claims()
    assert [c.id for c in j] == ["V-CT-C-E_f", "V-CT-C-E_g"]
    assert j[1].paper_rel == pytest.approx((1.074 - 1.374) / 1.374)
    assert not {c.id for c in j} & {c.id for c in CLAIMS}
    rows = claims.untested(j, "no file")
    assert rows[0]["verdict"] == report.NOT_TESTABLE and rows[0]["paper"] == "0.135 → 0.125 (-7%)"


def _colour_of(fig, label):
    from matplotlib.colors import to_hex

    return [to_hex(t.get_color()) for t in fig.axes[0].texts
            if t.get_text() == label or t.get_text().startswith(f"{label} (Holm: ")]


def test_scorecard_draws_every_claim_coloured_by_verdict():
    import matplotlib
    matplotlib.use("Agg")

    tables = pd.concat([tidy("C default", [0.10, 0.10, 0.10]), tidy("CT-C", [0.08, 0.09, 0.085]),
                        tidy("C default", [0.10, 0.10, 0.10], target="E_g"),
                        tidy("CT-C", [0.12, 0.13, 0.125], target="E_g"),
                        *[tidy(c, [math.nan] * 3, table="III", target=t)      # Table III planned, pending
                          for c in ("CGCNN", "CGCNN(E_f)", "CGCNN(E_g)", "CGCNN(mt)") for t in ("E_f", "E_g")]])
    v = claims.judge(tables, claims.claims_for("II", "E_f")[:1] + claims.claims_for("II", "E_g")[:1]
                     + claims.claims_for("III"))
    interp = pd.DataFrame([claims.judge_k3(None)])
    fig = claims.scorecard_figure(v, interp, title="t")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == len(v) + 1 and labels[0].startswith("II · CT embeddings improve CGCNN on E_f")
    assert _colour_of(fig, report.REPRODUCED) == [claims.VERDICT_COLOURS[report.REPRODUCED]]
    assert _colour_of(fig, report.CONTRADICTED) == [claims.VERDICT_COLOURS[report.CONTRADICTED]]
    assert len(_colour_of(fig, claims.PENDING)) == len(claims.claims_for("III")) + 1
    # the paper's change of every claim is drawn (open diamonds), ours only where judged
    diamonds = [ln for ln in fig.axes[0].lines if ln.get_marker() == "D"]
    assert len(diamonds) == len(v)
    assert any("pending (no stored run)" == t.get_text() for t in fig.axes[0].texts)
    # where Holm's correction over the judged claims changes a word, the label gives both
    words = report.holm_words(v)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for r, w in zip(v.to_dict("records"), words):
        if w is not None and w != r["verdict"]:
            assert f"{r['verdict']} (Holm: {w})" in texts
    assert any(w is not None and w != r for r, w in zip(v["verdict"], words))   # the case is exercised
    with pytest.raises(ValueError):
        claims.scorecard_figure(v.iloc[:0])


def test_holm_line_names_the_verdicts_that_change_once_the_family_is_corrected():
    verdicts = pd.DataFrame([
        {"claim": "CT-C vs CGCNN", "target": "E_f", "verdict": report.REPRODUCED, "mean_rel": -0.2,
         "paper_rel": -0.14, "p_value": 0.001, "p_value_paper": 0.5},
        {"claim": "CT mt vs cgcnn92", "target": "", "verdict": report.REPRODUCED, "mean_rel": -0.1,
         "paper_rel": math.nan, "p_value": 0.03, "p_value_paper": math.nan},
        {"claim": "CT-M vs MEGNet", "target": "E_f", "verdict": report.MISSING}])
    interp = pd.DataFrame([{"claim": "R² of the radius", "holm": {
        "verdict": report.INCONCLUSIVE, "mean_rel": 0.05, "paper_rel": math.nan, "p_value": 0.4}},
        {"claim": "k = 3", "holm": None}])
    # 4 tests (0.001, 0.5, 0.03, 0.4): 0.001 <= 0.05/4 stays, 0.03 > 0.05/3 does not
    text = claims.holm_line(verdicts, interp)
    assert "over the 4 tests that the 3 judged verdicts rest on" in text
    assert "**2 of the 3 keep their word**; these change: CT mt vs cgcnn92: *reproduced* → *inconclusive*." in text
    assert "CT-C" not in text and "k = 3" not in text
    assert claims.holm_line(verdicts.iloc[2:], None) == ""                 # nothing judged: no line


def test_scorecard_text_of_an_r2_claim_stays_inside_the_axes():
    import matplotlib
    matplotlib.use("Agg")

    v = claims.judge(pd.concat([tidy("C default", [0.10, 0.10, 0.10]), tidy("CT-C", [0.08, 0.09, 0.085])]),
                     claims.claims_for("II", "E_f")[:1])
    interp = pd.DataFrame([{"claim": "CatBoost predicts Electrical Conductivity from the CT embedding (R² > 0)",
                            "paper": "R² 0.831", "verdict": report.INCONCLUSIVE,
                            "ours": "0.101 ± 0.074 (n=4), 95% interval [-0.016, 0.219]"}])
    fig = claims.scorecard_figure(v, interp)
    fig.canvas.draw()
    ax = fig.axes[0]
    [text] = [t for t in ax.texts if t.get_text().startswith("ours:")]
    assert text.get_text() == "ours: R² 0.101 ± 0.074 (n=4) [-0.016, 0.219]; paper: R² 0.831"
    assert text.get_window_extent().x1 < ax.get_window_extent().x1


def test_placeholder_scorecard_only_when_missing(tmp_path):
    path = claims.write_placeholder_scorecard(tmp_path)
    assert path == tmp_path / "figures" / "scorecard.png" and path.stat().st_size > 1000
    assert (tmp_path / "figures" / "scorecard.pdf").is_file()
    assert claims.write_placeholder_scorecard(tmp_path) is None


def test_collect_tables_reads_the_store_only(tmp_path, monkeypatch):
    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path))
    t = claims.collect_tables("smoke")
    assert set(t["table"]) == {"I", "II", "III", "IV", "perovskites", "fronts"}
    assert t["mae"].isna().all() and t["run_id"].isna().all()          # nothing trained
    out = claims.judge(t)
    assert set(out["verdict"]) == {report.MISSING}
    # smoke has no headline on the whole train split and no matched fronts (cpu steps; smoke
    # pretrains per seed): only those claims are not run
    whole = out["id"].str.contains("whole-split|own-front")
    assert whole.sum() == 4 and out.loc[~whole, "run_here"].all() and not out.loc[whole, "run_here"].any()
    assert out.loc[whole, "reason"].str.startswith("Not run on this profile: it has no table").all()
    # a claim that sets two fronts' tables against each other names both fronts' own accuracy
    fronts = out.set_index("id")["fronts"]
    assert fronts["II-CT-beats-C-C-E_f"] == "own test MAE of the fronts: C pending, CT pending"
    assert fronts["II-CT-C-E_f"] == "" and fronts["III-mt-E_f"] == ""


def test_fronts_text_gives_each_fronts_own_test_mae():
    c = next(c for c in claims.CLAIMS if c.id == "II-CT-beats-M-C-E_g")
    t = pd.DataFrame({"table": ["fronts"] * 3, "target": ["E_g"] * 3, "column": ["CT", "M", "C"],
                      "mae": [0.534, 0.501, 0.311]})
    assert claims.fronts_text(t, c) == "own test MAE of the fronts: M 0.501, CT 0.534"
    assert claims.fronts_text(t.assign(target="E_f"), c) == ""


def test_cpu_table1_is_the_ct_pretraining_and_its_claims_against_other_models_are_not_run(tmp_path, monkeypatch,
                                                                                       data_root):
    from ctlib import experiments

    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "results"))
    t1 = experiments.table1("cpu", train=False)          # nothing stored: pending rows, no training
    assert set(t1["column"]) == {"ct"} and sorted(t1["target"]) == ["E_f", "E_g"]
    assert set(t1["seed"]) == {experiments.front_seed("cpu", 0)} and t1["mae"].isna().all()
    assert experiments.ct_coord_scale("cpu", train=False).empty
    out = claims.judge(t1).set_index("id")
    for cid in ("I-ct-vs-cgcnn-E_f", "I-megnet-vs-cgcnn-E_g"):
        assert not out.at[cid, "run_here"] and out.at[cid, "reason"].startswith("Not run on this profile")
    # the GNN fronts are set beside CT for scale (pending here), and only where Table I is CT alone
    fr = experiments.table1_fronts("cpu", train=False)
    assert set(fr["column"]) == {"cgcnn", "megnet"} and set(fr["table"]) == {"I (fronts)"}
    assert set(fr["seed"]) == {experiments.front_seed("cpu", 0)} and len(fr) == 4 and fr["mae"].isna().all()
    assert experiments.table1_fronts("quick", train=False).empty
    # quick keeps all four models, one seed each
    assert set(experiments.table1("quick", train=False)["column"]) == {"cgcnn", "megnet", "alignn", "ct"}


def test_table2_claims_are_judged_again_against_the_published_baselines():
    out = claims.judge_published().set_index(["claim", "target"])
    assert len(out) == 6                                   # CT-C, CT-M, CT-A on E_f and E_g
    row = out.loc[("CT embeddings improve CGCNN on E_f (CT-C vs CGCNN)", "E_f")]
    # the paper's CT-C 0.071 beats its own CGCNN 0.083 but not the published 0.039
    assert row["paper CT"] == 0.071 and row["published baseline"] == 0.039
    assert row["vs paper baseline"] == pytest.approx(0.071 / 0.083 - 1)
    assert row["vs published baseline"] == pytest.approx(0.071 / 0.039 - 1) and row["holds"] == "no"
    assert "Xie & Grossman" in row["source"]
    assert out.loc[("CT embeddings improve CGCNN on E_g (CT-C vs CGCNN)", "E_g"), "holds"] == "yes"
    with pytest.raises(KeyError, match="no published E_f number for 'ct'"):
        report.published_value("ct", "E_f")


def test_scorecard_rows_of_claims_judged_twice_keep_their_target():
    from ctlib.claims.display import _row_label

    labels = {c.id: _row_label(c.table, c.text) for c in claims.CLAIMS}
    assert labels["III-mt-own-front-E_f"] == "III (front = back seed) · Multi-task CT embeddings improve CGCNN on E_f"
    assert labels["III-mt-whole-split-E_g"] == "III (whole split) · Multi-task CT embeddings improve CGCNN on E_g"
    assert all(len(x) <= 72 for x in labels.values())
    assert len(set(labels.values())) == len(labels)          # no two rows read the same
