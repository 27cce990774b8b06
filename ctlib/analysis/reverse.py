"""Reverse prediction of elemental properties from element embeddings (Table VI, VII, Fig. 6).

The paper regresses five elemental properties (atomic radius, boiling and
melting temperature, electrical conductivity, first ionisation energy) on the
128-d CT embedding of each element with CatBoost and reports R² "averaged over
multiple seeds" (Table VI); SHAP then names the most important embedding
dimensions (Figure 6, Table VII).

Protocol used here (the paper does not state its split):

* per property, keep the elements that have a value and a vector in *every*
  table being compared, so all embeddings see the same elements and folds;
* repeated K-fold CV: ``repeats`` shufflings (seeds ``seed .. seed+repeats-1``)
  of ``folds`` folds; a fresh ``CatBoostRegressor`` (default parameters,
  ``iterations`` trees) per fold;
* R² two ways: **pooled out-of-fold** (one R² per repeat over all held-out
  predictions, mean ± std over repeats; the headline) and **per fold** (mean ±
  std over all folds x repeats). With ~16 elements per fold the per-fold R² is
  fragile: a fold without the few insulators has almost no variance of
  log10 conductivity to explain, and its R² can fall far below -1.

Because the paper's scoring is unknown, :func:`protocol_table` scores the same
fits four ways (:data:`PROTOCOLS`: in-sample, 80/20 split x 10 seeds,
leave-one-out, and the 5-fold pooled protocol above): in-sample, even a random
table reaches a high R², held out it scores about 0.

Shapes: an embedding is ``(n_elements, d)`` with rows following an ordered
list of element symbols; a property is a ``pandas.Series`` indexed by symbol.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "PROPERTIES",
    "BASELINE_DESCRIPTIONS",
    "feature_names",
    "common_elements",
    "property_matrix",
    "cv_splits",
    "reverse_prediction_cv",
    "summarize_cv",
    "reverse_prediction_table",
    "cv_cache_key",
    "PROTOCOLS",
    "SPLIT_SEEDS",
    "SPLIT_TEST",
    "protocol_table",
    "protocol_cache_key",
    "protocol_scope",
    "protocol_label",
    "protocol_wide",
    "protocol_numbers",
    "protocol_cost",
    "protocol_text",
    "baseline_tables",
    "fit_catboost",
    "shap_values",
    "shap_top_dims",
    "jaccard",
    "topdim_stability",
    "paper_r2",
    "r2_numbers",
    "table7",
    "summary_table",
    "pooled_r2_values",
    "table6",
    "r2_wide",
    "shap_by_property",
    "catboost_seed_stability",
    "embedding_seed_stability",
    "plot_shap_beeswarm",
    "plot_r2_bars",
]

#: Column of ``ctlib.elements.elemental_properties()`` -> the paper's name (Table VI order).
PROPERTIES: dict[str, str] = {
    "atomic_radius": "Radius",
    "boiling_point": "Boiling Temperature",
    "melting_point": "Melting Temperature",
    "log10_conductivity": "Electrical Conductivity",
    "first_ionization_energy": "First Ionization Energy",
}

#: What each baseline table of :func:`baseline_tables` is.
BASELINE_DESCRIPTIONS: dict[str, str] = {
    "onehot": "one-hot identity of Z (100-d): carries no chemistry, the floor",
    "cgcnn92": "CGCNN's handcrafted 92-d features (method C)",
    "mat2vec": "mat2vec word embedding (200-d, Tshitoyan et al. 2019; elementembeddings package data)",
    "megnet16": "MEGNet's learned 16-d element embedding (elementembeddings package data)",
    "random128": "seeded standard-normal 128-d table: as many dimensions as CT, no information",
}


def feature_names(d: int) -> list[str]:
    """``["dim 0", ..., "dim {d-1}"]``: 0-based embedding dimensions."""
    return [f"dim {j}" for j in range(int(d))]


# --------------------------------------------------------------------------- #
# Data alignment
# --------------------------------------------------------------------------- #
def _table_frame(elements: Sequence[str], matrix) -> pd.DataFrame:
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != len(elements):
        raise ValueError(f"an embedding table needs one row per element: {len(elements)} elements "
                         f"but a matrix of shape {m.shape}")
    if len(set(elements)) != len(elements):
        raise ValueError("an embedding table lists an element twice")
    return pd.DataFrame(m, index=list(elements))


def common_elements(tables: Mapping[str, tuple[Sequence[str], np.ndarray]], y: pd.Series,
                    order: Sequence[str] | None = None) -> list[str]:
    """Elements with a finite property value and a row in every table.

    Args:
        tables: name -> (elements, ``(n, d)`` matrix).
        y: property values indexed by symbol (NaN = missing).
        order: symbol order of the result (default: the first table's order).

    Returns:
        the ordered list of symbols.
    """
    if not tables:
        raise ValueError("no embedding tables given")
    have = set(y.index[np.isfinite(y.to_numpy(dtype=float))])
    for els, _ in tables.values():
        have &= set(els)
    first = order if order is not None else next(iter(tables.values()))[0]
    return [e for e in first if e in have]


def property_matrix(elements: Sequence[str], matrix, y: pd.Series,
                    keep: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``matrix`` and values of ``y`` for the symbols ``keep``, in that order.

    Returns:
        ``(X (len(keep), d), y (len(keep),))`` as float64.
    """
    df = _table_frame(elements, matrix)
    missing = [e for e in keep if e not in df.index]
    if missing:
        raise KeyError(f"elements {missing[:10]} have no row in the embedding table")
    yy = y.reindex(list(keep)).to_numpy(dtype=float)
    if not np.all(np.isfinite(yy)):
        bad = [e for e, v in zip(keep, yy) if not np.isfinite(v)]
        raise ValueError(f"property {y.name!r} has no value for {bad[:10]}; drop them with common_elements")
    return df.loc[list(keep)].to_numpy(), yy


def cv_splits(n: int, *, folds: int = 5, repeats: int = 1, seed: int = 0) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """Repeated shuffled K-fold index splits.

    Repeat ``r`` shuffles with ``KFold(folds, shuffle=True, random_state=seed + r)``,
    so any two embeddings over the same elements get the same folds.

    Returns:
        ``[(repeat, fold, train_idx, test_idx), ...]``.
    """
    from sklearn.model_selection import KFold

    if folds < 2 or folds > n:
        raise ValueError(f"folds must be between 2 and the number of elements ({n}), got {folds}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    out = []
    for r in range(repeats):
        kf = KFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for f, (tr, te) in enumerate(kf.split(np.arange(n))):
            out.append((r, f, tr, te))
    return out


# --------------------------------------------------------------------------- #
# CatBoost
# --------------------------------------------------------------------------- #
def fit_catboost(X, y, *, iterations: int = 300, seed: int = 0, thread_count: int = 2):
    """A ``CatBoostRegressor`` with default parameters (``iterations`` trees) fitted on X, y.

    Args:
        X: ``(n, d)`` features; y: ``(n,)`` target.
        iterations: number of trees (the learning rate is CatBoost's automatic choice).
        seed: CatBoost ``random_seed``.
        thread_count: CPU threads for CatBoost.

    Returns:
        the fitted model (writes no files: ``allow_writing_files=False``).
    """
    from catboost import CatBoostRegressor

    model = CatBoostRegressor(iterations=int(iterations), random_seed=int(seed),
                              thread_count=int(thread_count), verbose=0,
                              allow_writing_files=False)
    model.fit(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return model


def _fold_job(X, y, tr, te, iterations, seed, thread_count):
    """Fit on ``tr``, predict ``te``; returns (predictions, CPU seconds of this process)."""
    import time

    c0 = time.process_time()
    model = fit_catboost(X[tr], y[tr], iterations=iterations, seed=seed, thread_count=thread_count)
    pred = model.predict(X[te])
    return pred, time.process_time() - c0


def _r2(y, p) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(y, p))


def _iter_jobs(jobs, n_jobs: int, progress: bool, desc: str):
    """Results of ``(fn, args)`` jobs, yielded in order as they finish, optionally computed in
    ``n_jobs`` processes, with a tqdm bar."""
    from tqdm.auto import tqdm

    if n_jobs == 1:
        for fn, args in tqdm(jobs, desc=desc, disable=not progress, leave=False):
            yield fn(*args)
        return
    if not jobs:
        return
    from joblib import Parallel, delayed

    gen = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(*args) for fn, args in jobs)
    yield from tqdm(gen, total=len(jobs), desc=desc, disable=not progress, leave=False)


def _run_jobs(jobs, n_jobs: int, progress: bool, desc: str):
    """Run ``(fn, args)`` jobs, in order, optionally in ``n_jobs`` processes, with a tqdm bar."""
    return list(_iter_jobs(jobs, n_jobs, progress, desc))


def _cv_rows(y, splits, preds) -> list[dict]:
    rows = []
    oof: dict[int, np.ndarray] = {}
    for (r, f, tr, te), (p, cpu) in zip(splits, preds):
        rows.append({"repeat": r, "fold": f, "scope": "fold", "n_train": len(tr), "n_test": len(te),
                     "r2": _r2(y[te], p), "mae": float(np.mean(np.abs(y[te] - p))), "cpu_s": cpu})
        oof.setdefault(r, np.full(len(y), np.nan))[te] = p
    for r, p in sorted(oof.items()):
        rows.append({"repeat": r, "fold": -1, "scope": "pooled", "n_train": np.nan, "n_test": len(y),
                     "r2": _r2(y, p), "mae": float(np.mean(np.abs(y - p))), "cpu_s": np.nan})
    return rows


_CV_COLUMNS = ["repeat", "fold", "scope", "n_train", "n_test", "r2", "mae", "cpu_s"]


def _check_iterations_threads(iterations, thread_count, n_jobs):
    if int(iterations) < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    if int(thread_count) < 1 or int(n_jobs) < 1:
        raise ValueError(f"thread_count and n_jobs must be >= 1, got {thread_count}, {n_jobs}")


def reverse_prediction_cv(X, y, *, folds: int = 5, repeats: int = 1, iterations: int = 300,
                          seed: int = 0, thread_count: int = 2, n_jobs: int = 1,
                          progress: bool = False) -> pd.DataFrame:
    """Repeated K-fold CV of CatBoost on one (embedding, property) pair.

    Args:
        X: ``(n, d)`` embedding rows of the elements; y: ``(n,)`` property values.
        folds, repeats, seed: see :func:`cv_splits`; CatBoost's seed in repeat r
            is ``seed + r``.
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
    jobs = [(_fold_job, (X, y, tr, te, iterations, seed + r, thread_count)) for r, f, tr, te in splits]
    preds = _run_jobs(jobs, n_jobs, progress, "CatBoost CV")
    return pd.DataFrame(_cv_rows(y, splits, preds), columns=_CV_COLUMNS)


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
            plus :func:`baseline_tables`.
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
    props = list(props) if props is not None else [p for p in PROPERTIES if p in properties.columns]
    unknown = [p for p in props if p not in properties.columns]
    if unknown:
        raise KeyError(f"properties {unknown} are not columns of the property table "
                       f"({list(properties.columns)})")
    order = list(order) if order is not None else list(next(iter(tables.values()))[0])
    jobs, ys, counts, hits, keys = [], {}, [], {}, {}
    for prop in props:
        col = properties[prop].astype(float)
        keep = common_elements(tables, col, order)
        if len(keep) < folds:
            raise ValueError(f"property {prop!r}: only {len(keep)} elements have a value and a row "
                             f"in every table; need at least {folds}")
        with_value = [e for e in order if e in col.index and np.isfinite(col.get(e, np.nan))]
        counts.append({"property": prop, "n_elements": len(keep), "n_with_value": len(with_value),
                       "dropped": " ".join(e for e in order if e not in set(keep))})
        splits = cv_splits(len(keep), folds=folds, repeats=repeats, seed=seed)
        for name, (els, mat) in tables.items():
            X, y = property_matrix(els, mat, col, keep)
            ys[(name, prop)] = (y, splits)
            if cache_dir is not None:
                keys[(name, prop)] = key = cv_cache_key(X, y, folds=folds, repeats=repeats, seed=seed,
                                                        iterations=iterations, thread_count=thread_count)
                hits[(name, prop)] = _read_cv_cache(Path(cache_dir), key, len(splits))
            if hits.get((name, prop)) is None:
                jobs += [(_fold_job, (X, y, tr, te, iterations, seed + r, thread_count)) for r, f, tr, te in splits]
    preds = iter(_run_jobs(jobs, n_jobs, progress, "reverse prediction"))
    if cache_dir is not None and jobs:
        from ..utils import code_version

        code = code_version()
    rows = []
    for (name, prop), (y, splits) in ys.items():
        got = hits.get((name, prop))
        cached = got is not None
        if not cached:
            got = [next(preds) for _ in splits]
            if cache_dir is not None:
                _write_cv_cache(Path(cache_dir), keys[(name, prop)], got, table=name, property=prop,
                                n=len(y), folds=folds, repeats=repeats, seed=seed, iterations=iterations,
                                code=code)
        for row in _cv_rows(y, splits, got):
            rows.append({"embedding": name, "property": prop, "cached": cached, **row})
    cv = pd.DataFrame(rows, columns=["embedding", "property", "cached"] + _CV_COLUMNS)
    return cv, pd.DataFrame(counts).set_index("property")


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
    import hashlib

    import catboost

    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    h = hashlib.sha256()
    h.update(repr((X.shape, y.shape, int(folds), int(repeats), int(seed), int(iterations),
                   int(thread_count), catboost.__version__)).encode())
    h.update(X.tobytes())
    h.update(y.tobytes())
    return h.hexdigest()[:24]


def _read_cv_cache(folder: Path, key: str, n_splits: int):
    """Cached ``[(predictions, cpu_s), ...]`` of one CV, or None when absent."""
    from ..utils import read_cache_json

    def parse(data):
        preds = [(np.asarray(p, dtype=np.float64), float(c)) for p, c in zip(data["predictions"], data["cpu_s"])]
        if len(preds) != n_splits:
            raise ValueError(f"it holds {len(preds)} folds, the CV has {n_splits}")
        return preds

    return read_cache_json(folder / f"{key}.json", parse, what="reverse-prediction")


def _write_cv_cache(folder: Path, key: str, preds, **about) -> None:
    """Store one CV's out-of-fold predictions (atomically) with what produced them."""
    from ..utils import write_json_atomic

    write_json_atomic(folder / f"{key}.json", {
        "key": key, **about,
        "predictions": [np.asarray(p, dtype=float).tolist() for p, _ in preds],
        "cpu_s": [float(c) for _, c in preds]})


# --------------------------------------------------------------------------- #
# How the R² is scored: in-sample vs held-out protocols
# --------------------------------------------------------------------------- #
#: Scoring protocols of :func:`protocol_table`: name -> what is fitted and what is scored.
PROTOCOLS: dict[str, str] = {
    "in-sample": "one fit on every element with a value; R² of its predictions for those same elements",
    "80/20 split": "a seeded 80/20 split of the elements, one fit on the 80 %; R² on the held-out 20 %; "
                   "mean ± std over the split seeds",
    "leave-one-out": "one fit per element on all the others; R² of the n held-out predictions pooled",
    "5-fold pooled": "the chapter's protocol: 5-fold CV, R² of the pooled out-of-fold predictions of one "
                     "repeat; mean ± std over the repeats",
}

#: Seeded 80/20 splits of the ``"80/20 split"`` protocol (issue 37 fixes ten).
SPLIT_SEEDS = 10
#: Held-out fraction of the ``"80/20 split"`` protocol: ``ceil(0.2 * n)`` of ``n`` elements.
SPLIT_TEST = 0.2

_PROTOCOL_COLUMNS = ["embedding", "property", "protocol", "n_elements", "n_repeats", "n_fits",
                     "r2", "r2_std", "cached", "cpu_s"]


def _protocol_fits(protocol: str, n: int, *, seed: int, folds: int, repeats: int,
                   split_seeds: int) -> list[tuple[int, np.ndarray, np.ndarray, int]]:
    """The fits of one protocol over ``n`` elements: ``[(repeat, train_idx, test_idx, catboost_seed), ...]``.

    ``in-sample``: one fit, train = test = all (seed ``seed``). ``80/20 split``:
    split ``s`` is ``train_test_split(range(n), test_size=SPLIT_TEST, random_state=seed + s)``
    (``ceil(0.2 * n)`` test elements), CatBoost seed ``seed + s``.
    ``leave-one-out``: ``n`` fits, element ``i`` held out, seed ``seed``.
    ``5-fold pooled``: :func:`cv_splits` (``folds``, ``repeats``, ``seed``), seed
    ``seed + repeat``, exactly as :func:`reverse_prediction_table`.
    """
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    if protocol == "in-sample":
        return [(0, idx, idx, seed)]
    if protocol == "80/20 split":
        out = []
        for s in range(split_seeds):
            tr, te = train_test_split(idx, test_size=SPLIT_TEST, random_state=seed + s, shuffle=True)
            out.append((s, np.sort(tr), np.sort(te), seed + s))
        return out
    if protocol == "leave-one-out":
        return [(0, np.delete(idx, i), np.array([i]), seed) for i in range(n)]
    if protocol == "5-fold pooled":
        return [(r, tr, te, seed + r) for r, f, tr, te in cv_splits(n, folds=folds, repeats=repeats, seed=seed)]
    raise ValueError(f"unknown protocol {protocol!r}; choose from {list(PROTOCOLS)}")


def _protocol_scores(protocol: str, y: np.ndarray, fits, preds) -> np.ndarray:
    """One R² per repeat: per split for ``80/20 split``, pooled over the held-out predictions
    of a repeat otherwise (in-sample: the fitted elements themselves)."""
    if protocol == "80/20 split":
        return np.array([_r2(y[te], p) for (_, _, te, _), (p, _) in zip(fits, preds)])
    pooled: dict[int, np.ndarray] = {}
    for (r, _, te, _), (p, _) in zip(fits, preds):
        pooled.setdefault(r, np.full(len(y), np.nan))[te] = p
    return np.array([_r2(y, p) for _, p in sorted(pooled.items())])


def protocol_cache_key(X, y, *, protocol: str, seed: int, iterations: int, thread_count: int,
                       split_seeds: int = SPLIT_SEEDS) -> str:
    """The content hash naming one (table, property, protocol) in the protocol cache.

    Args:
        X: ``(n, d)`` float64 embedding rows, y: ``(n,)`` float64 property
            values, in the element order of the fits; the other arguments as in
            :func:`protocol_table` (``split_seeds`` counts only for
            ``"80/20 split"``).

    Returns:
        24 hex digits of the SHA-256 of the exact bytes of ``X`` and ``y``, their
        shapes, the protocol and its settings and the installed CatBoost version
        (as :func:`cv_cache_key`; ``"5-fold pooled"`` uses :func:`cv_cache_key`
        itself, so it shares the chapter's cache).
    """
    import hashlib

    import catboost

    if protocol not in PROTOCOLS or protocol == "5-fold pooled":
        raise ValueError(f"protocol_cache_key is for {[p for p in PROTOCOLS if p != '5-fold pooled']}, "
                         f"got {protocol!r} (5-fold pooled uses cv_cache_key)")
    split = (int(split_seeds), float(SPLIT_TEST)) if protocol == "80/20 split" else None
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    h = hashlib.sha256()
    h.update(repr(("protocol", protocol, split, X.shape, y.shape, int(seed), int(iterations),
                   int(thread_count), catboost.__version__)).encode())
    h.update(X.tobytes())
    h.update(y.tobytes())
    return h.hexdigest()[:24]


def _read_protocol_cache(folder: Path, key: str, fits):
    """Cached ``[(predictions, cpu_s), ...]`` of one protocol, or None when absent."""
    from ..utils import read_cache_json

    def parse(data):
        preds = [(np.asarray(p, dtype=np.float64), float(c)) for p, c in zip(data["predictions"], data["cpu_s"])]
        if len(preds) != len(fits) or any(len(p) != len(te) for (p, _), (_, _, te, _) in zip(preds, fits)):
            raise ValueError(f"it holds {len(preds)} fits, the protocol has {len(fits)} (or their sizes differ)")
        return preds

    return read_cache_json(folder / f"{key}.json", parse, what="reverse-prediction protocol")


def _check_protocol_args(protocols, split_seeds, folds, repeats):
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown or not protocols:
        raise ValueError(f"unknown or no protocol(s) {unknown}; choose one or more of {list(PROTOCOLS)}")
    if len(set(protocols)) != len(protocols):
        raise ValueError(f"a protocol is listed twice: {list(protocols)}")
    if int(split_seeds) < 1:
        raise ValueError(f"split_seeds must be >= 1, got {split_seeds}")
    if int(folds) < 2 or int(repeats) < 1:
        raise ValueError(f"folds must be >= 2 and repeats >= 1, got {folds} and {repeats}")


def _protocol_min_n(protocols, folds) -> int:
    """Fewest elements every protocol can score: R² needs >= 2 held-out values, CatBoost >= 2 to fit."""
    need = 2
    if "leave-one-out" in protocols:
        need = max(need, 3)
    if "5-fold pooled" in protocols:
        need = max(need, int(folds))
    if "80/20 split" in protocols:
        n = 2
        while int(np.ceil(SPLIT_TEST * n)) < 2 or n - int(np.ceil(SPLIT_TEST * n)) < 2:
            n += 1
        need = max(need, n)
    return need


def protocol_table(tables: Mapping[str, tuple[Sequence[str], np.ndarray]], properties: pd.DataFrame, *,
                   names: Sequence[str] | None = None, protocols: Sequence[str] = tuple(PROTOCOLS),
                   props: Sequence[str] | None = None, split_seeds: int = SPLIT_SEEDS,
                   folds: int = 5, repeats: int = 1, iterations: int = 300,
                   seed: int = 0, thread_count: int = 1, n_jobs: int = 1,
                   order: Sequence[str] | None = None, progress: bool = False,
                   cache_dir: str | Path | None = None,
                   cv_cache_dir: str | Path | None = None) -> pd.DataFrame:
    """R² of the same CatBoost reverse prediction under several scoring protocols.

    The paper does not say how its Table VI R² was scored. Scored on the
    elements a model was fitted on (``in-sample``), even a random table looks
    predictive, because 300 trees memorise ~85 points; held out, it scores ≈ 0.
    This runs :data:`PROTOCOLS` side by side with the settings of
    :func:`reverse_prediction_table` (default ``CatBoostRegressor``,
    ``iterations`` trees, ``thread_count`` threads per fit).

    Args:
        tables: name -> (elements, ``(n, d)`` matrix). Per property the elements
            used are those with a value and a row in **every** table given (as
            in :func:`reverse_prediction_table`), so passing the chapter's whole
            ``tables`` keeps its elements and folds even when only ``names``
            are scored.
        properties: DataFrame indexed by symbol, one column per property
            (``ctlib.elements.elemental_properties()``).
        names: the tables to score (default: all), in this order.
        protocols: any of :data:`PROTOCOLS`, in the order of the result.
        props: columns to predict (default: :data:`PROPERTIES` order).
        split_seeds: the ``"80/20 split"`` protocol: ``split_seeds`` splits
            (seeds ``seed .. seed+split_seeds-1``) holding out ``ceil(0.2 * n)``
            elements each (:data:`SPLIT_TEST`).
        folds, repeats: the ``"5-fold pooled"`` protocol (the chapter's
            ``FOLDS`` and the profile's ``rp_repeats``); its fits and seeds are
            those of :func:`reverse_prediction_table`.
        iterations, seed, thread_count, n_jobs, order, progress: as in
            :func:`reverse_prediction_table`; every fit that is not cached
            is spread over ``n_jobs`` processes (one job list for all tables,
            properties and protocols).
        cache_dir: folder of the cached predictions of the protocols other than
            ``"5-fold pooled"`` (None: no cache), one ``<key>.json`` per
            (table, property, protocol), see :func:`protocol_cache_key`; an entry
            is written as soon as its fits are done.
        cv_cache_dir: the chapter's CV cache (``reverse_cv``) for
            ``"5-fold pooled"``: its entries are read and written exactly as
            :func:`reverse_prediction_table` does, so the two give the same
            numbers and share fits (None: no cache).

    Returns:
        tidy DataFrame, one row per (``embedding``, ``property``, ``protocol``):
        ``n_elements``, ``n_repeats`` (1, ``split_seeds`` or ``repeats``),
        ``n_fits``, ``r2`` (the protocol's R²; the mean over repeats for the
        repeated ones), ``r2_std`` (std over repeats, ddof=1; NaN for one
        value), ``cached`` (bool: read from a cache), ``cpu_s`` (CPU seconds
        of the fits, as measured when they were made). R² is dimensionless.

    Raises:
        ValueError: an unknown protocol, a name not in ``tables``, bad
            ``split_seeds`` / ``folds`` / ``repeats`` /
            ``iterations`` / ``thread_count`` / ``n_jobs``, or a property with
            too few elements for a protocol.
        KeyError: a property that is not a column of ``properties``.
    """
    _check_iterations_threads(iterations, thread_count, n_jobs)
    protocols = list(protocols)
    _check_protocol_args(protocols, split_seeds, folds, repeats)
    if not tables:
        raise ValueError("no embedding tables given")
    names = list(names) if names is not None else list(tables)
    missing = [n for n in names if n not in tables]
    if missing or not names:
        raise ValueError(f"table(s) {missing} are not among the tables given ({list(tables)})")
    props = list(props) if props is not None else [p for p in PROPERTIES if p in properties.columns]
    unknown = [p for p in props if p not in properties.columns]
    if unknown:
        raise KeyError(f"properties {unknown} are not columns of the property table "
                       f"({list(properties.columns)})")
    if not props:
        raise ValueError(f"no property to predict: pass props (the property table has {list(properties.columns)})")
    order = list(order) if order is not None else list(next(iter(tables.values()))[0])
    need = _protocol_min_n(protocols, folds)
    settings = dict(seed=int(seed), folds=int(folds), repeats=int(repeats), split_seeds=int(split_seeds))

    groups, jobs = [], []   # one group per (table, property, protocol); its fits' jobs in order
    for prop in props:
        col = properties[prop].astype(float)
        keep = common_elements(tables, col, order)
        if len(keep) < need:
            raise ValueError(f"property {prop!r}: only {len(keep)} elements have a value and a row in every "
                             f"table; the protocols {protocols} need at least {need}")
        for name in names:
            els, mat = tables[name]
            X, y = property_matrix(els, mat, col, keep)
            for protocol in protocols:
                fits = _protocol_fits(protocol, len(y), **settings)
                key = got = folder = None
                if protocol == "5-fold pooled" and cv_cache_dir is not None:
                    folder = Path(cv_cache_dir)
                    key = cv_cache_key(X, y, folds=folds, repeats=repeats, seed=seed, iterations=iterations,
                                       thread_count=thread_count)
                    got = _read_cv_cache(folder, key, len(fits))
                elif protocol != "5-fold pooled" and cache_dir is not None:
                    folder = Path(cache_dir)
                    key = protocol_cache_key(X, y, protocol=protocol, seed=seed, iterations=iterations,
                                             thread_count=thread_count, split_seeds=split_seeds)
                    got = _read_protocol_cache(folder, key, fits)
                groups.append({"name": name, "prop": prop, "protocol": protocol, "y": y, "fits": fits,
                               "key": key, "folder": folder, "preds": got, "cached": got is not None})
                if got is None:
                    jobs += [(_fold_job, (X, y, tr, te, iterations, s, thread_count)) for _, tr, te, s in fits]

    results = _iter_jobs(jobs, n_jobs, progress, "reverse prediction protocols")
    code = None
    rows = []
    for g in groups:
        if g["preds"] is None:
            g["preds"] = [next(results) for _ in g["fits"]]
            if g["folder"] is not None:
                if code is None:
                    from ..utils import code_version

                    code = code_version()
                about = dict(table=g["name"], property=g["prop"], n=len(g["y"]), seed=int(seed),
                             iterations=int(iterations), code=code)
                if g["protocol"] == "5-fold pooled":
                    _write_cv_cache(g["folder"], g["key"], g["preds"], folds=int(folds), repeats=int(repeats),
                                    **about)
                else:
                    _write_cv_cache(g["folder"], g["key"], g["preds"], protocol=g["protocol"],
                                    split_seeds=int(split_seeds) if g["protocol"] == "80/20 split" else None,
                                    test_size=float(SPLIT_TEST) if g["protocol"] == "80/20 split" else None,
                                    thread_count=int(thread_count), **about)
        r2 = _protocol_scores(g["protocol"], g["y"], g["fits"], g["preds"])
        rows.append({"embedding": g["name"], "property": g["prop"], "protocol": g["protocol"],
                     "n_elements": len(g["y"]), "n_repeats": len(r2), "n_fits": len(g["fits"]),
                     "r2": float(np.mean(r2)),
                     "r2_std": float(np.std(r2, ddof=1)) if len(r2) > 1 else float("nan"),
                     "cached": g["cached"], "cpu_s": float(sum(c for _, c in g["preds"]))})
    return pd.DataFrame(rows, columns=_PROTOCOL_COLUMNS)


def protocol_scope(profile: str) -> dict:
    """The properties and protocols page 08 scores on a profile, as keyword arguments of
    :func:`protocol_table`: all of them, except on ``smoke`` (a plumbing check), where only
    atomic radius is scored and leave-one-out (one fit per element) is skipped to stay quick."""
    if profile == "smoke":
        return {"props": ["atomic_radius"], "protocols": [p for p in PROTOCOLS if p != "leave-one-out"]}
    return {"props": None, "protocols": list(PROTOCOLS)}


def protocol_label(protocol: str, n_repeats: int) -> str:
    """Display name of a protocol, e.g. ``"80/20 split × 10 seeds"``, ``"5-fold pooled × 5 repeats"``."""
    if protocol == "80/20 split":
        return f"80/20 split × {n_repeats} seed{'s' if n_repeats != 1 else ''}"
    if protocol == "5-fold pooled":
        return f"5-fold pooled × {n_repeats} repeat{'s' if n_repeats != 1 else ''}"
    return protocol


def protocol_wide(pt: pd.DataFrame, *, sig: int = 2) -> pd.DataFrame:
    """A :func:`protocol_table` for display: rows (table, protocol), columns the properties + mean.

    Cells are R² as ``"mean ± std"`` over repeats (a bare value for one-fit
    protocols), ``sig`` significant digits; ``mean over properties`` is the
    mean of the properties' R² (std not shown). Rows keep the order of ``pt``.
    """
    if pt.empty:
        raise ValueError("the protocol table is empty")
    pt = pt.assign(label=[protocol_label(p, n) for p, n in zip(pt["protocol"], pt["n_repeats"])],
                   cell=[_pm(m, s, sig) for m, s in zip(pt["r2"], pt["r2_std"])])
    rows = list(dict.fromkeys(zip(pt["embedding"], pt["label"])))
    wide = pt.pivot_table(index=["embedding", "label"], columns="property", values="cell", aggfunc="first")
    props = list(dict.fromkeys(pt["property"]))
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(rows), columns=props)
    wide.columns = [PROPERTIES.get(c, c) for c in wide.columns]
    mean = pt.groupby(["embedding", "label"], sort=False)["r2"].mean()
    wide["mean over properties"] = [_pm(mean.loc[r], None, sig) for r in rows]
    wide.index.names = ["table", "protocol"]
    return wide


