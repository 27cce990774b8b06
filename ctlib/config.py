"""Configuration: the profiles, where every number behind a profile lives and
nowhere else, and :class:`TrainConfig`, the settings of one training run.

A notebook names its profile (``smoke``, ``quick``, ``cpu`` or ``paper``) and
nothing else; experiments read the sizes, epochs and seeds from :func:`get_profile`.

* ``smoke``  — a few dozen real structures per split, tiny widths, 1-2 epochs:
  the test suite runs the whole notebook set on it in minutes.
* ``quick``  — 1,500 training structures (ALIGNN 800), the full test split
  (ALIGNN 1,000 of it), the paper's architectures (ALIGNN narrower), 3-6
  epochs: ``make book`` and CI on 2 CPU cores.
* ``cpu``    — the book's default: the largest runs two CPU cores finish in
  32 hours (tiers 1-4 below: 11.8, 2.1, 15.1 and 3.1 h; planned 20: the CT
  pretrainings took about 1.5 times their plan, sharing the cores with
  foreground work, and tier 3 ran on CPUs 2.5 times slower than the one the
  plan was measured on; ``ctlib campaign --status`` gives the hours spent
  and left), trained by ``ctlib
  campaign --profile cpu`` in priority order, resumably, and committed under
  ``results/cpu``. Planned CPU-hours (2 cores, bf16 CT at ~130 structures/s,
  CGCNN at ~1,000/s on MP-2018 cells; ``ctlib.campaign.plan`` holds them):

  1. CT pretraining on the full MP-2018 train split (44,441 cells), seed 0:
     multi-task E_f + E_g for 30 epochs (~3 h), E_f and E_g for 20 epochs each
     (~2 h each), cosine-decayed AdamW 1e-4, element-table snapshots at the
     epochs of ``recipe.snapshot_epochs``. About 7 CPU-hours. Then the
     multi-task pretraining once more under another schedule
     (``recipe.ct_alt_schedule``: OneCycle, warm-up to a peak of 3e-4, 12
     epochs; ~1.2 h), to measure whether the schedule, not only the length,
     decides how much chemistry the table learns. A probe before the campaign
     (3e-4 cosine over 12 epochs; not stored in results/) reached a mean
     reverse-prediction R² of 0.38 by epoch 8; the stored 1e-4 cosine run had
     0.26 at epoch 8 and 0.31 at epoch 20 (chapter 11's forest probe).
     Why 1e-4 and not quick's 3e-4: quick reaches 3e-4 after a OneCycle
     warm-up; a cosine schedule starts there, and CT then stayed at the mean
     predictor (first cpu run: validation E_f MAE 0.47 -> 0.97 eV/atom over
     epochs 1-2). ``tools/ct_lr_probe.py`` (6,000 train cells, 3 epochs,
     validation only): 3e-4 ends at training loss 2.05, E_f MAE 1.01; 2e-4 at
     1.07 / 0.47 once its cosine fell to 1.5e-4; 1e-4 at 1.07 / 0.47 and
     learns from epoch 1 (1.86 / 0.56); 5e-5 at 1.08 / 0.47.
  2. Data-scarce transfer: CGCNN from 13 starts (cgcnn92, one-hot, random,
     untrained CT, CT multi-task, CT E_f, the learned parts of those two
     tables, and five ``elementembeddings`` tables) on Castelli-3,334 and
     HOIP, 5 seeds: 130 small runs, about 1.8 h with two single-core campaign
     workers (a Castelli run takes ~85 s on one core; one 2-thread process
     would take about 3 h). The 110 runs of the first 11 starts took 1.88 h;
     the learned parts (``ctlib.experiments.learned_part``: a pretrained table
     minus its untrained start) were added after them.
     The perovskite page (chapter 06) reads its ``cgcnn92`` and ``CT E_f``
     runs (``campaign.perovskites_from_scarce``); its MEGNet, HOIP-gap and
     Matbench runs are not part of this profile (Matbench is a later tier).
  3. Tables III, II and IV with a CGCNN back end trained on 4,000 cells of the
     train split (``sizes.n_backend``; full validation and test splits),
     3 seeds, every table with the random and untrained-CT controls: 66
     back ends of about 6 minutes (6.5 h), plus C and M fronts pretrained on
     the full train split (30 and 20 epochs, about 2 h).
  4. The learning curve, CGCNN E_f at 500 / 2,000 / 4,000 / 8,000 cells from
     cgcnn92, one-hot and CT multi-task, 3 seeds: 27 new runs (the 4,000-cell
     ones are Table II's), about 2.7 h, shared by two single-core workers.

  Table I (four models trained on the whole train split, 3 seeds each) does not
  fit the budget. The cpu profile's Table I is therefore CT alone
  (``campaign.table1_models``), and its run is the tier-1 single-task
  pretraining on the full train split (1 seed); its claims against CGCNN,
  MEGNet and ALIGNN are "not run on this profile". The CGCNN baseline of the
  later tables is the 4,000-cell back end, not a Table I column.

  Why 4,000 back-end cells: the paper argues that the embeddings matter most
  where data are scarce; 4,000 (9 % of the train split) keeps a CGCNN back end
  near 6 minutes on 2 cores, so 3 seeds of every variant fit the budget.

  No early stopping (``patience=None``): every cpu run trains its whole
  OneCycle schedule and keeps the epoch of lowest validation MAE, and back ends
  on MP-2018 train 60 epochs instead of 100. Both choices rest on the stopping
  probe (``tools/stop_probe.py``, validation split only), whose records are in
  ``results/cpu/analysis/stop_probe/``; :func:`ctlib.notes.stop_probe_note`
  states what they show on the methods page. The small perovskite sets of
  tier 2 train 100 epochs (``recipe.scarce_epochs``), about 1.5 minutes a run.
* ``paper``  — full MP-2018 subset, paper training lengths, 3 seeds: a GPU,
  resumable, results committed under ``results/paper``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ctlib.utils import StrictConfig

MODELS = ("cgcnn", "megnet", "alignn", "ct")


# ============================================================== profile sections
#: The base training recipe of every model (:func:`base_recipe`): ``paper`` is the authors'
#: (CT: SGD, momentum 0.9, weight decay 1e-3, StepLR; single task lr 1e-4 with StepLR(10,
#: 0.96), multi-task lr 6e-3 with StepLR(20, 0.5); MEGNet Adam 1e-3; ALIGNN AdamW 1e-3 /
#: 1e-5 with OneCycle; CGCNN AdamW 1e-3 with a cosine schedule). ``short`` is for runs of a
#: handful to a few dozen epochs, where SGD at 1e-4 would barely move: AdamW 1e-3 with a
#: OneCycle schedule for every model (a stated deviation), CT on augmented frames.
RECIPES = ("paper", "short")


def base_recipe(recipe: str, model: str, n_tasks: int = 1) -> dict:
    """The train-config keys of ``recipe`` (:data:`RECIPES`) for one model.

    Args:
        recipe: ``"paper"`` or ``"short"``.
        model: one of :data:`MODELS`.
        n_tasks: targets trained together (the paper's CT recipe differs for multi-task).

    Returns:
        a dict of :class:`TrainConfig` keys (optimizer, lr, schedule, ...).
    """
    if recipe == "short":
        return dict(optimizer="adamw", lr=1e-3, weight_decay=1e-5, scheduler="onecycle",
                    augment=model == "ct")
    if recipe != "paper":
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {RECIPES}")
    if model == "ct":
        multi = n_tasks > 1
        return dict(optimizer="sgd", momentum=0.9, weight_decay=1e-3, scheduler="step",
                    lr=6e-3 if multi else 1e-4, step_size=20 if multi else 10,
                    gamma=0.5 if multi else 0.96, augment=True)
    if model == "alignn":
        return dict(optimizer="adamw", lr=1e-3, weight_decay=1e-5, scheduler="onecycle")
    if model == "megnet":
        return dict(optimizer="adam", lr=1e-3, weight_decay=0.0, scheduler="none")
    return dict(optimizer="adamw", lr=1e-3, weight_decay=1e-5, scheduler="cosine")


def _models_only(section: str, key: str, value) -> None:
    bad = [m for m in value if m not in MODELS]
    if bad:
        raise ValueError(f"{section}.{key}: unknown model(s) {bad}; models are {MODELS}")


@dataclass(frozen=True)
class Recipe:
    """How a profile trains its models: a base recipe, then the profile's departures.

    Attributes:
        base: ``"paper"`` or ``"short"`` (:func:`base_recipe`).
        model: model -> model-config keys (quick and cpu run ALIGNN at hidden 64 instead of
            256, ~10x faster on CPU, and CT with positions in nm, ``coord_scale=0.1``).
        train: model -> train-config keys after the base recipe (quick CT: lr 3e-4 and at
            most 2,048 padded atoms per batch; chosen on validation MAE, never on test).
        multitask_epochs: model -> epochs of its multi-task run, when they differ.
        front_epochs: model -> epochs of a pretraining (front) run on the full train split.
        scarce_epochs: model -> epochs of the data-scarce transfer runs.
        headline_epochs: epochs of the whole-split headline back ends (None: the profile's).
        ct_alt_schedule: train-config keys of a second multi-task CT pretraining under
            another schedule, stored under ``fronts_schedule`` (None: no such run).
        snapshot_epochs: epochs at which pretraining runs keep a copy of their element table.
        embedding_lr: learning rate of a transferred table (the authors': 1e-5).
    """

    base: str = "short"
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    multitask_epochs: dict = field(default_factory=dict)
    front_epochs: dict = field(default_factory=dict)
    scarce_epochs: dict = field(default_factory=dict)
    headline_epochs: int | None = None
    ct_alt_schedule: dict | None = None
    snapshot_epochs: tuple[int, ...] | None = None
    embedding_lr: float = 1e-5

    def __post_init__(self):
        if self.base not in RECIPES:
            raise ValueError(f"Recipe.base: {self.base!r} is not one of {RECIPES}")
        for key in ("model", "train", "multitask_epochs", "front_epochs", "scarce_epochs"):
            _models_only("Recipe", key, getattr(self, key))


@dataclass(frozen=True)
class Sizes:
    """The sizes of a profile beyond its split sizes (:class:`Profile` ``n_train``...).

    Attributes:
        max_atoms: drop cells with more atoms before sampling (smoke only).
        matbench_train_cap: cap on the Matbench training structures of one fold.
        n_backend: training cells of a back end (cpu: 4,000 of the train split; None: all).
        learning_curve: the back-end sizes of the learning curve.
        pretraining_fractions: shares of the train split for CT pretrained on less data.
        probe_trees: trees of the forest that measures a table's chemistry (chapters 03 and
            11; None: :data:`ctlib.analysis.pretraining.chemistry.PROBE_TREES`).
    """

    max_atoms: int | None = None
    matbench_train_cap: int | None = None
    n_backend: int | None = None
    learning_curve: tuple[int, ...] = ()
    pretraining_fractions: tuple[float, ...] = ()
    probe_trees: int | None = None

    def __post_init__(self):
        for key in ("max_atoms", "matbench_train_cap", "n_backend", "probe_trees"):
            v = getattr(self, key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"Sizes.{key}: expected a positive int or None, got {v!r}")
        if not all(0 < f < 1 for f in self.pretraining_fractions):
            raise ValueError(f"Sizes.pretraining_fractions: shares in (0, 1), got {self.pretraining_fractions}")


@dataclass(frozen=True)
class CampaignPlan:
    """What a profile's campaign trains (:func:`ctlib.campaign.plan` holds the steps).

    Attributes:
        only: notebooks read this profile's runs and never train them (cpu: runs come from
            ``ctlib campaign``; a missing run shows as pending).
        last_tier: the campaign's last tier (4: the first campaign; 11: the second's too).
        front_seed: one pretraining seed that feeds every back-end seed (None: one front
            per seed; pretraining on the full split is the costly part).
        scarce_seeds: seeds of the data-scarce transfer (None: the profile's seeds).
        table1_models: the models of Table I (None: all four).
        table2_fronts: the fronts of Table II.
        table2_backs: the back ends of Table II.
        table2_plain_starts: back end -> the plain starts it trains (default: all).
        perovskites_from_scarce: the perovskite page reads the CGCNN runs of the data-scarce
            transfer instead of training its own.
    """

    only: bool = False
    last_tier: int = 4
    front_seed: int | None = None
    scarce_seeds: tuple[int, ...] | None = None
    table1_models: tuple[str, ...] | None = None
    table2_fronts: tuple[str, ...] = MODELS
    table2_backs: tuple[str, ...] = ("cgcnn", "megnet", "alignn")
    table2_plain_starts: dict = field(default_factory=dict)
    perovskites_from_scarce: bool = False

    def __post_init__(self):
        if self.last_tier not in range(1, 12):
            raise ValueError(f"CampaignPlan.last_tier: a tier 1-11, got {self.last_tier!r}")
        for key in ("table1_models", "table2_fronts", "table2_backs", "table2_plain_starts"):
            _models_only("CampaignPlan", key, getattr(self, key) or ())


@dataclass(frozen=True)
class Profile:
    """Sizes and schedules of one profile.

    Attributes:
        name: profile name.
        n_train / n_val / n_test: structures drawn (seeded, fixed across runs)
            from each standard split; ``None`` means the whole split.
        n_train_model: per-model cap on n_train (slow models train on fewer).
        n_test_model: per-model cap on the test structures (ALIGNN on quick:
            its CPU inference on all 3,126 test cells costs minutes per run).
        epochs: per-model maximum number of epochs.
        patience: early-stopping patience in epochs (on validation MAE); None
            trains the whole schedule (every run keeps its best validation epoch).
        batch_size: per-model batch size.
        seeds: training seeds.
        tiny: shrink widths and depths (smoke only), so a forward pass is cheap.
        perovskite_n: structures sampled from the Castelli set for the
            data-scarce perovskite experiment (the paper's 3,334).
        matbench_folds: how many Matbench folds of the full Castelli set to run.
        rp_repeats: seeds of repeated 5-fold CV in reverse prediction.
        catboost_iterations: CatBoost trees in reverse prediction.
        recipe: how the models train (:class:`Recipe`).
        sizes: the other sizes (:class:`Sizes`).
        campaign: what the campaign trains (:class:`CampaignPlan`).

    A key that a section does not have fails when ``config`` is imported, with the
    key's name (``TypeError: ... unexpected keyword argument 'n_bakend'``); a train key
    that :class:`TrainConfig` lacks fails there too (:func:`_check_profiles`).
    """

    name: str
    n_train: int | None
    n_val: int | None
    n_test: int | None
    n_train_model: dict[str, int | None]
    n_test_model: dict[str, int | None]
    epochs: dict[str, int]
    patience: int | None
    batch_size: dict[str, int]
    seeds: tuple[int, ...]
    tiny: bool
    perovskite_n: int
    matbench_folds: int
    rp_repeats: int
    catboost_iterations: int
    recipe: Recipe = field(default_factory=Recipe)
    sizes: Sizes = field(default_factory=Sizes)
    campaign: CampaignPlan = field(default_factory=CampaignPlan)

    def replace(self, **kw) -> "Profile":
        """A copy with some fields overridden (unknown names raise TypeError)."""
        return dataclasses.replace(self, **kw)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", n_train=48, n_val=16, n_test=32,
        n_train_model={m: None for m in MODELS},
        n_test_model={m: None for m in MODELS},
        epochs={"cgcnn": 2, "megnet": 2, "alignn": 1, "ct": 2},
        patience=5,
        batch_size={"cgcnn": 16, "megnet": 16, "alignn": 16, "ct": 16},
        seeds=(0,), tiny=True, perovskite_n=64, matbench_folds=1,
        rp_repeats=1, catboost_iterations=50,
        recipe=Recipe(model={"ct": {"coord_scale": 0.1}}, train={"ct": {"max_tokens": 256}},
                      ct_alt_schedule={"scheduler": "onecycle", "lr": 3e-4, "epochs": 2}),
        sizes=Sizes(max_atoms=40, matbench_train_cap=64, learning_curve=(16, 32), probe_trees=10),
    ),
    "quick": Profile(
        name="quick", n_train=1500, n_val=250, n_test=None,
        n_train_model={"cgcnn": None, "megnet": None, "alignn": 800, "ct": None},
        n_test_model={"cgcnn": None, "megnet": None, "alignn": 1000, "ct": None},
        epochs={"cgcnn": 5, "megnet": 4, "alignn": 3, "ct": 6},
        patience=1000,
        batch_size={"cgcnn": 64, "megnet": 64, "alignn": 32, "ct": 64},
        seeds=(0,), tiny=False, perovskite_n=3334, matbench_folds=1,
        rp_repeats=2, catboost_iterations=100,
        recipe=Recipe(model={"alignn": {"hidden": 64}, "ct": {"coord_scale": 0.1}},
                      train={"ct": {"lr": 3e-4, "max_tokens": 2048}}),
        sizes=Sizes(matbench_train_cap=1500),
    ),
    "cpu": Profile(
        name="cpu", n_train=None, n_val=None, n_test=None,
        n_train_model={m: None for m in MODELS},
        n_test_model={m: None for m in MODELS},
        epochs={"cgcnn": 60, "megnet": 60, "alignn": 30, "ct": 20},
        patience=None,
        batch_size={"cgcnn": 64, "megnet": 64, "alignn": 32, "ct": 64},
        seeds=(0, 1, 2), tiny=False, perovskite_n=3334, matbench_folds=5,
        rp_repeats=5, catboost_iterations=300,
        recipe=Recipe(
            model={"alignn": {"hidden": 64}, "ct": {"coord_scale": 0.1}},
            train={"ct": {"lr": 1e-4, "max_tokens": 2048, "scheduler": "cosine",
                          "patience": None, "precision": "bf16"}},
            multitask_epochs={"ct": 30}, front_epochs={"cgcnn": 30, "megnet": 20},
            scarce_epochs={"cgcnn": 100},
            # the headline on the whole train split for the CGCNN front's 30 epochs (its
            # validation MAE flat over the last 3)
            headline_epochs=30,
            ct_alt_schedule={"scheduler": "onecycle", "lr": 3e-4, "epochs": 12},
            snapshot_epochs=(0, 1, 2, 3, 4, 6, 8, 10, 12, 15, 20, 25, 30)),
        sizes=Sizes(n_backend=4000, learning_curve=(500, 2000, 4000, 8000),
                    pretraining_fractions=(0.25, 0.5)),
        # the second campaign (ctlib.campaign.plan tiers 5-11): MEGNet back ends for the CT-M
        # claims from MEGNet's default start only; CT pretrained on a quarter and a half of
        # the train split
        campaign=CampaignPlan(
            only=True, last_tier=11, front_seed=0, scarce_seeds=(0, 1, 2, 3, 4),
            table1_models=("ct",), table2_fronts=("cgcnn", "megnet", "ct"),
            table2_backs=("cgcnn", "megnet"), table2_plain_starts={"megnet": ("default",)},
            perovskites_from_scarce=True),
    ),
    "paper": Profile(
        name="paper", n_train=None, n_val=None, n_test=None,
        n_train_model={m: None for m in MODELS},
        n_test_model={m: None for m in MODELS},
        epochs={"cgcnn": 300, "megnet": 300, "alignn": 300, "ct": 500},
        patience=50,
        batch_size={"cgcnn": 128, "megnet": 128, "alignn": 64, "ct": 128},
        seeds=(0, 1, 2), tiny=False, perovskite_n=3334, matbench_folds=5,
        rp_repeats=10, catboost_iterations=1000,
        recipe=Recipe(base="paper"),
    ),
}

# The cpu campaign's plan (tiers 1-11, one front seed, the fp32 pretraining seeds, the headline
# on the whole split, CT on less data) at smoke's sizes, 3 seeds: a dry run of the campaign and
# of the book it feeds, in minutes (`ctlib campaign --profile rehearsal`, then `make book
# PROFILE=rehearsal`), before a long tier's runs start. Like cpu's, its pages only read the runs.
PROFILES["rehearsal"] = PROFILES["smoke"].replace(
    name="rehearsal", seeds=(0, 1, 2),
    recipe=dataclasses.replace(PROFILES["smoke"].recipe, headline_epochs=1, multitask_epochs={"ct": 2},
                               front_epochs={"cgcnn": 2, "megnet": 2}, scarce_epochs={"cgcnn": 2}),
    sizes=dataclasses.replace(PROFILES["smoke"].sizes, pretraining_fractions=(0.25, 0.5)),
    campaign=dataclasses.replace(PROFILES["cpu"].campaign, scarce_seeds=(0, 1)))


def get_profile(name: str) -> Profile:
    """Return the named profile, with a clear error for an unknown name."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None


# ====================================================== training settings
_OPTIMIZERS = ("adamw", "adam", "sgd")
_SCHEDULERS = ("none", "step", "cosine", "onecycle")
_LOSSES = ("mse", "mae")
_DEVICES = ("auto", "cpu", "cuda")
_PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainConfig(StrictConfig):
    """Training settings. Build with :meth:`from_dict` (strict) or directly.

    Attributes:
        optimizer: ``"adamw"`` | ``"adam"`` | ``"sgd"``.
        lr: learning rate (peak lr for ``onecycle``).
        weight_decay: L2 / decoupled weight decay.
        momentum: SGD momentum (ignored by Adam/AdamW).
        embedding_lr: learning rate of the atom-embedding table
            (``model.atom_embedding``); ``None`` = same as ``lr``. E.g. 1e-5
            fine-tunes a transferred embedding slowly.
        scheduler: ``"none"`` | ``"step"`` (StepLR(step_size, gamma), per
            epoch) | ``"cosine"`` (to 0 over ``epochs``) | ``"onecycle"`` (per batch).
        step_size, gamma: StepLR parameters.
        epochs: maximum number of epochs.
        batch_size: structures per batch.
        loss: ``"mse"`` | ``"mae"``, on targets standardised with the mean and
            std of the training split.
        clip_grad: max gradient norm, or ``None`` for no clipping.
        patience: stop after this many epochs without a lower mean validation
            MAE (mean over tasks, original units); ``None`` = never stop early.
        seed: seed of shuffling, augmentation and dropout.
        device: ``"auto"`` (cuda when available) | ``"cpu"`` | ``"cuda"``.
        num_threads: CPU threads for torch; ``None`` = all cores.
        augment: random rotation/reflection/lattice translation of CT inputs
            (paper eqs. 10-12); only for ``input_kind == "ct"``.
        task_weights: ``None`` (tasks summed with equal weights, as the
            paper), a list of K weights, or ``"uncertainty"`` (the model's
            learned ``task_loss_weights``).
        log_every: print a one-line summary every N epochs (0 = never).
        max_tokens: CT only; cap on padded atoms (batch x longest cell) per
            batch, so large cells come in smaller batches (``None`` = plain
            ``batch_size`` batches).
        precision: ``"fp32"`` or ``"bf16"`` (autocast of the training forward
            pass to bfloat16, on CPU or CUDA; the loss, the optimizer and every
            evaluation stay fp32, where PyTorch's fused inference path of the
            transformer encoder runs and does not take autocast).
    """

    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    embedding_lr: float | None = None
    scheduler: str = "none"
    step_size: int = 10
    gamma: float = 0.5
    epochs: int = 100
    batch_size: int = 64
    loss: str = "mse"
    clip_grad: float | None = None
    patience: int | None = None
    seed: int = 0
    device: str = "auto"
    num_threads: int | None = None
    augment: bool = False
    task_weights: list[float] | str | None = None
    log_every: int = 0
    max_tokens: int | None = None
    precision: str = "fp32"

    #: fields that do not change the trained result; left out of config hashes.
    RUNTIME_FIELDS = ("device", "num_threads", "log_every")

    def hash_dict(self) -> dict:
        """:meth:`to_dict` without the runtime-only fields (device, threads, logging)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.RUNTIME_FIELDS}

    def validate(self) -> None:
        """Check every value; raises ``ValueError`` naming the field."""
        self._choice("optimizer", _OPTIMIZERS)
        self._choice("scheduler", _SCHEDULERS)
        self._choice("loss", _LOSSES)
        self._choice("device", _DEVICES)
        self._choice("precision", _PRECISIONS)
        self._number("lr", "gamma", positive=True)
        self._number("weight_decay", "momentum", lo=0)
        self._number("embedding_lr", lo=0, allow_none=True)
        self._number("clip_grad", positive=True, allow_none=True)
        self._int("step_size", "epochs", "batch_size")
        self._int("patience", "num_threads", "max_tokens", allow_none=True)
        self._int("seed", "log_every", lo=0)
        self._bool("augment")
        tw = self.task_weights
        if tw is not None and tw != "uncertainty":
            if isinstance(tw, str) or not isinstance(tw, (list, tuple)) or not tw or not all(
                    isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in tw):
                raise ValueError(f"TrainConfig.task_weights must be null, 'uncertainty' or a "
                                 f"list of non-negative numbers (one per target), got {tw!r}")
            self.task_weights = [float(w) for w in tw]


def _check_profiles() -> None:
    """Every train key of every profile's recipe is a :class:`TrainConfig` field (run at import)."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    for p in PROFILES.values():
        alt = p.recipe.ct_alt_schedule or {}
        for where, keys in [*((f"recipe.train[{m!r}]", kv) for m, kv in p.recipe.train.items()),
                            ("recipe.ct_alt_schedule", alt)]:
            bad = sorted(set(keys) - known)
            if bad:
                raise ValueError(f"profile {p.name!r}: {where} has unknown train-config key(s) {bad}; "
                                 f"TrainConfig has {sorted(known)}")


_check_profiles()
