"""Page 07 (``notebooks/07_clusters.ipynb``) in a few calls: the analysed CT table and
every section's numbers, tables and sentences.

:func:`analyse_sources` runs the analysis of one stored CT table (found by
``ctlib.pages.find_ct_sources``) and returns a :class:`ClusterPage`, whose methods give
what each section of the page shows and the numbers it writes to ``07_clusters.json``.
The claims (``ctlib.claims.judge_k3``) and the page's shared text (``ctlib.pages``) sit
in a higher layer, so the notebook joins them to these results.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from ctlib.analysis.clustering import (ClusterAnalysis, analyse_clusters, cluster_members,
                                       cluster_property_means, k_scan_per_table, seed_stability)
from ctlib.elements import ELEMENTS, PROPERTY_UNITS

__all__ = ["N_INIT", "REFERENCE_TABLES", "K_COLUMNS", "ClusterPage", "analyse_sources",
           "describe_clusters", "with_units", "pca_variance_text", "stability_text"]

#: k-means restarts per k on page 07.
N_INIT = 20
#: The reference tables page 07 scans beside CT (names of ``ctlib.analysis.reverse.baseline_tables``).
REFERENCE_TABLES = ["cgcnn92", "megnet16", "mat2vec", "random128"]
#: Column titles of the k-scan tables (:func:`ctlib.analysis.clustering.k_scan_per_table`).
K_COLUMNS = {"k_best": "best k", "silhouette_best": "silhouette at best k",
             "null_best": "random tables, best silhouette (95th pct)",
             "silhouette_paper_k": "silhouette at the paper's k"}


def describe_clusters(elements: Sequence[str], labels, properties: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members and property means of each cluster, with clusters named ``"cluster 1"``, ...

    Args:
        elements: ``n`` element symbols.
        labels: ``(n,)`` 0-based cluster labels.
        properties: DataFrame indexed by symbol, one column per property
            (e.g. ``ctlib.elements.elemental_properties()``).

    Returns:
        ``(members, means)``: ``members`` has ``size`` and ``members`` (symbols joined by
        spaces) per cluster (:func:`ctlib.analysis.clustering.cluster_members`); ``means``
        the mean of each property column per cluster, in the columns' order and units,
        missing values skipped.
    """
    members = cluster_members(list(elements), labels)
    means = cluster_property_means(list(elements), labels, properties)[list(properties.columns)]
    members.index = [f"cluster {c + 1}" for c in members.index]
    means.index = [f"cluster {c + 1}" for c in means.index]
    return members, means


def with_units(means: pd.DataFrame, units: dict[str, str] | None = None) -> pd.DataFrame:
    """``means`` with each column named ``"<property> (<unit>)"`` (default :data:`ctlib.elements.PROPERTY_UNITS`)."""
    units = PROPERTY_UNITS if units is None else units
    return means.rename(columns={c: f"{c} ({units[c]})" for c in means.columns if c in units})


def pca_variance_text(full_ratio, n_components: int) -> str:
    """One Markdown sentence: the variance the first ``n_components`` components keep.

    Args:
        full_ratio: explained-variance ratios of all components (fractions, decreasing).
        n_components: the components kept (``1 <= n_components <= len(full_ratio)``).
    """
    import numpy as np

    cum = np.cumsum(np.asarray(full_ratio, dtype=float))
    return (f"The first {n_components} components keep **{cum[n_components - 1]:.1%}** of the "
            f"variance of the standardised embedding; the first component alone {full_ratio[0]:.1%}, "
            f"the first two {cum[1]:.1%}.")


def stability_text(ari: pd.DataFrame | None, k: int, *, n_seeds: int, profile: str,
                   seed: int | None = None) -> str:
    """The sentence under the seed-stability table.

    Args:
        ari: :func:`ctlib.analysis.clustering.seed_stability` (``None``: one seed only).
        k: the k compared; n_seeds: seeds available; profile: the page's profile;
        seed: the one seed (when ``ari`` is None).
    """
    if ari is None:
        from ctlib.config import get_profile

        return (f"Only one seed of this embedding exists for profile `{profile}` (seed {seed}), so "
                f"stability across seeds cannot be measured here. The `paper` profile trains "
                f"{len(get_profile('paper').seeds)} seeds.")
    return f"Mean pairwise ARI at k = {k}: **{ari['ari'].mean():.3f}** over {n_seeds} seeds."


