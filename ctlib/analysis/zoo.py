"""The embedding zoo page: every element table on two measures, labelled by what it saw.

Two measures, one row per table:

* **reverse prediction** (the protocol of :mod:`ctlib.analysis.reverse`, chapter 08):
  CatBoost predicts five elemental properties from the table, 5-fold CV repeated
  ``rp_repeats`` times, pooled out-of-fold R²; one number per table is the mean
  over the five properties. All tables are scored on the same elements (per
  property, those with a value and a row in *every* table) and the same folds.
* **data-scarce transfer** (:func:`ctlib.experiments.scarce_transfer` and
  :func:`ctlib.experiments.zoo_transfer`, chapter 12): test MAE (eV/atom) of
  CGCNN started from the table on Castelli-3,334 and HOIP, mean ± std over the
  same seeds and splits; each zoo table is paired by seed with ``cgcnn92`` and
  with CT's multi-task table (:func:`ctlib.analysis.transfer.paired_verdicts`,
  direction "lower MAE", no paper number).

The tables: CT's multi-task table (ours, :data:`OWN`), CGCNN's ``cgcnn92``, a
random control, the five ``elementembeddings`` tables of the scarce step
(:data:`ctlib.experiments.EXTERNAL_TABLES`) and the eleven reference tables of
:mod:`ctlib.zoo`. :func:`table_labels` says what each one is and what its model saw
of our MP-2018 test materials (``ctlib.zoo.SAW_*``): a table whose model trained on
our labels is a reference, not a contender; one whose model trained on a later MP
release (most of our test materials, with DFT energies) is marked but stays a
contender, since no test set of this page is MP-2018's; handcrafted tables that list a
predicted property among their features read part of their R² back from a column.

Transfer rows missing from the store (``mae`` NaN) are *pending*: they get no
rank and are drawn at the R² axis. Nothing here trains.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ctlib.zoo import SAW_ENERGIES, SAW_LABELS, SAW_SUFFIX, SAW_WORDS

__all__ = [
    "OWN", "RANDOM", "REFERENCE_STARTS", "BASELINES", "DATASETS", "FAMILIES", "OTHER_TABLES",
    "table_labels", "labels_table", "reverse_tables", "reverse_r2", "r2_summary", "r2_by_table",
    "r2_wide", "reverse_note", "reverse_label", "transfer_rows", "transfer_summary", "transfer_table", "zoo_verdicts",
    "rank_tables", "ranked_table", "finding", "plot_zoo", "summary_numbers",
]

#: CT's own table: the multi-task (E_f + E_g) pretraining, as in the scarce step.
OWN = "CT mt"
#: The random control: in the transfer CGCNN's seeded N(0, 1) 128-d start, in reverse
#: prediction :func:`ctlib.analysis.reverse.baseline_tables`' ``random128`` (seed 0).
RANDOM = "random"
#: The scarce step's starts shown beside the zoo (labels of :func:`ctlib.experiments.scarce_transfer`).
REFERENCE_STARTS = (OWN, "cgcnn92", RANDOM, "magpie_sc", "mat2vec", "megnet16", "skipatom", "oliynyk_sc")
#: Each zoo table is paired by seed with these starts.
BASELINES = ("cgcnn92", OWN)
#: data set of the transfer -> short key of :func:`rank_tables` columns.
DATASETS = {"castelli-3334": "castelli", "hoip": "hoip"}
#: family -> colour of :func:`plot_zoo`.
FAMILIES = {"ours": "#dd8452", "CGCNN's own": "#4c72b0", "control": "#9a9a9a",
            "elementembeddings": "#55a868", "zoo: input": "#8172b3", "zoo: last layer": "#937860"}

#: The tables that are not in :mod:`ctlib.zoo`: name -> (family, kind, model, data, what it
#: saw of our test materials (``ctlib.zoo.SAW_*`` or ""), predicted properties among its
#: features). MEGNet-16 comes from MEGNet's formation-energy model of Chen et al. (2019),
#: trained on MP-2018.6.1: it saw our test labels as the matgl MP-2018 tables did. SkipAtom
#: counted atom pairs in MP structures without any label: "" (its data column says so).
OTHER_TABLES: dict[str, tuple] = {
    "cgcnn92": ("CGCNN's own", "handcrafted", "CGCNN (Xie & Grossman 2018)",
                "nine binned elemental properties", "",
                "first ionisation energy (binned); covalent radius (binned)"),
    RANDOM: ("control", "control", "—", "nothing: seeded N(0, 1), 128-d", "", ""),
    "magpie_sc": ("elementembeddings", "handcrafted", "Magpie (Ward et al. 2016), scaled",
                  "22 elemental properties", "", "melting temperature; covalent radius"),
    "mat2vec": ("elementembeddings", "word embedding", "mat2vec (Tshitoyan et al. 2019)",
                "3.3 M materials-science abstracts", "", ""),
    "megnet16": ("elementembeddings", "input", "MEGNet (Chen et al. 2019)", "MP-2018.6.1 E_f", SAW_LABELS, ""),
    "skipatom": ("elementembeddings", "co-occurrence", "SkipAtom (Antunes et al. 2022)",
                 "atom pairs of MP structures (2020), no labels", "", ""),
    "oliynyk_sc": ("elementembeddings", "handcrafted", "Oliynyk et al. (2016), scaled",
                   "44 elemental properties", "",
                   "atomic radius; melting point; boiling point; first ionisation energy"),
}
_LABEL_COLUMNS = ["table", "family", "kind", "model", "data", "saw", "features"]
#: ``saw`` -> marker of :func:`plot_zoo` (any other: a circle), and its legend entry.
MARKERS = {SAW_LABELS: "X", SAW_ENERGIES: "D"}
SAW_LEGEND = {SAW_LABELS: "saw our test labels", SAW_ENERGIES: "saw most of our test materials (DFT energies)"}


def _saw_words(saw: pd.Series) -> np.ndarray:
    """``saw`` codes in the words of ``ctlib.zoo.SAW_WORDS``."""
    return np.array([SAW_WORDS[s] for s in saw.fillna("")], dtype=object)


# --------------------------------------------------------------------------- #
# The tables and what they saw
# --------------------------------------------------------------------------- #
def _ct_data(record: Mapping | None) -> str:
    """``"MP-2018 train split (44,441 cells)"`` from a pretraining record (its split counts)."""
    n = (((record or {}).get("dataset") or {}).get("split_counts") or {}).get("train")
    return "MP-2018 train split" + (f" ({int(n):,} cells)" if n else "")


def table_labels(ct_record: Mapping | None = None) -> pd.DataFrame:
    """What every table of the page is, and what its model saw.

    Args:
        ct_record: the results record of CT's pretraining (its ``dataset.split_counts``
            give the number of training cells); None: the count is left out.

    Returns:
        one row per table, in the page's order (:data:`REFERENCE_STARTS`, then
        :data:`ctlib.zoo.TABLES`): ``table``, ``family`` (a key of :data:`FAMILIES`),
        ``kind`` (input, last-layer, handcrafted, ...), ``model``, ``data`` (what it was
        trained on), ``saw`` (what the model saw of our MP-2018 test materials:
        ``ctlib.zoo.SAW_LABELS``, ``SAW_ENERGIES`` or ""), ``sees_test`` (bool: it saw our
        labels, so it is a reference, not a contender), ``features`` (the predicted
        properties it lists among its features, "" for none).
    """
    from ctlib import zoo

    rows = [{"table": OWN, "family": "ours", "kind": "input", "model": "CrystalTransformer, multi-task (ours)",
             "data": _ct_data(ct_record), "saw": "", "features": ""}]
    rows += [dict(zip(_LABEL_COLUMNS, (name, *v))) for name, v in OTHER_TABLES.items()]
    rows += [{"table": t.name, "family": f"zoo: {'input' if t.kind == 'input' else 'last layer'}", "kind": t.kind,
              "model": t.model, "data": t.data, "saw": t.saw, "features": ""}
             for t in zoo.TABLES.values()]
    out = pd.DataFrame(rows, columns=_LABEL_COLUMNS)
    out.insert(6, "sees_test", out["saw"] == zoo.SAW_LABELS)
    return out


def labels_table(labels: pd.DataFrame) -> pd.DataFrame:
    """:func:`table_labels` for the page: what each model saw of our test materials in words
    (``ctlib.zoo.SAW_WORDS``), empty features as —."""
    return pd.DataFrame({
        "table": labels["table"], "kind": labels["kind"], "model": labels["model"],
        "trained on": labels["data"], "saw our test materials": _saw_words(labels["saw"]),
        "predicted properties among its features": labels["features"].replace("", "—"),
    })


def reverse_tables(ct=None, *, seed: int = 0,
                   zoo_names: Sequence[str] | None = None) -> dict[str, tuple[list[str], np.ndarray]]:
    """Every table of the page as reverse prediction takes it.

    Args:
        ct: CT's table (an :class:`~ctlib.embeddings.ElementEmbedding`, ``(89, 128)``
            on cpu); None while it is not stored (the row is left out).
        seed: seed of the random control (``random128`` of
            :func:`ctlib.analysis.reverse.baseline_tables`).
        zoo_names: the :mod:`ctlib.zoo` tables (default all eleven).

    Returns:
        name -> ``(elements, matrix (n, d) float64)`` in the order of :func:`table_labels`;
        a table keeps its own elements (``elementembeddings`` tables may have more
        than the 89 of MP-2018, or fewer).
    """
    from ctlib import zoo
    from ctlib.analysis import reverse
    from ctlib.elements import ELEMENTS
    from ctlib.embeddings import ElementEmbedding
    from ctlib.experiments import EXTERNAL_TABLES

    def rows(emb):
        return list(emb.elements), np.asarray(emb.matrix, dtype=np.float64)

    out = {} if ct is None else {OWN: rows(ct)}
    base = reverse.baseline_tables(list(ELEMENTS), seed=seed, include=("cgcnn92", "random128"))
    out.update({"cgcnn92": base["cgcnn92"], RANDOM: base["random128"]})
    out.update({name: rows(ElementEmbedding.from_elementembeddings(name)) for name in EXTERNAL_TABLES})
    out.update({name: rows(zoo.load(name)) for name in (zoo_names or zoo.TABLES)})
    return out


def reverse_r2(tables: Mapping[str, tuple[Sequence[str], np.ndarray]], properties: pd.DataFrame, *,
               repeats: int, iterations: int, cache_dir=None, n_jobs: int = 2,
               props: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chapter 08's reverse prediction of every table, on the elements all of them share.

    :func:`ctlib.analysis.reverse.reverse_prediction_table` with 5 folds, seed 0, one
    thread per CatBoost fit (the settings of notebook 08, so the cache keys are alike) and
    the element order of MP-2018.

    Args:
        tables: :func:`reverse_tables`.
        properties: :func:`ctlib.elements.elemental_properties` (index: symbols).
        repeats, iterations: the profile's ``rp_repeats`` and ``catboost_iterations``.
        cache_dir: the content-addressed cache of CV predictions (None: none).
        n_jobs: processes fitting folds in parallel.
        props: properties to predict (default all five).

    Returns:
        ``(cv, counts)`` of ``reverse_prediction_table``: long CV rows (``embedding,
        property, cached, repeat, fold, scope, r2, ...``) and per property the elements
        used and dropped.
    """
    from ctlib.analysis import reverse
    from ctlib.elements import ELEMENTS

    return reverse.reverse_prediction_table(tables, properties, props=props, folds=5, repeats=int(repeats),
                                            iterations=int(iterations), seed=0, thread_count=1,
                                            n_jobs=n_jobs, order=list(ELEMENTS), progress=False,
                                            cache_dir=cache_dir)


