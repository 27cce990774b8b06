"""Model inputs from a :class:`~ctlib.data.dataset.CrystalDataset`.

Three periodic neighbour graphs (built once, cached on disk), two collate
functions that turn a list of structure indices into a
:class:`~ctlib.data.batch.GraphBatch` or :class:`~ctlib.data.batch.CTBatch`,
and a re-iterable loader with seeded, per-epoch shuffling.

Graph kinds and their parameters (defaults in :data:`GRAPH_KINDS`):

``crystal_graph`` (CGCNN; ``cutoff=8.0`` Å, ``max_neighbors=12``)
    Each atom i receives edges from its 12 nearest neighbours j within 8 Å,
    counted over periodic images (the atom's own images included, the atom
    itself at zero offset excluded). Where fewer than 12 lie within 8 Å, the
    ones found are kept (CGCNN instead pads with fake far neighbours; ALIGNN
    grows the cutoff). Ties are broken deterministically: neighbours are
    ordered by distance (rounded to 1e-6 Å), then neighbour index, then image
    offset (n_a, n_b, n_c), and the first 12 are kept.
``megnet_graph`` (MEGNet; ``cutoff=4.0`` Å, ``max_neighbors=None``)
    Every neighbour within 4 Å, same conventions, no cap.
``line_graph`` (ALIGNN; ``cutoff=8.0``, ``max_neighbors=12``)
    The crystal graph plus its line graph: one line-graph edge a -> b for every
    pair of bonds a = (k -> j) and b = (j -> i) that share atom j (a ends where
    b starts). Its feature is ``cos`` of the bond angle at j between j->k and
    j->i, i.e. ``cos(-vec_a, vec_b)`` with ``vec = r_src + image - r_dst``.
    As in ALIGNN (DGL ``line_graph`` with backtracking), the pair in which bond
    a leads straight back to atom i (k == i at the same image, cos = 1) is kept
    whenever that reverse bond exists. Unlike ALIGNN, the k-nearest-neighbour
    graph is not symmetrised (every atom keeps exactly its own <= 12 in-edges),
    so the bond graph is the same one CGCNN uses.

Edges always point from neighbour (source, row 0) to centre (target, row 1)
and are stored grouped by centre, in the tie-break order above.

Cache: one uncompressed ``.npz`` per (dataset fingerprint, kind, parameters) in
``$CTLIB_CACHE/graphs/`` (default ``.cache/ctlib/graphs``), written atomically.
Gaussian/RBF expansions are not cached; models compute them on the fly.
"""
from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ctlib.utils import resolve_n_jobs

from .batch import CTBatch, GraphBatch
from .dataset import CrystalDataset
from .registry import cache_root

#: Default parameters of every graph kind. Unknown kinds / parameters are rejected.
GRAPH_KINDS: dict[str, dict] = {
    "crystal_graph": {"cutoff": 8.0, "max_neighbors": 12},
    "megnet_graph": {"cutoff": 4.0, "max_neighbors": None},
    "line_graph": {"cutoff": 8.0, "max_neighbors": 12},
}
#: Every kind :func:`make_loader` accepts.
LOADER_KINDS = ("ct", *GRAPH_KINDS)

_CACHE_VERSION = 1      # bump when the stored layout or the neighbour rules change
_TIE_DECIMALS = 6       # distances equal to 1e-6 Å count as ties
_CHUNK = 256            # structures per worker task
_R0_MARGIN = 2          # first search sphere holds ~this many times k atoms on average


