"""Reverse prediction of elemental properties from element embeddings (Table VI, VII, Fig. 6).

The paper regresses five elemental properties (atomic radius, boiling and
melting temperature, electrical conductivity, first ionisation energy) on the
128-d CT embedding of each element with CatBoost and reports R² "averaged over
multiple seeds" (Table VI); SHAP then names the most important embedding
dimensions (Figure 6, Table VII).

Protocol used here (the paper does not state its split): per property, the
elements with a value and a row in every table compared; repeated 5-fold CV of
a default ``CatBoostRegressor``; R² pooled out of fold (the headline) and per
fold (:mod:`.cv`). Because the paper's scoring is unknown,
:func:`protocol_table` scores the same fits four ways (:data:`PROTOCOLS`:
in-sample, 80/20 split x 10 seeds, leave-one-out, and the 5-fold pooled
protocol): in-sample, even a random table reaches a high R², held out it
scores about 0.

Shapes: an embedding is ``(n_elements, d)`` with rows following an ordered
list of element symbols; a property is a ``pandas.Series`` indexed by symbol.

Its modules, each importing only those above it in this list:

* :mod:`.data`: the properties, the baseline tables, the elements shared and the folds;
* :mod:`.fitting`: the CatBoost fit and the one loop that reads the caches, fits
  what is missing, writes new entries and pools held-out predictions;
* :mod:`.cv`: the chapter's repeated K-fold CV and its cache key
  (``results/<profile>/analysis/reverse_cv``);
* :mod:`.protocols`: the four scoring protocols and their cache key
  (``results/<profile>/analysis/reverse_protocols``);
* :mod:`.tables`: Table VI, the comparison of tables and the numbers saved;
* :mod:`.protocol_report`: the protocol section's table, numbers and text;
* :mod:`.importance`: SHAP, Table VII and the stability of the top dimensions;
* :mod:`.figures`: the R² bars and Figure 6's beeswarms;
* :mod:`.page`: notebook 08's settings, sections and JSON summary.

Every name the module ``ctlib/analysis/reverse.py`` had is re-exported here, so
``from ctlib.analysis import reverse; reverse.X`` and
``from ctlib.analysis.reverse import X`` keep working. The CatBoost fit that a
test replaces to count fits is :func:`.fitting.fit_catboost`: patch it there
(``monkeypatch.setattr(reverse.fitting, "fit_catboost", ...)``).
"""
from __future__ import annotations

from ctlib.analysis.reverse.data import (  # noqa: F401
    BASELINE_DESCRIPTIONS, PROPERTIES, baseline_tables, common_elements, cv_splits, feature_names,
    property_matrix,
)
from ctlib.analysis.reverse.fitting import (  # noqa: F401
    FitGroup, fit_catboost, fit_groups, pooled_predictions, read_predictions, write_predictions,
)
from ctlib.analysis.reverse.cv import (  # noqa: F401
    cv_cache_key, reverse_prediction_cv, reverse_prediction_table, summarize_cv,
)
from ctlib.analysis.reverse.protocols import (  # noqa: F401
    PROTOCOLS, SPLIT_SEEDS, SPLIT_TEST, protocol_cache_key, protocol_scope, protocol_table,
)
from ctlib.analysis.reverse.tables import (  # noqa: F401
    mean_r2_by_table, paper_r2, pooled_r2_values, pretraining_numbers, r2_numbers, r2_wide, summary_table,
    table6,
)
from ctlib.analysis.reverse.protocol_report import (  # noqa: F401
    protocol_cost, protocol_cost_text, protocol_label, protocol_numbers, protocol_text, protocol_wide,
)
from ctlib.analysis.reverse.importance import (  # noqa: F401
    catboost_seed_stability, embedding_seed_stability, jaccard, mean_abs_shap, shap_by_property, shap_top_dims,
    shap_values, table7, topdim_stability,
)
from ctlib.analysis.reverse.figures import plot_r2_bars, plot_shap_beeswarm, plot_shap_panel  # noqa: F401
from ctlib.analysis.reverse.page import (  # noqa: F401
    CT, FOLDS, PROTOCOL_TABLES, PageSettings, ReversePage, page_settings, run_page,
)

__all__ = [
    "PROPERTIES",
    "BASELINE_DESCRIPTIONS",
    "feature_names",
    "common_elements",
    "property_matrix",
    "cv_splits",
    "reverse_prediction_cv",
    "summarize_cv",
    "reverse_prediction_table",
    "cv_cache_key",
    "PROTOCOLS",
    "SPLIT_SEEDS",
    "SPLIT_TEST",
    "protocol_table",
    "protocol_cache_key",
    "protocol_scope",
    "protocol_label",
    "protocol_wide",
    "protocol_numbers",
    "protocol_cost",
    "protocol_text",
    "baseline_tables",
    "fit_catboost",
    "shap_values",
    "shap_top_dims",
    "jaccard",
    "topdim_stability",
    "paper_r2",
    "r2_numbers",
    "table7",
    "summary_table",
    "pooled_r2_values",
    "table6",
    "r2_wide",
    "shap_by_property",
    "catboost_seed_stability",
    "embedding_seed_stability",
    "mean_abs_shap",
    "plot_shap_beeswarm",
    "plot_r2_bars",
    # added with the package
    "FitGroup", "fit_groups", "pooled_predictions", "read_predictions", "write_predictions",
    "mean_r2_by_table", "pretraining_numbers", "protocol_cost_text", "plot_shap_panel",
    "FOLDS", "CT", "PROTOCOL_TABLES", "PageSettings", "page_settings", "ReversePage", "run_page",
]
