"""One training process with every core, or one single-thread process per core?

The cpu campaign's tiers 2-4 are some 200 small CGCNN runs. Each run's graphs
are small, so a second torch thread inside one run may gain little, while a
second run beside it, on the other core, could nearly double the work done.
This measures it on a real set the campaign trains on, with the campaign's own
training code and settings (``ctlib.experiments.train_config("cgcnn", "cpu")``):

- ``1 x T``: one process with T = all cores threads (how the campaign trains);
- ``1 x 1``: one process with one thread;
- ``N x 1``: N single-thread processes training at the same time (N = cores).

Each process trains CGCNN for ``--epochs`` epochs; throughput is the mean
structures/s of the epochs after the first (warm-up), summed over concurrent
processes. Peak RSS is per process. Prints one table and, with ``--json``,
writes it.

Usage::

    python benchmarks/workers.py                      # Castelli-3,334, 6 epochs
    python benchmarks/workers.py --set mp_E_f         # the 4,000-cell MP-2018 back end
    python benchmarks/workers.py --set hoip --epochs 8 --json workers.json

Stop other work first (a background campaign too): every figure assumes the
cores are free.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SETS = ("castelli", "hoip", "mp_E_f")


def train(which: str, epochs: int, threads: int) -> dict:
    """Train one CGCNN run in this process; return its steady throughput and peak RSS."""
    import torch

    from ctlib import experiments as ex
    from ctlib.models import build_model
    from ctlib.train import Trainer

    ds, split, target = ex.cgcnn_set(which, "cpu")
    tcfg = ex.train_config("cgcnn", "cpu", 1)
    tcfg.update(epochs=epochs, patience=None, seed=0, num_threads=threads)  # the Trainer sets it
    torch.manual_seed(0)
    trainer = Trainer(build_model("cgcnn", 1, ex.model_config("cgcnn", "cpu")), tcfg, progress=False)
    t0 = time.perf_counter()
    rec = trainer.fit(ds, {"train": split["train"], "val": split["val"]}, [target])
    steady = [h["structures_per_s"] for h in rec["history"][1:]] or [rec["history"][0]["structures_per_s"]]
    return {"structures_per_s": sum(steady) / len(steady), "wall_s": time.perf_counter() - t0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "n_train": len(split["train"])}


def _launch(which: str, epochs: int, threads: int) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", which, str(epochs), str(threads)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def _collect(procs: list[subprocess.Popen]) -> list[dict]:
    out = []
    for p in procs:
        stdout, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"a benchmark process failed (exit {p.returncode}); see its stderr above")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=SETS, default="castelli", help="training set (default castelli)")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per process; the first is warm-up (default 6)")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="cores to fill (default: all)")
    ap.add_argument("--json", help="also write the table to this JSON file")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        which, epochs, threads = a.child[0], int(a.child[1]), int(a.child[2])
        print(json.dumps(train(which, epochs, threads)))
        return 0
    rows = []
    for label, n, threads in ((f"1 x {a.cores}", 1, a.cores), ("1 x 1", 1, 1), (f"{a.cores} x 1", a.cores, 1)):
        res = _collect([_launch(a.set, a.epochs, threads) for _ in range(n)])
        rows.append({"layout": label, "processes": n, "threads": threads,
                     "structures_per_s": sum(r["structures_per_s"] for r in res),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in res), "n_train": res[0]["n_train"]})
    base = rows[0]["structures_per_s"]
    print(f"CGCNN on {a.set} ({rows[0]['n_train']} training cells), {a.epochs} epochs per process")
    print(f"{'layout':>8} | {'structures/s':>12} | {'vs 1 x ' + str(a.cores):>8} | {'peak RSS (MB)':>13}")
    for r in rows:
        print(f"{r['layout']:>8} | {r['structures_per_s']:12.0f} | {r['structures_per_s'] / base:7.2f}x"
              f" | {r['peak_rss_mb']:13.0f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"set": a.set, "epochs": a.epochs, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
