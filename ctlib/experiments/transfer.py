"""Transfer beyond MP-2018: the perovskite sets (Castelli-3,334, HOIP, Matbench's folds), the
data-scarce transfer from every start, the embedding zoo's published tables, Matbench against
its leaderboard, the value of less pretraining data, and the back end's learning curve.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ctlib.experiments.common import (DEFAULT_INIT, MODEL_LETTER, SAMPLE_SEED, TARGETS, _compact, data_memo,
                                      _profile, _row, _sample, _sample_split, _seeds, embedding_path,
                                      front_seed, model_split, mp_data, train_one)
from ctlib.experiments.pretrain import (curve_pretrainings, fraction_label, learned_part, pretrain_ct_fp32,
                                      pretrain_ct_multitask, pretrain_front, control_starts)


# ------------------------------------------------------------------------ perovskites
def perovskite_data(profile) -> tuple:
    """3,334 (profile.perovskite_n) Castelli perovskites, seeded draw, 80/10/10.

    Adds ``e_form_per_atom`` = e_form / 5 (eV/atom), the unit of the paper's
    perovskite result; Matbench's ``e_form`` stays in eV per cell.
    """
    p = _profile(profile)

    def make():
        from ctlib import data

        ds = data.load("castelli_perovskites")
        rng = np.random.default_rng(SAMPLE_SEED)
        pick = _sample(np.arange(len(ds)), p.perovskite_n, rng)
        sub = ds.subset(pick)
        sub.targets["e_form_per_atom"] = sub.targets["e_form"] / sub.natoms
        sub.units["e_form_per_atom"] = "eV/atom"
        return sub, _sample_split(len(sub))
    return data_memo(("castelli_sample", p.perovskite_n), make)


def hoip_data(profile) -> tuple:
    """The HOIP set (Kim et al. 2017) with its registry split (seeded 80/10/10).
    On ``smoke`` a seeded sample of ``perovskite_n`` structures."""
    p = _profile(profile)

    def make():
        from ctlib import data

        ds = data.load("hoip")
        if p.tiny:
            ds = ds.subset(_sample(np.arange(len(ds)), p.perovskite_n, np.random.default_rng(SAMPLE_SEED)))
            return ds, _sample_split(len(ds))
        return ds, data.get_split(ds)
    return data_memo(("hoip", p.tiny, p.perovskite_n), make)


def matbench_data(profile, fold: int) -> tuple:
    """Full Castelli set on Matbench fold ``fold`` (test = that fold).

    ``profile.sizes.matbench_train_cap`` caps the training part (quick/smoke,
    stated on the page); the test fold is always complete except on smoke.
    """
    from ctlib import data

    p = _profile(profile)
    ds = data.load("castelli_perovskites")
    split = data.get_split(ds, scheme="matbench", fold=fold)
    cap = p.sizes.matbench_train_cap
    rng = np.random.default_rng(SAMPLE_SEED + fold)
    parts = {"train": _sample(split["train"], cap, rng), "val": _sample(split["val"], p.n_val, rng),
             "test": _sample(split["test"], p.n_test, rng)}
    return _compact(ds, parts)


def perovskites(profile="quick", seeds=None, *, device="auto", force=False, train=None, context=None) -> pd.DataFrame:
    """The perovskite application: CGCNN and MEGNet with and without the CT E_f
    embedding (pretrained on MP-2018), on 3,334 Castelli perovskites, on HOIP, and
    on Matbench's folds of the full Castelli set.

    A profile with ``campaign.perovskites_from_scarce`` (cpu) runs none of these
    itself: its rows are the ``cgcnn92`` (``C``) and ``CT E_f`` (``CT-C``) runs of
    :func:`scarce_transfer` (Castelli-3,334 formation energy, HOIP atomization
    energy, the scarce seeds), so one set of runs answers both pages and their
    verdicts agree.
    """
    p = _profile(profile)
    if p.campaign.perovskites_from_scarce:
        df = scarce_transfer(p, seeds, device=device, force=force, train=train, context=context)
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
                                            train=train, context=context))
        for name, (ds, split), target, models in tasks:
            for model in models:
                letter = MODEL_LETTER[model]
                for label, kw in ((letter, {}), (f"CT-{letter}", {"embedding": emb})):
                    rec = None
                    if "embedding" not in kw or emb is not None:
                        rec = train_one(model, [target], ds, split, profile=p, seed=seed,
                                        experiment="perovskites", device=device, force=force, train=train, context=context, **kw)
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


#: scarce-transfer start -> perovskite-page column, for ``campaign.perovskites_from_scarce``.
PEROVSKITE_FROM_SCARCE = {"cgcnn92": "C", "CT E_f": "CT-C"}


def scarce_schedule(profile) -> tuple[list[int], int]:
    """``(seeds, CGCNN epochs)`` of the data-scarce transfer: ``campaign.scarce_seeds``
    and ``recipe.scarce_epochs["cgcnn"]``, else the profile's seeds and epochs."""
    p = _profile(profile)
    return (list(p.campaign.scarce_seeds or p.seeds),
            int(p.recipe.scarce_epochs.get("cgcnn", p.epochs["cgcnn"])))


