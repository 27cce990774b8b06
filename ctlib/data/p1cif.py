"""A fast reader for the P1 CIFs that pymatgen writes, with pymatgen's exact result.

Both MP-2018 (51,222 records) and the Castelli perovskites (18,928) store their
structures as CIF text written by pymatgen's ``CifWriter``: space group P 1, one
symmetry operation ``'x, y, z'``, one fully occupied element per site. pymatgen's
general ``CifParser`` spends about 20 ms on such a file (on a 2 GHz Xeon), almost
all of it on machinery a P1 file does not need; parsing both sets took about 12
minutes on two cores. :func:`read_p1` reads that one shape of file in well under
a millisecond and repeats, step by step, what ``Structure.from_str(text, "cif")``
does with it:

1. the lattice: ``Lattice.from_parameters(a, b, c, alpha, beta, gamma)``;
2. fractional coordinates within 1e-4 (relative) of 1/3 or 2/3 become exactly 1/3 or
   2/3, with pymatgen's warning "N fractional coordinates rounded to ideal values";
3. the sites are grouped by element (pymatgen's ``Composition`` order), wrapped into
   [0, 1) with ``x - floor(x)``, then sorted the way ``Structure.get_sorted_structure``
   sorts them (electronegativity, then symbol; a stable sort).

Anything else returns ``None`` and the caller parses the text with pymatgen: other
symmetry operations or loops, partial occupancy, a symbol that is not an element, an
element without an electronegativity (pymatgen warns there), two sites closer than
pymatgen's 1e-4 merging tolerance, a formula that does not match the sites (pymatgen
warns), a cell thinner than pymatgen accepts, uncertainties such as ``0.25(1)``.
So the arrays are pymatgen's, bit for bit, on every record this reader accepts;
``tests/test_data.py`` compares the two on real records of both datasets.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

_ATOM_LOOP = ("_atom_site_type_symbol", "_atom_site_label", "_atom_site_symmetry_multiplicity",
              "_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z",
              "_atom_site_occupancy")
_SYMOP_LOOP = ("_symmetry_equiv_pos_site_id", "_symmetry_equiv_pos_as_xyz")
_CELL = ("_cell_length_a", "_cell_length_b", "_cell_length_c",
         "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma")
_FORMULA_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*)")
_FRAC_TOL = 1e-4   # pymatgen CifParser's frac_tolerance (rounding to 1/3, 2/3)
_SITE_TOL = 1e-4   # pymatgen CifParser's site_tolerance (merging sites)
_MIN_THICKNESS = 0.01  # Å, pymatgen's lower bound on the cell's d-spacings


@lru_cache(maxsize=None)
def _element(symbol: str):
    """(Z, electronegativity X, Composition({el: 1.0})) of an element symbol, or None."""
    import warnings

    from pymatgen.core import Composition, Element

    if symbol not in Element.__members__:
        return None
    el = Element(symbol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = el.X
    return el.Z, x, Composition({el: 1.0})


class _SiteOrder:
    """Sort key with the comparison of pymatgen's ``Site.__lt__`` for one-element sites."""

    __slots__ = ("x", "symbol")

    def __init__(self, x: float, symbol: str):
        self.x, self.symbol = x, symbol

    def __lt__(self, other: "_SiteOrder") -> bool:
        if self.x < other.x:
            return True
        if self.x > other.x:
            return False
        return self.symbol < other.symbol


def _split(text: str):
    """(tags {name: value}, loops [(headers, rows)]) of a one-block CIF, or None."""
    tags: dict[str, str] = {}
    loops: list[tuple[list[str], list[list[str]]]] = []
    blocks = 0
    loop = None  # (headers, rows) while reading a loop
    # lines end at "\n" only, as pymatgen reads them: str.splitlines() would also break at
    # a vertical tab or form feed, and so find a data_ line that pymatgen takes for the rest
    # of a comment (the fast reader would accept a file that pymatgen rejects)
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(";"):
            return None  # multi-line text field
        if line.startswith("data_"):
            blocks += 1
            loop = None
            continue
        if line == "loop_":
            loop = ([], [])
            loops.append(loop)
            continue
        if line.startswith("_"):
            if loop is not None and not loop[1]:
                if " " in line:
                    return None
                loop[0].append(line)
                continue
            loop = None
            name, _, value = line.partition(" ")
            tags[name] = value.strip()
            continue
        if loop is None or not loop[0]:
            return None
        loop[1].append(line)
    return (tags, loops) if blocks == 1 else None


