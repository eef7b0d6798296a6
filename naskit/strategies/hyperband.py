"""Hyperband: successive halving run in brackets that trade many cells for high fidelity.

Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar (JMLR 2018), "Hyperband: A Novel Bandit-Based
Approach to Hyperparameter Optimization", Algorithm 1. Successive halving must guess how
aggressively to cut; Hyperband hedges by running every trade-off, from many cells at the
lowest fidelity (bracket s_max) to a few cells trained fully from the start (bracket 0).
"""

from __future__ import annotations

from naskit.core.space import NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.halving import SuccessiveHalving, check_fidelities, halving_schedule, max_halvings


def hyperband_brackets(min_fidelity: int, max_fidelity: int, eta: int) -> list[list[tuple[int, int]]]:
    """Every bracket's rungs ``(cells, fidelity)``, from s = s_max down to 0 (Li et al. 2018, Table 1).

    With R = max_fidelity / min_fidelity, s_max = floor(log_eta R) and B = (s_max + 1) R, bracket s
    starts n = ceil(B / R * eta**s / (s + 1)) cells at fidelity max_fidelity / eta**s (Alg. 1, lines 1-3).

    Example:
        >>> hyperband_brackets(1, 8, 2)[0]   # the most aggressive bracket is plain successive halving
        [(8, 1), (4, 2), (2, 4), (1, 8)]
    """
    check_fidelities(min_fidelity, max_fidelity, eta)
    s_max = max_halvings(min_fidelity, max_fidelity, eta)
    brackets = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta**s // (s + 1))  # ceil, in integers
        brackets.append(halving_schedule(n, max_fidelity // eta**s, max_fidelity, eta))
    return brackets


class Hyperband(Strategy):
    """Hyperband over NB201 cells, looping over its brackets for as long as it is asked.

    Bracket k is a ``SuccessiveHalving`` with s = s_max - (k mod (s_max + 1)): after bracket 0 comes
    bracket s_max again with fresh random cells, so Hyperband suits an open-ended budget and is
    never ``finished``. With one worker the brackets run one after another, exactly as in Alg. 1.
    With several, a bracket waiting for a rung's results does not idle the workers: the next
    bracket starts (brackets do not depend on each other, so they run in parallel).

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``, which seeds each bracket in turn.
        min_fidelity, max_fidelity: the lowest and highest number of epochs (r_min and R).
        eta: keep 1 in ``eta`` cells per rung (Li et al. recommend 3; 2 fits 1..8 epochs exactly).

    ``brackets`` lists every ``SuccessiveHalving`` started, oldest first.

    Example:
        >>> strategy = Hyperband(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
        >>> [bracket[0] for bracket in strategy.plan]   # (cells, fidelity) of each bracket's first rung
        [(8, 1), (6, 2), (4, 4), (4, 8)]
    """

    name = "hyperband"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, min_fidelity: int = 1,
                 max_fidelity: int = 8, eta: int = 2):
        super().__init__(space, seed)
        self.plan = hyperband_brackets(min_fidelity, max_fidelity, eta)
        self.min_fidelity, self.max_fidelity, self.eta = min_fidelity, max_fidelity, eta
        self.brackets: list[SuccessiveHalving] = []
        self._active: list[SuccessiveHalving] = []
        self._pending: list[tuple[Proposal, SuccessiveHalving]] = []

    def ask(self) -> Proposal:
        for bracket in self._active:
            proposal = bracket.ask()
            if proposal is not None:
                break
        else:  # every running bracket waits (or none runs): start the next one
            bracket = self._start_bracket()
            proposal = bracket.ask()
        self._pending.append((proposal, bracket))
        return proposal

    def tell(self, proposal: Proposal, result: Result) -> None:
        for k, (pending, bracket) in enumerate(self._pending):  # noqa: B007 (used after the break)
            if pending == proposal:
                del self._pending[k]
                break
        else:
            raise ValueError(f"{proposal} was not asked by this Hyperband, or was told already")
        bracket.tell(proposal, result)
        if bracket.finished:
            self._active.remove(bracket)

    def _start_bracket(self) -> SuccessiveHalving:
        schedule = self.plan[len(self.brackets) % len(self.plan)]
        (n, r_0), r_top = schedule[0], schedule[-1][1]
        bracket = self.make_bracket(n, r_0, r_top, seed=self.rng.randrange(2**32))
        self.brackets.append(bracket)
        self._active.append(bracket)
        return bracket

    def make_bracket(self, n_configs: int, min_fidelity: int, max_fidelity: int, seed: int) -> SuccessiveHalving:
        """One bracket: successive halving from ``n_configs`` random cells (BOHB's draw from its model)."""
        return SuccessiveHalving(self.space, seed=seed, min_fidelity=min_fidelity, max_fidelity=max_fidelity,
                                 eta=self.eta, n_configs=n_configs)

    def settings(self) -> dict:
        return {**super().settings(), "min_fidelity": self.min_fidelity, "max_fidelity": self.max_fidelity,
                "eta": self.eta}
