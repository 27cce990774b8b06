"""Claims of their own kind: the reverse-prediction R² of Table VI (the rule against the
no-information predictor) and the k = 3 clusters (against random tables)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.report.rule import (CONTRADICTED, INCONCLUSIVE, LEVEL, MISSING, REPRODUCED, Verdict, _decide,
                               _not_judged, verdict_from_changes)

# ------------------------------------------------------ claims of their own kind
def r2_verdict(paper_r2: float, values=None, *, mean: float | None = None, std: float | None = None,
               n: int | None = None, level: float = LEVEL) -> Verdict:
    """The rule applied to a reverse-prediction R² of Table VI.

    Table VI states R² values; the claim they carry is that the embedding
    predicts the property, i.e. does better than predicting the mean. In the
    rule's terms the error is the unexplained variance ``1 - R²`` and the
    baseline the no-information predictor (``1 - R² = 1``), so the change of
    repeat ``i`` is ``-R²_i`` and the paper's is ``-paper_r2``, and the six
    words of :func:`ctlib.report.word` follow from the 95 % t-interval of our R²
    over the CV repeats against the paper's R²: e.g. **weaker than claimed** when
    it lies above 0 but below the paper's R², **not reproduced** when it
    contains 0 but not the paper's R²; **inconclusive (1 seed)** with one
    repeat. ``Verdict.mean_rel`` and ``interval`` are in terms of ``-R²``
    (negate and swap for R²).

    Args:
        paper_r2: the paper's R² (non-zero).
        values: our pooled out-of-fold R², one per CV repeat; or else
        mean, std, n: their mean, sample std (None/NaN for one repeat) and
            count, as ``ctlib.analysis.reverse.summarize_cv`` gives them (the
            interval is the same).
    """
    if values is not None:
        r = np.asarray(values, dtype=float)
        r = r[np.isfinite(r)]
        if len(r) == 0:
            return _not_judged(MISSING, -paper_r2, "No R² value.")
        return verdict_from_changes(-r, -paper_r2, level=level, seeds=tuple(range(len(r))))
    if mean is None or n is None or not np.isfinite(mean) or int(n) < 1:
        return _not_judged(MISSING, -paper_r2, "No R² value.")
    if not (np.isfinite(paper_r2) and paper_r2 != 0):
        raise ValueError(f"the paper's R² must be finite and non-zero, got {paper_r2}")
    sd = math.nan if std is None or int(n) < 2 else float(std)
    if int(n) >= 2 and not np.isfinite(sd):
        raise ValueError(f"{n} repeats need a finite std, got {std}")
    return _decide(-float(mean), sd, int(n), -float(paper_r2), level=level,
                   seeds=tuple(range(int(n))), note="")


def best_k(scan) -> int:
    """The number of clusters of a k-means scan (``k``, ``silhouette``): the k with the highest
    mean silhouette, the smaller k on a tie. The one copy of the rule;
    :func:`ctlib.analysis.clustering.choose_k` reports it with the elbow beside it."""
    s = pd.DataFrame(scan)
    best = float(s["silhouette"].max())
    return int(s.loc[s["silhouette"].astype(float) >= best - 1e-12, "k"].astype(int).min())


@dataclass(frozen=True)
class KVerdict:
    """The outcome of :func:`k_verdict`.

    Attributes:
        verdict: reproduced / contradicted / inconclusive / missing.
        k_best: our silhouette-best k.
        paper_k: the paper's k.
        silhouette_paper_k, silhouette_best: our silhouettes at ``paper_k`` and ``k_best``.
        null_threshold_paper_k: the ``q``-quantile of the null silhouettes at
            ``paper_k`` (reported only; NaN without a null there).
        null_threshold_best: the ``q``-quantile of the random tables' *best*
            silhouettes over the scanned k, the threshold the rule applies (NaN
            without a null).
        n_null: number of random tables.
        reason: one sentence saying why.
    """

    verdict: str
    k_best: int | None
    paper_k: int
    silhouette_paper_k: float
    silhouette_best: float
    null_threshold_paper_k: float
    null_threshold_best: float
    n_null: int
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def _quantile(vals, q: float) -> float:
    v = np.asarray([x for x in vals if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    return float(np.quantile(v, q)) if len(v) else math.nan


def _null_best(null: Mapping[int, Sequence], ks: Sequence[int]) -> list[float]:
    """Each random table's best silhouette over ``ks`` (the null of the best-k statistic)."""
    cols = [list(null[k]) for k in ks if null.get(k)]
    if not cols:
        return []
    if len({len(c) for c in cols}) > 1:
        raise ValueError(f"the null silhouettes must hold one value per random table at every k, got "
                         f"{ {k: len(null[k]) for k in ks if null.get(k)} } values")
    return [max(float(x) for x in row if x is not None) for row in zip(*cols)
            if any(x is not None for x in row)]


