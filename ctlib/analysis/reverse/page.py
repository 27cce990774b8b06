"""Notebook 08's page: its settings, what each section computes and the numbers it saves.

The notebook calls these and shows what they return, so that it holds no
logic: the settings (:func:`page_settings`), the chapter's CV of the CT table
beside the baselines and over the other CT pretrainings (:func:`run_page`,
giving a :class:`ReversePage`), and per section the :class:`ReversePage`
method that makes its table, figure or text and records its numbers in
``ReversePage.numbers``, the page's JSON summary (``08_reverse_prediction.json``,
read by ``ctlib.claims.judge_r2`` and the claims page).

Imports: numpy, pandas, the other modules of this package, :mod:`ctlib.lookup`,
:mod:`ctlib.config` and :mod:`ctlib.elements`. It never imports ``ctlib.pages``,
``ctlib.book``, ``ctlib.claims`` or ``ctlib.cli`` (layers above), nor
:mod:`ctlib.analysis.pretraining`, which imports this package: the notebook
passes ``pretraining.judged_tables`` and ``judged_over`` in.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib import lookup
from ctlib.analysis.reverse.cv import reverse_prediction_table
from ctlib.analysis.reverse.data import BASELINE_DESCRIPTIONS, PROPERTIES, baseline_tables
from ctlib.analysis.reverse.figures import plot_r2_bars
from ctlib.analysis.reverse.importance import catboost_seed_stability, embedding_seed_stability, shap_by_property
from ctlib.analysis.reverse.importance import table7 as _table7
from ctlib.analysis.reverse.protocol_report import protocol_cost, protocol_numbers
from ctlib.analysis.reverse.protocols import protocol_scope, protocol_table
from ctlib.analysis.reverse.tables import mean_r2_by_table, paper_r2, pooled_r2_values, pretraining_numbers
from ctlib.analysis.reverse.tables import r2_numbers, summary_table

__all__ = ["FOLDS", "CT", "PROTOCOL_TABLES", "PageSettings", "page_settings", "ReversePage", "run_page"]

#: Folds of the chapter's CV.
FOLDS = 5
#: The analysed CT table's name in every table of the page.
CT = "CT (ours)"
#: The tables the protocol section scores (those present).
PROTOCOL_TABLES = (CT, "cgcnn92", "random128")


@dataclass
class PageSettings:
    """The validated settings of one rendering of page 08.

    Attributes:
        profile: profile name.
        repeats: repeats of the 5-fold CV (the page's ``rp_repeats`` or the profile's).
        iterations: CatBoost trees (``catboost_iterations`` or the profile's).
        n_jobs: processes fitting CatBoost folds in parallel (one thread each).
        baselines: names of :data:`~ctlib.analysis.reverse.data.BASELINE_DESCRIPTIONS` beside CT.
        top: dimensions listed per property in Table VII.
        results_root: the results store (None: ``$CTLIB_RESULTS``, else ``results/``).
        cv_cache: the CV cache, ``<store>/<profile>/analysis/reverse_cv``.
        protocol_cache: the protocol cache, ``<store>/<profile>/analysis/reverse_protocols``.
        shap_cache: the mean |SHAP| vectors of the stability fits, ``<store>/<profile>/analysis/reverse_shap``.
        folds: CV folds (:data:`FOLDS`).
    """

    profile: str
    repeats: int
    iterations: int
    n_jobs: int
    baselines: list[str]
    top: int
    results_root: str | Path | None
    cv_cache: Path
    protocol_cache: Path
    shap_cache: Path | None = None
    folds: int = FOLDS

    def cv_kwargs(self) -> dict:
        """Keyword arguments of ``reverse_prediction_table`` for the chapter's CV (seed 0, one
        thread per fit, the 89 elements of MP-2018 in order, the CV cache)."""
        from ctlib.elements import ELEMENTS

        return dict(folds=self.folds, repeats=self.repeats, iterations=self.iterations, seed=0, thread_count=1,
                    n_jobs=self.n_jobs, order=list(ELEMENTS), progress=False, cache_dir=self.cv_cache)


def page_settings(profile: str, *, results_root: str | Path | None = None, rp_repeats: int | None = None,
                  catboost_iterations: int | None = None, n_jobs: int = 2,
                  baselines: Sequence[str] = tuple(BASELINE_DESCRIPTIONS), top: int = 5) -> PageSettings:
    """The page's settings from its (validated) notebook parameters.

    With ``results_root`` given, sets ``CTLIB_RESULTS`` to it (resolved), so every
    lookup of the notebook's kernel reads the same store (the pretraining runs are
    found through it).

    Raises:
        ValueError: an unknown profile or baseline name.
    """
    from ctlib.config import get_profile

    unknown = [b for b in baselines if b not in BASELINE_DESCRIPTIONS]
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; choose from {list(BASELINE_DESCRIPTIONS)}")
    lookup.use_store(results_root)
    prof = get_profile(profile)
    return PageSettings(
        profile=prof.name, repeats=int(rp_repeats if rp_repeats is not None else prof.rp_repeats),
        iterations=int(catboost_iterations if catboost_iterations is not None else prof.catboost_iterations),
        n_jobs=int(n_jobs), baselines=list(baselines), top=int(top), results_root=results_root,
        cv_cache=lookup.analysis_dir(prof.name, "reverse_cv", results_root),
        protocol_cache=lookup.analysis_dir(prof.name, "reverse_protocols", results_root),
        shap_cache=lookup.analysis_dir(prof.name, "reverse_shap", results_root))


@dataclass
class ReversePage:
    """What page 08 computed so far, and its JSON summary (``numbers``).

    ``ok`` is False while the CT table is pending; then only ``settings``,
    ``paper_r2`` and ``numbers`` are set. Otherwise: ``sources`` (the CT tables
    found, ``ctlib.lookup.EmbeddingSource``), ``src`` (the first, analysed),
    ``emb`` (its table in the order of the 89 elements), ``props`` (elemental
    properties), ``tables`` (name -> (elements, ``(n, d)`` matrix): CT then the
    baselines), ``cv`` / ``counts`` / ``summary`` (the chapter's CV, see
    ``reverse_prediction_table`` and ``summary_table``), ``cv_seconds`` (wall
    seconds of the CV) and ``across`` (the summary over every stored CT
    pretraining, or None).
    """

    settings: PageSettings
    paper_r2: dict
    numbers: dict
    ok: bool = False
    sources: list = field(default_factory=list)
    src: Any = None
    emb: Any = None
    props: pd.DataFrame | None = None
    tables: dict = field(default_factory=dict)
    cv: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    cv_seconds: float = float("nan")
    across: pd.DataFrame | None = None
    protocol_cost: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ inputs
    def _matrix(self) -> np.ndarray:
        return self.emb.matrix.astype(np.float64)

    def record_source(self, *, r2_claims, drift, drift_start: str) -> None:
        """Add the Table VI claims and the table's drift (computed by the layers above) and
        what the analysed table is to ``numbers``."""
        self.numbers.update(r2_claims=r2_claims, drift=drift, drift_start=drift_start,
                            embedding=self.src.description, embedding_kind=self.src.kind,
                            embedding_run_test=(self.src.record or {}).get("test"),
                            embedding_shape=list(self.emb.matrix.shape))

    # ------------------------------------------------------------------ sections
    def r2_figure(self):
        """Pooled R² of every table per property, the paper's CT values as black ticks (Figure)."""
        fig = plot_r2_bars(self.summary, value="r2_pooled_mean", err="r2_pooled_std", paper=self.paper_r2)
        fig.axes[0].set_title(f"Reverse prediction, {self.settings.folds}-fold CV × {self.settings.repeats}; "
                              "black ticks: paper (CT)")
        return fig

    def embedding_text(self) -> str:
        """Markdown: which table is analysed (and whether it is the single-task fallback), its shape
        and the seeds available."""
        fallback = "" if self.src.kind != "ct-Ef" else (
            " No multi-task CT run was found for this profile, so this is the **single-task E_f** embedding.")
        return (f"**Embedding analysed:** {self.src.description}.{fallback}  \n"
                f"Shape: {self.emb.matrix.shape[0]} elements × {self.emb.dim} dimensions. "
                f"Seeds available: {[s.seed for s in self.sources]}.")

    def tables_frame(self) -> pd.DataFrame:
        """The tables compared: ``table``, ``elements``, ``dimensions``, ``what it is``."""
        return pd.DataFrame({"table": list(self.tables),
                             "elements": [len(t[0]) for t in self.tables.values()],
                             "dimensions": [t[1].shape[1] for t in self.tables.values()],
                             "what it is": ["the embedding above" if n == CT else BASELINE_DESCRIPTIONS[n]
                                            for n in self.tables]})

    def fits_text(self) -> str:
        """Markdown: the CV's folds, repeats and trees, its CatBoost fits, CPU seconds, how many were
        read from the cache (named relative to the repository) and how many this build fitted."""
        s = self.settings
        n_fits = int((self.cv["scope"] == "fold").sum())
        cached = self.numbers["cv_cached"]
        return (f"{s.folds} folds × {s.repeats} repeat(s), {s.iterations} trees: "
                f"{n_fits} CatBoost fits taking {self.numbers['cv_cpu_seconds']:.0f} CPU-seconds. "
                f"{cached} of them were read from the cache "
                f"`{lookup.analysis_dir(s.profile, 'reverse_cv', 'results').as_posix()}` "
                f"(out-of-fold predictions of an earlier fit from the same table, elements, property values "
                f"and settings); this build fitted {n_fits - cached} in {self.cv_seconds:.0f} s wall "
                f"over {s.n_jobs} process(es).")

    def counts_frame(self) -> pd.DataFrame:
        """Per property (the paper's name): ``n_elements`` used, ``n_with_value``, ``dropped`` symbols."""
        return self.counts.rename(index=PROPERTIES)

    def protocols(self) -> pd.DataFrame:
        """The protocol table of CT, cgcnn92 and random128 (:data:`PROTOCOL_TABLES` present), on the
        elements all tables share, the protocols of :func:`protocol_scope`, both caches; records
        ``r2_protocols`` and :func:`protocol_cost` (also kept as ``protocol_cost``)."""
        kw = self.settings.cv_kwargs()
        cv_cache = kw.pop("cache_dir")
        t0 = time.perf_counter()
        pt = protocol_table(self.tables, self.props, names=[n for n in PROTOCOL_TABLES if n in self.tables],
                            **kw, **protocol_scope(self.settings.profile),
                            cache_dir=self.settings.protocol_cache, cv_cache_dir=cv_cache)
        self.protocol_cost = protocol_cost(pt, time.perf_counter() - t0)
        self.numbers.update(r2_protocols=protocol_numbers(pt), **self.protocol_cost)
        return pt

    def shap(self) -> dict:
        """:func:`shap_by_property` of the analysed table (all elements with a value, seed 0, the
        page's trees and ``top``); records ``top_dims`` (0-based, per property)."""
        from ctlib.elements import ELEMENTS

        s = self.settings
        out = shap_by_property(list(ELEMENTS), self._matrix(), self.props, self.tables, iterations=s.iterations,
                               seed=0, top=s.top, thread_count=2, order=list(ELEMENTS))
        self.numbers["top_dims"] = {p: [int(d) for d in out[p]["top"]["dim"]] for p in out}
        return out

    def table7(self, shap: Mapping[str, dict]) -> pd.DataFrame:
        """Table VII (:func:`~ctlib.analysis.reverse.importance.table7` with the page's ``top``);
        records ``top5_shap_share`` per property."""
        t7 = _table7(shap, top=self.settings.top)
        self.numbers["top5_shap_share"] = dict(zip(shap, t7["ours: share of total mean |SHAP| in top 5"].astype(float)))
        return t7

    def stability(self, shap: Mapping[str, dict]) -> tuple[pd.DataFrame, str]:
        """How stable the top-5 dimensions are, over CatBoost seeds 0, 1, 2 (seed 0 from ``shap``)
        and, with two or more, over the embedding's training seeds.

        Returns:
            ``(table, note)``: ``property`` and the mean Jaccard index of the top-5 sets per
            source of randomness; a Markdown line on the embedding seeds compared. Records
            ``topdim_stability``.
        """
        from ctlib.elements import ELEMENTS

        s, els = self.settings, list(ELEMENTS)
        known = {p: {0: self.numbers["top_dims"][p][:5]} for p in shap}
        model = catboost_seed_stability(els, self._matrix(), self.props, self.tables, seeds=(0, 1, 2),
                                        iterations=s.iterations, top=5, thread_count=2, order=els, known=known,
                                        cache_dir=s.shap_cache)
        stab = model[["property", "mean Jaccard"]].rename(
            columns={"mean Jaccard": "CatBoost seeds: mean Jaccard of top-5"})
        if len(self.sources) >= 2:
            tables = {x.seed: (els, x.embedding.reindex(els).matrix.astype(np.float64)) for x in self.sources}
            es = embedding_seed_stability(tables, self.props, self.tables, iterations=s.iterations, seed=0, top=5,
                                          thread_count=2, order=els, cache_dir=s.shap_cache)
            stab["embedding seeds: mean Jaccard of top-5"] = es["mean Jaccard"].to_numpy()
            note = f"Embedding seeds compared: {[x.seed for x in self.sources]}."
        else:
            note = (f"Only one seed of this embedding exists for profile `{s.profile}`, so stability across "
                    f"embedding seeds cannot be measured here.")
        self.numbers["topdim_stability"] = stab.to_dict(orient="records")
        return stab, note

    def finish(self, seconds: float) -> dict:
        """``numbers`` with the page's run time (``seconds``) added: what the notebook writes."""
        self.numbers["seconds"] = float(seconds)
        return self.numbers


