"""Random search: the baseline every NAS method must beat.

Li & Talwalkar (UAI 2019), "Random Search and Reproducibility for Neural Architecture Search",
found that random search is a strong baseline for NAS; Bergstra & Bengio (JMLR 2012) showed
why random beats grid search when only a few dimensions matter.
"""

from __future__ import annotations

import random
from collections.abc import Container

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy


class RandomSearch(Strategy):
    """Propose uniformly random cells, ignoring every result.

    Samples are independent and identically distributed (with replacement), as in the papers:
    over a budget of ``n`` evaluations a cell repeats with probability about n**2 / (2 * 15625).

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``.

    Example:
        >>> strategy = RandomSearch(seed=0)
        >>> proposal = strategy.ask()
        >>> proposal.fidelity is None
        True
    """

    name = "random"

    def __init__(self, space: NB201Space | None = None, seed: int = 0):
        super().__init__(space, seed)

    def ask(self) -> Proposal:
        return Proposal(self.space.sample(self.rng))

    def tell(self, proposal: Proposal, result: Result) -> None:
        pass  # random search learns nothing


def sample_new(space: NB201Space, rng: random.Random, seen: Container[Arch], tries: int = 1000) -> Arch:
    """A uniformly random cell not in ``seen`` (rejection sampling; any cell after ``tries`` misses)."""
    arch = space.sample(rng)
    for _ in range(tries):
        if arch not in seen:
            break
        arch = space.sample(rng)
    return arch
