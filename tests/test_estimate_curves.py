"""Learning-curve extrapolation and the correlation measures, against closed forms and SciPy."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from naskit.bench.table import TabularBenchmark
from naskit.core.space import NB201Space
from naskit.estimate.correlate import ceiling, correlate, rank_average, spearman_difference, top_k_chance, top_k_overlap
from naskit.estimate.curves import extrapolate, extrapolate_many
from naskit.evaluators.curve import CurveEvaluator

T = np.arange(1, 6, dtype=float)


def pow3(t, c, a, rate):
    return c - a * np.power(t, -rate)


def exp3(t, c, a, rate):
    return c - a * np.exp(-rate * t)


@pytest.mark.parametrize("family, f, params", [("pow3", pow3, (0.93, 0.4, 0.8)), ("exp3", exp3, (0.9, 0.6, 0.7))])
def test_an_exact_curve_of_a_family_is_recovered(family, f, params):
    fit = extrapolate(f(T, *params), final_epoch=20)
    assert fit.per_family[family] == pytest.approx(f(20, *params), abs=1e-6)
    assert 0 <= fit.std < 0.1 and fit.final_epoch == 20


def test_many_curves_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(0)
    curves = np.clip(0.9 - 0.5 / T[None, :] + rng.normal(0, 0.02, (50, len(T))), 0, 1)
    curves[3, 2] = np.nan
    mean, std, _ = extrapolate_many(curves, 8)
    assert np.isnan(mean[3]) and np.isnan(std[3])
    for i in (0, 10, 49):
        one = extrapolate(curves[i], 8)
        assert mean[i] == pytest.approx(one.mean) and std[i] == pytest.approx(one.std)


def test_short_or_empty_curves_fall_back_to_the_last_value():
    fit = extrapolate([0.3, 0.5], final_epoch=8)
    assert fit.mean == 0.5 and fit.std == pytest.approx(0.2) and fit.per_family == {}
    assert np.isnan(extrapolate([], 8).mean)
    with pytest.raises(ValueError, match="final_epoch"):
        extrapolate([0.1, 0.2, 0.3], final_epoch=2)


def test_predictions_stay_in_the_unit_interval():
    fit = extrapolate([0.1, 0.5, 0.9, 0.99], final_epoch=50)
    assert all(0 <= v <= 1 for v in fit.per_family.values())


def test_correlate_equals_scipy_and_drops_non_finite_pairs():
    rng = np.random.default_rng(0)
    truth = rng.random(200)
    est = truth + rng.normal(0, 0.3, 200)
    est[:5] = np.nan
    out = correlate(est, truth)
    assert out["n"] == 195
    assert out["spearman"] == pytest.approx(stats.spearmanr(est[5:], truth[5:]).statistic)
    assert out["kendall"] == pytest.approx(stats.kendalltau(est[5:], truth[5:]).statistic)
    with pytest.raises(ValueError, match="same shape"):
        correlate([1, 2, 3], [1, 2])


def test_top_k_overlap_by_hand():
    truth = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], float)
    estimate = np.array([10, 1, 9, 2, 3, 4, 5, 6, 7, 8], float)  # finds the best, misses the second
    assert top_k_overlap(estimate, truth, 0.2) == 0.5  # top 2 = {0, 1} vs {0, 2}
    assert top_k_overlap(truth, truth, 0.3) == 1.0


def test_rank_average_by_hand():
    a = np.array([3.0, 1.0, 2.0])
    b = np.array([1.0, 3.0, np.nan])  # the NaN ranks worst
    assert list(rank_average(a, b)) == [(3 + 2) / 2, (1 + 3) / 2, (2 + 1) / 2]


def test_curve_evaluator_charges_the_observed_epochs_and_ranks_by_the_prediction():
    space = NB201Space()
    archs = [str(space[i]) for i in (7, 99, 1234)]
    rows = [{"arch": a, "epoch": e, "valid_acc": 0.9 - 0.5 / e - 0.01 * k, "test_acc": 0.88 - 0.5 / e}
            for k, a in enumerate(archs) for e in range(1, 9)]
    bench = TabularBenchmark.from_table(pd.DataFrame(rows).assign(train_flops=8 * 10**9))
    ev = CurveEvaluator(bench, epochs=4)
    r = ev.evaluate(archs[0])
    assert r.valid_acc == pytest.approx(0.9 - 0.5 / 4)
    assert r.valid_acc < r.estimate < 0.9  # extrapolates upward, below the asymptote
    assert r.estimate == pytest.approx(0.9 - 0.5 / 8, abs=0.05)
    assert r.flops == 4 * 10**9
    assert ev.evaluate(archs[0]).score > ev.evaluate(archs[2]).score
    with pytest.raises(ValueError, match="epochs"):
        CurveEvaluator(bench, epochs=9)


@pytest.mark.parametrize("k", [1, 3])
def test_the_ceiling_is_what_a_perfect_estimator_reaches_against_a_mean_of_k_noisy_runs(k):
    rng = np.random.default_rng(0)
    n, signal, noise = 200_000, 1.0, 1.3  # r = 1 / (1 + 1.3**2) ~ 0.372 between two single runs
    expected = rng.normal(0, signal, n)
    runs = expected[:, None] + rng.normal(0, noise, (n, k + 2))
    r_seeds = np.corrcoef(runs[:, -1], runs[:, -2])[0, 1]
    truth = runs[:, :k].mean(axis=1)
    reached = np.corrcoef(expected, truth)[0, 1]  # the estimator that knows every expected value
    assert ceiling(r_seeds, k) == pytest.approx(reached, abs=0.005)
    assert ceiling(0.4) == pytest.approx(0.4 ** 0.5)
    assert ceiling(0.7, 3) == pytest.approx((2.1 / 2.4) ** 0.5)


@pytest.mark.parametrize("args", [(1.5, 1), (0.5, 0), (0.5, 1.5)])
def test_the_ceiling_refuses_impossible_inputs(args):
    with pytest.raises(ValueError):
        ceiling(*args)


def test_spearman_difference_is_a_paired_bootstrap_over_the_cells():
    rng = np.random.default_rng(3)
    truth = rng.normal(size=60)
    a, b = truth + rng.normal(0, 0.5, 60), truth + rng.normal(0, 2.0, 60)
    a[4], truth[7] = np.nan, np.inf  # dropped, with the same cells of every array
    d = spearman_difference(a, b, truth, resamples=300, seed=5)
    keep = np.isfinite(a) & np.isfinite(b) & np.isfinite(truth)
    a, b, truth = a[keep], b[keep], truth[keep]
    assert d["n"] == 58
    assert d["rho_a"] == pytest.approx(stats.spearmanr(a, truth).statistic)
    assert d["rho_b"] == pytest.approx(stats.spearmanr(b, truth).statistic)
    draws_rng, draws = np.random.default_rng(5), []  # the bootstrap, transcribed
    for _ in range(300):
        i = draws_rng.integers(0, 58, 58)
        draws.append(stats.spearmanr(a[i], truth[i]).statistic - stats.spearmanr(b[i], truth[i]).statistic)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx(tuple(np.percentile(draws, [2.5, 97.5])))
    assert 0 < d["ci_low"] < d["difference"] < d["ci_high"]  # the less noisy estimator ranks better
    same = spearman_difference(a, a, truth, resamples=50)
    assert (same["difference"], same["ci_low"], same["ci_high"]) == (0, 0, 0)


def test_top_k_chance_is_what_random_rankings_score_on_top_k_overlap():
    n, fraction = 400, 0.05
    c = top_k_chance(n, fraction)
    assert c["k"] == 20 and c["mean"] == pytest.approx(0.05)
    rng = np.random.default_rng(2)
    truth = rng.normal(size=n)
    overlaps = np.array([top_k_overlap(rng.permutation(n), truth, fraction) for _ in range(4000)])
    assert overlaps.mean() == pytest.approx(c["mean"], abs=0.003)
    inside = (overlaps >= c["low"]) & (overlaps <= c["high"])
    assert 0.95 <= inside.mean() < 0.999  # a central 95 % interval of a discrete count covers at least 95 %
    hits = np.arange(21)  # the hypergeometric law, transcribed: C(k, x) C(n - k, k - x) / C(n, k)
    pmf = np.array([comb(20, x) * comb(380, 20 - x) / comb(400, 20) for x in hits])
    cdf = np.cumsum(pmf)
    assert c["low"] == hits[np.searchsorted(cdf, 0.025)] / 20
    assert c["high"] == hits[np.searchsorted(cdf, 0.975)] / 20
    with pytest.raises(ValueError, match="fraction"):
        top_k_chance(100, 0)


def test_spearman_difference_refuses_before_any_work():
    with pytest.raises(ValueError, match="same shape"):
        spearman_difference([1, 2, 3], [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least 3"):
        spearman_difference([1, np.nan, 3], [1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="resamples"):
        spearman_difference([1, 2, 3], [1, 2, 3], [1, 2, 3], resamples=0)

