"""One function per experiment of the paper; each returns a tidy DataFrame.

Every training goes through :func:`train_one`, which asks the results store
for a run with the same config hash first (model + config, training config,
dataset fingerprint, split, targets, seed, embedding file). A baseline trained
for Table I is therefore reused by Tables II-IV, and a notebook re-executed on
the same profile retrains nothing. ``force=True`` retrains; ``train=False``
only reads the store (missing runs come back as NaN rows).

Substitutions forced by the data we have (stated in the book):

* **MP-2018** is the 74 % subset with current MP structures (51,222 of 69,239).
* **MP\\*** (134,243 materials) is not available: every "pretrained on MP\\*"
  front end is pretrained on the MP-2018 *train* split, so test materials
  never enter pretraining.
* The perovskite set of the paper (3,334 HOIP + Pb-free structures) cannot be
  rebuilt; we sample 3,334 Castelli cubic perovskites, and run HOIP separately.

Tidy rows carry: ``table, column, target, model, init, seed, mae, rmse, r2,
n_test, run_id`` (+ experiment-specific columns).
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib.config import PROFILES, Profile, get_profile

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


# ------------------------------------------------------------------------ Table I
def table1(profile="quick", seeds=None, *, device="auto", force=False, train=None,
           models=None) -> pd.DataFrame:
    """Table I: each model on MP-2018 E_f and E_g with its own standard start.

    ``models`` defaults to the profile's ``extra["table1_models"]``, else all
    four. A profile that names ``table1_models`` (cpu: CT alone) takes CT's
    Table I run from its single-task pretraining (:func:`pretrain_front`: the
    full train split, seed :func:`front_seed`), which is what the paper's CT
    column is; its other columns are not run.
    """
    if models is None:
        models = _profile(profile).extra.get("table1_models", ("cgcnn", "megnet", "alignn", "ct"))
    ds, split = mp_data(profile)
    rows = []
    for model in models:
        for short, target in TARGETS.items():
            if model == "ct" and _table1_ct_is_pretraining(profile):
                runs = [(s, pretrain_front("ct", short, profile, s, device=device, force=force, train=train))
                        for s in front_seeds(profile, seeds)]
            else:
                runs = [(s, train_one(model, [target], ds, model_split(split, model, profile), profile=profile,
                                      seed=s, experiment="table1", device=device, force=force, train=train,
                                      save_predictions=True))
                        for s in _seeds(profile, seeds)]
            rows += [_row(rec, target, table="I", column=model, model=model, init=DEFAULT_INIT[model],
                          target=short, seed=seed) for seed, rec in runs]
    return pd.DataFrame(rows)


def table1_fronts(profile="quick", seeds=None, *, device="auto", force=False, train=None) -> pd.DataFrame:
    """The GNN fronts of Table II as Table I-shaped rows, where Table I runs CT only (cpu).

    They are CGCNN and MEGNet trained on the whole train split (Table I's data)
    from one-hot (:func:`pretrain_front`, seeds :func:`front_seeds`), not from
    their standard atom inputs and not for CT's epochs: beside CT's Table I run
    they give its scale, and no claim is judged on them. Columns as
    :func:`table1`, ``table`` = ``"I (fronts)"``, ``init`` = ``"onehot"``.
    Empty for a profile that runs Table I in full.
    """
    p = _profile(profile)
    if not _table1_ct_is_pretraining(p):
        return pd.DataFrame()
    rows = []
    for model in (m for m in table2_fronts(p) if m != "ct"):
        for short, target in TARGETS.items():
            rows += [_row(pretrain_front(model, short, p, s, device=device, force=force, train=train), target,
                          table="I (fronts)", column=model, model=model, init="onehot", target=short, seed=s)
                     for s in front_seeds(p, seeds)]
    return pd.DataFrame(rows)


def fronts(profile="quick", seeds=None, *, device="auto", train=False) -> pd.DataFrame:
    """Every Table II front's own run (:func:`pretrain_front`, from one-hot on the whole
    train split, its front seeds): ``table`` = ``"fronts"``, ``column`` = the model's letter
    (``C``, ``M``, ``A``, ``CT``), ``target`` = ``E_f`` / ``E_g``. A claim that sets one
    front's table against another's shows each front's own test MAE beside it."""
    p = _profile(profile)
    rows = []
    for model in table2_fronts(p):
        for short, target in TARGETS.items():
            rows += [_row(pretrain_front(model, short, p, s, device=device, train=train), target,
                          table="fronts", column=MODEL_LETTER[model], model=model, init="onehot",
                          target=short, seed=s) for s in front_seeds(p, seeds)]
    return pd.DataFrame(rows)


def _table1_ct_is_pretraining(profile) -> bool:
    """Whether the profile's Table I CT run is its single-task pretraining (``extra["table1_models"]``, cpu)."""
    return "table1_models" in _profile(profile).extra


def mean_baseline(profile="quick") -> pd.DataFrame:
    """Test MAE of predicting the training-split mean, per MP-2018 target.

    The floor every model of Table I must beat; on the profile's own draw of
    train and test structures (the full test split on quick and paper).
    """
    ds, split = mp_data(profile)
    rows = []
    for short, target in TARGETS.items():
        y = ds.targets[target]
        tr, te = split["train"], split["test"]
        mu = float(np.nanmean(y[tr]))
        ok = np.isfinite(y[te])
        rows.append({"target": short, "unit": UNITS[short], "train_mean": mu,
                     "mae": float(np.mean(np.abs(y[te][ok] - mu))), "n_test": int(ok.sum())})
    return pd.DataFrame(rows)


