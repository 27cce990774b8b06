"""The in-memory form of a crystal dataset: compact arrays, no pymatgen objects.

Every loader (registry datasets, a user's CIF folder, MEGNet-schema JSON) ends
in a :class:`CrystalDataset`; every featurizer and model input starts from one.
Atoms of all structures are stored concatenated, CSR style::

    structure i  ->  atoms ptr[i] : ptr[i + 1]
    numbers[ptr[i]:ptr[i+1]]        atomic numbers Z (1..100)
    frac_coords[ptr[i]:ptr[i+1]]    fractional coordinates, shape (n_i, 3)
    lattices[i]                     lattice, shape (3, 3), rows are a, b, c in Å
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_Z = 100  # every table in ctlib covers Z = 1..100

#: The sets of the stored runs, keyed until 2026-11-30 by a fingerprint of their exact
#: float bits, which one machine (an Intel CPU with AVX-512) computed. Its value for each
#: set is kept, so that those runs stay found on any machine: fingerprint of the rounded
#: content (the rule of :attr:`CrystalDataset.fingerprint`) -> the fingerprint the runs
#: carry. tools/legacy_fingerprints.py prints the table: it matched each pair by set name,
#: source sha256 and size, and among the Matbench folds by the records' training normaliser.
LEGACY_FINGERPRINTS = {
    "f140e156c88df30e": "447caea4662160cd",  # castelli_perovskites, 3,334 structures
    "2d33550fe9843ea9": "71b41e741d3ff457",  # castelli_perovskites, 5,536 structures (a Matbench fold)
    "6065923743468e34": "587fbf2881cca464",  # hoip, 1,346 structures
    "ff4af3c1c879dc69": "2962bef2099c2406",  # mp2018, 4,876 structures
    "53eeae6c2b2a6525": "58e005315d61380b",  # mp2018, 51,222 structures
}


def _stable(a: np.ndarray) -> np.ndarray:
    """``a`` rounded to 5 decimals, -0.0 made 0.0: float noise of the last bits removed."""
    return np.round(np.asarray(a, dtype=np.float64), 5) + 0.0


def _atomic_numbers(structure, sid) -> np.ndarray:
    """(n,) int16 atomic numbers of a pymatgen Structure; ValueError naming ``sid`` when a
    site is not a chemical element or lies outside Z = 1..100 (instead of an int16 overflow)."""
    z = np.empty(len(structure), dtype=np.int16)
    for i, site in enumerate(structure):
        sp = site.specie
        symbol = getattr(sp, "symbol", str(sp))
        number = getattr(sp, "Z", None)
        if type(sp).__name__ == "DummySpecies" or not isinstance(number, (int, np.integer)) \
                or number < 1:
            raise ValueError(f"structure {sid}: site {i} holds {symbol!r}, which is not a chemical "
                             f"element; use element symbols of Z=1..{MAX_Z}")
        if number > MAX_Z:
            raise ValueError(f"structure {sid}: site {i} holds {symbol} (Z={number}); ctlib "
                             f"models cover Z=1..{MAX_Z} only")
        z[i] = number
    return z


@dataclass
class CrystalDataset:
    """A set of periodic crystals with per-structure targets.

    Attributes:
        name: dataset name (registry key, or a user label).
        source_sha256: sha256 of the source file(s) it was parsed from.
        ids: (n,) str, one id per structure, unique.
        numbers: (n_atoms_total,) int16, atomic numbers Z.
        frac_coords: (n_atoms_total, 3) float64, fractional coordinates.
        lattices: (n, 3, 3) float64, lattice vectors as rows, Å.
        ptr: (n + 1,) int64, CSR offsets into the atom arrays.
        targets: name -> (n,) float64 target values (NaN allowed only for
            targets the registry marks optional; see ``require_target``).
        units: name -> unit string for every target.
        meta: name -> (n,) per-structure columns (e.g. "split", "row").
    """

    name: str
    source_sha256: str
    ids: np.ndarray
    numbers: np.ndarray
    frac_coords: np.ndarray
    lattices: np.ndarray
    ptr: np.ndarray
    targets: dict[str, np.ndarray] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    meta: dict[str, np.ndarray] = field(default_factory=dict)
    _fingerprint_memo: tuple | None = field(default=None, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"CrystalDataset({self.name!r}, n={len(self)}, atoms={len(self.numbers)}, "
                f"targets={sorted(self.targets)})")

    @property
    def natoms(self) -> np.ndarray:
        """(n,) int64 number of atoms per structure."""
        return np.diff(self.ptr)

    @property
    def fingerprint(self) -> str:
        """16-hex content hash: the cache key for everything derived from this set, and
        the dataset's name in a run's config hash (:func:`ctlib.runs.run`).

        It must not depend on the machine. The same CIF bytes, parsed by the same code
        and packages, gave other float bits on an AMD CPU without AVX-512 than on the
        Intel AVX-512 machine that trained the stored runs: every set's exact-bit hash
        differed. pymatgen builds lattices from cell lengths and angles with numpy's
        trigonometry, whose SIMD code differs between such CPUs, and 61,770 MP-2018
        lattice entries are residues such as 2e-16. So coordinates and lattices enter rounded to 1e-5
        (fractional / Å), with -0.0 made 0.0; atomic numbers, offsets and ids enter
        exactly. A hash the stored runs were keyed by before this rule is mapped back by
        :data:`LEGACY_FINGERPRINTS`.

        Hashing MP-2018 takes about 50 ms, and looking up a campaign's 300 runs asks for
        it each time, so the value is kept while the set holds the same array objects
        (a new array assigned to a field is hashed afresh; a set is never edited in place).
        """
        key = (self.source_sha256, *map(id, (self.ids, self.numbers, self.frac_coords, self.lattices, self.ptr)))
        if self._fingerprint_memo is None or self._fingerprint_memo[0] != key:
            fp = self.content_fingerprint()
            self._fingerprint_memo = (key, LEGACY_FINGERPRINTS.get(fp, fp))
        return self._fingerprint_memo[1]

    def content_fingerprint(self) -> str:
        """16-hex hash of the set's content by the rule of :attr:`fingerprint`, before
        the legacy map."""
        h = hashlib.sha256()
        h.update(self.source_sha256.encode())
        for a in (self.numbers, _stable(self.frac_coords), _stable(self.lattices), self.ptr):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update("\x00".join(map(str, self.ids)).encode())
        return h.hexdigest()[:16]

    def atoms(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (numbers (n_i,), frac_coords (n_i, 3), lattice (3, 3)) of structure i."""
        s, e = self.ptr[i], self.ptr[i + 1]
        return self.numbers[s:e], self.frac_coords[s:e], self.lattices[i]

    def cart_coords(self, i: int) -> np.ndarray:
        """(n_i, 3) Cartesian coordinates of structure i in Å."""
        _, f, lat = self.atoms(i)
        return f @ lat

    def structure(self, i: int):
        """Structure i as a pymatgen ``Structure`` (imports pymatgen lazily)."""
        from pymatgen.core import Lattice, Structure

        z, f, lat = self.atoms(i)
        return Structure(Lattice(lat), [int(x) for x in z], f, coords_are_cartesian=False)

    def require_target(self, target: str) -> np.ndarray:
        """Return the (n,) target array, raising a clear error on NaN or absence."""
        if target not in self.targets:
            raise KeyError(f"dataset {self.name!r} has no target {target!r}; "
                           f"available: {sorted(self.targets)}")
        y = self.targets[target]
        bad = np.flatnonzero(~np.isfinite(y))
        if len(bad):
            ex = ", ".join(str(self.ids[j]) for j in bad[:5])
            raise ValueError(f"dataset {self.name!r}: target {target!r} is NaN/inf for "
                             f"{len(bad)} record(s), e.g. {ex}. Drop them with "
                             f"ds.subset(np.isfinite(ds.targets[{target!r}])) or fix the source.")
        return y

    # ---------------------------------------------------------------- subsets
    def subset(self, idx) -> "CrystalDataset":
        """A new dataset holding structures ``idx`` (int indices or a bool mask), in that order."""
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64)
        counts = self.natoms[idx]
        ptr = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        atom_idx = (np.concatenate([np.arange(self.ptr[i], self.ptr[i + 1]) for i in idx])
                    if len(idx) else np.zeros(0, dtype=np.int64))
        return CrystalDataset(
            name=self.name,
            source_sha256=self.source_sha256,
            ids=self.ids[idx],
            numbers=self.numbers[atom_idx],
            frac_coords=self.frac_coords[atom_idx],
            lattices=self.lattices[idx],
            ptr=ptr,
            targets={k: v[idx] for k, v in self.targets.items()},
            units=dict(self.units),
            meta={k: v[idx] for k, v in self.meta.items()},
        )

    # --------------------------------------------------------------- builders
    @classmethod
    def from_structures(cls, structures, ids=None, targets=None, name="custom",
                        units=None, meta=None, source_sha256="in-memory") -> "CrystalDataset":
        """Build from pymatgen ``Structure`` objects (ordered, fully occupied).

        Args:
            structures: sequence of pymatgen Structures.
            ids: sequence of str ids (default "0", "1", ...).
            targets: name -> sequence of floats, one per structure.

        Raises:
            ValueError: a site is not an element (e.g. ``Xx``, a DummySpecies) or
                its element is outside Z = 1..100; the message names the structure id.
        """
        n = len(structures)
        ids = np.array([str(i) for i in (ids if ids is not None else range(n))], dtype=object)
        nums, fracs, lats, counts = [], [], [], []
        for sid, s in zip(ids, structures):
            nums.append(_atomic_numbers(s, sid))
            fracs.append(np.asarray(s.frac_coords, dtype=np.float64).reshape(-1, 3))
            lats.append(np.asarray(s.lattice.matrix, dtype=np.float64))
            counts.append(len(s))
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        return cls(
            name=name,
            source_sha256=source_sha256,
            ids=ids,
            numbers=np.concatenate(nums) if nums else np.zeros(0, np.int16),
            frac_coords=np.concatenate(fracs) if fracs else np.zeros((0, 3)),
            lattices=np.stack(lats) if lats else np.zeros((0, 3, 3)),
            ptr=ptr,
            targets={k: np.asarray(v, dtype=np.float64) for k, v in (targets or {}).items()},
            units=dict(units or {}),
            meta={k: np.asarray(v) for k, v in (meta or {}).items()},
        )

    # ------------------------------------------------------------------- I/O
    def save(self, path: str | Path) -> None:
        """Write to a single .npz (atomically: tmp file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            "ids": self.ids.astype(str), "numbers": self.numbers, "frac_coords": self.frac_coords,
            "lattices": self.lattices, "ptr": self.ptr,
        }
        for k, v in self.targets.items():
            arrays[f"target__{k}"] = v
        for k, v in self.meta.items():
            arrays[f"meta__{k}"] = v.astype(str) if v.dtype == object else v
        header = {"name": self.name, "source_sha256": self.source_sha256, "units": self.units}
        arrays["header"] = np.array(json.dumps(header))
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "CrystalDataset":
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            targets = {k[len("target__"):]: z[k] for k in z.files if k.startswith("target__")}
            meta = {k[len("meta__"):]: z[k] for k in z.files if k.startswith("meta__")}
            return cls(
                name=header["name"], source_sha256=header["source_sha256"],
                ids=z["ids"].astype(object), numbers=z["numbers"], frac_coords=z["frac_coords"],
                lattices=z["lattices"], ptr=z["ptr"], targets=targets,
                units=header.get("units", {}), meta=meta,
            )
