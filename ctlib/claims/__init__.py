"""Every quantitative claim of the paper, and its verdict from our runs.

A claim compares a *variant* with a *baseline* inside one of our tables
(``ctlib.experiments``); the paper's two numbers give its relative change.
:func:`judge` applies the one rule of :mod:`ctlib.report`
(:func:`ctlib.report.paired_verdict`) to each; :func:`judge_interpretability`
judges the R² values of Table VI (:func:`ctlib.report.r2_verdict`) and the
k = 3 clusters (:func:`ctlib.report.k_verdict`) from the summaries that
notebooks 07 and 08 write. No verdict logic lives here.

Display: a ``missing`` verdict reads *pending* (:func:`verdict_label`), or
*not run on this profile* when the profile's table lacks the claim's columns
(``run_here``); :func:`scorecard_figure` draws every claim in one figure (the
landing page shows it, saved by notebook 10 as ``figures/scorecard.png``;
:func:`write_placeholder_scorecard` stands in while notebook 10 has not run).

The package: :mod:`.paper` (the claims), :mod:`.judge` (the verdicts), :mod:`.display` (their
words, colours, table and scorecard). Every name is re-exported here.
"""
from __future__ import annotations

from ctlib.claims.paper import (  # noqa: F401
    Claim, _paper, _claims, CLAIMS, jarvis_claims, untested, NOT_TESTABLE, claims_for)
from ctlib.claims.judge import (  # noqa: F401
    collect_tables, PRETRAINED_COLUMNS, UNTRAINED_COLUMN, judge_pretraining, _ours, _front_of,
    fronts_text, judge, _BACK, judge_published, MIN_TABLE_SEEDS, _pretrainings_text,
    _table_seeds_caveat, _lower_first, _k3_across, judge_k3, _r2_cells, judge_r2, read_summary,
    judge_interpretability, holm_line)
from ctlib.claims.display import (  # noqa: F401
    PENDING, NOT_RUN, verdict_label, shown_verdict, _COLOURS, VERDICT_COLOURS, styled, _short,
    scorecard_figure, SCORECARD, write_placeholder_scorecard)
