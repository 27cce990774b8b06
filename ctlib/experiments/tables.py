"""Tables I-V of the paper on MP-2018 (and JARVIS when the user has it), Table IV's variants,
and the headline again with the back end on the whole train split.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib.experiments.common import (DEFAULT_INIT, MODEL_LETTER, SAMPLE_SEED, TARGETS, UNITS, _compact,
                                      _profile, _row, _sample, _sample_split, _seeds, embedding_path,
                                      front_seed, front_seeds, model_split, mp_data, train_one)
from ctlib.experiments.pretrain import (control_starts, pretrain_ct_fp32, pretrain_ct_multitask,
                                      pretrain_front, table2_fronts)


# ------------------------------------------------------------------------ Table I
def table1(profile="quick", seeds=None, *, device="auto", force=False, train=None,
           models=None, context=None) -> pd.DataFrame:
    """Table I: each model on MP-2018 E_f and E_g with its own standard start.

    ``models`` defaults to the profile's ``campaign.table1_models``, else all
    four. A profile that names ``table1_models`` (cpu: CT alone) takes CT's
    Table I run from its single-task pretraining (:func:`pretrain_front`: the
    full train split, seed :func:`front_seed`), which is what the paper's CT
    column is; its other columns are not run.
    """
    if models is None:
        models = _profile(profile).campaign.table1_models or ("cgcnn", "megnet", "alignn", "ct")
    ds, split = mp_data(profile)
    rows = []
    for model in models:
        for short, target in TARGETS.items():
            if model == "ct" and _table1_ct_is_pretraining(profile):
                runs = [(s, pretrain_front("ct", short, profile, s, device=device, force=force, train=train, context=context))
                        for s in front_seeds(profile, seeds)]
            else:
                runs = [(s, train_one(model, [target], ds, model_split(split, model, profile), profile=profile,
                                      seed=s, experiment="table1", device=device, force=force, train=train, context=context,
                                      save_predictions=True))
                        for s in _seeds(profile, seeds)]
            rows += [_row(rec, target, table="I", column=model, model=model, init=DEFAULT_INIT[model],
                          target=short, seed=seed) for seed, rec in runs]
    return pd.DataFrame(rows)


def table1_fronts(profile="quick", seeds=None, *, device="auto", force=False, train=None, context=None) -> pd.DataFrame:
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
            rows += [_row(pretrain_front(model, short, p, s, device=device, force=force, train=train, context=context), target,
                          table="I (fronts)", column=model, model=model, init="onehot", target=short, seed=s)
                     for s in front_seeds(p, seeds)]
    return pd.DataFrame(rows)



def _table1_ct_is_pretraining(profile) -> bool:
    """Whether the profile's Table I CT run is its single-task pretraining (``campaign.table1_models``, cpu)."""
    return _profile(profile).campaign.table1_models is not None


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
                   scales=(1.0, 0.1), context=None) -> pd.DataFrame:
    """CT on E_f with positions in Å (``coord_scale`` 1, the paper) and in nm (0.1).

    Everything else is the profile's Table I CT run, which is reused for the
    profile's own scale. Each row adds ``best_val_mae``, the lowest validation
    MAE of the run: the quick profile's choice of 0.1 was made on validation.
    A profile whose Table I is its pretraining (``campaign.table1_models``, cpu)
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
                            train=train, context=context, model_overrides={"coord_scale": float(scale)})
            vals = [h.get("val_mae_mean") for h in (rec or {}).get("history", [])]
            vals = [v for v in vals if v is not None]
            rows.append({**_row(rec, target, table="ct_coord_scale", column=f"coord_scale {scale:g}",
                                model="ct", init="onehot", target="E_f", seed=seed),
                         "coord_scale": float(scale),
                         "best_val_mae": min(vals) if vals else math.nan})
    return pd.DataFrame(rows)



def table2(profile="quick", seeds=None, *, device="auto", force=False, train=None,
           backs=None, context=None) -> pd.DataFrame:
    """Table II: front-end embeddings (pretrained on the same target) into back ends.

    Columns: ``<F>-<B>`` for each front F and back end B (C-C, M-C, A-C, CT-C,
    CT-M, CT-A on quick; the profile's ``campaign.table2_fronts`` /
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
    starts are ``onehot`` and ``default`` unless ``campaign.table2_plain_starts``
    names fewer (cpu MEGNet: ``default`` only, the baseline of the CT-M claims).
    """
    p = _profile(profile)
    ds, split = mp_data(p)
    fronts_used = table2_fronts(p)
    backs = [b for b in p.campaign.table2_backs
             if backs is None or b in backs]
    plain = p.campaign.table2_plain_starts
    controls = control_starts(p)
    pairs = [(f, "cgcnn") for f in fronts_used if "cgcnn" in backs] + [("ct", b) for b in backs if b != "cgcnn"]
    rows = []
    for short, target in TARGETS.items():
        for front, back in pairs:
            for seed in _seeds(p, seeds):
                emb = embedding_path(pretrain_front(front, short, p, front_seed(p, seed), device=device,
                                                    force=force, train=train, context=context))
                rec = None
                if emb is not None:
                    rec = train_one(back, [target], ds, model_split(split, back, p), profile=p,
                                    seed=seed, experiment="table2", embedding=emb, device=device,
                                    force=force, train=train, context=context)
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
                                    train=train, context=context, **kw)
                    letter = MODEL_LETTER[back]
                    column = f"CT0-{letter}" if label == "CT untrained" else f"{letter} {label}"
                    rows.append(_row(rec, target, table="II", column=column, model=back,
                                     init=kw.get("init", label), target=short, seed=seed))
    return pd.DataFrame(rows)


def _ct_embeddings(profile, seed, *, device, force, train, context=None) -> dict:
    """CT embeddings feeding back-end seed ``seed``: pretrained on E_f, on E_g, and multi-task."""
    fs = front_seed(profile, seed)
    out = {short: embedding_path(pretrain_front("ct", short, profile, fs, device=device, force=force,
                                                train=train, context=context)) for short in TARGETS}
    out["mt"] = embedding_path(pretrain_ct_multitask(profile, fs, device=device, force=force, train=train, context=context))
    return out


def _cgcnn_baseline(target, ds, split, profile, seed, *, device, force, train, context=None) -> dict | None:
    return train_one("cgcnn", [target], ds, model_split(split, "cgcnn", profile), profile=profile,
                     seed=seed, experiment="table1", device=device, force=force, train=train, context=context)


def _control_rows(target, short, ds, split, profile, seed, controls, *, table, device, force,
                  train, context=None) -> list[dict]:
    """CGCNN back ends from the control starts (same runs in every table: trained once)."""
    rows = []
    for label, kw in controls.items():
        rec = train_one("cgcnn", [target], ds, model_split(split, "cgcnn", profile), profile=profile,
                        seed=seed, experiment="table2", device=device, force=force, train=train, context=context, **kw)
        rows.append(_row(rec, target, table=table, column=f"CGCNN({label})", model="cgcnn",
                         init=label, target=short, seed=seed))
    return rows


# ------------------------------------------------------------------------ Table III
def table3(profile="quick", seeds=None, *, device="auto", force=False, train=None, context=None) -> pd.DataFrame:
    """Table III: CGCNN with CT embeddings pretrained on E_f, on E_g, or multi-task,
    each evaluated on both targets (cross-task transfer), beside the controls."""
    p = _profile(profile)
    ds, split = mp_data(p)
    controls = control_starts(p)
    rows = []
    for seed in _seeds(p, seeds):
        embs = _ct_embeddings(p, seed, device=device, force=force, train=train, context=context)
        for short, target in TARGETS.items():
            rec = _cgcnn_baseline(target, ds, split, p, seed, device=device, force=force, train=train, context=context)
            rows.append(_row(rec, target, table="III", column="CGCNN", model="cgcnn", init="cgcnn92",
                             target=short, seed=seed))
            for src in ("E_f", "E_g", "mt"):
                rec = None
                if embs[src] is not None:
                    rec = train_one("cgcnn", [target], ds, model_split(split, "cgcnn", p),
                                    profile=p, seed=seed, experiment="table3", embedding=embs[src],
                                    device=device, force=force, train=train, context=context)
                rows.append(_row(rec, target, table="III", column=f"CGCNN({src})", model="cgcnn",
                                 init=f"ct {src} embedding", target=short, seed=seed))
            rows += _control_rows(target, short, ds, split, p, seed, controls, table="III",
                                  device=device, force=force, train=train, context=context)
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
           variants=None, context=None) -> pd.DataFrame:
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
            rec = _cgcnn_baseline(target, ds, split, p, seed, device=device, force=force, train=train, context=context)
            rows.append(_row(rec, target, table="IV", column="CGCNN", model="cgcnn", init="cgcnn92",
                             target=short, seed=seed))
            emb = embedding_path(pretrain_front("ct", short, p, front_seed(p, seed), device=device,
                                                force=force, train=train, context=context))
            for col, kw in variants.items():
                rec = None
                if emb is not None:
                    rec = train_one("cgcnn", [target], ds, model_split(split, "cgcnn", p),
                                    profile=p, seed=seed, experiment="table4", embedding=emb,
                                    device=device, force=force, train=train, context=context, **kw)
                rows.append(_row(rec, target, table="IV", column=col, model="cgcnn",
                                 init="ct embedding", target=short, seed=seed))
            rows += _control_rows(target, short, ds, split, p, seed, controls, table="IV",
                                  device=device, force=force, train=train, context=context)
    return pd.DataFrame(rows)


#: The table of Table III's multi-task rows with each back-end seed's own pretraining, as the
#: claims name it (:func:`matched_fronts`).
MATCHED_TABLE = "III (front = back seed)"


def matched_fronts(profile="cpu", seeds=None, *, device="auto", force=False, train=None,
                   context=None) -> pd.DataFrame:
    """Table III's multi-task contrast with front seed = back seed: CGCNN from ``cgcnn92``
    (``CGCNN``) and from the multi-task CT table pretrained with the back end's own seed
    (``CGCNN(mt)``, :func:`pretrain_ct_fp32`: the pretraining seeds are trained in fp32), on
    E_f and E_g, at Table III's back-end size, so that a claim's interval holds the
    pretraining's noise as well as the back end's.

    For a profile whose one front seed feeds every back-end seed (``campaign.front_seed``:
    cpu); empty for the others, whose Table III is matched already. The ``cgcnn92`` runs are
    Table III's (same configs, stored once). Rows as Table III's, ``table`` =
    :data:`MATCHED_TABLE`, plus ``front_seed``.
    """
    p = _profile(profile)
    if p.campaign.front_seed is None:
        return pd.DataFrame()
    ds, split = mp_data(p)
    rows = []
    for seed in _seeds(p, seeds):
        mt = embedding_path(pretrain_ct_fp32(p, seed, device=device, force=force, train=train, context=context))
        for short, target in TARGETS.items():
            rec = _cgcnn_baseline(target, ds, split, p, seed, device=device, force=force, train=train, context=context)
            rows.append(_row(rec, target, table=MATCHED_TABLE, column="CGCNN", model="cgcnn", init="cgcnn92",
                             target=short, seed=seed))
            rec = None
            if mt is not None:
                rec = train_one("cgcnn", [target], ds, model_split(split, "cgcnn", p), profile=p, seed=seed,
                                experiment="table3", embedding=mt, device=device, force=force, train=train,
                                context=context)
            rows.append(_row(rec, target, table=MATCHED_TABLE, column="CGCNN(mt)", model="cgcnn",
                             init="ct mt embedding", target=short, seed=seed, front_seed=seed))
    return pd.DataFrame(rows)


#: The table of the headline runs (CGCNN on the whole train split), as the claims name it.
HEADLINE_TABLE = "III (whole split)"


def headline(profile="cpu", seeds=None, *, device="auto", force=False, train=None, context=None) -> pd.DataFrame:
    """The headline at the paper's back-end size: CGCNN on the whole train split (44,441
    cells on cpu; full validation and test splits), from ``cgcnn92`` (``CGCNN``) and from
    the multi-task CT table pretrained with the back end's own seed (``CGCNN(mt)``: front
    seed = back seed, so the interval holds the pretraining's noise too; the fp32 pretraining
    seeds of :func:`pretrain_ct_fp32`), on E_f and E_g,
    for ``recipe.headline_epochs`` epochs. Empty for a profile without that key. Rows as
    Table III's, ``table`` = :data:`HEADLINE_TABLE`, plus ``n_train`` and ``front_seed``."""
    p = _profile(profile)
    epochs = p.recipe.headline_epochs
    if not epochs:
        return pd.DataFrame()
    ds, split = mp_data(p)
    sp = model_split(split, "cgcnn", p, front=True)
    rows = []
    for seed in _seeds(p, seeds):
        mt = embedding_path(pretrain_ct_fp32(p, seed, device=device, force=force, train=train, context=context))
        for short, target in TARGETS.items():
            for column, kw in (("CGCNN", {}), ("CGCNN(mt)", None if mt is None else {"embedding": mt})):
                rec = None
                if kw is not None:
                    rec = train_one("cgcnn", [target], ds, sp, profile=p, seed=seed, experiment="headline",
                                    device=device, force=force, train=train, context=context,
                                    train_overrides={"epochs": int(epochs)}, **kw)
                rows.append(_row(rec, target, table=HEADLINE_TABLE, column=column, model="cgcnn",
                                 init="cgcnn92" if column == "CGCNN" else "ct mt embedding", target=short,
                                 seed=seed, front_seed=seed, n_train=len(sp["train"])))
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


def table5(profile="quick", seeds=None, *, device="auto", force=False, train=None, context=None) -> pd.DataFrame:
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
            emb = embedding_path(pretrain_front("ct", short, p, seed, device=device, force=force, train=train, context=context))
            for label, kw in (("CGCNN", {}), ("CT-C", {"embedding": emb})):
                rec = None  # without its CT run, CT-C is missing (never a plain CGCNN under its name)
                if "embedding" not in kw or emb is not None:
                    rec = train_one("cgcnn", [target], ds, split, profile=p, seed=seed,
                                    experiment="table5", device=device, force=force, train=train, context=context, **kw)
                rows.append(_row(rec, target, table="V", column=label, model="cgcnn", target=short, seed=seed))
    return pd.DataFrame(rows)
