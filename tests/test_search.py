"""The search loop, budgets, ledger and executors, with one conformance suite over every strategy."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from naskit.core.space import NB201Space
from naskit.core.types import Proposal, Result
from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget, StopReason
from naskit.runs.history import HISTORY_COLUMNS
from naskit.runs.ledger import Ledger
from naskit.runs.loop import search
from naskit.strategies import STRATEGIES, make_strategy
from naskit.strategies.base import Strategy

sys.path.insert(0, str(Path(__file__).parent))
from search_helpers import EPOCHS, SlowEvaluator, synthetic_bench

HELPER = Path(__file__).parent / "search_helpers.py"
OPTIONS = {name: {"max_fidelity": EPOCHS} for name in ("sh", "hyperband", "asha", "bohb")}
# multi-objective strategies judge against a network cost the synthetic table reports (it has no latency)
OPTIONS.update({name: {"costs": ("params",)} for name in ("mo_evolution", "scalarised")})
OPTIONS.update({name: {"costs": ("params",), "max_fidelity": EPOCHS} for name in ("mo_sh", "mo_asha")})


@pytest.fixture(scope="module")
def bench():
    return synthetic_bench()


def strategy(name, seed=0):
    return make_strategy(name, seed=seed, **OPTIONS.get(name, {}))


def history_key(run):
    return list(zip(run.history["arch"], run.history["fidelity"].fillna(-1)))


class Flaky(TabularEvaluator):
    """Fails for every cell whose index is divisible by 3: as a real evaluator's crash would."""

    def evaluate(self, arch, fidelity=None):
        if arch.index % 3 == 0:
            raise RuntimeError(f"boom on {arch.index}")
        return super().evaluate(arch, fidelity)


class InterruptAt(TabularEvaluator):
    """Raises KeyboardInterrupt at its ``at``-th call: a Ctrl-C in the middle of a run."""

    def __init__(self, bench, at):
        super().__init__(bench)
        self.at, self.calls = at, 0

    def evaluate(self, arch, fidelity=None):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return super().evaluate(arch, fidelity)


