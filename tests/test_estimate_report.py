"""The estimator report: every estimator's correlation equals a direct SciPy computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from naskit.bench.table import TabularBenchmark
from naskit.core.space import NB201Space
from naskit.estimate.report import PROXY_NAMES, estimator_report


@pytest.fixture(scope="module")
def bench_and_proxies():
    space = NB201Space()
    rng = np.random.default_rng(3)
    archs = list(dict.fromkeys(str(space.sample(rng)) for _ in range(80)))
    final = rng.random(len(archs))
    rows = [{"arch": a, "epoch": e, "valid_acc": float(np.clip(f * e / 4 + rng.normal(0, 0.05), 0, 1)),
             "test_acc": f}
            for a, f in zip(archs, final) for e in range(1, 5)]
    bench = TabularBenchmark.from_table(pd.DataFrame(rows).assign(train_flops=4 * 10**9))
    bench.meta["keys"] = [f"k{i}" for i in range(len(archs))]
    noisy = {name: final + rng.normal(0, 0.1 * (i + 1), len(archs)) for i, name in enumerate(PROXY_NAMES)}
    proxies = pd.DataFrame(noisy, index=bench.meta["keys"])
    for name in PROXY_NAMES:
        proxies[f"{name}_seconds"] = 0.01
    return bench, proxies, final


def test_report_rows_equal_scipy(bench_and_proxies):
    bench, proxies, final = bench_and_proxies
    report = estimator_report(bench, proxies)
    truth = bench._mean["test_acc"][:, -1]
    assert report.loc["valid acc @ epoch 2", "spearman"] == pytest.approx(
        stats.spearmanr(bench._mean["valid_acc"][:, 1], truth).statistic)
    assert report.loc["synflow", "kendall"] == pytest.approx(stats.kendalltau(proxies["synflow"], truth).statistic)
    assert report.loc["synflow", "published_spearman"] == 0.74
    combined = [i for i in report.index if i.startswith("rank average")]
    assert len(combined) == 1 and report.loc[combined[0], "n"] == len(final)
    assert {"low fidelity", "learning curve", "zero-cost proxy", "baseline", "combined"} == set(report["kind"])


def test_over_cells_weighs_each_class_by_its_cells(bench_and_proxies):
    import dataclasses

    bench, proxies, final = bench_and_proxies
    mapped = bench.entry_of_cell.copy()
    free = np.flatnonzero(mapped < 0)[:5]
    mapped[free] = 0  # five more cells in the class of entry 0
    heavy = dataclasses.replace(bench, entry_of_cell=mapped)
    report = estimator_report(heavy, proxies, over="cells")
    weights = np.ones(len(final), int)
    weights[0] += 5
    expect = stats.spearmanr(np.repeat(proxies["snip"].to_numpy(), weights), np.repeat(final, weights)).statistic
    assert report.loc["snip", "spearman"] == pytest.approx(expect)
    assert report.loc["snip", "n"] == len(final) + 5
    with pytest.raises(ValueError, match="over must be one of"):
        estimator_report(bench, proxies, over="archs")


def test_greedy_vote_adds_complementary_scores_and_stops():
    from naskit.estimate.report import greedy_vote

    rng = np.random.default_rng(0)
    a, b = rng.random(400), rng.random(400)
    truth = a + b
    scores = {"half a": a, "half b": b, "noise": rng.random(400)}
    assert set(greedy_vote(scores, truth)) == {"half a", "half b"}  # noise would lower the vote
    assert greedy_vote({"only": a, "noise": rng.random(400)}, a) == ("only",)


def test_heldout_vote_judges_on_the_other_half():
    from naskit.estimate.report import heldout_vote

    rng = np.random.default_rng(1)
    a, b = rng.random(600), rng.random(600)
    truth = a + b + rng.normal(0, 0.1, 600)
    frame = heldout_vote({"a": a, "b": b, "noise": rng.random(600)}, truth, splits=3, seed=0)
    assert len(frame) == 3 and (frame["gain"] > 0.1).all()
    assert set(frame["best_single"]) <= {"a", "b"}
    assert all(set(m.split(" + ")) == {"a", "b"} for m in frame["members"])
