"""Judging an experiment's runs (naskit.runs.experiment): each run's last row, the final table, the win rate."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from naskit.runs.experiment import at_cost, final_rows, final_table, win_rate


def _runs(finals: dict[str, list[float]], steps: int = 3) -> pd.DataFrame:
    """An experiment-like frame: ``steps`` rows per (strategy, seed), the last one over budget;
    ``final_test_of_best`` climbs to the run's final value and stays there past the budget."""
    rows = []
    for strategy, values in finals.items():
        for seed, final in enumerate(values):
            for n in range(steps + 1):
                step = min(n, steps - 1)  # the row past the budget repeats the last counted state
                rows.append({"strategy": strategy, "seed": seed, "n": n, "within_budget": n < steps,
                             "cum_evaluations": step + 1, "incumbent": f"{strategy}-{seed}-{step}",
                             "final_test_of_best": final - 0.01 * (steps - 1 - step)})
    return pd.DataFrame(rows)


def test_final_rows_takes_each_runs_last_counted_row_in_frame_order():
    df = _runs({"random": [0.90, 0.92], "evolution": [0.95]})
    last = final_rows(df)
    assert last[["strategy", "seed", "n"]].values.tolist() == [["random", 0, 2], ["random", 1, 2], ["evolution", 0, 2]]
    assert last["final_test_of_best"].tolist() == pytest.approx([0.90, 0.92, 0.95])
    assert last["within_budget"].all() and (last["cum_evaluations"] == 3).all()
    every = final_rows(df, within_budget=False)  # the evaluation that crossed the budget, same incumbent
    assert every["n"].tolist() == [3, 3, 3] and every["incumbent"].tolist() == last["incumbent"].tolist()


def test_final_rows_finds_the_last_evaluation_of_a_reordered_frame():
    df = _runs({"random": [0.90, 0.92], "evolution": [0.95]})
    shuffled = df.sample(frac=1.0, random_state=0)
    reference = df[df["within_budget"]].groupby(["strategy", "seed"]).tail(1)  # the pattern it replaces
    assert final_rows(shuffled).sort_index().equals(reference.sort_index())
    assert final_rows(df.iloc[:0]).empty


def test_final_table_summarises_the_final_rows():
    df = _runs({"random": [0.90, 0.92, 0.91], "evolution": [0.95, 0.93, 0.96]})
    table = final_table(df)
    assert table.loc["evolution", "mean"] == pytest.approx(np.mean([0.95, 0.93, 0.96]))
    assert table.loc["random", "std"] == pytest.approx(np.std([0.90, 0.92, 0.91], ddof=1))
    assert table["n"].tolist() == [3, 3] and "p_vs_random" in table


def _exact_win_rate(xa, xb, k):
    """P(mean of k draws from xa > mean of k draws from xb), every draw with replacement, enumerated."""
    means_a = [np.mean(c) for c in itertools.product(xa, repeat=k)]
    means_b = [np.mean(c) for c in itertools.product(xb, repeat=k)]
    return np.mean([ma > mb for ma in means_a for mb in means_b])


@pytest.mark.parametrize("k", [1, 2])
def test_win_rate_matches_the_exact_probability_on_a_small_case(k):
    evolution, random = [0.95, 0.93, 0.91], [0.94, 0.90, 0.92]
    df = _runs({"evolution": evolution, "random": random})
    exact = _exact_win_rate(evolution, random, k)
    rate = win_rate(df, "evolution", "random", seeds_per_study=k, resamples=20000, rng=1)
    assert rate == pytest.approx(exact, abs=0.02)  # 20,000 resamples: standard error below 0.004


def test_win_rate_replays_the_bootstrap_loop_it_replaces():
    """Lesson 03's loop, seed for seed: a's seeds drawn before b's in each imagined study."""
    df = _runs({"evolution": [0.95, 0.93, 0.91, 0.97], "random": [0.94, 0.90, 0.92, 0.93]})
    last = df[df["within_budget"]].groupby(["strategy", "seed"]).tail(1)
    xa = last.loc[last["strategy"] == "evolution", "final_test_of_best"].to_numpy()
    xb = last.loc[last["strategy"] == "random", "final_test_of_best"].to_numpy()
    rng = np.random.default_rng(7)
    reference = float(np.mean([rng.choice(xa, 3).mean() > rng.choice(xb, 3).mean() for _ in range(500)]))
    assert win_rate(df, "evolution", "random", seeds_per_study=3, resamples=500, rng=7) == reference
    assert win_rate(df, "evolution", "random", resamples=500, rng=np.random.default_rng(7)) == reference


def test_win_rate_is_certain_when_every_run_is_better_and_ties_lose():
    df = _runs({"a": [0.9, 0.8], "b": [0.7, 0.6]})
    assert win_rate(df, "a", "b", resamples=50) == 1.0 and win_rate(df, "b", "a", resamples=50) == 0.0
    tie = _runs({"a": [0.9], "b": [0.9]})
    assert win_rate(tie, "a", "b", resamples=20) == 0.0  # a tie is not a win


def test_win_rate_names_the_strategies_it_has():
    df = _runs({"random": [0.9], "evolution": [0.95]})
    with pytest.raises(ValueError, match=r"'bananas'.*'evolution', 'random'"):
        win_rate(df, "bananas", "random")
    with pytest.raises(ValueError, match="at least 1"):
        win_rate(df, "evolution", "random", seeds_per_study=0)


def test_at_cost_reads_each_runs_incumbent_at_a_spend_and_counts_its_evaluations():
    df = pd.DataFrame({"strategy": ["random"] * 3 + ["evolution"] * 2, "seed": [0, 0, 0, 1, 1],
                       "n": [0, 1, 2, 0, 1], "within_budget": [True, True, True, True, False],
                       "cum_flops": [10.0, 20.0, 30.0, 40.0, 80.0],
                       "final_test_of_best": [0.90, 0.92, 0.95, 0.91, 0.97]})
    at = at_cost(df, 25)
    assert at.loc[("random", 0)].tolist() == [0.92, 2]
    assert np.isnan(at.loc[("evolution", 1), "value"]) and at.loc[("evolution", 1), "evaluations"] == 0
    at = at_cost(df, 100)  # the evaluation the budget did not count stays out
    assert at.loc[("random", 0)].tolist() == [0.95, 3] and at.loc[("evolution", 1)].tolist() == [0.91, 1]
