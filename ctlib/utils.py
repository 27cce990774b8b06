"""Small pieces every ctlib module may import: JSON conversion, atomic writes,
key checks, the base of the strict configs (:class:`StrictConfig`), core
counting and the git provenance of the code.

This module imports nothing from ctlib, so models, data, results and the CLI
can all use it without pointing at each other.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np


# ------------------------------------------------------------------------ JSON
def to_jsonable(obj):
    """Convert ``obj`` to plain JSON types: numpy scalars/arrays, Paths, tuples, sets.

    Non-finite floats become ``None`` (strict JSON has no NaN). Raises
    ``TypeError`` naming the type for anything else that JSON cannot hold.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"JSON object keys must be str or int, got {type(k).__name__} ({k!r})")
            out[str(k)] = to_jsonable(v)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(to_jsonable(v) for v in obj)
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    raise TypeError(f"cannot store a {type(obj).__name__} in a results record: {obj!r:.80}")


def atomic_write(path: str | Path, write, suffix: str = ".tmp") -> Path:
    """Create ``path`` atomically: ``write(tmp)`` fills a temporary file in the same
    folder (name ending in ``suffix``, which some writers need, e.g. ``.npz``), which
    then replaces ``path``; on any error the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json_atomic(path: str | Path, obj, *, indent: int | None = 1) -> Path:
    """Write ``obj`` as strict JSON to ``path`` via a temporary file + ``os.replace``."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)

    def write(tmp):
        with open(tmp, "w") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    return atomic_write(path, write)


