"""What the data-scarce transfer page (notebook 12) shows: ctlib.analysis.scarce on hand-built
rows with known verdicts, and the Table II fronts' section of page 03 (ctlib.analysis.transfer)."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ctlib import report  # noqa: E402
from ctlib.analysis import scarce, transfer  # noqa: E402


def _rows(dataset, start, maes, *, n_test=100, split="abc123"):
    return [{"dataset": dataset, "start": start, "seed": s, "mae": m, "n_test": n_test, "split_hash": split,
             "unit": "eV/atom", "run_id": None if not np.isfinite(m) else f"r{s}"} for s, m in enumerate(maes)]


def _scarce_frame():
    nan = math.nan
    return pd.DataFrame(_rows("castelli-3334", "cgcnn92", [0.100, 0.110, 0.090])
                        + _rows("castelli-3334", "CT mt", [0.080, 0.088, 0.072])      # -20 % every seed
                        + _rows("castelli-3334", "CT E_f", [0.120, 0.132, 0.108])     # +20 % every seed
                        + _rows("hoip", "cgcnn92", [0.30, 0.31, 0.29])
                        + _rows("hoip", "CT mt", [nan, nan, nan])                     # pending
                        + _rows("hoip", "CT E_f", [0.30, 0.31, 0.29]))


def _curve(maes: dict):
    return pd.DataFrame([{"column": c, "n_train": n, "seed": s, "mae": m, "n_test": 50, "split_hash": "h"}
                         for (c, n), ms in maes.items() for s, m in enumerate(ms)])


CURVE = {("cgcnn92", 500): [0.30, 0.31, 0.29], ("cgcnn92", 8000): [0.10, 0.11, 0.09],
         ("onehot", 500): [0.30 / 0.94, 0.31 / 0.95, 0.29 / 0.96],
         ("onehot", 8000): [0.10 / 0.79, 0.11 / 0.80, 0.09 / 0.81],
         ("CT mt", 500): [0.30 * 0.79, 0.31 * 0.80, 0.29 * 0.81],
         ("CT mt", 8000): [0.10 * 0.97, 0.11 * 0.98, math.nan]}


def test_fmt_pct_signs_one_decimal_and_dashes_missing():
    assert scarce.fmt_pct(-0.14815) == "-14.8%" and scarce.fmt_pct(0.05) == "+5.0%"
    assert scarce.fmt_pct(0.0) == "+0.0%"
    assert scarce.fmt_pct(None) == "—" and scarce.fmt_pct(math.nan) == "—"


def test_matched_verdicts_judge_the_own_seed_start_against_cgcnn92():
    from ctlib.experiments import MATCHED_START

    assert transfer.matched_verdicts(pd.DataFrame()).empty              # profiles matched already
    rows = _scarce_frame().replace({"start": {"CT mt": MATCHED_START}})
    v = transfer.matched_verdicts(rows)
    assert list(v["claim"]) == [f"{MATCHED_START} vs cgcnn92"] * 2 and list(v["dataset"]) == ["castelli-3334", "hoip"]
    assert list(v["verdict"]) == [report.STRONGER, report.MISSING]     # -20 % every seed; HOIP pending


def test_verdict_table_and_reasons_of_known_verdicts():
    v = transfer.scarce_verdicts(_scarce_frame())
    t = scarce.verdict_table(v)
    assert list(t.columns) == ["data set", "claim", "verdict", "our change (mean)", "95% interval", "seeds",
                               "paper"]
    assert list(t["data set"]) == ["Castelli-3,334 (formation energy)"] * 2 + ["HOIP (atomization energy)"] * 2
    ct = t.iloc[0]
    assert ct["claim"] == "CT mt vs cgcnn92" and ct["our change (mean)"] == "-20.0%"
    assert ct["95% interval"] == "[-20.0%, -20.0%]" and ct["seeds"] == 3   # the same change every seed
    assert ct["paper"] == "-14.8%" and ct["verdict"] == report.STRONGER   # -20 % lies beyond -14.8 %
    assert t.iloc[1]["verdict"] == report.CONTRADICTED and t.iloc[1]["our change (mean)"] == "+20.0%"
    pending = t.iloc[2]
    assert pending["verdict"] == report.MISSING and pending["95% interval"] == "—"
    assert pending["our change (mean)"] == "—"
    text = scarce.verdict_reasons(v)
    assert text.count("\n") == 3 and text.startswith("- *Castelli-3,334 (formation energy), CT mt vs cgcnn92:* ")
    assert scarce.verdict_reasons(v, labels={}).startswith("- *castelli-3334, CT mt vs cgcnn92:* ")


def _learned(verdicts):
    return pd.DataFrame({"baseline": ["CT mt", "CT E_f", "cgcnn92"], "verdict": verdicts})


def test_learned_reading_counts_only_judged_pairs_against_the_stored_table():
    lower, higher, open_ = report.REPRODUCED, report.CONTRADICTED, report.INCONCLUSIVE
    text = scarce.learned_reading(_learned([higher, open_, lower]))      # the cgcnn92 row does not count
    assert "lower MAE in 0 and a higher one in 1 of 2 (data set, table) pairs; the other interval contains 0" in text
    assert text.endswith("does not make it a better start for CGCNN on these sets.")
    assert scarce.learned_reading(_learned([lower, open_, higher])).endswith("and never hurts it.")
    assert scarce.learned_reading(_learned([lower, higher, open_])).endswith("hurts on others.")
    assert scarce.learned_reading(_learned([report.MISSING, report.NOT_COMPARABLE, lower])) == ""


def test_learning_curve_parts_tables_and_figure():
    empty = scarce.learning_curve_parts(pd.DataFrame())
    assert all(isinstance(f, pd.DataFrame) and f.empty for f in empty)
    assert "`smoke` profile defines no learning-curve sizes" in scarce.no_curve_note("smoke")
    lc = _curve(CURVE)
    summary, changes, trend = scarce.learning_curve_parts(lc)
    wide = scarce.learning_curve_wide(summary, lc)
    assert list(wide.index) == ["cgcnn92", "onehot", "CT mt"] and list(wide.columns) == ["500 cells",
                                                                                       "8,000 cells"]
    assert wide.at["cgcnn92", "500 cells"] == "0.300 ± 0.010 (n=3)"
    assert wide.at["CT mt", "8,000 cells"].endswith("(2 of 3 seeds; 1 pending)")
    assert list(scarce.changes_by_size(changes)["n_train"].unique()) == ["500 cells", "8,000 cells"]
    t = scarce.trend_table(trend).set_index("comparison")
    assert list(t.columns) == ["change at 500 cells", "change at 8,000 cells",
                               "larger advantage where data are scarce?", "difference, 95% interval (points)",
                               "seeds"]
    assert t.at["CT mt vs cgcnn92", "change at 500 cells"] == "-20.0%"
    assert t.at["cgcnn92 vs onehot", "larger advantage where data are scarce?"] == "no: larger with more data"
    assert t.at["cgcnn92 vs onehot", "difference, 95% interval (points)"].startswith("[+")
    assert t.at["cgcnn92 vs onehot", "seeds"] == 3
    pending = t.loc["CT mt vs onehot"]                      # a seed pending at 8,000 cells
    assert pending["larger advantage where data are scarce?"] == "pending" and pending["seeds"] == 0
    assert pending["difference, 95% interval (points)"] == "—" and pending["change at 500 cells"] == "-24.0%"
    text = scarce.trend_reasons(trend)
    # five pairs: the two published tables' have no runs in this curve, so they read pending
    assert text.count("\n") == 4 and text.startswith("- *CT mt vs cgcnn92:* At 8,000 cells: Runs pending")
    assert "\n- *CHGNet 0.3.0 vs cgcnn92:* At 500 cells: No finished run of the variant" in text
    assert t.at["ORB-v2 (last layer) vs cgcnn92", "larger advantage where data are scarce?"] == "pending"
    assert "\n- *cgcnn92 vs onehot:* The mean change at 500 cells (3 seeds)" in text
    fig = scarce.plot_learning_curve_pair(summary, changes, unit="eV/atom")
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "test MAE (eV/atom)"
    assert tuple(fig.get_size_inches()) == pytest.approx((12.4, 4.2))


def test_trend_table_says_yes_where_the_advantage_is_larger_with_less_data():
    lc = _curve({**CURVE, ("CT mt", 8000): [0.10 * 0.97, 0.11 * 0.98, 0.09 * 0.99]})
    t = scarce.trend_table(transfer.learning_curve_trend(lc)).set_index("comparison")
    assert t.at["CT mt vs cgcnn92", "larger advantage where data are scarce?"] == "yes"
    assert t.at["CT mt vs cgcnn92", "change at 8,000 cells"] == "-2.0%"
    assert t.at["CT mt vs cgcnn92", "difference, 95% interval (points)"].endswith("]")
    assert t.at["CT mt vs cgcnn92", "seeds"] == 3


def test_as_records_keeps_the_order_given():
    a, b = pd.DataFrame({"x": [1, 2]}), pd.DataFrame(columns=["y"])
    assert scarce.as_records(rows=a, empty=b) == {"rows": [{"x": 1}, {"x": 2}], "empty": []}
    assert list(scarce.as_records(z=b, a=a)) == ["z", "a"]


# ------------------------------------------------------------------ page 03: the Table II fronts
def _fronts():
    return pd.DataFrame([
        {"task": "E_f", "front": "CGCNN", "status": "stored", "epochs": "30/30", "drift": 1.3012, "k_best": 2.0,
         "silhouette": 0.1561, "r2_stored": 0.3431, "r2_learned": 0.381, "column": "C-C", "mae": 0.09481,
         "mae_std": 0.002634, "n": 3, "n_planned": 3},
        {"task": "E_f", "front": "CT", "status": "stored", "epochs": "20/20", "drift": 0.4, "k_best": math.nan,
         "silhouette": math.nan, "r2_stored": 0.164, "r2_learned": math.nan, "column": "CT-C", "mae": 0.108,
         "mae_std": math.nan, "n": 1, "n_planned": 3},
        {"task": "E_g", "front": "MEGNet", "status": "in progress", "epochs": "7/20", "drift": math.nan,
         "k_best": math.nan, "silhouette": math.nan, "r2_stored": math.nan, "r2_learned": math.nan,
         "column": "M-C", "mae": math.nan, "mae_std": math.nan, "n": 0, "n_planned": 3}])


def test_fronts_waiting_names_the_fronts_not_stored():
    assert transfer.fronts_waiting(_fronts()) == "Not measured yet: MEGNet front, E_g (in progress, epoch 7/20)."
    assert transfer.fronts_waiting(_fronts().iloc[:2]) == ""


def test_fronts_table_shows_the_stored_fronts_formatted():
    st = transfer.fronts_table(_fronts())
    assert list(st.data.columns) == ["task", "front", "epochs", "drift", "silhouette", "best k",
                                     "mean R², as stored", "mean R², learned part", "transferred into", "test MAE"]
    assert list(st.data["front"]) == ["CGCNN", "CT"]
    assert list(st.data["test MAE"]) == ["0.0948 ± 0.00263 (3/3 seeds)", "0.108 ± — (1/3 seeds)"]
    html = st.to_html()
    assert ">1.301<" in html and ">0.343<" in html and ">2<" in html and ">—<" in html
    empty = transfer.fronts_table(_fronts().iloc[2:])
    assert empty.data.empty and "test MAE" in empty.data.columns


def test_table2_fronts_measures_then_summarises(monkeypatch, tmp_path):
    from ctlib import lookup
    from ctlib.analysis import fronts

    calls = {}
    monkeypatch.setattr(fronts, "table2_front_runs", lambda profile: ["run"])

    def chemistry(runs, profile, *, n_estimators, cache_dir):
        calls.update(runs=runs, profile=profile, trees=n_estimators, cache=cache_dir)
        return pd.DataFrame({"kind": ["C E_f"]})

    monkeypatch.setattr(fronts, "front_chemistry", chemistry)
    monkeypatch.setattr(fronts, "front_summary", lambda runs, chem, df: (runs, list(chem["kind"]), len(df)))
    monkeypatch.setattr(lookup, "analysis_dir", lambda profile, name: tmp_path / profile / name)
    chem, summary = transfer.table2_fronts(pd.DataFrame({"mae": [0.1, 0.2]}), "smoke")
    assert list(chem["kind"]) == ["C E_f"] and summary == (["run"], ["C E_f"], 2)
    assert calls == {"runs": ["run"], "profile": "smoke", "trees": 10, "cache": tmp_path / "smoke" / "chemistry"}
