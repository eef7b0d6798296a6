"""A fast, deterministic trainer for small networks on a CPU.

Small NB201 networks are dominated by per-call overhead, not arithmetic, so the trainer
keeps the whole dataset in one tensor, draws each minibatch by indexing it (no
``DataLoader``, no per-sample Python), and evaluates the validation and test sets in one
forward pass each. Every random choice comes from ``seed``: the weight initialisation
(``build_model(seed=...)``) and the shuffling (a private ``torch.Generator``). With the same
seed and thread count the curves are bit-identical.

Example:
    >>> from naskit.data import load_dataset
    >>> result = train("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    ...                load_dataset("mnist1d"), epochs=2, seed=0)
    >>> result.ok, len(result.valid_acc)
    (True, 2)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from naskit import cost
from naskit.data import Dataset
from naskit.network import Network, NetworkConfig, build_model
from naskit.space import Arch, parse

OPTIMIZERS = ("sgd", "adam")
TEST_EPOCHS = ("every_epoch", "last_epoch")


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


@dataclass(frozen=True)
class TrainConfig:
    """The training protocol. NB201's recipe (SGD, Nesterov momentum 0.9, cosine schedule,
    weight decay 5e-4), shortened to a few epochs; batch 128, since
    at 8 epochs batch 256 gives too few steps (about 8 points lower accuracy on MNIST-1D)."""

    epochs: int = 8
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = True
    optimizer: str = "sgd"  # "sgd" (the protocol above) or "adam" (momentum/nesterov unused)
    schedule: str = "cosine"  # "cosine" (per step, to 0) or "constant"
    # torch intra-op threads while training (restored afterwards). One thread is the fastest
    # for these small networks, and fixing it makes results independent of the machine's core
    # count (bit-level results depend on it). None: use the process's current setting.
    threads: int | None = 1
    # When the test split is evaluated: "every_epoch" (a full test curve) or "last_epoch" (only
    # the final accuracy; earlier entries are NaN). With large test sets the per-epoch test pass
    # costs as much as training, and only the final value is a ground truth.
    test_epochs: str = "every_epoch"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"unknown schedule {self.schedule!r}; choose 'cosine' or 'constant'")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.test_epochs not in TEST_EPOCHS:
            raise ValueError(f"unknown test_epochs {self.test_epochs!r}; choose one of {', '.join(TEST_EPOCHS)}")

    def tests_after(self, epoch: int) -> bool:
        """Whether the test split is evaluated after ``epoch`` (1-based)."""
        return self.test_epochs == "every_epoch" or epoch == self.epochs


@dataclass
class TrainResult:
    """Per-epoch curves (index e = after epoch e+1) and the cost of one training run.

    ``status`` is ``"ok"``, ``"diverged"`` (a non-finite loss stopped training) or
    ``"failed"`` (an exception, given in ``error``). Accuracies are fractions in [0, 1].
    """

    arch: str
    seed: int
    epochs: int
    train_loss: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    params: int = 0
    forward_flops: int = 0  # one forward pass of one example, 2 FLOPs per multiply-add
    train_flops: int = 0  # forward + backward over every training example, all epochs
    eval_flops: int = 0  # forward passes over the validation and test sets, all epochs
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    status: str = "ok"
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def final_valid_acc(self) -> float:
        return self.valid_acc[-1] if self.valid_acc else float("nan")

    @property
    def final_test_acc(self) -> float:
        return self.test_acc[-1] if self.test_acc else float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of the whole split in one forward pass."""
    model.eval()
    with torch.inference_mode():
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).double().mean().item()
    model.train()
    return acc, loss


def make_schedule(opt: torch.optim.Optimizer, config: TrainConfig, n_train: int):
    """The learning-rate schedule, stepped once per minibatch."""
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    # Cosine annealing per step, from lr to 0 over the whole run (Loshchilov & Hutter 2017).
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * steps_per_epoch)
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


