"""Benchmark graph building (and collation) on a real dataset.

    python benchmarks/graphs.py                       # mp2018, n_jobs 1 and 2
    python benchmarks/graphs.py --jobs 2 --line-sample 500

Every build runs in a fresh child process with the cache disabled, so timings
and peak memory do not leak between rows. Columns: structures built, wall
seconds of ``build_graphs`` (dataset loading excluded), CPU seconds of all its
processes, structures per wall second and per CPU second (the latter robust
when other jobs share the machine),
peak RSS of the main process (dataset + result) and of the largest worker.
``crystal_graph`` and ``megnet_graph`` cover the whole set; ``line_graph`` a
seeded sample (its arrays are ~12x the crystal graph's).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _dataset(name: str):
    """A registry dataset via ``ctlib.data.load``, or a ``CrystalDataset.save`` file."""
    from ctlib.data import CrystalDataset, load

    if name.endswith(".npz"):
        return CrystalDataset.load(name)
    return load(name, progress=False)


def _sample(ds, n: int | None, seed: int = 0):
    if n is None or n >= len(ds):
        return ds
    return ds.subset(np.sort(np.random.default_rng(seed).choice(len(ds), n, replace=False)))


def run_one(dataset: str, kind: str, n_jobs: int, sample: int | None) -> dict:
    """Build once (no cache) in this process; return timing and memory."""
    from ctlib.data.graphs import build_graphs

    ds = _sample(_dataset(dataset), sample)
    def cpu():
        a = resource.getrusage(resource.RUSAGE_SELF)
        b = resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    gs = build_graphs(ds, kind, cache=False, progress=False, n_jobs=n_jobs)
    sec, cpu_sec = time.perf_counter() - t0, cpu() - c0
    mb = 1 / 1024   # ru_maxrss is in KiB on Linux
    return {"kind": kind, "n_jobs": n_jobs, "structures": len(ds), "atoms": int(ds.natoms.sum()),
            "edges": int(len(gs.src)),
            "line_edges": int(len(gs.lg_src)) if gs.lg_src is not None else 0,
            "seconds": sec, "per_s": len(ds) / sec, "cpu_seconds": cpu_sec,
            "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * mb,
            "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * mb}


def collate_timing(dataset: str, sample: int) -> list[dict]:
    """Milliseconds per batch of collate_graphs / collate_ct on a sample."""
    from ctlib.data.collate import collate_ct, collate_graphs
    from ctlib.data.graphs import build_graphs

    ds = _sample(_dataset(dataset), sample)
    target = sorted(ds.targets)[:1]
    rng = np.random.default_rng(0)
    rows = []
    for kind, bs in (("crystal_graph", 256), ("line_graph", 64), ("ct", 128)):
        gs = None if kind == "ct" else build_graphs(ds, kind, cache=False, progress=False)
        batches = [rng.choice(len(ds), bs, replace=False) for _ in range(20)]
        t0 = time.perf_counter()
        for b in batches:
            collate_ct(ds, b, target) if gs is None else collate_graphs(ds, gs, b, target)
        rows.append({"kind": kind, "batch": bs,
                     "ms": (time.perf_counter() - t0) / len(batches) * 1e3})
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mp2018",
                    help="registry name for ctlib.data.load, or a CrystalDataset .npz")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--line-sample", type=int, default=2000)
    ap.add_argument("--one", nargs=3, metavar=("KIND", "N_JOBS", "SAMPLE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.one:   # child mode: one build, JSON on stdout
        kind, jobs, sample = args.one
        print(json.dumps(run_one(args.dataset, kind, int(jobs), int(sample) or None)))
        return

    _dataset(args.dataset)   # parse + cache once before timing anything
    plan = [("crystal_graph", 0), ("megnet_graph", 0), ("line_graph", args.line_sample)]
    print(f"{'kind':<14}{'n_jobs':>7}{'structs':>9}{'edges':>12}{'line edges':>12}"
          f"{'seconds':>9}{'CPU s':>8}{'structs/s':>11}{'per CPU s':>11}{'RSS main MB':>13}{'RSS worker MB':>15}")
    for kind, sample in plan:
        for jobs in args.jobs:
            out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--dataset",
                                  args.dataset, "--one", kind, str(jobs), str(sample)],
                                 check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['kind']:<14}{r['n_jobs']:>7}{r['structures']:>9}{r['edges']:>12}"
                  f"{r['line_edges']:>12}{r['seconds']:>9.1f}{r['cpu_seconds']:>8.1f}"
                  f"{r['per_s']:>11.0f}{r['structures'] / r['cpu_seconds']:>11.0f}"
                  f"{r['rss_main_mb']:>13.0f}{r['rss_worker_mb']:>15.0f}", flush=True)
    print("\ncollation (random batches of a 2000-structure sample):")
    for r in collate_timing(args.dataset, args.line_sample):
        print(f"  {r['kind']:<14} batch {r['batch']:>4}: {r['ms']:.1f} ms")


if __name__ == "__main__":
    main()
