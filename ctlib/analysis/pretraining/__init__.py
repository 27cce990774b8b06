"""CT pretraining, epoch by epoch: validation curves and the chemistry of the element table.

The paper pretrains CrystalTransformer on MP* and claims that the element table
it learns (method A) carries chemistry: it clusters (Figures 3-5) and it
predicts elemental properties (Table VI). A final table only shows where
training ended. This package follows the table through pretraining, from the
snapshots a pretraining run keeps at the profile's ``recipe.snapshot_epochs``
(``results/<profile>/fronts/embeddings/<run_id>/epoch_NNN.json``; epoch 0 =
the untrained table), and measures for every snapshot its drift from the
untrained start, its best k-means silhouette and the reverse-prediction R² of
five elemental properties with a cheap forest probe, beside the reference
tables (cgcnn92, megnet16, mat2vec, random128).

Its modules, each importing only those above it in this list:

* :mod:`.runs`: finding the pretraining runs in the store (stored, in
  progress, pending), their final validation and test numbers, the seeds
  stored, and the profile's recipe beside the authors';
* :mod:`.snapshots`: the element tables of the runs (snapshots, final
  tables, the rebuilt untrained table) and their drift;
* :mod:`.chemistry`: the forest-probe / k-means measures of every table,
  their bounded memo and their committed on-disk cache
  (``results/<profile>/analysis/chemistry``, content-addressed), the learned
  parts and the schedule comparison;
* :mod:`.curves`: the per-epoch validation curves and the page's figures;
* :mod:`.seeds`: the pretraining seeds (fp32, seeds 0-2) beside the book's bf16
  table: their errors, their tables' chemistry and how far they spread;
* :mod:`.finding`: the plateau rule and the page's opening finding;
* :mod:`.page`: notebook 11's settings, tables, readings and JSON summary.

No module imports ``ctlib.pages``, ``ctlib.book``, ``ctlib.claims`` or
``ctlib.cli``. Every name the module ``ctlib/analysis/pretraining.py`` had
is re-exported here, so ``from ctlib.analysis import pretraining;
pretraining.X`` and ``from ctlib.analysis.pretraining import X`` keep working.
Mutable settings (``MEMO_SIZE``) and the functions a test replaces
(``_forest``) live in :mod:`.chemistry`: patch them there.
"""
from __future__ import annotations

from ctlib.analysis.pretraining.runs import (  # noqa: F401
    ALT, FP32, IN_PROGRESS, KINDS, LABELS, PENDING, PLATEAU_GAIN, PLATEAU_WINDOW, SHORT, SHORT_LABELS, STORED,
    PretrainingRun, _best_epoch, _num, _schedule, budget_table, final_metrics, find_pretraining_runs,
    kind_targets, recent_gain, run_prefix, runs_frame, stored_seeds, unfinished_run,
)
from ctlib.analysis.pretraining.snapshots import (  # noqa: F401
    SEEDS_FOR_A_VERDICT, final_tables, judged_over, judged_tables, load_table, relative_drift, seed_tables,
    snapshot_frame,
)
from ctlib.analysis.pretraining.chemistry import (  # noqa: F401
    _MEMO, KS, MEMO_SIZE, PROBE_TREES, REFERENCES, _cache_name, _common, _digest, _forest, _measures, _memo,
    _pooled_r2, _r2s, _read_cached, _stored_and_learned, best_silhouette, chemistry_vs_epoch, clear_memo,
    learned_part_chemistry, probe_trees, reverse_r2, schedule_comparison,
)
from ctlib.analysis.pretraining.curves import (  # noqa: F401
    _STYLE, _legend_label, _log_if_wide, plot_chemistry, plot_learned_part, plot_validation_curves,
    validation_curves,
)
from ctlib.analysis.pretraining.finding import (  # noqa: F401
    PLATEAU_FRACTION, finding_text, one_draw, plateau_epoch, plateau_epochs,
)
from ctlib.analysis.pretraining.seeds import (  # noqa: F401
    BOOK_TABLE, against_seeds, seed_curves, seed_finding, seed_r2, seed_reading, seed_runs, seed_table,
    stored_seed_rows)
from ctlib.analysis.pretraining.page import (  # noqa: F401
    PageSettings, chemistry_styler, headline_mae, headline_r2, learned_groups, learned_reading,
    learned_styler, measure_chemistry, page_settings, page_summary, r2_styler, run_summary,
    schedule_reading, schedule_styler, status_markdown,
)

__all__ = [
    "KINDS", "ALT", "FP32", "LABELS", "SHORT", "REFERENCES", "KS", "STORED", "IN_PROGRESS", "PENDING",
    "PretrainingRun", "kind_targets", "run_prefix", "find_pretraining_runs", "final_tables", "seed_tables",
    "judged_over", "judged_tables", "SEEDS_FOR_A_VERDICT", "seed_runs", "seed_curves", "seed_table", "seed_reading",
    "stored_seed_rows", "seed_r2", "seed_finding", "against_seeds",
    "runs_frame",
    "validation_curves", "final_metrics", "snapshot_frame", "load_table",
    "relative_drift", "best_silhouette", "reverse_r2", "chemistry_vs_epoch", "schedule_comparison",
    "learned_part_chemistry", "plot_learned_part",
    "budget_table", "plot_validation_curves", "plot_chemistry", "clear_memo",
    # added with the package
    "stored_seeds", "PLATEAU_FRACTION", "plateau_epoch", "plateau_epochs", "finding_text", "one_draw",
    "PageSettings", "page_settings", "measure_chemistry", "status_markdown", "headline_mae", "headline_r2",
    "r2_styler", "chemistry_styler", "schedule_styler", "schedule_reading", "learned_styler",
    "learned_reading", "learned_groups", "run_summary", "page_summary",
]
