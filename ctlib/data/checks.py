"""Checks of one structure record, beyond what pymatgen parses: the CIF's cell tags, its
declared formula against the atom sites, and the physical floor on interatomic distances
(nm cells, duplicated sites). Errors name the site by its CIF label and line.

Imports: numpy only (pymatgen objects are passed in); :mod:`ctlib.data.io` uses it.
"""
from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Iterator

import numpy as np

#: Å; two atoms (or an atom and its periodic image) closer than this are bad input. The
#: shortest distance in the registry datasets is 0.74 Å (H2 in MP-2018); cell lengths
#: given in nm instead of Å put neighbours about 0.2-0.3 Å apart.
MIN_DISTANCE = 0.5
_FORMULA_RTOL = 1e-3  # declared formula vs atom sites: relative tolerance of the ratios


class _BadRecord(Exception):
    """Raised inside the parser with the reason a record is rejected."""


def _cif_items(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, list[str], str]]:
    """(1-based line number, tags, stripped line) of each line of CIF text that carries
    values: a loop's body row with the loop's tags, or a single-valued tag outside a loop
    with ``[that tag]``. Tags are lower case; ``lines`` gives (number, stripped line)."""
    tags, body = None, False  # tags: the current loop's tags (None outside a loop)
    for n, line in lines:
        low = line.lower()
        if not line or line.startswith("#"):
            continue
        if low == "loop_":
            tags, body = [], False
        elif line.startswith("_"):
            key = low.split()[0]
            if tags is not None and not body:
                tags.append(key)
                continue
            tags, body = None, False
            yield n, [key], line
        elif low.startswith("data_"):
            tags, body = None, False
        elif tags is not None:
            body = True
            yield n, tags, line


def _cif_atom_rows(text: str) -> int:
    """Rough count of atom-site rows in CIF text (only used to word an error message)."""
    atom_tags = ("_atom_site_fract_x", "_atom_site_cartn_x")
    lines = ((n, raw.strip()) for n, raw in enumerate(text.splitlines(), 1))
    return sum(any(t in atom_tags for t in tags) for _, tags, _ in _cif_items(lines))


def _cif_first_block(text: str) -> list[tuple[int, str]]:
    """(1-based line number, stripped line) of the CIF's first data block (what pymatgen
    reads). Lines end at "\n" only, as for pymatgen (not at a vertical tab, form feed, ...)."""
    out, blocks = [], 0
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if line.lower().startswith("data_"):
            blocks += 1
            if blocks > 1:
                break
        out.append((n, line))
    return out


def _cif_value(value: str) -> str:
    """A CIF value without its quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


def _cif_tags(lines: list[tuple[int, str]], names: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Single-valued tags ``names`` (lower case) -> (line, value); a value may stand on
    the next line. Tags inside loops and ;-text fields are not read."""
    out: dict[str, tuple[int, str]] = {}
    pending = None  # a tag whose value is on the next line
    for n, line in lines:
        if not line or line.startswith("#"):
            continue
        if pending is not None:
            if not line.startswith(("_", ";")) and line.lower() != "loop_":
                out.setdefault(pending, (n, _cif_value(line)))
            pending = None
            continue
        if line.startswith("_"):
            parts = line.split(None, 1)
            tag = parts[0].lower()
            if tag in names:
                if len(parts) == 2:
                    out.setdefault(tag, (n, _cif_value(parts[1])))
                else:
                    pending = tag
    return out


_CELL_TAGS = ("_cell_length_a", "_cell_length_b", "_cell_length_c",
              "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma")
_FORMULA_TAGS = ("_chemical_formula_sum", "_chemical_formula_structural")


def _cif_cell_problem(text: str) -> str | None:
    """Why the CIF's cell parameters are unusable (pymatgen would take some of them:
    a negative length flips a vector, an angle of 200 degrees acts as 160), or None."""
    tags = _cif_tags(_cif_first_block(text), _CELL_TAGS)
    for tag in _CELL_TAGS:
        if tag not in tags:
            continue
        n, value = tags[tag]
        try:
            x = float(re.sub(r"\(\d*\)$", "", value))  # 4.21(3): the uncertainty is dropped
        except ValueError:
            continue  # pymatgen says what is wrong with it
        length = tag.startswith("_cell_length")
        if not math.isfinite(x) or (x <= 0 if length else not 0 < x < 180):
            rule = "a positive length in Å" if length else "an angle between 0 and 180 degrees"
            return f"{tag} {value} (line {n} of the CIF) must be {rule}"
    return None


def _declared_formula(text: str):
    """(tag, line, value, Composition) of the CIF's declared formula, or None when it has
    none that pymatgen's Composition reads (then nothing is compared)."""
    from pymatgen.core import Composition

    tags = _cif_tags(_cif_first_block(text), _FORMULA_TAGS)
    for tag in _FORMULA_TAGS:
        if tag in tags:
            n, value = tags[tag]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    comp = Composition(value).remove_charges()
                if len(comp) and all(math.isfinite(a) and a > 0 for a in comp.values()):
                    return tag, n, value, comp
            except Exception:  # not a formula pymatgen reads: '?', free text, ...
                pass
            return None
    return None


