"""What a search may spend (evaluations, simulated seconds, FLOPs or wall seconds), and why it stopped."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class StopReason(enum.Enum):
    """Why a search stopped: a limit of its ``Budget`` was reached, or the strategy had nothing
    more to propose. A limit's value is its field in ``Budget``.

    Example:
        >>> StopReason.FLOPS.message(Budget(flops=5e10))
        'flops budget reached (5e+10)'
        >>> StopReason.FLOPS.counts_last, StopReason.EVALUATIONS.counts_last
        (False, True)
    """

    EVALUATIONS = "evaluations"
    SIM_SECONDS = "sim_seconds"
    FLOPS = "flops"
    WALL_SECONDS = "wall_seconds"
    SIM_WALL_SECONDS = "sim_wall_seconds"
    STRATEGY_DONE = "strategy finished"

    @property
    def counts_last(self) -> bool:
        """Whether the evaluation that ended the search is part of the run: one that reached the
        evaluation count or the wall clock fits in the budget, one that would cross a cost limit
        (simulated seconds, FLOPs) does not."""
        return self in (StopReason.EVALUATIONS, StopReason.WALL_SECONDS)

    def message(self, budget: Budget) -> str:
        """The readable reason that ``SearchRun.stop_reason`` keeps, e.g. ``"evaluations budget reached (150)"``."""
        if self is StopReason.STRATEGY_DONE:
            return self.value
        limit = getattr(budget, self.value)
        return f"{self.value} budget reached ({limit if self is StopReason.EVALUATIONS else format(limit, 'g')})"


_LIMITS = tuple(r.value for r in StopReason if r is not StopReason.STRATEGY_DONE)  # Budget's fields


@dataclass(frozen=True)
class Budget:
    """When to stop: any limit reached ends the search (at least one must be set).

    ``evaluations`` counts evaluations; ``sim_seconds`` and ``flops`` add up the evaluators'
    costs (for the tabular benchmark, its simulated clock: the total compute); ``wall_seconds`` is
    the loop's elapsed time; ``sim_wall_seconds`` is the simulated wall-clock of a search on
    simulated workers (``naskit.runs.simulated``), when the cluster would have delivered a result.
    An evaluation that would cross a cost limit is recorded but not counted:
    the run's result uses only what fits inside the budget.
    """

    evaluations: int | None = None
    sim_seconds: float | None = None
    flops: float | None = None
    wall_seconds: float | None = None
    sim_wall_seconds: float | None = None  # simulated workers only

    def __post_init__(self) -> None:
        if all(getattr(self, k) is None for k in _LIMITS):
            raise ValueError(f"a Budget needs at least one limit: {', '.join(_LIMITS)}")
        for k in _LIMITS:
            v = getattr(self, k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0
                                  or not math.isfinite(v)):
                raise ValueError(f"budget {k} must be a positive number, got {v!r}")
        if self.evaluations is not None and not float(self.evaluations).is_integer():
            raise ValueError(f"budget evaluations must be a whole number, got {self.evaluations!r}")



def check_fits(budget: Budget, costs: dict[str, tuple[float, float]], who: str, free: str | None = None) -> None:
    """Refuse, before any work, a cost limit that no search could meet sensibly.

    ``costs`` maps a cost measure (``"sim_seconds"``, ``"flops"``) to the cheapest and the dearest
    that one evaluation by ``who`` (e.g. ``"evaluator 'tabular'"``) can cost. A limit below the
    cheapest would end the search before its first evaluation; a measure that every evaluation
    charges 0 of would never end it. ``free`` says which evaluations cost nothing (a table that
    covers only part of the space answers a cell outside it with a failed evaluation at no cost):
    then a cost limit alone might never be spent, and an ``evaluations`` limit must come with it.

    Example:
        >>> check_fits(Budget(flops=100), {"flops": (2e9, 9e9)}, "evaluator 'tabular'")
        Traceback (most recent call last):
        ...
        ValueError: budget flops=100 cannot pay for one evaluation: the cheapest evaluator 'tabular' can ...
    """
    for measure in (StopReason.SIM_SECONDS.value, StopReason.FLOPS.value):
        limit = getattr(budget, measure)
        if limit is None or measure not in costs:
            continue
        cheapest, dearest = costs[measure]
        if dearest <= 0:
            raise ValueError(f"budget {measure}={limit:g} would never be reached: {who} charges 0 {measure} for "
                             f"every evaluation (a table without cost columns, e.g. no train_flops, has no "
                             f"costs); limit evaluations or wall_seconds instead")
        if free and budget.evaluations is None:
            raise ValueError(f"budget {measure}={limit:g} alone might never be reached: {free}, so a search "
                             f"that keeps proposing them never spends it; add an evaluations limit "
                             f"(e.g. --budget {measure}={limit:g},evaluations=1000)")
        if cheapest > limit:
            least = _rounded_up(cheapest)
            raise ValueError(f"budget {measure}={limit:g} cannot pay for one evaluation: the cheapest {who} can "
                             f"make costs {least} {measure}; give {measure}={least} or more")


def _rounded_up(x: float) -> str:
    """``x`` to 4 significant digits, rounded up: a budget of that value pays for ``x``."""
    step = 10.0 ** (math.floor(math.log10(x)) - 3)
    text = f"{math.ceil(x / step) * step:g}"
    return text if float(text) >= x else repr(x)
