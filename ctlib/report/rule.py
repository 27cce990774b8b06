"""The verdict rule: six words from a paired (or Welch) interval against the paper's change,
and Holm's correction over a family of claims (see the package docstring)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

REPRODUCED = "reproduced"
WEAKER = "weaker than claimed"
STRONGER = "stronger than claimed"
NOT_REPRODUCED = "not reproduced"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
ONE_SEED = "inconclusive (1 seed)"
NOT_COMPARABLE = "not comparable"
MISSING = "missing"
NOT_TESTABLE = "not testable offline"
#: The six words of a judged claim with a paper number, best agreement first.
SIX_WORDS = (REPRODUCED, WEAKER, STRONGER, NOT_REPRODUCED, CONTRADICTED, INCONCLUSIVE)
#: Verdicts whose interval excludes 0 on the paper's (or the expected) side.
SAME_SIDE = (REPRODUCED, WEAKER, STRONGER)
#: Every verdict the rules return.
VERDICTS = (*SIX_WORDS, ONE_SEED, NOT_COMPARABLE, MISSING)
LEVEL = 0.95


# ----------------------------------------------------------------- the rule
@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`paired_verdict` (or :func:`r2_verdict`) for one claim.

    Attributes:
        verdict: one of :data:`VERDICTS`.
        mean_rel: mean over seeds of the per-seed relative change of the error
            (NaN when not judged).
        interval: ``(lo, hi)``, the 95 % t-interval of ``mean_rel`` (NaNs
            with fewer than 2 seeds or when not judged).
        n_seeds: number of paired seeds judged (0 when not judged).
        paper_rel: the paper's relative change of the same error.
        effect_size_differs: True when ``paper_rel`` lies outside ``interval``;
            None when there is no interval.
        reason: one sentence saying why.
        seeds: the paired seeds.
        changes: the per-seed relative changes whose mean is ``mean_rel``, in the
            order of ``seeds`` (empty when not judged, and for
            :func:`r2_verdict`, which judges summary statistics).
        p_value: two-sided p-value of "no change" (the t-test behind the
            interval: paired, or Welch's); NaN without an interval. Only
            :func:`holm` reads it: the words come from the interval.
        p_value_paper: the same test of "the paper's change" (NaN without a paper number).
    """

    verdict: str
    mean_rel: float
    interval: tuple[float, float]
    n_seeds: int
    paper_rel: float
    effect_size_differs: bool | None
    reason: str
    seeds: tuple = field(default=())
    changes: tuple = field(default=())
    p_value: float = math.nan
    p_value_paper: float = math.nan

    def to_dict(self) -> dict:
        """Plain dict; ``interval`` split into ``rel_lo`` / ``rel_hi``."""
        d = asdict(self)
        d["rel_lo"], d["rel_hi"] = d.pop("interval")
        d["seeds"], d["changes"] = list(d["seeds"]), list(d["changes"])
        return d


