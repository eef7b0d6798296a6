"""Two wrappers that turn any single-objective strategy into a multi-objective or constrained one.

* ``Scalarised`` (``"scalarised"``): ParEGO-style scalarisation (Knowles 2006, IEEE TEC 10(1)).
  Each segment of the search draws a weight vector from ParEGO's evenly spaced set and runs a
  fresh copy of the wrapped strategy on the augmented Tchebycheff scalarisation of the
  normalised objectives, so successive segments pull towards different parts of the front.
* ``Constrained`` (``"constrained"``): maximise the score subject to limits on network costs
  (latency <= L, params <= P): the wrapped strategy is told an infeasible result as a failure
  (the "death penalty" of constraint handling, Coello Coello 2002), so it never builds on it.

Example:
    >>> strategy = Scalarised(seed=0, inner="evolution", costs=("latency_ms_b1",))
    >>> strategy.weights.tolist()  # the first segment's weights (score, latency)
    [0.6, 0.4]
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.multiobjective import DEFAULT_COSTS, check_costs, objective_vector

# ParEGO's number of divisions s of the weight simplex: 11 weight vectors for 2 objectives,
# 15 for 3 (Knowles 2006, Sec. III-B); more objectives take s = 3.
DIVISIONS = {2: 10, 3: 4}
RHO = 0.05  # the augmentation coefficient of the Tchebycheff function (Knowles 2006, eq. 2)


def parego_weights(n_objectives: int, divisions: int | None = None) -> np.ndarray:
    """ParEGO's weight vectors: every lambda with sum 1 whose entries are in {0, 1/s, ..., 1}
    (Knowles 2006, eq. 1); shape (C(s + k - 1, k - 1), k), in lexicographic order."""
    s = DIVISIONS.get(n_objectives, 3) if divisions is None else divisions
    if n_objectives < 2 or s < 1:
        raise ValueError(f"need at least 2 objectives and 1 division, got {n_objectives} and {s}")
    rows = [c for c in itertools.product(range(s + 1), repeat=n_objectives) if sum(c) == s]
    return np.array(rows, dtype=float) / s


def augmented_tchebycheff(f: np.ndarray, weights: np.ndarray, rho: float = RHO) -> np.ndarray:
    """Knowles 2006, eq. 2: f_lambda(x) = max_j(lambda_j f_j(x)) + rho sum_j lambda_j f_j(x), for
    objectives ``f`` (N, k) normalised to [0, 1] and all minimised; smaller is better."""
    weighted = np.asarray(f, dtype=float) * np.asarray(weights, dtype=float)
    return weighted.max(axis=-1) + rho * weighted.sum(axis=-1)


def normalised(points: np.ndarray) -> np.ndarray:
    """Each column scaled to [0, 1] by its range over ``points`` (a constant column gives 0)."""
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return (points - low) / span


def wrapped(name: str, space: NB201Space, seed: int, options: dict | None) -> Strategy:
    """The strategy a wrapper runs, built by name with its options (refused if it is a wrapper)."""
    from naskit.strategies import make_strategy  # the registry imports this module

    if name in ("scalarised", "constrained"):
        raise ValueError(f"strategy {name!r} wraps strategies; give a strategy to wrap, e.g. 'evolution'")
    return make_strategy(name, space, seed, **dict(options or {}))


class Scalarised(Strategy):
    """Run a single-objective strategy on random Tchebycheff weightings of the objectives.

    Follows ParEGO (Knowles 2006) in its scalarisation: a weight vector drawn uniformly from
    ``parego_weights``, the objectives (the score, maximised, and each cost, minimised) turned
    into minimised ones and normalised to [0, 1] by the range observed so far, and the augmented
    Tchebycheff function with rho = 0.05. Differs from ParEGO in the optimiser: ParEGO redraws the
    weights every iteration and fits a Gaussian process to all past points under them; here any
    strategy runs for ``segment`` evaluations per weight vector (a fresh copy each segment,
    told ``-f_lambda`` as its estimate, so higher is better), and the normalisation is the one at
    the time each result arrives. A wrapped strategy that finishes (successive halving) ends its
    segment early.

    Args:
        inner, inner_options: the wrapped strategy's name and keyword options.
        costs: the network costs traded against the score (``Result.network_cost``).
        segment: evaluations per weight vector.
        divisions: ParEGO's s (default 10 for 2 objectives, 4 for 3).
    """

    name = "scalarised"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, inner: str = "evolution",
                 inner_options: dict | None = None, costs: Sequence[str] = DEFAULT_COSTS, segment: int = 25,
                 divisions: int | None = None):
        super().__init__(space, seed)
        self.costs = check_costs(costs)
        if not isinstance(segment, int) or segment < 1:
            raise ValueError(f"segment must be a positive number of evaluations, got {segment!r}")
        self.inner_name, self.inner_options = inner, dict(inner_options or {})
        self.segment, self.divisions = segment, divisions
        self.weight_set = parego_weights(1 + len(self.costs), divisions)
        self.seen: list[tuple[float, ...]] = []  # objectives of every successful result, minimised
        self.pending: list[tuple[Proposal, Strategy, np.ndarray]] = []
        self.segments: list[Strategy] = []  # the wrapped strategy of each segment so far
        self._new_segment()

    def _new_segment(self) -> None:
        self.weights = self.weight_set[self.rng.randrange(len(self.weight_set))]
        self.inner = wrapped(self.inner_name, self.space, self.rng.randrange(2**31), self.inner_options)
        self.asked_in_segment = 0
        self.segments.append(self.inner)

    def ask(self) -> Proposal | None:
        if self.asked_in_segment >= self.segment or self.inner.finished:
            self._new_segment()
        proposal = self.inner.ask()
        if proposal is not None:
            self.asked_in_segment += 1
            self.pending.append((proposal, self.inner, self.weights))
        return proposal

    def tell(self, proposal: Proposal, result: Result) -> None:
        i = next((i for i, (p, _, _) in enumerate(self.pending) if p == proposal), None)
        if i is None:
            raise ValueError(f"{proposal} was not asked by this Scalarised strategy, or was told already")
        _, inner, weights = self.pending.pop(i)
        objectives = objective_vector(result, self.costs)
        if objectives is None:  # a failure stays a failure
            inner.tell(proposal, result)
            return
        self.seen.append((-objectives[0], *objectives[1:]))
        scaled = normalised(np.array(self.seen))[-1]
        value = float(augmented_tchebycheff(scaled, weights))
        inner.tell(proposal, dataclasses.replace(result, estimate=-value))

    def settings(self) -> dict:
        return {**super().settings(), "inner": self.inner_name, "inner_options": self.inner_options,
                "costs": list(self.costs), "segment": self.segment, "divisions": self.divisions}


class Constrained(Strategy):
    """Maximise the score subject to ``limits`` on network costs, with any strategy.

    The wrapped strategy sees every result whose costs are within ``limits`` (each cost <= its
    limit) as it is, and every other one as a failure (status ``"infeasible"``), so it ranks it
    worst and never builds on it. The search loop still records what the evaluator returned; the
    best cell of a constrained search is the best-scoring feasible one
    (``naskit.bench.front.best_feasible``). An infeasible cell costs its evaluation, as when
    latency is only known after training; where the cost is known beforehand, a constrained
    evaluator could skip it instead.

    Args:
        inner, inner_options: the wrapped strategy's name and keyword options.
        limits: ``{cost name: largest allowed value}``, e.g. ``{"latency_ms_b1": 0.5}``.
    """

    name = "constrained"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, inner: str = "evolution",
                 inner_options: dict | None = None, limits: dict | None = None):
        super().__init__(space, seed)
        limits = {"params": 20_000} if limits is None else dict(limits)
        if not limits or not all(isinstance(v, (int, float)) and v == v for v in limits.values()):
            raise ValueError(f"limits must map network cost names to numbers, e.g. {{'latency_ms_b1': 0.5}}, "
                             f"got {limits!r}")
        check_costs(list(limits))
        self.inner_name, self.inner_options, self.limits = inner, dict(inner_options or {}), limits
        self.inner = wrapped(inner, self.space, seed, self.inner_options)
        self.infeasible: list[Arch] = []

    @property
    def finished(self) -> bool:
        return self.inner.finished

    def feasible(self, result: Result) -> bool:
        """Whether a successful result's costs are all within the limits."""
        return all(result.network_cost(c) <= limit for c, limit in self.limits.items())

    def ask(self) -> Proposal | None:
        return self.inner.ask()

    def tell(self, proposal: Proposal, result: Result) -> None:
        if result.ok and not self.feasible(result):
            self.infeasible.append(proposal.arch)
            over = ", ".join(f"{c} {result.network_cost(c):.4g} > {v:.4g}" for c, v in self.limits.items()
                             if result.network_cost(c) > v)
            result = dataclasses.replace(result, status="infeasible", error=f"over the limit: {over}")
        self.inner.tell(proposal, result)

    def settings(self) -> dict:
        return {**super().settings(), "inner": self.inner_name, "inner_options": self.inner_options,
                "limits": self.limits}
