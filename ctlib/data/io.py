"""Registry datasets, and the load pipeline every dataset loader goes through.

This module's one job: turn source files into a cached
:class:`~ctlib.data.dataset.CrystalDataset`. It loads the registry datasets
(:func:`load`) and holds the pipeline that the user-file loaders of
:mod:`ctlib.data.user` (CIF folder, MEGNet JSON, JARVIS) feed their records
into. Every loader goes the same way:

1. check the source file(s) (sha256 for registry datasets; missing files fail);
2. check each record before parsing: duplicate id, NaN in a required target;
3. parse the structures, in parallel (one process per core, chunks, tqdm bar): the
   P1 CIFs that pymatgen writes (MP-2018, Castelli) with :mod:`ctlib.data.p1cif`,
   which gives pymatgen's arrays bit for bit, everything else with pymatgen; check
   each one: malformed CIF, a cell length or angle that is not a positive finite
   number, empty structure, partial occupancy / disorder, an element outside
   Z = 1..100 or not an element, atom sites that disagree with the CIF's declared
   formula (a file cut short), two atoms closer than :data:`MIN_DISTANCE` (0.5 Å;
   e.g. cell lengths in nm). A site is named by its CIF label and line;
4. either raise one :class:`DataError` naming every bad record (the default), or
   with ``skip_bad=True`` drop them, warn with their count and first ids
   (:class:`DataWarning`) and list them all in the :class:`LoadReport`;
5. cache the arrays at ``$CTLIB_CACHE/datasets/<name>-<sha[:12]>.npz`` (plus a small
   ``.report.json``). A later load checks the sha256 and reads only the cache.

pymatgen's own warnings (e.g. "fractional coordinates rounded to ideal values")
are silenced per record but kept: ``report.warnings`` maps record id -> messages.

Public functions: :func:`load`, :func:`benchmark_counts`, :func:`check_structure`,
:func:`sha256_file`.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import multiprocessing
import re
import time
import warnings
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ctlib.utils import atomic_write, resolve_n_jobs

from .dataset import CrystalDataset
from .p1cif import read_p1
from .registry import DatasetSpec, cache_root, data_root, get_spec
from .files import (DataError, DataWarning, _NA_STRINGS, _check_file, _combine_sha,  # noqa: F401
                    _read_json, _to_float, sha256_file)
from .checks import (MIN_DISTANCE, _BadRecord, _cif_atom_rows, _cif_cell_problem,  # noqa: F401
                     _closest_pair, _declared_formula, _distance_problem, _far_apart, _formula_problem,
                     _formula_units, _site_name, _cif_site_lines)


CACHE_VERSION = 1  # bump when parsing or validation changes; old caches are re-parsed
MAX_Z = 100
_SERIAL_BELOW = 256  # fewer records than this are parsed in-process
_KNOWN_UNITS = {
    "formation_energy_per_atom": "eV/atom", "band_gap": "eV",
    "formation_energy_peratom": "eV/atom", "optb88vdw_bandgap": "eV", "mbj_bandgap": "eV",
    "hse_gap": "eV", "optb88vdw_total_energy": "eV/atom", "ehull": "eV/atom",
    "bulk_modulus_kv": "GPa", "shear_modulus_gv": "GPa",
}



@dataclass
class LoadReport:
    """What a load did.

    Attributes:
        name: dataset name.
        sources: the files read (as strings).
        source_sha256: the dataset's ``source_sha256`` (cache key).
        n_records: records in the source.
        n_loaded: structures in the returned dataset.
        skipped: ``[(record id, reason), ...]`` for every bad record (empty unless
            ``skip_bad=True``; otherwise they raise).
        warnings: record id -> pymatgen warnings raised while parsing it.
        from_cache: True when the arrays came from the cache.
        seconds: wall time of this load.
    """

    name: str
    sources: list[str]
    source_sha256: str
    n_records: int
    n_loaded: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    from_cache: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        """A few lines: counts, skipped records, the most common parse warnings."""
        lines = [f"{self.name}: {self.n_loaded}/{self.n_records} structures loaded "
                 f"({'cache' if self.from_cache else 'parsed'}, {self.seconds:.1f} s)"]
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)}: " + "; ".join(
                f"{i}: {r}" for i, r in self.skipped[:5]) + (" ..." if len(self.skipped) > 5 else ""))
        kinds = Counter(re.sub(r"\d+", "N", m) for ms in self.warnings.values() for m in ms)
        for msg, n in kinds.most_common(3):
            lines.append(f"  pymatgen warning x{n}: {msg[:100]}")
        return "\n".join(lines)




def _structure_from(kind: str, payload):
    """A pymatgen Structure from CIF text (``kind="cif"``) or ``Structure.as_dict()``."""
    from pymatgen.core import Structure

    if kind == "cif":
        try:
            s = Structure.from_str(payload, fmt="cif")
        except Exception as e:  # pymatgen raises many types on broken CIFs
            if "data_" not in payload.lower():
                raise _BadRecord("malformed CIF: no 'data_' block, this is not CIF text") from None
            if _cif_atom_rows(payload) == 0:
                raise _BadRecord("empty structure: the CIF has no atom sites") from None
            raise _BadRecord(f"malformed CIF ({type(e).__name__}: {str(e)[:120]})") from None
        return s
    if kind == "dict":
        try:
            return Structure.from_dict(payload)
        except Exception as e:
            raise _BadRecord(f"malformed structure dict ({type(e).__name__}: {str(e)[:120]})") from None
    raise _BadRecord(f"unsupported structure field of type {kind}: expected CIF text or a "
                     "pymatgen Structure dict")


def _arrays_from_structure(s, text: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers int16 (n,), frac_coords (n, 3), lattice (3, 3)) after validating ``s``.

    ``text``: the CIF that ``s`` was read from, if any: its declared formula is compared
    with the sites, and sites are named by their label and line in it.
    """
    from pymatgen.core.periodic_table import DummySpecies

    if len(s) == 0:
        raise _BadRecord("empty structure: no sites")
    lines = _cif_site_lines(text) if text else None
    if not s.is_ordered:
        i = next(i for i, x in enumerate(s) if not x.is_ordered)
        raise _BadRecord(f"partial occupancy / disorder at {_site_name(s, i, lines)}; "
                         "only ordered, fully occupied structures are supported")
    z = np.empty(len(s), dtype=np.int16)
    for i, site in enumerate(s):
        sp = site.specie
        if isinstance(sp, DummySpecies):
            raise _BadRecord(f"{_site_name(s, i, lines)}: {sp.symbol!r} is not a chemical element")
        if not 1 <= sp.Z <= MAX_Z:
            raise _BadRecord(f"{_site_name(s, i, lines)}: element {sp.symbol} (Z={sp.Z}) is outside "
                             f"Z=1..{MAX_Z}")
        z[i] = sp.Z
    if text:
        problem = _formula_problem(s, text)
        if problem:
            raise _BadRecord(problem)
    frac = np.asarray(s.frac_coords, dtype=np.float64).reshape(-1, 3)
    lat = np.asarray(s.lattice.matrix, dtype=np.float64)
    if not (np.isfinite(frac).all() and np.isfinite(lat).all()) or abs(np.linalg.det(lat)) < 1e-6:
        raise _BadRecord("malformed structure: non-finite coordinates or a singular lattice")
    problem = _distance_problem(lat, frac, lambda i: _site_name(s, i, lines))
    if problem:
        raise _BadRecord(problem)
    return z, frac, lat


