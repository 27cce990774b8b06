"""The data layer's errors and its file primitives: checksums of data files, reading
(gzip) JSON, and target values as floats. Imports nothing of ctlib."""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import zipfile
from pathlib import Path

_NA_STRINGS = {"", "na", "nan", "none", "null"}


class DataError(ValueError):
    """A dataset file or record is missing, corrupt or invalid. The message says what to do."""


class DataWarning(UserWarning):
    """Bad records were skipped (``skip_bad=True``); see the load report for all of them."""


# ------------------------------------------------------------------ files
def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file, read in ``chunk``-byte pieces (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _check_file(path: Path, expected: str | None, owner: str) -> str:
    """Return the file's sha256; raise DataError if it is missing or differs from ``expected``."""
    if not path.is_file():
        env = os.environ.get("CTLIB_DATA")
        where = f"CTLIB_DATA={env}" if env else "default data root, CTLIB_DATA is not set"
        raise DataError(
            f"{owner}: data file {path} not found ({where}). Set CTLIB_DATA to the folder that "
            f"holds the project's data mirror (e.g. ../shared/data, see its README) or copy the "
            f"file to {path}.")
    got = sha256_file(path)
    if expected is not None and got != expected:
        raise DataError(
            f"{owner}: checksum mismatch for {path}: expected sha256 {expected}, got {got}. "
            f"The file is corrupt or a different version; re-copy it from the data mirror "
            f"(its README lists every sum) or point CTLIB_DATA at an intact copy.")
    return got


def _combine_sha(shas: list[str]) -> str:
    """One sha256 for several files (the single file's own sum when there is one)."""
    return shas[0] if len(shas) == 1 else hashlib.sha256("\n".join(shas).encode()).hexdigest()


def _read_json(path: Path):
    """Parse a JSON file that may be plain, gzip-compressed, or a zip holding one .json."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if m.endswith(".json")]
            if len(members) != 1:
                raise DataError(f"{path}: a zip must hold exactly one .json file, found {members}.")
            with z.open(members[0]) as f:
                return json.load(f)
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rt", encoding="utf-8") if gz else open(path, encoding="utf-8")) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as e:
        raise DataError(f"{path}: not valid JSON{' (gzip)' if gz else ''}: {e}. "
                        "Re-copy or re-export the file.") from e


def _to_float(v) -> float:
    """A target value as float: None / "na" / "" -> NaN; raises ValueError on other text."""
    if v is None:
        return math.nan
    if isinstance(v, str) and v.strip().lower() in _NA_STRINGS:
        return math.nan
    return float(v)
