"""The pages the build writes itself: the embedding downloads, the execution report, the
campaign's state and the notes the hand-written pages include (:mod:`ctlib.notes`)."""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from pathlib import Path

from ctlib.config import PROFILES, get_profile
from ctlib.lookup import ct_kind, ct_table_records, record_embedding_path, stored_records
from ctlib.utils import atomic_write, code_version

from ctlib.book.common import (CAMPAIGN_FRAGMENT, CAMPAIGN_PROFILE, DOWNLOADS, DOWNLOADS_FRAGMENT, GENERATED,
                               REPO_ROOT, REPORT_PAGE, _commit_text, _generated_pages)

# ------------------------------------------------------- generated pages
def results_root_for(src_root: str | Path = REPO_ROOT) -> Path:
    """The results store the notebooks of ``src_root`` read: ``$CTLIB_RESULTS`` (relative
    to ``src_root``, the kernels' working folder) or ``<src_root>/results``."""
    env = os.environ.get("CTLIB_RESULTS")
    if env:
        path = Path(env)
        return path if path.is_absolute() else Path(src_root) / path
    return Path(src_root) / "results"


#: (experiment, kind of CT table (:data:`ctlib.lookup.CT_KINDS`)) -> (label, file tag, title)
#: of its download. The multi-task table under the profile's other schedule
#: (``recipe.ct_alt_schedule``, experiment ``fronts_schedule``) gets its scheduler's name
#: in its tag and title (e.g. ``ct_mt_onecycle_s0``). The fp32 pretraining seeds
#: (experiment ``fronts_fp32``) are ``ct_mt_fp32_s0`` .. ``_s2``.
_CT_DOWNLOADS = {("fronts", "ct-multitask"): ("mt", "mt", "Multi-task CT table ($E_f$ + $E_g$)"),
                 ("fronts", "ct-Ef"): ("E_f", "Ef", "CT table pretrained on formation energy $E_f$"),
                 ("fronts", "ct-Eg"): ("E_g", "Eg", "CT table pretrained on band gap $E_g$"),
                 ("fronts_schedule", "ct-multitask"):
                     ("mt_alt", "mt_{scheduler}", "Multi-task CT table ($E_f$ + $E_g$), {scheduler} schedule"),
                 ("fronts_fp32", "ct-multitask"):
                     ("mt_fp32", "mt_fp32", "Multi-task CT table ($E_f$ + $E_g$), pretrained in fp32 "
                                            "(the pretraining seeds)")}


_SCHEDULERS = {"onecycle": "OneCycle", "cosine": "cosine", "step": "step"}


def _alt_scheduler(profile: str) -> str | None:
    """The scheduler's name of the profile's ``recipe.ct_alt_schedule`` (None: it has none)."""
    alt = get_profile(profile).recipe.ct_alt_schedule if profile in PROFILES else None
    return _SCHEDULERS.get(alt.get("scheduler"), alt.get("scheduler") or "other") if alt else None


def stored_ct_tables(profile: str, results_root: str | Path) -> tuple[list[dict], list[str]]:
    """The profile's stored CT pretraining records that name an element table: CT from
    the one-hot start, multi-task, E_f and E_g (``<root>/<profile>/fronts/*.json``), then
    the multi-task one under the profile's other schedule (``fronts_schedule/``), then the
    multi-task pretraining seeds in fp32 (``fronts_fp32/``).

    One record per (kind, seed), the newest when several are stored
    (:func:`ctlib.lookup.ct_table_records`). Returns ``(records in the order mt, E_f,
    E_g, other-schedule mt and by seed, problems)``; a record that cannot be read is a
    problem (named by its path under the store), never an exception.
    """
    unreadable: list = []
    found = []
    for experiment in dict.fromkeys(e for e, _ in _CT_DOWNLOADS):
        kinds = tuple(k for e, k in _CT_DOWNLOADS if e == experiment)
        found += ct_table_records(profile, kinds, results_root=results_root,
                                  experiment=experiment, problems=unreadable)
    problems = [f"`{profile}/{path.parent.name}/{path.name}` is not a readable record "
                f"({type(e).__name__})" for path, e in unreadable]
    return [rec for _, rec in found], problems


