"""Page 02 (Table I: four models on MP-2018): the note of a profile that runs Table I for CT
only, the MP* columns, the mean-prediction floor, the parity and learning-curve figures,
and the CrystalTransformer's coordinate-scale comparison."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ctlib import report

from ctlib.pages.common import fmt_mae, records
from ctlib.pages.figures import learning_curves, parity_grid
from ctlib.pages.tables import table1_scale

#: Our model name -> the model's row in the paper's Table I (its MP* columns).
PAPER_NAMES = {"cgcnn": "CGCNN", "megnet": "MEGNET", "alignn": "ALIGNN", "ct": "CrystalTransformer"}
#: The columns of :func:`coord_scale_table` shown as MAEs.
COORD_SCALE_MAES = ["best_val_mae", "test_mae", "test_std"]


def table1_profile_note(profile: str, df: pd.DataFrame, fronts: pd.DataFrame) -> tuple[str, str] | None:
    """What a profile that runs Table I for some models only says about it.

    Args:
        profile: the profile's name.
        df: the rows of :func:`ctlib.experiments.table1`.
        fronts: the rows of :func:`ctlib.experiments.table1_fronts`.

    Returns:
        ``None`` when the profile runs all four models; else two Markdown texts: which
        models run and why the others do not, and :func:`ctlib.pages.table1_scale`
        (Table II's fronts beside CT's run, for scale).
    """
    from ctlib.config import get_profile

    prof = get_profile(profile)
    if prof.campaign.table1_models is None:
        return None
    note = (
        f"**Profile `{profile}` runs Table I for {', '.join(m.upper() for m in prof.campaign.table1_models)} only.** "
        f"The CT rows are its single-task pretraining on the whole MP-2018 train split: one seed, "
        f"{prof.epochs['ct']} epochs (the paper profile: {get_profile('paper').epochs['ct']}). "
        f"CGCNN, MEGNet and ALIGNN on the whole split, 3 seeds each, do not fit the profile's CPU budget, "
        f"so their columns, and the claims that compare CT with them, are *not run on this profile*. "
        f"The CGCNN of the later tables is a back end trained on a {prof.sizes.n_backend or 0:,}-cell "
        f"sample, not a Table I column.")
    return note, table1_scale(fronts, df, {**prof.recipe.front_epochs, "ct": prof.epochs["ct"]})


def with_mp_star(t1: pd.DataFrame) -> pd.DataFrame:
    """Table I (:func:`ctlib.pages.compare` rows with ``column`` = our model name and
    ``target``) with two more columns: ``MP* (paper)``, the paper's MAE on the later MP
    release (formatted by :func:`fmt_mae`), and ``MP* (ours)``, "not testable offline"."""
    return t1.assign(**{
        "MP* (paper)": [fmt_mae(report.paper_value("table1_models", PAPER_NAMES[m], f"MP*-{t}"))
                        for m, t in zip(t1.column, t1.target)],
        "MP* (ours)": "not testable offline"})


def floor_text(base: pd.DataFrame) -> str:
    """Markdown: the test MAE of predicting the training mean, per target (``base`` from
    :func:`ctlib.experiments.mean_baseline`: ``target``, ``mae``, ``unit``)."""
    return ("**The floor.** Predicting the training mean for every test structure gives a test MAE of "
            + " and ".join(f"{fmt_mae(r.mae)} {r.unit} for {r.target}" for r in base.itertuples())
            + ". A model that does not beat this has learned nothing about the target.")


def detail_figures(df: pd.DataFrame, out_dir: str | Path | None = None, stem: str = "02_models") -> dict:
    """The parity plots (one figure per target) and the validation curves (one panel per
    target) of the first seed's runs.

    Args:
        df: the rows of :func:`ctlib.experiments.table1` (``seed``, ``target``, ``model``,
            ``run_id``).
        out_dir: when given, each figure is saved there (:func:`ctlib.plotting.savefig`).
        stem: the start of the figure names.

    Returns:
        figure name -> matplotlib Figure: ``<stem>_parity_<target>`` per target of
        :data:`ctlib.experiments.UNITS`, then ``<stem>_learning_curves``.
    """
    import matplotlib.pyplot as plt

    from ctlib.experiments import UNITS
    from ctlib.plotting import savefig

    recs = records(df)
    first = df[df.seed == df.seed.min()]
    figs = {f"{stem}_parity_{t}": parity_grid(first[first.target == t], recs,
                                               title=f"{t}: predicted vs DFT, test split")
            for t in UNITS}
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, t in zip(axes, UNITS):
        sel = first[first.target == t]
        learning_curves([recs.get(r) for r in sel.run_id], ax=ax, title=f"{t}: validation MAE",
                        labels=list(sel.model), unit=UNITS[t])
    fig.tight_layout()
    figs[f"{stem}_learning_curves"] = fig
    if out_dir is not None:
        for name, f in figs.items():
            savefig(f, name, out_dir)
    return figs


def coord_scale_not_run(profile: str) -> str:
    """Markdown: why a profile whose Table I is its pretraining has no coordinate-scale comparison."""
    return (f"**Not run on profile `{profile}`.** Its Table I CT run is the single-task pretraining "
            "on the whole train split; a second one with positions in Å would cost as much again. "
            "The scale was chosen on the quick profile's validation MAE (`make book PROFILE=quick`).")


def coord_scale_table(cs: pd.DataFrame) -> pd.DataFrame:
    """One row per coordinate scale: the mean best validation MAE, the mean and std of the
    test MAE over seeds, and the number of stored runs.

    Args:
        cs: the rows of :func:`ctlib.experiments.ct_coord_scale` (``coord_scale``, ``seed``,
            ``mae``, ``best_val_mae``).

    Returns:
        DataFrame indexed by ``coord_scale (1 = Å, the paper)`` with ``best_val_mae``,
        ``test_mae``, ``test_std`` (eV/atom) and ``stored_runs``.
    """
    return (cs.groupby("coord_scale")
              .agg(best_val_mae=("best_val_mae", "mean"), test_mae=("mae", "mean"), test_std=("mae", "std"),
                   stored_runs=("mae", "count"))
              .rename_axis("coord_scale (1 = Å, the paper)"))


def coord_scale_figure(cs: pd.DataFrame, base: pd.DataFrame):
    """The validation MAE per epoch of the first seed's run at each coordinate scale, with
    the test MAE of predicting the training mean as a dashed line.

    Args:
        cs: the rows of :func:`ctlib.experiments.ct_coord_scale`.
        base: :func:`ctlib.experiments.mean_baseline` (its ``E_f`` row is drawn).

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    from ctlib.experiments import UNITS

    first_cs = cs[cs.seed == cs.seed.min()]
    recs_cs = records(cs)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    learning_curves([recs_cs.get(r) for r in first_cs.run_id], ax=ax, title="CT, E_f: validation MAE",
                    labels=[f"coord_scale {s:g}" for s in first_cs.coord_scale], unit=UNITS["E_f"])
    floor = float(base.loc[base.target == "E_f", "mae"].iloc[0])
    ax.axhline(floor, color="grey", ls="--", lw=1)
    ax.text(ax.get_xlim()[0], floor, " training mean, test MAE", va="bottom", fontsize=8, color="grey")
    return fig
