"""CrystalTransformer (Jin et al. 2024, Sec. II.A, eqs. 1-5; authors' repo ct-UAE).

A crystal is a sequence of its atoms in CIF order, with no graph and no
periodic images::

    one-hot(Z)  (B, L, 100) --Linear(100,128)--> A'  (eq. 1)  [AtomEmbedding, init "onehot"]
    Cartesian x (B, L, 3) Å --Linear(3,128)----> X'  (eq. 2)  [coord_embedding; x times coord_scale, 1 = paper]
    M = [A' | X']  (B, L, 256)                        (eq. 3)
    Z = TransformerEncoder^8(M, key_padding_mask)     (eq. 4)  8 heads, ff 512, dropout 0.1
    y = head(Z[:, 0])                                 (eq. 5)  first token = first atom

The model is *not* invariant to rotation, translation or atom order by design;
the authors rely on augmentation (paper eqs. 10-12, ``ctlib.data``).
The universal atomic embedding (method A) is
``model.atom_embedding.element_vectors(zs)`` = ``W[:, Z-1] + b``.
"""
from __future__ import annotations

import dataclasses
import warnings

import torch
from torch import nn

from .common import CrystalModel, EmbeddingOptions


@dataclasses.dataclass
class CTConfig(EmbeddingOptions):
    """CrystalTransformer hyper-parameters (defaults: the paper / authors' code).

    Attributes:
        d_atom: width of the atom embedding A' (128).
        d_coord: width of the coordinate embedding X' (128); d_model = d_atom + d_coord.
        n_layers: encoder layers (8).
        n_heads: attention heads (8).
        d_ff: feed-forward width (512).
        dropout: dropout in the encoder (0.1).
        readout: ``"first"`` (paper: output at position 0), ``"cls"`` (a learned
            token prepended; extra) or ``"mean"`` (masked mean; extra).
        head_hidden: hidden width of the heads; default d_model/2 for the
            single-task head ``Linear(256,128) -> Linear(128,1)`` and d_model for
            the per-task heads ``Linear(256,256) -> ReLU -> Linear(256,1)``.
        uncertainty_weights: learn one log-variance per task for the loss
            (Kendall et al. 2018; see ``task_loss_weights``); False = equal weights.
        enable_nested_tensor: passed to ``nn.TransformerEncoder`` (inference fast
            path on padded batches).
        coord_scale: factor on the Cartesian positions before ``Linear(3, d_coord)``
            (1.0 = Å, the paper). At the default init the coordinate half of the
            token is ~50x larger than the atom half (positions of 0-20 Å against a
            one-hot row), and on short CPU budgets the model then barely learns
            the composition; 0.1 (positions in nm) is the same function class
            with a better-conditioned start. The quick profile uses 0.1.
        embedding_*: the atom-embedding front (see ``EmbeddingOptions``);
            default one-hot, frozen table, so the front is exactly Linear(100, 128).
    """

    embedding_init: str = "onehot"
    d_atom: int = 128
    d_coord: int = 128
    n_layers: int = 8
    n_heads: int = 8
    d_ff: int = 512
    dropout: float = 0.1
    readout: str = "first"
    head_hidden: int | None = None
    uncertainty_weights: bool = False
    enable_nested_tensor: bool = True
    coord_scale: float = 1.0

    def validate(self) -> None:
        super().validate()
        self._int("d_atom", "d_coord", "n_layers", "n_heads", "d_ff")
        self._int("head_hidden", allow_none=True)
        self._choice("readout", ("cls", "first", "mean"))
        self._bool("uncertainty_weights", "enable_nested_tensor")
        self._number("coord_scale", positive=True)
        if not (isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0):
            raise ValueError(f"CTConfig.dropout must be in [0, 1), got {self.dropout!r}")
        d_model = self.d_atom + self.d_coord
        if d_model % self.n_heads:
            raise ValueError(f"CTConfig: d_model = d_atom + d_coord = {d_model} must be divisible by "
                             f"n_heads = {self.n_heads}")
        if self.embedding_with_coordinates:
            raise ValueError("CTConfig: embedding_with_coordinates must be False; CT embeds coordinates "
                             "with its own Linear(3, d_coord) (eq. 2)")


