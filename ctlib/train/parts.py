"""The trainer's small parts: the device, regression metrics, the label normaliser,
progress bars and the bf16 check (no state; each function documents its shapes and units)."""
from __future__ import annotations

import copy
import sys
import warnings
from pathlib import Path

import numpy as np
import torch


def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> cuda when available, else cpu; ``"cuda"`` without a GPU raises."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    return torch.device(name)


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """MAE, RMSE, R² and n over the finite entries of two (n,) arrays (same units).

    R² is ``None`` when fewer than 2 labels or zero variance.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    ok = np.isfinite(y_true)
    t, p = y_true[ok], y_pred[ok]
    n = int(ok.sum())
    if n == 0:
        return {"mae": None, "rmse": None, "r2": None, "n": 0}
    err = p - t
    ss_tot = float(((t - t.mean()) ** 2).sum())
    r2 = 1.0 - float((err ** 2).sum()) / ss_tot if n > 1 and ss_tot > 0 else None
    return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err ** 2).mean())),
            "r2": r2, "n": n}


def use_progress_bar(progress: bool | None) -> bool:
    """tqdm bars on? ``None``: only when stderr is a terminal."""
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX), as oneDNN
    reports it. Without it, bf16 autocast is emulated and slower than fp32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private oneDNN query; absent from some builds
        return False


def _display_path(path: Path | None) -> str | None:
    """``path`` relative to the working folder when inside it (records stay portable)."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _normaliser(y: np.ndarray, targets) -> tuple[np.ndarray, np.ndarray]:
    """(K,) mean and std of the finite training labels of each task."""
    mean = np.zeros(y.shape[1])
    std = np.ones(y.shape[1])
    for j, t in enumerate(targets):
        col = y[:, j][np.isfinite(y[:, j])]
        if len(col) == 0:
            raise ValueError(f"target {t!r} has no finite label in the training split")
        mean[j] = col.mean()
        s = col.std()
        if s > 1e-12:
            std[j] = s
        else:
            warnings.warn(f"target {t!r} is constant on the training split; std set to 1",
                          UserWarning, stacklevel=3)
    return mean, std


def _with_targets(ds, targets):
    """``ds`` with NaN columns added for targets it lacks (prediction on unlabelled data)."""
    missing = [t for t in targets if t not in ds.targets]
    if not missing:
        return ds
    new = copy.copy(ds)
    new.targets = {**ds.targets, **{t: np.full(len(ds), np.nan) for t in missing}}
    return new
