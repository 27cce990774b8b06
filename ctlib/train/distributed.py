"""One run on several processes: ``torchrun --nproc-per-node N`` and DistributedDataParallel.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the :class:`~ctlib.train.Trainer`
joins the process group (gloo on CPU, NCCL on CUDA) and trains one run together:

- every process walks the same global batches (the loader's seeded order); process ``r``
  of ``N`` takes the structures ``r, r + N, ...`` of each batch (:func:`shard`);
- the masked loss divides by the global count of labels of each task (:func:`all_sum`),
  and DDP averages the gradients, so a step equals the single-process step on the whole
  batch (to floating-point rounding) where the model has no BatchNorm and no dropout draws
  (CT with dropout 0; on CUDA BatchNorm becomes SyncBatchNorm; on CPU each process
  normalises its own shard, and dropout and augmentation draw per process);
- validation and test are computed whole by every process (the same numbers);
- only process 0 writes checkpoints, snapshots and the record; a checkpoint does not
  depend on the number of processes, so a run resumes with any number of them.

Without ``torchrun`` every function here is a no-op for one process.
"""
from __future__ import annotations

import os

import torch


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def requested() -> bool:
    """True under ``torchrun`` with more than one process (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: torch.device) -> torch.device:
    """Join the process group when :func:`requested` (once per process); return the device
    this process trains on (``cuda:<LOCAL_RANK>`` on a GPU node)."""
    if not requested():
        return device
    import torch.distributed as dist

    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def world() -> tuple[int, int]:
    """``(rank, number of processes)``; ``(0, 1)`` outside a process group."""
    d = _dist()
    return (d.get_rank(), d.get_world_size()) if d else (0, 1)


def local_size() -> int:
    """Processes on this machine (``LOCAL_WORLD_SIZE``), which share its cores."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1")) if _dist() else 1


def shard(sel, rank: int, size: int):
    """This process's part of one global batch: positions ``rank, rank + size, ...``."""
    return sel if size == 1 else sel[rank::size]


def all_sum(t: torch.Tensor) -> torch.Tensor:
    """The sum of ``t`` over the processes (a new tensor; ``t`` itself outside a group)."""
    d = _dist()
    if d is None:
        return t
    out = t.detach().clone()
    d.all_reduce(out)
    return out


def agree(flag: bool) -> bool:
    """Process 0's ``flag`` on every process (a time budget read at slightly different
    moments must stop every process at the same epoch)."""
    d = _dist()
    if d is None:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    d.broadcast(t, src=0)
    return bool(t.item())


def barrier() -> None:
    """Wait for every process (no-op outside a group)."""
    d = _dist()
    if d is not None:
        d.barrier()


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The module to train through: ``model`` itself for one process, else a
    DistributedDataParallel around it (BatchNorm made SyncBatchNorm on CUDA). Its
    parameters are ``model``'s, so ``model.state_dict()`` stays the checkpoint."""
    if _dist() is None:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                   find_unused_parameters=True)
