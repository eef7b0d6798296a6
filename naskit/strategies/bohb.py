"""BOHB: Hyperband whose new cells come from a model of what was good, not from chance.

Falkner, Klein & Hutter (ICML 2018), "BOHB: Robust and Efficient Hyperparameter Optimization at
Scale", Algorithm 2, with the defaults of its reference code (automl/HpBandSter,
``hpbandster/optimizers/config_generators/bohb.py``). Brackets, rungs and promotions are
Hyperband's (Li et al. 2018, Alg. 1; ``hyperband.Hyperband``); only the cells that start a
bracket change. Each is drawn by Alg. 2:

1. with probability ``random_fraction`` (rho = 1/3), a uniformly random cell;
2. else take the highest fidelity b with at least N_min + 2 results (N_min =
   ``min_points_in_model``, by default d + 1 = 7 for the 6 edges); if none has, a random cell;
3. rank b's results; fit a density l(x) to the best N_l = max(N_min, floor(q N_b)) and g(x) to
   the worst N_g = max(N_min, N_b - N_l) (q = ``top_n_percent`` / 100 = 0.15; with few results
   the two sets share cells, as the paper says);
4. draw ``num_samples`` (64) cells from l with its bandwidths times ``bandwidth_factor`` (3),
   and return the one with the highest l(x) / g(x) (the TPE criterion, which maximises expected
   improvement; Bergstra et al. 2011).

The densities are ``categorical_kde.CategoricalKDE``: a product of Aitchison-Aitken kernels over
the 6 edges (what HpBandSter's statsmodels KDE uses for a categorical), with a rule-of-thumb
bandwidth per edge adapted to categories and floored at ``min_bandwidth`` (1e-3). It is written
out here, without statsmodels, because the kit teaches it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from naskit.core.space import NUM_EDGES, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.categorical_kde import UNIFORM_BANDWIDTH, CategoricalKDE
from naskit.strategies.halving import SuccessiveHalving
from naskit.strategies.hyperband import Hyperband
from naskit.strategies.random_search import sample_new


class ModelBasedHalving(SuccessiveHalving):
    """One BOHB bracket: successive halving whose rung-0 cells come from ``draw`` (BOHB's Alg. 2)."""

    def __init__(self, space: NB201Space, draw: Callable[[], Arch], **options):
        super().__init__(space, **options)
        self.draw = draw

    def draw_cell(self) -> Arch:
        return self.draw()


class BOHB(Hyperband):
    """BOHB over NB201 cells: Hyperband's brackets, each new cell proposed by Falkner et al.'s Alg. 2.

    Synchronous with one worker, exactly as Hyperband; with several, a bracket that waits for a
    rung lets the next bracket start, and results may be told in any order. Every result, at
    every fidelity and in any bracket, is an observation of its fidelity; the model is refitted
    at each proposal from the observations told by then, so a late result counts as soon as it
    arrives. A failed result is an observation with score -inf: always among the worst (as
    HpBandSter counts a crash as loss +inf). A new cell is never one BOHB asked before (a model
    pick already asked is skipped; if all 64 were, the cell is random), so no cell is proposed
    twice at the same fidelity.

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``: the brackets, the random cells, the
            random-fraction draws and the model's samples.
        min_fidelity, max_fidelity, eta: as ``Hyperband`` (give the evaluator's ``max_fidelity``).
        top_n_percent: q in percent, the share of a fidelity's results that are "good" (15).
        num_samples: cells drawn from l to pick the best ratio l/g from (N_s = 64).
        random_fraction: rho, the share of new cells drawn uniformly at random (1/3).
        bandwidth_factor: b_w, how much wider l's kernels are when drawing candidates (3).
        min_bandwidth: the smallest bandwidth of an edge's kernel (1e-3).
        min_points_in_model: N_min; None (default) means d + 1 = 7.

    ``observations`` maps each fidelity to its ``(cell, score)`` results in tell order;
    ``picks`` records, per new cell, ``"model"`` or ``"random"``.

    Example:
        >>> strategy = BOHB(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
        >>> strategy.ask().fidelity, strategy.picks   # no observations yet: a random cell
        (1, ['random'])
    """

    name = "bohb"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, min_fidelity: int = 1,
                 max_fidelity: int = 8, eta: int = 2, top_n_percent: int = 15, num_samples: int = 64,
                 random_fraction: float = 1 / 3, bandwidth_factor: float = 3.0, min_bandwidth: float = 1e-3,
                 min_points_in_model: int | None = None):
        super().__init__(space, seed, min_fidelity=min_fidelity, max_fidelity=max_fidelity, eta=eta)
        check_bohb_options(top_n_percent, num_samples, random_fraction, bandwidth_factor, min_bandwidth,
                           min_points_in_model)
        self.top_n_percent, self.num_samples, self.random_fraction = top_n_percent, num_samples, random_fraction
        self.bandwidth_factor, self.min_bandwidth = bandwidth_factor, min_bandwidth
        self.min_points_in_model = min_points_in_model
        self.n_min = NUM_EDGES + 1 if min_points_in_model is None else min_points_in_model
        self.observations: dict[int, list[tuple[Arch, float]]] = {}
        self.picks: list[str] = []
        self._asked: set[Arch] = set()  # every cell that started a bracket: never drawn again

    def make_bracket(self, n_configs: int, min_fidelity: int, max_fidelity: int, seed: int) -> SuccessiveHalving:
        return ModelBasedHalving(self.space, self.propose_cell, seed=seed, min_fidelity=min_fidelity,
                                 max_fidelity=max_fidelity, eta=self.eta, n_configs=n_configs)

    def tell(self, proposal: Proposal, result: Result) -> None:
        super().tell(proposal, result)  # raises for a proposal this BOHB did not ask
        self.observations.setdefault(proposal.fidelity, []).append((proposal.arch, result.score))

    def propose_cell(self) -> Arch:
        """A new cell by Falkner et al. 2018, Alg. 2 (see the module docstring)."""
        arch = None
        if self.rng.random() >= self.random_fraction:                    # line 1: rho of them are random
            fidelity = self.model_fidelity()                             # lines 2-3: else random
            if fidelity is not None:
                good, bad = self.split(self.observations[fidelity])      # line 4: fit l and g
                arch = self.best_ratio(CategoricalKDE(good, self.min_bandwidth),
                                       CategoricalKDE(bad, self.min_bandwidth))  # lines 5-6
        self.picks.append("random" if arch is None else "model")
        if arch is None:
            arch = sample_new(self.space, self.rng, self._asked)
        self._asked.add(arch)
        return arch

    def model_fidelity(self) -> int | None:
        """The highest fidelity with at least N_min + 2 observations (Alg. 2, lines 2-3), or None."""
        enough = [f for f, seen in self.observations.items() if len(seen) >= self.n_min + 2]
        return max(enough, default=None)

    def split(self, observed: list[tuple[Arch, float]]) -> tuple[list[Arch], list[Arch]]:
        """The best N_l and the worst N_g cells (Falkner et al. 2018, Sec. 4: N_l = max(N_min, q N_b),
        N_g = max(N_min, N_b - N_l)); ties keep tell order."""
        ranked = [arch for arch, _ in sorted(observed, key=lambda pair: -pair[1])]
        n_good = max(self.n_min, self.top_n_percent * len(ranked) // 100)
        n_bad = max(self.n_min, len(ranked) - n_good)
        return ranked[:n_good], ranked[len(ranked) - n_bad:]

    def best_ratio(self, good: CategoricalKDE, bad: CategoricalKDE) -> Arch | None:
        """Of ``num_samples`` draws from the widened l, the new cell with the highest l(x) / g(x)."""
        draws = [good.sample(self.rng, self.bandwidth_factor) for _ in range(self.num_samples)]
        new = [arch for arch in draws if arch not in self._asked]
        if not new:
            return None
        ratio = good.pdf(new) / bad.pdf(new)  # both > 0: every bandwidth is at least min_bandwidth
        return new[int(np.argmax(ratio))]     # ties: the first drawn

    def settings(self) -> dict:
        return {**super().settings(), "top_n_percent": self.top_n_percent, "num_samples": self.num_samples,
                "random_fraction": self.random_fraction, "bandwidth_factor": self.bandwidth_factor,
                "min_bandwidth": self.min_bandwidth, "min_points_in_model": self.min_points_in_model}


def check_bohb_options(top_n_percent, num_samples, random_fraction, bandwidth_factor, min_bandwidth,
                       min_points_in_model) -> None:
    """Raise a ``ValueError`` naming the first BOHB option out of its range."""
    def whole(value, low):
        return isinstance(value, int) and not isinstance(value, bool) and value >= low

    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value

    if not whole(top_n_percent, 1) or top_n_percent > 99:
        raise ValueError(f"top_n_percent must be an int in 1..99 (the percent of results that are good), "
                         f"got {top_n_percent!r}")
    if not whole(num_samples, 1):
        raise ValueError(f"num_samples must be an int of at least 1, got {num_samples!r}")
    if not number(random_fraction) or not 0 <= random_fraction <= 1:
        raise ValueError(f"random_fraction must be a number in [0, 1], got {random_fraction!r}")
    if not number(bandwidth_factor) or bandwidth_factor <= 0:
        raise ValueError(f"bandwidth_factor must be a positive number, got {bandwidth_factor!r}")
    if not number(min_bandwidth) or not 0 < min_bandwidth <= UNIFORM_BANDWIDTH:
        raise ValueError(f"min_bandwidth must be a number in (0, {UNIFORM_BANDWIDTH}] (at most uniform over "
                         f"the 5 ops), got {min_bandwidth!r}")
    if min_points_in_model is not None and not whole(min_points_in_model, 1):
        raise ValueError(f"min_points_in_model must be None (d + 1 = 7) or an int of at least 1, "
                         f"got {min_points_in_model!r}")
