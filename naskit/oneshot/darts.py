"""DARTS: Differentiable Architecture Search (Liu et al., ICLR 2019), first order.

Each edge of the supernet computes a mixture of all ops, weighted by ``softmax(alpha)``
(Sec. 2.2); ``alpha`` (6 edges x 5 ops, shared by every cell, as in NAS-Bench-201) is
learned by gradient descent on the *validation* loss while the weights ``w`` learn on the
*training* loss: a bilevel problem, solved approximately by alternating one step of each
(Alg. 1). This is the **first-order** approximation (Sec. 2.3 with xi = 0: the architecture
gradient ignores how ``w`` would react to a change of ``alpha``), which NAS-Bench-201 runs as
"DARTS-V1"; the second-order (unrolled) variant is not implemented here.

The alternating loop, ``bilevel_search``, is shared with GDAS and DARTS-: they differ only in
how ``alpha`` becomes the supernet's mode for a step (a ``Relaxation``). Its order follows
NAS-Bench-201's code (weights first, then ``alpha``), and ``alpha`` starts at
``1e-3 * randn`` (from the search's own generator). After each epoch the derived cell is the
argmax of ``alpha`` on every edge, ``none`` included (``common.derive``).

Example:
    >>> from naskit import load_dataset
    >>> result = search_darts(load_dataset("mnist1d").subset(128), OneShotConfig(epochs=1, channels=4))
    >>> len(result.history), result.history[-1].arch == str(result.arch)
    (1, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from naskit.core.space import NUM_EDGES, OPS
from naskit.cost.stopwatch import Stopwatch
from naskit.data import Dataset
from naskit.oneshot.common import OneShotRun, derive, skip_share
from naskit.oneshot.config import EpochLog, OneShotConfig, OneShotResult
from naskit.runtime.threads import threads_set


@dataclass(frozen=True)
class Step:
    """Where a search is: ``epoch`` and ``index`` count from 0, ``total`` steps in all."""

    epoch: int
    index: int
    total: int


class Relaxation:
    """How the architecture logits ``alpha`` (6, 5) become the supernet's mode for one step.

    ``mode`` returns the keywords of ``SuperNet.forward`` (``weights=`` or ``hard=``);
    given a detached ``alpha`` it drives a weight step, given ``alpha`` itself the gradient
    of the loss reaches ``alpha``. ``schedule`` names the annealed knobs, for the history.
    """

    def mode(self, alpha: torch.Tensor, step: Step, generator: torch.Generator) -> dict:
        raise NotImplementedError

    def schedule(self, step: Step) -> dict[str, float]:
        return {}


class Mixture(Relaxation):
    """DARTS's continuous relaxation: edge output ``sum_o softmax(alpha)_o * o(x)`` (Eq. 2)."""

    def mode(self, alpha, step, generator):
        return {"weights": alpha.softmax(dim=-1)}


def search_darts(data: Dataset, config: OneShotConfig | None = None) -> OneShotResult:
    """First-order DARTS on ``data``: weights on ``x_train``, ``alpha`` on ``x_valid``.

    Args:
        data: a ``Dataset``; its test split is never touched.
        config: the ``OneShotConfig`` (defaults: DARTS's optimizers, a CPU-sized supernet).

    Returns:
        A ``OneShotResult`` whose ``arch`` is the argmax cell after the last epoch.
    """
    return bilevel_search("darts", data, config, Mixture())


def bilevel_search(method: str, data: Dataset, config: OneShotConfig | None, relax: Relaxation,
                   stop: Callable[[EpochLog], bool] | None = None) -> OneShotResult:
    """Alternate weight steps and architecture steps (Liu et al. 2019, Alg. 1, first order).

    ``stop(log)``, checked after every epoch, ends the search early when it returns True.
    """
    config = config or OneShotConfig()
    history: list[EpochLog] = []
    with threads_set(config.threads), Stopwatch() as watch:
        run = OneShotRun(data, config)
        alpha = init_alpha(run)
        a_opt = arch_optimizer(alpha, config)
        for epoch in range(config.epochs):
            history.append(_epoch(run, alpha, a_opt, relax, epoch))
            if stop is not None and stop(history[-1]):
                break
    stopped = len(history) < config.epochs
    return OneShotResult(
        method, derive(alpha), config, history, stopped_early=stopped,
        wall_seconds=watch.wall_seconds, cpu_seconds=watch.cpu_seconds,
        search_flops=run.search_flops, eval_flops=run.eval_flops, supernet=run.supernet,
        eval_wall_seconds=run.eval_watch.wall_seconds, eval_cpu_seconds=run.eval_watch.cpu_seconds,
    )


def init_alpha(run: OneShotRun) -> torch.Tensor:
    """Architecture logits (6, 5) near zero, every op equally likely (Liu et al.; NB201: 1e-3 * randn)."""
    alpha = (1e-3 * torch.randn(NUM_EDGES, len(OPS), generator=run.generator)).to(run.device)
    return alpha.requires_grad_(True)


def arch_optimizer(alpha: torch.Tensor, config: OneShotConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam([alpha], lr=config.arch_lr, betas=config.arch_betas,
                            weight_decay=config.arch_weight_decay)


def arch_step(run: OneShotRun, alpha: torch.Tensor, a_opt: torch.optim.Optimizer, mode: dict) -> float:
    """One Adam step of ``alpha`` on a validation batch, the supernet's weights held fixed.

    Only ``alpha``'s gradient is computed (``backward(inputs=...)``); ``mode`` must have been
    made from ``alpha`` itself, not a detached copy. Returns the batch's loss.
    """
    v = run.valid_batch()
    loss = run.loss(run.xv[v], run.yv[v], mode)
    a_opt.zero_grad(set_to_none=True)
    loss.backward(inputs=[alpha])
    a_opt.step()
    return loss.item()


def _epoch(run: OneShotRun, alpha: torch.Tensor, a_opt: torch.optim.Optimizer, relax: Relaxation,
           epoch: int) -> EpochLog:
    """One pass over the training split, one architecture step after each weight step."""
    g = run.generator
    w_losses, a_losses = [], []
    for i, idx in enumerate(run.train_batches()):
        step = Step(epoch, epoch * run.steps_per_epoch + i, run.total_steps)
        w_losses.append(run.weight_step(idx, relax.mode(alpha.detach(), step, g)))  # alpha fixed
        a_losses.append(arch_step(run, alpha, a_opt, relax.mode(alpha, step, g)))
    arch = derive(alpha)
    with torch.no_grad():
        weights = alpha.softmax(dim=-1).tolist()
    return EpochLog(
        epoch=epoch + 1,
        train_loss=sum(w_losses) / len(w_losses),
        arch_loss=sum(a_losses) / len(a_losses),
        valid_acc=run.valid_accuracy(lambda: {"arch": arch}),
        supernet_valid_acc=run.valid_accuracy(lambda: relax.mode(alpha.detach(), step, g)),
        arch=str(arch),
        arch_weights=weights,
        skip_share=skip_share(arch),
        schedule={"w_lr": run.w_lr, **relax.schedule(step)},
        search_flops=run.search_flops, eval_flops=run.eval_flops,  # after the evaluations above
    )
