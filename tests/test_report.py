"""The one verdict rule (ctlib.report): paired over seeds, sized by a t-interval, refused
when the runs are not comparable. Every expected number below is worked out by hand."""
import math

import numpy as np
import pandas as pd
import pytest

from ctlib import report

# Student-t 97.5 % quantiles in closed form (independent of scipy):
# df = 1: tan(pi (p - 1/2)); df = 2: (2p - 1) sqrt(2 / (4 p (1 - p))).
T1 = math.tan(math.pi * 0.475)                      # 12.7062...
T2 = 0.95 * math.sqrt(2 / (4 * 0.975 * 0.025))      # 4.3027...


def rows(maes, seeds=None, n_test=3126, split_hash=None):
    """Tidy rows as ctlib.experiments makes them: one per seed."""
    seeds = list(range(len(maes))) if seeds is None else seeds
    df = pd.DataFrame({"seed": seeds, "mae": maes, "n_test": n_test})
    if split_hash is not None:
        df["split_hash"] = split_hash
    return df


BASE = rows([0.10, 0.10, 0.10])
# per-seed relative changes -0.2, -0.1, -0.15: mean -0.15, sd 0.05, half-width T2 * 0.05 / sqrt(3)
HALF3 = T2 * 0.05 / math.sqrt(3)


def test_t_constants_are_the_table_values():
    assert T1 == pytest.approx(12.706, abs=1e-3) and T2 == pytest.approx(4.303, abs=1e-3)


def test_paper_values_are_the_transcribed_ones():
    assert report.paper_value("table1_models", "CGCNN", "MP-E_f") == 0.083
    assert report.paper_value("table2_frontend_backend", "E_g", "CT-A") == 0.256


def test_reproduced():
    v = report.paired_verdict(BASE, rows([0.08, 0.09, 0.085]), paper_rel=-0.14)
    assert v.verdict == report.REPRODUCED
    assert v.mean_rel == pytest.approx(-0.15)
    assert v.interval == pytest.approx((-0.15 - HALF3, -0.15 + HALF3))
    assert v.interval == pytest.approx((-0.274207, -0.025793), abs=1e-6)
    assert v.n_seeds == 3 and v.seeds == (0, 1, 2)
    assert v.paper_rel == -0.14 and v.effect_size_differs is False


def test_contradicted():
    v = report.paired_verdict(BASE, rows([0.12, 0.11, 0.115]), paper_rel=-0.14)
    assert v.verdict == report.CONTRADICTED
    assert v.mean_rel == pytest.approx(0.15)
    assert v.interval == pytest.approx((0.15 - HALF3, 0.15 + HALF3))
    assert v.effect_size_differs is True          # -14 % is far outside [+2.6 %, +27.4 %]


def test_inconclusive():
    # changes -0.1, +0.1, 0: mean 0, sd 0.1
    v = report.paired_verdict(BASE, rows([0.09, 0.11, 0.10]), paper_rel=-0.14)
    assert v.verdict == report.INCONCLUSIVE
    assert v.mean_rel == pytest.approx(0.0, abs=1e-12)
    h = T2 * 0.1 / math.sqrt(3)
    assert v.interval == pytest.approx((-h, h))
    assert v.effect_size_differs is False


def test_two_seeds_give_a_wide_interval():
    # changes -0.2, -0.1: mean -0.15, sd 0.1/sqrt(2); half-width T1 * 0.05 = 0.635
    v = report.paired_verdict(rows([0.10, 0.10]), rows([0.08, 0.09]), paper_rel=-0.14)
    assert v.verdict == report.INCONCLUSIVE
    assert v.interval == pytest.approx((-0.15 - T1 * 0.05, -0.15 + T1 * 0.05))


