"""``ctlib train`` (one model from a YAML file, its record stored) and ``ctlib data info``."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from ctlib.utils import StrictConfig, check_known_keys

from ctlib.cli.common import CLIError, _check_keys, _show, _warn, load_yaml

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
    from ctlib.runs import checkpoint_dir, run
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
    run_dir = checkpoint_dir("cli", experiment, rec["run_id"], out / "runs")
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
