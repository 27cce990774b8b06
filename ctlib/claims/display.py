"""How verdicts are shown: the words (pending, not run here), their colours, the styled
table and the scorecard figure of the landing page."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib import report


#: How a verdict is shown: ``missing`` (no stored run yet) reads "pending".
PENDING = "pending"


#: How a claim that the profile does not run is shown.
NOT_RUN = "not run on this profile"


def verdict_label(verdict: str, run_here: bool | None = True) -> str:
    """The verdict as pages show it: ``missing`` -> ``pending`` (its runs are not stored yet),
    or ``not run on this profile`` when ``run_here`` is False (see :func:`judge`)."""
    if verdict == report.MISSING:
        return NOT_RUN if run_here is False else PENDING
    return str(verdict)


def shown_verdict(row) -> str:
    """:func:`verdict_label` of a row of :func:`judge` (a dict or a pandas row)."""
    run_here = row.get("run_here", True)
    return verdict_label(row.get("verdict", ""), None if pd.isna(run_here) else bool(run_here))


_COLOURS = {report.REPRODUCED: "#d8f0d8", report.WEAKER: "#e8f2c8", report.STRONGER: "#cfe8e0",
            report.NOT_REPRODUCED: "#f6e0c8", report.CONTRADICTED: "#f6d5d5", report.NOT_COMPARABLE: "#e4e4e4",
            report.MISSING: "#e4e4e4", PENDING: "#e4e4e4", NOT_RUN: "#f4f4f4"}
#: Strong colours of the verdicts in figures (the scorecard): the six words from agreement
#: (green) through a different size (olive, teal) and a ruled-out effect (orange-red) to
#: the opposite sign (red); amber where the interval cannot tell.
VERDICT_COLOURS = {report.REPRODUCED: "#2e7d32", report.WEAKER: "#7c9a1e", report.STRONGER: "#00796b",
                   report.NOT_REPRODUCED: "#d84315", report.CONTRADICTED: "#b71c1c",
                   report.INCONCLUSIVE: "#e69f00", report.ONE_SEED: "#b8860b",
                   report.NOT_COMPARABLE: "#616161", report.MISSING: "#9e9e9e", NOT_RUN: "#c8c8c8"}


def styled(verdicts: pd.DataFrame):
    """A verdict table for display: relative changes in percent, verdicts coloured,
    ``missing`` shown as ``pending``."""
    def colour(v):
        return f"background-color: {_COLOURS.get(v, '#f3f0d8')}"

    show = verdicts.drop(columns=[c for c in ("id", "run_here", "holm", "p_value", "p_value_paper",
                                              "seeds", "changes") if c in verdicts])
    if "verdict" in show:
        show = show.assign(verdict=[shown_verdict(r) for r in verdicts.to_dict("records")])
    fmt = {c: "{:+.1%}" for c in ("rel_mean", "rel_lo", "rel_hi", "paper_rel") if c in show}
    return show.style.format(fmt, na_rep="—").map(colour, subset=["verdict"]).hide(axis="index")


# ------------------------------------------------------------------ the scorecard
def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _row_label(table: str, claim: str, width: int = 72) -> str:
    """``table · claim`` in at most ``width`` characters. A claim's qualifier after its first
    comma goes first, since the table's own label says it (``III (whole split)``): the end
    of the claim proper, e.g. its target, must stay readable."""
    label = f"{table} · {claim}"
    if len(label) > width and ", " in claim:
        label = f"{table} · {claim.split(', ')[0]}"
    return _short(label, width)


def scorecard_figure(verdicts: pd.DataFrame, interp: pd.DataFrame | None = None, *, title: str | None = None):
    """Every claim in one figure: the paper's relative change, ours with its 95 % interval, the verdict.

    Args:
        verdicts: :func:`judge` (``claim``, ``table``, ``verdict``, ``rel_mean``,
            ``rel_lo``, ``rel_hi``, ``paper_rel``).
        interp: optional :func:`judge_interpretability` rows (``claim``, ``ours``,
            ``verdict``): listed below, with their verdict, without an axis value
            (their numbers are R² and silhouettes, not relative changes).
        title: figure title.

    One row per claim; x is the relative change of the test MAE (variant vs
    baseline; negative = the variant is better). Black open diamond: the
    paper's change. Dot and bar: our mean paired change over seeds and its 95 %
    t-interval (no bar with one seed), coloured by the verdict; a triangle at the
    edge marks a value beyond the axis. Claims without stored runs read "pending".
    Where the word differs once every judged verdict (the interpretability rows'
    ``holm`` included) is corrected together with Holm's method
    (:func:`ctlib.report.holm_words`, as the claims page's Holm line), the label adds
    it: "not reproduced (Holm: inconclusive)".

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    v = verdicts.reset_index(drop=True)
    extra = interp.reset_index(drop=True) if interp is not None and len(interp) else pd.DataFrame()
    n, m = len(v), len(extra)
    if n + m == 0:
        raise ValueError("no claim to draw")
    holm = report.holm_words(report.holm_family(v, extra))

    def label(verdict: str, k: int) -> str:
        word = holm[k]
        return verdict_label(verdict) + (f" (Holm: {word})" if word is not None and word != verdict else "")

    num = pd.concat([v[c] for c in ("rel_mean", "rel_lo", "rel_hi", "paper_rel") if c in v]).astype(float)
    num = num[np.isfinite(num)]
    lo = max(-1.0, min([-0.3, *(num.tolist())]) - 0.05)
    hi = min(1.5, max([0.3, *(num.tolist())]) + 0.05)
    gap = 0.8 if m else 0.0
    wide = any(w is not None for w in holm)          # room for "(Holm: ...)" after the words
    fig, ax = plt.subplots(figsize=(12 if wide else 10, 0.3 * (n + m) + 0.6 * bool(m) + 1.4))
    ax.axvline(0, color="black", lw=0.8)
    ys, labels = [], []
    present = []
    for i, r in v.iterrows():
        y = -float(i)
        ys.append(y)
        labels.append(_row_label(r["table"], r["claim"]))
        verdict = r["verdict"] if shown_verdict(r) != NOT_RUN else NOT_RUN
        present.append(verdict)
        col = VERDICT_COLOURS.get(verdict, "#9e9e9e")
        p = float(r["paper_rel"]) if r.get("paper_rel") is not None else math.nan
        if np.isfinite(p):
            ax.plot([min(max(p, lo), hi)], [y], marker="D", ms=6, mfc="none", mec="black", ls="none",
                    zorder=5)   # above a pending row's note, whose white box would hide it
        x = float(r["rel_mean"]) if r.get("rel_mean") is not None else math.nan
        if np.isfinite(x):
            a, b = float(r.get("rel_lo", math.nan)), float(r.get("rel_hi", math.nan))
            if np.isfinite(a) and np.isfinite(b):
                ax.plot([max(a, lo), min(b, hi)], [y, y], color=col, lw=2.2, solid_capstyle="butt", zorder=2)
            if x > hi or x < lo:
                ax.plot([hi if x > hi else lo], [y], marker=">" if x > hi else "<", color=col, ms=7, ls="none")
                ax.annotate(f"{x:+.0%}", (hi if x > hi else lo, y), xytext=(-4 if x > hi else 4, 5),
                            textcoords="offset points", ha="right" if x > hi else "left", fontsize=7,
                            color=col)
            else:
                ax.plot([x], [y], marker="o", color=col, ms=6, ls="none", zorder=4)
        else:
            ax.text(lo + 0.01 * (hi - lo), y, verdict_label(verdict) + (" (no stored run)" if verdict ==
                    report.MISSING else " (not comparable)" if verdict == report.NOT_COMPARABLE else ""),
                    va="center", fontsize=7.5, style="italic", color="#616161",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        ax.text(1.01, y, label(verdict, i), transform=ax.get_yaxis_transform(), va="center",
                fontsize=8, color=col, fontweight="bold")
    for j, r in extra.iterrows():
        y = -float(n + j) - gap
        ys.append(y)
        labels.append(_short(f"07/08 · {r['claim']}"))
        verdict = r["verdict"]
        present.append(verdict)
        col = VERDICT_COLOURS.get(verdict, "#9e9e9e")
        ours = PENDING if verdict == report.MISSING else str(r.get("ours", "—"))
        if str(r.get("paper", "")).startswith("R²") and verdict != report.MISSING and not ours.startswith("—"):
            ours = "R² " + ours.replace(", 95% interval ", " ")   # keeps the row inside the axes
        ax.text(lo + 0.01 * (hi - lo), y, _short(f"ours: {ours}; paper: {r.get('paper', '—')}", 70),
                va="center", fontsize=7.5, color="#424242",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
        ax.text(1.01, y, label(verdict, n + j), transform=ax.get_yaxis_transform(), va="center",
                fontsize=8, color=col, fontweight="bold")
    if m:
        ax.axhline(-(n - 0.5) - gap / 2, color="grey", lw=0.6, ls=":")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_ylim(min(ys) - 0.7, 0.7)
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("relative change of the test MAE, variant vs baseline (negative: the variant is better)")
    ax.grid(axis="y", visible=False)
    handles = [Line2D([], [], marker="D", mfc="none", mec="black", ls="none", label="paper"),
               Line2D([], [], marker="o", color="#555555", lw=2.2, label="ours: mean, 95% interval")]
    for verdict in VERDICT_COLOURS:
        if verdict in present:
            handles.append(Patch(color=VERDICT_COLOURS[verdict], label=verdict_label(verdict)))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(handles)),
              fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, y=1.0)
    fig.tight_layout()
    return fig


#: File stem of the scorecard figure that notebook 10 saves and book/intro.md shows.
SCORECARD = "scorecard"


def write_placeholder_scorecard(out_dir, *, reason: str | None = None) -> Path | None:
    """Write ``<out_dir>/figures/scorecard.png`` (+ .pdf) saying the scorecard is pending,
    unless the real one is there. Returns the path written, or None when it existed.

    For the book build: ``book/intro.md`` shows this image, so it must exist even
    when notebook 10 did not run.
    """
    import matplotlib

    from ctlib.plotting import savefig

    png = Path(out_dir) / "figures" / f"{SCORECARD}.png"
    if png.is_file():
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 1.2))
    fig.text(0.5, 0.5, reason or "Scorecard pending: notebook 10_claims has not run in this build.",
             ha="center", va="center", fontsize=12, color="#616161",
             family=matplotlib.rcParams["font.family"])
    return savefig(fig, SCORECARD, out_dir)
