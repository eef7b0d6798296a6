"""What a network and a training run cost: parameters, FLOPs, seconds, energy.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode``, which counts
convolutions and matrix multiplies and counts **one multiply-add as 2 FLOPs**
(elementwise ops, normalisation and pooling are not counted, the usual convention).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

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


@dataclass
class Stopwatch:
    """Measures wall seconds and this process's CPU seconds of a ``with`` block.

    Example:
        >>> with Stopwatch() as sw:
        ...     _ = sum(range(1000))
        >>> sw.wall_seconds >= 0 and sw.cpu_seconds >= 0
        True
    """

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __enter__(self) -> "Stopwatch":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_seconds += time.perf_counter() - self._wall
        self.cpu_seconds += time.process_time() - self._cpu
