"""One-shot NAS at lesson scale: the cell each method finds, its benchmark accuracy, the cost.

    python benchmarks/bench_oneshot.py --epochs 10 --seeds 0 1 2
    python benchmarks/bench_oneshot.py --epochs 10 --seeds 0 1 2 --jobs 2 --baselines 100
    python benchmarks/bench_oneshot.py --device cuda --epochs 10 --seeds 0     # on a GPU

Each method (RSPS, DARTS, GDAS, DARTS-, DARTS+) searches on the train/valid split of the data
the table was built on, with a supernet of the table's network width and depth (its protocol);
the found cell's final test accuracy is looked up in naskit's benchmark, or, while the table
is incomplete, obtained by training the cell as the build would (`lookup_or_train`: its protocol and seeds).
``--baselines N`` then gives random search and regularized evolution each method's mean FLOPs
as their budget on the benchmark (each evaluation charges the FLOPs of training that cell with
the benchmark's protocol) over N seeds: black-box search at the same cost.
``--jobs`` runs that many searches at once (one process each, one thread per process).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses

import numpy as np

import naskit
from naskit.bench.build import lookup_or_train
from naskit.bench.protocol import PROTOCOLS
from naskit.bench.store import DEFAULT_VERSION, VERSIONS
from naskit.evaluators.tabular import TabularEvaluator
from naskit.oneshot import METHODS, OneShotConfig
from naskit.runs.budget import Budget
from naskit.runs.experiment import experiment, final_table


def one_search(name: str, config: OneShotConfig, dataset) -> dict:
    """Run one method with one seed on ``dataset`` (what ``load_dataset`` takes); what the table needs of it."""
    import torch

    torch.set_num_threads(1)
    r = METHODS[name](naskit.load_dataset(dataset), config)
    return {"method": name, "seed": config.seed, "arch": r.arch, "wall": r.wall_seconds, "cpu": r.cpu_seconds,
            "flops": r.flops}


def equal_cost(bench, flops: float, seeds: int) -> dict:
    """Random search and regularized evolution with ``flops`` to spend, over ``seeds`` seeds:
    name -> (mean, sample std of the final test accuracy, mean evaluations within the budget)."""
    df = experiment(["random", "evolution"], TabularEvaluator(bench), seeds=range(seeds),
                    budget=Budget(flops=flops), progress=False)
    table = final_table(df, baseline=None)
    evals = df[df["within_budget"]].groupby(["strategy", "seed"]).size().groupby("strategy").mean()
    return {name: (row["mean"], row["std"], evals[name]) for name, row in table.iterrows()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--arch-lr", type=float, default=None, help="architecture learning rate (default: DARTS's)")
    parser.add_argument("--jobs", type=int, default=1, help="searches run at once (processes)")
    parser.add_argument("--baselines", type=int, default=0, help="seeds of black-box search at each method's cost")
    parser.add_argument("--version", default=DEFAULT_VERSION, choices=list(VERSIONS),
                        help=f"which shipped table judges the found cells (default {DEFAULT_VERSION})")
    args = parser.parse_args()

    try:
        bench = naskit.load_benchmark(args.version)
    except (FileNotFoundError, ValueError):
        bench = None
    protocol = PROTOCOLS[args.version]
    config = OneShotConfig(epochs=args.epochs, device=args.device, channels=protocol.network.channels,
                           cells_per_stage=protocol.network.cells_per_stage)
    if args.arch_lr is not None:
        config = dataclasses.replace(config, arch_lr=args.arch_lr)
    print(f"{args.epochs} epochs, device {args.device}, seeds {args.seeds}, judged on table {args.version}")
    print(f"{'method':8s}{'seed':>5s}{'skips':>6s}{'test acc':>10s}{'wall s':>8s}{'CPU s':>8s}{'GFLOPs':>9s}  cell")
    tasks = [(name, dataclasses.replace(config, seed=seed), protocol.dataset) for name in args.methods
             for seed in args.seeds]
    with cf.ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(one_search, *zip(*tasks)))
    summary = {}
    for name in args.methods:
        accs, flops = [], []
        for r in (r for r in runs if r["method"] == name):
            acc, _ = lookup_or_train(bench, r["arch"], protocol)
            accs.append(acc)
            flops.append(r["flops"])
            skips = sum(op == "skip_connect" for op in r["arch"].ops)
            print(f"{name:8s}{r['seed']:5d}{skips:6d}{100 * acc:9.2f}%{r['wall']:8.1f}{r['cpu']:8.1f}"
                  f"{r['flops'] / 1e9:9.1f}  {r['arch']}", flush=True)
        summary[name] = (np.mean(accs), np.std(accs, ddof=1) if len(accs) > 1 else np.nan, np.mean(flops))
        print(f"{name:8s} mean test acc {100 * np.mean(accs):.2f} ± {100 * summary[name][1]:.2f} "
              f"(sample std) over {len(accs)} seeds")
    if args.baselines and bench is not None:
        print(f"\nblack-box search on the benchmark with each method's mean FLOPs, {args.baselines} seeds "
              "(test acc mean ± sample std; evaluations per run)")
        print(f"{'method':8s}{'GFLOPs':>8s}{'one-shot':>16s}{'random search':>24s}{'reg. evolution':>24s}")
        for name, (mean, std, flops) in summary.items():
            base = equal_cost(bench, flops, args.baselines)
            cols = "".join(f"{100 * m:10.2f} ± {100 * s:4.2f} ({n:4.1f})" for m, s, n in
                           (base["random"], base["evolution"]))
            print(f"{name:8s}{flops / 1e9:8.1f}{100 * mean:9.2f} ± {100 * std:4.2f}{cols}")


if __name__ == "__main__":
    main()
