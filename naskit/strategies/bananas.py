"""BANANAS: Bayesian optimization with a neural predictor (White, Neiswanger & Savani, AAAI 2021).

Algorithm 1 of the paper, with the defaults of its reference code (naszilla/naszilla,
``naszilla/nas_algorithms.py``, function ``bananas``, run on NAS-Bench-201):

1. evaluate ``initial`` = 10 distinct random cells;
2. train an ensemble of 5 neural networks (``MLPEnsemble``: 10 x 20 ReLU layers, mean absolute
   error, Adam at 0.01, 150 epochs) to predict each evaluated cell's validation error (in
   percent, naszilla's ``val_loss``) from its path encoding (``NB201Space.encode_paths``,
   truncated to paths of at most 2 ops: naszilla's default ``trunc_path`` with cutoff 30);
3. make candidates by mutating the best cells (``get_candidates`` in ``nas_benchmarks.py``):
   100 tries from the best cell, each edge changed with probability 1/4
   (``mutations.mutate_each_edge``), keeping the new ones; while fewer than 100 are new, the
   next best cell (up to the 5th) gets 100 tries too;
4. score the candidates by independent Thompson sampling (``acquisition_functions.py``,
   ``its``): one draw per candidate from a normal with the ensemble's mean and standard
   deviation; evaluate the ``k`` = 10 lowest draws (lowest predicted error), then go to 2.

With 150 evaluations that is 10 random cells and 14 fits of 10 proposals each.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from naskit.core.space import Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.mlp_ensemble import MLPEnsemble
from naskit.strategies.mutations import mutate_each_edge
from naskit.strategies.random_search import sample_new

_PARENTS = 5  # naszilla: num_arches_to_mutate (1) x patience_factor (5) best cells may be mutated


class BANANAS(Strategy):
    """BANANAS as naszilla runs it on NAS-Bench-201: batches of ``k`` cells chosen by a neural ensemble.

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds ``self.rng``, the one source of randomness: random cells, mutations, and a
            fresh numpy seed per fit for the networks' weights, batch order and the Thompson draws.
        initial: how many distinct random cells come before the first fit (naszilla: 10).
        k: how many cells each fit proposes (naszilla: 10).
        candidates: how many new cells each fit tries to generate and score (naszilla: 100).
        max_path_length: 2 (default) encodes the 30 paths of 1 or 2 ops, as naszilla's default
            truncated path encoding; 3 uses all 155 paths (the paper's untruncated encoding).

    Validation errors are ``100 * (1 - score)``: the percentage that naszilla's ``val_loss``
    holds when the score is an accuracy. A failed evaluation is fit as the worst error seen
    (it cannot be fit as infinite) and is never a parent. No cell is proposed twice.

    With parallel workers, a fit waits for every result of the batch before it (``ask``
    returns ``None`` meanwhile), as in naszilla's loop: a batch's ``k`` proposals are known
    at once, so ``k`` workers evaluate them together.

    Example:
        >>> strategy = BANANAS(seed=0)
        >>> proposal = strategy.ask()  # random for the first 10 asks, then 10 per fit
        >>> len(strategy.space.encode_paths(proposal.arch, strategy.max_path_length))
        30
    """

    name = "bananas"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, initial: int = 10,
                 k: int = 10, candidates: int = 100, max_path_length: int = 2):
        super().__init__(space, seed)
        for arg, value, low in (("initial", initial, 1), ("k", k, 1), ("candidates", candidates, 1)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{arg} must be an int of at least {low}, got {value!r}")
        if max_path_length not in (1, 2, 3):
            raise ValueError(f"max_path_length must be 1, 2 or 3 (a path has 1 to 3 edges), got {max_path_length!r}")
        self.initial, self.k, self.candidates, self.max_path_length = initial, k, candidates, max_path_length
        self.history: list[tuple[Arch, float]] = []  # (cell, score) in tell order; failures at -inf
        self.ensemble: MLPEnsemble | None = None     # the latest fit
        self.fits = 0
        self._queried: set[Arch] = set()  # every cell proposed or told: never proposed again
        self._pending: list[Arch] = []
        self._batch: list[Arch] = []     # the latest fit's proposals not yet asked, best first

    def ask(self) -> Proposal | None:
        if not self._batch:
            if len(self._queried) < self.initial:  # Alg. 1 begins with random cells
                return self._propose(sample_new(self.space, self.rng, self._queried))
            if self._pending:
                return None  # the next fit learns from the whole batch before it
            if not any(score > float("-inf") for _, score in self.history):
                return self._propose(sample_new(self.space, self.rng, self._queried))  # nothing to learn from
            self._batch = self._next_batch() or [sample_new(self.space, self.rng, self._queried)]
        return self._propose(self._batch.pop(0))

    def tell(self, proposal: Proposal, result: Result) -> None:
        if proposal.arch in self._pending:
            self._pending.remove(proposal.arch)
        self._queried.add(proposal.arch)
        self.history.append((proposal.arch, result.score))

    def errors(self) -> np.ndarray:
        """What the ensemble learns, per history entry: validation error in percent; failures at the worst."""
        scores = np.array([score for _, score in self.history])
        errors = 100.0 * (1.0 - scores)
        finite = np.isfinite(errors)
        errors[~finite] = errors[finite].max()
        return errors

    def fit(self) -> MLPEnsemble:
        """Train a fresh ensemble on every result so far (a new one each time); kept as ``self.ensemble``."""
        x = np.stack([self.space.encode_paths(arch, self.max_path_length) for arch, _ in self.history])
        self.ensemble = MLPEnsemble(x.shape[1], np.random.default_rng(self.rng.getrandbits(64)))
        with threadpool_limits(limits=1, user_api="blas"):  # matrices this small only lose from threads
            self.ensemble.fit(x, self.errors())
        self.fits += 1
        return self.ensemble

    def predict(self, archs: list[Arch]) -> tuple[np.ndarray, np.ndarray]:
        """The latest ensemble's mean and standard deviation of the validation error (%), each ``(len(archs),)``."""
        if self.ensemble is None:
            raise ValueError("no ensemble has been fit yet; tell() some results and call fit() first")
        x = np.stack([self.space.encode_paths(arch, self.max_path_length) for arch in archs])
        with threadpool_limits(limits=1, user_api="blas"):
            predictions = self.ensemble.predict(x)  # (members, n)
        return predictions.mean(axis=0), predictions.std(axis=0)

    def candidate_pool(self) -> list[Arch]:
        """New cells made by mutating the best ones (naszilla's ``get_candidates``, "mutation")."""
        ranked = sorted((pair for pair in self.history if pair[1] > float("-inf")), key=lambda p: -p[1])
        seen, pool = set(self._queried), []
        for parent, _ in ranked[:_PARENTS]:
            if len(pool) >= self.candidates:
                break
            for _ in range(self.candidates):
                child = mutate_each_edge(parent, self.rng)
                if child not in seen:
                    seen.add(child)
                    pool.append(child)
        return pool

    def _next_batch(self) -> list[Arch]:
        """One turn of Alg. 1's loop: fit, make candidates, keep the ``k`` best by independent Thompson sampling."""
        self.fit()
        pool = self.candidate_pool()
        if not pool:
            return []
        mean, std = self.predict(pool)
        draws = self.ensemble.rng.normal(mean, std)  # one independent draw per candidate
        return [pool[i] for i in np.argsort(draws, kind="stable")[: self.k]]  # lowest predicted error first

    def _propose(self, arch: Arch) -> Proposal:
        self._queried.add(arch)
        self._pending.append(arch)
        return Proposal(arch)

    def settings(self) -> dict:
        return {**super().settings(), "initial": self.initial, "k": self.k, "candidates": self.candidates,
                "max_path_length": self.max_path_length}
