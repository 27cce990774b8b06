"""The chapter's protocol: repeated K-fold CV of CatBoost, and its content-addressed cache.

* per property, keep the elements that have a value and a vector in *every*
  table being compared, so all embeddings see the same elements and folds;
* repeated K-fold CV: ``repeats`` shufflings (seeds ``seed .. seed+repeats-1``)
  of ``folds`` folds; a fresh ``CatBoostRegressor`` (default parameters,
  ``iterations`` trees) per fold, seeded ``seed + repeat``;
* R² two ways: **pooled out-of-fold** (one R² per repeat over all held-out
  predictions, mean ± std over repeats; the headline) and **per fold** (mean ±
  std over all folds x repeats). With ~16 elements per fold the per-fold R² is
  fragile: a fold without the few insulators has almost no variance of
  log10 conductivity to explain, and its R² can fall far below -1.

The CV predictions of a (table, property) pair are cached under
``results/<profile>/analysis/reverse_cv/<key>.json`` (:func:`cv_cache_key`);
the fits run through :func:`~ctlib.analysis.reverse.fitting.fit_groups`.

Imports: numpy, pandas, :mod:`.data`, :mod:`.fitting`, and CatBoost (for its
version, inside :func:`cv_cache_key`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.reverse.data import PROPERTIES, cv_splits, property_elements, property_matrix
from ctlib.analysis.reverse.fitting import (FitGroup, _check_iterations_threads, _r2, content_key, fit_groups,
                                            pooled_predictions)

__all__ = ["reverse_prediction_cv", "summarize_cv", "reverse_prediction_table", "cv_cache_key"]

_CV_COLUMNS = ["repeat", "fold", "scope", "n_train", "n_test", "r2", "mae", "cpu_s"]


def cv_cache_key(X, y, *, folds: int, repeats: int, seed: int, iterations: int, thread_count: int) -> str:
    """The content hash naming one (table, property) CV in a reverse-prediction cache.

    Args:
        X: ``(n, d)`` float64 embedding rows, y: ``(n,)`` float64 property
            values, in the element order of the CV; the other arguments as in
            :func:`reverse_prediction_cv`.

    Returns:
        24 hex digits of the SHA-256 of the exact bytes of ``X`` and ``y``,
        their shapes, the CV settings and the installed CatBoost version: any
        change to the table, the elements kept, the property data or the
        settings gives another key, so a stale entry is never read.
    """
    import catboost

    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    return content_key(X, y, (X.shape, y.shape, int(folds), int(repeats), int(seed), int(iterations),
                              int(thread_count), catboost.__version__))


def _cv_fits(splits, seed: int) -> list[tuple[int, np.ndarray, np.ndarray, int]]:
    """``[(repeat, train_idx, test_idx, catboost_seed = seed + repeat), ...]`` of :func:`cv_splits` output."""
    return [(r, tr, te, int(seed) + r) for r, _, tr, te in splits]


def _cv_group(X, y, splits, *, table: str | None = None, prop: str | None = None, folds: int, repeats: int,
              seed: int, iterations: int, thread_count: int, cache_dir=None) -> FitGroup:
    """The :class:`FitGroup` of one (table, property) CV, with its cache entry when ``cache_dir``
    is given (:func:`cv_cache_key`; ``about`` = table, property, n, folds, repeats, seed, iterations)."""
    g = FitGroup(X, y, _cv_fits(splits, seed))
    if cache_dir is not None:
        g.folder = Path(cache_dir)
        g.key = cv_cache_key(X, y, folds=folds, repeats=repeats, seed=seed, iterations=iterations,
                             thread_count=thread_count)
        g.about = dict(table=table, property=prop, n=len(y), folds=int(folds), repeats=int(repeats),
                       seed=int(seed), iterations=int(iterations))
    return g


def _cv_rows(y, splits, preds) -> list[dict]:
    """One ``scope="fold"`` row per fold, then one ``scope="pooled"`` row per repeat."""
    rows = []
    for (r, f, tr, te), (p, cpu) in zip(splits, preds):
        rows.append({"repeat": r, "fold": f, "scope": "fold", "n_train": len(tr), "n_test": len(te),
                     "r2": _r2(y[te], p), "mae": float(np.mean(np.abs(y[te] - p))), "cpu_s": cpu})
    for r, p in pooled_predictions(len(y), [(r, tr, te, 0) for r, _, tr, te in splits], preds).items():
        rows.append({"repeat": r, "fold": -1, "scope": "pooled", "n_train": np.nan, "n_test": len(y),
                     "r2": _r2(y, p), "mae": float(np.mean(np.abs(y - p))), "cpu_s": np.nan})
    return rows


def reverse_prediction_cv(X, y, *, folds: int = 5, repeats: int = 1, iterations: int = 300,
                          seed: int = 0, thread_count: int = 2, n_jobs: int = 1,
                          progress: bool = False) -> pd.DataFrame:
    """Repeated K-fold CV of CatBoost on one (embedding, property) pair.

    Args:
        X: ``(n, d)`` embedding rows of the elements; y: ``(n,)`` property values.
        folds, repeats, seed: see :func:`~ctlib.analysis.reverse.data.cv_splits`;
            CatBoost's seed in repeat r is ``seed + r``.
        iterations: CatBoost trees.
        thread_count: CatBoost threads per fit.
        n_jobs: processes fitting folds in parallel (joblib).

    Returns:
        DataFrame with columns ``repeat``, ``fold``, ``scope``, ``n_train``,
        ``n_test``, ``r2``, ``mae`` (property units), ``cpu_s`` (CPU seconds
        of the fit): one ``scope="fold"`` row per fold and one
        ``scope="pooled"`` row per repeat (``fold=-1``, R² of all
        out-of-fold predictions of that repeat; ``cpu_s`` NaN).
    """
    _check_iterations_threads(iterations, thread_count, n_jobs)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,); got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite; drop elements without a value first")
    splits = cv_splits(len(y), folds=folds, repeats=repeats, seed=seed)
    [g] = fit_groups([FitGroup(X, y, _cv_fits(splits, seed))], iterations=iterations, thread_count=thread_count,
                     n_jobs=n_jobs, progress=progress, desc="CatBoost CV")
    return pd.DataFrame(_cv_rows(y, splits, g.preds), columns=_CV_COLUMNS)


def summarize_cv(cv: pd.DataFrame) -> dict:
    """Mean ± std of R² under both protocols.

    Args:
        cv: output of :func:`reverse_prediction_cv` (or one group of
            :func:`reverse_prediction_table`).

    Returns:
        ``{"r2_fold_mean", "r2_fold_std", "n_folds", "r2_pooled_mean",
        "r2_pooled_std", "n_repeats"}`` (std with ddof=1; NaN for one value).
    """
    f = cv.loc[cv["scope"] == "fold", "r2"].to_numpy(dtype=float)
    p = cv.loc[cv["scope"] == "pooled", "r2"].to_numpy(dtype=float)

    def sd(v):
        return float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")

    return {"r2_fold_mean": float(np.mean(f)) if len(f) else float("nan"), "r2_fold_std": sd(f),
            "n_folds": int(len(f)),
            "r2_pooled_mean": float(np.mean(p)) if len(p) else float("nan"), "r2_pooled_std": sd(p),
            "n_repeats": int(len(p))}


def _props(properties: pd.DataFrame, props: Sequence[str] | None) -> list[str]:
    """The properties to predict (default: the :data:`PROPERTIES` among the columns), checked."""
    props = list(props) if props is not None else [p for p in PROPERTIES if p in properties.columns]
    unknown = [p for p in props if p not in properties.columns]
    if unknown:
        raise KeyError(f"properties {unknown} are not columns of the property table "
                       f"({list(properties.columns)})")
    return props


def reverse_prediction_table(tables: Mapping[str, tuple[Sequence[str], np.ndarray]],
                             properties: pd.DataFrame, *, props: Sequence[str] | None = None,
                             folds: int = 5, repeats: int = 1, iterations: int = 300,
                             seed: int = 0, thread_count: int = 2, n_jobs: int = 1,
                             order: Sequence[str] | None = None,
                             progress: bool = True,
                             cache_dir: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cross-validated R² of every embedding table on every property, same folds for all.

    Args:
        tables: name -> (elements, ``(n, d)`` matrix), e.g. the CT embedding
            plus :func:`~ctlib.analysis.reverse.data.baseline_tables`.
        properties: DataFrame indexed by symbol, one column per property
            (``ctlib.elements.elemental_properties()``).
        props: columns to predict (default: :data:`PROPERTIES` order).
        order: element order (default: the first table's).
        folds, repeats, iterations, seed, thread_count, n_jobs: see
            :func:`reverse_prediction_cv`; all (table, property, fold) fits
            are spread over ``n_jobs`` processes.
        cache_dir: folder of cached CV predictions (None: no cache). A
            (table, property) pair whose exact inputs (``X``, ``y``, folds,
            repeats, seed, iterations, thread_count, CatBoost version) were fitted
            before is read from ``<cache_dir>/<key>.json`` instead of refitted;
            new pairs are written there. See :func:`cv_cache_key`.

    Returns:
        ``(cv, counts)``: ``cv`` is the long table of
        :func:`reverse_prediction_cv` with ``embedding``, ``property`` and
        ``cached`` (bool: read from ``cache_dir``) columns in front; ``counts``
        has, per property, ``n_elements`` used, ``n_with_value`` and the
        ``dropped`` symbols (in ``order`` but unused).
    """
    _check_iterations_threads(iterations, thread_count, n_jobs)
    props = _props(properties, props)
    order = list(order) if order is not None else list(next(iter(tables.values()))[0])
    groups, labels, counts = [], [], []
    for prop in props:
        col, keep = property_elements(tables, properties, prop, order, folds, f"need at least {folds}")
        with_value = [e for e in order if e in col.index and np.isfinite(col.get(e, np.nan))]
        counts.append({"property": prop, "n_elements": len(keep), "n_with_value": len(with_value),
                       "dropped": " ".join(e for e in order if e not in set(keep))})
        splits = cv_splits(len(keep), folds=folds, repeats=repeats, seed=seed)
        for name, (els, mat) in tables.items():
            X, y = property_matrix(els, mat, col, keep)
            groups.append(_cv_group(X, y, splits, table=name, prop=prop, folds=folds, repeats=repeats, seed=seed,
                                    iterations=iterations, thread_count=thread_count, cache_dir=cache_dir))
            labels.append((name, prop, splits))
    fit_groups(groups, iterations=iterations, thread_count=thread_count, n_jobs=n_jobs, progress=progress,
               desc="reverse prediction")
    rows = []
    for g, (name, prop, splits) in zip(groups, labels):
        rows += [{"embedding": name, "property": prop, "cached": g.cached, **row}
                 for row in _cv_rows(g.y, splits, g.preds)]
    cv = pd.DataFrame(rows, columns=["embedding", "property", "cached"] + _CV_COLUMNS)
    return cv, pd.DataFrame(counts).set_index("property")
