"""Cheap estimators against naskit's benchmark: ranking quality, cost, a combined estimator, and
searches that use them.

    python benchmarks/bench_estimators.py                      # everything, 100 seeds per search
    python benchmarks/bench_estimators.py --seeds 10 --proxy-timing 0

Prints, for every estimator (low fidelity, learning-curve extrapolation, zero-cost proxies, the
params/FLOPs baselines and the proxy vote), Spearman ρ and Kendall τ with the final test accuracy
over the trained classes and over all queryable cells, the top-5 % overlap and the cost of one
estimate; the seed-to-seed agreement of the truth itself (the ceiling any estimator can reach);
the vote picked on half of the classes and judged on the other half; the measured speed of the
whole-space proxy computation; and regularized evolution run on full training, on low fidelity
and on a zero-cost proxy: final quality and total cost. Results are recorded in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

import naskit
from naskit.bench.datasheet import seed_study
from naskit.bench.protocol import PROTOCOLS
from naskit.bench.store import DEFAULT_VERSION, VERSIONS
from naskit.estimate.report import PROXY_NAMES, estimator_report, heldout_vote
from naskit.estimate.whole_space import compute_space, load_space_proxies, space_scores
from naskit.evaluators.proxy import CachedProxyEvaluator
from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget
from naskit.runs.experiment import anytime, experiment, final_rows, final_table


def correlation_table(bench, proxies) -> pd.DataFrame:
    classes = estimator_report(bench, proxies, over="classes")
    cells = estimator_report(bench, proxies, over="cells")
    cost = classes["sim_seconds_per_arch"].fillna(classes["cpu_seconds_per_arch"])
    return pd.DataFrame({
        "rho classes": classes["spearman"], "tau classes": classes["kendall"],
        "rho cells": cells["spearman"], "tau cells": cells["kendall"], "top5% cells": cells["top5%"],
        "s per arch": cost, "published rho": classes.get("published_spearman"),
        "published tau": classes.get("published_kendall")})


def proxy_speed(limit: int, workers: int, version: str) -> tuple[float, int]:
    """Seconds to score ``limit`` classes from scratch in a temporary folder, with ``version``'s network and data."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        written = compute_space(folder=folder, limit=limit, workers=workers, progress=False,
                                protocol=PROTOCOLS[version])
        return time.perf_counter() - start, written


def cheap_searches(bench, proxies, seeds: int, budget: int) -> pd.DataFrame:
    evaluators = {"full training (8 epochs)": TabularEvaluator(bench),
                  "low fidelity (4 epochs)": TabularEvaluator(bench, epochs=4),
                  "low fidelity (2 epochs)": TabularEvaluator(bench, epochs=2),
                  "zero-cost proxy (synflow)": CachedProxyEvaluator(bench, proxies, "synflow"),
                  "baseline (flops)": CachedProxyEvaluator(bench, proxies, "flops")}
    runs = pd.concat([experiment({label: {"strategy": "evolution"}}, ev, seeds=range(seeds),
                                 budget=Budget(evaluations=budget), progress=False)
                      for label, ev in evaluators.items()], ignore_index=True)
    table = final_table(runs, baseline="full training (8 epochs)")
    full_one = float(np.nanmean((bench.train_flops + bench.eval_flops) / bench.flops_per_second))
    table["search s"] = final_rows(runs).groupby("strategy")["cum_sim_seconds"].mean()  # each run's total
    table["total s"] = table["search s"] + full_one  # plus one full training of the pick
    full = runs[runs["strategy"] == "full training (8 epochs)"]
    curve = anytime(full, cost="cum_sim_seconds", grid=np.sort(table["total s"].to_numpy()))
    at_cost = curve.groupby("cost")["value"].mean()
    table["full training at that cost"] = [at_cost.get(c, np.nan) for c in table["total s"]]
    table["cost share"] = table["total s"] / table.loc["full training (8 epochs)", "total s"]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100, help="seeds per search")
    parser.add_argument("--budget", type=int, default=150, help="evaluations per search")
    parser.add_argument("--splits", type=int, default=10, help="random halves for the held-out vote")
    parser.add_argument("--proxy-timing", type=int, default=200, help="classes to score for the speed figure (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--version", default=DEFAULT_VERSION, choices=list(VERSIONS),
                        help=f"which shipped table judges the results (default {DEFAULT_VERSION})")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)

    bench, proxies = naskit.load_benchmark(args.version), load_space_proxies(args.version)
    trained = int(np.isfinite(bench.class_values("test_acc")).sum())
    print(f"table {args.version}: {trained:,} trained classes, {len(bench):,} cells; "
          f"proxy records for {len(proxies):,} classes\n")

    print("Rank correlation with the final test accuracy (seed mean); cost of one estimate in seconds")
    print("(simulated training seconds for low fidelity and curves, measured CPU seconds for proxies):")
    print(correlation_table(bench, proxies).round(3).to_string(), "\n")

    agree = seed_study(bench)
    print(f"the truth against itself: two seeds over {agree['classes']:,} classes: "
          f"Spearman ρ {agree['spearman_seed_a_vs_b']:.3f}, Kendall τ {agree['kendall_seed_a_vs_b']:.3f}\n")

    truth = bench.class_values("test_acc")
    scores = {name: space_scores(bench, proxies, name) for name in PROXY_NAMES}
    held = heldout_vote(scores, truth, splits=args.splits, seed=0)
    print("vote picked on a random half of the classes, Spearman ρ on the other half:")
    print(held.round(3).to_string())
    print(f"gain over the best single score: {held['gain'].mean():+.3f} ± {held['gain'].std(ddof=1):.3f} "
          f"(mean ± std over {len(held)} splits; positive in {(held['gain'] > 0).sum()} of {len(held)})\n")

    if args.proxy_timing:
        seconds, written = proxy_speed(args.proxy_timing, args.workers, args.version)
        total = seconds / written * len(proxies)
        print(f"whole-space proxies: {written} classes scored in {seconds:.1f} s with {args.workers} workers "
              f"({seconds / written:.3f} s per class): {total / 60:.1f} min for {len(proxies):,} classes\n")

    start = time.perf_counter()
    table = cheap_searches(bench, proxies, args.seeds, args.budget)
    print(f"regularized evolution, {args.seeds} seeds x {args.budget} evaluations "
          f"({time.perf_counter() - start:.1f} s): final test accuracy of the pick (%), cost in seconds")
    shown = table.assign(mean=100 * table["mean"], std=100 * table["std"],
                         **{"full training at that cost": 100 * table["full training at that cost"]})
    print(shown.drop(columns=[c for c in ("regret_mean", "regret_std") if c in shown]).round(3).to_string())


if __name__ == "__main__":
    main()
