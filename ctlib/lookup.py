"""Finding things in the results store: run records, their element tables, the CT table of a profile.

:mod:`ctlib.results` writes one record per run,
``<root>/<profile>/<experiment>/<run_id>.json``; its ``embedding_path`` (the
run's final element table) and ``embedding_snapshots`` (tables saved during
training, ``<profile>/<experiment>/embeddings/<run_id>/epoch_NNN.json``) are
relative to the store root. This module only reads that layout. Everywhere
``results_root=None`` means :func:`ctlib.results.default_root`.

The one way to find *the CT element table of a profile* is :func:`ct_tables`:
the CT runs trained from the one-hot start on E_f and E_g together
(multi-task), else on E_f alone, one per seed. :func:`resolve_embeddings`
adds the other forms pages 07/08 accept (a run id, an embedding file), and
:func:`ct_table_records` gives the records themselves (the book's downloads).
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ctlib.results import ResultStore, default_root

__all__ = [
    "CT_KINDS", "CT_TABLE_ORDER", "EmbeddingNotFound", "EmbeddingSource",
    "use_store", "store_root", "profile_dir", "snapshot_dir", "snapshot_files", "store_file", "display_path", "stored_records",
    "record_embedding_path", "record_snapshots", "folder_snapshots", "ct_kind",
    "ct_table_records", "ct_tables", "resolve_embeddings", "run_checkpoint", "run_progress",
    "unfinished_run_ids",
]

_EF, _EG = "formation_energy_per_atom", "band_gap"
#: Kinds of CT element table: the targets a CT run trained on from the one-hot start.
CT_KINDS = {"ct-multitask": (_EF, _EG), "ct-Ef": (_EF,), "ct-Eg": (_EG,)}
#: Experiments of CT pretrainings under another recipe (another schedule, fp32, less data):
#: their runs never stand in for a profile's CT table; :func:`ct_table_records` reads them only
#: when its ``experiment`` names one (``ctlib.experiments``' ALT_SCHEDULE_EXPERIMENT,
#: FP32_EXPERIMENT and FRACTION_EXPERIMENT).
RECIPE_VARIANTS = ("fronts_schedule", "fronts_fp32", "fronts_fraction")
#: The kinds :func:`ct_tables` looks for, in order: multi-task, else single-task E_f.
CT_TABLE_ORDER = ("ct-multitask", "ct-Ef")
_LABELS = {"ct-multitask": "CrystalTransformer multi-task (E_f + E_g) embedding",
           "ct-Ef": "CrystalTransformer single-task E_f embedding",
           "ct-Eg": "CrystalTransformer single-task E_g embedding"}
_SNAPSHOT = re.compile(r"^epoch_(\d+)\.json$")


class EmbeddingNotFound(FileNotFoundError):
    """No element embedding matches the request (see the message for what to run)."""


@dataclass(frozen=True)
class EmbeddingSource:
    """One element embedding found on disk.

    Attributes:
        embedding: the loaded ``ctlib.embeddings.ElementEmbedding``.
        description: one line saying what it is and where it came from.
        path: the embedding file.
        run_id: the results run id, or ``None`` for a bare file.
        seed: the training seed of the run, or ``None`` if unknown.
        kind: a key of :data:`CT_KINDS`, ``"run"`` (another run) or ``"file"``.
        record: the run's results record (``None`` for a bare file).
    """

    embedding: object
    description: str
    path: Path
    run_id: str | None
    seed: int | None
    kind: str
    record: dict | None = None

    def test_metrics_text(self) -> str:
        """One line with the test MAE and R² of the run that produced the embedding ('' if none)."""
        test = (self.record or {}).get("test") or {}
        parts = [f"{t}: MAE {m['mae']:.3g}, R² {m['r2']:.3f} (n = {m.get('n')})"
                 for t, m in test.items() if isinstance(m, dict) and m.get("mae") is not None
                 and m.get("r2") is not None]
        return "; ".join(parts)


# --------------------------------------------------------------------- paths
def use_store(results_root: str | Path | None) -> None:
    """Point every later lookup of this process at ``results_root`` (sets ``$CTLIB_RESULTS``
    to its resolved path, which a notebook's kernel then reads everywhere, the pretraining
    runs included); None leaves the environment as it is."""
    if results_root is not None:
        os.environ["CTLIB_RESULTS"] = str(Path(results_root).resolve())


@contextlib.contextmanager
def store_used(results_root: str | Path):
    """:func:`use_store` for the ``with`` block only: the old ``$CTLIB_RESULTS`` (or its
    absence) comes back when the block ends, so a tool that checks another store leaves
    the process as it found it."""
    old = os.environ.get("CTLIB_RESULTS")
    use_store(results_root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("CTLIB_RESULTS", None)
        else:
            os.environ["CTLIB_RESULTS"] = old


def store_root(results_root: str | Path | None = None) -> Path:
    """The store's folder: ``results_root``, else :func:`ctlib.results.default_root`."""
    return Path(results_root) if results_root is not None else default_root()


