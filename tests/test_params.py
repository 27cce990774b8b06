"""Notebook parameters (issue 13): ctlib.params parses every form a parameter can arrive in,
and every notebook documents and validates all of its parameters.

`papermill -p seeds "[0, 1, 2]"` used to reach notebook 03 as the text "[0, 1, 2]", which the
experiments iterated character by character (ValueError: invalid literal for int()).
"""
import ast
import json

import nbformat
import pytest
from papermill.cli import _resolve_type
from papermill.inspection import inspect_notebook

from ctlib import book
from ctlib.config import PROFILES
from ctlib.params import (PARSERS, NotebookParams, ParameterError, notebook_params, parse_baselines,
                          parse_bool, parse_device, parse_embedding, parse_existing_folder,
                          parse_folder, parse_profile, parse_seeds)

NOTEBOOKS = book.list_notebooks()
RUN_ID = "ct-formation_energy_per_atom+band_gap-795c25e7-s0"


# ------------------------------------------------------------------------ seeds
@pytest.mark.parametrize("value, expected", [
    (None, None),
    ("None", None),
    ("null", None),
    ([0, 1, 2], [0, 1, 2]),
    ((0, 1, 2), [0, 1, 2]),
    (3, [3]),
    (0, [0]),
    ("[0, 1, 2]", [0, 1, 2]),
    ("[0,1,2]", [0, 1, 2]),
    (" [ 0 , 1 , 2 ] ", [0, 1, 2]),
    ("(0, 1, 2)", [0, 1, 2]),
    ("0,1,2", [0, 1, 2]),
    ("0, 1, 2", [0, 1, 2]),
    ("0 1 2", [0, 1, 2]),
    ("3", [3]),
    ("[7]", [7]),
    ("2,0", [2, 0]),            # the order given is kept
])
def test_seeds_accepted_forms(value, expected):
    got = parse_seeds(value)
    assert got == expected
    assert got is None or all(type(s) is int for s in got)


@pytest.mark.parametrize("value", [
    -1, "-1", "[-1]", [0, -2], "0,-1",                 # negative
    1.5, "1.5", "[0, 1.5]", [0, 1.5], "0,1.5",        # not integers
    True, "[true]", [True],                            # booleans are not seeds
    "abc", "[a, b]", "seeds", "0;1", "0,,1", "0,1,",   # words and malformed lists
    [], "[]", "", "  ",                                # nothing to train
    "[0, 0]", [1, 1], "1,1",                           # a seed twice
    "[0, 1", {"a": 1}, object(),
])
def test_seeds_bad_values_name_the_parameter_value_and_forms(value):
    with pytest.raises(ParameterError) as e:
        parse_seeds(value)
    msg = str(e.value)
    assert "'seeds'" in msg and repr(value) in msg
    assert '-y "seeds: [0, 1, 2]"' in msg and "-p seeds 0,1,2" in msg and "-f params.yaml" in msg
    assert isinstance(e.value, ValueError)


def test_seeds_from_the_papermill_command_line():
    """What `papermill -p seeds VALUE` really delivers (its own type resolution)."""
    for text, expected in (("[0, 1, 2]", [0, 1, 2]), ("0,1,2", [0, 1, 2]), ("0 1 2", [0, 1, 2]),
                           ("3", [3]), ("None", None)):
        assert parse_seeds(_resolve_type(text)) == expected, text
    with pytest.raises(ParameterError, match="seeds"):
        parse_seeds(_resolve_type("1.5"))          # a float
    with pytest.raises(ParameterError, match="seeds"):
        parse_seeds(_resolve_type("-2"))           # a negative int


# ----------------------------------------------------------- the other parsers
def test_profile():
    for name in PROFILES:
        assert parse_profile(name) == name
    for bad in ("fast", "Smoke", "", None, 1, ["smoke"]):
        with pytest.raises(ParameterError) as e:
            parse_profile(bad)
        msg = str(e.value)
        assert "'profile'" in msg and repr(bad) in msg
        assert all(p in msg for p in PROFILES), msg


def test_device():
    assert [parse_device(v) for v in ("auto", "cpu", "cuda", "CPU", " cuda ")] == \
        ["auto", "cpu", "cuda", "cpu", "cuda"]
    for bad in ("gpu", "cuda:0", "", None, 0, True):
        with pytest.raises(ParameterError, match=r"'device'.*auto \| cpu \| cuda"):
            parse_device(bad)


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (1, True), (0, False),
    ("true", True), ("True", True), ("TRUE", True), ("yes", True), ("Yes", True), ("1", True),
    ("false", False), ("False", False), ("no", False), ("NO", False), ("0", False),
    (" true ", True),
])
def test_force_accepted_forms(value, expected):
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", 2, -1, 0.5, None, "y", "t", [True]])
def test_force_bad_values(value):
    with pytest.raises(ParameterError) as e:
        parse_bool(value)
    msg = str(e.value)
    assert "'force'" in msg and repr(value) in msg and "true/false/yes/no/1/0" in msg


