"""Numbers that the hand-written pages quote, computed from stored records, never typed.

``ctlib book`` writes each note to ``book/generated/<name>.md`` after the notebooks
ran (:func:`write_notes`), and ``book/methods.md`` includes them:

* :func:`stop_probe_note`: why the ``cpu`` runs train their whole schedule, from the
  stopping probe's records (``results/cpu/analysis/stop_probe/``, ``tools/stop_probe.py``);
* :func:`verdict_example`: the verdict rule worked through on one judged claim of the
  build's claims page (``10_claims.json``).

A note whose input is missing says so in one line, so the book still builds.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

#: (file stem, rel. path) of the notes; the methods page includes them by these names.
STOP_PROBE_NOTE = "stop_probe_note.md"
VERDICT_EXAMPLE = "verdict_example.md"
#: the patience whose cost the stop-probe note quotes (the earlier default).
PATIENCE = 15


def stop_probe_records(results_root: str | Path, profile: str = "cpu") -> dict[str, dict]:
    """``{stem: record}`` of ``<results_root>/<profile>/analysis/stop_probe/*.json``."""
    folder = Path(results_root) / profile / "analysis" / "stop_probe"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def _stop(rec: dict, patience: int = PATIENCE) -> tuple[int | None, float]:
    """``(epoch it stopped at, its best validation MAE / the full schedule's)`` under ``patience``."""
    stop = next(r for r in rec["replays"] if r["patience"] == patience)
    return stop["stopped_at"], stop["best_val_mae"] / rec["best"]["best_val_mae"]


def stop_probe_note(results_root: str | Path, profile: str = "cpu") -> str:
    """The early-stopping paragraph of the methods page, from the stored probe records.

    Uses ``hoip-e100`` and ``castelli-e100`` (patience :data:`PATIENCE` replayed on a
    whole 100-epoch OneCycle run) and ``mp_E_f-e60`` / ``mp_E_f-e100`` (the 4,000-cell
    E_f back end under 60 and 100 epochs: best validation MAE in eV/atom, wall time).
    """
    rec = stop_probe_records(results_root, profile)
    need = ("hoip-e100", "castelli-e100", "mp_E_f-e60", "mp_E_f-e100")
    if not all(k in rec for k in need):
        return (f"*(The stopping probe's records are not in `results/{profile}/analysis/stop_probe/`: "
                f"run `tools/stop_probe.py`.)*\n")
    (h_at, h_x), (c_at, c_x) = _stop(rec["hoip-e100"]), _stop(rec["castelli-e100"])
    e60, e100 = rec["mp_E_f-e60"], rec["mp_E_f-e100"]
    share = e60["wall_s"] / e100["wall_s"]
    return (f"Under OneCycle the best epochs come last, as the learning rate anneals; stopping after "
            f"{PATIENCE} epochs without progress cut a HOIP run at epoch {h_at} with {h_x:.2f}× the "
            f"validation MAE of the full schedule, and a Castelli-3,334 run at epoch {c_at} with "
            f"{c_x:.2f}× (`tools/stop_probe.py`, validation split only; records in "
            f"`results/{profile}/analysis/stop_probe/`). On the 4,000-cell E_f back end a 60-epoch "
            f"schedule reached a validation MAE of {e60['best']['best_val_mae']:.3f} eV/atom against "
            f"{e100['best']['best_val_mae']:.3f} for 100 epochs, in {100 * share:.0f} % of the time.\n")


def _pick(verdicts: list[dict]) -> dict | None:
    """The claim to work through: the first judged one whose word needs the paper's number
    (weaker / stronger / not reproduced), else the first judged one with per-seed changes."""
    from ctlib import report

    judged = [v for v in verdicts if v.get("verdict") in report.SIX_WORDS and len(v.get("changes") or []) > 1]
    sized = [v for v in judged if v["verdict"] in (report.WEAKER, report.STRONGER, report.NOT_REPRODUCED)]
    return (sized or judged or [None])[0]


def verdict_example(claims_summary: dict | None) -> str:
    """The rule worked through on one claim of the claims page's summary (``10_claims.json``:
    ``verdicts`` rows with ``changes``, ``seeds``, ``rel_lo``, ``rel_hi``, ``paper_rel``)."""
    from scipy import stats

    v = _pick((claims_summary or {}).get("verdicts") or [])
    if v is None:
        return "*(No claim is judged in this build yet: the worked example appears once one is.)*\n"
    c = [float(x) for x in v["changes"]]
    n = len(c)
    mean = sum(c) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in c) / (n - 1))
    t = float(stats.t.ppf(0.975, n - 1))
    half = t * sd / math.sqrt(n)
    p = float(v["paper_rel"])
    pct = lambda x: f"{100 * x:+.1f} %"  # noqa: E731
    seeds = ", ".join(f"seed {s}: {pct(x)}" for s, x in zip(v.get("seeds") or range(n), c))
    return (f"**A worked example** (profile `{claims_summary.get('profile', '?')}`, from this build's "
            f"claims page): *{v['claim']}* ({v.get('target', '')}). The per-seed relative changes of the "
            f"test MAE are {seeds}. Their mean is {pct(mean)} and their standard deviation "
            f"{100 * sd:.2f} points, so the 95 % interval is {pct(mean)} ± t(0.975, {n - 1}) · "
            f"{100 * sd:.2f} / √{n} = {pct(mean)} ± {100 * half:.1f} points = "
            f"[{pct(mean - half)}, {pct(mean + half)}]. The paper's change is {pct(p)}. "
            f"The word is therefore **{v['verdict']}**.\n")


def write_notes(out_dir: str | Path, results_root: str | Path, profile: str = "cpu") -> list[Path]:
    """Write the notes into ``out_dir`` (``book/generated``); returns the paths written.
    The stop probe is a cpu measurement whatever the book's profile; the example uses the
    claims page of this build (``out_dir/10_claims.json``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = out_dir / "10_claims.json"
    claims_summary = json.loads(summary.read_text()) if summary.is_file() else None
    paths = [out_dir / STOP_PROBE_NOTE, out_dir / VERDICT_EXAMPLE]
    paths[0].write_text(stop_probe_note(results_root, "cpu"))
    paths[1].write_text(verdict_example(claims_summary))
    return paths