def r2_summary(cv: pd.DataFrame) -> pd.DataFrame:
    """Pooled out-of-fold R² per (table, property).

    Returns:
        ``table, property, r2`` (mean over repeats), ``r2_std`` (ddof 1; NaN for one
        repeat), ``n_repeats``.
    """
    from ctlib.analysis import reverse

    s = reverse.summary_table(cv)
    return pd.DataFrame({"table": s["embedding"], "property": s["property"], "r2": s["r2_pooled_mean"],
                         "r2_std": s["r2_pooled_std"], "n_repeats": s["n_repeats"]})


def r2_by_table(summary: pd.DataFrame) -> pd.Series:
    """Mean pooled R² over the properties of :func:`r2_summary`, per table (first-appearance order)."""
    return summary.groupby("table", sort=False)["r2"].mean().rename("r2_mean")


def r2_wide(summary: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Tables as rows, properties as columns: ``"0.83 ± 0.02"`` (pooled R², mean ± std over
    repeats), and the mean over properties; rows in ``order`` (default first appearance)."""
    from ctlib.analysis import reverse

    def cell(m, s):
        return "—" if not np.isfinite(m) else f"{m:.2f}" + (f" ± {s:.2f}" if np.isfinite(s) else "")

    order = list(order) if order is not None else list(dict.fromkeys(summary["table"]))
    order = [t for t in order if t in set(summary["table"])]
    wide = summary.assign(cell=[cell(m, s) for m, s in zip(summary["r2"], summary["r2_std"])]) \
        .pivot(index="table", columns="property", values="cell")
    props = [p for p in reverse.PROPERTIES if p in wide.columns]
    wide = wide.reindex(index=order, columns=props)
    wide.columns = [reverse.PROPERTIES[p] for p in props]
    wide["mean over properties"] = [cell(v, math.nan) for v in r2_by_table(summary).reindex(order)]
    return wide


def reverse_note(cv: pd.DataFrame, counts: pd.DataFrame, seconds: float, cache_name: str = "") -> str:
    """One Markdown line on the reverse prediction's cost and elements: the CatBoost fits,
    how many were read from the cache ``cache_name``, the wall time of the others, and per
    property the elements used (and those dropped because a table lacks them)."""
    folds = cv[cv["scope"] == "fold"]
    n, cached = len(folds), int(folds["cached"].sum())
    where = f" from the cache `{cache_name}`" if cache_name else ""
    used = "; ".join(f"{reverse_label(p)} {int(c['n_elements'])}"
                     + (f" (not {c['dropped']})" if c["dropped"] else "") for p, c in counts.iterrows())
    fitted = (f"all read{where} ({seconds:.0f} s)" if cached == n else
              f"{cached} read{where}; the other {n - cached} fitted here in {seconds:.0f} s")
    return (f"{n} CatBoost fits ({cv['embedding'].nunique()} tables × {len(counts)} properties × folds × "
            f"repeats), {fitted}. "
            f"Elements per property (those with a value and a row in every table): {used}.")


def reverse_label(prop: str) -> str:
    """The property's name as chapter 08 prints it (``"Melting Temperature"``)."""
    from ctlib.analysis import reverse

    return reverse.PROPERTIES.get(prop, prop)


# --------------------------------------------------------------------------- #
# Data-scarce transfer
# --------------------------------------------------------------------------- #
def transfer_rows(scarce: pd.DataFrame, zoo_rows: pd.DataFrame) -> pd.DataFrame:
    """The scarce step's rows of :data:`REFERENCE_STARTS` followed by the zoo's rows.

    Args:
        scarce: :func:`ctlib.experiments.scarce_transfer` rows (one per data set, seed, start).
        zoo_rows: :func:`ctlib.experiments.zoo_transfer` rows (same seeds and splits).

    Returns:
        one frame of the two (``dataset, start, seed, mae, n_test, split_hash, ...``).
    """
    keep = scarce[scarce["start"].isin(REFERENCE_STARTS)]
    return pd.concat([keep, zoo_rows], ignore_index=True)


def transfer_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Test MAE per (data set, start), mean ± std over seeds, pending kept
    (:func:`ctlib.analysis.transfer.summarize_starts`: ``dataset, start, unit, mean, std,
    n, n_planned, seeds, cell``)."""
    from ctlib.analysis import transfer

    return transfer.summarize_starts(rows)


def transfer_table(summary: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """:func:`ctlib.analysis.transfer.summary_table` with each start's family (and what its
    model saw of our test materials) in place of the scarce page's groups."""
    from ctlib.analysis import transfer

    table = transfer.summary_table(summary)
    lab = labels.set_index("table").reindex(table.index)
    table["group"] = [f"{f}{SAW_SUFFIX[w]}" for f, w in zip(lab["family"], lab["saw"].fillna(""))]
    return table.rename(columns={"group": "family"})


