#!/usr/bin/env python3
"""Check a built Jupyter Book (``_build/html``) for defects a warning-free build still lets through.

Every ``*.html`` page of the tree (outside ``_static``, ``_sources``, ``_downloads``,
``_images``) is read, and the check fails when:

* **missing image**: an ``<img>`` ``src`` names a file that does not exist (or a remote
  ``http(s)://`` image: the book is read offline);
* **remote script**: a ``<script src>`` or stylesheet ``<link href>`` loads from the
  network (MathJax must come from ``_static/mathjax``), or a page with math loads no
  local MathJax;
* **raw math**: ``\\(`` or ``$$`` in the page text outside rendered math, code and
  scripts (math that was never turned into a math node);
* **error output**: ``Traceback``, an error output cell (class ``traceback``) or
  papermill's error cell in a page;
* **machine path**: an absolute path of the build machine in the page source: the
  repository root (``--root``, default the current folder) and ``/tmp/``, ``/root/``,
  ``/home/`` (more with ``--forbid``);
* **missing page**: a page of ``_toc.yml`` (``--toc``) was not built;
* **lost rows**: a chapter's summary ``book/generated/NN_name.json`` (``--generated``)
  lists a ``table`` with N entries that hold a stored result (a non-null ``mean``,
  ``mae``, ``value`` or ``run_id``; pending entries do not count), but the chapter's page
  shows fewer than N table cells (``<td>``/``<th>`` in ``<table>`` bodies): each stored
  entry is at least one cell of the page, whether the notebook shows it long or pivoted.

Each failure is printed as ``FAIL <page>: <what>``; the exit status is 1 when there is
any, else 0. Usage::

    python tools/check_html.py _build/html
    python tools/check_html.py _build/html --toc _toc.yml --generated book/generated
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

SKIP_DIRS = {"_static", "_sources", "_downloads", "_images", "_sphinx_design_static"}
MACHINE_PATHS = ("/tmp/", "/root/", "/home/")
_RAW_MATH = re.compile(r"\\\(|\$\$")
_REMOTE = re.compile(r"^(https?:)?//", re.I)


@dataclass
class Failure:
    page: str
    what: str

    def __str__(self) -> str:
        return f"FAIL {self.page}: {self.what}"


def _soup(text: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(text, "html.parser")


def _classes(tag) -> list[str]:
    c = tag.get("class") or []
    return c.split() if isinstance(c, str) else list(c)


def _local_target(page: Path, ref: str) -> Path | None:
    """The file a relative or site-absolute reference of ``page`` points at (None: remote/data)."""
    if not ref or ref.startswith(("data:", "#")) or _REMOTE.match(ref):
        return None
    path = unquote(urlsplit(ref).path)
    return page.parent / path


def pages(html_dir: Path) -> list[Path]:
    """Every HTML page under ``html_dir`` except Sphinx's asset folders."""
    return sorted(p for p in html_dir.rglob("*.html")
                  if not (set(p.relative_to(html_dir).parts[:-1]) & SKIP_DIRS))


def check_page(page: Path, html_dir: Path, forbidden: list[str],
               allow: tuple[str, ...] = ()) -> list[Failure]:
    """The defects of one page (see the module docstring); the texts in ``allow`` are
    ignored by the machine-path check."""
    rel = page.relative_to(html_dir).as_posix()
    text = page.read_text(encoding="utf-8", errors="replace")
    out: list[Failure] = []

    scan = text
    for a in allow:
        if a:
            scan = scan.replace(a, "")
    hits = [n for n in forbidden if n and n in scan]
    # a generic prefix ("/tmp/") inside a longer hit (the repository root) is not repeated
    hits = [n for n in hits if not any(n != o and n in o for o in hits)]
    for needle in hits:
        i = scan.index(needle)
        context = re.sub(r"\s+", " ", scan[max(0, i - 60): i + len(needle) + 60])
        out.append(Failure(rel, f"machine path {needle!r} in the page: ...{context}..."))

    soup = _soup(text)
    for img in soup.find_all("img"):
        src = img.get("src") or ""
        if _REMOTE.match(src):
            out.append(Failure(rel, f"<img> loads a remote image {src!r} (the book is read offline)"))
            continue
        target = _local_target(page, src)
        if src and target is not None and not target.is_file():
            out.append(Failure(rel, f"<img> src {src!r} does not exist"))
        elif not src:
            out.append(Failure(rel, "<img> without src"))

    has_math = bool(soup.select(".math"))
    mathjax_local = False
    for tag, attr in (("script", "src"), ("link", "href")):
        for el in soup.find_all(tag):
            ref = el.get(attr) or ""
            if tag == "link" and "stylesheet" not in (el.get("rel") or []):
                continue
            if _REMOTE.match(ref):
                out.append(Failure(rel, f"<{tag}> loads {ref!r} from the network "
                                        "(the book must work offline)"))
            elif tag == "script" and "mathjax" in ref.lower():
                target = _local_target(page, ref)
                if target is not None and target.is_file():
                    mathjax_local = True
                else:
                    out.append(Failure(rel, f"MathJax script {ref!r} does not exist"))
    if has_math and not mathjax_local:
        out.append(Failure(rel, "the page has math but loads no local MathJax script"))

    if "papermill-error-cell" in text or "An Exception was encountered at" in text:
        out.append(Failure(rel, "papermill's error cell: the notebook failed while executing"))
    if any("traceback" in _classes(el) for el in soup.find_all(class_=True)):
        out.append(Failure(rel, "an error output (class 'traceback') is shown"))

    # the visible text, without rendered math, code, scripts and styles
    for el in soup.find_all(["script", "style", "pre", "code", "kbd", "samp", "textarea"]):
        el.decompose()
    for el in soup.select(".math"):
        el.decompose()
    visible = soup.get_text(" ")
    if "Traceback" in visible:
        i = visible.index("Traceback")
        out.append(Failure(rel, "'Traceback' in the page: ..."
                                + re.sub(r"\s+", " ", visible[max(0, i - 80): i + 80]) + "..."))
    m = _RAW_MATH.search(visible)
    if m:
        context = re.sub(r"\s+", " ", visible[max(0, m.start() - 60): m.end() + 60])
        out.append(Failure(rel, f"raw math {m.group(0)!r} outside a math node: ...{context}..."))
    return out