def ct_coord_scale(profile="quick", seeds=None, *, device="auto", force=False, train=None,
                   scales=(1.0, 0.1)) -> pd.DataFrame:
    """CT on E_f with positions in Å (``coord_scale`` 1, the paper) and in nm (0.1).

    Everything else is the profile's Table I CT run, which is reused for the
    profile's own scale. Each row adds ``best_val_mae``, the lowest validation
    MAE of the run: the quick profile's choice of 0.1 was made on validation.
    A profile whose Table I is its pretraining (``extra["table1_models"]``, cpu)
    does not run this comparison: the frame is empty.
    """
    if _table1_ct_is_pretraining(profile):
        return pd.DataFrame(columns=["coord_scale", "seed", "mae", "best_val_mae", "run_id"])
    ds, split = mp_data(profile)
    target = TARGETS["E_f"]
    rows = []
    for scale in scales:
        for seed in _seeds(profile, seeds):
            rec = train_one("ct", [target], ds, model_split(split, "ct", profile), profile=profile,
                            seed=seed, experiment="ct_coord_scale", device=device, force=force,
                            train=train, model_overrides={"coord_scale": float(scale)})
            vals = [h.get("val_mae_mean") for h in (rec or {}).get("history", [])]
            vals = [v for v in vals if v is not None]
            rows.append({**_row(rec, target, table="ct_coord_scale", column=f"coord_scale {scale:g}",
                                model="ct", init="onehot", target="E_f", seed=seed),
                         "coord_scale": float(scale),
                         "best_val_mae": min(vals) if vals else math.nan})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ fronts
def pretrain_front(model: str, short: str, profile, seed: int, *, device="auto", force=False,
                   train=None) -> dict | None:
    """Pretrain a front end from the one-hot start (methods A/B) on one target.

    CT's one-hot start is its standard one, so CT's front end *is* its Table I run.
    """
    ds, split = mp_data(profile)
    return train_one(model, [TARGETS[short]], ds, model_split(split, model, profile, front=True),
                     profile=profile, seed=seed, experiment="fronts", init="onehot", device=device,
                     force=force, train=train, snapshots=True, front=True)


def pretrain_ct_multitask(profile, seed: int, *, device="auto", force=False, train=None) -> dict | None:
    """CT trained on E_f and E_g together (eq. 9, equal weights): the 'mt' embedding."""
    ds, split = mp_data(profile)
    return train_one("ct", list(TARGETS.values()), ds, model_split(split, "ct", profile, front=True),
                     profile=profile, seed=seed, experiment="fronts", device=device, force=force,
                     train=train, snapshots=True, front=True)


#: Experiment of the multi-task CT pretraining under the profile's other schedule.
ALT_SCHEDULE_EXPERIMENT = "fronts_schedule"


def alt_schedule_text(profile) -> str:
    """The profile's ``ct_alt_schedule`` in words, e.g. ``"onecycle to lr 3e-4, 12 epochs"``."""
    alt = _profile(profile).extra.get("ct_alt_schedule") or {}
    lr = f"{alt['lr']:.0e}".replace("e-0", "e-") if "lr" in alt else "the profile's lr"
    epochs = f", {alt['epochs']} epochs" if "epochs" in alt else ""
    return f"{alt.get('scheduler', 'same schedule')} to lr {lr}{epochs}"


def pretrain_ct_alt_schedule(profile, seed: int, *, device="auto", force=False,
                             train=None) -> dict | None:
    """The multi-task CT pretraining again, under ``extra["ct_alt_schedule"]``.

    Same data, model, seed and snapshots as :func:`pretrain_ct_multitask`; only
    the training keys of the profile's ``ct_alt_schedule`` (e.g. OneCycle to a
    higher peak learning rate, fewer epochs) differ. Stored under
    :data:`ALT_SCHEDULE_EXPERIMENT`, so it never stands in for the profile's CT
    table (the ``fronts`` run wins every lookup).

    Raises:
        ValueError: the profile defines no ``ct_alt_schedule``.
    """
    p = _profile(profile)
    alt = p.extra.get("ct_alt_schedule")
    if not alt:
        raise ValueError(f"profile {p.name!r} has no extra['ct_alt_schedule']; only "
                         f"{[n for n, q in PROFILES.items() if q.extra.get('ct_alt_schedule')]} do")
    ds, split = mp_data(p)
    return train_one("ct", list(TARGETS.values()), ds, model_split(split, "ct", p, front=True),
                     profile=p, seed=seed, experiment=ALT_SCHEDULE_EXPERIMENT, device=device,
                     force=force, train=train, train_overrides=dict(alt), snapshots=True, front=True)


def untrained_ct_table(profile, seed: int = 0, n_tasks: int = 2):
    """The element table of the multi-task CT front before any training.

    The control that separates what pretraining adds from the table's shape
    (a random 128-d projection of one-hot rows): the model is built exactly as
    :func:`ctlib.runs.run` builds the pretraining run of ``seed`` (same seed,
    same config), so this equals that run's epoch-0 snapshot.
    """
    import torch

    from ctlib.embeddings import ElementEmbedding
    from ctlib.models import build_model

    p = _profile(profile)
    torch.manual_seed(seed)
    model = build_model("ct", n_tasks, model_config("ct", p))
    return ElementEmbedding.from_model(model, provenance={"table": "untrained CT", "seed": seed,
                                                          "profile": p.name})


