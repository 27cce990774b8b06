"""What every experiment shares: the targets and starts, the profile's MP-2018 draw and the
split each model trains on, the model and training configs, and :func:`train_one`, the one
way a run is trained or found in the results store; tidy rows (:func:`_row`).

Imports from ctlib: config, data, models, runs, results (down the layers); the other
modules of this package import it.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ctlib.config import Profile, base_recipe, get_profile
from ctlib.context import RunContext

TARGETS = {"E_f": "formation_energy_per_atom", "E_g": "band_gap"}
UNITS = {"E_f": "eV/atom", "E_g": "eV"}
DEFAULT_INIT = {"cgcnn": "cgcnn92", "megnet": "random", "alignn": "cgcnn92", "ct": "onehot"}
MODEL_LETTER = {"cgcnn": "C", "megnet": "M", "alignn": "A", "ct": "CT"}
SAMPLE_SEED = 2024  # fixed draw of the profile's structures; never the training seed

def results_root() -> Path:
    """The results store (:func:`ctlib.results.default_root`; tests point it at a tmp dir)."""
    from ctlib.results import default_root

    return default_root()


# ----------------------------------------------------------------------------- data
_DATA_CACHE: dict = {}  # a memo only: see data_memo


def data_memo(key: tuple, make):
    """``make()`` once per process for each ``key``, then the same object again.

    A memo, not state: ``key`` must hold every value the data depend on (the data set's
    name and the profile's sizes); the data root (``$CTLIB_DATA``) is added here. A profile
    replaced in a test with other sizes so gets its own entry. Bounded: one entry per
    (data set, sizes) a process asks for.
    """
    full = (os.environ.get("CTLIB_DATA", ""), *key)
    if full not in _DATA_CACHE:
        _DATA_CACHE[full] = make()
    return _DATA_CACHE[full]


def _profile(profile) -> Profile:
    return profile if isinstance(profile, Profile) else get_profile(profile)


def _sample(idx: np.ndarray, n: int | None, rng) -> np.ndarray:
    if n is None or n >= len(idx):
        return np.asarray(idx)
    return np.sort(rng.choice(idx, size=n, replace=False))


def _sample_split(n: int) -> dict:
    """Seeded 80/10/10 train/val/test split of a sample of ``n`` structures (perovskites,
    HOIP on smoke, JARVIS): seed 42, ``train_first`` order (see
    :func:`ctlib.data.splits.random_split`), as every stored run of these sets used."""
    from ctlib.data.splits import random_split

    return random_split(n, 42, order="train_first")


def _compact(ds, parts: dict) -> tuple:
    """Subset ``ds`` to the union of the parts; return (subset, re-indexed parts)."""
    order = np.concatenate([parts[k] for k in ("train", "val", "test")])
    sub = ds.subset(order)
    out, start = {}, 0
    for k in ("train", "val", "test"):
        out[k] = np.arange(start, start + len(parts[k]))
        start += len(parts[k])
    return sub, out


def mp_data(profile) -> tuple:
    """MP-2018 structures and split for a profile: ``(dataset, {"train","val","test"})``.

    Structures are drawn once per profile with a fixed seed (``SAMPLE_SEED``),
    from the standard split, so every experiment of a profile sees the same set.
    ``profile.sizes.max_atoms`` (smoke only) drops large cells before drawing.
    """
    p = _profile(profile)

    def make():
        from ctlib import data

        ds = data.load("mp2018")
        split = data.get_split(ds)
        rng = np.random.default_rng(SAMPLE_SEED)
        parts = {}
        for part, n in (("train", p.n_train), ("val", p.n_val), ("test", p.n_test)):
            idx = split[part]
            if p.sizes.max_atoms:
                idx = idx[ds.natoms[idx] <= p.sizes.max_atoms]
            parts[part] = _sample(idx, n, rng)
        return _compact(ds, parts)
    return data_memo(("mp2018", p.n_train, p.n_val, p.n_test, p.sizes.max_atoms), make)


def model_split(split: dict, model: str, profile, *, front: bool = False,
                n_train: int | None = None) -> dict:
    """The split one model trains on: capped for slow models, and for back ends.

    ``profile.n_train_model`` / ``n_test_model``: a fixed seeded draw from the
    profile's split, so a capped split is a subset of the full one and the
    same for every experiment. Back ends (``front=False``) of a profile with
    ``sizes.n_backend`` (cpu: 4,000) train on that many cells; ``n_train``
    asks for another back-end size (the learning curve). Back-end training sets
    are the first n cells of one seeded permutation of the training split, so
    they are nested (500 in 2,000 in 4,000 in 8,000); validation and test stay whole.
    """
    p = _profile(profile)
    out = dict(split)
    for part, caps in (("train", p.n_train_model), ("test", p.n_test_model)):
        out[part] = _sample(split[part], caps.get(model), np.random.default_rng(SAMPLE_SEED))
    n = n_train if n_train is not None else (None if front else p.sizes.n_backend)
    if n is not None:
        if n > len(out["train"]):
            raise ValueError(f"a back-end training set of {n} cells was asked for, but the "
                             f"{p.name!r} training split has {len(out['train'])}")
        perm = np.random.default_rng(SAMPLE_SEED).permutation(out["train"])
        out["train"] = np.sort(perm[:n])
    return out


def front_seed(profile, seed: int) -> int:
    """The pretraining seed whose table feeds back-end seed ``seed``.

    Quick and paper pretrain one front per seed; profiles with
    ``campaign.front_seed`` (cpu) pretrain once and feed every back-end seed
    from that one table (pretraining on the full split is the costly part).
    """
    fs = _profile(profile).campaign.front_seed
    return int(seed if fs is None else fs)


def front_seeds(profile, seeds=None) -> list[int]:
    """The distinct pretraining seeds (:func:`front_seed`) that back-end ``seeds`` use
    (default: the profile's), sorted: cpu pretrains one front for all of them."""
    return sorted({front_seed(profile, s) for s in _seeds(profile, seeds)})


# ------------------------------------------------------------------- configurations
def model_config(model: str, profile, *, init: str | None = None, trainable: bool | None = None,
                 with_coordinates: bool = False) -> dict:
    """The model config for a profile and an embedding front.

    Args:
        init: ``"onehot" | "cgcnn92" | "random" | "external"`` (None: the model's
            own default start, see ``DEFAULT_INIT``).
        trainable: table trainable (E_a) or frozen (E_a^f). Default: trainable
            for an external table, the model's own default otherwise.
        with_coordinates: add CT's coordinate embedding (E_a+E_c).
    """
    from ctlib.models import tiny_config

    p = _profile(profile)
    cfg = tiny_config(model) if p.tiny else {}
    cfg.update(p.recipe.model.get(model, {}))
    init = init or DEFAULT_INIT[model]
    if init != DEFAULT_INIT[model]:
        cfg["embedding_init"] = init
        if model == "megnet":
            # MEGNetConfig itself now keeps its width 16 to the "random" table, so this key
            # changes no model; it stays because the dicts made here are hashed as they are
            # (ctlib.runs.run): dropping it would change the config hash of every stored
            # MEGNet run from another start, and those runs would no longer be found.
            cfg["embedding_dim"] = None
    if init == "external":
        cfg["embedding_trainable"] = True if trainable is None else trainable
    elif trainable is not None:
        cfg["embedding_trainable"] = trainable
    if with_coordinates:
        cfg["embedding_with_coordinates"] = True
    return cfg


def train_config(model: str, profile, n_tasks: int = 1, *, device: str = "auto",
                 transfer: bool = False, front: bool = False) -> dict:
    """Training settings per model and profile: the profile's base recipe
    (:func:`ctlib.config.base_recipe`: the authors' on ``paper``; AdamW 1e-3 with
    OneCycle elsewhere, a stated deviation), then ``profile.recipe.train`` adjusts
    single models (quick CT: lr 3e-4 and token-capped batches, chosen on validation
    MAE). A transferred table is fine-tuned at ``recipe.embedding_lr`` (1e-5, as the
    authors did). ``front``: a pretraining run, whose epochs may differ
    (``recipe.front_epochs``; cpu: GNN fronts over the full training split).
    """
    p = _profile(profile)
    cfg = {
        "epochs": p.epochs[model], "batch_size": p.batch_size[model], "patience": p.patience,
        "loss": "mse", "device": device,
    }
    cfg.update(base_recipe(p.recipe.base, model, n_tasks))
    cfg.update(p.recipe.train.get(model, {}))
    if n_tasks > 1 and model in p.recipe.multitask_epochs:
        cfg["epochs"] = p.recipe.multitask_epochs[model]
    if front and model in p.recipe.front_epochs:
        cfg["epochs"] = p.recipe.front_epochs[model]
    if transfer:
        cfg["embedding_lr"] = p.recipe.embedding_lr
    return cfg


# ------------------------------------------------------------------------ one run
def train_one(model: str, targets: list[str], dataset, split, *, profile, seed: int,
              experiment: str, init: str | None = None, embedding: str | None = None,
              trainable: bool | None = None, with_coordinates: bool = False,
              device: str = "auto", force: bool = False, train: bool | None = None,
              save_predictions: bool = False, model_overrides: dict | None = None,
              train_overrides: dict | None = None, snapshots: bool = False,
              front: bool = False, context: RunContext | None = None) -> dict | None:
    """Train (or fetch from ``results/``) one model; return its results record.

    ``train``: True trains a missing run, False only looks it up; None (the
    default of every table function) trains unless the profile is one whose
    runs come from ``ctlib campaign`` (``campaign.only``, cpu): a
    notebook or ``make book`` on cpu reads the stored runs and shows the
    others as pending, never starting hours of training.

    ``model_overrides`` / ``train_overrides`` change model- / train-config
    keys after the profile's own (an ablation, another schedule).
    ``snapshots`` keeps the element table at the profile's
    ``recipe.snapshot_epochs`` (pretraining runs). ``context``
    (:class:`ctlib.context.RunContext`): the caller's deadline, claims and epoch log
    (``ctlib campaign``: one line per epoch), passed to :func:`ctlib.runs.run`; it never
    changes which run is stored or resumed. Every table function takes it too. Returns None when
    ``train=False`` and no stored run matches.
    """
    from ctlib import runs
    from ctlib.results import ResultStore

    p = _profile(profile)
    if train is None:
        train = not p.campaign.only
    if embedding is not None:
        init = "external"
    mcfg = model_config(model, p, init=init, trainable=trainable, with_coordinates=with_coordinates)
    mcfg.update(model_overrides or {})
    tcfg = train_config(model, p, len(targets), device=device, transfer=embedding is not None,
                        front=front)
    if with_coordinates:  # an E_a+E_c front reads positions, so it is trained on augmented frames as CT
        tcfg["augment"] = True
    tcfg.update(train_overrides or {})
    if context is not None and context.log_every:
        tcfg["log_every"] = context.log_every
    return runs.run(
        model, list(targets), dataset, split, model_config=mcfg, train_config=tcfg, seed=seed,
        store=ResultStore(results_root()), experiment=experiment, profile=p.name,
        force=force, embedding=embedding, dry_run=not train, save_predictions=save_predictions,
        progress=False, snapshot_epochs=p.recipe.snapshot_epochs if snapshots else None,
        context=context,
    )


def _row(rec: dict | None, target_name: str, **cols) -> dict:
    """One tidy row: the labels in ``cols`` plus the run's test metrics for ``target_name``."""
    m = ((rec or {}).get("test") or {}).get(target_name) or {}
    num = lambda k: math.nan if m.get(k) is None else float(m[k])  # noqa: E731
    return {**cols, "target_name": target_name, "mae": num("mae"), "rmse": num("rmse"), "r2": num("r2"),
            "n_test": m.get("n", 0), "run_id": (rec or {}).get("run_id"),
            "wall_s": (rec or {}).get("wall_s", math.nan), "device": (rec or {}).get("device"),
            "finished": (rec or {}).get("finished"),
            "machine_share": (rec or {}).get("machine_share", math.nan),
            "split_hash": ((rec or {}).get("config") or {}).get("split_hash")}


def embedding_path(rec: dict | None) -> str | None:
    """Path of the element-embedding file a run produced (resolved against results/)."""
    from ctlib.lookup import record_embedding_path

    path = record_embedding_path(rec, results_root()) if rec else None
    return None if path is None else str(path)


def _seeds(profile, seeds) -> list[int]:
    return list(seeds) if seeds is not None else list(_profile(profile).seeds)