def toc_files(toc: Path) -> list[str]:
    """The pages (paths without suffix) that a Jupyter Book ``_toc.yml`` lists
    (read by :func:`ctlib.book.toc_pages` from the folder that holds it)."""
    from ctlib.book import toc_pages

    return toc_pages(toc.parent)


def _cells(page: Path) -> int:
    soup = _soup(page.read_text(encoding="utf-8", errors="replace"))
    n = 0
    for table in soup.find_all("table"):
        body = table.find_all("tbody") or [table]
        for b in body:
            for tr in b.find_all("tr"):
                n += len(tr.find_all(["td", "th"]))
    return n


_RESULT_KEYS = ("mean", "mae", "value", "run_id")


def _has_result(entry) -> bool:
    """A ``table`` entry that holds a stored result: a non-null ``mean``, ``mae``, ``value``
    or ``run_id`` (an entry with none of these keys counts too). Pending entries (all of
    them null: the run is not stored yet) may be left off the page."""
    if not isinstance(entry, dict):
        return True
    keys = [k for k in _RESULT_KEYS if k in entry]
    return not keys or any(entry[k] is not None for k in keys)


def check_rows(html_dir: Path, generated: Path, generated_url: str = "book/generated") -> list[Failure]:
    """Each summary ``NN_name.json`` whose ``table`` list holds N entries with a stored
    result: its page shows at least N table cells."""
    out = []
    for summary in sorted(generated.glob("[0-9][0-9]_*.json")):
        try:
            obj = json.loads(summary.read_text())
        except (OSError, json.JSONDecodeError) as e:
            out.append(Failure(f"{generated_url}/{summary.name}", f"summary is not JSON ({e})"))
            continue
        table = obj.get("table") if isinstance(obj, dict) else None
        if not isinstance(table, list):
            continue
        table = [e for e in table if _has_result(e)]
        if not table:
            continue
        page = html_dir / generated_url / f"{summary.stem}.html"
        rel = page.relative_to(html_dir).as_posix()
        if not page.is_file():
            out.append(Failure(rel, f"{summary.name} lists {len(table)} stored table entries "
                                    "but the page was not built"))
            continue
        cells = _cells(page)
        if cells < len(table):
            out.append(Failure(rel, f"a results table lost its rows: {summary.name} lists "
                                    f"{len(table)} stored entries, the page shows {cells} table cells"))
    return out


def check(html_dir: Path, *, toc: Path | None = None, generated: Path | None = None,
          root: Path | None = None, forbid: tuple[str, ...] = (),
          allow: tuple[str, ...] = ()) -> list[Failure]:
    """Every failure of the book at ``html_dir`` (empty list: the book passes).

    ``allow``: texts the machine-path check ignores (e.g. a test's staging folder)."""
    html_dir = Path(html_dir)
    if not (html_dir / "index.html").is_file():
        return [Failure(str(html_dir), "no index.html: this is not a built book")]
    forbidden = [str(Path(root).resolve())] if root is not None else []
    forbidden += [*forbid, *MACHINE_PATHS]
    forbidden = [f for f in dict.fromkeys(forbidden) if f]
    failures: list[Failure] = []
    for page in pages(html_dir):
        failures += check_page(page, html_dir, forbidden, allow)
    if toc is not None:
        for f in toc_files(toc):
            if not (html_dir / f"{f}.html").is_file():
                failures.append(Failure(f"{f}.html", f"listed in {toc.name} but not built"))
    if generated is not None and generated.is_dir():
        failures += check_rows(html_dir, generated)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_html.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("html_dir", type=Path, help="the built book, e.g. _build/html")
    parser.add_argument("--toc", type=Path, default=Path("_toc.yml"),
                        help="the book's _toc.yml: each page must be built (default: _toc.yml; "
                             "skipped when the file is absent)")
    parser.add_argument("--generated", type=Path, default=Path("book/generated"),
                        help="folder of the chapters' summary JSON files (default: "
                             "book/generated; skipped when absent)")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the repository root, whose absolute path must appear in no page "
                             "(default: the current folder)")
    parser.add_argument("--forbid", action="append", default=[], metavar="TEXT",
                        help="another text no page may contain (repeatable)")
    parser.add_argument("--allow", action="append", default=[], metavar="TEXT",
                        help="a text the machine-path check ignores (repeatable)")
    args = parser.parse_args(argv)
    toc = args.toc if args.toc and args.toc.is_file() else None
    failures = check(args.html_dir, toc=toc, generated=args.generated, root=args.root,
                     forbid=tuple(args.forbid), allow=tuple(args.allow))
    for f in failures:
        print(f)
    n = len(pages(args.html_dir)) if args.html_dir.is_dir() else 0
    if failures:
        print(f"check_html: {len(failures)} failure(s) in {args.html_dir} ({n} pages)")
        return 1
    print(f"check_html: {n} pages of {args.html_dir} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
