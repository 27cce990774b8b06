"""One function per experiment of the paper; each returns a tidy DataFrame.

Every training goes through :func:`train_one`, which asks the results store
for a run with the same config hash first (model + config, training config,
dataset fingerprint, split, targets, seed, embedding file). A baseline trained
for Table I is therefore reused by Tables II-IV, and a notebook re-executed on
the same profile retrains nothing. ``force=True`` retrains; ``train=False``
only reads the store (missing runs come back as NaN rows).

Substitutions forced by the data we have (stated in the book):

* **MP-2018** is the 74 % subset with current MP structures (51,222 of 69,239).
* **MP\\*** (134,243 materials) is not available: every "pretrained on MP\\*"
  front end is pretrained on the MP-2018 *train* split, so test materials
  never enter pretraining.
* The perovskite set of the paper (3,334 HOIP + Pb-free structures) cannot be
  rebuilt; we sample 3,334 Castelli cubic perovskites, and run HOIP separately.

Tidy rows carry: ``table, column, target, model, init, seed, mae, rmse, r2,
n_test, run_id`` (+ experiment-specific columns).

The package, one module per job (each imports only those above it in this list):

* :mod:`.common`: targets, the profile's MP-2018 draw and splits, model and training
  configs, :func:`train_one`, tidy rows;
* :mod:`.pretrain`: pretrainings (CT, GNN fronts, other schedule, less data), the untrained
  table, learned parts, control starts, each front's own run;
* :mod:`.tables`: Tables I-V, Table IV's variants, the headline on the whole train split,
  Table III's multi-task rows with front seed = back seed;
* :mod:`.transfer`: perovskites, the data-scarce transfer (and its multi-task start with
  front seed = back seed), the zoo, Matbench, the pretraining-data curve, the learning curve.

Every name is re-exported here: ``from ctlib import experiments as ex; ex.table2(...)``.
A test that replaces a function (``monkeypatch``) patches it in the module that calls it.
"""
from __future__ import annotations

from ctlib.experiments.common import (  # noqa: F401
    _compact, _DATA_CACHE, data_memo, DEFAULT_INIT, embedding_path, front_seed, front_seeds,
    model_config, MODEL_LETTER, model_split, mp_data, _profile, results_root, _row, _sample,
    SAMPLE_SEED, _sample_split, _seeds, TARGETS, train_config, train_one, UNITS)
from ctlib.experiments.pretrain import (  # noqa: F401
    ALT_SCHEDULE_EXPERIMENT, alt_schedule_text, control_starts, curve_pretrainings, FP32_EXPERIMENT, FP32_OVERRIDES,
    FRACTION_EXPERIMENT, fraction_label, fronts, learned_part, pretrain_ct_alt_schedule, pretrain_ct_fp32,
    pretrain_ct_fraction, pretrain_ct_multitask, pretrain_front, table2_fronts, untrained_ct_table)
from ctlib.experiments.tables import (  # noqa: F401
    _cgcnn_baseline, _control_rows, ct_coord_scale, _ct_embeddings, headline, HEADLINE_TABLE,
    jarvis_path, matched_fronts, MATCHED_TABLE, mean_baseline, table1, _table1_ct_is_pretraining,
    table1_fronts, table2, table3, table4, TABLE4_FIRST, TABLE4_VARIANTS, table5)
from ctlib.experiments.transfer import (  # noqa: F401
    cgcnn_set, EXTERNAL_TABLES, fraction_transfer, hoip_data, learning_curve, LEARNING_CURVE_TABLES, matbench,
    matbench_data,
    MATBENCH_REFERENCE, MATCHED_START, matched_scarce, perovskite_data, PEROVSKITE_FROM_SCARCE, perovskites,
    scarce_schedule, scarce_starts, SCARCE_TASKS, scarce_transfer, zoo_transfer)
