"""Subnormal bond features: training speed with and without zeroing them, and the same bits?

CGCNN and MEGNet expand each bond length d into Gaussians exp(-(d - mu)^2 / w^2).
For a centre mu 9.3-10.2 w from d the value falls below 1.2e-38, into fp32's
subnormal range, which x86 CPUs multiply and add through a slow path: on MP-2018
batches some 4 % of CGCNN's bond features are subnormal, and the matmuls that
read them ran several times slower. :class:`ctlib.models.GaussianExpansion`
returns them as exactly 0 (``flush_subnormal``, on by default).

This trains each model twice on the same cells, through the campaign's own
:func:`ctlib.runs.run` (a temporary store; the validation split only, never
the test split), with ``GaussianExpansion.flush_subnormal`` off (the values as
computed) and on, each in a fresh process, and prints per model: training
structures/s (mean over the epochs after the first), wall time per epoch
(training and validation, with the setup spread over the epochs), peak RSS,
and whether the two runs agree bit for bit (every epoch's training loss and
validation MAE, and the final validation metrics).

Flushing the CPU's whole floating-point unit (``torch.set_flush_denormal``)
was tried first and dropped: it sets only the calling thread, so the
OpenMP worker threads that torch had already started kept the slow path.

Usage::

    python benchmarks/denormals.py                       # cgcnn megnet, 3 epochs, 1,000 cells
    python benchmarks/denormals.py --models cgcnn --epochs 5 --json denormals.json

Stop other work first (a background campaign too): the speeds assume free cores.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time

MODELS = ("cgcnn", "megnet")   # the models with Gaussian bond features on the cpu profile


def one(model: str, flush: bool, epochs: int, n_train: int, threads: int) -> dict:
    """Train one short run of ``model`` on the cpu profile's MP-2018 E_f back-end split, in this process."""
    from ctlib import experiments as ex
    from ctlib.models import GaussianExpansion
    from ctlib.results import ResultStore
    from ctlib.runs import run

    GaussianExpansion.flush_subnormal = flush
    ds, split = ex.mp_data("cpu")
    sp = ex.model_split(split, model, "cpu")
    sp = {"train": sp["train"][:n_train], "val": sp["val"]}   # no test split: nothing is read from it
    tcfg = ex.train_config(model, "cpu", 1, device="cpu")
    tcfg.update(epochs=epochs, patience=None, num_threads=threads)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rec = run(model, [ex.TARGETS["E_f"]], ds, sp, model_config=ex.model_config(model, "cpu"),
                  train_config=tcfg, seed=0, store=ResultStore(tmp), run_root=tmp,
                  profile="bench", experiment="denormals", progress=False)
    hist = rec["history"]
    return {"model": model, "flush_subnormal": flush, "n_train": len(sp["train"]), "n_val": len(sp["val"]),
            "train_per_s": statistics.mean(h["structures_per_s"] for h in hist[1:] or hist),
            "wall_per_epoch_s": (time.perf_counter() - t0) / len(hist),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "bits": [[h["train_loss"], h["val_mae_mean"]] for h in hist] + [rec["val"]]}


def _child(model: str, flush: bool, epochs: int, n_train: int, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--child", model, str(int(flush)), str(epochs), str(n_train),
           str(threads)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the {model} run (flush_subnormal={flush}) failed (exit {out.returncode}); "
                         f"see its stderr above")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                    help="models to time (default: all)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is warm-up (default 3)")
    ap.add_argument("--n-train", type=int, default=1000, help="training cells (default 1000)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2, the campaign's)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        m, flush, epochs, n, threads = a.child
        print(json.dumps(one(m, bool(int(flush)), int(epochs), int(n), int(threads))))
        return 0
    rows = [_child(m, flush, a.epochs, a.n_train, a.threads) for m in a.models for flush in (False, True)]
    print(f"MP-2018 E_f, {a.n_train} training cells, full validation split, {a.epochs} epochs, "
          f"{a.threads} threads")
    print(f"{'model':>6} | {'flush':>5} | {'train str/s':>11} | {'s/epoch':>7} | {'speed-up':>8} | "
          f"{'peak RSS (MB)':>13} | same bits")
    for off, on in zip(rows[::2], rows[1::2]):
        same = "yes" if off["bits"] == on["bits"] else "NO"
        for r in (off, on):
            up = off["wall_per_epoch_s"] / r["wall_per_epoch_s"]
            print(f"{r['model']:>6} | {'on' if r['flush_subnormal'] else 'off':>5} | {r['train_per_s']:11.0f} | "
                  f"{r['wall_per_epoch_s']:7.1f} | {up:7.2f}x | {r['peak_rss_mb']:13.0f} | {same}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"epochs": a.epochs, "n_train": a.n_train, "threads": a.threads, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
