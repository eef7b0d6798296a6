"""Asynchronous multi-fidelity search on simulated workers: what a cluster changes.

    python benchmarks/bench_async.py                          # 30 seeds, 1/4/16 workers, default table
    python benchmarks/bench_async.py --version v2 --seeds 10 --compute 600 --sh-configs 256 --figure /tmp/async.png

Random search, synchronous successive halving, Hyperband, ASHA, BOHB and regularized evolution,
each with 1, 4 and 16 simulated workers (``naskit.runs.simulated.SimulatedWorkers``) on the same
total simulated compute (``--compute`` seconds of the table's simulated clock, summed over
workers). Prints per worker count: the final test accuracy of the incumbent (the table's seed
mean at the last epoch) with a two-sided Mann-Whitney U test against random search at the same
workers, the simulated wall-clock the budget took, the workers' utilisation and the number of
evaluations; then the anytime curves (incumbent's test accuracy) at fixed shares of the compute
and of the wall-clock. Successive halving is one run of ``--sh-configs`` cells (eta 2, 1..8
epochs), sized to spend most of the budget, and stops when its top rung is done. Results are
recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import naskit
from naskit.bench.store import DEFAULT_VERSION
from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget
from naskit.runs.experiment import anytime, final_table
from naskit.runs.loop import search
from naskit.runs.simulated import SimulatedWorkers, worker_utilisation
from naskit.runtime.manifest import manifest
from naskit.strategies import make_strategy

STRATEGIES = ["random", "sh", "hyperband", "asha", "bohb", "evolution"]
WORKERS = (1, 4, 16)
SHARES = (0.25, 0.5, 1.0)  # where the anytime curves are read: shares of the compute or of the wall-clock


def options(name: str, epochs: int, sh_configs: int) -> dict:
    if name == "sh":
        return {"max_fidelity": epochs, "n_configs": sh_configs}
    return {"max_fidelity": epochs} if name in ("hyperband", "asha", "bohb") else {}


def one_run(name, seed, workers, evaluator, budget, sh_configs, record) -> pd.DataFrame:
    """One search on simulated workers: its counted history with the incumbent's final test
    accuracy (the table's seed mean), its utilisation and wall-clock."""
    bench = evaluator.bench
    run = search(make_strategy(name, seed=seed, **options(name, bench.epochs, sh_configs)), evaluator.for_run(seed),
                 budget, executor=SimulatedWorkers(workers), progress=False, manifest=record)
    h = run.history[run.history["within_budget"]].copy()
    final = {a: bench.query(a).test_acc for a in h["incumbent"].dropna().unique()}
    h["final_test_of_best"] = h["incumbent"].map(final)
    h.insert(0, "seed", seed)
    h.insert(0, "strategy", name)
    h["workers"] = workers
    h["utilisation"] = worker_utilisation(run)
    h["run_sim_wall_seconds"] = run.cost["sim_wall_seconds"]
    return h


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: final test accuracy (mean, std, p vs random), wall-clock, utilisation, evaluations."""
    table = final_table(df)
    runs = df.groupby(["strategy", "seed"], sort=False).agg(wall=("run_sim_wall_seconds", "first"),
                                                             util=("utilisation", "first"), evals=("n", "size"))
    per = runs.groupby("strategy", sort=False).mean()
    return table.join(per)


def print_summary(df: pd.DataFrame, workers: int) -> None:
    table = summary(df)
    print(f"\n{workers} worker(s)")
    print(f"{'strategy':11s}{'test acc % mean ± std':>23s}{'p vs random':>13s}{'wall-clock s':>14s}"
          f"{'utilisation':>13s}{'evaluations':>13s}")
    for name, row in table.iterrows():
        p = row.get("p_vs_random")
        print(f"{name:11s}{100 * row['mean']:15.2f} ± {100 * row['std']:5.2f}"
              f"{'' if p is None or p != p else f'{p:13.3g}':>13s}{row['wall']:14.1f}{row['util']:13.3f}"
              f"{row['evals']:13.0f}")


def print_curves(df: pd.DataFrame, compute: float) -> None:
    """Mean incumbent test accuracy (%) at shares of the compute and of each worker count's wall-clock."""
    print("\nanytime: mean test accuracy of the incumbent (%), at shares of the total compute "
          f"({compute:g} s) and of the wall-clock (compute / workers)")
    header = "".join(f"{f'C x{s:g}':>9s}" for s in SHARES) + "".join(f"{f'T x{s:g}':>9s}" for s in SHARES)
    print(f"{'workers':>8s} {'strategy':11s}{header}")
    for workers, part in df.groupby("workers"):
        by_compute = anytime(part, cost="cum_sim_seconds", grid=np.array(SHARES) * compute)
        by_wall = anytime(part, cost="sim_arrival", grid=np.array(SHARES) * compute / workers)
        for name in STRATEGIES:
            c = by_compute[by_compute["strategy"] == name].groupby("cost")["value"].mean()
            w = by_wall[by_wall["strategy"] == name].groupby("cost")["value"].mean()
            print(f"{workers:8d} {name:11s}" + "".join(f"{100 * v:9.2f}" for v in list(c) + list(w)))


def plot(df: pd.DataFrame, compute: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(WORKERS), figsize=(4.2 * len(WORKERS), 7), sharey=True)
    lows = []  # the first evaluations of a run can be far worse than the rest: keep the scale on the race
    for col, workers in enumerate(WORKERS):
        part = df[df["workers"] == workers]
        for row, (cost, top) in enumerate((("cum_sim_seconds", compute), ("sim_arrival", compute / workers))):
            curves = anytime(part, cost=cost, grid=np.linspace(top / 60, top, 60))
            ax = axes[row, col]
            for name in STRATEGIES:
                mean = curves[curves["strategy"] == name].groupby("cost")["value"].mean()
                ax.plot(mean.index, 100 * mean.to_numpy(), label=name)
                lows.append(np.nanpercentile(100 * mean.to_numpy(), 10))
            ax.set_xlabel("total simulated compute (s)" if row == 0 else "simulated wall-clock (s)")
            ax.set_title(f"{workers} worker(s)")
    axes[0, 0].set_ylabel("incumbent's test accuracy (%)")
    axes[1, 0].set_ylabel("incumbent's test accuracy (%)")
    axes[0, 0].set_ylim(bottom=min(lows) - 0.5)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nfigure: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=DEFAULT_VERSION, help=f"which shipped table (default {DEFAULT_VERSION})")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--compute", type=float, default=300.0, help="total simulated seconds per run")
    parser.add_argument("--sh-configs", type=int, default=128, help="cells in successive halving's first rung")
    parser.add_argument("--figure", default=None, help="write the anytime curves to this PNG")
    args = parser.parse_args()
    if args.seeds < 1 or args.compute <= 0 or args.sh_configs < 1:
        parser.error("--seeds, --compute and --sh-configs must be positive")

    from tqdm.auto import tqdm

    bench = naskit.load_benchmark(args.version)
    evaluator = TabularEvaluator(bench)
    budget = Budget(sim_seconds=args.compute)
    record = manifest(extra={"benchmark": "bench_async", "args": vars(args)})
    print(f"table {args.version}: {len(bench):,} cells, {bench.epochs} epochs; {args.seeds} seeds, "
          f"{args.compute:g} simulated seconds of compute per run, workers {', '.join(map(str, WORKERS))}")
    start, frames = time.perf_counter(), []
    tasks = [(w, name, seed) for w in WORKERS for name in STRATEGIES for seed in range(args.seeds)]
    for workers, name, seed in tqdm(tasks, desc="runs", unit="run", mininterval=5):
        frames.append(one_run(name, seed, workers, evaluator, budget, args.sh_configs, record))
    df = pd.concat(frames, ignore_index=True)
    print(f"{len(tasks)} runs in {time.perf_counter() - start:.0f} s")
    for workers, part in df.groupby("workers"):
        print_summary(part, workers)
    print_curves(df, args.compute)
    if args.figure:
        plot(df, args.compute, args.figure)


if __name__ == "__main__":
    main()
