"""Search strategies on naskit's tabular benchmark: speed, and the many-seed comparison.

    python benchmarks/bench_strategies.py                       # 100 seeds x 6 strategies x 150 evaluations
    python benchmarks/bench_strategies.py --seeds 10 --budget 50
    python benchmarks/bench_strategies.py --why                 # plus: why evolution ~ random here

Prints evaluations per second of each strategy (the loop included), the wall time of the whole
experiment, and the final test accuracy and regret of every strategy (mean ± std over seeds)
with a Mann-Whitney U test against random search. ``--why`` adds random search, regularized
evolution and local search judged by what they maximise (the incumbent's validation accuracy),
at smaller budgets, and searching a noiseless objective (the table's test accuracy, seed mean, as
the score): does a strategy that climbs better also end better? Results are recorded in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import naskit
from naskit.core.types import Result
from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget
from naskit.runs.experiment import experiment, final_table

WHY = ["random", "evolution", "local"]


class TestObjective(TabularEvaluator):
    """The table with its final test accuracy as the score strategies see: no validation noise."""

    name = "tabular_test_objective"

    def evaluate(self, arch, fidelity=None) -> Result:
        r = super().evaluate(arch, fidelity)
        return Result(r.arch, r.fidelity, r.test_acc, r.test_acc, flops=r.flops, sim_seconds=r.sim_seconds,
                      wall_seconds=0.0, cpu_seconds=0.0)


def print_table(table, title: str) -> None:
    print(title)
    print(f"{'strategy':12s}{'mean':>9s}{'std':>7s}{'p vs random':>13s}")
    for name, row in table.iterrows():
        p = row.get("p_vs_random")
        print(f"{name:12s}{100 * row['mean']:9.2f}{100 * row['std']:7.2f}"
              f"{'' if p is None or p != p else f'{p:13.3g}'}")


def why(evaluator, seeds: int, budget: int) -> None:
    """Evidence for how evolution compares with random search on this table."""
    df = experiment(WHY, evaluator, seeds=range(seeds), budget=Budget(evaluations=budget), progress=False)
    print_table(final_table(df, value="best_valid_so_far"),
                f"\nincumbent's validation accuracy (%), {budget} evaluations: what the strategies maximise")
    for small in (25, 50):
        print_table(final_table(df[df["cum_evaluations"] <= small]),
                    f"\nincumbent's final test accuracy (%) after {small} evaluations")
    oracle = experiment(WHY, TestObjective(evaluator.bench), seeds=range(seeds), budget=Budget(evaluations=budget),
                        progress=False)
    print_table(final_table(oracle), f"\nsearching the test accuracy itself (no noise), {budget} evaluations")

STRATEGIES = ["random", "evolution", "local", "reinforce", "bananas", "hyperband"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--budget", type=int, default=150, help="evaluations per run")
    parser.add_argument("--table", default=None,
                        help="a shipped version (v1, v2) or a packed table's path (default: the default version)")
    parser.add_argument("--why", action="store_true", help="also the evidence on evolution vs random search")
    args = parser.parse_args()

    bench = naskit.load_benchmark(args.table)
    evaluator = TabularEvaluator(bench)
    print(f"table: {len(bench):,} cells, {bench.meta.get('build', {}).get('runs', '?')} runs; "
          f"{args.seeds} seeds x {args.budget} evaluations per strategy")
    print(f"{'strategy':12s}{'seconds':>9s}{'evals/s':>10s}")
    frames, total = [], time.perf_counter()
    for name in STRATEGIES:
        start = time.perf_counter()
        frames.append(experiment([name], evaluator, seeds=range(args.seeds), budget=Budget(evaluations=args.budget),
                                 progress=False))
        seconds = time.perf_counter() - start
        print(f"{name:12s}{seconds:9.2f}{len(frames[-1]) / seconds:10.0f}", flush=True)
    total = time.perf_counter() - total
    import pandas as pd

    table = final_table(pd.concat(frames, ignore_index=True))
    print(f"\nwhole experiment: {total:.1f} s for {args.seeds * len(STRATEGIES)} runs\n")
    print(f"{'strategy':12s}{'test acc % (mean ± std)':>26s}{'regret pts (mean ± std)':>26s}{'p vs random':>13s}")
    for name, row in table.iterrows():
        p = row.get("p_vs_random")
        print(f"{name:12s}{100 * row['mean']:17.2f} ± {100 * row['std']:5.2f}"
              f"{100 * row['regret_mean']:17.2f} ± {100 * row['regret_std']:5.2f}"
              f"{'' if p != p or p is None else f'{p:13.3g}'}")
    if args.why:
        why(evaluator, args.seeds, args.budget)


if __name__ == "__main__":
    main()
