"""Every `papermill ...` and `ctlib ...` command shown in README.md and book/rerun.md runs (issue 13).

The commands are read from the fenced code blocks of the two pages and run as written,
except that:

* the profile is ``smoke`` (``-p profile X``, ``--profile X``, ``profile: X`` in ``-y`` text
  and in the parameters file the page shows, e.g. the ``# params.yaml`` block);
* outputs go into a tmp folder (each command runs there, with links to the repository
  folders its arguments name), and ``CTLIB_RESULTS``/``CTLIB_RUNS`` point at tmp folders
  shared by the commands of this module, so a run one command trained is reused by the
  next and nothing is stored in the repository;
* ``ctlib book`` runs in a tmp copy of the book sources and of ``ctlib`` (its book root is
  the package's repository); a whole-book command gets ``--only 03_transfer``, because
  executing every notebook on smoke is tests/test_book.py's job;
* commands that cannot run here are skipped with the reason: usage synopses
  (``[--only NB ...]``), placeholders (``my.yaml``), inputs absent from this checkout,
  quick-sized training with no smoke counterpart, and ``ctlib`` subcommands that
  ``ctlib --help`` does not list.

Each run is checked on its output, not only its exit code: the executed notebook's
validated parameters (``params.show()`` puts them in its output's metadata) must
equal the parameters the command gives, computed here independently of ctlib.params, and
the notebook's summary JSON must hold runs of exactly those seeds.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from ctlib.book import GENERATED, REPO_ROOT
from ctlib.config import PROFILES

DOCS = ("README.md", "book/rerun.md")
PROFILE = "smoke"
WHOLE_BOOK_ONLY = "03_transfer"
TIMEOUT_S = 1200
_CTLIB_MAIN = "import sys; from ctlib.cli import main; sys.exit(main())"


# ------------------------------------------------------------------ extraction
@dataclass(frozen=True)
class DocCommand:
    where: str              # "README.md:93"
    text: str               # the command as written (without its trailing comment)
    argv: tuple[str, ...]


def _code_blocks(text: str):
    """(language, first line number, lines) of every ``` fenced block."""
    blocks, lang, start, lines = [], None, 0, None
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*```+\s*([\w+-]*)", line)
        if m and lines is None:
            lang, start, lines = m.group(1), n + 1, []
        elif m and lines is not None:
            blocks.append((lang, start, lines))
            lines = None
        elif lines is not None:
            lines.append(line)
    return blocks


def doc_commands() -> list[DocCommand]:
    out = []
    for doc in DOCS:
        for _, start, lines in _code_blocks((REPO_ROOT / doc).read_text()):
            for i, line in enumerate(lines):
                if not re.match(r"^\s*(papermill|ctlib)\s", line):
                    continue
                argv = tuple(shlex.split(line, comments=True))
                out.append(DocCommand(f"{doc}:{start + i}", shlex.join(argv), argv))
    return out


def doc_param_files() -> dict[str, str]:
    """Parameter files the pages show: a yaml block whose first line is ``# NAME.yaml``."""
    files = {}
    for doc in DOCS:
        for lang, _, lines in _code_blocks((REPO_ROOT / doc).read_text()):
            if lang in ("yaml", "yml") and lines:
                m = re.match(r"^#\s*(\S+\.ya?ml)\s*$", lines[0].strip())
                if m:
                    files[m.group(1)] = "\n".join(lines[1:]) + "\n"
    return files


# ------------------------------------------------------------ the smoke profile
def _smoke_yaml(text: str) -> str:
    obj = yaml.safe_load(text)
    if isinstance(obj, dict) and "profile" in obj:
        obj["profile"] = PROFILE
        return yaml.safe_dump(obj, default_flow_style=None, sort_keys=False)
    return text


