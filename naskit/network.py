"""One macro skeleton for every cell: stem -> 3 stages of cells with reductions -> head.

The layout follows NAS-Bench-201 (Dong & Yang 2020, Fig. 1): a 3-wide conv stem, three
stages of ``cells_per_stage`` cells at ``C``, ``2C`` and ``4C`` channels separated by
stride-2 residual blocks, then BN -> ReLU -> global average pool -> linear classifier.

Example:
    >>> from naskit.space import parse
    >>> model = build_model(parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"))
    >>> import torch
    >>> model(torch.zeros(2, 1, 40)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from naskit import ops
from naskit.space import EDGES, NUM_NODES, Arch, parse


@dataclass(frozen=True)
class NetworkConfig:
    """Shape of the macro skeleton.

    ``ndim`` is 1 for sequences (input ``(B, in_channels, L)``) and 2 for images
    (``(B, in_channels, H, W)``).
    """

    channels: int = 8
    cells_per_stage: int = 1
    ndim: int = 1
    in_channels: int = 1
    num_classes: int = 10

    def __post_init__(self) -> None:
        if self.ndim not in (1, 2):
            raise ValueError(f"ndim must be 1 (sequences) or 2 (images), got {self.ndim!r}")
        for name in ("channels", "cells_per_stage", "in_channels", "num_classes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")


def live_edges(arch: Arch) -> list[int]:
    """Indices (into ``EDGES``) of the edges that can change the cell's output.

    An edge is live when its op is not ``none``, its source carries a signal from the
    input, and its target feeds the output. Dead edges compute nothing useful, so the
    cell does not build them: cells that NB201 counts as one network then build the same
    modules. This matches the ``#`` (zero) rule of ``NB201Space.canonical``.
    """
    from_input = [True] + [False] * (NUM_NODES - 1)
    for e, (i, j) in enumerate(EDGES):
        if arch.ops[e] != "none" and from_input[j]:
            from_input[i] = True
    to_output = [False] * (NUM_NODES - 1) + [True]
    for e in reversed(range(len(EDGES))):
        i, j = EDGES[e]
        if arch.ops[e] != "none" and to_output[i]:
            to_output[j] = True
    return [
        e for e, (i, j) in enumerate(EDGES)
        if arch.ops[e] != "none" and from_input[j] and to_output[i]
    ]


class Cell(nn.Module):
    """One NB201 cell: node i = sum over live edges j -> i of op_ij(node j)."""

    def __init__(self, arch: Arch, ndim: int, channels: int):
        super().__init__()
        self.arch = arch
        self.edges = live_edges(arch)
        # ModuleDict keys are edge indices as strings; ops without weights stay in it too.
        self.ops = nn.ModuleDict({str(e): ops.make_op(arch.ops[e], ndim, channels) for e in self.edges})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x] + [None] * (NUM_NODES - 1)
        for e in self.edges:
            i, j = EDGES[e]
            y = self.ops[str(e)](nodes[j])
            nodes[i] = y if nodes[i] is None else nodes[i] + y
        out = nodes[-1]
        # A disconnected cell outputs zeros, as NB201's 'none' op does.
        return torch.zeros_like(x) if out is None else out


class Network(nn.Module):
    """The macro skeleton around one cell (shared by every stage, with separate weights)."""

    def __init__(self, arch: Arch, config: NetworkConfig = NetworkConfig()):
        super().__init__()
        self.arch, self.config = arch, config
        c, nd = config.channels, config.ndim
        self.stem = nn.Sequential(ops.conv(nd, config.in_channels, c, 3), ops.batchnorm(nd, c))
        layers: list[nn.Module] = []
        for stage in range(3):
            width = c * 2**stage
            if stage > 0:
                layers.append(ops.ResidualReduction(nd, width // 2, width))
            layers.extend(Cell(arch, nd, width) for _ in range(config.cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(ops.batchnorm(nd, 4 * c), nn.ReLU())
        self.classifier = nn.Linear(4 * c, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, in_channels, L) or (B, in_channels, H, W) -> logits (B, num_classes)
        h = self.head(self.cells(self.stem(x)))
        return self.classifier(h.flatten(2).mean(-1))


def build_model(
    arch: Arch | str,
    config: NetworkConfig | None = None,
    *,
    seed: int | None = None,
    device: str | torch.device = "cpu",
    **config_kwargs,
) -> Network:
    """Build the network for ``arch`` (an ``Arch`` or an NB201 string).

    Args:
        arch: the cell.
        config: a ``NetworkConfig``; or give its fields as keywords (``channels=16``).
        seed: when given, weights are initialised from this seed without touching
            the caller's global torch RNG.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"mps"``.
    """
    if isinstance(arch, str):
        arch = parse(arch)
    if config is None:
        config = NetworkConfig(**config_kwargs)
    elif config_kwargs:
        raise ValueError("give either a NetworkConfig or its fields as keywords, not both")
    if seed is None:
        model = Network(arch, config)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = Network(arch, config)
    return model.to(device)
