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
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib import report


@dataclass(frozen=True)
class Claim:
    """One claim: in ``table``/``target``, ``variant`` vs ``baseline`` (MAE).

    ``paper_base`` / ``paper_var`` are the paper's numbers; ``paper_rel`` is
    the relative change they make, whose sign is the claimed direction.
    """

    id: str
    text: str
    table: str
    target: str
    baseline: str
    variant: str
    paper_base: float
    paper_var: float
    dataset: str | None = None

    @property
    def paper_rel(self) -> float:
        return (self.paper_var - self.paper_base) / self.paper_base


def _paper(table, row, col):
    """The paper's number in ``row``/``col`` of one of its tables (``ctlib/paper_tables.json``)."""
    return report.paper_value(table, row, col)


def _claims() -> list[Claim]:
    t1, t2, t3, t4 = ("table1_models", "table2_frontend_backend", "table3_cross_task",
                      "table4_embedding_variants")
    out = []
    for tg, col in (("E_f", "MP-E_f"), ("E_g", "MP-E_g")):
        out += [
            Claim(f"I-ct-vs-cgcnn-{tg}", f"CT alone is less accurate than CGCNN on {tg}", "I", tg,
                  "cgcnn", "ct", _paper(t1, "CGCNN", col), _paper(t1, "CrystalTransformer", col)),
            Claim(f"I-megnet-vs-cgcnn-{tg}", f"MEGNet beats CGCNN on {tg}", "I", tg, "cgcnn", "megnet",
                  _paper(t1, "CGCNN", col), _paper(t1, "MEGNET", col)),
            Claim(f"I-alignn-vs-cgcnn-{tg}", f"ALIGNN beats CGCNN on {tg}", "I", tg, "cgcnn", "alignn",
                  _paper(t1, "CGCNN", col), _paper(t1, "ALIGNN", col)),
        ]
    for tg in ("E_f", "E_g"):
        col1 = "MP-" + tg
        out += [
            Claim(f"II-CT-C-{tg}", f"CT embeddings improve CGCNN on {tg} (CT-C vs CGCNN)", "II", tg,
                  "C default", "CT-C", _paper(t1, "CGCNN", col1), _paper(t2, tg, "CT-C")),
            Claim(f"II-CT-M-{tg}", f"CT embeddings improve MEGNet on {tg} (CT-M vs MEGNet)", "II", tg,
                  "M default", "CT-M", _paper(t1, "MEGNET", col1), _paper(t2, tg, "CT-M")),
            Claim(f"II-CT-A-{tg}", f"CT embeddings improve ALIGNN on {tg} (CT-A vs ALIGNN)", "II", tg,
                  "A default", "CT-A", _paper(t1, "ALIGNN", col1), _paper(t2, tg, "CT-A")),
        ]
        for front in ("C", "M", "A"):
            out.append(Claim(f"II-CT-beats-{front}-C-{tg}",
                             f"CT's embedding transfers better than {front}'s into CGCNN on {tg}", "II", tg,
                             f"{front}-C", "CT-C", _paper(t2, tg, f"{front}-C"), _paper(t2, tg, "CT-C")))
    out += [
        Claim("III-Eg-to-Ef", "Embeddings pretrained on E_g improve CGCNN on E_f (cross-task)", "III", "E_f",
              "CGCNN", "CGCNN(E_g)", _paper(t3, "E_f", "CGCNN"), _paper(t3, "E_f", "CGCNN(E_g)")),
        Claim("III-Ef-to-Eg", "Embeddings pretrained on E_f improve CGCNN on E_g (cross-task)", "III", "E_g",
              "CGCNN", "CGCNN(E_f)", _paper(t3, "E_g", "CGCNN"), _paper(t3, "E_g", "CGCNN(E_f)")),
    ]
    for tg in ("E_f", "E_g"):
        single = "CGCNN(E_f)" if tg == "E_f" else "CGCNN(E_g)"
        out += [
            Claim(f"III-mt-{tg}", f"Multi-task CT embeddings improve CGCNN on {tg}", "III", tg, "CGCNN",
                  "CGCNN(mt)", _paper(t3, tg, "CGCNN"), _paper(t3, tg, "CGCNN(mt)")),
            Claim(f"III-mt-vs-single-{tg}", f"Multi-task embeddings beat the same-task ones on {tg}", "III", tg,
                  single, "CGCNN(mt)", _paper(t3, tg, single), _paper(t3, tg, "CGCNN(mt)")),
            Claim(f"IV-coords-{tg}", f"Adding CT's coordinate embedding hurts CGCNN on {tg}", "IV", tg,
                  "CGCNN(E_a)", "CGCNN(E_a+E_c)", _paper(t4, tg, "CGCNN(E_a)"),
                  _paper(t4, tg, "CGCNN(E_a+E_c)")),
            Claim(f"IV-frozen-vs-trainable-{tg}", f"Frozen embeddings are slightly worse than fine-tuned on {tg}",
                  "IV", tg, "CGCNN(E_a)", "CGCNN(E_a^f)", _paper(t4, tg, "CGCNN(E_a)"),
                  _paper(t4, tg, "CGCNN(E_a^f)")),
            Claim(f"IV-frozen-vs-base-{tg}", f"Frozen CT embeddings still beat plain CGCNN on {tg}", "IV", tg,
                  "CGCNN", "CGCNN(E_a^f)", _paper(t4, tg, "CGCNN"), _paper(t4, tg, "CGCNN(E_a^f)")),
        ]
    from ctlib.experiments import HEADLINE_TABLE

    for tg in ("E_f", "E_g"):   # the headline again, with the back end on the whole train split
        out.append(Claim(f"III-mt-whole-split-{tg}", f"Multi-task CT embeddings improve CGCNN on {tg}, "
                         "with the back end on the whole train split (the paper's size)", HEADLINE_TABLE, tg,
                         "CGCNN", "CGCNN(mt)", _paper(t3, tg, "CGCNN"), _paper(t3, tg, "CGCNN(mt)")))
    perovskite = report.paper_tables()["perovskite_formation_energy"]
    out.append(Claim("perovskite-CT-C", "CT embeddings improve CGCNN on scarce perovskite formation energies "
                     "(paper: merged HOIP + Pb-free set; ours: 3,334 Castelli perovskites)", "perovskites",
                     "e_form_per_atom", "C", "CT-C", perovskite["CGCNN"], perovskite["CT-CGCNN"],
                     dataset="castelli-3334"))
    return out


