"""Benchmark structure parsing: pymatgen's CifParser against the fast P1 reader.

    python benchmarks/parse.py                 # 1,000 records of each registry set
    python benchmarks/parse.py --full          # also a whole uncached load per set, 2 jobs

Serial part: the same records parsed in this process by ``ctlib.data.io._parse_one``
with and without the P1 reader (``ctlib.data.p1cif``); columns: records, how many
the P1 reader took, wall and CPU seconds, structures per CPU second (robust when
other jobs share the machine), and whether every array and warning came out
identical. ``--full`` times ``ctlib.data.load(name, cache=False)`` in a fresh child
process per set and reports its wall seconds and the peak RSS of the main process
and of the largest worker.
"""
from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

SETS = ("mp2018", "castelli_perovskites", "hoip")


def _records(name: str, n: int) -> list:
    from ctlib.data import REGISTRY
    from ctlib.data.registry import data_root

    with gzip.open(data_root() / REGISTRY[name].structures.path, "rt") as f:
        records = json.load(f)
    return records[:: max(1, len(records) // n)][:n]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def serial(name: str, n: int) -> dict:
    """Parse ``n`` records of ``name`` both ways; timings and an identity check."""
    from ctlib.data.io import _parse_one
    from ctlib.data.p1cif import read_p1

    items = [("cif", r["structure"]) for r in _records(name, n)]
    out = {"set": name, "records": len(items),
           "p1": sum(read_p1(text) is not None for _, text in items)}
    results = {}
    for fast in (False, True):
        c0, t0 = _cpu(), time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[fast] = [_parse_one(it, fast=fast) for it in items]
        out[fast] = (time.perf_counter() - t0, _cpu() - c0)

    def same(a, b):
        return (a[1] == b[1] and a[2] == b[2] and (a[0] is None) == (b[0] is None)
                and (a[0] is None or all(x.tobytes() == y.tobytes() for x, y in zip(a[0], b[0]))))

    out["identical"] = all(same(a, b) for a, b in zip(results[False], results[True]))
    return out


def full(name: str) -> dict:
    """One uncached load of the whole set with two workers (child mode)."""
    from ctlib.data import load

    t0 = time.perf_counter()
    ds = load(name, cache=False, progress=False, n_jobs=2)
    mb = 1 / 1024  # ru_maxrss is in KiB on Linux
    return {"set": name, "structures": len(ds), "seconds": time.perf_counter() - t0,
            "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * mb,
            "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * mb}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="records per set in the serial part")
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--full", action="store_true", help="also time whole uncached loads")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.one:  # child mode: one full load, JSON on stdout
        print(json.dumps(full(args.one)))
        return

    print(f"{'set':<22}{'records':>8}{'P1':>7}{'pymatgen s':>12}{'P1 s':>8}"
          f"{'pymatgen /CPU s':>17}{'P1 /CPU s':>11}{'speed-up':>10}  identical")
    for name in args.sets:
        r = serial(name, args.n)
        (w0, c0), (w1, c1) = r[False], r[True]
        print(f"{name:<22}{r['records']:>8}{r['p1']:>7}{w0:>12.1f}{w1:>8.1f}"
              f"{r['records'] / c0:>17.0f}{r['records'] / c1:>11.0f}{c0 / c1:>9.1f}x  {r['identical']}",
              flush=True)
    if args.full:
        print(f"\n{'whole set, 2 jobs':<22}{'structs':>8}{'seconds':>9}{'structs/s':>11}"
              f"{'RSS main MB':>13}{'RSS worker MB':>15}")
        for name in args.sets:
            res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", name],
                                 check=True, capture_output=True, text=True)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"{name:<22}{r['structures']:>8}{r['seconds']:>9.1f}"
                  f"{r['structures'] / r['seconds']:>11.0f}{r['rss_main_mb']:>13.0f}"
                  f"{r['rss_worker_mb']:>15.0f}", flush=True)


if __name__ == "__main__":
    main()
