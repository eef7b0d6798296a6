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

import dataclasses
import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from naskit.core.checks import as_arch
from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.core.space import Arch
from naskit.cost import flops as cost
from naskit.cost.stopwatch import Stopwatch
from naskit.data import Dataset, as_dataset
from naskit.nn.network import Network, build_model
from naskit.runtime.threads import threads_set
from naskit.trainer.sgd import make_optimizer, make_schedule


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

    def cost_phases(self) -> dict[str, dict[str, float]]:
        """The run's cost by phase (``naskit.cost.accounting``): training and validating one cell
        is the ``final`` phase."""
        return {"final": {"flops": self.train_flops + self.eval_flops, "wall_seconds": self.wall_seconds,
                          "cpu_seconds": self.cpu_seconds}}

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


def check_trainable(data: Dataset, config: TrainConfig | None = None) -> None:
    """A ``ValueError`` naming the argument when ``data`` is too small to train on, before any work.

    The smallest training set is one with as many examples as classes: with fewer, some classes
    are never seen and the accuracy stays near chance, whatever the cell. With ``config``, a
    minibatch (``batch_size``) larger than the training set is refused too: every epoch would be
    one step on the whole set, not the minibatches the protocol records, and a few epochs of that
    train nothing.
    """
    n, classes = len(data.y_train), data.num_classes
    if n < classes:
        raise ValueError(f"data has {n} training example(s) ({data.name}); training needs at least {classes}, one "
                         f"per class: with fewer, some of the {classes} classes are never seen and the accuracy stays "
                         "near chance; train on more examples (a larger subset, or n_train)")
    if config is not None and config.batch_size > n:
        raise ValueError(f"batch_size {config.batch_size} (config.batch_size) is larger than the {n} training "
                         f"examples of {data.name}: every epoch would be a single step on all of them; use "
                         f"TrainConfig(batch_size=...) of at most {n}, or more training data")


def train(
    arch_or_model: Arch | str | nn.Module,
    data: Dataset | str,
    epochs: int | None = None,
    seed: int = 0,
    config: TrainConfig | None = None,
    network: NetworkConfig | None = None,
    device: str | torch.device = "cpu",
) -> TrainResult:
    """Train a cell (or a ready ``nn.Module``) on ``data`` and return its curves and cost.

    Args:
        arch_or_model: an ``Arch``, an NB201 string, or any module mapping a batch to logits.
        data: a ``Dataset`` from ``load_dataset``, or a dataset's name (``"mnist1d"``, ``"digits"``).
            It needs at least as many training examples as classes, and as ``config.batch_size``
            (``check_trainable``).
        epochs: overrides ``config.epochs`` when given.
        seed: seeds the initialisation (for a cell) and the minibatch order.
        config: the ``TrainConfig`` protocol (defaults above).
        network: the ``NetworkConfig`` for a cell; channels and classes follow ``data``.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"mps"``.

    Returns:
        A ``TrainResult``. A non-finite loss or an exception in training gives a result
        with ``status`` ``"diverged"`` or ``"failed"`` instead of raising.

    Raises:
        ValueError: before any work, for an unknown dataset name or data too small to train on.
    """
    data = as_dataset(data)
    config = config or TrainConfig()
    if epochs is not None:
        config = TrainConfig(**{**asdict(config), "epochs": epochs})
    check_trainable(data, config)
    with threads_set(config.threads):
        return _train(arch_or_model, data, seed, config, network, device)


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
        arch = as_arch(arch_or_model)
        model, label = build_model(arch, network_for(data, network), seed=seed, device=device), str(arch)
    result = TrainResult(arch=label, seed=seed, epochs=config.epochs)
    result.params = cost.count_params(model)
    generator = torch.Generator().manual_seed(seed)
    with Stopwatch() as watch:
        try:
            count_run_flops(model, data, config, device, result)
            _run_epochs(model, data, config, device, result, generator)
        except Exception as exc:  # a failed candidate is a result, not a crash of the search
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
    result.wall_seconds, result.cpu_seconds = watch.wall_seconds, watch.cpu_seconds
    return result
