"""DARTS-: an auxiliary skip connection against DARTS's collapse (Chu et al., ICLR 2021).

DARTS tends to fill its cells with ``skip_connect`` as the search goes on (Zela et al. 2020;
NAS-Bench-201 reports it on all three of its datasets). Chu et al. argue that a skip
connection has an *unfair advantage* in the mixture: it helps the supernet train (a residual
path for the gradient), so its weight grows for that reason rather than because the cell
needs it. DARTS- adds, on every edge, an auxiliary skip connection ``beta * x`` outside the
softmax, which provides that residual path regardless of ``alpha``; ``beta`` decays linearly
from 1 to 0, so by the end the supernet is plain DARTS's and the derived cell means the same.

Since ``skip_connect`` is the identity, ``beta * x + sum_o softmax(alpha)_o * o(x)`` is the
DARTS mixture with weights ``softmax(alpha) + beta * [op is skip_connect]``, so DARTS- needs
no change to the supernet: only the weights it gets differ. ``beta`` decays per step, from
1 at the first step to 0 at the last, and is recorded per epoch as ``schedule["beta"]``.

Example:
    >>> from naskit import load_dataset
    >>> result = search_darts_minus(load_dataset("mnist1d").subset(128), OneShotConfig(epochs=2, channels=4))
    >>> [round(log.schedule["beta"], 2) for log in result.history]
    [0.67, 0.0]
"""

from __future__ import annotations

import torch

from naskit.data import Dataset
from naskit.oneshot.common import SKIP
from naskit.oneshot.config import OneShotConfig, OneShotResult
from naskit.oneshot.darts import Mixture, Step, bilevel_search


class AuxiliarySkip(Mixture):
    """DARTS's mixture plus ``beta * x`` on every edge, ``beta`` decaying linearly to 0."""

    def beta(self, step: Step) -> float:
        return 1.0 - step.index / max(step.total - 1, 1)  # 1 at the first step, 0 at the last

    def mode(self, alpha, step, generator):
        aux = torch.zeros_like(alpha)
        aux[:, SKIP] = self.beta(step)  # (6, 5): beta in the skip_connect column
        return {"weights": alpha.softmax(dim=-1) + aux}

    def schedule(self, step: Step) -> dict[str, float]:
        return {"beta": self.beta(step)}


def search_darts_minus(data: Dataset, config: OneShotConfig | None = None) -> OneShotResult:
    """DARTS- on ``data``: first-order DARTS with a decaying auxiliary skip on every edge.

    Args and returns as ``search_darts``; ``history[e].schedule["beta"]`` is the coefficient
    at the end of epoch e, and ``supernet_valid_acc`` includes the auxiliary skip.
    """
    return bilevel_search("darts-", data, config, AuxiliarySkip())
