"""CatBoost fits of the reverse prediction, and the one loop that runs, caches and pools them.

Every R² of the chapter comes from the same loop, :func:`fit_groups`: a *group*
(:class:`FitGroup`) is one set of fits that share a table's rows ``X``, a
property ``y`` and one entry of a content-addressed cache (a (table, property)
CV of :func:`~ctlib.analysis.reverse.cv.reverse_prediction_table`, or a
(table, property, protocol) of
:func:`~ctlib.analysis.reverse.protocols.protocol_table`). The loop reads every
group's cache entry, fits what is missing (one job list for all groups, spread
over ``n_jobs`` processes), writes each new entry as soon as its fits are done,
and hands back the held-out predictions; :func:`pooled_predictions` gathers
those of one repeat for a pooled R².

A fit is ``(repeat, train_idx, test_idx, catboost_seed)``: a fresh
``CatBoostRegressor`` (:func:`fit_catboost`) fitted on the train rows and
predicting the test rows. A cache entry ``<folder>/<key>.json`` holds
``key``, what produced it (``about``), the code version, the predictions of
every fit and their CPU seconds; its key is the caller's content hash
(:func:`~ctlib.analysis.reverse.cv.cv_cache_key`,
:func:`~ctlib.analysis.reverse.protocols.protocol_cache_key`).

Tests that count fits replace :func:`fit_catboost` **in this module**
(``monkeypatch.setattr(reverse.fitting, "fit_catboost", ...)``), with
``n_jobs=1`` so the fits run in the test's process.

Imports: numpy, CatBoost, scikit-learn, tqdm, joblib and :mod:`ctlib.utils`
(inside functions); no other module of the package.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["fit_catboost", "FitGroup", "fit_groups", "pooled_predictions", "read_predictions",
           "write_predictions"]


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


def _check_iterations_threads(iterations, thread_count, n_jobs):
    if int(iterations) < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    if int(thread_count) < 1 or int(n_jobs) < 1:
        raise ValueError(f"thread_count and n_jobs must be >= 1, got {thread_count}, {n_jobs}")


def content_key(X, y, head: tuple) -> str:
    """The name of a cache entry of fits on ``X (n, d)`` and ``y (n,)``: 24 hex digits of the
    SHA-256 of ``repr(head)`` (the shapes, the settings and the package versions the caller
    names), then the exact float64 bytes of ``X`` and ``y``. Any change to the table, the
    elements kept, the property data or the settings gives another key: a stale entry is
    never read."""
    import hashlib

    h = hashlib.sha256(repr(head).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()[:24]


@dataclass
class FitGroup:
    """One set of fits sharing ``X``, ``y`` and one cache entry.

    Attributes:
        X: ``(n, d)`` float64 table rows; y: ``(n,)`` float64 property values.
        fits: ``[(repeat, train_idx, test_idx, catboost_seed), ...]``.
        folder, key: the cache entry ``<folder>/<key>.json`` (None: not cached).
        about: what is written beside the predictions (table, property, settings).
        what: the cache's name in the message about a damaged entry.
        preds: after :func:`fit_groups`, ``[(test predictions, CPU seconds), ...]``, one per fit.
        cached: after :func:`fit_groups`, whether ``preds`` were read from the cache.
    """

    X: np.ndarray
    y: np.ndarray
    fits: list
    folder: Path | None = None
    key: str | None = None
    about: dict = field(default_factory=dict)
    what: str = "reverse-prediction"
    preds: list | None = None
    cached: bool = False


def read_predictions(folder: Path, key: str, fits, *, what: str = "reverse-prediction"):
    """Cached ``[(predictions, cpu_s), ...]`` of one group, or None when absent.

    Raises:
        ValueError: the entry is unreadable, or holds another number of fits or
            predictions of other sizes than ``fits`` (names the file; deleting it is safe).
    """
    from ctlib.utils import read_cache_json

    def parse(data):
        preds = [(np.asarray(p, dtype=np.float64), float(c)) for p, c in zip(data["predictions"], data["cpu_s"])]
        if len(preds) != len(fits) or any(len(p) != len(te) for (p, _), (_, _, te, _) in zip(preds, fits)):
            raise ValueError(f"it holds {len(preds)} fits, {len(fits)} were asked for (or their sizes differ)")
        return preds

    return read_cache_json(Path(folder) / f"{key}.json", parse, what=what)


def write_predictions(folder: Path, key: str, preds, **about) -> None:
    """Store one group's held-out predictions (atomically) after ``key`` and ``about``."""
    from ctlib.utils import write_json_atomic

    write_json_atomic(Path(folder) / f"{key}.json", {
        "key": key, **about,
        "predictions": [np.asarray(p, dtype=float).tolist() for p, _ in preds],
        "cpu_s": [float(c) for _, c in preds]})


def fit_groups(groups: list[FitGroup], *, iterations: int, thread_count: int, n_jobs: int = 1,
               progress: bool = False, desc: str = "reverse prediction") -> list[FitGroup]:
    """Fill ``preds`` and ``cached`` of every group: read from its cache entry, else fitted.

    Args:
        groups: the groups, in the order their fits are queued.
        iterations, thread_count: CatBoost trees and threads per fit.
        n_jobs: processes fitting in parallel (joblib; 1: in this process).
        progress, desc: a tqdm bar and its label.

    Returns:
        ``groups`` (changed in place). A group fitted here with a cache ``folder``
        is written there (with ``about`` and the code version) as soon as its fits
        are done, so an interrupted run keeps what it finished.
    """
    jobs = []
    for g in groups:
        if g.folder is not None and g.key is not None:
            g.preds = read_predictions(g.folder, g.key, g.fits, what=g.what)
        g.cached = g.preds is not None
        if g.preds is None:
            jobs += [(_fold_job, (g.X, g.y, tr, te, iterations, s, thread_count)) for _, tr, te, s in g.fits]
    results = _iter_jobs(jobs, n_jobs, progress, desc)
    code = None
    for g in groups:
        if g.preds is not None:
            continue
        g.preds = [next(results) for _ in g.fits]
        if g.folder is not None and g.key is not None:
            if code is None:
                from ctlib.utils import code_version

                code = code_version()
            write_predictions(g.folder, g.key, g.preds, **g.about, code=code)
    return groups


def pooled_predictions(n: int, fits, preds) -> dict[int, np.ndarray]:
    """The held-out predictions of each repeat gathered into one ``(n,)`` array (NaN where an
    element was not held out in that repeat), ``{repeat: predictions}`` in repeat order."""
    pooled: dict[int, np.ndarray] = {}
    for (r, _, te, _), (p, _) in zip(fits, preds):
        pooled.setdefault(r, np.full(n, np.nan))[te] = p
    return dict(sorted(pooled.items()))