# ---- conformance: every strategy -----------------------------------------------------------
@pytest.mark.parametrize("name", sorted(STRATEGIES))
class TestConformance:
    def test_respects_evaluation_budget_and_proposes_valid_cells(self, name, bench):
        run = search(strategy(name), TabularEvaluator(bench), Budget(evaluations=30), progress=False)
        assert len(run.history) <= 30
        if run.stop_reason != "strategy finished":
            assert len(run.history) == 30 and run.stop_reason.startswith("evaluations budget")
        space = NB201Space()
        for text, fid in zip(run.history["arch"], run.history["fidelity"]):
            assert str(space.parse(text)) == text
            assert fid is None or fid != fid or 1 <= fid <= EPOCHS
        assert run.best is not None and run.best_result.valid_acc == run.history["valid_acc"].max()

    def test_respects_a_cost_budget_exactly(self, name, bench):
        budget = Budget(sim_seconds=40)
        run = search(strategy(name), TabularEvaluator(bench), budget, progress=False)
        inside = run.history[run.history["within_budget"]]
        assert inside["sim_seconds"].sum() <= 40 + 1e-9
        assert run.cost["sim_seconds"] == pytest.approx(inside["sim_seconds"].sum())
        if run.stop_reason.startswith("sim_seconds"):
            assert not run.history["within_budget"].iloc[-1]  # the one that crossed is not counted
            assert inside["sim_seconds"].sum() + run.history["sim_seconds"].iloc[-1] > 40

    def test_reproducible_for_a_seed(self, name, bench):
        a = search(strategy(name, 3), TabularEvaluator(bench), Budget(evaluations=25), progress=False)
        b = search(strategy(name, 3), TabularEvaluator(bench), Budget(evaluations=25), progress=False)
        c = search(strategy(name, 4), TabularEvaluator(bench), Budget(evaluations=25), progress=False)
        assert history_key(a) == history_key(b)
        assert history_key(a) != history_key(c)

    def test_survives_failed_evaluations(self, name, bench):
        run = search(strategy(name), Flaky(bench), Budget(evaluations=30), progress=False)
        failed = run.history[run.history["status"] == "failed"]
        assert len(failed) > 0 and failed["error"].str.contains("boom").all()
        assert failed["valid_acc"].isna().all()
        assert run.best is not None and run.best.index % 3 != 0

    def test_ledger_and_executor_give_the_same_run(self, name, bench, tmp_path):
        plain = search(strategy(name), TabularEvaluator(bench), Budget(evaluations=20), workers=2, progress=False)
        with ThreadPoolExecutor(2) as pool:
            pooled = search(strategy(name), TabularEvaluator(bench), Budget(evaluations=20), workers=2,
                            executor=pool, ledger=str(tmp_path / "l.db"), progress=False)
        assert history_key(plain) == history_key(pooled)
        with Ledger(tmp_path / "l.db") as ledger:
            assert ledger.count(pooled.run_id) == len(pooled.history)
            assert ledger.count(pooled.run_id, "running") == 0

    def test_resume_after_interrupt_continues_the_same_trajectory(self, name, bench, tmp_path):
        full = search(strategy(name), TabularEvaluator(bench), Budget(evaluations=30), progress=False)
        path, at = str(tmp_path / "l.db"), min(12, len(full.history) // 2)
        with pytest.raises(KeyboardInterrupt):
            search(strategy(name), InterruptAt(bench, at), Budget(evaluations=30), ledger=path, name="r",
                   progress=False)
        with Ledger(path) as ledger:
            assert ledger.count("r") == at and ledger.count("r", "interrupted") == 1
        counting = InterruptAt(bench, at=-1)
        resumed = search(strategy(name), counting, Budget(evaluations=30), ledger=path, name="r", progress=False)
        assert history_key(resumed) == history_key(full)
        assert counting.calls == len(full.history) - (at - 1)  # only the missing ones were evaluated
        with Ledger(path) as ledger:
            assert ledger.count("r") == len(full.history)


# ---- the loop's own rules -------------------------------------------------------------------
def test_budget_needs_a_limit_and_positive_values():
    with pytest.raises(ValueError, match="at least one limit"):
        Budget()
    for bad in (0, -1, math.nan, math.inf, 1.5, True):
        with pytest.raises(ValueError):
            Budget(evaluations=bad)
    with pytest.raises(ValueError, match="sim_seconds"):
        Budget(sim_seconds=-3)


def test_flops_budget_and_stop_reason(bench):
    run = search(strategy("random"), TabularEvaluator(bench), Budget(flops=50e9), progress=False)
    assert run.stop_reason.startswith("flops budget")
    assert run.cost["flops"] <= 50e9


def test_wall_seconds_budget_stops(bench):
    run = search(strategy("random"), SlowEvaluator(bench, 0.01), Budget(wall_seconds=0.2), progress=False)
    assert run.stop_reason.startswith("wall_seconds budget") and 5 <= len(run.history) <= 25


class FirstCells(Strategy):
    """Proposes the space's first ``count`` cells, then nothing: a strategy that finishes."""

    name = "first_cells"

    def __init__(self, count: int):
        super().__init__()
        self.count, self.asked = count, 0

    def ask(self):
        if self.asked == self.count:
            return None
        self.asked += 1
        return Proposal(self.space[self.asked - 1])

    def tell(self, proposal, result):
        pass


@pytest.mark.parametrize("budget, reason, message, last_counted", [
    (Budget(evaluations=12), StopReason.EVALUATIONS, "evaluations budget reached (12)", True),
    (Budget(sim_seconds=40), StopReason.SIM_SECONDS, "sim_seconds budget reached (40)", False),
    (Budget(flops=50e9), StopReason.FLOPS, "flops budget reached (5e+10)", False),
    (Budget(evaluations=100), StopReason.STRATEGY_DONE, "strategy finished", True),
])
def test_the_stop_reason_is_a_stop_reason_and_says_it_in_words(bench, budget, reason, message, last_counted):
    strategy = FirstCells(7) if reason is StopReason.STRATEGY_DONE else make_strategy("random", seed=0)
    run = search(strategy, TabularEvaluator(bench), budget, progress=False)
    assert run.stopped_by is reason and run.stop_reason == message == reason.message(budget)
    assert bool(run.history["within_budget"].iloc[-1]) is last_counted  # a crossed cost limit is not counted
    assert run.history["within_budget"].iloc[:-1].all()
    if reason is StopReason.STRATEGY_DONE:
        assert len(run.history) == 7


def test_a_wall_clock_stop_counts_the_last_evaluation(bench):
    run = search(strategy("random"), SlowEvaluator(bench, 0.01), Budget(wall_seconds=0.1), progress=False)
    assert run.stopped_by is StopReason.WALL_SECONDS and run.history["within_budget"].all()


def test_history_columns_are_one_schema_also_when_empty(bench):
    run = search(strategy("evolution"), TabularEvaluator(bench), Budget(sim_seconds=40), progress=False)
    assert list(run.history.columns) == list(HISTORY_COLUMNS)
    empty = search(FirstCells(0), TabularEvaluator(bench), Budget(evaluations=5), progress=False)
    assert list(empty.history.columns) == list(HISTORY_COLUMNS) and len(empty.history) == 0
    assert empty.best is None and empty.stopped_by is StopReason.STRATEGY_DONE


def test_workers_come_from_the_caller_not_the_executor(bench):
    with ThreadPoolExecutor(3) as pool:
        with pytest.raises(ValueError, match="needs workers=.*ThreadPoolExecutor"):
            search(strategy("random"), TabularEvaluator(bench), Budget(evaluations=5), executor=pool, progress=False)
        run = search(strategy("random"), TabularEvaluator(bench), Budget(evaluations=5), executor=pool, workers=3,
                     progress=False)
    assert run.settings["workers"] == 3 and len(run.history) == 5
    assert search(strategy("random"), TabularEvaluator(bench), Budget(evaluations=5),
                  progress=False).settings["workers"] == 1
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            search(strategy("random"), TabularEvaluator(bench), Budget(evaluations=5), workers=bad, progress=False)


def test_history_tracks_the_incumbent(bench):
    run = search(strategy("random"), TabularEvaluator(bench), Budget(evaluations=40), progress=False)
    h = run.history
    assert list(h["best_valid_so_far"]) == list(h["valid_acc"].cummax())
    best_row = h["valid_acc"].idxmax()
    assert h["test_of_best"].iloc[-1] == h.at[best_row, "test_acc"]
    assert h["incumbent"].iloc[-1] == h.at[best_row, "arch"] == str(run.best)
    assert list(h["cum_evaluations"]) == list(range(1, 41))


def test_resuming_with_other_settings_is_refused(bench, tmp_path):
    path = str(tmp_path / "l.db")
    search(strategy("random"), TabularEvaluator(bench), Budget(evaluations=5), ledger=path, name="x",
           progress=False)
    with pytest.raises(ValueError, match="other settings.*seed"):
        search(strategy("random", seed=9), TabularEvaluator(bench), Budget(evaluations=5), ledger=path,
               name="x", progress=False)
    with Ledger(path) as ledger:
        assert ledger.count("x") == 5  # nothing stored was changed


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path):
    bad = tmp_path / "not.db"
    bad.write_text("hello, I am not SQLite" * 100)
    with pytest.raises(ValueError, match="not a naskit ledger"):
        Ledger(bad)


