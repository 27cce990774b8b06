"""Loaders for a user's own data files: a CIF folder, a MEGNet JSON, a JARVIS ``dft_3d`` file.

This module's one job: read the record layout of each of these formats and
hand the records to the shared load pipeline of :mod:`ctlib.data.io`, which
checks, parses, validates and caches them exactly as it does the registry
datasets (same :class:`~ctlib.data.io.DataError` / ``skip_bad`` rules, same
:class:`~ctlib.data.io.LoadReport`). The cache key of a user file is its
sha256 plus the loader's arguments and :data:`RULES` (the version of these reading
rules): ``$CTLIB_CACHE/datasets/user-<name>-<key[:12]>.npz``.

Public functions: :func:`load_cif_folder`, :func:`load_megnet_json`,
:func:`load_jarvis_dft3d`.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections import Counter
from pathlib import Path

from .io import (
    _KNOWN_UNITS,
    DataError,
    _check_file,
    _combine_sha,
    _load_or_build,
    _read_json,
    _records_source,
    _Source,
    _to_float,
    sha256_file,
)


#: version of how user files are read and checked (part of every user cache key, so that
#: a cache written under older rules is parsed again). 2: id_prop.csv's header rule, BOMs,
#: row widths; the formula, cell and close-atom checks of :mod:`ctlib.data.io`.
RULES = 2


def _user_stem(name: str, sha: str, params: dict) -> str:
    """Cache file stem of a user file: its (sanitised) name and a hash of sha256 + loader key."""
    params = {**params, "rules": RULES}
    key = hashlib.sha256(json.dumps({"sha": sha, **params}, sort_keys=True).encode()).hexdigest()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60]
    return f"user-{safe}-{key[:12]}"


def load_megnet_json(path: str | Path, targets: tuple[str, ...] = ("formation_energy_per_atom", "band_gap"),
                     *, id_key: str = "material_id", structure_key: str = "structure",
                     required: tuple[str, ...] | None = None, units: dict[str, str] | None = None,
                     name: str | None = None, skip_bad: bool = False, progress: bool = True,
                     n_jobs: int | None = None, cache: bool = True, return_report: bool = False):
    """Load a MEGNet-schema JSON file (plain or gzip), e.g. MEGNet's ``mp.2018.6.1.json``.

    The file is a JSON list of records::

        [{"material_id": "mp-1", "structure": "<CIF text>" | {pymatgen Structure dict},
          "formation_energy_per_atom": -0.5, "band_gap": 1.2}, ...]

    Args:
        path: the ``.json`` or ``.json.gz`` file.
        targets: record fields to read as float targets.
        id_key / structure_key: names of the id and structure fields.
        required: targets that must be finite (default: all ``targets``).
        units: target -> unit (defaults known for MP/JARVIS names, else "").
        name: dataset name (default: the file name).
        skip_bad, progress, n_jobs, cache, return_report: as in
            :func:`~ctlib.data.io.load`; the cache key is the file's sha256 plus
            these arguments.
    """
    path = Path(path)
    name = name or path.name.split(".")[0]
    sha = _check_file(path, None, name)
    targets = tuple(targets)
    required = targets if required is None else tuple(required)

    def make():
        records = _read_json(path)
        if not isinstance(records, list):
            raise DataError(f"{name}: {path} must hold a JSON list of records (MEGNet schema), "
                            f"got {type(records).__name__}.")
        src = _records_source(records, name=name, path=path, id_key=id_key,
                              structure_key=structure_key, targets=targets, required=required)
        src.sha256 = sha
        src.units.update(units or {})
        return src

    key = {"loader": "megnet", "targets": targets, "id": id_key,
           "structure": structure_key, "required": required, "units": units or {}}
    stem = _user_stem(name, sha, key)
    return _load_or_build(stem, key, make, cache=cache, skip_bad=skip_bad, progress=progress,
                          n_jobs=n_jobs, where=str(path), return_report=return_report)


def _read_table(table: Path, name: str) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` of every non-blank row of a CSV file.

    Read as UTF-8 with or without the byte-order mark that spreadsheets write
    (``utf-8-sig``), or as UTF-16 when the file starts with a UTF-16 BOM; anything
    else raises :class:`DataError` naming the file and the line.
    """
    raw = table.read_bytes()
    try:
        utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        text = raw.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise DataError(f"{name}: {table} is not UTF-8 text (byte {raw[e.start:e.start + 1]!r} on "
                        f"line {line}); save it as UTF-8 ('CSV UTF-8' in a spreadsheet).") from None
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for r in reader:
            if r and any(c.strip() for c in r):
                rows.append((reader.line_num, r))
    except csv.Error as e:
        raise DataError(f"{name}: {table}, line {reader.line_num}: not valid CSV ({e}).") from None
    return rows