def _page_tables(src, baselines: Sequence[str]):
    """``(emb, tables)``: the analysed table in the order of the 89 elements, and name ->
    (elements, matrix) of CT then the baselines. Raises ValueError when it lacks an element."""
    from ctlib.elements import ELEMENTS

    missing = [e for e in ELEMENTS if e not in src.embedding.elements]
    if missing:
        raise ValueError(f"the embedding ({src.description}) lacks {len(missing)} of the 89 elements: {missing}")
    emb = src.embedding.reindex(list(ELEMENTS))
    tables = {CT: (list(emb.elements), emb.matrix.astype(np.float64))}
    tables.update(baseline_tables(list(ELEMENTS), seed=0, include=baselines))
    return emb, tables


def run_page(settings: PageSettings, sources: Sequence, pending: str | None, *, embedding: str = "auto",
             final_tables: Callable[[str, int], Mapping] | None = None,
             over: Callable[[str], str] | None = None,
             properties: pd.DataFrame | None = None) -> ReversePage:
    """The chapter's CV: the CT table and the baselines on every property, read from or added to
    the CV cache; then the same CV on every stored CT pretraining's table.

    Args:
        settings: :func:`page_settings`.
        sources, pending: ``ctlib.pages.find_ct_sources`` (the tables found, or the
            paragraph saying why the page is pending).
        embedding: the page's ``embedding`` parameter; the other pretrainings are
            analysed only with ``"auto"`` and a known seed.
        final_tables: ``(profile, seed) -> {name: (elements, matrix)}`` of the tables
            Table VI is judged over (``ctlib.analysis.pretraining.judged_tables``: the
            pretraining seeds once three are stored, else every stored CT pretraining;
            ``final_tables``: always the latter); None: skipped.
        over: ``profile -> "seeds" | "pretrainings"``, what ``final_tables`` gives
            (``ctlib.analysis.pretraining.judged_over``), saved as ``pretrainings_over``.
        properties: the elemental properties (default ``ctlib.elements.elemental_properties()``).

    Returns:
        a :class:`ReversePage` whose ``numbers`` hold ``profile``, ``folds``,
        ``repeats``, ``iterations``, ``paper_r2``, ``pending``, and when not pending
        ``r2``, ``r2_pooled_values``, ``baselines``, ``cv_seconds``,
        ``cv_cpu_seconds``, ``cv_cached``, ``seeds``, ``pretrainings`` (with
        other pretrainings), ``n_elements``, ``dropped_elements`` and
        ``r2_mean_over_properties``.

    Raises:
        ValueError: the analysed table lacks one of the 89 elements.
    """
    s = settings
    numbers = {"profile": s.profile, "folds": s.folds, "repeats": s.repeats, "iterations": s.iterations}
    page = ReversePage(settings=s, paper_r2=paper_r2(), numbers=numbers)
    numbers["paper_r2"] = page.paper_r2
    if pending:
        numbers["pending"] = True
        return page
    from ctlib.elements import elemental_properties

    page.ok, page.sources, page.src = True, list(sources), sources[0]
    page.emb, page.tables = _page_tables(page.src, s.baselines)
    page.props = properties if properties is not None else elemental_properties()
    t0 = time.perf_counter()
    page.cv, page.counts = reverse_prediction_table(page.tables, page.props, **s.cv_kwargs())
    page.cv_seconds = time.perf_counter() - t0
    page.summary = summary_table(page.cv)
    numbers.update(pending=False, r2=r2_numbers(page.summary), r2_pooled_values=pooled_r2_values(page.cv),
                   baselines=list(s.baselines), cv_seconds=page.cv_seconds,
                   cv_cpu_seconds=float(page.cv["cpu_s"].sum()),
                   cv_cached=int(page.cv.loc[page.cv["scope"] == "fold", "cached"].sum()))
    numbers["seeds"] = [x.seed for x in page.sources]
    if embedding == "auto" and page.src.seed is not None and final_tables is not None:
        others = final_tables(s.profile, page.src.seed)
        if others:
            cv_p, _ = reverse_prediction_table(others, page.props, **s.cv_kwargs())
            page.across = summary_table(cv_p)
            numbers["pretrainings"] = pretraining_numbers(page.across)
            numbers["pretrainings_over"] = over(s.profile) if over is not None else "pretrainings"
    numbers["n_elements"] = {p: int(n) for p, n in page.counts["n_elements"].items()}
    numbers["dropped_elements"] = {p: d.split() for p, d in page.counts["dropped"].items()}
    numbers["r2_mean_over_properties"] = mean_r2_by_table(page.summary)
    return page
