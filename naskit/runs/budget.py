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
    costs (for the tabular benchmark, its simulated clock); ``wall_seconds`` is the loop's
    elapsed time. An evaluation that would cross a cost limit is recorded but not counted:
    the run's result uses only what fits inside the budget.
    """

    evaluations: int | None = None
    sim_seconds: float | None = None
    flops: float | None = None
    wall_seconds: float | None = None

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

