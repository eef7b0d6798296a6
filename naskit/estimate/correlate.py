"""How good is a cheap estimate? Rank correlation and top-k overlap with the truth.

An estimator is useful for NAS when it *ranks* architectures like their final accuracy
does; its absolute values do not matter. ``correlate`` reports Spearman's ρ and Kendall's τ
over all given architectures, the overlap of the estimator's top-k % with the true top-k %
(does it find the best cells?), and the cost per architecture when given.

Example:
    >>> import numpy as np
    >>> truth = np.arange(100.0)
    >>> round(correlate(truth ** 2, truth)["spearman"], 6)  # any increasing function ranks perfectly
    1.0
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def top_k_overlap(estimate, truth, fraction: float) -> float:
    """Fraction of the true top ``fraction`` that is also in the estimator's top ``fraction``."""
    estimate, truth = np.asarray(estimate, float), np.asarray(truth, float)
    k = max(1, int(round(fraction * len(truth))))
    top_true = set(np.argsort(-truth, kind="stable")[:k].tolist())
    top_est = set(np.argsort(-estimate, kind="stable")[:k].tolist())
    return len(top_true & top_est) / k


def top_k_chance(n: int, fraction: float, level: float = 0.95) -> dict:
    """What a random ranking scores on ``top_k_overlap``: the mean and a central interval.

    With ``k = round(fraction * n)`` (as ``top_k_overlap`` counts it), a random ranking's top k
    is a draw of k of the n cells without replacement, so the number of true top-k cells among
    them is hypergeometric (population n, k marked, k drawn). Its mean overlap is ``k / n``;
    ``low`` and ``high`` bound the central ``level`` of its distribution, as fractions of k. An
    estimator whose overlap lies inside ``[low, high]`` finds the best cells no better than
    chance does at this n.

    Example:
        >>> c = top_k_chance(1000, 0.05)
        >>> c["k"], round(c["mean"], 3), c["low"] < 0.05 < c["high"]
        (50, 0.05, True)
    """
    if n < 1 or not 0 < fraction <= 1 or not 0 < level < 1:
        raise ValueError(f"need n >= 1, fraction in (0, 1] and level in (0, 1), got {n!r}, {fraction!r}, {level!r}")
    k = max(1, int(round(fraction * n)))
    draws = stats.hypergeom(int(n), k, k)
    low, high = draws.interval(level)
    return {"k": k, "mean": k / n, "low": float(low) / k, "high": float(high) / k, "level": level}


def correlate(estimate, truth, top=(0.01, 0.05, 0.10), seconds_per_arch: float | None = None) -> dict:
    """Spearman ρ, Kendall τ (tau-b) and top-k overlaps of ``estimate`` against ``truth``.

    Pairs where either value is not finite are dropped (a disconnected cell's proxy, a failed
    run); ``n`` says how many remained.
    """
    estimate, truth = np.asarray(estimate, float), np.asarray(truth, float)
    if estimate.shape != truth.shape:
        raise ValueError(f"estimate and truth must have the same shape, got {estimate.shape} and {truth.shape}")
    ok = np.isfinite(estimate) & np.isfinite(truth)
    e, t = estimate[ok], truth[ok]
    if len(e) < 3:
        raise ValueError(f"need at least 3 finite pairs to correlate, got {len(e)}")
    out = {
        "n": len(e),
        "spearman": float(stats.spearmanr(e, t).statistic),
        "kendall": float(stats.kendalltau(e, t).statistic),
    }
    for fraction in top:
        out[f"top{fraction:.0%}"] = top_k_overlap(e, t, fraction)
    if seconds_per_arch is not None:
        out["seconds_per_arch"] = float(seconds_per_arch)
    return out


def rank_average(*scores) -> np.ndarray:
    """Combine estimators by averaging their ranks (higher = better); NaN ranks count as worst.

    A simple, scale-free vote: each score array is ranked (average ranks for ties) and the
    ranks are averaged.
    """
    if not scores:
        raise ValueError("rank_average needs at least one score array")
    ranks = []
    for s in scores:
        s = np.asarray(s, float)
        filled = np.where(np.isfinite(s), s, -np.inf)
        ranks.append(stats.rankdata(filled))
    return np.mean(ranks, axis=0)


def ceiling(rho_seeds: float, seeds_in_truth: int = 1) -> float:
    """The correlation an estimator independent of the truth's training runs can expect at best.

    ``rho_seeds`` is the correlation between two single seeds of the same cells (a measure of
    the truth's reliability); the truth is the mean of ``seeds_in_truth`` seeds per cell. An
    estimator that knew every cell's *expected* accuracy exactly would correlate with that mean
    at ``sqrt(k r / (1 + (k - 1) r))``: the Spearman-Brown reliability of a mean of k runs,
    under a square root (the correlation of a measurement with what it measures). With one seed
    that is ``sqrt(rho_seeds)``. The formula is exact for Pearson's r with independent noise of
    equal variance; for Spearman's ρ it is an approximation.
    """
    if not -1 <= rho_seeds <= 1:
        raise ValueError(f"rho_seeds is a correlation, in [-1, 1]; got {rho_seeds!r}")
    if seeds_in_truth < 1 or int(seeds_in_truth) != seeds_in_truth:
        raise ValueError(f"seeds_in_truth must be a whole number >= 1, got {seeds_in_truth!r}")
    if rho_seeds <= 0:
        return 0.0
    k = seeds_in_truth
    return float(np.sqrt(k * rho_seeds / (1 + (k - 1) * rho_seeds)))


def spearman_difference(a, b, truth, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Does estimator ``a`` rank ``truth`` better than estimator ``b``? Spearman ρ of each, their
    difference ``rho_a - rho_b``, and a paired percentile-bootstrap interval for it: each of
    ``resamples`` draws resamples the cells (with replacement, ``numpy.random.default_rng(seed)``)
    and recomputes both ρ on the same cells. Cells where any of the three is not finite are
    dropped (``n`` says how many remain).

    Example:
        >>> import numpy as np
        >>> truth = np.arange(50.0)
        >>> d = spearman_difference(truth, truth[::-1], truth, resamples=200)
        >>> round(d["difference"], 6), d["n"]
        (2.0, 50)
    """
    a, b, truth = (np.asarray(x, float) for x in (a, b, truth))
    if not a.shape == b.shape == truth.shape:
        raise ValueError(f"a, b and truth must have the same shape, got {a.shape}, {b.shape} and {truth.shape}")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"resamples must be >= 1 and level in (0, 1), got {resamples!r} and {level!r}")
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(truth)
    a, b, truth = a[ok], b[ok], truth[ok]
    if len(truth) < 3:
        raise ValueError(f"need at least 3 cells where a, b and truth are all finite, got {len(truth)}")

    def rho(x, t):
        return float(np.corrcoef(stats.rankdata(x), stats.rankdata(t))[0, 1])

    rho_a, rho_b = rho(a, truth), rho(b, truth)
    rng = np.random.default_rng(seed)
    draws = np.empty(resamples)
    for i in range(resamples):
        pick = rng.integers(0, len(truth), len(truth))
        draws[i] = rho(a[pick], truth[pick]) - rho(b[pick], truth[pick])
    low, high = np.nanpercentile(draws, [50 * (1 - level), 50 * (1 + level)])
    return {"rho_a": rho_a, "rho_b": rho_b, "difference": rho_a - rho_b, "ci_low": float(low),
            "ci_high": float(high), "level": level, "n": int(len(truth))}

