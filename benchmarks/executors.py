"""Runs per hour of the campaign's two executors, side by side on Castelli-3,334.

The campaign shares a many-run step between single-core workers. It had worker
processes that claim runs through lock files (``ctlib campaign --executor processes``);
it now submits each run to a local Dask cluster (the default). This trains the same runs
both ways, and once in one 2-thread process for reference:

- ``one process``: ``step(profile, True, "cpu", RunContext())``, every core;
- ``lock files``: :func:`ctlib.campaign.train_processes` with N workers;
- ``dask``: :func:`ctlib.cluster.train_step` on :func:`ctlib.cluster.local_cluster` (N workers).

The step is ``--runs`` CGCNN runs of the data-scarce transfer's Castelli-3,334 set from
cgcnn92 (seeds 0, 1, ...), the campaign's settings (``ctlib.experiments.train_config``,
cpu) for ``--epochs`` epochs, each into a fresh temporary store, so nothing is reused.
Wall time includes starting the workers and loading the data, as in a campaign. Peak RSS
is the largest of this process and its children. Prints one table; ``--json`` writes it.

Usage::

    python benchmarks/executors.py                    # 6 runs x 10 epochs, 2 workers
    python benchmarks/executors.py --runs 8 --epochs 20 --json executors.json

Stop other work first (a background campaign too): every figure assumes the cores are free.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time


def castelli_runs(p, train, device, context=None, *, n: int = 6, epochs: int = 10) -> list:
    """A step function: ``n`` Castelli-3,334 CGCNN runs from cgcnn92, seeds 0..n-1."""
    from ctlib import experiments as ex

    ds, split, target = ex.cgcnn_set("castelli", p)
    return [ex.train_one("cgcnn", [target], ds, split, profile=p, seed=s, experiment="bench_executors",
                         init="cgcnn92", device=device, train=train, context=context,
                         train_overrides={"epochs": epochs}) for s in range(n)]


def _fresh_store(root: str, label: str) -> None:
    os.environ["CTLIB_RESULTS"] = os.path.join(root, label, "results")
    os.environ["CTLIB_RUNS"] = os.path.join(root, label, "runs")


def main(argv=None) -> int:
    import functools

    from ctlib import campaign, cluster
    from ctlib.config import get_profile
    from ctlib.context import RunContext

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=6, help="runs per executor (default 6)")
    ap.add_argument("--epochs", type=int, default=10, help="epochs per run (default 10)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="workers (default: cores)")
    ap.add_argument("--json", help="also write the table to this JSON file")
    a = ap.parse_args(argv)
    os.environ["CTLIB_ALLOW_DIRTY"] = "1"      # the records go to a temporary store only
    p = get_profile("cpu")
    step = functools.partial(castelli_runs, n=a.runs, epochs=a.epochs)
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for label in ("one process", "lock files", "dask"):
            _fresh_store(root, label.replace(" ", "_"))
            t0 = time.perf_counter()
            if label == "one process":
                step(p, True, "cpu", RunContext())
            elif label == "lock files":
                campaign.train_processes(p, step, a.workers, "cpu")
            else:
                clu, client = cluster.local_cluster(a.workers)
                try:
                    cluster.train_step(client, p, step, device="cpu", pin=True)
                finally:
                    client.close()
                    clu.close()
            wall = time.perf_counter() - t0
            done = [r for r in step(p, False, "cpu") if r is not None]
            if len(done) != a.runs:
                raise SystemExit(f"{label}: {len(done)} of {a.runs} runs stored")
            rss = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
            rows.append({"executor": label, "workers": 1 if label == "one process" else a.workers,
                         "runs": a.runs, "epochs": a.epochs, "wall_s": wall, "runs_per_hour": 3600 * a.runs / wall,
                         "peak_rss_mb": rss / 1024.0})
    base = rows[0]["runs_per_hour"]
    print(f"CGCNN on Castelli-3,334, {a.runs} runs x {a.epochs} epochs per executor")
    print(f"{'executor':>12} | {'workers':>7} | {'wall (s)':>8} | {'runs/h':>7} | {'vs one process':>14} | "
          f"{'peak RSS (MB)':>13}")
    for r in rows:
        print(f"{r['executor']:>12} | {r['workers']:7d} | {r['wall_s']:8.1f} | {r['runs_per_hour']:7.1f} | "
              f"{r['runs_per_hour'] / base:13.2f}x | {r['peak_rss_mb']:13.0f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
