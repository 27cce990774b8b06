"""Loaders for a user's own data files: a CIF folder, a MEGNet JSON, a JARVIS ``dft_3d`` file.

This module's one job: read the record layout of each of these formats and
hand the records to the shared load pipeline of :mod:`ctlib.data.io`, which
checks, parses, validates and caches them exactly as it does the registry
datasets (same :class:`~ctlib.data.io.DataError` / ``skip_bad`` rules, same
:class:`~ctlib.data.io.LoadReport`). The cache key of a user file is its
sha256 plus the loader's arguments: ``$CTLIB_CACHE/datasets/user-<name>-<key[:12]>.npz``.

Public functions: :func:`load_cif_folder`, :func:`load_megnet_json`,
:func:`load_jarvis_dft3d`.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
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


def _user_stem(name: str, sha: str, params: dict) -> str:
    """Cache file stem of a user file: its (sanitised) name and a hash of sha256 + loader key."""
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

    ``id_prop.csv`` has no header, as in CGCNN; a first row whose target cells are
    not numbers is read as a header (``id,name_1,...``) and names the targets.

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
        DataError: no ``id_prop.csv``; a listed CIF is missing (names the file) or invalid.
    """
    root = Path(path)
    name = name or root.resolve().name
    table = root / "id_prop.csv"
    if not table.is_file():
        raise DataError(f"{name}: {table} not found. A CIF folder needs id_prop.csv "
                        "(rows: id, target_1, ...) next to the <id>.cif files.")
    with open(table, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows or len(rows[0]) < 2:
        raise DataError(f"{name}: {table} must have rows 'id, target_1[, ...]' (found "
                        f"{rows[0] if rows else 'no rows'}).")
    header = None
    try:
        [_to_float(c) for c in rows[0][1:]]
    except ValueError:
        header, rows = [c.strip() for c in rows[0][1:]], rows[1:]
    n_t = len(header) if header else len(rows[0]) - 1
    names = list(target_names) if target_names is not None else (
        header or (["target"] if n_t == 1 else [f"target_{k}" for k in range(n_t)]))
    if len(names) != n_t:
        raise DataError(f"{name}: {table} has {n_t} target column(s) but target_names has "
                        f"{len(names)}: {names}.")
    required_t = tuple(names) if required is None else tuple(required)
    shas = [sha256_file(table)]
    ids, items, tv, bad = [], [], {t: [] for t in names}, {}
    for i, r in enumerate(rows):
        rid = r[0].strip()
        ids.append(rid)
        if len(r) != n_t + 1:
            bad[i] = f"id_prop.csv row has {len(r)} cells, expected {n_t + 1}"
        for k, t in enumerate(names):
            tv[t].append(r[k + 1].strip() if k + 1 < len(r) else None)
        cif = root / f"{rid}.cif"
        if cif.is_file():
            text = cif.read_text(encoding="utf-8", errors="replace")
            shas.append(hashlib.sha256(text.encode()).hexdigest())
            items.append(("cif", text))
        else:
            bad.setdefault(i, f"CIF file {cif} not found")
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
