"""The estimator report: every estimator's correlation equals a direct SciPy computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from naskit.bench.table import TabularBenchmark
from naskit.estimate.report import PROXY_NAMES, estimator_report
from naskit.space import NB201Space


@pytest.fixture(scope="module")
def bench_and_proxies():
    space = NB201Space()
    rng = np.random.default_rng(3)
    archs = list(dict.fromkeys(str(space.sample(rng)) for _ in range(80)))
    final = rng.random(len(archs))
    rows = [{"arch": a, "epoch": e, "valid_acc": f * e / 4 + rng.normal(0, 0.05), "test_acc": f}
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