def profile_dir(profile: str, results_root: str | Path | None = None) -> Path:
    """``<store root>/<profile>``, the folder of a profile's records (it may not exist)."""
    return ResultStore(store_root(results_root)).profile_dir(profile)


def analysis_dir(profile: str, name: str, results_root: str | Path | None = None) -> Path:
    """``<store root>/<profile>/analysis/<name>``: a committed cache of one analysis's fits.

    The book's chapters read (and fill) it so that a fresh clone renders them in
    minutes, e.g. the reverse-prediction CVs of :mod:`ctlib.analysis.reverse`.
    Its files are content-addressed: a changed table gets a new entry, never a
    stale one. The folder may not exist.
    """
    return ResultStore(store_root(results_root)).analysis_dir(profile, name)


def store_file(rel: str | Path | None, results_root: str | Path | None = None) -> Path | None:
    """A path a record holds (``embedding_path``, a snapshot) as a file path.

    Returns:
        ``<store root>/<rel>`` (an absolute ``rel`` as it is); ``None`` for an
        empty or missing ``rel``. The file may not exist.
    """
    if not rel:
        return None
    return store_root(results_root) / rel   # joining an absolute path keeps it


def display_path(path: str | Path, results_root: str | Path | None = None) -> str:
    """A path as a page may show it, never an absolute machine path.

    Returns:
        the path relative to the working folder when it lies below it; else
        relative to the store, written ``<results>/...``; else the bare file name.
    """
    for base, prefix in ((Path.cwd(), ""), (store_root(results_root), "<results>/")):
        try:
            return prefix + str(Path(path).resolve().relative_to(base.resolve()))
        except (ValueError, OSError):
            pass
    return Path(path).name


# ------------------------------------------------------------------- records
def stored_records(profile: str, results_root: str | Path | None = None, *, experiment: str = "*",
                   name: str = "*", problems: list | None = None) -> list[tuple[Path, dict]]:
    """The run records ``<root>/<profile>/<experiment>/<name>.json`` (all three are glob patterns).

    A file that is not readable JSON is skipped and, when ``problems`` is a
    list, ``(path, exception)`` is appended to it; JSON that is not a run
    record (no ``config_hash``) is skipped.

    Returns:
        ``[(record path, record), ...]`` sorted by path.
    """
    out = []
    for path in ResultStore(store_root(results_root)).record_paths(profile, experiment, name):
        try:
            rec = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            if problems is not None:
                problems.append((path, e))
            continue
        if isinstance(rec, dict) and "config_hash" in rec:
            out.append((path, rec))
    return out


def record_embedding_path(rec: dict, results_root: str | Path | None = None) -> Path | None:
    """The run's final element table: ``rec["embedding_path"]`` under the store root.

    Returns:
        the file path (it may not exist), or ``None`` when the record names none.
    """
    return store_file(rec.get("embedding_path"), results_root)


def _by_epoch(paths) -> dict[int, Path]:
    """``{epoch: file}`` of the ``epoch_NNN.json`` files among ``paths``, by epoch."""
    out = {}
    for p in paths:
        m = _SNAPSHOT.match(p.name)
        if m:
            out[int(m.group(1))] = p
    return dict(sorted(out.items()))