CLAIMS: list[Claim] = _claims()


def jarvis_claims() -> list[Claim]:
    """Table V's claims (CT-C vs CGCNN on JARVIS-DFT): judged by page 09 only when the user
    supplies a ``dft_3d`` file, so they are not part of :data:`CLAIMS`."""
    t5 = "table5_jarvis"
    return [Claim(f"V-CT-C-{tg}", f"CT embeddings improve CGCNN on JARVIS-DFT {tg}", "V", tg, "CGCNN", "CT-C",
                  _paper(t5, tg, "CGCNN"), _paper(t5, tg, "CT-C")) for tg in ("E_f", "E_g")]


def untested(claims: list[Claim], reason: str) -> list[dict]:
    """Rows for :func:`ctlib.pages.headline` of claims that cannot be run here (verdict
    ``not testable offline``), with the paper's numbers."""
    return [{"claim": c.text, "paper": f"{c.paper_base:g} → {c.paper_var:g} ({100 * c.paper_rel:+.0f}%)",
             "ours": f"— ({reason})", "verdict": report.NOT_TESTABLE} for c in claims]

NOT_TESTABLE = [
    ("Table I, MP* columns", "MP* (134,243 materials of a later MP release, with labels) is not in the "
     "offline data mirror."),
    ("Table V (JARVIS-DFT)", "JARVIS-DFT 2021.8.18 structures are not in the offline mirror; the notebook "
     "runs when the user provides a jarvis-tools dft_3d file."),
    ("Pretraining on MP*", "Replaced by pretraining on the MP-2018 train split (test materials excluded)."),
    ("Perovskite set of 3,334 merged structures", "The Pb-free set of Nakajima & Sawada (2017) could not be "
     "had; we use 3,334 sampled Castelli perovskites and, separately, HOIP."),
]


def claims_for(table: str, target: str | None = None, claims: list[Claim] = CLAIMS) -> list[Claim]:
    """The claims of one table (``"I"``, ``"II"``, ``"III"``, ``"IV"``, ``"perovskites"``).

    Raises:
        ValueError: for a table without claims.
    """
    out = [c for c in claims if c.table == table and (target is None or c.target == target)]
    if not out:
        raise ValueError(f"no claim for table {table!r}" + (f", target {target!r}" if target else "")
                         + f"; tables with claims: {sorted({c.table for c in claims})}")
    return out


def collect_tables(profile: str, seeds=None, *, device: str = "auto") -> pd.DataFrame:
    """Every experiment frame a claim reads, from the results store only (nothing trains).

    Tables I-IV, the perovskites, the fronts' own runs (``table`` = ``"fronts"``,
    :func:`ctlib.experiments.fronts`) and the headline on the whole train split
    (:func:`ctlib.experiments.headline`, cpu only), concatenated; runs not stored come back
    as rows with NaN metrics (their claims are then *missing*, shown as pending).
    """
    from ctlib import experiments

    kw = dict(device=device, train=False)
    return pd.concat([experiments.table1(profile, seeds, **kw), experiments.table2(profile, seeds, **kw),
                      experiments.table3(profile, seeds, **kw), experiments.table4(profile, seeds, **kw),
                      experiments.perovskites(profile, seeds, **kw), experiments.fronts(profile, seeds, **kw),
                      experiments.headline(profile, seeds, **kw)], ignore_index=True)


