"""Page 02 (Table I) computed by ctlib.pages.table1: the note of a profile that runs Table I for
CT only, the MP* columns, the floor, the detail figures and the coordinate-scale comparison."""
from __future__ import annotations

import math

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from ctlib.config import get_profile  # noqa: E402
from ctlib.pages import table1  # noqa: E402


def test_profile_note_only_where_table1_is_partial():
    assert table1.table1_profile_note("quick", pd.DataFrame(), pd.DataFrame()) is None
    ct = pd.DataFrame([{"column": "ct", "target": "E_f", "seed": 0, "mae": 0.1, "run_id": "a"}])
    fronts = pd.DataFrame([{"column": "cgcnn", "target": "E_f", "seed": 0, "mae": 0.05, "run_id": "b"}])
    note, scale = table1.table1_profile_note("cpu", ct, fronts)
    ep = get_profile("cpu").epochs["ct"]
    assert note.startswith("**Profile `cpu` runs Table I for CT only.** The CT rows are its single-task "
                           f"pretraining on the whole MP-2018 train split: one seed, {ep} epochs (the paper "
                           f"profile: {get_profile('paper').epochs['ct']}).")
    assert "a back end trained on a 4,000-cell sample, not a Table I column." in note
    assert "| target | CGCNN (one-hot), 30 epochs | CT, 20 epochs |" in scale
    assert "| E_f | 0.0500 (0.0830) | 0.100 (0.0970) |" in scale
    _, empty = table1.table1_profile_note("cpu", ct, pd.DataFrame())
    assert empty == ""


def test_mp_star_columns_hold_the_papers_later_release_values():
    t1 = pd.DataFrame({"column": ["cgcnn", "ct"], "target": ["E_f", "E_g"], "mean": [0.1, 0.5]})
    out = table1.with_mp_star(t1)
    assert out["MP* (paper)"].tolist() == ["0.0850", "0.395"]      # paper Table I, MP* columns
    assert out["MP* (ours)"].tolist() == ["not testable offline"] * 2
    assert "MP* (paper)" not in t1          # the input is not changed


def test_floor_text_names_each_target():
    base = pd.DataFrame([{"target": "E_f", "unit": "eV/atom", "mae": 0.96234},
                         {"target": "E_g", "unit": "eV", "mae": 1.4321}])
    assert table1.floor_text(base) == (
        "**The floor.** Predicting the training mean for every test structure gives a test MAE of "
        "0.962 eV/atom for E_f and 1.43 eV for E_g. A model that does not beat this has learned "
        "nothing about the target.")


def test_detail_figures_are_named_saved_and_pending_without_runs(tmp_path):
    df = pd.DataFrame([{"model": m, "target": t, "seed": s, "run_id": None, "mae": math.nan}
                       for m in ("cgcnn", "ct") for t in ("E_f", "E_g") for s in (1, 2)])
    figs = table1.detail_figures(df, out_dir=tmp_path, stem="x")
    assert list(figs) == ["x_parity_E_f", "x_parity_E_g", "x_learning_curves"]
    assert len([a for a in figs["x_parity_E_f"].axes if a.get_visible()]) == 2     # first seed: 2 models
    assert "pending" in figs["x_parity_E_f"].axes[0].texts[0].get_text()
    assert [a.get_title() for a in figs["x_learning_curves"].axes] == ["E_f: validation MAE",
                                                                        "E_g: validation MAE"]
    assert [a.get_ylabel() for a in figs["x_learning_curves"].axes] == ["validation MAE (eV/atom)",
                                                                         "validation MAE (eV)"]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(
        f"{n}.{e}" for n in figs for e in ("png", "pdf"))
    assert table1.detail_figures(df) and not (tmp_path / "figures" / "02_models_parity_E_f.png").exists()
    plt.close("all")


def test_coord_scale_table_and_figure():
    cs = pd.DataFrame({"coord_scale": [1.0, 1.0, 0.1, 0.1], "seed": [0, 1, 0, 1],
                       "mae": [0.2, 0.4, 0.1, math.nan], "best_val_mae": [0.3, 0.5, 0.15, 0.25],
                       "run_id": [None] * 4})
    t = table1.coord_scale_table(cs)
    assert t.index.name == "coord_scale (1 = Å, the paper)" and t.index.tolist() == [0.1, 1.0]
    assert t.loc[1.0, "test_mae"] == pytest.approx(0.3) and t.loc[1.0, "test_std"] == pytest.approx(math.sqrt(0.02))
    assert t.loc[0.1, "stored_runs"] == 1 and t.loc[0.1, "best_val_mae"] == pytest.approx(0.2)
    assert set(table1.COORD_SCALE_MAES) <= set(t.columns)
    base = pd.DataFrame([{"target": "E_g", "mae": 1.4}, {"target": "E_f", "mae": 0.9}])
    fig = table1.coord_scale_figure(cs, base)
    ax = fig.axes[0]
    assert ax.get_title() == "CT, E_f: validation MAE" and ax.get_ylabel() == "validation MAE (eV/atom)"
    (floor,) = ax.get_lines()                       # no stored run: the E_f floor only, dashed
    assert list(floor.get_ydata()) == [0.9, 0.9] and floor.get_linestyle() == "--"
    plt.close("all")
    assert "`cpu`" in table1.coord_scale_not_run("cpu")
