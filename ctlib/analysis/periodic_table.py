"""Values per element drawn on the periodic table (element frequencies, clusters, ...).

Layout: the standard 18-column table for periods 1-7, and the two f-block rows
(lanthanides La-Lu, actinides Ac-Lr) drawn below it after a gap::

    row 1   H                                                   He
    row 2   Li Be                                B  C  N  O  F  Ne
    ...
    row 6   Cs Ba  *  Hf Ta ...                                 Rn
    row 7   Fr Ra  ** Rf ...
    row 8   (gap)
    row 9         *  La Ce Pr ... Lu          (LANTHANIDE_ROW, columns 3-17)
    row 10        ** Ac Th Pa U ... Lr        (ACTINIDE_ROW, columns 3-17)

La and Ac are placed at the start of the f-block rows; group 3 of periods 6
and 7 holds the ``*`` / ``**`` markers.  Elements Z = 1..103 are drawn.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

#: Highest atomic number drawn (Lr).
MAX_Z = 103
#: Display row of the lanthanides (La-Lu) and actinides (Ac-Lr).
LANTHANIDE_ROW = 9
ACTINIDE_ROW = 10

# Z=1..103, in order (the drawing needs symbols beyond ctlib.elements' vocabulary
# only for Fm-Lr, which no dataset here contains).
_SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn "
    "Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce "
    "Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn "
    "Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr"
).split()
_Z = {s: i + 1 for i, s in enumerate(_SYMBOLS)}


def table_position(symbol: str) -> tuple[int, int]:
    """Display (row, column) of an element, both 1-based.

    Rows 1-7 are periods with column = IUPAC group (1-18); lanthanides and
    actinides sit in rows :data:`LANTHANIDE_ROW` / :data:`ACTINIDE_ROW`, columns
    3 (La, Ac) to 17 (Lu, Lr).

    Raises:
        ValueError: for a symbol that is not an element with Z <= 103.
    """
    z = _Z.get(symbol)
    if z is None:
        raise ValueError(f"{symbol!r} is not an element symbol this table draws "
                         f"(H..Lr, case-sensitive, e.g. 'Fe')")
    if z <= 2:
        return 1, 1 if z == 1 else 18
    starts = (3, 11, 19, 37, 55, 87)            # first Z of periods 2..7
    period = 1 + sum(z >= s for s in starts)
    k = z - starts[period - 2]                  # 0-based offset within the period
    if period in (2, 3):
        return period, (k + 1 if k < 2 else k + 11)
    if period in (4, 5):
        return period, k + 1
    # periods 6 and 7: 2 s-block, 15 f-block (La..Lu / Ac..Lr), then groups 4..18
    if k < 2:
        return period, k + 1
    if k < 17:
        return (LANTHANIDE_ROW if period == 6 else ACTINIDE_ROW), k + 1
    return period, k - 13


def _text_colour(rgba) -> str:
    """Black on light cells, white on dark ones (relative luminance)."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if abs(v) < 10_000 else f"{v / 1000:.0f}k"
    v = float(v)
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-2):
        return f"{v:.0e}"
    return f"{v:.3g}"