def zoo_verdicts(rows: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Each zoo table against each of :data:`BASELINES`, paired by seed, per data set.

    Direction "lower MAE" (:func:`ctlib.analysis.transfer.paired_verdicts` without a paper
    number): *reproduced* = the zoo table's 95 % interval of the per-seed relative change
    lies below 0; *missing* while a side is not stored.

    Returns:
        the columns of ``paired_verdicts``; rows by data set, then baseline, then table.
    """
    from ctlib import zoo
    from ctlib.analysis import transfer

    names = list(names or zoo.TABLES)
    return transfer.paired_verdicts(rows, [(z, b) for b in BASELINES for z in names])


# --------------------------------------------------------------------------- #
# One view
# --------------------------------------------------------------------------- #
def _rank(values: pd.Series, ascending: bool) -> pd.Series:
    """1 = best; NaN stays unranked (Int64 <NA>); ties share the better rank."""
    return values.rank(ascending=ascending, method="min").astype("Int64")


def rank_tables(labels: pd.DataFrame, r2: pd.Series, summary: pd.DataFrame) -> pd.DataFrame:
    """Every table on both measures, ranked.

    Args:
        labels: :func:`table_labels`.
        r2: :func:`r2_by_table` (mean pooled R² over the five properties, per table).
        summary: :func:`transfer_summary`.

    Returns:
        one row per table of ``labels``, best mean R² first (tables without an R² last):
        ``table, family, kind, data, saw, sees_test, features``, ``r2_mean`` and ``r2_rank``
        (1 = highest R²), then per data set ``k`` of :data:`DATASETS`: ``k_mae`` (mean test
        MAE over seeds, eV/atom; NaN while pending), ``k_std``, ``k_n`` (stored seeds),
        ``k_planned``, ``k_cell`` ("0.0176 ± 0.0005 (n=5)" or "pending") and ``k_rank``
        (1 = lowest MAE, among the tables with a stored MAE). ``attrs["units"]``: data
        set key -> unit.
    """
    out = labels[["table", "family", "kind", "data", "saw", "sees_test", "features"]].copy().reset_index(drop=True)
    out["r2_mean"] = r2.reindex(out["table"]).to_numpy(dtype=float)
    out["r2_rank"] = _rank(out["r2_mean"], ascending=False)
    if not len(summary):                      # no transfer row at all: every table pending
        summary = pd.DataFrame(columns=["dataset", "start", "unit", "mean", "std", "n", "n_planned", "cell"])
    units = {}
    for d, k in DATASETS.items():
        s = summary[summary["dataset"] == d].set_index("start").reindex(out["table"])
        out[f"{k}_mae"] = s["mean"].to_numpy(dtype=float)
        out[f"{k}_std"] = s["std"].to_numpy(dtype=float)
        out[f"{k}_n"] = pd.to_numeric(s["n"]).fillna(0).astype(int).to_numpy()
        out[f"{k}_planned"] = pd.to_numeric(s["n_planned"]).fillna(0).astype(int).to_numpy()
        out[f"{k}_cell"] = s["cell"].fillna("pending").to_numpy()
        out[f"{k}_rank"] = _rank(out[f"{k}_mae"], ascending=True)
        units[k] = str(s["unit"].dropna().iloc[0]) if "unit" in s and s["unit"].notna().any() else "eV/atom"
    out = out.sort_values("r2_rank", kind="stable", na_position="last").reset_index(drop=True)
    out.attrs["units"] = units
    return out


def ranked_table(ranked: pd.DataFrame) -> pd.DataFrame:
    """:func:`rank_tables` for the page: one row per table, ranks as ``#n`` (— when unranked)."""
    from ctlib.analysis.transfer import DATASET_LABELS

    def rank(v):
        return "—" if pd.isna(v) else f"#{int(v)}"

    units = ranked.attrs.get("units", {})
    show = pd.DataFrame({
        "table": ranked["table"], "kind": ranked["kind"], "trained on": ranked["data"],
        "saw our test materials": _saw_words(ranked["saw"]),
        "mean R² (5 properties)": ["—" if not np.isfinite(v) else f"{v:.3f}" for v in ranked["r2_mean"]],
        "R² rank": [rank(v) for v in ranked["r2_rank"]],
    })
    for d, k in DATASETS.items():
        name = DATASET_LABELS.get(d, d).split(" (")[0]
        show[f"{name}: test MAE ({units.get(k, 'eV/atom')})"] = ranked[f"{k}_cell"].to_numpy()
        show[f"{name} rank"] = [rank(v) for v in ranked[f"{k}_rank"]]
    return show


def _of(row, col: str, n: int) -> str:
    return f"#{int(row[col])} of {n}"


def _pending_pairs(n: int) -> str:
    return "" if n <= 0 else f", {n} pair{'s' if n > 1 else ''} pending"


def finding(ranked: pd.DataFrame, verdicts: pd.DataFrame | None = None) -> str:
    """The page's opening finding, written from the numbers of :func:`rank_tables`.

    CT's rank on each measure among all tables with a value, and among those whose model
    was not trained on our test labels; the best table of each measure (and whether it lists a
    predicted property among its features); how many transfer results are pending; and,
    from :func:`zoo_verdicts`, how many zoo tables give a lower or higher MAE than CT's
    table when paired by seed.

    Returns:
        Markdown, one paragraph.
    """
    from ctlib import report
    from ctlib.analysis.transfer import DATASET_LABELS
    from ctlib.report import fmt_sig as fmt_mae

    ct = ranked[ranked["table"] == OWN]
    if not len(ct) or not np.isfinite(ct["r2_mean"].iloc[0]):
        return (f"**CT's table ({OWN}) is pending**: its pretraining is not stored yet, so it is ranked on "
                f"neither measure. The other {int(ranked['r2_mean'].notna().sum())} tables are shown below.")
    ct = ct.iloc[0]
    fair = ranked[~ranked["sees_test"].astype(bool)]
    have = ranked[np.isfinite(ranked["r2_mean"])]
    best = have.iloc[0]
    fair_rank = int((fair["r2_mean"] > ct["r2_mean"]).sum()) + 1
    text = (f"**On reverse prediction (five elemental properties read back from the table), CT's table ranks "
            f"{_of(ct, 'r2_rank', len(have))}** (mean pooled R² {ct['r2_mean']:.2f}; #{fair_rank} of "
            f"{int(fair['r2_mean'].notna().sum())} among the tables whose model was not trained on our test labels). "
            f"The best is {best['table']} ({best['r2_mean']:.2f})")
    if best["features"]:
        text += f", whose features include {best['features'].replace(';', ',')}"
    rand = ranked[ranked["table"] == RANDOM]["r2_mean"]
    if len(rand) and np.isfinite(rand.iloc[0]):
        text += f"; the random table scores {rand.iloc[0]:.2f}"
    text += ". "
    for d, k in DATASETS.items():
        name = DATASET_LABELS.get(d, d).split(" (")[0]
        done = ranked[np.isfinite(ranked[f"{k}_mae"])]
        pending = len(ranked) - len(done)
        if not np.isfinite(ct[f"{k}_mae"]):
            text += f"In the data-scarce transfer on {name} CT's table is pending"
        else:
            top = done.sort_values(f"{k}_mae").iloc[0]
            best_text = "the lowest" if top["table"] == OWN else f"best: {top['table']}, {fmt_mae(top[f'{k}_mae'])}"
            text += (f"In the data-scarce transfer on {name} it ranks {_of(ct, f'{k}_rank', len(done))} "
                     f"(test MAE {fmt_mae(ct[f'{k}_mae'])} eV/atom; {best_text})")
        text += (f"; {pending} of the {len(ranked)} tables {'is' if pending == 1 else 'are'} pending there. "
                 if pending else ". ")
    if verdicts is not None and len(verdicts):
        v = verdicts[verdicts["baseline"] == OWN]
        judged = v[v["verdict"].isin([report.REPRODUCED, report.CONTRADICTED, report.INCONCLUSIVE])]
        if not len(judged):
            if (v["verdict"] == report.MISSING).all():
                text += "No zoo table's transfer runs are stored yet, so none is paired with CT's table."
            else:
                why = ", ".join(f"{n} {w}" for w, n in v["verdict"].value_counts(sort=False).items())
                text += f"None of the {len(v)} pairs of a zoo table with CT's table is judged yet ({why})."
        else:
            lower = int((judged["verdict"] == report.REPRODUCED).sum())
            higher = int((judged["verdict"] == report.CONTRADICTED).sum())
            text += (f"Paired by seed with CT's table, a zoo table gives a lower MAE in {lower} and a higher one "
                     f"in {higher} of the {len(judged)} (data set, table) pairs judged"
                     f"{report.others_contain_zero(len(judged) - lower - higher)}"
                     f"{_pending_pairs(len(v) - len(judged))}.")
    return text


# --------------------------------------------------------------------------- #
# Figure
# --------------------------------------------------------------------------- #
def _label_points(ax, rows: pd.DataFrame, ycol: str, *, gap: float = 0.045, near: float = 0.24) -> None:
    """Name each point of ``rows`` (x ``r2_mean``, y ``ycol``) right of it, pushing a label up
    (in axes fractions) while it would overlap one already placed less than ``near`` to its
    side; a pushed label gets a thin line to its point. The y range grows 15 % to make room."""
    ax.autoscale_view()
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.15 * (hi - lo))
    to_axes = ax.transAxes.inverted()
    xy = np.c_[rows["r2_mean"].to_numpy(dtype=float), rows[ycol].to_numpy(dtype=float)]
    pts = to_axes.transform(ax.transData.transform(xy))
    placed: list[tuple[float, float]] = []
    for i in np.argsort(pts[:, 1], kind="stable"):
        x, y = pts[i]
        ly = y
        for px, py in sorted(placed, key=lambda p: p[1]):
            if abs(px - x) < near and abs(py - ly) < gap:
                ly = py + gap
        placed.append((x, ly))
        own = rows["table"].iloc[i] == OWN
        ax.annotate(rows["table"].iloc[i], xy[i], xytext=(x + 0.015, ly), textcoords="axes fraction", fontsize=7,
                    va="center", fontweight="bold" if own else "normal", color="0.15",
                    arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5} if ly - y > gap / 2 else None)


