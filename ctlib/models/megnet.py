"""MEGNet (Chen, Ye, Zuo, Zheng & Ong, Chem. Mater. 31, 3564, 2019).

Graph: all neighbours within 4 Å (``megnet_graph`` featurizer); bonds are the
Gaussian expansion of the length (100 centres over 0-5 Å, width 0.5); the
global state starts at u = [0, 0].

Layout of the reference Keras model (``make_megnet_model``)::

    atoms  AtomEmbedding(16 -> 64) sp2 Linear(64,32) sp2     (pre-block dense [64, 32])
    bonds  Gauss(100) Linear(100,64) sp2 Linear(64,32) sp2
    state  [0,0]     Linear(2,64)   sp2 Linear(64,32) sp2
    3 x block:  (blocks 2, 3 start with their own dense [64, 32] on v, e, u)
        e_ij' = phi_e([v_i | v_j | e_ij | u])                      (MEGNet eq. 1)
        v_i'  = phi_v([mean_j e_ij' | v_i | u])                    (eq. 2-3)
        u'    = phi_u([mean e' | mean v' | u])                     (eq. 4-6)
        residual: (v, e, u) <- (v, e, u) + (v', e', u')
        phi_* = Linear 64, sp2, Linear 64, sp2, Linear 32 (last layer linear)
    Set2Set(3 steps) on atoms and on bonds (each after Linear(32, 16); output 32)
    [s2s_v | s2s_e | u] (96) -> Linear 32 sp2 -> Linear 16 sp2 -> Linear K

sp2 = softplus2(x) = softplus(x) - ln 2.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from .common import CrystalModel, EmbeddingOptions, GaussianExpansion, SoftPlus2, softplus2

#: width of MEGNet's own learned element table (the reference ``Embedding(Z, 16)``)
RANDOM_TABLE_DIM = 16


def _dense(sizes: list[int], last_activation: bool = True) -> nn.Sequential:
    """Linear layers ``sizes[0] -> sizes[1] -> ...`` with softplus2 between (and after)."""
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if last_activation or k < len(sizes) - 2:
            layers.append(SoftPlus2())
    return nn.Sequential(*layers)


class _GraphIndex:
    """Index tensors and inverse counts of one batch, computed once per forward."""

    def __init__(self, edge_index: torch.Tensor, batch: torch.Tensor, num_graphs: int, dtype):
        self.src, self.dst = edge_index[0], edge_index[1]
        self.batch, self.num_graphs = batch, num_graphs
        self.n_atoms = batch.shape[0]
        self.edge_graph = batch.index_select(0, self.dst)

        def inv_count(index, size):
            c = torch.zeros(size, dtype=dtype, device=batch.device)
            c.index_add_(0, index, torch.ones(index.shape[0], dtype=dtype, device=batch.device))
            return (1.0 / c.clamp(min=1)).unsqueeze(1)

        self.inv_deg = inv_count(self.dst, self.n_atoms)
        self.inv_graph_edges = inv_count(self.edge_graph, num_graphs)
        self.inv_graph_atoms = inv_count(batch, num_graphs)

    def mean(self, src: torch.Tensor, index: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
        out = src.new_zeros((inv.shape[0], src.shape[1]))
        return out.index_add_(0, index, src) * inv


class MEGNetLayer(nn.Module):
    r"""One MEGNet graph-network update (Chen et al. 2019, eqs. 1-6), mean aggregation.

    .. math::
        e_{ij}' &= \phi_e(v_i \Vert v_j \Vert e_{ij} \Vert u) \\
        v_i'    &= \phi_v(\overline{e'}_{i} \Vert v_i \Vert u), \quad
                   \overline{e'}_{i} = \mathrm{mean}_{j \to i}\, e_{ij}' \\
        u'      &= \phi_u(\overline{e'} \Vert \overline{v'} \Vert u)

    The first layer of :math:`\phi_e` is applied in slices (atom parts on the N
    atoms, state part on the B graphs, bond part on the E edges), so the
    (E, 4 dim) concatenation is never built; the result is the same.

    Args:
        dim: width of v, e and u at the input (default model 32).
        units: widths of each phi MLP (default [64, 64, 32]); its last layer is linear.

    Shapes:
        v (N, dim), e (E, dim), u (B, dim), graph index of the batch
        -> (N, units[-1]), (E, units[-1]), (B, units[-1]).
    """

    def __init__(self, dim: int, units: list[int]):
        super().__init__()
        out = units[-1]
        self.dim = dim
        self.phi_e = _dense([4 * dim] + list(units), last_activation=False)
        self.phi_v = _dense([out + 2 * dim] + list(units), last_activation=False)
        self.phi_u = _dense([2 * out + dim] + list(units), last_activation=False)

    def forward(self, v, e, u, g: _GraphIndex):
        d = self.dim
        first = self.phi_e[0]
        w = first.weight                                     # columns: [v_i | v_j | e | u]
        node = F.linear(v, torch.cat([w[:, :d], w[:, d:2 * d]], dim=0))
        h_dim = w.shape[0]
        centre = node[:, :h_dim] + F.linear(u, w[:, 3 * d:], first.bias).index_select(0, g.batch)
        # contiguous bond columns: a strided slice takes a slower matmul path (same bits)
        h = torch.addmm(node[:, h_dim:].index_select(0, g.src), e, w[:, 2 * d:3 * d].t().contiguous())
        h = h + centre.index_select(0, g.dst)
        e_new = self.phi_e[1:](h)
        v_new = self.phi_v(torch.cat([g.mean(e_new, g.dst, g.inv_deg), v, u.index_select(0, g.batch)], dim=-1))
        u_new = self.phi_u(torch.cat([g.mean(e_new, g.edge_graph, g.inv_graph_edges),
                                      g.mean(v_new, g.batch, g.inv_graph_atoms), u], dim=-1))
        return v_new, e_new, u_new


class MEGNetBlock(nn.Module):
    """Optional dense [64, 32] on v, e, u, then a :class:`MEGNetLayer`, then the
    residual connection to the block input.

    Args:
        dim: block input/output width (32).
        dense: widths of the pre-layer dense network, or None for the first
            block (the pre-block encoders play that role).
        units: phi MLP widths ([64, 64, 32]); ``units[-1]`` must equal ``dim``.
    """

    def __init__(self, dim: int, dense: list[int] | None, units: list[int]):
        super().__init__()
        if units[-1] != dim or (dense is not None and dense[-1] != dim):
            raise ValueError(f"MEGNetBlock: the last width of units {units} and dense {dense} must equal "
                             f"the block width {dim} (residual connection)")
        self.ff_v = _dense([dim] + dense) if dense else None
        self.ff_e = _dense([dim] + dense) if dense else None
        self.ff_u = _dense([dim] + dense) if dense else None
        self.layer = MEGNetLayer(dim, units)

    def forward(self, v, e, u, g: _GraphIndex):
        v0, e0, u0 = v, e, u
        if self.ff_v is not None:
            v, e, u = self.ff_v(v), self.ff_e(e), self.ff_u(u)
        v, e, u = self.layer(v, e, u, g)
        return v0 + v, e0 + e, u0 + u


@dataclasses.dataclass
class MEGNetConfig(EmbeddingOptions):
    """MEGNet hyper-parameters (defaults: the reference code).

    Attributes:
        dense: pre-block / in-block dense widths ([64, 32]); the first width is
            the atom embedding's output.
        units: phi MLP widths ([64, 64, 32]); last must equal ``dense[-1]``.
        n_blocks: MEGNet blocks (3).
        n_gauss: Gaussian centres for bond lengths (100).
        gauss_stop: last centre in Å (5.0).
        gauss_width: Gaussian width in Å (0.5).
        state_dim: width of the initial global state, all zeros (2).
        set2set_dim: Set2Set hidden width (16, output 2x) and
            set2set_steps: its processing steps (3).
        readout: dense widths before the output ([32, 16]).
        embedding_*: default a learned table ``"random"`` of width 16 (the
            reference ``Embedding(Z, 16)``), trainable; its projection
            Linear(16, 64) is the first pre-block dense layer. Only that
            ``"random"`` table defaults to width 16 (``RANDOM_TABLE_DIM``):
            with another ``embedding_init``, ``embedding_dim`` stays None
            (the table sets the width).
    """

    embedding_init: str = "random"
    embedding_dim: int | None = None
    embedding_trainable: bool = True
    dense: list[int] = dataclasses.field(default_factory=lambda: [64, 32])
    units: list[int] = dataclasses.field(default_factory=lambda: [64, 64, 32])
    n_blocks: int = 3
    n_gauss: int = 100
    gauss_stop: float = 5.0
    gauss_width: float = 0.5
    state_dim: int = 2
    set2set_dim: int = 16
    set2set_steps: int = 3
    readout: list[int] = dataclasses.field(default_factory=lambda: [32, 16])

    def validate(self) -> None:
        if self.embedding_init == "random" and self.embedding_dim is None:
            self.embedding_dim = RANDOM_TABLE_DIM
        super().validate()
        self._int("n_blocks", "n_gauss", "state_dim", "set2set_dim", "set2set_steps")
        for name in ("dense", "units", "readout"):
            v = getattr(self, name)
            if not (isinstance(v, (list, tuple)) and v and all(isinstance(x, int) and x > 0 for x in v)):
                raise ValueError(f"MEGNetConfig.{name} must be a non-empty list of positive ints, got {v!r}")
        self.dense, self.units, self.readout = list(self.dense), list(self.units), list(self.readout)
        if self.units[-1] != self.dense[-1]:
            raise ValueError(f"MEGNetConfig: units[-1] ({self.units[-1]}) must equal dense[-1] "
                             f"({self.dense[-1]}) for the residual connections")
        self._number("gauss_stop", "gauss_width", positive=True)


class MEGNet(CrystalModel):
    """MatErials Graph Network (atoms, bonds, global state).

    Args:
        n_tasks: outputs K (default 1).
        config: :class:`MEGNetConfig` or dict (strict).
        embedding: element embedding for ``embedding_init="external"``.

    Shapes:
        input :class:`~ctlib.data.batch.GraphBatch` (``megnet_graph``); output (B, K).
    """

    name = "megnet"
    input_kind = "megnet_graph"
    config_class = MEGNetConfig

    def __init__(self, n_tasks: int = 1, config: MEGNetConfig | dict | None = None, *, embedding=None):
        super().__init__(n_tasks, config)
        c = self.config
        dim = c.dense[-1]
        self.expansion = GaussianExpansion(0.0, c.gauss_stop, c.n_gauss, c.gauss_width)
        self.atom_embedding = self._make_embedding(c.dense[0], embedding)
        # the embedding's projection is the first dense layer: sp2, then the rest of `dense`
        self.atom_encoder = nn.Sequential(SoftPlus2(), *_dense(list(c.dense)))
        self.bond_encoder = _dense([c.n_gauss] + list(c.dense))
        self.state_encoder = _dense([c.state_dim] + list(c.dense))
        self.blocks = nn.ModuleList([
            MEGNetBlock(dim, None if k == 0 else list(c.dense), list(c.units)) for k in range(c.n_blocks)])
        from torch_geometric.nn.aggr import Set2Set

        self.s2s_atom_proj = nn.Linear(dim, c.set2set_dim)
        self.s2s_bond_proj = nn.Linear(dim, c.set2set_dim)
        self.s2s_atom = Set2Set(c.set2set_dim, c.set2set_steps)
        self.s2s_bond = Set2Set(c.set2set_dim, c.set2set_steps)
        self.head = nn.Sequential(_dense([4 * c.set2set_dim + dim] + list(c.readout)),
                                  nn.Linear(c.readout[-1], n_tasks))

    def encode(self, batch) -> torch.Tensor:
        """(B, 4 * set2set_dim + dense[-1]) crystal vector before the readout MLP."""
        self._check_graph_batch(batch)
        c = self.config
        dtype = self.head[-1].weight.dtype
        B = batch.num_graphs
        v = self.atom_encoder(self.atom_embedding(
            batch.z, batch.pos.to(dtype) if self.atom_embedding.with_coordinates else None))
        e = self.bond_encoder(self.expansion(batch.edge_dist.to(dtype)))
        u = self.state_encoder(torch.zeros(B, c.state_dim, dtype=dtype, device=v.device))
        g = _GraphIndex(batch.edge_index, batch.batch, B, dtype)
        for block in self.blocks:
            v, e, u = block(v, e, u, g)
        sv = self.s2s_atom(self.s2s_atom_proj(v), batch.batch, dim_size=B)
        se = self.s2s_bond(self.s2s_bond_proj(e), g.edge_graph, dim_size=B)
        return torch.cat([sv, se, u], dim=-1)

    def forward(self, batch) -> torch.Tensor:
        """Predict (B, n_tasks) from a ``megnet_graph`` :class:`~ctlib.data.batch.GraphBatch`."""
        return self.head(self.encode(batch))


__all__ = ["MEGNet", "MEGNetConfig", "MEGNetLayer", "MEGNetBlock", "softplus2"]
