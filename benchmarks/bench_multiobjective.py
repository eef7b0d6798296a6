"""Multi-objective search on naskit's tabular benchmark: test accuracy against measured latency.

    python benchmarks/bench_multiobjective.py                          # 100 seeds, latency at batch 1
    python benchmarks/bench_multiobjective.py --seeds 10 --costs params
    python benchmarks/bench_multiobjective.py --plot benchmarks/bench_multiobjective.png

Every strategy searches with the same budget of simulated training seconds (``--budget`` times the
median cost of one full evaluation), through the same loop and evaluator; a search sees one
training run's validation accuracy and the network's measured cost. Each run is judged by the
truth: the classes it evaluated at full fidelity, at their seed-mean test accuracy and their cost,
scored by the hypervolume against the table's median accuracy and largest cost (as a share of the
true front's hypervolume) and by the share of the true front's classes it evaluated. Prints mean ±
std over seeds with a two-sided Mann-Whitney U test against multi-objective random search (random
search judged by its front), the anytime hypervolume at a few spends, and a constrained search
(accuracy subject to latency <= the given quantile of the space). Recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

import naskit
from naskit.bench.front import best_feasible, judge_runs, true_front
from naskit.bench.store import DEFAULT_VERSION
from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget
from naskit.runs.experiment import experiment


def strategies(costs: list[str], n_configs: int) -> dict[str, dict]:
    """The multi-objective strategies compared, label -> options (random search first: the baseline)."""
    return {
        "random": {"strategy": "random"},
        "mo_evolution": {"strategy": "mo_evolution", "costs": costs},
        "scalarised(evolution)": {"strategy": "scalarised", "inner": "evolution", "costs": costs},
        "scalarised(local)": {"strategy": "scalarised", "inner": "local", "costs": costs},
        "mo_sh": {"strategy": "mo_sh", "costs": costs, "n_configs": n_configs},
        "mo_asha": {"strategy": "mo_asha", "costs": costs},
    }


def print_results(scores: dict, grid_labels: list[str]) -> None:
    base = scores["random"]["share"]
    print(f"\n{'strategy':24s}{'HV share % (mean ± std)':>26s}{'p vs random':>13s}{'front recovered %':>19s}"
          f"{'evals':>7s}")
    for label, s in scores.items():
        p = "–" if label == "random" else f"{stats.mannwhitneyu(s['share'], base).pvalue:.3g}"
        print(f"{label:24s}{100 * s['share'].mean():17.2f} ± {100 * s['share'].std(ddof=1):5.2f}{p:>13s}"
              f"{100 * s['recovered'].mean():19.1f}{s['evaluations'].mean():7.0f}")
    print("\nanytime hypervolume share % (mean over seeds) after spending " + ", ".join(grid_labels)
          + " full evaluations' worth")
    for label, s in scores.items():
        print(f"{label:24s}" + "".join(f"{100 * v:8.2f}" for v in s["anytime"].mean(axis=0)))


def constrained(bench, evaluator, budget, seeds, cost: str, quantile: float) -> None:
    """Maximise accuracy subject to ``cost`` <= its ``quantile`` over the space, wrapping two strategies."""
    limit = float(np.nanquantile(bench.class_costs(cost), quantile))
    feasible = bench.class_costs(cost) <= limit
    truth = bench.class_values("test_acc")
    runs = {f"constrained({inner})": {"strategy": "constrained", "inner": inner, "limits": {cost: limit}}
            for inner in ("random", "evolution")}
    df = experiment(runs, evaluator, seeds=seeds, budget=budget, progress=False)
    print(f"\nconstrained: {cost} <= {limit:.4g} (the {quantile:.0%} quantile; {feasible.mean():.1%} of classes "
          f"feasible; best feasible class {100 * truth[feasible].max():.2f} % test accuracy)")
    print(f"{'strategy':24s}{'best feasible found, test acc % (mean ± std)':>46s}{'infeasible evals %':>20s}")
    for label, runs_ in df.groupby("strategy", sort=False):
        accs, infeasible = [], []
        for _, h in runs_.groupby("seed"):
            row = best_feasible(bench, h, {cost: limit})
            accs.append(truth[bench.entry(row["arch"])] if row is not None else np.nan)
            costs = bench.class_costs(cost)[[bench.entry(a) for a in h["arch"]]]
            infeasible.append(np.mean(costs > limit))
        accs = np.asarray(accs)
        print(f"{label:24s}{100 * np.nanmean(accs):37.2f} ± {100 * np.nanstd(accs, ddof=1):5.2f}"
              f"{100 * np.mean(infeasible):20.1f}")


def plot(scores: dict, grid: np.ndarray, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, s in scores.items():
        curves = 100 * s["anytime"]
        mean = curves.mean(axis=0)
        half = 1.96 * curves.std(axis=0, ddof=1) / np.sqrt(len(curves))
        ax.plot(grid, mean, label=label)
        ax.fill_between(grid, mean - half, mean + half, alpha=0.2)
    ax.set_xlabel("spent (full evaluations' worth of simulated training)")
    ax.set_ylabel("hypervolume, % of the true front's")
    ax.set_title("accuracy vs latency: anytime hypervolume (mean, 95% CI)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"\nfigure: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--budget", type=float, default=100, help="full evaluations' worth of simulated seconds")
    parser.add_argument("--costs", nargs="+", default=["latency_ms_b1"], help="network costs against accuracy")
    parser.add_argument("--table", default=None, help="a shipped version or a packed table (default: the default)")
    parser.add_argument("--n-configs", type=int, default=192, help="MO-SH's rung-0 cells (eta 2, 1..8 epochs)")
    parser.add_argument("--quantile", type=float, default=0.25, help="the constrained search's latency limit")
    parser.add_argument("--plot", default=None, help="save the anytime curves here (PNG)")
    args = parser.parse_args()
    if args.seeds < 2 or args.budget <= 0:
        parser.error("--seeds must be at least 2 and --budget positive")

    bench = naskit.load_benchmark(args.table)
    evaluator = TabularEvaluator(bench)
    one = float(np.median((bench.train_flops + bench.eval_flops) / bench.flops_per_second))
    budget = Budget(sim_seconds=args.budget * one)
    front = true_front(bench, args.costs)
    how = bench.meta.get("latency", {})
    print(f"table {args.table or DEFAULT_VERSION}: {len(bench.entry_names):,} classes; objectives test "
          f"accuracy (max) and {', '.join(args.costs)} (min); true front {len(front)} classes; "
          f"latency measured on {how.get('cpu_model')}, {how.get('rounds')} round(s)")
    print(f"{args.seeds} seeds per strategy, budget {args.budget:g} full evaluations' worth "
          f"({budget.sim_seconds:.0f} simulated s)")
    start = time.perf_counter()
    df = experiment(strategies(args.costs, args.n_configs), evaluator, seeds=range(args.seeds), budget=budget)
    grid_full = np.linspace(0, args.budget, 41)[1:]
    scores = judge_runs(bench, df, args.costs, grid_full * one)
    picks = [9, 19, 29, 39]
    print_results({k: {**v, "anytime": v["anytime"][:, picks]} for k, v in scores.items()},
                  [f"{grid_full[i]:g}" for i in picks])
    constrained(bench, evaluator, budget, range(args.seeds), args.costs[0], args.quantile)
    print(f"\nwall time {time.perf_counter() - start:.0f} s")
    if args.plot:
        plot(scores, grid_full, args.plot)


if __name__ == "__main__":
    main()