# =========================================================================== graph set
@dataclass
class GraphSet:
    """Per-structure periodic graphs of one dataset, stored CSR style.

    Structure s owns edges ``edge_ptr[s]:edge_ptr[s+1]`` and (line graph only)
    line-graph edges ``lg_ptr[s]:lg_ptr[s+1]``. Atom and edge indices are local
    to their structure (0-based); collation adds the batch offsets.

    Attributes:
        kind: one of :data:`GRAPH_KINDS`.
        params: the parameters it was built with (cutoff in Å, max_neighbors).
        fingerprint: ``ds.fingerprint`` of the dataset it belongs to.
        natoms: (n,) int64 atoms per structure (a cheap consistency check).
        edge_ptr: (n + 1,) int64 CSR offsets into the edge arrays.
        src: (E,) int32 local index of the neighbour j (message source).
        dst: (E,) int32 local index of the centre i (message target).
        dist: (E,) float32 |r_j + image - r_i| in Å.
        vec: (E, 3) float32 r_j + image - r_i in Å (Cartesian).
        lg_ptr, lg_src, lg_dst, cos: line graph only, else None.
            lg_ptr (n + 1,) int64; lg_src / lg_dst (T,) int32 local edge
            indices of bond a = (k -> j) and bond b = (j -> i); cos (T,) float32
            = cos(-vec_a, vec_b).
    """

    kind: str
    params: dict
    fingerprint: str
    natoms: np.ndarray
    edge_ptr: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    dist: np.ndarray
    vec: np.ndarray
    lg_ptr: np.ndarray | None = None
    lg_src: np.ndarray | None = None
    lg_dst: np.ndarray | None = None
    cos: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.natoms)

    def __repr__(self) -> str:
        extra = f", line_edges={len(self.lg_src)}" if self.lg_src is not None else ""
        return (f"GraphSet({self.kind!r}, {self.params}, n={len(self)}, "
                f"edges={len(self.src)}{extra})")

    @property
    def n_edges(self) -> np.ndarray:
        """(n,) int64 edges per structure."""
        return np.diff(self.edge_ptr)

    def graph(self, i: int) -> dict[str, np.ndarray]:
        """Arrays of structure i (views): src, dst, dist, vec (+ lg_src, lg_dst, cos)."""
        s, e = self.edge_ptr[i], self.edge_ptr[i + 1]
        out = {"src": self.src[s:e], "dst": self.dst[s:e], "dist": self.dist[s:e],
               "vec": self.vec[s:e]}
        if self.lg_ptr is not None:
            a, b = self.lg_ptr[i], self.lg_ptr[i + 1]
            out.update(lg_src=self.lg_src[a:b], lg_dst=self.lg_dst[a:b], cos=self.cos[a:b])
        return out

    # ---------------------------------------------------------------- I/O
    def save(self, path: str | Path) -> None:
        """Write one uncompressed .npz, atomically (tmp file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"kind": self.kind, "params": self.params, "fingerprint": self.fingerprint,
                  "version": _CACHE_VERSION}
        arrays = {"header": np.array(json.dumps(header)), "natoms": self.natoms,
                  "edge_ptr": self.edge_ptr, "src": self.src, "dst": self.dst,
                  "dist": self.dist, "vec": self.vec}
        if self.lg_ptr is not None:
            arrays.update(lg_ptr=self.lg_ptr, lg_src=self.lg_src, lg_dst=self.lg_dst,
                          cos=self.cos)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        try:
            np.savez(tmp, **arrays)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | Path) -> "GraphSet":
        """Read a file written by :meth:`save` (raises ValueError on a stale layout)."""
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if header.get("version") != _CACHE_VERSION:
                raise ValueError(f"graph cache {path} has layout version {header.get('version')}, "
                                 f"expected {_CACHE_VERSION}; delete the file to rebuild it.")
            lg = {k: z[k] for k in ("lg_ptr", "lg_src", "lg_dst", "cos") if k in z.files}
            return cls(kind=header["kind"], params=header["params"],
                       fingerprint=header["fingerprint"], natoms=z["natoms"],
                       edge_ptr=z["edge_ptr"], src=z["src"], dst=z["dst"], dist=z["dist"],
                       vec=z["vec"], **lg)


# ====================================================================== neighbour search
def _check_params(kind: str, params: dict) -> dict:
    """Merge ``params`` into the kind's defaults, validating names and values."""
    if kind not in GRAPH_KINDS:
        raise ValueError(f"unknown graph kind {kind!r}; choose one of {sorted(GRAPH_KINDS)}")
    unknown = set(params) - set(GRAPH_KINDS[kind])
    if unknown:
        raise TypeError(f"build_graphs(kind={kind!r}) got unknown parameter(s) "
                        f"{sorted(unknown)}; allowed: {sorted(GRAPH_KINDS[kind])}")
    p = {**GRAPH_KINDS[kind], **params}
    cutoff = p["cutoff"]
    if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) \
            or not math.isfinite(cutoff) or cutoff <= 0:
        raise ValueError(f"cutoff must be a positive finite number of Å, got {cutoff!r}")
    p["cutoff"] = float(cutoff)
    k = p["max_neighbors"]
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ValueError(f"max_neighbors must be a positive int or None, got {k!r}")
    p["max_neighbors"] = None if k is None else int(k)
    return p


