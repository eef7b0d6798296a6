"""A search's history: one row per evaluation, its columns defined once, and what follows from them.

``HistoryRow`` is what the loop records for each evaluation (the ledger's columns too);
``summarise`` turns the rows into ``SearchRun.history`` with the derived columns (best so far,
the incumbent and its test accuracy), the best result and the cost of what was counted.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import pandas as pd

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Result


@dataclass(frozen=True)
class HistoryRow:
    """One evaluation as ``SearchRun.history`` records it: its fields are the history's first
    columns, in this order (``HISTORY_COLUMNS``)."""

    n: int  # the proposal's index: the order in which the strategy asked
    arch: str  # the cell's NB201 string
    fidelity: int | None  # training epochs asked for (None: the evaluator's default)
    status: str  # "ok", "failed" or "diverged"
    error: str  # why it failed ("" when ok)
    valid_acc: float
    test_acc: float
    estimate: float | None  # the evaluator's score when it is not a validation accuracy
    score: float  # what strategies rank by (``Result.score``); NaN for a failed evaluation
    flops: int  # 2 per multiply-add
    sim_seconds: float
    wall_seconds: float
    cpu_seconds: float
    within_budget: bool  # counted: False for the evaluation that would have crossed a cost limit
    cum_evaluations: int  # the budget's running totals, after this evaluation
    cum_flops: float
    cum_sim_seconds: float
    elapsed: float  # the loop's wall seconds when the result arrived (carried over a resume)

    @classmethod
    def of(cls, n: int, r: Result, counted: bool, spent, elapsed: float) -> HistoryRow:
        """The row of result ``r`` (proposal ``n``), with the budget's running totals ``spent``."""
        return cls(n=n, arch=str(r.arch), fidelity=r.fidelity, status=r.status, error=r.error,
                   valid_acc=r.valid_acc, test_acc=r.test_acc, estimate=r.estimate,
                   score=r.score if r.score > -math.inf else math.nan, flops=r.flops, sim_seconds=r.sim_seconds,
                   wall_seconds=r.wall_seconds, cpu_seconds=r.cpu_seconds, within_budget=counted,
                   cum_evaluations=spent.evaluations, cum_flops=spent.flops, cum_sim_seconds=spent.sim_seconds,
                   elapsed=elapsed)


# the columns ``summarise`` computes from the recorded ones, in this order: the best counted
# validation accuracy and score so far, the incumbent (best-scoring cell so far) and its test accuracy
DERIVED_COLUMNS = ("best_valid_so_far", "best_score_so_far", "incumbent", "test_of_best")


RECORDED_COLUMNS = tuple(f.name for f in fields(HistoryRow))


HISTORY_COLUMNS = RECORDED_COLUMNS + DERIVED_COLUMNS  # SearchRun.history's columns, in order


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


def summarise(rows: list[HistoryRow]) -> tuple[pd.DataFrame, Arch | None, Result | None, dict]:
    """(history with its derived columns, the best cell, its result, the cost of the counted rows).

    Only evaluations within the budget that succeeded count towards the best; the cost adds up
    every evaluation within the budget, failed ones included.
    """
    history = pd.DataFrame([asdict(row) for row in rows], columns=list(RECORDED_COLUMNS))
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
    inside = history[history["within_budget"].astype(bool)]  # astype: an empty column has dtype object
    cost = {
        "evaluations": len(inside),
        "failed": int((inside["status"] != "ok").sum()),
        "flops": float(inside["flops"].sum()),
        "sim_seconds": float(inside["sim_seconds"].sum()),
        "wall_seconds": float(inside["wall_seconds"].sum()),
        "cpu_seconds": float(inside["cpu_seconds"].sum()),
        "elapsed_seconds": float(history["elapsed"].max()) if len(history) else 0.0,
    }
    return history, best, best_result, cost