def protocol_numbers(pt: pd.DataFrame) -> dict:
    """``{embedding: {protocol: {"label", "n_repeats", "mean_r2", "r2": {property: {"r2", "r2_std"}}}}}``
    of a :func:`protocol_table` (None for NaN): what page 08 saves in its JSON summary."""
    def num(v):
        return None if v is None or not np.isfinite(v) else float(v)

    out: dict = {}
    for (name, protocol), g in pt.groupby(["embedding", "protocol"], sort=False):
        n = int(g["n_repeats"].iloc[0])
        out.setdefault(str(name), {})[str(protocol)] = {
            "label": protocol_label(protocol, n), "n_repeats": n, "mean_r2": num(float(g["r2"].mean())),
            "r2": {str(p): {"r2": num(r), "r2_std": num(s)} for p, r, s in zip(g["property"], g["r2"], g["r2_std"])}}
    return out


def protocol_cost(pt: pd.DataFrame, seconds: float) -> dict:
    """What a :func:`protocol_table` cost: ``{"protocol_fits", "protocol_fits_cached",
    "protocol_fits_new" (fitted by this call), "protocol_cpu_seconds" (CPU seconds of all its
    fits, cached ones as measured when made), "protocol_seconds" (the wall seconds given)}``."""
    fits = int(pt["n_fits"].sum())
    cached = int(pt.loc[pt["cached"].astype(bool), "n_fits"].sum())
    return {"protocol_fits": fits, "protocol_fits_cached": cached, "protocol_fits_new": fits - cached,
            "protocol_cpu_seconds": float(pt["cpu_s"].sum()), "protocol_seconds": float(seconds)}


