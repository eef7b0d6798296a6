"""The search loop: a strategy proposes, an evaluator scores, the loop keeps the books.

``search`` owns what strategies and evaluators must not: the budget, the ledger (resume
after a crash), parallel evaluation through any ``concurrent.futures.Executor``, and the
progress bar. It is deterministic for a seed, also in parallel: with ``workers = w`` the
loop asks for proposal ``n`` right after telling the strategy result ``n - w``, and tells
results in proposal order, so the interleaving never depends on which worker is faster.
Replaying a ledger repeats the same interleaving, which is why a resumed run continues on
the trajectory of an uninterrupted one.

Example:
    >>> import pandas as pd
    >>> from naskit.bench.table import TabularBenchmark
    >>> from naskit.core.space import NB201Space
    >>> from naskit.evaluators.tabular import TabularEvaluator
    >>> from naskit.strategies import RandomSearch
    >>> space = NB201Space()
    >>> table = pd.DataFrame({"arch": [str(a) for a in space], "valid_acc": [a.index / 15625 for a in space],
    ...                       "test_acc": [a.index / 15625 for a in space]})
    >>> run = search(RandomSearch(seed=0), TabularEvaluator(TabularBenchmark.from_table(table)),
    ...              Budget(evaluations=20), progress=False)
    >>> len(run.history), run.stop_reason, run.stopped_by
    (20, 'evaluations budget reached (20)', <StopReason.EVALUATIONS: 'evaluations'>)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from naskit.core.evaluator import Evaluator
from naskit.core.space import Arch
from naskit.core.types import Proposal, Result
from naskit.cost import accounting
from naskit.cost.stopwatch import Stopwatch
from naskit.runs.budget import Budget, StopReason, check_fits
from naskit.runs.history import HistoryRow, summarise
from naskit.runs.ledger import Ledger, out_of_range
from naskit.runs.simulated import SimulatedClock, SimulatedWorkers
from naskit.strategies.base import Strategy


@dataclass
class SearchRun:
    """What a search returns: the incumbent, the full history, why it stopped, and its cost.

    ``history`` has one row per evaluation and the columns ``naskit.runs.history.HISTORY_COLUMNS``: the recorded
    ones (``HistoryRow``), then ``DERIVED_COLUMNS``. ``stopped_by`` is why the search stopped, a
    ``StopReason``; ``stop_reason`` says it in words (``stopped_by.message(budget)``, e.g.
    ``"evaluations budget reached (150)"``), as results, ledgers and notebooks print it.
    """

    run_id: str
    best: Arch | None
    best_result: Result | None
    history: pd.DataFrame
    stop_reason: str
    cost: dict
    manifest: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    final: Result | None = None  # the incumbent re-evaluated at full fidelity (``search(final=True)``)
    stopped_by: StopReason | None = None
    schedule: pd.DataFrame | None = None  # on simulated workers: each evaluation's worker and times

    def cost_phases(self) -> dict[str, dict[str, float]]:
        """The search's cost by phase (``naskit.cost.accounting``): the strategy's own seconds
        (``search``), the candidates' evaluations (``evaluation``) and, with ``search(final=True)``,
        the incumbent's evaluation at full fidelity (``final``)."""
        phases = {
            "search": {"wall_seconds": self.cost.get("strategy_wall_seconds", 0.0),
                       "cpu_seconds": self.cost.get("strategy_cpu_seconds", 0.0)},
            "evaluation": {m: float(np.nansum(self.history[m])) for m in accounting.MEASURES},
        }
        if self.final is not None:
            phases["final"] = accounting.total_cost(self.final)
        return phases

    def cost_breakdown(self):
        """Phase-by-phase cost: strategy, candidate evaluations, final evaluation
        (``naskit.cost.accounting.cost_breakdown``)."""
        return accounting.cost_breakdown(self)


