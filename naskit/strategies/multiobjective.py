"""Multi-objective search: accuracy against the cost of the network found.

A multi-objective strategy ranks what it was told by several objectives at once: the result's
``score`` (maximised: a validation accuracy, or an evaluator's estimate) and costs of the network
itself (minimised: ``latency_ms_b1``, ``params``, ... as the evaluator reports them in
``Result.network_cost``). Failed evaluations have no objectives and rank below every front.

* **Random search** needs no multi-objective version: it ignores what it is told, so
  ``RandomSearch`` judged by the Pareto front of its history *is* multi-objective random search.
* ``MORegularizedEvolution`` (``"mo_evolution"``): regularized evolution (Real et al. 2019,
  Alg. 1) whose tournament is won by NSGA-II's crowded comparison (Deb et al. 2002, Sec. III-C):
  the lower non-dominated rank, then the larger crowding distance, both computed over the
  living population.
* ``naskit.strategies.multiobjective_wrappers``: a ParEGO-style scalarising wrapper and a
  constrained wrapper around any strategy; ``naskit.strategies.multiobjective_halving``:
  multi-objective successive halving.

Example:
    >>> strategy = MORegularizedEvolution(seed=0, costs=("latency_ms_b1",))
    >>> strategy.objectives
    ('score', 'latency_ms_b1')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from naskit.core.pareto import crowding_distance, non_dominated_ranks
from naskit.core.space import NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.evolution import RegularizedEvolution

DEFAULT_COSTS = ("latency_ms_b1",)


def check_costs(costs: Sequence[str]) -> tuple[str, ...]:
    """``costs`` as a tuple of names, refused when empty, not strings, or repeated."""
    if isinstance(costs, str):
        raise ValueError(f"costs must be a sequence of cost names, e.g. ({costs!r},), not a string")
    costs = tuple(costs)
    if not costs or not all(isinstance(c, str) and c for c in costs) or len(set(costs)) != len(costs):
        raise ValueError(f"costs must name one or more distinct network costs (e.g. 'latency_ms_b1', "
                         f"'params'), got {costs!r}")
    return costs


def objective_vector(result: Result, costs: Sequence[str]) -> tuple[float, ...] | None:
    """``(score, cost, ...)`` of a successful result; None for a failed one (no objectives)."""
    if result.score == float("-inf"):
        return None
    return (result.score, *(result.network_cost(c) for c in costs))


def maximize_of(costs: Sequence[str]) -> list[bool]:
    """The direction of each objective of ``(score, *costs)``: the score up, every cost down."""
    return [True] + [False] * len(costs)


class MORegularizedEvolution(RegularizedEvolution):
    """Aging evolution whose tournament is won by non-dominated rank, then crowding distance.

    Real et al.'s Algorithm 1 throughout (random initial population, tournament of
    ``sample_size`` members drawn with replacement, a one-edge mutation of the winner, the oldest
    dies), except line 15: the winner is not the highest score but the member best by NSGA-II's
    crowded-comparison operator (Deb et al. 2002, Sec. III-C) over the living population, its
    non-dominated rank first, then its crowding distance on its front (ties: the first drawn).
    Failed members rank below every front.

    Args:
        costs: the network costs traded against the score (each minimised), as the evaluator
            reports them (``Result.network_cost``).
        population_size, sample_size, mutation: as ``RegularizedEvolution``.

    ``population`` holds ``(arch, score, objectives)``, oldest first; ``objectives`` is None for
    a failed evaluation.
    """

    name = "mo_evolution"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, population_size: int = 10,
                 sample_size: int = 3, mutation: str = "node_then_edge", costs: Sequence[str] = DEFAULT_COSTS):
        super().__init__(space, seed, population_size=population_size, sample_size=sample_size, mutation=mutation)
        self.costs = check_costs(costs)
        self.objectives = ("score", *self.costs)

    def tell(self, proposal: Proposal, result: Result) -> None:
        self.population.append((proposal.arch, result.score, objective_vector(result, self.costs)))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def tournament_winner(self, sample: list[tuple]) -> tuple:
        rank, crowding = self.crowded_keys()
        members = list(self.population)
        keys = {id(m): (rank[i], -crowding[i]) for i, m in enumerate(members)}
        return min(sample, key=lambda member: keys[id(member)])  # min: the first of equals wins

    def crowded_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Each living member's non-dominated rank and crowding distance on its front (failed: rank inf)."""
        members = list(self.population)
        ok = [i for i, m in enumerate(members) if m[2] is not None]
        rank = np.full(len(members), np.inf)
        crowding = np.zeros(len(members))
        if ok:
            points = np.array([members[i][2] for i in ok])
            maximize = maximize_of(self.costs)
            ranks = non_dominated_ranks(points, maximize)
            for k in np.unique(ranks):
                on_front = np.flatnonzero(ranks == k)
                distance = crowding_distance(points[on_front], maximize)
                for j, d in zip(on_front, distance):
                    rank[ok[j]], crowding[ok[j]] = k, d
        return rank, crowding

    def settings(self) -> dict:
        return {**super().settings(), "costs": list(self.costs)}
