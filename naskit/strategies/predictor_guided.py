"""Predictor-guided search: a cheap, one-evaluation-at-a-time relative of BANANAS.

The loop of White, Neiswanger & Savani (AAAI 2021), "BANANAS", Algorithm 1: after a few random
cells, each step (1) fits an ensemble of predictors to every (cell, score) seen so far,
(2) generates candidates by mutating the best cells, and (3) evaluates the candidate that
maximizes an acquisition function of the ensemble's mean and spread. This is *not* BANANAS
(that is ``naskit.strategies.bananas``); it changes every ingredient to be fast and simple:

* cells are encoded one-hot per edge (``NB201Space.encode``, 30 numbers), not by paths;
* the predictors are random-feature ReLU nets whose output layer is fit by ridge regression
  in closed form (or scikit-learn MLPs), not five 10-layer MLPs trained 150 epochs on MAE;
* candidates are 90 single-edge mutations, round-robin over the 10 best cells, plus 10 random
  cells, not about 100 mutations of the best cell with each edge changed with probability 1/4;
* it refits after every result and proposes one cell per fit, not 10 per fit.

Each step costs well under a millisecond, so it suits parallel workers and quick lessons.
"""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import ThreadpoolController

from naskit.core.space import NUM_EDGES, OPS, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.random_search import sample_new

ACQUISITIONS = ("its", "ucb")
PREDICTORS = ("random_mlp", "mlp")
_PARENTS = 10            # candidates mutate the 10 best cells seen so far
_RANDOM_SHARE = 0.1      # ... and 10% of them are fresh random cells, to keep exploring
_HIDDEN = 64             # hidden units of each predictor
_RIDGE = 1.0             # L2 penalty of the random_mlp output layer (targets are standardized)