def _search(cart: np.ndarray, lattice: np.ndarray, r: float):
    """All periodic pairs within r Å, the atom itself at zero offset removed.

    Returns (i centre, j neighbour, image (m, 3) int64, dist (m,) float64).
    """
    from pymatgen.optimization.neighbors import find_points_in_spheres

    i, j, img, d = find_points_in_spheres(cart, cart, r=r, pbc=np.ones(3, np.int64),
                                          lattice=lattice, tol=1e-8)
    img = np.rint(img).astype(np.int64)
    keep = (i != j) | img.any(axis=1)
    return i[keep], j[keep], img[keep], d[keep]


def _order(i, j, img, d) -> np.ndarray:
    """Permutation sorting pairs by centre, rounded distance, neighbour, image.

    The keys are packed into two int64s (centre + distance in µÅ; neighbour +
    image) so one two-key lexsort does the work of a six-key one.
    """
    d_int = np.rint(d * 10 ** _TIE_DECIMALS).astype(np.int64)
    primary = i * (int(d_int.max(initial=0)) + 1) + d_int
    lo = img.min(initial=0)
    width = int(img.max(initial=0)) - int(lo) + 1
    im = img - lo
    secondary = ((j * width + im[:, 0]) * width + im[:, 1]) * width + im[:, 2]
    return np.lexsort((secondary, primary))


def structure_edges(frac: np.ndarray, lattice: np.ndarray, cutoff: float,
                    max_neighbors: int | None):
    """Neighbour edges of one crystal.

    Args:
        frac: (n, 3) fractional coordinates (any range; images are relative to them).
        lattice: (3, 3) lattice rows a, b, c in Å.
        cutoff: radius in Å.
        max_neighbors: keep at most this many nearest neighbours per centre (None: all).

    Returns:
        src (E,) int64 neighbour j, dst (E,) int64 centre i (sorted), dist (E,)
        float64 in Å, vec (E, 3) float64 = r_j + image - r_i in Å.
    """
    lattice = np.ascontiguousarray(lattice, dtype=np.float64)
    cart = np.ascontiguousarray(frac @ lattice)
    n = len(cart)
    if n == 0:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 3)))
    i = j = img = d = None
    if max_neighbors is not None:
        # Most crystals have their k nearest neighbours well inside the cutoff:
        # search a smaller sphere that holds ~_R0_MARGIN * k atoms at the mean density and
        # fall back to the full cutoff only if some atom has < k neighbours
        # strictly inside it (so ties at the boundary cannot be cut).
        volume = abs(np.linalg.det(lattice))
        r0 = (3 * _R0_MARGIN * max_neighbors * volume / (4 * math.pi * n)) ** (1 / 3)
        if r0 < cutoff:
            i, j, img, d = _search(cart, lattice, r0)
            inside = d < r0 - 2 * 10 ** -_TIE_DECIMALS
            if np.bincount(i[inside], minlength=n).min() < max_neighbors:
                i = None
    if i is None:
        i, j, img, d = _search(cart, lattice, cutoff)
    o = _order(i, j, img, d)
    i, j, img = i[o], j[o], img[o]
    if max_neighbors is not None:
        start = np.searchsorted(i, np.arange(n))
        rank = np.arange(len(i)) - start[i]
        keep = rank < max_neighbors
        i, j, img = i[keep], j[keep], img[keep]
    vec = cart[j] + img @ lattice - cart[i]
    dist = np.sqrt(np.einsum("ij,ij->i", vec, vec))
    return j, i, dist, vec


