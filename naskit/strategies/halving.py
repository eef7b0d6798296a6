"""Successive halving: many cells at a low fidelity, the best few at ever higher ones.

Jamieson & Talwalkar (AISTATS 2016), "Non-stochastic Best Arm Identification and
Hyperparameter Optimization"; the rung schedule is the inner loop of Hyperband (Li, Jamieson,
DeSalvo, Rostamizadeh & Talwalkar, JMLR 2018, Algorithm 1). A fidelity is a number of
training epochs.
"""

from __future__ import annotations

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.random_search import sample_new


def check_fidelities(min_fidelity: int, max_fidelity: int, eta: int) -> None:
    """Raise a ``ValueError`` for fidelities or an ``eta`` that successive halving cannot use."""
    for arg, value in (("min_fidelity", min_fidelity), ("max_fidelity", max_fidelity), ("eta", eta)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{arg} must be an int, got {value!r}")
    if min_fidelity < 1:
        raise ValueError(f"min_fidelity must be at least 1 epoch, got {min_fidelity}")
    if max_fidelity < min_fidelity:
        raise ValueError(f"max_fidelity ({max_fidelity}) must be at least min_fidelity ({min_fidelity})")
    if eta < 2:
        raise ValueError(f"eta (the keep-1-in-eta factor) must be at least 2, got {eta}")


def max_halvings(min_fidelity: int, max_fidelity: int, eta: int) -> int:
    """s_max = floor(log_eta(max_fidelity / min_fidelity)), in exact integer arithmetic."""
    s = 0
    while min_fidelity * eta ** (s + 1) <= max_fidelity:
        s += 1
    return s


def halving_schedule(n_configs: int, min_fidelity: int, max_fidelity: int, eta: int) -> list[tuple[int, int]]:
    """The rungs of one successive-halving run: a list of ``(cells, fidelity)``.

    With s = ``max_halvings(...)``, rung i (0..s) evaluates n_i = floor(n_configs / eta**i) cells
    (at least 1) at fidelity r_i = floor(max_fidelity / eta**(s - i)) (Li et al. 2018, Alg. 1:
    n_i = n eta^-i, r_i = r eta^i), so the last rung always runs at ``max_fidelity``.

    Example:
        >>> halving_schedule(8, 1, 8, 2)
        [(8, 1), (4, 2), (2, 4), (1, 8)]
    """
    check_fidelities(min_fidelity, max_fidelity, eta)
    s = max_halvings(min_fidelity, max_fidelity, eta)
    return [(max(1, n_configs // eta**i), max_fidelity // eta ** (s - i)) for i in range(s + 1)]


class SuccessiveHalving(Strategy):
    """One run of successive halving; ``finished`` after its top rung.

    Rung 0 evaluates ``n_configs`` distinct random cells at the lowest fidelity. Once *all* of a
    rung's results are in, the top 1/eta by score (ties: the earlier asked) are promoted to the
    next rung, at eta times the fidelity; ``ask`` returns ``None`` while a rung waits on
    pending results, and for good once the top rung is done. Failed cells are never promoted,
    so after failures a rung may hold fewer cells than the schedule says.

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``.
        min_fidelity, max_fidelity: the lowest and highest number of epochs.
        eta: keep 1 in ``eta`` cells per rung and multiply the fidelity by ``eta``.
        n_configs: cells in rung 0; by default eta**s with s = ``max_halvings(...)``, so that
            one cell reaches the top rung.

    ``rungs`` lists, per rung, its ``fidelity``, its ``size``, its ``cells`` in ask order and the
    ``results`` told so far as ``{arch: score}``.

    Example:
        >>> strategy = SuccessiveHalving(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
        >>> strategy.schedule
        [(8, 1), (4, 2), (2, 4), (1, 8)]
        >>> strategy.ask().fidelity
        1
    """

    name = "sh"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, min_fidelity: int = 1,
                 max_fidelity: int = 8, eta: int = 2, n_configs: int | None = None):
        super().__init__(space, seed)
        check_fidelities(min_fidelity, max_fidelity, eta)
        if n_configs is None:
            n_configs = eta ** max_halvings(min_fidelity, max_fidelity, eta)
        if n_configs < 1:
            raise ValueError(f"n_configs must be at least 1, got {n_configs}")
        self.min_fidelity, self.max_fidelity, self.eta, self.n_configs = min_fidelity, max_fidelity, eta, n_configs
        self.schedule = halving_schedule(n_configs, min_fidelity, max_fidelity, eta)
        self.rungs: list[dict] = []
        self._to_ask: list[Arch] = []    # promoted cells of the current rung not yet proposed
        self._pending: list[Arch] = []
        self._done = False
        self._open_rung(self.schedule[0][0], [])

    @property
    def finished(self) -> bool:
        return self._done

    def ask(self) -> Proposal | None:
        rung = self.rungs[-1]
        if self._done:
            return None
        if self._to_ask:
            arch = self._to_ask.pop(0)
        elif len(rung["cells"]) < rung["size"]:  # rung 0 draws its cells as it goes
            arch = self.draw_cell()
        else:
            return None  # every cell of this rung is out: wait for the results
        rung["cells"].append(arch)
        self._pending.append(arch)
        return Proposal(arch, rung["fidelity"])

    def tell(self, proposal: Proposal, result: Result) -> None:
        rung = self.rungs[-1]
        if self._done or proposal.fidelity != rung["fidelity"] or proposal.arch not in self._pending:
            raise ValueError(f"{proposal} was not asked by this {type(self).__name__}, or was told already")
        self._pending.remove(proposal.arch)
        rung["results"][proposal.arch] = result.score
        if len(rung["results"]) == rung["size"]:
            self._promote()

    def draw_cell(self) -> Arch:
        """A new cell for rung 0: uniformly random, distinct within the rung (BOHB draws from its model)."""
        return sample_new(self.space, self.rng, set(self.rungs[0]["cells"]))

    def _promote(self) -> None:
        """Rung complete: the top 1/eta go on to the next rung (Li et al. 2018, Alg. 1: top_k)."""
        i, rung = len(self.rungs) - 1, self.rungs[-1]
        if i + 1 == len(self.schedule):
            self._done = True
            return
        ok = [arch for arch in rung["cells"] if rung["results"][arch] > float("-inf")]  # never promote a failure
        survivors = self.promotion_order(rung, ok)[: self.schedule[i + 1][0]]
        if not survivors:
            self._done = True
            return
        self._open_rung(len(survivors), survivors)

    def promotion_order(self, rung: dict, cells: list[Arch]) -> list[Arch]:
        """A complete rung's successful ``cells``, best first: by score, equal scores in ask order
        (a stable sort). Multi-objective successive halving orders by non-dominated front instead."""
        return sorted(cells, key=lambda arch: -rung["results"][arch])

    def _open_rung(self, size: int, cells: list[Arch]) -> None:
        fidelity = self.schedule[len(self.rungs)][1]
        self.rungs.append({"fidelity": fidelity, "size": size, "cells": [], "results": {}})
        self._to_ask = list(cells)

    def settings(self) -> dict:
        return {**super().settings(), "min_fidelity": self.min_fidelity, "max_fidelity": self.max_fidelity,
                "eta": self.eta, "n_configs": self.n_configs}
