"""Tests for the variance studies (naskit.repro.variance, also reachable as naskit.repro.<name>)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import naskit
from naskit.core.space import NB201Space
from naskit.repro import variance

pytestmark = pytest.mark.usefixtures("one_thread")
CELL = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def table():
    """10 cells x 3 seeds x 3 epochs of made-up curves; the last cell has seed 0 only."""
    space, rng = NB201Space(), np.random.default_rng(0)
    cells = list(dict.fromkeys(str(space.sample(random.Random(i))) for i in range(10)))
    rows = []
    for c, cell in enumerate(cells):
        for seed in ((0,) if c == len(cells) - 1 else (0, 1, 2)):
            final = rng.uniform(0.5, 0.95)
            for epoch in (1, 2, 3):
                acc = final * (0.7 + 0.1 * epoch) + rng.normal(0, 0.01)
                rows.append({"arch": cell, "seed": seed, "epoch": epoch, "valid_acc": acc, "test_acc": acc - 0.01})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def bench(table):
    return naskit.TabularBenchmark.from_table(table)


def test_seed_spread_matches_a_direct_computation(bench, table):
    spread = variance.seed_spread(bench)
    final = table[table["epoch"] == 3].pivot_table(index="arch", columns="seed", values="test_acc")
    multi = final.dropna()
    assert len(spread) == len(multi) == 9  # the one-seed cell is left out
    for row in spread.itertuples():
        ref = multi.loc[row.arch]
        assert row.seeds == 3
        assert row.mean == pytest.approx(ref.mean()) and row.std == pytest.approx(ref.std(ddof=1))
        assert row.range == pytest.approx(ref.max() - ref.min())
    one = variance.seed_spread(bench, archs=[spread["arch"][2]])
    assert one["arch"].tolist() == [spread["arch"][2]]


def test_ranking_stability_matches_scipy(bench, table):
    result = variance.ranking_stability(bench)
    fid, seeds = result["fidelity"], result["seeds"]
    assert fid.shape == (3, 3) and np.allclose(np.diag(fid), 1) and np.allclose(fid, fid.T)
    means = table.groupby(["arch", "epoch"])["valid_acc"].mean().unstack()
    assert fid.loc[1, 3] == pytest.approx(stats.kendalltau(means[1], means[3]).statistic)
    wide = table[table["epoch"] == 3].pivot_table(index="arch", columns="seed", values="test_acc").dropna()
    assert seeds.loc[0, 2] == pytest.approx(stats.kendalltau(wide[0], wide[2]).statistic)


def test_search_spread_takes_each_runs_last_row():
    df = pd.DataFrame({"strategy": ["re"] * 6 + ["random"] * 2, "seed": [0, 0, 0, 1, 1, 1, 0, 1],
                       "n": [0, 1, 2, 0, 1, 2, 0, 0], "incumbent": list("abcabbxy"),
                       "final_test_of_best": [.1, .2, .3, .1, .2, .25, .5, .7]})
    out = variance.search_spread(df).set_index("strategy")
    assert out.loc["re", "mean"] == pytest.approx(0.275)
    assert out.loc["re", "std"] == pytest.approx(np.std([.3, .25], ddof=1))
    assert out.loc["re", "distinct_cells"] == 2 and out.loc["random", "runs"] == 2
    shuffled = variance.search_spread(df.sample(frac=1.0, random_state=0)).set_index("strategy")
    pd.testing.assert_frame_equal(shuffled, out)  # the last row is the last evaluation (largest n)


def test_search_spread_agrees_with_final_rows_past_the_budget():
    from naskit.runs.experiment import final_rows

    # run 1 crossed a cost budget at n = 2: that row repeats the incumbent, and is not counted
    df = pd.DataFrame({"strategy": ["re"] * 5, "seed": [0, 0, 1, 1, 1], "n": [0, 1, 0, 1, 2],
                       "within_budget": [True, True, True, True, False], "incumbent": list("abcdd"),
                       "final_test_of_best": [.1, .2, .3, .4, .4]})
    out = variance.search_spread(df).iloc[0]
    assert out["runs"] == 2 and out["mean"] == pytest.approx(final_rows(df)["final_test_of_best"].mean())
    assert out["distinct_cells"] == final_rows(df)["incumbent"].nunique() == 2


def test_training_spread_and_numerics_on_real_training(tiny_mnist1d):
    spread = variance.training_spread(CELL, tiny_mnist1d, seeds=[0, 1], config=naskit.TrainConfig(epochs=1))
    again = naskit.train(CELL, tiny_mnist1d, seed=1, config=naskit.TrainConfig(epochs=1))
    assert spread["seed"].tolist() == [0, 1] and spread["test_acc"].iloc[1] == again.final_test_acc
    assert spread.attrs["std"] == pytest.approx(spread["test_acc"].std(ddof=1))
    study = variance.numerics_study(CELL, tiny_mnist1d, threads=(1, 2), epochs=1)
    assert study[["threads", "deterministic"]].values.tolist() == [[1, False], [1, True], [2, False], [2, True]]
    # one thread, deterministic or not, is the same computation: bit-identical
    assert study["identical"].iloc[0] and study["identical"].iloc[1] and study["max_abs_diff"].iloc[1] == 0
    assert ((study["max_abs_diff"] == 0) == study["identical"]).all()
