"""What every result page shares: the one MAE format, pending rows, the control labels,
the page's JSON summary, provenance lines and stored records. Importing it silences
tqdm's "IProgress not found" warning once (see :func:`_import_tqdm_quietly`)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib import report


def _import_tqdm_quietly() -> None:
    """Import ``tqdm.auto`` once, without its "IProgress not found" warning.

    In a Jupyter kernel without ipywidgets, importing ``tqdm.auto`` warns
    (``TqdmWarning``) and the warning prints the machine path of the tqdm
    package onto the page. The book never shows progress bars (its calls pass
    ``progress=False``), so that one warning is dropped here, at the first
    import, before the training and analysis modules import ``tqdm.auto``.
    """
    import warnings

    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
        import tqdm.auto  # noqa: F401


_import_tqdm_quietly()


def write_summary(out_dir: str | Path, stem: str, obj: dict) -> Path:
    """Write ``<out_dir>/<stem>.json`` (the numbers tests and the claims page read)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.json"

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, (np.floating, np.integer)):
            return clean(v.item())
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    path.write_text(json.dumps(clean(obj), indent=1))
    return path


#: Rows that are controls, not columns of the paper: what each start is.
CONTROLS = {
    "C random": "random 128-d table",
    "CT0-C": "untrained CT table",
    "CGCNN(random)": "random 128-d table",
    "CGCNN(CT untrained)": "untrained CT table",
}
#: What a page shows for a number whose run is not stored yet.
PENDING = "pending"


def fmt_mae(x, sig: int = 3) -> str:
    """The book's one format of an MAE (or any metric): ``sig`` significant digits.

    ``fmt_mae(0.08342) == "0.0834"``; ``"—"`` for a missing value.
    """
    return report.fmt_sig(x, sig)


def fmt_signed(x, sig: int = 3) -> str:
    """Like :func:`fmt_mae` with an explicit sign (``+0.0123``, ``-0.0456``)."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    return ("+" if float(x) >= 0 else "-") + report.fmt_sig(abs(float(x)), sig)


def fmt_rel(x) -> str:
    """A relative change in percent, one decimal, signed (``-12.3%``); ``—`` if missing."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    return f"{100 * float(x):+.1f}%"



def records(df: pd.DataFrame, results_root: str | Path | None = None) -> dict[str, dict]:
    """The run records named in ``df['run_id']``, from any profile and experiment of the store.

    Returns:
        ``{run_id: record}``; an id with no stored record is left out, and an id
        stored under several experiments (one run reused) gives its first by path.
    """
    import glob

    from ctlib.lookup import stored_records

    out: dict[str, dict] = {}
    for rid in (df["run_id"].dropna().unique() if "run_id" in df else []):
        hits = stored_records("*", results_root, name=glob.escape(rid))  # reads only this id's files
        if hits:
            out[rid] = hits[0][1]
    return out


def provenance_line(df: pd.DataFrame) -> str:
    """One line on where the numbers came from: runs, devices, code commits, pending rows."""
    recs = records(df)
    commits = sorted({((r.get("code") or {}).get("commit") or "?")[:10] for r in recs.values()})
    devices = sorted({str(r.get("device")) for r in recs.values()})
    wall = sum(float(r.get("wall_s") or 0) for r in recs.values())
    pending = int(df["run_id"].isna().sum()) if "run_id" in df else 0
    tail = f" · {pending} of {len(df)} runs {PENDING} (not stored yet)" if pending else ""
    return (f"{len(recs)} stored runs · devices: {', '.join(devices) or '—'} · code commits: "
            f"{', '.join(commits) or '—'} · total training wall time {wall / 60:.1f} min{tail}")



def _md(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")



def _n(x) -> str:
    return f"{int(x):,}"



def show_pending(what: str = "this section") -> None:
    """Display one line: ``what`` is pending (the analysed run is not stored yet)."""
    from IPython.display import Markdown, display

    what = str(what)
    display(Markdown(f"*{what[:1].upper() + what[1:]}: {PENDING} until the run is stored (see the top of "
                     "the page).*"))


