"""The NB201 primitive operations, for 1-D sequences and 2-D images.

Every op works on 4-D tensors in PyTorch's ``channels_last`` memory format: an image is
``(B, C, H, W)`` and a sequence is stored as an image of height 1, ``(B, C, 1, L)``, with
``(1, k)`` kernels. Mathematically that is the same 1-D convolution; on a CPU the 2-D
channels-last kernels are 20-40 % faster for these small tensors (see benchmarks/).

The ops follow NAS-Bench-201's table: ``nor_conv_kxk`` is ReLU -> Conv -> BatchNorm,
``avg_pool_3x3`` is a 3-wide average pool that ignores padding, ``skip_connect`` is the
identity and ``none`` is the zero function (the cell leaves it out of the sum).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _check_ndim(ndim: int) -> None:
    if ndim not in (1, 2):
        raise ValueError(f"ndim must be 1 (sequences) or 2 (images), got {ndim!r}")


def window(ndim: int, k: int) -> tuple[int, int]:
    """A k-wide window: ``(1, k)`` along a sequence, ``(k, k)`` on an image."""
    _check_ndim(ndim)
    return (1, k) if ndim == 1 else (k, k)


def conv(ndim: int, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """A bias-free convolution with 'same' padding for odd ``k``.

    ``groups`` > 1 makes that many independent copies side by side (``groups * c_in`` channels
    in, ``groups * c_out`` out), as ``naskit.nn.network`` does to train several seeds at once.
    """
    pad = k // 2
    return nn.Conv2d(
        groups * c_in, groups * c_out, window(ndim, k), stride=window(ndim, stride),
        padding=(0, pad) if ndim == 1 else (pad, pad), bias=False, groups=groups,
    )


def conv_bn(ndim: int, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, affine: bool = True,
            track_running_stats: bool = True) -> nn.Sequential:
    """Conv -> BN. The cell applies the ReLU once per source node and shares it.

    ``affine`` and ``track_running_stats`` are BatchNorm's options (a weight-sharing supernet
    turns both off, as NB201's search cells do)."""
    bn = nn.BatchNorm2d(groups * c_out, affine=affine, track_running_stats=track_running_stats)
    return nn.Sequential(conv(ndim, c_in, c_out, k, stride, groups), bn)


def relu_conv_bn(ndim: int, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, affine: bool = True,
                 track_running_stats: bool = True) -> nn.Sequential:
    """ReLU -> Conv -> BN (NB201's ``ReLUConvBN``); options as for ``conv_bn``."""
    return nn.Sequential(nn.ReLU(), *conv_bn(ndim, c_in, c_out, k, stride, groups, affine, track_running_stats))


class _AlongSpatialAxes(nn.Module):
    """Applies ``along(x, dim)`` to each spatial axis: W for sequences, H then W for images."""

    def __init__(self, ndim: int):
        super().__init__()
        _check_ndim(ndim)
        self.dims = (3,) if ndim == 1 else (2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dim in self.dims:
            x = self.along(x, dim)
        return x


class AvgPool3(_AlongSpatialAxes):
    """3-wide, stride-1 average pool that keeps the resolution and ignores the padding.

    The same function as ``nn.AvgPool2d(3, 1, 1, count_include_pad=False)`` (NB201's
    ``avg_pool_3x3``), written as shifted sums times the inverse window count: a window
    clipped by the border averages only the values inside it, which makes the 2-D pool the
    product of a pool along H and one along W. About 2.5x faster on a CPU for these sizes.
    """

    @staticmethod
    def along(x: torch.Tensor, dim: int) -> torch.Tensor:
        n = x.shape[dim]
        if n == 1:
            return x
        p = F.pad(x, (1, 1) if dim == 3 else (0, 0, 1, 1))
        total = p.narrow(dim, 0, n) + p.narrow(dim, 1, n) + p.narrow(dim, 2, n)
        inv = torch.full((n,), 1 / 3, dtype=x.dtype, device=x.device)
        inv[0] = inv[-1] = 0.5
        shape = [1, 1, 1, 1]
        shape[dim] = n
        return total * inv.view(shape)


def avg_pool(ndim: int) -> AvgPool3:
    return AvgPool3(ndim)


class Halve(_AlongSpatialAxes):
    """Average pool with a window 2 and stride 2 along the spatial axes (H too for images)."""

    @staticmethod
    def along(x: torch.Tensor, dim: int) -> torch.Tensor:
        n = x.shape[dim] // 2 * 2
        return (x.narrow(dim, 0, n)[_every(dim, 0)] + x.narrow(dim, 0, n)[_every(dim, 1)]) * 0.5


def _every(dim: int, start: int) -> tuple:
    """Index selecting every other element of axis ``dim``, from ``start``."""
    return (slice(None),) * dim + (slice(start, None, 2),)


class ResidualReduction(nn.Module):
    """NB201's reduction block between stages: a stride-2 ResNet basic block.

    ``y = conv_b(conv_a(x)) + shortcut(x)``, where ``conv_a`` halves the resolution and
    ``shortcut`` is AvgPool(2) -> Conv1x1. Shapes: (B, C_in, H, W) -> (B, C_out, H', W // 2),
    with H' = 1 for sequences and H // 2 for images.
    """

    def __init__(self, ndim: int, c_in: int, c_out: int, groups: int = 1):
        super().__init__()
        self.conv_a = relu_conv_bn(ndim, c_in, c_out, 3, stride=2, groups=groups)
        self.conv_b = relu_conv_bn(ndim, c_out, c_out, 3, groups=groups)
        self.shortcut = nn.Sequential(Halve(ndim), conv(ndim, c_in, c_out, 1, groups=groups))

    def forward(self, x):
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)