#: Table III's pretrained CT tables, each judged against the untrained CT table it started from.
PRETRAINED_COLUMNS = ("CGCNN(E_f)", "CGCNN(E_g)", "CGCNN(mt)")
UNTRAINED_COLUMN = "CGCNN(CT untrained)"


def judge_pretraining(tables: pd.DataFrame, scarce: pd.DataFrame | None = None) -> pd.DataFrame:
    """What pretraining adds: each pretrained CT table against its untrained start.

    Not a claim of the paper. The untrained CT table has the pretrained tables'
    shape (same model and seed, 128 dimensions) and has learned nothing, so a
    lower MAE than its own is what pretraining added. The same rule as every
    claim (:func:`ctlib.report.paired_verdict`), in the direction "lower MAE":
    Table III's back ends on MP-2018 (per target) and, with ``scarce``
    (:func:`ctlib.experiments.scarce_transfer` rows), the perovskite sets.

    Returns:
        :func:`ctlib.analysis.transfer.paired_verdicts` rows with a ``test``
        column naming the test set (e.g. "MP-2018 E_f").
    """
    from ctlib.analysis import transfer

    t3 = tables[tables["table"] == "III"]
    parts = [transfer.paired_verdicts(t3.assign(test="MP-2018 " + t3["target"].astype(str)),
                                      [(c, UNTRAINED_COLUMN) for c in PRETRAINED_COLUMNS],
                                      group="test", label="column")]
    if scarce is not None and len(scarce):
        named = scarce.assign(test=scarce["dataset"].map(lambda d: transfer.DATASET_LABELS.get(d, d)))
        parts.append(transfer.paired_verdicts(named, transfer.PRETRAINING_COMPARISONS,
                                              group="test", label="start"))
    return pd.concat(parts, ignore_index=True)


def _ours(rows: pd.DataFrame) -> str:
    return report.fmt_pm(*report.seed_stats(rows["mae"]), sig=3)


def _front_of(column: str) -> str | None:
    """The front letter of a Table II column ``<F>-<B>`` (``CT-C`` -> ``CT``), else None."""
    front, dash, back = str(column).partition("-")
    return front if dash and back and front in ("C", "M", "A", "CT") else None


def fronts_text(tables: pd.DataFrame, c: "Claim") -> str:
    """For a claim that sets one front's table against another's (Table II ``X-C`` vs
    ``CT-C``): each front's own test MAE on the claim's target, e.g. "own test MAE of the
    fronts: C 0.0447, CT 0.109"; "" for any other claim or without front rows."""
    letters = [_front_of(x) for x in (c.baseline, c.variant)]
    if c.table != "II" or None in letters or "table" not in tables:
        return ""
    own = tables[(tables["table"] == "fronts") & (tables["target"] == c.target)]
    cells = []
    for f in letters:
        maes = own[own["column"] == f]["mae"]
        cells.append(f"{f} {report.fmt_sig(float(maes.mean())) if maes.notna().any() else 'pending'}")
    return "own test MAE of the fronts: " + ", ".join(cells) if len(own) else ""