def t_interval(mean: float, sd: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Two-sided Student-t interval ``mean ± t((1+level)/2, n-1) · sd / sqrt(n)``.

    ``(nan, nan)`` for ``n < 2`` (no spread to estimate).
    """
    from scipy import stats

    if n < 2 or not (np.isfinite(mean) and np.isfinite(sd)):
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%" if np.isfinite(x) else "—"


def _not_judged(verdict: str, paper_rel: float, reason: str) -> Verdict:
    return Verdict(verdict, math.nan, (math.nan, math.nan), 0, paper_rel, None, reason)


def verdict_from_changes(rel, paper_rel: float, *, level: float = LEVEL, seeds: Sequence = (),
                         note: str = "", paper_number: bool = True) -> Verdict:
    """Steps 3-5 of the rule on per-seed relative changes that are already paired.

    Args:
        rel: per-seed relative changes of the error (variant vs baseline).
        paper_rel: the paper's relative change (finite, non-zero: it gives the
            claimed direction).
        seeds: the seeds of ``rel`` (reported only).
        note: appended to the reason (e.g. what was not checked).
        paper_number: False where the paper prints no number for this
            comparison and ``paper_rel`` gives only the expected direction
            (e.g. -1: a lower error): the verdict's ``paper_rel`` is NaN, its
            ``effect_size_differs`` None, and the reason names no paper value.
    """
    if not (np.isfinite(paper_rel) and paper_rel != 0):
        raise ValueError(f"the paper's relative change must be finite and non-zero, got {paper_rel}")
    r = np.asarray(rel, dtype=float)
    if r.ndim != 1 or len(r) == 0 or not np.all(np.isfinite(r)):
        raise ValueError(f"rel must be a non-empty 1-d array of finite values, got {rel!r}")
    n, mean = len(r), float(r.mean())
    sd = float(r.std(ddof=1)) if n > 1 else math.nan
    return _decide(mean, sd, n, paper_rel, level=level, seeds=tuple(seeds), note=note,
                   changes=tuple(float(x) for x in r), paper_number=paper_number)


def word(lo: float, hi: float, paper_rel: float, *, paper_number: bool = True) -> str:
    """The verdict word of an interval ``[lo, hi]`` of our change against the paper's
    ``paper_rel`` (the rule's step 4); with ``paper_number=False`` only the sign of
    ``paper_rel`` (the expected direction) is used.

    >>> word(-0.30, -0.10, -0.20), word(-0.08, -0.02, -0.20), word(-0.40, -0.25, -0.20)
    ('reproduced', 'weaker than claimed', 'stronger than claimed')
    >>> word(-0.05, 0.03, -0.20), word(0.02, 0.09, -0.20), word(-0.25, 0.03, -0.20)
    ('not reproduced', 'contradicted', 'inconclusive')
    """
    if not (lo <= hi):
        raise ValueError(f"an interval needs lo <= hi, got [{lo}, {hi}]")
    p = paper_rel
    if lo > 0 or hi < 0:
        if (lo > 0) != (p > 0):
            return CONTRADICTED
        if not paper_number or lo <= p <= hi:
            return REPRODUCED
        return WEAKER if abs(p) > max(abs(lo), abs(hi)) else STRONGER
    if not paper_number or lo <= p <= hi:
        return INCONCLUSIVE
    return NOT_REPRODUCED


#: Why each word was given, as the reasons say it.
_WHY = {REPRODUCED: "excludes 0 on the paper's side and contains the paper's change",
        WEAKER: "excludes 0 on the paper's side but lies between 0 and the paper's change",
        STRONGER: "excludes 0 on the paper's side and lies beyond the paper's change",
        NOT_REPRODUCED: "contains 0 but excludes the paper's change, which it rules out",
        CONTRADICTED: "excludes 0 on the other side from the paper's",
        INCONCLUSIVE: "contains both 0 and the paper's change"}


def _decide(mean: float, sd: float, n: int, paper_rel: float, *, level: float, seeds: tuple,
            note: str, changes: tuple = (), paper_number: bool = True,
            interval: tuple[float, float] | None = None, what: str | None = None,
            df: float | None = None) -> Verdict:
    """The rule proper: interval, word and effect-size flag (the only copy).

    ``interval``/``what``: an interval computed elsewhere (Welch) and its description;
    default the paired t-interval of ``n`` per-seed changes with std ``sd``."""
    note = f" {note}" if note else ""
    want = f"a {'lower' if paper_rel < 0 else 'higher'} error"
    shown = paper_rel if paper_number else math.nan
    if n < 2 and interval is None:
        side = (("the paper's direction" if paper_number else f"the expected direction ({want})")
                if mean * paper_rel > 0 else "the opposite direction")
        tail = f" (paper {_pct(paper_rel)})" if paper_number else ""
        return Verdict(ONE_SEED, mean, (math.nan, math.nan), n, shown, None,
                       f"one seed, so no interval; the change seen ({_pct(mean)}) is in {side}{tail}.{note}",
                       seeds, changes)
    lo, hi = interval if interval is not None else t_interval(mean, sd, n, level)
    dof = df if df is not None else n - 1
    p_val = _p_from_interval(mean, lo, hi, dof, level)
    p_paper = _p_from_interval(mean - paper_rel, lo, hi, dof, level) if paper_number else math.nan
    what = what or f"the per-seed relative change over {n} seeds"
    where = f"the {100 * level:.0f}% interval of {what}, [{_pct(lo)}, {_pct(hi)}] (mean {_pct(mean)}),"
    verdict = word(lo, hi, paper_rel, paper_number=paper_number)
    differs = None
    if paper_number:
        differs = not (lo <= paper_rel <= hi)
        reason = f"{where} {_WHY[verdict]} ({_pct(paper_rel)})"
    elif verdict == INCONCLUSIVE:
        reason = f"{where} contains 0"
    else:
        side = "the" if verdict == REPRODUCED else "the side opposite to the"
        reason = f"{where} excludes 0 on {side} expected side ({want})"
    reason += f".{note}"
    return Verdict(verdict, mean, (lo, hi), n, shown, differs, reason[0].upper() + reason[1:], seeds, changes,
                   p_val, p_paper)


def _p_from_interval(mean: float, lo: float, hi: float, df: float, level: float) -> float:
    """Two-sided p-value of a zero mean behind the t-interval ``[lo, hi]`` with ``df``."""
    from scipy import stats

    if not (np.isfinite(lo) and np.isfinite(hi)) or not df > 0:
        return math.nan
    half = (hi - lo) / 2.0
    if half == 0:
        return 0.0 if mean != 0 else 1.0
    se = half / float(stats.t.ppf(0.5 + level / 2.0, df))
    return float(2 * stats.t.sf(abs(mean) / se, df))


def welch_interval(a, b, level: float = LEVEL) -> tuple[float, float, float, float]:
    """Welch's interval of ``mean(a) - mean(b)`` for two samples that share nothing.

    Returns:
        ``(difference, lo, hi, df)``, df by Welch-Satterthwaite; NaNs where a
        sample has fewer than 2 values or both have no spread.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not len(a) or not len(b):
        return math.nan, math.nan, math.nan, math.nan
    sd = [x.std(ddof=1) if len(x) > 1 else math.nan for x in (a, b)]
    return welch_from_stats(float(a.mean()), sd[0], len(a), float(b.mean()), sd[1], len(b), level)


def welch_from_stats(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int,
                     level: float = LEVEL) -> tuple[float, float, float, float]:
    """:func:`welch_interval` from each sample's mean, sample standard deviation (ddof 1)
    and size: for a published number given only as mean ± std over its folds.

    Returns:
        ``(mean_a - mean_b, lo, hi, df)``; NaN bounds where a size is under 2.
    """
    from scipy import stats

    d = float(mean_a - mean_b)
    if n_a < 2 or n_b < 2 or not (np.isfinite(sd_a) and np.isfinite(sd_b)):
        return d, math.nan, math.nan, math.nan
    va, vb = sd_a ** 2 / n_a, sd_b ** 2 / n_b
    se2 = va + vb
    if se2 == 0:
        return d, d, d, math.inf
    df = se2 ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    half = float(stats.t.ppf(0.5 + level / 2.0, df)) * math.sqrt(se2)
    return d, d - half, d + half, float(df)


def unpaired_verdict(a, b, paper_rel: float, *, level: float = LEVEL, paper_number: bool = False,
                     what: str = "the difference of the means (Welch)", note: str = "") -> Verdict:
    """The rule on ``mean(a) - mean(b)`` of two independent samples (:func:`welch_interval`):
    e.g. the per-seed changes at 500 back-end cells against those at 8,000, whose runs share
    no training draw. ``Verdict.changes`` holds ``a`` then ``b``; ``n_seeds`` the smaller size."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or not len(a) or not len(b):
        raise ValueError("unpaired_verdict needs two non-empty samples of finite values")
    d, lo, hi, df = welch_interval(a, b, level)
    n = min(len(a), len(b))
    interval = None if not np.isfinite(lo) else (lo, hi)
    return _decide(d, math.nan, n, paper_rel, level=level, seeds=(), note=note,
                   changes=tuple(float(x) for x in np.concatenate([a, b])),
                   paper_number=paper_number, interval=interval, what=what, df=df)


def holm(p_values, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down correction: which of ``p_values`` (one per claim of a family) stay
    significant at family-wise level ``alpha``. NaN p-values are left out (False)."""
    p = np.asarray(p_values, dtype=float)
    keep = np.zeros(len(p), dtype=bool)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        if p[i] > alpha / (m - rank):
            break
        keep[i] = True
    return keep


def holm_words(rows, alpha: float = 0.05) -> list[str | None]:
    """The words the verdicts of a family of claims keep under :func:`holm`.

    The family holds every test a word rests on: per judged claim the test of
    "no change" (``p_value``) and, where the paper prints a number, the test of
    the paper's change (``p_value_paper``). Holm corrects them together; the
    word is then given again by step 4 of the rule, with "excludes 0" and
    "excludes the paper's change" read as "rejected after the correction" (and
    "between 0 and p" vs "beyond p" from the mean).

    Args:
        rows: dicts (or a DataFrame) with ``verdict``, ``mean_rel`` (or ``rel_mean``), ``paper_rel``
            (NaN: direction only, with the direction in ``direction`` or -1),
            ``p_value`` and ``p_value_paper``.

    Returns:
        per row the corrected word, or None for a row that was not judged with an
        interval (pending, one seed, not comparable): it is not in the family.
    """
    rows = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    tests = []
    for i, r in enumerate(rows):
        if r.get("verdict") in SIX_WORDS and np.isfinite(float(r.get("p_value", math.nan))):
            tests.append((i, "0", float(r["p_value"])))
            pp = float(r.get("p_value_paper", math.nan))
            if np.isfinite(pp):
                tests.append((i, "p", pp))
    keep = holm([t[2] for t in tests], alpha)
    rejected = {(i, what) for (i, what, _), k in zip(tests, keep) if k}
    out: list[str | None] = [None] * len(rows)
    for i in {t[0] for t in tests}:
        r = rows[i]
        p = float(r.get("paper_rel", math.nan))
        number = np.isfinite(p)
        side = p if number else float(r.get("direction", -1.0))
        mean = float(r["mean_rel"] if "mean_rel" in r else r["rel_mean"])
        if (i, "0") in rejected:
            if (mean > 0) != (side > 0):
                out[i] = CONTRADICTED
            elif not number or (i, "p") not in rejected:
                out[i] = REPRODUCED
            else:
                out[i] = WEAKER if abs(mean) < abs(p) else STRONGER
        else:
            out[i] = NOT_REPRODUCED if number and (i, "p") in rejected else INCONCLUSIVE
    return out


def holm_family(verdicts, extra=None) -> list[dict]:
    """The claims page's family for :func:`holm_words`: every row of ``verdicts``, then one
    per row of ``extra`` (the reverse-prediction rows), its ``holm`` dict or ``{}`` where it
    has none (a ``{}`` row gets the word None: it is not in the family).

    Args:
        verdicts, extra: DataFrames or lists of dicts; None: no rows.

    Returns:
        ``len(verdicts) + len(extra)`` dicts, in that order (aligned with the two inputs).
    """
    def records(rows) -> list[dict]:
        if rows is None:
            return []
        return rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)

    return records(verdicts) + [r["holm"] if isinstance(r.get("holm"), dict) else {} for r in records(extra)]