def test_embedding(tmp_path):
    f = tmp_path / "emb.json"
    f.write_text("{}")
    assert parse_embedding("auto") == "auto"
    assert parse_embedding("AUTO") == "auto"
    assert parse_embedding(RUN_ID) == RUN_ID
    assert parse_embedding("cgcnn-band_gap-360c307b-s0") == "cgcnn-band_gap-360c307b-s0"
    assert parse_embedding(str(f)) == str(f)
    assert parse_embedding(f) == str(f)          # a Path
    bad = {
        "mt": "a kind of run", "ct-multitask": "a kind of run",
        str(tmp_path / "missing.json"): "no such file", "results/quick/nothing.npz": "no such file",
        "missing.npz": "no such file", str(tmp_path): "a folder",
        "a run": "not a run id", "ct-*": "not a run id", "": None, None: None, 3: None,
    }
    for value, why in bad.items():
        with pytest.raises(ParameterError) as e:
            parse_embedding(value)
        msg = str(e.value)
        assert "'embedding'" in msg and repr(value) in msg and '"auto"' in msg and "run id" in msg
        if why:
            assert why in msg


def test_baselines_ints_and_folders(tmp_path):
    everything = ["onehot", "cgcnn92", "mat2vec", "megnet16", "random128"]
    assert parse_baselines(everything) == everything
    assert parse_baselines("onehot,cgcnn92") == ["onehot", "cgcnn92"]
    assert parse_baselines("onehot cgcnn92") == ["onehot", "cgcnn92"]
    assert parse_baselines("[onehot, cgcnn92]") == ["onehot", "cgcnn92"]
    assert parse_baselines("[]") == [] and parse_baselines([]) == []
    for bad in ("word2vec", ["onehot", "onehot"], [1], 3, None):
        with pytest.raises(ParameterError, match=r"'baselines'.*onehot"):
            parse_baselines(bad)

    assert PARSERS["top"]("5", "top") == 5 and PARSERS["top"](5, "top") == 5
    assert PARSERS["cluster_seed"](0, "cluster_seed") == 0
    assert PARSERS["rp_repeats"](None, "rp_repeats") is None
    assert PARSERS["rp_repeats"]("None", "rp_repeats") is None
    assert PARSERS["catboost_iterations"]("300", "catboost_iterations") == 300
    for name, bad in (("top", 0), ("top", 1.5), ("top", True), ("top", "five"), ("k_max", 1),
                      ("n_jobs", 0), ("cluster_seed", -1), ("n_components", None),
                      ("rp_repeats", 0), ("catboost_iterations", 2.5)):
        with pytest.raises(ParameterError) as e:
            PARSERS[name](bad, name)
        assert repr(name) in str(e.value) and repr(bad) in str(e.value) and "integer" in str(e.value)

    assert parse_folder(None) is None and parse_folder("none") is None
    assert parse_folder("book/generated") == "book/generated"
    assert parse_folder(tmp_path) == str(tmp_path)
    with pytest.raises(ParameterError, match="'out_dir'"):
        parse_folder("")
    with pytest.raises(ParameterError, match="'out_dir'"):
        parse_folder(3)
    assert parse_existing_folder(str(tmp_path)) == str(tmp_path)
    with pytest.raises(ParameterError, match=r"'data_root'.*no such folder"):
        parse_existing_folder(str(tmp_path / "nope"))


# ------------------------------------------------------------- notebook_params
def test_notebook_params_returns_validated_values_of_the_names_passed():
    p = notebook_params(profile="smoke", seeds="[0, 1, 2]", device="CPU", force="true",
                        out_dir="book/generated")
    assert isinstance(p, NotebookParams)
    assert p.as_dict() == {"profile": "smoke", "seeds": [0, 1, 2], "device": "cpu", "force": True,
                           "out_dir": "book/generated"}
    assert (p.profile, p.seeds, p.device, p.force) == ("smoke", [0, 1, 2], "cpu", True)
    q = notebook_params(profile="smoke", data_root=None, out_dir=None)      # 01_data's set
    assert q.as_dict() == {"profile": "smoke", "data_root": None, "out_dir": None}
    assert "seeds" not in q.markdown() and "profile" not in q.markdown()
    assert "seeds `[0, 1, 2]`" in p.markdown() and "force `True`" in p.markdown()