def line_graph_edges(src: np.ndarray, dst: np.ndarray, vec: np.ndarray, n_atoms: int):
    """Line graph of one crystal graph whose edges are grouped by ``dst``.

    Args:
        src, dst: (E,) neighbour / centre atom indices; dst sorted ascending.
        vec: (E, 3) bond vectors r_src + image - r_dst in Å.
        n_atoms: atoms in the crystal.

    Returns:
        lg_src (T,) int64 bond a = (k -> j), lg_dst (T,) int64 bond b = (j -> i),
        cos (T,) float64 = cos(-vec_a, vec_b), the angle at j between j->k and
        j->i. Pairs are ordered by b, then a.
    """
    count = np.bincount(dst, minlength=n_atoms)       # bonds ending at each atom
    start = np.zeros(n_atoms + 1, np.int64)
    np.cumsum(count, out=start[1:])
    rep = count[src]                                  # bonds a feeding each bond b
    lg_dst = np.repeat(np.arange(len(src)), rep)
    first = np.zeros(len(src), np.int64)
    np.cumsum(rep[:-1], out=first[1:])
    lg_src = np.repeat(start[src] - first, rep) + np.arange(len(lg_dst))
    va, vb = vec[lg_src], vec[lg_dst]
    norm = np.sqrt(np.einsum("ij,ij->i", va, va) * np.einsum("ij,ij->i", vb, vb))
    cos = -np.einsum("ij,ij->i", va, vb) / np.maximum(norm, 1e-12)
    return lg_src, lg_dst, np.clip(cos, -1.0, 1.0)


def _build_chunk(args) -> dict[str, np.ndarray]:
    """Worker: graphs of a run of structures, concatenated (local indices)."""
    frac, lattices, ptr, kind, p = args
    parts: dict[str, list] = {k: [] for k in ("src", "dst", "dist", "vec", "n_e")}
    if kind == "line_graph":
        parts.update(lg_src=[], lg_dst=[], cos=[], n_t=[])
    for s in range(len(lattices)):
        a, b = ptr[s] - ptr[0], ptr[s + 1] - ptr[0]
        src, dst, dist, vec = structure_edges(frac[a:b], lattices[s], p["cutoff"],
                                              p["max_neighbors"])
        parts["src"].append(src); parts["dst"].append(dst)
        parts["dist"].append(dist); parts["vec"].append(vec); parts["n_e"].append(len(src))
        if kind == "line_graph":
            ls, ld, cos = line_graph_edges(src, dst, vec, b - a)
            parts["lg_src"].append(ls); parts["lg_dst"].append(ld)
            parts["cos"].append(cos); parts["n_t"].append(len(ls))
    dtypes = {"src": np.int32, "dst": np.int32, "dist": np.float32, "vec": np.float32,
              "lg_src": np.int32, "lg_dst": np.int32, "cos": np.float32}
    out = {k: np.asarray(parts.pop(k), dtype=np.int64) for k in ("n_e", "n_t") if k in parts}
    for k, v in parts.items():     # chunks are never empty
        out[k] = np.concatenate(v).astype(dtypes[k])
    return out


def _pool_context():
    """'fork' where available (workers inherit imports: fast start), else 'spawn'."""
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods and sys.platform != "darwin" else "spawn")


def _read_graph_cache(path: Path) -> GraphSet | None:
    """A cached GraphSet, or None (with a warning naming the file) when the file is damaged
    (truncated .npz, missing arrays) or has an old layout: it is then rebuilt and rewritten."""
    import warnings
    import zipfile

    try:
        return GraphSet.load(path)
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as e:
        warnings.warn(f"graph cache {path} cannot be read ({type(e).__name__}: {str(e)[:120]}); "
                      f"building the graphs again and rewriting the cache", UserWarning,
                      stacklevel=3)
        return None


def graph_cache_path(ds: CrystalDataset, kind: str, **params) -> Path:
    """Where :func:`build_graphs` caches ``kind`` graphs of ``ds`` with ``params``."""
    p = _check_params(kind, params)
    key = json.dumps({"kind": kind, "params": p, "v": _CACHE_VERSION}, sort_keys=True)
    tag = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_root() / "graphs" / f"{ds.fingerprint}_{kind}_{tag}.npz"


