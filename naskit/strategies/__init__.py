"""Black-box search strategies, each a small ask/tell class with its own seeded RNG.

Example:
    >>> from naskit.strategies import make_strategy
    >>> strategy = make_strategy("evolution", seed=0, population_size=10, sample_size=3)
    >>> proposal = strategy.ask()
"""

from __future__ import annotations

import inspect

from naskit.core.space import NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.asha import ASHA, asha_fidelities
from naskit.strategies.bananas import BANANAS
from naskit.strategies.base import Strategy
from naskit.strategies.bohb import BOHB
from naskit.strategies.evolution import RegularizedEvolution
from naskit.strategies.halving import SuccessiveHalving, halving_schedule
from naskit.strategies.hyperband import Hyperband, hyperband_brackets
from naskit.strategies.local_search import LocalSearch
from naskit.strategies.multiobjective import MORegularizedEvolution
from naskit.strategies.multiobjective_halving import MOASHA, MOSuccessiveHalving
from naskit.strategies.multiobjective_wrappers import Constrained, Scalarised
from naskit.strategies.optuna_strategy import OptunaStrategy
from naskit.strategies.predictor_guided import PredictorGuided
from naskit.strategies.random_search import RandomSearch
from naskit.strategies.reinforce import REINFORCE

STRATEGIES: dict[str, type[Strategy]] = {
    "random": RandomSearch,
    "evolution": RegularizedEvolution,
    "local": LocalSearch,
    "reinforce": REINFORCE,
    "bananas": BANANAS,
    "predictor_guided": PredictorGuided,
    "sh": SuccessiveHalving,
    "hyperband": Hyperband,
    "asha": ASHA,
    "bohb": BOHB,
    "optuna": OptunaStrategy,  # needs the optuna extra, imported when built
    # multi-objective (score against network costs) and constrained search
    "mo_evolution": MORegularizedEvolution,
    "scalarised": Scalarised,
    "constrained": Constrained,
    "mo_sh": MOSuccessiveHalving,
    "mo_asha": MOASHA,
}


def strategy_options(name: str) -> list[str]:
    """The keyword options a strategy accepts besides ``space`` and ``seed``."""
    cls = _lookup(name)
    return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "space", "seed")]


def make_strategy(name: str, space: NB201Space | None = None, seed: int = 0, **options) -> Strategy:
    """Build a strategy by its short name (a key of ``STRATEGIES``) with keyword options.

    Raises a ``ValueError`` naming the known strategies for an unknown name, and the allowed
    options for an unknown option, before anything is built.
    """
    cls = _lookup(name)
    allowed = strategy_options(name)
    for option in options:
        if option not in allowed:
            raise ValueError(
                f"strategy {name!r} ({cls.__name__}) has no option {option!r}; "
                f"its options are: {', '.join(allowed) if allowed else '(none besides space and seed)'}"
            )
    return cls(space, seed, **options)


def _lookup(name: str) -> type[Strategy]:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; known strategies are: {', '.join(STRATEGIES)}")
    return STRATEGIES[name]


__all__ = [
    "ASHA",
    "BANANAS",
    "BOHB",
    "Constrained",
    "MORegularizedEvolution",
    "MOASHA",
    "MOSuccessiveHalving",
    "REINFORCE",
    "STRATEGIES",
    "Hyperband",
    "LocalSearch",
    "OptunaStrategy",
    "PredictorGuided",
    "Proposal",
    "RandomSearch",
    "RegularizedEvolution",
    "Result",
    "Scalarised",
    "Strategy",
    "SuccessiveHalving",
    "asha_fidelities",
    "halving_schedule",
    "hyperband_brackets",
    "make_strategy",
    "strategy_options",
]
