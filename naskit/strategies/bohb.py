"""BOHB: Hyperband whose new cells come from a model of what was good, not from chance.

Falkner, Klein & Hutter (ICML 2018), "BOHB: Robust and Efficient Hyperparameter Optimization at
Scale", Algorithm 2, as its reference code does it (automl/HpBandSter: the brackets of
``optimizers/bohb.py``, the model of ``optimizers/config_generators/bohb.py``, with its defaults).
Rungs and promotions are Hyperband's (``hyperband.Hyperband``); bracket s starts
n_0 = ceil(floor((s_max + 1) / (s + 1)) * eta**s) cells (HpBandSter's ``get_next_iteration``; Li et
al.'s Alg. 1 rounds up instead). Each new cell is drawn by Alg. 2:

1. if no fidelity has a model yet, or with probability ``random_fraction`` (rho = 1/3), a
   uniformly random cell;
2. else use the model of the highest fidelity b that has one. A fidelity has a model once its
   N_b results (failures as the worst) split into the best N_l = max(N_min, floor(q N_b)) and the
   next N_g = max(N_min, floor((1 - q) N_b)) in rank order (fewer if fewer are left) with more than
   d = 6 cells in each (N_min = ``min_points_in_model``, d + 1 = 7 by default; q =
   ``top_n_percent`` / 100 = 0.15). l(x) is fitted to the best, g(x) to the next
   (``categorical_kde.CategoricalKDE``, statsmodels' normal-reference bandwidths);
3. draw ``num_samples`` (64) cells from l, one at a time, and keep the one with the lowest
   max(1e-32, g(x)) / max(l(x), 1e-32), i.e. the highest l/g (the TPE criterion; Bergstra et al.
   2011). As in HpBandSter, a draw whose ratio is not finite while l(x) is, is taken at once, and
   if no draw qualifies the cell is random.

One deviation, naskit's rule for every strategy: a drawn cell that BOHB already started is
skipped (HpBandSter would evaluate it again), so no cell is proposed twice at the same fidelity.
The model is written out here, without statsmodels, because the kit teaches it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from naskit.core.space import NUM_EDGES, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.categorical_kde import BANDWIDTH_RULES, UNIFORM_BANDWIDTH, CategoricalKDE
from naskit.strategies.halving import SuccessiveHalving, check_fidelities, halving_schedule, max_halvings
from naskit.strategies.hyperband import Hyperband
from naskit.strategies.random_search import sample_new


class ModelBasedHalving(SuccessiveHalving):
    """One BOHB bracket: successive halving whose rung-0 cells come from ``draw`` (BOHB's Alg. 2)."""

    def __init__(self, space: NB201Space, draw: Callable[[], Arch], **options):
        super().__init__(space, **options)
        self.draw = draw

    def draw_cell(self) -> Arch:
        return self.draw()


def bohb_brackets(min_fidelity: int, max_fidelity: int, eta: int) -> list[list[tuple[int, int]]]:
    """Every bracket's rungs ``(cells, fidelity)``, from s = s_max down to 0, as HpBandSter's BOHB
    sizes them: n_0 = ceil(floor((s_max + 1) / (s + 1)) * eta**s), then floor(n_0 / eta**i).

    Example:
        >>> [bracket[0] for bracket in bohb_brackets(1, 8, 2)]   # Hyperband (Li et al.) starts 6 in s = 2
        [(8, 1), (4, 2), (4, 4), (4, 8)]
    """
    check_fidelities(min_fidelity, max_fidelity, eta)
    s_max = max_halvings(min_fidelity, max_fidelity, eta)
    return [halving_schedule((s_max + 1) // (s + 1) * eta**s, max_fidelity // eta**s, max_fidelity, eta)
            for s in range(s_max, -1, -1)]


class BOHB(Hyperband):
    """BOHB over NB201 cells: HpBandSter's brackets, each new cell proposed by Falkner et al.'s Alg. 2.

    Synchronous with one worker, as in the paper; with several, a bracket that waits for a rung
    lets the next bracket start (as HpBandSter's master does), and results may be told in any
    order. Every result, at every fidelity and in any bracket, is an observation of its fidelity;
    the model is refitted at each proposal from the observations told by then (HpBandSter refits
    at each result; the same model), so a late result counts as soon as it arrives. A failed
    result is an observation with score -inf: always among the worst (HpBandSter: loss +inf).

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's own ``random.Random``: the brackets, the random cells, the
            random-fraction draws and the model's samples.
        min_fidelity, max_fidelity, eta: as ``Hyperband`` (give the evaluator's ``max_fidelity``).
        top_n_percent: q in percent, the share of a fidelity's results that are "good" (15).
        num_samples: cells drawn from l to pick the best ratio l/g from (N_s = 64).
        random_fraction: rho, the share of new cells drawn uniformly at random (1/3).
        bandwidth_factor: b_w (3); HpBandSter widens only continuous parameters by it, so with the
            default rule it changes nothing on NB201's categorical edges.
        min_bandwidth: the smallest bandwidth of an edge's kernel (1e-3).
        min_points_in_model: N_min; None (default) means d + 1 = 7, also the least allowed
            (statsmodels' KDE needs more cells than edges; HpBandSter raises a smaller value to 7).
        bandwidth_rule: ``"normal_reference"`` (HpBandSter's) or ``"gini"``: naskit's variant, a
            proper density with Gini-impurity bandwidths, sampled wider by ``bandwidth_factor``
            (``categorical_kde.gini_bandwidths`` says what it changes).

    ``observations`` maps each fidelity to its ``(cell, score)`` results in tell order;
    ``picks`` records, per new cell, ``"model"`` or ``"random"``; ``started`` holds every cell that
    started a bracket (never drawn again).

    Example:
        >>> strategy = BOHB(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
        >>> strategy.ask().fidelity, strategy.picks   # no observations yet: a random cell
        (1, ['random'])
    """

    name = "bohb"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, min_fidelity: int = 1,
                 max_fidelity: int = 8, eta: int = 2, top_n_percent: int = 15, num_samples: int = 64,
                 random_fraction: float = 1 / 3, bandwidth_factor: float = 3.0, min_bandwidth: float = 1e-3,
                 min_points_in_model: int | None = None, bandwidth_rule: str = "normal_reference"):
        super().__init__(space, seed, min_fidelity=min_fidelity, max_fidelity=max_fidelity, eta=eta)
        check_bohb_options(top_n_percent, num_samples, random_fraction, bandwidth_factor, min_bandwidth,
                           min_points_in_model, bandwidth_rule)
        self.plan = bohb_brackets(min_fidelity, max_fidelity, eta)
        self.top_n_percent, self.num_samples, self.random_fraction = top_n_percent, num_samples, random_fraction
        self.bandwidth_factor, self.min_bandwidth = bandwidth_factor, min_bandwidth
        self.min_points_in_model, self.bandwidth_rule = min_points_in_model, bandwidth_rule
        self.n_min = NUM_EDGES + 1 if min_points_in_model is None else min_points_in_model
        self.observations: dict[int, list[tuple[Arch, float]]] = {}
        self.picks: list[str] = []
        self.started: set[Arch] = set()  # every cell that started a bracket: never drawn again

    def make_bracket(self, n_configs: int, min_fidelity: int, max_fidelity: int, seed: int) -> SuccessiveHalving:
        return ModelBasedHalving(self.space, self.propose_cell, seed=seed, min_fidelity=min_fidelity,
                                 max_fidelity=max_fidelity, eta=self.eta, n_configs=n_configs)

    def tell(self, proposal: Proposal, result: Result) -> None:
        super().tell(proposal, result)  # raises for a proposal this BOHB did not ask
        self.observations.setdefault(proposal.fidelity, []).append((proposal.arch, result.score))

    def propose_cell(self) -> Arch:
        """A new cell by Falkner et al. 2018, Alg. 2 (see the module docstring)."""
        arch, fidelity = None, self.model_fidelity()
        if fidelity is not None and not self.rng.random() < self.random_fraction:  # line 1: rho random
            good, bad = self.split(self.observations[fidelity])                   # lines 2-4: l and g
            arch = self.best_ratio(self.kde(good), self.kde(bad))                  # lines 5-6
        self.picks.append("random" if arch is None else "model")
        if arch is None:
            arch = sample_new(self.space, self.rng, self.started)
        self.started.add(arch)
        return arch

    def kde(self, archs: list[Arch]) -> CategoricalKDE:
        return CategoricalKDE(archs, self.min_bandwidth, self.bandwidth_rule)

    def model_fidelity(self) -> int | None:
        """The highest fidelity whose observations fit a model (both sets hold more than d cells), or None."""
        def fits(observed):
            good, bad = self.split(observed)
            return len(observed) >= self.n_min and min(len(good), len(bad)) > NUM_EDGES

        return max((f for f, observed in self.observations.items() if fits(observed)), default=None)

    def split(self, observed: list[tuple[Arch, float]]) -> tuple[list[Arch], list[Arch]]:
        """The best N_l and the next N_g cells by score (HpBandSter's ``new_result``: N_l =
        max(N_min, q N_b // 100), N_g = max(N_min, (100 - q) N_b // 100), the bad set cut short when
        fewer are left); ties keep tell order."""
        ranked = [arch for arch, _ in sorted(observed, key=lambda pair: -pair[1])]
        n_good = max(self.n_min, self.top_n_percent * len(ranked) // 100)
        n_bad = max(self.n_min, (100 - self.top_n_percent) * len(ranked) // 100)
        return ranked[:n_good], ranked[n_good:n_good + n_bad]

    def best_ratio(self, good: CategoricalKDE, bad: CategoricalKDE) -> Arch | None:
        """Of ``num_samples`` draws from l, the one HpBandSter's ``get_config`` keeps (lowest
        max(1e-32, g) / max(l, 1e-32); a non-finite ratio with a finite l is taken at once); cells
        BOHB started before are skipped. None if no draw qualifies."""
        best, best_arch = np.inf, None
        for _ in range(self.num_samples):
            arch = good.sample(self.rng, self.bandwidth_factor)
            if arch in self.started:
                continue
            lx, gx = float(good.pdf([arch])[0]), float(bad.pdf([arch])[0])
            ratio = max(1e-32, gx) / max(lx, 1e-32)  # Python's max: a NaN g gives 1e-32, a NaN l stays NaN
            if not np.isfinite(ratio) and np.isfinite(lx):
                return arch
            if ratio < best:
                best, best_arch = ratio, arch
        return best_arch

    def settings(self) -> dict:
        return {**super().settings(), "top_n_percent": self.top_n_percent, "num_samples": self.num_samples,
                "random_fraction": self.random_fraction, "bandwidth_factor": self.bandwidth_factor,
                "min_bandwidth": self.min_bandwidth, "min_points_in_model": self.min_points_in_model,
                "bandwidth_rule": self.bandwidth_rule}


def check_bohb_options(top_n_percent, num_samples, random_fraction, bandwidth_factor, min_bandwidth,
                       min_points_in_model, bandwidth_rule="normal_reference") -> None:
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
    if min_points_in_model is not None and not whole(min_points_in_model, NUM_EDGES + 1):
        raise ValueError(f"min_points_in_model must be None or an int of at least d + 1 = {NUM_EDGES + 1} (a "
                         f"KDE over the 6 edges needs more cells than edges), got {min_points_in_model!r}")
    if bandwidth_rule not in BANDWIDTH_RULES:
        raise ValueError(f"bandwidth_rule must be one of {', '.join(BANDWIDTH_RULES)}, got {bandwidth_rule!r}")
