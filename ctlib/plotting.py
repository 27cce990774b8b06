"""One matplotlib style for every figure of the book, and one way to save them.

Notebooks call :func:`set_style` once, draw with matplotlib/seaborn, and hand each
finished figure to :func:`savefig`, which writes a PNG (for the web page) and a
PDF (vector, for print) side by side::

    from ctlib.plotting import set_style, savefig
    set_style()
    fig, ax = plt.subplots()
    ...
    savefig(fig, "01_data_targets", out_dir)   # -> out_dir/figures/01_data_targets.png (+ .pdf)
"""
from __future__ import annotations

import re
from pathlib import Path

#: Resolution of saved PNG files (dots per inch).
PNG_DPI = 200

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def set_style(*, font_scale: float = 1.0, dpi: int = 110) -> None:
    """Apply the book's plotting style to matplotlib (and seaborn) globally.

    White background with a light grid, readable font sizes, no top/right spines,
    a colour-blind friendly default palette, and figures sized for a book column.

    Args:
        font_scale: multiply every font size by this factor (default 1.0 ≈ 11 pt text).
        dpi: on-screen resolution of figures shown inline in notebooks; saved PNGs
            always use :data:`PNG_DPI`.
    """
    import matplotlib as mpl
    import seaborn as sns

    if font_scale <= 0:
        raise ValueError(f"font_scale must be positive, got {font_scale}")
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind",
                  font_scale=font_scale)
    base = 11 * font_scale
    mpl.rcParams.update({
        "figure.dpi": dpi,
        "figure.figsize": (6.4, 4.0),
        "figure.constrained_layout.use": False,
        "savefig.bbox": "tight",
        "font.size": base,
        "axes.titlesize": base * 1.1,
        "axes.labelsize": base,
        "xtick.labelsize": base * 0.9,
        "ytick.labelsize": base * 0.9,
        "legend.fontsize": base * 0.9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "pdf.fonttype": 42,   # embed TrueType, text stays editable in the PDF
        "ps.fonttype": 42,
    })


def savefig(fig, name: str, out_dir: str | Path, *, pdf: bool = True) -> Path:
    """Save ``fig`` as ``out_dir/figures/<name>.png`` (200 dpi) and, by default, ``.pdf``.

    Args:
        fig: a matplotlib Figure.
        name: file stem: letters, digits, ``_``, ``-`` and ``.``, no extension, no
            path separators (e.g. ``"01_data_elements"``).
        out_dir: the notebook's output folder; the ``figures`` subfolder is created.
        pdf: also write a vector PDF next to the PNG.

    Returns:
        Path of the PNG file.

    Raises:
        ValueError: for a name with a path separator, an extension, or odd characters.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"savefig expects a matplotlib Figure, got {type(fig).__name__}")
    if not _NAME_RE.match(name) or name.lower().endswith((".png", ".pdf")):
        raise ValueError(f"figure name {name!r} must be a plain file stem (letters, digits, _ - .), "
                         "without folder or extension, e.g. '01_data_elements'")
    folder = Path(out_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{name}.png"
    fig.savefig(png, dpi=PNG_DPI, bbox_inches="tight")
    if pdf:
        fig.savefig(folder / f"{name}.pdf", bbox_inches="tight")
    return png
