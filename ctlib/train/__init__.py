"""One trainer for every model: fit, evaluate, predict, checkpoint and resume.

* :class:`Trainer` — ``fit(ds, split, targets)`` trains any ctlib model on a
  :class:`~ctlib.data.dataset.CrystalDataset` with a multi-task masked loss on
  standardised targets, keeps ``best.pt`` (lowest validation MAE) and
  ``last.pt`` (every epoch) in its run folder, and resumes from ``last.pt``.
* a :class:`ctlib.context.RunContext` (``Trainer(..., context=)``) carries what the
  caller wants beyond the config: a deadline at whose first epoch boundary the trainer
  stops (``ctlib campaign --hours``), after writing that epoch's checkpoint.

The package: :mod:`.trainer` (the :class:`Trainer` and its resumable loop), :mod:`.parts`
(device, metrics, label normaliser, progress bars, the bf16 check), :mod:`.distributed`
(one run on several processes under ``torchrun``). The record a fit
returns is assembled by :func:`ctlib.results.fit_record` from what the trainer measured.

The trainer knows nothing of the results store: :func:`ctlib.runs.run` looks a
run up by config hash and stores what the trainer returns.

Run folder (checkpoints; git-ignored, never under ``results/``)::

    <run_dir>/
      last.pt        model, optimizer, scheduler, epoch, RNG states, history,
                     normaliser, early-stopping state   (every epoch)
      best.pt        model weights of the best validation epoch
      model/         save_model() of the best model (model.json + weights.pt)
      trainer.json   targets, units, normaliser, train config, best epoch

Reproducibility: the shuffling, augmentation and dropout of epoch ``e`` are
drawn from generators seeded by ``(seed, e)``, so a run killed at any point
and resumed from ``last.pt`` ends with the same weights as one that was never
interrupted (on the same device and thread count). The CPU kernels the models
use (matmul, ``index_add_``, attention) are deterministic, so the same seed gives
the same result on CPU; on CUDA, ``index_add_`` uses atomics and graph models
can differ in the last digits between runs. (``torch.use_deterministic_algorithms``
is not switched on: it costs seconds of imports per process.)

Test hook: when the environment variable ``CTLIB_TEST_KILL_AFTER_EPOCH=k`` is
set, the process kills itself with SIGKILL right after ``last.pt`` of epoch
``k`` is written (used by the test suite to check resume; never set it
otherwise).
"""
from __future__ import annotations

from ctlib.config import TrainConfig  # noqa: F401 (the trainer's settings; also ctlib.train.TrainConfig)
from ctlib.context import RunContext, TimeBudgetReached  # noqa: F401
from ctlib.train.parts import (cpu_has_native_bf16, regression_metrics, resolve_device,  # noqa: F401
                               use_progress_bar)
from ctlib.train.trainer import KILL_HOOK_ENV, Trainer  # noqa: F401
