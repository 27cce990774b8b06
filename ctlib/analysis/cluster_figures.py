"""Figures of the clustering page (07): the clustered heatmap of a table, the elbow and
silhouette panels (Figure 4), the cumulative PCA variance and the clusters on the periodic
table (Figure 5)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.clustering import _as_matrix, _check_labels, null_summary


def plot_clustermap(Z, elements: Sequence[str], *, labels=None, title: str | None = None,
                    figsize: tuple[float, float] = (11, 17)):
    """Seaborn clustered heatmap of elements x principal components (Figure 3).

    Rows (elements) and columns (components) are ordered by Ward
    hierarchical clustering with dendrograms; every row is labelled with
    its symbol.

    Args:
        Z: ``(n, m)`` PCA scores.
        elements: ``n`` symbols.
        labels: optional ``(n,)`` k-means labels, drawn as a colour strip.

    Returns:
        the ``seaborn.matrix.ClusterGrid``.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    A = _as_matrix(Z, "Z")
    if A.shape[0] != len(elements):
        raise ValueError(f"Z has {A.shape[0]} rows but {len(elements)} element symbols were given")
    df = pd.DataFrame(A, index=list(elements), columns=[f"PC{i + 1}" for i in range(A.shape[1])])
    row_colors = None
    if labels is not None:
        lab = _check_labels(elements, labels)
        pal = sns.color_palette("tab10", n_colors=max(10, int(lab.max()) + 1))
        row_colors = pd.Series([pal[int(l)] for l in lab], index=df.index, name="cluster")
    lim = float(np.percentile(np.abs(A), 98))
    g = sns.clustermap(df, method="ward", metric="euclidean", cmap="RdBu_r", center=0.0,
                       vmin=-lim, vmax=lim, figsize=figsize, row_colors=row_colors,
                       yticklabels=True, xticklabels=True, dendrogram_ratio=(0.12, 0.08),
                       cbar_kws={"label": "PC score"})
    g.ax_heatmap.tick_params(axis="y", labelsize=7)
    g.ax_heatmap.tick_params(axis="x", labelsize=7)
    plt.setp(g.ax_heatmap.get_xticklabels(), rotation=90)
    plt.setp(g.ax_heatmap.get_yticklabels(), rotation=0)
    if title:
        g.figure.suptitle(title, y=1.01)
    return g


def plot_elbow_silhouette(scan: pd.DataFrame, k_chosen: int | None = None, elbow: dict | None = None,
                          *, null: dict | None = None, paper_k: int | None = None):
    """Two panels: inertia vs k (A, the elbow) and silhouette vs k (B) (Figure 4).

    ``null``: the silhouettes of random tables (:func:`null_silhouettes`), drawn
    in (B) as a band up to their 95th percentile; ``paper_k``: marked in (B).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    s = scan.sort_values("k")
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    a.plot(s["k"], s["inertia"], "o-")
    a.set(xlabel="number of clusters k", ylabel="inertia (within-cluster SS)", title="(A) elbow")
    b.plot(s["k"], s["silhouette"], "o-", color="C1", label="embedding")
    b.set(xlabel="number of clusters k", ylabel="mean silhouette", title="(B) silhouette")
    if null:
        ns = null_summary(null)
        b.fill_between(ns.index, 0, ns["q95"], color="grey", alpha=0.25,
                       label=f"random tables (95th pct of {int(ns['n_tables'].max())})")
    if paper_k is not None and paper_k in set(s["k"]):
        b.plot([paper_k], [float(s.set_index("k").at[paper_k, "silhouette"])], marker="D", ms=8,
               mfc="none", mec="black", ls="none", label=f"paper's k = {paper_k}")
    if elbow:
        a.axvline(elbow["kneedle"], ls="--", color="grey", label=f"kneedle k = {elbow['kneedle']}")
        a.legend()
    if k_chosen is not None:
        b.axvline(k_chosen, ls="--", color="grey", label=f"chosen k = {k_chosen}")
    if k_chosen is not None or null or paper_k is not None:
        b.legend(fontsize=8)
    for ax in (a, b):
        ax.set_xticks(list(s["k"]))
    fig.tight_layout()
    return fig


def plot_pca_variance(full_ratio, n_components: int, *, figsize: tuple[float, float] = (6.4, 3.6)):
    """Cumulative explained variance against the number of principal components, with the
    number kept marked.

    Args:
        full_ratio: explained-variance ratios of all components (fractions, decreasing).
        n_components: the components kept (``1 <= n_components <= len(full_ratio)``); the
            dashed line's label gives the cumulative fraction they keep.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    ratio = np.asarray(full_ratio, dtype=float)
    if not 1 <= n_components <= len(ratio):
        raise ValueError(f"n_components={n_components} must be between 1 and {len(ratio)}")
    cum = np.cumsum(ratio)
    fig, ax = plt.subplots(figsize=figsize)
    ax.plot(np.arange(1, len(cum) + 1), cum, "o-", ms=3)
    ax.axvline(n_components, ls="--", color="grey", label=f"{n_components} components: {cum[n_components - 1]:.1%}")
    ax.set(xlabel="number of principal components", ylabel="cumulative explained variance", ylim=(0, 1.02))
    ax.legend(loc="lower right")
    return fig


def plot_cluster_periodic_tables(elements: Sequence[str], labels: dict, k_chosen: int) -> dict:
    """One periodic table per clustering, elements coloured by cluster (Figure 5).

    Args:
        elements: ``n`` element symbols.
        labels: k -> ``(n,)`` 0-based cluster labels (drawn 1-based, ``"cluster 1"``, ...),
            e.g. ``ClusterAnalysis.labels``.
        k_chosen: the k the page chose (titled "chosen"; any other k is "the paper's").

    Returns:
        k -> matplotlib Figure, in the order of ``labels``.
    """
    from ctlib.analysis.periodic_table import plot_periodic_table

    figs = {}
    for k, lab in labels.items():
        lab = _check_labels(elements, lab)
        which = "chosen" if k == k_chosen else "the paper's"
        figs[k] = plot_periodic_table({e: f"cluster {int(l) + 1}" for e, l in zip(elements, lab)},
                                      categorical=True, legend_title=f"k = {k}",
                                      title=f"k-means clusters of the embedding, k = {k} ({which})")
    return figs


def save_all(figs: dict, prefix: str, out_dir) -> list:
    """Save each figure of ``figs`` with :func:`ctlib.plotting.savefig` as ``<prefix><key>``.

    Args:
        figs: key -> matplotlib Figure (e.g. :func:`plot_cluster_periodic_tables`: k -> Figure).
        prefix: the file stem before the key, e.g. ``"07_clusters_periodic_table_k"``.
        out_dir: the page's output folder (the files go to its ``figures`` subfolder).

    Returns:
        the PNG paths, in the order of ``figs``.
    """
    from ctlib.plotting import savefig

    return [savefig(fig, f"{prefix}{key}", out_dir) for key, fig in figs.items()]
