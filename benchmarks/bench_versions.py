"""The shipped tables side by side: can each one rank what it judges, and what does it say?

    python benchmarks/bench_versions.py                          # v1 against v2, 100 seeds per strategy
    python benchmarks/bench_versions.py --tables v1 /tmp/v2.npz --seeds 10   # a partial pack: searches skipped

For each table (a shipped version or a packed file): how far one seed of its truth can be
trusted (Spearman ρ between two seeds over all classes and over the top half, the top quarter's
std of class means over the mean seed std, the runs that failed to train), its spread, how high
the cheap estimators reach (Spearman ρ of the best zero-cost proxy, of params and of the 2-epoch
validation accuracy with the final test accuracy, over the trained classes), and, on a complete
table, the strategy study: each strategy's final test accuracy over ``--seeds`` seeds, and
regularized evolution's gap over random search with its 95 % Welch interval and how often a
3-seed study would rank evolution first.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

import naskit
from naskit.bench.datasheet import reliability
from naskit.estimate.report import estimator_report
from naskit.estimate.whole_space import load_space_proxies
from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget
from naskit.runs.experiment import experiment, final_rows, final_table, win_rate


def estimators(bench) -> dict:
    """Spearman ρ with the final test accuracy over the trained classes."""
    report = estimator_report(bench, load_space_proxies(bench.version), over="classes")
    proxies = report[report["kind"] == "zero-cost proxy"]["spearman"]
    return {"best zero-cost proxy, ρ": f"{proxies.max():.3f} ({proxies.idxmax()})",
            "params, ρ": float(report.loc["params", "spearman"]),
            "valid acc @ epoch 2, ρ": float(report.loc["valid acc @ epoch 2", "spearman"])}


def strategy_study(bench, strategies: list[str], seeds: int, budget: int) -> dict:
    """Final test accuracy of each strategy, and evolution against random search."""
    df = experiment(strategies, TabularEvaluator(bench), seeds=range(seeds), budget=Budget(evaluations=budget),
                    progress=False)
    table = final_table(df)
    out = {f"{name} (%)": f"{100 * row['mean']:.2f} ± {100 * row['std']:.2f}" for name, row in table.iterrows()}
    last = final_rows(df)
    evo, rnd = (100 * last.loc[last["strategy"] == s, "final_test_of_best"].to_numpy() for s in ("evolution", "random"))
    interval = stats.ttest_ind(evo, rnd, equal_var=False).confidence_interval(0.95)
    out["evolution − random (points)"] = f"{evo.mean() - rnd.mean():+.2f} [{interval.low:+.2f}, {interval.high:+.2f}]"
    out["3-seed studies ranking evolution first"] = f"{win_rate(df, 'evolution', 'random', 3, 2000, 0):.0%}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="+", default=["v1", "v2"], help="shipped versions or packed files")
    parser.add_argument("--seeds", type=int, default=100, help="seeds per strategy")
    parser.add_argument("--budget", type=int, default=150, help="evaluations per search")
    parser.add_argument("--strategies", nargs="+", default=["random", "evolution", "local", "bananas"])
    args = parser.parse_args()
    if not {"random", "evolution"} <= set(args.strategies):
        parser.error("--strategies must include random and evolution (the gap is between them)")
    columns = {}
    for name in args.tables:
        bench = naskit.load_benchmark(name)
        label = bench.version or name
        complete = bool((bench.entry_of_cell >= 0).all())
        columns[label] = {**reliability(bench), **estimators(bench)}
        if complete:
            columns[label].update(strategy_study(bench, args.strategies, args.seeds, args.budget))
        else:
            print(f"{label}: {len(bench.meta['keys']):,} of 6,466 classes trained: searches skipped")
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 40)
    table = pd.DataFrame({label: {k: shown(v) for k, v in col.items()} for label, col in columns.items()}).fillna("—")
    print(f"\n{args.seeds} seeds x {args.budget} evaluations per strategy; ρ: Spearman over the trained classes")
    print(table.to_string())


def shown(value) -> str:
    """A count with thousands separators, a figure to 3 decimals, text as it is."""
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