def test_the_word_follows_the_size_of_the_effect():
    # same runs as test_reproduced, interval [-27.4 %, -2.6 %]: the paper's -1 % lies between 0
    # and the interval (our effect is larger: stronger than claimed), -50 % beyond it (weaker)
    for paper_rel, verdict in ((-0.01, report.STRONGER), (-0.5, report.WEAKER), (-0.14, report.REPRODUCED)):
        v = report.paired_verdict(BASE, rows([0.08, 0.09, 0.085]), paper_rel=paper_rel)
        assert v.verdict == verdict and v.effect_size_differs is (verdict != report.REPRODUCED)
    # test_inconclusive's runs, interval [-24.8 %, +24.8 %]: the paper's -30 % is ruled out
    v = report.paired_verdict(BASE, rows([0.09, 0.11, 0.10]), paper_rel=-0.30)
    assert v.verdict == report.NOT_REPRODUCED and "rules out" in v.reason


@pytest.mark.parametrize("lo, hi, paper, verdict", [
    (-0.30, -0.10, -0.20, report.REPRODUCED),       # 0 excluded on the paper's side, p inside
    (-0.08, -0.02, -0.20, report.WEAKER),           # between 0 and p
    (-0.40, -0.25, -0.20, report.STRONGER),         # beyond p
    (-0.05, +0.03, -0.20, report.NOT_REPRODUCED),   # contains 0, excludes p
    (+0.02, +0.09, -0.20, report.CONTRADICTED),     # 0 excluded on the other side
    (-0.25, +0.03, -0.20, report.INCONCLUSIVE),     # contains both
    (+0.10, +0.30, +0.20, report.REPRODUCED),       # the same words for a claimed increase
    (+0.02, +0.08, +0.20, report.WEAKER),
    (+0.25, +0.40, +0.20, report.STRONGER),
    (-0.03, +0.05, +0.20, report.NOT_REPRODUCED),
    (-0.09, -0.02, +0.20, report.CONTRADICTED),
    (-0.02, +0.25, +0.20, report.INCONCLUSIVE),
    (-0.20, -0.10, -0.20, report.REPRODUCED),       # p on an end of the interval is inside it
])
def test_six_words_on_constructed_intervals(lo, hi, paper, verdict):
    assert report.word(lo, hi, paper) == verdict
    # and through the whole rule: a Welch interval handed to it gives the same word
    v = report._decide((lo + hi) / 2, math.nan, 3, paper, level=0.95, seeds=(), note="", interval=(lo, hi))
    assert v.verdict == verdict and v.interval == (lo, hi)


def test_without_a_paper_number_only_the_direction_is_judged():
    assert report.word(-0.08, -0.02, -1.0, paper_number=False) == report.REPRODUCED
    assert report.word(-0.05, +0.03, -1.0, paper_number=False) == report.INCONCLUSIVE
    assert report.word(+0.02, +0.09, -1.0, paper_number=False) == report.CONTRADICTED
    with pytest.raises(ValueError, match="lo <= hi"):
        report.word(0.1, -0.1, -0.2)


def test_table_vi_r2_goes_through_the_same_words():
    # R² 0.22-0.34 against the paper's 0.85: real but far smaller -> weaker than claimed
    assert report.r2_verdict(0.85, [0.30, 0.25, 0.33, 0.28, 0.31]).verdict == report.WEAKER
    assert report.r2_verdict(0.30, [0.30, 0.25, 0.33, 0.28, 0.31]).verdict == report.REPRODUCED
    assert report.r2_verdict(0.30, [0.05, -0.05, 0.02, -0.01, 0.0]).verdict == report.NOT_REPRODUCED


def test_welch_interval_known_answer():
    # a = 1, 2, 3 (var 1), b = 2, 4, 6, 8 (var 20/3): se² = 1/3 + 5/3 = 2
    # df = 4 / ((1/3)² / 2 + (5/3)² / 3) = 4 / (1/18 + 25/27) = 4.0755...
    from scipy import stats

    d, lo, hi, df = report.welch_interval([1, 2, 3], [2, 4, 6, 8])
    assert d == pytest.approx(-3.0) and df == pytest.approx(4 / (1 / 18 + 25 / 27))
    half = stats.t.ppf(0.975, df) * math.sqrt(2)
    assert (lo, hi) == pytest.approx((-3 - half, -3 + half))
    assert all(math.isnan(x) for x in report.welch_interval([1.0], [1, 2])[1:])
    # the same from means, sample standard deviations and sizes (a published mean ± std)
    assert report.welch_from_stats(2.0, 1.0, 3, 5.0, math.sqrt(20 / 3), 4) == pytest.approx((d, lo, hi, df))
    assert math.isnan(report.welch_from_stats(2.0, 1.0, 1, 5.0, 1.0, 4)[1])


