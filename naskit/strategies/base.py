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
from dataclasses import dataclass, field

from naskit.space import Arch, NB201Space


@dataclass(frozen=True)
class Proposal:
    """What to evaluate next: a cell and, for multi-fidelity strategies, a fidelity (epochs).

    ``fidelity=None`` asks for the evaluator's full fidelity.
    """

    arch: Arch
    fidelity: int | None = None


@dataclass(frozen=True)
class Result:
    """What an evaluation returned, in the shape every evaluator and strategy share.

    ``valid_acc`` is what strategies may look at; ``test_acc`` is for reporting only.
    Accuracies are fractions in [0, 1]. A failed evaluation has ``status`` ``"failed"`` (or
    ``"diverged"``) and NaN accuracies; strategies must treat it as the worst outcome.
    Cost: ``flops`` (2 per multiply-add), ``sim_seconds`` (the benchmark's simulated clock,
    or measured seconds for real training), and measured ``wall_seconds``/``cpu_seconds``.
    ``estimate`` is set by evaluators whose score is not a validation accuracy (zero-cost
    proxies, learning-curve extrapolation, predictors); then ``valid_acc`` may be NaN.
    """

    arch: Arch
    fidelity: int | None
    valid_acc: float
    test_acc: float = float("nan")
    status: str = "ok"
    error: str = ""
    flops: int = 0
    sim_seconds: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    estimate: float | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def score(self) -> float:
        """What strategies rank by: ``estimate`` when the evaluator gives one (a zero-cost proxy,
        a predicted accuracy), else ``valid_acc``; -inf when the evaluation failed."""
        value = self.valid_acc if self.estimate is None else self.estimate
        return value if self.ok and value == value else float("-inf")


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