def learned_part(table, profile, seed: int | None = None):
    """What pretraining added to a CT element table: the table minus its untrained start.

    A CT table is ``W[:, Z-1] + b`` of the atom layer; pretraining moves it from the
    random start :func:`untrained_ct_table` rebuilds (same profile and seed). On the
    ``cpu`` budget the table has moved by about half of its start's norm, so most of
    its variance is still that random start. ``learned = table - start`` keeps only
    the change (the coordinate layer is dropped: back ends never read it).

    Args:
        table: a stored CT element table (path or ``ElementEmbedding``) of ``profile``.
        profile: the profile whose untrained CT table was the start.
        seed: the pretraining seed (default :func:`front_seed` of seed 0).

    Returns:
        ``ElementEmbedding`` over the table's elements, ``(89, 128)`` on cpu; its
        provenance names the table it came from.
    """
    from ctlib.embeddings import ElementEmbedding

    p = _profile(profile)
    seed = front_seed(p, 0) if seed is None else int(seed)
    final = table if isinstance(table, ElementEmbedding) else ElementEmbedding.load(table)
    start = untrained_ct_table(p, seed).reindex(final.elements)
    if start.dim != final.dim:
        raise ValueError(f"the table has {final.dim} dimensions but the untrained CT table of profile "
                         f"{p.name!r} has {start.dim}: it was not pretrained with this profile's CT")
    return ElementEmbedding(final.elements, final.matrix.astype(np.float64) - start.matrix,
                            {"method": "learned part: pretrained CT table minus its untrained start",
                             "run_id": final.provenance.get("run_id"),
                             "source": Path(final.provenance.get("source_file") or "").name or None,
                             "start_seed": seed, "profile": p.name})


# ------------------------------------------------------------------------ controls
def control_starts(profile) -> dict:
    """Back-end starts that every transfer table shows beside the paper's columns.

    ``random``: a seeded N(0, 1) table of 128 dimensions (CT's width, no
    information), a frozen input as the ``onehot`` and ``cgcnn92`` tables are
    (the back end's projection of it learns); ``CT untrained``:
    :func:`untrained_ct_table`, the CT table before pretraining, fine-tuned at
    the transfer learning rate (``embedding_lr`` 1e-5) exactly as the
    pretrained CT tables are, so it is the control that isolates what
    pretraining adds.
    """
    return {"random": {"init": "random", "model_overrides": {"embedding_dim": 128}},
            "CT untrained": {"embedding": untrained_ct_table(profile, front_seed(profile, 0))}}


# ------------------------------------------------------------------------ Table II
def table2_fronts(profile) -> tuple[str, ...]:
    """The front models of a profile's Table II (``extra["table2_fronts"]``, default all four)."""
    return tuple(_profile(profile).extra.get("table2_fronts", ("cgcnn", "megnet", "alignn", "ct")))


def table2(profile="quick", seeds=None, *, device="auto", force=False, train=None,
           backs=None) -> pd.DataFrame:
    """Table II: front-end embeddings (pretrained on the same target) into back ends.

    Columns: ``<F>-<B>`` for each front F and back end B (C-C, M-C, A-C, CT-C,
    CT-M, CT-A on quick; the profile's ``extra["table2_fronts"]`` /
    ``["table2_backs"]`` restrict them, cpu: C, M and CT fronts into a CGCNN
    back end), plus every back end's plain starts (``<B> onehot``, ``<B> default``)
    and the controls (``<B> random``, ``CT0-<B>`` = untrained CT table).
    The embedding of :func:`front_seed` feeds the back end of each seed.

    Order of training (``train=True``, the campaign): per target, each front and
    then its back ends for every seed, before the next front is pretrained, so
    that one front's columns complete (and their claims can be judged) before
    the hours of the next front begin; then the plain starts and the controls.
    ``backs``: only these of the profile's back ends (the campaign trains the
    CGCNN back ends and the MEGNet ones in different tiers). A back end's plain
    starts are ``onehot`` and ``default`` unless ``extra["table2_plain_starts"]``
    names fewer (cpu MEGNet: ``default`` only, the baseline of the CT-M claims).
    """
    p = _profile(profile)
    ds, split = mp_data(p)
    fronts_used = table2_fronts(p)
    backs = [b for b in p.extra.get("table2_backs", ("cgcnn", "megnet", "alignn"))
             if backs is None or b in backs]
    plain = p.extra.get("table2_plain_starts", {})
    controls = control_starts(p)
    pairs = [(f, "cgcnn") for f in fronts_used if "cgcnn" in backs] + [("ct", b) for b in backs if b != "cgcnn"]
    rows = []
    for short, target in TARGETS.items():
        for front, back in pairs:
            for seed in _seeds(p, seeds):
                emb = embedding_path(pretrain_front(front, short, p, front_seed(p, seed), device=device,
                                                    force=force, train=train))
                rec = None
                if emb is not None:
                    rec = train_one(back, [target], ds, model_split(split, back, p), profile=p,
                                    seed=seed, experiment="table2", embedding=emb, device=device,
                                    force=force, train=train)
                rows.append(_row(rec, target, table="II",
                                 column=f"{MODEL_LETTER[front]}-{MODEL_LETTER[back]}", model=back,
                                 init=f"{front} embedding", target=short, seed=seed))
        for seed in _seeds(p, seeds):
            for back in backs:
                starts = {k: v for k, v in (("onehot", {"init": "onehot"}),
                                            ("default", {"init": DEFAULT_INIT[back]}))
                          if k in plain.get(back, ("onehot", "default"))}
                if back == "cgcnn":
                    starts.update(controls)
                for label, kw in starts.items():
                    rec = train_one(back, [target], ds, model_split(split, back, p), profile=p,
                                    seed=seed, experiment="table2", device=device, force=force,
                                    train=train, **kw)
                    letter = MODEL_LETTER[back]
                    column = f"CT0-{letter}" if label == "CT untrained" else f"{letter} {label}"
                    rows.append(_row(rec, target, table="II", column=column, model=back,
                                     init=kw.get("init", label), target=short, seed=seed))
    return pd.DataFrame(rows)