def build_graphs(ds: CrystalDataset, kind: str, *, cache: bool = True, progress: bool = True,
                 n_jobs: int | None = None, **params) -> GraphSet:
    """Periodic neighbour graphs of every structure in ``ds``.

    Args:
        ds: the dataset.
        kind: ``crystal_graph``, ``megnet_graph`` or ``line_graph`` (see module doc).
        cache: read / write ``$CTLIB_CACHE/graphs/<fingerprint>_<kind>_<params>.npz``.
        progress: show a tqdm bar while building.
        n_jobs: worker processes (None: all cores; 1: in this process).
        **params: ``cutoff`` (Å) and ``max_neighbors`` overriding the kind's
            defaults in :data:`GRAPH_KINDS`; anything else raises TypeError.

    Returns:
        A :class:`GraphSet` aligned with ``ds`` (structure s of both is the same).
    """
    p = _check_params(kind, params)
    jobs = resolve_n_jobs(n_jobs)
    path = graph_cache_path(ds, kind, **params) if cache else None
    fp = ds.fingerprint
    if path is not None and path.exists():
        gs = _read_graph_cache(path)
        if gs is not None and gs.fingerprint == fp and gs.kind == kind and gs.params == p \
                and np.array_equal(gs.natoms, ds.natoms):
            return gs

    n = len(ds)
    tasks = [(ds.frac_coords[ds.ptr[a]:ds.ptr[b]], ds.lattices[a:b], ds.ptr[a:b + 1], kind, p)
             for a, b in ((a, min(a + _CHUNK, n)) for a in range(0, n, _CHUNK))]
    from tqdm.auto import tqdm

    bar = tqdm(total=n, desc=f"{kind} ({ds.name})", unit="struct", disable=not progress)
    results = []
    if jobs == 1 or len(tasks) <= 1:
        for t in tasks:
            results.append(_build_chunk(t))
            bar.update(len(t[1]))
    else:
        with _pool_context().Pool(min(jobs, len(tasks))) as pool:
            for t, r in zip(tasks, pool.imap(_build_chunk, tasks)):
                results.append(r)
                bar.update(len(t[1]))
    bar.close()

    def cat(key, dtype, shape=(0,)):
        # pop each part as it is copied: peak memory ~ result + one array's parts
        parts = [r.pop(key) for r in results]
        return np.concatenate(parts) if parts else np.zeros(shape, dtype)

    def ptr_of(key):
        out = np.zeros(n + 1, np.int64)
        np.cumsum(cat(key, np.int64), out=out[1:])
        return out

    gs = GraphSet(kind=kind, params=p, fingerprint=fp, natoms=ds.natoms.astype(np.int64),
                  edge_ptr=ptr_of("n_e"), src=cat("src", np.int32), dst=cat("dst", np.int32),
                  dist=cat("dist", np.float32), vec=cat("vec", np.float32, (0, 3)))
    if kind == "line_graph":
        gs.lg_ptr, gs.lg_src = ptr_of("n_t"), cat("lg_src", np.int32)
        gs.lg_dst, gs.cos = cat("lg_dst", np.int32), cat("cos", np.float32)
    del results
    if path is not None:
        gs.save(path)
    return gs


