"""CGCNN (Xie & Grossman, Phys. Rev. Lett. 120, 145301, 2018) — the paper's main back end.

Graph: each atom i and its 12 nearest periodic neighbours j within 8 Å
(``crystal_graph`` featurizer); bond u_ij = Gaussian expansion of |r_ij|.

Convolution (CGCNN eq. 5, with the two BatchNorms of the reference code)::

    z_ij  = [v_i | v_j | u_ij]
    g_ij  = BN_1(z_ij W + b)            W: (2C + G) -> 2C   (filter and core fused)
    v_i' = softplus( v_i + BN_2( sum_j sigmoid(g_ij^f) * softplus(g_ij^s) ) )

Model: AtomEmbedding -> C (=64) ; 3 convolutions ; mean pooling ; softplus ;
Linear(C, 128) ; softplus ; Linear(128, K).
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from .common import (CrystalModel, EmbeddingOptions, GaussianExpansion, regular_neighbours, scatter_mean,
                     scatter_sum)


class CGConvLayer(nn.Module):
    r"""One CGCNN convolution (Xie & Grossman 2018, eq. 5).

    .. math::
        v_i' = \mathrm{softplus}\Big(v_i + \mathrm{BN}\big(\sum_{j}
               \sigma(z_{ij}W_f + b_f) \odot \mathrm{softplus}(z_{ij}W_s + b_s)\big)\Big),
        \quad z_{ij} = v_i \Vert v_j \Vert u_{ij}

    (the gate pre-activations pass through a BatchNorm over edges first, as
    in the reference implementation). ``W = [W_f | W_s]`` is one
    ``Linear(2C + G, 2C)`` (``fc_full``) but is applied in three slices —
    centre and neighbour parts on the N atoms, the bond part on the E edges —
    so the (E, 2C + G) concatenation is never built.

    Args:
        channels: atom feature width C (default model: 64).
        edge_dim: bond feature width G (default model: 41).

    Shapes:
        x (N, C), edge_index (2, E) [row 0 source j, row 1 target i],
        edge_attr (E, G) -> (N, C).
    """

    def __init__(self, channels: int, edge_dim: int):
        super().__init__()
        self.channels, self.edge_dim = channels, edge_dim
        self.fc_full = nn.Linear(2 * channels + edge_dim, 2 * channels)
        self.bn1 = nn.BatchNorm1d(2 * channels)
        self.bn2 = nn.BatchNorm1d(channels)

    def reset_parameters(self) -> None:
        self.fc_full.reset_parameters()
        self.bn1.reset_parameters()
        self.bn2.reset_parameters()

    def message(self, gate: torch.Tensor) -> torch.Tensor:
        """Edge message sigma(filter) * softplus(core) from the normalised gates (E, 2C)."""
        filt, core = gate.chunk(2, dim=-1)
        return torch.sigmoid(filt) * F.softplus(core)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor,
                n_nbr: int | None = None) -> torch.Tensor:
        """Args: ``n_nbr`` = M when every atom has exactly M edges stored contiguously
        by centre (see :func:`regular_neighbours`): the sums then run on an
        (N, M, .) view instead of gathers and scatters. Same result either way."""
        c, n = self.channels, x.shape[0]
        w, b = self.fc_full.weight, self.fc_full.bias
        src, dst = edge_index[0], edge_index[1]
        # centre and neighbour parts in one (N, 4C) matmul; the bond part on the edges, with
        # a contiguous copy of its weight columns (a strided slice takes a slower matmul
        # path; the same bits either way)
        node = F.linear(x, torch.cat([w[:, :c], w[:, c:2 * c]], dim=0))
        gate = torch.addmm(node[:, 2 * c:].index_select(0, src), edge_attr, w[:, 2 * c:].t().contiguous())
        centre = node[:, : 2 * c] + b
        if n_nbr is not None:
            gate = (gate.view(n, n_nbr, 2 * c) + centre.unsqueeze(1)).view(-1, 2 * c)
            agg = self.message(self.bn1(gate)).view(n, n_nbr, c).sum(dim=1)
        else:
            gate = gate + centre.index_select(0, dst)
            agg = scatter_sum(self.message(self.bn1(gate)), dst, n)
        return F.softplus(x + self.bn2(agg))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, edge_dim={self.edge_dim}"


@dataclasses.dataclass
class CGCNNConfig(EmbeddingOptions):
    """CGCNN hyper-parameters (defaults: the reference code / the paper).

    Attributes:
        atom_fea_len: atom feature width C after the embedding (64).
        n_conv: convolution layers (3).
        h_fea_len: hidden width after pooling (128).
        n_h: hidden layers after pooling (1).
        radius: last Gaussian centre in Å (8.0).
        gauss_step: Gaussian spacing in Å (0.2, so 41 centres 0..8).
        gauss_width: Gaussian width in Å (default = gauss_step = 0.2).
        embedding_*: the atom front (see ``EmbeddingOptions``); default
            CGCNN's 92-d features as a frozen input table (as the reference
            code reads ``atom_init.json``), projection Linear(92, 64) trainable.
    """

    embedding_init: str = "cgcnn92"
    atom_fea_len: int = 64
    n_conv: int = 3
    h_fea_len: int = 128
    n_h: int = 1
    radius: float = 8.0
    gauss_step: float = 0.2
    gauss_width: float | None = None

    def validate(self) -> None:
        super().validate()
        self._int("atom_fea_len", "n_conv", "h_fea_len", "n_h")
        self._number("radius", "gauss_step", positive=True)
        self._number("gauss_width", positive=True, allow_none=True)


class CGCNN(CrystalModel):
    """Crystal Graph Convolutional Neural Network.

    Args:
        n_tasks: outputs K (default 1).
        config: :class:`CGCNNConfig` or dict (strict).
        embedding: element embedding for ``embedding_init="external"``
            (the transferred front of paper Tables II-IV).

    Shapes:
        input :class:`~ctlib.data.batch.GraphBatch` (``crystal_graph``) with N
        atoms, E edges, B graphs; output (B, K).
    """

    name = "cgcnn"
    input_kind = "crystal_graph"
    config_class = CGCNNConfig

    def __init__(self, n_tasks: int = 1, config: CGCNNConfig | dict | None = None, *, embedding=None):
        super().__init__(n_tasks, config)
        c = self.config
        n_gauss = int(round(c.radius / c.gauss_step)) + 1
        self.expansion = GaussianExpansion(0.0, c.gauss_step * (n_gauss - 1), n_gauss,
                                           c.gauss_width or c.gauss_step)
        self.atom_embedding = self._make_embedding(c.atom_fea_len, embedding)
        self.convs = nn.ModuleList([CGConvLayer(c.atom_fea_len, n_gauss) for _ in range(c.n_conv)])
        self.conv_to_fc = nn.Linear(c.atom_fea_len, c.h_fea_len)
        self.fcs = nn.ModuleList([nn.Linear(c.h_fea_len, c.h_fea_len) for _ in range(c.n_h - 1)])
        self.fc_out = nn.Linear(c.h_fea_len, n_tasks)

    def encode(self, batch) -> torch.Tensor:
        """(B, h_fea_len) crystal representation before the output layer."""
        self._check_graph_batch(batch)
        dtype = self.fc_out.weight.dtype
        x = self.atom_embedding(batch.z, batch.pos.to(dtype) if self.atom_embedding.with_coordinates else None)
        edge_attr = self.expansion(batch.edge_dist.to(dtype))
        n_nbr = regular_neighbours(batch.edge_index, x.shape[0])
        for conv in self.convs:
            x = conv(x, batch.edge_index, edge_attr, n_nbr)
        crys = scatter_mean(x, batch.batch, batch.num_graphs)
        h = F.softplus(self.conv_to_fc(F.softplus(crys)))
        for fc in self.fcs:
            h = F.softplus(fc(h))
        return h

    def forward(self, batch) -> torch.Tensor:
        """Predict (B, n_tasks) from a ``crystal_graph`` :class:`~ctlib.data.batch.GraphBatch`."""
        return self.fc_out(self.encode(batch))