class _Spent:
    """Running totals against a budget."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.evaluations, self.sim_seconds, self.flops = 0, 0.0, 0.0

    def fits(self, result: Result, elapsed: float, sim_clock: float | None = None) -> StopReason | None:
        """Count ``result`` if it fits; return the reason to stop (None to go on). A result that
        would cross a cost limit, or arrive after the simulated wall-clock limit (``sim_clock``:
        its arrival on simulated workers), is not counted (``StopReason.counts_last``)."""
        b = self.budget
        if b.sim_wall_seconds is not None and sim_clock is not None and sim_clock > b.sim_wall_seconds:
            return StopReason.SIM_WALL_SECONDS
        if b.sim_seconds is not None and self.sim_seconds + result.sim_seconds > b.sim_seconds:
            return StopReason.SIM_SECONDS
        if b.flops is not None and self.flops + result.flops > b.flops:
            return StopReason.FLOPS
        self.evaluations += 1
        self.sim_seconds += result.sim_seconds
        self.flops += result.flops
        if b.evaluations is not None and self.evaluations >= b.evaluations:
            return StopReason.EVALUATIONS
        if b.wall_seconds is not None and elapsed >= b.wall_seconds:
            return StopReason.WALL_SECONDS
        return None


class _Done:
    """A finished evaluation in the pending queue (replayed from the ledger)."""

    def __init__(self, result: Result):
        self._result = result

    def result(self) -> Result:
        return self._result

    def cancel(self) -> bool:
        return False


def _evaluate(evaluator, proposal: Proposal) -> Result:
    """Run one evaluation; an exception, or values no evaluation can have (an accuracy outside
    [0, 1], a negative cost), become a failed result instead of ending the search."""
    nan = float("nan")
    try:
        result = evaluator.evaluate(proposal.arch, proposal.fidelity)
    except Exception as exc:  # a broken candidate must not end the search
        return Result(proposal.arch, proposal.fidelity, nan, nan, status="failed",
                      error=f"{type(exc).__name__}: {exc}")
    if (problem := out_of_range(vars(result))) is None:
        return result
    costs = {k: getattr(result, k) for k in accounting.MEASURES}  # what it cost, unless that is what is wrong
    if out_of_range(dict(costs, status="ok")) is not None:
        costs = {}
    return Result(proposal.arch, proposal.fidelity, nan, nan, status="failed", **costs,
                  error=f"the evaluator returned values no evaluation can have: {problem}")


def run_settings(strategy: Strategy, evaluator, budget: Budget, workers: int, simulated: bool = False) -> dict:
    limits = {k: v for k, v in asdict(budget).items() if v is not None or k != "sim_wall_seconds"}  # older run ids
    settings = {"strategy": strategy.settings(), "evaluator": evaluator.describe(), "budget": limits,
                "workers": workers}
    return {**settings, "executor": "simulated"} if simulated else settings


def run_id_for(settings: dict) -> str:
    text = json.dumps(settings, sort_keys=True, default=str)
    return f"{settings['strategy']['name']}-s{settings['strategy'].get('seed')}-" + \
        hashlib.sha256(text.encode()).hexdigest()[:10]


def search(
    strategy: Strategy,
    evaluator,
    budget: Budget,
    ledger: Ledger | str | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    name: str | None = None,
    progress: bool = True,
    manifest: dict | None = None,
    final: bool = False,
) -> SearchRun:
    """Run ``strategy`` against ``evaluator`` until ``budget`` is spent.

    Args:
        strategy: an ask/tell strategy from ``naskit.strategies``.
        evaluator: anything with ``evaluate(arch, fidelity) -> Result`` and ``describe()``.
        budget: a ``Budget``.
        ledger: a ``Ledger`` or a path to one; completed evaluations found there for this run
            are replayed (not re-evaluated), and new ones are written as they finish.
        executor: evaluate in parallel on any ``concurrent.futures.Executor`` (a process pool,
            ``distributed.Client(...).get_executor()``); None evaluates in this process;
            ``naskit.runs.simulated.SimulatedWorkers(n)`` replays ``n`` workers on the evaluator's
            simulated clock (results told in completion order; ``run.schedule`` and the history's
            ``worker``, ``sim_start`` and ``sim_arrival`` say when; ``run.cost["sim_wall_seconds"]``).
        workers: evaluations in flight at once; part of the run's settings. Default 1 without
            an executor; with one, give it (usually the executor's number of workers: an
            executor's pool size is private to it, so the loop does not guess it).
        name: the run's id in the ledger (default: derived from the settings).
        progress: show a tqdm progress bar.
        manifest: the environment record to attach (default: ``naskit.manifest()`` now);
            experiments compute it once for all their runs.
        final: afterwards, evaluate the incumbent once more at full fidelity (training and
            validating the chosen cell: outside the budget, its cost is the breakdown's
            ``final`` phase) and keep it as ``run.final``.

    Returns:
        A ``SearchRun`` with the best architecture by validation accuracy, the history
        DataFrame, why it stopped (``stopped_by``, a ``StopReason``, and ``stop_reason`` in
        words), the total cost and a manifest.
    """
    workers = _workers(workers, executor)
    simulated = isinstance(executor, SimulatedWorkers)
    settings = run_settings(strategy, evaluator, budget, workers, simulated)
    check_search(settings, evaluator, budget, ledger)
    run_id = name or run_id_for(settings)
    if manifest is None:
        from naskit.runtime.manifest import manifest as make_manifest

        manifest = make_manifest(extra={"run_id": run_id, "settings": settings})
    own_ledger = not isinstance(ledger, Ledger)
    ledger = (_NoLedger() if ledger is None else Ledger(ledger)) if own_ledger else ledger
    try:
        loop = _Loop(strategy=strategy, evaluator=evaluator, budget=budget, ledger=ledger,
                     executor=None if simulated else executor, workers=workers, run_id=run_id,
                     replay=ledger.open_run(run_id, settings), clock=executor.clock() if simulated else None)
        stop = loop.run(progress)
        run = _finish(run_id, loop.rows, stop, settings, budget)
        if simulated:
            _add_schedule(run, loop.clock)
        run.cost.update(strategy_wall_seconds=loop.own.wall_seconds, strategy_cpu_seconds=loop.own.cpu_seconds)
    finally:
        if own_ledger:
            ledger.close()
    run.manifest = manifest
    if final and run.best is not None:  # at the evaluator's full fidelity, whatever the search used
        run.final = _evaluate(evaluator, Proposal(run.best, getattr(evaluator, "max_fidelity", None)))
    return run


def check_search(settings: dict, evaluator, budget: Budget, ledger) -> None:
    """What ``search`` refuses before any work, besides its arguments' own checks.

    A run with a ledger must be resumable, so its strategy needs a seed: ``seed=None`` draws a
    new one each time, and the resumed run would propose other cells than the recorded ones.
    A cost limit must fit the evaluator (``budget.check_fits``), when the evaluator says what one
    evaluation can cost (an optional ``cost_range()``: measure -> (cheapest, dearest)).
    """
    strategy = settings["strategy"]
    needed = [*strategy.get("costs", []), *strategy.get("limits", {})]  # multi-objective and constrained
    if needed and hasattr(evaluator, "network_cost_names"):
        have = evaluator.network_cost_names()
        missing = [name for name in needed if name not in have]
        if missing:
            raise ValueError(f"strategy {strategy['name']!r} judges cells by {', '.join(missing)}, which evaluator "
                             f"{getattr(evaluator, 'name', '?')!r} does not report; it reports "
                             f"{', '.join(have) or 'no network costs'}: choose costs among those")
    if budget.sim_wall_seconds is not None and settings.get("executor") != "simulated":
        raise ValueError(f"budget sim_wall_seconds={budget.sim_wall_seconds:g} is the wall-clock of simulated "
                         "workers: search with executor=naskit.runs.simulated.SimulatedWorkers(n), or limit "
                         "sim_seconds (the total simulated compute) instead")
    if budget.sim_wall_seconds is not None and hasattr(evaluator, "cost_range") and \
            evaluator.cost_range().get("sim_seconds", (0.0, 1.0))[1] <= 0:
        raise ValueError(f"budget sim_wall_seconds={budget.sim_wall_seconds:g} would never be reached: evaluator "
                         f"{getattr(evaluator, 'name', '?')!r} charges 0 sim_seconds for every evaluation, so "
                         "simulated workers never advance their clock; limit evaluations instead")
    if ledger is not None and "seed" in strategy and strategy["seed"] is None:
        raise ValueError(f"strategy {strategy['name']!r} has seed=None, which draws a new random seed each time: "
                         "a run with a ledger could not be resumed on the same trajectory. Give a seed "
                         f"(e.g. make_strategy({strategy['name']!r}, seed=0)), or search without a ledger")
    if hasattr(evaluator, "cost_range"):
        free = evaluator.free_queries() if hasattr(evaluator, "free_queries") else None
        check_fits(budget, evaluator.cost_range(), f"evaluator {getattr(evaluator, 'name', '?')!r}", free)


class _NoLedger:
    """Stands in for a ``Ledger`` when none is wanted: remembers nothing."""

    def open_run(self, run_id, settings):
        return []

    def mark_running(self, *args):
        pass

    record = mark_interrupted = discard_unfinished = mark_finished = close = mark_running


def _workers(workers: int | None, executor: Executor | None) -> int:
    """The evaluations to keep in flight: the caller's number, or 1 without an executor (simulated
    workers say their number)."""
    if isinstance(executor, SimulatedWorkers):
        if workers is not None and workers != executor.workers:
            raise ValueError(f"workers={workers!r} differs from SimulatedWorkers({executor.workers}); give one")
        return executor.workers
    if workers is None:
        if executor is not None:
            raise ValueError("search(executor=...) needs workers=: how many evaluations to keep in flight on "
                             "the executor, usually its number of workers (e.g. workers=4 for "
                             "ThreadPoolExecutor(4)); an executor keeps its pool size private, so naskit does "
                             "not guess it")
        return 1
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    return workers


@dataclass(kw_only=True)
class _Loop:
    """One search in progress: what it was given (the first fields) and how far it has got."""

    strategy: Strategy
    evaluator: Evaluator
    budget: Budget
    ledger: Ledger | _NoLedger
    executor: Executor | None
    workers: int
    run_id: str
    replay: list[tuple[Proposal, Result, float]]  # the ledger's completed evaluations: (proposal, result, elapsed)
    spent: _Spent = field(init=False)
    rows: list[HistoryRow] = field(default_factory=list)
    pending: deque = field(default_factory=deque)  # (n, proposal, future) in flight, oldest first
    asked: int = 0
    own: Stopwatch = field(default_factory=Stopwatch)  # the strategy's and the ledger's time: the "search" phase
    offset: float = 0.0  # elapsed seconds carried over from before a resume
    start: float = 0.0  # time.perf_counter() when the loop began
    clock: SimulatedClock | None = None  # simulated workers: results are told in order of arrival

    def __post_init__(self) -> None:
        self.spent = _Spent(self.budget)
        self.offset = self.replay[-1][2] if self.replay else 0.0

    def run(self, progress: bool) -> StopReason:
        """Ask, evaluate and tell until a limit is reached or the strategy is done; say which."""
        from tqdm.auto import tqdm

        stop = None
        self.start = time.perf_counter()
        bar = tqdm(total=self.budget.evaluations, disable=not progress, desc=self.strategy.name, unit="eval")
        try:
            while stop is None:
                self.fill()
                if not self.pending:
                    stop = StopReason.STRATEGY_DONE
                    break
                stop = self.tell_oldest()
                bar.update(1)
        except BaseException:
            self.ledger.mark_interrupted(self.run_id)
            raise
        finally:
            bar.close()
            for _, _, future in self.pending:
                future.cancel()
        self.ledger.discard_unfinished(self.run_id)  # evaluations past the budget are not part of the run
        self.ledger.mark_finished(self.run_id, stop.message(self.budget))
        return stop

    def fill(self) -> None:
        """Ask for proposals until ``workers`` are in flight, the budget's count is all asked, or
        the strategy has none."""
        limit = self.budget.evaluations
        while len(self.pending) < self.workers and (limit is None or self.asked < limit):
            with self.own:
                proposal = self.strategy.ask()
            if proposal is None:
                break
            future = self.submit(self.asked, proposal)
            if self.clock is not None:  # a worker is idle now: it takes the evaluation for its simulated seconds
                self.clock.start(self.asked, future.result().sim_seconds)
            self.pending.append((self.asked, proposal, future))
            self.asked += 1

    def submit(self, n: int, proposal: Proposal) -> Future | _Done:
        """Start evaluation ``n``, or hand back its result from the ledger when it is recorded there."""
        if n < len(self.replay):
            recorded = self.replay[n][0]
            if recorded != proposal:
                raise ValueError(f"the ledger's evaluation {n} was {recorded.arch} at fidelity {recorded.fidelity}, "
                                 f"but the strategy now proposes {proposal.arch} at {proposal.fidelity}: the "
                                 "strategy or its code changed since the run was recorded")
            return _Done(self.replay[n][1])
        self.ledger.mark_running(self.run_id, n, proposal)
        if self.clock is not None:  # recorded now, in ask order, so that a replay finds it by n
            result = _evaluate(self.evaluator, proposal)
            self.ledger.record(self.run_id, n, result, self.offset + time.perf_counter() - self.start)
            return _Done(result)
        if self.executor is None:
            return _Done(_evaluate(self.evaluator, proposal))
        return self.executor.submit(_evaluate, self.evaluator, proposal)

    def tell_oldest(self) -> StopReason | None:
        """Wait for the oldest evaluation in flight; record it, count it against the budget and
        tell the strategy. Return the reason to stop (None to go on)."""
        n, proposal, future = self.pending.popleft() if self.clock is None else self.pop_arrival()
        result = _result_of(future, proposal, self.executor, self.evaluator)
        replayed = n < len(self.replay)
        elapsed = self.replay[n][2] if replayed else self.offset + time.perf_counter() - self.start
        with self.own:
            if not replayed and self.clock is None:
                self.ledger.record(self.run_id, n, result, elapsed)
            stop = self.spent.fits(result, elapsed, None if self.clock is None else self.clock.now)
            counted = stop is None or stop.counts_last
            self.rows.append(HistoryRow.of(n, result, counted, self.spent, elapsed))
            self.strategy.tell(proposal, result)
        return stop


    def pop_arrival(self) -> tuple:
        """Simulated workers: the evaluation in flight whose result arrives first."""
        n = self.clock.next_arrival([k for k, _, _ in self.pending])
        entry = next(e for e in self.pending if e[0] == n)
        self.pending.remove(entry)
        return entry


def _add_schedule(run: SearchRun, clock: SimulatedClock) -> None:
    """Attach the simulated schedule: per history row its worker, start and arrival; the run's
    simulated wall-clock is the arrival of its last counted result."""
    run.schedule = clock.schedule()
    by_n = run.schedule.set_index("n")
    for column in ("worker", "sim_start", "sim_arrival"):
        run.history[column] = by_n.loc[run.history["n"], column].to_numpy() if len(run.history) else []
    counted = run.history["sim_arrival"][run.history["within_budget"].astype(bool)]
    run.cost["sim_wall_seconds"] = float(counted.max()) if len(counted) else 0.0


def _evaluate_again(evaluator, proposal: Proposal) -> Result:
    """``_evaluate`` under another name: a retry is a new task (Dask keys a pure task by its
    function and arguments, and would hand back the first attempt's error)."""
    return _evaluate(evaluator, proposal)


def _result_of(future: Future | _Done, proposal: Proposal, executor=None, evaluator=None) -> Result:
    """The evaluation's result. ``_evaluate`` turns the evaluator's own exceptions into failed
    results, so an exception here means the worker died or could not run the task (a killed
    process, a lost Dask worker): the evaluation is submitted once more, and fails only if
    that fails too."""
    try:
        return future.result()
    except Exception as first:  # noqa: BLE001 -- infrastructure failure: retry once
        error = f"{type(first).__name__}: {first}"
        if executor is not None:
            try:
                return executor.submit(_evaluate_again, evaluator, proposal).result()
            except Exception as second:  # noqa: BLE001
                error = f"worker failed twice: {error}; then {type(second).__name__}: {second}"
        nan = float("nan")
        return Result(proposal.arch, proposal.fidelity, nan, nan, status="failed", error=error)


def _finish(run_id: str, rows: list[HistoryRow], stop: StopReason, settings: dict, budget: Budget) -> SearchRun:
    history, best, best_result, cost = summarise(rows)
    return SearchRun(run_id, best, best_result, history, stop.message(budget), cost, {}, settings, stopped_by=stop)


