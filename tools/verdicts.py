#!/usr/bin/env python3
"""The claims page's verdicts, one line each, and which of them changed since another build.

The book's claims page (notebook ``10_claims``) writes every verdict it shows to
``book/generated/10_claims.json``: the Table I-IV and perovskite claims (``verdicts``), the
interpretability claims (``interpretability``) and the pretraining tests (``pretraining``).
This prints them as ``id | verdict | interval``, counts each verdict word, and, with
``--against`` an earlier copy of that file, lists the verdicts that changed (the word, or
the seeds it rests on), so a campaign's closing note can say what its new runs decided.

Keep a copy before a build to compare against::

    cp book/generated/10_claims.json /tmp/claims-before.json
    make book
    python tools/verdicts.py --against /tmp/claims-before.json

Reads JSON only: it needs neither the datasets nor torch. Exit status 1 on a missing or
unreadable file.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

#: The sections of the claims JSON that hold verdicts, and the key that names each claim.
SECTIONS = {"verdicts": "id", "interpretability": "claim", "pretraining": "claim"}


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


def _interval(row: dict) -> str:
    lo = row.get("rel_lo")
    hi = row.get("rel_hi")
    mean = row.get("rel_mean", row.get("mean_rel"))
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
        return str(row.get("ours") or "")
    return f"{100 * mean:+.1f}% [{100 * lo:+.1f}, {100 * hi:+.1f}] over {row.get('n_seeds')} seeds"


def verdicts(claims: dict) -> dict[str, dict]:
    """``"section: claim"`` -> ``{"verdict", "interval", "n_seeds"}`` for every verdict of a
    claims JSON (a pretraining test is named by its test set and claim)."""
    out = {}
    for section, key in SECTIONS.items():
        for row in claims.get(section) or []:
            name = str(row.get(key))
            if section == "pretraining" and row.get("test"):
                name = f"{row['test']}: {name}"
            out[f"{section}: {name}"] = {"verdict": row.get("verdict"), "interval": _interval(row),
                                         "n_seeds": row.get("n_seeds")}
    return out


def changes(before: dict, after: dict) -> list[str]:
    """One line per claim whose verdict word or number of seeds differs between two
    :func:`verdicts` maps, claims new or gone included."""
    lines = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        if b is None or a is None:
            lines.append(f"{name}: {'new' if b is None else 'gone'} "
                         f"({(a or b)['verdict']}, {(a or b)['interval']})")
        elif (b["verdict"], b["n_seeds"]) != (a["verdict"], a["n_seeds"]):
            lines.append(f"{name}: {b['verdict']} -> {a['verdict']} ({b['interval'] or '-'} -> {a['interval']})")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("claims", nargs="?", default="book/generated/10_claims.json",
                    help="the claims JSON of a build (default book/generated/10_claims.json)")
    ap.add_argument("--against", metavar="OLD", help="an earlier claims JSON: list what changed since")
    a = ap.parse_args(argv)
    now = verdicts(load(a.claims))
    for name, v in now.items():
        print(f"{name} | {v['verdict']} | {v['interval']}")
    print("counts: " + ", ".join(f"{w} {n}" for w, n in Counter(v["verdict"] for v in now.values()).most_common()))
    if a.against:
        diff = changes(verdicts(load(a.against)), now)
        print(f"changed since {a.against}: {len(diff)}")
        for line in diff:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