class CrystalTransformer(CrystalModel):
    """The paper's CrystalTransformer (eqs. 1-5).

    Args:
        n_tasks: number of predicted properties K (1: single-task head, >1:
            one head per task).
        config: :class:`CTConfig` or dict (strict); default the paper's sizes.
        embedding: element embedding for ``embedding_init="external"``.

    Shapes:
        input :class:`~ctlib.data.batch.CTBatch` with z (B, L), pos (B, L, 3) Å,
        mask (B, L) True at padding; output (B, K).
    """

    name = "ct"
    input_kind = "ct"
    config_class = CTConfig

    def __init__(self, n_tasks: int = 1, config: CTConfig | dict | None = None, *, embedding=None):
        super().__init__(n_tasks, config)
        c = self.config
        d_model = c.d_atom + c.d_coord
        self.d_model = d_model
        self.atom_embedding = self._make_embedding(c.d_atom, embedding)          # eq. 1
        self.coord_embedding = nn.Linear(3, c.d_coord)                           # eq. 2
        layer = nn.TransformerEncoderLayer(d_model, c.n_heads, dim_feedforward=c.d_ff,
                                           dropout=c.dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, c.n_layers,
                                             enable_nested_tensor=c.enable_nested_tensor)  # eq. 4
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model)) if c.readout == "cls" else None
        if n_tasks == 1:
            hidden = c.head_hidden or d_model // 2
            self.heads = nn.ModuleList([nn.Sequential(nn.Linear(d_model, hidden), nn.Linear(hidden, 1))])
        else:
            hidden = c.head_hidden or d_model
            self.heads = nn.ModuleList([
                nn.Sequential(nn.Linear(d_model, hidden), nn.ReLU(), nn.Linear(hidden, 1))
                for _ in range(n_tasks)])
        self._make_task_weights(c.uncertainty_weights)
        self._init_cls()

    def _init_cls(self) -> None:
        if self.cls_token is not None:
            with torch.no_grad():
                self.cls_token.normal_(0.0, 0.02)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self._init_cls()

    def encode(self, batch) -> torch.Tensor:
        """Crystal representation fed to the heads.

        Returns:
            (B, d_model) tensor: the first token (``readout="first"``), the CLS
            token, or the masked mean of the encoder output.
        """
        from ctlib.data.batch import CTBatch

        if not isinstance(batch, CTBatch):
            raise TypeError(f"CrystalTransformer reads a CTBatch; got {type(batch).__name__}. "
                            f"Build inputs with ctlib.data.loader.make_loader(ds, 'ct', ...).")
        z, pos, mask = batch.z, batch.pos, batch.mask
        if z.ndim != 2 or pos.shape != z.shape + (3,) or mask.shape != z.shape:
            raise ValueError(f"CTBatch shapes disagree: z {tuple(z.shape)}, pos {tuple(pos.shape)}, "
                             f"mask {tuple(mask.shape)}; expected (B, L), (B, L, 3), (B, L)")
        if mask.dtype != torch.bool:
            raise TypeError(f"CTBatch.mask must be bool (True at padding), got {mask.dtype}")
        if z.shape[1] == 0 or bool(mask[:, 0].any()):
            raise ValueError("CTBatch: every crystal needs at least one atom at position 0 "
                             "(mask[:, 0] must be False)")
        dtype = self.coord_embedding.weight.dtype
        x = pos.to(dtype) if self.config.coord_scale == 1.0 else pos.to(dtype) * self.config.coord_scale
        h = torch.cat([self.atom_embedding(z), self.coord_embedding(x)], dim=-1)  # eq. 3
        if self.cls_token is not None:
            h = torch.cat([self.cls_token.expand(h.shape[0], 1, -1), h], dim=1)
            mask = torch.cat([mask.new_zeros(mask.shape[0], 1), mask], dim=1)
        if self.training or torch.is_grad_enabled():
            out = self.encoder(h, src_key_padding_mask=mask)                      # eq. 4
        else:
            # inference may take PyTorch's nested-tensor fast path (measured ~1.4x faster on
            # CPU for padded batches); silence its "prototype" notice, which is not actionable here
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors",
                                        category=UserWarning)
                out = self.encoder(h, src_key_padding_mask=mask)
        if self.config.readout == "mean":
            keep = (~mask).unsqueeze(-1).to(out.dtype)
            # the nested-tensor path returns zeros at padding; mask anyway for the training path
            return (out * keep).sum(1) / keep.sum(1).clamp(min=1)
        return out[:, 0]                                                          # eq. 5: Z_1

    def forward(self, batch) -> torch.Tensor:
        """Predict (B, n_tasks) from a :class:`~ctlib.data.batch.CTBatch`."""
        rep = self.encode(batch)
        return torch.cat([head(rep) for head in self.heads], dim=-1)
