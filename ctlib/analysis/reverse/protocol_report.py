"""What page 08 shows of a :func:`~ctlib.analysis.reverse.protocols.protocol_table`.

The protocols' display names (:func:`protocol_label`), the wide table
(:func:`protocol_wide`), the numbers of the page's JSON summary
(:func:`protocol_numbers`, :func:`protocol_cost`) and the section's
conclusion (:func:`protocol_text`), every number taken from the table.

Imports: numpy, pandas, :mod:`.data`, :mod:`.protocols` and :mod:`.tables`.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ctlib.analysis.reverse.data import PROPERTIES
from ctlib.analysis.reverse.protocols import PROTOCOLS, SPLIT_TEST
from ctlib.analysis.reverse.tables import _pm

__all__ = ["protocol_label", "protocol_wide", "protocol_numbers", "protocol_cost", "protocol_cost_text",
           "protocol_text"]


def protocol_label(protocol: str, n_repeats: int) -> str:
    """Display name of a protocol, e.g. ``"80/20 split × 10 seeds"``, ``"5-fold pooled × 5 repeats"``."""
    if protocol == "80/20 split":
        return f"80/20 split × {n_repeats} seed{'s' if n_repeats != 1 else ''}"
    if protocol == "5-fold pooled":
        return f"5-fold pooled × {n_repeats} repeat{'s' if n_repeats != 1 else ''}"
    return protocol


def protocol_wide(pt: pd.DataFrame, *, sig: int = 2) -> pd.DataFrame:
    """A :func:`~ctlib.analysis.reverse.protocols.protocol_table` for display: rows (table,
    protocol), columns the properties + mean.

    Cells are R² as ``"mean ± std"`` over repeats (a bare value for one-fit
    protocols), ``sig`` significant digits; ``mean over properties`` is the
    mean of the properties' R² (std not shown). Rows keep the order of ``pt``.
    """
    if pt.empty:
        raise ValueError("the protocol table is empty")
    pt = pt.assign(label=[protocol_label(p, n) for p, n in zip(pt["protocol"], pt["n_repeats"])],
                   cell=[_pm(m, s, sig) for m, s in zip(pt["r2"], pt["r2_std"])])
    rows = list(dict.fromkeys(zip(pt["embedding"], pt["label"])))
    wide = pt.pivot_table(index=["embedding", "label"], columns="property", values="cell", aggfunc="first")
    props = list(dict.fromkeys(pt["property"]))
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(rows), columns=props)
    wide.columns = [PROPERTIES.get(c, c) for c in wide.columns]
    mean = pt.groupby(["embedding", "label"], sort=False)["r2"].mean()
    wide["mean over properties"] = [_pm(mean.loc[r], None, sig) for r in rows]
    wide.index.names = ["table", "protocol"]
    return wide


def protocol_numbers(pt: pd.DataFrame) -> dict:
    """``{embedding: {protocol: {"label", "n_repeats", "mean_r2", "r2": {property: {"r2", "r2_std"}}}}}``
    of a :func:`~ctlib.analysis.reverse.protocols.protocol_table` (None for NaN): what page 08
    saves in its JSON summary."""
    def num(v):
        return None if v is None or not np.isfinite(v) else float(v)

    out: dict = {}
    for (name, protocol), g in pt.groupby(["embedding", "protocol"], sort=False):
        n = int(g["n_repeats"].iloc[0])
        out.setdefault(str(name), {})[str(protocol)] = {
            "label": protocol_label(protocol, n), "n_repeats": n, "mean_r2": num(float(g["r2"].mean())),
            "r2": {str(p): {"r2": num(r), "r2_std": num(s)} for p, r, s in zip(g["property"], g["r2"], g["r2_std"])}}
    return out


def protocol_cost(pt: pd.DataFrame, seconds: float) -> dict:
    """What a :func:`~ctlib.analysis.reverse.protocols.protocol_table` cost: ``{"protocol_fits", "protocol_fits_cached",
    "protocol_fits_new" (fitted by this call), "protocol_cpu_seconds" (CPU seconds of all its
    fits, cached ones as measured when made), "protocol_seconds" (the wall seconds given)}``."""
    fits = int(pt["n_fits"].sum())
    cached = int(pt.loc[pt["cached"].astype(bool), "n_fits"].sum())
    return {"protocol_fits": fits, "protocol_fits_cached": cached, "protocol_fits_new": fits - cached,
            "protocol_cpu_seconds": float(pt["cpu_s"].sum()), "protocol_seconds": float(seconds)}


def protocol_cost_text(cost: Mapping, iterations: int) -> str:
    """One Markdown sentence of a :func:`protocol_cost`: the fits of ``iterations`` trees, how
    many were read from the caches, how many fitted and in how many (wall) seconds."""
    return (f"{cost['protocol_fits']} CatBoost fits of {iterations} trees: {cost['protocol_fits_cached']} "
            f"read from the caches, {cost['protocol_fits_new']} fitted in {cost['protocol_seconds']:.0f} s.")


def protocol_text(pt: pd.DataFrame, paper_r2: Mapping[str, float], *, random: str = "random128") -> str:
    """The conclusion of page 08's protocol section (Markdown), every number taken from ``pt``.

    Args:
        pt: :func:`~ctlib.analysis.reverse.protocols.protocol_table` with at least the ``"in-sample"`` protocol.
        paper_r2: property -> the paper's Table VI R² (:func:`~ctlib.analysis.reverse.tables.paper_r2`).
        random: name of the random (information-free) table in ``pt``; the
            other tables get one line each, their mean R² over the properties
            in-sample and under every held-out protocol.

    Returns:
        a paragraph: the random table's R² in-sample and under each held-out
        protocol (range over the properties), the other tables' mean R², the
        spread of single 80/20 splits, and what this means for judging Table VI.

    Raises:
        ValueError: ``pt`` has no ``"in-sample"`` rows.
    """
    if "in-sample" not in set(pt["protocol"]):
        raise ValueError("protocol_text needs the in-sample protocol in the table")

    def f(v):
        return _pm(v, None, 2)

    def rng(v):
        lo, hi = f(float(np.min(v))), f(float(np.max(v)))
        return lo if lo == hi else f"{lo} to {hi}"

    def cells(name, protocol):
        return pt[(pt["embedding"] == name) & (pt["protocol"] == protocol)]["r2"].to_numpy(dtype=float)

    def label(p):
        return protocol_label(p, int(pt.loc[pt["protocol"] == p, "n_repeats"].iloc[0]))

    props = list(dict.fromkeys(pt["property"]))
    held = [p for p in PROTOCOLS if p != "in-sample" and p in set(pt["protocol"])]
    paper = [float(paper_r2[p]) for p in props if paper_r2.get(p) is not None]
    over = "the property" if len(props) == 1 else f"the {len(props)} properties"
    parts, why, floor = [], "in-sample scoring inflates it", ""
    if random in set(pt["embedding"]):
        ins = cells(random, "in-sample")
        high = bool(paper) and float(np.min(ins)) >= min(paper) - 1e-12
        parts.append(
            f"**Scored in-sample, the random table reaches R² {rng(ins)}** over {over}: a table that carries no "
            "information about the elements"
            + (f" scores as high as the paper's {rng(paper)}" if high else "")
            + ", because the trees memorise the elements they were fitted on."
            + (" Held out it gives " + ", ".join(f"{rng(cells(random, p))} ({label(p)})" for p in held)
               + ": nothing, as it should." if held else ""))
        why = f"in-sample scoring gives {'as much' if high else rng(ins)} to a table without information"
        if "5-fold pooled" in held:
            floor = f", on which the random table scores {rng(cells(random, '5-fold pooled'))}"
    others = [n for n in dict.fromkeys(pt["embedding"]) if n != random]
    if others:
        parts.append(
            f"Mean R² over {over}, in-sample → " + " / ".join(label(p) for p in held) + ": "
            + "; ".join(f"{n} {f(float(np.mean(cells(n, 'in-sample'))))} → "
                        + " / ".join(f(float(np.mean(cells(n, p)))) for p in held) for n in others) + ".")
    if "80/20 split" in held:
        split = pt[pt["protocol"] == "80/20 split"]
        worst = split.loc[split["r2_std"].idxmax()] if split["r2_std"].notna().any() else None
        if worst is not None:
            parts.append(
                f"A single 80/20 split is the noisiest estimate: its R² has a std over the seeds of up to "
                f"{f(float(worst['r2_std']))} ({worst['embedding']}, "
                f"{PROPERTIES.get(worst['property'], worst['property'])}), since "
                f"{int(np.ceil(SPLIT_TEST * int(worst['n_elements'])))} held-out elements are few.")
    parts.append(
        f"**For Table VI:** R² values like the paper's {rng(paper) if paper else ''} are no evidence by themselves "
        f"that an embedding encodes a property, because {why}. The paper does not state its protocol, so its "
        "numbers may be in-sample scores. The verdicts of this page use the held-out 5-fold pooled R²"
        f"{floor}; where the paper's R² is above ours, part or all of the gap may be the protocol rather than "
        "the embedding.")
    return " ".join(parts)
