"""One training process with every core, or one single-thread process per core?

The cpu campaign's tiers 2-4 are some 200 small CGCNN runs. Each run's graphs
are small, so a second torch thread inside one run may gain little, while a
second run beside it, on the other core, could nearly double the work done.
This measures it on a real set the campaign trains on, with the campaign's own
training code and settings (``ctlib.experiments.train_config(model, "cpu")``; ``--model
megnet`` for tier 9's MEGNet back ends, CGCNN by default):

- ``1 x T``: one process with T = all cores threads (how the campaign trains);
- ``1 x 1``: one process with one thread;
- ``N x 1``: N single-thread processes training at the same time (N = cores).

Each process trains CGCNN for ``--epochs`` epochs; throughput is the mean
training structures/s of the epochs after the first (warm-up), summed over
concurrent processes. An epoch also validates on the whole validation split,
which dominates when the training set is small (the learning curve's 500
cells), so the table also gives the wall seconds per epoch of one run, all
processes counted (``wall / (epochs x processes)``, warm-up and validation
included): the campaign's cost per epoch. Peak RSS is per process. Prints one
table and, with ``--json``, writes it.

Usage::

    python benchmarks/workers.py                      # Castelli-3,334, 6 epochs
    python benchmarks/workers.py --set mp_E_f         # the 4,000-cell MP-2018 back end
    python benchmarks/workers.py --set hoip --epochs 8 --json workers.json
    python benchmarks/workers.py --set mp_E_f --n-train 500   # a learning-curve size
    python benchmarks/workers.py --set mp_E_f --n-train 44441 --epochs 2 --skip-one-thread  # the headline's
    python benchmarks/workers.py --set mp_E_f --model megnet --epochs 4 --skip-one-thread    # tier 9's
    python benchmarks/workers.py --model ct --n-train 4000 --epochs 3 --skip-one-thread     # tiers 8 and 11's

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


def train(which: str, epochs: int, threads: int, n_train: int | None = None, model: str = "cgcnn") -> dict:
    """Train one run of ``model`` in this process; return its steady throughput, wall time and
    peak RSS. ``n_train``: another back-end size of an MP-2018 set (the learning curve's)."""
    import torch

    from ctlib import experiments as ex
    from ctlib.models import build_model
    from ctlib.train import Trainer

    if model == "ct":   # the fp32 multi-task pretraining (tiers 8 and 11) on the first n_train cells
        ds, split = ex.mp_data("cpu")
        split = ex.model_split(split, "ct", "cpu", front=True, n_train=n_train)
        targets = list(ex.TARGETS.values())
        tcfg = ex.train_config("ct", "cpu", len(targets), front=True)
        tcfg.update(ex.FP32_OVERRIDES)
    else:
        ds, split, target = ex.cgcnn_set(which, "cpu", n_train=n_train)
        targets, tcfg = [target], ex.train_config(model, "cpu", 1)
    tcfg.update(epochs=epochs, patience=None, seed=0, num_threads=threads)  # the Trainer sets it
    torch.manual_seed(0)
    trainer = Trainer(build_model(model, len(targets), ex.model_config(model, "cpu")), tcfg, progress=False)
    t0 = time.perf_counter()
    rec = trainer.fit(ds, {"train": split["train"], "val": split["val"]}, targets)
    steady = [h["structures_per_s"] for h in rec["history"][1:]] or [rec["history"][0]["structures_per_s"]]
    return {"structures_per_s": sum(steady) / len(steady), "wall_s": time.perf_counter() - t0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "n_train": len(split["train"])}


def _launch(which: str, epochs: int, threads: int, n_train: int | None, model: str) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", which, str(epochs), str(threads), str(n_train or 0), model]
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
    ap.add_argument("--model", choices=("cgcnn", "megnet", "ct"), default="cgcnn",
                    help="model to train (default cgcnn; megnet: tier 9's CT-M back ends; ct: the fp32 "
                         "multi-task pretraining of tiers 8 and 11, on the first --n-train cells of "
                         "its training split; --set is then ignored)")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per process; the first is warm-up (default 6)")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="cores to fill (default: all)")
    ap.add_argument("--n-train", type=int, help="back-end training cells of an mp_* set "
                    "(default: the profile's 4,000; the learning curve uses 500 to 8,000)")
    ap.add_argument("--skip-one-thread", action="store_true",
                    help="leave out the 1 x 1 layout (the two that a campaign chooses between stay)")
    ap.add_argument("--json", help="also write the table to this JSON file")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        which, epochs, threads, n_train = a.child[0], int(a.child[1]), int(a.child[2]), int(a.child[3])
        print(json.dumps(train(which, epochs, threads, n_train or None, a.child[4])))
        return 0
    if a.model == "ct" and a.n_train is None:
        ap.error("--model ct needs --n-train (a pretraining epoch on the whole split takes minutes)")
    if a.n_train is not None and a.model != "ct" and not a.set.startswith("mp_"):
        ap.error(f"--n-train applies to the MP-2018 set mp_E_f, not {a.set}")
    rows = []
    layouts = [(f"1 x {a.cores}", 1, a.cores), ("1 x 1", 1, 1), (f"{a.cores} x 1", a.cores, 1)]
    for label, n, threads in [x for x in layouts if not (a.skip_one_thread and x[0] == "1 x 1")]:
        t0 = time.perf_counter()
        res = _collect([_launch(a.set, a.epochs, threads, a.n_train, a.model) for _ in range(n)])
        wall = time.perf_counter() - t0          # process start and data loading included
        rows.append({"layout": label, "processes": n, "threads": threads,
                     "structures_per_s": sum(r["structures_per_s"] for r in res),
                     "s_per_run_epoch": max(r["wall_s"] for r in res) / (a.epochs * n),
                     "wall_s": wall, "peak_rss_mb": max(r["peak_rss_mb"] for r in res),
                     "n_train": res[0]["n_train"]})
    base, base_epoch = rows[0]["structures_per_s"], rows[0]["s_per_run_epoch"]
    on = "MP-2018 E_f + E_g, the pretraining split" if a.model == "ct" else a.set
    print(f"{a.model.upper()} on {on} ({rows[0]['n_train']} training cells), {a.epochs} epochs per process")
    print(f"{'layout':>8} | {'train str/s':>11} | {'vs 1 x ' + str(a.cores):>8} | {'s/run-epoch':>11} | "
          f"{'runs/h vs 1 x ' + str(a.cores):>15} | {'peak RSS (MB)':>13}")
    for r in rows:
        print(f"{r['layout']:>8} | {r['structures_per_s']:11.0f} | {r['structures_per_s'] / base:7.2f}x"
              f" | {r['s_per_run_epoch']:11.2f} | {base_epoch / r['s_per_run_epoch']:14.2f}x"
              f" | {r['peak_rss_mb']:13.0f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"model": a.model, "set": on, "epochs": a.epochs, "n_train": a.n_train, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
