"""The :class:`Trainer`: fit, evaluate, predict, checkpoint and resume (see :mod:`ctlib.train`)."""
from __future__ import annotations

import contextlib
import math
import os
import random
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from ctlib.checkpoints import epoch_seed, load_checkpoint, rng_state, save_atomic, set_rng_state
from ctlib.config import TrainConfig  # noqa: F401 (the trainer's settings; also ctlib.train.TrainConfig)
from ctlib.models import CrystalModel, load_model, param_groups, save_model
from ctlib.context import RunContext, TimeBudgetReached, default_context  # noqa: F401
from ctlib.results import config_hash, fit_record, now_iso, split_hash
from ctlib.train import distributed
from ctlib.train.parts import (_display_path, _normaliser, _with_targets, cpu_has_native_bf16,  # noqa: F401
                               regression_metrics, resolve_device, use_progress_bar)
from ctlib.utils import available_cores, write_json_atomic

KILL_HOOK_ENV = "CTLIB_TEST_KILL_AFTER_EPOCH"


class Trainer:
    """Train, evaluate and run any ctlib model.

    Args:
        model: a ctlib model (:class:`~ctlib.models.common.CrystalModel`: its
            ``input_kind`` (``"ct"``, ``"crystal_graph"``, ``"megnet_graph"``,
            ``"line_graph"``) picks the batches, its ``atom_embedding`` the
            ``embedding_lr`` group; ``forward(batch) -> (B, K)``).
        cfg: :class:`TrainConfig` or a dict for :meth:`TrainConfig.from_dict`.
        run_dir: folder of ``last.pt``/``best.pt``/``model/``; created at the
            first checkpoint. ``None`` keeps the best weights in memory only
            (no resume).
        resume: continue from ``run_dir/last.pt`` when it exists.
        progress: tqdm bars; ``None`` = only when stderr is a terminal.
        on_epoch: optional ``callback(epoch, model, history)`` called with epoch
            0 before training starts (fresh runs only) and after each epoch,
            before that epoch's ``last.pt`` is written; ``history`` is the list of
            per-epoch dicts so far (train loss, val MAE, lr, structures/s). Used to
            keep element-table snapshots and the progress of a run under way.
        context: a :class:`ctlib.context.RunContext`; its deadline stops :meth:`fit` at the
            first epoch boundary after it (:class:`~ctlib.context.TimeBudgetReached`, raised
            after that epoch's ``last.pt``). None: no deadline.

    After :meth:`fit` (or :meth:`load`), ``targets``, ``mean`` and ``std``
    ((K,) normaliser of the training split, original units) are set.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) every process trains the same run on its share
    of each batch, and only process 0 writes (:mod:`ctlib.train.distributed`).
    """

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig | dict | None = None,
                 run_dir: str | Path | None = None, *, resume: bool = True,
                 progress: bool | None = None, on_epoch=None, context: RunContext | None = None):
        if not isinstance(model, CrystalModel):
            raise TypeError(f"{type(model).__name__} is not a ctlib model; Trainer trains ctlib "
                            f"models (see ctlib.models.build_model)")
        self.cfg = cfg if isinstance(cfg, TrainConfig) else TrainConfig.from_dict(cfg)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.resume = resume
        self.progress = progress
        self.on_epoch = on_epoch
        self.context = default_context(context)
        self.device = distributed.setup(resolve_device(self.cfg.device))
        if self.cfg.precision == "bf16" and self.device.type == "cpu" and not cpu_has_native_bf16():
            warnings.warn(
                f"precision 'bf16' on a CPU without native bfloat16 ({torch.backends.cpu.get_cpu_capability()}): "
                "autocast there is emulated, and CT trained at 0.20x the speed of fp32 on such a "
                "CPU (benchmarks/precision.py --speed). It runs as asked, because precision is part "
                "of the run's config hash; for a new run, precision='fp32' is faster here.",
                UserWarning, stacklevel=2)
        self.model = model.to(self.device)
        self.targets: list[str] | None = None
        self.units: dict[str, str | None] = {}
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.best_epoch: int | None = None
        self._graphs_memo = None  # (fingerprint, used indices, dataset, GraphSet) of the last build

    def __repr__(self) -> str:
        return (f"Trainer({type(self.model).__name__}, device={self.device}, "
                f"targets={self.targets}, run_dir={str(self.run_dir) if self.run_dir else None})")

    # ------------------------------------------------------------- data plumbing
    @property
    def kind(self) -> str:
        return self.model.input_kind

    def _prepare(self, ds, index_sets: list, graphs):
        """Restrict ``ds`` to the structures used (so graphs are built only for them).

        Returns (ds', [idx' per set], graphs'); with given ``graphs`` nothing changes.
        """
        index_sets = [np.asarray(i, dtype=np.int64) for i in index_sets]
        for i in index_sets:
            if len(i) and (i.min() < 0 or i.max() >= len(ds)):
                raise IndexError(f"split indices out of range for dataset {ds.name!r} "
                                 f"with {len(ds)} structures")
        if self.kind == "ct" or graphs is not None:
            return ds, index_sets, graphs
        used = np.unique(np.concatenate(index_sets)) if index_sets else np.zeros(0, np.int64)
        fp = ds.fingerprint
        last = self._graphs_memo
        if last is not None and last[0] == fp and np.isin(used, last[1]).all():
            # the graphs built for fit() also serve evaluate()/predict() on those structures
            _, known, sub, graphs = last
            return sub, [np.searchsorted(known, i) for i in index_sets], graphs
        sub = ds.subset(used) if len(used) < len(ds) else ds
        from ctlib.data.graphs import build_graphs

        graphs = build_graphs(sub, self.kind, progress=use_progress_bar(self.progress))
        self._graphs_memo = (fp, used, sub, graphs)  # one entry: bounded
        return sub, [np.searchsorted(used, i) for i in index_sets], graphs

    def _loader(self, ds, idx, targets, *, shuffle: bool, seed: int, graphs, augment=None):
        from ctlib.data.loader import make_loader

        return make_loader(ds, self.kind, idx, targets, self.cfg.batch_size, shuffle, seed,
                           graphs=graphs, augment=augment,
                           max_tokens=self.cfg.max_tokens)

    # ------------------------------------------------------------------ pieces
    def _param_groups(self) -> list[dict]:
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"{type(self.model).__name__} has no trainable parameters")
        if self.cfg.embedding_lr is None:
            return [{"params": params, "lr": self.cfg.lr}]
        # the AtomEmbedding's table (+ pretrained coordinate layer) at embedding_lr
        return param_groups(self.model, self.cfg.lr, self.cfg.embedding_lr)

    def _optimizer(self, groups):
        c = self.cfg
        if c.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
        if c.optimizer == "adam":
            return torch.optim.Adam(groups, lr=c.lr, weight_decay=c.weight_decay)
        return torch.optim.AdamW(groups, lr=c.lr, weight_decay=c.weight_decay)

    def _scheduler(self, opt, loader):
        c = self.cfg
        if c.scheduler == "step":
            return torch.optim.lr_scheduler.StepLR(opt, step_size=c.step_size, gamma=c.gamma)
        if c.scheduler == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=c.epochs)
        if c.scheduler == "onecycle":
            # stepped once per batch; with max_tokens the batch count differs from
            # epoch to epoch, so the cycle is sized over the batches of every epoch
            total = 0
            for e in range(1, c.epochs + 1):
                loader.set_epoch(e)
                total += len(loader)
            return torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=max(total, 1))
        return None

    def _autocast(self):
        """bf16 autocast of the training forward pass when ``precision == "bf16"``."""
        if self.cfg.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _task_weights(self, k: int):
        tw = self.cfg.task_weights
        if tw is None:
            return None
        if tw == "uncertainty":
            if not callable(getattr(self.model, "task_loss_weights", None)):
                raise ValueError(f"task_weights='uncertainty' needs a model with "
                                 f"task_loss_weights(); {type(self.model).__name__} has none")
            if getattr(self.model, "log_vars", 0) is None:
                warnings.warn("task_weights='uncertainty' but the model has no learned "
                              "log-variances (build it with uncertainty weights); tasks are "
                              "summed with equal weights", UserWarning, stacklevel=3)
            return "uncertainty"
        if len(tw) != k:
            raise ValueError(f"task_weights has {len(tw)} entries but there are {k} targets")
        return torch.tensor(tw, dtype=torch.float32, device=self.device)

    def _loss(self, pred: torch.Tensor, y: torch.Tensor, weights, count=None) -> torch.Tensor:
        """Masked loss on standardised targets. pred, y: (B, K); y may hold NaN. ``count``:
        (K,) labels per task to divide by (default: this batch's; several processes pass
        the whole global batch's, :mod:`ctlib.train.distributed`)."""
        mean = torch.as_tensor(self.mean, dtype=pred.dtype, device=pred.device)
        std = torch.as_tensor(self.std, dtype=pred.dtype, device=pred.device)
        y = y.to(pred.dtype)
        mask = torch.isfinite(y)
        ys = (torch.where(mask, y, mean) - mean) / std
        diff = torch.where(mask, pred - ys, torch.zeros_like(pred))
        per = diff * diff if self.cfg.loss == "mse" else diff.abs()
        count = mask.sum(0).to(pred.dtype) if count is None else count.to(pred.dtype)
        task = per.sum(0) / count.clamp(min=1.0)  # (K,)
        if weights is None:
            return task.sum()
        if isinstance(weights, str):
            return self.model.task_loss_weights(task)
        return (weights.to(task.dtype) * task).sum()

    def _augment_fn(self):
        if not self.cfg.augment:
            return None
        if self.kind != "ct" and not getattr(getattr(self.model, "atom_embedding", None),
                                             "with_coordinates", False):
            raise ValueError(f"TrainConfig.augment=True changes only Cartesian positions, which "
                             f"{type(self.model).__name__} does not read (its {self.kind!r} input is "
                             f"invariant); use it with CT or an E_a+E_c front "
                             f"(embedding_with_coordinates=True)")
        from ctlib.data.augment import CrystalAugment

        return CrystalAugment()

    # -------------------------------------------------------------- prediction
    @torch.no_grad()
    def _predict_std(self, ds, idx, targets, graphs) -> np.ndarray:
        """(len(idx), K) standardised predictions, in the order of ``idx``."""
        self.model.eval()
        out = []
        for batch in self._loader(ds, idx, targets, shuffle=False, seed=0, graphs=graphs):
            batch = batch.to(self.device)
            out.append(self.model(batch).float().cpu().numpy())
        k = len(targets)
        return np.concatenate(out, axis=0) if out else np.zeros((0, k), np.float32)

    def _need_fitted(self):
        if self.targets is None or self.mean is None:
            raise RuntimeError("this Trainer has no targets/normaliser yet: call fit() first or "
                               "build it with Trainer.load(run_dir)")

    def predict(self, ds, idx=None, *, graphs=None) -> np.ndarray:
        """Predictions in original units.

        Args:
            ds: CrystalDataset (labels not needed).
            idx: (n,) structure indices (default all), in output order.
            graphs: precomputed GraphSet of ``ds`` (graph models; built when None).

        Returns:
            (n, K) float64 array, column k = ``self.targets[k]``.
        """
        self._need_fitted()
        idx = np.arange(len(ds)) if idx is None else np.asarray(idx, dtype=np.int64)
        ds2 = _with_targets(ds, self.targets)
        ds2, (idx2,), graphs = self._prepare(ds2, [idx], graphs)
        p = self._predict_std(ds2, idx2, self.targets, graphs).astype(np.float64)
        return p * self.std + self.mean

    def evaluate(self, ds, idx=None, targets=None, *, graphs=None) -> dict:
        """Metrics per task on structures ``idx`` (original units).

        Returns:
            ``{target: {"mae", "rmse", "r2", "n"}}``; NaN labels are skipped.
        """
        self._need_fitted()
        targets = list(self.targets if targets is None else
                       ([targets] if isinstance(targets, str) else targets))
        missing = [t for t in targets if t not in self.targets]
        if missing:
            raise ValueError(f"this model predicts {self.targets}, not {missing}")
        idx = np.arange(len(ds)) if idx is None else np.asarray(idx, dtype=np.int64)
        pred = self.predict(ds, idx, graphs=graphs)
        out = {}
        for t in targets:
            if t not in ds.targets:
                raise KeyError(f"dataset {ds.name!r} has no target {t!r}; available: "
                               f"{sorted(ds.targets)}")
            out[t] = regression_metrics(ds.targets[t][idx], pred[:, self.targets.index(t)])
        return out

    # --------------------------------------------------------------------- fit
    def fit(self, ds, split: dict, targets, graphs=None) -> dict:
        """Train on ``split["train"]``, select on ``split["val"]``, report ``split["test"]``.

        Args:
            ds: CrystalDataset holding every target in ``targets``.
            split: ``{"train": idx, "val": idx, "test": idx}`` int arrays
                (``val``/``test`` optional: without val the last epoch is kept).
            targets: target name or list of K names; NaN labels are masked
                out of the loss and the metrics.
            graphs: precomputed GraphSet of ``ds`` for graph models (built
                from the used structures when None).

        Returns:
            a run record (dict): history, best_epoch, val/test metrics per
            task, normaliser, dataset and code provenance (see ctlib.results).
        """
        targets = [targets] if isinstance(targets, str) else list(targets)
        if not targets:
            raise ValueError("fit() needs at least one target")
        for t in targets:
            if t not in ds.targets:
                raise KeyError(f"dataset {ds.name!r} has no target {t!r}; available: "
                               f"{sorted(ds.targets)}")
        unknown = [k for k in split if k not in ("train", "val", "test")]
        if unknown or "train" not in split:
            raise ValueError(f"split must have keys 'train' (+ optional 'val', 'test'); "
                             f"got {sorted(split)}")
        out_dim = getattr(self.model, "n_tasks", len(targets))
        if out_dim != len(targets):
            raise ValueError(f"the model has {out_dim} outputs but {len(targets)} targets "
                             f"were given ({targets})")
        names = [k for k in ("train", "val", "test") if k in split]
        full_ds = ds
        s_hash = split_hash({k: split[k] for k in names})
        ds, idx_list, graphs = self._prepare(ds, [split[k] for k in names], graphs)
        sp = dict(zip(names, idx_list))
        tr = sp["train"]
        if len(tr) == 0:
            raise ValueError("split['train'] is empty")
        self.targets = targets
        self.units = {t: ds.units.get(t) for t in targets}
        y_train = np.stack([ds.targets[t][tr] for t in targets], axis=1)
        self.mean, self.std = _normaliser(y_train, targets)

        c = self.cfg
        prev_threads = torch.get_num_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(c.num_threads or max(1, available_cores() // distributed.local_size()))
        try:
            return self._fit(full_ds, ds, sp, targets, graphs, s_hash)
        finally:
            torch.set_num_threads(prev_threads)

    def _identity(self, ds, targets, s_hash) -> str:
        cfgd = getattr(self.model, "config", None)
        return config_hash({
            "train": self.cfg.hash_dict(), "model": type(self.model).__name__,
            "model_config": cfgd.to_dict() if hasattr(cfgd, "to_dict") else None,
            "targets": targets, "dataset": ds.fingerprint, "split": s_hash})

    def _fit(self, full_ds, ds, sp, targets, graphs, s_hash) -> dict:
        c = self.cfg
        t0 = time.perf_counter()
        started = now_iso()
        ident = self._identity(full_ds, targets, s_hash)
        k = len(targets)
        weights = self._task_weights(k)
        augment = self._augment_fn()
        tr, va = sp["train"], sp.get("val")
        has_val = va is not None and len(va) > 0

        # one loader; loader.set_epoch(e) picks the shuffle and augmentation of (seed, e)
        loader = self._loader(ds, tr, targets, shuffle=True, seed=c.seed, graphs=graphs,
                              augment=augment)
        rank, size = distributed.world()
        loader.shard = (rank, size)
        if size > 1 and isinstance(weights, str):
            raise ValueError("task_weights='uncertainty' is not supported on several processes "
                             "(its loss is not a sum over structures); use fixed weights or one process")
        self._net = distributed.wrap(self.model, self.device)
        opt = self._optimizer(self._param_groups())
        sched = self._scheduler(opt, loader)

        history: list[dict] = []
        best_val, best_epoch, bad, done, stopped_early = math.inf, None, 0, False, False
        best_state = None
        start_epoch, resumed_from = 0, None
        wall_before = 0.0  # wall seconds of the earlier processes of a resumed run
        last_path = self.run_dir / "last.pt" if self.run_dir else None
        best_path = self.run_dir / "best.pt" if self.run_dir else None
        if self.resume and last_path is not None and last_path.is_file():
            ck = load_checkpoint(last_path)
            if ck.get("identity") != ident:
                raise ValueError(
                    f"{last_path} belongs to a different run (other model/config/data/split). "
                    f"Use another run_dir, delete it, or pass resume=False to start over.")
            self.model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            if sched is not None:
                sched.load_state_dict(ck["scheduler"])
            set_rng_state(ck["rng"])
            history = ck["history"]
            best_val, best_epoch, bad = ck["best_val"], ck["best_epoch"], ck["bad_epochs"]
            done, stopped_early = ck["done"], ck["stopped_early"]
            started = ck["started"]
            start_epoch = resumed_from = ck["epoch"]
            self.mean, self.std = np.asarray(ck["mean"]), np.asarray(ck["std"])
            # checkpoints before wall_s was kept: the epochs' own times, a lower bound
            wall_before = float(ck.get("wall_s", sum(h["time_s"] for h in history)))

        if self.on_epoch is not None and start_epoch == 0 and rank == 0:
            self.on_epoch(0, self.model, [])
        use_bar = use_progress_bar(self.progress)
        from tqdm.auto import tqdm

        label = getattr(self.model, "name", "") or type(self.model).__name__
        bar = tqdm(total=c.epochs, initial=start_epoch, desc=label, unit="epoch",
                   disable=not use_bar or done, leave=True)
        kill_after = os.environ.get(KILL_HOOK_ENV)
        epoch = start_epoch
        try:
            while not done and epoch < c.epochs:
                epoch += 1
                rec = self._train_epoch(loader, epoch, opt, sched, weights, use_bar)
                if has_val:
                    vm = self._metrics(ds, va, targets, graphs)
                    rec["val_mae"] = {t: vm[t]["mae"] for t in targets}
                    maes = [v for v in rec["val_mae"].values() if v is not None]
                    rec["val_mae_mean"] = float(np.mean(maes)) if maes else None
                    score = rec["val_mae_mean"] if rec["val_mae_mean"] is not None else math.inf
                else:
                    rec["val_mae"], rec["val_mae_mean"] = None, None
                    score = -epoch  # without validation the latest epoch is the best
                if sched is not None and c.scheduler != "onecycle":
                    sched.step()
                history.append(rec)
                if score < best_val or best_epoch is None:
                    best_val, best_epoch, bad = score, epoch, 0
                    state = {n: v.detach().clone() for n, v in self.model.state_dict().items()}
                    if best_path is not None and rank == 0:
                        save_atomic({"model": state, "epoch": epoch, "identity": ident,
                                            "mean": self.mean.tolist(), "std": self.std.tolist()},
                                           best_path)
                    else:
                        best_state = state
                else:
                    bad += 1
                if c.patience is not None and bad >= c.patience:
                    done, stopped_early = True, True
                if epoch >= c.epochs:
                    done = True
                if self.on_epoch is not None and rank == 0:
                    self.on_epoch(epoch, self.model, history)
                if last_path is not None and rank == 0:
                    save_atomic({
                        "identity": ident, "epoch": epoch, "model": self.model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict() if sched is not None else None,
                        "rng": rng_state(), "history": history, "best_val": best_val,
                        "best_epoch": best_epoch, "bad_epochs": bad, "done": done,
                        "stopped_early": stopped_early, "started": started,
                        "wall_s": wall_before + time.perf_counter() - t0,
                        "mean": self.mean.tolist(), "std": self.std.tolist(),
                        "train_config": c.to_dict(), "targets": targets}, last_path)
                    if kill_after is not None and str(epoch) == kill_after.strip():
                        os.kill(os.getpid(), signal.SIGKILL)
                bar.update(1)
                bar.set_postfix(loss=f"{rec['train_loss']:.4g}",
                                val_mae=("-" if rec["val_mae_mean"] is None
                                         else f"{rec['val_mae_mean']:.4g}"),
                                str_s=f"{rec['structures_per_s']:.0f}")
                if c.log_every and epoch % c.log_every == 0:
                    vm_txt = "-" if rec["val_mae_mean"] is None else f"{rec['val_mae_mean']:.5g}"
                    msg = (f"[{time.strftime('%H:%M:%S')}] {label} epoch {epoch}/{c.epochs} "
                           f"loss {rec['train_loss']:.5g} "
                           f"val_mae {vm_txt} lr {rec['lr']:.3g} {rec['structures_per_s']:.0f} str/s")
                    if use_bar:
                        bar.write(msg)
                    else:
                        print(msg, file=sys.stderr)
                distributed.barrier()   # the epoch's checkpoint is written before anyone goes on
                if not done and distributed.agree(self.context.spent()):
                    raise TimeBudgetReached(f"time budget spent after epoch {epoch}/{c.epochs}; "
                                            f"the run resumes from {last_path}")
        finally:
            bar.close()

        # restore the best weights
        if best_path is not None and best_path.is_file():
            self.model.load_state_dict(torch.load(best_path, map_location=self.device,
                                                  weights_only=True)["model"])
        elif best_state is not None:
            self.model.load_state_dict(best_state)
        self.best_epoch = best_epoch
        val_metrics = self._metrics(ds, va, targets, graphs) if has_val else None
        test_metrics = (self._metrics(ds, sp["test"], targets, graphs)
                        if "test" in sp and len(sp["test"]) else None)
        if self.run_dir is not None and rank == 0:
            self._save_final(targets)
        distributed.barrier()
        return fit_record(
            model=self.model, train_config=c, targets=targets, units=self.units, dataset=full_ds,
            split_counts={k: int(len(v)) for k, v in sp.items()}, split_hash=s_hash, device=self.device,
            # the machine's cores this run had (a campaign worker on 1 of 2 cores: 0.5), so
            # that wall_s x machine_share is the run's share of the machine's hours
            machine_share=(min(1.0, torch.get_num_threads() * distributed.local_size() / (os.cpu_count() or 1))
                           if self.device.type == "cpu" else 1.0),
            started=started, wall_s=wall_before + time.perf_counter() - t0,  # every process of a resumed run
            history=history, best_epoch=best_epoch, stopped_early=stopped_early, resumed_from=resumed_from,
            mean=self.mean, std=self.std, val=val_metrics, test=test_metrics,
            run_dir=_display_path(self.run_dir))

    def _train_epoch(self, loader, epoch, opt, sched, weights, use_bar) -> dict:
        c = self.cfg
        # every random draw of this epoch depends on (seed, epoch) only: the loader's
        # shuffle and augmentation, and the global generators (dropout)
        loader.set_epoch(epoch)
        torch.manual_seed(epoch_seed(c.seed, epoch, 1))
        np.random.seed(epoch_seed(c.seed, epoch, 2))
        random.seed(epoch_seed(c.seed, epoch, 3))
        self._net.train()
        lr = opt.param_groups[0]["lr"]
        t0 = time.perf_counter()
        total, n_seen = 0.0, 0
        from tqdm.auto import tqdm

        rank, size = distributed.world()
        for batch, real in tqdm(loader.shards(rank, size), total=len(loader), desc=f"epoch {epoch}",
                                leave=False, unit="batch", disable=not use_bar):
            batch = batch.to(self.device)
            with self._autocast():
                pred = self._net(batch)
            count = None
            if size > 1:   # divide by the global batch's labels; DDP averages, so scale by size
                count = distributed.all_sum(torch.isfinite(batch.y).sum(0).float() * float(real))
            loss = self._loss(pred.float(), batch.y, weights, count) * float(real)
            opt.zero_grad(set_to_none=True)
            (loss * size).backward()
            if c.clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.clip_grad)
            opt.step()
            if sched is not None and c.scheduler == "onecycle":
                sched.step()
            b = int(batch.num_graphs) if real else 0
            lv = float(loss.detach())
            if size > 1:
                lv, b = (float(v) for v in distributed.all_sum(torch.tensor([lv, float(b)], dtype=torch.float64)))
                b = int(b)
            if not math.isfinite(lv):
                raise FloatingPointError(f"training loss became {lv} at epoch {epoch}; lower "
                                         f"lr (now {lr:g}) or set clip_grad")
            total += lv * b
            n_seen += b
        dt = time.perf_counter() - t0
        return {"epoch": epoch, "train_loss": total / max(n_seen, 1), "lr": lr,
                "time_s": dt, "structures_per_s": n_seen / dt if dt > 0 else 0.0}

    def _metrics(self, ds, idx, targets, graphs) -> dict:
        """Metrics (original units) on an already-prepared ``ds``/``graphs``."""
        p = self._predict_std(ds, idx, targets, graphs).astype(np.float64) * self.std + self.mean
        return {t: regression_metrics(ds.targets[t][idx], p[:, j]) for j, t in enumerate(targets)}

    # ---------------------------------------------------------------- persist
    def _save_final(self, targets) -> None:
        """Write ``model/`` (save_model of the best weights) and ``trainer.json``."""
        save_model(self.model, self.run_dir / "model")
        write_json_atomic(self.run_dir / "trainer.json", {
            "format": "ctlib.trainer", "version": 1, "targets": targets, "units": self.units,
            "mean": self.mean, "std": self.std, "input_kind": self.kind,
            "best_epoch": self.best_epoch, "train_config": self.cfg.to_dict()})

    @classmethod
    def load(cls, run_dir: str | Path, *, device: str = "cpu",
             progress: bool | None = None) -> "Trainer":
        """A ready-to-predict Trainer from a finished run folder (``model/`` + ``trainer.json``)."""
        import json

        run_dir = Path(run_dir)
        meta_path, model_dir = run_dir / "trainer.json", run_dir / "model"
        if not meta_path.is_file() or not (model_dir / "model.json").is_file():
            raise FileNotFoundError(
                f"{run_dir} is not a finished training run: expected {meta_path.name} and "
                f"model/model.json (written at the end of Trainer.fit / ctlib train)")
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{meta_path} cannot be read ({exc}); the run folder is damaged. "
                             f"Retrain it (ctlib train ... --force) or restore the file.") from None
        if not isinstance(meta, dict) or meta.get("format") != "ctlib.trainer" \
                or meta.get("version") != 1:
            raise ValueError(f"{meta_path} is not a ctlib trainer file (version 1); retrain the "
                             f"run (ctlib train ... --force)")
        model = load_model(model_dir)
        cfg = TrainConfig.from_dict({**meta["train_config"], "device": device})
        tr = cls(model, cfg, run_dir=None, resume=False, progress=progress)
        tr.targets, tr.units = list(meta["targets"]), dict(meta["units"])
        tr.mean = np.asarray(meta["mean"], dtype=np.float64)
        tr.std = np.asarray(meta["std"], dtype=np.float64)
        tr.best_epoch = meta.get("best_epoch")
        return tr
