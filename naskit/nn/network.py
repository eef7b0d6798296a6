"""One macro skeleton for every cell: stem -> 3 stages of cells with reductions -> head.

The layout follows NAS-Bench-201 (Dong & Yang 2020, Fig. 1): a 3-wide conv stem, three
stages of ``cells_per_stage`` cells at ``C``, ``2C`` and ``4C`` channels separated by
stride-2 residual blocks, then BN -> ReLU -> global average pool -> linear classifier.

Example:
    >>> from naskit.core.space import parse
    >>> model = build_model(parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"))
    >>> import torch
    >>> model(torch.zeros(2, 1, 40)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from naskit.core.checks import as_arch, check_whole
from naskit.core.configs import NetworkConfig
from naskit.core.space import CONV_KERNEL, EDGES, NUM_NODES, OPS, Arch, live_edges
from naskit.nn import ops


class Cell(nn.Module):
    """One NB201 cell: node i = sum over live edges j -> i of op_ij(node j).

    Edges leaving the same node with the same op are computed together: one ReLU per
    source node, one convolution with ``n * C`` output channels (then split) for the ``n``
    sibling edges of a kernel size, one pooling for all pooling edges. BatchNorm is
    per channel, so this is exactly the function of separate edges, in fewer and larger
    kernel calls. ``edge_weights(e)`` gives the slice of the weights that edge ``e`` owns.
    """

    def __init__(self, arch: Arch, ndim: int, channels: int, groups: int = 1):
        super().__init__()
        self.arch, self.channels, self.groups = arch, channels, groups
        live = live_edges(arch)
        # plan: (source node, op, target nodes) in a fixed order, so sums are deterministic
        self.plan: list[tuple[int, str, tuple[int, ...]]] = []
        self.convs = nn.ModuleDict()
        for j in range(NUM_NODES - 1):
            for op in OPS[1:]:
                targets = tuple(EDGES[e][0] for e in live if EDGES[e][1] == j and arch.ops[e] == op)
                if not targets:
                    continue
                self.plan.append((j, op, targets))
                if op in CONV_KERNEL:
                    k = CONV_KERNEL[op]
                    self.convs[f"{j}_{op}"] = ops.conv_bn(ndim, channels, channels * len(targets), k, groups=groups)
        self.pool = ops.avg_pool(ndim) if any(op == "avg_pool_3x3" for _, op, _ in self.plan) else None

    def edge_weights(self, e: int) -> dict[str, torch.Tensor]:
        """Views of the conv weight and BN parameters/statistics that edge ``e`` owns."""
        if self.groups != 1:
            raise ValueError("edge_weights is defined for a single network (groups=1)")
        i, j = EDGES[e]
        op = self.arch.ops[e]
        if op not in CONV_KERNEL or e not in live_edges(self.arch):
            return {}
        targets = next(t for (jj, o, t) in self.plan if jj == j and o == op)
        rows = slice(targets.index(i) * self.channels, (targets.index(i) + 1) * self.channels)
        conv, bn = self.convs[f"{j}_{op}"]
        return {
            "conv.weight": conv.weight[rows], "bn.weight": bn.weight[rows], "bn.bias": bn.bias[rows],
            "bn.running_mean": bn.running_mean[rows], "bn.running_var": bn.running_var[rows],
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        incoming: list[list[torch.Tensor]] = [[] for _ in range(NUM_NODES)]
        node = x
        for j in range(NUM_NODES - 1):
            if j > 0:
                if not incoming[j]:
                    continue  # a node without signal has no live out-edges either
                node = _sum(incoming[j])
            relu = None
            for jj, op, targets in self.plan:
                if jj != j:
                    continue
                if op == "skip_connect":
                    outs = [node] * len(targets)
                elif op == "avg_pool_3x3":
                    outs = [self.pool(node)] * len(targets)
                else:
                    relu = torch.relu(node) if relu is None else relu
                    outs = self._per_target(self.convs[f"{j}_{op}"](relu), len(targets))
                for t, y in zip(targets, outs):
                    incoming[t].append(y)
        # A disconnected cell outputs zeros, as NB201's 'none' op does.
        return _sum(incoming[-1]) if incoming[-1] else torch.zeros_like(x)


    def _per_target(self, y: torch.Tensor, n: int) -> list[torch.Tensor]:
        """Split a fused conv's output among its ``n`` target nodes.

        With groups, the conv's channels are ordered (group, target, channel); each target
        takes its channels from every group, in group order."""
        if self.groups == 1:
            return list(y.split(self.channels, dim=1))
        if n == 1:
            return [y]
        y = y.unflatten(1, (self.groups, n, self.channels))  # (B, G, n, C, H, W)
        return [y[:, :, t].flatten(1, 2).contiguous(memory_format=torch.channels_last) for t in range(n)]


def _sum(tensors: list[torch.Tensor]) -> torch.Tensor:
    out = tensors[0]
    for t in tensors[1:]:
        out = out + t
    return out


def to_internal(x: torch.Tensor, ndim: int) -> torch.Tensor:
    """Batch -> the 4-D channels-last layout every op uses (a sequence becomes height 1)."""
    expected = ndim + 2
    if x.dim() != expected:
        kind = "(B, C, L) sequences" if ndim == 1 else "(B, C, H, W) images"
        raise ValueError(f"this network takes {kind}, got a tensor of shape {tuple(x.shape)}")
    if ndim == 1:
        x = x.unsqueeze(2)
    return x.contiguous(memory_format=torch.channels_last)


class GroupedLinear(nn.Module):
    """``groups`` independent linear layers side by side: (B, G * in) -> (B, G, out)."""

    def __init__(self, in_features: int, out_features: int, groups: int):
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.empty(groups, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(groups, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.unflatten(1, (self.groups, -1))  # (B, G, in)
        return torch.einsum("bgi,goi->bgo", x, self.weight) + self.bias


def skeleton(config: NetworkConfig, make_cell,
             groups: int = 1) -> tuple[nn.Module, nn.Sequential, nn.Module, nn.Module]:
    """The macro skeleton's parts: stem, [cells, reduction, cells, reduction, cells], head, classifier.

    ``make_cell(width)`` builds one cell of ``width`` channels (a ``Cell`` here, a mixed-op
    cell in ``naskit.nn.supernet``). Modules are created in this fixed order, so a seeded
    initialisation gives the same weights to every network built from the same cells.
    ``groups`` > 1 builds that many independent copies side by side (see ``stack_networks``).
    """
    c, nd = config.channels, config.ndim
    stem = ops.conv_bn(nd, config.in_channels, c, 3, groups=groups)
    layers: list[nn.Module] = []
    for stage in range(3):
        width = c * 2**stage
        if stage > 0:
            layers.append(ops.ResidualReduction(nd, width // 2, width, groups))
        layers.extend(make_cell(width) for _ in range(config.cells_per_stage))
    head = nn.Sequential(nn.BatchNorm2d(groups * 4 * c), nn.ReLU())
    classifier = (nn.Linear(4 * c, config.num_classes) if groups == 1
                  else GroupedLinear(4 * c, config.num_classes, groups))
    return stem, nn.Sequential(*layers), head, classifier


class Network(nn.Module):
    """The macro skeleton around one cell (shared by every stage, with separate weights).

    With ``groups`` > 1 it holds that many independent networks side by side, each in its own
    channel group: input ``(B, groups * in_channels, ...)``, logits ``(B, groups, num_classes)``.
    Build one from single networks with ``stack_networks``.
    """

    def __init__(self, arch: Arch, config: NetworkConfig = NetworkConfig(), groups: int = 1):
        super().__init__()
        check_whole("groups", groups, 1)
        self.arch, self.config, self.groups = arch, config, groups
        self.stem, self.cells, self.head, self.classifier = skeleton(
            config, lambda width: Cell(arch, config.ndim, width, groups), groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, in_channels, L) or (B, in_channels, H, W) -> logits (B, num_classes)
        h = to_internal(x, self.config.ndim)
        h = self.head(self.cells(self.stem(h)))  # (B, 4C, H', W')
        return self.classifier(h.mean((2, 3)))


def stack_networks(models: list[Network]) -> Network:
    """One ``Network`` with ``groups=len(models)`` that computes every model side by side.

    The models must share their cell and config. Group g starts with model g's weights and BN
    statistics, so training the stack trains each model as if alone, on its own minibatches,
    up to floating-point rounding (grouped kernels sum in another order). Several seeds of one
    cell train faster this way on a CPU, where these small kernels are mostly overhead.
    """
    first = models[0]
    if any(m.arch != first.arch or m.config != first.config or m.groups != 1 for m in models):
        raise ValueError("stack_networks takes single networks (groups=1) of one cell and one config")
    if len(models) == 1:
        return copy.deepcopy(first)
    stacked = Network(first.arch, first.config, groups=len(models))
    states = [m.state_dict() for m in models]
    merged = {}
    for name, tensor in stacked.state_dict().items():
        parts = [s[name] for s in states]
        if tensor.dim() == 0:  # BN's num_batches_tracked: the same for every model
            merged[name] = parts[0]
        elif name.startswith("classifier."):
            merged[name] = torch.stack(parts)  # (G, out, in) and (G, out)
        else:
            merged[name] = torch.cat(parts).view_as(tensor)  # channel groups in model order
    stacked.load_state_dict(merged)
    return stacked.to(next(first.parameters()).device)


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
    arch = as_arch(arch)
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