def plot_periodic_table(values: Mapping[str, float | int | str], *, ax=None, cmap=None,
                        log: bool = False, categorical: bool = False, title: str | None = None,
                        missing_color="lightgrey", label_values: bool = False,
                        vmin: float | None = None, vmax: float | None = None,
                        colorbar_label: str | None = None, legend_title: str | None = None):
    """Draw one value per element on the periodic table.

    Args:
        values: element symbol -> value. Numbers give a colour scale (NaN counts as
            missing); with ``categorical=True`` any hashable labels (str or int, e.g.
            cluster ids) get one colour each and a legend.
        ax: axes to draw into; a new 12 x 6.5 in figure is made when None.
        cmap: matplotlib colormap or name (default ``"viridis"`` for numbers,
            ``"tab10"``/``"tab20"`` for categories).
        log: logarithmic colour scale (numeric mode; all values must be > 0).
        categorical: treat values as category labels.
        title: axes title.
        missing_color: face colour of elements absent from ``values``.
        label_values: print each value under its symbol (numeric mode).
        vmin, vmax: colour-scale limits (default: the data's range).
        colorbar_label: label of the colour bar (numeric mode).
        legend_title: title of the legend (categorical mode).

    Returns:
        The matplotlib Figure. Each element's cell is a ``Rectangle`` patch whose
        ``gid`` is the element symbol.

    Raises:
        ValueError: for an unknown symbol, a non-numeric value in numeric mode, or a
            value <= 0 with ``log=True``.
    """
    import matplotlib.pyplot as plt
    from matplotlib import colors as mcolors
    from matplotlib.patches import Patch, Rectangle

    unknown = [s for s in values if s not in _Z]
    if unknown:
        raise ValueError(f"unknown element symbol(s) {unknown[:10]} in values; "
                         "keys must be symbols like 'Fe' (H..Lr)")

    if categorical:
        labels = list(dict.fromkeys(values.values()))        # first-seen order
        try:
            labels = sorted(labels)
        except TypeError:
            pass
        name = cmap or ("tab10" if len(labels) <= 10 else "tab20")
        cm = plt.get_cmap(name) if isinstance(name, str) else name
        n_cm = getattr(cm, "N", 256)
        if isinstance(cm, mcolors.ListedColormap) and len(labels) > n_cm:
            raise ValueError(f"{len(labels)} categories but colormap {getattr(cm, 'name', cm)!r} "
                             f"has only {n_cm} colours; pass a larger cmap")
        if isinstance(cm, mcolors.ListedColormap):
            palette = {lab: cm(i) for i, lab in enumerate(labels)}
        else:
            palette = {lab: cm(i / max(len(labels) - 1, 1)) for i, lab in enumerate(labels)}
        face = {s: palette[v] for s, v in values.items()}
        norm = None
    else:
        nums = {}
        for s, v in values.items():
            if isinstance(v, (str, bytes)):
                raise ValueError(f"value for {s} is {v!r}, not a number; "
                                 "use categorical=True for labels")
            nums[s] = float(v)
        finite = {s: v for s, v in nums.items() if math.isfinite(v)}
        if log:
            bad = [s for s, v in finite.items() if v <= 0]
            if bad:
                raise ValueError(f"log=True needs values > 0, but {bad[:10]} are <= 0; "
                                 "drop those elements or use log=False")
        data = np.array(list(finite.values())) if finite else np.array([1.0])
        lo = vmin if vmin is not None else float(data.min())
        hi = vmax if vmax is not None else float(data.max())
        if hi <= lo:
            hi = lo + (abs(lo) * 0.1 or 1.0)
        norm = mcolors.LogNorm(lo, hi) if log else mcolors.Normalize(lo, hi)
        cm = plt.get_cmap(cmap or "viridis") if not hasattr(cmap, "N") else cmap
        face = {s: cm(norm(v)) for s, v in finite.items()}

    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 6.5))
    else:
        fig = ax.figure

    cell = 0.94   # cell size; the rest is the gap between cells
    for sym in _SYMBOLS:
        row, col = table_position(sym)
        colour = face.get(sym, missing_color)
        ax.add_patch(Rectangle((col - cell / 2, row - cell / 2), cell, cell, facecolor=colour,
                               edgecolor="white", linewidth=0.8, gid=sym))
        tc = "black" if sym not in face else _text_colour(mcolors.to_rgba(colour))
        show_value = label_values and not categorical and sym in face
        ax.text(col, row - (0.12 if show_value else 0.0), sym, ha="center", va="center",
                fontsize=9, color=tc, fontweight="bold")
        if show_value:
            ax.text(col, row + 0.27, _fmt(values[sym]), ha="center", va="center",
                    fontsize=5.5, color=tc)
    for row, frow, mark in ((6, LANTHANIDE_ROW, "*"), (7, ACTINIDE_ROW, "**")):
        ax.text(3, row, mark, ha="center", va="center", fontsize=10, color="dimgrey")
        ax.text(2.2, frow, mark, ha="center", va="center", fontsize=10, color="dimgrey")

    ax.set_xlim(0.4, 18.6)
    ax.set_ylim(ACTINIDE_ROW + 0.6, 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)

    if categorical:
        handles = [Patch(facecolor=palette[lab], edgecolor="none", label=str(lab)) for lab in labels]
        if len(face) < len(_SYMBOLS):
            handles.append(Patch(facecolor=missing_color, edgecolor="none", label="no value"))
        ax.legend(handles=handles, title=legend_title, loc="upper center",
                  bbox_to_anchor=(0.42, 1.0), ncol=min(len(handles), 6), frameon=False,
                  fontsize=8)
    else:
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cm)
        cax = ax.inset_axes([0.17, 0.80, 0.45, 0.035])
        cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
        cb.ax.tick_params(labelsize=8)
        if colorbar_label:
            cb.set_label(colorbar_label, fontsize=9)
    return fig
