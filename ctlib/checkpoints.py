"""Checkpoint and random-state helpers of the trainer.

A run's ``last.pt`` holds the model, optimizer, scheduler, history, early
stopping state and the global generators' states (:func:`rng_state`), written
atomically (:func:`save_atomic`) after every epoch; :func:`load_checkpoint`
reads it back with a clear error for a damaged file. The random draws of epoch
``e`` come from generators seeded by :func:`epoch_seed` ``(seed, e, stream)``,
so a resumed run repeats an uninterrupted one.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ctlib.utils import atomic_write


def epoch_seed(seed: int, epoch: int, stream: int) -> int:
    """A 32-bit seed for (training seed, epoch, stream): independent per epoch."""
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])


def rng_state() -> dict:
    """The states of Python's, NumPy's and torch's (CPU and CUDA) global generators."""
    st = np.random.get_state()
    out = {"python": random.getstate(),
           "numpy": (st[0], st[1].tolist(), int(st[2]), int(st[3]), float(st[4])),
           "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(st: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(st["python"])
    name, keys, pos, has_gauss, gauss = st["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(st["torch"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to ``path`` through a temporary file (a killed process leaves no half file)."""
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def _crc_problem(path: Path) -> str | None:
    """Why the zip archive that ``torch.save`` wrote fails its own CRC-32 sums, or None.

    ``torch.load`` does not check them: a flipped byte in a tensor loads as a silently
    different number. Checking them costs one read of the file.
    """
    import zipfile

    if not zipfile.is_zipfile(path):
        return None  # not the zip format; torch.load says what it is
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
    return None if bad is None else f"member {bad} fails its CRC check"


def load_checkpoint(path: Path) -> dict:
    """``torch.load`` of a checkpoint, with a clear error for a damaged file (one that
    is truncated, or whose bytes changed: its zip CRC sums are checked first)."""
    try:
        problem = _crc_problem(path)
        if problem:
            raise ValueError(problem)
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle error, ...
        raise ValueError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); it is "
                         f"damaged (truncated by a killed run, or changed on disk). Delete it, or "
                         f"rerun with --force (force=True) to train from scratch.") from None
    if not isinstance(ck, dict) or "identity" not in ck:
        raise ValueError(f"checkpoint {path} is not a ctlib last.pt (no 'identity'); delete it "
                         f"or rerun with --force (force=True)")
    return ck
