"""Model inputs: the two batch types every model consumes.

Collation (``ctlib.data.collate``) produces them; models (``ctlib.models``)
read them; the trainer moves them with ``.to(device)``. Keeping them plain
dataclasses of tensors makes collation a few ``np.concatenate`` calls.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch


class _ToDevice:
    def to(self, device, non_blocking: bool = False):
        """Return a copy with every tensor field moved to ``device``."""
        kw = {}
        for f in fields(self):
            v = getattr(self, f.name)
            kw[f.name] = v.to(device, non_blocking=non_blocking) if torch.is_tensor(v) else v
        return type(self)(**kw)


@dataclass
class GraphBatch(_ToDevice):
    """A disjoint union of periodic crystal graphs (CGCNN, MEGNet, ALIGNN).

    Shapes (N atoms, E directed edges, T line-graph edges, B graphs, K tasks):
        z:           (N,) long, atomic number Z of each atom (1..100).
        pos:         (N, 3) float, Cartesian position in Å (for E_a+E_c).
        batch:       (N,) long, graph index of each atom, 0..B-1, sorted.
        edge_index:  (2, E) long, row 0 = source j (neighbour), row 1 = target i
                     (centre); messages flow j -> i. Indices are global atoms.
        edge_dist:   (E,) float, |r_j + image - r_i| in Å.
        edge_vec:    (E, 3) float, r_j + image - r_i in Å.
        lg_edge_index: (2, T) long or None. Line graph for ALIGNN: an edge
                     (a -> b) joins bonds a = (k -> j) and b = (j -> i) that
                     share atom j; indices are into the E edges.
        lg_cos:      (T,) float or None, cosine of the angle between the two
                     bonds, computed as cos(-vec_a, vec_b).
        y:           (B, K) float targets (NaN where a task label is missing).
        num_graphs:  B.
    """

    z: torch.Tensor
    pos: torch.Tensor
    batch: torch.Tensor
    edge_index: torch.Tensor
    edge_dist: torch.Tensor
    edge_vec: torch.Tensor
    y: torch.Tensor
    num_graphs: int
    lg_edge_index: torch.Tensor | None = None
    lg_cos: torch.Tensor | None = None


@dataclass
class CTBatch(_ToDevice):
    """Padded atom sequences for the CrystalTransformer.

    Shapes (B crystals, L = largest crystal in the batch, K tasks):
        z:     (B, L) long, atomic numbers in CIF order, 0 at padding.
        pos:   (B, L, 3) float, Cartesian coordinates in Å, 0 at padding.
        mask:  (B, L) bool, True at padding (PyTorch key_padding_mask convention).
        y:     (B, K) float targets.
        lattice: (B, 3, 3) float, lattice rows in Å (for augmentation).
    """

    z: torch.Tensor
    pos: torch.Tensor
    mask: torch.Tensor
    y: torch.Tensor
    lattice: torch.Tensor

    @property
    def num_graphs(self) -> int:
        return self.z.shape[0]
