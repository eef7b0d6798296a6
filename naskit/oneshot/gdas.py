"""GDAS: Gradient-based search using Differentiable Architecture Sampler (Dong & Yang, CVPR 2019).

Instead of DARTS's mixture of every op, each forward pass *samples* one op per edge from
``softmax(alpha)`` with the Gumbel-max trick and runs only that single path, so a step costs
about as much as training one cell. To get a gradient to ``alpha`` through the discrete
choice, GDAS uses the straight-through Gumbel-softmax estimator: the forward pass uses the
one-hot sample ``h``, the backward pass the gradient of the soft sample
``softmax((log_softmax(alpha) + gumbel) / tau)``, i.e. ``h = one_hot - p.detach() + p``.
The temperature ``tau`` falls linearly per epoch from ``tau_max`` = 10 to ``tau_min`` = 0.1,
as in NAS-Bench-201's GDAS runs; low ``tau`` makes the soft sample nearly one-hot.

The rest is DARTS's alternating loop (``darts.bilevel_search``): weights on training
batches, ``alpha`` on validation batches, each step with a fresh sample; the derived cell is
the argmax of ``alpha`` per edge, ``none`` included.

Which entries of ``h`` get a gradient is the one place where implementations differ. The
reference is NAS-Bench-201's GDAS (``exps/NAS-Bench-201-algos/GDAS.py``, whose cells run
``forward_gdas`` in ``lib/models/cell_searchs/search_cells.py``; NATS-Bench's ``--algo gdas``
in ``exps/NATS-algos/search-cell.py`` runs the same function): each edge outputs
``sum_o (h[o] * o(x) if o is chosen else h[o])``. The unchosen entries are 0 in value, so
the output is the chosen op's, but each of them gets the gradient ``sum(dL/d node)`` of the
node the edge feeds, so the logits of the ops that did not run learn from it too. That is
naskit's default (``gdas_variant="gdas"``). ``gdas_variant="gdas_v1"`` is the variant the
repository added in 2022 (``forward_gdas_v1``, for its issue #119): only the chosen op,
scaled by ``h[chosen]``, so only that entry gets a gradient, which the straight-through
estimator then spreads over the edge's logits.

One detail differs from NB201's code, with the same values and gradients under the default
BN options (no affine, no running statistics): an edge whose chosen op is ``none``, or that
is cut off from the cell's input or output, does not run here (NB201 runs it on zeros, or
multiplies its output by zero; see ``SuperCell.single_path``).

Example:
    >>> from naskit import load_dataset
    >>> result = search_gdas(load_dataset("mnist1d").subset(128), OneShotConfig(epochs=2, channels=4))
    >>> [log.schedule["tau"] for log in result.history]
    [10.0, 0.1]
"""

from __future__ import annotations

import torch

from naskit.data import Dataset
from naskit.oneshot.config import OneShotConfig, OneShotResult
from naskit.oneshot.darts import Relaxation, Step, bilevel_search


class GumbelHard(Relaxation):
    """A straight-through Gumbel-softmax sample of one op per edge, at an annealed temperature.

    ``add_unchosen``: the mode adds the unchosen entries of the sample to every edge's output
    (NB201's ``forward_gdas``, the default); ``False`` scales the chosen ops only (``forward_gdas_v1``).
    """

    def __init__(self, tau_max: float, tau_min: float, epochs: int, add_unchosen: bool = True):
        self.tau_max, self.tau_min, self.epochs = tau_max, tau_min, epochs
        self.add_unchosen = add_unchosen

    def tau(self, epoch: int) -> float:
        """Linear in the epoch (0-based): ``tau_max`` in the first, ``tau_min`` in the last."""
        frac = epoch / max(self.epochs - 1, 1)
        return (1 - frac) * self.tau_max + frac * self.tau_min  # exact at both ends

    def mode(self, alpha, step, generator):
        tau = self.tau(step.epoch)
        while True:  # as NB201: redraw in the (rare) case exponential() gives 0 and log gives inf
            gumbel = -torch.empty(alpha.shape).exponential_(generator=generator).log().to(alpha.device)
            probs = ((alpha.log_softmax(dim=-1) + gumbel) / tau).softmax(dim=-1)  # (6, 5)
            if torch.isfinite(probs).all():
                break
        one_hot = torch.zeros_like(probs).scatter_(1, probs.detach().argmax(dim=1, keepdim=True), 1.0)
        hard = one_hot - probs.detach() + probs  # value: one_hot; gradient: probs'
        return {"hard": hard, "add_unchosen": self.add_unchosen}

    def schedule(self, step: Step) -> dict[str, float]:
        return {"tau": self.tau(step.epoch)}


def search_gdas(data: Dataset, config: OneShotConfig | None = None) -> OneShotResult:
    """GDAS on ``data``: single sampled paths, straight-through gradients to ``alpha``.

    Args:
        data: a ``Dataset``; weights learn on ``x_train``, ``alpha`` on ``x_valid``.
        config: the ``OneShotConfig``; ``tau_max`` and ``tau_min`` set the temperature,
            ``gdas_variant`` which entries of the sample get a gradient (see the module
            docstring): ``"gdas"`` (NB201's ``forward_gdas``, default) or ``"gdas_v1"``.

    Returns:
        A ``OneShotResult``; ``history[e].schedule["tau"]`` is epoch e's temperature, and
        ``supernet_valid_acc`` the accuracy with a fresh sample per validation batch.
    """
    config = config or OneShotConfig()
    relax = GumbelHard(config.tau_max, config.tau_min, config.epochs,
                       add_unchosen=config.gdas_variant == "gdas")
    return bilevel_search("gdas", data, config, relax)
