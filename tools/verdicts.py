#!/usr/bin/env python3
"""The claims page's verdicts, one line each, and which of them changed since another build.

The book's claims page (notebook ``10_claims``) writes every verdict it shows to
``book/generated/10_claims.json``: the Table I-IV and perovskite claims (``verdicts``), the
interpretability claims (``interpretability``) and the pretraining tests (``pretraining``).
This prints them as ``id | verdict | interval``, counts each verdict word, and, with
``--against`` an earlier copy of that file, lists the verdicts that changed (the word, or
the seeds it rests on), so a campaign's closing note can say what its new runs decided.

Every book build that runs the claims page also writes the verdict ledger
``results/<profile>/analysis/ledger/verdicts.json`` (``ctlib.report.ledger``: the same lines,
no date), which is committed with the runs, so ``--against`` takes a git revision too::

    make book
    python tools/verdicts.py --against HEAD                  # what the new runs changed
    python tools/verdicts.py --against /tmp/claims-before.json
    git log -p results/cpu/analysis/ledger/verdicts.json     # the history of every verdict

Reads JSON (and git) only: it needs neither the datasets nor torch. Exit status 1 on a missing or
unreadable file.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ctlib.report.ledger import LEDGER, claim_verdicts as verdicts, verdict_changes as changes  # noqa: E402


def load(path: str | Path) -> dict:
    """The claims JSON at ``path``; SystemExit with what to do when it is missing or broken."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"verdicts: {path} does not exist; build the claims page first "
                         f"(make book, or ctlib book --only 10_claims)") from None
    except (OSError, json.JSONDecodeError) as err:
        raise SystemExit(f"verdicts: {path} is not a readable claims JSON ({err}); rebuild it "
                         f"with ctlib book --only 10_claims") from None


def at_revision(rev: str, profile: str = "cpu") -> dict:
    """The verdict ledger committed at git revision ``rev`` (``results/<profile>/analysis/ledger/verdicts.json``,
    written by every book build that runs the claims page); SystemExit when that commit has none."""
    rel = f"results/{profile}/{LEDGER}"
    proc = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{rel}"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"verdicts: no {rel} at git revision {rev!r} ({proc.stderr.strip()}); give a "
                         f"claims JSON file instead, or a later commit (the ledger exists since it was added)")
    return json.loads(proc.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("claims", nargs="?", default="book/generated/10_claims.json",
                    help="the claims JSON of a build (default book/generated/10_claims.json)")
    ap.add_argument("--against", metavar="OLD",
                    help="an earlier claims JSON or verdict ledger file, or a git revision whose committed "
                         "ledger to read (e.g. HEAD~5): list what changed since")
    ap.add_argument("--profile", default="cpu", help="the profile whose ledger --against REV reads (default cpu)")
    a = ap.parse_args(argv)
    now = verdicts(load(a.claims))
    for name, v in now.items():
        print(f"{name} | {v['verdict']} | {v['interval']}")
    print("counts: " + ", ".join(f"{w} {n}" for w, n in Counter(v["verdict"] for v in now.values()).most_common()))
    if a.against:
        old = load(a.against) if Path(a.against).exists() else at_revision(a.against, a.profile)
        diff = changes(verdicts(old), now)
        print(f"changed since {a.against}: {len(diff)}")
        for line in diff:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
