"""Every cheap estimator against the truth, on one table: how well it ranks and what it costs.

``estimator_report`` scores each estimator over the table's classes (every class that has a
value) against the final test accuracy (seed mean): Spearman ρ, Kendall τ, top-k overlap, and
the cost of one estimate in simulated seconds (the table's clock) or measured CPU seconds.
With ``over="cells"`` every one of the table's cells counts once (a class weighs as many cells
as it holds), as NAS-Bench-201's proxy studies count them.

``greedy_vote`` picks the members of a rank-average vote by forward selection on some classes;
``heldout_vote`` measures such a vote on the classes it was *not* picked on, against the best
single estimator there, so the combined estimator's gain is not an artefact of choosing it on
the truth it is judged by.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

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


# The vote's members: what ``greedy_vote`` picks over all classes of naskit's benchmark;
# ``benchmarks/bench_estimators.py`` repeats the choice on random halves and measures the vote
# on the other halves.
VOTE = ("flops", "synflow", "jacob_cov", "params")
OVER = ("classes", "cells")


def _truth(bench) -> np.ndarray:
    return bench.class_values("test_acc")


def _viewer(bench, over: str):
    """``over="classes"``: one value per class; ``"cells"``: one per cell in the table."""
    if over not in OVER:
        raise ValueError(f"over must be one of {OVER}, got {over!r}")
    if over == "classes":
        return lambda values: np.asarray(values, float)
    cells = bench.entry_of_cell[bench.entry_of_cell >= 0]
    return lambda values: np.asarray(values, float)[cells]


def low_fidelity_rows(bench, over: str = "classes") -> list[dict]:
    """Validation accuracy after epoch e (e < E) as an estimate of the final test accuracy."""
    view = _viewer(bench, over)
    truth, rows = view(_truth(bench)), []
    sim = (bench.train_flops + bench.eval_flops) / bench.flops_per_second
    for e in range(1, bench.epochs):
        cost = float(np.nanmean(sim) * e / bench.epochs)
        rows.append({"estimator": f"valid acc @ epoch {e}", "kind": "low fidelity",
                     **correlate(view(bench.class_values("valid_acc", epoch=e)), truth), "sim_seconds_per_arch": cost})
    return rows


def curve_rows(bench, observed=(3, 4, 5), over: str = "classes") -> list[dict]:
    """Learning-curve extrapolation from the first ``m`` epochs to the last."""
    view = _viewer(bench, over)
    truth, rows = view(_truth(bench)), []
    sim = (bench.train_flops + bench.eval_flops) / bench.flops_per_second
    for m in observed:
        pred = extrapolate_many(bench.class_curves("valid_acc")[:, :m], bench.epochs)[0]
        rows.append({"estimator": f"curve extrapolation from {m} epochs", "kind": "learning curve",
                     **correlate(view(pred), truth), "sim_seconds_per_arch": float(np.nanmean(sim) * m / bench.epochs)})
    return rows


def proxy_rows(bench, proxies: pd.DataFrame, names=PROXY_NAMES, over: str = "classes") -> tuple[list[dict], dict]:
    """Each zero-cost proxy and baseline; also returns the per-class scores by name."""
    from naskit.estimate.whole_space import space_scores

    view = _viewer(bench, over)
    truth, rows, scores = view(_truth(bench)), [], {}
    for name in names:
        scores[name] = space_scores(bench, proxies, name)
        seconds = float(proxies[f"{name}_seconds"].mean())
        rows.append({"estimator": name, "kind": "zero-cost proxy" if name not in ("params", "flops") else "baseline",
                     **correlate(view(scores[name]), truth), "cpu_seconds_per_arch": seconds,
                     **{f"published_{k}": v for k, v in PUBLISHED_NB201_CIFAR10.get(name, {}).items()}})
    return rows, scores


def vote_scores(scores: dict, members) -> np.ndarray:
    """Rank average of the ``members`` scores; classes the first member did not score stay NaN."""
    vote = rank_average(*(scores[m] for m in members))
    vote[~np.isfinite(np.asarray(scores[members[0]], float))] = np.nan
    return vote


def combined_rows(bench, scores: dict, proxies: pd.DataFrame, members: tuple[str, ...],
                  over: str = "classes") -> list[dict]:
    """Rank average of ``members`` (a vote of proxies)."""
    view = _viewer(bench, over)
    seconds = float(sum(proxies[f"{m}_seconds"].mean() for m in members))
    return [{"estimator": "rank average of " + " + ".join(members), "kind": "combined",
             **correlate(view(vote_scores(scores, members)), view(_truth(bench))), "cpu_seconds_per_arch": seconds}]


def _spearman(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Spearman ρ over the finite pairs (``correlate`` without its Kendall τ and top-k, which the
    selection loops below do not need)."""
    ok = np.isfinite(estimate) & np.isfinite(truth)
    return float(stats.spearmanr(estimate[ok], truth[ok]).statistic)