def protocol_text(pt: pd.DataFrame, paper_r2: Mapping[str, float], *, random: str = "random128") -> str:
    """The conclusion of page 08's protocol section (Markdown), every number taken from ``pt``.

    Args:
        pt: :func:`protocol_table` with at least the ``"in-sample"`` protocol.
        paper_r2: property -> the paper's Table VI R² (:func:`paper_r2`).
        random: name of the random (information-free) table in ``pt``; the
            other tables get one line each, their mean R² over the properties
            in-sample and under every held-out protocol.

    Returns:
        a paragraph: the random table's R² in-sample and under each held-out
        protocol (range over the properties), the other tables' mean R², the
        spread of single 80/20 splits, and what this means for judging Table VI.

    Raises:
        ValueError: ``pt`` has no ``"in-sample"`` rows.
    """
    if "in-sample" not in set(pt["protocol"]):
        raise ValueError("protocol_text needs the in-sample protocol in the table")

    def f(v):
        return _pm(v, None, 2)

    def rng(v):
        lo, hi = f(float(np.min(v))), f(float(np.max(v)))
        return lo if lo == hi else f"{lo} to {hi}"

    def cells(name, protocol):
        return pt[(pt["embedding"] == name) & (pt["protocol"] == protocol)]["r2"].to_numpy(dtype=float)

    def label(p):
        return protocol_label(p, int(pt.loc[pt["protocol"] == p, "n_repeats"].iloc[0]))

    props = list(dict.fromkeys(pt["property"]))
    held = [p for p in PROTOCOLS if p != "in-sample" and p in set(pt["protocol"])]
    paper = [float(paper_r2[p]) for p in props if paper_r2.get(p) is not None]
    over = "the property" if len(props) == 1 else f"the {len(props)} properties"
    parts, why, floor = [], "in-sample scoring inflates it", ""
    if random in set(pt["embedding"]):
        ins = cells(random, "in-sample")
        high = bool(paper) and float(np.min(ins)) >= min(paper) - 1e-12
        parts.append(
            f"**Scored in-sample, the random table reaches R² {rng(ins)}** over {over}: a table that carries no "
            "information about the elements"
            + (f" scores as high as the paper's {rng(paper)}" if high else "")
            + ", because the trees memorise the elements they were fitted on."
            + (" Held out it gives " + ", ".join(f"{rng(cells(random, p))} ({label(p)})" for p in held)
               + ": nothing, as it should." if held else ""))
        why = f"in-sample scoring gives {'as much' if high else rng(ins)} to a table without information"
        if "5-fold pooled" in held:
            floor = f", on which the random table scores {rng(cells(random, '5-fold pooled'))}"
    others = [n for n in dict.fromkeys(pt["embedding"]) if n != random]
    if others:
        parts.append(
            f"Mean R² over {over}, in-sample → " + " / ".join(label(p) for p in held) + ": "
            + "; ".join(f"{n} {f(float(np.mean(cells(n, 'in-sample'))))} → "
                        + " / ".join(f(float(np.mean(cells(n, p)))) for p in held) for n in others) + ".")
    if "80/20 split" in held:
        split = pt[pt["protocol"] == "80/20 split"]
        worst = split.loc[split["r2_std"].idxmax()] if split["r2_std"].notna().any() else None
        if worst is not None:
            parts.append(
                f"A single 80/20 split is the noisiest estimate: its R² has a std over the seeds of up to "
                f"{f(float(worst['r2_std']))} ({worst['embedding']}, "
                f"{PROPERTIES.get(worst['property'], worst['property'])}), since "
                f"{int(np.ceil(SPLIT_TEST * int(worst['n_elements'])))} held-out elements are few.")
    parts.append(
        f"**For Table VI:** R² values like the paper's {rng(paper) if paper else ''} are no evidence by themselves "
        f"that an embedding encodes a property, because {why}. The paper does not state its protocol, so its "
        "numbers may be in-sample scores. The verdicts of this page use the held-out 5-fold pooled R²"
        f"{floor}; where the paper's R² is above ours, part or all of the gap may be the protocol rather than "
        "the embedding.")
    return " ".join(parts)


