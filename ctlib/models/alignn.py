"""ALIGNN (Choudhary & DeCost, npj Comput. Mater. 7, 185, 2021), in plain PyTorch (no DGL).

Two graphs: the atom graph G (12 nearest periodic neighbours within 8 Å) and
its line graph L (one node per bond, one edge per pair of bonds sharing an
atom, feature = cosine of the bond angle); ``line_graph`` featurizer.

::

    x  atoms   AtomEmbedding(92 -> 256) BN SiLU          (reference: MLPLayer on CGCNN features)
    y  bonds   RBF(80, 0-8 Å)  -> MLP(80,64) -> MLP(64,256)
    z  angles  RBF(40, [-1,1]) -> MLP(40,64) -> MLP(64,256)        MLP = Linear BN SiLU
    4 x ALIGNN layer:  y', z' = EGGC_L(y, z) ;  x', y'' = EGGC_G(x, y')
    4 x EGGC_G(x, y)
    mean pooling over atoms -> Linear(256, K)

EGGC = edge-gated graph convolution (Bresson & Laurent 2017, as in ALIGNN eq. 2-3).
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn
from torch.nn import functional as F

from .common import (CrystalModel, EmbeddingOptions, GaussianExpansion, regular_neighbours, scatter_mean,
                     scatter_sum)


def _mlp(a: int, b: int) -> nn.Sequential:
    """ALIGNN's MLPLayer: Linear, BatchNorm, SiLU."""
    return nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.SiLU())


def _rbf(start: float, stop: float, bins: int) -> GaussianExpansion:
    """ALIGNN's RBFExpansion exp(-(d-mu)^2 / spacing) == Gaussian of width sqrt(spacing)."""
    spacing = (stop - start) / (bins - 1)
    return GaussianExpansion(start, stop, bins, math.sqrt(spacing))


class EdgeGatedGraphConv(nn.Module):
    r"""Edge-gated graph convolution with residual connections (ALIGNN eqs. 2-3).

    .. math::
        m_{ij} &= A h_i + B h_j + C e_{ij} \\
        \hat e_{ij} &= \sigma(m_{ij}) \,/\, \big(\textstyle\sum_{k \to i} \sigma(m_{ik}) + 10^{-6}\big) \\
        h_i' &= h_i + \mathrm{SiLU}\big(\mathrm{BN}(U h_i + \textstyle\sum_{j \to i} \hat e_{ij} \odot V h_j)\big) \\
        e_{ij}' &= e_{ij} + \mathrm{SiLU}(\mathrm{BN}(m_{ij}))

    ``A, B, U, V`` run as one ``Linear(C, 4C)`` on the nodes (``node_linear``);
    ``C`` is ``edge_linear``.

    Args:
        channels: feature width of nodes and edges (default model 256).

    Shapes:
        h (N, C), e (E, C), edge_index (2, E) [row 0 source j, row 1 target i]
        -> (N, C), (E, C).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.node_linear = nn.Linear(channels, 4 * channels)
        self.edge_linear = nn.Linear(channels, channels)
        self.bn_nodes = nn.BatchNorm1d(channels)
        self.bn_edges = nn.BatchNorm1d(channels)

    def reset_parameters(self) -> None:
        for m in (self.node_linear, self.edge_linear, self.bn_nodes, self.bn_edges):
            m.reset_parameters()

    def message(self, gate: torch.Tensor, v_j: torch.Tensor) -> torch.Tensor:
        """sigma(m_ij) * V h_j: the unnormalised gated message (E, C)."""
        return gate * v_j

    def forward(self, h: torch.Tensor, e: torch.Tensor, edge_index: torch.Tensor, n_nbr: int | None = None):
        """Args: ``n_nbr`` = M when every node has exactly M incoming edges stored
        contiguously by target (:func:`~ctlib.models.common.regular_neighbours`):
        sums then run on an (N, M, C) view. Same result either way."""
        c, n = self.channels, h.shape[0]
        src, dst = edge_index[0], edge_index[1]
        a, b, u, v = self.node_linear(h).split(c, dim=-1)
        m = torch.addmm(self.edge_linear.bias, e, self.edge_linear.weight.t()) + b.index_select(0, src)
        if n_nbr is not None:
            m = (m.view(n, n_nbr, c) + a.unsqueeze(1)).view(-1, c)
            gate = torch.sigmoid(m)
            num = self.message(gate, v.index_select(0, src)).view(n, n_nbr, c).sum(dim=1)
            den = gate.view(n, n_nbr, c).sum(dim=1)
        else:
            m = m + a.index_select(0, dst)
            gate = torch.sigmoid(m)
            num = scatter_sum(self.message(gate, v.index_select(0, src)), dst, n)
            den = scatter_sum(gate, dst, n)
        h_new = h + F.silu(self.bn_nodes(u + num / (den + 1e-6)))
        e_new = e + F.silu(self.bn_edges(m))
        return h_new, e_new

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


class ALIGNNLayer(nn.Module):
    """One ALIGNN layer: EGGC on the line graph (bonds, angles), then on the atom graph.

    Args:
        channels: feature width (256).

    Shapes:
        x (N, C), y (E, C), z (T, C), edge_index (2, E), lg_edge_index (2, T)
        -> (N, C), (E, C), (T, C).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.edge_update = EdgeGatedGraphConv(channels)   # on L: nodes = bonds, edges = angles
        self.node_update = EdgeGatedGraphConv(channels)   # on G: nodes = atoms, edges = bonds

    def forward(self, x, y, z, edge_index, lg_edge_index, n_nbr=None, lg_n_nbr=None):
        m, z = self.edge_update(y, z, lg_edge_index, lg_n_nbr)
        x, y = self.node_update(x, m, edge_index, n_nbr)
        return x, y, z


