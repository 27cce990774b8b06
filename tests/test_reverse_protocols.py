"""Scoring protocols of the reverse prediction (ctlib.analysis.reverse.protocol_table, page 08).

A synthetic problem: 40 'elements', a property that is a function of two latent
numbers, an informative table holding them (plus a little noise) and a random
table with none of it. CatBoost with 20 trees keeps it to a few seconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctlib.analysis import reverse

N = 40
ITER = 20
HELD_OUT = ("80/20 split", "leave-one-out", "5-fold pooled")


def _problem():
    rng = np.random.default_rng(0)
    els = [f"E{i}" for i in range(N)]
    z = rng.standard_normal((N, 2))
    props = pd.DataFrame({"p": z[:, 0] + 0.3 * z[:, 1]}, index=els)
    tables = {"informative": (els, np.c_[z, 0.1 * rng.standard_normal((N, 6))]),
              "random": (els, rng.standard_normal((N, 32)))}
    return tables, props


class _CountFits:
    """Wraps reverse.fitting.fit_catboost (n_jobs=1 keeps the fits in this process) and counts the calls."""

    def __init__(self):
        self.n = 0
        self.orig = reverse.fit_catboost

    def __call__(self, *args, **kwargs):
        self.n += 1
        return self.orig(*args, **kwargs)


def _run(tables, props, caches, **kw):
    kw = {"props": ["p"], "iterations": ITER, "repeats": 2, "seed": 0, "n_jobs": 1, **kw}
    return reverse.protocol_table(tables, props, cache_dir=caches / "protocols", cv_cache_dir=caches / "cv", **kw)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """(tables, props, cache folder, protocol table, number of fits of the first call)."""
    tables, props = _problem()
    caches = tmp_path_factory.mktemp("reverse_protocols")
    count = _CountFits()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reverse.fitting, "fit_catboost", count)
        pt = _run(tables, props, caches)
    return tables, props, caches, pt, count.n


def _r2(pt, name, protocol):
    return float(pt[(pt["embedding"] == name) & (pt["protocol"] == protocol)]["r2"].iloc[0])


def test_table_is_tidy_with_one_row_per_table_property_protocol(scored):
    _, _, _, pt, n_fits = scored
    assert list(pt.columns) == ["embedding", "property", "protocol", "n_elements", "n_repeats", "n_fits",
                                "r2", "r2_std", "cached", "cpu_s"]
    assert list(pt["protocol"]) == list(reverse.PROTOCOLS) * 2
    assert list(pt["embedding"]) == ["informative"] * 4 + ["random"] * 4
    one = pt[pt["embedding"] == "random"].set_index("protocol")
    assert one.loc["in-sample", "n_fits"] == 1 and one.loc["leave-one-out", "n_fits"] == N
    assert one.loc["80/20 split", "n_fits"] == one.loc["80/20 split", "n_repeats"] == reverse.SPLIT_SEEDS == 10
    assert one.loc["5-fold pooled", "n_fits"] == 10 and one.loc["5-fold pooled", "n_repeats"] == 2
    # std over repeats only where there are repeats
    assert one["r2_std"].isna().tolist() == [True, False, True, False]
    assert (pt["n_elements"] == N).all() and not pt["cached"].any()
    assert n_fits == 2 * (1 + 10 + N + 10)


def test_in_sample_flatters_a_random_table_that_held_out_protocols_expose(scored):
    _, _, _, pt, _ = scored
    assert _r2(pt, "random", "in-sample") > 0.9
    for protocol in HELD_OUT:
        assert _r2(pt, "random", protocol) < 0.2, protocol


def test_an_informative_table_scores_high_under_every_protocol(scored):
    _, _, _, pt, _ = scored
    for protocol in reverse.PROTOCOLS:
        assert _r2(pt, "informative", protocol) > 0.6, protocol
        assert _r2(pt, "informative", protocol) > _r2(pt, "random", protocol) + 0.3 or protocol == "in-sample"


def test_a_second_call_reads_every_fit_from_the_caches(scored, monkeypatch):
    tables, props, caches, pt, _ = scored
    count = _CountFits()
    monkeypatch.setattr(reverse.fitting, "fit_catboost", count)
    again = _run(tables, props, caches)
    assert count.n == 0 and again["cached"].all()
    pd.testing.assert_frame_equal(again.drop(columns="cached"), pt.drop(columns="cached"))
    # changed settings are another entry, never a stale one
    other = _run(tables, props, caches, protocols=["in-sample"], seed=1)
    assert count.n == 2 and not other["cached"].any()


def test_five_fold_pooled_is_the_chapters_protocol_and_shares_its_cache(scored, monkeypatch):
    tables, props, caches, pt, _ = scored
    count = _CountFits()
    monkeypatch.setattr(reverse.fitting, "fit_catboost", count)
    cv, _ = reverse.reverse_prediction_table(tables, props, props=["p"], folds=5, repeats=2, iterations=ITER,
                                             seed=0, thread_count=1, progress=False, cache_dir=caches / "cv")
    assert count.n == 0 and cv["cached"].all()
    s = reverse.summary_table(cv).set_index("embedding")
    five = pt[pt["protocol"] == "5-fold pooled"].set_index("embedding")
    np.testing.assert_allclose(five["r2"], s.loc[five.index, "r2_pooled_mean"])
    np.testing.assert_allclose(five["r2_std"], s.loc[five.index, "r2_pooled_std"])


def test_scored_names_keep_the_elements_of_all_tables(scored):
    """Scoring one table of several uses the elements common to all of them (the chapter's folds)."""
    tables, props, _, _, _ = scored
    els, m = tables["random"]
    short = {**tables, "short": (els[:-3], m[:-3])}
    pt = reverse.protocol_table(short, props, names=["random"], props=["p"], protocols=["in-sample"],
                                iterations=5)
    assert list(pt["embedding"]) == ["random"] and pt["n_elements"].tolist() == [N - 3]


def test_wide_numbers_and_text(scored):
    _, _, _, pt, _ = scored
    wide = reverse.protocol_wide(pt)
    assert wide.index.names == ["table", "protocol"] and list(wide.columns) == ["p", "mean over properties"]
    assert list(wide.index) == [(t, p) for t in ("informative", "random")
                                for p in ("in-sample", "80/20 split × 10 seeds", "leave-one-out",
                                          "5-fold pooled × 2 repeats")]
    assert "±" in wide.loc[("random", "80/20 split × 10 seeds"), "p"]
    assert "±" not in wide.loc[("random", "in-sample"), "p"]
    nums = reverse.protocol_numbers(pt)
    assert set(nums) == {"informative", "random"} and set(nums["random"]) == set(reverse.PROTOCOLS)
    assert nums["random"]["leave-one-out"]["r2"]["p"]["r2_std"] is None
    assert nums["random"]["in-sample"]["mean_r2"] == pytest.approx(_r2(pt, "random", "in-sample"))
    text = reverse.protocol_text(pt, {"p": 0.85}, random="random")
    assert f"R² {wide.loc[('random', 'in-sample'), 'p']}" in text
    assert wide.loc[("random", "leave-one-out"), "p"] in text and "5-fold pooled" in text
    assert "Table VI" in text and "0.85" in text
    cost = reverse.protocol_cost(pt, 1.5)
    assert cost["protocol_fits"] == cost["protocol_fits_new"] == int(pt["n_fits"].sum()) and cost["protocol_fits_cached"] == 0
    with pytest.raises(ValueError, match="in-sample"):
        reverse.protocol_text(pt[pt["protocol"] != "in-sample"], {"p": 0.85})


@pytest.mark.parametrize("kw, match", [
    ({"protocols": ["in-sample", "k-fold"]}, "unknown or no protocol"),
    ({"protocols": []}, "unknown or no protocol"),
    ({"protocols": ["in-sample", "in-sample"]}, "listed twice"),
    ({"names": ["CT (ours)"]}, "not among the tables"),
    ({"split_seeds": 0}, "split_seeds"),
    ({"folds": 1}, "folds"),
    ({"repeats": 0}, "repeats"),
    ({"iterations": 0}, "iterations"),
    ({"n_jobs": 0}, "n_jobs"),
])
def test_bad_arguments_raise_clear_errors(kw, match):
    tables, props = _problem()
    with pytest.raises(ValueError, match=match):
        reverse.protocol_table(tables, props, props=["p"], **{"iterations": 5, **kw})


def test_too_few_elements_unknown_property_and_empty_inputs():
    tables, props = _problem()
    few = {k: (els[:4], m[:4]) for k, (els, m) in tables.items()}
    with pytest.raises(ValueError, match="only 4 elements.*at least 6"):
        reverse.protocol_table(few, props, props=["p"], iterations=5)
    with pytest.raises(KeyError, match="density"):
        reverse.protocol_table(tables, props, props=["density"], iterations=5)
    with pytest.raises(ValueError, match="no property"):
        reverse.protocol_table(tables, props, iterations=5)       # no column of reverse.PROPERTIES
    with pytest.raises(ValueError, match="no embedding tables"):
        reverse.protocol_table({}, props, props=["p"], iterations=5)
    with pytest.raises(ValueError, match="cv_cache_key"):
        reverse.protocol_cache_key(np.zeros((3, 2)), np.zeros(3), protocol="5-fold pooled", seed=0,
                                   iterations=5, thread_count=1)


def test_protocol_scope_is_everything_except_on_smoke():
    assert reverse.protocol_scope("cpu") == {"props": None, "protocols": list(reverse.PROTOCOLS)}
    smoke = reverse.protocol_scope("smoke")
    assert smoke["props"] == ["atomic_radius"] and "leave-one-out" not in smoke["protocols"]
    assert set(smoke["protocols"]) < set(reverse.PROTOCOLS)