# ============================================================================ batching
def _gather_ranges(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(ptr[i], ptr[i+1])`` for i in idx, and the per-i counts."""
    start = ptr[idx]
    count = ptr[idx + 1] - start
    total = int(count.sum())
    first = np.zeros(len(idx), np.int64)
    np.cumsum(count[:-1], out=first[1:])
    return np.repeat(start - first, count) + np.arange(total), count


def _as_index(ds_len: int, idx) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    if idx.ndim != 1 or (len(idx) and not np.issubdtype(idx.dtype, np.integer)):
        raise ValueError(f"idx must be a 1-d array of structure indices, got shape {idx.shape} "
                         f"dtype {idx.dtype}")
    idx = idx.astype(np.int64)
    if len(idx) and (idx.min() < 0 or idx.max() >= ds_len):
        raise IndexError(f"structure index out of range: min {idx.min()}, max {idx.max()}, "
                         f"dataset has {ds_len} structures")
    return idx


def _targets(ds: CrystalDataset, idx: np.ndarray, targets: Sequence[str]) -> np.ndarray:
    """(B, K) float32 target matrix (NaN kept: the trainer masks missing labels)."""
    if isinstance(targets, str):
        targets = [targets]
    y = np.empty((len(idx), len(targets)), np.float32)
    for k, t in enumerate(targets):
        if t not in ds.targets:
            raise KeyError(f"dataset {ds.name!r} has no target {t!r}; "
                           f"available: {sorted(ds.targets)}")
        y[:, k] = ds.targets[t][idx]
    return y


def _cart(ds: CrystalDataset, atom_idx: np.ndarray, struct_of_atom: np.ndarray) -> np.ndarray:
    """(N, 3) float64 Cartesian coordinates (Å) of the given atoms."""
    return np.einsum("ni,nij->nj", ds.frac_coords[atom_idx], ds.lattices[struct_of_atom])


def collate_graphs(ds: CrystalDataset, gs: GraphSet, idx, targets: Sequence[str]) -> GraphBatch:
    """Join the graphs of structures ``idx`` into one :class:`GraphBatch`.

    Args:
        ds: the dataset ``gs`` was built from.
        gs: its graphs (:func:`build_graphs`).
        idx: (B,) structure indices (the batch order).
        targets: K target names; ``y[b, k] = ds.targets[targets[k]][idx[b]]``.

    Returns:
        GraphBatch with global atom indices (edges of graph b are offset by the
        atoms of graphs 0..b-1; line-graph edges by their edges), ``pos`` in
        Cartesian Å, float tensors float32, index tensors int64.
    """
    idx = _as_index(len(ds), idx)
    if len(gs) != len(ds) or not np.array_equal(gs.natoms[idx], ds.natoms[idx]):
        raise ValueError(f"GraphSet ({gs.kind}, {len(gs)} structures) does not belong to "
                         f"dataset {ds.name!r} ({len(ds)}); rebuild it with build_graphs(ds, ...).")
    atoms, n_atoms = _gather_ranges(ds.ptr, idx)
    edges, n_edges = _gather_ranges(gs.edge_ptr, idx)
    b = len(idx)
    graph_of_atom = np.repeat(np.arange(b), n_atoms)
    atom_off = np.zeros(b, np.int64)
    np.cumsum(n_atoms[:-1], out=atom_off[1:])
    edge_off = np.repeat(atom_off, n_edges)
    edge_index = np.stack([gs.src[edges] + edge_off, gs.dst[edges] + edge_off])
    lg_index = lg_cos = None
    if gs.lg_ptr is not None:
        lg, n_lg = _gather_ranges(gs.lg_ptr, idx)
        e_off = np.zeros(b, np.int64)
        np.cumsum(n_edges[:-1], out=e_off[1:])
        lg_off = np.repeat(e_off, n_lg)
        lg_index = torch.from_numpy(np.stack([gs.lg_src[lg] + lg_off, gs.lg_dst[lg] + lg_off]))
        lg_cos = torch.from_numpy(gs.cos[lg])
    return GraphBatch(
        z=torch.from_numpy(ds.numbers[atoms].astype(np.int64)),
        pos=torch.from_numpy(_cart(ds, atoms, idx[graph_of_atom]).astype(np.float32)),
        batch=torch.from_numpy(graph_of_atom),
        edge_index=torch.from_numpy(edge_index),
        edge_dist=torch.from_numpy(gs.dist[edges]),
        edge_vec=torch.from_numpy(gs.vec[edges]),
        y=torch.from_numpy(_targets(ds, idx, targets)),
        num_graphs=b,
        lg_edge_index=lg_index,
        lg_cos=lg_cos,
    )


def collate_ct(ds: CrystalDataset, idx, targets: Sequence[str]) -> CTBatch:
    """Pad structures ``idx`` into one :class:`CTBatch` for the CrystalTransformer.

    Atoms keep their stored (CIF) order; L is the largest crystal in the batch.

    Returns:
        CTBatch: z (B, L) int64 (0 at padding), pos (B, L, 3) float32 Cartesian
        Å (0 at padding), mask (B, L) bool True at padding, y (B, K) float32,
        lattice (B, 3, 3) float32 rows in Å.
    """
    idx = _as_index(len(ds), idx)
    atoms, n_atoms = _gather_ranges(ds.ptr, idx)
    b, length = len(idx), int(n_atoms.max()) if len(idx) else 0
    row = np.repeat(np.arange(b), n_atoms)
    first = np.zeros(b, np.int64)
    np.cumsum(n_atoms[:-1], out=first[1:])
    col = np.arange(len(atoms)) - np.repeat(first, n_atoms)
    z = np.zeros((b, length), np.int64)
    z[row, col] = ds.numbers[atoms]
    pos = np.zeros((b, length, 3), np.float32)
    pos[row, col] = _cart(ds, atoms, idx[row])
    mask = np.ones((b, length), bool)
    mask[row, col] = False
    return CTBatch(z=torch.from_numpy(z), pos=torch.from_numpy(pos),
                   mask=torch.from_numpy(mask), y=torch.from_numpy(_targets(ds, idx, targets)),
                   lattice=torch.from_numpy(ds.lattices[idx].astype(np.float32)))


# ============================================================================ sampling
def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


class RandomBatchSampler:
    """Batches of positions 0..n-1: a fresh seeded shuffle each epoch, or in order.

    Args:
        n: number of items.
        batch_size: items per batch (the last batch may be smaller).
        shuffle: permute with ``default_rng([seed, epoch])``; False keeps order.
        seed: base seed.
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True, seed: int = 0):
        self.n, self.batch_size = int(n), _check_batch_size(batch_size)
        self.shuffle, self.seed, self.epoch = bool(shuffle), int(seed), 0

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation of ``epoch`` (call before iterating)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self):
        order = (np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
                 if self.shuffle else np.arange(self.n))
        for a in range(0, self.n, self.batch_size):
            yield order[a:a + self.batch_size]


