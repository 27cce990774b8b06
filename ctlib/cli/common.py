"""What every ``ctlib`` subcommand shares: the help format, the one-line user error
(:class:`CLIError`), YAML reading, key checks, and how a command runs (:func:`_call`:
errors as one line, warnings as one clean line each)."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ctlib.utils import check_known_keys

_FMT = argparse.RawDescriptionHelpFormatter

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
def _check_keys(d: dict, valid, where: str) -> None:
    """:func:`ctlib.utils.check_known_keys` as a CLI error (one line, exit code 2)."""
    try:
        check_known_keys(d, valid, where)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


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