def test_notebook_params_errors():
    with pytest.raises(ParameterError, match="'seeds'"):
        notebook_params(profile="smoke", seeds="[")
    with pytest.raises(ParameterError, match="'profile'"):
        notebook_params(profile="fast", seeds=None)
    with pytest.raises(ValueError, match="'force'"):
        notebook_params(profile="smoke", force="perhaps")
    with pytest.raises(TypeError, match="no parser for parameter.*'sedes'"):
        notebook_params(profile="smoke", sedes=[0])


# ------------------------------------------------------- every notebook uses it
def _cells(path):
    nb = nbformat.read(path, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    j = next(j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code")
    return nb.cells[i], nb.cells[j]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_has_a_parser_and_a_description(path):
    declared = book._notebook_parameters(path)
    assert declared - set(PARSERS) == set(), f"{path.name}: add a parser to ctlib.params.PARSERS"
    shown = inspect_notebook(str(path))                 # what `papermill --help-notebook` lists
    assert set(shown) == declared, f"{path.name}: papermill sees {sorted(shown)}, not {sorted(declared)}"
    for name, p in shown.items():
        assert p["help"].strip(), f"{path.name}: parameter {name} has no `# description` comment"
    # the committed defaults are valid values
    pcell, _ = _cells(path)
    for node in ast.parse(pcell.source).body:
        if isinstance(node, ast.Assign):
            name = node.targets[0].id
            value = ast.literal_eval(node.value)
            if name == "data_root" and value is not None:
                continue
            PARSERS[name](value, name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_after_parameters_validates_all_of_them(path):
    """The cell after the parameters passes every parameter, by name, to start_page; after
    that call no cell of the notebook reads a raw parameter unless it was rebound from the
    validated ``page`` (``seeds = page.seeds``)."""
    declared = book._notebook_parameters(path)
    _, setup = _cells(path)
    tree = ast.parse(setup.source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "start_page"]
    assert len(calls) == 1, f"{path.name}: the cell after the parameters must call start_page once"
    kw = {k.arg: k.value for k in calls[0].keywords}
    assert set(kw) == declared and all(isinstance(v, ast.Name) and v.id == k for k, v in kw.items())
    call_stmt = next(i for i, node in enumerate(tree.body) if calls[0] in ast.walk(node))
    rebound = set()
    later = tree.body[call_stmt + 1:]
    for node in later:   # rebinding statements: name = page.name, or a tuple of them
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Tuple, ast.Attribute)):
            targets = node.targets[0].elts if isinstance(node.targets[0], ast.Tuple) else [node.targets[0]]
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for t, v in zip(targets, values):
                if isinstance(v, ast.Attribute) and getattr(v.value, "id", None) == "page" and v.attr in declared:
                    assert isinstance(t, ast.Name) and t.id == v.attr, f"{path.name}: {ast.unparse(t)} = page.{v.attr}"
                    rebound.add(v.attr)
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    after = [ast.unparse(n) for n in later] + ["".join(c["source"]) for c in cells[2:]]
    raw = sorted({n.id for src in after for n in ast.walk(ast.parse(src))
                  if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in declared - rebound})
    assert not raw, f"{path.name}: reads the raw parameter(s) {raw}; use page.<name> or rebind from page"


def test_start_page_validates_and_keeps_page_attributes_out_of_the_parameters(tmp_path):
    from ctlib.book import start_page
    from ctlib.params import ParameterError

    page = start_page("99_x", show=False, profile="smoke", seeds="0,2", out_dir=str(tmp_path))
    assert page.seeds == [0, 2] and page.out == tmp_path and page.nb == "99_x"
    assert page.prof.name == "smoke" and page.elapsed() >= 0
    assert set(page.as_dict()) == {"profile", "seeds", "out_dir"}
    assert "nb" not in page.markdown() and "seeds `[0, 2]`" in page.markdown()
    assert start_page("99_x", show=False, profile="smoke").out.parts[-2:] == ("book", "generated")
    with pytest.raises(ParameterError, match="seeds"):
        start_page("99_x", show=False, profile="smoke", seeds="zero")


def test_start_page_points_the_kernel_at_its_results_root(tmp_path, monkeypatch):
    import os

    from ctlib import lookup
    from ctlib.book import start_page

    monkeypatch.setenv("CTLIB_RESULTS", str(tmp_path / "elsewhere"))
    start_page("99_x", show=False, profile="smoke")
    assert os.environ["CTLIB_RESULTS"] == str(tmp_path / "elsewhere")          # no results_root: untouched
    start_page("99_x", show=False, profile="smoke", results_root=str(tmp_path / "store"))
    assert lookup.store_root() == (tmp_path / "store").resolve()