def judge(tables: pd.DataFrame, claims: list[Claim] = CLAIMS) -> pd.DataFrame:
    """Verdict table: one row per claim, by :func:`ctlib.report.paired_verdict`.

    Args:
        tables: concatenation of the experiment frames (columns ``table``,
            ``target``, ``column``, ``seed``, ``mae``, ``n_test``, optionally
            ``split_hash``; perovskite rows also ``dataset``, and ``target``
            holds the target name).

    Returns:
        DataFrame with ``claim``, ``table``, ``target``, ``paper`` and ``ours``
        (text), ``verdict``, ``rel_mean``, ``rel_lo``, ``rel_hi`` (our mean
        relative change of the MAE and its 95 % interval), ``paper_rel``,
        ``n_seeds``, ``effect_size_differs``, ``p_value`` and ``p_value_paper`` (the
        tests behind the interval, for :func:`holm_line`), ``seeds`` and ``changes`` (the
        paired seeds and their relative changes), ``reason``, ``fronts`` (for a claim
        that sets two fronts' tables against each other, each front's own test MAE:
        :func:`fronts_text`; else ""), ``id`` and ``run_here``
        (False when the profile's table has rows but none of the claim's
        columns: a claim the profile does not run, shown as "not run on this
        profile"; its verdict stays ``missing``).
    """
    rows = []
    for c in claims:
        sel = tables[(tables["table"] == c.table) & (tables["target"] == c.target)]
        if c.dataset is not None and "dataset" in sel:
            sel = sel[sel["dataset"] == c.dataset]
        base, var = sel[sel["column"] == c.baseline], sel[sel["column"] == c.variant]
        v = report.paired_verdict(base, var, c.paper_rel, metric="mae")
        # the profile's table has rows, but none for this claim's columns, or the profile has no
        # such table at all (the headline on the whole split is a cpu step): the profile does
        # not run them, so it is not "pending"
        present = set(sel["column"]) if len(sel) else set()
        has_table = bool((tables["table"] == c.table).any())
        run_here = has_table and (not present or (c.baseline in present and c.variant in present))
        rows.append({
            "claim": c.text, "table": c.table, "target": c.target,
            "paper": f"{c.paper_base:g} → {c.paper_var:g} ({100 * c.paper_rel:+.0f}%)",
            "ours": f"{_ours(base)} → {_ours(var)}",
            "verdict": v.verdict, "rel_mean": v.mean_rel, "rel_lo": v.interval[0], "rel_hi": v.interval[1],
            "paper_rel": v.paper_rel, "n_seeds": v.n_seeds, "effect_size_differs": v.effect_size_differs,
            "p_value": v.p_value, "p_value_paper": v.p_value_paper,
            "seeds": list(v.seeds), "changes": list(v.changes),
            "reason": v.reason if run_here else (
                f"Not run on this profile: it has no table {c.table}." if not has_table else
                f"Not run on this profile: its table has no "
                f"{' and no '.join(x for x in (c.baseline, c.variant) if x not in present)} column."),
            "fronts": fronts_text(tables, c), "id": c.id, "run_here": run_here,
        })
    return pd.DataFrame(rows)


#: back-end letter of a Table II baseline column -> model name of the published baselines.
_BACK = {"C": "cgcnn", "M": "megnet", "A": "alignn"}


