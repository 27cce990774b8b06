"""Building the book: stage the sources, execute the notebooks, write the generated pages,
run Jupyter Book; and ``ctlib book``, the command that does it."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ctlib.config import PROFILES, get_profile
from ctlib.utils import code_version

from ctlib.book.common import (_BOOK_FILES, DEFAULT_PROFILE, GENERATED, REPO_ROOT, BookError, _generated_pages,
                               _stub, list_notebooks)
from ctlib.book.generated import results_root_for, write_generated_pages, write_verdict_ledger
from ctlib.book.runner import _notebook_parameters, execute_notebook

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

    When the claims page runs, its verdicts also go to the committed verdict ledger
    ``results/<profile>/analysis/ledger/verdicts.json`` (:func:`~ctlib.book.generated.write_verdict_ledger`).
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
    if "10_claims" in timings:  # the claims page ran in this build: its verdicts go to the ledger
        write_verdict_ledger(out_dir / "10_claims.json", results_root_for(src_root), profile)
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