def _ct_embeddings(profile, seed, *, device, force, train) -> dict:
    """CT embeddings feeding back-end seed ``seed``: pretrained on E_f, on E_g, and multi-task."""
    fs = front_seed(profile, seed)
    out = {short: embedding_path(pretrain_front("ct", short, profile, fs, device=device, force=force,
                                                train=train)) for short in TARGETS}
    out["mt"] = embedding_path(pretrain_ct_multitask(profile, fs, device=device, force=force, train=train))
    return out


def _cgcnn_baseline(target, ds, split, profile, seed, *, device, force, train) -> dict | None:
    return train_one("cgcnn", [target], ds, model_split(split, "cgcnn", profile), profile=profile,
                     seed=seed, experiment="table1", device=device, force=force, train=train)


def _control_rows(target, short, ds, split, profile, seed, controls, *, table, device, force,
                  train) -> list[dict]:
    """CGCNN back ends from the control starts (same runs in every table: trained once)."""
    rows = []
    for label, kw in controls.items():
        rec = train_one("cgcnn", [target], ds, model_split(split, "cgcnn", profile), profile=profile,
                        seed=seed, experiment="table2", device=device, force=force, train=train, **kw)
        rows.append(_row(rec, target, table=table, column=f"CGCNN({label})", model="cgcnn",
                         init=label, target=short, seed=seed))
    return rows


# ------------------------------------------------------------------------ Table III
def table3(profile="quick", seeds=None, *, device="auto", force=False, train=None) -> pd.DataFrame:
    """Table III: CGCNN with CT embeddings pretrained on E_f, on E_g, or multi-task,
    each evaluated on both targets (cross-task transfer), beside the controls."""
    p = _profile(profile)
    ds, split = mp_data(p)
    controls = control_starts(p)
    rows = []
    for seed in _seeds(p, seeds):
        embs = _ct_embeddings(p, seed, device=device, force=force, train=train)
        for short, target in TARGETS.items():
            rec = _cgcnn_baseline(target, ds, split, p, seed, device=device, force=force, train=train)
            rows.append(_row(rec, target, table="III", column="CGCNN", model="cgcnn", init="cgcnn92",
                             target=short, seed=seed))
            for src in ("E_f", "E_g", "mt"):
                rec = None
                if embs[src] is not None:
                    rec = train_one("cgcnn", [target], ds, model_split(split, "cgcnn", p),
                                    profile=p, seed=seed, experiment="table3", embedding=embs[src],
                                    device=device, force=force, train=train)
                rows.append(_row(rec, target, table="III", column=f"CGCNN({src})", model="cgcnn",
                                 init=f"ct {src} embedding", target=short, seed=seed))
            rows += _control_rows(target, short, ds, split, p, seed, controls, table="III",
                                  device=device, force=force, train=train)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ Table IV
#: column -> ``train_one`` keywords of Table IV's variants. Each contrast changes one thing:
#: ``CGCNN(E_a)`` trains the table at the back end's own learning rate (``embedding_lr``
#: None), against the frozen ``CGCNN(E_a^f)``; ``CGCNN(E_a+E_c)`` adds CT's coordinate
#: embedding with nothing else changed (no augmentation, as ``CGCNN(E_a)``). The two rows
#: the first campaign trained stay, labelled by what else they change: the table fine-tuned
#: at the transfer rate 1e-5 (where it barely moves), and E_a+E_c with random-frame
#: augmentation (which only a model that reads positions can take).
TABLE4_VARIANTS = {
    "CGCNN(E_a)": dict(trainable=True, train_overrides={"embedding_lr": None}),
    "CGCNN(E_a+E_c)": dict(trainable=True, with_coordinates=True,
                           train_overrides={"embedding_lr": None, "augment": False}),
    "CGCNN(E_a^f)": dict(trainable=False),
    "CGCNN(E_a), table lr 1e-5": dict(trainable=True),
    "CGCNN(E_a+E_c), table lr 1e-5, augmented": dict(trainable=True, with_coordinates=True),
}


#: the Table IV columns of the first cpu campaign (its tier 3); the others came after.
TABLE4_FIRST = ("CGCNN(E_a^f)", "CGCNN(E_a), table lr 1e-5", "CGCNN(E_a+E_c), table lr 1e-5, augmented")


