"""Zero-cost proxies: score an *untrained* network from one minibatch, for about the cost of a training step.

Each proxy is one function ``proxy(model, x, y) -> float`` (higher is meant to be better),
computed on a deep copy of ``model``, so the caller's weights and BN statistics never change.
A proxy draws no random numbers: it is deterministic for a given model and batch (at a
fixed number of torch threads, like any float computation).
The definitions follow the reference implementation of Abdelfattah et al. (2021),
"Zero-Cost Proxies for Lightweight NAS", ICLR (github.com/SamsungLabs/zero-cost-nas,
``foresight/pruners``), also used by NASLib; ``naswot`` follows Mellor et al.'s own code
(github.com/BayesWatch/nas-without-training, ``score_networks.py``). Where naskit offers a
variant (``naswot(..., count="per_node")``, ``fisher(..., count="per_channel")``), it is an
explicit option and the default is the reference's:

* The *weights* a proxy scores are the ``.weight`` of every convolution and linear layer
  (their ``mode='param'``); biases and BatchNorm parameters are left out.
* The network is in training mode, so BatchNorm normalises with the batch's statistics,
  except in ``synflow`` (see there). The loss ``L`` is the batch's mean cross-entropy.
* A weight, activation or input that cannot reach the output (a *disconnected* cell: its
  output is the constant zero) has no gradient; it counts as a zero gradient, so such a
  network scores 0 on ``synflow``, ``snip``, ``grad_norm`` and ``grasp``, only the
  classifier's term on ``fisher``, and ``-inf`` (the worst score) on ``naswot`` and
  ``jacob_cov``, whose definitions break down when the network cannot tell inputs apart.

``params`` and ``flops`` are the baselines every proxy must beat. ``compute_proxies`` builds
a cell's network and scores it with any of ``PROXIES``, each on its reference's minibatch size
(``reference_batch_size``: 128 examples for ``naswot``, 64 for the others) unless told otherwise.

Example:
    >>> import torch
    >>> from naskit.nn.network import build_model
    >>> cell = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    >>> model = build_model(cell, seed=0)
    >>> x, y = torch.randn(8, 1, 40, generator=torch.Generator().manual_seed(0)), torch.arange(8)
    >>> synflow(model, x, y) > 0
    True
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from naskit.core.checks import check_whole
from naskit.core.configs import NetworkConfig
from naskit.core.space import Arch
from naskit.cost.flops import count_params, forward_flops
from naskit.cost.stopwatch import Stopwatch
from naskit.data import Dataset
from naskit.nn.network import Cell, build_model

_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


# --- Shared steps --------------------------------------------------------------------------------
def _probe(model: nn.Module) -> nn.Module:
    """A training-mode copy whose weights all take gradients (the caller's model is untouched)."""
    probe = copy.deepcopy(model).train()
    for p in probe.parameters():
        p.requires_grad_(True)
    return probe


def _weights(model: nn.Module) -> list[Tensor]:
    """The scored weights: ``.weight`` of every conv and linear layer, in module order."""
    return [m.weight for m in model.modules() if isinstance(m, _WEIGHTED)]


def _grads(output: Tensor, inputs: list[Tensor], **kwargs) -> list[Tensor]:
    """d output / d inputs, with zeros for the inputs the output does not depend on."""
    if not inputs:
        return []
    if not output.requires_grad:
        return [torch.zeros_like(t) for t in inputs]
    grads = torch.autograd.grad(output, inputs, allow_unused=True, **kwargs)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(inputs, grads)]


def _loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(model(x), y)


