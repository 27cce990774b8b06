"""Notebooks are thin (issue 33 item 6): a notebook calls ctlib and shows the result.

Every code cell is hidden on the rendered page, has at most 15 lines (blank ones counted), and holds
no loop (statement or comprehension), no function or class definition, no pivot or
group-by and no model fit; logic that needs those lives in ctlib, with tests."""
import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
HIDDEN = {"hide-input", "remove-cell", "remove-input", "hide-cell"}
MAX_LINES = 15
LOOPS = (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
BANNED_CALLS = {"pivot", "pivot_table", "groupby", "fit", "fit_transform", "train_one"}


def problems(cell_source: str, tags: list[str]) -> list[str]:
    """What makes one code cell not thin, in words (empty: the cell is thin)."""
    out = []
    if not HIDDEN & set(tags):
        out.append(f"code is shown (tag it one of {sorted(HIDDEN)})")
    n = len(cell_source.splitlines())
    if n > MAX_LINES:
        out.append(f"{n} lines (at most {MAX_LINES})")
    for node in ast.walk(ast.parse(cell_source)):
        if isinstance(node, LOOPS):
            out.append(f"a loop ({type(node).__name__}) on line {node.lineno}")
        elif isinstance(node, DEFS):
            out.append(f"a definition ({type(node).__name__}) on line {node.lineno}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in BANNED_CALLS):
            out.append(f".{node.func.attr}() on line {node.lineno}")
    return out


def test_the_checker_flags_each_kind_of_thick_cell():
    assert problems("x = f()\n", ["hide-input"]) == []
    assert problems("x = f()\n", []) == [f"code is shown (tag it one of {sorted(HIDDEN)})"]
    assert "16 lines (at most 15)" in problems("x = 1\n" * 16, ["remove-cell"])
    assert "16 lines (at most 15)" in problems("x = 1\n\n" * 8, ["remove-cell"])   # blank lines count
    assert any("ListComp" in p for p in problems("y = [a for a in b]\n", ["hide-input"]))
    assert any("For" in p for p in problems("for a in b:\n    pass\n", ["hide-input"]))
    assert any("FunctionDef" in p for p in problems("def f():\n    pass\n", ["hide-input"]))
    assert any(".pivot_table()" in p for p in problems("df.pivot_table(index='a')\n", ["hide-input"]))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin(nb):
    cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
    found = [f"cell {i}: {p}" for i, c in enumerate(cells)
             for p in problems("".join(c["source"]), c.get("metadata", {}).get("tags", []))]
    assert not found, f"{nb.name} is not thin:\n  " + "\n  ".join(found)
