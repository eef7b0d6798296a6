"""What a search may spend: evaluations, simulated seconds, FLOPs or wall seconds."""

from __future__ import annotations

import math
from dataclasses import dataclass

_LIMITS = ("evaluations", "sim_seconds", "flops", "wall_seconds")


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
