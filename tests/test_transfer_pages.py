"""The data-scarce transfer page (notebook 12) and ctlib.analysis.transfer.

Hand-built tidy rows with known paired verdicts (reproduced, contradicted, missing,
not comparable), the summaries with pending runs, the figures, and the notebook's
conventions.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from ctlib import report  # noqa: E402
from ctlib.analysis import transfer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _rows(dataset, start, maes, *, n_test=100, split="abc123", unit="eV/atom"):
    return [{"dataset": dataset, "start": start, "column": start, "seed": s, "mae": m, "n_test": n_test,
             "split_hash": split, "unit": unit,
             "run_id": None if m is None or not np.isfinite(m) else f"r{s}"}
            for s, m in enumerate(maes)]


def _frame():
    nan = math.nan
    rows = (_rows("castelli-3334", "cgcnn92", [0.100, 0.110, 0.090])
            + _rows("castelli-3334", "random", [0.105, 0.112, 0.094])
            + _rows("castelli-3334", "CT mt", [0.080, 0.089, 0.071])      # about -20 % per seed
            + _rows("castelli-3334", "CT E_f", [0.120, 0.130, 0.110])     # about +20 % per seed
            + _rows("hoip", "cgcnn92", [0.30, 0.31, 0.29])
            + _rows("hoip", "random", [0.30, nan, 0.29])
            + _rows("hoip", "CT mt", [nan, nan, nan])                     # pending
            + _rows("hoip", "CT E_f", [0.30, 0.31, 0.29], split="other"))  # another split
    return pd.DataFrame(rows)


def test_paper_change_is_computed_from_the_printed_numbers():
    assert transfer.paper_numbers() == {"CGCNN": 0.054, "CT-CGCNN": 0.046}
    assert transfer.paper_rel() == pytest.approx((0.046 - 0.054) / 0.054)
    assert transfer.paper_rel() == pytest.approx(-0.148148, abs=1e-6)


def test_verdict_rows_of_a_hand_built_frame():
    v = transfer.scarce_verdicts(_frame()).set_index(["dataset", "claim"])
    assert list(v.index) == [("castelli-3334", "CT mt vs cgcnn92"), ("castelli-3334", "CT E_f vs cgcnn92"),
                             ("hoip", "CT mt vs cgcnn92"), ("hoip", "CT E_f vs cgcnn92")]
    r = v.loc[("castelli-3334", "CT mt vs cgcnn92")]
    rel = np.array([0.080 / 0.100, 0.089 / 0.110, 0.071 / 0.090]) - 1.0
    half = stats.t.ppf(0.975, 2) * rel.std(ddof=1) / math.sqrt(3)
    assert r["verdict"] == report.STRONGER        # about -20 % per seed against the paper's -14.8 %
    assert r["mean_rel"] == pytest.approx(rel.mean())
    assert (r["rel_lo"], r["rel_hi"]) == pytest.approx((rel.mean() - half, rel.mean() + half))
    assert r["n_seeds"] == 3 and r["paper_rel"] == pytest.approx(transfer.paper_rel())
    assert bool(r["effect_size_differs"]) is True          # -14.8 % lies outside [-21 %, -19 %]
    assert v.loc[("castelli-3334", "CT E_f vs cgcnn92"), "verdict"] == report.CONTRADICTED
    assert v.loc[("hoip", "CT mt vs cgcnn92"), "verdict"] == report.MISSING
    assert v.loc[("hoip", "CT E_f vs cgcnn92"), "verdict"] == report.NOT_COMPARABLE
    assert "split" in v.loc[("hoip", "CT E_f vs cgcnn92"), "reason"]


def test_verdict_with_one_seed_and_with_another_pair():
    df = pd.DataFrame(_rows("hoip", "cgcnn92", [0.3]) + _rows("hoip", "onehot", [0.27]))
    v = transfer.scarce_verdicts(df, [("onehot", "cgcnn92")])
    assert v["verdict"].tolist() == [report.ONE_SEED]
    assert v["claim"].tolist() == ["onehot vs cgcnn92"] and v["mean_rel"].iloc[0] == pytest.approx(-0.1)


def test_pretraining_is_judged_against_its_own_untrained_start_and_small_maes_keep_three_digits():
    df = pd.DataFrame(_rows("castelli-3334", "CT untrained", [0.0191, 0.0185, 0.0197])
                      + _rows("castelli-3334", "CT mt", [0.0176, 0.0170, 0.0183])
                      + _rows("castelli-3334", "CT E_f", [0.0190, 0.0186, 0.0199]))
    v = transfer.paired_verdicts(df, transfer.PRETRAINING_COMPARISONS).set_index("claim")   # direction only
    assert v.at["CT mt vs CT untrained", "verdict"] == report.REPRODUCED          # lower MAE on every seed
    assert v.at["CT E_f vs CT untrained", "verdict"] == report.INCONCLUSIVE
    s = transfer.summarize_starts(df).set_index("start")
    assert s.at["CT mt", "cell"] == "0.0176 ± 0.0007 (n=3)"



def test_a_table_page_judges_each_pretrained_table_against_its_untrained_start_per_target():
    """Tables II-III: the same rule on rows grouped by target and labelled by column."""
    from ctlib import pages

    rows = []
    for target, scale in (("E_f", 0.1), ("E_g", 0.5)):
        rows += [dict(r, target=target) for r in
                 _rows("mp", "CGCNN(CT untrained)", [scale, scale * 1.02, scale * 0.98])
                 + _rows("mp", "CGCNN(mt)", [scale * 0.90, scale * 0.91, scale * 0.89])]
    df = pd.DataFrame(rows)
    df.loc[(df.target == "E_g") & (df.column == "CGCNN(mt)"), "mae"] *= 1.3      # E_g: raised on every seed
    v = transfer.paired_verdicts(df, [("CGCNN(mt)", "CGCNN(CT untrained)")], group="target", label="column")
    assert v["target"].tolist() == ["E_f", "E_g"]
    assert v["verdict"].tolist() == [report.REPRODUCED, report.CONTRADICTED]
    assert v["mean_rel"].iloc[0] == pytest.approx(-0.0999, abs=1e-3)
    assert v["paper_rel"].isna().all() and v["effect_size_differs"].isna().all()   # no paper number
    assert not v["reason"].str.contains("paper").any()
    shown = pages.direction_table(v, "pretraining lowers the MAE?", group="target", group_title="target").data
    assert shown["pretraining lowers the MAE?"].tolist() == ["yes", "no: it raises it"]
    assert shown["our change (mean)"].iloc[0] == "-10.0%" and shown["seeds"].tolist() == [3, 3]
    assert pages.direction_reading(v, "Pretraining", "targets") == (
        "**Reading.** Pretraining lowers the MAE in 1 and raises it in 1 of the 2 targets judged.")
    same = v.assign(verdict=report.REPRODUCED)
    assert pages.direction_reading(same, "Pretraining", "targets") == (
        "**Reading.** Pretraining lowers the MAE in all 2 targets judged.")
    three = pd.concat([v, v.iloc[:1].assign(verdict=report.INCONCLUSIVE)])
    assert pages.direction_reading(three, "Pretraining", "targets") == (
        "**Reading.** Pretraining lowers the MAE in 1 and raises it in 1 of the 3 targets judged; "
        "the other interval contains 0.")
    assert pages.direction_reading(v.iloc[1:], "Pretraining", "targets") == (
        "**Reading.** Pretraining raises the MAE in the one comparison judged.")
    assert pages.direction_reading(three.iloc[1:], "Pretraining", "targets") == (
        "**Reading.** Pretraining raises the MAE in 1 of the 2 targets judged; the other interval contains 0.")
    assert pages.direction_reading(v.assign(verdict=report.INCONCLUSIVE), "Pretraining", "targets") == (
        "**Reading.** Every one of the 2 targets judged has an interval that contains 0.")
    assert pages.direction_reading(v.assign(verdict=report.MISSING), "Pretraining", "targets") == ""
    waiting = pages.direction_table(v.assign(verdict=report.MISSING), "lower?", group="target").data
    assert waiting["lower?"].tolist() == ["pending", "pending"]

def test_learned_part_is_judged_against_the_table_as_stored_and_against_cgcnn92():
    df = pd.DataFrame(_rows("hoip", "cgcnn92", [0.0083, 0.0085, 0.0081])
                      + _rows("hoip", "CT mt", [0.0080, 0.0082, 0.0078])
                      + _rows("hoip", "CT mt, learned part", [0.0072, 0.0074, 0.0070])
                      + _rows("hoip", "CT E_f", [0.0080, 0.0079, 0.0081]))
    v = transfer.paired_verdicts(df, transfer.LEARNED_COMPARISONS).set_index("claim")   # direction only
    assert v.at["CT mt, learned part vs CT mt", "verdict"] == report.REPRODUCED
    assert v.at["CT mt, learned part vs cgcnn92", "verdict"] == report.REPRODUCED
    assert v.at["CT E_f, learned part vs CT E_f", "verdict"] == report.MISSING   # not trained
    assert transfer.start_group("CT E_f, learned part") == "CT learned part"
    s = transfer.summarize_starts(df)
    fig = transfer.plot_scarce(df, s)
    assert len(fig.legends[0].get_texts()) == len(transfer._GROUP_COLOURS)


def test_summaries_keep_pending_starts_and_say_so():
    s = transfer.summarize_starts(_frame()).set_index(["dataset", "start"])
    r = s.loc[("castelli-3334", "cgcnn92")]
    assert r["n"] == 3 and r["mean"] == pytest.approx(0.1) and r["std"] == pytest.approx(0.01)
    assert r["cell"] == "0.100 ± 0.010 (n=3)" and r["group"] == "standard"
    assert s.loc[("castelli-3334", "random"), "group"] == "control"
    assert s.loc[("castelli-3334", "CT mt"), "group"] == "CT pretrained"
    p = s.loc[("hoip", "CT mt")]
    assert p["n"] == 0 and p["n_planned"] == 3 and p["cell"] == "pending" and math.isnan(p["mean"])
    part = s.loc[("hoip", "random")]
    assert part["n"] == 2 and part["seeds"] == [0, 2] and "(2 of 3 seeds; 1 pending)" in part["cell"]
    assert transfer.start_group("mat2vec") == "external table"
    wide = transfer.summary_table(transfer.summarize_starts(_frame()))
    assert list(wide.index) == ["cgcnn92", "random", "CT mt", "CT E_f"]
    col = [c for c in wide.columns if c.startswith("HOIP")][0]
    assert wide.at["CT mt", col] == "pending" and "eV/atom" in col


def test_learning_curve_summary_order_and_figures():
    rows = []
    for col, base in (("cgcnn92", 0.2), ("onehot", 0.3), ("CT mt", 0.19)):
        for n in (2000, 500):
            for s in range(3):
                m = math.nan if (col == "CT mt" and n == 2000) else base * (500 / n) ** 0.2 + 0.001 * s
                rows.append({"column": col, "n_train": n, "seed": s, "mae": m, "n_test": 50})
    lc = pd.DataFrame(rows)
    s = transfer.learning_curve_summary(lc)
    assert list(zip(s["column"], s["n_train"])) == [("cgcnn92", 500), ("cgcnn92", 2000), ("onehot", 500),
                                                   ("onehot", 2000), ("CT mt", 500), ("CT mt", 2000)]
    assert s.set_index(["column", "n_train"]).at[("CT mt", 2000), "cell"] == "pending"
    fig = transfer.plot_learning_curve(s)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "CT mt (2,000 pending)" in labels and "cgcnn92" in labels        # complete: no note
    fewer = transfer.learning_curve_summary(lc.assign(mae=lc["mae"].where((lc["column"] != "onehot") | (lc["seed"] == 0))))
    labels = transfer.plot_learning_curve(fewer).axes[0].get_legend_handles_labels()[1]
    assert "onehot (1 of 3 seeds)" in labels
    empty = transfer.learning_curve_summary(lc.assign(mae=math.nan))
    fig = transfer.plot_learning_curve(empty)
    assert "pending" in " ".join(t.get_text() for t in fig.axes[0].texts)


def _curve(maes: dict, *, n_test=50, split="h"):
    """Learning-curve rows from ``{(column, n_train): [mae per seed]}``."""
    return pd.DataFrame([{"column": c, "n_train": n, "seed": s, "mae": m, "n_test": n_test, "split_hash": split}
                         for (c, n), ms in maes.items() for s, m in enumerate(ms)])


def test_learning_curve_trend_known_answers():
    # CT mt: -20 % (+-1) at 500 cells, -2 % (+-1) at 8,000 -> larger advantage where data are scarce
    # cgcnn92 vs onehot: -5 % (+-1) at 500, -20 % (+-1) at 8,000 -> larger advantage with more data
    maes = {("cgcnn92", 500): [0.30, 0.31, 0.29], ("cgcnn92", 8000): [0.10, 0.11, 0.09],
            ("CT mt", 500): [0.30 * 0.79, 0.31 * 0.80, 0.29 * 0.81],
            ("CT mt", 8000): [0.10 * 0.97, 0.11 * 0.98, 0.09 * 0.99],
            ("onehot", 500): [0.30 / 0.94, 0.31 / 0.95, 0.29 / 0.96],
            ("onehot", 8000): [0.10 / 0.79, 0.11 / 0.80, 0.09 / 0.81],
            ("CT mt", 2000): [math.nan] * 3, ("cgcnn92", 2000): [0.2] * 3, ("onehot", 2000): [0.2] * 3}
    lc = _curve(maes)
    t = transfer.learning_curve_trend(lc, [("CT mt", "cgcnn92"), ("cgcnn92", "onehot")]).set_index("claim")
    ct = t.loc["CT mt vs cgcnn92"]
    assert (ct["small"], ct["large"]) == (500, 8000)          # the middle size, pending, is not needed
    assert ct["verdict"] == report.REPRODUCED and ct["n_seeds"] == 3
    assert ct["rel_small"] == pytest.approx(-0.20) and ct["rel_large"] == pytest.approx(-0.02)
    assert ct["mean_diff"] == pytest.approx(-0.18) and ct["diff_hi"] < 0
    assert "larger where data are scarce" in ct["reason"]
    c92 = t.loc["cgcnn92 vs onehot"]
    assert c92["verdict"] == report.CONTRADICTED and c92["mean_diff"] == pytest.approx(0.15)
    assert c92["diff_lo"] > 0 and "larger with more data" in c92["reason"]
    # a pending run at an end size leaves the trend missing, with the size named
    lc.loc[(lc.column == "CT mt") & (lc.n_train == 8000) & (lc.seed == 2), "mae"] = math.nan
    ct = transfer.learning_curve_trend(lc, [("CT mt", "cgcnn92")]).iloc[0]
    assert ct["verdict"] == report.MISSING and ct["reason"].startswith("At 8,000 cells:")
    # different test sets at one size: not comparable; fewer than two sizes: no rows
    other = _curve(maes)
    other.loc[(other.column == "CT mt") & (other.n_train == 500), "n_test"] = 49
    assert transfer.learning_curve_trend(other, [("CT mt", "cgcnn92")]).iloc[0]["verdict"] == report.NOT_COMPARABLE
    assert transfer.learning_curve_trend(lc[lc.n_train == 500]).empty
    changes = transfer.learning_curve_changes(_curve(maes), [("CT mt", "cgcnn92")])
    assert list(changes["n_train"]) == [500, 2000, 8000]
    # at 8,000 cells -3, -2, -1 %: the interval (half-width t(2) * 1 % / sqrt 3 = 2.5 %) contains 0
    assert list(changes["verdict"]) == [report.REPRODUCED, report.MISSING, report.INCONCLUSIVE]
    fig = transfer.plot_learning_curve_changes(changes)
    assert fig.axes[0].get_xticklabels()[0].get_text() == "500"


def test_starts_figure_marks_controls_and_pending():
    df = _frame()
    fig = transfer.plot_scarce(df, transfer.summarize_starts(df))
    assert len(fig.axes) == 2
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 1                                # the random control of castelli
    assert any(t.get_text() == "pending" for t in fig.axes[1].texts)


def test_notebook_12_follows_the_page_conventions():
    nb = nbformat.read(REPO / "notebooks" / "12_scarce_transfer.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "0.054" in nb.cells[0].source and "0.046" in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert set(code[0].metadata["tags"]) == {"parameters", "remove-cell"}
    assert all(c.metadata.get("tags") == ["hide-input"] for c in code[1:])
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    src = "\n".join(c.source for c in code)
    for needle in ("experiments.scarce_transfer(", "experiments.learning_curve(", "transfer.scarce_verdicts(",
                   'NB = "12_scarce_transfer"', "pages.write_summary(out, NB", "savefig("):
        assert needle in src, needle
    for line in code[0].source.splitlines():
        assert "#" in line, line


def test_matbench_table_sets_ours_beside_the_leaderboard():
    df = pd.DataFrame({"start": ["cgcnn92"] * 5 + ["CT mt"] * 5 + ["onehot"] * 5,
                       "fold": list(range(5)) * 3, "seed": list(range(5)) * 3,
                       "mae": [0.040, 0.041, 0.039, 0.040, 0.040] + [0.030] * 5 + [math.nan] * 5})
    t = transfer.matbench_table(df)
    assert list(t["entry"][:4]) == ["coGN", "ALIGNN", "CGCNN from CT mt", "CGCNN from cgcnn92"]
    assert t.set_index("entry").at["CGCNN", "cell"] == "0.0452 ± 0.0007"
    assert t.set_index("entry").at["CGCNN from onehot", "cell"] == "pending"       # no fold stored: last
    assert t["entry"].iloc[-1] == "CGCNN from onehot"
    assert t.set_index("entry").at["CGCNN from cgcnn92", "folds"] == 5
    empty = transfer.matbench_table(df.iloc[:0])
    assert set(empty["source"]) == {"leaderboard"}


def test_matbench_fidelity_judges_our_cgcnn_against_the_leaderboard_on_all_folds():
    from ctlib import report

    def rows(maes, start="cgcnn92"):
        return pd.DataFrame({"start": [start] * len(maes), "fold": range(len(maes)), "mae": maes})

    # ours 0.0400 ± 0.0010 (5 folds) against 0.0452 ± 0.0007 (ddof 0, widened by sqrt(5/4))
    maes = [0.039, 0.040, 0.041, 0.0405, 0.0395]
    f = transfer.matbench_fidelity(rows(maes))
    d, lo, hi, _ = report.welch_from_stats(np.mean(maes), np.std(maes, ddof=1), 5,
                                           0.0452, 0.0007 * math.sqrt(5 / 4), 5)
    assert (f["rel"], f["rel_lo"], f["rel_hi"]) == pytest.approx((d / 0.0452, lo / 0.0452, hi / 0.0452))
    assert f["word"] == "better than" and f["rel_hi"] < 0
    assert "better than the published CGCNN" in f["sentence"] and "Welch's 95 % interval" in f["sentence"]
    assert transfer.matbench_fidelity(rows([0.0452 + x for x in (-1e-3, 0, 1e-3, 5e-4, -5e-4)]))["word"] \
        == "level with"
    assert transfer.matbench_fidelity(rows([0.050, 0.051, 0.049, 0.050, 0.0505]))["word"] == "worse than"
    # four folds, or a fold not finished: not judged
    for part in (rows(maes[:4]), rows(maes[:4] + [math.nan])):
        g = transfer.matbench_fidelity(part)
        assert g["word"] == "pending" and math.isnan(g["rel"]) and "4 of 5 folds" in g["sentence"]
    assert transfer.matbench_fidelity(rows(maes, start="onehot"))["word"] == "pending"
    assert transfer.matbench_fidelity(rows([])[:0])["folds"] == 0
