"""Table II's fronts (ctlib.analysis.fronts): each front's table measured as stored and as its
learned part, and set beside the Table II column it starts."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctlib.analysis import fronts, pretraining
from ctlib.elements import ELEMENTS
from ctlib.embeddings import ElementEmbedding


@pytest.fixture(autouse=True)
def _fresh_memo():
    pretraining.clear_memo()
    yield
    pretraining.clear_memo()


def _save(path: Path, matrix) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementEmbedding(list(ELEMENTS), matrix).save(path)
    return path


def test_front_chemistry_measures_each_stored_front_as_stored_and_as_its_learned_part(tmp_path):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((len(ELEMENTS), 8))
    final = _save(tmp_path / "c_final.json", 3.0 * start)          # moved by twice its start's norm
    epoch0 = _save(tmp_path / "c_epoch0.json", start)
    m_final = _save(tmp_path / "m_final.json", rng.standard_normal((len(ELEMENTS), 8)))
    c = fronts.FrontRun("cgcnn", "E_f", "C E_f", "CGCNN front, E_f", pretraining.STORED,
                        record={"embedding_path": str(final), "seed": 0}, snapshots={0: epoch0})
    m = fronts.FrontRun("megnet", "E_f", "M E_f", "MEGNet front, E_f", pretraining.STORED,
                        record={"embedding_path": str(m_final), "seed": 0})    # no epoch-0 snapshot
    pending = fronts.FrontRun("cgcnn", "E_g", "C E_g", "CGCNN front, E_g", pretraining.PENDING)
    chem = fronts.front_chemistry([c, m, pending], "smoke", references=(), repeats=1, ks=(2, 3))
    assert list(zip(chem["kind"], chem["table"])) == [("C E_f", "as stored"), ("C E_f", "learned part"),
                                                      ("M E_f", "as stored")]
    assert chem["drift"].iloc[0] == pytest.approx(2.0, abs=1e-5) and math.isnan(chem["drift"].iloc[2])
    assert np.isfinite(chem["r2_mean"]).all()
    assert fronts.front_chemistry([pending], "smoke", references=()).empty


def _chem(rows):
    return pd.DataFrame([{"kind": k, "table": t, "drift": d, "k_best": 2, "silhouette": 0.1, "r2_mean": r}
                         for k, t, d, r in rows])


def _df(maes):
    """Table II rows: ``{(column, target): [mae per seed, NaN = not stored]}``."""
    return pd.DataFrame([{"column": c, "target": t, "mae": v, "seed": s}
                         for (c, t), vals in maes.items() for s, v in enumerate(vals)])


def _runs():
    st, pe = pretraining.STORED, pretraining.PENDING
    return [fronts.FrontRun("cgcnn", "E_f", "C E_f", "CGCNN front, E_f", st, epochs_done=30, epochs_planned=30),
            fronts.FrontRun("ct", "E_f", "CT E_f", "CT front, E_f", st, epochs_done=20, epochs_planned=20),
            fronts.FrontRun("cgcnn", "E_g", "C E_g", "CGCNN front, E_g", pe, epochs_planned=30),
            fronts.FrontRun("ct", "E_g", "CT E_g", "CT front, E_g", st, epochs_done=20, epochs_planned=20)]


def test_front_summary_joins_each_fronts_chemistry_to_the_column_it_starts():
    chem = _chem([("C E_f", "as stored", 1.3, 0.34), ("C E_f", "learned part", 1.3, 0.38),
                  ("CT E_f", "as stored", 0.4, 0.16), ("CT E_f", "learned part", 0.4, 0.36),
                  ("CT E_g", "as stored", 0.4, 0.23), ("CT E_g", "learned part", 0.4, 0.41)])
    df = _df({("C-C", "E_f"): [0.09, 0.10, math.nan], ("CT-C", "E_f"): [0.11, 0.10, 0.12],
              ("C-C", "E_g"): [math.nan] * 3, ("CT-C", "E_g"): [0.5, 0.5, 0.5]})
    s = fronts.front_summary(_runs(), chem, df)
    assert list(s["column"]) == ["C-C", "CT-C", "C-C", "CT-C"]
    assert list(s["n"]) == [2, 3, 0, 3] and set(s["n_planned"]) == {3}
    assert s["mae"].iloc[0] == pytest.approx(0.095) and s["mae_std"].iloc[1] == pytest.approx(0.01)
    assert s["r2_stored"].iloc[0] == 0.34 and s["r2_learned"].iloc[1] == 0.36
    assert math.isnan(s["r2_stored"].iloc[2]) and s["epochs"].iloc[2] == "0/30"
    text = fronts.front_reading(s)
    assert "- **E_f**: mean R² of the table as stored, CGCNN 0.34, CT 0.16; of its learned part, CGCNN 0.38, CT 0.36." in text
    assert "C-C 0.0950 (2 of 3 seeds), CT-C 0.110 (3 of 3 seeds)" in text
    assert "rank the same by the chemistry of their stored tables and by transfer (provisional: seeds pending)." in text
    assert "- **E_g**: 1 of 2 fronts stored; nothing to compare yet." in text
    # every seed stored, and the table with less chemistry transfers better: the ranks differ
    df.loc[(df["column"] == "C-C") & (df["target"] == "E_f"), "mae"] = [0.2, 0.2, 0.2]
    text = fronts.front_reading(fronts.front_summary(_runs(), chem, df))
    assert "The ranks by chemistry and by transfer differ." in text and "provisional" not in text
    # one seed has no spread; a front without a learned part is left out of that list
    one = df[df["seed"] == 0]
    no_start = chem[~((chem["kind"] == "C E_f") & (chem["table"] == "learned part"))]
    text = fronts.front_reading(fronts.front_summary(_runs(), no_start, one))
    assert "as stored, CGCNN 0.34, CT 0.16; of its learned part, CT 0.36." in text
    assert "(1 of 1 seeds)" in text and text.count("(one seed: no spread to judge by).") == 1
