"""Page 07's helpers (ctlib.analysis.cluster_page and the figures of
ctlib.analysis.cluster_figures): small synthetic tables, so every test runs in about a second."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ctlib.analysis import cluster_figures, cluster_page  # noqa: E402
from ctlib.config import get_profile  # noqa: E402
from ctlib.elements import ELEMENTS  # noqa: E402
from ctlib.embeddings import ElementEmbedding  # noqa: E402
from ctlib.lookup import EmbeddingSource  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _blocks(seed: int = 0, d: int = 6) -> np.ndarray:
    """89 x d rows in two well separated blocks (apart in every column): the first 40 elements, then the rest."""
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=0.1, size=(len(ELEMENTS), d))
    X[:40] += 5.0
    return X


def _source(matrix, *, elements=ELEMENTS, seed=0, kind="ct-multitask", record=None) -> EmbeddingSource:
    emb = ElementEmbedding(list(elements), matrix)
    return EmbeddingSource(emb, f"test table seed {seed}", Path("results/test/emb.json"), f"run-s{seed}",
                           seed, kind, record)


# ------------------------------------------------------------------ small helpers
def test_describe_clusters_names_members_and_averages_each_property():
    els = ["H", "He", "Li", "Be"]
    props = pd.DataFrame({"b": [1.0, 3.0, np.nan, 10.0], "a": [2.0, 4.0, 6.0, 8.0]}, index=els)
    members, means = cluster_page.describe_clusters(els, [0, 0, 1, 1], props)
    assert list(members.index) == ["cluster 1", "cluster 2"]
    assert members["size"].tolist() == [2, 2] and members["members"].tolist() == ["H He", "Li Be"]
    assert list(means.columns) == ["b", "a"]                   # the properties' order, no n_ columns
    assert means.loc["cluster 1", "b"] == pytest.approx(2.0)
    assert means.loc["cluster 2", "b"] == pytest.approx(10.0)  # the missing value is skipped
    assert means.loc["cluster 2", "a"] == pytest.approx(7.0)


def test_with_units_names_each_known_column():
    means = pd.DataFrame({"melting_point": [1.0], "other": [2.0]})
    assert list(cluster_page.with_units(means).columns) == ["melting_point (K)", "other"]
    assert list(cluster_page.with_units(means, {"other": "m"}).columns) == ["melting_point", "other (m)"]


def test_pca_variance_text_gives_the_cumulative_fractions():
    text = cluster_page.pca_variance_text([0.5, 0.3, 0.15, 0.05], 3)
    assert text.startswith("The first 3 components keep **95.0%** of the variance")
    assert "the first component alone 50.0%, the first two 80.0%." in text


def test_stability_text_for_one_seed_and_for_several():
    one = cluster_page.stability_text(None, 2, n_seeds=1, profile="cpu", seed=4)
    assert "profile `cpu` (seed 4)" in one
    assert f"trains {len(get_profile('paper').seeds)} seeds." in one
    ari = pd.DataFrame({"seed a": [0, 0, 1], "seed b": [1, 2, 2], "ari": [1.0, 0.5, 0.0]})
    assert cluster_page.stability_text(ari, 3, n_seeds=3, profile="cpu") == (
        "Mean pairwise ARI at k = 3: **0.500** over 3 seeds.")


# ------------------------------------------------------------------ figures
def test_plot_pca_variance_draws_the_cumulative_curve():
    fig = cluster_figures.plot_pca_variance([0.6, 0.3, 0.1], 2)
    ax = fig.axes[0]
    x, y = ax.lines[0].get_data()
    assert list(x) == [1, 2, 3] and np.allclose(y, [0.6, 0.9, 1.0])
    assert ax.get_legend().get_texts()[0].get_text() == "2 components: 90.0%"
    with pytest.raises(ValueError, match="n_components=4"):
        cluster_figures.plot_pca_variance([0.6, 0.3, 0.1], 4)


def test_periodic_tables_title_the_chosen_k_and_save_under_their_key(tmp_path):
    els = ["H", "He", "Li", "Be"]
    figs = cluster_figures.plot_cluster_periodic_tables(els, {2: [0, 0, 1, 1], 3: [0, 1, 2, 2]}, 2)
    assert list(figs) == [2, 3]
    assert figs[2].axes[0].get_title() == "k-means clusters of the embedding, k = 2 (chosen)"
    assert figs[3].axes[0].get_title() == "k-means clusters of the embedding, k = 3 (the paper's)"
    legend = sorted(t.get_text() for t in figs[3].axes[0].get_legend().get_texts())
    assert legend == ["cluster 1", "cluster 2", "cluster 3", "no value"]   # the elements left out are grey
    with pytest.raises(ValueError, match="labels have shape"):
        cluster_figures.plot_cluster_periodic_tables(els, {2: [0, 1]}, 2)
    paths = cluster_figures.save_all(figs, "07_test_k", tmp_path)
    assert [p.name for p in paths] == ["07_test_k2.png", "07_test_k3.png"]
    assert all(p.stat().st_size > 1000 and p.with_suffix(".pdf").exists() for p in paths)


# ------------------------------------------------------------------ the analysis
SMALL = dict(n_components=4, k_max=4, seed=0, n_init=2)


def test_analyse_sources_reorders_the_table_and_finds_the_two_blocks():
    X = _blocks()
    order = list(ELEMENTS)[::-1]                      # stored in reverse order
    src = _source(X[::-1], elements=order, record={"test": {"band_gap": {"mae": 0.4, "r2": 0.8, "n": 10}}})
    cp = cluster_page.analyse_sources([src], "cpu", auto=False, **SMALL)
    assert cp.elements == list(ELEMENTS) and np.allclose(cp.emb.matrix, X.astype(np.float32))
    assert cp.src is src and cp.seeds == [0] and cp.across is None
    assert cp.A.k_best == 2 and cp.A.Z.shape == (89, 4)
    assert cp.A.labels[2].tolist() == [0] * 40 + [1] * 49
    summary = cp.summary()
    assert summary["seeds"] == [0] and summary["k_chosen"] == 2 and "pretrainings" not in summary
    assert [r["k"] for r in summary["scan"]] == [2, 3, 4]
    rec = cp.source_summary()
    assert rec["embedding_shape"] == [89, 6] and rec["embedding_kind"] == "ct-multitask"
    assert rec["embedding_path"] == "results/test/emb.json" and rec["embedding_run_test"]["band_gap"]["r2"] == 0.8
    text = cp.description()
    assert "Shape: 89 elements × 6 dimensions. Seeds available: [0]." in text
    assert "band_gap: MAE 0.4, R² 0.800 (n = 10)" in text and "single-task" not in text


def test_cluster_contents_and_one_seed_stability():
    props = pd.DataFrame({"x": np.arange(89, dtype=float)}, index=list(ELEMENTS))
    cp = cluster_page.analyse_sources([_source(_blocks(), kind="ct-Ef")], "cpu", auto=False, **SMALL)
    assert "**single-task E_f** embedding" in cp.description()
    members, means, numbers = cp.clusters(props)
    assert numbers["clusters"]["cluster 1"] == list(ELEMENTS)[:40]
    assert numbers["cluster_property_means"]["cluster 1"]["x"] == pytest.approx(19.5)
    assert numbers["cluster_property_means"]["cluster 2"]["x"] == pytest.approx(64.0)
    ari, text, rec = cp.stability()
    assert ari is None and rec is None and "(seed 0)" in text


def test_stability_compares_every_pair_of_seeds():
    X = _blocks()
    srcs = [_source(X, seed=0), _source(X * 2.0, seed=1), _source(_blocks(seed=7), seed=5)]
    cp = cluster_page.analyse_sources(srcs, "cpu", auto=False, **SMALL)
    ari, text, rec = cp.stability()
    assert list(ari.columns) == ["seed a", "seed b", "ari"]
    assert ari[["seed a", "seed b"]].values.tolist() == [[0, 1], [0, 5], [1, 5]]
    assert np.allclose(ari["ari"], 1.0)                # the same two blocks in every seed
    assert rec == {"k": 2, "pairs": ari.to_dict(orient="records"), "mean_ari": 1.0}
    assert text == "Mean pairwise ARI at k = 2: **1.000** over 3 seeds."


def test_auto_scans_the_stored_pretrainings_against_the_same_null(monkeypatch):
    from ctlib.analysis import pretraining

    asked = []

    def fake_judged_tables(profile, seed=None):
        asked.append((profile, seed))
        return {"CT other": (list(ELEMENTS), _blocks(seed=3))}

    monkeypatch.setattr(pretraining, "judged_tables", fake_judged_tables)
    monkeypatch.setattr(pretraining, "judged_over", lambda profile: "pretrainings")
    cp = cluster_page.analyse_sources([_source(_blocks(), seed=2)], "quick", auto=True, **SMALL)
    assert asked == [("quick", 2)] and cp.summary()["pretrainings_over"] == "pretrainings"
    assert cp.across["table"].tolist() == ["CT other"] and cp.across["k_best"].tolist() == [2]
    best_null = np.quantile([max(v) for v in zip(*cp.A.null.values())], 0.95)
    assert cp.across["null_best"].iloc[0] == pytest.approx(best_null)
    rows = cp.summary()["pretrainings"]
    assert len(rows) == 1 and "reason" not in rows[0] and rows[0]["table"] == "CT other"
    asked.clear()
    cluster_page.analyse_sources([_source(_blocks(), seed=None)], "quick", auto=True, **SMALL)
    assert asked == []                                 # no seed: nothing to match the pretrainings to


def test_references_put_the_analysed_table_first():
    cp = cluster_page.analyse_sources([_source(_blocks())], "cpu", auto=False, **SMALL)
    refs = cp.references(["random128"])
    assert refs["table"].tolist() == ["CT (analysed)", "random128"]
    assert refs["shape"].tolist() == ["89 × 6", "89 × 128"]
    assert refs.loc[0, "k_best"] == 2 and refs.loc[0, "silhouette_best"] > refs.loc[1, "silhouette_best"]


def test_analyse_sources_rejects_a_table_without_all_89_elements():
    with pytest.raises(ValueError, match="no embedding source"):
        cluster_page.analyse_sources([], "cpu")
    src = _source(_blocks()[:-1], elements=list(ELEMENTS)[:-1])
    with pytest.raises(ValueError, match=r"lacks 1 of the 89 elements: \['Pu'\]"):
        cluster_page.analyse_sources([src], "cpu", auto=False, **SMALL)
