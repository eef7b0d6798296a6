"""FLOPs and parameters as NAS-Bench-201 counts them, for naskit's networks.

NAS-Bench-201's tables (Dong & Yang 2020) give each cell's FLOPs and parameters from
``get_model_infos`` (D-X-Y/AutoDL-Projects, ``lib/utils/flop_benchmark.py``), and the
literature's "FLOPs" and "params" baselines use those numbers. Its rules, read from that code:

* **1 per multiply-add** (MACs), per example: the hooks' total over a batch divided by the
  batch size. NB201 reports FLOPs / 1e6 ("M") and parameters / 1e6 ("MB").
* **Only convolutions and linear layers count.** A convolution counts
  ``k_h * k_w * C_in * C_out / groups`` per output position, plus ``C_out`` per position for a
  bias; a linear layer counts ``in * out``, plus ``out`` for a bias (so the classifier's bias
  counts, where ``torch``'s ``FlopCounterMode`` does not count it). Pooling layers get a hook
  but are left out of the sum; batch norm, ReLU, additions and the global average pool have
  no hook: all count 0.
* **Parameters** are every tensor of ``model.parameters()``: convolution weights, the affine
  weight and bias of every batch norm, the classifier's weight and bias (BN's running
  statistics are buffers, not parameters).
* **Every op of every edge runs.** NB201's cell builds one op per edge (``InferCell``), so a
  convolution whose source carries no signal, or whose target feeds nothing, is run and counted
  like any other; ``none`` is a zero op (0), ``skip_connect`` an identity (0), ``avg_pool_3x3``
  a pooling (0).

naskit's ``cost.forward_flops`` differs on each point: 2 FLOPs per multiply-add, no bias, and
only the edges its network builds (``network.live_edges``). This module counts analytically
(no network is built), so all 6,466 classes take well under a second.

Example:
    >>> from naskit.core.configs import NetworkConfig
    >>> arch = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"  # a dead 3x3 conv
    >>> flops_nb201(arch, NetworkConfig(), input_shape=(1, 40)), params_nb201(arch, NetworkConfig())
    (131850, 11170)
"""

from __future__ import annotations

from naskit.core.configs import NetworkConfig
from naskit.core.space import CONV_KERNEL, Arch, parse

SKELETON_KERNEL = 3  # the stem's and the reduction blocks' convs are 3 wide (NB201 Fig. 1)


def _as_arch(arch: Arch | str) -> Arch:
    return arch if isinstance(arch, Arch) else parse(arch)  # parse names what is wrong


