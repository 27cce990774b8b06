"""The reverse-prediction package's shared fit loop and page 08's sections (ctlib.analysis.reverse).

The fit loop runs on a 20-row synthetic problem with CatBoost of a few trees; the page
runs on the real 89 elements with CGCNN's 92 features standing in for the CT table, two
properties and 5 trees, so the whole file takes seconds.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctlib import lookup
from ctlib.analysis import reverse
from ctlib.embeddings import ElementEmbedding

PROPS = ["atomic_radius", "melting_point"]


class _CountFits:
    """Wraps reverse.fitting.fit_catboost (n_jobs=1 keeps the fits in this process) and counts the calls."""

    def __init__(self):
        self.n = 0
        self.orig = reverse.fitting.fit_catboost

    def __call__(self, *args, **kwargs):
        self.n += 1
        return self.orig(*args, **kwargs)


@pytest.fixture(autouse=True)
def _store(tmp_path, monkeypatch):
    """page_settings(results_root=...) sets CTLIB_RESULTS for the kernel; restore it after each test."""
    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "results"))


@pytest.fixture
def count(monkeypatch):
    c = _CountFits()
    monkeypatch.setattr(reverse.fitting, "fit_catboost", c)
    return c


# ------------------------------------------------------------------ the fit loop
def _xy(n=20):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    return X, X[:, 0] + 0.1 * rng.standard_normal(n)


def test_pooled_predictions_gathers_each_repeat_and_leaves_the_rest_nan():
    fits = [(1, None, np.array([0, 2]), 0), (0, None, np.array([1]), 0), (0, None, np.array([3]), 0)]
    preds = [(np.array([10.0, 12.0]), 0.1), (np.array([21.0]), 0.2), (np.array([23.0]), 0.3)]
    got = reverse.pooled_predictions(4, fits, preds)
    assert list(got) == [0, 1]                                      # repeat order, not fit order
    np.testing.assert_array_equal(got[0], [np.nan, 21.0, np.nan, 23.0])
    np.testing.assert_array_equal(got[1], [10.0, np.nan, 12.0, np.nan])


def test_fit_groups_fits_writes_then_reads_the_same_predictions(tmp_path, count):
    X, y = _xy()
    splits = reverse.cv_splits(len(y), folds=4, repeats=1, seed=0)
    fits = [(r, tr, te, r) for r, _, tr, te in splits]

    def group():
        return reverse.FitGroup(X, y, fits, folder=tmp_path, key="k1", about={"table": "t", "n": len(y)})

    [first] = reverse.fit_groups([group()], iterations=5, thread_count=1)
    assert count.n == 4 and not first.cached and [len(p) for p, _ in first.preds] == [len(te) for *_, te, _ in fits]
    entry = json.loads((tmp_path / "k1.json").read_text())
    assert list(entry) == ["key", "table", "n", "code", "predictions", "cpu_s"] and entry["n"] == 20
    [again, uncached] = reverse.fit_groups([group(), reverse.FitGroup(X, y, fits[:1])], iterations=5, thread_count=1)
    assert again.cached and not uncached.cached and count.n == 5   # only the group without a cache is fitted
    for (a, _), (b, _) in zip(first.preds, again.preds):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k1.json"]
    # an entry holding another number of fits is named, with what to do
    with pytest.raises(ValueError, match=r"k1\.json is unreadable .*holds 4 fits, 3 were asked for.*delete it"):
        reverse.fit_groups([reverse.FitGroup(X, y, fits[:3], folder=tmp_path, key="k1")], iterations=5,
                           thread_count=1)


def test_the_cv_and_the_protocol_runner_share_the_loop_and_the_cache(tmp_path, count):
    X, y = _xy(30)
    els = [f"E{i}" for i in range(30)]
    tables, props = {"t": (els, X)}, pd.DataFrame({"p": y}, index=els)
    cv, _ = reverse.reverse_prediction_table(tables, props, props=["p"], folds=5, repeats=2, iterations=5,
                                             thread_count=1, progress=False, cache_dir=tmp_path)
    assert count.n == 10
    pt = reverse.protocol_table(tables, props, props=["p"], protocols=["5-fold pooled"], folds=5, repeats=2,
                                iterations=5, cv_cache_dir=tmp_path)
    assert count.n == 10 and pt["cached"].all()
    assert pt["r2"].iloc[0] == pytest.approx(reverse.summary_table(cv)["r2_pooled_mean"].iloc[0])
    # the CV without a cache gives the same folds' predictions
    alone = reverse.reverse_prediction_cv(X, y, folds=5, repeats=2, iterations=5, thread_count=1)
    np.testing.assert_allclose(alone["r2"], cv["r2"])


# ------------------------------------------------------------------ small pure helpers
def _summary():
    return pd.DataFrame({"embedding": ["a", "a", "b", "b"], "property": ["p", "q", "p", "q"],
                         "r2_pooled_mean": [0.2, 0.4, -0.1, np.nan], "r2_pooled_std": [0.01] * 4,
                         "r2_fold_mean": [0.0] * 4, "r2_fold_std": [0.0] * 4})


def test_mean_r2_by_table_and_pretraining_numbers():
    assert reverse.mean_r2_by_table(_summary()) == pytest.approx({"a": 0.3, "b": -0.1})   # NaN skipped
    assert list(reverse.mean_r2_by_table(_summary())) == ["a", "b"]
    assert reverse.pretraining_numbers(_summary()) == [{"table": "a", "r2": {"p": 0.2, "q": 0.4}},
                                                       {"table": "b", "r2": {"p": -0.1, "q": None}}]


def test_protocol_cost_text():
    cost = {"protocol_fits": 12, "protocol_fits_cached": 10, "protocol_fits_new": 2, "protocol_seconds": 3.4}
    assert reverse.protocol_cost_text(cost, 300) == "12 CatBoost fits of 300 trees: 10 read from the caches, 2 fitted in 3 s."


def test_plot_shap_panel_titles_the_property_with_its_unit():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    shap = {"melting_point": {"shap": rng.standard_normal((10, 4)), "X": rng.standard_normal((10, 4))}}
    fig = reverse.plot_shap_panel(shap, "melting_point", "A", max_display=3)
    assert fig.axes[0].get_title() == "(A) Melting Temperature [K]"
    assert {t.get_text() for t in fig.axes[0].get_yticklabels()} & {"dim 0", "dim 1", "dim 2", "dim 3"}
    plt.close(fig)


# ------------------------------------------------------------------ page 08
def test_page_settings(tmp_path):
    s = reverse.page_settings("smoke", results_root=tmp_path, baselines=["random128"], top=3)
    assert (s.repeats, s.iterations, s.folds, s.n_jobs, s.top) == (1, 50, 5, 2, 3)
    assert s.cv_cache == lookup.analysis_dir("smoke", "reverse_cv", tmp_path)
    assert s.protocol_cache == lookup.analysis_dir("smoke", "reverse_protocols", tmp_path)
    assert s.shap_cache == lookup.analysis_dir("smoke", "reverse_shap", tmp_path)
    assert os.environ["CTLIB_RESULTS"] == str(tmp_path.resolve())
    kw = reverse.page_settings("smoke", rp_repeats=3, catboost_iterations=7).cv_kwargs()
    assert kw["repeats"] == 3 and kw["iterations"] == 7 and kw["thread_count"] == 1 and len(kw["order"]) == 89
    with pytest.raises(ValueError, match="unknown baseline"):
        reverse.page_settings("smoke", baselines=["magpie"])


def test_a_pending_page_saves_only_its_settings(tmp_path):
    s = reverse.page_settings("smoke", results_root=tmp_path, catboost_iterations=5)
    rp = reverse.run_page(s, [], "**Pending**")
    assert not rp.ok and rp.paper_r2 == reverse.paper_r2()
    assert rp.numbers == {"profile": "smoke", "folds": 5, "repeats": 1, "iterations": 5,
                          "paper_r2": reverse.paper_r2(), "pending": True}


def _source(seed, matrix=None):
    emb = ElementEmbedding.cgcnn92()
    if matrix is not None:
        emb = ElementEmbedding(list(emb.elements), matrix)
    return lookup.EmbeddingSource(embedding=emb, description=f"table {seed}", path=Path("x.json"), run_id=None,
                                  seed=seed, kind="ct-mt", record={"test": {"E_f": 0.1}})


@pytest.fixture(scope="module")
def props():
    from ctlib.elements import elemental_properties

    return elemental_properties()[PROPS]


def test_run_page_and_its_sections(tmp_path, props):
    import matplotlib.pyplot as plt

    s = reverse.page_settings("smoke", results_root=tmp_path, catboost_iterations=5, n_jobs=1,
                              baselines=["random128"])
    others = {"mt": (list(ElementEmbedding.cgcnn92().elements), ElementEmbedding.cgcnn92().matrix)}
    asked = []

    def final_tables(profile, seed):
        asked.append((profile, seed))
        return others

    rp = reverse.run_page(s, [_source(0)], None, final_tables=final_tables, over=lambda p: "seeds",
                          properties=props)
    n = rp.numbers
    assert rp.ok and asked == [("smoke", 0)] and list(rp.tables) == ["CT (ours)", "random128"]
    assert n["pretrainings_over"] == "seeds"
    assert n["pending"] is False and n["seeds"] == [0] and n["baselines"] == ["random128"]
    assert n["cv_cached"] == 0 and n["n_elements"] == {p: int(props[p].notna().sum()) for p in PROPS}
    assert n["pretrainings"][0]["table"] == "mt"
    # the pretraining table is CT's own table here, so its R² is CT's, read back from the cache
    assert n["pretrainings"][0]["r2"] == {p: n["r2"]["CT (ours)"][p]["r2_pooled_mean"] for p in PROPS}
    assert set(n["r2_mean_over_properties"]) == {"CT (ours)", "random128"}
    assert n["r2_mean_over_properties"]["CT (ours)"] == pytest.approx(
        np.mean([n["r2"]["CT (ours)"][p]["r2_pooled_mean"] for p in PROPS]))
    assert len(n["r2_pooled_values"]["CT (ours)"]["melting_point"]) == 1
    assert list(rp.counts_frame().index) == ["Radius", "Melting Temperature"]
    assert rp.tables_frame()["what it is"].tolist() == ["the embedding above",
                                                        reverse.BASELINE_DESCRIPTIONS["random128"]]
    assert "Seeds available: [0]" in rp.embedding_text() and "single-task" not in rp.embedding_text()
    assert "20 CatBoost fits" in rp.fits_text() and "0 of them were read" in rp.fits_text()
    assert "`results/smoke/analysis/reverse_cv`" in rp.fits_text()
    assert rp.r2_figure().axes[0].get_title() == "Reverse prediction, 5-fold CV × 1; black ticks: paper (CT)"
    rp.record_source(r2_claims=[], drift={"x": 1}, drift_start="start")
    assert n["embedding"] == "table 0" and n["embedding_shape"] == [89, 92] and n["embedding_run_test"]["E_f"] == 0.1

    again = reverse.run_page(s, [_source(0)], None, properties=props)
    assert again.numbers["cv_cached"] == 20 and again.across is None and "pretrainings" not in again.numbers

    pt = rp.protocols()     # smoke: atomic radius, no leave-one-out; CT and random128 (cgcnn92 is not there)
    assert list(dict.fromkeys(pt["embedding"])) == ["CT (ours)", "random128"]
    assert set(pt["protocol"]) == {"in-sample", "80/20 split", "5-fold pooled"}
    assert rp.protocol_cost["protocol_fits"] == 2 * (1 + 10 + 5)
    assert rp.protocol_cost["protocol_fits_cached"] == 2 * 5          # the CV's fits, shared
    assert set(n["r2_protocols"]["random128"]) == {"in-sample", "80/20 split", "5-fold pooled"}

    shap = rp.shap()
    assert list(shap) == PROPS and n["top_dims"]["melting_point"] == [int(d) for d in shap["melting_point"]["top"]["dim"]]
    t7 = rp.table7(shap)
    assert n["top5_shap_share"] == dict(zip(PROPS, t7["ours: share of total mean |SHAP| in top 5"]))
    stab, note = rp.stability(shap)
    assert list(stab.columns) == ["property", "CatBoost seeds: mean Jaccard of top-5"]
    assert "Only one seed" in note and "`smoke`" in note
    assert n["topdim_stability"] == stab.to_dict(orient="records")
    assert rp.finish(12.5)["seconds"] == 12.5
    plt.close("all")


def test_stability_across_embedding_seeds(tmp_path, props):
    s = reverse.page_settings("smoke", results_root=tmp_path, catboost_iterations=5, n_jobs=1, baselines=[])
    m = ElementEmbedding.cgcnn92().matrix
    rp = reverse.run_page(s, [_source(0), _source(1, m[:, ::-1].copy())], None, properties=props)
    stab, note = rp.stability(rp.shap())
    assert note == "Embedding seeds compared: [0, 1]."
    # seed 1 is seed 0 with its columns reversed: the same fits, other indices, so the sets differ
    assert stab["embedding seeds: mean Jaccard of top-5"].between(0, 1).all()
    assert (stab["embedding seeds: mean Jaccard of top-5"] < 1).any()


def test_the_shap_beeswarm_is_the_same_on_every_draw():
    """shap jitters with numpy's global generator; the figure fixes it, and restores the caller's."""
    import io

    import matplotlib.pyplot as plt
    import numpy as np

    from ctlib.analysis.reverse import figures

    rng = np.random.default_rng(0)
    X, v = rng.normal(size=(40, 6)), rng.normal(size=(40, 6))

    def png():
        fig = figures.plot_shap_beeswarm(v, X)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return buf.getvalue()

    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    first = png()
    assert np.random.random() == before          # the caller's generator is untouched
    np.random.seed(7)
    assert png() == first                        # same picture whatever the global state
