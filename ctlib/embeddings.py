"""Element embeddings: one vector per element, with its element list and provenance.

The paper's "universal atomic embedding" is a table that maps each element to
a d-dimensional vector. Three ways to obtain one (paper, Sec. II):

* **method A** — from a trained CrystalTransformer: the output of the atom
  linear layer for the one-hot of Z, ``W[:, Z-1] + b`` (d = 128);
* **method B** — from a trained GNN (CGCNN, MEGNet, ALIGNN): the learned
  input-embedding table of its :class:`~ctlib.models.AtomEmbedding`;
* **method C** — CGCNN's handcrafted 92-d features (``atom_init.json``).

A table always travels with its **ordered element list**: reading vectors
against another element order silently degrades every downstream result, so
:meth:`ElementEmbedding.load` checks the list (duplicates, unknown symbols,
and an expected list when given).

File formats, chosen by extension:

* ``.json`` — ``{"format": "ctlib.element_embedding", "version": 1,
  "elements": [...], "dim": d, "matrix": [[...], ...], "provenance": {...},
  "coord_weight": [[...]] | null, "coord_bias": [...] | null}``; values
  rounded to 6 significant digits. A CGCNN ``atom_init.json`` (keys "1".."100")
  is also read.
* ``.npz``  — arrays ``elements``, ``matrix`` (+ ``coord_weight``,
  ``coord_bias``) and ``provenance`` (JSON text).
* ``.csv``  — header ``element,e0,...,e{d-1}``, one row per element
  (no provenance, no coordinate weights, no checksum: plain CSV for other tools).

Checksum: ``.json`` and ``.npz`` files written by :meth:`ElementEmbedding.save`
carry ``checksum`` = ``"sha256:<hex>"`` of their own content (element list,
matrix, coordinate weight and bias, values at the 6 significant digits the
JSON keeps; see :func:`content_checksum`). :meth:`ElementEmbedding.load`
recomputes it and refuses a file whose content no longer matches, e.g. an
element list reordered by hand without its rows. Files without a checksum
(older ctlib files, files from other tools) load as before.
"""
from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np

from ctlib.utils import atomic_write, write_json_atomic

FORMAT = "ctlib.element_embedding"
VERSION = 1
_N_Z = 100  # CGCNN's atom_init.json covers Z = 1..100


def _symbols() -> list[str]:
    from ctlib.elements import SYMBOLS

    return list(SYMBOLS)


def _default_elements() -> list[str]:
    from ctlib.elements import ELEMENTS

    return list(ELEMENTS)