def read_cache_json(path: str | Path, parse, *, what: str):
    """``parse(data)`` of the JSON cache file ``path``, or None when it is absent.

    A file that is not JSON, or that ``parse`` rejects (``ValueError``,
    ``KeyError``, ``TypeError``, ``IndexError``), raises a ``ValueError`` that
    names the file, says what is wrong with it and that deleting it is safe:
    every cache entry is recomputed when missing. ``what`` names the cache in
    that message, e.g. ``"reverse-prediction"``.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return parse(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{what} cache file {path} is unreadable ({exc}); "
                         "delete it and it will be computed again") from exc


# ------------------------------------------------------------------ validation
def check_known_keys(d: dict, valid, owner: str, noun: str = "key") -> None:
    """Raise ``ValueError`` when ``d`` has keys outside ``valid``.

    The message names each unknown key with up to two close valid names and
    lists every valid key, e.g. ``TrainConfig: unknown key(s) 'epoch' (did you
    mean 'epochs'?). Valid keys: ...``; ``noun`` replaces "key" in it.
    """
    valid = list(valid)
    unknown = [k for k in d if k not in valid]
    if not unknown:
        return
    hints = []
    for k in unknown:
        close = difflib.get_close_matches(str(k), valid, n=2)
        hints.append(f"{k!r}" + (f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""))
    raise ValueError(f"{owner}: unknown {noun}(s) {', '.join(hints)}. Valid keys: {', '.join(valid)}")


class StrictConfig:
    """Base of the dataclass configs (:class:`ctlib.config.TrainConfig`,
    :class:`ctlib.models.common.ModelConfig`): strict ``from_dict``, field
    names, a JSON dict, validated copies, and the value checks their
    ``validate`` methods use.

    A subclass is a dataclass that overrides :meth:`validate`, which runs at
    construction, so a config object always holds valid values. Every check
    raises ``ValueError`` naming the class and the field, e.g.
    ``TrainConfig.epochs must be an int >= 1, got 2.5``.
    """

    #: what an unknown key is called in the error of :meth:`from_dict`
    KEY_NOUN = "key"
    #: what the messages call the config (None: the class name; "": the key alone,
    #: e.g. ``seed must be ...`` for the top level of a YAML file)
    OWNER: str | None = None

    @classmethod
    def from_dict(cls, d: dict | None):
        """Build and validate from a mapping (None: the defaults; a config of
        this class: a copy). Unknown keys raise ``ValueError`` naming close
        valid ones, so a typo never silently falls back to a default."""
        if d is None:
            d = {}
        if isinstance(d, cls):
            d = d.to_dict()
        if not isinstance(d, dict):
            raise TypeError(f"{cls.__name__}.from_dict expects a dict, got {type(d).__name__}")
        check_known_keys(d, cls.field_names(), cls.__name__, noun=cls.KEY_NOUN)
        return cls(**d)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Check the field values (subclasses override); raises ``ValueError``."""

    def to_dict(self) -> dict:
        """Every field as plain JSON types (lists, not tuples)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    def replace(self, **kw):
        """A validated copy with some fields changed (unknown names raise)."""
        return type(self).from_dict({**self.to_dict(), **kw})

    def _invalid(self, name: str, rule: str, hint: str = "") -> ValueError:
        owner = type(self).__name__ if self.OWNER is None else self.OWNER
        key = f"{owner}.{name}" if owner else name
        return ValueError(f"{key} must be {rule}, got {getattr(self, name)!r}{hint}")

    def _choice(self, name: str, choices: tuple) -> None:
        """``name`` is one of ``choices`` (listed in their order in the message)."""
        if getattr(self, name) not in choices:
            raise self._invalid(name, f"one of {list(choices)}")

    def _bool(self, *names: str) -> None:
        for name in names:
            if not isinstance(getattr(self, name), bool):
                raise self._invalid(name, "true or false")

    def _int(self, *names: str, lo: int = 1, hi: int | None = None,
             allow_none: bool = False) -> None:
        """Each of ``names`` is an int (not a bool; not a float such as 1.7 or 2.0)
        >= ``lo`` and <= ``hi`` when given, or None where allowed."""
        for name in names:
            v = getattr(self, name)
            if v is None and allow_none:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
                raise self._invalid(name, f"an int >= {lo}" if hi is None else f"an int in {lo}..{hi}")

    def _str(self, *names: str, allow_none: bool = False) -> None:
        """Each of ``names`` is a non-empty string, or None where allowed (in YAML a
        name such as ``01`` or ``2024`` is a number: quote it)."""
        for name in names:
            v = getattr(self, name)
            if v is None and allow_none:
                continue
            if not isinstance(v, str) or not v.strip():
                hint = " (quote it in YAML: '...')" if isinstance(v, (int, float)) else ""
                raise self._invalid(name, "a non-empty string", hint)

    def _mapping(self, *names: str, allow_none: bool = False) -> None:
        """Each of ``names`` is a dict (a YAML mapping), or None where allowed."""
        for name in names:
            v = getattr(self, name)
            if v is None and allow_none:
                continue
            if not isinstance(v, dict):
                raise self._invalid(name, "a mapping (key: value entries)")

    def _number(self, *names: str, positive: bool = False, lo: float | None = None,
                allow_none: bool = False) -> None:
        """Each of ``names`` is a finite int or float (not a bool), > 0 when
        ``positive``, >= ``lo`` when given, or None where allowed."""
        for name in names:
            v = getattr(self, name)
            if v is None and allow_none:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                # YAML 1.1 (PyYAML) reads 1e-3 (no dot, no exponent sign) as a string
                yaml_exp = isinstance(v, str) and re.fullmatch(r"[-+]?[\d.]+[eE][-+]?\d+", v.strip())
                hint = " (in YAML write 1.0e-3, not 1e-3)" if yaml_exp else ""
                raise self._invalid(name, "a number", hint)
            if positive and v <= 0:
                raise self._invalid(name, "> 0")
            if lo is not None and v < lo:
                raise self._invalid(name, f">= {lo}")


def available_cores() -> int:
    """CPU cores this process may use (respects affinity masks, e.g. in containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Worker processes for a parallel step: ``None`` means every available core."""
    if n_jobs is None:
        return available_cores()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive int or None (all cores), got {n_jobs!r}")
    return n_jobs


# ------------------------------------------------------------------ provenance
def code_version(path: str | Path | None = None) -> dict:
    """Git commit and dirty flag of the checkout holding ``path`` (default: this package).

    Returns ``{"commit": str | None, "dirty": bool | None}``; both are
    ``None`` where git or the repository is absent (an installed wheel).
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    out = {"commit": None, "dirty": None}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                                text=True, timeout=10)
        if commit.returncode != 0:
            return out
        out["commit"] = commit.stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=where, capture_output=True, text=True, timeout=30)
        if status.returncode == 0:
            out["dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return out
