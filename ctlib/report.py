"""Our numbers beside the paper's: seed statistics, differences and verdicts.

Everything here is pure bookkeeping over results records; nothing trains.

Verdict rule (used for every claim in the book):

* the claim is a *relative change* of a variant against its baseline, e.g.
  "CT-C lowers CGCNN's E_f MAE by 14%";
* with at least 2 seeds on both sides, the difference of means is compared
  with twice its standard error ``2 * sqrt(s_a^2/n_a + s_b^2/n_b)``:
  beyond it in the paper's direction -> **reproduced**; beyond it in the
  opposite direction -> **not reproduced**; inside it -> **inconclusive**;
* with a single seed there is no spread to judge against, so the verdict is
  **inconclusive (1 seed)**, and the direction we saw is still reported.
"""
from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable offline"


@cache
def paper_tables() -> dict:
    """The paper's printed numbers (a copy of shared/paper/paper_tables.json)."""
    return json.loads(resources.files("ctlib").joinpath("paper_tables.json").read_text())


def paper_value(table: str, row: str, column: str) -> float:
    """One number of a paper table, e.g. ``paper_value("table1_models", "CGCNN", "MP-E_f")``."""
    t = paper_tables()[table]
    return float(t["rows"][row][t["columns"].index(column)])


def seed_stats(values) -> tuple[float, float, int]:
    """(mean, sample std (ddof=1; NaN for n=1), n) of finite values."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return math.nan, math.nan, 0
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else math.nan, len(v)


def fmt_pm(mean: float, std: float, n: int, digits: int = 3) -> str:
    """'0.083 ± 0.004 (n=3)', or '0.083 (n=1)' when there is no spread."""
    if n == 0 or not np.isfinite(mean):
        return "—"
    if n == 1 or not np.isfinite(std):
        return f"{mean:.{digits}f} (n={n})"
    return f"{mean:.{digits}f} ± {std:.{digits}f} (n={n})"


def verdict(baseline, variant, paper_direction: str = "lower") -> dict:
    """Judge a claimed change of ``variant`` against ``baseline``.

    Args:
        baseline, variant: per-seed metric values (e.g. test MAE, lower is better).
        paper_direction: ``"lower"`` if the paper says the variant's metric is
            lower than the baseline's, ``"higher"`` if higher.

    Returns:
        dict with ``verdict``, ``delta`` (variant - baseline), ``rel`` (delta /
        baseline mean), ``threshold`` (2 standard errors or NaN) and ``n``.
    """
    if paper_direction not in ("lower", "higher"):
        raise ValueError("paper_direction must be 'lower' or 'higher'")
    mb, sb, nb = seed_stats(baseline)
    mv, sv, nv = seed_stats(variant)
    out = {"baseline": mb, "variant": mv, "n_baseline": nb, "n_variant": nv,
           "delta": math.nan, "rel": math.nan, "threshold": math.nan}
    if nb == 0 or nv == 0:
        out["verdict"] = "missing"
        return out
    delta = mv - mb
    out["delta"], out["rel"] = delta, delta / mb if mb else math.nan
    sign = -1.0 if paper_direction == "lower" else 1.0
    if nb < 2 or nv < 2:
        seen = "same direction as paper" if sign * delta > 0 else "opposite direction to paper"
        out["verdict"] = f"{INCONCLUSIVE} (1 seed; {seen})"
        return out
    thr = 2.0 * math.sqrt(sb**2 / nb + sv**2 / nv)
    out["threshold"] = thr
    if sign * delta > thr:
        out["verdict"] = REPRODUCED
    elif -sign * delta > thr:
        out["verdict"] = NOT_REPRODUCED
    else:
        out["verdict"] = f"{INCONCLUSIVE} (within seed spread)"
    return out


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
