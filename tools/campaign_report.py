#!/usr/bin/env python3
"""The second campaign's numbers in one Markdown report, for a closing note.

Issue 35 asks its closing note for the CPU-hours of each tier, the embedding zoo ranked, the
Matbench table beside the leaderboard, best k and the probe R² over the pretraining seeds,
the curve of value against pretraining data, and the verdicts at the whole train split and
on CT-M. This prints each as a section, from the campaign's status (the stored records) and
the summaries that ``make book`` writes to ``book/generated/*.json``; a section whose runs
are not stored yet says "pending". Build the book first, so that the summaries hold the
latest runs::

    make book
    python tools/campaign_report.py > /tmp/report.md
    python tools/verdicts.py --against OLD_CLAIMS.json      # the verdicts that changed

It trains and measures nothing. Exit status 1 when a summary is missing.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

#: The claims that the second campaign's later tiers decide (``10_claims.json`` ids).
DECIDED_LATE = ("II-CT-M-E_f", "II-CT-M-E_g", "III-mt-own-front-E_f", "III-mt-own-front-E_g",
                "III-mt-whole-split-E_f", "III-mt-whole-split-E_g")


def _summary(folder: Path, name: str) -> dict:
    path = folder / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"campaign_report: {path} does not exist; build the book first (make book)") from None
    except (OSError, json.JSONDecodeError) as err:
        raise SystemExit(f"campaign_report: {path} is not readable JSON ({err}); rebuild it with make book") from None


def _md(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False, floatfmt=".4g") if len(df) else "pending"


def _num(x, fmt: str = ".4g") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def hours_per_tier(profile: str) -> str:
    """CPU-hours spent and runs stored per tier (``ctlib.campaign.status``)."""
    from ctlib import campaign

    st = campaign.status(profile)
    g = st.groupby("tier").agg(runs_stored=("done", "sum"), runs_planned=("runs", "sum"),
                               cpu_h_spent=("cpu_h_spent", "sum"), h_left=("h_left", "sum")).reset_index()
    stored, runs = campaign.totals(st)
    return (_md(g.round(2)) + f"\n\nDistinct runs stored: {stored} of {runs}; "
            f"{st['cpu_h_spent'].sum():.2f} CPU-h spent, about {st['h_left'].sum():.1f} h left.")


def zoo_ranked(zoo: dict) -> str:
    """Every table of the zoo by reverse-prediction R², with its transfer MAEs and ranks."""
    from ctlib.zoo import SAW_LABELS, SAW_WORDS

    rows = [{"table": r["table"], "kind": r["kind"],      # (summaries before "saw" existed: sees_test only)
             "saw our test materials": SAW_WORDS[r.get("saw") or (SAW_LABELS if r["sees_test"] else "")],
             "mean R²": _num(r["r2_mean"], ".3f"), "R² rank": r["r2_rank"],
             "Castelli MAE (eV/atom)": r["castelli_cell"], "Castelli rank": r["castelli_rank"],
             "HOIP MAE (eV/atom)": r["hoip_cell"], "HOIP rank": r["hoip_rank"]} for r in zoo.get("ranked") or []]
    return _md(pd.DataFrame(rows))


def matbench(zoo: dict) -> str:
    """Our Matbench perovskites runs beside the leaderboard (eV/cell), then our CGCNN
    against the leaderboard's with Welch's interval."""
    from ctlib.analysis.transfer import matbench_fidelity, matbench_table

    mb = pd.DataFrame(zoo.get("matbench") or [])
    if mb.empty:
        return "not run on this profile"
    return _md(matbench_table(mb)[["entry", "source", "folds", "cell"]]) + "\n\n" + matbench_fidelity(mb)["sentence"]


def pretraining_seeds(pre: dict) -> str:
    """Each pretraining seed's errors, probe R² and best k, and their spread."""
    rows = pre.get("pretraining_seeds")
    if not rows:
        return "not run on this profile"
    from ctlib.analysis.pretraining.seeds import stored_seed_rows

    df = pd.DataFrame(rows)
    done = stored_seed_rows(df)            # the stored fp32 seeds (not the book's table, fp32 or not)
    done = done[done["r2_mean"].notna()]   # R² and best k of the same seeds
    r2, ks = done["r2_mean"], done["k_best"]
    spread = (f"\n\nOver {len(r2)} fp32 seeds: probe R² {r2.mean():.3f} ± {r2.std(ddof=1):.3f}, "
              f"best k {', '.join(str(int(k)) for k in ks)}." if len(r2) >= 2 else "\n\nSpread: pending.")
    return _md(df) + spread


def data_curve(zoo: dict) -> str:
    """Mean R² and Castelli MAE against the share of the train split CT was pretrained on."""
    return _md(pd.DataFrame(zoo.get("data_curve") or []))


def late_verdicts(claims: dict) -> str:
    """The verdicts of the claims that tiers 8-10 decide, in the book's words (a claim whose runs
    are not all stored reads *pending*, as on the claims page)."""
    from ctlib.claims.display import shown_verdict

    rows = [{"claim": v["id"], "verdict": shown_verdict(v), "ours": v.get("ours"),
             "change": ("—" if v.get("rel_mean") is None else
                        f"{100 * v['rel_mean']:+.1f}% [{100 * v['rel_lo']:+.1f}, {100 * v['rel_hi']:+.1f}]"),
             "seeds": v.get("n_seeds")} for v in claims.get("verdicts") or [] if v.get("id") in DECIDED_LATE]
    return _md(pd.DataFrame(rows))


def report(profile: str, folder: Path) -> str:
    """The whole report, in Markdown."""
    zoo, pre, claims = (_summary(folder, n) for n in ("13_zoo", "11_pretraining", "10_claims"))
    sections = [("CPU-hours per tier", hours_per_tier(profile)),
                ("The embedding zoo, ranked by reverse-prediction R²", zoo_ranked(zoo)),
                ("Matbench perovskites beside the leaderboard", matbench(zoo)),
                ("The pretraining seeds", pretraining_seeds(pre)),
                ("Value against pretraining data", data_curve(zoo)),
                ("Verdicts of tiers 8-10 (front seed = back seed, whole split, CT-M)", late_verdicts(claims))]
    return "\n\n".join(f"## {title}\n\n{body}" for title, body in sections) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Reads book/generated/{10_claims,11_pretraining,13_zoo}.json and the "
                                        "campaign's status; run make book first.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu", help="the campaign's profile (default: cpu)")
    ap.add_argument("--generated", default="book/generated", type=Path,
                    help="where the book's page summaries are (default: book/generated)")
    args = ap.parse_args(argv)
    sys.stdout.write(report(args.profile, args.generated))
    return 0


if __name__ == "__main__":
    sys.exit(main())