def test_unpaired_is_wider_than_a_false_pairing():
    # the same per-seed changes: paired by seed they move together (narrow), unpaired they do not
    small, large = [-0.20, -0.10, -0.15], [-0.19, -0.09, -0.14]
    paired = report.verdict_from_changes(np.subtract(small, large), -1.0, paper_number=False)
    unpaired = report.unpaired_verdict(small, large, -1.0)
    assert paired.verdict == report.REPRODUCED              # a false pairing finds a trend
    assert unpaired.verdict == report.INCONCLUSIVE and "Welch" in unpaired.reason
    assert unpaired.mean_rel == pytest.approx(-0.01)


def test_holm_keeps_what_survives_the_family():
    # m = 4: 0.01 <= 0.05/4, 0.015 <= 0.05/3, 0.03 > 0.05/2 stops, so 0.04 fails too
    assert list(report.holm([0.04, 0.01, 0.03, 0.015])) == [False, True, False, True]
    assert list(report.holm([0.2, math.nan, 0.001])) == [False, False, True]
    v = report.paired_verdict(BASE, rows([0.08, 0.09, 0.085]), paper_rel=-0.14)
    # the p-value behind the interval: t = 0.15 / (0.05 / sqrt 3) on 2 df
    from scipy import stats
    assert v.p_value == pytest.approx(2 * stats.t.sf(0.15 / (0.05 / math.sqrt(3)), 2))


def test_holm_family_lines_up_the_verdicts_and_the_reverse_prediction_rows():
    v = {"verdict": report.REPRODUCED, "mean_rel": -0.2, "paper_rel": -0.14, "p_value": 0.001}
    rp = {"verdict": report.INCONCLUSIVE, "mean_rel": 0.05, "paper_rel": math.nan, "p_value": 0.4}
    interp = [{"claim": "R² of T_m", "holm": rp}, {"claim": "k = 3"}]       # the k claim has no holm row
    family = report.holm_family(pd.DataFrame([v]), interp)
    assert family == [v, rp, {}]
    assert report.holm_words(family) == [report.REPRODUCED, report.INCONCLUSIVE, None]
    assert report.holm_family(None, None) == [] and report.holm_family([v], pd.DataFrame()) == [v]


def test_paper_direction_up_is_reproduced_by_an_increase():
    v = report.paired_verdict(BASE, rows([0.12, 0.11, 0.115]), paper_rel=+0.2)
    assert v.verdict == report.REPRODUCED and v.effect_size_differs is False


def test_pairing_is_by_seed_not_by_row_order():
    base = rows([0.10, 0.20, 0.40], seeds=[0, 1, 2])
    var = rows([0.30, 0.18, 0.09], seeds=[2, 1, 0])    # changes -0.1, -0.1, -0.25 once paired
    v = report.paired_verdict(base, var, paper_rel=-0.1)
    assert v.mean_rel == pytest.approx(-0.15)
    sd = np.std([-0.1, -0.1, -0.25], ddof=1)
    assert v.interval == pytest.approx((-0.15 - T2 * sd / math.sqrt(3), -0.15 + T2 * sd / math.sqrt(3)))


def test_a_comparison_without_a_paper_number_names_only_the_direction():
    # same runs as test_reproduced / test_contradicted; -1 gives only the direction "lower"
    for var, verdict, side in (([0.08, 0.09, 0.085], report.REPRODUCED, "on the expected"),
                               ([0.12, 0.11, 0.115], report.CONTRADICTED, "on the side opposite to the expected")):
        v = report.paired_verdict(BASE, rows(var), paper_rel=-1.0, paper_number=False)
        assert v.verdict == verdict and v.interval == pytest.approx(
            report.paired_verdict(BASE, rows(var), paper_rel=-1.0).interval)
        assert math.isnan(v.paper_rel) and v.effect_size_differs is None
        assert f"excludes 0 {side} side (a lower error)." in v.reason and "paper" not in v.reason
    one = report.paired_verdict(rows([0.1]), rows([0.05]), paper_rel=-1.0, paper_number=False)
    assert one.verdict == report.ONE_SEED and "expected direction (a lower error)." in one.reason
    assert "paper" not in one.reason and math.isnan(one.paper_rel)
    missing = report.paired_verdict(BASE, rows([math.nan] * 3), paper_rel=-1.0, paper_number=False)
    assert missing.verdict == report.MISSING and math.isnan(missing.paper_rel)


