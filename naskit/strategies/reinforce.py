"""REINFORCE: a policy-gradient controller over the six edges' ops.

Williams (Machine Learning 1992), "Simple statistical gradient-following algorithms for
connectionist reinforcement learning": move the policy's parameters along
(reward - baseline) * grad log pi(action). Zoph & Le (ICLR 2017) used it to train an RNN
controller for NAS; NAS-Bench-201's REINFORCE baseline (Dong & Yang 2020) keeps it simple, as
here: one independent softmax per edge over the 5 ops, an exponential-moving-average
baseline (momentum 0.9) and Adam on the logits (NATS-Bench ran it with learning rate 0.01).
"""

from __future__ import annotations

import numpy as np

from naskit.core.space import EDGES, OPS, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy

# Adam's usual constants (Kingma & Ba 2015); NB201 uses torch.optim.Adam's defaults.
_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8


class REINFORCE(Strategy):
    """Sample cells from a learned distribution and reinforce the ops of good ones.

    The policy is a ``(6, 5)`` array of logits, one softmax per edge; ``probabilities()`` gives
    pi(op | edge). After each result, reward = ``valid_acc`` (a failed evaluation earns reward
    0, the worst outcome, so its ops become less likely), the baseline b is updated first and
    then each edge's logits take an Adam step along (reward - b) * (onehot(op) - pi(edge)),
    which is the gradient of (reward - b) * log pi(cell).

    The baseline is NB201's bias-corrected moving average: numerator and denominator both
    decay by ``baseline_decay``, so the first reward is the baseline itself (advantage 0).

    With parallel workers the gradient of a result is taken at the current policy, not the one
    that sampled it (a small, standard off-policy approximation).

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the strategy's ``numpy.random.Generator`` (``self.np_rng``), which draws the ops.
        learning_rate: Adam's step size on the logits.
        baseline_decay: momentum of the moving-average baseline.

    Example:
        >>> strategy = REINFORCE(seed=0)
        >>> strategy.probabilities().shape   # 6 edges x 5 ops, uniform at first
        (6, 5)
    """

    name = "reinforce"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *,
                 learning_rate: float = 0.01, baseline_decay: float = 0.9):
        super().__init__(space, seed)
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        if not 0 <= baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay}")
        self.learning_rate = learning_rate
        self.baseline_decay = baseline_decay
        self.np_rng = np.random.default_rng(seed)
        self.logits = np.zeros((len(EDGES), len(OPS)))  # uniform policy
        self._adam_m = np.zeros_like(self.logits)
        self._adam_v = np.zeros_like(self.logits)
        self._steps = 0
        self._ema_num = self._ema_den = 0.0

    @property
    def baseline(self) -> float:
        """The moving-average reward (0 before any result)."""
        return self._ema_num / self._ema_den if self._ema_den else 0.0

    def probabilities(self) -> np.ndarray:
        """pi(op | edge): shape ``(6, 5)``, rows sum to 1, ops in ``OPS`` order."""
        z = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def ask(self) -> Proposal:
        probs = self.probabilities()
        ops = tuple(OPS[self.np_rng.choice(len(OPS), p=row)] for row in probs)
        return Proposal(Arch(ops))

    def tell(self, proposal: Proposal, result: Result) -> None:
        reward = result.score if result.score > float("-inf") else 0.0  # a failure earns 0
        d = self.baseline_decay
        self._ema_num = d * self._ema_num + (1 - d) * reward
        self._ema_den = d * self._ema_den + (1 - d)
        advantage = reward - self.baseline
        # grad of log pi(cell) w.r.t. each edge's logits: onehot(chosen op) - pi(edge); shape (6, 5)
        grad = -self.probabilities()
        grad[np.arange(len(EDGES)), [OPS.index(op) for op in proposal.arch.ops]] += 1.0
        self._adam_ascent(advantage * grad)

    def _adam_ascent(self, grad: np.ndarray) -> None:
        """One Adam step *up* the gradient (Kingma & Ba 2015, Alg. 1)."""
        self._steps += 1
        self._adam_m = _BETA1 * self._adam_m + (1 - _BETA1) * grad
        self._adam_v = _BETA2 * self._adam_v + (1 - _BETA2) * grad**2
        m_hat = self._adam_m / (1 - _BETA1**self._steps)
        v_hat = self._adam_v / (1 - _BETA2**self._steps)
        self.logits += self.learning_rate * m_hat / (np.sqrt(v_hat) + _EPS)

    def settings(self) -> dict:
        return {**super().settings(), "learning_rate": self.learning_rate, "baseline_decay": self.baseline_decay}
