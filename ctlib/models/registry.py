"""The model registry and persistence: name -> class, the smoke widths, building a model
by name, and saving / loading a model folder.

It sits above the four model modules (it imports them all) and below the package's
``__init__``, which re-exports it; no model module imports it.
"""
from __future__ import annotations

import json
import os
import pickle
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import torch

from ctlib.utils import atomic_write

from .alignn import ALIGNN
from .cgcnn import CGCNN
from .common import FORMAT_VERSION, CrystalModel, ModelConfig
from .crystal_transformer import CrystalTransformer
from .megnet import MEGNet

MODEL_CLASSES: dict[str, type[CrystalModel]] = {
    "ct": CrystalTransformer,
    "cgcnn": CGCNN,
    "megnet": MEGNet,
    "alignn": ALIGNN,
}

# small widths for the smoke profile: every layer type still runs
_TINY: dict[str, dict] = {
    "ct": {"d_atom": 16, "d_coord": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32},
    "cgcnn": {"atom_fea_len": 16, "n_conv": 2, "h_fea_len": 16},
    "megnet": {"dense": [16, 8], "units": [16, 16, 8], "n_blocks": 2, "set2set_dim": 4,
               "readout": [8, 8]},
    "alignn": {"hidden": 16, "embedding_features": 8, "alignn_layers": 1, "gcn_layers": 1},
}


def _check_name(name: str) -> type[CrystalModel]:
    if name not in MODEL_CLASSES:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODEL_CLASSES)}")
    return MODEL_CLASSES[name]


def tiny_config(name: str) -> dict:
    """Config overrides that shrink model ``name`` for smoke runs (a new dict)."""
    _check_name(name)
    return {k: (list(v) if isinstance(v, list) else v) for k, v in _TINY[name].items()}


def build_model(name: str, n_tasks: int = 1, config: dict | ModelConfig | None = None, *,
                embedding=None) -> CrystalModel:
    """Build model ``name`` (``ct``, ``cgcnn``, ``megnet``, ``alignn``).

    Args:
        name: registry name.
        n_tasks: number of predicted properties K.
        config: dict of config overrides (strict: unknown keys raise) or a
            config object; None = the paper's defaults.
        embedding: an element embedding (``ctlib.embeddings.ElementEmbedding``
            or a dict with ``elements``/``matrix``) for the atom front; sets
            ``embedding_init="external"`` unless the config says otherwise.
    """
    cls = _check_name(name)
    if config is not None and not isinstance(config, (dict, ModelConfig)):
        raise TypeError(f"build_model: config must be a dict or {cls.config_class.__name__}, "
                        f"got {type(config).__name__}")
    if isinstance(config, ModelConfig) and not isinstance(config, cls.config_class):
        raise TypeError(f"build_model({name!r}): config is a {type(config).__name__}, "
                        f"expected {cls.config_class.__name__}")
    cfg = dict(config.to_dict() if isinstance(config, ModelConfig) else (config or {}))
    if embedding is not None:
        cfg.setdefault("embedding_init", "external")
    return cls(n_tasks, cfg, embedding=embedding)


# --------------------------------------------------------------------------- save / load
def save_model(model: CrystalModel, directory: str | os.PathLike) -> Path:
    """Write ``model.json`` (name, format version, config, n_tasks, ctlib version,
    creation time) and ``weights.pt`` (state dict) into ``directory``.

    Returns the directory path. Files are written atomically (tmp + rename).
    """
    import ctlib

    if not isinstance(model, CrystalModel):
        raise TypeError(f"save_model expects a ctlib model, got {type(model).__name__}")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    meta = {
        "name": model.name,
        "format_version": FORMAT_VERSION,
        "n_tasks": model.n_tasks,
        "config": model.config.to_dict(),
        "ctlib_version": ctlib.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_write(d / "weights.pt", lambda tmp: torch.save(state, tmp))
    atomic_write(d / "model.json", lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2, sort_keys=True)))
    return d


