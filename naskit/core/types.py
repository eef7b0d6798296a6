"""The values that pass between a strategy, an evaluator and the search loop.

A strategy proposes (``Proposal``: a cell and a fidelity); an evaluator returns a ``Result``
(accuracies, an estimate, and what the evaluation cost); the loop hands the result back to the
strategy. No torch, no pandas: these are plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from naskit.core.space import Arch


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
    ``extra["network"]``, where an evaluator reports it, holds costs of the network itself
    (latency, parameters, FLOPs of inference; ``network_cost``).
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

    def network_cost(self, name: str) -> float:
        """A cost of the network evaluated, as the evaluator reported it in ``extra["network"]``
        (the tabular evaluator reports ``params``, ``forward_flops``, ``flops_nb201``,
        ``params_nb201`` and, where the table has them, ``latency_ms_b1`` and ``latency_ms_b256``):
        what multi-objective and constrained search trade accuracy against.

        Raises:
            ValueError: the result carries no such cost (naming the ones it carries).
        """
        costs = self.extra.get("network", {})
        if name not in costs:
            raise ValueError(f"this result reports no network cost {name!r}; it reports "
                             f"{', '.join(sorted(costs)) or 'none (its evaluator measures no network costs)'}")
        return float(costs[name])
