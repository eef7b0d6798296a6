"""Every cheap estimator against the truth, on one table: how well it ranks and what it costs.

``estimator_report`` scores each estimator over the table's classes (every class that has a
value) against the final test accuracy (seed mean): Spearman ρ, Kendall τ, top-k overlap, and
the cost of one estimate in simulated seconds (the table's clock) or measured CPU seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naskit.estimate.correlate import correlate, rank_average
from naskit.estimate.curves import extrapolate_many

# Abdelfattah et al. 2021 (Table 2, NAS-Bench-201 CIFAR-10, Spearman ρ) and Mellor et al.
# 2021 (Kendall τ of NASWOT on NAS-Bench-201 CIFAR-10), for side-by-side comparison.
PUBLISHED_NB201_CIFAR10 = {
    "synflow": {"spearman": 0.74}, "jacob_cov": {"spearman": 0.73}, "grad_norm": {"spearman": 0.58},
    "snip": {"spearman": 0.58}, "grasp": {"spearman": 0.48}, "fisher": {"spearman": 0.36},
    "flops": {"spearman": 0.75}, "naswot": {"kendall": 0.574},
}
PROXY_NAMES = ("synflow", "naswot", "snip", "grad_norm", "grasp", "fisher", "jacob_cov", "params", "flops")


def _truth(bench) -> np.ndarray:
    return bench._mean["test_acc"][:, -1]


def low_fidelity_rows(bench) -> list[dict]:
    """Validation accuracy after epoch e (e < E) as an estimate of the final test accuracy."""
    truth, rows = _truth(bench), []
    sim = (bench.train_flops + bench.eval_flops) / bench.flops_per_second
    for e in range(1, bench.epochs):
        cost = float(np.nanmean(sim) * e / bench.epochs)
        rows.append({"estimator": f"valid acc @ epoch {e}", "kind": "low fidelity",
                     **correlate(bench._mean["valid_acc"][:, e - 1], truth), "sim_seconds_per_arch": cost})
    return rows


def curve_rows(bench, observed=(3, 4, 5)) -> list[dict]:
    """Learning-curve extrapolation from the first ``m`` epochs to the last."""
    truth, rows = _truth(bench), []
    sim = (bench.train_flops + bench.eval_flops) / bench.flops_per_second
    for m in observed:
        pred = extrapolate_many(bench._mean["valid_acc"][:, :m], bench.epochs)[0]
        rows.append({"estimator": f"curve extrapolation from {m} epochs", "kind": "learning curve",
                     **correlate(pred, truth), "sim_seconds_per_arch": float(np.nanmean(sim) * m / bench.epochs)})
    return rows


def proxy_rows(bench, proxies: pd.DataFrame, names=PROXY_NAMES) -> list[dict]:
    """Each zero-cost proxy, and their rank average (a vote) as a combined estimator."""
    from naskit.estimate.whole_space import space_scores

    truth, rows, scores = _truth(bench), [], {}
    for name in names:
        scores[name] = space_scores(bench, proxies, name)
        seconds = float(proxies[f"{name}_seconds"].mean())
        rows.append({"estimator": name, "kind": "zero-cost proxy" if name not in ("params", "flops") else "baseline",
                     **correlate(scores[name], truth), "cpu_seconds_per_arch": seconds,
                     **{f"published_{k}": v for k, v in PUBLISHED_NB201_CIFAR10.get(name, {}).items()}})
    return rows, scores


def combined_rows(bench, scores: dict, proxies: pd.DataFrame, members: tuple[str, ...]) -> list[dict]:
    """Rank average of ``members`` (a vote of proxies)."""
    vote = rank_average(*(scores[m] for m in members))
    vote[~np.isfinite(scores[members[0]])] = np.nan  # unscored classes stay unscored
    seconds = float(sum(proxies[f"{m}_seconds"].mean() for m in members))
    return [{"estimator": "rank average of " + " + ".join(members), "kind": "combined",
             **correlate(vote, _truth(bench)), "cpu_seconds_per_arch": seconds}]


def estimator_report(bench, proxies: pd.DataFrame | None = None,
                     vote: tuple[str, ...] = ("synflow", "jacob_cov", "naswot", "flops")) -> pd.DataFrame:
    """One row per estimator: rank correlations with final test accuracy, top-k overlaps, cost."""
    rows = low_fidelity_rows(bench) + curve_rows(bench)
    if proxies is not None:
        prows, scores = proxy_rows(bench, proxies)
        rows += prows + combined_rows(bench, scores, proxies, vote)
    return pd.DataFrame(rows).set_index("estimator")