def judge_published(claims: list[Claim] = CLAIMS) -> pd.DataFrame:
    """The Table II claims "CT embeddings improve <model>" judged a second time, against the
    original authors' published baseline (:func:`ctlib.report.published_value`) instead of the
    paper's own baseline run. It needs no training: it sets the paper's CT-<model> number
    against the published <model> number. One row per claim: ``claim``, ``target``,
    ``paper baseline``, ``published baseline``, ``source``, ``paper CT``, ``vs paper baseline``,
    ``vs published baseline`` (relative changes of the MAE) and ``holds`` ("yes": the paper's
    CT model is below the published baseline too; "no": it is not).
    """
    rows = []
    for c in claims:
        if c.table != "II" or not c.baseline.endswith(" default"):
            continue
        model = _BACK[c.baseline.split(" ")[0]]
        pub = report.published_value(model, c.target)
        rows.append({"claim": c.text, "target": c.target, "paper baseline": c.paper_base,
                     "published baseline": pub,
                     "source": report.published_baselines()["models"][model]["source"],
                     "paper CT": c.paper_var, "vs paper baseline": c.paper_rel,
                     "vs published baseline": (c.paper_var - pub) / pub,
                     "holds": "yes" if c.paper_var < pub else "no"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------- interpretability
#: Pretraining seeds of the analysed CT table, or stored CT pretrainings, a clustering or
#: Table VI verdict needs.
MIN_TABLE_SEEDS = 3


def _pretrainings_text(n: int) -> str:
    return (f"Judged over the {n} stored CT pretrainings (one seed each; they differ in target or "
            "schedule, which moves the table more than a new seed would), since fewer than "
            f"{MIN_TABLE_SEEDS} seeds of the analysed table exist")


def _table_seeds_caveat(row: dict, summary: dict, across: dict | None = None) -> dict:
    """Hold back a verdict on one element table when fewer than :data:`MIN_TABLE_SEEDS` were analysed.

    The clustering scan and the CV repeats of reverse prediction measure the spread
    of k-means and CatBoost on *one* table; how the table itself varies between
    pretraining seeds is unmeasured until ``summary["seeds"]`` (the pretraining
    seeds of the analysed table, written by pages 07 and 08) holds enough of them.
    Until then the verdict is ``across`` when given (the same claim judged over
    :data:`MIN_TABLE_SEEDS` or more stored CT pretrainings, see
    :func:`judge_k3` and :func:`judge_r2`); else it becomes inconclusive, and
    the reason keeps what the one table showed. Summaries without ``seeds``
    are judged as they are.
    """
    seeds = summary.get("seeds")
    if seeds is None or len(seeds) >= MIN_TABLE_SEEDS or row["verdict"] == report.MISSING:
        return row
    if across is not None:
        return across
    n = len(seeds)
    return {**row, "verdict": report.ONE_SEED if n == 1 else report.INCONCLUSIVE,
            "reason": (f"Only {n} pretraining seed{'s' if n != 1 else ''} of the CT table "
                       f"(a verdict needs {MIN_TABLE_SEEDS}): the spread shown is that of the analysis on "
                       f"one table, not of the table. On this table alone: {row['verdict']}. {row['reason']}")}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _k3_across(row: dict, tables: list[dict]) -> dict | None:
    """The k claim over the stored pretrainings (``tables``: rows of
    :func:`ctlib.analysis.clustering.k_scan_per_table`): reproduced or
    contradicted when every table's verdict is that one, else inconclusive;
    None with fewer than :data:`MIN_TABLE_SEEDS` tables."""
    if len(tables) < MIN_TABLE_SEEDS:
        return None
    verdicts = [t["verdict"] for t in tables]
    agreed = verdicts[0] if len(set(verdicts)) == 1 and verdicts[0] in (
        report.REPRODUCED, report.CONTRADICTED) else report.INCONCLUSIVE
    each = "; ".join(f"{t['table']}: k = {t['k_best']}, {t['verdict']}" for t in tables)
    return {**row, "ours": "best k " + ", ".join(str(t["k_best"]) for t in tables)
                           + f" over {len(tables)} pretrainings",
            "verdict": agreed,
            "reason": (f"{_pretrainings_text(len(tables))}: {each}. "
                       + ("Every table gives the same verdict. " if agreed != report.INCONCLUSIVE
                          else "The tables do not all give the same decisive verdict. ")
                       + f"The analysed table alone: {_lower_first(row['reason'])}")}


def judge_k3(clusters: dict | None) -> dict:
    """The k = 3 claim from notebook 07's summary (``07_clusters.json``).

    Uses the scan (``scan``), the paper's k (``paper_k``) and the null
    silhouettes of the random tables: ``null_silhouettes`` (``{k: [one value
    per table]}``) when the summary has it, else ``null_silhouette_max``
    (``{k: max over tables}``), whose threshold is then the largest of those
    maxima (stricter than the 95th percentile). Rule: :func:`ctlib.report.k_verdict`.
    While fewer than :data:`MIN_TABLE_SEEDS` pretraining seeds of the table were
    analysed (``seeds``), the verdict is taken over the stored CT pretrainings
    (``pretrainings``: one row per table, as
    :func:`ctlib.analysis.clustering.k_scan_per_table` gives them) when there are
    enough: the shared verdict when every table gives the same decisive one, else
    inconclusive; with too few tables it is held back to inconclusive.
    """
    paper_k = int((clusters or {}).get("paper_k")
                  or report.paper_tables()["interpretability"]["best_k_clusters"])
    row = {"claim": f"k = {paper_k} clusters of the element embedding (silhouette best, beyond noise)",
           "paper": str(paper_k)}
    if not clusters or not clusters.get("scan"):
        return {**row, "ours": "—", "verdict": report.MISSING, "reason": "No clustering summary (notebook 07)."}
    null = clusters.get("null_silhouettes")
    only_max = null is None
    if only_max:
        null = {k: [v] for k, v in (clusters.get("null_silhouette_max") or {}).items()}
    v = report.k_verdict(clusters["scan"], null, paper_k=paper_k)
    ours = "—" if v.k_best is None else (f"k = {v.k_best} (silhouette {v.silhouette_best:.3f}; "
                                          f"at k = {paper_k}: {v.silhouette_paper_k:.3f})")
    note = " (Null: only the maximum over the random tables was saved.)" if only_max and null else ""
    row = {**row, "ours": ours, "verdict": v.verdict, "reason": v.reason + note}
    return _table_seeds_caveat(row, clusters, _k3_across(row, clusters.get("pretrainings") or []))


def _r2_cells(v, m, s, over: str, per: str) -> dict:
    """The ``ours``, verdict and reason cells of a Table VI row from an :func:`ctlib.report.r2_verdict`
    ``v`` of values with mean ``m`` and std ``s``; ``over``/``per`` name the replicates."""
    lo, hi = -v.interval[1], -v.interval[0]   # the interval of R² itself
    return {"ours": ("—" if m is None else report.fmt_pm(m, math.nan if s is None else s, v.n_seeds)
                     + ("" if not np.isfinite(lo) else f", 95% interval [{lo:.3f}, {hi:.3f}]")),
            "verdict": v.verdict, "effect_size_differs": v.effect_size_differs,
            "holm": {"verdict": v.verdict, "mean_rel": v.mean_rel, "paper_rel": v.paper_rel,
                     "p_value": v.p_value, "p_value_paper": v.p_value_paper},
            "reason": v.reason.replace("relative change", "relative change of 1 − R²").replace(
                f"over {v.n_seeds} seeds", f"over {v.n_seeds} {over}").replace("per-seed", per)}


def judge_r2(reverse: dict | None, embedding: str = "CT (ours)") -> list[dict]:
    """The Table VI claims from notebook 08's summary (``08_reverse_prediction.json``).

    One row per property: our pooled out-of-fold R² of ``embedding``
    (``r2[embedding][prop]``: ``r2_pooled_mean``, ``r2_pooled_std``; per-repeat
    values from ``r2_pooled_values[embedding][prop]`` when present), over
    ``repeats`` CV repeats, against ``paper_r2[prop]``. Rule:
    :func:`ctlib.report.r2_verdict`. While fewer than :data:`MIN_TABLE_SEEDS`
    pretraining seeds were analysed (``seeds``), the rule is applied instead to
    the mean R² of each stored CT pretraining (``pretrainings``: rows with
    ``table`` and ``r2`` = property -> mean R² over the CV repeats), one value per
    table, when there are enough; with too few the verdict is held back to
    inconclusive.
    """
    from ctlib.analysis.reverse import PROPERTIES

    if not reverse or not reverse.get("paper_r2"):
        return []
    ours = (reverse.get("r2") or {}).get(embedding) or {}
    per_repeat = (reverse.get("r2_pooled_values") or {}).get(embedding) or {}
    n = reverse.get("repeats")
    tables = reverse.get("pretrainings") or []
    rows = []
    for prop, paper_v in reverse["paper_r2"].items():
        o = ours.get(prop) or {}
        if per_repeat.get(prop) is not None:
            v = report.r2_verdict(paper_v, per_repeat[prop])
        else:
            v = report.r2_verdict(paper_v, mean=o.get("r2_pooled_mean"), std=o.get("r2_pooled_std"), n=n)
        row = {"claim": f"CatBoost predicts {PROPERTIES.get(prop, prop)} from the CT embedding (R² > 0)",
               "paper": f"R² {paper_v:.3f}",
               **_r2_cells(v, o.get("r2_pooled_mean"), o.get("r2_pooled_std"), "CV repeats", "per-repeat")}
        across = None
        vals = [t["r2"][prop] for t in tables if (t.get("r2") or {}).get(prop) is not None]
        if len(vals) >= MIN_TABLE_SEEDS:
            va = report.r2_verdict(paper_v, vals)
            cells = _r2_cells(va, float(np.mean(vals)), float(np.std(vals, ddof=1)), "CT pretrainings",
                              "per-table")
            each = ", ".join(f"{t['table']} {t['r2'][prop]:.3f}" for t in tables
                             if (t.get("r2") or {}).get(prop) is not None)
            across = {**row, **cells,
                      "reason": (f"{_pretrainings_text(len(vals))}; mean R² over the CV repeats of each: "
                                 f"{each}. {cells['reason']} The analysed table alone: {_lower_first(row['reason'])}")}
        rows.append(_table_seeds_caveat(row, reverse, across))
    return rows


def read_summary(out_dir, stem: str) -> dict | None:
    """``<out_dir>/<stem>.json`` written by a page, or None when that page has not run."""
    path = Path(out_dir) / f"{stem}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def judge_interpretability(out_dir) -> pd.DataFrame:
    """Verdicts of the k = 3 and Table VI claims from the pages 07 and 08 of the same build."""
    rows = [judge_k3(read_summary(out_dir, "07_clusters"))]
    rows += judge_r2(read_summary(out_dir, "08_reverse_prediction"))
    return pd.DataFrame(rows)


def holm_line(verdicts: pd.DataFrame, interp: pd.DataFrame | None = None, alpha: float = 0.05) -> str:
    """How many verdicts keep their word under Holm's correction across the family of claims
    (:func:`ctlib.report.holm_words`), as one Markdown paragraph naming those that do not.

    The family: every claim of ``verdicts`` judged with an interval, and the Table VI rows
    of ``interp``; the k = 3 claim has its own test against random tables and stays out.
    """
    rows = [] if verdicts is None else verdicts.to_dict("records")
    names = [r["claim"] + (f" ({r['target']})" if r.get("target") and str(r["target"]) not in r["claim"]
                           else "") for r in rows]
    if interp is not None and len(interp) and "holm" in interp:
        for r in interp.to_dict("records"):
            if isinstance(r.get("holm"), dict):
                rows.append(r["holm"])
                names.append(r["claim"])
    words = report.holm_words(rows, alpha)
    judged = [(n, r["verdict"], w) for n, r, w in zip(names, rows, words) if w is not None]
    if not judged:
        return ""
    changed = [(n, a, b) for n, a, b in judged if a != b]
    n_tests = sum(1 + np.isfinite(float(r.get("p_value_paper", math.nan))) for r, w in zip(rows, words)
                  if w is not None)
    out = (f"**Many claims at once.** Each verdict above is judged at 5 % on its own. Corrected together "
           f"with Holm's method (family-wise {100 * alpha:.0f} % over the {n_tests} tests that the "
           f"{len(judged)} judged verdicts rest on: each claim's test of no change and, where the paper "
           f"prints a number, of the paper's change), **{len(judged) - len(changed)} of the {len(judged)} "
           f"keep their word**")
    if changed:
        out += "; these change: " + "; ".join(f"{n}: *{a}* → *{b}*" for n, a, b in changed)
    return out + "."


#: How a verdict is shown: ``missing`` (no stored run yet) reads "pending".
PENDING = "pending"


#: How a claim that the profile does not run is shown.
NOT_RUN = "not run on this profile"


def verdict_label(verdict: str, run_here: bool | None = True) -> str:
    """The verdict as pages show it: ``missing`` -> ``pending`` (its runs are not stored yet),
    or ``not run on this profile`` when ``run_here`` is False (see :func:`judge`)."""
    if verdict == report.MISSING:
        return NOT_RUN if run_here is False else PENDING
    return str(verdict)


def shown_verdict(row) -> str:
    """:func:`verdict_label` of a row of :func:`judge` (a dict or a pandas row)."""
    run_here = row.get("run_here", True)
    return verdict_label(row.get("verdict", ""), None if pd.isna(run_here) else bool(run_here))


_COLOURS = {report.REPRODUCED: "#d8f0d8", report.WEAKER: "#e8f2c8", report.STRONGER: "#cfe8e0",
            report.NOT_REPRODUCED: "#f6e0c8", report.CONTRADICTED: "#f6d5d5", report.NOT_COMPARABLE: "#e4e4e4",
            report.MISSING: "#e4e4e4", PENDING: "#e4e4e4", NOT_RUN: "#f4f4f4"}
#: Strong colours of the verdicts in figures (the scorecard): the six words from agreement
#: (green) through a different size (olive, teal) and a ruled-out effect (orange-red) to
#: the opposite sign (red); amber where the interval cannot tell.
VERDICT_COLOURS = {report.REPRODUCED: "#2e7d32", report.WEAKER: "#7c9a1e", report.STRONGER: "#00796b",
                   report.NOT_REPRODUCED: "#d84315", report.CONTRADICTED: "#b71c1c",
                   report.INCONCLUSIVE: "#e69f00", report.ONE_SEED: "#b8860b",
                   report.NOT_COMPARABLE: "#616161", report.MISSING: "#9e9e9e", NOT_RUN: "#c8c8c8"}


def styled(verdicts: pd.DataFrame):
    """A verdict table for display: relative changes in percent, verdicts coloured,
    ``missing`` shown as ``pending``."""
    def colour(v):
        return f"background-color: {_COLOURS.get(v, '#f3f0d8')}"

    show = verdicts.drop(columns=[c for c in ("id", "run_here", "holm", "p_value", "p_value_paper",
                                              "seeds", "changes") if c in verdicts])
    if "verdict" in show:
        show = show.assign(verdict=[shown_verdict(r) for r in verdicts.to_dict("records")])
    fmt = {c: "{:+.1%}" for c in ("rel_mean", "rel_lo", "rel_hi", "paper_rel") if c in show}
    return show.style.format(fmt, na_rep="—").map(colour, subset=["verdict"]).hide(axis="index")


# ------------------------------------------------------------------ the scorecard
def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def scorecard_figure(verdicts: pd.DataFrame, interp: pd.DataFrame | None = None, *, title: str | None = None):
    """Every claim in one figure: the paper's relative change, ours with its 95 % interval, the verdict.

    Args:
        verdicts: :func:`judge` (``claim``, ``table``, ``verdict``, ``rel_mean``,
            ``rel_lo``, ``rel_hi``, ``paper_rel``).
        interp: optional :func:`judge_interpretability` rows (``claim``, ``ours``,
            ``verdict``): listed below, with their verdict, without an axis value
            (their numbers are R² and silhouettes, not relative changes).
        title: figure title.

    One row per claim; x is the relative change of the test MAE (variant vs
    baseline; negative = the variant is better). Black open diamond: the
    paper's change. Dot and bar: our mean paired change over seeds and its 95 %
    t-interval (no bar with one seed), coloured by the verdict; a triangle at the
    edge marks a value beyond the axis. Claims without stored runs read "pending".

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    v = verdicts.reset_index(drop=True)
    extra = interp.reset_index(drop=True) if interp is not None and len(interp) else pd.DataFrame()
    n, m = len(v), len(extra)
    if n + m == 0:
        raise ValueError("no claim to draw")
    num = pd.concat([v[c] for c in ("rel_mean", "rel_lo", "rel_hi", "paper_rel") if c in v]).astype(float)
    num = num[np.isfinite(num)]
    lo = max(-1.0, min([-0.3, *(num.tolist())]) - 0.05)
    hi = min(1.5, max([0.3, *(num.tolist())]) + 0.05)
    gap = 0.8 if m else 0.0
    fig, ax = plt.subplots(figsize=(10, 0.3 * (n + m) + 0.6 * bool(m) + 1.4))
    ax.axvline(0, color="black", lw=0.8)
    ys, labels = [], []
    present = []
    for i, r in v.iterrows():
        y = -float(i)
        ys.append(y)
        labels.append(_short(f"{r['table']} · {r['claim']}"))
        verdict = r["verdict"] if shown_verdict(r) != NOT_RUN else NOT_RUN
        present.append(verdict)
        col = VERDICT_COLOURS.get(verdict, "#9e9e9e")
        p = float(r["paper_rel"]) if r.get("paper_rel") is not None else math.nan
        if np.isfinite(p):
            ax.plot([min(max(p, lo), hi)], [y], marker="D", ms=6, mfc="none", mec="black", ls="none", zorder=3)
        x = float(r["rel_mean"]) if r.get("rel_mean") is not None else math.nan
        if np.isfinite(x):
            a, b = float(r.get("rel_lo", math.nan)), float(r.get("rel_hi", math.nan))
            if np.isfinite(a) and np.isfinite(b):
                ax.plot([max(a, lo), min(b, hi)], [y, y], color=col, lw=2.2, solid_capstyle="butt", zorder=2)
            if x > hi or x < lo:
                ax.plot([hi if x > hi else lo], [y], marker=">" if x > hi else "<", color=col, ms=7, ls="none")
                ax.annotate(f"{x:+.0%}", (hi if x > hi else lo, y), xytext=(-4 if x > hi else 4, 5),
                            textcoords="offset points", ha="right" if x > hi else "left", fontsize=7,
                            color=col)
            else:
                ax.plot([x], [y], marker="o", color=col, ms=6, ls="none", zorder=4)
        else:
            ax.text(lo + 0.01 * (hi - lo), y, verdict_label(verdict) + (" (no stored run)" if verdict ==
                    report.MISSING else " (not comparable)" if verdict == report.NOT_COMPARABLE else ""),
                    va="center", fontsize=7.5, style="italic", color="#616161",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        ax.text(1.01, y, verdict_label(verdict), transform=ax.get_yaxis_transform(), va="center",
                fontsize=8, color=col, fontweight="bold")
    for j, r in extra.iterrows():
        y = -float(n + j) - gap
        ys.append(y)
        labels.append(_short(f"07/08 · {r['claim']}"))
        verdict = r["verdict"]
        present.append(verdict)
        col = VERDICT_COLOURS.get(verdict, "#9e9e9e")
        ours = PENDING if verdict == report.MISSING else str(r.get("ours", "—"))
        if str(r.get("paper", "")).startswith("R²") and verdict != report.MISSING and not ours.startswith("—"):
            ours = "R² " + ours.replace(", 95% interval ", " ")   # keeps the row inside the axes
        ax.text(lo + 0.01 * (hi - lo), y, _short(f"ours: {ours}; paper: {r.get('paper', '—')}", 70),
                va="center", fontsize=7.5, color="#424242",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
        ax.text(1.01, y, verdict_label(verdict), transform=ax.get_yaxis_transform(), va="center",
                fontsize=8, color=col, fontweight="bold")
    if m:
        ax.axhline(-(n - 0.5) - gap / 2, color="grey", lw=0.6, ls=":")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_ylim(min(ys) - 0.7, 0.7)
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("relative change of the test MAE, variant vs baseline (negative: the variant is better)")
    ax.grid(axis="y", visible=False)
    handles = [Line2D([], [], marker="D", mfc="none", mec="black", ls="none", label="paper"),
               Line2D([], [], marker="o", color="#555555", lw=2.2, label="ours: mean, 95% interval")]
    for verdict in VERDICT_COLOURS:
        if verdict in present:
            handles.append(Patch(color=VERDICT_COLOURS[verdict], label=verdict_label(verdict)))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(handles)),
              fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, y=1.0)
    fig.tight_layout()
    return fig


#: File stem of the scorecard figure that notebook 10 saves and book/intro.md shows.
SCORECARD = "scorecard"


def write_placeholder_scorecard(out_dir, *, reason: str | None = None) -> Path | None:
    """Write ``<out_dir>/figures/scorecard.png`` (+ .pdf) saying the scorecard is pending,
    unless the real one is there. Returns the path written, or None when it existed.

    For the book build: ``book/intro.md`` shows this image, so it must exist even
    when notebook 10 did not run.
    """
    import matplotlib

    from ctlib.plotting import savefig

    png = Path(out_dir) / "figures" / f"{SCORECARD}.png"
    if png.is_file():
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 1.2))
    fig.text(0.5, 0.5, reason or "Scorecard pending: notebook 10_claims has not run in this build.",
             ha="center", va="center", fontsize=12, color="#616161",
             family=matplotlib.rcParams["font.family"])
    return savefig(fig, SCORECARD, out_dir)
