"""The results store: one JSON file per training run, with its provenance.

Every table and figure of the book is computed from these files alone, so a
record carries everything needed to say *what* was run and *how*::

    results/                      ResultStore(root="results")
      <profile>/                  smoke | quick | paper | adhoc | cli ...
        <experiment>/             e.g. "mp_single_task"
          <run_id>.json           e.g. cgcnn-formation_energy_per_atom-1a2b3c4d-s0.json
          embeddings/<run_id>.json  element embedding the run produced (optional)
          predictions/<run_id>.csv  test predictions (optional)

A record (``dict``) holds, at least, the keys listed in :data:`RECORD_KEYS`:
the full ``config`` and its ``config_hash`` (12 hex of the sha256 of the
canonical JSON), ``dataset`` (name, sha256, fingerprint, split counts and
split-index hash), ``seed``, ``code`` (git commit and dirty flag),
``packages``, ``device``, ``started``/``finished`` (ISO 8601, UTC) and
``wall_s`` (seconds, summed over every process of a resumed run; records
written before 2026-11-30 counted only the last one, but ``train_s``, the
sum of the epochs' times, covers all), the per-epoch ``history``, ``best_epoch``, ``test`` metrics per
task (``mae``, ``rmse``, ``r2``, ``n``, original units), and the optional
``predictions_path`` / ``embedding_path`` (relative to the store root).

Files are written atomically (a temporary file in the same folder, then
``os.replace``), so a killed process never leaves half a record behind.
Folders are created only when a record is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ctlib.utils import atomic_write, code_version, to_jsonable, write_json_atomic  # noqa: F401 (re-exported)

SCHEMA_VERSION = 1

#: Keys every complete record carries (``ResultStore.save`` checks them).
RECORD_KEYS = (
    "schema", "run_id", "profile", "experiment", "model", "targets", "config", "config_hash",
    "dataset", "seed", "code", "packages", "device", "started", "finished", "wall_s",
    "history", "best_epoch", "test", "predictions_path", "embedding_path",
)

_PACKAGES = ("torch", "torch_geometric", "pymatgen", "numpy", "ctlib")


# --------------------------------------------------------------------- hashing
def canonical_json(obj) -> str:
    """Deterministic JSON text of ``obj``: sorted keys, no spaces, plain types."""
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config) -> str:
    """12-hex sha256 of the canonical JSON of ``config`` (dict order does not matter)."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:12]


def split_hash(split: dict) -> str:
    """12-hex hash of a split ``{"train"|"val"|"test": int index array}``.

    Depends on the names, the order of the indices and their values, not on
    their dtype.
    """
    h = hashlib.sha256()
    for name in sorted(split):
        idx = np.asarray(split[name], dtype=np.int64)
        h.update(name.encode() + b"\x00")
        h.update(np.ascontiguousarray(idx).tobytes())
        h.update(b"\x01")
    return h.hexdigest()[:12]


def file_sha256(path: str | Path) -> str:
    """Full sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_root() -> Path:
    """The results store's folder: ``$CTLIB_RESULTS``, else ``results/`` of the
    checkout that holds this package (else of the working folder, for an
    installed wheel). The one default every module uses."""
    env = os.environ.get("CTLIB_RESULTS")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[1]
    return repo / "results" if (repo / "pyproject.toml").is_file() else Path("results")


# ------------------------------------------------------------------ provenance
def package_versions() -> dict:
    """Versions of the packages a result depends on (``None`` when not installed)."""
    from importlib import metadata

    out = {}
    for name in _PACKAGES:
        if name == "ctlib":
            import ctlib

            out[name] = ctlib.__version__
            continue
        try:
            out[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            try:
                out[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name] = None
    return out


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``, else ``platform.processor()``; "" when unknown)."""
    import platform

    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor().strip()


def device_info(device) -> str:
    """Readable device name: ``"cpu (N threads, <CPU model>)"`` or ``"cuda:0 (NVIDIA H100 ...)"``.

    The CPU model is there because speeds differ several-fold between CPUs
    (``ctlib campaign --status`` scales its estimate by the runs stored on this
    one); records written before it say ``"cpu (N threads)"``.
    """
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        i = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{i} ({torch.cuda.get_device_name(i)})"
    model = cpu_model()
    return f"{device.type} ({torch.get_num_threads()} threads{', ' + model if model else ''})"


