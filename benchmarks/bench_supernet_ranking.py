"""How well a weight-sharing supernet ranks cells, against the benchmark, by training length.

    python benchmarks/bench_supernet_ranking.py --cells 100 --checkpoints 1 2 5 10 20 --seeds 0 1 2

For each seed, a supernet is trained by uniform single paths (RSPS) on MNIST-1D; after each
checkpoint epoch a fixed sample of trained classes (drawn with the seed) is ranked by
inherited validation accuracy, and Kendall τ / Spearman ρ with the benchmark's test accuracy
are printed (``naskit.oneshot.ranking.ranking_quality``).
"""

from __future__ import annotations

import argparse

import pandas as pd

import naskit
from naskit.bench.store import DEFAULT_VERSION, VERSIONS
from naskit.oneshot import OneShotConfig
from naskit.oneshot.ranking import ranking_quality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[1, 2, 5, 10, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--version", default=DEFAULT_VERSION, choices=list(VERSIONS),
                        help=f"which shipped table gives the truth (default {DEFAULT_VERSION})")
    args = parser.parse_args()

    data, bench = naskit.load_dataset("mnist1d"), naskit.load_benchmark(args.version)
    print(f"table {args.version}: {len(bench.entry_names):,} trained classes; {args.cells} cells per seed")
    studies = []
    for seed in args.seeds:
        study = ranking_quality(data, bench, cells=args.cells, checkpoints=args.checkpoints,
                                config=OneShotConfig(channels=args.channels, seed=seed))
        studies.append(study.assign(seed=seed))
        print(study.assign(seed=seed).round(3).to_string(index=False), flush=True)
    table = pd.concat(studies).groupby("epoch")[["kendall", "spearman", "top10%", "train_seconds"]]
    print("\nmean ± std over seeds")
    print((table.mean().round(3).astype(str) + " ± " + table.std().round(3).astype(str)).to_string())


if __name__ == "__main__":
    main()
