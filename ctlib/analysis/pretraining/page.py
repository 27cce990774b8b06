"""Notebook 11's page: its settings, and the tables and readings it shows.

Turns the frames of the other modules of this package into what the CT
pretraining page displays, so that the notebook holds no logic: the page's
settings (:func:`page_settings`), the measures with their cache note
(:func:`measure_chemistry`), the headline tables (:func:`headline_mae`,
:func:`headline_r2`), the per-snapshot table, the readings of the schedule
comparison and of the learned parts (with the k = 3 groups of the multi-task
learned part), the per-run summary, the per-run status list of the Details
section, and the page's JSON summary (:func:`page_summary`). The opening
finding is :mod:`.finding`'s. Every number in a text is computed from the
stored runs and measures; none is typed in.

Imports: numpy, pandas, the other modules of this package (:mod:`.runs`,
:mod:`.snapshots`, :mod:`.chemistry`, :mod:`.finding`), :mod:`ctlib.lookup`,
and, inside
functions, :mod:`ctlib.config`, :mod:`ctlib.experiments`, :mod:`ctlib.report`
(the paper's Table VI), :mod:`ctlib.analysis.reverse` and
:mod:`ctlib.analysis.clustering`. No module of the package imports it but its
``__init__``; it never imports ``ctlib.pages``, ``ctlib.book``,
``ctlib.claims`` or ``ctlib.cli``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib import lookup
from ctlib.analysis.pretraining.chemistry import REFERENCES, chemistry_vs_epoch, probe_trees
from ctlib.analysis.pretraining.finding import one_draw, plateau_epoch, plateau_epochs
from ctlib.analysis.pretraining.runs import ALT, IN_PROGRESS, PENDING, PLATEAU_WINDOW, STORED, PretrainingRun
from ctlib.analysis.pretraining.seeds import against_seeds
from ctlib.analysis.pretraining.snapshots import load_table

__all__ = [
    "PageSettings", "page_settings", "measure_chemistry", "status_markdown", "headline_mae", "headline_r2",
    "r2_styler", "chemistry_styler", "schedule_styler", "schedule_reading", "learned_styler",
    "learned_reading", "learned_groups", "run_summary", "page_summary",
]

_NA = "—"


# --------------------------------------------------------------------------- #
# Settings and measures
# --------------------------------------------------------------------------- #
@dataclass
class PageSettings:
    """The validated settings of one rendering of the page.

    Attributes:
        profile: profile name.
        seed: the pretraining seed shown (the profile's front seed unless the
            page's ``seeds`` parameter names one).
        ks: numbers of k-means clusters scanned (2..k_max).
        cluster_seed: k-means random state.
        repeats: repeats of the probe's 5-fold CV.
        trees: trees of the forest probe (:func:`~ctlib.analysis.pretraining.chemistry.probe_trees`).
        references: names of the reference tables measured beside CT.
        cache_dir: the committed cache of the measures (``results/<profile>/analysis/chemistry``).
        t_start: ``time.perf_counter()`` when the settings were made (the page's run time).
    """

    profile: str
    seed: int
    ks: tuple[int, ...]
    cluster_seed: int
    repeats: int
    trees: int
    references: list[str]
    cache_dir: Path
    t_start: float

    @property
    def probe(self) -> dict:
        """Keyword arguments of :func:`chemistry_vs_epoch` / ``learned_part_chemistry``."""
        return {"references": self.references, "ks": self.ks, "cluster_seed": self.cluster_seed,
                "repeats": self.repeats, "n_estimators": self.trees, "cache_dir": self.cache_dir}

    def summary(self) -> dict:
        """The ``settings`` entry of the page's JSON summary."""
        return {"ks": list(self.ks), "cluster_seed": self.cluster_seed, "folds": 5, "repeats": self.repeats,
                "probe": f"RandomForestRegressor({self.trees} trees, max_features=0.3)",
                "references": list(self.references)}


def page_settings(profile: str, seeds: Sequence[int] | None = None, *, k_max: int = 8, cluster_seed: int = 0,
                  rp_repeats: int | None = None, references: Sequence[str] = REFERENCES) -> PageSettings:
    """The page's settings from its (validated) notebook parameters.

    Args:
        profile: profile name.
        seeds: one pretraining seed in a list, or None for the profile's front seed
            (:func:`ctlib.experiments.front_seed` of seed 0).
        k_max: k-means is scanned over ``2..k_max`` clusters.
        cluster_seed: k-means random state.
        rp_repeats: repeats of the probe's CV (None: the profile's ``rp_repeats``).
        references: reference tables measured beside CT.

    Raises:
        ValueError: ``seeds`` names other than one seed (the notebook parameters' own
            checks, :mod:`ctlib.params`, sit above this layer).
    """
    from ctlib import experiments as ex
    from ctlib.config import get_profile

    if seeds is not None and len(seeds) != 1:
        raise ValueError(f"notebook parameter 'seeds': got {seeds}; this page shows one pretraining "
                             "seed, e.g. papermill -p seeds 0 (None: the profile's front seed)")
    prof = get_profile(profile)
    return PageSettings(
        profile=prof.name, seed=ex.front_seed(prof, 0) if seeds is None else int(seeds[0]),
        ks=tuple(range(2, int(k_max) + 1)), cluster_seed=int(cluster_seed),
        repeats=int(rp_repeats if rp_repeats is not None else prof.rp_repeats), trees=probe_trees(profile),
        references=list(references), cache_dir=lookup.analysis_dir(prof.name, "chemistry"),
        t_start=time.perf_counter())


def measure_chemistry(runs: Mapping[str, PretrainingRun], settings: PageSettings) -> tuple[pd.DataFrame, str]:
    """:func:`chemistry_vs_epoch` of ``runs`` with the page's settings and cache, timed.

    Returns:
        ``(chem, note)``: the measures (one row per table) and a Markdown line saying
        how many tables were measured in how many seconds and how many measures
        were new (the others read from the cache).
    """
    n_cached = len(list(settings.cache_dir.glob("*.json")))
    t0 = time.perf_counter()
    chem = chemistry_vs_epoch(runs, settings.profile, **settings.probe)
    seconds = time.perf_counter() - t0
    new = len(list(settings.cache_dir.glob("*.json"))) - n_cached
    where = lookup.analysis_dir(settings.profile, "chemistry", "results").as_posix()
    note = (f"{len(chem)} tables measured in {seconds:.0f} s (k-means over k = 2..{max(settings.ks)}, "
            f"seed {settings.cluster_seed}; forest probe, 5 folds × {settings.repeats} repeat(s)). This build "
            f"measured {new} new silhouette scans and forest CVs; the others were read from the cache "
            f"`{where}` (the measures of an earlier build from the same table, elements, property values "
            "and settings).")
    return chem, note


# --------------------------------------------------------------------------- #
# Tables and readings of the page
# --------------------------------------------------------------------------- #
def status_markdown(runs: Mapping[str, PretrainingRun], profile) -> str:
    """The pretraining seed and one Markdown bullet per run: stored (run id, epochs, best
    epoch), in progress (run id, epochs checkpointed, snapshots) or pending."""
    from ctlib.config import get_profile

    prof = get_profile(profile)
    lines = []
    for r in runs.values():
        if r.status == STORED:
            lines.append(f"- **{r.label}**: stored (`{r.run_id}`), {r.epochs_done} of {r.epochs_planned} epochs, "
                         f"best epoch on validation MAE {r.best_epoch}.")
        elif r.status == IN_PROGRESS:
            done = (f"{r.epochs_done} of {r.epochs_planned} epochs finished" if r.history else
                    f"no epoch checkpointed yet (of {r.epochs_planned})")
            snaps = ("only the untrained table (epoch 0) so far" if list(r.snapshots) == [0] else
                     f"table snapshots at epochs {', '.join(map(str, r.snapshots)) or 'none'}")
            lines.append(f"- **{r.label}**: *in progress* (`{r.run_id}`, no record yet): {done}; {snaps}. "
                         "Everything shown for it is provisional.")
        else:
            how = (" (the `cpu` runs come from `ctlib campaign --profile cpu`)"
                   if prof.campaign.only else "")
            lines.append(f"- **{r.label}**: *pending*, not in the store for `{prof.name}`{how}.")
    seed = next(iter(runs.values())).seed if runs else None
    return f"Pretraining seed {seed}.\n\n" + "\n".join(lines)


def _num(v, digits: int = 3) -> str:
    return _NA if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def headline_mae(fm: pd.DataFrame) -> pd.DataFrame:
    """The final-error table of the page, as text: one row per (pretraining, task) of
    :func:`~ctlib.analysis.pretraining.runs.final_metrics` output ``fm`` with its epochs,
    validation MAE (best so far for a run in progress), the gain of the last
    :data:`~ctlib.analysis.pretraining.runs.PLATEAU_WINDOW` epochs, test MAE and R² and the
    number of test cells. MAE in eV/atom (E_f) or eV (E_g), as the task column says."""
    rows = []
    for r in fm.itertuples():
        if r.status == PENDING:
            val = test = r2 = "pending"
        elif r.status == IN_PROGRESS:
            val = f"{_num(r.val_mae)} (best so far, in progress)" if np.isfinite(r.val_mae) else "in progress"
            test = r2 = "in progress"
        else:
            val, test, r2 = _num(r.val_mae), _num(r.test_mae), _num(r.test_r2)
        trend = (_NA if not np.isfinite(r.recent_gain)
                 else f"{100 * r.recent_gain:.1f} % ({'flat' if r.flat else 'still falling'})")
        rows.append({"pretraining": r.label, "task": f"{r.task} ({r.unit})",
                     "epochs": f"{r.epochs_done}/{r.epochs_planned}", "validation MAE": val,
                     f"gain, last {PLATEAU_WINDOW} epochs": trend, "test MAE": test, "test R²": r2,
                     "test cells": r.n_test or _NA})
    return pd.DataFrame(rows)


def headline_r2(chem: pd.DataFrame, runs: Mapping[str, PretrainingRun]) -> tuple[pd.DataFrame, str]:
    """The reverse-prediction R² of the multi-task table beside the reference tables and the paper.

    Args:
        chem: :func:`chemistry_vs_epoch` output.
        runs: the runs it measured.

    Returns:
        ``(table, mt_note)``: one row for the multi-task table (its final table
        when stored, else its newest table; NaN when pending), one per reference
        table and one for the paper's Table VI (CatBoost on its CT table);
        columns ``table``, the five property names of
        :data:`ctlib.analysis.reverse.PROPERTIES` and ``mean`` (R², unitless).
        ``mt_note`` says which multi-task table the first row is.
    """
    from ctlib import report
    from ctlib.analysis import reverse

    mt = chem[chem.kind == "mt"]
    mt_row, mt_note = None, "pending: the multi-task pretraining is not in the store"
    if len(mt):
        if runs["mt"].status == STORED and mt.is_final.any():
            mt_row = mt[mt.is_final].iloc[0]
            mt_note = f"final table (best epoch {int(mt_row.epoch)})"
        else:
            mt_row = mt.sort_values("epoch").iloc[-1]
            mt_note = f"{runs['mt'].status}: table at epoch {int(mt_row.epoch)}"
    paper6 = report.paper_tables()["table6_reverse_prediction_r2"]
    paper_r2 = {p: paper6["values"][paper6["columns"].index(reverse.PROPERTIES[p])] for p in reverse.PROPERTIES}
    rows = [{"table": f"CT multi-task ({mt_note})",
             **{reverse.PROPERTIES[p]: (mt_row[f"r2_{p}"] if mt_row is not None else np.nan)
                for p in reverse.PROPERTIES},
             "mean": mt_row.r2_mean if mt_row is not None else np.nan}]
    for r in chem[chem.kind == "reference"].itertuples():
        rows.append({"table": r.label, **{reverse.PROPERTIES[p]: getattr(r, f"r2_{p}") for p in reverse.PROPERTIES},
                     "mean": r.r2_mean})
    rows.append({"table": "paper: CT on MP* (Table VI, CatBoost)",
                 **{reverse.PROPERTIES[p]: v for p, v in paper_r2.items()},
                 "mean": float(np.mean(list(paper_r2.values())))})
    return pd.DataFrame(rows), mt_note


def r2_styler(headline: pd.DataFrame):
    """:func:`headline_r2`'s table styled (3 decimals, ``pending`` for NaN, no index)."""
    return (headline.style.format({c: "{:.3f}" for c in headline.columns if c != "table"}, na_rep="pending")
            .hide(axis="index"))


def chemistry_styler(chem: pd.DataFrame):
    """Every measured table of :func:`chemistry_vs_epoch` output, styled for the page."""
    from ctlib.analysis import reverse

    show = chem.drop(columns=["run_id", "kind", "seconds"]).rename(
        columns={f"r2_{p}": f"R² {reverse.PROPERTIES[p]}" for p in reverse.PROPERTIES})
    show = show.rename(columns={"r2_mean_learned": "r2_mean, learned part"})
    fmt = {c: "{:.3f}" for c in show.columns
           if c.startswith(("R²", "r2_mean")) or c in ("drift", "silhouette")}
    fmt["epoch"] = "{:.0f}"
    return show.style.format(fmt, na_rep=_NA).hide(axis="index")


def schedule_styler(schedules: pd.DataFrame):
    """:func:`~ctlib.analysis.pretraining.chemistry.schedule_comparison` output, styled for the page."""
    show = schedules.drop(columns=["kind"]).rename(columns={
        "val_E_f": "val MAE E_f (eV/atom)", "val_E_g": "val MAE E_g (eV)", "epoch_last": "latest table (epoch)",
        "r2_last": "mean R², latest", "silhouette_last": "silhouette, latest", "drift_last": "drift, latest",
        "r2_best": "mean R², best snapshot", "epoch_r2_best": "at epoch"})
    fmt = {c: "{:.3f}" for c in show.columns if c.startswith(("val MAE", "mean R²", "silhouette", "drift"))}
    fmt.update({"latest table (epoch)": "{:.0f}", "at epoch": "{:.0f}"})
    return show.style.format(fmt, na_rep=_NA).hide(axis="index")


def schedule_reading(schedules: pd.DataFrame | None, profile, seeds: pd.DataFrame | None = None) -> str:
    """The reading of the schedule comparison, in Markdown.

    Args:
        schedules: :func:`~ctlib.analysis.pretraining.chemistry.schedule_comparison`
            output, or None where the profile defines no second schedule.
        profile: the profile name (for that case's sentence).
        seeds: :func:`~ctlib.analysis.pretraining.seeds.seed_table` output: the R²
            difference is judged against the pretraining seeds' spread
            (:func:`~ctlib.analysis.pretraining.seeds.against_seeds`).
    """
    if schedules is None:
        return f"The `{profile}` profile defines no second schedule."
    measured = schedules.dropna(subset=["r2_last"])
    if len(measured) != 2:
        return "**Pending:** the comparison needs snapshots of both runs."
    a, b = measured.iloc[0], measured.iloc[1]
    complete = bool((measured["status"] == STORED).all())
    text = (f"Latest tables: {a.label} mean R² {a.r2_last:.3f} (epoch {a.epoch_last:.0f}, "
            f"{a.status}); {b.label} {b.r2_last:.3f} (epoch {b.epoch_last:.0f}, {b.status})."
            + ("" if complete else " Runs in progress are provisional."))
    if not complete:
        return text
    hi, lo = (a, b) if a.r2_last >= b.r2_last else (b, a)
    return text + "\n\n" + (
        f"**Reading.** Both runs are complete ({a.label}: {a.epochs.split('/')[0]} epochs; {b.label}: "
        f"{b.epochs.split('/')[0]}). The {hi.label} table ends {hi.r2_last - lo.r2_last:.3f} "
        f"higher in mean R² ({hi.r2_last:.3f} against {lo.r2_last:.3f}; best snapshots {hi.r2_best:.3f} "
        f"and {lo.r2_best:.3f}): {against_seeds(hi.r2_last - lo.r2_last, seeds)}. Their predictions differ "
        f"more plainly: lowest validation MAE E_f {a.val_E_f:.3f} against {b.val_E_f:.3f} eV/atom and E_g "
        f"{a.val_E_g:.3f} against {b.val_E_g:.3f} eV ({a.label} first).")


def learned_styler(lp: pd.DataFrame):
    """``learned_part_chemistry`` output styled for the page (one row per table)."""
    from ctlib.analysis import reverse

    show = lp.drop(columns=["kind"]).rename(columns={f"r2_{p}": f"R² {reverse.PROPERTIES[p]}"
                                                     for p in reverse.PROPERTIES})
    show["label"] = [lab if t == lab else f"{lab}, {t}" for lab, t in zip(lp["label"], lp["table"])]
    show = show.drop(columns=["table"]).rename(columns={"label": "table", "r2_mean": "mean R²",
                                                        "k_best": "best k", "drift": "drift of the table"})
    return show.style.format({c: "{:.3f}" for c in show.columns if c not in ("table", "best k")},
                             na_rep=_NA).hide(axis="index")


def learned_reading(lp: pd.DataFrame, chem: pd.DataFrame) -> str:
    """The reading of the learned parts, in Markdown: how much removing the random start
    changes each table's mean R² (against the references), the learned parts' silhouettes,
    the two schedules' difference, and the first snapshot of each run within 5 % of its
    highest mean R² (:func:`plateau_epoch`), as stored and as learned part.

    Args:
        lp: ``learned_part_chemistry`` output.
        chem: :func:`chemistry_vs_epoch` output of the same runs.
    """
    if lp.empty:
        return "**Pending:** no pretraining of this profile is stored yet."
    ct = lp[lp.kind != "reference"].pivot(index="kind", columns="table", values="r2_mean")
    gain = ct["learned part"] - ct["as stored"]
    drift_of = lp[lp.table == "as stored"].set_index("kind")["drift"]
    refs_lp = lp[lp.kind == "reference"].set_index("table")["r2_mean"]
    lines = [f"**Reading.** Over the {len(ct)} stored pretraining(s), removing the random start changes the "
             f"mean R² by {gain.min():+.3f} to {gain.max():+.3f}"]
    if "mt" in ct.index:
        lines.append(f"; the multi-task table goes from {ct.at['mt', 'as stored']:.3f} to "
                     f"{ct.at['mt', 'learned part']:.3f}")
    if len(refs_lp):
        lines.append(" (reference tables: " + ", ".join(f"{k} {v:.3f}" for k, v in refs_lp.items()) + ")")
    lines.append(". Best silhouettes of the learned parts: " + ", ".join(
        f"{r.label} {r.silhouette:.3f} (k = {int(r.k_best)})" for r in lp[lp.table == "learned part"].itertuples())
                 + ", against " + ", ".join(f"{r.silhouette:.3f}" for r in lp[lp.table == "as stored"].itertuples())
                 + " as stored. Each pretraining is one seed and the probe is the cheap forest, so the size of "
                 "the change is indicative only. ")
    if (gain > 0).all():
        lines.append("It is positive for every table: what pretraining learned is there, but at this budget "
                     "the random start still hides much of it. ")
    elif (gain < 0).all():
        lines.append("It is negative for every table: the start is not what hides the chemistry. ")
    else:
        lines.append("Its sign differs between the tables. ")
    if {"mt", ALT} <= set(ct.index):
        d_stored = ct.at[ALT, "as stored"] - ct.at["mt", "as stored"]
        d_learned = ct.at[ALT, "learned part"] - ct.at["mt", "learned part"]
        d_drift = drift_of[ALT] - drift_of["mt"]
        lines.append(f"The two multi-task schedules (other minus first) differ by {d_stored:+.3f} in mean R² as "
                     f"stored, with drifts {drift_of[ALT]:.2f} and {drift_of['mt']:.2f}, and by {d_learned:+.3f} "
                     "in their learned parts")
        if abs(d_learned) < abs(d_stored) and d_stored * d_drift > 0:
            lines.append(": the table that moved further shows more of what it learned, while what it learned "
                         "reads about the same")
        lines.append(". ")
    reach = []
    for kind, g in chem[chem.kind != "reference"].groupby("kind", sort=False):
        g = g[g.epoch > 0].sort_values("epoch")
        if len(g) > 2 and g["r2_mean_learned"].notna().all():
            reach.append(f"{g.label.iloc[0]}: learned part at epoch {plateau_epoch(g.epoch, g.r2_mean_learned)}, "
                         f"table as stored at epoch {plateau_epoch(g.epoch, g.r2_mean)} (of {int(g.epoch.max())})")
    if reach:
        lines.append("First snapshot within 5 % of the run's highest mean R² (panel C above): "
                     + "; ".join(reach) + ". ")
    lines.append("The transfer page measures whether CGCNN does better from the learned part.")
    return "".join(lines)


def learned_groups(runs: Mapping[str, PretrainingRun], profile, *, cluster_seed: int = 0) -> str:
    """The multi-task table's learned part in k = 3 k-means groups, in Markdown ("" unless
    the multi-task run is stored): the stored table minus its rebuilt untrained start,
    standardised, reduced to at most 32 principal components (as page 07 clusters the
    table as stored), k-means with ``cluster_seed``; one bullet per group with its size
    and elements. For a look, not a verdict."""
    from ctlib.analysis import clustering

    mt = runs.get("mt")
    if mt is None or mt.status != STORED:
        return ""
    els, mat = load_table(mt.final_table)
    _, start = load_table(None, profile=profile, seed=mt.seed, n_tasks=2)
    z, _ = clustering.pca_reduce(mat - start, min(32, *mat.shape))
    members = clustering.cluster_members(els, clustering.kmeans_labels(z, 3, seed=cluster_seed))
    return ("The multi-task learned part in k = 3 k-means groups (standardised, at most 32 "
            "principal components, as page 07 clusters the table as stored), for a look, not a verdict:\n\n"
            + "\n".join(f"- {r.size} elements: {r.members}" for r in members.itertuples()))


def run_summary(runs: Mapping[str, PretrainingRun], chem: pd.DataFrame) -> str:
    """One Markdown bullet per run: how far its table moved from its first to its last
    measured table, its best silhouette and mean R² there; and the reference tables' mean R²."""
    lines = []
    for kind, r in runs.items():
        g = chem[chem.kind == kind].sort_values("epoch")
        if not len(g):
            lines.append(f"- {r.label}: {r.status}.")
            continue
        first, last = g.iloc[0], g.iloc[-1]
        tag = "" if r.status == STORED else f" ({r.status})"
        if len(g) == 1:
            lines.append(f"- {r.label}{tag}: only epoch {int(first.epoch)} so far: best silhouette "
                         f"{first.silhouette:.3f} (k = {int(first.k_best)}), mean R² {first.r2_mean:.3f}.")
            continue
        lines.append(f"- {r.label}{tag}: from epoch {int(first.epoch)} to {int(last.epoch)} the table moved by "
                     f"{last.drift:.2f} of its norm; best silhouette {first.silhouette:.3f} → {last.silhouette:.3f} "
                     f"(k = {int(last.k_best)}); mean R² {first.r2_mean:.3f} → {last.r2_mean:.3f}.")
    refs = chem[chem.kind == "reference"].set_index("label")["r2_mean"]
    if len(refs):
        lines.append("- Reference tables, mean R²: " + ", ".join(f"{k} {v:.3f}" for k, v in refs.items()) + ".")
    return "\n".join(lines)


def page_summary(settings: PageSettings, *, runs_table: pd.DataFrame, metrics: pd.DataFrame,
                 curves: pd.DataFrame, chem: pd.DataFrame, schedules: pd.DataFrame | None, learned: pd.DataFrame,
                 headline: pd.DataFrame, mt_note: str, budget: pd.DataFrame, finding: str,
                 seeds_stored: Sequence[int] | None, seeds: pd.DataFrame | None = None) -> dict:
    """The page's JSON summary (``11_pretraining.json``): the frames as records.

    Keys: ``profile, seed, settings, runs`` (``runs_table``: the records of
    :func:`~ctlib.analysis.pretraining.runs.runs_frame`), ``final_metrics``
    (``metrics``), ``validation_curves, chemistry, schedule_comparison`` (None
    without a second schedule), ``learned_part, headline_r2, mt_table``,
    ``budget``, ``finding`` (the Markdown of :func:`finding_text`),
    ``plateau_epochs`` (kind -> :func:`plateau_epochs`), ``mt_seeds_stored``
    (the multi-task pretraining seeds in the store), ``pretraining_seeds`` (the
    records of ``seeds``, :func:`~ctlib.analysis.pretraining.seeds.seed_table`, or None),
    ``one_draw`` (the finding's "One draw or many" paragraph without its lead,
    :func:`~ctlib.analysis.pretraining.finding.one_draw`, or None) and ``seconds``
    (since ``settings`` were made).
    """
    return {
        "profile": settings.profile, "seed": settings.seed,
        "settings": settings.summary(),
        "runs": runs_table.to_dict("records"),
        "final_metrics": metrics.to_dict("records"),
        "validation_curves": curves.to_dict("records"),
        "chemistry": chem.to_dict("records"),
        "schedule_comparison": None if schedules is None else schedules.to_dict("records"),
        "learned_part": learned.to_dict("records"),
        "headline_r2": headline.to_dict("records"),
        "mt_table": mt_note,
        "budget": budget.to_dict("records"),
        "finding": finding,
        "plateau_epochs": plateau_epochs(chem),
        "mt_seeds_stored": None if seeds_stored is None else list(seeds_stored),
        "pretraining_seeds": None if seeds is None else seeds.to_dict("records"),
        "one_draw": one_draw(chem, seeds),
        "seconds": time.perf_counter() - settings.t_start,
    }