def _download_names(rec: dict) -> tuple[str, str, str]:
    """(label, file tag, title) of a stored CT table's download (:data:`_CT_DOWNLOADS`)."""
    label, tag, title = _CT_DOWNLOADS[rec.get("experiment"), ct_kind(rec)]
    sched = str(_train_config(rec).get("scheduler") or "other")
    return label, tag.format(scheduler=sched), title.format(scheduler=_SCHEDULERS.get(sched, sched))


def _train_config(rec: dict) -> dict:
    return (rec.get("config") or {}).get("train") or rec.get("train_config") or {}


def _schedule_words(rec: dict) -> str:
    """A record's learning-rate schedule in words, e.g. ``"OneCycle schedule, peak lr 3e-4"``."""
    tc = _train_config(rec)
    sched = tc.get("scheduler")
    words = f"{_SCHEDULERS.get(sched, sched)} schedule" if sched and sched != "none" else ""
    lr = tc.get("lr")
    if isinstance(lr, (int, float)):
        words += (", " if words else "") + ("peak lr " if sched == "onecycle" else "lr ") + \
            f"{lr:.0e}".replace("e-0", "e-")
    return words


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_embeddings(profile: str, results_root: str | Path, out_dir: str | Path) -> dict:
    """Export the profile's trained CT element tables for download.

    For each record of :func:`stored_ct_tables` writes, under ``<out_dir>/<profile>/<stem>/``
    (stem e.g. ``ct_mt_s0``): ``atom_init.json`` (CGCNN's format: keys "1".."100", the
    elements the table lacks as zero vectors), ``<stem>.csv`` (``element,e0,...``, as
    ``elementembeddings``' ``Embedding.from_csv`` reads it) and ``<stem>.npz`` (elements,
    matrix, coordinate layer, provenance naming the run; ``ElementEmbedding.load`` reads
    it). ``<out_dir>/<profile>/`` is rebuilt from scratch and gets ``manifest.json``.

    Returns:
        the manifest: ``{"profile", "tables": [...], "problems": [...]}``; each table
        has its label, run id, training facts, element order and file paths (relative to
        ``<out_dir>/<profile>``).
    """
    import warnings

    from ctlib.elements import SYMBOLS
    from ctlib.embeddings import ElementEmbedding

    results_root = Path(results_root)
    dest = Path(out_dir) / profile
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    records, problems = stored_ct_tables(profile, results_root)
    tables = []
    for rec in records:
        label, tag, title = _download_names(rec)
        seed = int(rec.get("seed") or 0)
        stem = f"ct_{tag}_s{seed}"
        try:
            emb = ElementEmbedding.load(record_embedding_path(rec, results_root))
        except (OSError, ValueError) as e:
            msg = str(e).replace(str(results_root.resolve()), "results").replace(str(results_root), "results")
            problems.append(f"run `{rec.get('run_id')}`: its element table `{rec['embedding_path']}` "
                            f"could not be read ({type(e).__name__}: {msg})")
            continue
        code = rec.get("code") or {}
        prov = {k: v for k, v in emb.provenance.items() if k != "source_file"}
        prov.update({"run_id": rec.get("run_id"), "profile": profile,
                     "experiment": rec.get("experiment"), "config_hash": rec.get("config_hash"),
                     "record": f"results/{profile}/{rec.get('experiment')}/{rec.get('run_id')}.json",
                     "embedding_path": f"results/{rec['embedding_path']}",
                     "code_commit": code.get("commit"), "exported_by": "ctlib book"})
        emb = ElementEmbedding(emb.elements, emb.matrix, prov, emb.coord_weight, emb.coord_bias)
        folder = dest / stem
        files = {"atom_init": folder / "atom_init.json", "csv": folder / f"{stem}.csv",
                 "npz": folder / f"{stem}.npz"}
        with warnings.catch_warnings():       # the zero-filled elements are listed on the page
            warnings.simplefilter("ignore", UserWarning)
            emb.to_atom_init(files["atom_init"])
        emb.save(files["csv"])
        emb.save(files["npz"])
        history = rec.get("history") or []
        tables.append({
            "label": label, "title": title, "stem": stem, "schedule": _schedule_words(rec),
            "run_id": rec.get("run_id"),
            "experiment": rec.get("experiment"), "seed": seed, "targets": list(rec["targets"]),
            "units": rec.get("units") or {}, "finished": rec.get("finished"),
            "commit": (code.get("commit") or "unknown")[:12], "dirty": code.get("dirty"),
            "device": rec.get("device"), "epochs": rec.get("epochs_run") or len(history),
            "best_epoch": rec.get("best_epoch"), "wall_s": rec.get("wall_s"),
            "test_mae": {t: (m or {}).get("mae") for t, m in (rec.get("test") or {}).items()},
            "dim": emb.dim, "elements": list(emb.elements),
            "atom_init_zero": [e for e in SYMBOLS if e not in emb.elements],
            "files": {k: f.relative_to(dest).as_posix() for k, f in files.items()},
            "sha256": {k: _sha256(f) for k, f in files.items()},
        })
    manifest = {"profile": profile, "tables": tables, "problems": problems}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _fmt_mae(table: dict) -> str:
    from ctlib.experiments import TARGETS

    short = {v: k for k, v in TARGETS.items()}
    out = []
    for t, mae in table["test_mae"].items():
        if mae is not None:
            name = short.get(t, t)
            name = f"${name}$" if name in TARGETS else f"`{name}`"
            out.append(f"{name} {mae:.4g} {table['units'].get(t, '')}".rstrip())
    return " · ".join(out) or "—"


