"""Zero-cost proxies: score an *untrained* network from one minibatch, for about the cost of a training step.

Each proxy is one function ``proxy(model, x, y) -> float`` (higher is meant to be better),
computed on a deep copy of ``model``, so the caller's weights and BN statistics never change.
A proxy draws no random numbers: it is deterministic for a given model and batch (at a
fixed number of torch threads, like any float computation).
The definitions follow the reference implementation of Abdelfattah et al. (2021),
"Zero-Cost Proxies for Lightweight NAS", ICLR (github.com/SamsungLabs/zero-cost-nas), also
used by NASLib:

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
a cell's network and scores it with any of ``PROXIES``.

Example:
    >>> import torch
    >>> from naskit.network import build_model
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

from naskit.cost import Stopwatch, count_params, forward_flops
from naskit.data import Dataset
from naskit.network import NetworkConfig, build_model
from naskit.space import Arch

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


# --- Baselines -----------------------------------------------------------------------------------
def params(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Number of trainable parameters (``naskit.cost.count_params``): the simplest baseline."""
    return float(count_params(model))


def flops(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """FLOPs (2 per multiply-add) of a forward pass on one example, ``x[:1]`` (``naskit.cost.forward_flops``)."""
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
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
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


def fisher(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Fisher: the loss change when a channel is removed, summed over all channels.

    Theis et al. (2018), "Faster gaze prediction with dense networks and Fisher pruning";
    Turner et al. (2020), "BlockSwap"; as a NAS proxy, Abdelfattah et al. (2021). For each
    channel ``k`` of an activation ``a`` with gradient ``g = ∂L/∂a``,
    ``Δ_k = 1/2 · mean over examples n of (sum over positions of a_nk ⊙ g_nk)²``
    (Theis et al. Eq. 8); the score sums ``Δ_k`` over all channels of all hooked activations.
    Hooked, as in Abdelfattah et al.: the output of every conv and linear layer (before its
    BatchNorm). A fused conv of sibling edges has one channel per edge channel, so fusion
    does not change the score.
    """
    probe = _probe(model)
    activations: list[Tensor] = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: activations.append(out))
             for m in probe.modules() if isinstance(m, _WEIGHTED)]
    try:
        loss = _loss(probe, x, y)
    finally:
        for h in hooks:
            h.remove()
    total = 0.0
    for a, g in zip(activations, _grads(loss, activations)):
        ag = a.detach() * g
        per_channel = ag.flatten(2).sum(2) if ag.dim() > 2 else ag  # (N, channels)
        total += float(per_channel.pow(2).mean(0).mul(0.5).sum())
    return total


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
    calls such as the ``torch.relu`` of ``naskit.network.Cell`` alike, once per call.
    """

    RELUS = frozenset({torch.relu, torch.relu_, F.relu, F.relu_, Tensor.relu, Tensor.relu_})

    def __init__(self):
        super().__init__()
        self.codes: list[Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in self.RELUS:  # the mode is paused inside this method: no recursion
            self.codes.append((out > 0).flatten(1))
        return out


def naswot(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """NASWOT: how differently the untrained network's ReLUs partition a batch.

    Mellor et al. (2021), "Neural Architecture Search without Training", ICML (v2 score).
    Each example's binary code is the on/off state of every ReLU unit in one forward pass
    (training mode, no labels), all ReLUs concatenated; the score is
    ``log |det K|`` of ``K = naswot_kernel(codes)`` (``slogdet``).

    Hooked: every ReLU the forward pass calls, module or function (``_ReluCodes``). naskit's
    cell applies one ReLU per source node, shared by that node's conv edges, where NB201
    has one per conv edge, so a shared code counts once here; scores rank by the same
    principle but are not numerically those of an NB201 network. Identical codes for two
    examples (e.g. a disconnected cell) make ``K`` singular: the score is ``-inf``.
    """
    probe = copy.deepcopy(model).train()
    recorder = _ReluCodes()
    with torch.no_grad(), recorder:
        probe(x)
    if not recorder.codes:  # no ReLU at all: every example has the same (empty) code
        return -math.inf
    kernel = naswot_kernel(torch.cat(recorder.codes, dim=1))
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


def minibatch(data: Dataset, batch_size: int, seed: int) -> tuple[Tensor, Tensor]:
    """``batch_size`` training examples drawn without replacement by a generator seeded with ``seed``."""
    n = len(data.y_train)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer in 1..{n} (the training examples), got {batch_size!r}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch_size]
    return data.x_train[order], data.y_train[order]


def compute_proxies(
    arch: Arch | str,
    data: Dataset,
    names: Iterable[str] | None = None,
    seed: int = 0,
    batch_size: int = 64,
    network: NetworkConfig | None = None,
) -> dict[str, float]:
    """Score the untrained network of ``arch`` with zero-cost proxies.

    Args:
        arch: the cell (an ``Arch`` or an NB201 string).
        data: the dataset; the minibatch comes from its training split.
        names: proxies to compute, keys of ``PROXIES`` (default: all of them).
        seed: seeds both the weight initialisation (``build_model(..., seed=seed)``) and the
            minibatch (a ``torch.Generator``); the global RNGs are never used.
        batch_size: examples in the minibatch.
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
    x, y = minibatch(data, batch_size, seed)
    config = dataclasses.replace(network or NetworkConfig(), ndim=data.ndim, in_channels=data.in_channels,
                                 num_classes=data.num_classes)
    model = build_model(arch, config, seed=seed)
    scores: dict[str, float] = {}
    for name in names:
        with Stopwatch() as watch:
            scores[name] = PROXIES[name](model, x, y)
        scores[f"{name}_seconds"] = watch.cpu_seconds
    return scores
