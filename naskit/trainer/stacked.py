"""Train several seeds of one cell at once, as one grouped network.

A tabular benchmark trains every cell with several seeds. On a CPU these small networks are
mostly per-call overhead, so ``train_seeds`` puts the seeds side by side as channel groups of
one network (``naskit.nn.network.stack_networks``): one kernel call does the work of every seed.
Each seed keeps what it would have alone: its own initialisation (``build_model(seed=s)``), its
own minibatch order (a ``torch.Generator`` seeded with ``s``), its own BatchNorm statistics and
its own loss; the sum of the per-seed losses gives each group exactly its own gradient, and
SGD and weight decay act elementwise. The results equal ``train(arch, data, seed=s)`` up to
floating-point rounding, not bit for bit: grouped convolutions sum in another order, and over
hundreds of SGD steps these rounding differences grow (``tests/test_stacked.py`` measures how
far). A benchmark built with ``train_seeds`` is therefore verified with ``train_seeds``.

Example:
    >>> from naskit.data import load_dataset
    >>> results = train_seeds("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    ...                       load_dataset("mnist1d").subset(256), seeds=(0, 1), epochs=1)
    >>> [r.seed for r in results], [len(r.valid_acc) for r in results]
    ([0, 1], [1, 1])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict

import torch
from torch import nn

from naskit.core.checks import as_arch, check_whole
from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.core.space import Arch
from naskit.cost import flops as cost
from naskit.cost.stopwatch import Stopwatch
from naskit.data import Dataset, as_dataset
from naskit.nn.network import build_model, stack_networks
from naskit.runtime.threads import threads_set
from naskit.trainer.loop import TrainResult, check_trainable, count_run_flops, network_for
from naskit.trainer.sgd import make_optimizer, make_schedule

EVAL_CHUNK = 500  # examples per evaluation pass: measured fastest on a CPU (2,500 and 10,000 are 1.5-5x slower)


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    for s in seeds:
        check_whole("seeds", s)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be different from each other, got {seeds!r}")
    return seeds


def _grouped_logits(logits: torch.Tensor) -> torch.Tensor:
    """(B, G, classes); a single network (one seed) gives (B, classes)."""
    return logits[:, None] if logits.dim() == 2 else logits


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, groups: int) -> tuple[list[float], list[float]]:
    """Per-group (accuracy, mean cross-entropy) of one split, every group seeing every example."""
    model.eval()
    correct = torch.zeros(groups, dtype=torch.float64)
    loss = torch.zeros(groups, dtype=torch.float64)
    with torch.inference_mode():
        for start in range(0, len(y), EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            logits = _grouped_logits(model(xb.repeat(1, groups, *([1] * (xb.dim() - 2)))))  # (B, G, classes)
            targets = yb[:, None].expand(-1, groups)
            loss += nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none").sum(0).double()
            correct += (logits.argmax(2) == targets).sum(0).double()
    model.train()
    return (correct / len(y)).tolist(), (loss / len(y)).tolist()


def _run_epochs(model, data: Dataset, config: TrainConfig, device, results: list[TrainResult],
                generators: list[torch.Generator]) -> None:
    groups = len(results)
    x, y, xv, yv, xt, yt = data.splits_on(device)
    n = len(y)
    opt = make_optimizer(model, config)
    sched = make_schedule(opt, config, n)
    alive = [True] * groups  # a seed whose loss went non-finite stops recording, as train() does
    model.train()
    for epoch in range(1, config.epochs + 1):
        orders = [torch.randperm(n, generator=g).to(device) for g in generators]
        total = torch.zeros(groups, device=device)
        for start in range(0, n, config.batch_size):
            idx = [order[start:start + config.batch_size] for order in orders]
            xb = torch.cat([x[i] for i in idx], dim=1)  # (B, G * in_channels, ...): seed g in group g
            yb = torch.stack([y[i] for i in idx], dim=1)  # (B, G)
            logits = _grouped_logits(model(xb))  # (B, G, classes)
            per_seed = nn.functional.cross_entropy(logits.transpose(1, 2), yb, reduction="none").mean(0)
            opt.zero_grad(set_to_none=True)
            per_seed.sum().backward()  # group g's parameters get exactly d(loss_g)
            opt.step()
            sched.step()
            total += per_seed.detach() * len(idx[0])
        epoch_loss = (total / n).tolist()
        valid_acc, valid_loss = _evaluate(model, xv, yv, groups)
        test_acc = _evaluate(model, xt, yt, groups)[0] if config.tests_after(epoch) else [math.nan] * groups
        for g, result in enumerate(results):
            if not alive[g]:
                continue
            result.train_loss.append(epoch_loss[g])
            if not math.isfinite(epoch_loss[g]):
                result.status, result.error = "diverged", f"non-finite training loss {epoch_loss[g]}"
                alive[g] = False
                continue
            result.valid_acc.append(valid_acc[g])
            result.valid_loss.append(valid_loss[g])
            result.test_acc.append(test_acc[g])
        if not any(alive):
            return


def train_seeds(
    arch: Arch | str,
    data: Dataset | str,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int | None = None,
    config: TrainConfig | None = None,
    network: NetworkConfig | None = None,
    device: str | torch.device = "cpu",
) -> list[TrainResult]:
    """Train ``arch`` once per seed, all seeds together; one ``TrainResult`` per seed, in order.

    Args:
        arch: the cell, an ``Arch`` or an NB201 string.
        data: a ``Dataset`` from ``load_dataset``, or a dataset's name; at least as many training
            examples as classes (``naskit.trainer.loop.check_trainable``).
        seeds: the seeds; seed ``s`` initialises its network and orders its minibatches as
            ``train(arch, data, seed=s)`` does.
        epochs, config, network, device: as for ``naskit.trainer.loop.train``.

    Returns:
        One result per seed. ``wall_seconds`` and ``cpu_seconds`` are each seed's share (the
        whole run's divided by the number of seeds); FLOPs are those of one seed's run.
    """
    seeds = _check_seeds(seeds)
    data = as_dataset(data)
    check_trainable(data)
    config = config or TrainConfig()
    if epochs is not None:
        config = TrainConfig(**{**asdict(config), "epochs": epochs})
    arch = as_arch(arch)
    net = network_for(data, network)
    with threads_set(config.threads):
        models = [build_model(arch, net, seed=s, device=device) for s in seeds]
        results = [TrainResult(arch=str(arch), seed=s, epochs=config.epochs) for s in seeds]
        with Stopwatch() as watch:
            try:
                count_run_flops(models[0], data, config, device, results[0])
                model = stack_networks(models)
                del models
                _run_epochs(model, data, config, device, results, [torch.Generator().manual_seed(s) for s in seeds])
            except Exception as exc:  # a failed candidate is a result, not a crash of the build
                for r in results:
                    r.status, r.error = "failed", f"{type(exc).__name__}: {exc}"
    first, params = results[0], cost.count_params(build_model(arch, net))
    for r in results:
        r.params = params
        r.forward_flops, r.train_flops, r.eval_flops = first.forward_flops, first.train_flops, first.eval_flops
        r.wall_seconds, r.cpu_seconds = watch.wall_seconds / len(seeds), watch.cpu_seconds / len(seeds)
    return results