def record_snapshots(rec: dict, results_root: str | Path | None = None) -> dict[int, Path]:
    """The element-table snapshots a record lists (``rec["embedding_snapshots"]``).

    Returns:
        ``{epoch: file}`` of the snapshots whose files exist, by epoch (0 = the
        untrained table).
    """
    files = (store_file(rel, results_root) for rel in rec.get("embedding_snapshots") or [])
    return _by_epoch(p for p in files if p is not None and p.is_file())


def folder_snapshots(folder: str | Path) -> dict[int, Path]:
    """The ``epoch_NNN.json`` snapshots in a run's snapshot folder (a run still training
    has no record to list them).

    Returns:
        ``{epoch: file}``, by epoch; empty when the folder does not exist.
    """
    return _by_epoch(Path(folder).glob("epoch_*.json"))


def run_checkpoint(profile: str, experiment: str, run_id: str) -> dict | None:
    """The checkpoint ``last.pt`` of a run that trains or trained under
    ``<run root>/<profile>/<experiment>/<run_id>/`` (:func:`ctlib.runs.default_run_root`).

    Returns:
        the checkpoint dict (``epoch``, ``history``, ``train_config``, ``done``,
        ...), or ``None`` when there is none or it cannot be read (being
        written, or damaged: the run itself reports that).
    """
    from ctlib.checkpoints import load_checkpoint
    from ctlib.runs import checkpoint_dir

    path = checkpoint_dir(profile, experiment, run_id) / "last.pt"
    if not path.is_file():
        return None
    try:
        return load_checkpoint(path)
    except ValueError:
        return None


def unfinished_run_ids(profile: str, experiment: str, prefixes: Sequence[str], *,
                       seed: int | None = None, results_root: str | Path | None = None) -> list[str]:
    """Runs under way: ids starting with one of ``prefixes`` (``<model>-`` or
    ``<model>-<targets>-``; ids are ``<model>-<targets>-<8 hex>-s<seed>``) that have
    element-table snapshots in the store (``<profile>/<experiment>/embeddings/<id>/``)
    or a checkpoint folder (``<run root>/<profile>/<experiment>/<id>/last.pt``).

    Finished runs are not told apart here: a caller checks for the record or
    the checkpoint's ``done``. ``seed`` keeps only ids ending in ``-s<seed>``.

    Returns:
        run ids, the one written to last first.
    """
    found = unfinished_run_times(profile, experiment, prefixes, seed=seed, results_root=results_root)
    return sorted(found, key=found.get, reverse=True)


def unfinished_run_times(profile: str, experiment: str, prefixes: Sequence[str], *,
                         seed: int | None = None,
                         results_root: str | Path | None = None) -> dict[str, float]:
    """``{run id: time it was last written (s since the epoch)}`` of the runs
    :func:`unfinished_run_ids` finds, so that runs of several experiments can be ordered."""
    from ctlib.runs import checkpoint_dir

    names = "|".join(re.escape(p) for p in prefixes)
    seed_part = str(int(seed)) if seed is not None else r"\d+"
    pattern = re.compile(rf"(?:{names})(?:\S*-)?[0-9a-f]{{8}}-s{seed_part}")
    found: dict[str, float] = {}
    store = ResultStore(store_root(results_root))
    for base, probe in ((store.kind_dir(profile, experiment, "embeddings"), None),
                        (checkpoint_dir(profile, experiment), "last.pt")):
        if not base.is_dir():
            continue
        for d in base.iterdir():
            f = d / probe if probe else d
            if d.is_dir() and pattern.fullmatch(d.name) and f.exists():
                found[d.name] = max(found.get(d.name, 0.0), f.stat().st_mtime)
    return found


def snapshot_dir(profile: str, experiment: str, run_id: str,
                 results_root: str | Path | None = None) -> Path:
    """The folder of a run's element-table snapshots and progress (it may not exist)."""
    return ResultStore(store_root(results_root)).snapshot_dir(profile, experiment, run_id)


def snapshot_files(profile: str, experiment: str = "*", run_id: str = "*",
                   results_root: str | Path | None = None) -> list[Path]:
    """Element-table snapshot files of the matching runs (glob patterns), sorted."""
    return ResultStore(store_root(results_root)).snapshot_paths(profile, experiment, run_id)