def embeddings_fragment(manifest: dict, downloads_rel: str) -> str:
    """Markdown of the download list (included by ``book/embeddings.md``).

    ``downloads_rel``: the folder of the manifest's files relative to the including
    page's folder (``generated/downloads/<profile>``). Nothing is linked that was not
    written, so the page builds cleanly under ``-W`` with or without stored tables.
    """
    profile = manifest["profile"]
    lines = ["<!-- written by ctlib book (ctlib/book.py, embeddings_fragment); "
             "included by book/embeddings.md -->", ""]
    tables = manifest["tables"]
    have = {t["label"] for t in tables}
    alt = _alt_scheduler(profile)
    # the fp32 pretraining seeds are trained where one front seed feeds every back end (cpu)
    seeds = profile in PROFILES and get_profile(profile).campaign.front_seed is not None
    planned = {"fronts": True, "fronts_schedule": bool(alt), "fronts_fp32": seeds}
    missing = [title.format(scheduler=alt) for (experiment, _), (label, _, title) in _CT_DOWNLOADS.items()
               if label not in have and planned[experiment]]
    if not tables:
        lines += [":::{note}",
                  f"**Pending.** No trained CT element table of the `{profile}` profile is stored "
                  "yet, so this build offers no files. "
                  + ("The `cpu` tables come from the CT pretraining of `ctlib campaign --profile "
                     "cpu` (tier 1); " if profile == "cpu" else "")
                  + f"they appear here, with their files, once the runs' records are under "
                    f"`results/{profile}/fronts/` and the book is built again.",
                  ":::", ""]
    else:
        lines += [f"Tables of the **`{profile}`** profile, exported from its stored CT "
                  f"pretraining runs when this book was built.", ""]
    for t in tables:
        f = {k: f"{downloads_rel}/{v}" for k, v in t["files"].items()}
        commit = f"`{t['commit']}`" + (" (with uncommitted changes)" if t.get("dirty") else "")
        wall = f", {t['wall_s'] / 3600:.1f} h" if isinstance(t.get("wall_s"), (int, float)) else ""
        zero = t["atom_init_zero"]
        lines += [
            f"### {t['title']}, seed {t['seed']}", "",
            f"- **Files:** {{download}}`atom_init.json <{f['atom_init']}>` (CGCNN) · "
            f"{{download}}`{Path(f['csv']).name} <{f['csv']}>` · "
            f"{{download}}`{Path(f['npz']).name} <{f['npz']}>`",
            f"- **Run:** `{t['run_id']}`, record `results/{profile}/{t['experiment']}/"
            f"{t['run_id']}.json`",
            f"- **Training:** {t['epochs']} epochs (best epoch {t['best_epoch']})"
            + (f", {t['schedule']}" if t.get("schedule") else "") + f"{wall}, on "
            f"{t.get('device') or 'unknown device'}, finished {t.get('finished') or '—'}, "
            f"code commit {commit}",
            f"- **Test MAE of that run:** {_fmt_mae(t)}",
            f"- **Shape:** {len(t['elements'])} elements × {t['dim']} dimensions",
            f"- **Element order** (CSV rows, NPZ `elements`): {', '.join(t['elements'])}",
            "- **atom_init.json:** keys `\"1\"`…`\"100\"` (atomic number Z), one list of "
            f"{t['dim']} numbers each; "
            + (f"the {len(zero)} elements the table lacks ({', '.join(zero)}) are zero vectors."
               if zero else "every element has its own row."),
            "",
        ]
    if tables and missing:
        lines += [f"Not stored yet for `{profile}`: " + "; ".join(missing) + ".", ""]
    if manifest.get("problems"):
        lines += [":::{warning}", "Stored records that could not be exported:", ""]
        lines += [f"- {p}" for p in manifest["problems"]]
        lines += [":::", ""]
    return "\n".join(lines)


