"""The ask/tell interface every search strategy implements.

A strategy proposes (``ask``) and learns (``tell``); it never trains, never touches files or
devices, and draws every random choice from its own seeded RNG. The search loop owns
budgets, the ledger and parallelism, so the same strategy runs on a tabular benchmark, on
real training, or on a cluster.

Determinism contract: for a fixed seed, the sequence of proposals is a function of the
sequence of ``ask`` and ``tell`` calls alone. The loop makes that sequence deterministic
(also with parallel workers), which is what lets a crashed run resume on the same
trajectory by replaying its ledger.
"""

from __future__ import annotations

import random

from naskit.core.space import NB201Space
from naskit.core.types import Proposal, Result


class Strategy:
    """Base class: a seeded ask/tell search strategy over an ``NB201Space``.

    Subclasses implement ``ask`` and ``tell``. ``ask`` may return ``None`` when the strategy
    must wait for pending results before it can propose more (e.g. a full rung of successive
    halving); ``finished`` is True when it will never propose again.
    """

    name = "strategy"

    def __init__(self, space: NB201Space | None = None, seed: int = 0):
        self.space = space or NB201Space()
        self.seed = seed
        self.rng = random.Random(seed)

    def ask(self) -> Proposal | None:
        raise NotImplementedError

    def tell(self, proposal: Proposal, result: Result) -> None:
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        return False

    def settings(self) -> dict:
        """The constructor arguments that define this strategy (recorded in the ledger)."""
        return {"name": self.name, "seed": self.seed}
