"""Batch order and the re-iterable loader of one index list.

This module's one job: decide which structures go into which batch, epoch by
epoch (seeded shuffling; for the CrystalTransformer, length bucketing under an
optional cap on padded atoms), and hand each batch to :mod:`ctlib.data.collate`.
:func:`make_loader` is the entry point; graph kinds get their graphs from
:mod:`ctlib.data.graphs` (built or read from the cache when not given).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from .collate import as_index, collate_ct, collate_graphs, target_matrix
from .dataset import CrystalDataset
from .graphs import GRAPH_KINDS, GraphSet, build_graphs

#: Every kind :func:`make_loader` accepts.
LOADER_KINDS = ("ct", *GRAPH_KINDS)


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


class RandomBatchSampler:
    """Batches of positions 0..n-1: a fresh seeded shuffle each epoch, or in order.

    Args:
        n: number of items.
        batch_size: items per batch (the last batch may be smaller).
        shuffle: permute with ``default_rng([seed, epoch])``; False keeps order.
        seed: base seed.
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True, seed: int = 0):
        self.n, self.batch_size = int(n), _check_batch_size(batch_size)
        self.shuffle, self.seed, self.epoch = bool(shuffle), int(seed), 0

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation of ``epoch`` (call before iterating)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self):
        order = (np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
                 if self.shuffle else np.arange(self.n))
        for a in range(0, self.n, self.batch_size):
            yield order[a:a + self.batch_size]


def _cut(pos: np.ndarray, lengths: np.ndarray, batch_size: int, max_tokens: int | None) -> list:
    """Cut ``pos`` (kept in order) into consecutive batches of at most
    ``batch_size`` items whose padded size ``items * max(length)`` stays
    within ``max_tokens`` (a single longer item still gets its own batch)."""
    if max_tokens is None:
        return [pos[a:a + batch_size] for a in range(0, len(pos), batch_size)]
    out, start, longest = [], 0, 0
    for k, n in enumerate(lengths[pos].tolist()):
        grown = max(longest, n)
        if k > start and (k - start >= batch_size or (k - start + 1) * grown > max_tokens):
            out.append(pos[start:k])
            start, grown = k, n
        longest = grown
    if start < len(pos):
        out.append(pos[start:])
    return out


class LengthBucketSampler(RandomBatchSampler):
    """Batches of positions grouped by length, to keep padding small.

    Each epoch: shuffle all positions with ``default_rng([seed, epoch])``, cut
    them into buckets of ``bucket_batches * batch_size``, sort each bucket by
    length (stable), cut it into batches, and shuffle the order of all
    batches. Every position appears exactly once per epoch. With
    ``shuffle=False`` positions come in their given order (no bucketing), so
    predictions line up with the index list.

    With ``max_tokens`` a batch also stops growing once its padded size
    (structures x longest structure) would exceed ``max_tokens``: large cells
    then come in smaller batches. Attention memory grows with B x L^2, and one
    batch of 64 cells padded to ~250 atoms took 16 s of a 20 s CPU epoch
    (see ``benchmarks/throughput.py``).

    Args:
        lengths: (n,) atoms per item.
        batch_size: items per batch.
        shuffle, seed: as in :class:`RandomBatchSampler`.
        bucket_batches: batches per sorting bucket (larger: less padding, less
            randomness).
        max_tokens: cap on padded atoms per batch, or None (no cap).
    """

    def __init__(self, lengths, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 bucket_batches: int = 50, max_tokens: int | None = None):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        super().__init__(len(self.lengths), batch_size, shuffle=shuffle, seed=seed)
        if isinstance(bucket_batches, bool) or not isinstance(bucket_batches, int) \
                or bucket_batches < 1:
            raise ValueError(f"bucket_batches must be a positive int, got {bucket_batches!r}")
        if max_tokens is not None and (isinstance(max_tokens, bool)
                                       or not isinstance(max_tokens, (int, np.integer))
                                       or max_tokens < 1):
            raise ValueError(f"max_tokens must be a positive int or None, got {max_tokens!r}")
        self.bucket_batches = bucket_batches
        self.max_tokens = None if max_tokens is None else int(max_tokens)

    def _batches(self) -> list:
        """The batches of the current epoch, in the order they are yielded."""
        if not self.shuffle:
            return _cut(np.arange(self.n), self.lengths, self.batch_size, self.max_tokens)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.n)
        size = self.bucket_batches * self.batch_size
        batches = []
        for a in range(0, self.n, size):
            bucket = order[a:a + size]
            bucket = bucket[np.argsort(self.lengths[bucket], kind="stable")]
            batches += _cut(bucket, self.lengths, self.batch_size, self.max_tokens)
        return [batches[k] for k in rng.permutation(len(batches))]

    def __len__(self) -> int:
        """Batches in the current epoch (with ``max_tokens`` it may vary by epoch)."""
        return len(self._batches()) if self.max_tokens is not None else super().__len__()

    def __iter__(self):
        yield from self._batches()


