"""Verdicts from our runs: each claim by the one rule (:func:`judge`), again against the
published baselines (:func:`judge_published`), what pretraining adds, the interpretability
claims from pages 07 and 08, and the Holm line over the family."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib import report

from ctlib.claims.paper import CLAIMS, Claim


def collect_tables(profile: str, seeds=None, *, device: str = "auto") -> pd.DataFrame:
    """Every experiment frame a claim reads, from the results store only (nothing trains).

    Tables I-IV, the perovskites, the fronts' own runs (``table`` = ``"fronts"``,
    :func:`ctlib.experiments.fronts`), and, on cpu only, Table III's multi-task rows with
    front seed = back seed (:func:`ctlib.experiments.matched_fronts`) and the headline on the
    whole train split (:func:`ctlib.experiments.headline`), concatenated; runs not stored
    come back as rows with NaN metrics (their claims are then *missing*, shown as pending).
    """
    from ctlib import experiments

    kw = dict(device=device, train=False)
    return pd.concat([experiments.table1(profile, seeds, **kw), experiments.table2(profile, seeds, **kw),
                      experiments.table3(profile, seeds, **kw), experiments.table4(profile, seeds, **kw),
                      experiments.perovskites(profile, seeds, **kw), experiments.fronts(profile, seeds, **kw),
                      experiments.matched_fronts(profile, seeds, **kw),
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


def _pretrainings_text(n: int, over: str | None = "pretrainings") -> str:
    """How a verdict over several tables begins; ``over`` as a page's ``pretrainings_over``
    (``ctlib.analysis.pretraining.judged_over``): ``"seeds"`` or ``"pretrainings"``."""
    if over == "seeds":
        return (f"Judged over {n} pretraining seeds of the multi-task table (the same recipe in fp32, so "
                "they differ in their seed alone), since the analysed table is one seed")
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


def _k3_across(row: dict, tables: list[dict], over: str | None = "pretrainings") -> dict | None:
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
                           + f" over {len(tables)} {'pretraining seeds' if over == 'seeds' else 'pretrainings'}",
            "verdict": agreed,
            "reason": (f"{_pretrainings_text(len(tables), over)}: {each}. "
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
    return _table_seeds_caveat(row, clusters, _k3_across(row, clusters.get("pretrainings") or [],
                                                         clusters.get("pretrainings_over")))


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
            cells = _r2_cells(va, float(np.mean(vals)), float(np.std(vals, ddof=1)),
                              "pretraining seeds" if reverse.get("pretrainings_over") == "seeds"
                              else "CT pretrainings", "per-table")
            each = ", ".join(f"{t['table']} {t['r2'][prop]:.3f}" for t in tables
                             if (t.get("r2") or {}).get(prop) is not None)
            across = {**row, **cells,
                      "reason": (f"{_pretrainings_text(len(vals), reverse.get('pretrainings_over'))}; "
                                 f"mean R² over the CV repeats of each: "
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
    rows = report.holm_family(verdicts, interp)
    names = [r["claim"] + (f" ({r['target']})" if r.get("target") and str(r["target"]) not in r["claim"]
                           else "") for r in ([] if verdicts is None else verdicts.to_dict("records"))]
    names += [] if interp is None or not len(interp) else list(interp["claim"])
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
