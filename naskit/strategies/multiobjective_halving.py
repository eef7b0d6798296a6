"""Multi-objective successive halving: promote by non-dominated front, not by one score.

Schmucker, Donini, Perrone & Archambeau (2021), "Multi-objective multi-fidelity hyperparameter
optimization with application to fairness" (MO-ASHA), and Salinas, Perrone, Archambeau &
Cruchant (2021), "A multi-objective perspective on jointly tuning hardware and hyperparameters":
successive halving whose rungs rank their cells by non-dominated sorting, and within a front by
an epsilon-net (a greedy farthest-point order started from the best cell in the first
objective), as syne-tune's ``NonDominatedPriority`` does (``non_dominated_order(...,
within="epsilon_net")``); the top 1/eta of that order go on. Optuna's pruners cannot do this
(optuna issue #2792): they compare one value per trial.

``MOSuccessiveHalving`` (``"mo_sh"``) is the synchronous version: a rung is promoted once all
its results are in, as ``SuccessiveHalving``. ``MOASHA`` (``"mo_asha"``) is the asynchronous one
the paper names: ASHA's ``get_job`` (Li et al. 2020, Alg. 2), whose ``top_k`` of a rung is taken
in that non-dominated order instead of by score, so no worker waits for a rung to fill. Costs of
the network (latency, parameters) do not change with the fidelity; the score does.
"""

from __future__ import annotations

from collections.abc import Sequence

from naskit.core.pareto import non_dominated_order
from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.asha import ASHA
from naskit.strategies.halving import SuccessiveHalving
from naskit.strategies.multiobjective import DEFAULT_COSTS, check_costs, maximize_of, objective_vector

WITHIN = ("epsilon_net", "crowding")


class MOSuccessiveHalving(SuccessiveHalving):
    """Successive halving promoting the top 1/eta by non-dominated front (Schmucker et al. 2021).

    Args:
        costs: the network costs traded against the score (``Result.network_cost``).
        within: how a front is ordered: ``"epsilon_net"`` (default, syne-tune's MO-ASHA) or
            ``"crowding"`` (NSGA-II's crowding distance, largest first).
        min_fidelity, max_fidelity, eta, n_configs: as ``SuccessiveHalving``.

    Example:
        >>> strategy = MOSuccessiveHalving(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
        >>> strategy.ask().fidelity
        1
    """

    name = "mo_sh"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, min_fidelity: int = 1,
                 max_fidelity: int = 8, eta: int = 2, n_configs: int | None = None,
                 costs: Sequence[str] = DEFAULT_COSTS, within: str = "epsilon_net"):
        if within not in WITHIN:
            raise ValueError(f"within must be one of {', '.join(WITHIN)}, got {within!r}")
        self.costs, self.within = check_costs(costs), within
        self.objectives_of: dict[tuple[Arch, int], tuple[float, ...]] = {}
        super().__init__(space, seed, min_fidelity=min_fidelity, max_fidelity=max_fidelity, eta=eta,
                         n_configs=n_configs)

    def tell(self, proposal: Proposal, result: Result) -> None:
        objectives = objective_vector(result, self.costs)
        if objectives is not None:
            self.objectives_of[(proposal.arch, proposal.fidelity)] = objectives
        super().tell(proposal, result)

    def promotion_order(self, rung: dict, cells: list[Arch]) -> list[Arch]:
        points = [self.objectives_of[(arch, rung["fidelity"])] for arch in cells]
        if not points:
            return []
        return [cells[i] for i in non_dominated_order(points, maximize_of(self.costs), self.within)]

    def settings(self) -> dict:
        return {**super().settings(), "costs": list(self.costs), "within": self.within}


class MOASHA(ASHA):
    """Asynchronous successive halving promoting by non-dominated front (MO-ASHA, Schmucker et al. 2021).

    ``ask`` is ASHA's (``naskit.strategies.asha.ASHA``, Li et al. 2020, Alg. 2): from the
    second-highest rung down, the first rung with a promotable cell sends it up, otherwise a new
    random cell starts at the bottom. A rung's n results are ranked by non-dominated front of
    (score, *costs), each front in ``within`` order (``naskit.core.pareto.non_dominated_order``;
    failures last); its top floor(n / eta) are promotable, the first of them not promoted before
    is sent up. ``tell`` files a result in its rung in any order, as ASHA's.

    This is the promotion type of asynchronous halving (naskit's ``"asha"``). syne-tune's
    ``MOASHA`` is the stopping type, which decides when a trial reports at a rung whether it may
    go on: it continues a trial whose place among the rung's results so far is in the top 1 /
    eta, a decision made once per trial. (Its ``_Bracket.on_result`` passes the item indices
    that ``nondominated_sort`` returns, best first, where a priority per item is expected; here
    each cell's place in that order is its rank.)

    Args:
        costs: the network costs traded against the score (``Result.network_cost``).
        within: how a front is ordered: ``"epsilon_net"`` (default, syne-tune's
            ``NonDominatedPriority``) or ``"crowding"`` (NSGA-II's crowding distance).
        min_fidelity, max_fidelity, eta: as ``ASHA``.

    Example:
        >>> strategy = MOASHA(seed=0, min_fidelity=1, max_fidelity=8, eta=2, costs=("params",))
        >>> strategy.fidelities
        [1, 2, 4, 8]
    """

    name = "mo_asha"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, min_fidelity: int = 1,
                 max_fidelity: int = 8, eta: int = 2, costs: Sequence[str] = DEFAULT_COSTS,
                 within: str = "epsilon_net"):
        if within not in WITHIN:
            raise ValueError(f"within must be one of {', '.join(WITHIN)}, got {within!r}")
        self.costs, self.within = check_costs(costs), within
        self.objectives_of: dict[tuple[Arch, int], tuple[float, ...]] = {}
        super().__init__(space, seed, min_fidelity=min_fidelity, max_fidelity=max_fidelity, eta=eta)

    def tell(self, proposal: Proposal, result: Result) -> None:
        objectives = objective_vector(result, self.costs)
        if objectives is not None:
            self.objectives_of[(proposal.arch, proposal.fidelity)] = objectives
        super().tell(proposal, result)

    def ranked(self, k: int) -> list[Arch]:
        """Rung ``k``'s cells best first: by non-dominated front, then ``within`` order; failures
        last, in the order told."""
        rung = self.rungs[k]
        done = [arch for arch in rung.results if (arch, rung.fidelity) in self.objectives_of]
        failed = [arch for arch in rung.results if (arch, rung.fidelity) not in self.objectives_of]
        points = [self.objectives_of[(arch, rung.fidelity)] for arch in done]
        order = non_dominated_order(points, maximize_of(self.costs), self.within) if points else []
        return [done[i] for i in order] + failed

    def promotable(self, k: int) -> Arch | None:
        rung = self.rungs[k]
        for arch in self.ranked(k)[: len(rung.results) // self.eta]:
            if arch not in rung.promoted and (arch, rung.fidelity) in self.objectives_of:
                return arch
        return None

    def settings(self) -> dict:
        return {**super().settings(), "costs": list(self.costs), "within": self.within}