def now_iso() -> str:
    """Current time, ISO 8601 with seconds, UTC."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def make_run_id(model: str, targets, cfg_hash: str, seed: int) -> str:
    """Readable, unique run id: ``<model>-<target[+target...]>-<hash8>-s<seed>``."""
    targets = [targets] if isinstance(targets, str) else list(targets)
    tpart = "+".join(targets)
    if len(tpart) > 60:  # keep file names short: many tasks -> count
        tpart = f"{len(targets)}tasks"
    raw = f"{model}-{tpart}-{cfg_hash[:8]}-s{seed}"
    return re.sub(r"[^A-Za-z0-9_.+\-]", "_", raw)


# ---------------------------------------------------------------------- store
def fit_record(*, model, train_config, targets: list[str], units: dict, dataset, split_counts: dict,
               split_hash: str, device, machine_share: float, started: str, wall_s: float,
               history: list[dict], best_epoch: int | None, stopped_early: bool,
               resumed_from: int | None, mean, std, val: dict | None, test: dict | None,
               run_dir: str | None) -> dict:
    """The record of one finished fit, as :meth:`ctlib.train.Trainer.fit` returns it.

    The trainer hands over what it measured; this adds the provenance (code version,
    package versions, device, finish time) and makes it JSON-able. :func:`ctlib.runs.run`
    then adds the config, its hash and the artefacts' paths, and stores it.

    Args:
        model: the trained model (name, config and parameter count are read from it).
        train_config: its :class:`~ctlib.config.TrainConfig`.
        dataset: the full dataset the split indexes (name, sha256, fingerprint, size).
        split_counts: structures per part, e.g. ``{"train": 4000, "val": 5553, "test": 5553}``.
        device: the ``torch.device`` it trained on.
        machine_share: share of the machine's cores the run had (1 thread of 2: 0.5).
        started: ISO time of the first epoch (of the first process, for a resumed run).
        wall_s: wall seconds over every process of the run.
        history: one dict per epoch (train loss, val MAE, lr, time_s, structures/s).
        mean, std: (K,) normaliser of the training labels, original units.
        val, test: per-target metrics (:func:`ctlib.train.regression_metrics`) or None.
        run_dir: the checkpoint folder, relative where possible.
    """
    cfg = getattr(model, "config", None)
    return to_jsonable({
        "model": getattr(model, "name", None) or type(model).__name__,
        "targets": targets,
        "units": units,
        "train_config": train_config.to_dict(),
        "model_config": cfg.to_dict() if hasattr(cfg, "to_dict") else None,
        "dataset": {"name": dataset.name, "sha256": dataset.source_sha256,
                    "fingerprint": dataset.fingerprint, "n": len(dataset),
                    "split_counts": split_counts, "split_hash": split_hash},
        "seed": train_config.seed,
        "code": code_version(),
        "packages": package_versions(),
        "device": device_info(device),
        "machine_share": machine_share,
        "started": started,
        "finished": now_iso(),
        "wall_s": wall_s,
        "train_s": float(sum(h["time_s"] for h in history)),
        "history": history,
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        "stopped_early": stopped_early,
        "resumed_from_epoch": resumed_from,
        "normaliser": {"mean": mean, "std": std},
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "val": val,
        "test": test,
        "run_dir": run_dir,
    })


class ResultStore:
    """A folder of run records, ``<root>/<profile>/<experiment>/<run_id>.json``.

    Args:
        root: the store's folder (e.g. ``"results"``); created on first save.

    Example::

        store = ResultStore("results")
        rec = store.find(h)            # None when that config never ran
        store.save(record)             # -> results/quick/mp_single/<run_id>.json
        df = store.to_frame()          # one row per (run, task)
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r})"

    # paths
    def path_for(self, record: dict) -> Path:
        """Where ``record`` is (or will be) stored."""
        for key in ("profile", "experiment", "run_id"):
            if not record.get(key):
                raise ValueError(f"record has no {key!r}; a stored record needs profile, "
                                 f"experiment and run_id")
        return self.root / record["profile"] / record["experiment"] / f"{record['run_id']}.json"

    def artifact_path(self, profile: str, experiment: str, kind: str, run_id: str,
                      suffix: str) -> Path:
        """Path of a run's side file, e.g. ``<root>/<profile>/<experiment>/embeddings/<run_id>.json``."""
        return self.root / profile / experiment / kind / f"{run_id}{suffix}"

    def profile_dir(self, profile: str) -> Path:
        """``<root>/<profile>``: every record and side file of one profile (may not exist)."""
        return self.root / profile

    def analysis_dir(self, profile: str, name: str) -> Path:
        """``<root>/<profile>/analysis/<name>``: a committed, content-addressed cache of one analysis."""
        return self.root / profile / "analysis" / name

    def kind_dir(self, profile: str, experiment: str, kind: str) -> Path:
        """``<root>/<profile>/<experiment>/<kind>``, the folder of one kind of side file
        (``embeddings``: element tables, and per run a folder of snapshots and progress)."""
        return self.root / profile / experiment / kind

    def snapshot_dir(self, profile: str, experiment: str, run_id: str) -> Path:
        """``<root>/<profile>/<experiment>/embeddings/<run_id>``: a run's element-table
        snapshots (``epoch_<e>.json``) and its progress (``progress.json``)."""
        return self.kind_dir(profile, experiment, "embeddings") / run_id

    def snapshot_path(self, profile: str, experiment: str, run_id: str, epoch: int) -> Path:
        """The element table of run ``run_id`` after ``epoch`` (0: untrained)."""
        return self.snapshot_dir(profile, experiment, run_id) / f"epoch_{int(epoch):03d}.json"

    def progress_path(self, profile: str, experiment: str, run_id: str) -> Path:
        """The committed progress (history so far) of a run that keeps snapshots."""
        return self.snapshot_dir(profile, experiment, run_id) / "progress.json"

    def read_progress(self, profile: str, experiment: str, run_id: str) -> dict | None:
        """The run's progress (``run_id``, ``epochs_planned``, ``history``: one dict per
        finished epoch), or ``None`` when there is none or it cannot be read."""
        try:
            out = json.loads(self.progress_path(profile, experiment, run_id).read_text())
        except (OSError, ValueError):
            return None
        return out if isinstance(out, dict) and isinstance(out.get("history"), list) else None

    def snapshot_paths(self, profile: str, experiment: str = "*", run_id: str = "*") -> list[Path]:
        """Snapshot files of matching runs (each argument a glob pattern), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob(f"{profile}/{experiment}/embeddings/{run_id}/epoch_*.json"))

    def record_paths(self, profile: str = "*", experiment: str = "*", name: str = "*") -> list[Path]:
        """Record files ``<root>/<profile>/<experiment>/<name>.json`` (each a glob pattern), sorted."""
        return sorted(self.root.glob(f"{profile}/{experiment}/{name}.json")) if self.root.is_dir() else []

    def resolve(self, relpath: str | None) -> Path | None:
        """Absolute path of a record's ``embedding_path``/``predictions_path``."""
        return None if relpath is None else self.root / relpath

    # write
    def save(self, record: dict) -> Path:
        """Check ``record`` has every key of :data:`RECORD_KEYS` and write it atomically."""
        missing = [k for k in RECORD_KEYS if k not in record]
        if missing:
            raise ValueError(f"record {record.get('run_id')!r} lacks {missing}; build records "
                             f"with ctlib.runs.run() or add these keys")
        return write_json_atomic(self.path_for(record), record)

    # read
    def _files(self, profile: str | None = None, experiment: str | None = None):
        return self.record_paths(profile or "*", experiment or "*")

    @staticmethod
    def _read(path: Path) -> dict:
        try:
            with open(path) as fh:
                rec = json.load(fh)
        except json.JSONDecodeError as e:
            raise ValueError(f"results file {path} is not valid JSON ({e}); delete it to rerun "
                             f"that configuration") from None
        if not isinstance(rec, dict) or "config_hash" not in rec:
            raise ValueError(f"results file {path} is not a ctlib run record (no config_hash)")
        return rec

    def find(self, config_hash: str, *, profile: str | None = None,
             experiment: str | None = None) -> dict | None:
        """The record with this config hash (optionally within one profile/experiment), or None."""
        for path in self._files(profile, experiment):
            if config_hash[:8] not in path.stem:
                continue
            rec = self._read(path)
            if rec["config_hash"] == config_hash:
                return rec
        return None

    def all(self, experiment: str | None = None, *, profile: str | None = None) -> list[dict]:
        """Every record (optionally of one experiment and/or profile), sorted by path."""
        return [self._read(p) for p in self._files(profile, experiment)]

    def to_frame(self, experiment: str | None = None, *, profile: str | None = None):
        """A pandas DataFrame with one row per (run, task) and its test metrics.

        Columns: run_id, profile, experiment, model, dataset, seed, task, mae,
        rmse, r2, n, best_epoch, epochs_run, wall_s, config_hash, commit,
        dirty, finished, embedding_path, plus ``extra.<key>`` for scalar
        entries of the record's ``extra`` dict.
        """
        import pandas as pd

        rows = []
        for rec in self.all(experiment, profile=profile):
            base = {
                "run_id": rec["run_id"], "profile": rec["profile"],
                "experiment": rec["experiment"], "model": rec["model"],
                "dataset": rec["dataset"].get("name"), "seed": rec["seed"],
                "best_epoch": rec["best_epoch"], "epochs_run": len(rec["history"]),
                "wall_s": rec["wall_s"], "config_hash": rec["config_hash"],
                "commit": rec["code"].get("commit"), "dirty": rec["code"].get("dirty"),
                "finished": rec["finished"], "embedding_path": rec["embedding_path"],
            }
            for k, v in (rec.get("extra") or {}).items():
                if v is None or isinstance(v, (str, int, float, bool)):
                    base[f"extra.{k}"] = v
            for task, m in (rec["test"] or {}).items():
                rows.append({**base, "task": task, "mae": m.get("mae"), "rmse": m.get("rmse"),
                             "r2": m.get("r2"), "n": m.get("n")})
        cols = ["run_id", "profile", "experiment", "model", "dataset", "seed", "task", "mae",
                "rmse", "r2", "n", "best_epoch", "epochs_run", "wall_s", "config_hash",
                "commit", "dirty", "finished", "embedding_path"]
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(columns=cols)
        return df[cols + [c for c in df.columns if c not in cols]]
