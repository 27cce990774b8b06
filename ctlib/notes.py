"""Numbers that the hand-written pages quote, computed from stored records, never typed.

``ctlib book`` writes each note to ``book/generated/<name>.md`` after the notebooks
ran (:func:`write_notes`), and ``book/methods.md`` includes them:

* :func:`stop_probe_note`: why the ``cpu`` runs train their whole schedule, from the
  stopping probe's records (``results/cpu/analysis/stop_probe/``, ``tools/stop_probe.py``);
* :func:`verdict_example`: the verdict rule worked through on one judged claim of the
  build's claims page (``10_claims.json``);
* :func:`bottom_line`: the intro's opening, five sentences or fewer, from the chapters'
  summaries of the same build (``02_models``, ``08_reverse_prediction``, ``10_claims``,
  ``12_scarce_transfer``);
* :func:`objections`: the intro's three objections to a negative verdict, and where the
  stored runs stand on each (the same summaries, ``11_pretraining`` and ``13_zoo``).

A note whose input is missing says so in one line, so the book still builds.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

#: (file stem, rel. path) of the notes; the methods page includes them by these names.
STOP_PROBE_NOTE = "stop_probe_note.md"
VERDICT_EXAMPLE = "verdict_example.md"
BOTTOM_LINE = "bottom_line.md"
OBJECTIONS = "objections.md"
#: the patience whose cost the stop-probe note quotes (the earlier default).
PATIENCE = 15


def stop_probe_records(results_root: str | Path, profile: str = "cpu") -> dict[str, dict]:
    """``{stem: record}`` of ``<results_root>/<profile>/analysis/stop_probe/*.json``."""
    from ctlib.results import ResultStore

    folder = ResultStore(results_root).analysis_dir(profile, "stop_probe")
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def _stop(rec: dict, patience: int = PATIENCE) -> tuple[int | None, float]:
    """``(epoch it stopped at, its best validation MAE / the full schedule's)`` under ``patience``."""
    stop = next(r for r in rec["replays"] if r["patience"] == patience)
    return stop["stopped_at"], stop["best_val_mae"] / rec["best"]["best_val_mae"]


def stop_probe_note(results_root: str | Path, profile: str = "cpu") -> str:
    """The early-stopping paragraph of the methods page, from the stored probe records.

    Uses ``hoip-e100`` and ``castelli-e100`` (patience :data:`PATIENCE` replayed on a
    whole 100-epoch OneCycle run) and ``mp_E_f-e60`` / ``mp_E_f-e100`` (the 4,000-cell
    E_f back end under 60 and 100 epochs: best validation MAE in eV/atom, wall time), and
    ``mp_E_f-megnet-e60`` / ``-e100`` where stored (MEGNet from its own start on the same
    cells, the CT-M claims' back end).
    """
    rec = stop_probe_records(results_root, profile)
    need = ("hoip-e100", "castelli-e100", "mp_E_f-e60", "mp_E_f-e100")
    if not all(k in rec for k in need):
        return (f"*(The stopping probe's records are not in `results/{profile}/analysis/stop_probe/`: "
                f"run `tools/stop_probe.py`.)*\n")
    (h_at, h_x), (c_at, c_x) = _stop(rec["hoip-e100"]), _stop(rec["castelli-e100"])
    e60, e100 = rec["mp_E_f-e60"], rec["mp_E_f-e100"]
    share = e60["wall_s"] / e100["wall_s"]
    m60, m100 = rec.get("mp_E_f-megnet-e60"), rec.get("mp_E_f-megnet-e100")
    megnet = "" if not (m60 and m100) else (
        f" MEGNet from its own start (the baseline of the CT-M claims) on the same cells reached "
        f"{m60['best']['best_val_mae']:.3f} eV/atom at 60 epochs against {m100['best']['best_val_mae']:.3f} "
        f"at 100 ({100 * (m60['best']['best_val_mae'] / m100['best']['best_val_mae'] - 1):+.0f} %; "
        f"CGCNN {100 * (e60['best']['best_val_mae'] / e100['best']['best_val_mae'] - 1):+.0f} %).")
    return (f"Under OneCycle the best epochs come last, as the learning rate anneals; stopping after "
            f"{PATIENCE} epochs without progress cut a HOIP run at epoch {h_at} with {h_x:.2f}× the "
            f"validation MAE of the full schedule, and a Castelli-3,334 run at epoch {c_at} with "
            f"{c_x:.2f}× (`tools/stop_probe.py`, validation split only; records in "
            f"`results/{profile}/analysis/stop_probe/`). On the 4,000-cell E_f back end a 60-epoch "
            f"schedule reached a validation MAE of {e60['best']['best_val_mae']:.3f} eV/atom against "
            f"{e100['best']['best_val_mae']:.3f} for 100 epochs, in {100 * share:.0f} % of the time.{megnet}\n")


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


def _read(out_dir: Path, stem: str) -> dict:
    path = Path(out_dir) / f"{stem}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _interval(v: dict) -> str:
    """``+1.4 % [-5.2, +8.1]`` of a verdict row (claims rows say ``rel_mean``, transfer rows ``mean_rel``)."""
    mean = v["rel_mean"] if "rel_mean" in v else v["mean_rel"]
    return f"{100 * mean:+.1f} % [{100 * v['rel_lo']:+.1f}, {100 * v['rel_hi']:+.1f}]"


def _backend_cells(profile: str | None) -> int | None:
    """The cells a profile's back ends train on when that is a sample (``sizes.n_backend``), else None."""
    from ctlib.config import PROFILES, get_profile

    return get_profile(profile).sizes.n_backend if profile in PROFILES else None


def _backend_size(profile: str | None) -> str:
    """" (back ends of 4,000 cells)" for a profile whose back ends train on a sample, else ""."""
    n = _backend_cells(profile)
    return f" (back ends of {n:,} cells)" if n else ""


def _whole_split(head: dict, out_dir: str | Path) -> str:
    """The headline at the paper's back-end size, as a clause of the headline's sentence, once
    both of its claims are judged (``III-mt-whole-split-*``, tier 10), else ""."""
    f, g = head.get("III-mt-whole-split-E_f"), head.get("III-mt-whole-split-E_g")
    if f is None or g is None:
        return ""
    n = ((_read(out_dir, "01_data").get("profile_sizes") or {}).get("train"))
    cells = f" ({int(n):,} cells)" if n else ""
    return (f"; on the whole train split{cells}, from the multi-task table of each back end's own seed, "
            f"it is *{f['verdict']}* on formation energy ({_interval(f)}) and *{g['verdict']}* on band gap "
            f"({_interval(g)})")


def _holm(claims: dict) -> str:
    """The first sentence's end: the verdict words after Holm's correction over every judged
    verdict of the claims page, the reverse-prediction claims included (as its
    :func:`ctlib.claims.holm_line`); "" when no verdict carries its p-values."""
    from ctlib import report

    main = claims.get("verdicts") or []
    family = report.holm_words(report.holm_family(main, claims.get("interpretability")))
    words = [w for w in family if w is not None]
    if not words:
        return ""
    counts = ", ".join(f"{sum(w == x for w in words)} {x}" for x in report.SIX_WORDS if x in words)
    n_rp = sum(w is not None for w in family[len(main):])   # the reverse-prediction rows in the family
    with_rp = f" with the {n_rp} reverse-prediction claim{'s' if n_rp != 1 else ''}" if n_rp else ""
    return f"; tested all at once{with_rp} ({len(words)} verdicts, Holm's correction), they read {counts}"


def _chemistry(reverse: dict, ours: str = "CT (ours)", base: str = "cgcnn92") -> str:
    """The bottom line's sentence on the table's chemistry (page 08's summary): mean
    reverse-prediction R² over the five properties of CT's table against ``cgcnn92``, and
    Welch's 95 % interval of the difference over the CV repeats (each repeat's mean over the
    properties), which gives the word: "less" or "more" where it excludes 0, "about as much"
    where it holds 0; "" while page 08 has not run."""
    r2 = reverse.get("r2_mean_over_properties") or {}
    if ours not in r2 or base not in r2:
        return ""
    from ctlib import report

    values = reverse.get("r2_pooled_values") or {}
    ct, c92 = float(r2[ours]), float(r2[base])
    text = f"mean reverse-prediction R² {ct:.2f} against {c92:.2f}"
    per_repeat = [np.mean(list((values.get(t) or {}).values()), axis=0) if values.get(t) else np.array([])
                  for t in (ours, base)]
    d, lo, hi, _ = report.welch_interval(*per_repeat)
    if not np.isfinite(lo):
        return f"The table's chemistry against CGCNN's handcrafted features: {text} (one CV repeat: no interval)."
    word = "less" if hi < 0 else "more" if lo > 0 else "about as much"
    return (f"The table carries {word} chemistry than CGCNN's handcrafted features: {text} (difference "
            f"{d:+.2f}, 95 % interval [{lo:+.2f}, {hi:+.2f}] over {len(per_repeat[0])} repeats of the CV, "
            f"one pretrained table).")


def _matbench_fidelity(zoo: dict) -> str:
    """``"better than the leaderboard's CGCNN (-3.1 % [-5.7, -0.4])"``: our CGCNN from cgcnn92 on
    Matbench's perovskites (:func:`ctlib.analysis.transfer.matbench_fidelity`, page 13's
    summary) once every fold is stored, else ""."""
    import pandas as pd

    from ctlib.analysis import transfer

    mb = pd.DataFrame(zoo.get("matbench") or [])
    f = transfer.matbench_fidelity(mb) if len(mb) else {"word": "pending"}
    if f["word"] == "pending":
        return ""
    return (f"{f['word']} the leaderboard's CGCNN ({100 * f['rel']:+.1f} % "
            f"[{100 * f['rel_lo']:+.1f}, {100 * f['rel_hi']:+.1f}])")


def bottom_line(out_dir: str | Path) -> str:
    """The intro's bottom line: at most five sentences, each computed from a chapter summary
    of this build; a sentence whose chapter did not run (or whose runs are pending) is left out.

    1. the verdict words over the paper's claims (claims page), and the words they keep when
       corrected together (Holm);
    2. the headline claim, CT's table into CGCNN, on E_f and E_g, with intervals and the
       back ends' size, and at the paper's back-end size once tier 10 is judged;
    3. the chemistry of the CT table against cgcnn92 (mean reverse-prediction R², page 08);
    4. the data-scarce perovskite transfer, CT mt against cgcnn92 (page 12);
    5. the paper's CGCNN baseline against the published one and ours (page 02), and ours against
       the leaderboard's CGCNN on Matbench's perovskites once its folds are stored (page 13).
    """
    from ctlib import report

    out = []
    claims = _read(out_dir, "10_claims")
    verdicts = claims.get("verdicts") or []
    judged = [v for v in verdicts if v.get("verdict") in report.SIX_WORDS]
    if judged:
        counts = {w: sum(v["verdict"] == w for v in judged) for w in report.SIX_WORDS}
        words = ", ".join(f"{n} {w}" for w, n in counts.items() if n)
        out.append(f"Of the {len(verdicts)} claims on the claims page, {len(judged)} are judged on profile "
                   f"`{claims.get('profile', '?')}` (the others are pending or not run there): {words}"
                   + _holm(claims) + ".")
    head = {v.get("id"): v for v in judged}
    if "II-CT-C-E_f" in head and "II-CT-C-E_g" in head:
        f, g = head["II-CT-C-E_f"], head["II-CT-C-E_g"]
        out.append(f"The headline, CT's element table as the input of CGCNN{_backend_size(claims.get('profile'))}, "
                   f"is *{f['verdict']}* on formation "
                   f"energy ({_interval(f)} against the paper's {100 * f['paper_rel']:+.0f} %) and "
                   f"*{g['verdict']}* on band gap ({_interval(g)} against {100 * g['paper_rel']:+.0f} %)"
                   + _whole_split(head, out_dir) + ".")
    chemistry = _chemistry(_read(out_dir, "08_reverse_prediction"))
    if chemistry:
        out.append(chemistry)
    scarce = [v for v in (_read(out_dir, "12_scarce_transfer").get("verdicts") or [])
              if v.get("claim") == "CT mt vs cgcnn92" and v.get("verdict") in report.SIX_WORDS]
    if scarce:
        from ctlib.analysis.transfer import DATASET_LABELS

        name = lambda d: DATASET_LABELS.get(d, d).split(" (")[0]  # noqa: E731  ("HOIP", not "hoip")
        each = "; ".join(f"{name(v.get('dataset'))}: {_interval(v)}, *{v['verdict']}*" for v in scarce)
        out.append(f"On the small perovskite sets, against the paper's {100 * scarce[0]['paper_rel']:+.1f} %, "
                   f"the multi-task table changes CGCNN's error by {each}.")
    fronts = [r for r in (_read(out_dir, "02_models").get("table1_fronts") or [])
              if r.get("column") == "cgcnn" and r.get("target") == "E_f" and r.get("mae") == r.get("mae")
              and r.get("mae") is not None]
    if fronts:
        paper = report.paper_value("table1_models", "CGCNN", "MP-E_f")
        pub = report.published_value("cgcnn", "E_f")
        ours = sum(float(r["mae"]) for r in fronts) / len(fronts)
        mb = _matbench_fidelity(_read(out_dir, "13_zoo"))
        out.append(f"The paper's CGCNN baseline ({paper:g} eV/atom) is {paper / pub:.1f} times the published "
                   f"CGCNN ({pub:g}); our CGCNN, trained on the same split, reaches {ours:.3f}"
                   + (f", and on Matbench's perovskites it is {mb}" if mb else "") + ".")
    if not out:
        return "*(The bottom line appears once the chapters it reads have run in this build.)*\n"
    return " ".join(out) + "\n"


def _claim_pair(head: dict, stem: str, what: str) -> str:
    """``"<what>: *word* on E_f (+1.4 % [-5.2, +8.1]) and *word* on E_g (...)."`` for the claims
    ``<stem>-E_f`` / ``<stem>-E_g`` of the claims page once both are judged, else ``"<what>: pending."``."""
    from ctlib import report

    f, g = head.get(f"{stem}-E_f"), head.get(f"{stem}-E_g")
    if not (f and g and f.get("verdict") in report.SIX_WORDS and g.get("verdict") in report.SIX_WORDS):
        return f"{what}: pending."
    return (f"{what}: *{f['verdict']}* on formation energy ({_interval(f)}) and *{g['verdict']}* on band gap "
            f"({_interval(g)}), {f['n_seeds']} seeds.")


def _too_small(head: dict, scarce: dict, out_dir: str | Path) -> str:
    """Objection 1: the headline on the whole train split (tier 10), and CT's change of CGCNN's
    error against cgcnn92 at each back-end size of the learning curve, with its interval."""
    n = (_read(out_dir, "01_data").get("profile_sizes") or {}).get("train")
    text = _claim_pair(head, "III-mt-whole-split", f"On the whole train split{f' ({int(n):,} cells)' if n else ''}, "
                       "CT's multi-task table against cgcnn92")
    sizes = [r for r in scarce.get("learning_curve_change") or []
             if r.get("claim") == "CT mt vs cgcnn92" and r.get("rel_lo") is not None and np.isfinite(r["rel_lo"])]
    if sizes:
        text += (f" On the learning curve (E_f, {sizes[0]['n_seeds']} seeds at each size), it changes CGCNN's error by "
                 + ", ".join(f"{_interval(r)} at {int(r['n_train']):,}" for r in sizes) + " back-end cells")
        below = [r for r in sizes if r["rel_hi"] < 0]
        text += (f"; the interval lies below 0 at {len(below)} of the {len(sizes)} sizes" if below else
                 f"; at none of the {len(sizes)} sizes does the interval lie below 0")
        paper = (head.get("II-CT-C-E_f") or {}).get("paper_rel")
        if paper is not None and np.isfinite(paper):
            inside = sum(r["rel_lo"] <= paper <= r["rel_hi"] for r in sizes)
            text += (f", and {'none' if not inside else f'{inside} of them'} "
                     f"hold{'s' if inside <= 1 else ''} the paper's {100 * paper:+.0f} % (Table II, E_f)")
        text += "."
    return text


def _matbench(zoo: dict) -> str:
    """Objection 1 at a larger back end on an external split: CT's table against cgcnn92 on
    Matbench's perovskites, paired by fold, and our CGCNN against the leaderboard's; "" until
    every fold of both starts is stored."""
    import pandas as pd

    from ctlib import report
    from ctlib.analysis import transfer

    mb = pd.DataFrame(zoo.get("matbench") or [])
    fidelity = _matbench_fidelity(zoo)
    if not fidelity:
        return ""
    v = transfer.paired_verdicts(mb, [("CT mt", "cgcnn92")]).iloc[0]
    judged = (report.REPRODUCED, report.CONTRADICTED, report.INCONCLUSIVE)
    if v["verdict"] not in judged or not np.isfinite(v["rel_lo"]):
        return ""
    cells = int(pd.to_numeric(mb["n_train"], errors="coerce").median())
    return (f" On Matbench's perovskites ({v['n_seeds']} folds, {cells:,} training cells each), the table changes "
            f"CGCNN's error against cgcnn92 by {_interval(v.to_dict())}, and our CGCNN from cgcnn92 is {fidelity}.")


def _one_draw(head: dict, pre: dict) -> str:
    """Objection 2: the pretraining seeds' reading of page 11 (its summary's ``one_draw``, the
    finding's "One draw or many" paragraph), and the Table III claims whose back-end seed i
    starts from front seed i."""
    para = pre.get("one_draw") or "pending (page 11 has not run in this build)."
    return (para[0].upper() + para[1:] + " "
            + _claim_pair(head, "III-mt-own-front", "With back-end seed i from front seed i, the multi-task table "
                          "against cgcnn92 (Table III)"))


def _undertrained(pre: dict, zoo: dict, models: dict) -> str:
    """Objection 3: CT's own test MAE against the paper's CT, where its chemistry levelled off
    in pretraining, its rank among the zoo's tables whose model did not see our test labels,
    and its chemistry at 25, 50 and 100 % of the pretraining data (tier 11)."""
    out = []
    own = {r.get("target"): r for r in models.get("table") or [] if r.get("column") == "ct"}
    if own.get("E_f", {}).get("mean") is not None and own.get("E_g", {}).get("mean") is not None:
        f, g = own["E_f"], own["E_g"]
        out.append(f"As a predictor (one per target, Table I), our CT's test MAE is {f['mean']:.3f} eV/atom on "
                   f"formation energy against the paper's CT at {f['paper']:g} "
                   f"({100 * (f['mean'] / f['paper'] - 1):+.0f} %), and {g['mean']:.3f} eV on band gap against "
                   f"{g['paper']:g} ({100 * (g['mean'] / g['paper'] - 1):+.0f} %), one seed each.")
    ep = (pre.get("plateau_epochs") or {}).get("mt")
    mt = next((r for r in pre.get("runs") or [] if r.get("kind") == "mt"), {})
    if ep is not None:
        of = f" of {mt['epochs_planned']}" if mt.get("epochs_planned") else ""
        out.append(f"Its table's chemistry (probe R²) levelled off at epoch {ep}{of}.")
    ranked = [r for r in zoo.get("ranked") or [] if not r.get("sees_test") and r.get("r2_mean") is not None]
    ranked.sort(key=lambda r: -float(r["r2_mean"]))
    ct = next((i for i, r in enumerate(ranked) if r.get("table") == "CT mt"), None)
    if ct is not None:
        learned = [r for r in ranked if r.get("kind") != "handcrafted" and r.get("table") != "CT mt"]
        best = f"; the best learned table there is {learned[0]['table']}, {float(learned[0]['r2_mean']):.2f}" \
            if learned else ""
        out.append(f"Among the {len(ranked)} tables of the zoo whose model did not see our test labels, it ranks "
                   f"#{ct + 1} on reverse prediction (mean R² {float(ranked[ct]['r2_mean']):.2f}, on the elements "
                   f"every zoo table covers){best}.")
    curve = [r for r in zoo.get("data_curve") or [] if r.get("r2_mean") is not None]
    if len(curve) >= 2:
        out.append("With more pretraining data its mean R² goes "
                   + ", ".join(f"{float(r['r2_mean']):.2f} at {100 * float(r['fraction']):.0f} %" for r in curve) + ".")
    elif zoo:
        out.append("Its chemistry at 25 and 50 % of the pretraining data: pending.")
    return " ".join(out) or "Pending (pages 02, 11 and 13 have not run in this build)."


def objections(out_dir: str | Path) -> str:
    """The intro's three objections to a negative verdict, and where the stored runs stand on
    each, from the chapter summaries of this build (``10_claims``, ``11_pretraining``,
    ``12_scarce_transfer``, ``13_zoo``, ``02_models``, ``01_data``): a Markdown list, every
    number computed, *pending* where the campaign has not stored the runs yet."""
    claims, pre, zoo = _read(out_dir, "10_claims"), _read(out_dir, "11_pretraining"), _read(out_dir, "13_zoo")
    head = {v.get("id"): v for v in claims.get("verdicts") or []}
    cells = _backend_cells(claims.get("profile"))
    budget = {r.get("setting"): r for r in pre.get("budget") or []}
    mt = next((r for r in pre.get("runs") or [] if r.get("kind") == "mt"), {})
    trained = (f"pretrained for {mt['epochs_planned']} epochs on the MP-2018 train split"
               if mt.get("epochs_planned") else "pretrained on a CPU budget")
    if "pretraining data" in budget and "epochs" in budget:
        trained += (f"; the paper's CT saw {budget['pretraining data']['paper']} for "
                    f"{budget['epochs']['paper']} epochs")
    items = [
        ("The back ends are too small.",
         f"Ours train on {cells:,} cells, the paper's on its whole train split." if cells else
         "The paper's back ends train on its whole train split.",
         _too_small(head, _read(out_dir, "12_scarce_transfer"), out_dir) + _matbench(zoo)),
        ("The table is one draw.", "One pretraining feeds every back-end seed, so the intervals hold back-end "
         "noise only.", _one_draw(head, pre)),
        ("The table is undertrained.", f"It was {trained}.",
         _undertrained(pre, zoo, _read(out_dir, "02_models"))),
    ]
    return "\n".join(f"{i}. **\"{o}\"** {why} *Where the runs stand:* {answer}"
                      for i, (o, why, answer) in enumerate(items, 1)) + "\n"


def write_notes(out_dir: str | Path, results_root: str | Path, profile: str = "cpu") -> list[Path]:
    """Write the notes into ``out_dir`` (``book/generated``); returns the paths written.
    The stop probe is a cpu measurement whatever the book's profile; the example uses the
    claims page of this build (``out_dir/10_claims.json``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = out_dir / "10_claims.json"
    claims_summary = json.loads(summary.read_text()) if summary.is_file() else None
    paths = [out_dir / STOP_PROBE_NOTE, out_dir / VERDICT_EXAMPLE, out_dir / BOTTOM_LINE, out_dir / OBJECTIONS]
    paths[0].write_text(stop_probe_note(results_root, "cpu"))
    paths[1].write_text(verdict_example(claims_summary))
    paths[2].write_text(bottom_line(out_dir))
    paths[3].write_text(objections(out_dir))
    return paths