def table4(profile="quick", seeds=None, *, device="auto", force=False, train=None,
           variants=None) -> pd.DataFrame:
    """Table IV: CGCNN with CT embeddings trainable (E_a), with CT's coordinate
    embedding added (E_a+E_c), and frozen (E_a^f); pretrained on the same target;
    beside the controls. ``variants``: the columns of :data:`TABLE4_VARIANTS` to
    train or look up (default all)."""
    p = _profile(profile)
    ds, split = mp_data(p)
    controls = control_starts(p)
    rows = []
    variants = {k: v for k, v in TABLE4_VARIANTS.items() if variants is None or k in variants}
    for seed in _seeds(p, seeds):
        for short, target in TARGETS.items():
            rec = _cgcnn_baseline(target, ds, split, p, seed, device=device, force=force, train=train)
            rows.append(_row(rec, target, table="IV", column="CGCNN", model="cgcnn", init="cgcnn92",
                             target=short, seed=seed))
            emb = embedding_path(pretrain_front("ct", short, p, front_seed(p, seed), device=device,
                                                force=force, train=train))
            for col, kw in variants.items():
                rec = None
                if emb is not None:
                    rec = train_one("cgcnn", [target], ds, model_split(split, "cgcnn", p),
                                    profile=p, seed=seed, experiment="table4", embedding=emb,
                                    device=device, force=force, train=train, **kw)
                rows.append(_row(rec, target, table="IV", column=col, model="cgcnn",
                                 init="ct embedding", target=short, seed=seed))
            rows += _control_rows(target, short, ds, split, p, seed, controls, table="IV",
                                  device=device, force=force, train=train)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ perovskites
def perovskite_data(profile) -> tuple:
    """3,334 (profile.perovskite_n) Castelli perovskites, seeded draw, 80/10/10.

    Adds ``e_form_per_atom`` = e_form / 5 (eV/atom), the unit of the paper's
    perovskite result; Matbench's ``e_form`` stays in eV per cell.
    """
    p = _profile(profile)
    key = ("castelli_sample", p.name)
    if key not in _DATA_CACHE:
        from ctlib import data

        ds = data.load("castelli_perovskites")
        rng = np.random.default_rng(SAMPLE_SEED)
        pick = _sample(np.arange(len(ds)), p.perovskite_n, rng)
        sub = ds.subset(pick)
        sub.targets["e_form_per_atom"] = sub.targets["e_form"] / sub.natoms
        sub.units["e_form_per_atom"] = "eV/atom"
        _DATA_CACHE[key] = (sub, _sample_split(len(sub)))
    return _DATA_CACHE[key]


def hoip_data(profile) -> tuple:
    """The HOIP set (Kim et al. 2017) with its registry split (seeded 80/10/10).
    On ``smoke`` a seeded sample of ``perovskite_n`` structures."""
    p = _profile(profile)
    key = ("hoip", p.name)
    if key not in _DATA_CACHE:
        from ctlib import data

        ds = data.load("hoip")
        if p.tiny:
            ds = ds.subset(_sample(np.arange(len(ds)), p.perovskite_n, np.random.default_rng(SAMPLE_SEED)))
            _DATA_CACHE[key] = (ds, _sample_split(len(ds)))
        else:
            _DATA_CACHE[key] = (ds, data.get_split(ds))
    return _DATA_CACHE[key]


def matbench_data(profile, fold: int) -> tuple:
    """Full Castelli set on Matbench fold ``fold`` (test = that fold).

    ``profile.extra["matbench_train_cap"]`` caps the training part (quick/smoke,
    stated on the page); the test fold is always complete except on smoke.
    """
    from ctlib import data

    p = _profile(profile)
    ds = data.load("castelli_perovskites")
    split = data.get_split(ds, scheme="matbench", fold=fold)
    cap = p.extra.get("matbench_train_cap")
    rng = np.random.default_rng(SAMPLE_SEED + fold)
    parts = {"train": _sample(split["train"], cap, rng), "val": _sample(split["val"], p.n_val, rng),
             "test": _sample(split["test"], p.n_test, rng)}
    return _compact(ds, parts)


def perovskites(profile="quick", seeds=None, *, device="auto", force=False, train=None) -> pd.DataFrame:
    """The perovskite application: CGCNN and MEGNet with and without the CT E_f
    embedding (pretrained on MP-2018), on 3,334 Castelli perovskites, on HOIP, and
    on Matbench's folds of the full Castelli set.

    A profile with ``extra["perovskites_from_scarce"]`` (cpu) runs none of these
    itself: its rows are the ``cgcnn92`` (``C``) and ``CT E_f`` (``CT-C``) runs of
    :func:`scarce_transfer` (Castelli-3,334 formation energy, HOIP atomization
    energy, the scarce seeds), so one set of runs answers both pages and their
    verdicts agree.
    """
    p = _profile(profile)
    if p.extra.get("perovskites_from_scarce"):
        df = scarce_transfer(p, seeds, device=device, force=force, train=train)
        df = df[df["start"].isin(PEROVSKITE_FROM_SCARCE)].copy()
        df["column"] = df["start"].map(PEROVSKITE_FROM_SCARCE)
        df["table"] = "perovskites"
        return df.drop(columns=["start"]).reset_index(drop=True)
    rows = []
    tasks = [("castelli-3334", perovskite_data(p), "e_form_per_atom", ("cgcnn", "megnet")),
             ("hoip", hoip_data(p), "atomization_energy_per_atom", ("cgcnn",)),
             ("hoip", hoip_data(p), "band_gap_gga", ("cgcnn",))]
    tasks += [(f"matbench-fold{k}", matbench_data(p, k), "e_form", ("cgcnn",)) for k in range(p.matbench_folds)]
    for seed in _seeds(p, seeds):
        emb = embedding_path(pretrain_front("ct", "E_f", p, front_seed(p, seed), device=device, force=force,
                                            train=train))
        for name, (ds, split), target, models in tasks:
            for model in models:
                letter = MODEL_LETTER[model]
                for label, kw in ((letter, {}), (f"CT-{letter}", {"embedding": emb})):
                    rec = None
                    if "embedding" not in kw or emb is not None:
                        rec = train_one(model, [target], ds, split, profile=p, seed=seed,
                                        experiment="perovskites", device=device, force=force, train=train, **kw)
                    rows.append(_row(rec, target, table="perovskites", column=label, model=model,
                                     init="ct embedding" if kw else DEFAULT_INIT[model], dataset=name,
                                     target=target, unit=ds.units.get(target, ""), seed=seed,
                                     n_train=len(split["train"])))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ data-scarce transfer
