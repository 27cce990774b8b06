"""Collation: a list of structure indices -> one model batch.

This module's one job: gather the atoms (and, for graph models, the prebuilt
graphs of :mod:`ctlib.data.graphs`) of the structures in a batch into the
tensors a model reads: a padded :class:`~ctlib.data.batch.CTBatch` for the
CrystalTransformer, or a disjoint-union :class:`~ctlib.data.batch.GraphBatch`
for CGCNN / MEGNet / ALIGNN. Positions are Cartesian, in Å.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .batch import CTBatch, GraphBatch
from .dataset import CrystalDataset
from .graphs import GraphSet


def _gather_ranges(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(ptr[i], ptr[i+1])`` for i in idx, and the per-i counts."""
    start = ptr[idx]
    count = ptr[idx + 1] - start
    total = int(count.sum())
    first = np.zeros(len(idx), np.int64)
    np.cumsum(count[:-1], out=first[1:])
    return np.repeat(start - first, count) + np.arange(total), count


def as_index(ds_len: int, idx) -> np.ndarray:
    """``idx`` (int indices or a bool mask over ``ds_len`` structures) as a (B,) int64 array.

    Raises ValueError on another shape or dtype, IndexError on an index outside
    0..ds_len-1.
    """
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


def target_matrix(ds: CrystalDataset, idx: np.ndarray, targets: Sequence[str]) -> np.ndarray:
    """(B, K) float32 target matrix (NaN kept: the trainer masks missing labels).

    Raises KeyError naming the target when ``ds`` lacks one of ``targets``.
    """
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
        gs: its graphs (:func:`~ctlib.data.graphs.build_graphs`).
        idx: (B,) structure indices (the batch order).
        targets: K target names; ``y[b, k] = ds.targets[targets[k]][idx[b]]``.

    Returns:
        GraphBatch with global atom indices (edges of graph b are offset by the
        atoms of graphs 0..b-1; line-graph edges by their edges), ``pos`` in
        Cartesian Å, float tensors float32, index tensors int64.
    """
    idx = as_index(len(ds), idx)
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
        y=torch.from_numpy(target_matrix(ds, idx, targets)),
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
    idx = as_index(len(ds), idx)
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
                   mask=torch.from_numpy(mask),
                   y=torch.from_numpy(target_matrix(ds, idx, targets)),
                   lattice=torch.from_numpy(ds.lattices[idx].astype(np.float32)))