@dataclass
class ClusterPage:
    """The analysis page 07 shows (built by :func:`analyse_sources`).

    Attributes:
        sources: the ``ctlib.lookup.EmbeddingSource`` of every seed found (the first is analysed).
        emb: the analysed table, its rows in :data:`ctlib.elements.ELEMENTS` order (89 × d).
        A: :func:`ctlib.analysis.clustering.analyse_clusters` of ``emb``.
        across: :func:`ctlib.analysis.clustering.k_scan_per_table` of the tables the claim
            is judged over (``ctlib.analysis.pretraining.judged_tables``: the pretraining
            seeds once three are stored, else every stored CT pretraining of the profile;
            ``None`` unless ``embedding="auto"`` with a known seed).
        profile, n_components, k_max, seed, n_init: the settings of the analysis.
        over: what ``across`` holds, ``"seeds"`` or ``"pretrainings"``
            (``ctlib.analysis.pretraining.judged_over``; None without ``across``).
    """

    sources: list
    emb: object
    A: ClusterAnalysis
    across: pd.DataFrame | None
    profile: str
    n_components: int
    k_max: int
    seed: int
    n_init: int = N_INIT
    over: str | None = None

    @property
    def src(self):
        """The analysed source (the first seed)."""
        return self.sources[0]

    @property
    def elements(self) -> list[str]:
        """The row order of the analysis (the 89 elements)."""
        return list(self.A.elements)

    @property
    def seeds(self) -> list:
        """The training seed of each source."""
        return [s.seed for s in self.sources]

    def _scan_args(self) -> dict:
        return dict(n_components=self.n_components, ks=range(2, self.k_max + 1), seed=self.seed,
                    n_init=self.n_init)

    def summary(self) -> dict:
        """The key numbers of the analysis: :meth:`ClusterAnalysis.summary`, ``seeds``, and
        ``pretrainings`` (the rows of :attr:`across`, without ``reason``) with
        ``pretrainings_over`` (:attr:`over`) when scanned."""
        out = {**self.A.summary(), "seeds": self.seeds}
        if self.across is not None:
            out["pretrainings"] = self.across.drop(columns="reason").to_dict(orient="records")
            out["pretrainings_over"] = self.over
        return out

    def source_summary(self, results_root: str | Path | None = None) -> dict:
        """What the page records about the analysed table: its description, kind, path (as
        ``ctlib.lookup.display_path`` shows it), the producing run's test metrics and the shape."""
        from ctlib import lookup

        return {"embedding": self.src.description, "embedding_kind": self.src.kind,
                "embedding_path": lookup.display_path(self.src.path, results_root),
                "embedding_run_test": (self.src.record or {}).get("test"),
                "embedding_shape": list(self.emb.matrix.shape)}

    def description(self) -> str:
        """The Markdown paragraph "Embedding analysed": what, its shape, the seeds, the test metrics."""
        fallback = "" if self.src.kind != "ct-Ef" else (
            " No multi-task CT run was found for this profile, so this is the **single-task E_f** embedding.")
        metrics = self.src.test_metrics_text()
        n, d = self.emb.matrix.shape
        return (f"**Embedding analysed:** {self.src.description}.{fallback}  \n"
                f"Shape: {n} elements × {d} dimensions. Seeds available: {self.seeds}."
                + (f"  \nTest metrics of the CT run that produced it: {metrics}." if metrics else ""))

    def clusters(self, properties: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
        """The clusters at the chosen k (:func:`describe_clusters`) and their numbers.

        Returns:
            ``(members, means, numbers)``; ``numbers`` has ``clusters`` (name -> symbols)
            and ``cluster_property_means`` (name -> property -> mean, rounded to 4 places).
        """
        members, means = describe_clusters(self.elements, self.A.labels[self.A.k_best], properties)
        numbers = {"clusters": dict(zip(members.index, members["members"].str.split())),
                   "cluster_property_means": means.round(4).to_dict(orient="index")}
        return members, means, numbers

    def stability(self) -> tuple[pd.DataFrame | None, str, dict | None]:
        """Seed stability at the chosen k (:func:`ctlib.analysis.clustering.seed_stability`).

        Returns:
            ``(ari, text, numbers)``: the pairwise ARI table (columns ``seed a``, ``seed b``,
            ``ari``; ``None`` with one seed), the sentence under it (:func:`stability_text`)
            and what the page records (``None`` with one seed, else ``k``, ``pairs``, ``mean_ari``).
        """
        k = int(self.A.k_best)
        if len(self.sources) < 2:
            return None, stability_text(None, k, n_seeds=1, profile=self.profile, seed=self.src.seed), None
        ari = seed_stability([s.embedding.reindex(self.elements).matrix for s in self.sources], k,
                             names=self.seeds, n_components=self.n_components, seed=self.seed,
                             n_init=self.n_init).rename(columns={"a": "seed a", "b": "seed b"})
        text = stability_text(ari, k, n_seeds=len(self.sources), profile=self.profile)
        return ari, text, {"k": k, "pairs": ari.to_dict(orient="records"), "mean_ari": float(ari["ari"].mean())}

    def references(self, names: Sequence[str] = tuple(REFERENCE_TABLES)) -> pd.DataFrame:
        """The k scan of the analysed table beside the reference tables, each against random
        tables of its own shape (:func:`ctlib.analysis.clustering.k_scan_per_table`, null None).

        Returns:
            the rows of ``k_scan_per_table``, the first ``"CT (analysed)"``.
        """
        from ctlib.analysis import reverse

        tables = reverse.baseline_tables(self.elements, seed=self.seed, include=list(names))
        return k_scan_per_table({"CT (analysed)": (self.elements, self.emb.matrix), **tables}, None,
                                paper_k=self.A.paper_k, **self._scan_args())


def analyse_sources(sources: Sequence, profile: str, *, auto: bool = True, n_components: int = 32,
                    k_max: int = 10, seed: int = 0, n_init: int = N_INIT) -> ClusterPage:
    """Page 07's analysis of the first of ``sources``.

    The table is put in :data:`ctlib.elements.ELEMENTS` order and analysed by
    :func:`ctlib.analysis.clustering.analyse_clusters` (PCA to ``n_components``, k-means
    for k = 2 .. ``k_max`` against five random tables). With ``auto`` (the page's
    ``embedding="auto"``) and a known seed, the tables the claim is judged over
    (``ctlib.analysis.pretraining.judged_tables``: the pretraining seeds once three are
    stored, else every stored CT pretraining) are scanned against the same null.

    Args:
        sources: ``ctlib.lookup.EmbeddingSource`` list (non-empty), e.g. from
            ``ctlib.pages.find_ct_sources``.
        profile: the profile name.
        auto: the page was asked for ``embedding="auto"``.
        n_components, k_max, seed, n_init: PCA components, the largest k, the k-means
            random state and restarts.

    Raises:
        ValueError: no source, or the analysed table lacks some of the 89 elements.
    """
    if not sources:
        raise ValueError("no embedding source to analyse")
    src = sources[0]
    missing = [e for e in ELEMENTS if e not in src.embedding.elements]
    if missing:
        raise ValueError(f"the embedding ({src.description}) lacks {len(missing)} of the 89 elements: {missing}")
    emb = src.embedding.reindex(list(ELEMENTS))
    ks = range(2, k_max + 1)
    A = analyse_clusters(emb.matrix, list(ELEMENTS), n_components=n_components, ks=ks, seed=seed, n_init=n_init)
    across = over = None
    if auto and src.seed is not None:
        from ctlib.analysis import pretraining

        over = pretraining.judged_over(profile)
        across = k_scan_per_table(pretraining.judged_tables(profile, src.seed), A.null,
                                  n_components=n_components, ks=ks, seed=seed, n_init=n_init)
    return ClusterPage(list(sources), emb, A, across, profile, int(n_components), int(k_max), int(seed),
                       int(n_init), over)