# --------------------------------------------------------------------------- #
# Baseline tables
# --------------------------------------------------------------------------- #
def baseline_tables(elements: Sequence[str] | None = None, *, seed: int = 0,
                    include: Sequence[str] = tuple(BASELINE_DESCRIPTIONS)) -> dict[str, tuple[list[str], np.ndarray]]:
    """Reference embeddings of the same elements, read offline.

    Args:
        elements: symbols (default ``ctlib.elements.ELEMENTS``, the 89 of MP-2018).
        seed: seed of the ``random128`` table.
        include: which of :data:`BASELINE_DESCRIPTIONS` to build.

    Returns:
        name -> ``(elements, matrix (n_name, d_name) float64)``.  An external
        table keeps only the requested elements it has (so ``n_name`` may be
        smaller); :func:`reverse_prediction_table` then uses the common ones.

    Raises:
        ValueError: for an unknown name in ``include``.
    """
    from ctlib.elements import ELEMENTS, SYMBOLS, cgcnn92, external_table, onehot

    els = list(elements) if elements is not None else list(ELEMENTS)
    unknown = [n for n in include if n not in BASELINE_DESCRIPTIONS]
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; choose from {list(BASELINE_DESCRIPTIONS)}")
    symbols = list(SYMBOLS)
    missing = [e for e in els if e not in symbols]
    if missing:
        raise ValueError(f"unknown element symbols {missing[:10]}")
    z = np.array([symbols.index(e) + 1 for e in els])
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for name in include:
        if name == "onehot":
            out[name] = (els, np.asarray(onehot(z), dtype=np.float64))
        elif name == "cgcnn92":
            out[name] = (els, np.asarray(cgcnn92(), dtype=np.float64)[z - 1])
        elif name == "random128":
            rng = np.random.default_rng(seed)
            out[name] = (els, rng.standard_normal((len(els), 128)))
        else:  # external tables shipped as package data of `elementembeddings`
            emb = external_table(name)
            have = [e for e in els if e in emb]
            out[name] = (have, np.stack([np.asarray(emb[e], dtype=np.float64) for e in have]))
    return out