def _formula_counts(value: str) -> dict[str, float] | None:
    value = value.strip().strip("'\"")
    if not value or _FORMULA_TOKEN.sub("", value).strip():
        return None
    counts: dict[str, float] = {}
    for sym, n in _FORMULA_TOKEN.findall(value):
        counts[sym] = counts.get(sym, 0.0) + (float(n) if n else 1.0)
    return counts


def read_p1(text: str):
    """Parse a pymatgen-written P1 CIF the way ``Structure.from_str(text, "cif")`` does.

    Args:
        text: the CIF text of one structure.

    Returns:
        ``(numbers int16 (n,), frac_coords float64 (n, 3) in [0, 1), lattice float64
        (3, 3) in Å (rows are the lattice vectors), warnings list[str])`` in pymatgen's
        site order, or ``None`` when the file is not of the one shape this reader
        handles (then parse it with pymatgen).
    """
    parts = _split(text)
    if parts is None:
        return None
    tags, loops = parts
    if len(loops) != 2 or tuple(loops[0][0]) != _SYMOP_LOOP or tuple(loops[1][0]) != _ATOM_LOOP:
        return None
    if [r.split(None, 1) for r in loops[0][1]] != [["1", "'x, y, z'"]]:
        return None
    rows = [r.split() for r in loops[1][1]]
    if not rows or any(len(r) != 7 or r[2] != "1" or r[6] != "1" for r in rows):
        return None
    try:
        cell = [float(tags[k]) for k in _CELL]
        frac = np.array([[float(v) for v in r[3:6]] for r in rows], dtype=np.float64)
    except (KeyError, ValueError):
        return None
    if not (np.isfinite(cell).all() and np.isfinite(frac).all()):
        return None
    elements = [_element(r[0]) for r in rows]
    if any(e is None or math.isnan(e[1]) for e in elements):
        return None
    formula = _formula_counts(tags.get("_chemical_formula_sum", ""))
    counts: dict[str, float] = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0.0) + 1.0
    if formula != counts:
        return None

    # 2. pymatgen's rounding to 1/3 and 2/3 (per value; counted once each)
    rounded = 0
    for ideal in (1 / 3, 2 / 3):
        near = np.array([[math.isclose(v / ideal, 1, abs_tol=_FRAC_TOL, rel_tol=0) for v in row]
                         for row in frac.tolist()])
        rounded += int(near.sum())
        frac[near] = ideal
    # two sites pymatgen would merge (or nearly): leave the file to pymatgen
    if len(frac) > 1:
        d = frac[:, None, :] - frac[None, :, :]
        d -= np.round(d)
        close = np.all(np.abs(d) < 2 * _SITE_TOL, axis=2)
        np.fill_diagonal(close, False)
        if close.any():
            return None

    from pymatgen.core import Lattice

    matrix = np.array(Lattice.from_parameters(*cell).matrix, dtype=np.float64)
    # the spacings of the (100), (010), (001) planes: volume / area of the other two vectors
    areas = np.linalg.norm(np.cross(matrix[[1, 2, 0]], matrix[[2, 0, 1]]), axis=1)
    if not np.isfinite(matrix).all() or abs(np.linalg.det(matrix)) < 10 * _MIN_THICKNESS * areas.max():
        return None

    # 3. group by element in Composition order (rows keep their order), wrap, sort
    symbols = [r[0] for r in rows]
    distinct = sorted(dict.fromkeys(symbols), key=lambda s: _element(s)[2])
    order = [i for s in distinct for i, t in enumerate(symbols) if t == s]
    keys = [_SiteOrder(elements[i][1], symbols[i]) for i in order]
    order = [order[j] for j in sorted(range(len(order)), key=keys.__getitem__)]
    frac = frac[order]
    frac = frac - np.floor(frac)
    numbers = np.array([elements[i][0] for i in order], dtype=np.int16)
    msgs = []
    if rounded:
        msgs.append(f"Issues encountered while parsing CIF: {rounded} fractional coordinates "
                    "rounded to ideal values to avoid issues with finite precision.")
    return numbers, frac, matrix, msgs
