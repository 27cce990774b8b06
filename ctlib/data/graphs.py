"""Periodic neighbour graphs of a :class:`~ctlib.data.dataset.CrystalDataset`, cached on disk.

This module's one job: build the graph inputs of the graph models (CGCNN,
MEGNet, ALIGNN) for every structure of a dataset, once, and keep them in a
:class:`GraphSet` (stored CSR style) that :mod:`ctlib.data.collate` turns into
batches.

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
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctlib.utils import atomic_write, resolve_n_jobs

from .dataset import CrystalDataset
from .registry import cache_root

#: Default parameters of every graph kind. Unknown kinds / parameters are rejected.
GRAPH_KINDS: dict[str, dict] = {
    "crystal_graph": {"cutoff": 8.0, "max_neighbors": 12},
    "megnet_graph": {"cutoff": 4.0, "max_neighbors": None},
    "line_graph": {"cutoff": 8.0, "max_neighbors": 12},
}

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
        """Write one uncompressed .npz, atomically (:func:`ctlib.utils.atomic_write`)."""
        header = {"kind": self.kind, "params": self.params, "fingerprint": self.fingerprint,
                  "version": _CACHE_VERSION}
        arrays = {"header": np.array(json.dumps(header)), "natoms": self.natoms,
                  "edge_ptr": self.edge_ptr, "src": self.src, "dst": self.dst,
                  "dist": self.dist, "vec": self.vec}
        if self.lg_ptr is not None:
            arrays.update(lg_ptr=self.lg_ptr, lg_src=self.lg_src, lg_dst=self.lg_dst,
                          cos=self.cos)
        atomic_write(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")

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