def _check_option(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """A ``ValueError`` that names the bad value and the allowed ones."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


# --- Baselines -----------------------------------------------------------------------------------
def params(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Number of trainable parameters (``naskit.cost.flops.count_params``): the simplest baseline."""
    return float(count_params(model))


def flops(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """FLOPs (2 per multiply-add) of a forward pass on one example, ``x[:1]`` (``naskit.cost.flops.forward_flops``)."""
    return float(forward_flops(model, x[:1]))


# --- Gradient-based saliencies (pruning-at-initialisation scores summed over the network) --------
def synflow(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """SynFlow: the synaptic flow through a positive copy of the network.

    Tanaka et al. (2020), "Pruning neural networks without any data by iteratively
    conserving synaptic flow", NeurIPS; as a NAS proxy, Abdelfattah et al. (2021). Every
    parameter and buffer is replaced by its absolute value, in float64; the input is a
    single example of ones (``x`` gives only the shape; no data and no labels are used).
    With ``R = sum of the outputs``, the score is ``sum over weights of |θ ⊙ ∂R/∂θ|``.

    BatchNorm is *bypassed* (each BN layer becomes the identity), as Abdelfattah et al. and
    NASLib do (their ``bn=False`` copy): on a constant input of one example, batch
    statistics are undefined, and a positive network without BN keeps every ReLU open,
    so the score is the flow of a linear network. By Euler's theorem, for a bias-free
    chain of ``n`` layers it equals ``n * R``.
    """
    probe = _bypass_batchnorm(_probe(model)).double()
    with torch.no_grad():
        for t in probe.state_dict().values():
            t.abs_()
    weights = _weights(probe)
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    grads = _grads(probe(ones).sum(), weights)
    return float(sum((w.detach() * g).abs().sum() for w, g in zip(weights, grads)))


def _bypass_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer of ``model`` (a probe copy) by the identity, in place."""
    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                setattr(module, name, nn.Identity())
    return model


def snip(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """SNIP: connection sensitivity, ``sum over weights of |θ ⊙ ∂L/∂θ|``.

    Lee, Ajanthan & Torr (2019), "SNIP: Single-shot network pruning based on connection
    sensitivity", ICLR: the first-order change of the loss ``L`` (batch cross-entropy)
    when a weight is removed; as a NAS proxy, Abdelfattah et al. (2021).
    """
    probe = _probe(model)
    weights = _weights(probe)
    grads = _grads(_loss(probe, x, y), weights)
    return float(sum((w.detach() * g).abs().sum() for w, g in zip(weights, grads)))


def grad_norm(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Gradient norm: ``sum over weight tensors of ||∂L/∂θ||_2`` (Abdelfattah et al. 2021).

    One Euclidean norm per layer's weight tensor, summed; ``L`` is the batch cross-entropy.
    """
    probe = _probe(model)
    weights = _weights(probe)
    return float(sum(g.norm() for g in _grads(_loss(probe, x, y), weights)))


def grasp(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """GraSP: gradient signal preservation, ``sum over weights of -θ ⊙ (H g)``.

    Wang, Zhang & Grosse (2020), "Picking winning tickets before training by preserving
    gradient flow", ICLR; as a NAS proxy, Abdelfattah et al. (2021), temperature 1.
    ``g = ∂L/∂θ`` and ``H`` the Hessian of ``L``; ``H g = ∂(gᵀ stop_grad(g))/∂θ`` by a
    second backward pass through the first (double backprop), so ``H`` is never formed.
    """
    probe = _probe(model)
    weights = _weights(probe)
    grads = _grads(_loss(probe, x, y), weights, create_graph=True)
    g_dot_g = sum((g.detach() * g).sum() for g in grads)  # differentiable in θ through g
    hessian_grad = _grads(g_dot_g, weights)
    return float(sum((-w.detach() * hg).sum() for w, hg in zip(weights, hessian_grad)))


FISHER_COUNTS = ("per_weight", "per_channel")


def fisher(model: nn.Module, x: Tensor, y: Tensor, *, count: str = "per_weight") -> float:
    """Fisher: the loss change when a channel is removed, summed over the network's weights.

    Theis et al. (2018), "Faster gaze prediction with dense networks and Fisher pruning";
    Turner et al. (2020), "BlockSwap"; as a NAS proxy, Abdelfattah et al. (2021). For each
    output channel ``k`` of a layer, with activation ``a`` and gradient ``g = ∂L/∂a``,
    ``Δ_k = 1/2 · mean over examples n of (sum over positions of a_nk ⊙ g_nk)²``
    (Theis et al. Eq. 8). Hooked, as in Abdelfattah et al.: the output of every conv and
    linear layer (before its BatchNorm).

    Args:
        count: how often each channel's ``Δ_k`` enters the sum.
            ``"per_weight"`` (default, the reference): once per weight of the channel, i.e.
            ``fan_in · Δ_k`` with ``fan_in = weight[k].numel()`` (input channels x kernel
            taps; in features for a linear layer). zero-cost-nas's ``fisher.py`` returns
            ``Δ_k`` broadcast over the channel's weights (``reshape_elements``) and
            ``find_measures`` sums that array (``sum_arr``); on naskit's networks this is
            10-34x the per-channel sum, depending on the cell's mix of 1x1 and 3-wide convs.
            ``"per_channel"``: each ``Δ_k`` once, the Fisher potential as BlockSwap's own
            code sums it (over its masked channels); a variant, not zero-cost-nas's score.

    A fused conv of sibling edges has one channel, with the same fan-in, per edge channel,
    so fusion does not change the score.
    """
    _check_option("count", count, FISHER_COUNTS)
    probe = _probe(model)
    calls: list[tuple[nn.Module, Tensor]] = []  # (layer, its output), in call order
    hooks = [m.register_forward_hook(lambda mod, inp, out: calls.append((mod, out)))
             for m in probe.modules() if isinstance(m, _WEIGHTED)]
    try:
        loss = _loss(probe, x, y)
    finally:
        for h in hooks:
            h.remove()
    grads = _grads(loss, [a for _, a in calls])
    total = 0.0
    for (layer, a), g in zip(calls, grads):
        weights_per_channel = layer.weight[0].numel() if count == "per_weight" else 1
        total += weights_per_channel * float(channel_fisher(a.detach(), g).sum())
    return total


def channel_fisher(activation: Tensor, grad: Tensor) -> Tensor:
    """``Δ_k`` of each channel (Theis et al. 2018, Eq. 8), from ``(N, channels, *positions)`` tensors."""
    ag = activation * grad
    per_example = ag.flatten(2).sum(2) if ag.dim() > 2 else ag  # (N, channels)
    return per_example.pow(2).mean(0).mul(0.5)


# --- Scores of the untrained network's function --------------------------------------------------
def naswot_kernel(codes: Tensor) -> Tensor:
    """NASWOT kernel of binary codes ``(N, units)``: ``K = c cᵀ + (1 - c)(1 - c)ᵀ`` in float64.

    ``K[i, j]`` is the number of units on which examples ``i`` and ``j`` agree (both active
    or both inactive): the number of units minus their Hamming distance.
    """
    c = codes.to(torch.float64)
    return c @ c.T + (1 - c) @ (1 - c).T


class _ReluCodes(TorchFunctionMode):
    """Records the binary code (output > 0) of every ReLU called while active.

    A ``TorchFunctionMode`` sees ``nn.ReLU`` modules (through ``F.relu``) and functional
    calls such as the ``torch.relu`` of ``naskit.nn.network.Cell`` alike, once per call.
    ``read_by`` notes the conv edges of a ``Cell`` that share one call's output.
    """

    RELUS = frozenset({torch.relu, torch.relu_, F.relu, F.relu_, Tensor.relu, Tensor.relu_})

    def __init__(self):
        super().__init__()
        self.outputs: list[Tensor] = []
        self.codes: list[Tensor] = []  # (N, units) per call
        self.edges: dict[int, int] = {}  # call index -> conv edges that read its output

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in self.RELUS:  # the mode is paused inside this method: no recursion
            self.outputs.append(out)
            self.codes.append((out > 0).flatten(1))
        return out

    def read_by(self, activation: Tensor, edges: int) -> None:
        """``edges`` conv edges read ``activation``, the output of a recorded ReLU call."""
        call = next((i for i, out in enumerate(self.outputs) if out is activation), None)
        if call is None:
            raise RuntimeError("naswot expects every conv of a naskit Cell to read a ReLU's output")
        self.edges[call] = self.edges.get(call, 0) + edges

    def counts(self) -> list[int]:
        """How many NB201 ReLU modules each call stands for: the conv edges it feeds, else 1."""
        return [self.edges.get(i, 1) for i in range(len(self.codes))]


def cell_convs(model: nn.Module) -> list[tuple[nn.Module, int]]:
    """Each fused conv of each ``naskit.nn.network.Cell`` in ``model``, with the number of edges it computes.

    A cell computes the ``n`` sibling edges of a source node and kernel size as one conv with
    ``n * channels`` outputs (``Cell``'s docstring), reading the node's one shared ReLU.
    """
    return [(conv_bn, conv_bn[0].out_channels // (cell.channels * cell.groups))
            for cell in model.modules() if isinstance(cell, Cell) for conv_bn in cell.convs.values()]


NASWOT_COUNTS = ("per_edge", "per_node")


def naswot(model: nn.Module, x: Tensor, y: Tensor, *, count: str = "per_edge") -> float:
    """NASWOT: how differently the untrained network's ReLUs partition a batch.

    Mellor et al. (2021), "Neural Architecture Search without Training", ICML (v2 score).
    One forward pass (training mode, no labels). Each ReLU gives every example a binary
    code ``c`` (on/off per unit) and the kernel ``naswot_kernel(c)``; ``K`` is their sum
    and the score is ``log |det K|`` (``slogdet``). The reference batch is 128 examples
    (``score_networks.py``; ``compute_proxies`` uses it by default).

    Args:
        count: which ReLUs add a kernel.
            ``"per_edge"`` (default, the reference): one per ReLU module call of the NB201
            network, as Mellor et al. hook every ``nn.ReLU``: one in every conv edge
            (NB201's ``ReLUConvBN``), two in each reduction block, one before the
            classifier. naskit's cell computes a source node's ReLU once and shares it
            between that node's ``k`` conv edges, so its kernel is added ``k`` times; every
            other ReLU call (reductions, head, a plain ``nn.Sequential``) counts once.
            ``"per_node"``: each ReLU call once, so a shared code counts once whatever number
            of edges read it (naskit's earlier counting). The score then depends only on the
            function the network computes, not on how many ReLU modules compute it. A variant,
            not Mellor et al.'s score; it ranks classes less well (Spearman ρ with benchmark
            v1's test accuracy, 300 random connected classes, batch 64: 0.358 against 0.416).

    Not reproduced: NB201 also builds the edges that cannot change the output, which naskit's
    cell leaves out (``naskit.nn.network.live_edges``). In the reference, a conv edge fed by a
    node without signal adds a ReLU whose units are off for every example; on benchmark v1
    (batch 128, seed 0) that would raise 118 connected classes' scores, of 756-956, by 0.35-0.78.
    Identical codes for two examples (e.g. a disconnected cell) make ``K`` singular: ``-inf``.
    """
    _check_option("count", count, NASWOT_COUNTS)
    probe = copy.deepcopy(model).train()
    recorder = _ReluCodes()
    if count == "per_edge":
        for conv_bn, edges in cell_convs(probe):
            conv_bn.register_forward_pre_hook(lambda mod, args, n=edges: recorder.read_by(args[0], n))
    with torch.no_grad(), recorder:
        probe(x)
    if not recorder.codes:  # no ReLU at all: every example has the same (empty) code
        return -math.inf
    kernel = sum(n * naswot_kernel(c) for c, n in zip(recorder.codes, recorder.counts()))
    return float(torch.linalg.slogdet(kernel).logabsdet)


def jacob_cov(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Jacobian covariance: how decorrelated the input-output Jacobians of a batch are.

    Mellor et al. (2021), "Neural Architecture Search without Training" (arXiv v1 score),
    as implemented by Mellor et al. and Abdelfattah et al. (2021): per example ``n``,
    ``J_n = ∂(sum of the outputs)/∂x_n`` (one backward pass of the summed logits, training
    mode), flattened; ``Σ_J`` is the correlation matrix of the ``J_n`` (``np.corrcoef``)
    and, with its eigenvalues ``v`` and ``k = 1e-5``,
    ``score = -sum(log(v + k) + 1 / (v + k))``. A Jacobian that is constant across the
    input (e.g. zero, for a disconnected cell) has no correlation: the score is ``-inf``.

    When the batch has more examples than the input has values (64 > 40 on MNIST-1D), the
    correlation matrix has rank at most the input size, and each zero eigenvalue adds the
    same ``-1/k = -1e5``: scores share a large negative offset; only their differences rank.
    """
    probe = copy.deepcopy(model).train().requires_grad_(False)  # only d/dx is needed
    x = x.detach().clone().requires_grad_(True)
    total = probe(x).sum()
    if total.requires_grad:  # False when the output ignores x (a disconnected cell)
        total.backward()  # not autograd.grad, which FlopCounterMode's module hooks reject for a leaf input
    jacobian = torch.zeros_like(x) if x.grad is None else x.grad  # (N, *input shape)
    return jacob_cov_score(jacobian.flatten(1).double().cpu().numpy())


def jacob_cov_score(jacobians: np.ndarray, k: float = 1e-5) -> float:
    """``-sum(log(v + k) + 1/(v + k))`` over the eigenvalues ``v`` of the rows' correlation matrix."""
    if np.any(np.ptp(jacobians, axis=1) == 0):
        return -math.inf
    v = np.linalg.eigvalsh(np.atleast_2d(np.corrcoef(jacobians)))
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


# --- All proxies, by name ------------------------------------------------------------------------
PROXIES: dict[str, Callable[[nn.Module, Tensor, Tensor], float]] = {
    "synflow": synflow, "naswot": naswot, "snip": snip, "grad_norm": grad_norm, "grasp": grasp,
    "fisher": fisher, "jacob_cov": jacob_cov, "params": params, "flops": flops,
}


def check_proxy_names(names: Iterable[str] | None) -> list[str]:
    """The names to compute (all of ``PROXIES`` for None); a ``ValueError`` names an unknown one."""
    if isinstance(names, str):
        names = [names]
    names = list(PROXIES) if names is None else list(names)
    for name in names:
        if name not in PROXIES:
            raise ValueError(f"unknown proxy {name!r}; known proxies are {', '.join(PROXIES)}")
    return names


# Minibatch sizes of the reference code: Mellor et al.'s score_networks.py (--batch_size 128) for
# naswot, zero-cost-nas's nasbench2_pred.py (--batch_size 64) for every other proxy.
REFERENCE_BATCH_SIZES: dict[str, int] = {"naswot": 128}
DEFAULT_BATCH_SIZE = 64


def reference_batch_size(name: str) -> int:
    """The minibatch size that proxy ``name``'s reference code scores with (128 for naswot, else 64)."""
    check_proxy_names([name])
    return REFERENCE_BATCH_SIZES.get(name, DEFAULT_BATCH_SIZE)


def minibatch(data: Dataset, batch_size: int, seed: int) -> tuple[Tensor, Tensor]:
    """``batch_size`` training examples drawn without replacement by a generator seeded with ``seed``.

    The draw is the first ``batch_size`` of one seeded permutation, so a smaller batch of the
    same seed is a prefix of a larger one.
    """
    n = len(data.y_train)
    check_whole("batch_size", batch_size, 1, n, why="the training examples")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch_size]
    return data.x_train[order], data.y_train[order]


def batch_sizes(names: list[str], batch_size: int | None, data: Dataset) -> dict[str, int]:
    """Examples each proxy scores on: ``batch_size`` for all, or for None each one's reference size."""
    if batch_size is not None:
        return {name: batch_size for name in names}
    sizes = {name: reference_batch_size(name) for name in names}
    n = len(data.y_train)
    for name, size in sizes.items():
        if size > n:
            raise ValueError(f"{name}'s reference minibatch has {size} examples but {data.name} has only {n} "
                             f"training examples; pass batch_size=<at most {n}>")
    return sizes


def compute_proxies(
    arch: Arch | str,
    data: Dataset,
    names: Iterable[str] | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    network: NetworkConfig | None = None,
) -> dict[str, float]:
    """Score the untrained network of ``arch`` with zero-cost proxies.

    Args:
        arch: the cell (an ``Arch`` or an NB201 string).
        data: the dataset; the minibatch comes from its training split.
        names: proxies to compute, keys of ``PROXIES`` (default: all of them).
        seed: seeds both the weight initialisation (``build_model(..., seed=seed)``) and the
            minibatch (a ``torch.Generator``); the global RNGs are never used.
        batch_size: examples in the minibatch of every proxy. None (default): each proxy
            scores on its reference's size (``reference_batch_size``: 128 for naswot, 64 for
            the others); the smaller batch is the first examples of the larger one.
        network: the macro skeleton (default ``NetworkConfig()``); its ``ndim``,
            ``in_channels`` and ``num_classes`` are set from ``data``.

    Returns:
        ``{name: score}`` and, for each, ``{name}_seconds``: the CPU seconds the proxy took
        (process time, all threads, as ``TrainingEvaluator`` reports training).

    Example:
        >>> from naskit.data import load_dataset
        >>> scores = compute_proxies("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
        ...                          load_dataset("mnist1d"), names=["params", "naswot"], batch_size=16)
        >>> scores["params"], scores["naswot"] > 0
        (11170.0, True)
    """
    names = check_proxy_names(names)
    sizes = batch_sizes(names, batch_size, data)
    x, y = minibatch(data, max(sizes.values(), default=1), seed)
    config = dataclasses.replace(network or NetworkConfig(), ndim=data.ndim, in_channels=data.in_channels,
                                 num_classes=data.num_classes)
    model = build_model(arch, config, seed=seed)
    scores: dict[str, float] = {}
    for name in names:
        n = sizes[name]
        with Stopwatch() as watch:
            scores[name] = PROXIES[name](model, x[:n], y[:n])
        scores[f"{name}_seconds"] = watch.cpu_seconds
    return scores
