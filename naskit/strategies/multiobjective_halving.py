"""Multi-objective successive halving: promote by non-dominated front, not by one score.

Schmucker, Donini, Perrone & Archambeau (2021), "Multi-objective multi-fidelity hyperparameter
optimization with application to fairness" (MO-ASHA), and Salinas, Perrone, Archambeau &
Cruchant (2021), "A multi-objective perspective on jointly tuning hardware and hyperparameters":
successive halving whose rungs rank their cells by non-dominated sorting, and within a front by
an epsilon-net (a greedy farthest-point order started from the best cell in the first
objective), as syne-tune's ``NonDominatedPriority`` does (``non_dominated_order(...,
within="epsilon_net")``); the top 1/eta of that order go on. Optuna's pruners cannot do this
(optuna issue #2792): they compare one value per trial.

This is the synchronous version (a rung is promoted once all its results are in, as
``SuccessiveHalving``); the asynchronous MO-ASHA promotes as results arrive. Costs of the
network (latency, parameters) do not change with the fidelity; the score does.
"""

from __future__ import annotations

from collections.abc import Sequence

from naskit.core.pareto import non_dominated_order
from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
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
