"""The library's layers point down: every import of a ctlib module (function-level imports
included) goes to its own layer or a lower one, and no import cycle exists. The layers are
the ones the README's layout section states."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom to top; a module belongs to the first layer with a prefix matching its dotted name.
LAYERS = (
    ("ctlib", "ctlib.utils", "ctlib.versions", "ctlib.elements", "ctlib.plotting", "ctlib.report", "ctlib.context"),
    ("ctlib.config",),
    ("ctlib.data", "ctlib.models", "ctlib.embeddings", "ctlib.zoo", "ctlib.checkpoints"),
    ("ctlib.train", "ctlib.results"),
    ("ctlib.runs", "ctlib.lookup"),
    ("ctlib.experiments", "ctlib.campaign", "ctlib.cluster"),
    ("ctlib.analysis",),
    ("ctlib.claims", "ctlib.pages", "ctlib.notes", "ctlib.params", "ctlib.book", "ctlib.cli", "ctlib.__main__"),
)


def _modules() -> dict[str, Path]:
    out = {}
    for p in (ROOT / "ctlib").rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the ctlib modules it imports (anywhere in its body)."""
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                if mod == "ctlib" or mod.startswith("ctlib."):
                    for alias in node.names:
                        full = f"{mod}.{alias.name}"
                        targets.add(full if full in mods else mod)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name == "ctlib" or a.name.startswith("ctlib.")}
        graph[name] = {t for t in targets if t != name}
    return graph


def layer_of(module: str) -> int:
    best = None
    for i, prefixes in enumerate(LAYERS):
        for pre in prefixes:
            if module == pre or (pre != "ctlib" and module.startswith(pre + ".")):
                if best is None or len(pre) > best[1]:
                    best = (i, len(pre))
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and to the README's layout")
    return best[0]


def test_every_module_has_a_layer():
    for m in _modules():
        layer_of(m)


def test_imports_point_down():
    up = [f"{m} (layer {layer_of(m)}) imports {t} (layer {layer_of(t)})"
          for m, ts in sorted(import_graph().items()) for t in sorted(ts) if layer_of(t) > layer_of(m)]
    assert not up, "upward imports:\n" + "\n".join(up)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    # a package's __init__ re-exports its modules; a module that imports its own package's
    # __init__ back closes a cycle, and is reported like any other
    assert _cycles(import_graph()) == []


def test_the_checker_finds_what_it_should():
    g = {"ctlib.report": {"ctlib.analysis.clustering"}, "ctlib.analysis.clustering": {"ctlib.report"}}
    assert _cycles(g) == [["ctlib.analysis.clustering", "ctlib.report"]]
    assert layer_of("ctlib.analysis.reverse") > layer_of("ctlib.report")
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("ctlib.nowhere")


def test_the_readme_states_these_layers():
    text = " ".join((ROOT / "README.md").read_text().split())
    for prefixes in LAYERS:
        for pre in prefixes:
            if pre not in ("ctlib", "ctlib.__main__"):
                assert f"`{pre.removeprefix('ctlib.')}`" in text, f"{pre} is not named in the README's layers"
