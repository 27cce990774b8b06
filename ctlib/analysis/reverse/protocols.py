"""How the R² is scored: the same CatBoost fits under four protocols (:func:`protocol_table`).

The paper does not state its split. Scored on the elements a model was fitted
on, even a random table reaches a high R²; held out, it scores about 0. The
protocols (:data:`PROTOCOLS`): in-sample, 80/20 split x :data:`SPLIT_SEEDS`
seeds, leave-one-out, and the chapter's 5-fold pooled CV (whose fits and cache
are :mod:`.cv`'s). Their predictions are cached under
``results/<profile>/analysis/reverse_protocols/<key>.json``
(:func:`protocol_cache_key`); the fits run through
:func:`~ctlib.analysis.reverse.fitting.fit_groups`. What page 08 shows of the
result (wide table, numbers, text) is :mod:`.protocol_report`'s.

Imports: numpy, pandas, :mod:`.data`, :mod:`.fitting`, :mod:`.cv`, and
scikit-learn / CatBoost inside functions.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.reverse.cv import _cv_group, _props
from ctlib.analysis.reverse.data import cv_splits, property_elements, property_matrix
from ctlib.analysis.reverse.fitting import (FitGroup, _check_iterations_threads, _r2, content_key, fit_groups,
                                            pooled_predictions)

__all__ = ["PROTOCOLS", "SPLIT_SEEDS", "SPLIT_TEST", "protocol_table", "protocol_cache_key", "protocol_scope"]

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
    ``5-fold pooled``: :func:`~ctlib.analysis.reverse.data.cv_splits` (``folds``,
    ``repeats``, ``seed``), seed ``seed + repeat``, exactly as
    :func:`~ctlib.analysis.reverse.cv.reverse_prediction_table`.
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
    return np.array([_r2(y, p) for p in pooled_predictions(len(y), fits, preds).values()])


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
        (as :func:`~ctlib.analysis.reverse.cv.cv_cache_key`; ``"5-fold pooled"``
        uses ``cv_cache_key`` itself, so it shares the chapter's cache).
    """
    import catboost

    if protocol not in PROTOCOLS or protocol == "5-fold pooled":
        raise ValueError(f"protocol_cache_key is for {[p for p in PROTOCOLS if p != '5-fold pooled']}, "
                         f"got {protocol!r} (5-fold pooled uses cv_cache_key)")
    split = (int(split_seeds), float(SPLIT_TEST)) if protocol == "80/20 split" else None
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    return content_key(X, y, ("protocol", protocol, split, X.shape, y.shape, int(seed), int(iterations),
                              int(thread_count), catboost.__version__))


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


def _protocol_group(protocol: str, X, y, *, name: str, prop: str, seed: int, folds: int, repeats: int,
                    split_seeds: int, iterations: int, thread_count: int, cache_dir, cv_cache_dir) -> FitGroup:
    """The :class:`FitGroup` of one (table, property, protocol): ``"5-fold pooled"`` is the
    chapter's CV group (its cache ``cv_cache_dir``), the others are cached in ``cache_dir``."""
    if protocol == "5-fold pooled":
        splits = cv_splits(len(y), folds=folds, repeats=repeats, seed=seed)
        return _cv_group(X, y, splits, table=name, prop=prop, folds=folds, repeats=repeats, seed=seed,
                         iterations=iterations, thread_count=thread_count, cache_dir=cv_cache_dir)
    g = FitGroup(X, y, _protocol_fits(protocol, len(y), seed=seed, folds=folds, repeats=repeats,
                                      split_seeds=split_seeds), what="reverse-prediction protocol")
    if cache_dir is not None:
        split = protocol == "80/20 split"
        g.folder = Path(cache_dir)
        g.key = protocol_cache_key(X, y, protocol=protocol, seed=seed, iterations=iterations,
                                   thread_count=thread_count, split_seeds=split_seeds)
        g.about = dict(protocol=protocol, split_seeds=int(split_seeds) if split else None,
                       test_size=float(SPLIT_TEST) if split else None, thread_count=int(thread_count),
                       table=name, property=prop, n=len(y), seed=int(seed), iterations=int(iterations))
    return g


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
    :func:`~ctlib.analysis.reverse.cv.reverse_prediction_table` (default
    ``CatBoostRegressor``, ``iterations`` trees, ``thread_count`` threads per fit).

    Args:
        tables: name -> (elements, ``(n, d)`` matrix). Per property the elements
            used are those with a value and a row in **every** table given (as
            in ``reverse_prediction_table``), so passing the chapter's whole
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
            those of ``reverse_prediction_table``.
        iterations, seed, thread_count, n_jobs, order, progress: as in
            ``reverse_prediction_table``; every fit that is not cached
            is spread over ``n_jobs`` processes (one job list for all tables,
            properties and protocols).
        cache_dir: folder of the cached predictions of the protocols other than
            ``"5-fold pooled"`` (None: no cache), one ``<key>.json`` per
            (table, property, protocol), see :func:`protocol_cache_key`; an entry
            is written as soon as its fits are done.
        cv_cache_dir: the chapter's CV cache (``reverse_cv``) for
            ``"5-fold pooled"``: its entries are read and written exactly as
            ``reverse_prediction_table`` does, so the two give the same
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
    props = _props(properties, props)
    if not props:
        raise ValueError(f"no property to predict: pass props (the property table has {list(properties.columns)})")
    order = list(order) if order is not None else list(next(iter(tables.values()))[0])
    need = _protocol_min_n(protocols, folds)
    settings = dict(seed=int(seed), folds=int(folds), repeats=int(repeats), split_seeds=int(split_seeds),
                    iterations=iterations, thread_count=thread_count, cache_dir=cache_dir,
                    cv_cache_dir=cv_cache_dir)

    groups, labels = [], []   # one group per (table, property, protocol)
    for prop in props:
        col, keep = property_elements(tables, properties, prop, order, need,
                                      f"the protocols {protocols} need at least {need}")
        for name in names:
            els, mat = tables[name]
            X, y = property_matrix(els, mat, col, keep)
            for protocol in protocols:
                groups.append(_protocol_group(protocol, X, y, name=name, prop=prop, **settings))
                labels.append((name, prop, protocol))

    fit_groups(groups, iterations=iterations, thread_count=thread_count, n_jobs=n_jobs, progress=progress,
               desc="reverse prediction protocols")
    rows = []
    for g, (name, prop, protocol) in zip(groups, labels):
        r2 = _protocol_scores(protocol, g.y, g.fits, g.preds)
        rows.append({"embedding": name, "property": prop, "protocol": protocol,
                     "n_elements": len(g.y), "n_repeats": len(r2), "n_fits": len(g.fits),
                     "r2": float(np.mean(r2)),
                     "r2_std": float(np.std(r2, ddof=1)) if len(r2) > 1 else float("nan"),
                     "cached": g.cached, "cpu_s": float(sum(c for _, c in g.preds))})
    return pd.DataFrame(rows, columns=_PROTOCOL_COLUMNS)


def protocol_scope(profile: str) -> dict:
    """The properties and protocols page 08 scores on a profile, as keyword arguments of
    :func:`protocol_table`: all of them, except on a tiny profile (``smoke``, ``rehearsal``: a
    plumbing check), where only atomic radius is scored and leave-one-out (one fit per element)
    is skipped to stay quick."""
    from ctlib.config import PROFILES

    if profile in PROFILES and PROFILES[profile].tiny:
        return {"props": ["atomic_radius"], "protocols": [p for p in PROTOCOLS if p != "leave-one-out"]}
    return {"props": None, "protocols": list(PROTOCOLS)}
