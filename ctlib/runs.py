"""Runs: look a run up in the results store by config hash, or train it and store it.

This is the one place where training (:mod:`ctlib.train`) meets the results
store (:mod:`ctlib.results`). :func:`run` builds a run's full config (model
and its config, training config, dataset fingerprint, split hash, targets,
seed, embedding checksum, extra labels and the behaviour versions of
:mod:`ctlib.versions`), hashes it, returns the stored record when one exists,
and otherwise trains (resuming from the run's checkpoint folder) and stores
the record with the run's element table and, optionally, its test predictions
and element-table snapshots.

Checkpoints live under :func:`default_run_root` (``$CTLIB_RUNS``, else
``$CTLIB_CACHE/runs``), never under ``results/``.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from ctlib.config import TrainConfig
from ctlib.context import RunContext, default_context
from ctlib.results import SCHEMA_VERSION, ResultStore, config_hash, make_run_id, split_hash
from ctlib.train import Trainer, distributed, use_progress_bar
from ctlib.utils import atomic_write, code_version, to_jsonable, write_json_atomic


def default_store() -> ResultStore:
    """The results store at :func:`ctlib.results.default_root`."""
    from ctlib.results import default_root

    return ResultStore(default_root())


def default_run_root() -> Path:
    """Checkpoint root: ``$CTLIB_RUNS``, else ``$CTLIB_CACHE/runs``."""
    if os.environ.get("CTLIB_RUNS"):
        return Path(os.environ["CTLIB_RUNS"])
    from ctlib.data import cache_root

    return Path(cache_root()) / "runs"


def checkpoint_dir(profile: str, experiment: str, run_id: str | None = None,
                   run_root: str | Path | None = None) -> Path:
    """``<run root>/<profile>/<experiment>/<run_id>``: a run's checkpoint folder (``last.pt``,
    ``best.pt``, ``model/``), outside the results store (:func:`default_run_root`);
    ``run_id=None``: the folder of all of that experiment's runs."""
    folder = Path(run_root if run_root is not None else default_run_root()) / profile / experiment
    return folder if run_id is None else folder / run_id


#: Profiles whose runs are committed: trained only from a clean git tree.
COMMITTED_PROFILES = ("quick", "cpu", "paper")
ALLOW_DIRTY_ENV = "CTLIB_ALLOW_DIRTY"


def check_clean_tree(profile: str) -> None:
    """Refuse to train a committed profile's run from a tree with uncommitted changes."""
    if profile not in COMMITTED_PROFILES or os.environ.get(ALLOW_DIRTY_ENV, "") not in ("", "0"):
        return
    if code_version().get("dirty"):
        raise RuntimeError(
            f"refusing to train a {profile!r}-profile run from a git tree with uncommitted "
            f"changes: its record could not name the code that made it. Commit (or stash) "
            f"first, or set {ALLOW_DIRTY_ENV}=1 to experiment (do not commit those records).")


def _forget_earlier_start(store: ResultStore, profile: str, experiment: str, run_id: str) -> None:
    """A run starting at epoch 0 drops the snapshots an earlier start of it committed, and
    says on stderr (the campaign's log) how many epochs of that start were lost with their
    checkpoint, so that no stale later epoch stands beside the new progress."""
    import sys

    history = (store.read_progress(profile, experiment, run_id) or {}).get("history") or []
    if history:
        lost = sum(float(h.get("time_s") or 0.0) for h in history)
        print(f"{run_id}: starts again at epoch 0 (no checkpoint to resume); the {len(history)} epoch(s) "
              f"of its earlier start ({lost / 3600:.2f} h of its cores) are trained again", file=sys.stderr)
    for snap in store.snapshot_paths(profile, experiment, run_id):
        snap.unlink()


# ------------------------------------------------------------------ claims
def _lock_path(run_dir: Path) -> Path:
    return run_dir.parent / f"{run_dir.name}.lock"


