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
of the stored records of the same set name, source sha256 and size. A record set that no
rebuilt set matches is listed, and the exit status is 1. ``tools/check_results.py`` then
confirms the table: it repeats every lookup the book makes.

Usage::

    CTLIB_DATA=../shared/data python tools/legacy_fingerprints.py
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stored_sets(results: Path) -> dict:
    """(name, source sha256, n) -> the set of fingerprints the records of ``results`` carry."""
    out: dict = {}
    for path in sorted(results.glob("*/*/*.json")):
        ds = json.loads(path.read_text()).get("dataset") or {}
        if "fingerprint" in ds:
            out.setdefault((ds["name"], ds["sha256"], ds["n"]), set()).add(ds["fingerprint"])
    return out


def rebuilt_sets(profiles) -> dict:
    """(name, source sha256, n) -> content fingerprint of every set the experiments draw."""
    from ctlib import data, experiments as E

    sets = [data.load(name, progress=False) for name in ("mp2018", "castelli_perovskites", "hoip")]
    for p in profiles:
        sets += [E.mp_data(p)[0], E.perovskite_data(p)[0], E.hoip_data(p)[0]]
        sets += [E.matbench_data(p, fold)[0] for fold in range(5)]
    return {(d.name, d.source_sha256, len(d)): d.content_fingerprint() for d in sets}


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
    for key, fps in sorted(stored.items()):
        name, _, n = key
        content = rebuilt.get(key)
        for fp in sorted(fps):
            if content is None:
                print(f"    # {name}, {n:,} structures, stored as {fp}: no rebuilt set matches", file=sys.stderr)
                bad = 1
            elif content != fp:
                print(f'    "{content}": "{fp}",  # {name}, {n:,} structures')
    print("}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
