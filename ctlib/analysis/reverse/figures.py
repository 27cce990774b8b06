"""The figures of page 08: R² per property and table (bars) and Figure 6 (SHAP beeswarms).

Imports: numpy, pandas, matplotlib, ``shap``, :mod:`.data` and
:mod:`ctlib.elements` (the property units); each function returns its Figure
and neither saves nor shows it.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.reverse.data import PROPERTIES, feature_names

__all__ = ["plot_shap_beeswarm", "plot_shap_panel", "plot_r2_bars"]


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
    # shap jitters the dots with numpy's global generator: a fixed draw makes the figure (and
    # the built book) the same on every build; the caller's generator state is restored
    state = np.random.get_state()
    np.random.seed(0)
    try:
        shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False, plot_size=None)
    finally:
        np.random.set_state(state)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_shap_panel(shap: Mapping[str, dict], prop: str, letter: str, *, max_display: int = 15):
    """One panel of Figure 6: the SHAP beeswarm of ``prop``, titled ``"(A) Melting Temperature [K]"``.

    Args:
        shap: :func:`~ctlib.analysis.reverse.importance.shap_by_property` output
            (``shap[prop]["shap"]`` and ``shap[prop]["X"]``, both ``(n, d)``).
        prop: a key of ``shap`` (a column of :data:`PROPERTIES`).
        letter: the panel's letter.
        max_display: dimensions shown (the most important first).

    Returns:
        the matplotlib Figure (:func:`plot_shap_beeswarm`; features ``dim 0 .. dim d-1``).
    """
    from ctlib.elements import PROPERTY_UNITS

    d = shap[prop]
    return plot_shap_beeswarm(d["shap"], d["X"], names=feature_names(np.asarray(d["X"]).shape[1]),
                              max_display=max_display,
                              title=f"({letter}) {PROPERTIES.get(prop, prop)} [{PROPERTY_UNITS[prop]}]")


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