def check_structure(structure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one pymatgen Structure the way the loaders do.

    Returns ``(numbers int16 (n,), frac_coords (n, 3), lattice (3, 3))``.

    Raises:
        DataError: empty, disordered (partial occupancy), a site that is not an
            element (e.g. ``Xx``), an element outside Z = 1..100, a singular
            lattice, or two atoms closer than :data:`MIN_DISTANCE`; the message
            says which, and which site (by label; without a file name: add it).
    """
    try:
        return _arrays_from_structure(structure)
    except _BadRecord as e:
        raise DataError(str(e)) from None


def _parse_one(item, fast: bool = True):
    """Worker: ``(kind, payload)`` -> ``(arrays or None, reason or None, warnings)``.

    CIF text in the one P1 shape that pymatgen writes goes through
    :func:`ctlib.data.p1cif.read_p1` (same arrays and warnings, about 10x faster)
    unless ``fast`` is False; everything else through pymatgen. A record that the
    fast reader finds bad (two atoms too close) is parsed again by pymatgen, whose
    sites carry the CIF labels that the message names.
    """
    kind, payload = item
    if kind == "cif" and isinstance(payload, str):
        problem = _cif_cell_problem(payload)
        if problem:
            return None, f"malformed CIF: {problem}", []
        if fast:
            with np.errstate(all="ignore"):  # a huge or odd cell: pymatgen's path reports it
                read = read_p1(payload)
                if read is not None and read[0].max() <= MAX_Z and _far_apart(read[2], read[1]):
                    return read[:3], None, read[3]
    sink = io.StringIO()
    result, reason = None, None
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("always")
        try:
            if kind == "arrays":  # already arrays (JARVIS): validate only
                result = _validate_arrays(*payload)
            else:
                result = _arrays_from_structure(_structure_from(kind, payload),
                                                payload if kind == "cif" else None)
        except _BadRecord as e:
            reason = str(e)
        except Exception as e:  # anything else pymatgen throws on odd input
            reason = f"could not read the structure ({type(e).__name__}: {str(e)[:120]})"
    msgs = list(dict.fromkeys([str(w.message) for w in caught] +
                              [ln for ln in sink.getvalue().splitlines() if ln.strip()]))
    if reason and reason.startswith("malformed CIF (") and msgs:
        reason += "; pymatgen says: " + " ".join(msgs[0].split())[:150]
    return result, reason, msgs


def _validate_arrays(symbols, lattice, coords, cartesian):
    """Validate a JARVIS-style atoms record -> (numbers, frac_coords, lattice)."""
    from ctlib.elements import Z_OF

    if len(symbols) == 0:
        raise _BadRecord("empty structure: no atoms")
    try:
        lat = np.asarray(lattice, dtype=np.float64).reshape(3, 3)
        xyz = np.asarray(coords, dtype=np.float64).reshape(len(symbols), 3)
    except (ValueError, TypeError) as e:
        raise _BadRecord(f"malformed atoms: lattice must be 3x3 and coords (n_atoms, 3) ({e})") from None
    if not (np.isfinite(lat).all() and np.isfinite(xyz).all()) or abs(np.linalg.det(lat)) < 1e-6:
        raise _BadRecord("malformed atoms: non-finite values or a singular lattice")
    z = np.empty(len(symbols), dtype=np.int16)
    for i, sym in enumerate(symbols):
        if sym not in Z_OF:
            raise _BadRecord(f"site {i}: {sym!r} is not an element with Z=1..{MAX_Z}")
        z[i] = Z_OF[sym]
    frac = np.linalg.solve(lat.T, xyz.T).T if cartesian else xyz
    problem = _distance_problem(lat, frac, lambda i: f"atom {i} ({symbols[i]})")
    if problem:
        raise _BadRecord(problem)
    return z, frac, lat


def _parse_all(items, *, n_jobs: int | None, progress: bool, desc: str):
    """Parse ``items`` in order; a process pool when there are many of them."""
    n_jobs = resolve_n_jobs(n_jobs)
    bar = tqdm(total=len(items), desc=desc, unit="struct", disable=not progress, mininterval=0.5)
    out = []
    with bar:
        if n_jobs == 1 or len(items) < _SERIAL_BELOW:
            for it in items:
                out.append(_parse_one(it))
                bar.update()
        else:
            # A ProcessPoolExecutor (not Pool) fails loudly if a worker dies instead of hanging.
            chunk = max(8, min(256, len(items) // (n_jobs * 16)))
            with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context()) as pool:
                for r in pool.map(_parse_one, items, chunksize=chunk):
                    out.append(r)
                    bar.update()
    return out


# ---------------------------------------------------------- assembling
@dataclass
class _Source:
    """Records of one dataset before parsing (internal)."""

    name: str
    sources: list[str]
    sha256: str
    ids: list[str]
    items: list  # (kind, payload) per record
    targets: dict[str, list]  # raw values
    units: dict[str, str]
    required: tuple[str, ...]
    meta: dict[str, list] = field(default_factory=dict)
    bad: dict[int, str] = field(default_factory=dict)  # record index -> reason (pre-parse)


def _prescreen(src: _Source) -> dict[str, np.ndarray]:
    """Convert targets to float and flag duplicate ids / bad or NaN required targets."""
    seen: dict[str, int] = {}
    for i, rid in enumerate(src.ids):
        if rid in seen:
            src.bad.setdefault(i, f"duplicate id (first seen at record {seen[rid]})")
        else:
            seen[rid] = i
    values = {}
    for t, raw in src.targets.items():
        col = np.full(len(raw), np.nan)
        for i, v in enumerate(raw):
            try:
                col[i] = _to_float(v)
            except (TypeError, ValueError):
                comma = isinstance(v, str) and re.fullmatch(r"\s*[-+]?\d*,\d+\s*", v)
                hint = f" (a decimal comma? write {v.strip().replace(',', '.')})" if comma else ""
                src.bad.setdefault(i, f"target {t!r} = {v!r} is not a number{hint}")
                continue
            if math.isinf(col[i]):
                src.bad.setdefault(i, f"target {t!r} = {v!r} is infinite (too large for a float)")
            elif t in src.required and math.isnan(col[i]):
                src.bad.setdefault(i, f"target {t!r} is NaN/missing (required for this dataset)")
        values[t] = col
    return values


def _build(src: _Source, *, progress: bool, n_jobs) -> tuple[CrystalDataset, LoadReport]:
    """Prescreen, parse, and assemble the good records; the bad ones go to the report."""
    t0 = time.perf_counter()
    values = _prescreen(src)
    todo = [i for i in range(len(src.ids)) if i not in src.bad]
    parsed = _parse_all([src.items[i] for i in todo], n_jobs=n_jobs, progress=progress,
                        desc=f"parsing {src.name}")
    arrays, warns = {}, {}
    for i, (res, reason, msgs) in zip(todo, parsed):
        if msgs:
            warns[src.ids[i]] = msgs
        if reason:
            src.bad[i] = reason
        else:
            arrays[i] = res
    keep = [i for i in range(len(src.ids)) if i in arrays]
    nums = [arrays[i][0] for i in keep]
    counts = np.array([len(a) for a in nums], dtype=np.int64)
    ptr = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    ds = CrystalDataset(
        name=src.name,
        source_sha256=src.sha256,
        ids=np.array([src.ids[i] for i in keep], dtype=object),
        numbers=np.concatenate(nums) if keep else np.zeros(0, np.int16),
        frac_coords=np.concatenate([arrays[i][1] for i in keep]) if keep else np.zeros((0, 3)),
        lattices=np.stack([arrays[i][2] for i in keep]) if keep else np.zeros((0, 3, 3)),
        ptr=ptr,
        targets={t: v[keep] for t, v in values.items()},
        units={t: src.units.get(t, "") for t in values},
        meta={k: np.asarray([v[i] for i in keep]) for k, v in src.meta.items()},
    )
    report = LoadReport(
        name=src.name, sources=src.sources, source_sha256=src.sha256, n_records=len(src.ids),
        n_loaded=len(ds), skipped=[(src.ids[i], src.bad[i]) for i in sorted(src.bad)],
        warnings=warns, from_cache=False, seconds=time.perf_counter() - t0)
    return ds, report


def _judge(report: LoadReport, *, skip_bad: bool, where: str, listed_in: Path | None = None) -> None:
    """Raise on bad records, or warn (never silently) when they were skipped.
    ``listed_in``: the cached report file, which lists every skipped record."""
    if not report.skipped:
        return
    n = len(report.skipped)
    listing = "; ".join(f"record {i!r}: {r}" for i, r in report.skipped[:10])
    more = f" (and {n - 10} more)" if n > 10 else ""
    if not skip_bad:
        raise DataError(
            f"{report.name}: {n} bad record(s) in {where}: {listing}{more}. Fix or remove these "
            f"records in the source, or skip them: `ctlib train --skip-bad` on the command line "
            f"(or skip_bad: true in the config's dataset: entry), skip_bad=True in Python (they "
            f"are then listed in the load report: load(..., return_report=True)).")
    full = (f"Every skipped record is listed under \"skipped\" in {listed_in}"
            if listed_in is not None else "Every skipped record is listed in the load report")
    warnings.warn(
        f"{report.name}: skipped {n} bad record(s) of {report.n_records} in {where}: "
        f"{listing}{more}. {full} (in Python: report.skipped, from "
        f"load(..., return_report=True)).", DataWarning, stacklevel=4)  # -> the caller of load*()


def _cache_paths(stem: str) -> tuple[Path, Path]:
    d = cache_root() / "datasets"
    return d / f"{stem}.npz", d / f"{stem}.report.json"


#: what reading a damaged (truncated, overwritten, half-copied) .npz / JSON file can raise
CORRUPT_FILE_ERRORS = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
                       UnicodeDecodeError)


def _read_cache(stem: str, key: dict) -> tuple[CrystalDataset, LoadReport] | None:
    """The cached dataset and report, or None when absent or stale. A damaged cache
    (e.g. a truncated .npz) is treated as missing: a warning names it and the source
    is parsed again (the rebuilt cache replaces it)."""
    npz, rep = _cache_paths(stem)
    if not (npz.is_file() and rep.is_file()):
        return None
    try:
        info = json.loads(rep.read_text())
        if not isinstance(info, dict) or info.get("cache_version") != CACHE_VERSION \
                or info.get("key") != key:
            return None  # stale: written by another version or with other options
        report = LoadReport(**info["report"])
        report.skipped = [tuple(x) for x in report.skipped]
        return CrystalDataset.load(npz), report
    except CORRUPT_FILE_ERRORS as e:
        warnings.warn(f"dataset cache {npz} (or {rep.name}) is damaged and cannot be read "
                      f"({type(e).__name__}: {str(e)[:120]}); parsing the source again and "
                      f"rewriting the cache", DataWarning, stacklevel=4)
        return None


def _write_cache(stem: str, key: dict, ds: CrystalDataset, report: LoadReport) -> None:
    npz, rep = _cache_paths(stem)
    # Unique temporary names: concurrent first loads never write the same file.
    atomic_write(npz, ds.save, suffix=".npz")
    text = json.dumps({"cache_version": CACHE_VERSION, "key": key, "report": asdict(report)})
    atomic_write(rep, lambda tmp: Path(tmp).write_text(text))


def _load_or_build(stem: str, key: dict, make_source, *, cache: bool, skip_bad: bool,
                   progress: bool, n_jobs, where: str, return_report: bool):
    """Shared tail of every loader: cache lookup, build, judge, cache write.

    ``key`` (JSON-able) describes how the source is read; a cache written with another
    key (or another CACHE_VERSION) is ignored and rebuilt.
    """
    t0 = time.perf_counter()
    key = json.loads(json.dumps(key))  # tuples -> lists, as they come back from JSON
    hit = _read_cache(stem, key) if cache else None
    if hit is not None:
        ds, report = hit
        report.from_cache = True
    else:
        ds, report = _build(make_source(), progress=progress, n_jobs=n_jobs)
        if cache:
            _write_cache(stem, key, ds, report)
    report.seconds = time.perf_counter() - t0
    _judge(report, skip_bad=skip_bad, where=where, listed_in=_cache_paths(stem)[1] if cache else None)
    return (ds, report) if return_report else ds


# ------------------------------------------------ MEGNet-schema records
def _records_source(records: list, *, name: str, path: Path, id_key: str, structure_key: str,
                    targets: tuple[str, ...], required: tuple[str, ...],
                    meta_fields: tuple[str, ...] = ()) -> _Source:
    """A :class:`_Source` from MEGNet-schema records (dicts with id, structure, targets)."""
    ids, items, tv, meta = [], [], {t: [] for t in targets}, {m: [] for m in meta_fields}
    bad = {}
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise DataError(f"{name}: record {i} of {path} is a {type(r).__name__}, not an object "
                            f"with fields {id_key!r}, {structure_key!r} and the targets.")
        rid = str(r.get(id_key, f"#{i}"))
        ids.append(rid)
        missing = [k for k in (id_key, structure_key, *targets, *meta_fields) if k not in r]
        if missing:
            bad[i] = f"missing field(s) {missing}"
        s = r.get(structure_key)
        items.append(("cif", s) if isinstance(s, str) else ("dict", s) if isinstance(s, dict)
                     else (type(s).__name__, None))
        for t in targets:
            tv[t].append(r.get(t))
        for m in meta_fields:
            meta[m].append(r.get(m))
    return _Source(name=name, sources=[str(path)], sha256="", ids=ids, items=items, targets=tv,
                   units={t: _KNOWN_UNITS.get(t, "") for t in targets}, required=required,
                   meta=meta, bad=bad)


# ------------------------------------------------------ registry datasets
def _read_labels(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's BOM is no text
        return list(csv.DictReader(f))


def _registry_source(spec: DatasetSpec, root: Path, shas: list[str]) -> _Source:
    path = root / spec.structures.path
    records = _read_json(path)
    if not isinstance(records, list):
        raise DataError(f"{spec.name}: {path} must hold a JSON list of records, got "
                        f"{type(records).__name__}; re-copy it from the data mirror.")
    src = _records_source(records, name=spec.name, path=path, id_key=spec.id_key,
                          structure_key=spec.structure_key, targets=tuple(spec.targets),
                          required=spec.required, meta_fields=spec.meta_fields)
    src.units = dict(spec.targets)
    src.sources = [str(root / f.path) for f in spec.files]
    src.sha256 = _combine_sha(shas)
    if spec.labels is not None:
        _attach_labels(src, spec, root / spec.labels.path)
    return src


def _attach_labels(src: _Source, spec: DatasetSpec, path: Path) -> None:
    """Add ``meta["split"]`` from the labels CSV and check its targets agree with the records."""
    rows = {r[spec.id_key]: r for r in _read_labels(path)}
    split = []
    for i, rid in enumerate(src.ids):
        row = rows.get(rid)
        if row is None:
            src.bad.setdefault(i, f"id not in the labels file {path.name}")
            split.append("")
            continue
        split.append(row["split"])
        for t in spec.targets:
            try:
                a, b = _to_float(src.targets[t][i]), _to_float(row[t])
            except (TypeError, ValueError):
                continue  # reported by the prescreen
            if math.isfinite(a) and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
                src.bad.setdefault(i, f"target {t!r} = {a} disagrees with {path.name} ({b})")
    src.meta["split"] = split


def load(name: str, *, root: str | Path | None = None, skip_bad: bool = False,
         progress: bool = True, n_jobs: int | None = None, cache: bool = True,
         return_report: bool = False):
    """Load a registry dataset (``mp2018``, ``castelli_perovskites``, ``hoip``).

    The first call checks the files' sha256, parses every CIF with pymatgen in
    parallel and caches the arrays; later calls check the sha256 and read the cache
    (a few seconds for mp2018).

    Args:
        name: registry key (see ``ctlib.data.REGISTRY``).
        root: data folder; default :func:`data_root` (``$CTLIB_DATA`` or ``data/``).
        skip_bad: drop invalid records (with a :class:`DataWarning` and the full list in
            the report) instead of raising :class:`DataError`.
        progress: show a tqdm bar while parsing.
        n_jobs: worker processes for parsing; None = all available cores.
        cache: read/write ``$CTLIB_CACHE/datasets/<name>-<sha[:12]>.npz``.
        return_report: also return the :class:`LoadReport`.

    Returns:
        ``CrystalDataset`` (or ``(dataset, report)``) with ``targets`` in the units of
        ``REGISTRY[name].targets`` and ``meta`` columns: mp2018 ``split``
        (train/val/test); castelli ``row``, ``formula``, ``gap_is_direct``; hoip
        ``hoip_id``, ``khazana_id``, ``label``, ``organic_cation``.

    Raises:
        DataError: a file is missing or its checksum differs; a record is invalid.
    """
    spec = get_spec(name)
    root = Path(root) if root is not None else data_root()
    shas = [_check_file(root / f.path, f.sha256, name) for f in spec.files]
    stem = f"{name}-{_combine_sha(shas)[:12]}"
    key = {"loader": "registry", "targets": spec.targets, "required": spec.required,
           "meta": spec.meta_fields, "labels": spec.labels is not None}
    return _load_or_build(stem, key, lambda: _registry_source(spec, root, shas), cache=cache,
                          skip_bad=skip_bad, progress=progress, n_jobs=n_jobs,
                          where=str(root / spec.structures.path), return_report=return_report)


def benchmark_counts(name: str, *, root: str | Path | None = None) -> dict[str, dict[str, int]]:
    """Size of the full benchmark vs what has a structure here, per split.

    Returns ``{"benchmark": {"total", "train", "val", "test"}, "with_structure": {...}}``.
    For mp2018 both come from the labels CSV (69,239 ids; 51,222 with a structure);
    the perovskite sets are complete, so both are ``{"total": n_records}``.
    """
    spec = get_spec(name)
    if spec.labels is None:
        return {"benchmark": {"total": spec.n_records}, "with_structure": {"total": spec.n_records}}
    root = Path(root) if root is not None else data_root()
    path = root / spec.labels.path
    _check_file(path, spec.labels.sha256, name)
    rows = _read_labels(path)
    out = {"benchmark": Counter(), "with_structure": Counter()}
    for r in rows:
        for key, ok in (("benchmark", True), ("with_structure", r["has_structure"] == "1")):
            if ok:
                out[key]["total"] += 1
                out[key][r["split"]] += 1
    return {k: dict(v) for k, v in out.items()}
