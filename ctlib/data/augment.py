"""Symmetry augmentation of CrystalTransformer batches (paper eqs. 10-12).

The CrystalTransformer reads raw Cartesian coordinates, so it is not invariant
to how a crystal is placed in space. Augmentation shows it the same crystal in
other frames. For each structure, with probability ``p``:

* eq. 10, translation: every atom moves by the same lattice vector
  ``t = n1 a + n2 b + n3 c`` with integers n_k drawn uniformly from
  ``[-max_shift, max_shift]`` -- the periodic crystal is unchanged;
* eq. 11, rotation: a rotation R drawn uniformly from SO(3) (random unit
  quaternion) is applied to the Cartesian frame;
* eq. 12, reflection: with probability ``reflect_p`` a mirror
  ``M = I - 2 u u^T`` (u uniform on the unit sphere, det M = -1) follows.

Coordinates and lattice are transformed together (``x' = Q (x + t)``,
``a' = Q a`` with ``Q = M R`` or ``R``), so fractional coordinates, all
interatomic distances and the cell volume are preserved. The paper draws R and
M from each crystal's own point group; any orthogonal map of the whole frame
gives the same crystal, so the full O(3) is used here. Unlike the authors'
code, the mirror is a true reflection and draws are fresh on every call (the
loader passes a generator seeded by (seed, epoch)); nothing is cached.
"""
from __future__ import annotations

import dataclasses

import torch

from .batch import CTBatch, GraphBatch


def random_rotations(n: int, generator: torch.Generator,
                     dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(n, 3, 3) proper rotations, uniform on SO(3) (normalised Gaussian quaternions)."""
    q = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    q = q / q.norm(dim=1, keepdim=True)
    w, x, y, z = q.unbind(1)
    r = torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ], dim=1).reshape(n, 3, 3)
    return r.to(dtype)


def random_reflections(n: int, generator: torch.Generator,
                       dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(n, 3, 3) mirrors ``I - 2 u u^T`` through planes with uniform random normals u (det -1)."""
    u = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    u = u / u.norm(dim=1, keepdim=True)
    m = torch.eye(3, dtype=torch.float64) - 2 * u[:, :, None] * u[:, None, :]
    return m.to(dtype)


def draw_frame_ops(n: int, generator: torch.Generator, *, p: float = 0.5, max_shift: int = 1,
                   reflect_p: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw the augmentation of n structures.

    Returns:
        applied (n,) bool; shift (n, 3) int64 lattice-vector multiples (0 where
        not applied); matrix (n, 3, 3) float64 orthogonal map Q (identity where
        not applied, det -1 where a reflection was drawn).
    """
    applied = torch.rand(n, generator=generator) < p
    shift = torch.randint(-max_shift, max_shift + 1, (n, 3), generator=generator)
    rot = random_rotations(n, generator)
    mirror = torch.rand(n, generator=generator) < reflect_p
    q = torch.where(mirror[:, None, None], random_reflections(n, generator) @ rot, rot)
    shift = torch.where(applied[:, None], shift, torch.zeros_like(shift))
    q = torch.where(applied[:, None, None], q, torch.eye(3, dtype=q.dtype).expand(n, 3, 3))
    return applied, shift, q


def apply_frame_ops(batch: CTBatch, shift: torch.Tensor, matrix: torch.Tensor) -> CTBatch:
    """Translate by ``shift @ lattice`` then map by ``matrix``; padding stays 0.

    Args:
        batch: CTBatch with pos (B, L, 3) Å, lattice (B, 3, 3) rows Å, mask (B, L).
        shift: (B, 3) integer multiples of a, b, c.
        matrix: (B, 3, 3) orthogonal maps Q acting on column vectors.

    Returns:
        A new CTBatch: pos' = Q (pos + t), lattice rows a' = Q a; z, mask, y shared.
    """
    lat = batch.lattice.to(torch.float64)
    q_t = matrix.to(torch.float64).transpose(1, 2)
    t = (shift.to(torch.float64)[:, None, :] @ lat)                  # (B, 1, 3)
    pos = (batch.pos.to(torch.float64) + t) @ q_t
    pos = pos.masked_fill(batch.mask[..., None], 0.0)
    return CTBatch(z=batch.z, pos=pos.to(batch.pos.dtype), mask=batch.mask, y=batch.y,
                   lattice=(lat @ q_t).to(batch.lattice.dtype))


class CrystalAugment:
    """Random lattice translation + rotation + reflection of a CTBatch (eqs. 10-12).

    Args:
        p: probability that a structure is augmented (default 0.5).
        max_shift: translation integers n_k are uniform in [-max_shift, max_shift].
        reflect_p: probability of a mirror after the rotation, given augmentation.

    Call ``aug(batch, generator) -> CTBatch`` (the input batch is not modified).
    """

    def __init__(self, p: float = 0.5, max_shift: int = 1, reflect_p: float = 0.5):
        for name, v in (("p", p), ("reflect_p", reflect_p)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {v!r}")
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative int, got {max_shift!r}")
        self.p, self.max_shift, self.reflect_p = float(p), max_shift, float(reflect_p)

    def __repr__(self) -> str:
        return f"CrystalAugment(p={self.p}, max_shift={self.max_shift}, reflect_p={self.reflect_p})"

    def __call__(self, batch, generator: torch.Generator):
        if isinstance(batch, GraphBatch):
            return self.graph(batch, generator)
        _, shift, q = draw_frame_ops(batch.z.shape[0], generator, p=self.p,
                                     max_shift=self.max_shift, reflect_p=self.reflect_p)
        return apply_frame_ops(batch, shift, q)

    def graph(self, batch: GraphBatch, generator: torch.Generator) -> GraphBatch:
        """Rotate (and maybe mirror) each crystal graph's Cartesian positions and edge vectors.

        A graph model reads positions only through the E_a+E_c front, which is not
        invariant to the frame; distances, angles and edges stay as they are. A
        graph batch carries no lattice, so eq. 10's lattice translation is not
        applied here; the draws are those of :func:`draw_frame_ops` (one per graph).
        """
        _, _, q = draw_frame_ops(batch.num_graphs, generator, p=self.p,
                                 max_shift=self.max_shift, reflect_p=self.reflect_p)
        q_t = q.transpose(1, 2)
        pos = (batch.pos.to(torch.float64)[:, None, :] @ q_t[batch.batch])[:, 0]
        new = dataclasses.replace(batch, pos=pos.to(batch.pos.dtype))
        if batch.edge_vec is not None and batch.edge_vec.numel():
            g = batch.batch[batch.edge_index[0]]
            vec = (batch.edge_vec.to(torch.float64)[:, None, :] @ q_t[g])[:, 0]
            new = dataclasses.replace(new, edge_vec=vec.to(batch.edge_vec.dtype))
        return new