def greedy_vote(scores: dict, truth, rows=None) -> tuple[str, ...]:
    """Forward selection of a rank-average vote: add, one at a time, the score that gives the
    highest Spearman ρ with ``truth`` (over ``rows`` only) until every score is in, then keep
    the prefix of that path with the highest ρ. Walking the whole path, rather than stopping at
    the first step that does not help, lets a pair that only pays off with a third get in."""
    truth = np.asarray(truth, float)
    rows = np.arange(len(truth)) if rows is None else np.asarray(rows)
    scores = {m: np.asarray(s, float)[rows] for m, s in scores.items()}
    path: list[tuple[float, tuple[str, ...]]] = []
    chosen: tuple[str, ...] = ()
    while len(chosen) < len(scores):
        trials = [(_spearman(vote_scores(scores, chosen + (name,)), truth[rows]), chosen + (name,))
                  for name in scores if name not in chosen]
        best = max(trials, key=lambda trial: trial[0])
        path.append(best)
        chosen = best[1]
    return max(path, key=lambda step: step[0])[1]  # the first of equally good prefixes: the shortest


def heldout_vote(scores: dict, truth, splits: int = 5, seed: int = 0) -> pd.DataFrame:
    """Pick a vote on a random half of the scored classes, judge it on the other half.

    One row per split: the members picked, the vote's Spearman ρ on the held-out half, and
    the best single score there (by its held-out ρ, which favours the singles).
    """
    truth = np.asarray(truth, float)
    ok = np.isfinite(truth)
    for s in scores.values():
        ok &= np.isfinite(np.asarray(s, float))
    usable = np.flatnonzero(ok)
    rng = np.random.default_rng(seed)
    rows = []
    for split in range(splits):
        order = rng.permutation(usable)
        pick, judge = order[: len(order) // 2], order[len(order) // 2:]
        members = greedy_vote(scores, truth, pick)
        held = {name: np.asarray(s, float)[judge] for name, s in scores.items()}
        singles = {name: _spearman(v, truth[judge]) for name, v in held.items()}
        best = max(singles, key=singles.get)
        rows.append({"split": split, "members": " + ".join(members),
                     "vote_spearman": _spearman(vote_scores(held, members), truth[judge]),
                     "best_single": best, "best_single_spearman": singles[best]})
    frame = pd.DataFrame(rows).set_index("split")
    frame["gain"] = frame["vote_spearman"] - frame["best_single_spearman"]
    return frame


def estimator_report(bench, proxies: pd.DataFrame | None = None, vote: tuple[str, ...] = VOTE,
                     over: str = "classes") -> pd.DataFrame:
    """One row per estimator: rank correlations with final test accuracy, top-k overlaps, cost.

    ``over``: ``"classes"`` (each trained class once) or ``"cells"`` (each queryable cell once).
    """
    rows = low_fidelity_rows(bench, over=over) + curve_rows(bench, over=over)
    if proxies is not None:
        prows, scores = proxy_rows(bench, proxies, over=over)
        rows += prows + combined_rows(bench, scores, proxies, vote, over=over)
    return pd.DataFrame(rows).set_index("estimator")
