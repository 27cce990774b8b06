"""Does early stopping cut a CGCNN back end short under the cpu profile's OneCycle schedule?

Trains CGCNN from its own ``cgcnn92`` start (or, with ``--model megnet``, MEGNet
from its own default start, the baseline of the CT-M claims) with the ``cpu``
profile's training settings (AdamW, OneCycle to lr 1e-3, batch 64) for
``--epochs`` epochs with no patience, on one of the sets the campaign's back
ends train on, and prints the validation MAE after every epoch. It then replays
early stopping on that curve: for each patience, the epoch where training would
have stopped and the best validation MAE reached by then, beside the best of the
whole schedule. Only the validation split is read, never the test split.

Why it exists: the cpu profile first stopped every CGCNN run after 15 epochs
without a lower validation MAE. Under OneCycle the learning rate is still high
in the middle of the schedule, the validation curve is noisy there, and the
lowest errors come in the last epochs as the rate anneals. On HOIP, patience
15 stopped at epoch 34 with a validation MAE 2.8x the full schedule's; the
profile now trains the whole schedule and keeps the best validation epoch.

Usage::

    python tools/stop_probe.py hoip                    # HOIP atomization energy, 100 epochs
    python tools/stop_probe.py castelli --json c.json  # Castelli-3,334 formation energy
    python tools/stop_probe.py mp_E_f --epochs 60      # the 4,000-cell MP-2018 back end
    python tools/stop_probe.py hoip --store            # keep the record the book quotes
    python tools/stop_probe.py mp_E_f --model megnet --epochs 60   # tier 9's MEGNet back end

``--store`` writes the record to
``results/cpu/analysis/stop_probe/<set>-e<epochs>.json``
(``<set>-megnet-e<epochs>.json`` for MEGNet) with its provenance (commit, library
versions, threads, wall time). It refuses a git tree with uncommitted changes, like the
campaign: the methods page quotes these records and a test checks the quoted numbers
against them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "results" / "cpu" / "analysis" / "stop_probe"
SETS = ("castelli", "hoip", "mp_E_f", "mp_E_g")


def curve(which: str, epochs: int, threads: int, model: str = "cgcnn") -> tuple[list[dict], int]:
    """Train one run of ``model`` from its own default start (``experiments.DEFAULT_INIT``);
    return (one row per epoch: train loss, val MAE, lr, structures/s; n_train)."""
    import torch

    from ctlib import experiments as ex
    from ctlib.models import build_model
    from ctlib.train import Trainer

    ds, split, target = ex.cgcnn_set(which, "cpu")
    tcfg = ex.train_config(model, "cpu", 1)
    tcfg.update(epochs=epochs, patience=None, seed=0, log_every=1, num_threads=threads)
    torch.manual_seed(0)
    trainer = Trainer(build_model(model, 1, ex.model_config(model, "cpu")), tcfg, progress=False)
    rec = trainer.fit(ds, {"train": split["train"], "val": split["val"]}, [target])
    return [{"epoch": h["epoch"], "train_loss": h["train_loss"], "val_mae": h["val_mae_mean"],
             "lr": h.get("lr"), "structures_per_s": h["structures_per_s"]}
            for h in rec["history"]], len(split["train"])


def replay(rows: list[dict], patience: int) -> dict:
    """Where early stopping with ``patience`` would have stopped on this validation curve."""
    best, best_epoch, bad = float("inf"), 0, 0
    for r in rows:
        if r["val_mae"] < best:
            best, best_epoch, bad = r["val_mae"], r["epoch"], 0
        else:
            bad += 1
        if bad >= patience:
            return {"patience": patience, "stopped_at": r["epoch"], "best_epoch": best_epoch, "best_val_mae": best}
    return {"patience": patience, "stopped_at": None, "best_epoch": best_epoch, "best_val_mae": best}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", choices=SETS, help="the training set (castelli, hoip, or the MP-2018 back end)")
    ap.add_argument("--model", choices=("cgcnn", "megnet"), default="cgcnn",
                    help="the back end, from its own default start (default cgcnn, from cgcnn92)")
    ap.add_argument("--epochs", type=int, default=100, help="length of the OneCycle schedule (default 100)")
    ap.add_argument("--patience", type=int, nargs="+", default=[10, 15, 20, 30],
                    help="patiences to replay on the curve (default: 10 15 20 30)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--json", help="also write the curve and the replays to this JSON file")
    ap.add_argument("--store", action="store_true",
                    help="also store the record under results/cpu/analysis/stop_probe/ (clean tree only)")
    a = ap.parse_args(argv)
    if a.store:
        sys.path.insert(0, str(ROOT))
        from ctlib.utils import code_version

        code = code_version(ROOT)
        if code["dirty"] is not False:
            ap.error(f"--store needs a clean git tree at {ROOT} (commit first): got {code}")
    t0 = time.perf_counter()
    rows, n_train = curve(a.set, a.epochs, a.threads, a.model)
    wall = time.perf_counter() - t0
    full = replay(rows, a.epochs + 1)
    print(f"{a.model} on {a.set}: {n_train} training cells, {a.epochs} epochs in {wall:.0f} s; best validation MAE "
          f"{full['best_val_mae']:.4f} at epoch {full['best_epoch']}")
    replays = [replay(rows, k) for k in a.patience]
    for r in replays:
        where = "never stops" if r["stopped_at"] is None else f"stops at epoch {r['stopped_at']}"
        print(f"  patience {r['patience']:>3}: {where}; best {r['best_val_mae']:.4f} (epoch {r['best_epoch']}),"
              f" {r['best_val_mae'] / full['best_val_mae']:.2f}x the full schedule's")
    record = {"args": vars(a), "n_train": n_train, "wall_s": wall, "best": full, "rows": rows,
              "replays": replays}
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(record, fh, indent=1)
    if a.store:
        import platform

        import torch

        record["provenance"] = {**code, "torch": torch.__version__, "python": platform.python_version(),
                                "threads": a.threads, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "command": "python tools/stop_probe.py " + " ".join(argv or sys.argv[1:])}
        STORE.mkdir(parents=True, exist_ok=True)
        out = STORE / (f"{a.set}-e{a.epochs}.json" if a.model == "cgcnn" else f"{a.set}-{a.model}-e{a.epochs}.json")
        out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"stored {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