def test_one_seed_is_inconclusive_with_no_interval():
    v = report.paired_verdict(rows([0.1]), rows([0.05]), paper_rel=-0.14)
    assert v.verdict == "inconclusive (1 seed)" == report.ONE_SEED
    assert v.mean_rel == pytest.approx(-0.5) and v.n_seeds == 1
    assert all(math.isnan(x) for x in v.interval) and v.effect_size_differs is None
    assert "paper's direction" in v.reason


def test_r2_metric_judges_unexplained_variance():
    # 1 - R²: base 0.5, variant 0.4, 0.45, 0.425 -> changes -0.2, -0.1, -0.15
    b = rows([0.5, 0.5, 0.5]).rename(columns={"mae": "r2"})
    v = rows([0.6, 0.55, 0.575]).rename(columns={"mae": "r2"})
    out = report.paired_verdict(b, v, paper_rel=-0.14, metric="r2")
    assert out.verdict == report.REPRODUCED and out.mean_rel == pytest.approx(-0.15)


@pytest.mark.parametrize("base, var, why", [
    (rows([0.1, 0.1, 0.1], seeds=[0, 1, 2]), rows([0.08, 0.09], seeds=[0, 1]), "same seeds"),
    (rows([0.1, 0.1], seeds=[0, 1]), rows([0.08, 0.09], seeds=[0, 2]), "same seeds"),
    (rows([0.1, 0.1]), rows([0.08, 0.09], n_test=1000), "different test sets"),
    (rows([0.1, 0.1], split_hash="aaa"), rows([0.08, 0.09], split_hash=["aaa", "bbb"]), "different splits"),
    (rows([0.1, 0.1], seeds=[0, 0]), rows([0.08, 0.09], seeds=[0, 1]), "several runs"),
])
def test_not_comparable(base, var, why):
    v = report.paired_verdict(base, var, paper_rel=-0.14)
    assert v.verdict == report.NOT_COMPARABLE and why in v.reason
    assert v.n_seeds == 0 and math.isnan(v.mean_rel) and v.effect_size_differs is None


def test_a_seed_not_stored_yet_on_one_side_is_pending_not_incomparable():
    # both sides plan seeds 0-2; the variant's seed 2 is still training (NaN row)
    v = report.paired_verdict(rows([0.1, 0.1, 0.1]), rows([0.08, 0.09, math.nan]), paper_rel=-0.14)
    assert v.verdict == report.MISSING and "pending" in v.reason and "[0, 1, 2]" in v.reason
    assert v.n_seeds == 0 and math.isnan(v.mean_rel)
    # the same seed still training on both sides: pending too, not judged on the seeds stored
    v = report.paired_verdict(rows([0.1, 0.1, math.nan]), rows([0.08, 0.09, math.nan]), paper_rel=-0.14)
    assert v.verdict == report.MISSING and "[0, 1]" in v.reason
    # without the NaN row the variant plans fewer seeds: that stays not comparable
    v = report.paired_verdict(rows([0.1, 0.1, 0.1]), rows([0.08, 0.09]), paper_rel=-0.14)
    assert v.verdict == report.NOT_COMPARABLE


def test_split_hash_is_checked_only_when_present():
    same = report.paired_verdict(rows([0.1, 0.1], split_hash="aaa"), rows([0.08, 0.09], split_hash="aaa"), -0.1)
    assert same.verdict == report.INCONCLUSIVE and "split hash" not in same.reason
    none = report.paired_verdict(rows([0.1, 0.1]), rows([0.08, 0.09]), -0.1)
    assert none.verdict == report.INCONCLUSIVE and "no split hash" in none.reason