def k_verdict(scan, null, paper_k: int = 3, q: float = 0.95) -> KVerdict:
    """Judge "k = paper_k clusters" from a k-means scan and its null silhouettes.

    Our best k is the silhouette maximum over the scanned k, so it is judged
    against the same statistic of the random tables: each table's best
    silhouette over the same k (``null_best``). Comparing it with the null
    at the chosen k alone would let a random table beat its null by the choice
    of k. ``null_q`` = the ``q``-quantile (numpy's linear interpolation) of
    ``null_best``; with 5 tables and q = 0.95 it is ``0.2 · 4th largest + 0.8
    · largest``.

    * **reproduced** iff ``paper_k`` is our best k (ties to the smaller k: the
      rule of ``clustering.choose_k``) **and** its silhouette ``> null_q``;
    * **contradicted** iff another k is best **and** its silhouette ``>
      null_q``: real structure, at another k;
    * **inconclusive** otherwise: the best k does not beat the null (no
      structure beyond noise to pick a k from), or there is no null;
    * **missing** when the scan lacks ``paper_k``.

    Args:
        scan: ``clustering.kmeans_scan`` output (DataFrame or list of records
            with ``k``, ``inertia``, ``silhouette``).
        null: the null silhouettes: ``{k: [silhouette of each random table]}``
            (keys may be strings, as in JSON; one value per table at every
            k), or a plain sequence meaning the tables' best silhouettes.
        paper_k: the paper's number of clusters.
        q: the quantile of the null to beat.
    """
    s = pd.DataFrame(scan)
    if s.empty or paper_k not in set(s["k"].astype(int)):
        return KVerdict(MISSING, None, paper_k, math.nan, math.nan, math.nan, math.nan, 0,
                        f"The k-means scan does not include k = {paper_k}.")
    s = s.assign(k=s["k"].astype(int)).sort_values("k").reset_index(drop=True)
    if isinstance(null, Mapping):
        null = {int(k): v for k, v in null.items()}
        best_of = _null_best(null, list(s["k"]))
    else:
        best_of = [float(x) for x in null] if null is not None else []
        null = {}
    k_best = best_k(s)
    sil = dict(zip(s["k"], s["silhouette"].astype(float)))
    t3 = _quantile(null.get(paper_k) or [], q)
    tb, n = _quantile(best_of, q), len(best_of)
    qs = f"{100 * q:g}th percentile of the best silhouettes of {n} random tables over the same k"
    if not np.isfinite(tb):
        verdict, why = INCONCLUSIVE, (f"k = {k_best} has the best silhouette ({sil[k_best]:.3f}; k = "
                                      f"{paper_k}: {sil[paper_k]:.3f}), but there is no null reference")
    elif k_best == paper_k:
        if sil[paper_k] > tb:
            verdict, why = REPRODUCED, f"k = {paper_k} has the best silhouette ({sil[paper_k]:.3f}), above the {qs} ({tb:.3f})"
        else:
            verdict, why = INCONCLUSIVE, (f"k = {paper_k} has the best silhouette ({sil[paper_k]:.3f}), but not "
                                          f"above the {qs} ({tb:.3f})")
    elif sil[k_best] > tb:
        verdict, why = CONTRADICTED, (f"k = {k_best}, not {paper_k}, has the best silhouette "
                                      f"({sil[k_best]:.3f} vs {sil[paper_k]:.3f}), above the {qs} ({tb:.3f})")
    else:
        verdict, why = INCONCLUSIVE, (f"k = {k_best} has the best silhouette ({sil[k_best]:.3f}; k = "
                                      f"{paper_k}: {sil[paper_k]:.3f}), but not above the {qs} ({tb:.3f}): "
                                      f"no structure beyond noise to pick k from")
    return KVerdict(verdict, int(k_best), paper_k, sil[paper_k], sil[k_best], t3, tb, n, why + ".")