def run_progress(profile: str, experiment: str, run_id: str,
                 results_root: str | Path | None = None) -> dict | None:
    """The progress a run under way has written beside its snapshots
    (``<profile>/<experiment>/embeddings/<run_id>/progress.json``, see
    :func:`ctlib.runs.run`): ``run_id``, ``epochs_planned`` and ``history`` (one
    dict per finished epoch). Unlike the checkpoint it is committed, so the book
    shows the validation curve of a run under way on any clone.

    Returns:
        the dict, or ``None`` when there is none or it cannot be read.
    """
    return ResultStore(store_root(results_root)).read_progress(profile, experiment, run_id)


def ct_kind(rec: dict) -> str | None:
    """The kind of CT element table a run record holds.

    Returns:
        the key of :data:`CT_KINDS` whose targets the run trained on, for a CT
        run from the one-hot start (no transferred table); else ``None``.
    """
    cfg = rec.get("config") or {}
    init = (cfg.get("model_config") or {}).get("embedding_init") or "onehot"
    if rec.get("model") != "ct" or cfg.get("embedding_sha256") or init != "onehot":
        return None
    targets = set(rec.get("targets") or ())
    return next((kind for kind, t in CT_KINDS.items() if targets == set(t)), None)


def ct_table_records(profile: str, kinds: Sequence[str] = CT_TABLE_ORDER, *,
                     seeds: Sequence[int] | None = None, results_root: str | Path | None = None,
                     experiment: str = "*", existing: bool = False,
                     problems: list | None = None) -> list[tuple[Path, dict]]:
    """The stored CT element tables of a profile, one run per (kind, seed).

    A run counts when :func:`ct_kind` is one of ``kinds`` and its record names
    an element table (that exists, with ``existing``). Of several runs of one
    kind and seed (a copy the store keeps under another experiment, a variant
    such as ``ct_coord_scale``) the pretraining run (experiment ``fronts``)
    wins, then the one finished last. The runs of :data:`RECIPE_VARIANTS` count
    only when ``experiment`` names that folder. ``problems``: see :func:`stored_records`.

    Returns:
        ``[(record path, record), ...]`` in the order of ``kinds``, then by seed.
    """
    keep = None if seeds is None else {int(s) for s in seeds}
    best: dict = {}
    for path, rec in stored_records(profile, results_root, experiment=experiment, problems=problems):
        kind, seed = ct_kind(rec), rec.get("seed")
        if rec.get("experiment") in RECIPE_VARIANTS and rec.get("experiment") != experiment:
            continue
        table = record_embedding_path(rec, results_root)
        if kind not in kinds or table is None or (existing and not table.is_file()) \
                or (keep is not None and seed not in keep):
            continue
        rank = (rec.get("experiment") == "fronts", str(rec.get("finished", "")))
        if (kind, seed) not in best or rank > best[kind, seed][0]:
            best[kind, seed] = (rank, path, rec)
    order = sorted(best, key=lambda k: (list(kinds).index(k[0]), k[1] if isinstance(k[1], int) else 10**9))
    return [best[k][1:] for k in order]


# ------------------------------------------------------------ element tables
def _load(path: Path):
    """The ``ElementEmbedding`` in ``path``; :class:`EmbeddingNotFound` when there is no file."""
    from ctlib.embeddings import ElementEmbedding

    if not path.exists():
        raise EmbeddingNotFound(f"embedding file {path} does not exist")
    return ElementEmbedding.load(path)


def _source(path: Path, rec: dict, results_root: str | Path | None) -> EmbeddingSource:
    """The :class:`EmbeddingSource` of the run recorded in ``path``: its table, loaded and described."""
    table = record_embedding_path(rec, results_root)
    kind, seed, run_id = ct_kind(rec) or "run", rec.get("seed"), rec.get("run_id", path.stem)
    desc = (f"{_LABELS.get(kind, 'embedding of run')}, run {run_id}"
            f"{'' if seed is None else f', seed {seed}'} ({display_path(table, results_root)})")
    return EmbeddingSource(_load(table), desc, table, run_id, seed, kind, rec)