def _is_name(cell: str) -> bool:
    """A header cell of id_prop.csv: starts with a letter or '_' and is not a value
    ('nan', 'inf' and 'NA' are values)."""
    c = cell.strip()
    if not c or not (c[0].isalpha() or c[0] == "_"):
        return False
    try:
        _to_float(c)
    except ValueError:
        return True
    return False


def _file_id(rid: str) -> bool:
    """Whether a record id can name a file ``<id>.cif`` in the folder itself."""
    return bool(rid) and rid not in (".", "..") and rid.isprintable() \
        and not any(c in rid for c in "/\\")


def load_cif_folder(path: str | Path, target_names: list[str] | None = None, *,
                    required: tuple[str, ...] | None = None, units: dict[str, str] | None = None,
                    name: str | None = None, skip_bad: bool = False, progress: bool = True,
                    n_jobs: int | None = None, cache: bool = True, return_report: bool = False):
    """Load a folder of CIFs with a CSV of targets, in CGCNN's layout::

        root_dir
        ├── id_prop.csv      one row per crystal: id, target_1[, target_2, ...]
        ├── atom_init.json   (optional, CGCNN's element features; ignored here)
        ├── id0.cif
        ├── id1.cif
        └── ...

    ``id_prop.csv`` has no header, as in CGCNN. The first row is read as a header
    (``id,name_1,...``, naming the targets) only when every target cell of it is a
    name: it starts with a letter or ``_`` and is not a value (``nan``, ``inf``, ``NA``
    are values). Any other first row is data, so a value such as ``-1,00`` (a decimal
    comma) is reported as not a number, never taken for a header. Every row must have
    as many cells as the header, ``target_names``, or else most rows have; a row with
    more or fewer is a bad record named by its line. The file may be UTF-8 with or
    without a byte-order mark (as spreadsheets save it), or UTF-16 with one.

    Args:
        path: the folder.
        target_names: names of the target columns (default: the header, else
            ``"target"`` for one column, ``"target_0", "target_1", ...`` for several).
        required: targets that must be finite (default: all).
        units: target -> unit (default "" = unknown).
        name: dataset name (default: the folder name).
        skip_bad, progress, n_jobs, cache, return_report: as in
            :func:`~ctlib.data.io.load`; the cache key is the sha256 of
            ``id_prop.csv`` and of every CIF.

    Raises:
        DataError: no ``id_prop.csv``, or it is not UTF-8 CSV; target names that repeat
            or do not match ``target_names``; a bad record (unless ``skip_bad``): a row
            of the wrong width, an id that cannot name a file, a target that is not a
            number, a listed CIF that is missing (names the file) or invalid.
    """
    root = Path(path)
    name = name or root.resolve().name
    table = root / "id_prop.csv"
    if not table.is_file():
        raise DataError(f"{name}: {table} not found. A CIF folder needs id_prop.csv "
                        "(rows: id, target_1, ...) next to the <id>.cif files.")
    lines = _read_table(table, name)
    rows = [r for _, r in lines]
    if not rows or max(len(r) for r in rows) < 2:
        sep = next((c for c in ";\t" if rows and c in rows[0][0]), None)
        hint = f" (the cells are separated by {sep!r}: save it comma-separated)" if sep else ""
        raise DataError(f"{name}: {table} must have rows 'id, target_1[, ...]' (found "
                        f"{rows[0] if rows else 'no rows'}){hint}.")
    header = None
    if len(rows[0]) >= 2 and all(_is_name(c) for c in rows[0][1:]):
        header, lines = [c.strip() for c in rows[0][1:]], lines[1:]
    # the width of a row: the header's, else the one most rows have (ties: the first row's)
    width = len(header) + 1 if header else Counter(len(r) for _, r in lines).most_common(1)[0][0]
    n_t = width - 1
    if not lines or n_t < 1:
        raise DataError(f"{name}: {table} has no data rows 'id, target_1[, ...]' "
                        f"({'only a header' if lines == [] else 'most rows have one cell'}).")
    names = list(target_names) if target_names is not None else (
        header or (["target"] if n_t == 1 else [f"target_{k}" for k in range(n_t)]))
    if len(names) != n_t:
        raise DataError(f"{name}: {table} has {n_t} target column(s) but target_names has "
                        f"{len(names)}: {names}.")
    if len(set(names)) != len(names) or not all(isinstance(t, str) and t for t in names):
        raise DataError(f"{name}: the target names {names} (from "
                        f"{'target_names' if target_names is not None else table}) must be "
                        f"distinct non-empty strings.")
    required_t = tuple(names) if required is None else tuple(required)
    unknown = [t for t in required_t if t not in names]
    if unknown:
        raise DataError(f"{name}: required target(s) {unknown} are not targets of {table} "
                        f"({names}).")
    shas = [sha256_file(table)]
    ids, items, tv, bad = [], [], {t: [] for t in names}, {}
    for i, (ln, r) in enumerate(lines):
        rid = r[0].strip()
        ids.append(rid)
        where = f"line {ln} of id_prop.csv"
        if len(r) != n_t + 1:
            cut = len(r) > 2 and re.fullmatch(r"[-+]?\d+", r[1].strip()) \
                and re.fullmatch(r"\d+", r[2].strip())
            hint = (f"; a decimal comma splits {r[1].strip()},{r[2].strip()} in two: write "
                    f"{r[1].strip()}.{r[2].strip()}" if cut else "")
            bad[i] = (f"{where} has {len(r)} cells, expected {n_t + 1} "
                      f"(id, {', '.join(names)}){hint}")
        for k, t in enumerate(names):
            tv[t].append(r[k + 1].strip() if k + 1 < len(r) else None)
        cif = root / f"{rid}.cif"
        try:
            found = _file_id(rid) and cif.is_file()
        except (OSError, ValueError):  # a name too long for the file system
            found = False
        if found:
            text = cif.read_text(encoding="utf-8", errors="replace").removeprefix("\ufeff")
            shas.append(hashlib.sha256(text.encode()).hexdigest())
            items.append(("cif", text))
        else:
            bad.setdefault(i, f"CIF file {cif} not found" if _file_id(rid) else
                           f"the id {rid!r} ({where}) cannot name a CIF file <id>.cif")
            items.append(("missing", None))
    sha = _combine_sha(shas)

    def make():
        return _Source(name=name, sources=[str(root)], sha256=sha, ids=ids, items=items,
                       targets=tv, units={t: (units or {}).get(t, "") for t in names},
                       required=required_t, bad=dict(bad))

    key = {"loader": "cif_folder", "targets": names, "required": required_t,
           "units": units or {}}
    stem = _user_stem(name, sha, key)
    return _load_or_build(stem, key, make, cache=cache, skip_bad=skip_bad, progress=progress,
                          n_jobs=n_jobs, where=str(root), return_report=return_report)


