"""Simulated parallel workers (naskit.runs.simulated): hand-computed schedules, budgets, seeds,
the ledger; and ASHA and BOHB on a real process pool."""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from search_helpers import synthetic_bench

from naskit.core.space import NB201Space
from naskit.core.types import Proposal, Result
from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget, StopReason
from naskit.runs.loop import search
from naskit.runs.simulated import SimulatedWorkers, worker_idle_seconds, worker_utilisation
from naskit.strategies import make_strategy
from naskit.strategies.base import Strategy

SPACE = NB201Space()


class Scripted(Strategy):
    """Proposes cells 0, 1, 2, ... in batches; with ``barrier``, waits until a batch is all told
    (as synchronous successive halving waits for a rung). Records the tell order."""

    name = "scripted"

    def __init__(self, space=None, seed=0, count=5, barrier=None):
        super().__init__(space, seed)
        self.count, self.barrier, self.asked, self.told = count, barrier, 0, []

    def ask(self):
        waiting = self.barrier and self.asked % self.barrier == 0 and len(self.told) < self.asked
        if self.asked == self.count or waiting:
            return None
        self.asked += 1
        return Proposal(SPACE[self.asked - 1])

    def tell(self, proposal, result):
        self.told.append(proposal.arch.index)

    @property
    def finished(self):
        return len(self.told) == self.count


class Durations:
    """An evaluator whose evaluation of cell i takes ``seconds[i]`` simulated seconds."""

    name = "durations"

    def __init__(self, seconds):
        self.seconds = seconds

    def evaluate(self, arch, fidelity=None):
        return Result(arch, fidelity, 0.5 + arch.index / 100, 0.5, sim_seconds=float(self.seconds[arch.index]))

    def describe(self):
        return {"name": self.name, "seconds": list(self.seconds)}


def test_two_workers_follow_the_hand_computed_schedule():
    # t=0: w0 <- 0 (3 s, arrives 3), w1 <- 1 (1 s, arrives 1); t=1: w1 <- 2 (arrives 2);
    # t=2: w1 <- 3 (4 s, arrives 6); t=3: w0 <- 4 (2 s, arrives 5); t=5: nothing left, w0 idles 5..6
    strategy = Scripted(count=5)
    run = search(strategy, Durations([3, 1, 1, 4, 2]), Budget(evaluations=10), executor=SimulatedWorkers(2),
                 progress=False)
    assert strategy.told == [1, 2, 0, 4, 3]                       # completion order
    assert run.history["n"].tolist() == [1, 2, 0, 4, 3]
    assert run.history["sim_arrival"].tolist() == [1, 2, 3, 5, 6]
    assert run.history["worker"].tolist() == [1, 1, 0, 0, 1]
    assert run.history["sim_start"].tolist() == [0, 1, 0, 3, 2]
    assert run.cost["sim_wall_seconds"] == 6 and run.cost["sim_seconds"] == 11   # wall-clock vs compute
    assert worker_idle_seconds(run) == [1, 0]
    assert worker_utilisation(run) == pytest.approx(11 / 12)


def test_workers_idle_while_the_strategy_waits_for_a_batch():
    # batches of 2: t=0: 0 (1 s) and 1 (4 s); t=1: the strategy waits, w0 idles 1..4;
    # t=4: 2 and 3 (2 s each) both arrive at 6: the one asked first is told first
    strategy = Scripted(count=4, barrier=2)
    run = search(strategy, Durations([1, 4, 2, 2]), Budget(evaluations=10), executor=SimulatedWorkers(2),
                 progress=False)
    assert strategy.told == [0, 1, 2, 3]
    assert run.history["sim_arrival"].tolist() == [1, 4, 6, 6]
    assert worker_idle_seconds(run) == [3, 0]
    assert worker_utilisation(run) == pytest.approx(9 / 12)
    assert run.stopped_by is StopReason.STRATEGY_DONE


