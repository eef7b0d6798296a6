"""DARTS-: an auxiliary skip connection against DARTS's collapse (Chu et al., ICLR 2021).

DARTS tends to fill its cells with ``skip_connect`` as the search goes on (Zela et al. 2020;
NAS-Bench-201 reports it on all three of its datasets). Chu et al. argue that a skip
connection has an *unfair advantage* in the mixture: it helps the supernet train (a residual
path for the gradient), so its weight grows for that reason rather than because the cell
needs it. DARTS- adds, on every edge, an auxiliary skip connection ``beta * x`` outside the
softmax, which provides that residual path regardless of ``alpha``, and lets ``beta`` decay
as the search goes on, so that by the end the supernet is nearly plain DARTS's.

Since ``skip_connect`` is the identity, ``beta * x + sum_o softmax(alpha)_o * o(x)`` is the
DARTS mixture with weights ``softmax(alpha) + beta * [op is skip_connect]``, so DARTS- needs
no change to the supernet: only the weights it gets differ.

The schedule is the reference's (Meituan-AutoML/DARTS-: ``MixedOp.forward`` in
``src/search/model_search.py`` adds ``auxiliary_op(x) * decay_rate``, and
``scripts/run_darts_minus.sh`` runs ``--decay linear`` with ``--skip_beta 1``, so
``DecayScheduler`` in ``src/utils.py``, stepped once at the start of every epoch, gives):
``beta = (T - e) / T`` in epoch ``e = 0 .. T-1`` of ``T`` (the reference's ``decay_max_epoch``
and ``epochs`` are both 50), constant within an epoch: 1 in the first epoch, ``1/T`` in the
last, never 0. It is recorded per epoch as ``schedule["beta"]``.

Everything else is naskit's first-order DARTS loop (``darts.bilevel_search``, NB201's order:
a weight step, then an ``alpha`` step). The DARTS- repository's search script, written for
DARTS's space, takes the ``alpha`` step first (DARTS's order) and anneals the weights'
learning rate per epoch; on NAS-Bench-201 naskit keeps one loop for DARTS, DARTS- and DARTS+,
so that the auxiliary skip is the only difference between them.

Example:
    >>> from naskit import load_dataset
    >>> result = search_darts_minus(load_dataset("mnist1d").subset(128), OneShotConfig(epochs=2, channels=4))
    >>> [log.schedule["beta"] for log in result.history]
    [1.0, 0.5]
"""

from __future__ import annotations

import torch

from naskit.data import Dataset
from naskit.oneshot.common import SKIP
from naskit.oneshot.config import OneShotConfig, OneShotResult
from naskit.oneshot.darts import Mixture, Step, bilevel_search


class AuxiliarySkip(Mixture):
    """DARTS's mixture plus ``beta * x`` on every edge, ``beta = (epochs - e) / epochs`` in epoch ``e``."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def beta(self, step: Step) -> float:
        return (self.epochs - step.epoch) / self.epochs  # DARTS-'s linear DecayScheduler, per epoch

    def mode(self, alpha, step, generator):
        aux = torch.zeros_like(alpha)
        aux[:, SKIP] = self.beta(step)  # (6, 5): beta in the skip_connect column
        return {"weights": alpha.softmax(dim=-1) + aux}

    def schedule(self, step: Step) -> dict[str, float]:
        return {"beta": self.beta(step)}


def search_darts_minus(data: Dataset, config: OneShotConfig | None = None) -> OneShotResult:
    """DARTS- on ``data``: first-order DARTS with a decaying auxiliary skip on every edge.

    Args and returns as ``search_darts``; ``history[e].schedule["beta"]`` is the coefficient
    in epoch e (constant within it), and ``supernet_valid_acc`` includes the auxiliary skip.
    """
    config = config or OneShotConfig()
    return bilevel_search("darts-", data, config, AuxiliarySkip(config.epochs))