def test_missing_runs():
    v = report.paired_verdict(rows([0.1, 0.1]), rows([math.nan, math.nan]), paper_rel=-0.14)
    assert v.verdict == report.MISSING and "variant" in v.reason


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        report.paired_verdict(BASE, BASE, paper_rel=0.0)
    with pytest.raises(KeyError):
        report.paired_verdict(BASE.drop(columns="n_test"), BASE, paper_rel=-0.1)


def test_to_dict_flattens_the_interval():
    d = report.paired_verdict(BASE, rows([0.08, 0.09, 0.085]), paper_rel=-0.14).to_dict()
    assert d["verdict"] == "reproduced" and d["rel_lo"] == pytest.approx(-0.15 - HALF3)
    assert d["seeds"] == [0, 1, 2] and "interval" not in d
    assert d["changes"] == pytest.approx([-0.2, -0.1, -0.15])


def test_changes_follow_the_seeds_not_the_row_order():
    base = rows([0.10, 0.20, 0.40], seeds=[2, 0, 1])
    v = report.paired_verdict(base, rows([0.05, 0.30, 0.30], seeds=[1, 2, 0]), paper_rel=-0.1)
    # seed 0: 0.20 -> 0.30, seed 1: 0.40 -> 0.05, seed 2: 0.10 -> 0.30
    assert v.seeds == (0, 1, 2) and v.changes == pytest.approx((0.5, -0.875, 2.0))
    assert report.r2_verdict(0.7, mean=0.75, std=0.05, n=2).changes == ()


# ----------------------------------------------------------------- R² (Table VI)
def test_r2_reproduced_from_values_and_from_summary():
    # change of 1 - R² against the no-information predictor: -R²; values 0.8, 0.7
    for v in (report.r2_verdict(0.784, [0.80, 0.70]),
              report.r2_verdict(0.784, mean=0.75, std=math.sqrt(0.005), n=2)):
        assert v.verdict == report.REPRODUCED
        assert v.mean_rel == pytest.approx(-0.75) and v.paper_rel == pytest.approx(-0.784)
        assert v.interval == pytest.approx((-0.75 - T1 * 0.05, -0.75 + T1 * 0.05))   # R² in [0.115, 1.385]
        assert v.effect_size_differs is False


def test_r2_effect_size_differs():
    # R² 0.50, 0.52, 0.51: mean 0.51, sd 0.01 -> R² interval 0.51 ± 0.0248, far below the paper's 0.784
    v = report.r2_verdict(0.784, [0.50, 0.52, 0.51])
    assert v.verdict == report.WEAKER and v.effect_size_differs is True
    h = T2 * 0.01 / math.sqrt(3)
    assert v.interval == pytest.approx((-0.51 - h, -0.51 + h))


def test_r2_contradicted_inconclusive_and_one_repeat():
    assert report.r2_verdict(0.864, [-0.3, -0.2, -0.25]).verdict == report.CONTRADICTED
    assert report.r2_verdict(0.864, [0.1, -0.1]).verdict == report.INCONCLUSIVE
    one = report.r2_verdict(0.864, mean=0.7, std=None, n=1)
    assert one.verdict == report.ONE_SEED and one.mean_rel == pytest.approx(-0.7)
    assert report.r2_verdict(0.864, mean=None, std=None, n=2).verdict == report.MISSING


# ---------------------------------------------------------------- k = 3 clusters
def scan(sil: dict) -> pd.DataFrame:
    ks = sorted(sil)
    return pd.DataFrame({"k": ks, "inertia": [100.0 / k for k in ks], "silhouette": [sil[k] for k in ks]})


# null at every k: five tables; 95th percentile = 0.16 + 0.8 * (0.20 - 0.16) = 0.192
NULL = {k: [0.10, 0.12, 0.14, 0.16, 0.20] for k in range(2, 7)}


def test_k3_reproduced():
    v = report.k_verdict(scan({2: 0.30, 3: 0.40, 4: 0.35, 5: 0.32, 6: 0.30}), NULL)
    assert v.verdict == report.REPRODUCED and v.k_best == 3
    assert v.null_threshold_paper_k == pytest.approx(0.192) and v.n_null == 5


