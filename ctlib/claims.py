"""Every quantitative claim of the paper, and its verdict from our runs.

A claim compares a *variant* with a *baseline* inside one of our tables
(``ctlib.experiments``); the paper's two numbers give its relative change.
:func:`judge` applies the one rule of :mod:`ctlib.report`
(:func:`ctlib.report.paired_verdict`) to each; :func:`judge_interpretability`
judges the R² values of Table VI (:func:`ctlib.report.r2_verdict`) and the
k = 3 clusters (:func:`ctlib.report.k_verdict`) from the summaries that
notebooks 07 and 08 write. No verdict logic lives here.
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


def _t(table, row, col):
    return report.paper_value(table, row, col)


def _claims() -> list[Claim]:
    t1, t2, t3, t4 = ("table1_models", "table2_frontend_backend", "table3_cross_task",
                      "table4_embedding_variants")
    out = []
    for tg, col in (("E_f", "MP-E_f"), ("E_g", "MP-E_g")):
        out += [
            Claim(f"I-ct-vs-cgcnn-{tg}", f"CT alone is less accurate than CGCNN on {tg}", "I", tg,
                  "cgcnn", "ct", _t(t1, "CGCNN", col), _t(t1, "CrystalTransformer", col)),
            Claim(f"I-megnet-vs-cgcnn-{tg}", f"MEGNet beats CGCNN on {tg}", "I", tg, "cgcnn", "megnet",
                  _t(t1, "CGCNN", col), _t(t1, "MEGNET", col)),
            Claim(f"I-alignn-vs-cgcnn-{tg}", f"ALIGNN beats CGCNN on {tg}", "I", tg, "cgcnn", "alignn",
                  _t(t1, "CGCNN", col), _t(t1, "ALIGNN", col)),
        ]
    for tg in ("E_f", "E_g"):
        col1 = "MP-" + tg
        out += [
            Claim(f"II-CT-C-{tg}", f"CT embeddings improve CGCNN on {tg} (CT-C vs CGCNN)", "II", tg,
                  "C default", "CT-C", _t(t1, "CGCNN", col1), _t(t2, tg, "CT-C")),
            Claim(f"II-CT-M-{tg}", f"CT embeddings improve MEGNet on {tg} (CT-M vs MEGNet)", "II", tg,
                  "M default", "CT-M", _t(t1, "MEGNET", col1), _t(t2, tg, "CT-M")),
            Claim(f"II-CT-A-{tg}", f"CT embeddings improve ALIGNN on {tg} (CT-A vs ALIGNN)", "II", tg,
                  "A default", "CT-A", _t(t1, "ALIGNN", col1), _t(t2, tg, "CT-A")),
        ]
        for front in ("C", "M", "A"):
            out.append(Claim(f"II-CT-beats-{front}-C-{tg}",
                             f"CT's embedding transfers better than {front}'s into CGCNN on {tg}", "II", tg,
                             f"{front}-C", "CT-C", _t(t2, tg, f"{front}-C"), _t(t2, tg, "CT-C")))
    out += [
        Claim("III-Eg-to-Ef", "Embeddings pretrained on E_g improve CGCNN on E_f (cross-task)", "III", "E_f",
              "CGCNN", "CGCNN(E_g)", _t(t3, "E_f", "CGCNN"), _t(t3, "E_f", "CGCNN(E_g)")),
        Claim("III-Ef-to-Eg", "Embeddings pretrained on E_f improve CGCNN on E_g (cross-task)", "III", "E_g",
              "CGCNN", "CGCNN(E_f)", _t(t3, "E_g", "CGCNN"), _t(t3, "E_g", "CGCNN(E_f)")),
    ]
    for tg in ("E_f", "E_g"):
        single = "CGCNN(E_f)" if tg == "E_f" else "CGCNN(E_g)"
        out += [
            Claim(f"III-mt-{tg}", f"Multi-task CT embeddings improve CGCNN on {tg}", "III", tg, "CGCNN",
                  "CGCNN(mt)", _t(t3, tg, "CGCNN"), _t(t3, tg, "CGCNN(mt)")),
            Claim(f"III-mt-vs-single-{tg}", f"Multi-task embeddings beat the same-task ones on {tg}", "III", tg,
                  single, "CGCNN(mt)", _t(t3, tg, single), _t(t3, tg, "CGCNN(mt)")),
            Claim(f"IV-coords-{tg}", f"Adding CT's coordinate embedding hurts CGCNN on {tg}", "IV", tg,
                  "CGCNN(E_a)", "CGCNN(E_a+E_c)", _t(t4, tg, "CGCNN(E_a)"), _t(t4, tg, "CGCNN(E_a+E_c)")),
            Claim(f"IV-frozen-vs-trainable-{tg}", f"Frozen embeddings are slightly worse than fine-tuned on {tg}",
                  "IV", tg, "CGCNN(E_a)", "CGCNN(E_a^f)", _t(t4, tg, "CGCNN(E_a)"), _t(t4, tg, "CGCNN(E_a^f)")),
            Claim(f"IV-frozen-vs-base-{tg}", f"Frozen CT embeddings still beat plain CGCNN on {tg}", "IV", tg,
                  "CGCNN", "CGCNN(E_a^f)", _t(t4, tg, "CGCNN"), _t(t4, tg, "CGCNN(E_a^f)")),
        ]
    pv = report.paper_tables()["perovskite_formation_energy"]
    out.append(Claim("perovskite-CT-C", "CT embeddings improve CGCNN on scarce perovskite formation energies "
                     "(paper: merged HOIP + Pb-free set; ours: 3,334 Castelli perovskites)", "perovskites",
                     "e_form_per_atom", "C", "CT-C", pv["CGCNN"], pv["CT-CGCNN"], dataset="castelli-3334"))
    return out


CLAIMS: list[Claim] = _claims()

NOT_TESTABLE = [
    ("Table I, MP* columns", "MP* (134,243 materials of a later MP release, with labels) is not in the "
     "offline data mirror."),
    ("Table V (JARVIS-DFT)", "JARVIS-DFT 2021.8.18 structures are not in the offline mirror; the notebook "
     "runs when the user provides a jarvis-tools dft_3d file."),
    ("Pretraining on MP*", "Replaced by pretraining on the MP-2018 train split (test materials excluded)."),
    ("Perovskite set of 3,334 merged structures", "The Pb-free set of Nakajima & Sawada (2017) could not be "
     "had; we use 3,334 sampled Castelli perovskites and, separately, HOIP."),
]


def _ours(rows: pd.DataFrame) -> str:
    return report.fmt_pm(*report.seed_stats(rows["mae"]))


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
        ``n_seeds``, ``effect_size_differs``, ``reason`` and ``id``.
    """
    rows = []
    for c in claims:
        sel = tables[(tables["table"] == c.table) & (tables["target"] == c.target)]
        if c.dataset is not None and "dataset" in sel:
            sel = sel[sel["dataset"] == c.dataset]
        base, var = sel[sel["column"] == c.baseline], sel[sel["column"] == c.variant]
        v = report.paired_verdict(base, var, c.paper_rel, metric="mae")
        rows.append({
            "claim": c.text, "table": c.table, "target": c.target,
            "paper": f"{c.paper_base:g} → {c.paper_var:g} ({100 * c.paper_rel:+.0f}%)",
            "ours": f"{_ours(base)} → {_ours(var)}",
            "verdict": v.verdict, "rel_mean": v.mean_rel, "rel_lo": v.interval[0], "rel_hi": v.interval[1],
            "paper_rel": v.paper_rel, "n_seeds": v.n_seeds, "effect_size_differs": v.effect_size_differs,
            "reason": v.reason, "id": c.id,
        })
    return pd.DataFrame(rows)