def test_one_worker_is_the_sequential_run():
    run = search(Scripted(count=4), Durations([3, 1, 1, 4]), Budget(evaluations=10), executor=SimulatedWorkers(1),
                 progress=False)
    assert run.history["sim_arrival"].tolist() == [3, 4, 5, 9] and worker_utilisation(run) == 1.0


def test_simulated_wall_clock_and_compute_budgets():
    seconds = [3, 1, 1, 4, 2]
    wall = search(Scripted(count=5), Durations(seconds), Budget(sim_wall_seconds=4.5),
                  executor=SimulatedWorkers(2), progress=False)
    # arrivals 1, 2, 3 fit; the next arrives at 5 > 4.5: recorded, not counted
    assert wall.history["within_budget"].tolist() == [True, True, True, False]
    assert wall.stopped_by is StopReason.SIM_WALL_SECONDS and wall.cost["sim_wall_seconds"] == 3
    compute = search(Scripted(count=5), Durations(seconds), Budget(sim_seconds=5),
                     executor=SimulatedWorkers(2), progress=False)
    # compute after arrivals 1, 2, 0 is 1 + 1 + 3 = 5; with 4 (2 s) it would be 7
    assert compute.history["within_budget"].tolist() == [True, True, True, False]
    assert compute.stopped_by is StopReason.SIM_SECONDS


def test_wall_clock_budget_needs_simulated_workers():
    with pytest.raises(ValueError, match="SimulatedWorkers"):
        search(Scripted(), Durations([1] * 5), Budget(sim_wall_seconds=10), progress=False)
    with pytest.raises(ValueError, match="workers"):
        SimulatedWorkers(0)


@pytest.fixture(scope="module")
def evaluator():
    return TabularEvaluator(synthetic_bench())


@pytest.mark.parametrize("name", ["random", "sh", "hyperband", "asha", "bohb", "evolution"])
def test_identical_for_a_seed(evaluator, name):
    def run(seed):
        r = search(make_strategy(name, seed=seed, **({} if name in ("random", "evolution") else
                                                    {"max_fidelity": 4})),
                   evaluator, Budget(sim_wall_seconds=40), executor=SimulatedWorkers(4), progress=False)
        return r.history.drop(columns=["elapsed", "wall_seconds", "cpu_seconds"])

    first = run(1)
    pd.testing.assert_frame_equal(first, run(1))
    assert not first.equals(run(2))
    assert first["worker"].nunique() == 4


def test_resume_from_a_ledger_repeats_the_run(evaluator, tmp_path):
    ledger = tmp_path / "runs.sqlite"
    budget = Budget(sim_wall_seconds=30)

    def run(use_ledger=True):
        return search(make_strategy("asha", seed=0, max_fidelity=4), evaluator, budget,
                      ledger=ledger if use_ledger else None, executor=SimulatedWorkers(3), progress=False)

    fresh, first, again = run(False), run(), run()
    cols = ["n", "arch", "fidelity", "valid_acc", "worker", "sim_start", "sim_arrival", "within_budget"]
    pd.testing.assert_frame_equal(first.history[cols], fresh.history[cols])
    pd.testing.assert_frame_equal(again.history[cols], fresh.history[cols])
    assert first.run_id != search(make_strategy("asha", seed=0, max_fidelity=4), evaluator, Budget(evaluations=5),
                                  workers=3, progress=False).run_id


@pytest.mark.parametrize("name", ["asha", "bohb"])
def test_asha_and_bohb_on_a_process_pool_match_the_in_process_run(evaluator, name):
    def run(executor=None):
        return search(make_strategy(name, seed=0, max_fidelity=4), evaluator, Budget(evaluations=40),
                      executor=executor, workers=2, progress=False)

    with ProcessPoolExecutor(2) as pool:
        pooled = run(pool)
    local = run()
    cols = ["n", "arch", "fidelity", "valid_acc"]
    pd.testing.assert_frame_equal(pooled.history[cols], local.history[cols])
    assert len(pooled.history) == 40 and np.isfinite(pooled.history["valid_acc"]).all()
    assert set(pooled.history["fidelity"]) > {1}   # promotions happened