#: Tables of the ``elementembeddings`` package compared in the data-scarce transfer
#: (the scaled variants of Magpie and Oliynyk: their raw columns span 1e0-1e4).
EXTERNAL_TABLES = ("magpie_sc", "mat2vec", "megnet16", "skipatom", "oliynyk_sc")
#: (name, data function, target) of the data-scarce tasks: formation energy, as the paper's.
SCARCE_TASKS = (("castelli-3334", "perovskite_data", "e_form_per_atom"),
                ("hoip", "hoip_data", "atomization_energy_per_atom"))


def cgcnn_set(name: str, profile, *, n_train: int | None = None) -> tuple:
    """``(dataset, split, target)`` of one set the campaign trains CGCNN on, by short name:
    ``castelli`` (Castelli-3,334 formation energy), ``hoip`` (HOIP atomization energy),
    ``mp_E_f`` / ``mp_E_g`` (the MP-2018 back end's split; ``n_train``: another back-end
    size, as the learning curve's). For the probes and benchmarks (``tools/stop_probe.py``,
    ``benchmarks/workers.py``)."""
    scarce = {"castelli": SCARCE_TASKS[0], "hoip": SCARCE_TASKS[1]}   # the scarce step's own sets
    if name in scarce:
        _, data_fn, target = scarce[name]
        return (*globals()[data_fn](profile), target)
    if name in ("mp_E_f", "mp_E_g"):
        ds, split = mp_data(profile)
        return ds, model_split(split, "cgcnn", profile, n_train=n_train), TARGETS[name.split("_", 1)[1]]
    raise ValueError(f"unknown set {name!r}; choose castelli, hoip, mp_E_f or mp_E_g")


#: scarce-transfer start -> perovskite-page column, for ``extra["perovskites_from_scarce"]``.
PEROVSKITE_FROM_SCARCE = {"cgcnn92": "C", "CT E_f": "CT-C"}


def scarce_schedule(profile) -> tuple[list[int], int]:
    """``(seeds, CGCNN epochs)`` of the data-scarce transfer: ``extra["scarce_seeds"]``
    and ``extra["scarce_epochs"]["cgcnn"]``, else the profile's seeds and epochs."""
    p = _profile(profile)
    return (list(p.extra.get("scarce_seeds", p.seeds)),
            int(p.extra.get("scarce_epochs", {}).get("cgcnn", p.epochs["cgcnn"])))


def scarce_starts(profile, *, device="auto", force=False, train=None) -> dict:
    """label -> ``train_one`` keywords of every start in the data-scarce transfer.

    ``cgcnn92`` (CGCNN's own), ``onehot``, the controls (``random``, ``CT
    untrained``), the pretrained CT tables (``CT mt``, ``CT E_f``; None while
    their pretraining is not stored), their :func:`learned_part` (``CT mt,
    learned part``, ``CT E_f, learned part``) and the :data:`EXTERNAL_TABLES`.
    """
    from ctlib.embeddings import ElementEmbedding

    p = _profile(profile)
    fs = front_seed(p, 0)
    starts = {"cgcnn92": {}, "onehot": {"init": "onehot"}, **control_starts(p)}
    mt = embedding_path(pretrain_ct_multitask(p, fs, device=device, force=force, train=train))
    ef = embedding_path(pretrain_front("ct", "E_f", p, fs, device=device, force=force, train=train))
    starts["CT mt"] = None if mt is None else {"embedding": mt}
    starts["CT E_f"] = None if ef is None else {"embedding": ef}
    for label, path in (("CT mt, learned part", mt), ("CT E_f, learned part", ef)):
        starts[label] = None if path is None else {"embedding": learned_part(path, p, fs)}
    for name in EXTERNAL_TABLES:
        starts[name] = {"embedding": ElementEmbedding.from_elementembeddings(name)}
    return starts


def scarce_transfer(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                    tasks=None, starts=None, experiment="scarce") -> pd.DataFrame:
    """CGCNN from every start of :func:`scarce_starts` on small perovskite sets.

    Castelli-3,334 (``e_form_per_atom``) and HOIP (``atomization_energy_per_atom``),
    80/10/10 splits, the seeds and CGCNN epochs of :func:`scarce_schedule` (cpu:
    5 seeds, 100 epochs) and the profile's stopping rule; every
    run keeps its epoch of lowest validation MAE. A start whose table is not
    stored yet gives a missing row. Rows add ``dataset``, ``start``, ``unit``.
    ``starts``: label -> ``train_one`` keywords (default :func:`scarce_starts`),
    stored under ``experiment`` (:func:`zoo_transfer` passes the reference tables).
    """
    p = _profile(profile)
    default_seeds, epochs = scarce_schedule(p)
    seeds = list(seeds) if seeds is not None else default_seeds
    if starts is None:
        starts = scarce_starts(p, device=device, force=force, train=train)
    rows = []
    for name, data_fn, target in (tasks or SCARCE_TASKS):
        ds, split = globals()[data_fn](p)
        for seed in seeds:
            for label, kw in starts.items():
                rec = None
                if kw is not None:
                    rec = train_one("cgcnn", [target], ds, split, profile=p, seed=seed,
                                    experiment=experiment, device=device, force=force,
                                    train=train, train_overrides={"epochs": epochs}, **kw)
                rows.append(_row(rec, target, table="scarce", column=label, model="cgcnn",
                                 init=label, dataset=name, start=label, target=target,
                                 unit=ds.units.get(target, ""), seed=seed,
                                 n_train=len(split["train"])))
    return pd.DataFrame(rows)


