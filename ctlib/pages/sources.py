"""Pages 07 and 08: which stored CT table a page analyses (:func:`find_ct_sources`), and how
far it moved from its untrained start."""
from __future__ import annotations

from pathlib import Path

from ctlib.pages.common import PENDING, fmt_mae
from ctlib.pages.text import budget_note


# ------------------------------------------------------------ pages 07 and 08
def find_ct_sources(embedding: str, profile: str, *, seeds=None,
                    results_root: str | Path | None = None) -> tuple[list, str | None]:
    """The CT embedding(s) pages 07/08 analyse, or why the page is pending.

    Returns:
        ``(sources, None)`` when found (:func:`ctlib.lookup.resolve_embeddings`);
        ``([], markdown)`` when ``embedding="auto"`` finds no CT table of the
        profile: a "pending" paragraph (with the latest pretraining snapshot
        the campaign has written, if any). A run id or path that does not
        exist still raises.
    """
    from ctlib import lookup

    try:
        return lookup.resolve_embeddings(embedding, profile, seeds=seeds,
                                         results_root=results_root), None
    except lookup.EmbeddingNotFound:
        if str(embedding) != "auto":
            raise
    snaps = lookup.snapshot_files(profile, run_id="ct-*", results_root=results_root)
    progress = ""
    if snaps:
        last = max(snaps, key=lambda q: q.stem)
        progress = (f" The pretraining is under way: its latest element-table snapshot is from epoch "
                    f"{int(last.stem.split('_')[-1])} (run `{last.parent.name}`).")
    from ctlib.config import get_profile

    how = (f"`ctlib campaign --profile {profile}` has stored the run"
           if get_profile(profile).campaign.only else
           f"the training pages of profile `{profile}` (02 and 04) have stored the run")
    return [], (f"**{PENDING.capitalize()}: the CT pretraining of profile `{profile}` is not stored yet.** "
                f"This page analyses the CT element table (multi-task, else single-task E_f) and shows "
                f"nothing in its place; it fills in when {how}.{progress}")


def drift_text(drift: dict | None, start_desc: str = "") -> str:
    """One sentence: how far the analysed table moved from its start (:func:`clustering.table_drift`)."""
    if not drift:
        return "*Drift from the start table:* not measurable for this table."
    return (f"**Drift from the start:** the analysed table differs from {start_desc or 'its start'} by a "
            f"relative Frobenius distance of **{fmt_mae(drift['rel_frobenius'])}** "
            f"(0 = unchanged; an unrelated table of the same scale gives about 1.4), with a mean cosine "
            f"similarity of {fmt_mae(drift['mean_cosine'])} between each element's row before and after "
            f"({drift['n_elements']} elements × {drift['dim']} dimensions).")


def embedding_drift(source, profile: str, *, results_root: str | Path | None = None) -> tuple[dict | None, str]:
    """:func:`clustering.table_drift` of a source's table from its start, and the start's description.

    ``(None, reason)`` when the start cannot be had or its shape differs.
    """
    from ctlib.analysis import clustering

    try:
        start, desc = clustering.start_table(source, profile, results_root=results_root)
        return clustering.table_drift(source.embedding, start), desc
    except (ValueError, KeyError, FileNotFoundError, TypeError) as e:
        return None, f"no comparable start table ({e})"


def embedding_budget(source, profile: str) -> str:
    """The training of the analysed CT table, beside the paper's (a Markdown sentence)."""
    rec = source.record or {}
    tc = rec.get("train_config") or ((rec.get("config") or {}).get("train") or {})
    note = budget_note(profile, "embedding")
    if rec:
        ran = rec.get("epochs_run")
        note += (f" The analysed run trained for {ran if ran is not None else '?'} of "
                 f"{tc.get('epochs', '?')} epochs (seed {source.seed}).")
    return note
