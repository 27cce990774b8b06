"""The numbers beside ours: the paper's printed values (``ctlib/paper_tables.json``), the
original authors' published baselines (``ctlib/published_baselines.json``), the seed
statistics and the book's one number format."""
from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd


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


def others_contain_zero(k: int) -> str:
    """The tail of a sentence that counts verdicts: ``""`` for 0, ``"; the other interval
    contains 0"`` for 1, ``"; the other 3 intervals contain 0"`` for 3."""
    return "" if k <= 0 else "; the other interval contains 0" if k == 1 else f"; the other {k} intervals contain 0"
