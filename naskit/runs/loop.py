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
    >>> from naskit.evaluators.tabular import TabularEvaluator
    >>> from naskit.strategies import RandomSearch
    >>> space = NB201Space()
    >>> table = pd.DataFrame({"arch": [str(a) for a in space], "valid_acc": [a.index / 15625 for a in space],
    ...                       "test_acc": [a.index / 15625 for a in space]})
    >>> run = search(RandomSearch(seed=0), TabularEvaluator(TabularBenchmark.from_table(table)),
    ...              Budget(evaluations=20), progress=False)
    >>> len(run.history), run.stop_reason
    (20, 'evaluations budget reached (20)')
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass, field

import pandas as pd

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.cost.stopwatch import Stopwatch
from naskit.runs.budget import Budget
from naskit.runs.ledger import Ledger
from naskit.strategies.base import Strategy


@dataclass
class SearchRun:
    """What a search returns: the incumbent, the full history, why it stopped, and its cost."""

    run_id: str
    best: Arch | None
    best_result: Result | None
    history: pd.DataFrame
    stop_reason: str
    cost: dict
    manifest: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    final: Result | None = None  # the incumbent re-evaluated at full fidelity (``search(final=True)``)

    def cost_breakdown(self):
        """Phase-by-phase cost: strategy, candidate evaluations, final evaluation
        (``naskit.cost.accounting.cost_breakdown``)."""
        from naskit.cost.accounting import cost_breakdown

        return cost_breakdown(self)


class _Spent:
    """Running totals against a budget."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.evaluations, self.sim_seconds, self.flops = 0, 0.0, 0.0

    def fits(self, result: Result, elapsed: float) -> str | None:
        """Count ``result`` if it fits; return the reason to stop (None to go on)."""
        b = self.budget
        if b.sim_seconds is not None and self.sim_seconds + result.sim_seconds > b.sim_seconds:
            return f"sim_seconds budget reached ({b.sim_seconds:g})"
        if b.flops is not None and self.flops + result.flops > b.flops:
            return f"flops budget reached ({b.flops:g})"
        self.evaluations += 1
        self.sim_seconds += result.sim_seconds
        self.flops += result.flops
        if b.evaluations is not None and self.evaluations >= b.evaluations:
            return f"evaluations budget reached ({b.evaluations})"
        if b.wall_seconds is not None and elapsed >= b.wall_seconds:
            return f"wall_seconds budget reached ({b.wall_seconds:g})"
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
    """Run one evaluation; an exception becomes a failed result instead of ending the search."""
    try:
        return evaluator.evaluate(proposal.arch, proposal.fidelity)
    except Exception as exc:  # a broken candidate must not end the search
        nan = float("nan")
        return Result(proposal.arch, proposal.fidelity, nan, nan, status="failed",
                      error=f"{type(exc).__name__}: {exc}")


def run_settings(strategy: Strategy, evaluator, budget: Budget, workers: int) -> dict:
    return {"strategy": strategy.settings(), "evaluator": evaluator.describe(), "budget": asdict(budget),
            "workers": workers}


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
            ``distributed.Client(...).get_executor()``); None evaluates in this process.
        workers: evaluations in flight at once (default: 1 without an executor, else the
            executor's ``_max_workers`` when it has one, else 2). Part of the run's settings.
        name: the run's id in the ledger (default: derived from the settings).
        progress: show a tqdm progress bar.
        manifest: the environment record to attach (default: ``naskit.manifest()`` now);
            experiments compute it once for all their runs.
        final: afterwards, evaluate the incumbent once more at full fidelity (training and
            validating the chosen cell: outside the budget, its cost is the breakdown's
            ``final`` phase) and keep it as ``run.final``.

    Returns:
        A ``SearchRun`` with the best architecture by validation accuracy, the history
        DataFrame, why it stopped, the total cost and a manifest.
    """
    workers = workers or (getattr(executor, "_max_workers", 2) if executor is not None else 1)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    settings = run_settings(strategy, evaluator, budget, workers)
    run_id = name or run_id_for(settings)
    if manifest is None:
        from naskit.runtime.manifest import manifest as make_manifest

        manifest = make_manifest(extra={"run_id": run_id, "settings": settings})
    own_ledger = not isinstance(ledger, Ledger)
    ledger = (_NoLedger() if ledger is None else Ledger(ledger)) if own_ledger else ledger
    try:
        replay = ledger.open_run(run_id, settings)
        run = _loop(strategy, evaluator, budget, ledger, executor, workers, run_id, settings, replay, progress)
    finally:
        if own_ledger:
            ledger.close()
    run.manifest = manifest
    if final and run.best is not None:  # at the evaluator's full fidelity, whatever the search used
        run.final = _evaluate(evaluator, Proposal(run.best, getattr(evaluator, "max_fidelity", None)))
    return run


class _NoLedger:
    """Stands in for a ``Ledger`` when none is wanted: remembers nothing."""

    def open_run(self, run_id, settings):
        return []

    def mark_running(self, *args):
        pass

    record = mark_interrupted = discard_unfinished = close = mark_running


