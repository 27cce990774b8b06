"""The four models of the paper and the atom-embedding front they share.

=========  ==========================  ===================  ==========================
name       class                       ``input_kind``       default atom front
=========  ==========================  ===================  ==========================
``ct``     :class:`CrystalTransformer`  ``ct``               one-hot -> Linear(100, 128)
``cgcnn``  :class:`CGCNN`              ``crystal_graph``    CGCNN-92 -> Linear(92, 64)
``megnet`` :class:`MEGNet`             ``megnet_graph``     learned 16-d -> Linear(16, 64)
``alignn`` :class:`ALIGNN`             ``line_graph``       CGCNN-92 -> Linear(92, 256)
=========  ==========================  ===================  ==========================

``build_model(name, n_tasks, config)`` builds one; :func:`save_model` /
:func:`load_model` persist it; :func:`tiny_config` gives the small widths of the
``smoke`` profile. Nothing is built or read at import time.
"""
from __future__ import annotations

from .alignn import ALIGNN, ALIGNNConfig
from .cgcnn import CGCNN, CGCNNConfig
from .common import (CrystalModel, GaussianExpansion, ModelConfig, load_model, save_model, softplus2)
from .crystal_transformer import CrystalTransformer, CTConfig
from .embedding import AtomEmbedding, param_groups
from .megnet import MEGNet, MEGNetConfig

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


__all__ = [
    "ALIGNN", "ALIGNNConfig", "AtomEmbedding", "CGCNN", "CGCNNConfig", "CTConfig", "CrystalModel",
    "CrystalTransformer", "GaussianExpansion", "MEGNet", "MEGNetConfig", "MODEL_CLASSES", "ModelConfig",
    "build_model", "load_model", "param_groups", "save_model", "softplus2", "tiny_config",
]
