"""Local search (hill climbing) over one-edge neighbours.

White, Nolen & Savani (UAI 2021), "Exploring the Loss Landscape in Neural Architecture Search"
(arXiv 2005.02960: "Local Search is State of the Art for NAS Benchmarks"), Algorithm 1, also in
NASLib: start from a random cell, move to a better neighbour while one exists, and restart
from a new random cell at a local optimum.
"""

from __future__ import annotations

from naskit.space import Arch, NB201Space
from naskit.strategies.base import Proposal, Result, Strategy
from naskit.strategies.random_search import sample_new


class LocalSearch(Strategy):
    """First-improvement hill climbing with random restarts.

    The neighbours of the current cell (``center``) are proposed in a random order, and the climb
    moves as soon as one beats it. This is first-improvement hill climbing; White et al.'s
    Alg. 1 is best-improvement (evaluate all 24 neighbours, move to the best), which spends
    up to 24 evaluations per step where first-improvement often spends a few. When every
    neighbour has been evaluated and none is better, ``center`` is a local optimum and the
    next climb starts from a random cell never evaluated before (``climbs`` counts them).

    A cell is never proposed twice in one climb, and a cell evaluated in an earlier climb is
    not evaluated again: its known score is reused. A failed evaluation scores -inf, so the
    climb never moves to it.

    With parallel workers, neighbours are proposed while earlier ones are still running (even
    while the start cell is); the climb moves to the best cell it has heard about once that
    beats the current one. When all neighbours have been asked, ``ask`` returns ``None``
    until their results are in, because the last one may still improve.

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``.

    Example:
        >>> strategy = LocalSearch(seed=0)
        >>> start = strategy.ask().arch  # a random cell; its neighbours follow
        >>> strategy.center == start
        True
    """

    name = "local"

    def __init__(self, space: NB201Space | None = None, seed: int = 0):
        super().__init__(space, seed)
        self.scores: dict[Arch, float] = {}   # first score told for each cell, over all climbs
        self.climbs = 0                       # climbs started; restarts = climbs - 1
        self.center: Arch | None = None       # the current cell of the climb
        self._queue: list[Arch] = []          # neighbours of center still to propose, shuffled
        self._climb_seen: set[Arch] = set()   # cells proposed or looked up in this climb
        self._climb_scores: dict[Arch, float] = {}  # scores known in this climb, in tell order
        self._pending: list[tuple[Arch, int]] = []  # (cell, climb) asked but not told, oldest first

    def ask(self) -> Proposal | None:
        if self.center is None:
            return self._restart()
        while self._queue:
            arch = self._queue.pop()
            if arch in self._climb_seen:
                continue
            self._climb_seen.add(arch)
            if arch in self.scores:  # evaluated in an earlier climb: reuse, don't pay again
                self._learn(arch, self.scores[arch])
                continue
            return self._propose(arch)
        if any(climb == self.climbs for _, climb in self._pending):
            return None  # wait: a pending neighbour may still beat the center
        return self._restart()  # local optimum: no neighbour is better

    def tell(self, proposal: Proposal, result: Result) -> None:
        arch, climb = proposal.arch, None
        for k, (pending_arch, _climb) in enumerate(self._pending):
            if pending_arch == arch:
                climb = self._pending.pop(k)[1]
                break
        self.scores.setdefault(arch, result.score)
        if climb == self.climbs:  # results of earlier climbs are remembered, but don't move this one
            self._learn(arch, result.score)

    def _learn(self, arch: Arch, score: float) -> None:
        """Record a score in this climb and move the center if the best known cell beats it."""
        self._climb_scores[arch] = score
        if self.center not in self._climb_scores:
            return  # the center's own score is not back yet
        best = max(self._climb_scores, key=self._climb_scores.__getitem__)  # first of equals
        if self._climb_scores[best] > self._climb_scores[self.center]:
            self._move(best)

    def _move(self, arch: Arch) -> None:
        self.center = arch
        self._queue = [a for a in self.space.neighbors(arch) if a not in self._climb_seen]
        self.rng.shuffle(self._queue)

    def _restart(self) -> Proposal:
        self.climbs += 1
        self._climb_seen, self._climb_scores = set(), {}
        seen = set(self.scores) | {arch for arch, _ in self._pending}
        start = sample_new(self.space, self.rng, seen)
        self._climb_seen.add(start)
        self._move(start)
        return self._propose(start)

    def _propose(self, arch: Arch) -> Proposal:
        self._pending.append((arch, self.climbs))
        return Proposal(arch)
