"""ASHA: asynchronous successive halving, which promotes a cell as soon as it has earned it.

Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt, Recht & Talwalkar (MLSys 2020), "A System
for Massively Parallel Hyperparameter Tuning", Algorithm 2. Synchronous successive halving
(``halving.SuccessiveHalving``) waits until a whole rung is done before it promotes anyone, so
one slow evaluation idles every worker. ASHA never waits: whenever a worker asks, it promotes a
cell that is already in the top 1/eta of the results its rung has so far, and otherwise starts
a new random cell at the bottom rung. A fidelity is a number of training epochs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.halving import check_fidelities
from naskit.strategies.random_search import sample_new


def asha_fidelities(min_fidelity: int, max_fidelity: int, eta: int) -> list[int]:
    """The rungs' fidelities: r, r*eta, r*eta**2, ... while below ``max_fidelity``, then ``max_fidelity``.

    Li et al. 2020 place rung k at r * eta**k (Alg. 2, with s = 0) and assume R / r is a power of
    eta. When it is not, the top rung is R itself (as Syne Tune's rung levels end at ``max_t``),
    so that the best cells are always trained fully.

    Example:
        >>> asha_fidelities(1, 8, 2), asha_fidelities(1, 8, 3), asha_fidelities(1, 27, 3)
        ([1, 2, 4, 8], [1, 3, 8], [1, 3, 9, 27])
    """
    check_fidelities(min_fidelity, max_fidelity, eta)
    fidelities = [min_fidelity]
    while fidelities[-1] * eta < max_fidelity:
        fidelities.append(fidelities[-1] * eta)
    if fidelities[-1] != max_fidelity:
        fidelities.append(max_fidelity)
    return fidelities


@dataclass
class Rung:
    """One rung of ASHA: its fidelity (epochs), the scores told at it in the order they arrived
    (failures at -inf), and the cells already promoted from it to the next rung."""

    fidelity: int
    results: dict[Arch, float] = field(default_factory=dict)
    promoted: set[Arch] = field(default_factory=set)  # only tested for membership: no order to depend on

    def promotable(self, eta: int) -> Arch | None:
        """The best cell in the top floor(n / eta) of the n results so far that was not promoted
        before (Li et al. 2020, Alg. 2, get_job: ``top_k(rung k, |rung k| / eta)``, then
        ``promotable[0]``). Ties: the result told first ranks higher. A failure is never promoted."""
        ranked = sorted(self.results, key=lambda arch: -self.results[arch])  # stable: first told first
        for arch in ranked[: len(ranked) // eta]:
            if arch not in self.promoted and self.results[arch] > float("-inf"):
                return arch
        return None


class ASHA(Strategy):
    """Asynchronous successive halving over NB201 cells; open-ended, so never ``finished``.

    ``ask`` is ASHA's ``get_job`` (Li et al. 2020, Alg. 2): from the second-highest rung down to
    the bottom one, the first rung with a promotable cell (``Rung.promotable``: in the top 1/eta
    of the results completed there, not promoted before) sends it one rung up, at eta times the
    fidelity; if no rung has one, a new random cell starts at the bottom rung. ``ask`` never
    returns ``None``: with several workers, none ever waits for a rung to fill. ``tell`` files a
    result in its rung, in any order (a result that arrives late still counts from then on).

    A cell is promoted on what its rung knew when a worker asked; a result arriving later may
    show that it should not have been (the paper's "mispromotions", which ASHA accepts for never
    waiting). Every new cell is one never asked before, so no cell is proposed twice at the same
    fidelity (until all 15,625 have started; then a repeat is possible).

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random`` (the new cells).
        min_fidelity, max_fidelity: the bottom rung's epochs (r) and the top rung's (R): give
            the evaluator's ``max_fidelity``, as for ``Hyperband``.
        eta: promote the top 1 in ``eta`` of a rung and multiply the fidelity by ``eta``. Li et
            al. use eta = 4 on large budgets; 2 (the default) fits 1, 2, 4, 8 epochs exactly.

    The paper's minimum early-stopping rate s is ``min_fidelity = r * eta**s`` here. ``rungs``
    lists the ``Rung`` of each fidelity in ``fidelities``, bottom first.

    Example:
        >>> strategy = ASHA(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
        >>> strategy.fidelities
        [1, 2, 4, 8]
        >>> a, b = strategy.ask(), strategy.ask()       # nothing is done yet: two new cells
        >>> strategy.tell(a, Result(a.arch, 1, 0.5))
        >>> strategy.tell(b, Result(b.arch, 1, 0.7))
        >>> strategy.ask() == Proposal(b.arch, 2)        # b is the top 1 of 2 results at 1 epoch
        True
    """

    name = "asha"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, min_fidelity: int = 1,
                 max_fidelity: int = 8, eta: int = 2):
        super().__init__(space, seed)
        self.fidelities = asha_fidelities(min_fidelity, max_fidelity, eta)
        self.min_fidelity, self.max_fidelity, self.eta = min_fidelity, max_fidelity, eta
        self.rungs = [Rung(fidelity) for fidelity in self.fidelities]
        self.pending: list[Proposal] = []  # asked, not told yet
        self._started: set[Arch] = set()   # every cell ever started at the bottom rung

    def ask(self) -> Proposal:
        for k in range(len(self.rungs) - 2, -1, -1):  # Alg. 2, get_job: the highest rung first
            arch = self.promotable(k)
            if arch is not None:
                self.rungs[k].promoted.add(arch)
                return self._start(arch, k + 1)
        arch = sample_new(self.space, self.rng, self._started)  # no promotion: grow the bottom rung
        self._started.add(arch)
        return self._start(arch, 0)

    def promotable(self, k: int) -> Arch | None:
        """The cell rung ``k`` would promote now (``Rung.promotable``), or None."""
        return self.rungs[k].promotable(self.eta)

    def tell(self, proposal: Proposal, result: Result) -> None:
        if proposal not in self.pending:
            raise ValueError(f"{proposal} was not asked by this ASHA, or was told already")
        self.pending.remove(proposal)
        self.rungs[self.fidelities.index(proposal.fidelity)].results[proposal.arch] = result.score

    def _start(self, arch: Arch, k: int) -> Proposal:
        proposal = Proposal(arch, self.fidelities[k])
        self.pending.append(proposal)
        return proposal

    def settings(self) -> dict:
        return {**super().settings(), "min_fidelity": self.min_fidelity, "max_fidelity": self.max_fidelity,
                "eta": self.eta}
