"""tools/verdicts.py: the claims page's verdicts one line each, and what changed between builds."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "verdicts.py"
_spec = importlib.util.spec_from_file_location("verdicts_tool", TOOL)
verdicts_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verdicts_tool)


def _claims(headline_verdict: str, n_seeds: int, k3: str = "contradicted") -> dict:
    return {"profile": "cpu",
            "verdicts": [{"id": "II-CT-C-E_f", "verdict": headline_verdict, "rel_mean": -0.05, "rel_lo": -0.09,
                          "rel_hi": -0.01, "n_seeds": n_seeds},
                         {"id": "II-CT-M-E_f", "verdict": "missing", "rel_mean": None, "rel_lo": None,
                          "rel_hi": None, "n_seeds": 0}],
            "interpretability": [{"claim": "k = 3 clusters", "verdict": k3, "ours": "best k 2"}],
            "pretraining": [{"test": "HOIP", "claim": "CT mt vs CT untrained", "verdict": "inconclusive",
                             "mean_rel": -0.015, "rel_lo": -0.07, "rel_hi": 0.04, "n_seeds": 5}]}


def test_a_changed_word_or_seed_count_is_listed_and_nothing_else(tmp_path):
    before = verdicts_tool.verdicts(_claims("not reproduced", 3))
    assert before["verdicts: II-CT-C-E_f"]["interval"] == "-5.0% [-9.0, -1.0] over 3 seeds"
    assert before["pretraining: HOIP: CT mt vs CT untrained"]["verdict"] == "inconclusive"
    assert before["interpretability: k = 3 clusters"]["interval"] == "best k 2"
    assert verdicts_tool.changes(before, before) == []
    after = verdicts_tool.verdicts(_claims("reproduced", 3))
    assert verdicts_tool.changes(before, after) == [
        "verdicts: II-CT-C-E_f: not reproduced -> reproduced (-5.0% [-9.0, -1.0] over 3 seeds -> "
        "-5.0% [-9.0, -1.0] over 3 seeds)"]
    more_seeds = verdicts_tool.verdicts(_claims("not reproduced", 5))
    assert len(verdicts_tool.changes(before, more_seeds)) == 1
    del after["interpretability: k = 3 clusters"]
    assert "interpretability: k = 3 clusters: gone (contradicted, best k 2)" in verdicts_tool.changes(before, after)


def test_the_command_prints_counts_and_changes_and_names_a_missing_file(tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(_claims("not reproduced", 3)))
    new.write_text(json.dumps(_claims("reproduced", 3, k3="reproduced")))
    r = subprocess.run([sys.executable, str(TOOL), str(new), "--against", str(old)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "counts: reproduced 2, missing 1, inconclusive 1" in r.stdout
    assert f"changed since {old}: 2" in r.stdout
    r = subprocess.run([sys.executable, str(TOOL), str(tmp_path / "none.json")], capture_output=True, text=True)
    assert r.returncode == 1 and "none.json does not exist; build the claims page first" in r.stderr
    (tmp_path / "bad.json").write_text("{")
    r = subprocess.run([sys.executable, str(TOOL), str(tmp_path / "bad.json")], capture_output=True, text=True)
    assert r.returncode == 1 and "is not a readable claims JSON" in r.stderr
    assert subprocess.run([sys.executable, str(TOOL), "--help"], capture_output=True).returncode == 0


def test_the_ledger_is_the_verdicts_without_a_date_and_rewritten_only_on_change(tmp_path):
    from ctlib.book.generated import write_verdict_ledger
    from ctlib.report import ledger
    from ctlib.results import ResultStore

    src = tmp_path / "10_claims.json"
    src.write_text(json.dumps({**_claims("not reproduced", 3), "date": "2026-12-07"}))
    path = write_verdict_ledger(src, tmp_path / "results", "cpu")
    assert path == tmp_path / "results" / "cpu" / "analysis" / "ledger" / "verdicts.json"
    assert ResultStore(tmp_path / "results").record_paths("cpu") == []   # not taken for a run's record
    text = path.read_text()
    assert "2026-12-07" not in text and list(json.loads(text)) == ["profile", "claims"]
    # read back, the ledger gives the same verdicts as the claims JSON it came from
    assert ledger.claim_verdicts(json.loads(text)) == verdicts_tool.verdicts(_claims("not reproduced", 3))
    path.touch()
    stamp = path.stat().st_mtime_ns
    write_verdict_ledger(src, tmp_path / "results", "cpu")
    assert path.stat().st_mtime_ns == stamp       # the same verdicts leave the file alone
    src.write_text(json.dumps(_claims("reproduced", 3)))
    write_verdict_ledger(src, tmp_path / "results", "cpu")
    assert path.read_text() != text


def test_against_a_git_revision_reads_the_ledger_committed_there(tmp_path, monkeypatch, capsys):
    from ctlib.book.generated import write_verdict_ledger

    repo = tmp_path / "repo"
    (repo / "results" / "cpu" / "analysis").mkdir(parents=True)

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@t")
    git("config", "user.name", "t")
    (repo / "README").write_text("x\n")
    git("add", "README")
    git("commit", "-qm", "before the ledger")
    src = tmp_path / "old.json"
    src.write_text(json.dumps(_claims("not reproduced", 3)))
    write_verdict_ledger(src, repo / "results", "cpu")
    git("add", "results")
    git("commit", "-qm", "ledger")
    new = tmp_path / "new.json"
    new.write_text(json.dumps(_claims("reproduced", 3)))
    monkeypatch.setattr(verdicts_tool, "ROOT", repo)
    assert verdicts_tool.main([str(new), "--against", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "changed since HEAD: 1" in out and "not reproduced -> reproduced" in out
    with pytest.raises(SystemExit, match="no results/cpu/analysis/ledger/verdicts.json at git revision 'HEAD~1'"):
        verdicts_tool.main([str(new), "--against", "HEAD~1"])