def _formula_units(text: str) -> int | None:
    """The CIF's ``_cell_formula_units_Z`` when it is a positive integer, else None."""
    tag = _cif_tags(_cif_first_block(text), ("_cell_formula_units_z",)).get("_cell_formula_units_z")
    try:
        z = int(tag[1]) if tag else None
    except ValueError:
        return None
    return z if z is not None and z > 0 else None


def _formula_problem(s, text: str) -> str | None:
    """Why the atom sites of ``s`` disagree with the formula its CIF ``text`` declares,
    or None. The sites must hold the declared formula once (what pymatgen writes: the
    cell's content) or ``_cell_formula_units_Z`` times (the CIF convention: one formula
    unit); without Z, in the declared proportions. A CIF cut short at a line boundary,
    or with symmetry operations lost, parses into fewer sites: this is how it is caught."""
    declared = _declared_formula(text)
    if declared is None:
        return None
    tag, n, value, comp = declared
    want = {str(e): a for e, a in comp.get_el_amt_dict().items()}
    got = {str(e): a for e, a in s.composition.remove_charges().get_el_amt_dict().items()}
    units = _formula_units(text)
    missing = [e for e in want if e not in got]
    extra = [e for e in got if e not in want]
    if missing or extra:
        what = (f"element(s) {', '.join(missing)} missing" if missing else
                f"element(s) {', '.join(extra)} not in the formula")
    else:
        ratios = [got[e] / want[e] for e in want]
        k = sum(ratios) / len(ratios)
        if max(ratios) > min(ratios) * (1 + _FORMULA_RTOL):
            what = "other proportions"
        elif units is None or any(math.isclose(k, m, rel_tol=_FORMULA_RTOL) for m in (1, units)):
            return None
        else:
            what = (f"{k:.4g} times it, where once or _cell_formula_units_Z = {units} times is "
                    f"expected")
    return (f"the atom sites give {s.composition.formula} ({len(s)} sites) but {tag} on line {n} of "
            f"the CIF declares '{value}' ({what}): the file is cut short, or a site, a symmetry "
            f"operation or the formula is wrong")


def _cif_site_lines(text: str) -> dict[str, int]:
    """Atom-site label -> 1-based line of its row in the CIF's ``_atom_site_label`` loop."""
    out: dict[str, int] = {}
    for n, tags, line in _cif_items(_cif_first_block(text)):
        cells = line.split()
        if "_atom_site_label" in tags and not line.startswith("_") and len(cells) == len(tags):
            out.setdefault(cells[tags.index("_atom_site_label")].strip("'\""), n)
    return out


def _site_name(s, i: int, lines: dict[str, int] | None = None) -> str:
    """How an error names site ``i`` of ``s``: by its CIF label and line where known,
    else by its label, else by its index (pymatgen's order, not the file's)."""
    site = s[i]
    label = getattr(site, "label", None)
    if label and lines and label in lines:
        return f"site {label} (line {lines[label]} of the CIF)"
    if label and label != site.species_string:
        return f"site {label}"
    return f"site {i} ({site.species_string})"


_IMAGES = np.array([(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)
                    if (a, b, c) != (0, 0, 0)], dtype=np.float64)  # the 26 neighbouring cells


def _closest_pair(lattice: np.ndarray, frac: np.ndarray) -> tuple[float, int, int]:
    """(distance in Å, i, j) of the two closest atoms of a periodic structure, periodic
    images included (``i == j``: an atom and its own image, i.e. the shortest lattice
    vector). Minimum-image distances on the LLL-reduced cell (pymatgen's)."""
    from pymatgen.core import Lattice

    lat = Lattice(lattice)
    own = float(np.linalg.norm(_IMAGES @ lat.lll_matrix, axis=1).min())
    best = (own, 0, 0)
    if len(frac) > 1:
        d = lat.get_all_distances(frac, frac)
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        if d[i, j] < best[0]:
            best = (float(d[i, j]), int(min(i, j)), int(max(i, j)))
    return best


def _distance_problem(lattice: np.ndarray, frac: np.ndarray, name) -> str | None:
    """Why the closest two atoms are too close (``name(i)`` names atom i), or None."""
    with np.errstate(all="ignore"):
        d, i, j = _closest_pair(lattice, frac)
    if not math.isfinite(d):
        return "malformed structure: its interatomic distances are not finite numbers (a huge cell)"
    if d >= MIN_DISTANCE:
        return None
    return _too_close(d, name(i), None if i == j else name(j))


def _far_apart(lattice: np.ndarray, frac: np.ndarray) -> bool:
    """True when no two atoms are closer than MIN_DISTANCE (False also when that cannot be
    computed: the caller then lets pymatgen's path say what is wrong)."""
    try:
        return _distance_problem(lattice, frac, str) is None
    except Exception:
        return False


def _too_close(d: float, a: str, b: str | None) -> str:
    """The reason for a pair closer than MIN_DISTANCE (``b`` None: an atom and its image)."""
    pair = (f"{a} is {d:.3g} Å from its own periodic image (a lattice vector that short)"
            if b is None else f"{a} and {b} are {d:.3g} Å apart")
    return (f"{pair}, closer than the physical floor of {MIN_DISTANCE} Å: cell lengths in nm "
            f"instead of Å (multiply them by 10), or a duplicated or misplaced site")
