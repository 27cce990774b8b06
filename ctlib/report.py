"""Our numbers beside the paper's, and the one rule that turns them into verdicts.

Everything here is pure bookkeeping over results records; nothing trains.

The verdict rule (:func:`paired_verdict`, used for every claim of the book)
--------------------------------------------------------------------------

A claim is a *relative change* of an error metric from a baseline to a
variant, e.g. "CT-C lowers CGCNN's E_f MAE by 14 %".

1. **Comparable runs only.** Baseline and variant must have been trained with
   the same seeds and evaluated on the same test set: for every seed one run
   of each, with the same ``n_test`` and, when the tidy rows carry it, the
   same ``split_hash`` (the hash of the train/val/test indices). Otherwise the
   rule refuses to judge and returns the verdict **not comparable** with the
   reason (it does not raise, so one bad pair does not hide the other claims).
   A side without any finished run gives **missing**, and so do two sides
   that plan the same seeds while some of those runs are not stored yet.
2. **Paired relative change.** Per seed ``s``: ``r_s = (e_var - e_base) /
   e_base`` of the error ``e`` (MAE or RMSE as they are; for R² the
   unexplained variance ``e = 1 - R²``), so lower error is a negative change.
3. **Interval.** Mean of ``r_s`` and its two-sided 95 % Student-t interval
   over the ``n`` seeds, ``mean ± t(0.975, n-1) · sd / sqrt(n)`` (sd with
   ddof = 1). With one seed there is no interval: **inconclusive (1 seed)**.
4. **Verdict.** Six words, for the paper's change ``p`` and our interval
   ``[lo, hi]``; the word follows the interval in size as well as in sign:

   - **reproduced**: the interval excludes 0 on ``p``'s side and contains ``p``;
   - **weaker than claimed**: it excludes 0 on ``p``'s side but lies between 0
     and ``p`` (the effect is real and smaller than the paper's);
   - **stronger than claimed**: it excludes 0 on ``p``'s side and lies beyond ``p``;
   - **not reproduced**: it contains 0 but excludes ``p``: the paper's effect is
     ruled out although the direction is not settled;
   - **contradicted**: it excludes 0 on the other side;
   - **inconclusive**: it contains both 0 and ``p``.

   Where the paper prints no number (a control, a learning-curve trend) only the
   direction is judged: **reproduced** (0 excluded on the expected side),
   **contradicted** (the other side) or **inconclusive** (0 inside).
5. **Effect size.** ``effect_size_differs`` is True when ``p`` lies outside our
   interval (None with one seed, or without a paper number); the six words
   already say so, it stays for the downloads.
6. **Unpaired contrasts.** Two groups that share no run (back ends of different
   sizes: different training draws) are compared with a Welch interval
   (:func:`welch_interval`, :func:`unpaired_verdict`), never paired by seed.
7. **Many claims.** :func:`holm` says which verdicts keep their word when the
   family of claims is corrected for multiplicity (Holm, family-wise 5 %).

The result is a :class:`Verdict`. Two claims are not changes between two of
our runs and have their own functions here: the reverse-prediction R² values
of Table VI (:func:`r2_verdict`, the same rule against the no-information
predictor) and the choice of k = 3 clusters (:func:`k_verdict`, against the
silhouettes of random tables).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Mapping, Sequence

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


@cache
def paper_tables() -> dict:
    """The paper's printed numbers (a copy of shared/paper/paper_tables.json)."""
    return json.loads(resources.files("ctlib").joinpath("paper_tables.json").read_text())


def paper_value(table: str, row: str, column: str) -> float:
    """One number of a paper table, e.g. ``paper_value("table1_models", "CGCNN", "MP-E_f")``."""
    t = paper_tables()[table]
    return float(t["rows"][row][t["columns"].index(column)])


@cache
def published_baselines() -> dict:
    """The original authors' published test MAEs of CGCNN, MEGNet and ALIGNN on Materials
    Project E_f and E_g, with sources (``ctlib/published_baselines.json``)."""
    return json.loads(resources.files("ctlib").joinpath("published_baselines.json").read_text())


def published_value(model: str, target: str) -> float:
    """One published baseline, e.g. ``published_value("cgcnn", "E_f")`` (eV/atom; E_g in eV)."""
    entry = published_baselines()["models"].get(model)
    if entry is None or target not in entry:
        raise KeyError(f"no published {target} number for {model!r}; models: "
                       f"{sorted(published_baselines()['models'])}")
    return float(entry[target])


