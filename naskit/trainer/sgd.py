"""The optimizer and the learning-rate schedule of naskit's trainer."""

from __future__ import annotations

import math

import torch
from torch import nn

from naskit.core.configs import TrainConfig


class FlatSGD(torch.optim.Optimizer):
    """SGD with momentum (and Nesterov) on one flat buffer holding every parameter.

    The same arithmetic, in the same order, as ``torch.optim.SGD(foreach=True)`` (so the
    results are bit-identical; ``tests/test_train.py`` checks it), but each step is 4 kernel
    calls on one buffer instead of 4 per parameter tensor: on a CPU, foreach ops loop over the
    tensors, and a small NB201 network has ~50 of them. Parameters become views into
    ``self.flat`` and their gradients views into ``self.flat_grad``; ``zero_grad`` zeroes that
    buffer in place, so backward accumulates into it.
    """

    def __init__(self, params, lr: float, momentum: float, weight_decay: float, nesterov: bool):
        params = list(dict.fromkeys(p for p in params if p.requires_grad))
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))
        first = params[0]
        self.flat = torch.empty(sum(p.numel() for p in params), dtype=first.dtype, device=first.device)
        self.flat_grad = torch.zeros_like(self.flat)
        offset = 0
        for p in params:
            n = p.numel()
            self.flat[offset:offset + n].copy_(p.detach().reshape(-1))
            p.data = self.flat[offset:offset + n].view_as(p)
            p.grad = self.flat_grad[offset:offset + n].view_as(p)
            offset += n
        self.momentum_buffer: torch.Tensor | None = None

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.flat_grad.zero_()  # the views must survive: never set to None

    @torch.no_grad()
    def step(self, closure=None) -> None:
        group = self.param_groups[0]
        d = torch.add(self.flat_grad, self.flat, alpha=group["weight_decay"])
        if self.momentum_buffer is None:
            self.momentum_buffer = torch.clone(d).detach()
        else:
            self.momentum_buffer.mul_(group["momentum"])
            self.momentum_buffer.add_(d, alpha=1)
        if group["nesterov"]:
            d.add_(self.momentum_buffer, alpha=group["momentum"])
        else:
            d = self.momentum_buffer
        self.flat.add_(d, alpha=-group["lr"])


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    params = [p for p in model.parameters() if p.requires_grad]
    if config.momentum > 0 and params and all(p.is_contiguous() and p.dtype == params[0].dtype for p in params):
        return FlatSGD(params, config.lr, config.momentum, config.weight_decay, config.nesterov)
    return torch.optim.SGD(
        model.parameters(), lr=config.lr, momentum=config.momentum,
        weight_decay=config.weight_decay, nesterov=config.nesterov, foreach=True,
    )


def make_schedule(opt: torch.optim.Optimizer, config: TrainConfig, n_train: int):
    """The learning-rate schedule, stepped once per minibatch."""
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    # Cosine annealing per step, from lr to 0 over the whole run (Loshchilov & Hutter 2017).
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * steps_per_epoch)
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)