def _round6(a: np.ndarray) -> list:
    """Nested lists (1-d or 2-d) of floats rounded to 6 significant digits."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        return [float(f"{x:.6g}") for x in a]
    return [[float(f"{x:.6g}") for x in row] for row in a]


def content_checksum(elements, matrix, coord_weight=None, coord_bias=None) -> str:
    """``"sha256:<hex>"`` of an embedding's content: the ordered element list, the
    matrix and the optional coordinate weight/bias, every value written with 6
    significant digits (so the JSON file, which keeps 6 digits, and the float32
    arrays of an ``.npz`` give the same sum for the same table)."""
    import hashlib

    h = hashlib.sha256(b"ctlib.element_embedding.checksum/1\n")
    h.update(("\x1f".join(str(e) for e in elements) + "\n").encode())
    for name, a in (("matrix", matrix), ("coord_weight", coord_weight), ("coord_bias", coord_bias)):
        if a is None:
            h.update(f"{name}:none\n".encode())
            continue
        a = np.asarray(a, dtype=np.float64)
        h.update(f"{name}:{a.shape}\n".encode())
        h.update(",".join(f"{x:.6g}" for x in a.reshape(-1)).encode())
        h.update(b"\n")
    return "sha256:" + h.hexdigest()


def check_elements(elements, *, where: str = "element list", expect_elements=None) -> list[str]:
    """Validate an ordered element list; return it as a list of str.

    Raises:
        ValueError: on a non-string entry, a duplicate, a symbol that is not
            an element (Z = 1..100), or a list different from
            ``expect_elements`` (the message shows the first difference).
    """
    symbols = set(_symbols())
    elements = list(elements)
    bad = [e for e in elements if not isinstance(e, str)]
    if bad:
        raise ValueError(f"{where}: element symbols must be strings, got {bad[:5]}")
    seen, dups = set(), []
    for e in elements:
        if e in seen:
            dups.append(e)
        seen.add(e)
    if dups:
        raise ValueError(f"{where}: duplicate element(s) {sorted(set(dups))}; each element "
                         f"must appear once")
    unknown = [e for e in elements if e not in symbols]
    if unknown:
        raise ValueError(f"{where}: unknown element symbol(s) {unknown[:10]} (expected symbols "
                         f"of Z=1..100 such as 'H', 'He', 'Fe')")
    if expect_elements is not None:
        expect = list(expect_elements)
        if elements != expect:
            first = next((i for i, (a, b) in enumerate(zip(elements, expect)) if a != b),
                         min(len(elements), len(expect)))
            got = elements[first] if first < len(elements) else "<end>"
            exp = expect[first] if first < len(expect) else "<end>"
            raise ValueError(
                f"{where}: element list differs from the expected one: {len(elements)} vs "
                f"{len(expect)} elements, first difference at position {first} "
                f"({got!r} vs {exp!r}). Reorder with .reindex(expected) or pass the "
                f"matching expect_elements.")
    return elements


class ElementEmbedding:
    """An ordered table of element vectors.

    Args:
        elements: n element symbols, in row order (unique, Z = 1..100).
        matrix: (n, d) float array, row i is the vector of ``elements[i]``;
            stored as float32.
        provenance: free dict saying where the table comes from, e.g.
            ``{"method": "A", "model": "ct", "run_id": ...}``.
        coord_weight: optional (d_c, 3) weight of CT's coordinate embedding
            ``Linear(3, d_c)`` (acts on Cartesian positions in Å).
        coord_bias: optional (d_c,) bias of that layer.

    Shapes:
        ``matrix``: (n_elements, d); ``vector(sym)``: (d,).
    """

    def __init__(self, elements, matrix, provenance: dict | None = None,
                 coord_weight=None, coord_bias=None):
        self.elements = check_elements(elements)
        m = np.asarray(matrix, dtype=np.float32)
        if m.ndim != 2 or m.shape[0] != len(self.elements):
            raise ValueError(f"matrix must have shape (n_elements={len(self.elements)}, d), "
                             f"got {m.shape}")
        if not np.all(np.isfinite(m)):
            rows = sorted({self.elements[i] for i in np.argwhere(~np.isfinite(m))[:, 0]})
            raise ValueError(f"matrix has NaN/inf values in the rows of {rows[:10]}")
        self.matrix = m
        self.provenance = dict(provenance or {})
        self.coord_weight = None if coord_weight is None else np.asarray(coord_weight, np.float32)
        self.coord_bias = None if coord_bias is None else np.asarray(coord_bias, np.float32)
        if self.coord_weight is not None and (self.coord_weight.ndim != 2
                                              or self.coord_weight.shape[1] != 3):
            raise ValueError(f"coord_weight must have shape (d_c, 3), got {self.coord_weight.shape}")
        if self.coord_bias is not None:
            if self.coord_weight is None:
                raise ValueError("coord_bias given without coord_weight")
            if self.coord_bias.shape != (self.coord_weight.shape[0],):
                raise ValueError(f"coord_bias must have shape ({self.coord_weight.shape[0]},), "
                                 f"got {self.coord_bias.shape}")

    # ----------------------------------------------------------------- basics
    @property
    def dim(self) -> int:
        """d, the vector length."""
        return self.matrix.shape[1]

    def __len__(self) -> int:
        return len(self.elements)

    def __repr__(self) -> str:
        keys = [k for k in ("method", "model_name", "model", "run_id", "dataset", "seed", "source",
                            "format") if k in self.provenance]
        keys = [k for k in keys if not (k == "model" and "model_name" in self.provenance)][:4]
        prov = ", ".join(f"{k}={self.provenance[k]}" for k in keys
                         if isinstance(self.provenance[k], (str, int, float, bool)))
        coord = f", coord={tuple(self.coord_weight.shape)}" if self.coord_weight is not None else ""
        span = f"{self.elements[0]}..{self.elements[-1]}" if self.elements else "-"
        return (f"ElementEmbedding({len(self)} elements [{span}] x {self.dim}{coord}; "
                f"{prov or 'no provenance'})")

    def __eq__(self, other) -> bool:
        if not isinstance(other, ElementEmbedding):
            return NotImplemented
        return (self.elements == other.elements and np.array_equal(self.matrix, other.matrix)
                and self.provenance == other.provenance)

    def vector(self, symbol: str) -> np.ndarray:
        """(d,) vector of one element."""
        try:
            return self.matrix[self.elements.index(symbol)]
        except ValueError:
            raise KeyError(f"element {symbol!r} is not in this embedding ({len(self)} elements: "
                           f"{self.elements[0]}..{self.elements[-1]})") from None

    def to_frame(self):
        """pandas DataFrame, index = element symbol, columns e0..e{d-1}."""
        import pandas as pd

        return pd.DataFrame(self.matrix, index=pd.Index(self.elements, name="element"),
                            columns=[f"e{j}" for j in range(self.dim)])

    def reindex(self, elements) -> "ElementEmbedding":
        """The same vectors in another element order (every element must be present)."""
        elements = check_elements(elements, where="reindex target")
        missing = [e for e in elements if e not in self.elements]
        if missing:
            raise KeyError(f"elements {missing[:10]} are not in this embedding")
        rows = [self.elements.index(e) for e in elements]
        return ElementEmbedding(elements, self.matrix[rows], self.provenance,
                                self.coord_weight, self.coord_bias)

    def z_table(self, size: int = _N_Z, fill: str = "zero") -> tuple[np.ndarray, np.ndarray]:
        """Table indexed by Z-1, for an embedding layer over Z = 1..size.

        Args:
            size: number of rows (Z = 1..size).
            fill: ``"zero"`` or ``"mean"`` (mean of the known vectors) for
                elements this embedding lacks.

        Returns:
            (table (size, d) float32, present (size,) bool).
        """
        if fill not in ("zero", "mean"):
            raise ValueError(f"fill must be 'zero' or 'mean', got {fill!r}")
        symbols = _symbols()
        table = np.zeros((size, self.dim), dtype=np.float32)
        if fill == "mean" and len(self):
            table[:] = self.matrix.mean(axis=0)
        present = np.zeros(size, dtype=bool)
        for sym, row in zip(self.elements, self.matrix):
            z = symbols.index(sym) + 1
            if z <= size:
                table[z - 1] = row
                present[z - 1] = True
        return table, present

    # ------------------------------------------------------------ extraction
    @classmethod
    def from_model(cls, model, elements=None, provenance: dict | None = None) -> "ElementEmbedding":
        """Extract a trained model's element embedding (method A for CT, B for GNNs).

        Uses ``model.atom_embedding.element_vectors(zs)`` for the elements
        ``elements`` (default :data:`ctlib.elements.ELEMENTS`, the 89 of
        MP-2018). For a CrystalTransformer the result is ``W[:, Z-1] + b`` of
        the atom linear layer, and the coordinate layer ``Linear(3, d_c)``
        (when the embedding has one) is stored as ``coord_weight``/``coord_bias``,
        as a map of positions in Å: CT's ``coord_scale`` is folded into the weight.
        """
        import torch

        elements = check_elements(elements if elements is not None else _default_elements())
        symbols = _symbols()
        emb = getattr(model, "atom_embedding", None)
        if emb is None or not hasattr(emb, "element_vectors"):
            raise TypeError(f"{type(model).__name__} has no atom_embedding.element_vectors(); "
                            f"only ctlib models carry an extractable element embedding")
        zs = torch.tensor([symbols.index(e) + 1 for e in elements], dtype=torch.long)
        param = next(emb.parameters(), None)
        if param is not None:
            zs = zs.to(param.device)
        was_training = emb.training
        emb.eval()
        try:
            with torch.no_grad():
                vec = emb.element_vectors(zs).detach().float().cpu().numpy()
        finally:
            emb.train(was_training)
        kind = getattr(model, "input_kind", None)
        prov = {"method": "A" if kind == "ct" else "B", "model": type(model).__name__,
                "input_kind": kind}
        cfg = getattr(model, "config", None)
        if cfg is not None and hasattr(cfg, "to_dict"):
            try:
                from ctlib.utils import to_jsonable

                prov["model_config"] = to_jsonable(cfg.to_dict())
            except TypeError:
                pass
        prov.update(provenance or {})
        cw = cb = None
        coord = _coordinate_layer(model)
        if coord is not None:
            cw = coord.weight.detach().float().cpu().numpy()
            cb = None if coord.bias is None else coord.bias.detach().float().cpu().numpy()
            if coord is getattr(model, "coord_embedding", None):
                # CT computes Linear(3, d_c)(coord_scale * x): export the map of positions in Å
                cw = cw * float(getattr(getattr(model, "config", None), "coord_scale", 1.0))
        return cls(elements, vec, prov, cw, cb)

    @classmethod
    def cgcnn92(cls, elements=None) -> "ElementEmbedding":
        """Method C: CGCNN's 92-d handcrafted features for ``elements`` (default the 89)."""
        from ctlib.elements import cgcnn92

        elements = check_elements(elements if elements is not None else _default_elements())
        symbols = _symbols()
        table = np.asarray(cgcnn92(), dtype=np.float32)
        rows = [symbols.index(e) for e in elements]
        return cls(elements, table[rows], {"method": "C", "source": "CGCNN atom_init.json (92-d)"})

    @classmethod
    def from_elementembeddings(cls, name: str) -> "ElementEmbedding":
        """A table that the ``elementembeddings`` package ships, e.g. ``mat2vec``.

        Reads the package's own data file (installed with the project; nothing is
        downloaded) as ``elementembeddings.core.Embedding.load_data(name)`` does
        (:func:`ctlib.elements.external_table`) and keeps the elements of
        Z = 1..100, in Z order. Names as that package spells them: ``magpie``,
        ``magpie_sc`` (scaled), ``mat2vec``, ``megnet16``, ``skipatom``,
        ``oliynyk``, ``oliynyk_sc``, ...
        """
        from importlib.metadata import version

        from ctlib.elements import external_table

        table = external_table(name)
        symbols = _symbols()
        elements = [e for e in symbols if e in table]
        matrix = np.stack([np.asarray(table[e], dtype=np.float64) for e in elements])
        return cls(elements, matrix, {"method": "external", "source": "elementembeddings",
                                      "name": name, "version": version("elementembeddings")})

    # -------------------------------------------------------------------- I/O
    def save(self, path: str | Path) -> Path:
        """Write to ``.json``, ``.npz`` or ``.csv`` (by extension), atomically."""
        path = Path(path)
        ext = path.suffix.lower()
        if ext == ".json":
            obj = {"format": FORMAT, "version": VERSION, "elements": self.elements,
                   "dim": self.dim, "matrix": _round6(self.matrix),
                   "provenance": self.provenance,
                   "coord_weight": None if self.coord_weight is None else _round6(self.coord_weight),
                   "coord_bias": None if self.coord_bias is None else _round6(self.coord_bias)}
            # the sum of what is written (the rounded values)
            obj["checksum"] = content_checksum(self.elements, obj["matrix"], obj["coord_weight"],
                                               obj["coord_bias"])

            return write_json_atomic(path, obj, indent=None)
        if ext == ".npz":
            arrays = {"elements": np.array(self.elements), "matrix": self.matrix,
                      "provenance": np.array(json.dumps(self.provenance, default=str))}
            if self.coord_weight is not None:
                arrays["coord_weight"] = self.coord_weight
            if self.coord_bias is not None:
                arrays["coord_bias"] = self.coord_bias
            arrays["checksum"] = np.array(content_checksum(self.elements, self.matrix,
                                                           self.coord_weight, self.coord_bias))
            return atomic_write(path, lambda tmp: np.savez(tmp, **arrays), ".npz")
        if ext == ".csv":
            def write(tmp):
                with open(tmp, "w", newline="") as fh:
                    w = csv.writer(fh)
                    w.writerow(["element"] + [f"e{j}" for j in range(self.dim)])
                    for sym, row in zip(self.elements, self.matrix):
                        w.writerow([sym] + [f"{x:.6g}" for x in row])
            return atomic_write(path, write, ".csv")
        raise ValueError(f"cannot save an embedding as {path.name!r}: use .json, .npz or .csv "
                         f"(or to_atom_init() for CGCNN's atom_init.json)")

    @classmethod
    def load(cls, path: str | Path, *, expect_elements=None) -> "ElementEmbedding":
        """Read a ``.json`` (ctlib or CGCNN atom_init), ``.npz`` or ``.csv`` file.

        Args:
            expect_elements: if given, the file's element list must equal it
                (same symbols, same order).

        Raises:
            FileNotFoundError, ValueError: naming the file and the problem (a damaged,
                truncated or mis-encoded file too); ValueError also when the file's
                ``checksum`` does not match its content (edited after it was
                written). Files without a checksum load.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"embedding file {path} does not exist")
        ext = path.suffix.lower()
        where = f"embedding file {path}"
        cw = cb = None
        checksum = None
        if ext == ".json":
            try:  # bytes: json detects UTF-8 (with or without a BOM), UTF-16 and UTF-32
                obj = json.loads(path.read_bytes())
            except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError
                raise ValueError(f"{where} is not valid JSON ({type(e).__name__}: {e}); write it "
                                 f"again (ctlib embed extract / export)") from None
            if isinstance(obj, dict) and obj.get("format") == FORMAT:
                if obj.get("version") != VERSION:
                    raise ValueError(f"{where} has format version {obj.get('version')}; this "
                                     f"ctlib reads version {VERSION}")
                for key in ("elements", "matrix"):
                    if key not in obj:
                        raise ValueError(f"{where} lacks the {key!r} entry")
                elements, matrix = obj["elements"], obj["matrix"]
                prov = obj.get("provenance") or {}
                cw, cb = obj.get("coord_weight"), obj.get("coord_bias")
                checksum = obj.get("checksum")
                for key, v in (("elements", elements), ("matrix", matrix), ("coord_weight", cw),
                               ("coord_bias", cb)):
                    if not isinstance(v, list) and (v is not None or key in ("elements", "matrix")):
                        raise ValueError(f"{where}: {key!r} must be a list, got {type(v).__name__}")
            elif isinstance(obj, dict) and obj and all(str(k).isdigit() for k in obj):
                symbols = _symbols()
                bad = [k for k in obj if not (k.isascii() and k.isdigit() and k[0] != "0"
                                              and int(k) <= len(symbols))]
                if bad:
                    raise ValueError(f"{where}: atom_init keys must be atomic numbers '1'..'100', "
                                     f"got {sorted(bad)[:5]}")
                zs = sorted(int(k) for k in obj)
                elements = [symbols[z - 1] for z in zs]
                rows = [obj[str(z)] for z in zs]
                if not all(isinstance(r, list) for r in rows):
                    z = next(z for z, r in zip(zs, rows) if not isinstance(r, list))
                    raise ValueError(f"{where}: atom_init entry '{z}' must be a list of numbers")
                lens = {len(r) for r in rows}
                if len(lens) != 1:
                    raise ValueError(f"{where}: atom_init vectors have different lengths {sorted(lens)}")
                matrix = rows
                prov = {"format": "atom_init"}
            else:
                raise ValueError(f"{where} is neither a ctlib embedding (format={FORMAT!r}) nor a "
                                 f"CGCNN atom_init.json (keys '1'..'100')")
        elif ext == ".npz":
            import zipfile

            try:  # a damaged archive can raise almost anything; np.load reads no CRC
                with zipfile.ZipFile(path) as zf:
                    broken = zf.testzip()
                if broken is not None:
                    raise ValueError(f"member {broken} fails its CRC check")
                with np.load(path, allow_pickle=False) as z:
                    arrays = {k: z[k] for k in z.files}
            except Exception as e:
                raise ValueError(f"{where} is damaged or not an .npz archive and cannot be read "
                                 f"({type(e).__name__}: {e}); write it again (ctlib embed extract / "
                                 f"export)") from None
            for key in ("elements", "matrix"):
                if key not in arrays:
                    raise ValueError(f"{where} lacks the array {key!r}")
            if arrays["elements"].ndim != 1:
                raise ValueError(f"{where}: 'elements' must be a 1-d array of symbols, got shape "
                                 f"{arrays['elements'].shape}")
            elements = [str(e) for e in arrays["elements"]]
            matrix = arrays["matrix"]
            try:
                prov = json.loads(str(arrays["provenance"])) if "provenance" in arrays else {}
            except ValueError as e:
                raise ValueError(f"{where}: 'provenance' is not JSON text ({e})") from None
            cw, cb = arrays.get("coord_weight"), arrays.get("coord_bias")
            checksum = str(arrays["checksum"]) if "checksum" in arrays else None
        elif ext == ".csv":
            try:
                with open(path, newline="", encoding="utf-8-sig") as fh:
                    rows = list(csv.reader(fh))
            except (UnicodeDecodeError, csv.Error) as e:
                raise ValueError(f"{where} is not UTF-8 CSV text ({type(e).__name__}: {e})") from None
            if not rows or not rows[0] or rows[0][0].strip().lower() != "element":
                raise ValueError(f"{where}: first CSV column must be headed 'element'")
            width = len(rows[0])
            short = next((k + 2 for k, r in enumerate(rows[1:]) if r and len(r) != width), None)
            if short is not None:
                raise ValueError(f"{where}: line {short} has {len(rows[short - 1])} cells but the "
                                 f"header has {width} (element, e0, ...); the file is cut short or "
                                 f"a cell is missing or extra")
            elements = [r[0].strip() for r in rows[1:] if r]
            try:
                matrix = [[float(x) for x in r[1:]] for r in rows[1:] if r]
            except ValueError as e:
                raise ValueError(f"{where}: non-numeric value ({e})") from None
            prov = {"format": "csv"}
        else:
            raise ValueError(f"cannot read {path.name!r}: use .json, .npz or .csv")
        elements = check_elements(elements, where=where, expect_elements=expect_elements)
        raw_matrix = matrix
        try:
            matrix = np.asarray(matrix, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: matrix is not a rectangular numeric table ({e})") from None
        if matrix.ndim != 2 or matrix.shape[0] != len(elements):
            raise ValueError(f"{where}: matrix shape {matrix.shape} does not match its "
                             f"{len(elements)} elements")
        if checksum is not None:
            try:
                got = content_checksum(elements, raw_matrix if ext == ".json" else matrix, cw, cb)
            except (TypeError, ValueError) as e:
                raise ValueError(f"{where}: coordinate weights are not numeric tables ({e})") from None
            if got != checksum:
                raise ValueError(
                    f"{where} was changed after it was written: its checksum {checksum} does not "
                    f"match its content ({got}); e.g. the element list was reordered or edited "
                    f"without its matrix rows. Rows would be read against the wrong elements. "
                    f"Write the file again from its source (ctlib embed extract / export) or, if "
                    f"the edit is intended and consistent, delete the \"checksum\" entry.")
        if not isinstance(prov, dict):
            raise ValueError(f"{where}: 'provenance' must be a mapping, got {type(prov).__name__}")
        prov = dict(prov)
        prov.setdefault("source_file", str(path))
        try:
            return cls(elements, matrix, prov, cw, cb)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{where}: {e}") from None

    def to_atom_init(self, path: str | Path, fill: str = "zero") -> Path:
        """Write CGCNN's ``atom_init.json``: keys "1".."100" -> list of d floats.

        Elements of Z = 1..100 missing from this embedding get zeros
        (``fill="zero"``) or the mean vector (``fill="mean"``); a
        ``UserWarning`` lists them. Values are rounded to 6 significant digits.
        """
        table, present = self.z_table(_N_Z, fill)
        if not present.all():
            symbols = _symbols()
            missing = [symbols[i] for i in np.flatnonzero(~present)]
            warnings.warn(f"atom_init: {len(missing)} element(s) not in this embedding got "
                          f"{fill} vectors: {', '.join(missing)}", UserWarning, stacklevel=2)
        rows = _round6(table)
        obj = {str(z): rows[z - 1] for z in range(1, _N_Z + 1)}

        return write_json_atomic(path, obj, indent=None)


def _coordinate_layer(model):
    """The coordinate layer ``nn.Linear(3, d_c)`` of a model, or None.

    CT keeps it on the model (``coord_embedding``, paper eq. 2); a GNN with the
    E_a+E_c front keeps it in its AtomEmbedding (``atom_embedding.coord_linear``).
    """
    import torch

    for owner, name in ((model, "coord_embedding"), (getattr(model, "atom_embedding", None),
                                                      "coord_linear")):
        layer = getattr(owner, name, None)
        if isinstance(layer, torch.nn.Linear) and layer.in_features == 3:
            return layer
    return None
