"""The front ends: CT and GNN pretrainings (Method A/B), CT's multi-task and second-schedule
pretrainings, the multi-task pretrainings in fp32 (the pretraining seeds), the pretraining
on a fraction of the train split, the untrained CT table, a
table's learned part, the control starts, and each front's own test run (:func:`fronts`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ctlib.config import PROFILES
from ctlib.experiments.common import (MODEL_LETTER, TARGETS, _profile, _row, front_seed, front_seeds,
                                      model_config, model_split, mp_data, train_one)


# ------------------------------------------------------------------------ fronts
def pretrain_front(model: str, short: str, profile, seed: int, *, device="auto", force=False,
                   train=None, context=None) -> dict | None:
    """Pretrain a front end from the one-hot start (methods A/B) on one target.

    CT's one-hot start is its standard one, so CT's front end *is* its Table I run.
    """
    ds, split = mp_data(profile)
    return train_one(model, [TARGETS[short]], ds, model_split(split, model, profile, front=True),
                     profile=profile, seed=seed, experiment="fronts", init="onehot", device=device,
                     force=force, train=train, context=context, snapshots=True, front=True)


def pretrain_ct_multitask(profile, seed: int, *, device="auto", force=False, train=None, context=None) -> dict | None:
    """CT trained on E_f and E_g together (eq. 9, equal weights): the 'mt' embedding."""
    ds, split = mp_data(profile)
    return train_one("ct", list(TARGETS.values()), ds, model_split(split, "ct", profile, front=True),
                     profile=profile, seed=seed, experiment="fronts", device=device, force=force,
                     train=train, context=context, snapshots=True, front=True)


#: Experiment of the multi-task CT pretrainings in fp32 (:func:`pretrain_ct_fp32`).
FP32_EXPERIMENT = "fronts_fp32"
#: The training keys that make a pretraining of :func:`pretrain_ct_fp32` or
#: :func:`pretrain_ct_fraction` differ from :func:`pretrain_ct_multitask`'s: fp32.
FP32_OVERRIDES = {"precision": "fp32"}


def pretrain_ct_fp32(profile, seed: int, *, device="auto", force=False, train=None,
                     context=None) -> dict | None:
    """:func:`pretrain_ct_multitask` with the training forward in fp32: the pretraining seeds.

    Same data, model, epochs, schedule and snapshots; only ``precision`` differs
    (:data:`FP32_OVERRIDES`; a no-op for a profile that trains CT in fp32). The ``cpu``
    profile's table (seed 0) was pretrained in bf16 autocast on a CPU with native
    bfloat16; on one without it (the AMD EPYC with AVX2 that trains the second
    campaign) bf16 is emulated and CT trained at 0.04-0.20x fp32's speed
    (``benchmarks/precision.py --speed``), so the pretraining seeds 0, 1 and 2 are
    trained in fp32, all three, so that they differ in their seed alone. Stored under
    :data:`FP32_EXPERIMENT`: they never stand in for the profile's CT table
    (:data:`ctlib.lookup.RECIPE_VARIANTS`).
    """
    ds, split = mp_data(profile)
    return train_one("ct", list(TARGETS.values()), ds, model_split(split, "ct", profile, front=True),
                     profile=profile, seed=seed, experiment=FP32_EXPERIMENT, device=device, force=force,
                     train=train, context=context, train_overrides=dict(FP32_OVERRIDES),
                     snapshots=True, front=True)


#: Experiment of the multi-task CT pretraining under the profile's other schedule.
ALT_SCHEDULE_EXPERIMENT = "fronts_schedule"


def alt_schedule_text(profile) -> str:
    """The profile's ``ct_alt_schedule`` in words, e.g. ``"onecycle to lr 3e-4, 12 epochs"``."""
    alt = _profile(profile).recipe.ct_alt_schedule or {}
    lr = f"{alt['lr']:.0e}".replace("e-0", "e-") if "lr" in alt else "the profile's lr"
    epochs = f", {alt['epochs']} epochs" if "epochs" in alt else ""
    return f"{alt.get('scheduler', 'same schedule')} to lr {lr}{epochs}"