def _cut(pos: np.ndarray, lengths: np.ndarray, batch_size: int, max_tokens: int | None) -> list:
    """Cut ``pos`` (kept in order) into consecutive batches of at most
    ``batch_size`` items whose padded size ``items * max(length)`` stays
    within ``max_tokens`` (a single longer item still gets its own batch)."""
    if max_tokens is None:
        return [pos[a:a + batch_size] for a in range(0, len(pos), batch_size)]
    out, start, longest = [], 0, 0
    for k, n in enumerate(lengths[pos].tolist()):
        grown = max(longest, n)
        if k > start and (k - start >= batch_size or (k - start + 1) * grown > max_tokens):
            out.append(pos[start:k])
            start, grown = k, n
        longest = grown
    if start < len(pos):
        out.append(pos[start:])
    return out


class LengthBucketSampler(RandomBatchSampler):
    """Batches of positions grouped by length, to keep padding small.

    Each epoch: shuffle all positions with ``default_rng([seed, epoch])``, cut
    them into buckets of ``bucket_batches * batch_size``, sort each bucket by
    length (stable), cut it into batches, and shuffle the order of all
    batches. Every position appears exactly once per epoch. With
    ``shuffle=False`` positions come in their given order (no bucketing), so
    predictions line up with the index list.

    With ``max_tokens`` a batch also stops growing once its padded size
    (structures x longest structure) would exceed ``max_tokens``: large cells
    then come in smaller batches. Attention memory grows with B x L^2, and one
    batch of 64 cells padded to ~250 atoms took 16 s of a 20 s CPU epoch
    (see ``benchmarks/throughput.py``).

    Args:
        lengths: (n,) atoms per item.
        batch_size: items per batch.
        shuffle, seed: as in :class:`RandomBatchSampler`.
        bucket_batches: batches per sorting bucket (larger: less padding, less
            randomness).
        max_tokens: cap on padded atoms per batch, or None (no cap).
    """

    def __init__(self, lengths, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 bucket_batches: int = 50, max_tokens: int | None = None):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        super().__init__(len(self.lengths), batch_size, shuffle=shuffle, seed=seed)
        if isinstance(bucket_batches, bool) or not isinstance(bucket_batches, int) \
                or bucket_batches < 1:
            raise ValueError(f"bucket_batches must be a positive int, got {bucket_batches!r}")
        if max_tokens is not None and (isinstance(max_tokens, bool)
                                       or not isinstance(max_tokens, (int, np.integer))
                                       or max_tokens < 1):
            raise ValueError(f"max_tokens must be a positive int or None, got {max_tokens!r}")
        self.bucket_batches = bucket_batches
        self.max_tokens = None if max_tokens is None else int(max_tokens)

    def _batches(self) -> list:
        """The batches of the current epoch, in the order they are yielded."""
        if not self.shuffle:
            return _cut(np.arange(self.n), self.lengths, self.batch_size, self.max_tokens)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.n)
        size = self.bucket_batches * self.batch_size
        batches = []
        for a in range(0, self.n, size):
            bucket = order[a:a + size]
            bucket = bucket[np.argsort(self.lengths[bucket], kind="stable")]
            batches += _cut(bucket, self.lengths, self.batch_size, self.max_tokens)
        return [batches[k] for k in rng.permutation(len(batches))]

    def __len__(self) -> int:
        """Batches in the current epoch (with ``max_tokens`` it may vary by epoch)."""
        return len(self._batches()) if self.max_tokens is not None else super().__len__()

    def __iter__(self):
        yield from self._batches()


