"""What every experiment shares: the targets and starts, the profile's MP-2018 draw and the
split each model trains on, the model and training configs, and :func:`train_one`, the one
way a run is trained or found in the results store; tidy rows (:func:`_row`).

Imports from ctlib: config, data, models, runs, results (down the layers); the other
modules of this package import it.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np

from ctlib.config import Profile, get_profile

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
_DATA_CACHE: dict = {}  # at most one entry per (dataset, profile): bounded


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
    ``profile.extra["max_atoms"]`` (smoke only) drops large cells before drawing.
    """
    p = _profile(profile)
    key = ("mp2018", p.name)
    if key not in _DATA_CACHE:
        from ctlib import data

        ds = data.load("mp2018")
        split = data.get_split(ds)
        rng = np.random.default_rng(SAMPLE_SEED)
        max_atoms = p.extra.get("max_atoms")
        parts = {}
        for part, n in (("train", p.n_train), ("val", p.n_val), ("test", p.n_test)):
            idx = split[part]
            if max_atoms:
                idx = idx[ds.natoms[idx] <= max_atoms]
            parts[part] = _sample(idx, n, rng)
        _DATA_CACHE[key] = _compact(ds, parts)
    return _DATA_CACHE[key]


def model_split(split: dict, model: str, profile, *, front: bool = False,
                n_train: int | None = None) -> dict:
    """The split one model trains on: capped for slow models, and for back ends.

    ``profile.n_train_model`` / ``n_test_model``: a fixed seeded draw from the
    profile's split, so a capped split is a subset of the full one and the
    same for every experiment. Back ends (``front=False``) of a profile with
    ``extra["n_backend"]`` (cpu: 4,000) train on that many cells; ``n_train``
    asks for another back-end size (the learning curve). Back-end training sets
    are the first n cells of one seeded permutation of the training split, so
    they are nested (500 in 2,000 in 4,000 in 8,000); validation and test stay whole.
    """
    p = _profile(profile)
    out = dict(split)
    for part, caps in (("train", p.n_train_model), ("test", p.n_test_model)):
        out[part] = _sample(split[part], caps.get(model), np.random.default_rng(SAMPLE_SEED))
    n = n_train if n_train is not None else (None if front else p.extra.get("n_backend"))
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
    ``extra["front_seed"]`` (cpu) pretrain once and feed every back-end seed
    from that one table (pretraining on the full split is the costly part).
    """
    return int(_profile(profile).extra.get("front_seed", seed))


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
    cfg.update(p.extra.get("model_overrides", {}).get(model, {}))
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
    """Training settings per model and profile.

    ``paper``: the authors' CT recipe (SGD, momentum 0.9, weight decay 1e-3,
    lr 1e-4 with StepLR(10, 0.96); multi-task lr 6e-3 with StepLR(20, 0.5)),
    MEGNet's Adam 1e-3, ALIGNN's AdamW 1e-3 / 1e-5 with OneCycle, and AdamW
    1e-3 for CGCNN. ``quick``/``smoke`` train for a handful of epochs, where
    SGD at 1e-4 would barely move; there every model uses AdamW 1e-3 with a
    OneCycle schedule (a stated deviation); ``profile.extra["train_overrides"]``
    then adjusts single models (quick CT: lr 3e-4 and token-capped batches,
    chosen on validation MAE). A transferred table is fine-tuned at 1e-5, as
    the authors did. ``front``: a pretraining run, whose epochs may differ
    (``extra["front_epochs"]``; cpu: GNN fronts over the full training split).
    """
    p = _profile(profile)
    cfg = {
        "epochs": p.epochs[model], "batch_size": p.batch_size[model], "patience": p.patience,
        "loss": "mse", "device": device,
    }
    if p.name == "paper":
        if model == "ct":
            cfg.update(optimizer="sgd", momentum=0.9, weight_decay=1e-3, scheduler="step",
                       lr=6e-3 if n_tasks > 1 else 1e-4, step_size=20 if n_tasks > 1 else 10,
                       gamma=0.5 if n_tasks > 1 else 0.96, augment=True)
        elif model == "alignn":
            cfg.update(optimizer="adamw", lr=1e-3, weight_decay=1e-5, scheduler="onecycle")
        elif model == "megnet":
            cfg.update(optimizer="adam", lr=1e-3, weight_decay=0.0, scheduler="none")
        else:
            cfg.update(optimizer="adamw", lr=1e-3, weight_decay=1e-5, scheduler="cosine")
    else:
        cfg.update(optimizer="adamw", lr=1e-3, weight_decay=1e-5, scheduler="onecycle",
                   augment=model == "ct")
    cfg.update(p.extra.get("train_overrides", {}).get(model, {}))
    if n_tasks > 1 and model in p.extra.get("multitask_epochs", {}):
        cfg["epochs"] = p.extra["multitask_epochs"][model]
    if front and model in p.extra.get("front_epochs", {}):
        cfg["epochs"] = p.extra["front_epochs"][model]
    if transfer:
        cfg["embedding_lr"] = 1e-5
    return cfg


# ------------------------------------------------------------------------ one run
_EPOCH_LOG: list[int] = []


@contextlib.contextmanager
def epoch_log(every: int = 1):
    """Within this block, every run :func:`train_one` trains prints a line to
    stderr each ``every`` epochs: time, model, epoch, training loss, validation
    MAE, learning rate and structures/s.

    ``ctlib campaign`` uses it, so that its log shows how a run of hours is
    going. Logging is a runtime setting (``TrainConfig.log_every``), not part
    of a run's config hash: it never changes which run is stored or resumed.
    """
    _EPOCH_LOG.append(int(every))
    try:
        yield
    finally:
        _EPOCH_LOG.pop()


def train_one(model: str, targets: list[str], dataset, split, *, profile, seed: int,
              experiment: str, init: str | None = None, embedding: str | None = None,
              trainable: bool | None = None, with_coordinates: bool = False,
              device: str = "auto", force: bool = False, train: bool | None = None,
              save_predictions: bool = False, model_overrides: dict | None = None,
              train_overrides: dict | None = None, snapshots: bool = False,
              front: bool = False) -> dict | None:
    """Train (or fetch from ``results/``) one model; return its results record.

    ``train``: True trains a missing run, False only looks it up; None (the
    default of every table function) trains unless the profile is one whose
    runs come from ``ctlib campaign`` (``extra["campaign_only"]``, cpu): a
    notebook or ``make book`` on cpu reads the stored runs and shows the
    others as pending, never starting hours of training.

    ``model_overrides`` / ``train_overrides`` change model- / train-config
    keys after the profile's own (an ablation, another schedule).
    ``snapshots`` keeps the element table at the profile's
    ``extra["snapshot_epochs"]`` (pretraining runs). Returns None when
    ``train=False`` and no stored run matches.
    """
    from ctlib import runs
    from ctlib.results import ResultStore

    p = _profile(profile)
    if train is None:
        train = not p.extra.get("campaign_only", False)
    if embedding is not None:
        init = "external"
    mcfg = model_config(model, p, init=init, trainable=trainable, with_coordinates=with_coordinates)
    mcfg.update(model_overrides or {})
    tcfg = train_config(model, p, len(targets), device=device, transfer=embedding is not None,
                        front=front)
    if with_coordinates:  # an E_a+E_c front reads positions, so it is trained on augmented frames as CT
        tcfg["augment"] = True
    tcfg.update(train_overrides or {})
    if _EPOCH_LOG:
        tcfg["log_every"] = _EPOCH_LOG[-1]
    return runs.run(
        model, list(targets), dataset, split, model_config=mcfg, train_config=tcfg, seed=seed,
        store=ResultStore(results_root()), experiment=experiment, profile=p.name,
        force=force, embedding=embedding, dry_run=not train, save_predictions=save_predictions,
        progress=False, snapshot_epochs=p.extra.get("snapshot_epochs") if snapshots else None,
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