_META_KEYS = {"name", "format_version", "n_tasks", "config", "ctlib_version", "created"}
_DAMAGED_HINT = ("The file was probably truncated (disk full, interrupted copy). Retrain the run "
                 "(`ctlib train --config FILE.yaml --force`, or force=True in Python) or restore "
                 "the file from a copy.")


def load_model(directory: str | os.PathLike, map_location: str | torch.device = "cpu") -> CrystalModel:
    """Rebuild a model written by :func:`save_model`; strict about everything.

    Raises ``FileNotFoundError`` if a file is missing, ``ValueError`` on a
    damaged (e.g. truncated) ``model.json``/``weights.pt`` (naming the file and
    suggesting a retrain with ``--force``), an unknown model name, a
    format-version mismatch, unknown/missing metadata or config keys, or
    state-dict keys that do not match the rebuilt model.
    """
    from .embedding import AtomEmbedding

    d = Path(directory)
    mpath, wpath = d / "model.json", d / "weights.pt"
    for p in (mpath, wpath):
        if not p.is_file():
            raise FileNotFoundError(f"load_model: {p} is missing; expected a folder written by save_model")
    try:
        meta = json.loads(mpath.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"load_model: {mpath} is damaged and cannot be read ({type(err).__name__}: "
                         f"{err}). {_DAMAGED_HINT}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"load_model: {mpath} holds a {type(meta).__name__}, not the metadata "
                         f"object save_model writes. {_DAMAGED_HINT}")
    keys = set(meta)
    if keys != _META_KEYS:
        raise ValueError(f"load_model: {mpath} has unexpected keys {sorted(keys - _META_KEYS)} / "
                         f"lacks {sorted(_META_KEYS - keys)}")
    if meta["format_version"] != FORMAT_VERSION:
        raise ValueError(f"load_model: {mpath} has format_version {meta['format_version']}, this ctlib "
                         f"reads {FORMAT_VERSION}; re-save it with the ctlib that wrote it "
                         f"(ctlib {meta['ctlib_version']})")
    reg = MODEL_CLASSES
    if meta["name"] not in reg:
        raise ValueError(f"load_model: {mpath} names model {meta['name']!r}; known: {sorted(reg)}")
    cls = reg[meta["name"]]
    cfg = cls.config_class.from_dict(meta["config"])
    try:
        state = torch.load(wpath, map_location=map_location, weights_only=True)
    except (RuntimeError, OSError, EOFError, ValueError, KeyError, TypeError, AttributeError,
            pickle.UnpicklingError, zipfile.BadZipFile) as err:
        # a truncated or half-copied file: torch says e.g. "PytorchStreamReader failed
        # reading zip archive: failed finding central directory"
        raise ValueError(f"load_model: {wpath} is damaged and cannot be read "
                         f"({type(err).__name__}: {str(err)[:160]}). {_DAMAGED_HINT}") from None
    if not isinstance(state, dict):
        raise ValueError(f"load_model: {wpath} holds a {type(state).__name__}, not a state dict. "
                         f"{_DAMAGED_HINT}")
    embedding = None
    if cfg.embedding_init == "external":
        # the table values come from the weights; build zero tables of the right shapes
        pretrained_coords = "atom_embedding.source_coord_weight" in state
        embedding = AtomEmbedding.empty_source(
            cfg.embedding_dim, cfg.embedding_coord_dim if cfg.embedding_with_coordinates else None,
            coord_weights=pretrained_coords)
    model = cls(meta["n_tasks"], cfg, embedding=embedding)
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatches
        raise ValueError(f"load_model: {wpath} does not fit a {meta['name']} built from {mpath}: {err}") from None
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f"load_model: {wpath} does not match a {meta['name']} with this config: "
                         f"missing {result.missing_keys[:10]}, unexpected {result.unexpected_keys[:10]}")
    return model
