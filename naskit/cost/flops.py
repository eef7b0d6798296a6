"""What a network and a training run cost: parameters, FLOPs, seconds, energy.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode``, which counts
convolutions and matrix multiplies and counts **one multiply-add as 2 FLOPs**
(elementwise ops, bias adds, normalisation and pooling are not counted, the usual convention).
NAS-Bench-201 counts differently (1 per multiply-add, the classifier's bias, every edge's op,
dead or live): ``naskit.cost.nb201`` gives FLOPs and parameters in its convention.

Energy is *estimated* offline from CPU and wall seconds with a documented model
(``estimate_energy``), or *measured* with codecarbon when the ``energy`` extra is installed
(``measure_energy``). ``Cost`` bundles a run's FLOPs, seconds and energy and adds up.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def forward_flops(model: nn.Module, example: torch.Tensor) -> int:
    """FLOPs (2 per multiply-add) of one forward pass on the batch ``example``.

    Measured on a copy in eval mode, so the model's weights and BN statistics are untouched.
    """
    probe = copy.deepcopy(model).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        probe(example)
    return int(counter.get_total_flops())


def train_step_flops(model: nn.Module, example: torch.Tensor, targets: torch.Tensor) -> int:
    """FLOPs (2 per multiply-add) of one forward + backward pass of the cross-entropy loss."""
    probe = copy.deepcopy(model).train()
    with FlopCounterMode(display=False) as counter:
        nn.functional.cross_entropy(probe(example), targets).backward()
    return int(counter.get_total_flops())