def error_of(values, metric: str) -> np.ndarray:
    """The error whose relative change the rule judges: MAE and RMSE as they are, 1 - R² for R²."""
    v = np.asarray(values, dtype=float)
    if metric in ("mae", "rmse"):
        return v
    if metric == "r2":
        return 1.0 - v
    raise ValueError(f"metric must be 'mae', 'rmse' or 'r2', got {metric!r}")


def paired_verdict(baseline: pd.DataFrame, variant: pd.DataFrame, paper_rel: float, *,
                   metric: str = "mae", level: float = LEVEL, paper_number: bool = True) -> Verdict:
    """Judge a claimed relative change of ``variant`` against ``baseline`` (the rule above).

    Args:
        baseline, variant: tidy rows of :mod:`ctlib.experiments`, one per seed,
            with columns ``seed``, ``n_test``, ``metric`` and optionally
            ``split_hash``. Rows whose metric is NaN (runs not in the store)
            are ignored.
        paper_rel: the paper's relative change of the error,
            ``(e_var - e_base) / e_base`` (for R², of ``1 - R²``).
        metric: ``"mae"``, ``"rmse"`` or ``"r2"``.
        paper_number: False when ``paper_rel`` is only the expected direction
            (:func:`verdict_from_changes`).

    Returns:
        a :class:`Verdict`. ``not comparable`` when the seeds differ, a seed
        has several rows, ``n_test`` or ``split_hash`` differ for a seed, or a
        baseline error is 0; ``missing`` when a side has no finished run, or
        when both sides plan the same seeds (their rows, NaN ones included)
        but some of those runs are not stored yet on either side (a campaign
        under way): a verdict is only given on every planned seed.
        Without a ``split_hash`` column only seeds and ``n_test`` are checked,
        and the reason says so.
    """
    if not (np.isfinite(paper_rel) and paper_rel != 0):
        raise ValueError(f"the paper's relative change must be finite and non-zero, got {paper_rel}")
    shown = paper_rel if paper_number else math.nan  # the paper_rel of a verdict not judged
    for name, df in (("baseline", baseline), ("variant", variant)):
        lack = [c for c in ("seed", "n_test", metric) if c not in df.columns]
        if lack:
            raise KeyError(f"{name} rows lack the column(s) {lack}")
    b = baseline[np.isfinite(baseline[metric].to_numpy(float))]
    v = variant[np.isfinite(variant[metric].to_numpy(float))]
    if len(b) == 0 or len(v) == 0:
        side = " and ".join(n for n, d in (("baseline", b), ("variant", v)) if len(d) == 0)
        return _not_judged(MISSING, shown, f"No finished run of the {side} in the results store.")
    for name, d in (("baseline", b), ("variant", v)):
        dup = sorted(d["seed"][d["seed"].duplicated()].unique().tolist())
        if dup:
            return _not_judged(NOT_COMPARABLE, shown, f"The {name} has several runs for seed(s) {dup}.")
    sb, sv = sorted(b["seed"].tolist()), sorted(v["seed"].tolist())
    planned = sorted(set(baseline["seed"].tolist()))
    if planned == sorted(set(variant["seed"].tolist())) and not sb == sv == planned:
        return _not_judged(MISSING, shown,
                           f"Runs pending: of seeds {planned}, the baseline has {sb} stored and the "
                           f"variant {sv}; judged when every seed of both is stored.")
    if sb != sv:
        return _not_judged(NOT_COMPARABLE, shown,
                           f"Baseline and variant were not run with the same seeds "
                           f"(baseline {sb}, variant {sv}).")
    b, v = b.set_index("seed").loc[sb], v.set_index("seed").loc[sb]
    for s in sb:
        if int(b.at[s, "n_test"]) != int(v.at[s, "n_test"]):
            return _not_judged(NOT_COMPARABLE, shown,
                               f"Baseline and variant were tested on different test sets (seed {s}: "
                               f"{int(b.at[s, 'n_test']):,} vs {int(v.at[s, 'n_test']):,} structures).")
    note = ""
    if "split_hash" in b.columns and "split_hash" in v.columns:
        for s in sb:
            hb, hv = b.at[s, "split_hash"], v.at[s, "split_hash"]
            if pd.isna(hb) or pd.isna(hv):
                note = "(Split hash missing for some runs; seeds and test-set sizes match.)"
            elif hb != hv:
                return _not_judged(NOT_COMPARABLE, shown,
                                   f"Baseline and variant were trained on different splits "
                                   f"(seed {s}: split hash {hb} vs {hv}).")
    else:
        note = "(Splits checked by seeds and test-set size only: the rows carry no split hash.)"
    eb, ev = error_of(b[metric], metric), error_of(v[metric], metric)
    if np.any(eb == 0):
        return _not_judged(NOT_COMPARABLE, shown, "A baseline error is 0: no relative change.")
    return verdict_from_changes((ev - eb) / eb, paper_rel, level=level, seeds=sb, note=note,
                                paper_number=paper_number)