def seed_stats(values) -> tuple[float, float, int]:
    """(mean, sample std (ddof=1; NaN for n=1), n) of finite values."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return math.nan, math.nan, 0
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else math.nan, len(v)


def sig_decimals(x: float, sig: int = 3) -> int:
    """Decimals that show ``x`` with ``sig`` significant digits (0 for large numbers).

    >>> sig_decimals(0.0834), sig_decimals(0.1), sig_decimals(12.34), sig_decimals(1234.0)
    (4, 3, 1, 0)
    """
    if sig < 1:
        raise ValueError(f"sig must be >= 1, got {sig}")
    if x is None or not np.isfinite(x) or x == 0:
        return sig - 1
    return max(0, sig - 1 - int(math.floor(math.log10(abs(float(x))))))


def fmt_sig(x, sig: int = 3, na: str = "—") -> str:
    """``x`` with ``sig`` significant digits, in fixed notation, trailing zeros kept.

    The one number format of the book's MAEs: ``fmt_sig(0.08342) == "0.0834"``,
    ``fmt_sig(0.1) == "0.100"``, ``fmt_sig(123.4) == "123"``; ``na`` for None/NaN.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return na
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not np.isfinite(v):
        return na
    d = sig_decimals(v, sig)
    out = f"{round(v, d):.{d}f}"
    if float(out) != 0 and sig_decimals(float(out), sig) < d:   # rounding crossed a power of 10
        out = f"{float(out):.{sig_decimals(float(out), sig)}f}"
    return out


def fmt_pm(mean: float, std: float, n: int, digits: int = 3, *, sig: int | None = None) -> str:
    """'0.083 ± 0.004 (n=3)', or '0.083 (n=1)' when there is no spread.

    ``digits`` decimals; with ``sig`` the mean has ``sig`` significant digits
    and the std as many decimals as the mean (``0.0834 ± 0.0040 (n=3)``).
    """
    if n == 0 or not np.isfinite(mean):
        return "—"
    if sig is not None:
        digits = sig_decimals(mean, sig)
    if n == 1 or not np.isfinite(std):
        return f"{mean:.{digits}f} (n={n})"
    return f"{mean:.{digits}f} ± {std:.{digits}f} (n={n})"


def summarize(df: pd.DataFrame, by: list[str], value: str = "mae") -> pd.DataFrame:
    """Mean, std and n of ``value`` over seeds for each group in ``by``."""
    rows = []
    for key, g in df.groupby(by, sort=False):
        m, s, n = seed_stats(g[value])
        rows.append(dict(zip(by, key if isinstance(key, tuple) else (key,)), mean=m, std=s, n=n))
    return pd.DataFrame(rows)


def beside_paper(summary: pd.DataFrame, paper: dict, key_cols: list[str], digits: int = 3) -> pd.DataFrame:
    """Add the paper's value, ours as 'mean ± std (n)', and the difference.

    Args:
        summary: output of :func:`summarize`.
        paper: maps a tuple of ``key_cols`` values to the paper's number (or None).
    """
    out = summary.copy()
    out["paper"] = [paper.get(tuple(r[c] for c in key_cols)) for _, r in out.iterrows()]
    out["ours"] = [fmt_pm(r["mean"], r["std"], int(r["n"]), digits) for _, r in out.iterrows()]
    out["ours - paper"] = [
        (r["mean"] - r["paper"]) if r["paper"] is not None and np.isfinite(r["mean"]) else math.nan
        for _, r in out.iterrows()
    ]
    return out


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
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
    if len(a) < 2 or len(b) < 2:
        return d, math.nan, math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return d, d, d, math.inf
    df = se2 ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
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


# ------------------------------------------------------ claims of their own kind
def r2_verdict(paper_r2: float, values=None, *, mean: float | None = None, std: float | None = None,
               n: int | None = None, level: float = LEVEL) -> Verdict:
    """The rule applied to a reverse-prediction R² of Table VI.

    Table VI states R² values; the claim they carry is that the embedding
    predicts the property, i.e. does better than predicting the mean. In the
    rule's terms the error is the unexplained variance ``1 - R²`` and the
    baseline the no-information predictor (``1 - R² = 1``), so the change of
    repeat ``i`` is ``-R²_i`` and the paper's is ``-paper_r2``. Hence:
    **reproduced** when the 95 % t-interval of our R² over the CV repeats lies
    above 0, **contradicted** when below 0, **inconclusive** when it contains
    0, **inconclusive (1 seed)** with one repeat; ``effect_size_differs`` when
    the paper's R² lies outside our interval. ``Verdict.mean_rel`` and
    ``interval`` are in terms of ``-R²`` (negate and swap for R²).

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
