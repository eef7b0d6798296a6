"""The NB201 primitive operations, for 1-D sequences and 2-D images.

Each op keeps the channel count and the resolution (stride 1), as in NAS-Bench-201's
``OPS`` table: ``nor_conv_kxk`` is ReLU -> Conv -> BatchNorm, ``avg_pool_3x3`` is a
3-wide average pool that ignores padding, ``skip_connect`` is the identity and
``none`` is the zero function (built as ``None``: the cell leaves it out of the sum).
"""

from __future__ import annotations

from torch import nn

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_POOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d}


def _check_ndim(ndim: int) -> None:
    if ndim not in _CONV:
        raise ValueError(f"ndim must be 1 (sequences) or 2 (images), got {ndim!r}")


def conv(ndim: int, c_in: int, c_out: int, kernel: int, stride: int = 1, bias: bool = False) -> nn.Module:
    """A plain convolution with 'same' padding for odd kernels."""
    _check_ndim(ndim)
    return _CONV[ndim](c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=bias)


def batchnorm(ndim: int, channels: int) -> nn.Module:
    _check_ndim(ndim)
    return _BN[ndim](channels)


def relu_conv_bn(ndim: int, c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """ReLU -> Conv -> BN (NB201's ``ReLUConvBN``)."""
    return nn.Sequential(nn.ReLU(), conv(ndim, c_in, c_out, kernel, stride), batchnorm(ndim, c_out))


def avg_pool(ndim: int, kernel: int = 3) -> nn.Module:
    _check_ndim(ndim)
    return _POOL[ndim](kernel, stride=1, padding=kernel // 2, count_include_pad=False)


def make_op(name: str, ndim: int, channels: int) -> nn.Module | None:
    """Build the op ``name`` from ``naskit.space.OPS``; ``none`` returns ``None``."""
    if name == "none":
        return None
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return relu_conv_bn(ndim, channels, channels, 1)
    if name == "nor_conv_3x3":
        return relu_conv_bn(ndim, channels, channels, 3)
    if name == "avg_pool_3x3":
        return avg_pool(ndim, 3)
    from naskit.space import OPS

    raise ValueError(f"unknown op {name!r}; allowed ops are {', '.join(OPS)}")


class ResidualReduction(nn.Module):
    """NB201's reduction block between stages: a stride-2 ResNet basic block.

    ``y = conv_b(conv_a(x)) + shortcut(x)`` where ``conv_a`` halves the resolution and
    ``shortcut`` is AvgPool(2) -> Conv1x1. Shapes: (B, C_in, L) -> (B, C_out, L // 2).
    """

    def __init__(self, ndim: int, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = relu_conv_bn(ndim, c_in, c_out, 3, stride=2)
        self.conv_b = relu_conv_bn(ndim, c_out, c_out, 3)
        self.shortcut = nn.Sequential(_POOL[ndim](2, stride=2), conv(ndim, c_in, c_out, 1))

    def forward(self, x):
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)