def _run_ids(obj) -> list[str]:
    """Every string value of a ``run_id`` key anywhere in a JSON object, in order, once."""
    found: list[str] = []

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "run_id" and isinstance(v, str) and v and v not in found:
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(obj)
    return found


def _notebook_facts(path: Path) -> dict:
    """Profile, wall seconds, commit and finish time of an executed notebook (its
    ``metadata.ctlib``, else papermill's metadata)."""
    try:
        meta = json.loads(path.read_text()).get("metadata") or {}
    except (OSError, json.JSONDecodeError):
        return {}
    own, pm = meta.get("ctlib") or {}, meta.get("papermill") or {}
    return {"profile": own.get("profile") or (pm.get("parameters") or {}).get("profile"),
            "seconds": own.get("seconds", pm.get("duration")),
            "commit": own.get("commit"), "dirty": own.get("dirty"),
            "finished": own.get("finished") or pm.get("end_time")}


def _fmt_seconds(s) -> str:
    if not isinstance(s, (int, float)):
        return "—"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def execution_report(profile: str, book_root: str | Path, results_root: str | Path,
                     src_root: str | Path = REPO_ROOT) -> str:
    """Markdown of the execution report: per notebook chapter of the toc, its profile,
    finish time, wall time, code commit and the runs it read (the ``run_id`` values of
    its summary ``book/generated/NN_name.json``, each located in the results store)."""
    book_root, results_root = Path(book_root), Path(results_root)
    out_dir = book_root / GENERATED
    chapters = _generated_pages(book_root)
    index: dict[tuple, str] = {}       # (profile, run_id) -> experiment
    for path, _ in stored_records("*", results_root):
        index.setdefault((path.parts[-3], path.stem), path.parts[-2])
    v = code_version(src_root)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Execution report", "",
             f"Written by `ctlib book --profile {profile}` at {now}, code commit "
             f"`{_commit_text(v)}`{' with uncommitted changes' if v['dirty'] else ''}. One row per "
             "notebook chapter: the profile it was executed with, when it finished, its wall "
             "time, the code commit it ran, and how many stored runs its numbers come from. "
             "A chapter kept from an earlier build (`ctlib book --only ...`) shows that "
             "build's values.", "",
             "| chapter | profile | finished (UTC) | wall time | code commit | runs read |",
             "|---|---|---|---|---|---|"]
    details, total, others = [], 0.0, set()
    for stem in chapters:
        nb = out_dir / f"{stem}.ipynb"
        if not nb.is_file():
            lines.append(f"| {{doc}}`{stem}` | — | not executed | — | — | — |")
            continue
        f = _notebook_facts(nb)
        if isinstance(f.get("seconds"), (int, float)):
            total += f["seconds"]
        nb_profile = f.get("profile") or "unknown"
        if nb_profile != profile:
            others.add(stem)
        commit = (f.get("commit") or "unknown")[:12]
        commit = f"`{commit}`" + (" + changes" if f.get("dirty") else "")
        finished = str(f.get("finished") or "—").replace("T", " ")[:16]
        runs: list[str] = []
        summary = out_dir / f"{stem}.json"
        if summary.is_file():
            try:
                runs = _run_ids(json.loads(summary.read_text()))
            except (OSError, json.JSONDecodeError):
                runs = []
        lines.append(f"| {{doc}}`{stem}` | `{nb_profile}` | {finished} | "
                     f"{_fmt_seconds(f.get('seconds'))} | {commit} | {len(runs)} |")
        if runs:
            items = []
            for rid in runs:
                exp = index.get((nb_profile, rid))
                items.append(f"- `{nb_profile}/{exp}/{rid}`" if exp else
                             f"- `{rid}` (no record under `results/{nb_profile}/` now)")
            details.append((stem, items))
    lines += ["", f"Total wall time of the executed chapters: {_fmt_seconds(total)}.", ""]
    if others:
        lines += [":::{note}",
                  f"Chapters executed with another profile than `{profile}`: "
                  + ", ".join(f"{{doc}}`{s}`" for s in sorted(others)) + ".", ":::", ""]
    lines += ["## Runs read by each chapter", "",
              "The run ids in each chapter's summary (`book/generated/NN_name.json`), as "
              "`profile/experiment/run id`: the record is "
              "`results/<profile>/<experiment>/<run id>.json`.", ""]
    if not details:
        lines += ["No chapter of this build names a stored run.", ""]
    for stem, items in details:
        lines += [f":::{{dropdown}} {stem}: {len(items)} run{'s' if len(items) != 1 else ''}",
                  *items, ":::", ""]
    return "\n".join(lines)