def to_smoke(argv: tuple[str, ...]) -> tuple[str, ...]:
    a = list(argv)
    for i, tok in enumerate(a):
        if tok == "--profile" and i + 1 < len(a):
            a[i + 1] = PROFILE
        elif tok.startswith("--profile="):
            a[i] = f"--profile={PROFILE}"
        elif tok in ("-p", "--parameters") and i + 2 < len(a) and a[i + 1] == "profile":
            a[i + 2] = PROFILE
        elif tok in ("-y", "--parameters_yaml") and i + 1 < len(a):
            a[i + 1] = _smoke_yaml(a[i + 1]).strip()
    return tuple(a)


# --------------------------------------------------------------- what to run
@dataclass(frozen=True)
class Plan:
    kind: str                    # papermill | book | ctlib | skip
    argv: tuple[str, ...]        # what runs (profile smoke)
    doc: DocCommand
    note: str = ""               # a deviation from the page, or the skip reason


def _ctlib_commands() -> set[str]:
    r = subprocess.run([sys.executable, "-c", _CTLIB_MAIN, "--help"], capture_output=True,
                       text=True, timeout=120, cwd=REPO_ROOT)
    m = re.search(r"\{([\w,-]+)\}", r.stdout)                      # usage: ctlib {a,b,...}
    if m:
        return set(m.group(1).split(","))
    listed = re.search(r"positional arguments:\n(.*?)\n\n", r.stdout, re.S)
    return {m.group(1) for ln in (listed.group(1) if listed else "").splitlines()
            if (m := re.match(r"^ {4}([a-z][\w-]*)(\s{2,}|$)", ln))}


def _input_paths(argv) -> list[str]:
    """Arguments that name files or folders to read (not outputs after -o/--output/--csv)."""
    paths, skip_next = [], False
    for i, tok in enumerate(argv[1:], 1):
        if skip_next:
            skip_next = False
            continue
        if tok in ("-o", "--output", "--csv"):
            skip_next = True
            continue
        if not tok.startswith("-") and ("/" in tok or re.search(r"\.(ya?ml|json|ipynb|npz|csv|cif)$", tok)) \
                and not (argv[0] == "papermill" and i == 2):                    # papermill's output
            if argv[i - 1] in ("-p", "--parameters") or (i >= 2 and argv[i - 2] in ("-p", "--parameters")):
                continue                                                        # a parameter value
            paths.append(tok)
    return paths


def plan(cmd: DocCommand, ctlib_commands: set[str], param_files: dict[str, str]) -> Plan:
    argv = to_smoke(cmd.argv)
    if any(re.match(r"^\[-", t) or "..." in t for t in argv):
        return Plan("skip", argv, cmd, "a usage synopsis ([--option ...]), not a runnable command")
    if argv[0] == "ctlib":
        sub = argv[1] if len(argv) > 1 else ""
        if sub not in ctlib_commands:
            return Plan("skip", argv, cmd, f"`ctlib {sub}` is not a subcommand that `ctlib --help` lists")
    for p in _input_paths(argv):
        if p in param_files:
            continue
        if not (REPO_ROOT / p).exists():
            return Plan("skip", argv, cmd, f"its input {p} does not exist in this checkout "
                                           "(a placeholder for the reader's own file, or results "
                                           "that are not committed)")
    if argv[0] == "papermill":
        return Plan("papermill", argv, cmd)
    if argv[1] == "train":
        cfg = argv[argv.index("--config") + 1] if "--config" in argv else ""
        smoke_cfg = cfg.replace("/quick/", f"/{PROFILE}/")
        if not (REPO_ROOT / smoke_cfg).is_file():
            return Plan("skip", argv, cmd, f"trains at the size of {cfg} (minutes on 2 CPU cores) "
                                           f"and there is no smoke-sized {smoke_cfg}")
        return Plan("ctlib", argv[:argv.index("--config") + 1] + (smoke_cfg,)
                    + argv[argv.index("--config") + 2:], cmd, f"{smoke_cfg} instead of {cfg}")
    if argv[1] == "book" and "--only" not in argv:
        extra = ("--only", WHOLE_BOOK_ONLY) + (() if "--no-html" in argv else ("--no-html",))
        return Plan("book", argv + extra, cmd,
                    f"whole book: only {WHOLE_BOOK_ONLY} here, HTML built by the --only command "
                    "(tests/test_book.py executes every notebook on smoke and builds the book)")
    if argv[1] == "book":
        return Plan("book", argv, cmd)
    return Plan("ctlib", argv, cmd)


