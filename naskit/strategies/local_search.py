"""Local search (hill climbing) over one-edge neighbours.

White, Nolen & Savani (UAI 2021), "Exploring the Loss Landscape in Neural Architecture Search"
(arXiv 2005.02960: "Local Search is State of the Art for NAS Benchmarks"), as its reference code
runs it by default (naszilla/naszilla, ``naszilla/nas_algorithms.py``, function
``local_search``): evaluate ``initial`` = 10 random cells never queried before and start from
the best; propose its neighbours in a random order, skipping every cell already queried (in this
climb or an earlier one); move to the first neighbour that is strictly better; when no
unqueried neighbour is better, restart with 10 new random cells.

The paper's Algorithm 1 differs from that code in two ways: it starts from one random cell
(``initial=1``) and evaluates the whole neighbourhood before moving to its best
(best-improvement; naszilla's ``query_full_nbhd=True``, not offered here).
"""

from __future__ import annotations

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.random_search import sample_new


class LocalSearch(Strategy):
    """First-improvement hill climbing from the best of ``initial`` random cells, with restarts.

    A climb begins with ``initial`` random cells never queried before; once all their results
    are in, the best (the first of equals) becomes ``center`` (a single start becomes it at
    once). Its neighbours are proposed in a random order, and the climb moves as soon as one
    beats it. When every neighbour has been queried and none is better, ``center`` is a local
    optimum and the next climb begins (``climbs`` counts them). A failed evaluation scores
    -inf, so the climb never moves to it.

    By default a neighbour queried before (in any climb, or among the random starts) is
    skipped, as in naszilla: it is neither evaluated again nor a move. With
    ``reuse_known=True`` a neighbour evaluated in an earlier climb is not evaluated again but
    its known score counts, so the climb may walk into an earlier climb's basin (naskit's
    earlier behaviour): no evaluation is repeated, but climbs are no longer disjoint.

    With parallel workers, neighbours are proposed while earlier ones are still running; the
    climb moves to the best cell it has heard about once that beats the current one. When all
    neighbours have been asked (or all starts), ``ask`` returns ``None`` until their results
    are in, because the last one may still improve (or be the best start).

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``.
        initial: random cells per climb, the best of which it starts from (naszilla: 10; the
            paper's Alg. 1: 1).
        reuse_known: count a neighbour's score from an earlier climb instead of skipping it.

    Example:
        >>> strategy = LocalSearch(seed=0, initial=10)
        >>> starts = [strategy.ask() for _ in range(10)]  # 10 random cells ...
        >>> strategy.ask() is None                        # ... and wait for all their results
        True
    """

    name = "local"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, initial: int = 10,
                 reuse_known: bool = False):
        super().__init__(space, seed)
        if not isinstance(initial, int) or initial < 1:
            raise ValueError(f"initial must be an int of at least 1 (random cells per climb), got {initial!r}")
        self.initial, self.reuse_known = initial, bool(reuse_known)
        self.scores: dict[Arch, float] = {}   # first score told for each cell, over all climbs
        self.climbs = 0                       # climbs started; restarts = climbs - 1
        self.center: Arch | None = None       # the current cell of the climb (None while choosing)
        self._starts: list[Arch] = []         # this climb's random cells, in ask order
        self._queue: list[Arch] = []          # neighbours of center still to propose, shuffled
        self._queried: set[Arch] = set()      # every cell proposed or told, over all climbs
        self._climb_seen: set[Arch] = set()   # cells proposed or looked up in this climb
        self._climb_scores: dict[Arch, float] = {}  # scores known in this climb, in tell order
        self._pending: list[tuple[Arch, int]] = []  # (cell, climb) asked but not told, oldest first

    def ask(self) -> Proposal | None:
        if self.climbs == 0:
            self._restart()
        if self.center is None:
            if len(self._starts) < self.initial:
                start = sample_new(self.space, self.rng, self._queried)
                self._starts.append(start)
                return self._propose(start)
            if len(self._starts) > 1 and self._climb_pending():
                return None  # the best start is not known yet (one start is the best while it runs)
            self._move(self._starts[0] if len(self._starts) == 1 else
                       max(self._starts, key=self._climb_scores.__getitem__))  # first of equals
        while self._queue:
            arch = self._queue.pop()
            if arch in self._climb_seen:
                continue
            self._climb_seen.add(arch)
            if arch in self._queried:  # queried before: skip it, or count its known score
                if self.reuse_known and arch in self.scores:
                    self._learn(arch, self.scores[arch])
                continue
            return self._propose(arch)
        if self._climb_pending():
            return None  # wait: a pending neighbour may still beat the center
        self._restart()  # local optimum: no neighbour is better
        return self.ask()

    def tell(self, proposal: Proposal, result: Result) -> None:
        arch, climb = proposal.arch, None
        for k, (pending_arch, _climb) in enumerate(self._pending):
            if pending_arch == arch:
                climb = self._pending.pop(k)[1]
                break
        self._queried.add(arch)
        self.scores.setdefault(arch, result.score)
        if climb == self.climbs:  # results of earlier climbs are remembered, but don't move this one
            self._learn(arch, result.score)

    def _learn(self, arch: Arch, score: float) -> None:
        """Record a score in this climb and move the center if the best known cell beats it."""
        self._climb_scores[arch] = score
        if self.center is None or self.center not in self._climb_scores:
            return  # still choosing the start
        best = max(self._climb_scores, key=self._climb_scores.__getitem__)  # first of equals
        if self._climb_scores[best] > self._climb_scores[self.center]:
            self._move(best)

    def _move(self, arch: Arch) -> None:
        self.center = arch
        self._queue = [a for a in self.space.neighbors(arch) if a not in self._climb_seen]
        self.rng.shuffle(self._queue)

    def _restart(self) -> None:
        self.climbs += 1
        self.center, self._starts, self._queue = None, [], []
        self._climb_seen, self._climb_scores = set(), {}

    def _climb_pending(self) -> bool:
        return any(climb == self.climbs for _, climb in self._pending)

    def _propose(self, arch: Arch) -> Proposal:
        self._queried.add(arch)
        self._climb_seen.add(arch)
        self._pending.append((arch, self.climbs))
        return Proposal(arch)

    def settings(self) -> dict:
        return {**super().settings(), "initial": self.initial, "reuse_known": self.reuse_known}
