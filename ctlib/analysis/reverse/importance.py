"""SHAP of the reverse prediction: Figure 6's values, Table VII and the stability of the top dimensions.

One CatBoost model per property on all elements with a value, explained with
TreeSHAP (:func:`shap_by_property`); the dimensions ranked by mean |SHAP|
(:func:`shap_top_dims`, Table VII: :func:`table7`); and whether the top
dimensions come back when CatBoost's seed (:func:`catboost_seed_stability`) or
the embedding's training seed (:func:`embedding_seed_stability`) changes, by
the Jaccard index of the top sets (:func:`jaccard`, :func:`topdim_stability`).
Dimensions are **0-based** (``dim 0`` is the first column of the table).

Imports: numpy, pandas, :mod:`.data`, :mod:`.fitting`, and ``shap`` /
:mod:`ctlib.report` inside functions.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.reverse import fitting
from ctlib.analysis.reverse.data import PROPERTIES, common_elements, feature_names, property_matrix

__all__ = ["shap_values", "shap_top_dims", "mean_abs_shap", "jaccard", "topdim_stability", "shap_by_property", "table7",
           "catboost_seed_stability", "embedding_seed_stability"]


def shap_values(model, X) -> np.ndarray:
    """TreeSHAP values of a fitted CatBoost model.

    Shapes: ``X (n, d) -> (n, d)`` in the target's units (each row sums, with
    the expected value, to the model's prediction).
    """
    import shap

    return np.asarray(shap.TreeExplainer(model).shap_values(np.asarray(X, dtype=np.float64)))


def shap_top_dims(values, *, top: int = 5, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Dimensions ranked by mean |SHAP| (Table VII).

    Args:
        values: ``(n, d)`` SHAP values.
        top: how many to return.
        names: ``d`` feature names (default :func:`feature_names`).

    Returns:
        DataFrame with ``rank`` (1 = most important), ``dim`` (0-based index),
        ``name`` and ``mean_abs_shap`` (target units), ``top`` rows.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"SHAP values must be (n, d), got {v.shape}")
    names = list(names) if names is not None else feature_names(v.shape[1])
    imp = np.abs(v).mean(axis=0)
    order = np.argsort(-imp, kind="stable")[:top]
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "dim": order,
                         "name": [names[j] for j in order], "mean_abs_shap": imp[order]})


def jaccard(a, b) -> float:
    """|A ∩ B| / |A ∪ B| of two sets (1.0 for two empty sets)."""
    a, b = set(a), set(b)
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def topdim_stability(top_sets: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Pairwise Jaccard index of top-dimension sets (e.g. one per seed).

    Returns:
        DataFrame with columns ``a``, ``b`` (keys) and ``jaccard``.
    """
    keys = list(top_sets)
    if len(keys) < 2:
        raise ValueError("stability needs at least two top-dimension sets")
    return pd.DataFrame([{"a": a, "b": b, "jaccard": jaccard(top_sets[a], top_sets[b])}
                         for a, b in itertools.combinations(keys, 2)], columns=["a", "b", "jaccard"])


def shap_by_property(elements: Sequence[str], matrix, properties: pd.DataFrame,
                     tables: Mapping[str, tuple[Sequence[str], np.ndarray]], *,
                     props: Sequence[str] | None = None, iterations: int = 300, seed: int = 0,
                     top: int = 5, thread_count: int = 2, order: Sequence[str] | None = None) -> dict:
    """One CatBoost model per property on all elements with a value, explained by TreeSHAP.

    The elements are those of :func:`common_elements` over ``tables`` (the same
    as in the cross-validation).

    Returns:
        ``{property: {"shap": (n, d) values, "X": (n, d) rows, "top": shap_top_dims(...)}}``.
    """
    props = list(props) if props is not None else [p for p in PROPERTIES if p in properties.columns]
    order = list(order) if order is not None else list(elements)
    names = feature_names(np.asarray(matrix).shape[1])
    out = {}
    for prop in props:
        keep = common_elements(tables, properties[prop], order)
        X, y = property_matrix(elements, matrix, properties[prop], keep)
        model = fitting.fit_catboost(X, y, iterations=iterations, seed=seed, thread_count=thread_count)
        sv = shap_values(model, X)
        out[prop] = {"shap": sv, "X": X, "top": shap_top_dims(sv, top=top, names=names)}
    return out


def mean_abs_shap(X, y, *, iterations: int, seed: int, thread_count: int, cache_dir=None) -> np.ndarray:
    """Mean |SHAP| per dimension of one CatBoost model fitted on ``X (n, d)``, ``y (n,)``:
    shape ``(d,)``, in the property's units.

    With ``cache_dir``, the vector is read from (or written to) ``<cache_dir>/<key>.json``,
    ``key`` the SHA-256 of the exact bytes of ``X`` and ``y``, the settings and the installed
    CatBoost and shap versions (24 hex digits), so a stale entry is never read; JSON keeps
    float64 exactly, so a cached vector ranks the dimensions as a fresh fit does.
    """
    import catboost
    import shap

    from ctlib.utils import read_cache_json, write_json_atomic

    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    path = None
    if cache_dir is not None:
        key = fitting.content_key(X, y, (X.shape, y.shape, int(iterations), int(seed), int(thread_count),
                                         catboost.__version__, shap.__version__))
        path = Path(cache_dir) / f"{key}.json"

        def parse(data):
            v = np.asarray(data["mean_abs_shap"], dtype=np.float64)
            if v.shape != (X.shape[1],):
                raise ValueError(f"it holds {v.shape[0]} dimensions, the table has {X.shape[1]}")
            return v

        found = read_cache_json(path, parse, what="SHAP")
        if found is not None:
            return found
    m = fitting.fit_catboost(X, y, iterations=iterations, seed=seed, thread_count=thread_count)
    imp = np.abs(shap_values(m, X)).mean(axis=0)
    if path is not None:
        write_json_atomic(path, {"key": path.stem, "n": len(y), "d": X.shape[1], "iterations": int(iterations),
                                 "seed": int(seed), "mean_abs_shap": imp.tolist()})
    return imp


