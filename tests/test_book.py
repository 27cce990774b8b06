"""The book pipeline: notebook sources, papermill execution, and a warning-free HTML build.

The slow tests execute every notebook in notebooks/ on the smoke profile into a
temporary book root (never into the checkout's book/generated) and build the HTML
book from it with warnings as errors.
"""
import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from ctlib import book
from ctlib.book import GENERATED, REPO_ROOT, BookError

NOTEBOOKS = book.list_notebooks()


def _stage(tmp: Path) -> Path:
    return book.stage_book(tmp / "root")


# ----------------------------------------------------------------- fast checks
def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_source_is_clean_and_parameterised(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    for c in code:
        assert c.outputs == [], f"{path.name}: commit notebooks without outputs"
        assert c.execution_count is None, f"{path.name}: clear execution counts"
    first = code[0]
    assert "parameters" in first.metadata.get("tags", []), \
        f"{path.name}: the first code cell must be tagged 'parameters'"
    assert "profile" in book._notebook_parameters(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), \
        f"{path.name}: the first cell must be a markdown cell with the page title (# ...)"


def test_every_notebook_is_a_chapter_of_the_toc():
    pages = book.toc_pages()
    for p in NOTEBOOKS:
        assert f"{GENERATED.as_posix()}/{p.stem}" in pages, f"{p.name} is missing from _toc.yml"


def test_hand_pages_of_the_toc_exist():
    for page in book.toc_pages():
        if not page.startswith(GENERATED.as_posix()):
            assert (REPO_ROOT / f"{page}.md").is_file(), f"_toc.yml lists {page} but {page}.md is missing"


def test_config_never_executes_and_reads_only_toc_files():
    cfg = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["only_build_toc_files"] is True
    assert cfg["launch_buttons"]["thebe"] is False
    for pattern in ("notebooks", "results", "tests", ".venv", "_build"):
        assert pattern in cfg["exclude_patterns"]


def test_page_header_names_profile_and_commit():
    text = book.page_header("smoke")
    assert "`smoke`" in text and "commit" in text
    with pytest.raises(ValueError, match="unknown profile"):
        book.page_header("fast")


def test_unknown_notebook_and_unknown_parameter_are_errors(tmp_path):
    root = _stage(tmp_path)
    with pytest.raises(BookError, match="no notebook"):
        book.build("smoke", notebooks=["99_nothing"], book_root=root, html=False, progress=False)
    with pytest.raises(BookError, match="declared by none"):
        book.build("smoke", params={"profle": "paper"}, book_root=root, html=False, progress=False)
    with pytest.raises(BookError, match="--profile"):
        book.build("smoke", params={"profile": "paper"}, book_root=root, html=False, progress=False)


# ----------------------------------------------------------------- slow checks
@pytest.mark.slow
def test_warnings_fail_the_build_and_missing_chapters_get_stubs(tmp_path):
    root = _stage(tmp_path)
    assert book.build("smoke", notebooks=[], book_root=root, quiet=True, progress=False) == 0
    stub = root / GENERATED / f"{NOTEBOOKS[0].stem}.md"
    assert "not generated" in stub.read_text()
    assert (root / "_build" / "html" / "index.html").is_file()
    intro = root / "book" / "intro.md"
    intro.write_text(intro.read_text() + "\nSee {doc}`no_such_page`.\n")
    assert book.build("smoke", notebooks=[], book_root=root, quiet=True, progress=False) == 2


@pytest.mark.slow
def test_failing_notebook_is_named_and_stops_the_build(tmp_path, capsys):
    src = tmp_path / "src"
    (src / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken"),
                nbformat.v4.new_code_cell('profile = "quick"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('raise ValueError("boom " + profile)')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "notebooks" / "01_data.ipynb")
    root = _stage(tmp_path)
    assert book.build("smoke", book_root=root, src_root=src, progress=False) == 1
    err = capsys.readouterr().err
    assert "01_data" in err and "ValueError" in err and "boom smoke" in err
    assert (root / GENERATED / "01_data.failed.ipynb").is_file()
    assert not (root / GENERATED / "01_data.ipynb").exists()
    assert not (root / "_build" / "html").exists()


@pytest.fixture(scope="module")
def smoke_book(tmp_path_factory):
    """Every notebook executed on the smoke profile into a tmp book root, then the HTML build.

    01_data goes through ``book.build`` (the path ``make book`` takes); the others are
    executed one by one so that each failing notebook fails only its own test. Returns
    ``(root, outcomes, html_rc)`` with outcomes[stem] a NotebookRun or the BookError.
    """
    root = book.stage_book(tmp_path_factory.mktemp("book") / "root")
    outcomes = {}
    # a fresh results store: every smoke run really trains (none is found in results/)
    mp = pytest.MonkeyPatch()
    mp.setenv("CTLIB_RESULTS", str(tmp_path_factory.mktemp("results")))
    mp.setenv("CTLIB_RUNS", str(tmp_path_factory.mktemp("runs")))   # and no checkpoint to resume
    for p in NOTEBOOKS:
        try:
            if p.stem == "01_data":
                rc = book.build("smoke", notebooks=[p.stem], book_root=root, html=False,
                                progress=False)
                outcomes[p.stem] = rc if rc else "ok"
            else:
                outcomes[p.stem] = book.execute_notebook(p, root / GENERATED, "smoke")
        except BookError as e:
            outcomes[p.stem] = e
    html_rc = book.build("smoke", notebooks=[], book_root=root, quiet=True, progress=False)
    yield root, outcomes, html_rc
    mp.undo()


@pytest.mark.slow
@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_notebook_executes_on_smoke(smoke_book, stem):
    root, outcomes, _ = smoke_book
    outcome = outcomes[stem]
    assert not isinstance(outcome, (BookError, int)), f"{stem} failed on smoke: {outcome}"
    assert (root / GENERATED / f"{stem}.ipynb").is_file()
    nb = nbformat.read(root / GENERATED / f"{stem}.ipynb", as_version=4)
    shown = [o.get("data", {}).get("text/markdown", "") for c in nb.cells
             if c.cell_type == "code" for o in c.outputs]
    assert any("**Profile:** `smoke`" in s for s in shown), \
        f"{stem} does not show ctlib.book.page_header(profile)"


@pytest.mark.slow
def test_book_builds_without_warnings(smoke_book):
    root, _, html_rc = smoke_book
    assert html_rc == 0, "jupyter-book build -W failed; see the captured output"
    html = root / "_build" / "html"
    assert (html / "index.html").is_file()
    for page in ("intro", "data", "methods", "rerun"):
        assert (html / "book" / f"{page}.html").is_file()
    for p in NOTEBOOKS:
        assert (html / "book" / "generated" / f"{p.stem}.html").is_file()
    assert not list((root / GENERATED).glob("*.running.ipynb"))


@pytest.mark.slow
def test_01_data_numbers(smoke_book):
    from ctlib.data import data_root
    from ctlib.elements import ELEMENTS

    root = smoke_book[0]
    got = json.loads((root / GENERATED / "01_data.json").read_text())
    assert got["profile"] == "smoke"

    # independent count from the labels CSV
    labels = pd.read_csv(data_root() / "mp2018" / "mp2018_labels.csv")
    have = labels[labels["has_structure"] == 1]
    mp = got["mp2018"]
    assert mp["n"] == len(have)
    assert mp["split"] == {s: int((have["split"] == s).sum()) for s in ("train", "val", "test")}
    assert mp["benchmark"]["total"] == len(labels)
    # the "74% subset" naming of the data README
    assert mp["coverage"]["total"] == pytest.approx(len(have) / len(labels))
    assert round(100 * mp["coverage"]["total"]) == 74
    # element vocabulary: the 89 elements of ctlib.elements, in the same order
    assert mp["n_elements"] == len(ELEMENTS)
    assert mp["elements"] == list(ELEMENTS)
    assert mp["natoms_min"] >= 1 and mp["natoms_max"] >= mp["natoms_mean"]
    # Castelli e_form MAD is Matbench's published 0.565992 eV/cell
    mad = got["castelli_perovskites"]["targets"]["e_form"]["mad"]
    assert mad == pytest.approx(0.565992, abs=5e-6)
    assert got["castelli_perovskites"]["n"] == sum(got["castelli_perovskites"]["split"].values())
    assert got["hoip"]["n"] == sum(got["hoip"]["split"].values())
    # sizes the smoke profile draws never exceed the split
    for s, n in got["profile_sizes"].items():
        assert 0 < n <= mp["split"][s]
    figs = root / GENERATED / "figures"
    for name in ("01_data_targets", "01_data_elements", "01_data_natoms"):
        assert (figs / f"{name}.png").stat().st_size > 10_000
        assert (figs / f"{name}.pdf").is_file()
    assert np.isfinite(got["mp2018"]["targets"]["band_gap"]["frac_zero"])


# ---------------------------------------------------------------- the result tables (issue 5)
def _summary(root, stem):
    return json.loads((root / GENERATED / f"{stem}.json").read_text())


def _finite_positive(x):
    return x is not None and np.isfinite(x) and x > 0


@pytest.mark.slow
def test_table1_numbers(smoke_book):
    from ctlib import report

    got = _summary(smoke_book[0], "02_models")
    rows = got["table"]
    assert {(r["column"], r["target"]) for r in rows} == {
        (m, t) for m in ("cgcnn", "megnet", "alignn", "ct") for t in ("E_f", "E_g")}
    names = {"cgcnn": "CGCNN", "megnet": "MEGNET", "alignn": "ALIGNN", "ct": "CrystalTransformer"}
    for r in rows:
        assert _finite_positive(r["mean"]) and r["n"] == 1
        assert r["paper"] == report.paper_value("table1_models", names[r["column"]], f"MP-{r['target']}")
    assert all(r["n_test"] == 32 for r in got["rows"])   # the smoke test draw
    # the mean-predictor floor, recomputed here from the data
    from ctlib import experiments
    ds, split = experiments.mp_data("smoke")
    for b in got["mean_baseline"]:
        y = ds.targets[experiments.TARGETS[b["target"]]]
        assert b["mae"] == pytest.approx(np.mean(np.abs(y[split["test"]] - y[split["train"]].mean())))
    # the coordinate-scale ablation: one run per scale, the profile's own scale is the Table I run
    cs = {r["coord_scale"]: r for r in got["ct_coord_scale"]}
    assert set(cs) == {1.0, 0.1}
    assert all(_finite_positive(r["mae"]) and _finite_positive(r["best_val_mae"]) for r in cs.values())
    t1_ct = [r for r in got["rows"] if r["model"] == "ct" and r["target"] == "E_f"][0]
    assert cs[0.1]["run_id"] == t1_ct["run_id"] != cs[1.0]["run_id"]


@pytest.mark.slow
@pytest.mark.parametrize("stem, columns", [
    ("03_transfer", {"C-C", "M-C", "A-C", "CT-C", "CT-M", "CT-A", "C onehot", "C default",
                     "M onehot", "M default", "A onehot", "A default"}),
    ("04_cross_task", {"CGCNN", "CGCNN(E_f)", "CGCNN(E_g)", "CGCNN(mt)"}),
    ("05_variants", {"CGCNN", "CGCNN(E_a)", "CGCNN(E_a+E_c)", "CGCNN(E_a^f)"}),
])
def test_transfer_tables(smoke_book, stem, columns):
    rows = _summary(smoke_book[0], stem)["table"]
    assert {(r["column"], r["target"]) for r in rows} == {(c, t) for c in columns for t in ("E_f", "E_g")}
    assert all(_finite_positive(r["mean"]) for r in rows)
    # the relative change is computed against a baseline run of the same table
    rel = [r["vs baseline"] for r in rows if r.get("vs baseline") is not None]
    assert rel and all(np.isfinite(rel))


@pytest.mark.slow
def test_perovskite_rows(smoke_book):
    rows = _summary(smoke_book[0], "06_perovskites")["rows"]
    seen = {(r["dataset"], r["target"], r["column"]) for r in rows}
    assert ("castelli-3334", "e_form_per_atom", "CT-C") in seen
    assert ("hoip", "band_gap_gga", "C") in seen and ("matbench-fold0", "e_form", "CT-C") in seen
    assert all(_finite_positive(r["mae"]) for r in rows)


@pytest.mark.slow
def test_jarvis_page_says_unavailable_and_claims_are_judged(smoke_book):
    from ctlib.claims import CLAIMS

    assert _summary(smoke_book[0], "09_jarvis")["available"] is False   # not in the data mirror
    verdicts = _summary(smoke_book[0], "10_claims")["verdicts"]
    assert len(verdicts) == len(CLAIMS)
    # one smoke seed: no spread, so the rule may never say "reproduced"
    assert all(v["verdict"].startswith("inconclusive (1 seed") for v in verdicts)