def scarce_starts(profile, *, device="auto", force=False, train=None, context=None) -> dict:
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
    mt = embedding_path(pretrain_ct_multitask(p, fs, device=device, force=force, train=train, context=context))
    ef = embedding_path(pretrain_front("ct", "E_f", p, fs, device=device, force=force, train=train, context=context))
    starts["CT mt"] = None if mt is None else {"embedding": mt}
    starts["CT E_f"] = None if ef is None else {"embedding": ef}
    for label, path in (("CT mt, learned part", mt), ("CT E_f, learned part", ef)):
        starts[label] = None if path is None else {"embedding": learned_part(path, p, fs)}
    for name in EXTERNAL_TABLES:
        starts[name] = {"embedding": ElementEmbedding.from_elementembeddings(name)}
    return starts


def scarce_transfer(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                    tasks=None, starts=None, experiment="scarce", context=None) -> pd.DataFrame:
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
        starts = scarce_starts(p, device=device, force=force, train=train, context=context)
    rows = []
    for name, data_fn, target in (tasks or SCARCE_TASKS):
        ds, split = globals()[data_fn](p)
        for seed in seeds:
            for label, kw in starts.items():
                rec = None
                if kw is not None:
                    rec = train_one("cgcnn", [target], ds, split, profile=p, seed=seed,
                                    experiment=experiment, device=device, force=force,
                                    train=train, context=context, train_overrides={"epochs": epochs}, **kw)
                rows.append(_row(rec, target, table="scarce", column=label, model="cgcnn",
                                 init=label, dataset=name, start=label, target=target,
                                 unit=ds.units.get(target, ""), seed=seed,
                                 n_train=len(split["train"])))
    return pd.DataFrame(rows)


#: The data-scarce start of :func:`matched_scarce`: the multi-task CT table of the back end's
#: seed (the fp32 pretraining seeds of :func:`ctlib.experiments.pretrain_ct_fp32`).
MATCHED_START = "CT mt (fp32), front seed = back seed"


def matched_scarce(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                   context=None) -> pd.DataFrame:
    """The data-scarce transfer (:func:`scarce_transfer`: Castelli-3,334 and HOIP, same
    epochs and transfer rate) from ``cgcnn92`` and from the multi-task CT table pretrained
    with the back end's own seed (:data:`MATCHED_START`), on the profile's seeds (cpu: 0-2,
    the pretraining seeds there are; the scarce step's seeds 3 and 4 have none).

    For a profile whose one front seed feeds every back-end seed (cpu); empty for the others.
    The ``cgcnn92`` runs are the scarce step's (same configs, stored once).
    """
    p = _profile(profile)
    if p.campaign.front_seed is None:
        return pd.DataFrame()
    frames = []
    for seed in _seeds(p, seeds):
        mt = embedding_path(pretrain_ct_fp32(p, seed, device=device, force=force, train=train, context=context))
        starts = {"cgcnn92": {}, MATCHED_START: None if mt is None else {"embedding": mt}}
        frames.append(scarce_transfer(p, [seed], device=device, force=force, train=train, context=context,
                                      starts=starts))
    return pd.concat(frames, ignore_index=True)


def zoo_transfer(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                 tables=None, context=None) -> pd.DataFrame:
    """The data-scarce transfer (:func:`scarce_transfer`: same sets, seeds, epochs and
    transfer rate) from the published reference tables of :mod:`ctlib.zoo` (default all),
    stored under ``zoo/``. Compare with the scarce step's starts on the same seeds."""
    from ctlib import zoo

    starts = {name: {"embedding": zoo.load(name)} for name in (tables or zoo.TABLES)}
    return scarce_transfer(profile, seeds, device=device, force=force, train=train, context=context,
                           starts=starts, experiment="zoo")


