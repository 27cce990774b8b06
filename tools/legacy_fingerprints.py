#!/usr/bin/env python3
"""Print ``ctlib.data.dataset.LEGACY_FINGERPRINTS``: the dataset fingerprints that the
committed runs carry, each beside the machine-independent fingerprint of the same set.

Until 2026-11-30 a dataset's fingerprint hashed the exact float bits of its parse. Those
bits differ between CPUs (see ``CrystalDataset.fingerprint``), so on another machine no
stored run was found. The fingerprint now hashes the rounded content; each set that the
stored runs used keeps the value they carry through this table.

The tool rebuilds every set the experiments draw (the registry sets, and the samples of
``mp_data``, ``perovskite_data``, ``hoip_data`` and ``matbench_data`` for the committed
profiles), computes each one's content fingerprint, and pairs it with the fingerprint
of the stored records of the same set name, source sha256 and size. Where several rebuilt
sets share those (the five Matbench folds), the one whose train split gives the record's
normaliser is taken. A stored fingerprint that no single rebuilt set matches is listed,
and the exit status is 1. ``tools/check_results.py`` then
confirms the table: it repeats every lookup the book makes.

Usage::

    CTLIB_DATA=../shared/data python tools/legacy_fingerprints.py
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def stored_sets(results: Path) -> dict:
    """(name, source sha256, n) -> {fingerprint the records carry: one such record}."""
    out: dict = {}
    for path in sorted(results.glob("*/*/*.json")):
        rec = json.loads(path.read_text())
        ds = rec.get("dataset") or {}
        if "fingerprint" in ds:
            out.setdefault((ds["name"], ds["sha256"], ds["n"]), {}).setdefault(ds["fingerprint"], rec)
    return out


def rebuilt_sets(profiles) -> dict:
    """(name, source sha256, n) -> [(content fingerprint, dataset, split)] of every set the
    experiments draw (several where sets of one size differ, e.g. the Matbench folds)."""
    from ctlib import data, experiments as E

    sets = [(data.load(name, progress=False), None) for name in ("mp2018", "castelli_perovskites", "hoip")]
    for p in profiles:
        sets += [E.mp_data(p), E.perovskite_data(p), E.hoip_data(p)]
        sets += [E.matbench_data(p, fold) for fold in range(5)]
    out: dict = {}
    for d, split in sets:
        fp = d.content_fingerprint()
        same = out.setdefault((d.name, d.source_sha256, len(d)), [])
        if fp not in [c[0] for c in same]:
            same.append((fp, d, split))
    return out


def trained_on(rec: dict, d, split) -> bool:
    """Whether the record's training normaliser (mean of its first target over the train
    split) is that of ``split`` of ``d``: it tells apart sets of one name and size."""
    if split is None or not rec.get("normaliser"):
        return False
    target = rec["targets"][0] if isinstance(rec["targets"], list) else rec["targets"]
    if target not in d.targets:
        return False
    mean = float(np.nanmean(d.targets[target][split["train"]]))
    return abs(mean - rec["normaliser"]["mean"][0]) <= 1e-9 * max(1.0, abs(mean))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=ROOT / "results", help="results store (default: results/)")
    ap.add_argument("--profiles", nargs="+", default=["quick", "cpu"],
                    help="profiles whose drawn samples to rebuild (default: quick cpu)")
    args = ap.parse_args(argv)
    stored, rebuilt = stored_sets(args.results), rebuilt_sets(args.profiles)
    bad = 0
    print("LEGACY_FINGERPRINTS = {")
    for key, records in sorted(stored.items()):
        name, _, n = key
        candidates = rebuilt.get(key, [])
        for fp, rec in sorted(records.items()):
            if fp in [c[0] for c in candidates]:
                continue  # keyed by the current rule already
            matches = candidates if len(candidates) < 2 else \
                [c for c in candidates if trained_on(rec, c[1], c[2])]
            if len(matches) != 1:
                why = "no rebuilt set matches" if not matches else "several rebuilt sets match"
                print(f"    # {name}, {n:,} structures, stored as {fp}: {why}", file=sys.stderr)
                bad = 1
            else:
                print(f'    "{matches[0][0]}": "{fp}",  # {name}, {n:,} structures')
    print("}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
