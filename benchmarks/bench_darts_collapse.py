"""DARTS's skip-connection collapse: the skip share of the derived cell over a longer search.

    python benchmarks/bench_darts_collapse.py --epochs 40 --arch-lr 3e-3 --methods darts darts- --seeds 0

DARTS (Liu et al. 2019) tends to fill the cell with parameter-free skip connections as the
search goes on (Zela et al. 2020; Dong & Yang 2020 saw an all-skip cell on NAS-Bench-201).
This runs DARTS and a remedy (DARTS-, DARTS+) with the given settings and prints, per epoch,
the derived cell's skip count, the mean architecture weight on ``skip_connect``, and at the
end the found cell's accuracy in naskit's benchmark (or by training it with the benchmark's
protocol when its class is not in the table yet).
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

import naskit
from naskit.bench.build import lookup_or_train
from naskit.oneshot import METHODS, OneShotConfig
from naskit.space import OPS

SKIP = OPS.index("skip_connect")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--arch-lr", type=float, default=3e-4)
    parser.add_argument("--methods", nargs="+", default=["darts", "darts-"], choices=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()

    data, bench = naskit.load_dataset("mnist1d"), naskit.load_benchmark()
    config = OneShotConfig(epochs=args.epochs, arch_lr=args.arch_lr)
    print(f"{args.epochs} epochs, arch_lr {args.arch_lr}, seeds {args.seeds}")
    for name in args.methods:
        for seed in args.seeds:
            r = METHODS[name](data, dataclasses.replace(config, seed=seed))
            skips = [round(6 * log.skip_share) for log in r.history]
            weight = [float(np.mean(np.asarray(log.arch_weights)[:, SKIP])) for log in r.history]
            acc, source = lookup_or_train(bench, r.arch)
            print(f"\n{name} seed {seed}: {len(r.history)} epochs, {r.wall_seconds:.0f} s wall, "
                  f"{r.flops / 1e9:.0f} GFLOPs{' (stopped early)' if r.stopped_early else ''}")
            print("  skip connections in the derived cell, by epoch:", " ".join(map(str, skips)))
            print("  mean softmax weight on skip_connect, by epoch: ", " ".join(f"{w:.2f}" for w in weight))
            print(f"  found {r.arch}: test accuracy {100 * acc:.2f} % ({source})", flush=True)


if __name__ == "__main__":
    main()