def ct_tables(profile: str, *, seeds: Sequence[int] | None = None,
              results_root: str | Path | None = None) -> list[EmbeddingSource]:
    """The CT element table of a profile: its multi-task CT runs, else its single-task E_f ones.

    Args:
        profile: which ``<root>/<profile>`` folder to search.
        seeds: keep only runs with these seeds (``None``: all).
        results_root: the store (default :func:`ctlib.results.default_root`).

    Returns:
        one :class:`EmbeddingSource` per seed, by seed (see :func:`ct_table_records`
        for which run a seed gets).

    Raises:
        EmbeddingNotFound: no such run; the message says what trains one.
    """
    runs = ct_table_records(profile, CT_TABLE_ORDER, seeds=seeds, results_root=results_root,
                            existing=True)
    if runs:
        first = ct_kind(runs[0][1])
        return [_source(path, rec, results_root) for path, rec in runs if ct_kind(rec) == first]
    raise EmbeddingNotFound(
        f"no CrystalTransformer element embedding for profile {profile!r} under "
        f"{profile_dir(profile, results_root)} (looked for CT runs on {list(CT_KINDS['ct-multitask'])} "
        f"and on {list(CT_KINDS['ct-Ef'])}"
        f"{'' if seeds is None else f' with seeds {list(seeds)}'}). "
        f"Train one first (`ctlib campaign --profile {profile}` trains CT before anything that "
        "needs its table; notebooks 02 and 04 do the same for their profile), "
        "or pass embedding=<path to an embedding file>.")


def _run_record(run_id: str, profile: str, results_root: str | Path | None) -> tuple[Path, dict]:
    """The record of run ``run_id`` (its file's stem) in a profile; copies of one run under
    several experiments (same config hash) count once, the first by path.

    Returns:
        ``(record path, record)``.

    Raises:
        EmbeddingNotFound: no such record, or two different runs with this id.
    """
    hits: dict[str, tuple[Path, dict]] = {}
    for path, rec in stored_records(profile, results_root, name=glob.escape(run_id)):
        hits.setdefault(rec["config_hash"], (path, rec))
    root = profile_dir(profile, results_root)
    if not hits:
        raise EmbeddingNotFound(
            f"embedding {run_id!r} is neither an existing file nor a run id under {root}; "
            "pass a path to an embedding file, a run id, or 'auto'")
    if len(hits) > 1:
        raise EmbeddingNotFound(f"run id {run_id!r} is ambiguous under {root}: "
                                f"{[str(h) for h, _ in hits.values()]}")
    return next(iter(hits.values()))


def resolve_embeddings(spec: str | Path = "auto", profile: str = "quick", *,
                       seeds: Sequence[int] | None = None,
                       results_root: str | Path | None = None) -> list[EmbeddingSource]:
    """Every seed of the element embedding a page (07, 08) should analyse.

    Args:
        spec: ``"auto"``: the CT table of the profile (:func:`ct_tables`); a
            path to an element-embedding file; or a run id (the stem of a run
            record under ``<root>/<profile>``).
        profile: which ``<root>/<profile>`` folder to search.
        seeds: with ``"auto"``, keep only runs with these seeds (``None``: all).
        results_root: the store (default :func:`ctlib.results.default_root`).

    Returns:
        list of :class:`EmbeddingSource`, sorted by seed (one entry for a path
        or a run id).

    Raises:
        EmbeddingNotFound: nothing matches; the message says what to run or pass.
    """
    spec_s = str(spec)
    if spec_s == "auto":
        return ct_tables(profile, seeds=seeds, results_root=results_root)
    p = Path(spec_s).expanduser()
    if p.is_file():
        return [EmbeddingSource(_load(p), f"embedding file {display_path(p, results_root)}", p,
                                None, None, "file")]
    path, rec = _run_record(spec_s, profile, results_root)
    if record_embedding_path(rec, results_root) is None:
        raise EmbeddingNotFound(f"run record {display_path(path, results_root)} names no "
                                f"element-embedding file (no embedding_path)")
    return [_source(path, rec, results_root)]
