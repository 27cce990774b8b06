"""Which learning rate lets multi-task CT learn on the full-split cpu setup?

Trains the ``cpu`` profile's multi-task CT (E_f + E_g, coord_scale 0.1,
2,048-token batches, AdamW, cosine over ``--epochs``) on a seeded sample of
the MP-2018 train split, once per learning rate, and prints the training loss
(sum of the two standardised MSEs; 2.0 is the mean predictor) and the
validation MAE after every epoch. Only a sample of the validation split is
read, never the test split.

Why it exists: the first ``cpu`` pretraining used lr 3e-4 (quick's choice,
where OneCycle warms up to it). Without warm-up, 3e-4 left CT at the mean
predictor (training loss ~2.1, validation E_f MAE ~1.0 eV/atom on a 6,000-cell
sample), while 1e-4 learned from the first epoch. ``--json`` keeps the rows.

Usage::

    python tools/ct_lr_probe.py                        # lr 3e-4 2e-4 1e-4 5e-5, 6,000 cells, 3 epochs
    python tools/ct_lr_probe.py --lrs 1e-4 --n-train 2000 --epochs 1 --json probe.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def probe(lr: float, n_train: int, n_val: int, epochs: int, precision: str) -> list[dict]:
    """Train one run; return one row per epoch (train loss, val MAE per target, structures/s)."""
    import torch

    from ctlib import experiments as ex
    from ctlib.models import build_model
    from ctlib.train import Trainer

    ds, split = ex.mp_data("cpu")
    rng = np.random.default_rng(1)
    sp = {"train": np.sort(rng.choice(split["train"], n_train, replace=False)),
          "val": np.sort(rng.choice(split["val"], n_val, replace=False))}
    targets = list(ex.TARGETS.values())
    tcfg = ex.train_config("ct", "cpu", len(targets), front=True)
    tcfg.update(epochs=epochs, precision=precision, seed=0, lr=lr)
    torch.manual_seed(0)
    trainer = Trainer(build_model("ct", len(targets), ex.model_config("ct", "cpu")), tcfg,
                      progress=False)
    rec = trainer.fit(ds, sp, targets)
    return [{"lr": lr, "epoch": h["epoch"], "train_loss": h["train_loss"],
             **{f"val_mae_{t}": v for t, v in h["val_mae"].items()},
             "structures_per_s": h["structures_per_s"]} for h in rec["history"]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lrs", type=float, nargs="+", default=[3e-4, 2e-4, 1e-4, 5e-5],
                    help="peak learning rates to try (default: 3e-4 2e-4 1e-4 5e-5)")
    ap.add_argument("--n-train", type=int, default=6000, help="training cells sampled (default 6000)")
    ap.add_argument("--n-val", type=int, default=1500, help="validation cells sampled (default 1500)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="bf16",
                    help="training precision (default bf16, as the cpu profile)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    a = ap.parse_args(argv)
    rows = []
    for lr in a.lrs:
        t0 = time.perf_counter()
        for r in probe(lr, a.n_train, a.n_val, a.epochs, a.precision):
            rows.append(r)
            print(f"lr {lr:g} epoch {r['epoch']}: loss {r['train_loss']:.4f}  val MAE E_f "
                  f"{r['val_mae_formation_energy_per_atom']:.4f} eV/atom, E_g "
                  f"{r['val_mae_band_gap']:.4f} eV  ({r['structures_per_s']:.0f} structures/s)",
                  flush=True)
        print(f"lr {lr:g}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"args": vars(a), "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