class PredictorGuided(Strategy):
    """Model-based search: an ensemble of cheap predictors picks each next cell (not BANANAS; see the module).

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds ``self.rng`` (random cells, mutations) and ``self.np_rng`` (predictors, ITS).
        initial: how many random cells to evaluate before the predictors take over.
        candidates: how many candidate cells each step scores with the ensemble.
        ensemble: how many predictors; their disagreement is the uncertainty.
        acquisition: ``"its"`` draws one sample per candidate from N(mean, std) and takes the
            largest (independent Thompson sampling); ``"ucb"`` takes mean + ucb_beta * std.
        ucb_beta: the exploration weight of ``"ucb"``.
        predictor: ``"random_mlp"`` (default) is a one-hidden-layer ReLU net whose hidden layer
            is random and fixed and whose output layer is fit by ridge regression in closed
            form: each fit takes well under a millisecond. ``"mlp"`` trains scikit-learn's
            ``MLPRegressor`` (one hidden layer of 64, L-BFGS): fully trained nets like BANANAS's,
            though much smaller; better fits, tens of milliseconds per member per step.

    A failed evaluation is fit as the worst score seen so far (it cannot be fit as -inf), is
    never a parent, and, like every evaluated or pending cell, is never proposed again.
    The predictors are refit lazily, at the first ``ask`` after new results.

    Example:
        >>> strategy = PredictorGuided(seed=0, initial=10, acquisition="its")
        >>> proposal = strategy.ask()  # random for the first 10 asks
    """

    name = "predictor_guided"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, initial: int = 10,
                 candidates: int = 100, ensemble: int = 5, acquisition: str = "its",
                 ucb_beta: float = 1.0, predictor: str = "random_mlp"):
        super().__init__(space, seed)
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"unknown acquisition {acquisition!r}; allowed: {', '.join(ACQUISITIONS)}")
        if predictor not in PREDICTORS:
            raise ValueError(f"unknown predictor {predictor!r}; allowed: {', '.join(PREDICTORS)}")
        for arg, value, low in (("initial", initial, 1), ("candidates", candidates, 1), ("ensemble", ensemble, 2)):
            if value < low:
                raise ValueError(f"{arg} must be at least {low}, got {value}")
        self.initial, self.candidates, self.ensemble = initial, candidates, ensemble
        self.acquisition, self.ucb_beta, self.predictor = acquisition, ucb_beta, predictor
        self.np_rng = np.random.default_rng(seed)
        self.history: list[tuple[Arch, float]] = []  # (cell, score) in tell order; failures at -inf
        self._pending: list[Arch] = []
        self._asked = 0
        # drawn once, so that a refit depends on the data alone, never on when it ran
        self.predictors = make_ensemble(predictor, ensemble, self.np_rng)
        self._x: list[np.ndarray] = []  # encodings of history's cells, shape (30,) each
        self._fitted_on = 0  # len(history) when the ensemble was last fit
        self._y_mean, self._y_std = 0.0, 1.0
        self._blas: ThreadpoolController | None = None  # made on first use; see _one_blas_thread

    def ask(self) -> Proposal:
        self._asked += 1
        seen = {arch for arch, _ in self.history} | set(self._pending)
        ok = [score for _, score in self.history if score > float("-inf")]
        if self._asked <= self.initial or len(ok) < 2:
            return self._propose(sample_new(self.space, self.rng, seen))
        pool = self._candidate_pool(seen)
        if not pool:
            return self._propose(sample_new(self.space, self.rng, seen))
        mean, std = self.predict(pool)
        if self.acquisition == "its":
            value = self.np_rng.normal(mean, std)
        else:
            value = mean + self.ucb_beta * std
        return self._propose(pool[int(np.argmax(value))])

    def tell(self, proposal: Proposal, result: Result) -> None:
        if proposal.arch in self._pending:
            self._pending.remove(proposal.arch)
        self.history.append((proposal.arch, result.score))
        self._x.append(self.space.encode(proposal.arch))

    def predict(self, archs: list[Arch]) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and standard deviation of the predicted score, each of shape ``(len(archs),)``."""
        if not any(score > float("-inf") for _, score in self.history):
            raise ValueError("the predictors need at least one successful result; tell() some first")
        with self._one_blas_thread():
            if self._fitted_on != len(self.history):
                self._fit()
            preds = self.predictors.predict(self.space.encode_many(archs))  # (ensemble, n)
        return self._y_mean + self._y_std * preds.mean(0), self._y_std * preds.std(0)

    def _one_blas_thread(self):
        """Matrices this small only lose from BLAS threads, badly so when evaluators busy the cores."""
        if self._blas is None:
            self._blas = ThreadpoolController()
        return self._blas.limit(limits=1, user_api="blas")

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_blas": None}  # a handle on loaded C libraries, not search state

    def _fit(self) -> None:
        y = np.array([score for _, score in self.history])
        finite = np.isfinite(y)
        y[~finite] = y[finite].min()  # a failure is fit as the worst outcome seen
        self._y_mean, self._y_std = y.mean(), y.std() + 1e-8
        y = (y - self._y_mean) / self._y_std
        self.predictors.fit(np.stack(self._x), y)
        self._fitted_on = len(self.history)

    def _candidate_pool(self, seen: set[Arch]) -> list[Arch]:
        """Mutations of the best cells seen so far plus some random cells, all never evaluated."""
        ranked = sorted((pair for pair in self.history if pair[1] > float("-inf")), key=lambda p: -p[1])
        parents = [arch for arch, _ in ranked[:_PARENTS]]
        n_random = round(_RANDOM_SHARE * self.candidates)
        pool = [self.space.mutate(parents[k % len(parents)], self.rng) for k in range(self.candidates - n_random)]
        pool += [self.space.sample(self.rng) for _ in range(n_random)]
        return [arch for arch in dict.fromkeys(pool) if arch not in seen]  # dedup, keep order

    def _propose(self, arch: Arch) -> Proposal:
        self._pending.append(arch)
        return Proposal(arch)

    def settings(self) -> dict:
        return {**super().settings(), "initial": self.initial, "candidates": self.candidates,
                "ensemble": self.ensemble, "acquisition": self.acquisition, "ucb_beta": self.ucb_beta,
                "predictor": self.predictor}


def make_ensemble(kind: str, size: int, rng: np.random.Generator):
    """An unfitted ensemble of ``size`` predictors of a ``PREDICTORS`` kind, with ``fit(x, y)`` and
    ``predict(x) -> (size, n)``; ``rng`` draws its random weights or seeds."""
    if kind not in PREDICTORS:
        raise ValueError(f"unknown predictor {kind!r}; allowed: {', '.join(PREDICTORS)}")
    return RandomReLUEnsemble(size, rng) if kind == "random_mlp" else SklearnMLPEnsemble(size, rng)


class RandomReLUEnsemble:
    """``size`` one-hidden-layer ReLU nets; the hidden layers are random and fixed, and only the
    output layers are fit, by ridge regression in closed form (a random-features model)."""

    def __init__(self, size: int, rng: np.random.Generator, inputs: int = NUM_EDGES * len(OPS)):
        self.w_in = rng.normal(size=(size, inputs, _HIDDEN))  # (members, 30, hidden)
        self.b_in = rng.normal(size=(size, 1, _HIDDEN))
        self.w_out = np.zeros((size, _HIDDEN + 1))

    def _features(self, x: np.ndarray) -> np.ndarray:
        """ReLU features plus a constant: ``x`` (n, 30) -> (members, n, hidden + 1)."""
        h = np.maximum(x @ self.w_in + self.b_in, 0.0)
        return np.concatenate([h, np.ones(h.shape[:2] + (1,))], axis=2)

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        h = self._features(x)
        gram = h.transpose(0, 2, 1) @ h + _RIDGE * np.eye(h.shape[2])  # (members, hidden+1, hidden+1)
        self.w_out = np.linalg.solve(gram, (h.transpose(0, 2, 1) @ y)[..., None])[..., 0]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions of every member: shape (members, n)."""
        return (self._features(x) @ self.w_out[..., None])[..., 0]


class SklearnMLPEnsemble:
    """``size`` scikit-learn ``MLPRegressor``s trained by L-BFGS from different initial weights."""

    def __init__(self, size: int, rng: np.random.Generator):
        self.seeds = [int(s) for s in rng.integers(2**31, size=size)]
        self.models: list = []

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.models = [MLPRegressor(hidden_layer_sizes=(_HIDDEN,), solver="lbfgs", max_iter=200,
                                        random_state=seed).fit(x, y) for seed in self.seeds]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.stack([model.predict(x) for model in self.models])