def _plans() -> list[Plan]:
    cmds = doc_commands()
    subs = _ctlib_commands() if any(c.argv[0] == "ctlib" for c in cmds) else set()
    files = doc_param_files()
    seen, plans = set(), []
    for c in cmds:
        p = plan(c, subs, files)
        # the same command on both pages, or the same options in another order
        key = (p.kind, tuple(sorted(p.argv))) if p.kind != "skip" else ("skip", c.argv)
        if key not in seen:
            seen.add(key)
            plans.append(p)
    return plans


PLANS = _plans()


def _id(p: Plan) -> str:
    words = [t for t in p.doc.argv[1:] if not t.startswith("notebooks/")][:7]
    return f"{p.doc.where}-{p.doc.argv[0]}-" + re.sub(r"[^\w.,:+=-]+", "_", " ".join(words))[:60]


# ------------------------------------------------------------ expected values
def _resolve_p(value: str):
    """papermill's own reading of ``-p NAME VALUE`` (True/False/None, int, float, else text)."""
    from papermill.cli import _resolve_type

    return _resolve_type(value)


def papermill_parameters(argv, workdir: Path) -> dict:
    """The parameters papermill injects for ``argv``, in its order: -f, -y, -p, -r."""
    got: dict = {}
    opts = {"-f": [], "-y": [], "-p": [], "-r": []}
    alias = {"--parameters_file": "-f", "--parameters_yaml": "-y", "--parameters": "-p",
             "--parameters_raw": "-r"}
    i = 3
    while i < len(argv):
        o = alias.get(argv[i], argv[i])
        if o in ("-p", "-r"):
            opts[o].append((argv[i + 1], argv[i + 2]))
            i += 3
        elif o in ("-f", "-y"):
            opts[o].append(argv[i + 1])
            i += 2
        else:
            i += 1
    for f in opts["-f"]:
        got.update(yaml.safe_load((workdir / f).read_text()) or {})
    for y in opts["-y"]:
        got.update(yaml.safe_load(y) or {})
    got.update({k: _resolve_p(v) for k, v in opts["-p"]})
    got.update(dict(opts["-r"]))
    return got


def expected_seeds(raw):
    """The seeds a raw parameter value means, worked out without ctlib.params."""
    if raw is None:
        return None
    if isinstance(raw, int):
        return [raw]
    if isinstance(raw, (list, tuple)):
        return [int(s) for s in raw]
    text = str(raw).strip()
    if text.startswith("["):
        return [int(s) for s in yaml.safe_load(text)]
    return [int(s) for s in re.split(r"[,\s]+", text) if s]


def shown_parameters(nb_path: Path) -> dict:
    """The ``ctlib_parameters`` that ``params.show()`` displayed in the executed notebook."""
    nb = nbformat.read(nb_path, as_version=4)
    found = [o["metadata"]["ctlib_parameters"] for c in nb.cells
             if c.cell_type == "code" for o in c.get("outputs", [])
             if "ctlib_parameters" in (o.get("metadata") or {})]
    assert len(found) == 1, f"{nb_path}: expected one params.show() output, found {len(found)}"
    return found[0]


