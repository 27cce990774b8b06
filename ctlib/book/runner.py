"""Executing one notebook with papermill: its parameters, the kernel's environment and
working folder, and the provenance stamp (profile, wall seconds, commit) it carries."""
from __future__ import annotations

import datetime as _dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ctlib.config import get_profile
from ctlib.utils import code_version

from ctlib.book.common import GENERATED, REPO_ROOT, BookError, _commit_text

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


