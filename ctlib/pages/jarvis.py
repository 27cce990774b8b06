"""Page 09 (Table V: CGCNN with and without CT embeddings on JARVIS-DFT): our runs and the
claims' verdicts where a JARVIS ``dft_3d`` file is present, else the paper's table and the
reason ours are missing."""
from __future__ import annotations

import pandas as pd

from ctlib import report

#: The reason the claims are untested without a JARVIS file.
NO_FILE = "no JARVIS dft_3d file in the offline mirror"


def table5_verdicts(profile: str, seeds=None, *, device: str = "auto",
                    force: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | list[dict], bool]:
    """Table V's runs and the JARVIS claims judged on them.

    Args:
        profile, seeds, device, force: as :func:`ctlib.experiments.table5`.

    Returns:
        ``(df, verdicts, available)``: the tidy rows of :func:`ctlib.experiments.table5`
        (empty without a file), the claims' verdicts for :func:`ctlib.pages.headline`
        (:func:`ctlib.claims.judge`, a DataFrame; without a file the rows of
        :func:`ctlib.claims.untested` with :data:`NO_FILE`), and whether a JARVIS
        ``dft_3d`` file was found (:func:`ctlib.experiments.jarvis_path`).
    """
    from ctlib import claims, experiments

    if experiments.jarvis_path() is None:
        return pd.DataFrame(), claims.untested(claims.jarvis_claims(), NO_FILE), False
    df = experiments.table5(profile, seeds, device=device, force=force)
    return df, claims.judge(df, claims.jarvis_claims()), True


def paper_values() -> dict:
    """``{(column, target): the paper's test MAE}`` of Table V (eV/atom for E_f, eV for E_g)."""
    paper = report.paper_tables()["table5_jarvis"]
    return {(c, t): v for t, vals in paper["rows"].items() for c, v in zip(paper["columns"], vals)}


def paper_table() -> pd.DataFrame:
    """The paper's Table V: one row per target (index ``target``), one column per model."""
    paper = report.paper_tables()["table5_jarvis"]
    return pd.DataFrame(paper["rows"], index=paper["columns"]).T.rename_axis("target")