def plot_zoo(ranked: pd.DataFrame):
    """Mean reverse-prediction R² (x) against the transfer's test MAE (y), one panel per data set.

    One labelled point per table with a stored MAE (error bar: std over seeds), coloured by
    family (:data:`FAMILIES`); a cross marks a table whose model saw our test labels, a diamond
    one whose model saw most of our test materials with DFT energies (``ctlib.zoo.SAW_*``); CT's
    table is larger and outlined. A table whose MAE is pending is a grey tick on the R²
    axis (counted in the panel). Tables without an R² are left out.

    Args:
        ranked: :func:`rank_tables`.

    Returns:
        the matplotlib Figure (two panels, 12.4 x 4.8 in).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from ctlib.analysis.transfer import DATASET_LABELS

    r = ranked[np.isfinite(ranked["r2_mean"].to_numpy(dtype=float))]
    units = ranked.attrs.get("units", {})
    fig, axes = plt.subplots(1, len(DATASETS), figsize=(12.4, 4.8), sharex=True, squeeze=False)
    stored, any_pending = {}, False
    for ax, (d, k) in zip(axes[0], DATASETS.items()):
        done = r[np.isfinite(r[f"{k}_mae"].to_numpy(dtype=float))]
        pend = r[~np.isfinite(r[f"{k}_mae"].to_numpy(dtype=float))]
        stored[k], any_pending = done, any_pending or len(pend) > 0
        for row in done.itertuples():
            own = row.table == OWN
            err = getattr(row, f"{k}_std")
            ax.errorbar(row.r2_mean, getattr(row, f"{k}_mae"), yerr=0.0 if not np.isfinite(err) else err,
                        color=FAMILIES[row.family], marker=MARKERS.get(row.saw, "o"), ms=11 if own else 7,
                        mec="black" if own else "none", mew=1.2, capsize=2, lw=0.8, zorder=4 if own else 3)
        if len(pend):     # (an empty line with this transform would break tight_layout)
            ax.plot(pend["r2_mean"], np.zeros(len(pend)), ls="none", marker="|", ms=14, mew=1.5, color="0.55",
                    transform=ax.get_xaxis_transform(), clip_on=False, zorder=5)
        note = f"{len(pend)} table(s) pending: grey ticks on the R² axis" if len(pend) else ""
        if not len(done):
            ax.set_ylim(0, 1)
            ax.set_yticks([])
            note = f"transfer runs pending for all {len(pend)} tables: grey ticks on the R² axis"
        ax.text(0.02, 0.97, note, transform=ax.transAxes, fontsize=8, va="top", color="0.35")
        ax.set(xlabel="mean reverse-prediction R² (5 properties, pooled out-of-fold)",
               ylabel=f"CGCNN test MAE ({units.get(k, 'eV/atom')})", title=DATASET_LABELS.get(d, d))
    for ax, k in zip(axes[0], DATASETS.values()):    # labels once the shared x range is final
        if len(stored[k]):
            _label_points(ax, stored[k], f"{k}_mae")
    handles = [Line2D([], [], ls="none", marker="o", color=c, label=f) for f, c in FAMILIES.items()]
    handles += [Line2D([], [], ls="none", marker=m, color="0.3", label=SAW_LEGEND[saw]) for saw, m in MARKERS.items()]
    if any_pending:
        handles.append(Line2D([], [], ls="none", marker="|", ms=10, mew=1.5, color="0.55", label="MAE pending"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, 1.05))
    fig.tight_layout()
    return fig


def summary_numbers(ranked: pd.DataFrame, r2: pd.DataFrame, counts: pd.DataFrame, summary: pd.DataFrame,
                    verdicts: pd.DataFrame, **extra) -> dict:
    """The page's numbers for ``pages.write_summary``: the ranked view, R² per table and
    property, the elements used per property, the transfer summary and the paired
    verdicts (records), the finding's text, plus ``extra`` (profile, seconds, ...)."""
    tidy = ranked.astype(object).where(ranked.notna(), None)
    return {**extra, "ranked": tidy.to_dict("records"), "r2": r2.to_dict("records"),
            "elements": {p: {"n": int(c["n_elements"]), "dropped": str(c["dropped"]).split()}
                         for p, c in counts.iterrows()},
            "transfer": summary.to_dict("records"), "verdicts": verdicts.to_dict("records"),
            "finding": finding(ranked, verdicts)}
