"""Pieces every model shares: expansions, activations, strict configs, save/load.

* :class:`GaussianExpansion` — distance / cosine smearing used by CGCNN, MEGNet
  and ALIGNN.
* :func:`softplus2` / :class:`SoftPlus2` — MEGNet's shifted softplus.
* :class:`ModelConfig` — dataclass base whose ``from_dict`` rejects unknown
  keys (ALIGNN-style strict configs) and whose ``validate`` checks values.
* :class:`CrystalModel` — ``nn.Module`` base: ``name``, ``input_kind``,
  ``n_tasks``, ``config``, ``atom_embedding``, ``reset_parameters`` and the
  multi-task loss combination of paper eq. 9 (``task_loss_weights``).
* :func:`save_model` / :func:`load_model` — matgl-style persistence: the
  constructor arguments and metadata as JSON, the weights as a state dict;
  loading is strict.
* :func:`scatter_sum` / :func:`scatter_mean` — segment reductions on
  ``index_add_`` (no torch-scatter needed).
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
from torch import nn

from ctlib.utils import StrictConfig

#: Version of the on-disk layout written by :func:`ctlib.models.save_model`. Bump it when
#: the layout changes; :func:`ctlib.models.load_model` refuses any other version.
FORMAT_VERSION = 1

_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- activations
def softplus2(x: torch.Tensor) -> torch.Tensor:
    """Shifted softplus ``softplus(x) - ln 2`` (MEGNet, Chen et al. 2019); zero at x = 0."""
    # in place on the fresh softplus output: its backward reads the input, not the output
    return nn.functional.softplus(x).sub_(_LN2)


class SoftPlus2(nn.Module):
    """Module form of :func:`softplus2`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return softplus2(x)


# --------------------------------------------------------------------------- expansions
class GaussianExpansion(nn.Module):
    r"""Expand scalars on a uniform grid of Gaussians.

    .. math:: e_k(d) = \exp\left(-(d - \mu_k)^2 / w^2\right),\quad
              \mu_k = \text{start} + k\,(\text{stop}-\text{start})/(\text{num}-1)

    CGCNN (Xie & Grossman 2018, eq. 5 of its SI): start 0, stop 8 Å, num 41
    (step 0.2), w = 0.2. MEGNet: 0-5 Å, 100 centres, w = 0.5. ALIGNN's
    ``RBFExpansion`` is :math:`\exp(-(d-\mu)^2/\ell)` with ℓ the grid spacing,
    i.e. this module with ``width = sqrt(spacing)``.

    Args:
        start: first centre (Å for distances, dimensionless for cosines).
        stop: last centre (included).
        num: number of centres.
        width: Gaussian width w (same unit as the input).

    Shapes:
        input ``(*,)``; output ``(*, num)``.

    Values below the smallest normal float (1.2e-38 in fp32) are returned as
    exactly 0. A centre 9.3-10.2 w from d gives such a subnormal value (CGCNN:
    1.9-2.0 Å away; some 4 % of its bond features on MP-2018), and x86 CPUs
    multiply subnormal numbers through a slow path, which made the matmuls
    that read the features several times slower. Zeroed, a CGCNN epoch runs
    ~1.85x faster on CPU (MEGNet's wider Gaussians give few; unchanged), with
    every epoch's loss and validation MAE bit-identical
    (``benchmarks/denormals.py``, which sets ``flush_subnormal = False`` for
    the comparison).
    """

    #: return subnormal values as 0 (False only to measure the difference)
    flush_subnormal = True

    def __init__(self, start: float, stop: float, num: int, width: float):
        super().__init__()
        if num < 1 or width <= 0 or stop < start:
            raise ValueError(f"GaussianExpansion needs num >= 1, width > 0, stop >= start; "
                             f"got start={start}, stop={stop}, num={num}, width={width}")
        self.start, self.stop, self.num, self.width = float(start), float(stop), int(num), float(width)
        self.register_buffer("centres", torch.linspace(self.start, self.stop, self.num), persistent=False)

    def forward(self, d: torch.Tensor) -> torch.Tensor:
        diff = d.unsqueeze(-1) - self.centres.to(d.dtype)
        e = torch.exp(-(diff * diff) / (self.width * self.width))
        if self.flush_subnormal:
            e = e.masked_fill(e < torch.finfo(e.dtype).tiny, 0.0)
        return e

    def extra_repr(self) -> str:
        return f"start={self.start}, stop={self.stop}, num={self.num}, width={self.width}"


