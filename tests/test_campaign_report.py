"""tools/campaign_report.py: the second campaign's numbers for a closing note, from the page summaries."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("campaign_report", ROOT / "tools" / "campaign_report.py")
campaign_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(campaign_report)


def _summaries(folder: Path, seeds_r2=(0.30, 0.25, 0.35)) -> None:
    ranked = [{"table": t, "kind": "input", "sees_test": t == "megnet16", "r2_mean": r, "r2_rank": i + 1,
               "castelli_cell": "0.0170 ± 0.0005 (n=5)", "castelli_rank": 1, "hoip_cell": "pending", "hoip_rank": None}
              for i, (t, r) in enumerate((("cgcnn92", 0.55), ("megnet16", 0.52), ("CT mt", 0.23)))]
    matbench = [{"start": s, "fold": f, "mae": None if s == "onehot" else 0.04 + 0.001 * f}
                for s in ("cgcnn92", "onehot") for f in range(5)]
    seeds = [{"table": "bf16, seed 0 (the book's table)", "status": "stored", "r2_mean": 0.31, "k_best": 2}]
    seeds += [{"table": f"fp32, seed {i}", "status": "stored", "r2_mean": r, "k_best": 2 + i}
              for i, r in enumerate(seeds_r2)]
    verdicts = [{"id": "III-mt-whole-split-E_f", "verdict": "not reproduced", "ours": "0.040 → 0.041",
                 "rel_mean": 0.01, "rel_lo": -0.02, "rel_hi": 0.04, "n_seeds": 3},
                {"id": "II-CT-M-E_f", "verdict": "missing", "ours": "— → —", "rel_mean": None, "n_seeds": 0},
                {"id": "II-CT-C-E_f", "verdict": "not reproduced", "rel_mean": 0.0, "rel_lo": -0.1, "rel_hi": 0.1,
                 "n_seeds": 3}]
    for name, body in (("13_zoo", {"ranked": ranked, "matbench": matbench, "data_curve": [
                            {"fraction": 0.25, "r2_mean": 0.1, "mae": 0.018, "n": 5}]}),
                       ("11_pretraining", {"pretraining_seeds": seeds}),
                       ("10_claims", {"verdicts": verdicts})):
        (folder / f"{name}.json").write_text(json.dumps(body))


def test_the_report_has_every_section_from_the_summaries_and_the_status(tmp_path, monkeypatch):
    from ctlib import campaign

    _summaries(tmp_path)
    st = pd.DataFrame([{"tier": 1, "step": "a", "done": 3, "runs": 3, "cpu_h_spent": 4.5, "h_left": 0.0},
                       {"tier": 8, "step": "b", "done": 1, "runs": 3, "cpu_h_spent": 6.0, "h_left": 11.4},
                       {"tier": 8, "step": "c", "done": 0, "runs": 6, "cpu_h_spent": 0.0, "h_left": 1.0}])
    monkeypatch.setattr(campaign, "status", lambda profile: st)
    monkeypatch.setattr(campaign, "totals", lambda df: (4, 12))
    text = campaign_report.report("cpu", tmp_path)
    flat = " ".join(text.split())                          # the tables' rows without their padding
    assert "| 8 | 1 | 9 | 6 | 12.4 |" in flat               # tier 8's two steps summed
    assert "Distinct runs stored: 4 of 12; 10.50 CPU-h spent, about 12.4 h left." in flat
    assert "| megnet16 | input | yes, with our labels | 0.52 | 2 |" in flat
    assert "| CT mt | input | no | 0.23 | 3 |" in flat
    # ours beside the leaderboard, best first; a start without a stored fold is pending, last
    assert "| CGCNN from cgcnn92 | ours (CGCNN back end) | 5 | 0.0420 ± 0.0016 (n=5) | | CGCNN | leaderboard" in flat
    assert flat.index("| coGN |") < flat.index("CGCNN from cgcnn92") < flat.index("CGCNN from onehot | ours "
                                                                                   "(CGCNN back end) | 0 | pending")
    assert "Our back end is better than the published CGCNN on the same split" in flat   # 0.042 vs 0.0452
    assert "Over 3 fp32 seeds: probe R² 0.300 ± 0.050, best k 2, 3, 4." in flat
    assert "| III-mt-whole-split-E_f | not reproduced | 0.040 → 0.041 | +1.0% [-2.0, +4.0] | 3 |" in flat
    assert "| II-CT-M-E_f | pending | — → — | — | 0 |" in flat   # the book's word, not "missing"
    assert "II-CT-C-E_f" not in text                       # decided by the first campaign
    _summaries(tmp_path, seeds_r2=(0.3,))
    assert "Spread: pending." in campaign_report.report("cpu", tmp_path)


def test_a_missing_summary_says_to_build_the_book(tmp_path):
    with pytest.raises(SystemExit, match="13_zoo.json does not exist; build the book first"):
        campaign_report.report("cpu", tmp_path)


def test_the_seeds_spread_and_best_k_come_from_the_same_stored_seeds():
    seeds = [{"table": "bf16, seed 0 (the book's table)", "status": "stored", "r2_mean": 0.31, "k_best": 2},
             {"table": "fp32, seed 0", "status": "stored", "r2_mean": 0.30, "k_best": 3},
             {"table": "fp32, seed 1", "status": "stored", "r2_mean": 0.20, "k_best": 4},
             {"table": "fp32, seed 2", "status": "running", "r2_mean": 0.25, "k_best": 9}]   # a snapshot's
    text = campaign_report.pretraining_seeds({"pretraining_seeds": seeds})
    assert "Over 2 fp32 seeds: probe R² 0.250 ± 0.071, best k 3, 4." in text
