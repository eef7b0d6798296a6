"""Regularized (aging) evolution: Real, Aggarwal, Huang & Le (AAAI 2019), Algorithm 1.

A tournament picks a parent, the child is a one-edge mutation of it, and the *oldest* member
dies, not the worst. Aging regularizes: a cell survives only if its descendants keep winning,
so one lucky (noisy) evaluation cannot dominate forever. NAS-Bench-201 ran it with population
10 and sample (tournament) size 3, and with its own mutation rule, ``mutate_topology_func``
(D-X-Y/AutoDL-Projects, ``exps/NAS-Bench-201-algos/R_EA.py``): a node, then an edge into it,
then a different op (``mutations.mutate_node_then_edge``), which is naskit's default too.
"""

from __future__ import annotations

from collections import deque

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.mutations import mutate_node_then_edge

MUTATIONS = ("node_then_edge", "uniform_edge")


class RegularizedEvolution(Strategy):
    """Aging evolution over NB201 cells.

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``.
        population_size: P, how many of the most recent results stay alive.
        sample_size: S, the tournament size (sampled with replacement, as in Alg. 1).
        mutation: ``"node_then_edge"`` (default) is NB201's rule: a node uniformly among 1..3, an
            edge into it uniformly, a different op; so the edge 0->1 changes with probability 1/3,
            each edge into node 2 with 1/6 and each into node 3 with 1/9. ``"uniform_edge"``
            picks the edge uniformly among the 6 (``NB201Space.mutate``, probability 1/6 each),
            which changes the edges into node 3, 3 of the 6, half the time instead of a third.

    ``population`` holds ``(arch, score)`` pairs, oldest first; a failed evaluation enters with
    score -inf, so it loses every tournament it could lose and ages out like any other member.

    With parallel workers, the first ``population_size`` asks are random cells whether or not
    their results are back (pending random cells count towards filling the population). After
    that, the tournament draws from whatever members have been told; while there are none yet
    the strategy keeps proposing random cells.

    Example:
        >>> strategy = RegularizedEvolution(seed=0, population_size=10, sample_size=3)
        >>> proposal = strategy.ask()  # random until 10 cells have been asked
    """

    name = "evolution"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *,
                 population_size: int = 10, sample_size: int = 3, mutation: str = "node_then_edge"):
        super().__init__(space, seed)
        if mutation not in MUTATIONS:
            raise ValueError(f"unknown mutation {mutation!r}; allowed: {', '.join(MUTATIONS)}")
        if population_size < 1:
            raise ValueError(f"population_size must be at least 1, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise ValueError(f"sample_size must be in 1..population_size={population_size}, got {sample_size}")
        self.population_size = population_size
        self.sample_size = sample_size
        self.mutation = mutation
        self.population: deque[tuple[Arch, float]] = deque()
        self.random_asked = 0

    def ask(self) -> Proposal:
        # Alg. 1 lines 3-8: random cells until the population is (being) filled.
        if self.random_asked < self.population_size or not self.population:
            self.random_asked += 1
            return Proposal(self.space.sample(self.rng))
        # Lines 10-15: S members uniformly at random, with replacement; the best one is the parent.
        members = list(self.population)
        sample = [members[self.rng.randrange(len(members))] for _ in range(self.sample_size)]
        parent = self.tournament_winner(sample)
        # Line 16: the child differs from its parent on one edge.
        if self.mutation == "node_then_edge":
            return Proposal(mutate_node_then_edge(parent[0], self.rng))
        return Proposal(self.space.mutate(parent[0], self.rng))

    def tournament_winner(self, sample: list[tuple]) -> tuple:
        """The best member of a tournament ``sample`` (Alg. 1 line 15: the highest score; the
        first of equals wins, and -inf never beats a real score). A multi-objective variant
        ranks by non-dominated front instead (``naskit.strategies.multiobjective``)."""
        return max(sample, key=lambda member: member[1])

    def tell(self, proposal: Proposal, result: Result) -> None:
        # Lines 18-21: the newest joins on the right; once over P, the oldest (left) dies.
        self.population.append((proposal.arch, result.score))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def settings(self) -> dict:
        return {**super().settings(), "population_size": self.population_size, "sample_size": self.sample_size,
                "mutation": self.mutation}