def claim(run_dir: Path) -> Path | None:
    """Create ``run_dir``'s lock file for this process; None when another process holds it."""
    lock = _lock_path(Path(run_dir))
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{os.getpid()}\n")
    return lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def clear_stale_locks(run_root: str | Path | None = None) -> list[Path]:
    """Remove the run locks under ``run_root`` whose process is gone (a killed worker).

    Call it before starting workers, never while another campaign runs on the
    same checkpoint root. Returns the removed lock files.
    """
    root = Path(run_root if run_root is not None else default_run_root())
    removed = []
    for lock in root.rglob("*.lock") if root.is_dir() else ():
        try:
            pid = int(lock.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = -1
        if pid <= 0 or not _alive(pid):
            lock.unlink(missing_ok=True)
            removed.append(lock)
    return removed


def embedding_fingerprint(embedding) -> str | None:
    """sha256 of a table's content (element order, matrix, coordinate layer), so the
    same table hashes alike whichever file format or metadata carries it."""
    if embedding is None:
        return None
    from ctlib.embeddings import ElementEmbedding

    from ctlib.embeddings import content_checksum

    if not isinstance(embedding, ElementEmbedding):
        embedding = ElementEmbedding.load(embedding)
    return content_checksum(embedding.elements, embedding.matrix, embedding.coord_weight,
                            embedding.coord_bias).split(":", 1)[1]


def run(model_name: str, targets, dataset, split: dict, *, model_config: dict | None = None,
        train_config: TrainConfig | dict | None = None, seed: int = 0,
        store: ResultStore | None = None, experiment: str = "adhoc", profile: str = "adhoc",
        run_root: str | Path | None = None, force: bool = False, embedding=None,
        extra: dict | None = None, graphs=None, save_predictions: bool = False,
        dry_run: bool = False, progress: bool | None = None,
        snapshot_epochs=None, context: RunContext | None = None) -> dict | None:
    """Train one model (or return its stored result) and record it.

    Args:
        model_name: ``cgcnn`` | ``megnet`` | ``alignn`` | ``ct``.
        targets: target name or list of names (multi-task).
        dataset: CrystalDataset, or a registry name for ``ctlib.data.load``.
        split: ``{"train","val","test": int index arrays}``.
        model_config: dict for ``build_model`` (strict).
        train_config: TrainConfig or dict; its ``seed`` is replaced by ``seed``.
        seed: training seed (model initialisation, shuffling, dropout).
        store: results store (default ``$CTLIB_RESULTS`` or ``./results``).
        experiment, profile: where the record goes:
            ``<store>/<profile>/<experiment>/<run_id>.json``.
        run_root: checkpoint folder root (default ``<ctlib.data.cache_root()>/runs``,
            i.e. ``$CTLIB_CACHE/runs`` or ``.cache/ctlib/runs``); the run folder is
            ``<run_root>/<profile>/<experiment>/<run_id>``.
        force: retrain from scratch even if a record (or checkpoint) exists.
        embedding: an ElementEmbedding or a path to an embedding file, used
            to initialise the model's atom-embedding table (the model config
            must say ``embedding_init: external``; it is set when absent).
        extra: JSON-able labels stored in the record (part of the config hash).
        graphs: precomputed GraphSet of ``dataset`` (graph models).
        save_predictions: also write ``predictions/<run_id>.csv`` (test split).
        dry_run: only look the run up; return None when it is not stored
            (nothing is trained or written).
        progress: tqdm bars (None = when on a terminal).
        snapshot_epochs: epochs after which the element table is also saved,
            with the run's progress (``progress.json`` beside the snapshots: the
            per-epoch history so far, rewritten every epoch, so a run under way
            shows its validation curve from the store alone),
            as ``embeddings/<run_id>/epoch_<e>.json`` (0 = the untrained table);
            the snapshots do not enter the config hash.

    A run of a committed profile (:data:`COMMITTED_PROFILES`) is trained only
    from a clean git tree, so its record names the code that made it; set
    ``CTLIB_ALLOW_DIRTY=1`` to experiment anyway (such records say
    ``"dirty": true`` and must not be committed).

    ``context`` (:class:`ctlib.context.RunContext`) carries the caller's deadline, epoch log
    and claims: with ``context.claim`` (campaign workers) a missing run is trained only after
    claiming it with a lock file beside its checkpoint folder; one that another live process
    holds returns None and counts in ``context.stats["busy"]``. A killed worker's lock is
    cleared by :func:`clear_stale_locks`.

    Returns:
        the run record (also written to the store), or None for a ``dry_run``
        that found nothing (or a run another worker holds). The config hash covers
        the model name and config, the train config (minus device/threads/
        logging), the dataset fingerprint, the split hash, the targets, the
        seed, the embedding's sha256, ``extra`` and the behaviour versions
        of the trainer, the model and its input featurizer (:mod:`ctlib.versions`).
    """
    from ctlib.embeddings import ElementEmbedding
    from ctlib.models import MODEL_CLASSES
    from ctlib.versions import behaviour

    ctx = default_context(context)
    targets = [targets] if isinstance(targets, str) else list(targets)
    if model_name not in MODEL_CLASSES:
        raise ValueError(f"unknown model {model_name!r}; choose one of {sorted(MODEL_CLASSES)}")
    if isinstance(dataset, str):
        from ctlib.data import load

        dataset = load(dataset, progress=use_progress_bar(progress))
    store = store if store is not None else default_store()
    tc = train_config if isinstance(train_config, TrainConfig) else TrainConfig.from_dict(train_config)
    tc = tc.replace(seed=int(seed))
    model_config = dict(model_config or {})
    emb_obj = None
    if embedding is not None:
        emb_obj = embedding if isinstance(embedding, ElementEmbedding) else ElementEmbedding.load(embedding)
        model_config.setdefault("embedding_init", "external")
    names = [k for k in ("train", "val", "test") if k in split]
    config = {
        "model": model_name, "model_config": model_config, "train": tc.hash_dict(),
        "dataset": {"name": dataset.name, "fingerprint": dataset.fingerprint},
        "split_hash": split_hash({k: split[k] for k in names}), "targets": targets,
        "seed": int(seed), "embedding_sha256": embedding_fingerprint(embedding),
        "extra": to_jsonable(extra or {}),
        "behaviour": behaviour(model_name, MODEL_CLASSES[model_name].input_kind),
    }
    h = config_hash(config)
    rid = make_run_id(model_name, targets, h, seed)
    if not force:
        found = store.find(h, profile=profile, experiment=experiment)
        if found is not None:
            return found
        other = store.find(h, profile=profile)
        if other is not None:  # same run stored under another experiment: reuse it
            rec = dict(other, experiment=experiment, copied_from=other["experiment"])
            if not dry_run:
                store.save(rec)
            return rec
    if dry_run:
        return None
    if ctx.collect is not None:   # plan only: name the run, train nothing
        if rid not in ctx.collect:
            ctx.collect.append(rid)
        return None
    if ctx.only is not None and rid not in ctx.only:
        return None
    check_clean_tree(profile)
    ckpt_root = Path(run_root if run_root is not None else default_run_root())
    run_dir = checkpoint_dir(profile, experiment, rid, ckpt_root)
    run_rel = run_dir.relative_to(ckpt_root)
    lock = None
    if ctx.claim:
        lock = claim(run_dir)
        if lock is None:  # another live process is training it
            ctx.stats["busy"] += 1
            return None
        found = None if force else store.find(h, profile=profile, experiment=experiment)
        if found is not None:  # stored by that process between the look-up and the claim
            lock.unlink(missing_ok=True)
            return found
    try:
        from ctlib.models import build_model

        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        build_kw = {"embedding": emb_obj} if emb_obj is not None else {}
        model = build_model(model_name, len(targets), model_config, **build_kw)
        front = getattr(model, "atom_embedding", None)
        if getattr(front, "filled", None):  # warn now about elements the transferred table lacks
            used = np.concatenate([np.asarray(split[k], dtype=np.int64) for k in names])
            front.check_data_elements(dataset.subset(np.unique(used)).numbers)
        prov = {"run_id": rid, "config_hash": h, "profile": profile, "experiment": experiment,
                "model_name": model_name, "targets": targets, "dataset": dataset.name, "seed": int(seed)}
        keep = {int(e) for e in snapshot_epochs or ()}

        def snapshot(epoch, m, history):
            if epoch == 0:  # a start from scratch (new, or its checkpoint was lost)
                _forget_earlier_start(store, profile, experiment, rid)
            if epoch in keep:
                path = store.snapshot_path(profile, experiment, rid, epoch)
                ElementEmbedding.from_model(m, provenance={**prov, "epoch": epoch}).save(path)
            write_json_atomic(store.progress_path(profile, experiment, rid),
                              {**prov, "epochs_planned": tc.epochs, "history": history})

        trainer = Trainer(model, tc, run_dir, resume=not force, progress=progress,
                          on_epoch=snapshot if keep else None,
                          context=ctx)
        rec = trainer.fit(dataset, split, targets, graphs=graphs)
        rec["run_dir"] = str(run_rel)  # relative to the checkpoint root: no machine path in records

        main = distributed.world()[0] == 0   # under torchrun only process 0 writes
        emb_path = store.artifact_path(profile, experiment, "embeddings", rid, ".json")
        if main:
            ElementEmbedding.from_model(trainer.model, provenance=prov).save(emb_path)
        pred_rel = None
        if main and save_predictions and "test" in split and len(split["test"]):
            import pandas as pd

            te = np.asarray(split["test"], dtype=np.int64)
            p = trainer.predict(dataset, te, graphs=graphs)
            df = pd.DataFrame({"id": dataset.ids[te]})
            for j, t in enumerate(targets):
                df[t] = dataset.targets[t][te]
                df[f"{t}_pred"] = p[:, j]
            ppath = store.artifact_path(profile, experiment, "predictions", rid, ".csv")
            atomic_write(ppath, lambda tmp: df.to_csv(tmp, index=False, float_format="%.6g"))
            pred_rel = str(ppath.relative_to(store.root))
        record = {
            "schema": SCHEMA_VERSION, "run_id": rid, "profile": profile, "experiment": experiment,
            **rec,
            "config": config, "config_hash": h,
            "embedding_path": str(emb_path.relative_to(store.root)),
            "embedding_snapshots": sorted(
                str(store.snapshot_path(profile, experiment, rid, e).relative_to(store.root))
                for e in {int(e) for e in snapshot_epochs or ()}
                if e <= rec["epochs_run"]),
            "predictions_path": pred_rel,
            "extra": to_jsonable(extra or {}),
            "filled_elements": list(getattr(front, "filled_elements", []) or []),
        }
        if main:
            store.save(record)
        distributed.barrier()   # every process sees the stored record before it goes on
        if lock is not None:
            ctx.stats["trained"] += 1
        return record
    finally:
        if lock is not None:
            lock.unlink(missing_ok=True)