def _run_epochs(model, data, config, device, result, generator) -> None:
    x, y, xv, yv, xt, yt = data.splits_on(device)
    n = len(y)
    opt = make_optimizer(model, config)
    sched = make_schedule(opt, config, n)
    model.train()
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(n, generator=generator).to(device)
        total = torch.zeros((), device=device)
        for start in range(0, n, config.batch_size):
            idx = order[start:start + config.batch_size]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.detach() * len(idx)
        epoch_loss = (total / n).item()
        result.train_loss.append(epoch_loss)
        if not math.isfinite(epoch_loss):
            result.status, result.error = "diverged", f"non-finite training loss {epoch_loss}"
            return
        valid_acc, valid_loss = _evaluate(model, xv, yv)
        test_acc = _evaluate(model, xt, yt)[0] if config.tests_after(epoch) else float("nan")
        result.valid_acc.append(valid_acc)
        result.valid_loss.append(valid_loss)
        result.test_acc.append(test_acc)


def count_run_flops(model: nn.Module, data: Dataset, config: TrainConfig, device, result: TrainResult) -> None:
    """Fill in ``result``'s FLOPs of the whole run, measured on one example (on copies: the
    model is untouched): training steps, and the evaluation passes the protocol makes."""
    example = data.x_train[:1].to(device)
    result.forward_flops = cost.forward_flops(model, example)
    step_flops = cost.train_step_flops(model, example, data.y_train[:1].to(device))
    result.train_flops = step_flops * len(data.y_train) * config.epochs
    test_passes = sum(config.tests_after(e) for e in range(1, config.epochs + 1))
    result.eval_flops = result.forward_flops * (len(data.y_valid) * config.epochs + len(data.y_test) * test_passes)


def train(
    arch_or_model: Arch | str | nn.Module,
    data: Dataset,
    epochs: int | None = None,
    seed: int = 0,
    config: TrainConfig | None = None,
    network: NetworkConfig | None = None,
    device: str | torch.device = "cpu",
) -> TrainResult:
    """Train a cell (or a ready ``nn.Module``) on ``data`` and return its curves and cost.

    Args:
        arch_or_model: an ``Arch``, an NB201 string, or any module mapping a batch to logits.
        data: a ``Dataset`` from ``load_dataset``.
        epochs: overrides ``config.epochs`` when given.
        seed: seeds the initialisation (for a cell) and the minibatch order.
        config: the ``TrainConfig`` protocol (defaults above).
        network: the ``NetworkConfig`` for a cell; channels and classes follow ``data``.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"mps"``.

    Returns:
        A ``TrainResult``. A non-finite loss or an exception in training gives a result
        with ``status`` ``"diverged"`` or ``"failed"`` instead of raising.
    """
    config = config or TrainConfig()
    if epochs is not None:
        config = TrainConfig(**{**asdict(config), "epochs": epochs})
    with threads_set(config.threads):
        return _train(arch_or_model, data, seed, config, network, device)


@contextlib.contextmanager
def threads_set(threads: int | None):
    """Run a block with torch's intra-op thread count set to ``threads`` (None: unchanged),
    restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def network_for(data: Dataset, network: NetworkConfig | None) -> NetworkConfig:
    """``network`` (default ``NetworkConfig()``) with its input and output fitted to ``data``."""
    return dataclasses.replace(network or NetworkConfig(), ndim=data.ndim, in_channels=data.in_channels,
                               num_classes=data.num_classes)


def _train(arch_or_model, data, seed, config, network, device) -> TrainResult:
    if isinstance(arch_or_model, nn.Module):
        model, label = arch_or_model.to(device), type(arch_or_model).__name__
        if isinstance(arch_or_model, Network):
            label = str(arch_or_model.arch)
    else:
        arch = parse(arch_or_model) if isinstance(arch_or_model, str) else arch_or_model
        model, label = build_model(arch, network_for(data, network), seed=seed, device=device), str(arch)
    result = TrainResult(arch=label, seed=seed, epochs=config.epochs)
    result.params = cost.count_params(model)
    generator = torch.Generator().manual_seed(seed)
    with cost.Stopwatch() as watch:
        try:
            count_run_flops(model, data, config, device, result)
            _run_epochs(model, data, config, device, result, generator)
        except Exception as exc:  # a failed candidate is a result, not a crash of the search
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
    result.wall_seconds, result.cpu_seconds = watch.wall_seconds, watch.cpu_seconds
    return result