def test_completed_rows_are_never_overwritten(tmp_path):
    arch = NB201Space()[5]
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.open_run("r", {})
        ledger.record("r", 0, Result(arch, None, 0.5), 1.0)
        ledger.record("r", 0, Result(arch, None, 0.9), 2.0)  # a duplicate delivery
        (_, result, elapsed), = ledger.completed("r")
        assert result.valid_acc == 0.5 and elapsed == 1.0 and ledger.count("r") == 1


# ---- crashes and concurrent writers, in real processes ---------------------------------------
def _run_helper(ledger, seed, evaluations, delay):
    path = os.pathsep.join([str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.Popen([sys.executable, str(HELPER), ledger, "evolution", str(seed), str(evaluations),
                             str(delay)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_and_resume_gives_exactly_the_uninterrupted_run(bench, tmp_path):
    path = str(tmp_path / "l.db")
    proc = _run_helper(path, 0, 60, 0.02)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some evaluations are on disk, then kill -9
        time.sleep(0.2)
        if os.path.exists(path) and Ledger(path).count("evolution-0") >= 15:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Ledger(path) as ledger:
        before = ledger.count("evolution-0")
    assert 0 < before < 60
    resumed = _run_helper(path, 0, 60, 0.0)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    full = search(make_strategy("evolution", seed=0), TabularEvaluator(bench), Budget(evaluations=60),
                  progress=False)
    with Ledger(path) as ledger:
        rows = ledger.completed("evolution-0")
        assert ledger.count("evolution-0") == 60  # no duplicates, nothing left 'running'
    assert [str(p.arch) for p, _, _ in rows] == list(full.history["arch"])


def test_two_processes_write_one_ledger_without_losing_anything(tmp_path):
    path = str(tmp_path / "shared.db")
    procs = [_run_helper(path, seed, 80, 0.002) for seed in (1, 2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "80"
    with Ledger(path) as ledger:
        assert ledger.count("evolution-1") == 80 and ledger.count("evolution-2") == 80
        assert ledger.count() == 160
