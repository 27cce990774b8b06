"""Per-epoch curves of the CT pretraining runs and the page's figures.

:func:`validation_curves` turns the runs' histories into a tidy frame (one row
per run, epoch and task: validation MAE, training loss, learning rate);
:func:`plot_validation_curves` draws it, :func:`plot_chemistry` draws the
per-epoch chemistry of :func:`ctlib.analysis.pretraining.chemistry.chemistry_vs_epoch`
(drift, best silhouette, mean reverse-prediction R², reference tables as
horizontal lines) and :func:`plot_learned_part` the final tables beside their
learned parts. The figures take frames and return a matplotlib Figure; they
measure nothing.

Imports: numpy, pandas, :mod:`.runs` and, inside functions, matplotlib and
:mod:`ctlib.experiments` (units).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.analysis.pretraining.runs import ALT, SHORT, SHORT_LABELS, STORED, PretrainingRun, _num

__all__ = ["validation_curves", "plot_validation_curves", "plot_chemistry", "plot_learned_part"]


def validation_curves(runs: Mapping[str, PretrainingRun]) -> pd.DataFrame:
    """Validation MAE per epoch and task, tidy.

    Returns:
        one row per (run, epoch, task): ``kind, label, status, run_id, epoch,
        task`` (``"E_f"``/``"E_g"``), ``target``, ``val_mae`` (eV/atom for
        E_f, eV for E_g), ``val_mae_mean`` (mean over the run's tasks, the
        selection score), ``train_loss`` (normalised MSE), ``lr`` (learning rate
        after the epoch), ``time_s`` (seconds of the epoch). Empty (with
        these columns) when no run has a history.
    """
    cols = ["kind", "label", "status", "run_id", "epoch", "task", "target", "val_mae",
            "val_mae_mean", "train_loss", "lr", "time_s"]
    rows = []
    for r in runs.values():
        for h in r.history:
            vm = h.get("val_mae") or {}
            for t in r.targets:
                v = vm.get(t)
                rows.append({"kind": r.kind, "label": r.label, "status": r.status, "run_id": r.run_id,
                             "epoch": int(h["epoch"]), "task": SHORT.get(t, t), "target": t,
                             "val_mae": math.nan if v is None else float(v),
                             "val_mae_mean": _num(h.get("val_mae_mean")),
                             "train_loss": _num(h.get("train_loss")), "lr": _num(h.get("lr")),
                             "time_s": _num(h.get("time_s"))})
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
_STYLE = {"mt": dict(color="C0", ls="-", marker="o"), "E_f": dict(color="C1", ls="--", marker="s"),
          "E_g": dict(color="C2", ls=":", marker="^"), ALT: dict(color="C3", ls="-.", marker="D")}


def _style(kind: str, label: str, extra: dict) -> dict:
    """The line style of a run: its kind's (:data:`_STYLE`), else one colour per label from C4
    on (the pretraining seeds share a kind), the same in every panel (``extra`` remembers)."""
    if kind in _STYLE:
        return dict(_STYLE[kind])
    return dict(extra.setdefault(label, dict(color=f"C{4 + len(extra)}", ls="-", marker="o")))


def _legend_label(label: str, status: str) -> str:
    return label if status == STORED else f"{label} ({status})"


def plot_validation_curves(curves: pd.DataFrame, *, units: Mapping[str, str] | None = None):
    """Validation MAE vs epoch, one panel per task (E_f, E_g), one line per pretraining,
    and the learning rate vs epoch in a third panel. Runs in progress are drawn with
    hollow markers and labelled so.

    Args:
        curves: :func:`validation_curves` output.
        units: task -> unit (default ``ctlib.experiments.UNITS``).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from ctlib.experiments import UNITS

    units = dict(UNITS if units is None else units)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    extra: dict = {}
    for ax, task in zip(axes[:2], ("E_f", "E_g")):
        sub = curves[curves["task"] == task]
        for (kind, label, status), g in sub.groupby(["kind", "label", "status"], sort=False):
            st = _style(kind, label, extra)
            g = g.sort_values("epoch")
            ax.plot(g["epoch"], g["val_mae"], ms=3.5, label=_legend_label(label, status),
                    mfc="none" if status != STORED else st.get("color"), **st)
        ax.set(xlabel="epoch", ylabel=f"validation MAE ({units.get(task, '')})", title=f"{task}")
        if len(sub):
            _log_if_wide(ax, sub["val_mae"])
            ax.legend(frameon=False, fontsize=8)
        else:
            ax.text(0.5, 0.5, "pending: no epoch stored yet", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
    ax = axes[2]
    lr = curves.drop_duplicates(["kind", "label", "epoch"])  # a multi-task run: one line
    for (kind, label, status), g in lr.groupby(["kind", "label", "status"], sort=False):
        st = _style(kind, label, extra)
        st.pop("marker", None)
        g = g.sort_values("epoch")
        ax.plot(g["epoch"], g["lr"], label=_legend_label(label, status), **st)
    ax.set(xlabel="epoch", ylabel="learning rate (after the epoch)", title="schedule")
    if len(lr):
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    else:
        ax.text(0.5, 0.5, "pending", ha="center", va="center", transform=ax.transAxes, color="grey")
    for a in axes:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def plot_chemistry(chem: pd.DataFrame, *, references: Sequence[str] | None = None):
    """The element table's chemistry vs epoch: drift from epoch 0, best silhouette
    (with the chosen k written at each point) and mean reverse-prediction R², with
    that of the table's learned part dotted; the reference tables as grey
    horizontal lines in the last two panels.

    Args:
        chem: :func:`chemistry_vs_epoch` output.
        references: which reference rows to draw (default: all in ``chem``).

    Returns:
        the matplotlib Figure (one legend below the panels).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    runs = chem[chem["kind"] != "reference"]
    refs = chem[chem["kind"] == "reference"]
    if references is not None:
        refs = refs[refs["label"].isin(list(references))]
    dashes = [(0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (2, 3))]
    shades = ["0.25", "0.45", "0.6", "0.75"]
    panels = (("drift", "relative drift ‖T_e − T_0‖ / ‖T_0‖", "(A) distance from the untrained table"),
              ("silhouette", "best mean silhouette over k", "(B) cluster structure (k at each point)"),
              ("r2_mean", "mean R² over 5 properties", "(C) reverse prediction"))
    for ax, (col, ylabel, title) in zip(axes, panels):
        for (kind, label, status), g in runs.groupby(["kind", "label", "status"], sort=False):
            g = g.sort_values("epoch")
            st = dict(_STYLE.get(kind, {}))
            ax.plot(g["epoch"], g[col], ms=4, label=_legend_label(label, status),
                    mfc="none" if status != STORED else st.get("color"), **st)
            if col == "r2_mean" and "r2_mean_learned" in g and g["r2_mean_learned"].notna().any():
                gl = g[g["r2_mean_learned"].notna()]
                ax.plot(gl["epoch"], gl["r2_mean_learned"], color=st.get("color"), lw=1.0, ls=":",
                        marker=st.get("marker"), ms=3, mfc="none", alpha=0.8)
            if col == "silhouette":
                for e, v, k in zip(g["epoch"], g[col], g["k_best"]):
                    ax.annotate(str(int(k)), (e, v), textcoords="offset points", xytext=(0, 4),
                                fontsize=6.5, ha="center", color=st.get("color", "k"))
        if col != "drift":
            for i, r in enumerate(refs.itertuples()):
                ax.axhline(getattr(r, col), color=shades[i % len(shades)], lw=1.0,
                           ls=dashes[i % len(dashes)], label=f"{r.label} (reference)")
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not len(runs):
            ax.text(0.5, 0.5, "pending: no table stored yet", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
    handles, labels = axes[2].get_legend_handles_labels()
    if "r2_mean_learned" in runs and runs["r2_mean_learned"].notna().any():
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="0.3", lw=1.0, ls=":", marker="o", ms=3, mfc="none"))
        labels.append("dotted, panel C: the table's learned part (minus epoch 0)")
    if handles:
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   ncol=min(4, len(handles)), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _log_if_wide(ax, values) -> None:
    """Log y scale with plain tick labels when the values span more than a factor of 3."""
    from matplotlib.ticker import FuncFormatter

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) and v.max() / v.min() > 3:
        ax.set_yscale("log")
        fmt = FuncFormatter(lambda x, _pos: f"{x:g}")
        ax.yaxis.set_major_formatter(fmt)
        ax.yaxis.set_minor_formatter(fmt)


def plot_learned_part(lp: pd.DataFrame):
    """Mean reverse-prediction R² of each table as stored, its learned part and the
    references: bars = mean over the properties, dots = each property.

    Args:
        lp: :func:`learned_part_chemistry` output.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.62 * len(lp) + 1.5), 3.8))
    r2_cols = [c for c in lp.columns if c.startswith("r2_") and c != "r2_mean"]
    colours = {"as stored": "#dd8452", "learned part": "#c44e52"}
    x = np.arange(len(lp))
    ax.bar(x, lp["r2_mean"], color=[colours.get(t, "#9a9a9a") for t in lp["table"]],
           edgecolor="black", linewidth=0.5, zorder=2)
    for i, row in enumerate(lp.itertuples()):
        vals = [getattr(row, c) for c in r2_cols]
        ax.scatter(np.full(len(vals), i) + np.linspace(-0.2, 0.2, len(vals)), vals, s=10, color="black",
                   zorder=3, linewidths=0)
    names = [t if k == "reference" else f"{SHORT_LABELS.get(k, k)}, {t}"
             for k, t in zip(lp["kind"], lp["table"])]
    ax.set_xticks(x, names, rotation=40, ha="right")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_ylabel("R² (bar: mean over properties)")
    ax.set_title("Reverse prediction: the table as stored, its learned part, and the references",
                 fontsize=10)
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig
