"""Clustering of element embeddings (paper section II.B.4, Figures 3-5).

The paper standardises the 89 x 128 CT embedding, reduces it with PCA to
89 x 32, draws a clustered heatmap, and picks the number of k-means clusters
from an elbow plot and a silhouette plot (it finds k = 3).  This module holds
the reusable parts; ``notebooks/07_clusters.ipynb`` puts them together.

It also holds :func:`resolve_embedding`, which finds the embedding a notebook
should analyse in the results store (``results/<profile>/<experiment>/<run>.json``).

Conventions: ``X`` is an ``(n_elements, n_features)`` float array whose rows
follow an ordered list of element symbols; labels are ``(n_elements,)`` ints.
"""
from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "EmbeddingSource",
    "EmbeddingNotFound",
    "find_embedding_runs",
    "resolve_embedding",
    "resolve_embeddings",
    "standardize",
    "pca_reduce",
    "kmeans_labels",
    "kmeans_scan",
    "elbow_k",
    "choose_k",
    "cluster_members",
    "cluster_property_means",
    "stability_ari",
    "plot_clustermap",
    "plot_elbow_silhouette",
]

#: The multi-task CT run trains on both MP-2018 targets at once.
MULTI_TASK_TARGETS = ("formation_energy_per_atom", "band_gap")
#: The single-task fall-back: CT trained on formation energy alone.
SINGLE_TASK_TARGET = "formation_energy_per_atom"
#: Record keys that may point at the run's element-embedding file.
_EMBEDDING_KEYS = ("embedding_path", "embedding_file", "embedding", "element_embedding")


class EmbeddingNotFound(FileNotFoundError):
    """No element embedding matches the request (see the message for what to run)."""


# --------------------------------------------------------------------------- #
# Finding the embedding to analyse
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class EmbeddingSource:
    """One element embedding found on disk.

    Attributes:
        embedding: the loaded ``ctlib.embeddings.ElementEmbedding``.
        description: one line saying what it is and where it came from.
        path: the embedding file.
        run_id: the results run id, or ``None`` for a bare file.
        seed: the training seed of the run, or ``None`` if unknown.
        kind: ``"ct-multitask"``, ``"ct-Ef"`` or ``"file"``.
        record: the run's results record (``None`` for a bare file).
    """

    embedding: object
    description: str
    path: Path
    run_id: str | None
    seed: int | None
    kind: str
    record: dict | None = None

    def test_metrics_text(self) -> str:
        """One line with the test MAE and R² of the run that produced the embedding ('' if none)."""
        test = (self.record or {}).get("test") or {}
        parts = [f"{t}: MAE {m['mae']:.3g}, R² {m['r2']:.3f} (n = {m.get('n')})"
                 for t, m in test.items() if isinstance(m, dict) and m.get("mae") is not None
                 and m.get("r2") is not None]
        return "; ".join(parts)


def _results_dir(profile: str, results_root: str | Path | None) -> Path:
    if results_root is None:
        # As ctlib.train: $CTLIB_RESULTS, else the store at the repository root.
        env = os.environ.get("CTLIB_RESULTS")
        results_root = Path(env) if env else Path(__file__).resolve().parents[2] / "results"
    return Path(results_root) / profile


def _record_embedding_path(record: dict, record_path: Path) -> Path | None:
    """The element-embedding file a run record points at (``None`` if it has none)."""
    value = None
    for key in _EMBEDDING_KEYS:
        v = record.get(key)
        if isinstance(v, dict):  # e.g. {"path": ..., "format": ...}
            v = v.get("path")
        if isinstance(v, str) and v:
            value = v
            break
    if value is None:
        return None
    p = Path(value)
    if p.is_absolute():
        return p
    # Relative paths are tried against the record's folder, the results root
    # and the repository root, in that order.
    candidates = [record_path.parent / p]
    candidates += [anc / p for anc in record_path.parents]
    for c in candidates:
        if c.exists():
            return c
    return candidates[0]


def _record_targets(record: dict) -> tuple[str, ...]:
    for holder in (record, record.get("config", {}) or {}):
        t = holder.get("targets")
        if isinstance(t, str):
            return (t,)
        if isinstance(t, (list, tuple)):
            return tuple(str(x) for x in t)
    return ()


def _record_model(record: dict) -> str | None:
    cfg = record.get("config", {}) or {}
    m = cfg.get("model", record.get("model"))
    if isinstance(m, dict):  # a nested model config, e.g. {"name": "ct", ...}
        m = m.get("name")
    return str(m).lower() if m is not None else None