#: The published table the Matbench step adds to CGCNN's starts: chosen on the element tables'
#: chemistry (the reverse-prediction probe, no test split of any transfer task), before any
#: zoo transfer run was stored.
MATBENCH_REFERENCE = "TensorNet MatPES"


def matbench(profile="cpu", seeds=None, *, device="auto", force=False, train=None, context=None) -> pd.DataFrame:
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
    mt = embedding_path(pretrain_ct_multitask(p, front_seed(p, 0), device=device, force=force, train=train, context=context))
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
                                device=device, force=force, train=train, context=context,
                                train_overrides={"epochs": epochs}, **kw)
            rows.append(_row(rec, "e_form", table="matbench", column=label, model="cgcnn", init=label,
                             dataset="matbench-perovskites", start=label, target="e_form",
                             unit=ds.units.get("e_form", ""), seed=fold, fold=fold,
                             n_train=len(split["train"])))
    return pd.DataFrame(rows)



def fraction_transfer(profile="cpu", seeds=None, *, device="auto", force=False, train=None, context=None) -> pd.DataFrame:
    """How the table's value grows with pretraining data: CGCNN on Castelli-3,334 (the
    data-scarce transfer's set, seeds and epochs) from the multi-task CT tables pretrained
    on each of ``sizes.pretraining_fractions`` of the train split, and from the whole split's
    (``fraction_label(1.0)``: :func:`pretrain_ct_fp32` seed 0, the same recipe in fp32; a
    table not stored yet gives pending rows), stored under ``fraction/``."""
    p = _profile(profile)
    if not p.sizes.pretraining_fractions:
        return pd.DataFrame()
    starts = {}
    for f, rec in curve_pretrainings(p, device=device, force=force, train=train, context=context).items():
        path = embedding_path(rec)
        starts[fraction_label(f)] = None if path is None else {"embedding": path}
    return scarce_transfer(p, seeds, device=device, force=force, train=train, context=context, tasks=SCARCE_TASKS[:1],
                           starts=starts, experiment="fraction")


# ------------------------------------------------------------------------ learning curve
#: The published tables of the learning curve (:func:`learning_curve`'s ``tables``): the two
#: zoo tables with the highest reverse-prediction R² (chapter 13: the chemistry probe, which
#: reads no test split of any transfer task) among the models not trained on our MP-2018
#: test labels: ORB-v2's last-layer features (mean R² 0.58) and CHGNet 0.3.0's input
#: table (0.55), chosen before any of their learning-curve runs was trained. Both models
#: trained on MPtrj, which holds most of our test materials with DFT total energies
#: (``ctlib.zoo.SAW_ENERGIES``); chapter 12 says so beside the curve.
LEARNING_CURVE_TABLES = ("ORB-v2 (last layer)", "CHGNet 0.3.0")


def learning_curve(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                   sizes=None, tables=(), context=None) -> pd.DataFrame:
    """CGCNN E_f from ``cgcnn92``, ``onehot`` and the multi-task CT table, and from the
    published ``tables`` of :mod:`ctlib.zoo` (e.g. :data:`LEARNING_CURVE_TABLES`; default
    none), against the number of back-end training cells (cpu: 500, 2,000, 4,000, 8,000;
    nested draws, the same validation and test splits). Rows add ``n_train``."""
    from ctlib import zoo

    p = _profile(profile)
    ds, split = mp_data(p)
    sizes = list(sizes) if sizes is not None else list(p.sizes.learning_curve)
    target = TARGETS["E_f"]
    rows = []
    for seed in _seeds(p, seeds):
        mt = embedding_path(pretrain_ct_multitask(p, front_seed(p, seed), device=device, force=force,
                                                  train=train, context=context))
        starts = {"cgcnn92": {}, "onehot": {"init": "onehot"},
                  "CT mt": None if mt is None else {"embedding": mt},
                  **{name: {"embedding": zoo.load(name)} for name in tables}}
        for n in sizes:
            sp = model_split(split, "cgcnn", p, n_train=n)
            for label, kw in starts.items():
                rec = None
                if kw is not None:
                    rec = train_one("cgcnn", [target], ds, sp, profile=p, seed=seed,
                                    experiment="learning_curve", device=device, force=force,
                                    train=train, context=context, **kw)
                rows.append(_row(rec, target, table="learning_curve", column=label, model="cgcnn",
                                 init=label, target="E_f", seed=seed, n_train=n))
    return pd.DataFrame(rows)
