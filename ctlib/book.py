"""Build the companion book: execute the notebooks with papermill, then run Jupyter Book.

Path scheme (the simplest one that never leaves the book half-built)::

    <book root>/                    the repository root: _config.yml, _toc.yml
      book/*.md                     hand-written pages (intro, data, methods, rerun)
      notebooks/NN_name.ipynb       notebook sources, committed without outputs
      book/generated/               build output, git-ignored:
        NN_name.ipynb               the executed copy papermill writes (what the book shows)
        NN_name.json                key numbers the notebook produced (tests read these)
        figures/NN_name_*.png|pdf   saved figures
        NN_name.md                  a stub, only while notebooks/NN_name.ipynb is absent
        execution_report.md         what each chapter ran: wall time, profile, commit, runs read
        embeddings_downloads.md     the download list that book/embeddings.md includes
        campaign_status.md          the cpu campaign's plan and progress, included by book/rerun.md
        downloads/<profile>/        the profile's trained CT element tables (atom_init.json,
                                    CSV, NPZ) and manifest.json, from results/<profile>/fronts
      _build/html/index.html        the built book
      _build/timings.json           wall seconds per notebook and for the HTML build

``_toc.yml`` is committed and lists every chapter the book will ever have, each
notebook chapter as ``book/generated/NN_name``.  :func:`build` executes every
``notebooks/*.ipynb`` that exists (or the ones named in ``notebooks=``) into
``book/generated/``; for every toc entry under ``book/generated/`` that then has
no executed notebook it writes a short stub page saying so.  The toc therefore
never points at a missing file and ``jupyter-book build -W`` stays clean while
later notebooks are still being written.  ``_config.yml`` sets
``only_build_toc_files: true``, so files outside the toc never reach Sphinx.

After the notebooks, :func:`build` writes the pages it owns, whatever was
executed (:func:`write_generated_pages`): the execution report
(:func:`execution_report`, a toc page) and the embedding downloads
(:func:`export_embeddings`, listed by the fragment that ``book/embeddings.md``
includes). Each executed notebook carries
``metadata.ctlib`` (profile, wall seconds, code commit, finish time), so the
report stays right for chapters kept from an earlier build.

Each notebook's first code cell is tagged ``parameters`` and defines at least
``profile``; it may also define ``out_dir`` (where it writes its JSON and
figures; :func:`build` passes ``book/generated``, relative to the kernel's
working folder when it lies inside it, so no machine path shows on the page).
Extra parameters (``params=``) are passed to those selected notebooks that
declare them; a parameter that no selected notebook declares is an error.

Notebooks run in a ``python3`` kernel started by the same interpreter as the
caller (jupyter_client maps the kernelspec's ``python`` to ``sys.executable``),
with the working directory at the repository root, ``CTLIB_DATA``/``CTLIB_CACHE``
passed through, and matplotlib's inline backend (``MPLBACKEND`` is removed for
the kernel, because ``Agg`` would stop figures from reaching the page).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ctlib.config import PROFILES, get_profile
from ctlib.lookup import ct_kind, ct_table_records, record_embedding_path, stored_records
from ctlib.utils import code_version

#: The repository root (holds _config.yml, _toc.yml, book/, notebooks/).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The profile ``ctlib book`` and ``make book`` build when none is named: cpu reads the
#: campaign's stored runs (``campaign_only``) and never trains.
DEFAULT_PROFILE = "cpu"
#: Folder, relative to the book root, that receives executed notebooks.
GENERATED = Path("book") / "generated"
#: Hand-written book files copied by :func:`stage_book`.
_BOOK_FILES = ("_config.yml", "_toc.yml")
#: Pages under ``book/generated/`` that :func:`build` writes itself (no notebook, no stub).
REPORT_PAGE = "execution_report"
OWN_PAGES = (REPORT_PAGE,)
#: The download list that ``book/embeddings.md`` includes (not a toc page).
DOWNLOADS_FRAGMENT = "embeddings_downloads.md"
#: Folder, relative to the book root, of the exported element tables.
DOWNLOADS = GENERATED / "downloads"
#: The campaign's plan and progress that ``book/rerun.md`` includes (not a toc page).
CAMPAIGN_FRAGMENT = "campaign_status.md"
#: The profile whose campaign that fragment shows, whichever profile the book is built with.
CAMPAIGN_PROFILE = "cpu"


class BookError(RuntimeError):
    """A notebook failed, or the book sources are inconsistent."""


# ----------------------------------------------------------------- provenance
def _commit_text(v: dict) -> str:
    """``<12 hex>`` of a :func:`ctlib.utils.code_version`, or ``unknown``."""
    return v["commit"][:12] if v["commit"] else "unknown"


def page_header(profile: str) -> str:
    """One line of Markdown naming the profile, code version and date of a page.

    Every notebook shows it at the top: ``display(Markdown(page_header(profile)))``.

    Raises:
        ValueError: for an unknown profile name.
    """
    get_profile(profile)
    from ctlib import __version__

    v = code_version(REPO_ROOT)
    commit = _commit_text(v)
    if v["dirty"]:
        commit += " + uncommitted changes"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"**Profile:** `{profile}` · **Code:** ctlib {__version__}, commit `{commit}` · "
            f"**Run:** {now}")


# ------------------------------------------------------------------ the toc
def toc_pages(book_root: str | Path = REPO_ROOT) -> list[str]:
    """Every page (file path without suffix) that ``_toc.yml`` lists, in order."""
    import yaml

    toc_path = Path(book_root) / "_toc.yml"
    if not toc_path.is_file():
        raise BookError(f"{toc_path} is missing; the book root must hold _toc.yml")
    toc = yaml.safe_load(toc_path.read_text())
    pages: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    pages.append(str(node[key]))
            for key in ("chapters", "sections", "parts"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return pages


def _generated_pages(book_root: Path) -> list[str]:
    """The notebook chapters of the toc (``book/generated/NN_name``), without the pages
    that :func:`build` writes itself."""
    prefix = GENERATED.as_posix() + "/"
    return [p[len(prefix):] for p in toc_pages(book_root)
            if p.startswith(prefix) and p[len(prefix):] not in OWN_PAGES]


#: Notebooks that read what the other pages store (07/08's JSON, the runs of 12): executed last.
EXECUTED_LAST = ("10_claims",)


def list_notebooks(src_root: str | Path = REPO_ROOT) -> list[Path]:
    """The notebook sources ``<src_root>/notebooks/*.ipynb`` in execution order: by name,
    with :data:`EXECUTED_LAST` after the others (so on a from-scratch build the claims page
    judges the runs that later chapters train, instead of showing them pending)."""
    return sorted(sorted((Path(src_root) / "notebooks").glob("*.ipynb")), key=lambda p: p.stem in EXECUTED_LAST)


def _stub(stem: str, reason: str) -> str:
    words = stem.split("_", 1)[-1].replace("_", " ")
    return (f"# {words.capitalize()} (not generated)\n\n"
            f"This chapter is produced by `notebooks/{stem}.ipynb`. {reason}\n")


# --------------------------------------------------------------- execution
@dataclass
class NotebookRun:
    """Outcome of executing one notebook."""

    name: str
    output: Path
    seconds: float


# Environment changes for the kernel process (None: remove). MPLBACKEND=Agg from a
# headless shell would keep figures off the page; without it ipykernel picks its
# inline backend. The debugger's "frozen modules" notice is noise on stderr.
_KERNEL_ENV = {"MPLBACKEND": None, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def _set_env(values: dict) -> None:
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _notebook_parameters(path: Path) -> set[str]:
    """Names assigned at top level in the notebook's cell tagged ``parameters``."""
    import ast

    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return set()
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError as e:
        raise BookError(f"{path}: the parameters cell is not valid Python ({e})") from None
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def execute_notebook(src: str | Path, out_dir: str | Path, profile: str, *,
                     params: dict | None = None, cwd: str | Path = REPO_ROOT,
                     declared: set[str] | None = None) -> NotebookRun:
    """Execute one notebook with papermill into ``out_dir/<name>.ipynb``.

    The copy is written as ``<name>.running.ipynb`` and renamed on success; on
    failure it is kept as ``<name>.failed.ipynb`` and :class:`BookError` names the
    notebook, the failing cell and the exception.

    Args:
        src: the notebook source.
        out_dir: receives the executed copy (and whatever the notebook writes there).
        profile: ``smoke``, ``quick`` or ``paper``.
        params: further parameters (only those the notebook declares are passed).
        cwd: working directory of the kernel.
        declared: the notebook's parameter names, if already inspected.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    src, out_dir = Path(src), Path(out_dir)
    get_profile(profile)
    declared = _notebook_parameters(src) if declared is None else declared
    if "profile" not in declared:
        raise BookError(f"{src}: the first code cell must be tagged 'parameters' and define "
                        f"`profile = \"quick\"`; found parameters {sorted(declared) or 'none'}")
    values = {"profile": profile}
    if "out_dir" in declared:
        values["out_dir"] = _kernel_path(out_dir, cwd)
    values.update({k: v for k, v in (params or {}).items() if k in declared})

    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"{src.stem}.ipynb"
    running = out_dir / f"{src.stem}.running.ipynb"
    failed = out_dir / f"{src.stem}.failed.ipynb"
    failed.unlink(missing_ok=True)
    saved_env = {k: os.environ.get(k) for k in _KERNEL_ENV}
    _set_env(_KERNEL_ENV)          # the kernel inherits this process's environment
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(str(src), str(running), parameters=values,
                                   kernel_name="python3", progress_bar=False,
                                   cwd=str(cwd), log_output=False)
    except PapermillExecutionError as e:
        running.replace(failed)
        raise BookError(
            f"notebook {src} failed in cell {e.cell_index} (execution count {e.exec_count}) "
            f"with {e.ename}: {e.evalue}\n  cell source:\n    "
            + "\n    ".join(str(e.source).splitlines()[:15])
            + f"\n  executed copy with the traceback: {failed}") from None
    except Exception as e:
        if running.exists():
            running.replace(failed)
        raise BookError(f"notebook {src} could not be executed: {type(e).__name__}: {e}") from e
    finally:
        _set_env(saved_env)
    seconds = time.perf_counter() - t0
    _stamp(running, profile=profile, seconds=seconds, src=src, cwd=Path(cwd))
    running.replace(final)
    (out_dir / f"{src.stem}.md").unlink(missing_ok=True)      # a stub from an earlier build
    return NotebookRun(src.stem, final, seconds)


def _kernel_path(path: Path, cwd: str | Path) -> str:
    """``path`` as the kernel should see it: relative to its working folder ``cwd`` when
    inside it (the injected parameters cell is shown on the page), else absolute."""
    path, cwd = Path(path).resolve(), Path(cwd).resolve()
    return path.relative_to(cwd).as_posix() if path.is_relative_to(cwd) else str(path)


def _stamp(nb_path: Path, *, profile: str, seconds: float, src: Path, cwd: Path) -> None:
    """Record in the executed notebook what the execution report needs
    (``metadata.ctlib``: profile, wall seconds, code commit, finish time), and make
    papermill's input/output paths relative (the notebook is offered for download)."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    v = code_version(cwd)
    nb.metadata["ctlib"] = {
        "profile": profile, "seconds": round(seconds, 2), "commit": _commit_text(v),
        "dirty": v["dirty"], "notebook": f"notebooks/{src.name}",
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    pm = nb.metadata.get("papermill")
    if isinstance(pm, dict):
        pm["input_path"] = f"notebooks/{src.name}"
        pm["output_path"] = f"{GENERATED.as_posix()}/{src.stem}.ipynb"
    for cell in nb.cells:  # papermill tags its injected cell only "injected-parameters"
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, nb_path)


def stage_book(dest: str | Path, src_root: str | Path = REPO_ROOT) -> Path:
    """Copy the book sources (config, toc, hand pages; not ``book/generated``) to ``dest``.

    Lets a build happen outside the repository (the tests build into a tmp dir).
    Returns ``dest``.
    """
    src_root, dest = Path(src_root), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in _BOOK_FILES:
        shutil.copy2(src_root / name, dest / name)
    shutil.copytree(src_root / "book", dest / "book", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("generated"))
    return dest


def build_html(book_root: str | Path = REPO_ROOT, *, builder: str = "html",
               quiet: bool = False) -> subprocess.CompletedProcess:
    """Run ``jupyter-book build <book_root> -W --all --builder <builder>``.

    Uses the Jupyter Book installed for this interpreter; the output goes to
    ``<book_root>/_build/<builder>``. Returns the finished process (check
    ``returncode``; with ``quiet`` its output is captured in ``stdout``).
    """
    if not (Path(book_root) / "_config.yml").is_file():
        raise BookError(f"{book_root} holds no _config.yml; pass the book root (the repository "
                        "root, or a folder made with stage_book)")
    cmd = [sys.executable, "-c",
           "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(book_root), "--warningiserror", "--all", "--builder", builder]
    env = dict(os.environ)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return subprocess.run(cmd, cwd=str(book_root), env=env, text=True,
                          stdout=subprocess.PIPE if quiet else None,
                          stderr=subprocess.STDOUT if quiet else None)


def build(profile: str, *, notebooks: list[str] | None = None, params: dict | None = None,
          book_root: str | Path = REPO_ROOT, src_root: str | Path = REPO_ROOT,
          html: bool = True, builder: str = "html", progress: bool = True,
          quiet: bool = False) -> int:
    """Execute the notebooks for ``profile`` and build the book; return an exit code.

    Args:
        profile: ``smoke``, ``quick`` or ``paper``.
        notebooks: names (``"01_data"`` or ``"01_data.ipynb"``) to execute; default
            all of ``<src_root>/notebooks``. Chapters not executed keep the executed
            copy of an earlier build, or get a stub page.
        params: extra notebook parameters (see the module docstring).
        book_root: folder with ``_config.yml``/``_toc.yml``/``book/``; executed
            notebooks go to ``<book_root>/book/generated``.
        src_root: where ``notebooks/`` is, and the kernel's working directory.
        html: run ``jupyter-book build`` after the notebooks.
        builder: Jupyter Book builder (``html``, ``dirhtml``, ...).
        progress: show a tqdm bar over the notebooks.
        quiet: capture Jupyter Book's output and print it only on failure.

    Returns:
        0 on success, 1 when a notebook failed (named on stderr, nothing built),
        2 when the HTML build failed (warnings count as failures).
    """
    from tqdm.auto import tqdm

    get_profile(profile)
    book_root, src_root = Path(book_root).resolve(), Path(src_root).resolve()
    out_dir = book_root / GENERATED
    available = {p.stem: p for p in list_notebooks(src_root)}
    if notebooks is None:
        selected = list(available.values())
    else:
        names = [Path(n).stem for n in notebooks]
        missing = [n for n in names if n not in available]
        if missing:
            raise BookError(f"no notebook {missing} in {src_root / 'notebooks'}; "
                            f"available: {sorted(available)}")
        selected = [available[n] for n in names]

    reserved = sorted({"profile", "out_dir"} & set(params or {}))
    if reserved:
        raise BookError(f"parameter(s) {reserved} are set by ctlib book itself; use --profile "
                        "(and the book root) instead of -p")
    declared = {p.stem: _notebook_parameters(p) for p in selected}
    unused = sorted(set(params or {}) - set().union(*declared.values()))
    if unused:
        raise BookError(f"parameter(s) {unused} are declared by none of the notebooks "
                        f"{sorted(declared)}; check the spelling (each notebook's parameters: "
                        + "; ".join(f"{k}: {sorted(v)}" for k, v in declared.items()) + ")")
    chapters = _generated_pages(book_root)
    for p in selected:
        if p.stem not in chapters:
            print(f"note: {p.name} is not listed in _toc.yml; it is executed but not shown "
                  "in the book", file=sys.stderr)

    timings: dict[str, float] = {}
    bar = tqdm(selected, desc="notebooks", unit="nb", disable=not progress)
    for p in bar:
        bar.set_postfix_str(p.stem)
        try:
            run = execute_notebook(p, out_dir, profile, params=params, cwd=src_root,
                                   declared=declared[p.stem])
        except BookError as e:
            bar.close()
            print(f"\nctlib book: FAILED at {p.name} (profile {profile})\n{e}", file=sys.stderr)
            _write_timings(book_root, src_root, profile, timings, None, failed=p.stem)
            return 1
        timings[p.stem] = round(run.seconds, 2)
        bar.write(f"  {p.stem}: {run.seconds:.1f} s")
    bar.close()

    for stem in chapters:
        if (out_dir / f"{stem}.ipynb").exists():
            continue
        reason = ("That notebook does not exist in this checkout yet." if stem not in available
                  else f"It was not executed in this build; run `ctlib book --profile {profile} "
                       f"--only {stem}`.")
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{stem}.md").write_text(_stub(stem, reason))

    write_generated_pages(profile, book_root=book_root, src_root=src_root)
    from ctlib.claims import write_placeholder_scorecard

    write_placeholder_scorecard(out_dir)  # the intro's figure, when 10_claims did not run

    html_s = None
    if html:
        t0 = time.perf_counter()
        proc = build_html(book_root, builder=builder, quiet=quiet)
        html_s = round(time.perf_counter() - t0, 2)
        if proc.returncode != 0:
            if quiet and proc.stdout:
                print(proc.stdout[-6000:], file=sys.stderr)
            print(f"ctlib book: jupyter-book build failed (exit {proc.returncode}); warnings "
                  "count as errors", file=sys.stderr)
            _write_timings(book_root, src_root, profile, timings, html_s, failed="jupyter-book")
            return 2
        index = book_root / "_build" / builder / "index.html"
        print(f"book: {index}  ({html_s:.1f} s)")
    _write_timings(book_root, src_root, profile, timings, html_s)
    return 0


def _write_timings(book_root: Path, src_root: Path, profile: str, notebooks: dict, html_s,
                   failed=None) -> None:
    path = book_root / "_build" / "timings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"profile": profile, "notebooks_s": notebooks, "html_build_s": html_s,
              "failed": failed, "code": code_version(src_root),
              "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    path.write_text(json.dumps(record, indent=2) + "\n")


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
#: (``extra["ct_alt_schedule"]``, experiment ``fronts_schedule``) gets its scheduler's name
#: in its tag and title (e.g. ``ct_mt_onecycle_s0``).
_CT_DOWNLOADS = {("fronts", "ct-multitask"): ("mt", "mt", "Multi-task CT table ($E_f$ + $E_g$)"),
                 ("fronts", "ct-Ef"): ("E_f", "Ef", "CT table pretrained on formation energy $E_f$"),
                 ("fronts", "ct-Eg"): ("E_g", "Eg", "CT table pretrained on band gap $E_g$"),
                 ("fronts_schedule", "ct-multitask"):
                     ("mt_alt", "mt_{scheduler}", "Multi-task CT table ($E_f$ + $E_g$), {scheduler} schedule")}


_SCHEDULERS = {"onecycle": "OneCycle", "cosine": "cosine", "step": "step"}


def _alt_scheduler(profile: str) -> str | None:
    """The scheduler's name of the profile's ``extra["ct_alt_schedule"]`` (None: it has none)."""
    alt = get_profile(profile).extra.get("ct_alt_schedule") if profile in PROFILES else None
    return _SCHEDULERS.get(alt.get("scheduler"), alt.get("scheduler") or "other") if alt else None


def stored_ct_tables(profile: str, results_root: str | Path) -> tuple[list[dict], list[str]]:
    """The profile's stored CT pretraining records that name an element table: CT from
    the one-hot start, multi-task, E_f and E_g (``<root>/<profile>/fronts/*.json``), then
    the multi-task one under the profile's other schedule (``fronts_schedule/``).

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
    missing = [title.format(scheduler=alt) for (experiment, _), (label, _, title) in _CT_DOWNLOADS.items()
               if label not in have and (experiment == "fronts" or alt)]
    if not tables:
        lines += [":::{note}",
                  f"**Pending.** No trained CT element table of the `{profile}` profile is stored "
                  f"yet, so this build offers no files. "
                  + (f"The `cpu` tables come from the CT pretraining of `ctlib campaign --profile "
                     f"cpu` (tier 1); " if profile == "cpu" else "")
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
             "| tier | step | runs stored | state | CPU-h planned | CPU-h spent | CPU-h left (estimate) |",
             "|---|---|---|---|---|---|---|"]
    for r in st.itertuples():
        lines.append(f"| {r.tier} | {r.step} | {r.done} / {r.runs} | {r.state} | {r.h_planned:.1f} | "
                     f"{r.cpu_h_spent:.2f} | {r.h_left:.1f} |")
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


# ---------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ctlib book`` options to an argparse (sub)parser."""
    parser.add_argument("--profile", default=DEFAULT_PROFILE, choices=sorted(PROFILES),
                        help=f"scale of every experiment (default: {DEFAULT_PROFILE}: the stored "
                             "runs of the cpu campaign, nothing is trained; quick retrains what "
                             "results/quick lacks)")
    parser.add_argument("--only", nargs="+", metavar="NB", default=None,
                        help="execute only these notebooks (e.g. 01_data); others keep "
                             "their earlier executed copy or get a stub page")
    parser.add_argument("--no-html", action="store_true",
                        help="execute the notebooks but do not run jupyter-book")
    parser.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"),
                        default=[], help="notebook parameter; VALUE is read as YAML "
                                         "(e.g. -p seeds '[0, 1, 2]')")
    parser.add_argument("--builder", default="html", help="jupyter-book builder (default html)")


def run_args(args: argparse.Namespace) -> int:
    """Run ``ctlib book`` from parsed arguments (see :func:`add_arguments`)."""
    import yaml

    params = {}
    for key, value in args.param:
        if not key.isidentifier():
            raise BookError(f"parameter name {key!r} is not a Python identifier")
        params[key] = yaml.safe_load(value)
    try:
        return build(args.profile, notebooks=args.only, params=params, html=not args.no_html,
                     builder=args.builder)
    except BookError as e:
        print(f"ctlib book: {e}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    """``python -m ctlib.book --profile smoke`` (the same as ``ctlib book``)."""
    parser = argparse.ArgumentParser(prog="ctlib book", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