def _loop(strategy, evaluator, budget, ledger, executor, workers, run_id, settings, replay, progress):
    from tqdm.auto import tqdm

    spent, rows, pending = _Spent(budget), [], deque()
    asked, stop = 0, None
    offset = replay[-1][2] if replay else 0.0  # elapsed seconds carried over from before a resume
    start = time.perf_counter()
    own = Stopwatch()  # the strategy's and the ledger's time: the breakdown's "search" phase
    bar = tqdm(total=budget.evaluations, disable=not progress, desc=strategy.name, unit="eval")
    try:
        while stop is None:
            while len(pending) < workers and (budget.evaluations is None or asked < budget.evaluations):
                with own:
                    proposal = strategy.ask()
                if proposal is None:
                    break
                pending.append((asked, proposal, _submit(asked, proposal, replay, evaluator, executor,
                                                         ledger, run_id)))
                asked += 1
            if not pending:
                stop = "strategy finished"
                break
            n, proposal, future = pending.popleft()
            result = _result_of(future, proposal, executor, evaluator)
            elapsed = offset + time.perf_counter() - start if n >= len(replay) else replay[n][2]
            with own:
                if n >= len(replay):
                    ledger.record(run_id, n, result, elapsed)
                stop = spent.fits(result, elapsed)
                counted = stop is None or stop.startswith(("evaluations", "wall"))
                rows.append(_row(n, result, counted, spent, elapsed))
                strategy.tell(proposal, result)
            bar.update(1)
    except BaseException:
        ledger.mark_interrupted(run_id)
        raise
    finally:
        bar.close()
        for _, _, future in pending:
            future.cancel()
    ledger.discard_unfinished(run_id)  # evaluations past the budget are not part of the run
    run = _finish(run_id, rows, stop, settings)
    run.cost.update(strategy_wall_seconds=own.wall_seconds, strategy_cpu_seconds=own.cpu_seconds)
    return run


def _submit(n, proposal, replay, evaluator, executor, ledger, run_id):
    if n < len(replay):
        recorded = replay[n][0]
        if recorded != proposal:
            raise ValueError(f"the ledger's evaluation {n} was {recorded.arch} at fidelity {recorded.fidelity}, "
                             f"but the strategy now proposes {proposal.arch} at {proposal.fidelity}: the "
                             "strategy or its code changed since the run was recorded")
        return _Done(replay[n][1])
    ledger.mark_running(run_id, n, proposal)
    if executor is None:
        return _Done(_evaluate(evaluator, proposal))
    return executor.submit(_evaluate, evaluator, proposal)


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


def _row(n: int, r: Result, counted: bool, spent: _Spent, elapsed: float) -> dict:
    return {
        "n": n, "arch": str(r.arch), "fidelity": r.fidelity, "status": r.status, "error": r.error,
        "valid_acc": r.valid_acc, "test_acc": r.test_acc, "estimate": r.estimate,
        "score": r.score if r.score > -math.inf else math.nan, "flops": r.flops, "sim_seconds": r.sim_seconds,
        "wall_seconds": r.wall_seconds, "cpu_seconds": r.cpu_seconds, "within_budget": counted,
        "cum_evaluations": spent.evaluations, "cum_flops": spent.flops, "cum_sim_seconds": spent.sim_seconds,
        "elapsed": elapsed,
    }


def _finish(run_id, rows, stop, settings) -> SearchRun:
    history = pd.DataFrame(rows, columns=list(_row(0, Result(NB201Space()[0], None, 0.0), True,
                                                   _Spent(Budget(evaluations=1)), 0.0)))
    usable = history["within_budget"] & (history["status"] == "ok")
    counted = history[usable]
    score = counted["score"].where(counted["score"].notna(), -math.inf)
    history["best_valid_so_far"] = history["valid_acc"].where(usable).cummax()
    history["best_score_so_far"] = history["score"].where(usable).cummax()
    best = best_result = None
    if len(counted):
        i = score.idxmax()
        best = NB201Space().parse(history.at[i, "arch"])
        best_result = Result(best, _none_if_nan(history.at[i, "fidelity"]), history.at[i, "valid_acc"],
                             history.at[i, "test_acc"], estimate=_float_or_none(history.at[i, "estimate"]))
    history["incumbent"], history["test_of_best"] = _incumbents(history)
    inside = history[history["within_budget"]]
    cost = {
        "evaluations": len(inside),
        "failed": int((inside["status"] != "ok").sum()),
        "flops": float(inside["flops"].sum()),
        "sim_seconds": float(inside["sim_seconds"].sum()),
        "wall_seconds": float(inside["wall_seconds"].sum()),
        "cpu_seconds": float(inside["cpu_seconds"].sum()),
        "elapsed_seconds": float(history["elapsed"].max()) if len(history) else 0.0,
    }
    return SearchRun(run_id, best, best_result, history, stop or "strategy finished", cost, {}, settings)


def _incumbents(history: pd.DataFrame) -> tuple[list, list[float]]:
    """The best-scoring cell so far (the incumbent) and its test accuracy, at each step."""
    best, arch, test, archs, tests = -math.inf, None, math.nan, [], []
    for a, score, t, ok, inside in zip(history["arch"], history["score"], history["test_acc"],
                                       history["status"] == "ok", history["within_budget"]):
        if ok and inside and score == score and score > best:
            best, arch, test = score, a, t
        archs.append(arch)
        tests.append(test)
    return archs, tests


def _none_if_nan(value):
    return None if value is None or value != value else int(value)


def _float_or_none(value):
    return None if value is None or value != value else float(value)
