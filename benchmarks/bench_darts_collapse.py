"""DARTS's skip-connection collapse: the skip share of the derived cell over a longer search.

    python benchmarks/bench_darts_collapse.py --epochs 40 --arch-lr 3e-3 --methods darts darts- --seeds 0
    python benchmarks/bench_darts_collapse.py --epochs 20 --cells-per-stage 5 --methods darts   # NB201's depth
    python benchmarks/bench_darts_collapse.py --data-of v2 --epochs 20 --cells-per-stage 5   # on v2's data

DARTS (Liu et al. 2019) tends to fill the cell with parameter-free skip connections as the
search goes on (Zela et al. 2020; Dong & Yang 2020 saw an all-skip cell on NAS-Bench-201).
This runs DARTS and a remedy (DARTS-, DARTS+) with the given settings and prints, per epoch,
the derived cell's skip count, the mean architecture weight on ``skip_connect``, the
convolutions left on the cell's live edges (0: a parameter-free cell, the collapse's end point),
and at the end the found cell's accuracy in naskit's benchmark (or by training it with the benchmark's
protocol when its class is not in the table yet).
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

import naskit
from naskit.bench.build import lookup_or_train
from naskit.bench.protocol import PROTOCOLS
from naskit.bench.store import DEFAULT_VERSION, VERSIONS
from naskit.core.space import OPS, live_edges, parse
from naskit.oneshot import METHODS, OneShotConfig

SKIP = OPS.index("skip_connect")
CONVS = ("nor_conv_1x1", "nor_conv_3x3")


def live_convs(arch) -> int:
    """Convolutions on the edges of a cell that reach its output: 0 is a parameter-free cell."""
    arch = parse(str(arch))
    return sum(arch.ops[i] in CONVS for i in live_edges(arch))


def dataset(n_train: int | None, data_of: str | None = None):
    """MNIST-1D as the lessons use it (3,000 training examples), a generated set with more, or
    the first 3,000 training examples of a shipped table's own data (as lessons 05 and 06 take)."""
    if data_of is not None:
        data = naskit.load_dataset(PROTOCOLS[data_of].dataset)
        return data.subset(min(3000, len(data.y_train)))
    if n_train is None:
        return naskit.load_dataset("mnist1d")
    from naskit.core.configs import MNIST1DArgs

    return naskit.load_dataset(MNIST1DArgs(n_train=n_train, n_valid=2000, n_test=1000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--arch-lr", type=float, default=3e-4)
    parser.add_argument("--cells-per-stage", type=int, default=1, help="supernet depth (NB201: 5)")
    parser.add_argument("--channels", type=int, default=8, help="supernet width (NB201: 16)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training examples of a generated MNIST-1D (default: the lessons' 3,000)")
    parser.add_argument("--data-of", choices=list(PROTOCOLS), default=None,
                        help="search on the first 3,000 training examples of this table's data (not with --n-train)")
    parser.add_argument("--weight-decay", type=float, default=None, help="supernet weight decay (default: DARTS's)")
    parser.add_argument("--methods", nargs="+", default=["darts", "darts-"], choices=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--version", default=DEFAULT_VERSION, choices=list(VERSIONS),
                        help=f"which shipped table judges the found cells (default {DEFAULT_VERSION})")
    args = parser.parse_args()

    if args.data_of is not None and args.n_train is not None:
        parser.error("--data-of and --n-train choose the data two ways: give one")
    data, bench = dataset(args.n_train, args.data_of), naskit.load_benchmark(args.version)
    config = OneShotConfig(epochs=args.epochs, arch_lr=args.arch_lr, cells_per_stage=args.cells_per_stage,
                           channels=args.channels)
    if args.weight_decay is not None:
        config = dataclasses.replace(config, w_weight_decay=args.weight_decay)
    print(f"{args.epochs} epochs, arch_lr {args.arch_lr}, {args.cells_per_stage} cells per stage, "
          f"{args.channels} channels, {len(data.y_train)} training examples, weight decay {config.w_weight_decay}, "
          f"seeds {args.seeds}")
    rows = []
    for name in args.methods:
        for seed in args.seeds:
            r = METHODS[name](data, dataclasses.replace(config, seed=seed))
            skips = [round(6 * log.skip_share) for log in r.history]
            weight = [float(np.mean(np.asarray(log.arch_weights)[:, SKIP])) for log in r.history]
            convs = [live_convs(log.arch) for log in r.history]
            acc, source = lookup_or_train(bench, r.arch)
            early = " (stopped early)" if r.stopped_early else ""
            print(f"\n{name} seed {seed}: {len(r.history)} epochs, {r.wall_seconds:.0f} s wall, "
                  f"{r.cpu_seconds:.0f} CPU-s, {r.flops / 1e9:.0f} GFLOPs{early}")
            print("  skip connections in the derived cell, by epoch:", " ".join(map(str, skips)))
            print("  mean softmax weight on skip_connect, by epoch: ", " ".join(f"{w:.2f}" for w in weight))
            print("  convolutions on live edges of the cell, by epoch:", " ".join(map(str, convs)))
            print(f"  found {r.arch}: test accuracy {100 * acc:.2f} % ({source})", flush=True)
            rows.append(f"| {name} | {args.cells_per_stage} | {args.channels} | {len(data.y_train):,} | "
                        f"{config.w_weight_decay} | {args.arch_lr} | {len(r.history)} | {seed} | {skips[-1]} | "
                        f"{max(skips)} | {weight[-1]:.2f} | {convs[-1]} | {min(convs)} | {100 * acc:.2f} | "
                        f"{r.cpu_seconds / 60:.1f} |")
    print("\n| method | cells/stage | channels | train examples | weight decay | arch lr | epochs | seed "
          "| skips at end | most skips | skip weight at end | live convs at end | fewest live convs "
          "| found cell test % | CPU-min |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
