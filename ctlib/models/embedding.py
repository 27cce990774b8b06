"""The atom-embedding front shared by every model (paper Sec. II.B, Fig. 2).

An :class:`AtomEmbedding` maps an atomic number Z to a ``width``-d vector in
two steps::

    table[Z-1]  (100, d_in)  --  Linear(d_in [+ d_c], width)  -->  (width,)
    (optional)  Linear(3, d_c)(pos)  --------^   (Table IV "E_a+E_c")

The table is where an element's *identity* lives; its initial values choose
the paper's embedding method:

==================  ==========================================================
``"onehot"``        identity (100 x 100); the module is then exactly CT's atom
                    layer ``Linear(100, width)`` (paper eq. 1) and, for a GNN,
                    the "reduced prior" start of methods A/B.
``"cgcnn92"``       CGCNN's 92-d handcrafted features (method C).
``"random"``        seeded N(0, 1) table of width ``d_in`` (MEGNet's learned
                    ``Embedding(Z, 16)``).
element embedding   any object (or dict) with ``elements`` (n symbols),
                    ``matrix`` (n, d) and optionally ``coord_weight`` (d_c, 3)
                    and ``coord_bias`` (d_c,): a transferred table (method A
                    from CT, method B from a GNN, or an external one). Rows of
                    elements the table lacks are filled with the **mean of the
                    present rows** (so an unseen element starts at the
                    "average element" rather than at the origin); when the
                    data meets such an element a ``UserWarning`` names it
                    and ``AtomEmbedding.filled_elements`` lists it.
==================  ==========================================================

Frozen vs trainable (paper Table IV, E_a vs E_a^f). A transferred CT
embedding *is* the 128-d vector ``W[:, Z-1] + b`` of CT's atom layer, so the
frozen variant E_a^f keeps the **table** fixed (a buffer) while the projection
``Linear(128, width)`` — the back-end model's own input layer, new for every
back end — stays trainable; ``freeze_projection=True`` freezes it too. The
trainable variant E_a makes the table a Parameter; the authors fine-tuned it
at a small learning rate (1e-5), hence :meth:`AtomEmbedding.param_groups`.
A one-hot or CGCNN-92 table is a fixed *input encoding* in CT and in the
original CGCNN/ALIGNN, so the models keep those tables frozen by default.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

N_Z = 100  # rows of every table: Z = 1..100, row Z-1


class _EmptySource:
    """A zero table of a given shape, filled later by ``load_state_dict`` (see ``load_model``)."""

    def __init__(self, d_in: int, coord_dim: int | None, coord_weights: bool):
        self.d_in = int(d_in)
        self.coord_dim = None if coord_dim is None else int(coord_dim)
        self.coord_weight = torch.zeros(self.coord_dim, 3) if coord_weights and coord_dim else None


def _symbols() -> list[str]:
    from ctlib.elements import SYMBOLS

    return list(SYMBOLS)


def _get(obj, key):
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _table_from_element_embedding(src) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None,
                                                 torch.Tensor | None, str]:
    """(table (100, d), present (100,) bool, coord_weight, coord_bias, label) from a
    duck-typed element embedding. Raises ValueError with the problem named."""
    elements = _get(src, "elements")
    matrix = _get(src, "matrix")
    if elements is None or matrix is None:
        raise TypeError("AtomEmbedding init must be 'onehot', 'cgcnn92', 'random' or an element "
                        "embedding with .elements and .matrix (e.g. ctlib.embeddings.ElementEmbedding); "
                        f"got {type(src).__name__}")
    elements = list(elements)
    m = torch.as_tensor(matrix, dtype=torch.float32)
    if m.ndim != 2 or m.shape[0] != len(elements) or m.shape[0] == 0:
        raise ValueError(f"element embedding: matrix has shape {tuple(m.shape)} but there are "
                         f"{len(elements)} elements; expected (n_elements, d) with n_elements >= 1")
    if not torch.isfinite(m).all():
        raise ValueError("element embedding: matrix has NaN/inf values")
    symbols = _symbols()
    index = {s: i for i, s in enumerate(symbols)}
    unknown = [e for e in elements if e not in index]
    if unknown:
        raise ValueError(f"element embedding: unknown element symbol(s) {unknown[:10]}; "
                         f"expected symbols of Z=1..{N_Z}")
    if len(set(elements)) != len(elements):
        dup = sorted({e for e in elements if elements.count(e) > 1})
        raise ValueError(f"element embedding: duplicate element(s) {dup}")
    table = m.mean(dim=0, keepdim=True).repeat(N_Z, 1)  # absent elements: mean of present rows
    present = torch.zeros(N_Z, dtype=torch.bool)
    rows = torch.tensor([index[e] for e in elements])
    table[rows] = m
    present[rows] = True
    cw, cb = _get(src, "coord_weight"), _get(src, "coord_bias")
    cw = None if cw is None else torch.as_tensor(cw, dtype=torch.float32)
    cb = None if cb is None else torch.as_tensor(cb, dtype=torch.float32)
    if cw is not None and (cw.ndim != 2 or cw.shape[1] != 3):
        raise ValueError(f"element embedding: coord_weight must have shape (d_c, 3), got {tuple(cw.shape)}")
    if cb is not None and (cw is None or cb.shape != (cw.shape[0],)):
        raise ValueError("element embedding: coord_bias must come with coord_weight and have shape (d_c,)")
    prov = _get(src, "provenance")
    label = "external"
    if isinstance(prov, dict) and prov:
        label = "external(" + ", ".join(f"{k}={prov[k]}" for k in list(prov)[:3]) + ")"
    return table, present, cw, cb, label


class AtomEmbedding(nn.Module):
    r"""Element table followed by a linear projection (paper eq. 1, Fig. 2).

    .. math:: h_i = W\,[\,T_{Z_i-1} \,\Vert\, (W^X x_i + b^X)\,] + b

    with :math:`T` the (100, d_in) table, the bracketed coordinate term only
    when ``with_coordinates`` (it is CT's eq. 2 applied inside a GNN's front,
    Table IV "E_a+E_c"). Implemented without materialising the concatenation:
    the table is projected once (100 rows) and gathered, the coordinate part
    is added — the same linear map, fewer operations.

    Args:
        width: output width (CT 128, CGCNN 64, MEGNet 64, ALIGNN 256).
        init: ``"onehot"`` (default), ``"cgcnn92"``, ``"random"`` or an element
            embedding (object or dict with ``elements``, ``matrix`` and
            optional ``coord_weight``/``coord_bias``); see the module docstring.
        d_in: table width for ``"random"`` (required there); must match for
            the other sources when given.
        trainable: table is an ``nn.Parameter`` (default True); False keeps it a
            buffer (E_a^f). A coordinate layer that came from the source is
            frozen along with it; a freshly initialised one always trains.
        with_coordinates: also embed Cartesian positions with
            ``Linear(3, coord_dim)`` (default False).
        coord_dim: d_c (default: rows of the source's ``coord_weight`` if
            present, else 128).
        freeze_projection: freeze ``Linear(d_in + d_c, width)`` (default False).
        seed: seed of the ``"random"`` table (default 0).

    Shapes:
        ``forward(z (*,) long in 0..100, pos (*, 3) float Å or None) -> (*, width)``;
        ``z == 0`` (CT padding) gives the projection of a zero table row.
        ``element_vectors(zs (n,)) -> (n, width)``.

    Attributes:
        table: (100, d_in) Parameter or buffer, row Z-1.
        projection: ``nn.Linear(d_in + d_c, width)``.
        coord_linear: ``nn.Linear(3, d_c)`` or None.
        source: label of the init source; ``filled`` lists the elements whose
            rows were mean-filled (external tables only: every element of
            Z = 1..100 the table lacks).
        filled_elements: the mean-filled elements that were actually met in the
            data (list of symbols, in Z order): filled by :meth:`check_data_elements`
            and by ``forward``, each newly met one with a ``UserWarning`` naming it.
            Empty for onehot/cgcnn92/random tables and for complete tables.
        trained_z: (101,) bool buffer, saved with the weights: ``trained_z[Z]``
            is True once an atom of element Z went through ``forward`` in training
            mode; :attr:`trained_elements` reads it.
    """

    def __init__(self, width: int, init="onehot", *, d_in: int | None = None, trainable: bool = True,
                 with_coordinates: bool = False, coord_dim: int | None = None,
                 freeze_projection: bool = False, seed: int = 0):
        super().__init__()
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"AtomEmbedding: width must be an int >= 1, got {width!r}")
        cw = cb = None
        self.filled: list[str] = []
        if isinstance(init, _EmptySource):
            table = torch.zeros(N_Z, init.d_in)
            if with_coordinates and init.coord_weight is not None:
                cw, cb = init.coord_weight, torch.zeros(init.coord_dim)
            source = "external"
        elif isinstance(init, str):
            if init == "onehot":
                table = torch.eye(N_Z)
            elif init == "cgcnn92":
                from ctlib.elements import cgcnn92

                table = torch.as_tensor(cgcnn92(), dtype=torch.float32)
                if table.shape[0] != N_Z:
                    raise ValueError(f"ctlib.elements.cgcnn92() returned shape {tuple(table.shape)}, "
                                     f"expected ({N_Z}, 92)")
            elif init == "random":
                if d_in is None:
                    raise ValueError("AtomEmbedding(init='random') needs d_in (the table width)")
                g = torch.Generator().manual_seed(int(seed))
                table = torch.randn(N_Z, int(d_in), generator=g)
            else:
                raise ValueError(f"AtomEmbedding: unknown init {init!r}; choose 'onehot', 'cgcnn92', "
                                 f"'random' or pass an element embedding (.elements, .matrix)")
            source = init
        else:
            table, present, cw, cb, source = _table_from_element_embedding(init)
            symbols = _symbols()
            self.filled = [symbols[i] for i in range(N_Z) if not bool(present[i])]
        if d_in is not None and int(d_in) != table.shape[1]:
            raise ValueError(f"AtomEmbedding: d_in={d_in} but the {source!r} table has width {table.shape[1]}")
        self.width = width
        self.d_in = int(table.shape[1])
        self.source = source
        self.trainable = bool(trainable)
        self.with_coordinates = bool(with_coordinates)
        self.freeze_projection = bool(freeze_projection)
        self.coord_pretrained = False
        self.coord_dim = 0
        self.coord_linear: nn.Linear | None = None
        if self.with_coordinates:
            if cw is not None:
                if coord_dim is not None and int(coord_dim) != cw.shape[0]:
                    raise ValueError(f"AtomEmbedding: coord_dim={coord_dim} but the source's coordinate "
                                     f"weights have {cw.shape[0]} rows")
                self.coord_dim = int(cw.shape[0])
                self.coord_pretrained = True
            else:
                self.coord_dim = int(coord_dim) if coord_dim is not None else 128
            self.coord_linear = nn.Linear(3, self.coord_dim)
            if self.coord_pretrained:
                self.register_buffer("source_coord_weight", cw.clone())
                self.register_buffer("source_coord_bias",
                                     cb.clone() if cb is not None else torch.zeros(self.coord_dim))
        # the source is kept (persistently: a reloaded model resets to the same start)
        self.register_buffer("source_table", table.clone())
        # elements that went through forward() in training mode (index Z; 0 = padding).
        # Persistent, so a saved model knows which elements it was trained on.
        self.register_buffer("trained_z", torch.zeros(N_Z + 1, dtype=torch.bool))
        # mean-filled rows (index Z), to notice when the data meets one (not saved)
        filled_z = torch.zeros(N_Z + 1, dtype=torch.bool)
        if self.filled:
            filled_z[1:] = ~present
        self.register_buffer("filled_z", filled_z, persistent=False)
        self.filled_elements: list[str] = []
        if self.trainable:
            self.table = nn.Parameter(table.clone())
        else:
            self.register_buffer("table", table.clone())
        self.projection = nn.Linear(self.d_in + self.coord_dim, width)
        self.reset_parameters()

    @staticmethod
    def empty_source(d_in: int, coord_dim: int | None = None, coord_weights: bool = False) -> _EmptySource:
        """A placeholder init: zero table of width ``d_in`` (and zero source coordinate
        weights of ``coord_dim`` rows when ``coord_weights``), to be overwritten by
        ``load_state_dict`` (used by :func:`ctlib.models.load_model`)."""
        return _EmptySource(d_in, coord_dim, coord_weights)

    # ------------------------------------------------------------ data coverage
    @property
    def trained_elements(self) -> list[str] | None:
        """Symbols of the elements this module met in training (forward in training
        mode), in Z order; None when unknown (never trained, or weights saved by a
        ctlib that did not record it)."""
        seen = self.trained_z[1:].cpu()
        if not bool(seen.any()):
            return None
        symbols = _symbols()
        return [symbols[i] for i in seen.nonzero().flatten().tolist()]

    def check_data_elements(self, z) -> list[str]:
        """Note which mean-filled elements (rows the transferred table lacked) occur in
        ``z`` (atomic numbers, any shape; 0 = padding is ignored): the newly met ones are
        added to :attr:`filled_elements` and named in a ``UserWarning``. Returns the
        newly met symbols. Call it with a whole dataset (``ds.numbers``) to warn before
        training; ``forward`` calls it on every batch."""
        if not self.filled:
            return []
        zs = torch.as_tensor(z).reshape(-1).long().to(self.filled_z.device)
        zs = zs[(zs >= 1) & (zs <= N_Z)]
        return self._note_filled(self.filled_z[zs].any() if zs.numel() else None, zs)

    def _note_filled(self, hit, zs: torch.Tensor) -> list[str]:
        if hit is None or not bool(hit):
            return []
        symbols = _symbols()
        met = {symbols[int(v) - 1] for v in zs[self.filled_z[zs]].unique().tolist()}
        new = sorted(met - set(self.filled_elements), key=symbols.index)
        if new:
            self.filled_elements = sorted(set(self.filled_elements) | set(new), key=symbols.index)
            import warnings

            warnings.warn(
                f"AtomEmbedding: the transferred embedding table ({self.source}) lacks "
                f"element(s) {', '.join(new)} that occur in the data; their rows were filled with "
                f"the mean of the table's {N_Z - len(self.filled)} rows (all filled elements met so "
                f"far: {', '.join(self.filled_elements)}; see .filled_elements)",
                UserWarning, stacklevel=3)
        return new

    # ------------------------------------------------------------------ params
    def reset_parameters(self) -> None:
        """Table (and pretrained coordinate layer) back to the source; projection re-drawn;
        the record of trained elements cleared."""
        with torch.no_grad():
            self.trained_z.zero_()
            self.table.copy_(self.source_table)
            if self.coord_linear is not None:
                if self.coord_pretrained:
                    self.coord_linear.weight.copy_(self.source_coord_weight)
                    self.coord_linear.bias.copy_(self.source_coord_bias)
                else:
                    self.coord_linear.reset_parameters()
        self.projection.reset_parameters()
        if self.coord_linear is not None:
            self.coord_linear.requires_grad_(self.trainable or not self.coord_pretrained)
        self.projection.requires_grad_(not self.freeze_projection)

    def table_parameters(self) -> list[nn.Parameter]:
        """Trainable parameters that came from the source (table, pretrained coordinate
        layer): the ones fine-tuned at ``embedding_lr``."""
        out = []
        if isinstance(self.table, nn.Parameter):
            out.append(self.table)
        if self.coord_linear is not None and self.coord_pretrained:
            out += [p for p in self.coord_linear.parameters() if p.requires_grad]
        return out

    def param_groups(self, lr: float, embedding_lr: float | None = None) -> list[dict]:
        """Optimizer groups of this module: the source-initialised parameters at
        ``embedding_lr`` (default ``lr``), the rest at ``lr``. Frozen ones are left out."""
        return _split_groups(list(self.parameters()), self.table_parameters(), lr, embedding_lr)

    # ----------------------------------------------------------------- forward
    def _check_z(self, z: torch.Tensor) -> None:
        if z.dtype not in (torch.long, torch.int32, torch.int16, torch.int64):
            raise TypeError(f"AtomEmbedding: z must be an integer tensor of atomic numbers, got {z.dtype}")
        if not z.numel():
            return
        out_of_range = (z < 0) | (z > N_Z)
        if not self.filled:
            if bool(out_of_range.any()):
                self._bad_z(z, out_of_range)
            return
        # one device sync for both checks
        zc = z.long().clamp(0, N_Z)
        bad, hit = torch.stack([out_of_range.any(), self.filled_z[zc].any()]).tolist()
        if bad:
            self._bad_z(z, out_of_range)
        if hit:
            self._note_filled(True, zc.reshape(-1))

    @staticmethod
    def _bad_z(z: torch.Tensor, mask: torch.Tensor) -> None:
        bad = z[mask].unique()[:10].tolist()
        raise ValueError(f"AtomEmbedding: atomic numbers must be in 1..{N_Z} (0 = padding); got {bad}")

    def forward(self, z: torch.Tensor, pos: torch.Tensor | None = None) -> torch.Tensor:
        self._check_z(z)
        if self.training:
            # remember the elements trained on (no device sync; index 0 is padding)
            self.trained_z.index_fill_(0, z.reshape(-1).long(), True)
        w, b = self.projection.weight, self.projection.bias
        w_atom = w[:, : self.d_in]
        rows = F.linear(self.table.to(w.dtype), w_atom, b)         # (100, width)
        rows = torch.cat([b.unsqueeze(0), rows], dim=0)              # row 0: padding
        out = F.embedding(z.long(), rows)
        if self.coord_linear is not None:
            if pos is None:
                raise ValueError("AtomEmbedding(with_coordinates=True) needs pos (*, 3) in Å")
            if pos.shape != z.shape + (3,):
                raise ValueError(f"AtomEmbedding: pos must have shape {tuple(z.shape) + (3,)}, "
                                 f"got {tuple(pos.shape)}")
            out = out + F.linear(self.coord_linear(pos.to(w.dtype)), w[:, self.d_in:])
        return out

    def element_vectors(self, zs) -> torch.Tensor:
        """The module's output for each element alone: the universal atomic embedding
        of methods A/B, ``W_atom T[Z-1] + b``. Positions are ignored: with
        coordinates, the coordinate branch is left out (it is exported separately
        as the coordinate weights, so adding its bias here would count it twice).

        Args:
            zs: (n,) atomic numbers 1..100 (tensor or sequence of ints).
        Returns:
            (n, width) tensor (CT: exactly ``W[:, Z-1] + b`` of its atom layer).
        """
        p = self.projection.weight
        zs = torch.as_tensor(zs, dtype=torch.long, device=p.device).reshape(-1)
        if zs.numel() and bool(((zs < 1) | (zs > N_Z)).any()):
            raise ValueError(f"element_vectors: atomic numbers must be in 1..{N_Z}, got {zs.tolist()[:10]}")
        w, b = self.projection.weight, self.projection.bias
        return F.linear(self.table.to(w.dtype).index_select(0, zs - 1), w[:, : self.d_in], b)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # weights saved before trained_z existed still load: the trained elements are then unknown
        key = prefix + "trained_z"
        absent = key not in state_dict
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        if absent:
            if key in missing_keys:
                missing_keys.remove(key)
            with torch.no_grad():
                self.trained_z.zero_()

    def extra_repr(self) -> str:
        return (f"source={self.source!r}, d_in={self.d_in}, width={self.width}, trainable={self.trainable}, "
                f"coord_dim={self.coord_dim}, freeze_projection={self.freeze_projection}")


def _split_groups(params, table_params, lr, embedding_lr) -> list[dict]:
    tid = {id(p) for p in table_params}
    emb = [p for p in params if id(p) in tid and p.requires_grad]
    rest = [p for p in params if id(p) not in tid and p.requires_grad]
    groups = []
    if rest:
        groups.append({"params": rest, "lr": lr, "name": "model"})
    if emb:
        groups.append({"params": emb, "lr": lr if embedding_lr is None else embedding_lr,
                       "name": "atom_embedding.table"})
    return groups


def param_groups(model: nn.Module, lr: float, embedding_lr: float | None = None) -> list[dict]:
    """Optimizer parameter groups for a whole model: its atom-embedding table
    (and pretrained coordinate layer) at ``embedding_lr``, everything else at ``lr``.

    Example::

        opt = torch.optim.Adam(param_groups(model, 1e-3, embedding_lr=1e-5))
    """
    emb = getattr(model, "atom_embedding", None)
    table = emb.table_parameters() if isinstance(emb, AtomEmbedding) else []
    return _split_groups(list(model.parameters()), table, lr, embedding_lr)
