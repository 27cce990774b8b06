"""Periodic-table layout and the two drawing modes (numeric and categorical)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from ctlib.analysis import periodic_table as pt  # noqa: E402


@pytest.mark.parametrize("symbol, pos", [
    ("H", (1, 1)), ("He", (1, 18)), ("Li", (2, 1)), ("B", (2, 13)), ("Ne", (2, 18)),
    ("Al", (3, 13)), ("K", (4, 1)), ("Fe", (4, 8)), ("Zn", (4, 12)), ("Kr", (4, 18)),
    ("Ag", (5, 11)), ("Cs", (6, 1)), ("Ba", (6, 2)), ("Hf", (6, 4)), ("Pt", (6, 10)),
    ("Rn", (6, 18)), ("Fr", (7, 1)), ("Ra", (7, 2)),
    ("La", (pt.LANTHANIDE_ROW, 3)), ("Gd", (pt.LANTHANIDE_ROW, 10)), ("Lu", (pt.LANTHANIDE_ROW, 17)),
    ("Ac", (pt.ACTINIDE_ROW, 3)), ("U", (pt.ACTINIDE_ROW, 6)), ("Lr", (pt.ACTINIDE_ROW, 17)),
])
def test_table_position(symbol, pos):
    assert pt.table_position(symbol) == pos


def test_positions_are_unique_and_in_range():
    pos = [pt.table_position(s) for s in pt._SYMBOLS]
    assert len(set(pos)) == len(pos) == pt.MAX_Z
    assert all(1 <= c <= 18 for _, c in pos)
    assert {r for r, _ in pos} == {1, 2, 3, 4, 5, 6, 7, pt.LANTHANIDE_ROW, pt.ACTINIDE_ROW}


def test_symbols_agree_with_element_vocabulary():
    elements = pytest.importorskip("ctlib.elements")
    n = len(elements.SYMBOLS)
    assert list(elements.SYMBOLS) == pt._SYMBOLS[:n]


def test_unknown_symbol_raises():
    with pytest.raises(ValueError, match="Xx"):
        pt.table_position("Xx")
    with pytest.raises(ValueError, match="unknown element"):
        pt.plot_periodic_table({"Fe": 1.0, "fe": 2.0})


def _cells(fig):
    return {p.get_gid(): p for p in fig.axes[0].patches if p.get_gid()}


def test_numeric_mode_colours_present_and_greys_missing():
    values = {"Fe": 10, "O": 1000, "H": 1}
    fig = pt.plot_periodic_table(values, log=True, missing_color="lightgrey", label_values=True)
    cells = _cells(fig)
    assert len(cells) == pt.MAX_Z
    grey = to_rgba("lightgrey")
    assert cells["Na"].get_facecolor() == grey
    assert all(cells[s].get_facecolor() != grey for s in values)
    # the scale is monotone: the smallest and the largest value get different colours
    assert cells["H"].get_facecolor() != cells["O"].get_facecolor()
    assert len(fig.axes[0].child_axes) == 1   # the colour bar, inset in the table
    plt.close(fig)


def test_numeric_mode_nan_counts_as_missing():
    fig = pt.plot_periodic_table({"Fe": np.nan, "O": 2.0, "N": 3.0})
    assert _cells(fig)["Fe"].get_facecolor() == to_rgba("lightgrey")
    plt.close(fig)


def test_log_rejects_non_positive():
    with pytest.raises(ValueError, match="Fe"):
        pt.plot_periodic_table({"Fe": 0, "O": 3}, log=True)


def test_numeric_mode_rejects_strings():
    with pytest.raises(ValueError, match="categorical"):
        pt.plot_periodic_table({"Fe": "a"})


def test_categorical_mode_one_colour_per_label_and_legend():
    values = {"Fe": "metal", "Co": "metal", "O": "anion", "S": "anion", "Na": "alkali"}
    fig = pt.plot_periodic_table(values, categorical=True, legend_title="kind")
    cells = _cells(fig)
    assert cells["Fe"].get_facecolor() == cells["Co"].get_facecolor()
    assert cells["O"].get_facecolor() == cells["S"].get_facecolor()
    assert len({cells[s].get_facecolor() for s in ("Fe", "O", "Na")}) == 3
    assert cells["Cl"].get_facecolor() == to_rgba("lightgrey")
    legend = fig.axes[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert set(texts) == {"alkali", "anion", "metal", "no value"}
    plt.close(fig)


def test_draws_into_given_axes():
    fig, ax = plt.subplots()
    out = pt.plot_periodic_table({"Fe": 1, "Ni": 2}, ax=ax, categorical=True, title="t")
    assert out is fig and ax.get_title() == "t"
    plt.close(fig)
