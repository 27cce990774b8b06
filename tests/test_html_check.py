"""tools/check_html.py: each defect of a built book fails the check and names its page.

Small synthetic HTML trees (the layout Jupyter Book writes: pages, ``_static/``, a
``_toc.yml`` and the chapters' summary JSON) with one defect each; a clean tree passes.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "check_html.py"
_spec = importlib.util.spec_from_file_location("check_html", TOOL)
check_html = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("check_html", check_html)      # dataclasses look their module up
_spec.loader.exec_module(check_html)

TOC = """format: jb-book
root: book/intro
parts:
  - caption: Results
    chapters:
      - file: book/generated/02_models
"""

MATHJAX = '<script defer="defer" src="{up}_static/mathjax/tex-chtml.js"></script>'


def _html(body: str, up: str = "", head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><title>t</title>{MATHJAX.format(up=up)}{head}</head>"
            f"<body><article>{body}</article></body></html>")


CLEAN_CHAPTER = """
<h1>Table I</h1>
<p>Formation energy <span class="math notranslate nohighlight">\\(E_f\\)</span> and
<span class="math notranslate nohighlight">\\(E_g\\)</span>.</p>
<div class="math notranslate nohighlight">$$x_i = P E[Z_i]$$</div>
<pre>papermill notebooks/02.ipynb out.ipynb  # costs $$ on a GPU; \\( in code is fine</pre>
<img src="../../_images/fig.png" alt="figure">
<table><thead><tr><th>column</th><th>E_f</th><th>E_g</th></tr></thead>
<tbody>
<tr><td>cgcnn</td><td>0.1</td><td>0.2</td></tr>
<tr><td>ct</td><td>0.3</td><td>0.4</td></tr>
</tbody></table>
"""


@pytest.fixture
def book(tmp_path):
    """A clean built book: index, intro, one chapter with math, a figure and a table."""
    html = tmp_path / "_build" / "html"
    (html / "_static" / "mathjax").mkdir(parents=True)
    (html / "_static" / "mathjax" / "tex-chtml.js").write_text("// mathjax")
    (html / "_images").mkdir()
    (html / "_images" / "fig.png").write_bytes(b"\x89PNG")
    (html / "book" / "generated").mkdir(parents=True)
    (html / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />')
    (html / "book" / "intro.html").write_text(_html("<h1>Intro</h1><p>Plain text.</p>", "../"))
    (html / "book" / "generated" / "02_models.html").write_text(_html(CLEAN_CHAPTER, "../../"))
    (tmp_path / "_toc.yml").write_text(TOC)
    gen = tmp_path / "book" / "generated"
    gen.mkdir(parents=True)
    # four entries, shown pivoted as 2 rows x 2 targets (+ labels): 9 cells >= 4 entries
    (gen / "02_models.json").write_text(json.dumps({"table": [
        {"column": c, "target": t, "mean": 0.1} for c in ("cgcnn", "ct") for t in ("E_f", "E_g")]}))
    return tmp_path


def _check(root: Path, **kw):
    return check_html.check(root / "_build" / "html", toc=root / "_toc.yml",
                            generated=root / "book" / "generated", root=root / "repo", **kw)


def _chapter(root: Path) -> Path:
    return root / "_build" / "html" / "book" / "generated" / "02_models.html"


def _inject(root: Path, old: str, new: str) -> None:
    page = _chapter(root)
    text = page.read_text()
    assert old in text
    page.write_text(text.replace(old, new, 1))


def _one_failure(root: Path, needle: str, page: str = "book/generated/02_models.html", **kw):
    failures = _check(root, **kw)
    assert len(failures) == 1, [str(f) for f in failures]
    f = failures[0]
    assert f.page == page and needle in f.what, str(f)
    assert str(f).startswith(f"FAIL {page}: ")
    return f


def test_clean_book_passes(book):
    assert _check(book) == []


def test_missing_image(book):
    _inject(book, "_images/fig.png", "_images/gone.png")
    _one_failure(book, "'../../_images/gone.png' does not exist")


def test_remote_image(book):
    _inject(book, 'src="../../_images/fig.png"', 'src="https://example.org/fig.png"')
    _one_failure(book, "remote image")


@pytest.mark.parametrize("raw", ["\\(E_f\\)", "$$E = mc^2$$"])
def test_raw_math_outside_a_math_node(book, raw):
    _inject(book, "<p>Formation energy", f"<p>Unrendered {raw} here.</p><p>Formation energy")
    _one_failure(book, f"raw math {raw[:2]!r}")


def test_traceback_text(book):
    _inject(book, "<h1>Table I</h1>", "<h1>Table I</h1><p>Traceback (most recent call last):</p>")
    _one_failure(book, "'Traceback' in the page")


def test_error_output_cell(book):
    _inject(book, "<h1>Table I</h1>",
            '<h1>Table I</h1><div class="output traceback highlight-ipythontb"><pre>'
            "ValueError: boom</pre></div>")
    _one_failure(book, "class 'traceback'")


def test_papermill_error_cell(book):
    _inject(book, "<h1>Table I</h1>",
            '<h1>Table I</h1><span id="papermill-error-cell">An Exception was encountered at '
            '<a href="#papermill-error-cell">In [3]</a>.</span>')
    _one_failure(book, "papermill's error cell")


@pytest.mark.parametrize("path", ["/tmp/pytest-7/results/x.json", "/root/.cache/ctlib",
                                  "/home/user/data", "REPO/ctlib/embeddings.py:450"])
def test_machine_paths(book, path):
    path = path.replace("REPO", str(book / "repo"))
    _inject(book, "<pre>", f"<pre>UserWarning in {path}\n")      # even inside code
    f = _one_failure(book, "machine path")
    assert path[:6] in f.what


def test_machine_path_in_an_attribute(book):
    _inject(book, 'src="../../_images/fig.png"', 'src="../../_images/fig.png" data-x="/tmp/a.png"')
    _one_failure(book, "machine path '/tmp/'")


def test_remote_mathjax_script(book):
    page = _chapter(book)
    page.write_text(page.read_text().replace(
        "../../_static/mathjax/tex-chtml.js",
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"))
    failures = _check(book)
    whats = " | ".join(f.what for f in failures)
    assert all(f.page == "book/generated/02_models.html" for f in failures)
    assert "from the network" in whats and "no local MathJax" in whats


def test_math_without_mathjax(book):
    page = _chapter(book)
    page.write_text(page.read_text().replace(MATHJAX.format(up="../../"), ""))
    _one_failure(book, "no local MathJax")


def test_unbuilt_toc_page(book):
    (book / "_toc.yml").write_text(TOC + "      - file: book/generated/03_transfer\n")
    _one_failure(book, "listed in _toc.yml but not built", page="book/generated/03_transfer.html")


def test_results_table_lost_its_rows(book):
    _inject(book, "<tr><td>ct</td><td>0.3</td><td>0.4</td></tr>", "")
    summary = book / "book" / "generated" / "02_models.json"
    rows = json.loads(summary.read_text())["table"]
    summary.write_text(json.dumps({"table": rows * 2}))              # 8 entries, 3 body cells left
    _one_failure(book, "lost its rows: 02_models.json lists 8 stored entries, the page shows 3 table cells")


def test_pending_entries_may_be_left_off_the_page(book):
    page = _chapter(book)
    page.write_text(_html("<h1>Table I</h1><p>Pending: no run is stored yet.</p>", "../../"))
    summary = book / "book" / "generated" / "02_models.json"
    summary.write_text(json.dumps({"table": [{"column": "ct", "target": "E_f", "mean": None,
                                              "run_id": None}] * 4}))
    assert _check(book) == []
    summary.write_text(json.dumps({"table": [{"column": "ct", "target": "E_f", "mean": 0.2}]}))
    _one_failure(book, "lists 1 stored entries, the page shows 0 table cells")


def test_summary_without_a_page(book):
    (book / "book" / "generated" / "04_cross_task.json").write_text(
        json.dumps({"table": [{"column": "CGCNN", "mean": 0.1}]}))
    _one_failure(book, "page was not built", page="book/generated/04_cross_task.html")


def test_not_a_built_book(tmp_path):
    failures = check_html.check(tmp_path)
    assert len(failures) == 1 and "no index.html" in failures[0].what


def test_command_line(book):
    html = book / "_build" / "html"
    args = [str(html), "--toc", str(book / "_toc.yml"), "--generated", str(book / "book" / "generated"),
            "--root", str(book / "repo")]
    ok = subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True)
    assert ok.returncode == 0 and "passed" in ok.stdout, ok.stdout + ok.stderr
    _inject(book, "<h1>Table I</h1>", "<h1>Table I</h1><p>Traceback</p>")
    bad = subprocess.run([sys.executable, str(TOOL), *args, "--forbid", "Table I"],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    lines = [ln for ln in bad.stdout.splitlines() if ln.startswith("FAIL ")]
    assert len(lines) == 2 and all(ln.startswith("FAIL book/generated/02_models.html: ") for ln in lines)
    h = subprocess.run([sys.executable, str(TOOL), "--help"], capture_output=True, text=True)
    assert h.returncode == 0 and "machine path" in h.stdout and "--toc" in h.stdout


def test_allowed_text_is_not_a_machine_path(book):
    _inject(book, "<pre>", "<pre>out_dir = '/tmp/stage/book/generated'\n")
    assert len(_check(book)) == 1
    assert _check(book, allow=("/tmp/stage/book/generated",)) == []