def _record_seed(record: dict) -> int | None:
    for holder in (record, record.get("config", {}) or {}):
        s = holder.get("seed")
        if isinstance(s, (int, np.integer)):
            return int(s)
    return None


def _record_run_id(record: dict, path: Path) -> str:
    return str(record.get("run_id", path.stem))


def _onehot_start(record: dict) -> bool:
    """True when the run started from the one-hot table (no external embedding)."""
    cfg = record.get("config", {}) or {}
    if cfg.get("embedding_sha256"):
        return False
    mcfg = cfg.get("model_config", {}) or {}
    return mcfg.get("embedding_init", "onehot") == "onehot"


def _ct_kind(record: dict) -> str | None:
    """``"ct-multitask"`` / ``"ct-Ef"`` for CT runs trained from the one-hot start."""
    if _record_model(record) != "ct" or not _onehot_start(record):
        return None
    targets = set(_record_targets(record))
    if set(MULTI_TASK_TARGETS) <= targets:
        return "ct-multitask"
    if targets == {SINGLE_TASK_TARGET}:
        return "ct-Ef"
    return None


def _load_embedding(path: Path):
    from ctlib.embeddings import ElementEmbedding  # the trainer helper's module

    if not path.exists():
        raise EmbeddingNotFound(f"embedding file {path} does not exist")
    return ElementEmbedding.load(path)


def find_embedding_runs(profile: str, kind: str, *, results_root: str | Path | None = None) -> list[tuple[Path, dict]]:
    """All run records of ``results/<profile>`` of one CT kind that have an embedding file.

    Args:
        profile: profile name (``smoke``, ``quick``, ``paper``).
        kind: ``"ct-multitask"`` (CT trained on E_f and E_g together) or
            ``"ct-Ef"`` (CT trained on formation energy alone).
        results_root: the results folder (default: ``$CTLIB_RESULTS``, else
            ``<repo>/results``).

    Returns:
        ``[(record_path, record), ...]`` sorted by seed, then run id.
    """
    if kind not in ("ct-multitask", "ct-Ef"):
        raise ValueError(f"kind must be 'ct-multitask' or 'ct-Ef', not {kind!r}")
    root = _results_dir(profile, results_root)
    if not root.is_dir():
        return []
    by_config: dict[str, tuple[Path, dict]] = {}
    for p in sorted(root.rglob("*.json")):
        if p.parent.name in ("embeddings", "predictions"):
            continue
        try:
            rec = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue  # not a run record (or unreadable): skip it
        if not isinstance(rec, dict) or _ct_kind(rec) != kind:
            continue
        emb = _record_embedding_path(rec, p)
        if emb is None or not emb.exists():
            continue
        # The same run may be stored under several experiments (a copy made by
        # the results cache); keep one, preferring the "fronts" experiment.
        key = str(rec.get("config_hash") or p)
        if key not in by_config or (rec.get("experiment") == "fronts"
                                    and by_config[key][1].get("experiment") != "fronts"):
            by_config[key] = (p, rec)
    runs = list(by_config.values())
    # Several configurations for one seed: keep the most recently finished.
    by_seed: dict = {}
    for p, rec in runs:
        s = _record_seed(rec)
        prev = by_seed.get(s)
        if prev is None or str(rec.get("finished", "")) > str(prev[1].get("finished", "")):
            by_seed[s] = (p, rec)
    found = list(by_seed.values())
    found.sort(key=lambda t: (_record_seed(t[1]) if _record_seed(t[1]) is not None else 10**9,
                              _record_run_id(t[1], t[0])))
    return found


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _source_from_record(path: Path, rec: dict, kind: str) -> EmbeddingSource:
    emb_path = _record_embedding_path(rec, path)
    emb = _load_embedding(emb_path)
    seed = _record_seed(rec)
    label = {"ct-multitask": "CrystalTransformer multi-task (E_f + E_g) embedding",
             "ct-Ef": "CrystalTransformer single-task E_f embedding"}.get(kind, "embedding of run")
    desc = (f"{label}, run {_record_run_id(rec, path)}"
            f"{'' if seed is None else f', seed {seed}'} ({_shown(emb_path)})")
    return EmbeddingSource(emb, desc, emb_path, _record_run_id(rec, path), seed, kind, rec)