def _stages(config: NetworkConfig, input_shape) -> list[tuple[int, int]]:
    """(channels, output positions H * W) of each of the 3 stages, from one example's shape."""
    shape = tuple(int(n) for n in input_shape)
    expected = "(in_channels, length)" if config.ndim == 1 else "(in_channels, height, width)"
    if len(shape) != config.ndim + 1 or shape[0] != config.in_channels or min(shape) < 1:
        raise ValueError(f"input_shape must be one example's shape {expected} with in_channels="
                         f"{config.in_channels}, got {tuple(input_shape)!r}")
    spatial = list(shape[1:])
    stages = []
    for stage in range(3):
        if stage > 0:
            if any(n % 2 for n in spatial):
                raise ValueError(f"stage {stage} gets an odd size {spatial}: the stride-2 reduction "
                                 "(conv and 2-wide pool side by side) needs even sizes")
            spatial = [n // 2 for n in spatial]
        positions = 1
        for n in spatial:
            positions *= n
        stages.append((config.channels * 2**stage, positions))
    return stages


def _conv_weights(arch: Arch, ndim: int) -> int:
    """Sum of ``k**ndim`` over the cell's convolution edges, dead or live: the cell's weights
    per (input channel x output channel)."""
    return sum(CONV_KERNEL[op] ** ndim for op in arch.ops if op in CONV_KERNEL)


def flops_nb201(arch: Arch | str, config: NetworkConfig, input_shape) -> int:
    """Multiply-adds of one forward pass of one example, counted as NB201's ``get_model_infos`` does.

    The network is naskit's macro skeleton for ``config`` (stem, 3 stages of
    ``cells_per_stage`` cells, 2 reduction blocks, BN-ReLU-pool-linear head) with every
    non-``none`` edge's op run, dead edges included, as NB201's cell runs it. Only convolutions
    (no biases here) and the linear classifier (with its bias) count; see the module docstring.
    Divide by 1e6 for NB201's "FLOPs (M)".

    Args:
        arch: the cell, an ``Arch`` or an NB201 string.
        config: the network's shape.
        input_shape: one example's shape without the batch, ``(in_channels, length)`` for
            sequences or ``(in_channels, height, width)`` for images (``data.x_train.shape[1:]``).

    Returns:
        The count, in multiply-adds (1 per multiply-add; naskit's ``forward_flops`` counts 2).

    Example:
        >>> from naskit.core.configs import NetworkConfig
        >>> cifar10 = NetworkConfig(channels=16, cells_per_stage=5, ndim=2, in_channels=3)
        >>> all_3x3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
        >>> flops_nb201(all_3x3, cifar10, (3, 32, 32)) / 1e6  # NB201's largest CIFAR-10 network
        220.11969
    """
    arch, stages = _as_arch(arch), _stages(config, input_shape)
    k = SKELETON_KERNEL**config.ndim
    c, positions = stages[0]
    macs = k * config.in_channels * c * positions  # stem conv
    for stage, (width, positions) in enumerate(stages):
        if stage > 0:  # conv_a (stride 2), conv_b, and the shortcut's 1x1 conv after its pool
            macs += (k * (width // 2) * width + k * width * width + (width // 2) * width) * positions
        macs += config.cells_per_stage * _conv_weights(arch, config.ndim) * width * width * positions
    return macs + 4 * config.channels * config.num_classes + config.num_classes  # classifier + bias


def params_nb201(arch: Arch | str, config: NetworkConfig) -> int:
    """Parameters of the network as NB201's ``get_model_infos`` counts them (``model.parameters()``).

    The network is the one ``flops_nb201`` counts: every non-``none`` edge's convolution is
    built, dead or live, each with its batch norm's affine weight and bias. Divide by 1e6 for
    NB201's "params (MB)". For a cell without dead edges this equals
    ``cost.count_params(build_model(arch, config))``.

    Example:
        >>> from naskit.core.configs import NetworkConfig
        >>> cifar10 = NetworkConfig(channels=16, cells_per_stage=5, ndim=2, in_channels=3)
        >>> params_nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", cifar10) / 1e6  # NB201's smallest
        0.073306
    """
    arch = _as_arch(arch)
    k = SKELETON_KERNEL**config.ndim
    c = config.channels
    conv_edges = sum(op in CONV_KERNEL for op in arch.ops)  # each with a BN of 2 * width
    total = k * config.in_channels * c + 2 * c  # stem conv + BN
    for stage in range(3):
        width = c * 2**stage
        if stage > 0:  # conv_a + BN, conv_b + BN, the shortcut's 1x1 conv
            total += k * (width // 2) * width + 2 * width + k * width * width + 2 * width + (width // 2) * width
        total += config.cells_per_stage * (_conv_weights(arch, config.ndim) * width * width + conv_edges * 2 * width)
    return total + 2 * 4 * c + 4 * c * config.num_classes + config.num_classes  # head BN + classifier


def costs_nb201(archs, config: NetworkConfig, input_shape) -> tuple[list[int], list[int]]:
    """``flops_nb201`` and ``params_nb201`` of each cell in ``archs``: (flops, params) lists."""
    archs = [_as_arch(a) for a in archs]
    return ([flops_nb201(a, config, input_shape) for a in archs], [params_nb201(a, config) for a in archs])
