"""CT in fp32 and in bf16 autocast: speed and validation MAE on short matched runs.

The ``cpu`` profile trains CT in bf16 only if bf16 matches fp32 within the
seed spread. This script trains the quick profile's Table I CT run (MP-2018
E_f, 1,500 training structures, the quick CT settings) once per precision and
seed, through the same :class:`ctlib.train.Trainer` the campaign uses, and
prints one row per run plus a summary:

    precision | seed | best val MAE (eV/atom) | train structures/s | peak RSS (MB)

Runs go to a temporary results store and checkpoint folder: nothing is
stored under ``results/``. Only validation MAE is read, never the test split.

Usage::

    python benchmarks/precision.py                  # seeds 0 1, 6 epochs, 2 threads
    python benchmarks/precision.py --seeds 0 1 2 --epochs 4 --json out.json
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile


def one(precision: str, seed: int, epochs: int, threads: int) -> dict:
    """Train one CT run in this process; return its best val MAE and speed."""
    from ctlib import experiments as ex
    from ctlib.results import ResultStore
    from ctlib.train import run

    ds, split = ex.mp_data("quick")
    sp = ex.model_split(split, "ct", "quick")
    sp = {"train": sp["train"], "val": sp["val"]}  # no test split: nothing is read from it
    tcfg = ex.train_config("ct", "quick", 1, device="cpu")
    tcfg.update(epochs=epochs, precision=precision, num_threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        rec = run("ct", ["formation_energy_per_atom"], ds, sp, model_config=ex.model_config("ct", "quick"),
                  train_config=tcfg, seed=seed, store=ResultStore(tmp), run_root=tmp,
                  profile="bench", experiment="precision", progress=False)
    hist = rec["history"]
    speed = statistics.mean(h["structures_per_s"] for h in hist[1:] or hist)
    return {"precision": precision, "seed": seed,
            "best_val_mae": min(h["val_mae_mean"] for h in hist),
            "train_per_s": speed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="training seeds (default 0 1)")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per run (default 6, as quick)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--child", nargs=2, metavar=("PRECISION", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(one(args.child[0], int(args.child[1]), args.epochs, args.threads)))
        return 0
    rows = []
    for seed in args.seeds:
        for precision in ("fp32", "bf16"):
            out = subprocess.run([sys.executable, __file__, "--child", precision, str(seed),
                                  "--epochs", str(args.epochs), "--threads", str(args.threads)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return out.returncode
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"{r['precision']:>5} seed {r['seed']}: best val MAE {r['best_val_mae']:.4f} eV/atom, "
                  f"{r['train_per_s']:.1f} structures/s, peak {r['peak_rss_mb']:.0f} MB", flush=True)
    for precision in ("fp32", "bf16"):
        sel = [r for r in rows if r["precision"] == precision]
        maes = [r["best_val_mae"] for r in sel]
        sd = statistics.stdev(maes) if len(maes) > 1 else float("nan")
        print(f"{precision}: val MAE {statistics.mean(maes):.4f} ± {sd:.4f} over {len(maes)} seeds, "
              f"{statistics.mean(r['train_per_s'] for r in sel):.1f} structures/s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