class Loader:
    """Re-iterable batches of one index list; see :func:`make_loader`."""

    def __init__(self, ds: CrystalDataset, kind: str, idx: np.ndarray, targets: list[str],
                 sampler: RandomBatchSampler, graphs: GraphSet | None,
                 augment: Callable | None, seed: int):
        self.ds, self.kind, self.idx, self.targets = ds, kind, idx, targets
        self.sampler, self.graphs, self.augment, self.seed = sampler, graphs, augment, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the shuffle and augmentation draws of ``epoch``."""
        self.epoch = int(epoch)
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        for batch, _ in self.shards():
            yield batch

    def shards(self, rank: int = 0, size: int = 1):
        """``(batch, real)`` per global batch: process ``rank`` of ``size``'s part of it
        (structures ``rank, rank + size, ...``; all of it for one process). A part that
        would be empty (a batch smaller than ``size``) is the batch's first structure with
        ``real=False``, whose loss the trainer weighs 0, so that every process takes part in
        every step of a DistributedDataParallel run."""
        gen = None
        if self.augment is not None:
            state = np.random.SeedSequence([self.seed, self.epoch]).generate_state(1, np.uint64)
            gen = torch.Generator().manual_seed(int(state[0]) >> 1)
        for pos in self.sampler:
            sel = self.idx[pos]
            mine = sel[rank::size] if size > 1 else sel
            real = len(mine) > 0
            if not real:
                mine = sel[:1]
            if self.kind == "ct":
                batch = collate_ct(self.ds, mine, self.targets)
            else:
                batch = collate_graphs(self.ds, self.graphs, mine, self.targets)
            if self.augment is not None:
                batch = self.augment(batch, gen)
            yield batch, real


def make_loader(ds: CrystalDataset, kind: str, idx, targets: Sequence[str], batch_size: int,
                shuffle: bool = True, seed: int = 0, graphs: GraphSet | None = None,
                augment: Callable | None = None, max_tokens: int | None = None) -> Loader:
    """Batches of ``ds[idx]`` for one model input kind.

    Args:
        ds: the dataset.
        kind: ``ct`` (padded :class:`~ctlib.data.batch.CTBatch`, length-bucketed
            when shuffled) or a graph kind of :data:`~ctlib.data.graphs.GRAPH_KINDS`
            (:class:`~ctlib.data.batch.GraphBatch`).
        idx: structure indices (or a bool mask) to iterate over.
        targets: target names, the K columns of ``y``.
        batch_size: structures per batch.
        shuffle: fresh seeded order every epoch (``loader.set_epoch(e)``);
            False yields ``idx`` in order.
        seed: seeds shuffling and augmentation (with the epoch).
        graphs: prebuilt graphs of ``ds`` (default:
            :func:`~ctlib.data.graphs.build_graphs` with the kind's defaults, from
            the cache when present).
        augment: a callable ``(batch, torch.Generator) -> batch``, e.g.
            :class:`ctlib.data.augment.CrystalAugment`, drawn afresh every batch
            (graph batches: only their Cartesian ``pos``/``edge_vec`` change,
            which only an E_a+E_c front reads).
        max_tokens: ``ct`` only; cap on padded atoms (B x L) per batch, so
            large cells come in smaller batches (see :class:`LengthBucketSampler`).

    Returns:
        A :class:`Loader`: iterate it once per epoch; ``len()`` is batches per epoch.
    """
    if kind not in LOADER_KINDS:
        raise ValueError(f"unknown loader kind {kind!r}; choose one of {list(LOADER_KINDS)}")
    idx = as_index(len(ds), idx)
    targets = [targets] if isinstance(targets, str) else list(targets)
    target_matrix(ds, idx[:0], targets)     # unknown names fail here, not mid-epoch
    if kind == "ct":
        if graphs is not None:
            raise ValueError("kind='ct' takes no graphs")
        sampler = LengthBucketSampler(ds.natoms[idx], batch_size, shuffle=shuffle, seed=seed,
                                      max_tokens=max_tokens)
    else:
        if max_tokens is not None:
            raise ValueError(f"max_tokens applies to kind='ct' only, not {kind!r}; "
                             "graph batches are not padded")
        if graphs is None:
            graphs = build_graphs(ds, kind)
        elif graphs.kind != kind or graphs.fingerprint != ds.fingerprint:
            raise ValueError(f"graphs ({graphs.kind}, dataset {graphs.fingerprint}) do not match "
                             f"kind {kind!r} / dataset {ds.name!r} ({ds.fingerprint}); "
                             f"build them with build_graphs(ds, {kind!r}).")
        sampler = RandomBatchSampler(len(idx), batch_size, shuffle=shuffle, seed=seed)
    return Loader(ds, kind, idx, targets, sampler, graphs, augment, int(seed))
