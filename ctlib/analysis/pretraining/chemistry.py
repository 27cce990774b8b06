"""The chemistry of every element table of the pretraining runs: k-means silhouette and
forest reverse-prediction R², measured once and cached.

For every table of :func:`ctlib.analysis.pretraining.snapshots.snapshot_frame`
and the reference tables of :func:`ctlib.analysis.reverse.baseline_tables`
(cgcnn92, megnet16, mat2vec, random128), :func:`chemistry_vs_epoch` measures

* **drift** from the run's epoch-0 table (:func:`~ctlib.analysis.pretraining.snapshots.relative_drift`);
* **best silhouette** (:func:`best_silhouette`): k-means (k = 2..8) on the
  column-standardised table, the silhouette-best k by
  :func:`ctlib.analysis.clustering.choose_k` and its mean silhouette (in [-1, 1]);
* **reverse-prediction R²** of the five elemental properties of
  :data:`ctlib.analysis.reverse.PROPERTIES` (:func:`reverse_r2`): a cheap fixed
  forest (:func:`probe_trees` trees, ``max_features=0.3``, fixed seeds) in 5-fold
  CV repeated twice (:func:`ctlib.analysis.reverse.cv_splits`); pooled
  out-of-fold R², mean over repeats. Not the paper's CatBoost (notebook 08 runs
  that on the final table): about 1.5 CPU-seconds per table for all five
  properties on 89 elements, so that every snapshot can be measured.

:func:`learned_part_chemistry` measures each final table beside its learned
part (the table minus its untrained start); :func:`schedule_comparison` sets the
multi-task pretraining beside the same one under the other schedule.

The per-table measures are kept in a bounded memo (:data:`MEMO_SIZE` entries,
keyed by table content and settings) and, where a caller passes ``cache_dir``
(the book: ``results/<profile>/analysis/chemistry``), in a committed on-disk
cache of one small JSON file per measure, named by the hash of the table's
exact bytes, the elements and property values, the settings and the installed
scikit-learn version (:func:`_cache_name`): a changed table gets a new entry
and a stale one is never read. The key functions (:func:`_memo`,
:func:`_cache_name`, :func:`_digest`) name every cache file already committed:
changing them orphans the cache.

Imports: numpy, pandas, :mod:`.runs`, :mod:`.snapshots` and, inside functions,
scikit-learn, threadpoolctl, :mod:`ctlib.analysis.clustering`,
:mod:`ctlib.analysis.reverse`, :mod:`ctlib.elements`, :mod:`ctlib.config`,
:mod:`ctlib.utils`.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.pretraining.runs import ALT, STORED, PretrainingRun, final_metrics
from ctlib.analysis.pretraining.snapshots import load_table, relative_drift, snapshot_frame

__all__ = [
    "REFERENCES", "KS", "PROBE_TREES", "MEMO_SIZE", "clear_memo", "probe_trees", "best_silhouette",
    "reverse_r2", "chemistry_vs_epoch", "learned_part_chemistry", "schedule_comparison",
]

#: Reference tables measured beside the CT snapshots (names of ``reverse.baseline_tables``).
REFERENCES = ("cgcnn92", "megnet16", "mat2vec", "random128")
#: Numbers of k-means clusters scanned for the best silhouette.
KS = tuple(range(2, 9))
#: Trees of the forest probe, unless a profile's ``sizes.probe_trees`` says otherwise.
PROBE_TREES = 30
#: Entries of the bounded memo of per-table metrics.
MEMO_SIZE = 512
_MEMO: OrderedDict = OrderedDict()


def clear_memo() -> None:
    """Empty the memo of per-table metrics (tests; a changed property table)."""
    _MEMO.clear()


def _memo(key, compute, cache_dir=None):
    """``compute()``, memoised under ``key`` and, with ``cache_dir``, in ``<cache_dir>/<hash>.json``."""
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    path = None if cache_dir is None else Path(cache_dir) / f"{_cache_name(key)}.json"
    value = _read_cached(path, key[0]) if path is not None else None
    if value is None:
        value = compute()
        if path is not None and np.all(np.isfinite(np.asarray(value, dtype=float))):
            from ctlib.utils import write_json_atomic

            write_json_atomic(path, {"measure": key[0], "settings": repr(key[2:]), "value": list(value)})
    _MEMO[key] = value
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return value


def _cache_name(key) -> str:
    """24 hex digits naming one memo key in an on-disk cache (the key and scikit-learn's version)."""
    import sklearn

    return hashlib.sha256(repr((key, sklearn.__version__)).encode()).hexdigest()[:24]


def _read_cached(path: Path, measure: str):
    """A cached measure (``(k, silhouette)`` or a list of R²), or None when ``path`` is absent."""
    from ctlib.utils import read_cache_json

    def parse(data):
        if data["measure"] != measure:
            raise ValueError(f"it holds a {data['measure']!r} measure, not {measure!r}")
        value = data["value"]
        return (int(value[0]), float(value[1])) if measure == "silhouette" else [float(v) for v in value]

    return read_cache_json(path, parse, what="pretraining-chemistry")


def _digest(*arrays) -> str:
    h = hashlib.sha1()
    for a in arrays:
        if isinstance(a, np.ndarray):
            a = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        else:
            h.update(repr(a).encode())
        h.update(b"|")
    return h.hexdigest()


def probe_trees(profile) -> int:
    """Trees of the forest probe on ``profile``: :data:`PROBE_TREES` (30), or the profile's
    ``sizes.probe_trees`` (smoke: 10, enough to check that the pages run)."""
    from ctlib.config import get_profile

    return int(get_profile(profile).sizes.probe_trees or PROBE_TREES)


# --------------------------------------------------------------------------- #
# The measures of one table, and of every table of the runs
# --------------------------------------------------------------------------- #
def best_silhouette(X, ks: Sequence[int] = KS, *, seed: int = 0, n_init: int = 10,
                    cache_dir: str | Path | None = None) -> tuple[int, float]:
    """Silhouette-best number of k-means clusters of a column-standardised table.

    :func:`ctlib.analysis.clustering.standardize`, then
    :func:`~ctlib.analysis.clustering.kmeans_scan` over ``ks`` and the rule of
    :func:`~ctlib.analysis.clustering.choose_k` (highest mean silhouette, ties
    to the smaller k).

    Args:
        X: ``(n_elements, d)`` table.
        ks: numbers of clusters, each in ``2..n_elements-1``.
        seed, n_init: k-means random state and restarts.
        cache_dir: on-disk cache folder (see the module docstring; None: memo only).

    Returns:
        ``(k, silhouette)``: the chosen k and its mean silhouette (in [-1, 1]).
    """
    from ctlib.analysis import clustering

    ks = tuple(sorted({int(k) for k in ks}))
    A = np.asarray(X, dtype=np.float64)

    def compute():
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # 89 rows: threads only cost (20x slower on a busy machine)
            scan = clustering.kmeans_scan(clustering.standardize(A), ks, seed=seed, n_init=n_init)
        if len(scan) >= 3:
            k, _ = clustering.choose_k(scan)
        else:  # choose_k also reports the elbow, which needs 3 ks; same rule
            best = scan["silhouette"].max()
            k = int(scan.loc[scan["silhouette"] >= best - 1e-12, "k"].min())
        return int(k), float(scan.set_index("k").at[k, "silhouette"])

    return _memo(("silhouette", _digest(A), ks, int(seed), int(n_init)), compute, cache_dir)


def _forest(n_estimators: int, seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=int(n_estimators), max_features=0.3, random_state=int(seed),
                                 n_jobs=1)


def _pooled_r2(X: np.ndarray, y: np.ndarray, folds: int, repeats: int, seed: int,
               n_estimators: int, cache_dir=None) -> list[float]:
    """Pooled out-of-fold R² of the forest, one per repeat (folds of ``reverse.cv_splits``)."""
    from sklearn.metrics import r2_score

    from ctlib.analysis import reverse

    def compute():
        from threadpoolctl import threadpool_limits

        oof = {}
        with threadpool_limits(1):
            for r, _f, tr, te in reverse.cv_splits(len(y), folds=folds, repeats=repeats, seed=seed):
                m = _forest(n_estimators, seed + r).fit(X[tr], y[tr])
                oof.setdefault(r, np.full(len(y), np.nan))[te] = m.predict(X[te])
        return [float(r2_score(y, p)) for _, p in sorted(oof.items())]

    return _memo(("r2", _digest(X, y), folds, repeats, seed, n_estimators), compute, cache_dir)


def _common(tables: Mapping[str, tuple], properties: pd.DataFrame, props: Sequence[str],
            folds: int) -> dict[str, list[str]]:
    """property -> the elements with a value and a row in every table (first table's order)."""
    from ctlib.analysis import reverse

    order = list(next(iter(tables.values()))[0])
    out = {}
    for prop in props:
        keep = reverse.common_elements(tables, properties[prop].astype(float), order)
        if len(keep) < folds:
            raise ValueError(f"property {prop!r}: only {len(keep)} elements have a value and a row "
                             f"in every table; {folds}-fold CV needs at least {folds}")
        out[prop] = keep
    return out


def reverse_r2(tables: Mapping[str, tuple[Sequence[str], np.ndarray]], properties: pd.DataFrame | None = None,
               *, props: Sequence[str] | None = None, folds: int = 5, repeats: int = 2,
               n_estimators: int = PROBE_TREES, seed: int = 0, cache_dir: str | Path | None = None) -> pd.DataFrame:
    """Reverse-prediction R² of elemental properties from each table, with a cheap forest.

    Per property, the elements used are those with a value and a row in
    **every** table given (:func:`ctlib.analysis.reverse.common_elements`), so
    all tables see the same elements and the same folds
    (:func:`ctlib.analysis.reverse.cv_splits`, repeat r shuffled with seed
    ``seed + r``). Model: ``RandomForestRegressor(n_estimators, max_features=0.3,
    random_state=seed + r)``. R² is pooled over the out-of-fold predictions
    of one repeat.

    Args:
        tables: name -> ``(elements, (n, d) matrix)``.
        properties: symbol-indexed property table (default
            ``ctlib.elements.elemental_properties()``).
        props: columns to predict (default: :data:`ctlib.analysis.reverse.PROPERTIES`).
        folds, repeats, n_estimators, seed: the protocol above.
        cache_dir: on-disk cache folder (see the module docstring; None: memo only).

    Returns:
        one row per (table, property): ``table, property, n_elements,
        r2_mean, r2_std`` (over repeats, ddof=1; NaN for one repeat), ``r2_repeats``
        (the per-repeat values, a list).
    """
    from ctlib.analysis import reverse

    if properties is None:
        from ctlib.elements import elemental_properties

        properties = elemental_properties()
    props = (list(props) if props is not None
             else [p for p in reverse.PROPERTIES if p in properties.columns])
    if not tables:
        raise ValueError("no tables given")
    keep = _common(tables, properties, props, folds)
    rows = []
    for prop in props:
        col = properties[prop].astype(float)
        for name, (els, mat) in tables.items():
            X, y = reverse.property_matrix(els, mat, col, keep[prop])
            vals = _pooled_r2(X, y, folds, repeats, seed, n_estimators, cache_dir)
            rows.append({"table": name, "property": prop, "n_elements": len(keep[prop]),
                         "r2_mean": float(np.mean(vals)),
                         "r2_std": float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan,
                         "r2_repeats": list(vals)})
    return pd.DataFrame(rows, columns=["table", "property", "n_elements", "r2_mean", "r2_std", "r2_repeats"])


def chemistry_vs_epoch(runs: Mapping[str, PretrainingRun], profile, *,
                       references: Sequence[str] = REFERENCES, ks: Sequence[int] = KS,
                       cluster_seed: int = 0, n_init: int = 10, folds: int = 5, repeats: int = 2,
                       n_estimators: int = PROBE_TREES, seed: int = 0,
                       properties: pd.DataFrame | None = None,
                       cache_dir: str | Path | None = None) -> pd.DataFrame:
    """Drift, best silhouette and reverse-prediction R² of every table of every run,
    and of the reference tables.

    Args:
        runs: :func:`find_pretraining_runs` output.
        profile: the profile (to rebuild the untrained table where a run has no
            epoch-0 snapshot).
        references: names of :func:`ctlib.analysis.reverse.baseline_tables`
            measured beside them (rows with ``kind="reference"``, epoch NaN).
        ks, cluster_seed, n_init: :func:`best_silhouette`.
        folds, repeats, n_estimators, seed: :func:`reverse_r2`.
        properties: property table (default ``elemental_properties()``).
        cache_dir: folder of the on-disk cache of the measures (see the module
            docstring; None: memo only).

    Returns:
        one row per table: ``kind, label, status, run_id, epoch, source,
        is_final, drift`` (vs the run's epoch-0 table; NaN for references),
        ``k_best, silhouette``, one ``r2_<property>`` column per property
        (pooled out-of-fold R², mean over repeats), ``r2_mean`` (mean over
        the properties), ``r2_mean_learned`` (the same mean R² of the table's
        learned part, the table minus its epoch-0 table; NaN at epoch 0 and for
        references) and ``seconds`` (wall time of this table's measures; near 0
        when memoised). Empty (same columns) when there is nothing to measure.
    """
    from ctlib.analysis import reverse

    if properties is None:
        from ctlib.elements import elemental_properties

        properties = elemental_properties()
    props = [p for p in reverse.PROPERTIES if p in properties.columns]
    snaps = snapshot_frame(runs)
    tables: dict[str, tuple] = {}
    meta: list[dict] = []
    epoch0: dict[str, np.ndarray] = {}
    for s in snaps.itertuples():
        els, mat = load_table(s.path, profile=profile, seed=int(s.seed), n_tasks=int(s.n_tasks))
        name = f"{s.kind} epoch {s.epoch}"
        tables[name] = (els, mat)
        if s.epoch == 0:
            epoch0[s.kind] = mat
        meta.append({"name": name, "kind": s.kind, "label": s.label, "status": s.status,
                     "run_id": s.run_id, "epoch": s.epoch, "source": s.source, "is_final": s.is_final})
    if references:
        from ctlib.elements import ELEMENTS

        refs = reverse.baseline_tables(list(ELEMENTS), seed=0, include=list(references))
        for ref, (els, mat) in refs.items():
            tables[ref] = (list(els), np.asarray(mat, dtype=np.float64))
            meta.append({"name": ref, "kind": "reference", "label": ref, "status": "reference",
                         "run_id": None, "epoch": math.nan,
                         "source": reverse.BASELINE_DESCRIPTIONS.get(ref, ref),
                         "is_final": False})
    cols = (["kind", "label", "status", "run_id", "epoch", "source", "is_final", "drift", "k_best",
             "silhouette"] + [f"r2_{p}" for p in props] + ["r2_mean", "r2_mean_learned", "seconds"])
    if not tables:
        return pd.DataFrame(columns=cols)
    keep = _common(tables, properties, props, folds)
    rows = []
    for m in meta:
        t0 = time.perf_counter()
        name, kind = m.pop("name"), m["kind"]
        els, mat = tables[name]
        ref = epoch0.get(kind)
        own = kind != "reference" and ref is not None
        drift = relative_drift(mat, ref) if own else math.nan
        learned = math.nan
        if own and m["epoch"] != 0:
            learned = float(np.mean(list(_r2s(els, mat - ref, keep, properties, folds=folds, repeats=repeats,
                                              seed=seed, n_estimators=n_estimators,
                                              cache_dir=cache_dir).values())))
        rows.append({**m, "drift": drift,
                     **_measures(els, mat, keep, properties, ks=ks, cluster_seed=cluster_seed,
                                 n_init=n_init, folds=folds, repeats=repeats, seed=seed,
                                 n_estimators=n_estimators, cache_dir=cache_dir),
                     "r2_mean_learned": learned, "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows, columns=cols)


def _r2s(els, mat, keep: Mapping[str, list[str]], properties: pd.DataFrame, *, folds, repeats, seed,
         n_estimators, cache_dir=None) -> dict[str, float]:
    """``r2_<property>`` -> the forest's pooled R² (mean over repeats) of one table
    (``keep``: property -> the elements of :func:`_common`)."""
    from ctlib.analysis import reverse

    out = {}
    for prop, elements in keep.items():
        X, y = reverse.property_matrix(els, mat, properties[prop].astype(float), elements)
        out[f"r2_{prop}"] = float(np.mean(_pooled_r2(X, y, folds, repeats, seed, n_estimators, cache_dir)))
    return out


def _measures(els, mat, keep: Mapping[str, list[str]], properties: pd.DataFrame, *, ks, cluster_seed,
              n_init, folds, repeats, seed, n_estimators, cache_dir=None) -> dict:
    """``k_best, silhouette, r2_<property>..., r2_mean`` of one table (see :func:`_r2s`)."""
    k, sil = best_silhouette(mat, ks, seed=cluster_seed, n_init=n_init, cache_dir=cache_dir)
    rr = _r2s(els, mat, keep, properties, folds=folds, repeats=repeats, seed=seed, n_estimators=n_estimators,
              cache_dir=cache_dir)
    return {"k_best": k, "silhouette": sil, **rr,
            "r2_mean": float(np.mean(list(rr.values()))) if rr else math.nan}


def learned_part_chemistry(runs: Mapping[str, PretrainingRun], profile, *,
                           references: Sequence[str] = REFERENCES, ks: Sequence[int] = KS,
                           cluster_seed: int = 0, n_init: int = 10, folds: int = 5, repeats: int = 2,
                           n_estimators: int = PROBE_TREES, seed: int = 0,
                           properties: pd.DataFrame | None = None,
                           cache_dir: str | Path | None = None) -> pd.DataFrame:
    """The final table of each stored pretraining beside its learned part (the table
    minus its untrained start, :func:`ctlib.experiments.learned_part`), with the
    measures of :func:`chemistry_vs_epoch` on the same elements and folds.

    A CT table is its random start plus what pretraining added; while the table
    has moved less than its start's norm (drift < 1), the start dominates it and
    is noise to every probe. The learned part shows what the pretraining put in.

    Args:
        runs: :func:`find_pretraining_runs` output; only stored runs with a
            final table are measured.
        profile: the profile (to rebuild each run's untrained table).
        references, ks, cluster_seed, n_init, folds, repeats, n_estimators, seed,
            properties, cache_dir: as :func:`chemistry_vs_epoch` (the same settings give the
            same numbers for the tables as stored, from its memo).

    Returns:
        one row per table: ``kind, label, table`` (``"as stored"``, ``"learned
        part"`` or the reference's name), ``drift`` (of the table as stored from
        its start; NaN for references), ``k_best, silhouette``, ``r2_<property>``
        and ``r2_mean``. Empty (same columns) when no pretraining is stored.
    """
    pairs = {}
    for kind, r in runs.items():
        if r.status != STORED or r.final_table is None:
            continue
        els, mat = load_table(r.final_table)
        _, start = load_table(None, profile=profile, seed=r.seed, n_tasks=len(r.targets))
        pairs[kind] = (r.label, els, mat, start)
    return _stored_and_learned(pairs, references, properties, ks=ks, cluster_seed=cluster_seed,
                               n_init=n_init, folds=folds, repeats=repeats, n_estimators=n_estimators,
                               seed=seed, cache_dir=cache_dir)


def _stored_and_learned(pairs: Mapping[str, tuple], references: Sequence[str],
                        properties: pd.DataFrame | None, *, ks, cluster_seed, n_init, folds, repeats,
                        n_estimators, seed, cache_dir) -> pd.DataFrame:
    """The measures of :func:`learned_part_chemistry` for ``pairs``: kind -> ``(label,
    elements, final table, its untrained start or None)``; a table without a start is
    measured as stored only (drift NaN). Empty (same columns) when ``pairs`` is."""
    from ctlib.analysis import reverse

    if properties is None:
        from ctlib.elements import elemental_properties

        properties = elemental_properties()
    props = [p for p in reverse.PROPERTIES if p in properties.columns]
    cols = (["kind", "label", "table", "drift", "k_best", "silhouette"] + [f"r2_{p}" for p in props]
            + ["r2_mean"])
    tables: dict[tuple, tuple] = {}
    drift: dict[str, float] = {}
    for kind, (label, els, mat, start) in pairs.items():
        tables[kind, label, "as stored"] = (els, mat)
        if start is not None:
            drift[kind] = relative_drift(mat, start)
            tables[kind, label, "learned part"] = (els, mat - start)
    if not tables:
        return pd.DataFrame(columns=cols)
    if references:
        from ctlib.elements import ELEMENTS

        for ref, (els, mat) in reverse.baseline_tables(list(ELEMENTS), seed=0, include=list(references)).items():
            tables["reference", ref, ref] = (list(els), np.asarray(mat, dtype=np.float64))
    keep = _common(tables, properties, props, folds)
    rows = [{"kind": kind, "label": label, "table": which, "drift": drift.get(kind, math.nan),
             **_measures(els, mat, keep, properties, ks=ks, cluster_seed=cluster_seed, n_init=n_init,
                         folds=folds, repeats=repeats, seed=seed, n_estimators=n_estimators,
                         cache_dir=cache_dir)}
            for (kind, label, which), (els, mat) in tables.items()]
    return pd.DataFrame(rows, columns=cols)


def schedule_comparison(runs: Mapping[str, PretrainingRun], chem: pd.DataFrame) -> pd.DataFrame:
    """The multi-task pretraining beside the same pretraining under the other schedule.

    Args:
        runs: :func:`find_pretraining_runs` output (kinds ``"mt"`` and :data:`ALT`).
        chem: :func:`chemistry_vs_epoch` output for those runs.

    Returns:
        one row per run present in ``runs``: ``kind, label, status,
        epochs`` (done / planned), ``val_E_f, val_E_g`` (lowest validation MAE
        so far, eV/atom and eV), ``epoch_last`` (the newest measured table),
        ``r2_last, silhouette_last, drift_last`` of that table, ``r2_best`` and
        ``epoch_r2_best`` (the snapshot with the highest mean R²). Empty when
        neither run is present.
    """
    rows = []
    fm = final_metrics({k: r for k, r in runs.items() if k in ("mt", ALT)})
    for kind in ("mt", ALT):
        r = runs.get(kind)
        if r is None:
            continue
        g = chem[chem["kind"] == kind].sort_values("epoch") if len(chem) else chem
        last = g.iloc[-1] if len(g) else None
        best = g.loc[g["r2_mean"].idxmax()] if len(g) else None
        val = fm[fm["kind"] == kind].set_index("task")["val_mae"] if len(fm) else pd.Series(dtype=float)
        rows.append({"kind": kind, "label": r.label, "status": r.status,
                     "epochs": f"{r.epochs_done}/{r.epochs_planned}",
                     "val_E_f": float(val.get("E_f", math.nan)), "val_E_g": float(val.get("E_g", math.nan)),
                     "epoch_last": math.nan if last is None else float(last["epoch"]),
                     "r2_last": math.nan if last is None else float(last["r2_mean"]),
                     "silhouette_last": math.nan if last is None else float(last["silhouette"]),
                     "drift_last": math.nan if last is None else float(last["drift"]),
                     "r2_best": math.nan if best is None else float(best["r2_mean"]),
                     "epoch_r2_best": math.nan if best is None else float(best["epoch"])})
    return pd.DataFrame(rows, columns=["kind", "label", "status", "epochs", "val_E_f", "val_E_g",
                                       "epoch_last", "r2_last", "silhouette_last", "drift_last",
                                       "r2_best", "epoch_r2_best"])
