"""The ``ctlib`` command.

Subcommands::

    ctlib data info [NAME]                      datasets: split counts, elements, targets
    ctlib train --config FILE.yaml              train one model, store its record
    ctlib predict RUN_DIR CIF... [--csv OUT]    predict with a trained model
    ctlib embed extract RUN_DIR -o FILE         element embedding of a trained model
    ctlib embed export SRC --format F -o OUT    convert (atom_init.json for CGCNN, csv, npz, json)
    ctlib embed show FILE                       summary of an embedding file
    ctlib book --profile P                      execute the notebooks and build the book

Every subcommand has ``--help`` with examples. ``main(argv)`` returns the exit
code (0 ok, 1 error, 2 usage error); errors print one line, no traceback.
``python -m ctlib`` runs the same command.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from ctlib.utils import StrictConfig, check_known_keys

_FMT = argparse.RawDescriptionHelpFormatter

# keys of the ``ctlib train`` YAML file
_TRAIN_KEYS = {
    "model": "model name: ct | cgcnn | megnet | alignn (required)",
    "targets": "target name or list of names (required)",
    "dataset": "registry name (mp2018, castelli_perovskites, hoip), or {cif_folder: PATH, ...} "
               "or {megnet_json: PATH, ...} (required)",
    "model_config": "dict of model settings (strict; see ctlib.models)",
    "train": "dict of TrainConfig settings (strict; see ctlib.config.TrainConfig)",
    "split": "{scheme, fold, seed, n_train, n_val, n_test}",
    "seed": "training seed (default 0)",
    "embedding": "element-embedding file to initialise the atom front (optional)",
    "output": "output folder (default: ctlib_runs/<config file stem>); relative paths "
              "in the file are relative to the file's folder",
    "experiment": "experiment name in the output store (default: the config file stem)",
}
_SPLIT_KEYS = ("scheme", "fold", "seed", "n_train", "n_val", "n_test")
_DATASET_KEYS = {
    "cif_folder": ("cif_folder", "target_names", "units", "skip_bad", "name"),
    "megnet_json": ("megnet_json", "targets", "id_key", "structure_key", "units", "skip_bad",
                    "name"),
}


@dataclasses.dataclass
class _Split(StrictConfig):
    """The ``split:`` entry of a train config (keys checked before, naming ``split``)."""

    OWNER = "split"
    scheme: Any = None
    fold: Any = None
    seed: Any = None
    n_train: Any = None
    n_val: Any = None
    n_test: Any = None

    def validate(self) -> None:
        from ctlib.data.splits import SCHEMES

        if self.scheme is not None:
            self._choice("scheme", SCHEMES)
        self._int("fold", "seed", lo=0, allow_none=True)
        self._int("n_train", "n_val", "n_test", allow_none=True)


@dataclasses.dataclass
class _DatasetEntry(StrictConfig):
    """The ``dataset:`` mapping of a train config (keys checked before, naming ``dataset``)."""

    OWNER = "dataset"
    cif_folder: Any = None
    megnet_json: Any = None
    target_names: Any = None
    targets: Any = None
    id_key: Any = None
    structure_key: Any = None
    units: Any = None
    skip_bad: Any = False
    name: Any = None

    def validate(self) -> None:
        self._str("cif_folder", "megnet_json", "id_key", "structure_key", "name", allow_none=True)
        self._bool("skip_bad")
        self._mapping("units", allow_none=True)
        if self.units and not all(isinstance(k, str) and isinstance(v, str)
                                  for k, v in self.units.items()):
            raise self._invalid("units", "a mapping of target name to unit text")
        if self.target_names is not None and not _names(self.target_names, single=False):
            raise self._invalid("target_names", "a list of distinct target names")
        if self.targets is not None and not _names(self.targets):
            raise self._invalid("targets", "a target name or a list of distinct names")


def _names(v, single: bool = True) -> bool:
    """``v`` is a non-empty name (when ``single``) or a non-empty list of distinct ones."""
    if single and isinstance(v, str):
        return bool(v.strip())
    return isinstance(v, list) and bool(v) and len(set(map(str, v))) == len(v) \
        and all(isinstance(x, str) and x.strip() for x in v)


@dataclasses.dataclass
class _TrainFile(StrictConfig):
    """The top level of a ``ctlib train`` YAML file. Every key is validated as the
    sections (``train:``, ``model_config:``) are, so that a wrong value stops the run
    with its key named instead of passing silently (``seed: 1.7`` used to become 1).
    The messages name the key; :func:`_cmd_train` adds the file."""

    OWNER = ""
    model: Any = None
    targets: Any = None
    dataset: Any = None
    model_config: Any = None
    train: Any = None
    split: Any = None
    seed: Any = 0
    embedding: Any = None
    output: Any = None
    experiment: Any = None

    def validate(self) -> None:
        from ctlib.data import REGISTRY
        from ctlib.models import MODEL_CLASSES

        self._choice("model", tuple(sorted(MODEL_CLASSES)))
        if not _names(self.targets):
            raise self._invalid("targets", "a target name or a list of distinct names")
        self._mapping("model_config", "train", "split", allow_none=True)
        self._int("seed", lo=0, hi=2**32 - 1)
        self._str("embedding", "output", "experiment", allow_none=True)
        if isinstance(self.dataset, str):
            if self.dataset not in REGISTRY:
                raise ValueError(f"dataset {self.dataset!r} is not a registry name "
                                 f"({', '.join(REGISTRY)}); for your own data write dataset: "
                                 f"{{cif_folder: PATH}} or {{megnet_json: PATH}}")
        elif isinstance(self.dataset, dict):
            kinds = [k for k in _DATASET_KEYS if k in self.dataset]
            if len(kinds) != 1:
                raise ValueError(f"the dataset mapping needs exactly one of "
                                 f"{' / '.join(_DATASET_KEYS)}, got keys {sorted(map(str, self.dataset))}")
            check_known_keys(self.dataset, _DATASET_KEYS[kinds[0]], f"dataset ({kinds[0]})")
            _DatasetEntry(**self.dataset)
            path = self.dataset[kinds[0]]
            if not isinstance(path, str) or not path.strip():
                raise ValueError(f"dataset.{kinds[0]} must be a path (a non-empty string), "
                                 f"got {path!r}")
        else:
            raise self._invalid("dataset", f"a registry name ({', '.join(REGISTRY)}) or a "
                                           f"mapping with cif_folder or megnet_json")
        if self.split:
            check_known_keys(self.split, _SPLIT_KEYS, "split")
            _Split(**self.split)
        if self.train and "seed" in self.train and self.train["seed"] != self.seed:
            raise ValueError(f"train.seed ({self.train['seed']!r}) is not used: the training seed "
                             f"is the top-level key seed ({self.seed!r}); write seed: "
                             f"{self.train['seed']!r} at the top level instead")


class CLIError(Exception):
    """A user error: printed as one line, exit code 1."""


def _warn(msg: str) -> None:
    """One warning line on stderr (the run goes on)."""
    print(f"ctlib: warning: {msg}", file=sys.stderr)


def _show(path) -> str:
    """A path as printed: relative to the working folder when inside it, else absolute
    (so a printed path always works from where the user stands)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


