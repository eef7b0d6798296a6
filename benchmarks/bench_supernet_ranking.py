"""How well a weight-sharing supernet ranks cells, against the benchmark, by training length.

    python benchmarks/bench_supernet_ranking.py --cells 100 --checkpoints 1 2 5 10 20 --seeds 0 1 2

For each seed, a supernet of the table's network width and depth (its protocol; ``--channels`` and
``--cells-per-stage`` change them) is trained by uniform single paths (RSPS) on the data the table
was built on; after each
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
    parser.add_argument("--channels", type=int, default=None, help="supernet width (default: the table's network)")
    parser.add_argument("--cells-per-stage", type=int, default=None, help="supernet depth (default: the table's)")
    parser.add_argument("--version", default=DEFAULT_VERSION, choices=list(VERSIONS),
                        help=f"which shipped table gives the truth (default {DEFAULT_VERSION})")
    args = parser.parse_args()

    bench = naskit.load_benchmark(args.version)
    data, network = naskit.load_dataset(bench.protocol.dataset), bench.protocol.network
    channels, cells_per_stage = args.channels or network.channels, args.cells_per_stage or network.cells_per_stage
    print(f"table {args.version}: {len(bench.entry_names):,} trained classes; {args.cells} cells per seed; "
          f"supernet of {channels} channels, {cells_per_stage} cell(s) per stage")
    studies = []
    for seed in args.seeds:
        study = ranking_quality(data, bench, cells=args.cells, checkpoints=args.checkpoints,
                                config=OneShotConfig(channels=channels, cells_per_stage=cells_per_stage, seed=seed))
        studies.append(study.assign(seed=seed))
        print(study.assign(seed=seed).round(3).to_string(index=False), flush=True)
    table = pd.concat(studies).groupby("epoch")[["kendall", "spearman", "top10%", "train_seconds"]]
    print("\nmean ± std over seeds")
    print((table.mean().round(3).astype(str) + " ± " + table.std().round(3).astype(str)).to_string())


if __name__ == "__main__":
    main()
