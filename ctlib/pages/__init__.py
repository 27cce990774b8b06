"""Building blocks of the result pages (notebooks 02-10).

Each notebook calls an experiment from :mod:`ctlib.experiments` (which trains
or reuses stored runs), then these helpers; every page has the same shape:

1. :func:`page_top` / :func:`headline`: the paper's claims, our numbers and the
   verdicts (:mod:`ctlib.claims`, computed), with :func:`budget_note` saying where
   the profile's budget differs from the paper's;
2. the figure (:func:`bars_by_target`, :func:`perovskite_bars`, ...);
3. the details (:func:`compare` + :func:`styled`, :func:`provenance_line`, ...).

Runs not stored yet (NaN rows, ``run_id`` None) read **pending** in tables,
figures and verdicts; the control rows (:data:`CONTROLS`) are labelled. Every
MAE is shown by :func:`fmt_mae` (3 significant digits). Pages 07 and 08 use
:func:`find_ct_sources` (a pending page while the CT table is not stored) and
:func:`embedding_drift`. :func:`write_summary` writes the page's key numbers.

The package: :mod:`.common` (formats, pending, summaries), :mod:`.tables`, :mod:`.figures`,
:mod:`.text` (the top of a page, budget notes, direction tables), :mod:`.sources` (the
CT table pages 07 and 08 analyse). Every name of these is re-exported here. Two page modules
are imported by name: :mod:`.table1` (page 02) and :mod:`.jarvis` (page 09).
"""
from __future__ import annotations

from ctlib.pages.common import (  # noqa: F401
    _import_tqdm_quietly, write_summary, CONTROLS, PENDING, fmt_mae, fmt_signed, fmt_rel, records,
    provenance_line, _md, _n, show_pending)
from ctlib.pages.tables import (  # noqa: F401
    compare, label_row, styled, _T1_NAMES, _T_KEYS, paper_values, table1_scale, baseline_fidelity,
    baselines, perovskite_comparison)
from ctlib.pages.figures import (  # noqa: F401
    bar_vs_paper, bars_by_target, curves_by_target, learning_curves, parity, parity_grid, perovskite_bars)
from ctlib.pages.text import (  # noqa: F401
    _change, ANSWERS, direction_table, direction_reading, headline, _stop_rule, budget_note,
    page_top, verdict_summary)
from ctlib.pages.sources import (  # noqa: F401
    find_ct_sources, drift_text, embedding_drift, embedding_budget)