def campaign_fragment(profile: str = CAMPAIGN_PROFILE) -> str:
    """Markdown of the campaign's plan and progress (included by ``book/rerun.md``).

    One row per step of :func:`ctlib.campaign.plan`: its runs stored, its state,
    and CPU-hours planned, spent (stored runs' wall time plus the finished epochs
    of a run under way) and still to go (an estimate), from the results store
    as it is when the book is built.
    """
    from ctlib import campaign

    st = campaign.status(profile)
    stored, runs = campaign.totals(st)
    pace = campaign.pace_text(st, cpu="the CPU that built this book")
    scaled = f"; pending runs at {pace}" if pace else ""
    lines = ["<!-- written by ctlib book (ctlib/book.py, campaign_fragment); "
             "included by book/rerun.md -->", "",
             f"State of `ctlib campaign --profile {profile}` in this build's results store: "
             f"**{stored} of {runs} runs stored** (a run two tables share counts once), "
             f"{st['cpu_h_spent'].sum():.1f} CPU-hours spent of {st['h_planned'].sum():.1f} "
             f"planned, about {st['h_left'].sum():.1f} to go (2 cores{scaled}). "
             f"CPU-hours spent per tier: {campaign.tier_hours(st)}.", "",
             "| tier | step | runs stored | state | CPU-h planned | CPU-h spent | pace | CPU-h left (estimate) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in st.itertuples():
        lines.append(f"| {r.tier} | {r.step} | {r.done} / {r.runs} | {r.state} | {r.h_planned:.1f} | "
                     f"{r.cpu_h_spent:.2f} | {r.pace:.2f} | {r.h_left:.1f} |")
    return "\n".join(lines) + "\n"


def write_generated_pages(profile: str, *, book_root: str | Path = REPO_ROOT,
                          src_root: str | Path = REPO_ROOT) -> dict:
    """Write the pages :func:`build` owns: the embedding downloads of ``profile`` (files
    and ``book/generated/embeddings_downloads.md``), ``book/generated/execution_report.md``
    and the cpu campaign's state, ``book/generated/campaign_status.md``, and the notes the
    methods page quotes (:mod:`ctlib.notes`).

    Returns the downloads manifest (see :func:`export_embeddings`).
    """
    book_root = Path(book_root)
    out_dir = book_root / GENERATED
    out_dir.mkdir(parents=True, exist_ok=True)
    results_root = results_root_for(src_root)
    manifest = export_embeddings(profile, results_root, book_root / DOWNLOADS)
    rel = (DOWNLOADS / profile).relative_to(GENERATED.parent).as_posix()  # from book/
    (out_dir / DOWNLOADS_FRAGMENT).write_text(embeddings_fragment(manifest, rel))
    (out_dir / f"{REPORT_PAGE}.md").write_text(
        execution_report(profile, book_root, results_root, src_root))
    (out_dir / CAMPAIGN_FRAGMENT).write_text(campaign_fragment())
    from ctlib.notes import write_notes

    write_notes(out_dir, results_root)
    return manifest


def write_verdict_ledger(claims_path: str | Path, results_root: str | Path, profile: str) -> Path:
    """Write :func:`ctlib.report.ledger.ledger` of the claims JSON at ``claims_path`` to
    ``<results_root>/<profile>/analysis/ledger/verdicts.json``, rewritten only when it changes
    (an unchanged book leaves the git tree clean); returns that path."""
    from ctlib.report.ledger import LEDGER, ledger

    path = Path(results_root) / profile / LEDGER
    text = json.dumps(ledger(json.loads(Path(claims_path).read_text())), indent=1, ensure_ascii=False) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path