def pretrain_ct_alt_schedule(profile, seed: int, *, device="auto", force=False,
                             train=None, context=None) -> dict | None:
    """The multi-task CT pretraining again, under ``recipe.ct_alt_schedule``.

    Same data, model, seed and snapshots as :func:`pretrain_ct_multitask`; only
    the training keys of the profile's ``ct_alt_schedule`` (e.g. OneCycle to a
    higher peak learning rate, fewer epochs) differ. Stored under
    :data:`ALT_SCHEDULE_EXPERIMENT`, so it never stands in for the profile's CT
    table (the ``fronts`` run wins every lookup).

    Raises:
        ValueError: the profile defines no ``ct_alt_schedule``.
    """
    p = _profile(profile)
    alt = p.recipe.ct_alt_schedule
    if not alt:
        raise ValueError(f"profile {p.name!r} has no recipe.ct_alt_schedule; only "
                         f"{[n for n, q in PROFILES.items() if q.recipe.ct_alt_schedule]} do")
    ds, split = mp_data(p)
    return train_one("ct", list(TARGETS.values()), ds, model_split(split, "ct", p, front=True),
                     profile=p, seed=seed, experiment=ALT_SCHEDULE_EXPERIMENT, device=device,
                     force=force, train=train, context=context, train_overrides=dict(alt), snapshots=True, front=True)


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
    """The front models of a profile's Table II (``campaign.table2_fronts``, default all four)."""
    return tuple(_profile(profile).campaign.table2_fronts)



def fronts(profile="quick", seeds=None, *, device="auto", train=False, context=None) -> pd.DataFrame:
    """Every Table II front's own run (:func:`pretrain_front`, from one-hot on the whole
    train split, its front seeds): ``table`` = ``"fronts"``, ``column`` = the model's letter
    (``C``, ``M``, ``A``, ``CT``), ``target`` = ``E_f`` / ``E_g``. A claim that sets one
    front's table against another's shows each front's own test MAE beside it."""
    p = _profile(profile)
    rows = []
    for model in table2_fronts(p):
        for short, target in TARGETS.items():
            rows += [_row(pretrain_front(model, short, p, s, device=device, train=train, context=context), target,
                          table="fronts", column=MODEL_LETTER[model], model=model, init="onehot",
                          target=short, seed=s) for s in front_seeds(p, seeds)]
    return pd.DataFrame(rows)



# ------------------------------------------------------------------------ the second campaign
#: Experiment of the CT pretrainings on a fraction of the train split: stored apart, so that
#: they never stand in for the profile's CT table.
FRACTION_EXPERIMENT = "fronts_fraction"


def pretrain_ct_fraction(profile, fraction: float, seed: int = 0, *, device="auto", force=False,
                         train=None, context=None) -> dict | None:
    """The multi-task CT pretraining on the first ``fraction`` of the training split (the
    nested seeded permutation of :func:`model_split`: 25 % lies inside 50 %), with the same
    epochs, schedule, snapshots and precision (fp32) as :func:`pretrain_ct_fp32`, whose
    seed-0 table is the curve's full-data point; stored under :data:`FRACTION_EXPERIMENT`."""
    if not 0 < fraction < 1:
        raise ValueError(f"a pretraining fraction must lie in (0, 1), got {fraction}")
    p = _profile(profile)
    ds, split = mp_data(p)
    n = int(round(fraction * len(model_split(split, "ct", p, front=True)["train"])))
    return train_one("ct", list(TARGETS.values()), ds, model_split(split, "ct", p, front=True, n_train=n),
                     profile=p, seed=seed, experiment=FRACTION_EXPERIMENT, device=device, force=force,
                     train=train, context=context, train_overrides=dict(FP32_OVERRIDES),
                     snapshots=True, front=True)


def curve_pretrainings(profile, **kw) -> dict[float, dict | None]:
    """The CT pretrainings of the pretraining-data curve, front seed 0: fraction -> record
    (None: not stored), for each of ``sizes.pretraining_fractions`` (:func:`pretrain_ct_fraction`)
    and then 1.0, the whole split (:func:`pretrain_ct_fp32`, the same recipe). Empty for a
    profile without fractions. ``kw`` (``device``, ``force``, ``train``, ``context``) goes to
    each pretraining."""
    p = _profile(profile)
    fs = front_seed(p, 0)
    return {f: pretrain_ct_fp32(p, fs, **kw) if f == 1.0 else pretrain_ct_fraction(p, f, fs, **kw)
            for f in ((*p.sizes.pretraining_fractions, 1.0) if p.sizes.pretraining_fractions else ())}


def fraction_label(fraction: float) -> str:
    """The start label of a table pretrained on ``fraction`` of the train split (1.0: the
    whole split, :func:`pretrain_ct_fp32` seed 0)."""
    return f"CT mt, {100 * fraction:.0f}% of the pretraining data"
