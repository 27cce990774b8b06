"""Training throughput of the four models on one real MP-2018 sample.

For each model: build its input (graphs, or nothing for CT) for the sample,
then run a fixed number of training steps (AdamW, batch as in the quick
profile, paper-size architecture) and a pass of inference. Prints one table:

    model | input build (structures/s) | train (structures/s) | eval (structures/s) | peak RSS (MB)

Usage::

    python benchmarks/throughput.py                 # all models, 2 threads
    python benchmarks/throughput.py --models cgcnn ct --steps 20 --threads 1

Peak RSS is the process maximum so far (it only grows), so models are run in
the order given; run one model per call for isolated memory figures.
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["cgcnn", "megnet", "alignn", "ct"])
    ap.add_argument("--n", type=int, default=640, help="structures in the sample (default 640)")
    ap.add_argument("--steps", type=int, default=10, help="training steps per model (default 10)")
    ap.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--alignn-hidden", type=int, default=256, help="ALIGNN width (quick uses 64)")
    args = ap.parse_args(argv)

    from ctlib.data import get_split, load
    from ctlib.data.featurize import build_graphs, make_loader
    from ctlib.models import build_model

    torch.set_num_threads(args.threads)
    ds = load("mp2018", progress=False)
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(get_split(ds)["train"], size=args.n, replace=False))
    sample = ds.subset(idx)
    target = ["formation_energy_per_atom"]
    rows = []
    for name in args.models:
        cfg = {"hidden": args.alignn_hidden} if name == "alignn" else {}
        model = build_model(name, 1, cfg)
        kind = model.input_kind
        t0 = time.perf_counter()
        graphs = None if kind == "ct" else build_graphs(sample, kind, cache=False, progress=False)
        build = (len(sample) / (time.perf_counter() - t0)) if graphs is not None else float("nan")
        loader = make_loader(sample, kind, np.arange(len(sample)), target, args.batch, shuffle=True,
                             seed=0, graphs=graphs)
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        model.train()
        seen, steps, t0 = 0, 0, time.perf_counter()
        while steps < args.steps:
            for batch in loader:
                loss = torch.nn.functional.mse_loss(model(batch), batch.y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                seen += batch.num_graphs
                steps += 1
                if steps >= args.steps:
                    break
        train = seen / (time.perf_counter() - t0)
        model.eval()
        seen, t0 = 0, time.perf_counter()
        with torch.no_grad():
            for batch in make_loader(sample, kind, np.arange(len(sample)), target, args.batch,
                                     shuffle=False, graphs=graphs):
                model(batch)
                seen += batch.num_graphs
        ev = seen / (time.perf_counter() - t0)
        rows.append((name, build, train, ev, _peak_mb()))

    print(f"\nmp2018 sample of {len(sample)} structures, batch {args.batch}, {args.threads} threads, "
          f"{args.steps} training steps\n")
    print(f"| {'model':7} | {'build /s':>9} | {'train /s':>9} | {'eval /s':>9} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 9}|{'-' * 11}|{'-' * 11}|{'-' * 11}|{'-' * 13}|")
    for name, b, t, e, m in rows:
        bs = "—" if np.isnan(b) else f"{b:9.0f}"
        print(f"| {name:7} | {bs:>9} | {t:9.1f} | {e:9.1f} | {m:11.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
