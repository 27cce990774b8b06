"""Our numbers beside the paper's, and the one rule that turns them into verdicts.

Everything here is pure bookkeeping over results records; nothing trains.

The verdict rule (:func:`paired_verdict`, used for every claim of the book)
--------------------------------------------------------------------------

A claim is a *relative change* of an error metric from a baseline to a
variant, e.g. "CT-C lowers CGCNN's E_f MAE by 14 %".

1. **Comparable runs only.** Baseline and variant must have been trained with
   the same seeds and evaluated on the same test set: for every seed one run
   of each, with the same ``n_test`` and, when the tidy rows carry it, the
   same ``split_hash`` (the hash of the train/val/test indices). Otherwise the
   rule refuses to judge and returns the verdict **not comparable** with the
   reason (it does not raise, so one bad pair does not hide the other claims).
   A side without any finished run gives **missing**, and so do two sides
   that plan the same seeds while some of those runs are not stored yet.
2. **Paired relative change.** Per seed ``s``: ``r_s = (e_var - e_base) /
   e_base`` of the error ``e`` (MAE or RMSE as they are; for R² the
   unexplained variance ``e = 1 - R²``), so lower error is a negative change.
3. **Interval.** Mean of ``r_s`` and its two-sided 95 % Student-t interval
   over the ``n`` seeds, ``mean ± t(0.975, n-1) · sd / sqrt(n)`` (sd with
   ddof = 1). With one seed there is no interval: **inconclusive (1 seed)**.
4. **Verdict.** Six words, for the paper's change ``p`` and our interval
   ``[lo, hi]``; the word follows the interval in size as well as in sign:

   - **reproduced**: the interval excludes 0 on ``p``'s side and contains ``p``;
   - **weaker than claimed**: it excludes 0 on ``p``'s side but lies between 0
     and ``p`` (the effect is real and smaller than the paper's);
   - **stronger than claimed**: it excludes 0 on ``p``'s side and lies beyond ``p``;
   - **not reproduced**: it contains 0 but excludes ``p``: the paper's effect is
     ruled out although the direction is not settled;
   - **contradicted**: it excludes 0 on the other side;
   - **inconclusive**: it contains both 0 and ``p``.

   Where the paper prints no number (a control, a learning-curve trend) only the
   direction is judged: **reproduced** (0 excluded on the expected side),
   **contradicted** (the other side) or **inconclusive** (0 inside).
5. **Effect size.** ``effect_size_differs`` is True when ``p`` lies outside our
   interval (None with one seed, or without a paper number); the six words
   already say so, it stays for the downloads.
6. **Unpaired contrasts.** Two groups that share no run (back ends of different
   sizes: different training draws) are compared with a Welch interval
   (:func:`welch_interval`, :func:`welch_from_stats`, :func:`unpaired_verdict`), never paired by seed.
7. **Many claims.** :func:`holm` says which verdicts keep their word when the
   family of claims is corrected for multiplicity (Holm, family-wise 5 %).

The result is a :class:`Verdict`. Two claims are not changes between two of
our runs and have their own functions here: the reverse-prediction R² values
of Table VI (:func:`r2_verdict`, the same rule against the no-information
predictor) and the choice of k = 3 clusters (:func:`k_verdict`, against the
silhouettes of random tables).

The package: :mod:`.numbers` (the paper's and the published numbers, seed statistics, the
one number format), :mod:`.rule` (the six words, Welch, Holm), :mod:`.special` (Table VI's
R² and the k = 3 clusters), :mod:`.ledger` (the committed verdict ledger, imported by its
own name). It imports nothing else of ctlib, so every layer may use it.
Every name is re-exported here.
"""
from __future__ import annotations

from ctlib.report.numbers import (  # noqa: F401
    paper_tables, paper_value, published_baselines, published_value, seed_stats, sig_decimals,
    fmt_sig, fmt_pm, summarize, beside_paper, others_contain_zero)
from ctlib.report.rule import (  # noqa: F401
    REPRODUCED, WEAKER, STRONGER, NOT_REPRODUCED, CONTRADICTED, INCONCLUSIVE, ONE_SEED,
    NOT_COMPARABLE, MISSING, NOT_TESTABLE, SIX_WORDS, SAME_SIDE, VERDICTS, LEVEL, Verdict,
    t_interval, _pct, _not_judged, verdict_from_changes, word, _WHY, _decide, _p_from_interval,
    welch_interval, welch_from_stats, unpaired_verdict, holm, holm_words, holm_family, error_of, paired_verdict)
from ctlib.report.special import (  # noqa: F401
    r2_verdict, best_k, KVerdict, _quantile, _null_best, k_verdict)
