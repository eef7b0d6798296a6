"""One-shot NAS at lesson scale: the cell each method finds, its benchmark accuracy, the cost.

    python benchmarks/bench_oneshot.py --epochs 10 --seeds 0 1 2
    python benchmarks/bench_oneshot.py --device cuda --epochs 10 --seeds 0     # on a GPU

Each method (RSPS, DARTS, GDAS, DARTS-, DARTS+) searches on MNIST-1D's train/valid split;
the found cell's final test accuracy is looked up in naskit's benchmark, or, while the table
is incomplete, obtained by training the cell with the benchmark's protocol (seed 0).
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

import naskit
from naskit.bench.build import lookup_or_train
from naskit.oneshot import METHODS, OneShotConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--arch-lr", type=float, default=None, help="architecture learning rate (default: DARTS's)")
    args = parser.parse_args()

    data = naskit.load_dataset("mnist1d")
    try:
        bench = naskit.load_benchmark()
    except (FileNotFoundError, ValueError):
        bench = None
    config = OneShotConfig(epochs=args.epochs, device=args.device)
    if args.arch_lr is not None:
        config = dataclasses.replace(config, arch_lr=args.arch_lr)
    print(f"{args.epochs} epochs, device {args.device}, seeds {args.seeds}")
    print(f"{'method':8s}{'seed':>5s}{'skips':>6s}{'test acc':>10s}{'wall s':>8s}{'CPU s':>8s}{'GFLOPs':>9s}  cell")
    for name in args.methods:
        accs = []
        for seed in args.seeds:
            r = METHODS[name](data, dataclasses.replace(config, seed=seed))
            acc, _ = lookup_or_train(bench, r.arch)
            accs.append(acc)
            skips = sum(op == "skip_connect" for op in r.arch.ops)
            print(f"{name:8s}{seed:5d}{skips:6d}{100 * acc:9.2f}%{r.wall_seconds:8.1f}{r.cpu_seconds:8.1f}"
                  f"{r.flops / 1e9:9.1f}  {r.arch}", flush=True)
        print(f"{name:8s} mean test acc {100 * np.mean(accs):.2f} ± {100 * np.std(accs):.2f} over {len(accs)} seeds")


if __name__ == "__main__":
    main()
