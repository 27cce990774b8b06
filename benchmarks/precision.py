"""A model in fp32 and in bf16 autocast: speed and validation MAE on short matched runs.

The ``cpu`` profile trains CT in bf16 only if bf16 matches fp32 within the
seed spread; the same question for the CGCNN and MEGNet back ends is
``--model cgcnn`` / ``--model megnet``. This script trains the quick profile's
Table I run of the model (MP-2018 E_f, 1,500 training structures, the quick
settings) once per precision and seed, through the same
:class:`ctlib.train.Trainer` the campaign uses, and prints one row per run plus
a summary:

    precision | seed | best val MAE (eV/atom) | train structures/s | peak RSS (MB)

Runs go to a temporary results store and checkpoint folder: nothing is
stored under ``results/``. Only validation MAE is read, never the test split.

``--speed`` instead times training steps on real batches (the quick sample,
batch 64; CT with the 2,048-token cap and augmentation), alternating fp32 and
bf16 step by step on the same batches, so both see the same load on a shared
machine; it prints structures/s of each and their ratio.

Usage::

    python benchmarks/precision.py                  # CT, seeds 0 1, 6 epochs, 2 threads
    python benchmarks/precision.py --seeds 0 1 2 --epochs 4 --json out.json
    python benchmarks/precision.py --model cgcnn --speed 40
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile


def one(precision: str, seed: int, epochs: int, threads: int, model: str = "ct") -> dict:
    """Train one run of ``model`` in this process; return its best val MAE and speed."""
    from ctlib import experiments as ex
    from ctlib.results import ResultStore
    from ctlib.runs import run

    ds, split = ex.mp_data("quick")
    sp = ex.model_split(split, model, "quick")
    sp = {"train": sp["train"], "val": sp["val"]}  # no test split: nothing is read from it
    tcfg = ex.train_config(model, "quick", 1, device="cpu")
    tcfg.update(epochs=epochs, precision=precision, num_threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        rec = run(model, ["formation_energy_per_atom"], ds, sp, model_config=ex.model_config(model, "quick"),
                  train_config=tcfg, seed=seed, store=ResultStore(tmp), run_root=tmp,
                  profile="bench", experiment="precision", progress=False)
    hist = rec["history"]
    speed = statistics.mean(h["structures_per_s"] for h in hist[1:] or hist)
    return {"precision": precision, "seed": seed,
            "best_val_mae": min(h["val_mae_mean"] for h in hist),
            "train_per_s": speed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def speed(steps: int, threads: int, model_name: str = "ct") -> dict:
    """Alternate fp32 and bf16 training steps of ``model_name`` (quick size) on the same batches."""
    import contextlib
    import time

    import torch

    from ctlib import experiments as ex
    from ctlib.data.augment import CrystalAugment
    from ctlib.data.loader import make_loader
    from ctlib.models import build_model

    torch.set_num_threads(threads)
    ds, split = ex.mp_data("quick")
    torch.manual_seed(0)
    model = build_model(model_name, 1, ex.model_config(model_name, "quick"))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    kw = dict(augment=CrystalAugment(), max_tokens=2048) if model.input_kind == "ct" else {}
    loader = make_loader(ds, model.input_kind, split["train"], ["formation_energy_per_atom"], 64,
                         shuffle=True, seed=0, **kw)
    batches = [b for _, b in zip(range(steps), loader)]
    model.train()
    seen = {"fp32": [0, 0.0], "bf16": [0, 0.0]}
    for i, batch in enumerate(batches * 2):
        mode = ("fp32", "bf16")[(i + i // len(batches)) % 2]  # each batch once in each mode
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if mode == "bf16" else contextlib.nullcontext()
        t0 = time.perf_counter()
        with ctx:
            pred = model(batch)
        loss = torch.nn.functional.mse_loss(pred.float(), torch.nan_to_num(batch.y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 2:  # skip warm-up steps
            seen[mode][0] += batch.num_graphs
            seen[mode][1] += time.perf_counter() - t0
    out = {m: n / t for m, (n, t) in seen.items()}
    out["ratio"] = out["bf16"] / out["fp32"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="training seeds (default 0 1)")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per run (default 6, as quick)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--model", default="ct", choices=("ct", "cgcnn", "megnet"), help="model (default ct)")
    ap.add_argument("--speed", type=int, metavar="STEPS", default=0,
                    help="only time STEPS batches in each precision, alternating (e.g. 40)")
    ap.add_argument("--child", nargs=2, metavar=("PRECISION", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.speed:
        r = speed(args.speed, args.threads, args.model)
        print(f"{args.model} training, alternating steps: fp32 {r['fp32']:.1f} structures/s, "
              f"bf16 {r['bf16']:.1f} structures/s, bf16/fp32 = {r['ratio']:.2f}")
        return 0
    if args.child:
        print(json.dumps(one(args.child[0], int(args.child[1]), args.epochs, args.threads, args.model)))
        return 0
    rows = []
    for seed in args.seeds:
        for precision in ("fp32", "bf16"):
            out = subprocess.run([sys.executable, __file__, "--child", precision, str(seed),
                                  "--epochs", str(args.epochs), "--threads", str(args.threads),
                                  "--model", args.model],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return out.returncode
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"{args.model} {r['precision']:>5} seed {r['seed']}: best val MAE {r['best_val_mae']:.4f} eV/atom, "
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