def load_jarvis_dft3d(path: str | Path,
                      targets: tuple[str, ...] = ("formation_energy_peratom", "optb88vdw_bandgap"),
                      *, required: tuple[str, ...] = (), name: str = "jarvis_dft3d",
                      skip_bad: bool = False, progress: bool = True, cache: bool = True,
                      return_report: bool = False):
    """Load a JARVIS-DFT ``dft_3d`` file as distributed by jarvis-tools (JSON, .gz or .zip).

    Records look like::

        {"jid": "JVASP-1002",
         "atoms": {"lattice_mat": [[ax, ay, az], [bx, by, bz], [cx, cy, cz]],  # Å, rows
                   "coords": [[x, y, z], ...], "elements": ["Si", "Si"],
                   "cartesian": false},
         "formation_energy_peratom": -0.1, "optb88vdw_bandgap": 0.7, ...}

    Missing values are the string ``"na"`` and become NaN. By default no target is
    required (many JARVIS records lack some property); select complete rows with
    ``ds.subset(np.isfinite(ds.targets[t]))`` or pass ``required``. The atoms are
    read directly (no CIF parsing), so no process pool is used.

    Args:
        path: the JSON file (``.json``, ``.json.gz`` or the ``.zip`` jarvis-tools downloads).
        targets: record fields to read as float targets.
        required: targets that must be finite (a NaN there is a bad record).
        name, skip_bad, progress, cache, return_report: as in :func:`~ctlib.data.io.load`.
    """
    path = Path(path)
    sha = _check_file(path, None, name)
    targets, required = tuple(targets), tuple(required)

    def make():
        records = _read_json(path)
        if not isinstance(records, list):
            raise DataError(f"{name}: {path} must hold a JSON list of dft_3d records, "
                            f"got {type(records).__name__}.")
        ids, items, tv, bad = [], [], {t: [] for t in targets}, {}
        for i, r in enumerate(records):
            r = r if isinstance(r, dict) else {}
            ids.append(str(r.get("jid", f"#{i}")))
            a = r.get("atoms")
            try:
                items.append(("arrays", (list(a["elements"]), a["lattice_mat"], a["coords"],
                                         bool(a.get("cartesian", False)))))
            except (TypeError, KeyError) as e:
                bad[i] = f"no usable 'atoms' field ({type(e).__name__}: {e})"
                items.append(("missing", None))
            for t in targets:
                if t not in r:
                    bad.setdefault(i, f"missing field {t!r}")
                tv[t].append(r.get(t))
        return _Source(name=name, sources=[str(path)], sha256=sha, ids=ids, items=items,
                       targets=tv, units={t: _KNOWN_UNITS.get(t, "") for t in targets},
                       required=required, bad=bad)

    key = {"loader": "jarvis", "targets": targets, "required": required}
    stem = _user_stem(name, sha, key)
    return _load_or_build(stem, key, make, cache=cache, skip_bad=skip_bad, progress=progress,
                          n_jobs=1, where=str(path), return_report=return_report)
