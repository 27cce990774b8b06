"""How far an element table moved from its start: the two tables aligned on their shared
elements (:func:`align_tables`), the relative Frobenius change and mean cosine
(:func:`table_drift`), and the start of a stored CT table (:func:`start_table`: its
untrained snapshot, else the rebuilt untrained CT table)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ctlib.lookup import EmbeddingSource, record_snapshots


def align_tables(a, b, elements: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows of two element tables for the same elements, in the same order.

    Args:
        a, b: ``ctlib.embeddings.ElementEmbedding`` (or objects with ``elements``
            and ``matrix``).
        elements: the order (default: ``a``'s elements that ``b`` also has).

    Returns:
        ``(A, B, elements)`` with ``A``, ``B`` of shape ``(len(elements), d)``.

    Raises:
        ValueError: the widths differ, or no element is shared.
    """
    ea, eb = list(a.elements), list(b.elements)
    ma, mb = np.asarray(a.matrix, dtype=np.float64), np.asarray(b.matrix, dtype=np.float64)
    if ma.shape[1] != mb.shape[1]:
        raise ValueError(f"the tables have different widths ({ma.shape[1]} vs {mb.shape[1]} dimensions)")
    have = set(eb)
    order = [e for e in (ea if elements is None else elements) if e in have and e in set(ea)]
    if not order:
        raise ValueError("the two tables share no element")
    ia, ib = {e: i for i, e in enumerate(ea)}, {e: i for i, e in enumerate(eb)}
    return ma[[ia[e] for e in order]], mb[[ib[e] for e in order]], order


def table_drift(table, start, elements: Sequence[str] | None = None) -> dict:
    """How far an element table moved from its start (e.g. CT before pretraining).

    After aligning the elements (:func:`align_tables`):

    * ``rel_frobenius``: ``||X - X0||_F / ||X0||_F`` (0: unchanged; about 1.4
      for an unrelated table of the same scale);
    * ``mean_cosine``: the mean over elements of the cosine similarity of an
      element's row before and after (1: same directions);
    * ``n_elements``, ``dim``.
    """
    X, X0, order = align_tables(table, start, elements)
    n0 = float(np.linalg.norm(X0))
    if n0 == 0:
        raise ValueError("the start table is all zeros: no relative distance")
    num = np.sum(X * X0, axis=1)
    den = np.linalg.norm(X, axis=1) * np.linalg.norm(X0, axis=1)
    cos = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return {"rel_frobenius": float(np.linalg.norm(X - X0) / n0),
            "mean_cosine": float(np.nanmean(cos)), "n_elements": len(order), "dim": int(X.shape[1])}


def start_table(source: EmbeddingSource, profile: str | None = None, *,
                results_root: str | Path | None = None) -> tuple[object, str]:
    """The element table the analysed run started from, and how it was found.

    In order: the run's epoch-0 snapshot (``record["embedding_snapshots"]``,
    ``.../epoch_000.json``); else the model rebuilt from the run's recorded
    config and seed exactly as ``ctlib.train.run`` builds it (same table);
    else ``ctlib.experiments.untrained_ct_table(profile)``.

    Returns:
        ``(ElementEmbedding, description)``.
    """
    from ctlib.embeddings import ElementEmbedding

    rec = source.record or {}
    snapshot = record_snapshots(rec, results_root).get(0)
    if snapshot is not None:
        return ElementEmbedding.load(snapshot), "the run's own epoch-0 snapshot"
    cfg = rec.get("config") or {}
    model = cfg.get("model") or rec.get("model")
    targets = cfg.get("targets") or rec.get("targets")
    seed = rec.get("seed")
    if model and targets and seed is not None and "model_config" in cfg:
        import torch

        from ctlib.models import build_model

        torch.manual_seed(seed)
        m = build_model(str(model), len(targets), dict(cfg["model_config"] or {}))
        return (ElementEmbedding.from_model(m, provenance={"table": "start of " + str(source.run_id)}),
                f"the run's model rebuilt untrained from its recorded config and seed {seed}")
    if profile is None:
        raise ValueError("the source has no run record; pass the profile for the untrained CT table")
    from ctlib.experiments import untrained_ct_table

    return untrained_ct_table(profile), f"the untrained CT table of profile {profile}"
