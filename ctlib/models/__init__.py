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
from .common import CrystalModel, GaussianExpansion, ModelConfig, softplus2
from .crystal_transformer import CrystalTransformer, CTConfig
from .embedding import AtomEmbedding, param_groups
from .megnet import MEGNet, MEGNetConfig
from .registry import MODEL_CLASSES, build_model, load_model, save_model, tiny_config

__all__ = [
    "ALIGNN", "ALIGNNConfig", "AtomEmbedding", "CGCNN", "CGCNNConfig", "CTConfig", "CrystalModel",
    "CrystalTransformer", "GaussianExpansion", "MEGNet", "MEGNetConfig", "MODEL_CLASSES", "ModelConfig",
    "build_model", "load_model", "param_groups", "save_model", "softplus2", "tiny_config",
]