# ------------------------------------------------------------- interpretability
def judge_k3(clusters: dict | None) -> dict:
    """The k = 3 claim from notebook 07's summary (``07_clusters.json``).

    Uses the scan (``scan``), the paper's k (``paper_k``) and the null
    silhouettes of the random tables: ``null_silhouettes`` (``{k: [one value
    per table]}``) when the summary has it, else ``null_silhouette_max``
    (``{k: max over tables}``), a one-value null whose threshold is the
    maximum (stricter than the 95th percentile). Rule: :func:`ctlib.report.k_verdict`.
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
    return {**row, "ours": ours, "verdict": v.verdict, "reason": v.reason + note}


def judge_r2(reverse: dict | None, embedding: str = "CT (ours)") -> list[dict]:
    """The Table VI claims from notebook 08's summary (``08_reverse_prediction.json``).

    One row per property: our pooled out-of-fold R² of ``embedding``
    (``r2[embedding][prop]``: ``r2_pooled_mean``, ``r2_pooled_std``; per-repeat
    values from ``r2_pooled_values[embedding][prop]`` when present), over
    ``repeats`` CV repeats, against ``paper_r2[prop]``. Rule:
    :func:`ctlib.report.r2_verdict`.
    """
    from ctlib.analysis.reverse import PROPERTIES

    if not reverse or not reverse.get("paper_r2"):
        return []
    ours = (reverse.get("r2") or {}).get(embedding) or {}
    per_repeat = (reverse.get("r2_pooled_values") or {}).get(embedding) or {}
    n = reverse.get("repeats")
    rows = []
    for prop, paper_v in reverse["paper_r2"].items():
        o = ours.get(prop) or {}
        if per_repeat.get(prop) is not None:
            v = report.r2_verdict(paper_v, per_repeat[prop])
        else:
            v = report.r2_verdict(paper_v, mean=o.get("r2_pooled_mean"), std=o.get("r2_pooled_std"), n=n)
        m, s = o.get("r2_pooled_mean"), o.get("r2_pooled_std")
        lo, hi = -v.interval[1], -v.interval[0]   # the interval of R² itself
        rows.append({
            "claim": f"CatBoost predicts {PROPERTIES.get(prop, prop)} from the CT embedding (R² > 0)",
            "paper": f"R² {paper_v:.3f}",
            "ours": ("—" if m is None else report.fmt_pm(m, math.nan if s is None else s, v.n_seeds)
                     + ("" if not np.isfinite(lo) else f", 95% interval [{lo:.3f}, {hi:.3f}]")),
            "verdict": v.verdict, "effect_size_differs": v.effect_size_differs,
            "reason": v.reason.replace("relative change", "relative change of 1 − R²"),
        })
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


_COLOURS = {report.REPRODUCED: "#d8f0d8", report.CONTRADICTED: "#f6d5d5", report.NOT_COMPARABLE: "#e4e4e4",
            report.MISSING: "#e4e4e4"}


def styled(verdicts: pd.DataFrame):
    """A verdict table for display: relative changes in percent, verdicts coloured."""
    def colour(v):
        return f"background-color: {_COLOURS.get(v, '#f3f0d8')}"

    show = verdicts.drop(columns=[c for c in ("id",) if c in verdicts])
    fmt = {c: "{:+.1%}" for c in ("rel_mean", "rel_lo", "rel_hi", "paper_rel") if c in show}
    return show.style.format(fmt, na_rep="—").map(colour, subset=["verdict"]).hide(axis="index")
