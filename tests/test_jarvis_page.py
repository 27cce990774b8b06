"""Page 09 (Table V, JARVIS-DFT) computed by ctlib.pages.jarvis: the paper's table, and our
runs with verdicts only where a dft_3d file is present."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ctlib import claims, experiments, report
from ctlib.pages import jarvis


def test_paper_values_and_table_hold_table_v():
    v = jarvis.paper_values()
    assert v == {("CGCNN", "E_f"): 0.135, ("CT-C", "E_f"): 0.125,
                 ("CGCNN", "E_g"): 1.374, ("CT-C", "E_g"): 1.074}
    t = jarvis.paper_table()
    assert t.index.name == "target" and t.index.tolist() == ["E_f", "E_g"]
    assert t.columns.tolist() == ["CGCNN", "CT-C"] and t.loc["E_g", "CT-C"] == 1.074


def test_without_a_file_the_claims_are_not_testable(monkeypatch):
    monkeypatch.setattr(experiments, "jarvis_path", lambda: None)
    df, rows, available = jarvis.table5_verdicts("smoke")
    assert df.empty and available is False
    assert [r["verdict"] for r in rows] == [report.NOT_TESTABLE] * 2
    assert all(jarvis.NO_FILE in r["ours"] for r in rows)


def test_with_a_file_the_runs_are_judged(monkeypatch):
    runs = pd.DataFrame([{"column": "CGCNN", "target": "E_f", "seed": 0, "mae": 0.2}])
    seen = {}
    monkeypatch.setattr(experiments, "jarvis_path", lambda: Path("dft_3d.json"))
    monkeypatch.setattr(experiments, "table5", lambda *a, **kw: seen.setdefault("args", (a, kw)) and runs)
    monkeypatch.setattr(claims, "judge", lambda df, cl: pd.DataFrame({"claim": [c.text for c in cl],
                                                                      "n_rows": len(df)}))
    df, verdicts, available = jarvis.table5_verdicts("cpu", [0, 1], device="cpu", force=True)
    assert available is True and df is runs
    assert seen["args"] == (("cpu", [0, 1]), {"device": "cpu", "force": True})
    assert verdicts["claim"].tolist() == [c.text for c in claims.jarvis_claims()]