# --------------------------------------------------------------------------- scatter
def scatter_sum(src: torch.Tensor, index: torch.Tensor, dim_size: int) -> torch.Tensor:
    """Sum rows of ``src`` (E, *) into ``dim_size`` segments given by ``index`` (E,)."""
    out = src.new_zeros((dim_size,) + tuple(src.shape[1:]))
    return out.index_add_(0, index, src)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, dim_size: int) -> torch.Tensor:
    """Mean of rows of ``src`` per segment; empty segments give 0. Shapes as :func:`scatter_sum`."""
    total = scatter_sum(src, index, dim_size)
    count = torch.zeros(dim_size, dtype=src.dtype, device=src.device)
    count.index_add_(0, index, torch.ones_like(index, dtype=src.dtype))
    return total / count.clamp(min=1).view((-1,) + (1,) * (src.dim() - 1))


def regular_neighbours(edge_index: torch.Tensor, n_atoms: int) -> int | None:
    """M if the edges are grouped by centre with exactly M per atom (the usual
    12-nearest-neighbour graph), else None.

    Shapes: edge_index (2, E), E = M * N for a regular graph.
    """
    e = edge_index.shape[1]
    if n_atoms == 0 or e == 0 or e % n_atoms:
        return None
    m = e // n_atoms
    expect = torch.arange(n_atoms, device=edge_index.device).repeat_interleave(m)
    return m if torch.equal(edge_index[1], expect) else None


# --------------------------------------------------------------------------- configs
@dataclasses.dataclass
class ModelConfig(StrictConfig):
    """Base of every model config: a plain dataclass with strict (de)serialisation
    and value checks (:class:`ctlib.utils.StrictConfig`, as ``TrainConfig``).

    Subclasses add fields with the paper's defaults and extend
    :meth:`validate` to check values. ``from_dict`` rejects unknown keys with
    the closest valid names, so a typo never silently falls back to a default.
    """

    KEY_NOUN = "config key"


@dataclasses.dataclass
class EmbeddingOptions(ModelConfig):
    """Fields of the atom-embedding front shared by every model config.

    Attributes:
        embedding_init: ``"onehot"`` | ``"cgcnn92"`` | ``"random"`` |
            ``"external"`` (a table passed as ``embedding=`` to the model; the
            table itself lives in the weights, so a saved model reloads without
            the file).
        embedding_dim: table width d_in for ``"random"``/``"external"``
            (ignored otherwise: onehot is 100, cgcnn92 is 92).
        embedding_trainable: table is a Parameter (E_a) instead of a frozen
            buffer (E_a^f).
        embedding_with_coordinates: add the coordinate embedding (E_a+E_c).
        embedding_coord_dim: d_c of the coordinate embedding.
        freeze_projection: also freeze the Linear(d_in, width) projection.
        embedding_source: free-text provenance of an external table (metadata).
    """

    embedding_init: str = "onehot"
    embedding_dim: int | None = None
    embedding_trainable: bool = False
    embedding_with_coordinates: bool = False
    embedding_coord_dim: int = 128
    freeze_projection: bool = False
    embedding_source: str = ""

    def validate(self) -> None:
        super().validate()
        self._choice("embedding_init", ("cgcnn92", "external", "onehot", "random"))
        if self.embedding_dim is None and self.embedding_init == "random":
            raise ValueError(f"{type(self).__name__}: embedding_init='random' needs embedding_dim")
        self._int("embedding_dim", allow_none=True)
        self._int("embedding_coord_dim")
        self._bool("embedding_trainable", "embedding_with_coordinates", "freeze_projection")