# ======================================================================== YAML
def _yaml_loader():
    """A SafeLoader that also reads ``1e-3`` as a float (YAML 1.1 needs ``1.0e-3``)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"))
    return Loader


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping (floats like ``1e-3`` allowed); clear errors for bad files."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"config file {path} does not exist")
    try:  # bytes: PyYAML reads UTF-8 (a BOM too) and UTF-16 with its BOM; other bytes raise
        obj = yaml.load(path.read_bytes(), Loader=_yaml_loader())
    except yaml.YAMLError as e:
        raise CLIError(f"config file {path} is not valid YAML: {e}") from None
    if not isinstance(obj, dict):
        raise CLIError(f"config file {path} must hold a mapping (key: value lines), "
                       f"got {type(obj).__name__}")
    return obj


# ================================================================== data info
def _cmd_data_info(args) -> int:
    import numpy as np

    from ctlib.data import REGISTRY, get_split, load
    from ctlib.elements import SYMBOLS

    names = [args.name] if args.name else list(REGISTRY)
    for name in names:
        if name not in REGISTRY:
            raise CLIError(f"unknown dataset {name!r}; known: {', '.join(REGISTRY)}")
        spec = REGISTRY[name]
        ds = load(name, root=args.data_root, progress=sys.stderr.isatty())
        split = get_split(ds)
        zs = np.unique(ds.numbers)
        print(f"{name}: {spec.report_as}")
        print(f"  {spec.description}")
        print(f"  structures: {len(ds)}  atoms/structure: mean {ds.natoms.mean():.1f}, "
              f"max {ds.natoms.max()}")
        print(f"  split ({spec.default_split}): "
              + ", ".join(f"{k} {len(v)}" for k, v in split.items()))
        print(f"  elements ({len(zs)}): {' '.join(SYMBOLS[z - 1] for z in zs)}")
        print("  targets:")
        for t, unit in spec.targets.items():
            y = ds.targets.get(t)
            n_ok = int(np.isfinite(y).sum()) if y is not None else 0
            print(f"    {t:32s} {unit or '-':12s} {n_ok} labelled")
        print()
    return 0


# ====================================================================== train
def _check_keys(d: dict, valid, where: str) -> None:
    """:func:`ctlib.utils.check_known_keys` as a CLI error (one line, exit code 2)."""
    try:
        check_known_keys(d, valid, where)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _load_dataset(spec, base: Path, progress: bool, skip_bad: bool = False):
    """A CrystalDataset from the ``dataset:`` entry of a train config (``skip_bad``:
    the ``--skip-bad`` option, which overrides the entry's own ``skip_bad``)."""
    from ctlib import data

    if isinstance(spec, str):
        if spec not in data.REGISTRY:
            raise CLIError(f"dataset {spec!r} is not a registry name ({', '.join(data.REGISTRY)}); "
                           f"for your own data write dataset: {{cif_folder: PATH}} or "
                           f"{{megnet_json: PATH}}")
        return data.load(spec, progress=progress, skip_bad=skip_bad)
    if not isinstance(spec, dict):
        raise CLIError("dataset must be a registry name or a mapping with cif_folder or megnet_json")
    kinds = [k for k in _DATASET_KEYS if k in spec]
    if len(kinds) != 1:
        raise CLIError(f"dataset mapping needs exactly one of cif_folder / megnet_json, got "
                       f"keys {sorted(spec)}")
    kind = kinds[0]
    _check_keys(spec, _DATASET_KEYS[kind], f"dataset ({kind})")
    kw = {k: v for k, v in spec.items() if k != kind}
    if skip_bad:
        kw["skip_bad"] = True
    path = Path(spec[kind])
    path = path if path.is_absolute() else base / path
    if kind == "cif_folder":
        return data.load_cif_folder(path, progress=progress, **kw)
    if "targets" in kw:
        kw["targets"] = tuple([kw["targets"]] if isinstance(kw["targets"], str) else kw["targets"])
    return data.load_megnet_json(path, progress=progress, **kw)


def _make_split(ds, spec: dict | None) -> dict:
    """Split indices from the ``split:`` entry, optionally subsampled (seeded)."""
    import numpy as np

    from ctlib.data import get_split

    spec = dict(spec or {})
    _check_keys(spec, _SPLIT_KEYS, "split")
    seed = spec.get("seed", 42)
    split = get_split(ds, scheme=spec.get("scheme"), fold=spec.get("fold"), seed=seed)
    rng = np.random.default_rng(seed)
    for part in ("train", "val", "test"):
        n = spec.get(f"n_{part}")
        if n is None:
            continue
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise CLIError(f"split.n_{part} must be a positive int, got {n!r}")
        if n < len(split[part]):
            split[part] = np.sort(rng.choice(split[part], size=n, replace=False))
        elif n > len(split[part]):
            _warn(f"split.n_{part} is {n} but the {part} split of {ds.name!r} has only "
                  f"{len(split[part])} structure(s): all {len(split[part])} are used. Lower "
                  f"n_{part} (or drop it) to silence this.")
    names = {"val": "validation", "test": "test"}
    if not len(split["train"]):
        raise CLIError(f"the train split of {ds.name!r} ({len(ds)} structures, scheme "
                       f"{spec.get('scheme') or 'default'}) is empty; use more data or another "
                       f"split scheme")
    for part in ("val", "test"):
        if not len(split[part]):
            what = ("no validation: no early stopping or best-epoch selection, the last epoch is "
                    "kept" if part == "val" else "no test metrics will be reported")
            _warn(f"the {names[part]} split of {ds.name!r} is empty ({len(ds)} structures, scheme "
                  f"{spec.get('scheme') or 'default'}): {what}. Use more data or another split.")
    return split


def _cmd_train(args) -> int:
    from ctlib.results import ResultStore
    from ctlib.runs import run
    from ctlib.config import TrainConfig

    cfg_path = Path(args.config)
    cfg = load_yaml(cfg_path)
    _check_keys(cfg, _TRAIN_KEYS, f"config {cfg_path}")
    for key in ("model", "targets", "dataset"):
        if key not in cfg:
            raise CLIError(f"config {cfg_path}: missing required key {key!r} ({_TRAIN_KEYS[key]})")
    try:
        _TrainFile(**cfg)
    except ValueError as e:
        raise CLIError(f"config {cfg_path}: {e}") from None
    from ctlib.models import MODEL_CLASSES

    try:
        MODEL_CLASSES[cfg["model"]].config_class.from_dict(cfg.get("model_config"))
    except (ValueError, TypeError) as e:
        raise CLIError(f"config {cfg_path}, section model_config: {e}") from None
    base = cfg_path.resolve().parent
    train = dict(cfg.get("train") or {})
    if args.device:
        train["device"] = args.device
    try:
        tc = TrainConfig.from_dict(train)
    except (ValueError, TypeError) as e:
        raise CLIError(f"config {cfg_path}, section train: {e}") from None
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    ds = _load_dataset(cfg["dataset"], base, progress, skip_bad=args.skip_bad)
    split = _make_split(ds, cfg.get("split"))
    out = Path(cfg.get("output") or Path("ctlib_runs") / cfg_path.stem)
    out = out if out.is_absolute() else base / out
    experiment = str(cfg.get("experiment") or cfg_path.stem)
    embedding = cfg.get("embedding")
    if embedding is not None:
        embedding = Path(embedding) if Path(embedding).is_absolute() else base / embedding
    store = ResultStore(out / "results")
    kw = dict(model_config=cfg.get("model_config"), train_config=tc, seed=cfg.get("seed", 0),
              store=store, experiment=experiment, profile="cli", run_root=out / "runs",
              embedding=embedding, progress=progress)
    # is it stored already? (a dry run only looks it up: nothing is trained or written)
    stored = None if args.force else run(cfg["model"], cfg["targets"], ds, split, dry_run=True, **kw)
    rec = run(cfg["model"], cfg["targets"], ds, split, force=args.force, **kw)
    run_dir = out / "runs" / "cli" / experiment / rec["run_id"]
    if stored is not None and rec.get("copied_from"):
        print(f"reused: this configuration was already trained in experiment "
              f"{rec['copied_from']!r} of {_show(out / 'results')}; its record was copied, "
              f"nothing was retrained (use --force to retrain)")
        if not run_dir.is_dir():
            run_dir = out / "runs" / "cli" / rec["copied_from"] / rec["run_id"]
    elif stored is not None:
        print(f"reused: this configuration was already trained (finished {rec['finished']}); "
              f"the stored record is shown, nothing was retrained (use --force to retrain)")
    elif rec.get("resumed_from_epoch"):
        print(f"resumed: continued from the checkpoint of epoch {rec['resumed_from_epoch']} "
              f"in {_show(run_dir)} (use --force to start over)")
    print(f"run {rec['run_id']} on {rec['dataset']['name']} "
          f"({', '.join(f'{k} {v}' for k, v in rec['dataset']['split_counts'].items())}); "
          f"best epoch {rec['best_epoch']} of {len(rec['history'])}")
    units = rec.get("units") or {}
    for t, m in (rec["test"] or {}).items():
        r2 = "-" if m["r2"] is None else f"{m['r2']:.3f}"
        print(f"  test {t}: MAE {m['mae']:.4g} {units.get(t) or ''}  RMSE {m['rmse']:.4g}  "
              f"R2 {r2}  n {m['n']}")
    if not rec["test"]:
        print("  test: no metrics (the test split is empty)")
    print(f"record:     {_show(store.path_for(rec))}")
    print(f"embedding:  {_show(store.resolve(rec['embedding_path']))}")
    if run_dir.is_dir():
        print(f"checkpoint: {_show(run_dir)}")
    else:
        print(f"checkpoint: none (expected {_show(run_dir)}; it was deleted or trained "
              f"elsewhere: `ctlib predict` and `embed extract` need it, --force rebuilds it)")
    return 0


# ==================================================================== predict
def _read_structure(path: Path):
    """A validated pymatgen Structure from one file; CLIError (message without the
    file name) saying what is wrong and what to do."""
    import warnings

    from pymatgen.core import Structure

    from ctlib.data import DataError, check_structure

    if not path.exists():
        raise CLIError("file does not exist")
    if not path.is_file():
        raise CLIError("is a folder, not a structure file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            s = Structure.from_file(path)
        except Exception as e:  # pymatgen raises many types on bad files
            said = f"; pymatgen says: {' '.join(str(caught[0].message).split())[:150]}" if caught else ""
            raise CLIError(f"cannot read it as a structure ({type(e).__name__}: "
                           f"{str(e)[:150]}){said}. Check the file (CIF, POSCAR or any format "
                           f"pymatgen reads)") from None
    for w in caught:  # keep pymatgen's warnings about files that did parse
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    try:
        check_structure(s)
    except DataError as e:
        msg = str(e)
        if "partial occupancy" in msg:
            hint = "ctlib models need ordered structures: order the structure first"
        elif "not a chemical element" in msg:
            hint = "fix the element symbol in the file (elements of Z=1..100)"
        elif "outside Z=1" in msg:
            hint = "ctlib models cover Z=1..100 only; this structure cannot be predicted"
        else:
            hint = "fix the file"
        raise CLIError(f"{msg}; {hint}") from None
    return s


def _trained_elements(model) -> list[str] | None:
    emb = getattr(model, "atom_embedding", None)
    return getattr(emb, "trained_elements", None)


def _cmd_predict(args) -> int:
    import numpy as np

    from ctlib.data.dataset import CrystalDataset
    from ctlib.elements import SYMBOLS
    from ctlib.train import Trainer

    tr = Trainer.load(args.run_dir, device=args.device or "cpu", progress=False)
    trained = _trained_elements(tr.model)
    good, failed = [], []  # (file, structure) / file
    for f in args.cifs:
        try:
            good.append((f, _read_structure(Path(f))))
        except CLIError as e:
            print(f"ctlib: error: {f}: {e}", file=sys.stderr)
            failed.append(f)

    def predict(items):
        ds = CrystalDataset.from_structures([s for _, s in items], ids=[f for f, _ in items],
                                            name="cli")
        return np.asarray(tr.predict(ds), dtype=np.float64)

    rows = []  # (file, structure, prediction row)
    if good:
        try:
            pred = predict(good)
            rows = [(f, s, p) for (f, s), p in zip(good, pred)]
        except (ValueError, RuntimeError, IndexError) as e_all:
            if len(good) == 1:
                print(f"ctlib: error: {good[0][0]}: the model cannot predict it "
                      f"({type(e_all).__name__}: {e_all})", file=sys.stderr)
                failed.append(good[0][0])
            else:  # find the file(s) that break the batch
                for f, s in good:
                    try:
                        rows.append((f, s, predict([(f, s)])[0]))
                    except (ValueError, RuntimeError, IndexError) as e:
                        print(f"ctlib: error: {f}: the model cannot predict it "
                              f"({type(e).__name__}: {e})", file=sys.stderr)
                        failed.append(f)
    if trained is None:
        if rows:
            print("ctlib: note: this model's weights do not record which elements it was "
                  "trained on (saved by an older ctlib), so predictions for elements outside "
                  "its training data cannot be flagged", file=sys.stderr)
    else:
        seen = set(trained)
        for f, s, _ in rows:
            unseen = sorted({SYMBOLS[int(z) - 1] for z in s.atomic_numbers} - seen,
                            key=SYMBOLS.index)
            if unseen:
                _warn(f"{f}: element(s) {', '.join(unseen)} never occurred in this model's "
                      f"training data; the prediction extrapolates from untrained embedding "
                      f"rows and is unreliable")
    header = ["file"] + [f"{t} ({tr.units.get(t) or '-'})" for t in tr.targets]
    if args.csv:
        import csv

        from ctlib.utils import atomic_write

        def write(tmp):
            with open(tmp, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["file"] + tr.targets)
                for f, _, row in rows:
                    w.writerow([f] + [f"{x:.6g}" for x in row])

        atomic_write(args.csv, write, ".csv")
        print(f"wrote {len(rows)} prediction(s) to {args.csv}")
    if rows:
        width = max(len(h) for h in header)
        print("  ".join(h.ljust(width) for h in header))
        for f, _, row in rows:
            print("  ".join([str(f).ljust(width)] + [f"{x:<{width}.5g}" for x in row]))
    if failed:
        print(f"ctlib: error: {len(failed)} of {len(args.cifs)} file(s) failed (see above): "
              f"{', '.join(failed[:10])}{' ...' if len(failed) > 10 else ''}; "
              + (f"the other {len(rows)} were predicted" if rows else "nothing was predicted"),
              file=sys.stderr)
        return 1
    return 0


# ====================================================================== embed
def _elements(choice: str):
    from ctlib.elements import ELEMENTS, SYMBOLS

    return list(ELEMENTS if choice == "mp2018" else SYMBOLS)


def _cmd_embed_extract(args) -> int:
    from ctlib.embeddings import ElementEmbedding
    from ctlib.models import load_model

    run_dir = Path(args.run_dir)
    model_dir = run_dir / "model" if (run_dir / "model" / "model.json").is_file() else run_dir
    if not (model_dir / "model.json").is_file():
        raise CLIError(f"{run_dir} holds no saved model (expected model/model.json from a "
                       f"finished ctlib train run)")
    model = load_model(model_dir)
    emb = ElementEmbedding.from_model(model, elements=_elements(args.elements),
                                      provenance={"source_dir": str(run_dir)})
    _write_embedding(emb, Path(args.output), args.format, args.fill)
    print(f"{emb!r} -> {args.output}")
    return 0


def _record_embedding(path: Path, run: str | None) -> Path:
    """Resolve SRC of ``embed export``/``show``: an embedding file, a run record, or a
    results folder holding records (pick one with ``run``)."""
    def from_record(rec_path: Path) -> Path:
        from ctlib.lookup import record_embedding_path

        rec = json.loads(rec_path.read_text())
        # <root>/<profile>/<experiment>/<run_id>.json
        path = record_embedding_path(rec, rec_path.parents[2])
        if path is None:
            raise CLIError(f"run record {rec_path} has no embedding_path")
        return path

    if path.is_dir():
        if (path / "trainer.json").is_file():
            raise CLIError(f"{path} is a checkpoint folder; use `ctlib embed extract {path} -o FILE`")
        records = []
        for p in sorted(path.glob("*.json")):
            try:
                obj = json.loads(p.read_text())
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and "config_hash" in obj:
                records.append((p, obj))
        if run:
            records = [(p, r) for p, r in records if r.get("run_id", "").startswith(run)
                       or p.stem.startswith(run)]
        if not records:
            raise CLIError(f"no run record{' matching ' + repr(run) if run else ''} in {path}")
        if len(records) > 1:
            ids = ", ".join(r.get("run_id", p.stem) for p, r in records)
            raise CLIError(f"{path} holds {len(records)} runs; choose one with --run ({ids})")
        return from_record(records[0][0])
    if path.suffix == ".json" and path.is_file():
        try:
            obj = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise CLIError(f"{path} is not valid JSON: {e}") from None
        if isinstance(obj, dict) and "config_hash" in obj:
            return from_record(path)
    return path


def _write_embedding(emb, out: Path, fmt: str | None, fill: str) -> None:
    if fmt is None:
        fmt = {".npz": "npz", ".csv": "csv"}.get(out.suffix.lower(), "json")
    if fmt == "atom_init":
        if out.suffix.lower() != ".json":
            raise CLIError(f"atom_init files are JSON: name the output *.json, not {out.name}")
        emb.to_atom_init(out, fill=fill)
        return
    want = "." + fmt
    if out.suffix.lower() != want:
        raise CLIError(f"--format {fmt} writes a {want} file; got output name {out.name}")
    emb.save(out)


def _cmd_embed_export(args) -> int:
    from ctlib.embeddings import ElementEmbedding

    src = _record_embedding(Path(args.source), args.run)
    emb = ElementEmbedding.load(src)
    if args.learned_part:
        from ctlib.config import PROFILES
        from ctlib.experiments import learned_part

        if args.learned_part not in PROFILES:
            raise CLIError(f"--learned-part {args.learned_part!r}: not a profile; choose one of "
                           f"{', '.join(PROFILES)} (the profile whose CT pretraining made the table)")
        try:
            emb = learned_part(emb, args.learned_part, args.start_seed)
        except ValueError as e:
            raise CLIError(f"{src}: {e}") from None
    _write_embedding(emb, Path(args.output), args.format, args.fill)
    print(f"{emb!r} -> {args.output} ({args.format})")
    return 0


def _cmd_embed_show(args) -> int:
    import numpy as np

    from ctlib.embeddings import ElementEmbedding

    src = _record_embedding(Path(args.source), args.run)
    emb = ElementEmbedding.load(src)
    print(repr(emb))
    print(f"file: {src}")
    print(f"elements ({len(emb)}): {' '.join(emb.elements)}")
    for k, v in emb.provenance.items():
        text = json.dumps(v) if not isinstance(v, str) else v
        print(f"  {k}: {text if len(text) < 100 else text[:97] + '...'}")
    norms = np.linalg.norm(emb.matrix, axis=1)
    print(f"vector norms: min {norms.min():.4g}  mean {norms.mean():.4g}  max {norms.max():.4g}")
    if emb.coord_weight is not None:
        print(f"coordinate layer: weight {emb.coord_weight.shape}, "
              f"bias {None if emb.coord_bias is None else emb.coord_bias.shape}")
    for sym, row in list(zip(emb.elements, emb.matrix))[: args.rows]:
        vals = " ".join(f"{x:8.4f}" for x in row[:6])
        print(f"  {sym:3s} {vals}{' ...' if emb.dim > 6 else ''}")
    return 0


# ===================================================================== parser
def _sub(subparsers, name: str, help_: str, description: str, examples: str):
    return subparsers.add_parser(
        name, help=help_, formatter_class=_FMT,
        description=textwrap.dedent(description).strip(),
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "))


def build_parser() -> argparse.ArgumentParser:
    """The ``ctlib`` argument parser (no work done, nothing imported)."""
    p = argparse.ArgumentParser(
        prog="ctlib", formatter_class=_FMT,
        description="Companion library of 'Crystal Transformer Based Universal Atomic "
                    "Embedding' (Jin et al. 2024): data, training, embeddings, the book.",
        epilog="run `ctlib COMMAND --help` for the options and examples of each command")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    # data
    data = _sub(sub, "data", "dataset commands", "Dataset commands.", "ctlib data info mp2018")
    data.set_defaults(group_parser=data)
    dsub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    info = _sub(dsub, "info", "counts per split, elements and targets of a dataset",
                """
                Show a registry dataset: structures per split (default scheme), the
                elements present, and each target with its unit and number of labels.
                Without NAME every registry dataset is shown. The first call parses
                the dataset (minutes for mp2018); later calls read the cache.
                """,
                """
                ctlib data info mp2018
                ctlib data info            # all datasets
                ctlib data info hoip --data-root /path/to/data
                """)
    info.add_argument("name", nargs="?", metavar="NAME",
                      help="registry dataset (mp2018, castelli_perovskites, hoip)")
    info.add_argument("--data-root", default=None,
                      help="data folder (default $CTLIB_DATA or data/)")
    info.set_defaults(func=_cmd_data_info)

    # train
    keys = "\n".join(f"  {k:13s} {v}" for k, v in _TRAIN_KEYS.items())
    train = _sub(sub, "train", "train one model from a YAML config", textwrap.dedent(
                 """
                 Train one model on a dataset and store its run record (test MAE, RMSE,
                 R2, provenance), its element embedding and its checkpoint under the
                 output folder:
                   <output>/results/cli/<experiment>/<run_id>.json  (+ embeddings/)
                   <output>/runs/cli/<experiment>/<run_id>/         (checkpoint; predict, embed extract)
                 A run with the same configuration is not retrained (use --force); the
                 command then says it reused the stored run. An interrupted run resumes
                 from its last epoch, and says so. Printed paths are relative to the
                 current folder (or absolute). --skip-bad drops invalid records.

                 YAML keys (unknown keys are rejected):
                 """).strip() + "\n" + keys,
                 """
                 ctlib train --config my.yaml
                 ctlib train --config my.yaml --device cuda --force
                 ctlib train --config my.yaml --skip-bad   # drop invalid records, with a warning

                 # my.yaml
                 model: cgcnn
                 targets: [formation_energy_per_atom]
                 dataset: mp2018               # or {cif_folder: ./my_cifs}
                 split: {scheme: standard, n_train: 5000}
                 train: {epochs: 30, lr: 1e-3, batch_size: 64}
                 embedding: ct_embedding.json  # optional transferred front
                 output: runs/cgcnn_ef
                 """)
    train.add_argument("--config", required=True, metavar="FILE.yaml", help="the run's YAML file")
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                       help="override train.device")
    train.add_argument("--force", action="store_true",
                       help="retrain from scratch even if this configuration was run")
    train.add_argument("--skip-bad", action="store_true",
                       help="skip invalid dataset records (bad CIF, missing or NaN target, "
                            "element outside Z=1..100) with a warning listing them, instead of "
                            "stopping; same as skip_bad: true in the dataset: entry")
    train.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bars (default: when on a terminal)")
    train.set_defaults(func=_cmd_train)

    # predict
    pred = _sub(sub, "predict", "predict properties of CIF files with a trained model",
                """
                Predict the targets of a trained model (a run folder written by
                `ctlib train` or Trainer.fit: model/ + trainer.json) for CIF files,
                in the targets' original units. Each file is checked on its own: a
                file that cannot be read or predicted (missing, not a structure,
                disordered, an element that is not one of Z=1..100) gets an error
                line naming it, the others are still predicted (and written to
                --csv), and the exit status is then 1. A structure holding an
                element the model never met in training is predicted with a
                warning: its embedding row was never trained.
                """,
                """
                ctlib predict runs/cgcnn_ef/runs/cli/my/cgcnn-formation_energy_per_atom-1a2b3c4d-s0 a.cif b.cif
                ctlib predict RUN_DIR *.cif --csv predictions.csv
                """)
    pred.add_argument("run_dir", metavar="CHECKPOINT_DIR", help="run folder of a trained model")
    pred.add_argument("cifs", nargs="+", metavar="CIF", help="structure files (CIF or any "
                                                             "format pymatgen reads)")
    pred.add_argument("--csv", default=None, metavar="OUT.csv", help="also write a CSV")
    pred.add_argument("--device", choices=("cpu", "cuda", "auto"), default=None,
                      help="device (default cpu)")
    pred.set_defaults(func=_cmd_predict)

    # embed
    emb = _sub(sub, "embed", "element embeddings: extract, export, show",
               "Element-embedding commands (methods A/B/C of the paper).",
               """
               ctlib embed extract RUN_DIR -o ct_embedding.json
               ctlib embed export results/quick/fronts --run ct-formation_energy_per_atom+band_gap --format atom_init -o atom_init.json
               ctlib embed show ct_embedding.json
               """)
    emb.set_defaults(group_parser=emb)
    esub = emb.add_subparsers(dest="embed_command", metavar="SUBCOMMAND")
    ex = _sub(esub, "extract", "element embedding of a trained model",
              """
              Extract the element embedding of a trained model: method A for a
              CrystalTransformer (W[:, Z-1] + b of its atom layer, plus the
              coordinate layer), method B for a GNN (its learned atom front).
              The file type follows the output name (.json, .npz, .csv) or --format.
              """,
              """
              ctlib embed extract RUN_DIR -o ct_embedding.json
              ctlib embed extract RUN_DIR -o atom_init.json --format atom_init
              ctlib embed extract RUN_DIR -o emb.csv --elements all
              """)
    ex.add_argument("run_dir", metavar="CHECKPOINT_DIR", help="run folder (or a save_model folder)")
    ex.add_argument("-o", "--output", required=True, metavar="FILE", help="output file")
    ex.add_argument("--format", choices=("json", "npz", "csv", "atom_init"), default=None,
                    help="file format (default: from the extension)")
    ex.add_argument("--elements", choices=("mp2018", "all"), default="mp2018",
                    help="the 89 elements of MP-2018 (default) or all of Z=1..100")
    ex.add_argument("--fill", choices=("zero", "mean"), default="zero",
                    help="atom_init only: vector for elements not in the embedding")
    ex.set_defaults(func=_cmd_embed_extract)

    exp = _sub(esub, "export", "convert an embedding (atom_init.json for CGCNN, csv, npz, json)",
               """
               Convert an element embedding to another format. SRC is an embedding
               file (.json/.npz/.csv or an atom_init.json), a run record, or a results
               folder of run records (choose one with --run when it holds several).
               atom_init writes CGCNN's format: keys "1".."100", one list of floats
               per element; elements missing from the embedding get zeros (or the
               mean vector with --fill mean) and are listed in a warning.
               --learned-part PROFILE writes what pretraining added to a CT table:
               the table minus the untrained CT table of that profile (rebuilt from
               --start-seed, by default the profile's pretraining seed).
               """,
               """
               ctlib embed export ct_embedding.json --format atom_init -o atom_init.json
               ctlib embed export ct_mt_s0.npz --learned-part cpu --format csv -o ct_mt_learned.csv
               ctlib embed export results/quick/fronts --run ct-formation_energy_per_atom+band_gap --format csv -o ct_mt.csv
               ctlib embed export results/quick/fronts --run cgcnn-band_gap --format npz -o cgcnn_eg.npz
               ctlib embed export results/<profile>/<experiment>/<run_id>.json --format json -o emb.json
               """)
    exp.add_argument("source", metavar="SRC", help="embedding file, run record or results folder")
    exp.add_argument("--format", required=True, choices=("atom_init", "csv", "npz", "json"),
                     help="output format")
    exp.add_argument("-o", "--output", required=True, metavar="OUT", help="output file")
    exp.add_argument("--run", default=None, metavar="RUN_ID",
                     help="run id (or its prefix) when SRC is a folder of several runs")
    exp.add_argument("--fill", choices=("zero", "mean"), default="zero",
                     help="atom_init: vector for elements not in the embedding (default zero)")
    exp.add_argument("--learned-part", default=None, metavar="PROFILE",
                     help="subtract the untrained CT table of this profile (a CT table's learned part)")
    exp.add_argument("--start-seed", type=int, default=None, metavar="N",
                     help="with --learned-part: the pretraining seed (default: the profile's front seed)")
    exp.set_defaults(func=_cmd_embed_export)

    show = _sub(esub, "show", "summary of an embedding file",
                "Print an embedding's shape, element list, provenance and first rows.",
                """
                ctlib embed show ct_embedding.json
                ctlib embed show results/quick/fronts --run ct-band_gap --rows 10
                """)
    show.add_argument("source", metavar="FILE", help="embedding file, run record or results folder")
    show.add_argument("--run", default=None, metavar="RUN_ID", help="as in export")
    show.add_argument("--rows", type=int, default=5, help="rows to print (default 5)")
    show.set_defaults(func=_cmd_embed_show)

    # book (options are defined by ctlib.book; `ctlib book --help` shows them)
    _sub(sub, "book", "execute the notebooks and build the Jupyter Book",
         """
         Execute every notebook with papermill at a profile's scale and build the
         book (options: --profile, --only NB..., --no-html, -p KEY VALUE; see
         `ctlib book --help`).
         """,
         """
         ctlib book --profile quick
         ctlib book --profile smoke --only 01_data --no-html
         ctlib book --profile paper -p seeds '[0, 1, 2]'
         """)

    # campaign
    camp = _sub(sub, "campaign", "train a profile's missing runs in priority order, resumably",
                """
                Train the runs of a profile that are not stored yet, in priority order
                (tier 1 first), resuming any run from its last epoch checkpoint. With
                --hours the campaign stops at the first epoch boundary after the budget
                is spent; the same command continues later. Stored runs are never
                repeated. Prints a table of done / running / pending steps with the
                CPU-hours spent and an estimate of the hours left. Exit status: 0 when
                every planned run is stored, 3 when the budget ran out first.
                A committed profile's runs are trained only from a clean git tree.
                On CPU the runs of the data-scarce transfer and of the learning curve
                (many CGCNN runs, no front to pretrain) are shared by --workers
                processes, one core each (default: one per core); every other step
                trains in one process with every core.
                """,
                """
                ctlib campaign --profile cpu --status
                nohup nice -n 19 ctlib campaign --profile cpu --hours 2.5 > campaign.log 2>&1 &
                ctlib campaign --profile cpu --device cuda
                """)
    camp.add_argument("--profile", default="cpu", help="profile to train (default: cpu)")
    camp.add_argument("--hours", type=float, default=None,
                      help="wall-clock budget in hours (default: no limit)")
    camp.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                      help="where to train (default: auto = cuda when present)")
    camp.add_argument("--tier", type=int, nargs="+", default=None, metavar="N",
                      help="train only the steps of these tiers (default: all, in order)")
    camp.add_argument("--workers", type=int, default=None, metavar="N",
                      help="processes sharing the many-run steps (scarce transfer, learning curve), "
                           "one core each (default: one per core on CPU, 1 on a GPU)")
    camp.add_argument("--status", action="store_true", help="print the progress table and exit")
    camp.set_defaults(func=_cmd_campaign)
    return p


def _cmd_campaign(args) -> int:
    from ctlib import campaign

    if args.hours is not None and not args.hours > 0:
        raise CLIError(f"--hours must be > 0, got {args.hours}")
    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers must be >= 1, got {args.workers}")
    if args.status:
        print(campaign.format_status(campaign.status(args.profile)))
        return 0
    workers = args.workers if args.workers is not None else campaign.default_workers(args.device)
    return campaign.run_campaign(args.profile, hours=args.hours, device=args.device,
                                 out=lambda msg: print(msg, flush=True), tiers=args.tier,
                                 workers=workers)


def main(argv: list[str] | None = None) -> int:
    """Run the ``ctlib`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "book":  # delegated whole: ctlib.book owns its options
        import ctlib.book

        return _call(lambda: ctlib.book.main(argv[1:]))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if not getattr(args, "func", None):  # no command, or a group without its subcommand
        getattr(args, "group_parser", parser).print_help()
        return 2
    return _call(lambda: args.func(args))


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """How the command prints a warning: one line, ``ctlib: warning: <message>``, without
    the library's file path and source line that Python's default format shows."""
    return f"ctlib: warning: {' '.join(str(message).split())}\n"


def _call(fn) -> int:
    import warnings

    before = warnings.formatwarning
    warnings.formatwarning = _format_warning  # only the display: filters and records are as before
    try:
        return _run(fn)
    finally:
        warnings.formatwarning = before


def _run(fn) -> int:
    from ctlib.data import DataError

    try:
        return int(fn() or 0)
    except BrokenPipeError:  # output piped into `head` etc.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except SystemExit as e:
        return int(e.code or 0)
    except (CLIError, DataError, ValueError, KeyError, OSError, IndexError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"ctlib: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
