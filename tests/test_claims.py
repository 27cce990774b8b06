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
    assert row["ours"] == "0.100 ± 0.000 (n=3) → 0.085 ± 0.005 (n=3)"


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


def test_judge_r2_from_the_08_summary():
    summary = {"repeats": 2, "paper_r2": {"atomic_radius": 0.784, "boiling_point": 0.864},
               "r2": {"CT (ours)": {"atomic_radius": {"r2_pooled_mean": 0.75, "r2_pooled_std": math.sqrt(0.005)},
                                    "boiling_point": {"r2_pooled_mean": 0.0, "r2_pooled_std": 0.1}}}}
    rows = claims.judge_r2(summary)
    assert [r["verdict"] for r in rows] == [report.REPRODUCED, report.INCONCLUSIVE]
    assert rows[0]["effect_size_differs"] is False
    assert "[0.115, 1.385]" in rows[0]["ours"]                  # 0.75 ± 12.706 * 0.05
    one = claims.judge_r2({**summary, "repeats": 1,
                           "r2": {"CT (ours)": {"atomic_radius": {"r2_pooled_mean": 0.7, "r2_pooled_std": None}}}})
    assert one[0]["verdict"] == report.ONE_SEED and one[1]["verdict"] == report.MISSING


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