@dataclasses.dataclass
class ALIGNNConfig(EmbeddingOptions):
    """ALIGNN hyper-parameters (defaults: the reference code / ALIGNN paper).

    Attributes:
        hidden: feature width of atoms, bonds and angles (256).
        embedding_features: width of the first RBF MLP (64).
        alignn_layers: ALIGNN layers (4).
        gcn_layers: atom-graph EGGC layers after them (4).
        edge_bins / edge_stop: bond-length RBF bins over 0..edge_stop Å (80, 8.0).
        angle_bins: cosine RBF bins over [-1, 1] (40).
        embedding_*: default CGCNN's 92 features as a frozen table, projection
            Linear(92, hidden) then BatchNorm and SiLU (reference MLPLayer).
    """

    embedding_init: str = "cgcnn92"
    hidden: int = 256
    embedding_features: int = 64
    alignn_layers: int = 4
    gcn_layers: int = 4
    edge_bins: int = 80
    edge_stop: float = 8.0
    angle_bins: int = 40

    def validate(self) -> None:
        super().validate()
        self._int("hidden", "embedding_features")
        self._int("edge_bins", "angle_bins", lo=2)
        self._int("alignn_layers", "gcn_layers", lo=0)
        self._number("edge_stop", positive=True)


class ALIGNN(CrystalModel):
    """Atomistic Line Graph Neural Network.

    Args:
        n_tasks: outputs K (default 1).
        config: :class:`ALIGNNConfig` or dict (strict).
        embedding: element embedding for ``embedding_init="external"``.

    Shapes:
        input :class:`~ctlib.data.batch.GraphBatch` (``line_graph``, with
        ``lg_edge_index`` (2, T) and ``lg_cos`` (T,)); output (B, K).
    """

    name = "alignn"
    input_kind = "line_graph"
    config_class = ALIGNNConfig

    def __init__(self, n_tasks: int = 1, config: ALIGNNConfig | dict | None = None, *, embedding=None):
        super().__init__(n_tasks, config)
        c = self.config
        self.atom_embedding = self._make_embedding(c.hidden, embedding)
        self.atom_norm = nn.Sequential(nn.BatchNorm1d(c.hidden), nn.SiLU())
        self.edge_embedding = nn.Sequential(_rbf(0.0, c.edge_stop, c.edge_bins),
                                            _mlp(c.edge_bins, c.embedding_features),
                                            _mlp(c.embedding_features, c.hidden))
        self.angle_embedding = nn.Sequential(_rbf(-1.0, 1.0, c.angle_bins),
                                             _mlp(c.angle_bins, c.embedding_features),
                                             _mlp(c.embedding_features, c.hidden))
        self.alignn = nn.ModuleList([ALIGNNLayer(c.hidden) for _ in range(c.alignn_layers)])
        self.gcn = nn.ModuleList([EdgeGatedGraphConv(c.hidden) for _ in range(c.gcn_layers)])
        self.fc = nn.Linear(c.hidden, n_tasks)

    def encode(self, batch) -> torch.Tensor:
        """(B, hidden) mean-pooled atom features."""
        self._check_graph_batch(batch, need_line_graph=self.config.alignn_layers > 0)
        dtype = self.fc.weight.dtype
        x = self.atom_norm(self.atom_embedding(
            batch.z, batch.pos.to(dtype) if self.atom_embedding.with_coordinates else None))
        y = self.edge_embedding(batch.edge_dist.to(dtype))
        n_nbr = regular_neighbours(batch.edge_index, x.shape[0])
        if self.config.alignn_layers:
            z = self.angle_embedding(batch.lg_cos.to(dtype))
            lg_n_nbr = regular_neighbours(batch.lg_edge_index, y.shape[0])
            for layer in self.alignn:
                x, y, z = layer(x, y, z, batch.edge_index, batch.lg_edge_index, n_nbr, lg_n_nbr)
        for layer in self.gcn:
            x, y = layer(x, y, batch.edge_index, n_nbr)
        return scatter_mean(x, batch.batch, batch.num_graphs)

    def forward(self, batch) -> torch.Tensor:
        """Predict (B, n_tasks) from a ``line_graph`` :class:`~ctlib.data.batch.GraphBatch`."""
        return self.fc(self.encode(batch))
