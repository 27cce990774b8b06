"""The verdict ledger: every verdict of a build's claims page, one entry per claim, kept in git.

The claims page (notebook ``10_claims``) writes all it judges to ``book/generated/10_claims.json``,
which is not committed. A book build that runs that page also writes the short form of it,
``results/<profile>/analysis/ledger/verdicts.json``::

    {"profile": "cpu",
     "claims": {"verdicts: II-CT-C-E_f": {"verdict": "inconclusive",
                                          "interval": "+2.1% [-3.0, +7.2] over 3 seeds",
                                          "n_seeds": 3}, ...}}

It holds no date and no commit, so the same runs give the same file: it changes in git
exactly when a verdict's word, interval or seeds change, and ``git log -p`` on it is the
history of the book's verdicts. ``tools/verdicts.py --against REV`` lists what changed since
any commit. Pure bookkeeping: imports nothing else of ctlib; the build writes the file
(:func:`ctlib.book.generated.write_verdict_ledger`).
"""
from __future__ import annotations

#: The sections of the claims JSON that hold verdicts, and the key that names each claim.
SECTIONS = {"verdicts": "id", "interpretability": "claim", "pretraining": "claim"}

#: The ledger's place under a results store: ``<results>/<profile>/`` + this (in a folder of its
#: own: a ``<profile>/<experiment>/<name>.json`` file is a run's record to the store).
LEDGER = "analysis/ledger/verdicts.json"


def _interval(row: dict) -> str:
    lo, hi = row.get("rel_lo"), row.get("rel_hi")
    mean = row.get("rel_mean", row.get("mean_rel"))
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
        return str(row.get("ours") or "")
    return f"{100 * mean:+.1f}% [{100 * lo:+.1f}, {100 * hi:+.1f}] over {row.get('n_seeds')} seeds"


def claim_verdicts(claims: dict) -> dict[str, dict]:
    """``"section: claim"`` -> ``{"verdict", "interval", "n_seeds"}`` for every verdict of a
    claims JSON (a pretraining test is named by its test set and claim). A ledger (the output
    of :func:`ledger`) is read back as its ``claims``."""
    if isinstance(claims.get("claims"), dict):
        return dict(claims["claims"])
    out = {}
    for section, key in SECTIONS.items():
        for row in claims.get(section) or []:
            name = str(row.get(key))
            if section == "pretraining" and row.get("test"):
                name = f"{row['test']}: {name}"
            out[f"{section}: {name}"] = {"verdict": row.get("verdict"), "interval": _interval(row),
                                         "n_seeds": row.get("n_seeds")}
    return out


def verdict_changes(before: dict, after: dict) -> list[str]:
    """One line per claim whose verdict word or number of seeds differs between two
    :func:`claim_verdicts` maps, claims new or gone included."""
    lines = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        if b is None or a is None:
            lines.append(f"{name}: {'new' if b is None else 'gone'} "
                         f"({(a or b)['verdict']}, {(a or b)['interval']})")
        elif (b["verdict"], b["n_seeds"]) != (a["verdict"], a["n_seeds"]):
            lines.append(f"{name}: {b['verdict']} -> {a['verdict']} ({b['interval'] or '-'} -> {a['interval']})")
    return lines


def ledger(claims: dict) -> dict:
    """The ledger of a claims JSON: its profile and :func:`claim_verdicts`, keys sorted."""
    found = claim_verdicts(claims)
    return {"profile": claims.get("profile"), "claims": {k: found[k] for k in sorted(found)}}