def resolve_embeddings(spec: str | Path = "auto", profile: str = "quick", *,
                       seeds: Sequence[int] | None = None,
                       results_root: str | Path | None = None) -> list[EmbeddingSource]:
    """Every seed of the embedding a notebook should analyse.

    Args:
        spec: ``"auto"``; a path to an element-embedding file; or a run id
            (the stem of a run JSON under ``results/<profile>``).
            ``"auto"`` takes the CT multi-task runs of the profile, and falls
            back to the CT single-task E_f runs when there are none.
        profile: which ``results/<profile>`` folder to search.
        seeds: keep only runs with these seeds (``None``: all).
        results_root: the results folder (default: ``$CTLIB_RESULTS``, else
            ``<repo>/results``).

    Returns:
        list of :class:`EmbeddingSource`, sorted by seed (one entry for a path
        or a run id).

    Raises:
        EmbeddingNotFound: nothing matches; the message says which notebooks
            produce the embedding.
    """
    spec_s = str(spec)
    if spec_s != "auto":
        p = Path(spec_s).expanduser()
        if p.exists() and p.is_file():
            emb = _load_embedding(p)
            return [EmbeddingSource(emb, f"embedding file {p}", p, None, None, "file")]
        root = _results_dir(profile, results_root)
        hits: dict[str, tuple[Path, dict]] = {}
        for h in (sorted(root.rglob(f"{spec_s}.json")) if root.is_dir() else []):
            if h.parent.name in ("embeddings", "predictions"):
                continue  # the run's side files share its id
            try:
                rec = json.loads(h.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(rec, dict) and "config_hash" in rec:
                # one run may be stored under several experiments: same config hash
                hits.setdefault(rec["config_hash"], (h, rec))
        if not hits:
            raise EmbeddingNotFound(
                f"embedding {spec_s!r} is neither an existing file nor a run id under {root}; "
                "pass a path to an embedding file, a run id, or 'auto'")
        if len(hits) > 1:
            raise EmbeddingNotFound(f"run id {spec_s!r} is ambiguous under {root}: "
                                    f"{[str(h) for h, _ in hits.values()]}")
        path, rec = next(iter(hits.values()))
        if _record_embedding_path(rec, path) is None:
            raise EmbeddingNotFound(f"run record {path} has no element-embedding file "
                                    f"(looked for keys {list(_EMBEDDING_KEYS)})")
        return [_source_from_record(path, rec, _ct_kind(rec) or "run")]

    for kind in ("ct-multitask", "ct-Ef"):
        runs = find_embedding_runs(profile, kind, results_root=results_root)
        if seeds is not None:
            runs = [(p, r) for p, r in runs if _record_seed(r) in set(int(s) for s in seeds)]
        if runs:
            return [_source_from_record(p, r, kind) for p, r in runs]
    raise EmbeddingNotFound(
        f"no CrystalTransformer element embedding for profile {profile!r} under "
        f"{_results_dir(profile, results_root)} (looked for CT runs on {list(MULTI_TASK_TARGETS)} "
        f"and on [{SINGLE_TASK_TARGET!r}]"
        f"{'' if seeds is None else f' with seeds {list(seeds)}'}). "
        "Run notebooks 02 and 04 for this profile first (they train CT and save its embedding), "
        "or pass embedding=<path to an embedding file>.")


def resolve_embedding(spec: str | Path = "auto", profile: str = "quick", *,
                      results_root: str | Path | None = None) -> tuple[object, str]:
    """The embedding to analyse and a one-line description of it.

    Same rules as :func:`resolve_embeddings`; with several seeds the lowest
    seed is returned.

    Returns:
        ``(ElementEmbedding, description)``.
    """
    src = resolve_embeddings(spec, profile, results_root=results_root)[0]
    return src.embedding, src.description


# --------------------------------------------------------------------------- #
# PCA and k-means
# --------------------------------------------------------------------------- #
def _as_matrix(X, name: str = "X") -> np.ndarray:
    A = np.asarray(X, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] < 2 or A.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-d (n_elements >= 2, n_features >= 1) array, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or inf values; drop or fill them first")
    return A


def standardize(X) -> np.ndarray:
    """Z-score each column: ``(X - mean) / std`` (population std).

    Constant columns (std = 0) become zeros instead of NaN.

    Shapes: ``(n, d) -> (n, d)``.
    """
    A = _as_matrix(X)
    mu = A.mean(axis=0)
    sd = A.std(axis=0)
    return (A - mu) / np.where(sd > 0, sd, 1.0)


def pca_reduce(X, n_components: int = 32, *, scale: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standardise (optional) and project onto the leading principal components.

    Args:
        X: ``(n, d)`` embedding matrix.
        n_components: components to keep (the paper: 32); must be
            ``<= min(n, d)``.
        scale: z-score the columns first (the paper standardises).
        seed: random state for the (deterministic for full SVD) solver.

    Returns:
        ``(Z, ratio)``: scores ``(n, n_components)`` and explained-variance
        ratios ``(n_components,)`` (fractions of the total variance).
    """
    from sklearn.decomposition import PCA

    A = standardize(X) if scale else _as_matrix(X)
    if not 1 <= n_components <= min(A.shape):
        raise ValueError(f"n_components={n_components} must be between 1 and min(n, d) = {min(A.shape)} "
                         f"for an embedding of shape {A.shape}")
    pca = PCA(n_components=n_components, svd_solver="full", random_state=seed)
    Z = pca.fit_transform(A)
    return Z, pca.explained_variance_ratio_.copy()


def _canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0, 1, ... in the order of their first row (lowest Z first)."""
    order = {}
    for lab in labels:
        if lab not in order:
            order[lab] = len(order)
    return np.array([order[lab] for lab in labels], dtype=int)


def kmeans_labels(X, k: int, *, seed: int = 0, n_init: int = 20) -> np.ndarray:
    """k-means labels, renumbered so that cluster 0 holds row 0, and so on.

    Rows are in element order (by Z), so cluster numbering is reproducible
    and independent of k-means' arbitrary label order.

    Shapes: ``X (n, d) -> (n,)`` ints in ``0..k-1``.
    """
    from sklearn.cluster import KMeans

    A = _as_matrix(X)
    if not 1 <= k <= A.shape[0]:
        raise ValueError(f"k={k} must be between 1 and the number of rows {A.shape[0]}")
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(A)
    return _canonical_labels(km.labels_)


def kmeans_scan(X, ks: Iterable[int] = range(2, 11), seed: int = 0, *, n_init: int = 20) -> pd.DataFrame:
    """Inertia (elbow) and mean silhouette of k-means for each k.

    Args:
        X: ``(n, d)`` matrix (e.g. the PCA scores).
        ks: numbers of clusters to try, each in ``2..n-1``.
        seed: k-means random state.
        n_init: k-means restarts per k.

    Returns:
        DataFrame with columns ``k``, ``inertia`` (within-cluster sum of
        squares, in squared units of ``X``) and ``silhouette`` (in [-1, 1]),
        one row per k in increasing order.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    A = _as_matrix(X)
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 2 or ks[-1] > A.shape[0] - 1:
        raise ValueError(f"every k must lie in 2..{A.shape[0] - 1} for {A.shape[0]} rows; got {ks}")
    rows = []
    for k in ks:
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(A)
        rows.append({"k": k, "inertia": float(km.inertia_),
                     "silhouette": float(silhouette_score(A, km.labels_))})
    return pd.DataFrame(rows, columns=["k", "inertia", "silhouette"])


def elbow_k(scan: pd.DataFrame) -> dict:
    """Locate the elbow of the inertia curve in two ways.

    * **kneedle** (Satopää et al. 2011) for a decreasing convex curve: scale
      k and inertia to [0, 1] and take the k farthest below the chord from the
      first to the last point (``argmax (1 - k_n) - inertia_n``);
    * **max second difference**: the k where the inertia curve bends most,
      ``argmax inertia[k-1] - 2 inertia[k] + inertia[k+1]``.

    Args:
        scan: output of :func:`kmeans_scan` (needs >= 3 consecutive ks).

    Returns:
        ``{"kneedle": k, "second_difference": k}``.
    """
    s = scan.sort_values("k")
    k = s["k"].to_numpy(dtype=float)
    y = s["inertia"].to_numpy(dtype=float)
    if len(k) < 3:
        raise ValueError("the elbow needs at least 3 values of k")
    kn = (k - k[0]) / (k[-1] - k[0])
    span = y.max() - y.min()
    yn = (y - y.min()) / span if span > 0 else np.zeros_like(y)
    kneedle = int(k[int(np.argmax((1.0 - kn) - yn))])
    d2 = y[:-2] - 2 * y[1:-1] + y[2:]
    second = int(k[1 + int(np.argmax(d2))])
    return {"kneedle": kneedle, "second_difference": second}


def choose_k(scan: pd.DataFrame) -> tuple[int, str]:
    """Pick the number of clusters, and say how.

    Rule: the k with the highest mean silhouette (ties: the smaller k).  The
    elbow is reported beside it (kneedle and max second difference, see
    :func:`elbow_k`), with whether it agrees.

    Returns:
        ``(k, text)`` where ``text`` states the rule and both criteria.
    """
    s = scan.sort_values("k").reset_index(drop=True)
    best = float(s["silhouette"].max())
    k_sil = int(s.loc[s["silhouette"] >= best - 1e-12, "k"].min())
    el = elbow_k(s)
    agree = "agrees" if el["kneedle"] == k_sil else "does not agree"
    text = (f"k = {k_sil}: the silhouette maximum ({best:.3f} at k = {k_sil}, over k = "
            f"{int(s['k'].min())}..{int(s['k'].max())}). The elbow of the inertia curve is at "
            f"k = {el['kneedle']} by the kneedle rule and at k = {el['second_difference']} by the "
            f"largest second difference; the kneedle elbow {agree} with the silhouette choice.")
    return k_sil, text


# --------------------------------------------------------------------------- #
# Describing clusters
# --------------------------------------------------------------------------- #
def _check_labels(elements: Sequence[str], labels) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != (len(elements),):
        raise ValueError(f"labels have shape {lab.shape}, expected ({len(elements)},) to match the elements")
    return lab


def cluster_members(elements: Sequence[str], labels) -> pd.DataFrame:
    """Members of each cluster.

    Args:
        elements: ``n`` element symbols (rows of the clustered matrix).
        labels: ``(n,)`` cluster labels.

    Returns:
        DataFrame indexed by ``cluster`` with ``size`` and ``members`` (the
        symbols joined by spaces, in input order).
    """
    lab = _check_labels(elements, labels)
    rows = []
    for c in sorted(set(lab.tolist())):
        mem = [e for e, l in zip(elements, lab) if l == c]
        rows.append({"cluster": c, "size": len(mem), "members": " ".join(mem)})
    return pd.DataFrame(rows).set_index("cluster")


def cluster_property_means(elements: Sequence[str], labels, properties: pd.DataFrame) -> pd.DataFrame:
    """Mean of each elemental property per cluster, with how many values it averaged.

    Args:
        elements: ``n`` element symbols.
        labels: ``(n,)`` cluster labels.
        properties: DataFrame indexed by symbol (e.g.
            ``ctlib.elements.elemental_properties()``); missing values are skipped.

    Returns:
        DataFrame indexed by ``cluster``: one column per property (mean) and
        one ``n_<property>`` column per property (values averaged).
    """
    lab = _check_labels(elements, labels)
    props = properties.reindex(list(elements))
    props = props.assign(cluster=lab)
    g = props.groupby("cluster")
    means = g.mean(numeric_only=True)
    counts = g.count().add_prefix("n_")
    return means.join(counts[[f"n_{c}" for c in means.columns]])


def stability_ari(labelings: Sequence) -> pd.DataFrame:
    """Pairwise adjusted Rand index between clusterings of the same elements.

    Args:
        labelings: list of ``(n,)`` label arrays (e.g. one per training seed),
            all over the same elements in the same order.

    Returns:
        DataFrame with columns ``a``, ``b`` (positions in the list) and
        ``ari`` (1 = identical partitions, ~0 = chance), one row per pair.
    """
    from sklearn.metrics import adjusted_rand_score

    labs = [np.asarray(l) for l in labelings]
    if len(labs) < 2:
        raise ValueError("stability needs at least two clusterings")
    n = labs[0].shape
    if any(l.shape != n for l in labs):
        raise ValueError(f"all labelings must have the same shape; got {[l.shape for l in labs]}")
    rows = [{"a": i, "b": j, "ari": float(adjusted_rand_score(labs[i], labs[j]))}
            for i, j in itertools.combinations(range(len(labs)), 2)]
    return pd.DataFrame(rows, columns=["a", "b", "ari"])


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
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


def plot_elbow_silhouette(scan: pd.DataFrame, k_chosen: int | None = None, elbow: dict | None = None):
    """Two panels: inertia vs k (A, the elbow) and silhouette vs k (B) (Figure 4).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    s = scan.sort_values("k")
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    a.plot(s["k"], s["inertia"], "o-")
    a.set(xlabel="number of clusters k", ylabel="inertia (within-cluster SS)", title="(A) elbow")
    b.plot(s["k"], s["silhouette"], "o-", color="C1")
    b.set(xlabel="number of clusters k", ylabel="mean silhouette", title="(B) silhouette")
    if elbow:
        a.axvline(elbow["kneedle"], ls="--", color="grey", label=f"kneedle k = {elbow['kneedle']}")
        a.legend()
    if k_chosen is not None:
        b.axvline(k_chosen, ls="--", color="grey", label=f"chosen k = {k_chosen}")
        b.legend()
    for ax in (a, b):
        ax.set_xticks(list(s["k"]))
    fig.tight_layout()
    return fig
