"""Chapter 13's curve of the table's value against its pretraining data (ctlib.analysis.data_curve)."""
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from ctlib.analysis import data_curve

matplotlib.use("Agg")


def _tables(stored=(0.25, 0.5, 1.0)):
    rows = []
    for f in (0.25, 0.5, 1.0):
        rows.append({"fraction": f, "start": f"CT mt, {100 * f:.0f}% of the pretraining data",
                     "n_cells": round(44441 * f) if f in stored else math.nan,
                     "run_id": f"r{f}" if f in stored else None, "table": None})
    return pd.DataFrame(rows)


def _rows(maes):
    return pd.DataFrame([{"dataset": "castelli-3334", "start": start, "seed": s, "mae": m + 0.001 * s,
                          "n_test": 667, "split_hash": "h", "unit": "eV/atom", "run_id": f"{start}-{s}"}
                         for start, m in maes.items() for s in range(5)])


def test_the_curve_joins_chemistry_and_transfer_per_fraction():
    tables = _tables()
    r2 = pd.Series({tables.start[0]: 0.20, tables.start[1]: 0.25, tables.start[2]: 0.30, "cgcnn92": 0.5})
    curve = data_curve.data_curve(tables, r2, _rows({tables.start[0]: 0.030, tables.start[2]: 0.026}))
    assert curve["r2_mean"].tolist() == [0.20, 0.25, 0.30]
    assert curve["mae"].iloc[0] == pytest.approx(0.032) and np.isnan(curve["mae"].iloc[1])   # 50 %: pending
    assert curve["n"].tolist() == [5, 0, 5] and curve["mae_std"].iloc[2] == pytest.approx(np.std(
        [0.026 + 0.001 * s for s in range(5)], ddof=1))
    refs = {"cgcnn92 (handcrafted)": (0.5, 0.025)}
    text = data_curve.reading(curve, refs)
    assert "From 25 % to 100 % of the train split (11,110 → 44,441 cells), the mean reverse-prediction R² goes " \
           "from 0.20 to 0.30; for scale: cgcnn92 (handcrafted) 0.50." in text
    assert "CGCNN's Castelli-3,334 test MAE goes from 0.0320 eV/atom to 0.0280 eV/atom (± 0.0016 over 5 seeds)" in text
    fig = data_curve.plot_data_curve(curve, refs)
    left, right = fig.axes
    assert left.get_xscale() == "log" and right.get_ylabel().startswith("CGCNN test MAE")
    assert any("pending" in t.get_text() for t in right.texts)                    # the 50 % run
    assert not any("pending" in t.get_text() for t in left.texts)
    done = curve[np.isfinite(curve["mae"])]                                       # the error bars fit
    lo, hi = right.get_ylim()
    assert lo <= (done["mae"] - done["mae_std"]).min() and (done["mae"] + done["mae_std"]).max() <= hi
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == len(refs) + 1   # under the panels


def test_a_curve_with_one_point_is_pending_and_the_references_come_from_the_ranked_zoo():
    tables = _tables(stored=(1.0,))
    curve = data_curve.data_curve(tables, pd.Series({tables.start[2]: 0.3}), pd.DataFrame())
    assert data_curve.reading(curve).count("*pending*") == 2
    ranked = pd.DataFrame([
        {"table": "CT mt", "family": "ours", "sees_test": False, "r2_mean": 0.27, "castelli_mae": 0.03},
        {"table": "cgcnn92", "family": "CGCNN's own", "sees_test": False, "r2_mean": 0.55, "castelli_mae": 0.029},
        {"table": "MEGNet MP-2018 E_f", "family": "zoo: input", "sees_test": True, "r2_mean": 0.9,
         "castelli_mae": 0.02},
        {"table": "ORB-v2 (last layer)", "family": "zoo: last layer", "sees_test": False, "r2_mean": 0.58,
         "castelli_mae": 0.028},
        {"table": "CHGNet 0.3.0", "family": "zoo: input", "sees_test": False, "r2_mean": 0.55,
         "castelli_mae": float("nan")}])
    refs = data_curve.references(ranked)
    assert list(refs) == ["cgcnn92 (handcrafted)", "CT mt (bf16), the book's table",
                          "ORB-v2 (last layer) (best published by R²)"]      # not the one that saw our test set
    assert refs["ORB-v2 (last layer) (best published by R²)"] == (0.58, 0.028)


def test_a_profile_without_fractions_has_no_curve():
    assert data_curve.curve_tables("quick").empty