def _top_set(X, y, *, iterations, seed, top, thread_count, cache_dir=None) -> set:
    """The ``top`` dimensions by mean |SHAP| (the order of :func:`shap_top_dims`)."""
    imp = mean_abs_shap(X, y, iterations=iterations, seed=seed, thread_count=thread_count, cache_dir=cache_dir)
    return set(int(d) for d in np.argsort(-imp, kind="stable")[:top])


def catboost_seed_stability(elements: Sequence[str], matrix, properties: pd.DataFrame,
                            tables: Mapping[str, tuple[Sequence[str], np.ndarray]], *,
                            props: Sequence[str] | None = None, seeds: Sequence[int] = (0, 1, 2),
                            iterations: int = 300, top: int = 5, thread_count: int = 2,
                            order: Sequence[str] | None = None,
                            known: Mapping[str, Mapping[int, Sequence[int]]] | None = None,
                            cache_dir=None) -> pd.DataFrame:
    """Do CatBoost models with other seeds, on the same embedding, rank the same top dimensions?

    Per property: the top-``top`` dimensions by mean |SHAP| of one model per
    seed, and the mean pairwise Jaccard index of these sets.

    Args:
        known: ``{property: {seed: top dims}}`` already computed (e.g. seed 0 of
            :func:`shap_by_property`); those fits are skipped.
        cache_dir: folder of cached mean |SHAP| vectors (:func:`mean_abs_shap`; None: none).

    Returns:
        DataFrame ``property`` (the paper's name), ``mean Jaccard`` and ``top sets``.
    """
    if len(seeds) < 2:
        raise ValueError("stability needs at least two seeds")
    props = list(props) if props is not None else [p for p in PROPERTIES if p in properties.columns]
    order = list(order) if order is not None else list(elements)
    rows = []
    for prop in props:
        keep = common_elements(tables, properties[prop], order)
        X, y = property_matrix(elements, matrix, properties[prop], keep)
        sets = {}
        for s in seeds:
            given = ((known or {}).get(prop) or {}).get(s)
            sets[s] = (set(int(d) for d in list(given)[:top]) if given is not None else
                       _top_set(X, y, iterations=iterations, seed=s, top=top, thread_count=thread_count,
                                cache_dir=cache_dir))
        rows.append({"property": PROPERTIES.get(prop, prop),
                     "mean Jaccard": float(topdim_stability(sets)["jaccard"].mean()),
                     "top sets": {int(k): sorted(v) for k, v in sets.items()}})
    return pd.DataFrame(rows, columns=["property", "mean Jaccard", "top sets"])


def embedding_seed_stability(embeddings: Mapping, properties: pd.DataFrame,
                             tables: Mapping[str, tuple[Sequence[str], np.ndarray]], *,
                             props: Sequence[str] | None = None, iterations: int = 300, seed: int = 0,
                             top: int = 5, thread_count: int = 2,
                             order: Sequence[str] | None = None, cache_dir=None) -> pd.DataFrame:
    """Do independently trained embeddings put the importance on the same dimension indices?

    Args:
        embeddings: training seed -> ``(elements, (n, d) matrix)``, at least two.
        cache_dir: folder of cached mean |SHAP| vectors (:func:`mean_abs_shap`; None: none).

    Returns:
        DataFrame ``property`` and ``mean Jaccard`` of the top-``top`` sets of the
        seeds. Indices of different seeds are not aligned, so a low value is
        expected; this measures only whether importance lands on the same axes.
    """
    if len(embeddings) < 2:
        raise ValueError("stability needs at least two embeddings")
    props = list(props) if props is not None else [p for p in PROPERTIES if p in properties.columns]
    rows = []
    for prop in props:
        sets = {}
        for key, (els, mat) in embeddings.items():
            o = list(order) if order is not None else list(els)
            keep = common_elements(tables, properties[prop], o)
            X, y = property_matrix(els, mat, properties[prop], keep)
            sets[key] = _top_set(X, y, iterations=iterations, seed=seed, top=top, thread_count=thread_count,
                                 cache_dir=cache_dir)
        rows.append({"property": PROPERTIES.get(prop, prop),
                     "mean Jaccard": float(topdim_stability(sets)["jaccard"].mean())})
    return pd.DataFrame(rows, columns=["property", "mean Jaccard"])


def table7(shap: Mapping[str, dict], *, top: int = 5) -> pd.DataFrame:
    """Table VII: the paper's most important dimensions beside ours.

    Args:
        shap: :func:`shap_by_property` output.

    Returns:
        ``property``, ``paper: most important dimensions``, ``ours: top <top> (0-based)``
        and ``ours: share of total mean |SHAP| in top 5``.
    """
    from ctlib.report import paper_tables

    paper7 = paper_tables()["table7_top_shap_dimensions"]
    rows = []
    for prop, d in shap.items():
        name = PROPERTIES.get(prop, prop)
        imp = np.abs(np.asarray(d["shap"], dtype=float)).mean(axis=0)
        rows.append({"property": name,
                     "paper: most important dimensions": ", ".join(map(str, paper7.get(name, []))),
                     f"ours: top {top} (0-based)": ", ".join(str(int(x)) for x in d["top"]["dim"][:top]),
                     "ours: share of total mean |SHAP| in top 5":
                         float(np.sort(imp)[::-1][:5].sum() / imp.sum()) if imp.sum() > 0 else np.nan})
    return pd.DataFrame(rows)