def zoo_transfer(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                 tables=None) -> pd.DataFrame:
    """The data-scarce transfer (:func:`scarce_transfer`: same sets, seeds, epochs and
    transfer rate) from the published reference tables of :mod:`ctlib.zoo` (default all),
    stored under ``zoo/``. Compare with the scarce step's starts on the same seeds."""
    from ctlib import zoo

    starts = {name: {"embedding": zoo.load(name)} for name in (tables or zoo.TABLES)}
    return scarce_transfer(profile, seeds, device=device, force=force, train=train,
                           starts=starts, experiment="zoo")


#: The published table the Matbench step adds to CGCNN's starts: chosen on the element tables'
#: chemistry (the reverse-prediction probe, no test split of any transfer task), before any
#: zoo transfer run was stored.
MATBENCH_REFERENCE = "TensorNet MatPES"


def matbench(profile="cpu", seeds=None, *, device="auto", force=False, train=None) -> pd.DataFrame:
    """CGCNN on Matbench's ``matbench_perovskites`` task, all of the profile's folds.

    The full Castelli set (18,928 cells, ``e_form`` in eV per cell), Matbench's own
    5 folds (:func:`matbench_data`: train on four, test on the fifth; a seeded tenth of
    the training folds for validation), from ``cgcnn92``, ``onehot``, the multi-task CT
    table (``CT mt``) and :data:`MATBENCH_REFERENCE`; training seed 0 on every fold (the
    fold is the replicate, as on the leaderboard), the data-scarce transfer's epochs and
    table learning rate. Rows add ``fold`` (also in ``seed``, so the rule pairs by fold),
    ``dataset`` ``"matbench-perovskites"``, ``start``, ``unit``.
    """
    from ctlib import zoo

    p = _profile(profile)
    _, epochs = scarce_schedule(p)
    mt = embedding_path(pretrain_ct_multitask(p, front_seed(p, 0), device=device, force=force, train=train))
    starts = {"cgcnn92": {}, "onehot": {"init": "onehot"}, "CT mt": None if mt is None else {"embedding": mt},
              MATBENCH_REFERENCE: {"embedding": zoo.load(MATBENCH_REFERENCE)}}
    folds = list(range(p.matbench_folds)) if seeds is None else [int(s) for s in seeds]
    rows = []
    for fold in folds:
        ds, split = matbench_data(p, fold)
        for label, kw in starts.items():
            rec = None
            if kw is not None:
                rec = train_one("cgcnn", ["e_form"], ds, split, profile=p, seed=0, experiment="matbench",
                                device=device, force=force, train=train,
                                train_overrides={"epochs": epochs}, **kw)
            rows.append(_row(rec, "e_form", table="matbench", column=label, model="cgcnn", init=label,
                             dataset="matbench-perovskites", start=label, target="e_form",
                             unit=ds.units.get("e_form", ""), seed=fold, fold=fold,
                             n_train=len(split["train"])))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ the second campaign
#: Experiment of the CT pretrainings on a fraction of the train split: stored apart, so that
#: they never stand in for the profile's CT table.
FRACTION_EXPERIMENT = "fronts_fraction"


def pretrain_ct_fraction(profile, fraction: float, seed: int = 0, *, device="auto", force=False,
                         train=None) -> dict | None:
    """The multi-task CT pretraining on the first ``fraction`` of the training split (the
    nested seeded permutation of :func:`model_split`: 25 % lies inside 50 %), with the same
    epochs, schedule and snapshots as :func:`pretrain_ct_multitask`; stored under
    :data:`FRACTION_EXPERIMENT`."""
    if not 0 < fraction < 1:
        raise ValueError(f"a pretraining fraction must lie in (0, 1), got {fraction}")
    p = _profile(profile)
    ds, split = mp_data(p)
    n = int(round(fraction * len(model_split(split, "ct", p, front=True)["train"])))
    return train_one("ct", list(TARGETS.values()), ds, model_split(split, "ct", p, front=True, n_train=n),
                     profile=p, seed=seed, experiment=FRACTION_EXPERIMENT, device=device, force=force,
                     train=train, snapshots=True, front=True)


def fraction_label(fraction: float) -> str:
    """The start label of a table pretrained on ``fraction`` of the train split."""
    return f"CT mt, {100 * fraction:.0f}% of the pretraining data"


def fraction_transfer(profile="cpu", seeds=None, *, device="auto", force=False, train=None) -> pd.DataFrame:
    """How the table's value grows with pretraining data: CGCNN on Castelli-3,334 (the
    data-scarce transfer's set, seeds and epochs) from the multi-task CT tables pretrained
    on each of ``extra["pretraining_fractions"]`` of the train split (a table not stored yet
    gives pending rows), stored under ``fraction/``. The full-split table's runs are the
    scarce step's ``CT mt``."""
    p = _profile(profile)
    starts = {}
    for f in p.extra.get("pretraining_fractions", ()):
        path = embedding_path(pretrain_ct_fraction(p, f, front_seed(p, 0), device=device, force=force,
                                                   train=train))
        starts[fraction_label(f)] = None if path is None else {"embedding": path}
    if not starts:
        return pd.DataFrame()
    return scarce_transfer(p, seeds, device=device, force=force, train=train, tasks=SCARCE_TASKS[:1],
                           starts=starts, experiment="fraction")