class Loader:
    """Re-iterable batches of one index list; see :func:`make_loader`."""

    def __init__(self, ds: CrystalDataset, kind: str, idx: np.ndarray, targets: list[str],
                 sampler: RandomBatchSampler, graphs: GraphSet | None,
                 augment: Callable | None, seed: int):
        self.ds, self.kind, self.idx, self.targets = ds, kind, idx, targets
        self.sampler, self.graphs, self.augment, self.seed = sampler, graphs, augment, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the shuffle and augmentation draws of ``epoch``."""
        self.epoch = int(epoch)
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        gen = None
        if self.augment is not None:
            state = np.random.SeedSequence([self.seed, self.epoch]).generate_state(1, np.uint64)
            gen = torch.Generator().manual_seed(int(state[0]) >> 1)
        for pos in self.sampler:
            sel = self.idx[pos]
            if self.kind == "ct":
                batch = collate_ct(self.ds, sel, self.targets)
                if self.augment is not None:
                    batch = self.augment(batch, gen)
                yield batch
            else:
                batch = collate_graphs(self.ds, self.graphs, sel, self.targets)
                if self.augment is not None:
                    batch = self.augment(batch, gen)
                yield batch


def make_loader(ds: CrystalDataset, kind: str, idx, targets: Sequence[str], batch_size: int,
                shuffle: bool = True, seed: int = 0, graphs: GraphSet | None = None,
                augment: Callable | None = None, max_tokens: int | None = None) -> Loader:
    """Batches of ``ds[idx]`` for one model input kind.

    Args:
        ds: the dataset.
        kind: ``ct`` (padded :class:`CTBatch`, length-bucketed when shuffled)
            or a graph kind of :data:`GRAPH_KINDS` (:class:`GraphBatch`).
        idx: structure indices (or a bool mask) to iterate over.
        targets: target names, the K columns of ``y``.
        batch_size: structures per batch.
        shuffle: fresh seeded order every epoch (``loader.set_epoch(e)``);
            False yields ``idx`` in order.
        seed: seeds shuffling and augmentation (with the epoch).
        graphs: prebuilt graphs of ``ds`` (default: :func:`build_graphs` with
            the kind's defaults, from the cache when present).
        augment: a callable ``(batch, torch.Generator) -> batch``, e.g.
            :class:`ctlib.data.augment.CrystalAugment`, drawn afresh every batch
            (graph batches: only their Cartesian ``pos``/``edge_vec`` change,
            which only an E_a+E_c front reads).
        max_tokens: ``ct`` only; cap on padded atoms (B x L) per batch, so
            large cells come in smaller batches (see :class:`LengthBucketSampler`).

    Returns:
        A :class:`Loader`: iterate it once per epoch; ``len()`` is batches per epoch.
    """
    if kind not in LOADER_KINDS:
        raise ValueError(f"unknown loader kind {kind!r}; choose one of {list(LOADER_KINDS)}")
    idx = _as_index(len(ds), idx)
    targets = [targets] if isinstance(targets, str) else list(targets)
    _targets(ds, idx[:0], targets)          # unknown names fail here, not mid-epoch
    if kind == "ct":
        if graphs is not None:
            raise ValueError("kind='ct' takes no graphs")
        sampler = LengthBucketSampler(ds.natoms[idx], batch_size, shuffle=shuffle, seed=seed,
                                      max_tokens=max_tokens)
    else:
        if max_tokens is not None:
            raise ValueError(f"max_tokens applies to kind='ct' only, not {kind!r}; "
                             "graph batches are not padded")
        if graphs is None:
            graphs = build_graphs(ds, kind)
        elif graphs.kind != kind or graphs.fingerprint != ds.fingerprint:
            raise ValueError(f"graphs ({graphs.kind}, dataset {graphs.fingerprint}) do not match "
                             f"kind {kind!r} / dataset {ds.name!r} ({ds.fingerprint}); "
                             f"build them with build_graphs(ds, {kind!r}).")
        sampler = RandomBatchSampler(len(idx), batch_size, shuffle=shuffle, seed=seed)
    return Loader(ds, kind, idx, targets, sampler, graphs, augment, int(seed))
