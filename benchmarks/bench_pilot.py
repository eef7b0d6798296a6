"""Pilot study for benchmark v2: candidate protocols on a fixed sample of classes, 2 seeds each.

    python benchmarks/bench_pilot.py --round screen       # task difficulty, 30 classes
    python benchmarks/bench_pilot.py --round main         # the short list, 100 classes
    python benchmarks/bench_pilot.py --table              # print the table of everything run so far

Records go to data/pilot_v2/pilot-*.jsonl (resumable: run again to continue); the datasheet of
benchmark v2 renders the same table (naskit.bench.pilot.pilot_stats).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from naskit.bench.pilot import Candidate, pilot_classes, pilot_stats, read_pilot, run_pilot
from naskit.bench.protocol import class_representatives
from naskit.bench.store import load_benchmark
from naskit.core.configs import MNIST1DArgs, NetworkConfig, TrainConfig

FOLDER = Path(__file__).resolve().parent.parent / "data" / "pilot_v2"


def train(epochs=12, batch=128, **kw):
    return TrainConfig(epochs=epochs, batch_size=batch, test_epochs="last_epoch", **kw)


ROUNDS = {
    # task difficulty at a fixed budget: 4,000 training examples, 12 epochs
    "screen": [
        Candidate("default-4k-e12", MNIST1DArgs(n_train=4000), train()),
        Candidate("iid0.1-4k-e12", MNIST1DArgs(n_train=4000, iid_noise_scale=0.1), train()),
        Candidate("iid0.2-4k-e12", MNIST1DArgs(n_train=4000, iid_noise_scale=0.2), train()),
        Candidate("corr0.5-iid0.1-4k-e12", MNIST1DArgs(n_train=4000, corr_noise_scale=0.5, iid_noise_scale=0.1),
                  train()),
        Candidate("shear1.5-4k-e12", MNIST1DArgs(n_train=4000, shear_scale=1.5), train()),
    ],
    # noise makes the task irreducibly hard for every cell; instead, let the cell matter more
    # (deeper networks, as NB201's 5 cells per stage) or make capacity scarce (fewer channels)
    "screen2": [
        Candidate("c3-4k-e8", MNIST1DArgs(n_train=4000), train(8), NetworkConfig(channels=8, cells_per_stage=3)),
        Candidate("c2-4k-e12", MNIST1DArgs(n_train=4000), train(12), NetworkConfig(channels=8, cells_per_stage=2)),
        Candidate("w4-4k-e12", MNIST1DArgs(n_train=4000), train(12), NetworkConfig(channels=4, cells_per_stage=1)),
        Candidate("w4c3-4k-e12", MNIST1DArgs(n_train=4000), train(12), NetworkConfig(channels=4, cells_per_stage=3)),
    ],
    # the short list on 100 classes: deep and narrow (the cell matters most), and the same with
    # 50 % more training data (less seed noise, 1.4x the cost)
    "main": [
        Candidate("w4c3-4k-e12", MNIST1DArgs(n_train=4000), train(12), NetworkConfig(channels=4, cells_per_stage=3)),
        Candidate("w4c3-6k-e12", MNIST1DArgs(n_train=6000), train(12), NetworkConfig(channels=4, cells_per_stage=3)),
    ],
    # more data helped most, but 6k x 12 epochs is over the 30 core-hour budget: the same number
    # of steps with more distinct examples and fewer (costly) validation passes
    "main2": [
        Candidate("w4c3-8k-e8", MNIST1DArgs(n_train=8000), train(8), NetworkConfig(channels=4, cells_per_stage=3)),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--round", choices=sorted(ROUNDS), default=None)
    parser.add_argument("--classes", type=int, default=None, help="classes (default: 30 for screen, 100 otherwise)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    bench = load_benchmark("v1")  # the pilot drew its top and other classes by v1's ranking
    truth = bench.class_values("test_acc")
    keys = bench.meta["keys"]
    reference = {k: float(v) for k, v in zip(keys, truth) if np.isfinite(v)}
    if args.round:
        n = args.classes or (30 if args.round.startswith("screen") else 100)
        chosen = pilot_classes(reference, n_top=round(0.6 * n), n_rest=n - round(0.6 * n))
        run_pilot(FOLDER, ROUNDS[args.round], chosen, class_representatives(), workers=args.workers)
    table = pilot_stats(read_pilot(FOLDER))
    with_pd_options(lambda: print(table.round(3).to_string()))


def with_pd_options(fn):
    import pandas as pd

    with pd.option_context("display.width", 250, "display.max_columns", 30):
        fn()


if __name__ == "__main__":
    main()