def test_k3_threshold_is_the_95th_percentile_not_the_max():
    above = report.k_verdict(scan({2: 0.15, 3: 0.195, 4: 0.18, 5: 0.17, 6: 0.16}), NULL)
    below = report.k_verdict(scan({2: 0.15, 3: 0.190, 4: 0.18, 5: 0.17, 6: 0.16}), NULL)
    assert above.verdict == report.REPRODUCED           # 0.195 > 0.192 although < max 0.20
    assert below.verdict == report.INCONCLUSIVE and "not above" in below.reason


def test_k3_contradicted_by_another_k_beyond_noise():
    v = report.k_verdict(scan({2: 0.30, 3: 0.40, 4: 0.45, 5: 0.32, 6: 0.30}), NULL)
    assert v.verdict == report.CONTRADICTED and v.k_best == 4
    assert v.silhouette_best == 0.45 and v.silhouette_paper_k == 0.40


def test_k3_inconclusive_when_the_best_k_is_noise():
    v = report.k_verdict(scan({2: 0.18, 3: 0.17, 4: 0.16, 5: 0.15, 6: 0.14}), NULL)
    assert v.verdict == report.INCONCLUSIVE and v.k_best == 2


def test_k3_best_k_is_judged_against_the_random_tables_best_k():
    # each random table peaks (0.20) at a different k: 95th percentile 0.18 at every single k,
    # but every table's best silhouette is 0.20, the statistic our best k is compared with
    null = {k: [0.20 if i == k - 2 else 0.10 for i in range(5)] for k in range(2, 7)}
    v = report.k_verdict(scan({2: 0.15, 3: 0.16, 4: 0.19, 5: 0.17, 6: 0.16}), null)
    assert v.k_best == 4 and v.null_threshold_paper_k == pytest.approx(0.18)
    assert v.null_threshold_best == pytest.approx(0.20) and v.verdict == report.INCONCLUSIVE
    assert report.k_verdict(scan({2: 0.15, 3: 0.16, 4: 0.21, 5: 0.17, 6: 0.16}), null).verdict == report.CONTRADICTED
    # only the scanned k count: without k = 6 in the scan, table 4's peak is not part of the null
    assert report.k_verdict(scan({2: 0.15, 3: 0.16, 4: 0.199, 5: 0.17}), null).null_threshold_best == pytest.approx(0.20)
    with pytest.raises(ValueError, match="one value per random table"):
        report.k_verdict(scan({2: 0.15, 3: 0.16}), {2: [0.1, 0.2], 3: [0.1]})


def test_k3_ties_go_to_the_smaller_k_and_null_may_be_a_sequence():
    v = report.k_verdict(scan({2: 0.30, 3: 0.40, 4: 0.40, 5: 0.32}), [0.10, 0.12, 0.14, 0.16, 0.20])
    assert v.verdict == report.REPRODUCED and v.k_best == 3


def test_k3_without_null_or_without_k3():
    assert report.k_verdict(scan({2: 0.30, 3: 0.40, 4: 0.35}), {}).verdict == report.INCONCLUSIVE
    assert report.k_verdict(scan({4: 0.30, 5: 0.40, 6: 0.35}), NULL).verdict == report.MISSING


def test_summarize_and_beside_paper():
    df = pd.DataFrame({"model": ["a", "a", "b"], "seed": [0, 1, 0], "mae": [1.0, 3.0, 2.0]})
    s = report.summarize(df, ["model"])
    assert s.set_index("model").loc["a", "mean"] == 2.0 and s.set_index("model").loc["b", "n"] == 1
    t = report.beside_paper(s, {("a",): 1.5}, ["model"])
    assert t.set_index("model").loc["a", "ours - paper"] == pytest.approx(0.5)
    assert t.set_index("model").loc["a", "ours"] == "2.000 ± 1.414 (n=2)"
    assert math.isnan(t.set_index("model").loc["b", "ours - paper"])


def test_others_contain_zero_leaves_out_a_zero_count():
    assert report.others_contain_zero(0) == ""
    assert report.others_contain_zero(1) == "; the other interval contains 0"
    assert report.others_contain_zero(3) == "; the other 3 intervals contain 0"