# --------------------------------------------------------------------------- model base
class CrystalModel(nn.Module):
    """Base class of the four models.

    Class attributes:
        name: registry name (``cgcnn``, ``megnet``, ``alignn``, ``ct``).
        input_kind: which batch the model reads (``crystal_graph``,
            ``megnet_graph``, ``line_graph`` or ``ct``).
        config_class: its :class:`ModelConfig` subclass.

    Instance attributes: ``n_tasks``, ``config``, ``atom_embedding``
    (:class:`~ctlib.models.embedding.AtomEmbedding`).
    """

    name: ClassVar[str] = ""
    input_kind: ClassVar[str] = ""
    config_class: ClassVar[type[ModelConfig]] = ModelConfig

    def __init__(self, n_tasks: int, config):
        super().__init__()
        if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or n_tasks < 1:
            raise ValueError(f"{type(self).__name__}: n_tasks must be an int >= 1, got {n_tasks!r}")
        self.n_tasks = n_tasks
        self.config = self.config_class.from_dict(config)
        self.log_vars: nn.Parameter | None = None

    # -- embedding front ----------------------------------------------------
    def _make_embedding(self, width: int, embedding):
        """Build the AtomEmbedding from the ``embedding_*`` config fields."""
        from .embedding import AtomEmbedding

        c = self.config
        if c.embedding_init == "external":
            if embedding is None:
                raise ValueError(
                    f"{type(self).__name__}: config embedding_init='external' needs the table: "
                    f"pass embedding=<ElementEmbedding or dict> to the model / build_model, or use "
                    f"load_model() for a saved model")
            init = embedding
        else:
            if embedding is not None:
                raise ValueError(f"{type(self).__name__}: embedding= was given but config "
                                 f"embedding_init={c.embedding_init!r}; set embedding_init='external'")
            init = c.embedding_init
        d_in = c.embedding_dim if c.embedding_init == "random" else None
        emb = AtomEmbedding(
            width, init=init, d_in=d_in, trainable=c.embedding_trainable,
            with_coordinates=c.embedding_with_coordinates,
            coord_dim=None if _has_coord_weights(embedding) else c.embedding_coord_dim,
            freeze_projection=c.freeze_projection,
            # a "random" table follows the seed of the run (torch.manual_seed before the build)
            seed=torch.initial_seed() % (2 ** 63))
        if c.embedding_init == "external":
            # the table defines the shapes; record them so load_model can rebuild them
            self.config.embedding_dim = emb.d_in
            if emb.with_coordinates:
                self.config.embedding_coord_dim = emb.coord_dim
        return emb

    # -- multi-task loss ------------------------------------------------------
    def _make_task_weights(self, uncertainty: bool) -> None:
        if uncertainty:
            self.log_vars = nn.Parameter(torch.zeros(self.n_tasks))

    def task_loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        r"""Combine per-task losses into one scalar (paper eq. 9).

        Without uncertainty weighting the tasks are summed with equal weights
        (as the authors did). With ``uncertainty_weights=True`` (Kendall, Gal &
        Cipolla 2018) each task has a learned log-variance :math:`s_i`:

        .. math:: L = \sum_i \tfrac12 e^{-s_i} L_i + \tfrac12 s_i

        Args:
            losses: (K,) per-task losses (K = n_tasks).
        Returns:
            scalar tensor.
        """
        if losses.shape != (self.n_tasks,):
            raise ValueError(f"{type(self).__name__}.task_loss_weights expects ({self.n_tasks},) "
                             f"per-task losses, got shape {tuple(losses.shape)}")
        if self.log_vars is None:
            return losses.sum()
        s = self.log_vars.to(losses.dtype)
        return (0.5 * torch.exp(-s) * losses + 0.5 * s).sum()

    def reset_parameters(self) -> None:
        """Re-initialise every parameter (the embedding table from its source)."""
        for child in self.children():
            _reset_tree(child)
        if self.log_vars is not None:
            with torch.no_grad():
                self.log_vars.zero_()

    def _check_graph_batch(self, batch, need_line_graph: bool = False) -> None:
        from ctlib.data.batch import GraphBatch

        if not isinstance(batch, GraphBatch):
            raise TypeError(f"{type(self).__name__} reads a GraphBatch ({self.input_kind}); got "
                            f"{type(batch).__name__}. Build inputs with ctlib.data.loader.make_loader"
                            f"(ds, {self.input_kind!r}, ...).")
        if need_line_graph and (batch.lg_edge_index is None or batch.lg_cos is None):
            raise ValueError(f"{type(self).__name__} needs the line graph (lg_edge_index, lg_cos); "
                             f"build inputs with kind 'line_graph'.")


def _has_coord_weights(src) -> bool:
    if src is None:
        return False
    if isinstance(src, dict):
        return src.get("coord_weight") is not None
    return getattr(src, "coord_weight", None) is not None


def _reset_tree(m: nn.Module) -> None:
    """Call the top-most ``reset_parameters`` on every branch of the module tree
    (so a module that re-initialises its children itself is not overridden)."""
    if hasattr(m, "reset_parameters"):
        m.reset_parameters()
    elif hasattr(m, "_reset_parameters"):  # nn.MultiheadAttention: children first, as at construction
        for c in m.children():
            _reset_tree(c)
        m._reset_parameters()
    else:
        for c in m.children():
            _reset_tree(c)