# --------------------------------------------------------------------------- #
# SHAP
# --------------------------------------------------------------------------- #
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


# --------------------------------------------------------------------------- #
# The tables and loops of page 08
# --------------------------------------------------------------------------- #
def paper_r2() -> dict[str, float]:
    """The paper's Table VI: property (our column name) -> R²."""
    from ctlib.report import paper_tables

    t = paper_tables()["table6_reverse_prediction_r2"]
    return {p: float(t["values"][t["columns"].index(name)]) for p, name in PROPERTIES.items()}


def r2_numbers(summary: pd.DataFrame) -> dict:
    """``{embedding: {property: {r2_fold_mean, r2_fold_std, r2_pooled_mean, r2_pooled_std}}}`` of a
    :func:`summary_table` (None for NaN): what page 08 saves and ``claims.judge_r2`` reads."""
    keys = ["r2_fold_mean", "r2_fold_std", "r2_pooled_mean", "r2_pooled_std"]
    out: dict = {}
    for r in summary.to_dict("records"):
        out.setdefault(str(r["embedding"]), {})[str(r["property"])] = {
            k: (None if r[k] is None or not np.isfinite(r[k]) else float(r[k])) for k in keys}
    return out


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


def summary_table(cv: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarize_cv` per (embedding, property) of a :func:`reverse_prediction_table` result.

    Returns:
        one row per pair: ``embedding``, ``property`` and the keys of :func:`summarize_cv`.
    """
    rows = [{"embedding": name, "property": prop, **summarize_cv(g)}
            for (name, prop), g in cv.groupby(["embedding", "property"], sort=False)]
    return pd.DataFrame(rows)


def pooled_r2_values(cv: pd.DataFrame) -> dict[str, dict[str, list[float]]]:
    """``{embedding: {property: [pooled out-of-fold R² of repeat 0, 1, ...]}}``.

    The per-repeat values that ``ctlib.claims.judge_r2`` judges (``r2_pooled_values``).
    """
    out: dict[str, dict[str, list[float]]] = {}
    pooled = cv[cv["scope"] == "pooled"].sort_values("repeat")
    for (name, prop), g in pooled.groupby(["embedding", "property"], sort=False):
        out.setdefault(str(name), {})[str(prop)] = [float(v) for v in g["r2"]]
    return out


def _pm(m, s, sig: int = 3) -> str:
    from ctlib.report import fmt_sig

    if m is None or not np.isfinite(m):
        return "—"
    return fmt_sig(m, sig) if s is None or not np.isfinite(s) else f"{fmt_sig(m, sig)} ± {fmt_sig(s, sig)}"


def table6(summary: pd.DataFrame, counts: pd.DataFrame, paper_r2: Mapping[str, float], *,
           embedding: str = "CT (ours)") -> pd.DataFrame:
    """Table VI: the paper's R² beside ours for one embedding, per property.

    Args:
        summary: :func:`summary_table`.
        counts: the ``counts`` of :func:`reverse_prediction_table` (``n_elements``).
        paper_r2: property -> the paper's R².

    Returns:
        DataFrame ``property`` (the paper's name), ``elements``, ``paper R²``,
        ``ours, pooled out-of-fold`` (mean ± std over repeats), ``ours − paper``,
        ``ours, per fold``.
    """
    ct = summary[summary["embedding"] == embedding].set_index("property")
    if ct.empty:
        raise KeyError(f"no rows for embedding {embedding!r} in the summary")
    return pd.DataFrame({
        "property": [PROPERTIES.get(p, p) for p in ct.index],
        "elements": [int(counts.at[p, "n_elements"]) for p in ct.index],
        "paper R²": [paper_r2.get(p, np.nan) for p in ct.index],
        "ours, pooled out-of-fold": [_pm(r.r2_pooled_mean, r.r2_pooled_std) for r in ct.itertuples()],
        "ours − paper": [r.r2_pooled_mean - paper_r2.get(p, np.nan) for p, r in zip(ct.index, ct.itertuples())],
        "ours, per fold": [_pm(r.r2_fold_mean, r.r2_fold_std) for r in ct.itertuples()],
    })


def r2_wide(summary: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Every table x property: pooled R² as 'mean ± std', and the mean over properties."""
    order = list(order) if order is not None else list(dict.fromkeys(summary["embedding"]))
    cells = summary.assign(cell=[_pm(m, s) for m, s in zip(summary["r2_pooled_mean"], summary["r2_pooled_std"])])
    wide = cells.pivot(index="embedding", columns="property", values="cell")
    props = [p for p in PROPERTIES if p in wide.columns] + [p for p in wide.columns if p not in PROPERTIES]
    wide = wide.reindex(index=order, columns=props)
    wide.columns = [PROPERTIES.get(c, c) for c in wide.columns]
    mean_r2 = summary.groupby("embedding", sort=False)["r2_pooled_mean"].mean().reindex(order)
    wide["mean over properties"] = [_pm(v, None) for v in mean_r2]
    wide.index.name = "table"
    return wide


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
        model = fit_catboost(X, y, iterations=iterations, seed=seed, thread_count=thread_count)
        sv = shap_values(model, X)
        out[prop] = {"shap": sv, "X": X, "top": shap_top_dims(sv, top=top, names=names)}
    return out


def _top_set(X, y, *, iterations, seed, top, thread_count) -> set:
    m = fit_catboost(X, y, iterations=iterations, seed=seed, thread_count=thread_count)
    return set(int(d) for d in shap_top_dims(shap_values(m, X), top=top)["dim"])


def catboost_seed_stability(elements: Sequence[str], matrix, properties: pd.DataFrame,
                            tables: Mapping[str, tuple[Sequence[str], np.ndarray]], *,
                            props: Sequence[str] | None = None, seeds: Sequence[int] = (0, 1, 2),
                            iterations: int = 300, top: int = 5, thread_count: int = 2,
                            order: Sequence[str] | None = None,
                            known: Mapping[str, Mapping[int, Sequence[int]]] | None = None) -> pd.DataFrame:
    """Do CatBoost models with other seeds, on the same embedding, rank the same top dimensions?

    Per property: the top-``top`` dimensions by mean |SHAP| of one model per
    seed, and the mean pairwise Jaccard index of these sets.

    Args:
        known: ``{property: {seed: top dims}}`` already computed (e.g. seed 0 of
            :func:`shap_by_property`); those fits are skipped.

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
                       _top_set(X, y, iterations=iterations, seed=s, top=top, thread_count=thread_count))
        rows.append({"property": PROPERTIES.get(prop, prop),
                     "mean Jaccard": float(topdim_stability(sets)["jaccard"].mean()),
                     "top sets": {int(k): sorted(v) for k, v in sets.items()}})
    return pd.DataFrame(rows, columns=["property", "mean Jaccard", "top sets"])


def embedding_seed_stability(embeddings: Mapping, properties: pd.DataFrame,
                             tables: Mapping[str, tuple[Sequence[str], np.ndarray]], *,
                             props: Sequence[str] | None = None, iterations: int = 300, seed: int = 0,
                             top: int = 5, thread_count: int = 2,
                             order: Sequence[str] | None = None) -> pd.DataFrame:
    """Do independently trained embeddings put the importance on the same dimension indices?

    Args:
        embeddings: training seed -> ``(elements, (n, d) matrix)``, at least two.

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
            sets[key] = _top_set(X, y, iterations=iterations, seed=seed, top=top, thread_count=thread_count)
        rows.append({"property": PROPERTIES.get(prop, prop),
                     "mean Jaccard": float(topdim_stability(sets)["jaccard"].mean())})
    return pd.DataFrame(rows, columns=["property", "mean Jaccard"])


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
def plot_shap_beeswarm(values, X, *, names: Sequence[str] | None = None, title: str | None = None,
                       max_display: int = 15):
    """SHAP beeswarm of one property (Figure 6): most important dimensions on top.

    Args:
        values: ``(n, d)`` SHAP values; X: ``(n, d)`` the embedding rows.
        names: feature names (default ``dim 0 .. dim d-1``).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    import shap

    v = np.asarray(values, dtype=np.float64)
    names = list(names) if names is not None else feature_names(v.shape[1])
    fig, ax = plt.subplots(figsize=(6.5, 0.33 * max_display + 1.5))
    expl = shap.Explanation(values=v, data=np.asarray(X, dtype=np.float64), feature_names=names)
    shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False, plot_size=None)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_r2_bars(summary: pd.DataFrame, *, value: str = "r2_pooled_mean", err: str | None = "r2_pooled_std",
                 paper: Mapping[str, float] | None = None, labels: Mapping[str, str] | None = None):
    """Grouped bars: R² per property (groups) per embedding (bars).

    Args:
        summary: rows with ``embedding``, ``property``, ``value`` (and ``err``).
        paper: property -> the paper's R², drawn as a black tick per group.
        labels: property -> display name (default :data:`PROPERTIES`).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    labels = dict(PROPERTIES if labels is None else labels)
    props = list(dict.fromkeys(summary["property"]))
    embs = list(dict.fromkeys(summary["embedding"]))
    width = 0.8 / len(embs)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.6 * len(props)), 4.2))
    x = np.arange(len(props))
    for i, e in enumerate(embs):
        s = summary[summary["embedding"] == e].set_index("property").reindex(props)
        yerr = s[err].to_numpy(dtype=float) if err else None
        if yerr is not None:
            yerr = np.where(np.isfinite(yerr), yerr, 0.0)
        ax.bar(x - 0.4 + width * (i + 0.5), s[value].to_numpy(dtype=float), width, yerr=yerr,
               label=e, capsize=2)
    if paper:
        for j, p in enumerate(props):
            if p in paper and paper[p] is not None:
                ax.plot([x[j] - 0.42, x[j] + 0.42], [paper[p]] * 2, color="black", lw=1.5,
                        label="paper (CT)" if j == 0 else None)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xticks(x, [labels.get(p, p) for p in props], rotation=15, ha="right")
    ax.set_ylabel("R² (cross-validated)")
    lo = float(np.nanmin(summary[value].to_numpy(dtype=float)))
    ax.set_ylim(min(-0.2, lo - 0.05), 1.0)
    ax.legend(fontsize=8, ncol=min(4, len(embs) + 1), loc="upper center", bbox_to_anchor=(0.5, -0.28),
              frameon=False)
    fig.tight_layout()
    return fig