def check_notebook(nb_path: Path, summary_dir: Path, raw: dict) -> dict:
    """Assert the executed notebook validated the given parameters and ran those seeds."""
    assert nb_path.is_file(), f"no executed notebook at {nb_path}"
    shown = shown_parameters(nb_path)
    assert shown["profile"] == PROFILE
    if "seeds" in shown:
        want = expected_seeds(raw.get("seeds"))
        assert shown["seeds"] == want, f"seeds {raw.get('seeds')!r} were read as {shown['seeds']!r}"
        summary = summary_dir / f"{nb_path.stem}.json"
        if summary.is_file():
            got = json.loads(summary.read_text())
            assert got.get("profile") == PROFILE
            rows = [r for r in got.get("rows", []) if isinstance(r, dict) and "seed" in r]
            if rows:
                assert {r["seed"] for r in rows} == set(want if want is not None
                                                        else PROFILES[PROFILE].seeds), summary
    return shown


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Environment of every command: tmp results and checkpoints, the real data and cache."""
    from ctlib.data import data_root
    from ctlib.data.registry import cache_root

    e = dict(os.environ)
    e["CTLIB_RESULTS"] = str(tmp_path_factory.mktemp("doc_results"))
    e["CTLIB_RUNS"] = str(tmp_path_factory.mktemp("doc_runs"))
    e["CTLIB_DATA"] = str(data_root().resolve())          # the staged copy has no data/ of its own
    e["CTLIB_CACHE"] = str(cache_root().resolve())        # parsed datasets are not parsed again
    e["PATH"] = str(Path(sys.executable).parent) + os.pathsep + e.get("PATH", "")
    e["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    e.pop("PYTHONPATH", None)
    return e


@pytest.fixture(scope="module")
def staged_repo(tmp_path_factory, env):
    """A copy of what `ctlib book` reads and writes (its book root is ctlib's repository)."""
    root = tmp_path_factory.mktemp("doc_repo")
    ignore = shutil.ignore_patterns("__pycache__", "generated", "*.running.ipynb", "*.failed.ipynb")
    for name in ("ctlib", "notebooks", "book"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=ignore)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(REPO_ROOT / name, root / name)
    e = dict(env, PYTHONPATH=str(root))
    r = subprocess.run([sys.executable, "-c", "import ctlib; print(ctlib.__file__)"], env=e, cwd=root,
                       capture_output=True, text=True, timeout=120)
    assert Path(r.stdout.strip()).resolve().is_relative_to(root.resolve()), r.stdout + r.stderr
    return root, e


def _outputs(argv) -> list[str]:
    """The relative output paths a command names (papermill's output notebook, -o FILE)."""
    outs = [argv[2]] if argv[0] == "papermill" and len(argv) > 2 else []
    outs += [argv[i + 1] for i, t in enumerate(argv[:-1]) if t in ("-o", "--output", "--csv")]
    return [o for o in outs if not Path(o).is_absolute()]


def _guarded(argv):
    """Those outputs in the repository root: a command run elsewhere must not create them."""
    return {o: (REPO_ROOT / o).exists() and (REPO_ROOT / o).stat().st_mtime for o in _outputs(argv)}


def _run(argv, cwd, env):
    before = _guarded(argv)
    if argv[0] == "papermill":
        cmd = [sys.executable, "-m", "papermill", *argv[1:]]
    else:
        cmd = [sys.executable, "-c", _CTLIB_MAIN, *argv[1:]]
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert r.returncode == 0, (f"`{shlex.join(argv)}` failed with exit code {r.returncode}\n"
                               f"{r.stdout[-3000:]}\n{r.stderr[-6000:]}")
    assert _guarded(argv) == before, "the command wrote into the repository"
    return r


def _workdir(tmp_path: Path, plan_: Plan, param_files: dict[str, str]) -> Path:
    """tmp_path with links to the repository folders the command reads, and its parameter files."""
    wd = tmp_path / "work"
    wd.mkdir()
    tops = {Path(p).parts[0] for p in _input_paths(plan_.argv) if p not in param_files}
    if plan_.argv[0] == "papermill":
        tops.add(Path(plan_.argv[1]).parts[0])
    for top in sorted(tops):
        if (REPO_ROOT / top).exists() and len(Path(top).parts) and top not in (".", ".."):
            (wd / top).symlink_to(REPO_ROOT / top)
    for name, text in param_files.items():
        if name in plan_.argv:
            (wd / name).write_text(_smoke_yaml(text))
    return wd


# --------------------------------------------------------------------- tests
def test_the_pages_show_the_parameter_forms_that_work():
    """-y YAML, -p with commas, and a parameters file; and the file the -f command names."""
    texts = {c.text for c in doc_commands()}
    for doc in DOCS:
        page = [c.text for c in doc_commands() if c.where.startswith(doc)]
        assert any("-y 'seeds: [0, 1, 2]'" in t for t in page), doc
        assert any("-p seeds 0,1,2" in t for t in page), doc
        assert any(re.search(r"-f \S+\.yaml", t) for t in page), doc
    files = doc_param_files()
    for t in texts:
        m = re.search(r"-f (\S+\.yaml)", t)
        if m:
            assert m.group(1) in files, f"the pages show no `# {m.group(1)}` yaml block for `{t}`"
            assert expected_seeds(yaml.safe_load(files[m.group(1)]).get("seeds")) == [0, 1, 2]
    assert len(PLANS) >= 5 and sum(p.kind == "papermill" for p in PLANS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("plan_", PLANS, ids=_id)
def test_documented_command_runs(plan_: Plan, tmp_path, env, staged_repo):
    if plan_.kind == "skip":
        pytest.skip(f"`{plan_.doc.text}` ({plan_.doc.where}): {plan_.note}")
    files = doc_param_files()
    argv = plan_.argv

    if plan_.kind == "papermill":
        wd = _workdir(tmp_path, plan_, files)
        _run(argv, wd, env)
        raw = papermill_parameters(argv, wd)
        out_nb = wd / argv[2]
        shown = check_notebook(out_nb, wd / (raw.get("out_dir") or GENERATED), raw)
        recorded = nbformat.read(out_nb, as_version=4).metadata["papermill"]["parameters"]
        assert recorded.get("profile") == PROFILE and "seeds" in recorded
        assert shown["seeds"] == [0, 1, 2] or "seeds" not in raw   # what every page example asks
        return

    if plan_.kind == "book":
        root, e = staged_repo
        only = argv[argv.index("--only") + 1:]
        only = [o for o in (only[:next((i for i, t in enumerate(only) if t.startswith("-")), len(only))])]
        for stem in only:
            for f in (root / GENERATED).glob(f"{stem}.*"):
                f.unlink()
        _run(argv, root, e)
        raw = {}
        for i, t in enumerate(argv):
            if t in ("-p", "--param"):
                raw[argv[i + 1]] = yaml.safe_load(argv[i + 2])    # ctlib book reads VALUE as YAML
        for stem in only:
            check_notebook(root / GENERATED / f"{stem}.ipynb", root / GENERATED, raw)
        if "--no-html" not in argv:
            assert (root / "_build" / "html" / "index.html").is_file()
            for stem in only:
                assert (root / "_build" / "html" / "book" / "generated" / f"{stem}.html").is_file()
        return

    wd = _workdir(tmp_path, plan_, files)
    r = _run(argv, wd, env)
    if argv[1:3] == ("data", "info"):
        from ctlib.data import REGISTRY

        for name in REGISTRY:
            assert name in r.stdout, f"`ctlib data info` does not mention {name}"
    if argv[1:3] == ("embed", "export"):
        out = wd / argv[argv.index("-o") + 1]
        assert out.is_file() and out.stat().st_size > 0
        if "atom_init" in argv:
            table = json.loads(out.read_text())
            widths = {len(v) for v in table.values()}
            assert len(table) == 100 and len(widths) == 1 and widths.pop() > 0
