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

Each notebook's first code cell is tagged ``parameters`` and defines at least
``profile``; it may also define ``out_dir`` (where it writes its JSON and
figures; :func:`build` passes ``book/generated``).  Extra parameters
(``params=``) are passed to those selected notebooks that declare them; a
parameter that no selected notebook declares is an error.

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

#: The repository root (holds _config.yml, _toc.yml, book/, notebooks/).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: Folder, relative to the book root, that receives executed notebooks.
GENERATED = Path("book") / "generated"
#: Hand-written book files copied by :func:`stage_book`.
_BOOK_FILES = ("_config.yml", "_toc.yml")


class BookError(RuntimeError):
    """A notebook failed, or the book sources are inconsistent."""


# ----------------------------------------------------------------- provenance
def code_version(root: str | Path = REPO_ROOT) -> dict:
    """Git commit of ``root`` and whether the tracked files differ from it.

    Returns:
        ``{"commit": "<12 hex>" | "unknown", "dirty": bool | None}``.
    """
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=20)
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        if head.returncode != 0:
            return {"commit": "unknown", "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def page_header(profile: str) -> str:
    """One line of Markdown naming the profile, code version and date of a page.

    Every notebook shows it at the top: ``display(Markdown(page_header(profile)))``.

    Raises:
        ValueError: for an unknown profile name.
    """
    get_profile(profile)
    from ctlib import __version__

    v = code_version()
    commit = v["commit"]
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
    prefix = GENERATED.as_posix() + "/"
    return [p[len(prefix):] for p in toc_pages(book_root) if p.startswith(prefix)]


def list_notebooks(src_root: str | Path = REPO_ROOT) -> list[Path]:
    """The notebook sources ``<src_root>/notebooks/*.ipynb``, sorted by name."""
    return sorted((Path(src_root) / "notebooks").glob("*.ipynb"))


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
        values["out_dir"] = str(out_dir.resolve())
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
    running.replace(final)
    (out_dir / f"{src.stem}.md").unlink(missing_ok=True)      # a stub from an earlier build
    return NotebookRun(src.stem, final, seconds)


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


# ---------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ctlib book`` options to an argparse (sub)parser."""
    parser.add_argument("--profile", default="quick", choices=sorted(PROFILES),
                        help="scale of every experiment (default: quick)")
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
