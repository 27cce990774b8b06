"""Training throughput of the four models on one real MP-2018 sample.

For each model, in its own child process (so peak memory is that model's):
build its input (graphs; nothing for CT) for the sample, train for whole
epochs over the sample (AdamW, batch as in the quick profile, paper-size
architecture unless told otherwise), then run one pass of inference.
Prints one table:

    model | input build (structures/s) | train (structures/s) | eval (structures/s) | peak RSS (MB)

The first training epoch includes warm-up (allocator, first kernels), so
training is timed over the epochs after the first (``--epochs 2`` times one).

Usage::

    python benchmarks/throughput.py                    # all models, 2 threads
    python benchmarks/throughput.py --models ct --ct-max-tokens 0   # CT without the token cap
    python benchmarks/throughput.py --models alignn --alignn-hidden 64 --threads 1
    python benchmarks/throughput.py --models ct ct-bf16      # CT in fp32 and in bf16 autocast

``ct-bf16`` is CT with its training forward pass under bf16 autocast (the cpu
profile's setting, ``TrainConfig.precision="bf16"``); inference stays fp32.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(name: str, args) -> dict:
    """Time input building, training and inference of one model in this process."""
    from ctlib.data import get_split, load
    from ctlib.data.graphs import build_graphs
    from ctlib.data.loader import make_loader
    from ctlib.models import build_model

    torch.set_num_threads(args.threads)
    ds = load("mp2018", progress=False)
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(get_split(ds)["train"], size=args.n, replace=False))
    sample = ds.subset(idx)
    target = ["formation_energy_per_atom"]
    cfg = {"hidden": args.alignn_hidden} if name == "alignn" else {}
    bf16 = name == "ct-bf16"
    torch.manual_seed(0)
    model = build_model("ct" if bf16 else name, 1, cfg)
    kind = model.input_kind
    extra = {"max_tokens": args.ct_max_tokens or None} if kind == "ct" else {}
    t0 = time.perf_counter()
    graphs = None if kind == "ct" else build_graphs(sample, kind, cache=False, progress=False)
    build = len(sample) / (time.perf_counter() - t0) if graphs is not None else None
    loader = make_loader(sample, kind, np.arange(len(sample)), target, args.batch, shuffle=True,
                         seed=0, graphs=graphs, **extra)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()
    seen, t_train = 0, 0.0
    for epoch in range(args.epochs):
        loader.set_epoch(epoch)
        t0 = time.perf_counter()
        for batch in loader:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                pred = model(batch)
            loss = torch.nn.functional.mse_loss(pred.float(), batch.y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if epoch > 0 or args.epochs == 1:
                seen += batch.num_graphs
        if epoch > 0 or args.epochs == 1:
            t_train += time.perf_counter() - t0
    model.eval()
    n_eval, t0 = 0, time.perf_counter()
    with torch.no_grad():
        for batch in make_loader(sample, kind, np.arange(len(sample)), target, args.batch,
                                 shuffle=False, graphs=graphs, **extra):
            model(batch)
            n_eval += batch.num_graphs
    ev = n_eval / (time.perf_counter() - t0)
    return {"model": name, "build": build, "train": seen / t_train, "eval": ev, "peak_mb": _peak_mb()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["cgcnn", "megnet", "alignn", "ct", "ct-bf16"],
                    choices=["cgcnn", "megnet", "alignn", "ct", "ct-bf16"])
    ap.add_argument("--n", type=int, default=640, help="structures in the sample (default 640)")
    ap.add_argument("--epochs", type=int, default=2,
                    help="training epochs over the sample; the first is warm-up (default 2)")
    ap.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--alignn-hidden", type=int, default=256, help="ALIGNN width (quick uses 64)")
    ap.add_argument("--ct-max-tokens", type=int, default=2048,
                    help="CT: cap on padded atoms per batch, as the quick profile (0 = no cap)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:                        # one model, row as JSON on the last line
        print(json.dumps(measure(args.models[0], args)))
        return 0
    rows = []
    shared = ["--n", str(args.n), "--epochs", str(args.epochs), "--batch", str(args.batch),
              "--threads", str(args.threads), "--alignn-hidden", str(args.alignn_hidden),
              "--ct-max-tokens", str(args.ct_max_tokens)]
    for name in args.models:
        out = subprocess.run([sys.executable, __file__, *shared, "--models", name, "--child"],
                             capture_output=True, text=True)
        if out.returncode:
            sys.stderr.write(out.stderr)
            raise SystemExit(f"benchmark of {name} failed (exit {out.returncode}); stderr above")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  {name}: done", file=sys.stderr)

    print(f"\nmp2018 sample of {args.n} structures, batch {args.batch}, {args.threads} threads, "
          f"{args.epochs} epochs (first = warm-up), CT max_tokens {args.ct_max_tokens or 'none'}, "
          f"ALIGNN hidden {args.alignn_hidden}\n")
    print(f"| {'model':7} | {'build /s':>9} | {'train /s':>9} | {'eval /s':>9} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 9}|{'-' * 11}|{'-' * 11}|{'-' * 11}|{'-' * 13}|")
    for r in rows:
        bs = "—" if r["build"] is None else f"{r['build']:9.0f}"
        print(f"| {r['model']:7} | {bs:>9} | {r['train']:9.1f} | {r['eval']:9.1f} | {r['peak_mb']:11.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
