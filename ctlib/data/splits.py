"""Train / validation / test splits of a CrystalDataset.

Schemes:

* ``standard`` — the split stored with the data (``ds.meta["split"]``, values
  ``train``/``val``/``test``); mp2018's MEGNet benchmark split.
* ``matbench`` — Matbench's 5 folds for castelli_perovskites:
  ``KFold(n_splits=5, shuffle=True, random_state=18012019)`` over the rows of the
  full Matbench table (``ds.meta["row"]``). Fold k: test = the rows of fold k;
  of the other four folds, a seeded 10% (``seed``) is validation and the rest is
  training. Matbench itself has no validation set, so results are comparable with
  the leaderboard on the test fold only. Works on a subset too: each structure
  keeps the fold of its original row.
* ``random`` — a seeded 80/10/10 permutation (``numpy.random.default_rng(seed)``),
  for any dataset including a user's own (:func:`random_split`, ``test_first``).

Index arrays are int64, sorted, disjoint, and together cover the dataset.
"""
from __future__ import annotations

import numpy as np

from .dataset import CrystalDataset
from .registry import REGISTRY

SCHEMES = ("standard", "matbench", "random")
MATBENCH_SEED = 18012019
MATBENCH_FOLDS = 5


def _sorted(a) -> np.ndarray:
    return np.sort(np.asarray(a, dtype=np.int64))


RANDOM_ORDERS = ("test_first", "train_first")


def random_split(n: int, seed: int, frac_val: float = 0.1, frac_test: float = 0.1, *,
                 order: str = "test_first") -> dict[str, np.ndarray]:
    """A seeded random train / val / test split of ``n`` items.

    Both orders cut one permutation, ``numpy.random.default_rng(seed).permutation(n)``,
    into three consecutive runs; they differ in which part comes first and so
    which one takes the rounding remainder:

    * ``test_first`` (``get_split(scheme="random")``): ``[test | val | train]``
      with ``round(frac_test * n)`` test and ``round(frac_val * n)`` validation
      items; training gets the rest.
    * ``train_first`` (the seeded perovskite, HOIP and JARVIS samples of
      :mod:`ctlib.experiments`): ``[train | val | test]`` with
      ``round((1 - frac_val - frac_test) * n)`` training and
      ``round(frac_val * n)`` validation items; test gets the rest.

    The two give different index sets for the same seed. Stored runs are
    looked up by a hash that includes their split's indices, so neither order
    may change.

    Args:
        n: number of items.
        seed: seed of the permutation.
        frac_val, frac_test: fractions of ``n`` for validation and test.
        order: ``test_first`` or ``train_first``.

    Returns:
        ``{"train", "val", "test"}``: sorted, disjoint int64 index arrays that
        together cover ``0..n-1``.
    """
    if order not in RANDOM_ORDERS:
        raise ValueError(f"unknown random split order {order!r}; choose one of {RANDOM_ORDERS}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = int(round(frac_val * n))
    if order == "test_first":
        n_test = int(round(frac_test * n))
        test, val, train = np.split(perm, [n_test, n_test + n_val])
    else:
        n_train = int(round((1 - frac_val - frac_test) * n))
        train, val, test = np.split(perm, [n_train, n_train + n_val])
    return {"train": _sorted(train), "val": _sorted(val), "test": _sorted(test)}


def matbench_fold_of_rows(n_rows: int) -> np.ndarray:
    """(n_rows,) int fold number (0..4) of each row of a Matbench table of ``n_rows`` rows."""
    from sklearn.model_selection import KFold

    fold = np.empty(n_rows, dtype=np.int64)
    kf = KFold(n_splits=MATBENCH_FOLDS, shuffle=True, random_state=MATBENCH_SEED)
    for k, (_, test) in enumerate(kf.split(np.arange(n_rows))):
        fold[test] = k
    return fold


def get_split(ds: CrystalDataset, scheme: str | None = None, fold: int | None = None,
              seed: int = 42) -> dict[str, np.ndarray]:
    """Split ``ds`` into train / val / test index arrays.

    Args:
        ds: the dataset.
        scheme: ``standard`` | ``matbench`` | ``random``; None = the registry default
            for ``ds.name`` (``random`` for datasets outside the registry).
        fold: Matbench fold 0..4 (``matbench`` only; None = 0).
        seed: seed of the ``random`` permutation and of the matbench validation draw.

    Returns:
        ``{"train": (n_train,), "val": (n_val,), "test": (n_test,)}`` int64 indices into ds.

    Raises:
        ValueError: unknown scheme, a fold with a non-matbench scheme or outside 0..4,
            or the dataset lacks the meta column the scheme needs.
    """
    if scheme is None:
        scheme = REGISTRY[ds.name].default_split if ds.name in REGISTRY else "random"
    if scheme not in SCHEMES:
        raise ValueError(f"unknown split scheme {scheme!r}; choose one of {SCHEMES}")
    if fold is not None and scheme != "matbench":
        raise ValueError(f"fold={fold} only applies to scheme 'matbench', not {scheme!r}")
    n = len(ds)
    if scheme == "random":
        return random_split(n, seed)
    if scheme == "standard":
        if "split" not in ds.meta:
            raise ValueError(f"dataset {ds.name!r} has no meta['split'] column, so it has no "
                             "standard split; use scheme='random'")
        lab = np.asarray(ds.meta["split"]).astype(str)
        unknown = sorted(set(lab) - {"train", "val", "test"})
        if unknown:
            raise ValueError(f"dataset {ds.name!r}: meta['split'] has values {unknown}; "
                             "expected only train/val/test")
        return {k: np.flatnonzero(lab == k).astype(np.int64) for k in ("train", "val", "test")}
    # matbench
    fold = 0 if fold is None else fold
    if not isinstance(fold, (int, np.integer)) or not 0 <= fold < MATBENCH_FOLDS:
        raise ValueError(f"fold must be an int in 0..{MATBENCH_FOLDS - 1}, got {fold!r}")
    if "row" not in ds.meta:
        raise ValueError(f"dataset {ds.name!r} has no meta['row'] column (the row in the "
                         "Matbench table), so Matbench folds are undefined; use scheme='random'")
    rows = np.asarray(ds.meta["row"], dtype=np.int64)
    n_rows = REGISTRY[ds.name].n_records if ds.name in REGISTRY else int(rows.max()) + 1
    if len(rows) and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError(f"dataset {ds.name!r}: meta['row'] outside 0..{n_rows - 1}")
    in_test = matbench_fold_of_rows(n_rows)[rows] == fold
    rest = np.flatnonzero(~in_test)
    perm = np.random.default_rng(seed).permutation(len(rest))
    n_val = int(round(0.1 * len(rest)))
    return {"train": _sorted(rest[perm[n_val:]]), "val": _sorted(rest[perm[:n_val]]),
            "test": np.flatnonzero(in_test).astype(np.int64)}
