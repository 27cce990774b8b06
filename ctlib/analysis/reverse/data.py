"""The inputs of the reverse prediction: the properties, the tables and the elements they share.

What is predicted (:data:`PROPERTIES`, the paper's five elemental properties),
from what (:func:`baseline_tables`, the reference tables beside CT), on which
elements (:func:`common_elements`, :func:`property_matrix`) and with which folds
(:func:`cv_splits`). Fits no model.

Shapes: an embedding is ``(n_elements, d)`` with rows following an ordered
list of element symbols; a property is a ``pandas.Series`` indexed by symbol.

Imports: numpy, pandas, :mod:`ctlib.elements` (inside :func:`baseline_tables`)
and scikit-learn (inside :func:`cv_splits`); no other module of the package.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["PROPERTIES", "BASELINE_DESCRIPTIONS", "feature_names", "common_elements", "property_matrix",
           "cv_splits", "baseline_tables"]

#: Column of ``ctlib.elements.elemental_properties()`` -> the paper's name (Table VI order).
PROPERTIES: dict[str, str] = {
    "atomic_radius": "Radius",
    "boiling_point": "Boiling Temperature",
    "melting_point": "Melting Temperature",
    "log10_conductivity": "Electrical Conductivity",
    "first_ionization_energy": "First Ionization Energy",
}

#: What each baseline table of :func:`baseline_tables` is.
BASELINE_DESCRIPTIONS: dict[str, str] = {
    "onehot": "one-hot identity of Z (100-d): carries no chemistry, the floor",
    "cgcnn92": "CGCNN's handcrafted 92-d features (method C)",
    "mat2vec": "mat2vec word embedding (200-d, Tshitoyan et al. 2019; elementembeddings package data)",
    "megnet16": "MEGNet's learned 16-d element embedding (elementembeddings package data)",
    "random128": "seeded standard-normal 128-d table: as many dimensions as CT, no information",
}


def feature_names(d: int) -> list[str]:
    """``["dim 0", ..., "dim {d-1}"]``: 0-based embedding dimensions."""
    return [f"dim {j}" for j in range(int(d))]


def _table_frame(elements: Sequence[str], matrix) -> pd.DataFrame:
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != len(elements):
        raise ValueError(f"an embedding table needs one row per element: {len(elements)} elements "
                         f"but a matrix of shape {m.shape}")
    if len(set(elements)) != len(elements):
        raise ValueError("an embedding table lists an element twice")
    return pd.DataFrame(m, index=list(elements))


def common_elements(tables: Mapping[str, tuple[Sequence[str], np.ndarray]], y: pd.Series,
                    order: Sequence[str] | None = None) -> list[str]:
    """Elements with a finite property value and a row in every table.

    Args:
        tables: name -> (elements, ``(n, d)`` matrix).
        y: property values indexed by symbol (NaN = missing).
        order: symbol order of the result (default: the first table's order).

    Returns:
        the ordered list of symbols.
    """
    if not tables:
        raise ValueError("no embedding tables given")
    have = set(y.index[np.isfinite(y.to_numpy(dtype=float))])
    for els, _ in tables.values():
        have &= set(els)
    first = order if order is not None else next(iter(tables.values()))[0]
    return [e for e in first if e in have]


def property_elements(tables: Mapping[str, tuple[Sequence[str], np.ndarray]], properties: pd.DataFrame,
                      prop: str, order: Sequence[str] | None, need: int, need_text: str) -> tuple[pd.Series, list[str]]:
    """One property's values and the elements a CV of it uses (:func:`common_elements`).

    Args:
        properties: element properties (rows: symbols; columns: property names).
        need: the fewest elements the caller's scoring can use; ``need_text`` says why in
            the error (``"need at least 5"``).

    Returns:
        ``(values as float, ordered symbols)``.

    Raises:
        ValueError: fewer than ``need`` elements have a value and a row in every table.
    """
    col = properties[prop].astype(float)
    keep = common_elements(tables, col, order)
    if len(keep) < need:
        raise ValueError(f"property {prop!r}: only {len(keep)} elements have a value and a row "
                         f"in every table; {need_text}")
    return col, keep


def property_matrix(elements: Sequence[str], matrix, y: pd.Series,
                    keep: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``matrix`` and values of ``y`` for the symbols ``keep``, in that order.

    Returns:
        ``(X (len(keep), d), y (len(keep),))`` as float64.
    """
    df = _table_frame(elements, matrix)
    missing = [e for e in keep if e not in df.index]
    if missing:
        raise KeyError(f"elements {missing[:10]} have no row in the embedding table")
    yy = y.reindex(list(keep)).to_numpy(dtype=float)
    if not np.all(np.isfinite(yy)):
        bad = [e for e, v in zip(keep, yy) if not np.isfinite(v)]
        raise ValueError(f"property {y.name!r} has no value for {bad[:10]}; drop them with common_elements")
    return df.loc[list(keep)].to_numpy(), yy


def cv_splits(n: int, *, folds: int = 5, repeats: int = 1, seed: int = 0) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """Repeated shuffled K-fold index splits.

    Repeat ``r`` shuffles with ``KFold(folds, shuffle=True, random_state=seed + r)``,
    so any two embeddings over the same elements get the same folds.

    Returns:
        ``[(repeat, fold, train_idx, test_idx), ...]``.
    """
    from sklearn.model_selection import KFold

    if folds < 2 or folds > n:
        raise ValueError(f"folds must be between 2 and the number of elements ({n}), got {folds}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    out = []
    for r in range(repeats):
        kf = KFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for f, (tr, te) in enumerate(kf.split(np.arange(n))):
            out.append((r, f, tr, te))
    return out


def baseline_tables(elements: Sequence[str] | None = None, *, seed: int = 0,
                    include: Sequence[str] = tuple(BASELINE_DESCRIPTIONS)) -> dict[str, tuple[list[str], np.ndarray]]:
    """Reference embeddings of the same elements, read offline.

    Args:
        elements: symbols (default ``ctlib.elements.ELEMENTS``, the 89 of MP-2018).
        seed: seed of the ``random128`` table.
        include: which of :data:`BASELINE_DESCRIPTIONS` to build.

    Returns:
        name -> ``(elements, matrix (n_name, d_name) float64)``.  An external
        table keeps only the requested elements it has (so ``n_name`` may be
        smaller); :func:`~ctlib.analysis.reverse.cv.reverse_prediction_table`
        then uses the common ones.

    Raises:
        ValueError: for an unknown name in ``include``.
    """
    from ctlib.elements import ELEMENTS, SYMBOLS, cgcnn92, external_table, onehot

    els = list(elements) if elements is not None else list(ELEMENTS)
    unknown = [n for n in include if n not in BASELINE_DESCRIPTIONS]
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; choose from {list(BASELINE_DESCRIPTIONS)}")
    symbols = list(SYMBOLS)
    missing = [e for e in els if e not in symbols]
    if missing:
        raise ValueError(f"unknown element symbols {missing[:10]}")
    z = np.array([symbols.index(e) + 1 for e in els])
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for name in include:
        if name == "onehot":
            out[name] = (els, np.asarray(onehot(z), dtype=np.float64))
        elif name == "cgcnn92":
            out[name] = (els, np.asarray(cgcnn92(), dtype=np.float64)[z - 1])
        elif name == "random128":
            rng = np.random.default_rng(seed)
            out[name] = (els, rng.standard_normal((len(els), 128)))
        else:  # external tables shipped as package data of `elementembeddings`
            emb = external_table(name)
            have = [e for e in els if e in emb]
            out[name] = (have, np.stack([np.asarray(emb[e], dtype=np.float64) for e in have]))
    return out