#: The table of the headline runs (CGCNN on the whole train split), as the claims name it.
HEADLINE_TABLE = "III (whole split)"


def headline(profile="cpu", seeds=None, *, device="auto", force=False, train=None) -> pd.DataFrame:
    """The headline at the paper's back-end size: CGCNN on the whole train split (44,441
    cells on cpu; full validation and test splits), from ``cgcnn92`` (``CGCNN``) and from
    the multi-task CT table pretrained with the back end's own seed (``CGCNN(mt)``: front
    seed = back seed, so the interval holds the pretraining's noise too), on E_f and E_g,
    for ``extra["headline_epochs"]`` epochs. Empty for a profile without that key. Rows as
    Table III's, ``table`` = :data:`HEADLINE_TABLE`, plus ``n_train`` and ``front_seed``."""
    p = _profile(profile)
    epochs = p.extra.get("headline_epochs")
    if not epochs:
        return pd.DataFrame()
    ds, split = mp_data(p)
    sp = model_split(split, "cgcnn", p, front=True)
    rows = []
    for seed in _seeds(p, seeds):
        mt = embedding_path(pretrain_ct_multitask(p, seed, device=device, force=force, train=train))
        for short, target in TARGETS.items():
            for column, kw in (("CGCNN", {}), ("CGCNN(mt)", None if mt is None else {"embedding": mt})):
                rec = None
                if kw is not None:
                    rec = train_one("cgcnn", [target], ds, sp, profile=p, seed=seed, experiment="headline",
                                    device=device, force=force, train=train,
                                    train_overrides={"epochs": int(epochs)}, **kw)
                rows.append(_row(rec, target, table=HEADLINE_TABLE, column=column, model="cgcnn",
                                 init="cgcnn92" if column == "CGCNN" else "ct mt embedding", target=short,
                                 seed=seed, front_seed=seed, n_train=len(sp["train"])))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ learning curve
def learning_curve(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                   sizes=None) -> pd.DataFrame:
    """CGCNN E_f from ``cgcnn92``, ``onehot`` and the multi-task CT table, against
    the number of back-end training cells (cpu: 500, 2,000, 4,000, 8,000; nested
    draws, the same validation and test splits). Rows add ``n_train``."""
    p = _profile(profile)
    ds, split = mp_data(p)
    sizes = list(sizes) if sizes is not None else list(p.extra.get("learning_curve", ()))
    target = TARGETS["E_f"]
    rows = []
    for seed in _seeds(p, seeds):
        mt = embedding_path(pretrain_ct_multitask(p, front_seed(p, seed), device=device, force=force,
                                                  train=train))
        starts = {"cgcnn92": {}, "onehot": {"init": "onehot"},
                  "CT mt": None if mt is None else {"embedding": mt}}
        for n in sizes:
            sp = model_split(split, "cgcnn", p, n_train=n)
            for label, kw in starts.items():
                rec = None
                if kw is not None:
                    rec = train_one("cgcnn", [target], ds, sp, profile=p, seed=seed,
                                    experiment="learning_curve", device=device, force=force,
                                    train=train, **kw)
                rows.append(_row(rec, target, table="learning_curve", column=label, model="cgcnn",
                                 init=label, target="E_f", seed=seed, n_train=n))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ Table V
def jarvis_path() -> Path | None:
    """A JARVIS-DFT ``dft_3d`` JSON if the user has one (``$CTLIB_DATA/jarvis/``)."""
    from ctlib.data import data_root

    for name in ("dft_3d.json", "dft_3d_2021.json", "jdft_3d-8-18-2021.json"):
        path = Path(data_root()) / "jarvis" / name
        if path.exists():
            return path
    return None


def table5(profile="quick", seeds=None, *, device="auto", force=False, train=None) -> pd.DataFrame:
    """Table V on JARVIS-DFT: CGCNN vs CT-C. Runs only where a ``dft_3d`` file exists;
    otherwise returns an empty frame (the page then explains why)."""
    path = jarvis_path()
    if path is None:
        return pd.DataFrame()
    from ctlib import data

    p = _profile(profile)
    full = data.load_jarvis_dft3d(path)
    rows = []
    for short, target in (("E_f", "formation_energy_peratom"), ("E_g", "optb88vdw_bandgap")):
        ok = np.flatnonzero(np.isfinite(full.targets[target]))
        sp = _sample_split(len(ok))
        rng = np.random.default_rng(SAMPLE_SEED)
        parts = {"train": ok[_sample(sp["train"], p.n_train, rng)], "val": ok[_sample(sp["val"], p.n_val, rng)],
                 "test": ok[_sample(sp["test"], p.n_test, rng)]}
        ds, split = _compact(full, parts)
        for seed in _seeds(p, seeds):
            emb = embedding_path(pretrain_front("ct", short, p, seed, device=device, force=force, train=train))
            for label, kw in (("CGCNN", {}), ("CT-C", {"embedding": emb})):
                rec = None  # without its CT run, CT-C is missing (never a plain CGCNN under its name)
                if "embedding" not in kw or emb is not None:
                    rec = train_one("cgcnn", [target], ds, split, profile=p, seed=seed,
                                    experiment="table5", device=device, force=force, train=train, **kw)
                rows.append(_row(rec, target, table="V", column=label, model="cgcnn", target=short, seed=seed))
    return pd.DataFrame(rows)
