"""What every one-shot search shares: the supernet, its minibatches, its weight step, and
how a cell inherits an accuracy from it.

A search builds one ``OneShotRun``. All its randomness comes from ``config.seed``: the
supernet's initialisation (``build_supernet(seed=...)``), and a private ``torch.Generator``
that draws the minibatches (and the architecture logits' initialisation and Gumbel noise).
The global torch RNG is never used, and the thread count is restored afterwards.

Evaluating a path through the supernet (``accuracy``: the per-epoch ``valid_acc`` and
``supernet_valid_acc`` of every method, and RSPS's ``"whole_split"`` ranking): the mixed ops'
BatchNorm layers keep no running statistics (``track_running_stats=False``, as in
NAS-Bench-201 and DARTS) because every path would need its own; they always normalise with
the batch's statistics. We do the same for the skeleton's BN layers (stem, reductions, head),
whose running statistics were averaged over many different paths (or the mixture): these
evaluations run in train-mode BN on validation batches of ``batch_size``, without gradients,
and the BN buffers are restored afterwards, so evaluating never changes the supernet. It is a
per-batch form of the BN recalibration of single-path one-shot NAS (SPOS, Guo et al. 2020).
(NAS-Bench-201's scripts evaluate in eval mode instead; RSPS's default ranking does too, as
its reference does: ``rsps.one_batch_scores``.)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from naskit.core.configs import NetworkConfig
from naskit.core.space import NUM_EDGES, OPS, Arch, live_edges
from naskit.cost.stopwatch import Stopwatch
from naskit.data import Dataset
from naskit.nn.supernet import SuperNet, build_supernet
from naskit.oneshot.config import OneShotConfig

SKIP = OPS.index("skip_connect")


def derive(alpha: torch.Tensor) -> Arch:
    """The cell of the largest architecture weight on every edge, ``none`` included.

    That is the ``genotype()`` of NAS-Bench-201's search models (Dong & Yang 2020). DARTS's rule for its
    space (Liu et al. 2019, Sec. 2.4) excludes ``none`` and keeps the top-2 incoming edges of
    each node; in NB201 every edge stays, and ``none`` is how a cell drops one.
    """
    return Arch(tuple(OPS[k] for k in alpha.detach().argmax(dim=1).tolist()))


def skip_share(arch: Arch) -> float:
    """Fraction of the cell's edges that are ``skip_connect`` (DARTS's collapse sign)."""
    return arch.ops.count("skip_connect") / NUM_EDGES


@dataclass(frozen=True)
class PathFlops:
    """Forward FLOPs per example (2 per multiply-add) of any path or mixture of a supernet.

    ``FlopCounterMode`` counts convolutions and the classifier only, so a path costs the
    skeleton (stem, reductions, head, classifier) plus, for each live edge, what its conv op
    costs summed over all cells (every cell has the same arch; skip and pooling cost 0).
    Measured once, on one example: the skeleton with the all-``none`` cell, and each conv op
    alone on the edge 0 -> 3. The DARTS mixture runs every op on every edge.
    """

    skeleton: int
    per_edge: dict[str, int]

    @classmethod
    def measure(cls, supernet: SuperNet, example: torch.Tensor) -> PathFlops:
        def count(ops: tuple[str, ...]) -> int:
            with batch_statistics(supernet), FlopCounterMode(display=False) as counter:
                supernet(example, arch=Arch(ops))
            return int(counter.get_total_flops())

        skeleton = count(("none",) * NUM_EDGES)
        per_edge = {op: count(("none",) * 3 + (op, "none", "none")) - skeleton
                    for op in ("nor_conv_1x1", "nor_conv_3x3")}
        return cls(skeleton, per_edge)

    def path(self, arch: Arch) -> int:
        return self.skeleton + sum(self.per_edge.get(arch.ops[e], 0) for e in live_edges(arch))

    def mixture(self) -> int:
        return self.skeleton + NUM_EDGES * sum(self.per_edge.values())

    def of(self, mode: dict) -> int:
        """FLOPs per example of ``supernet(x, **mode)``."""
        if "weights" in mode:
            return self.mixture()
        if "hard" in mode:
            return self.path(derive(mode["hard"]))
        return self.path(mode["arch"])


@contextlib.contextmanager
def batch_statistics(supernet: nn.Module) -> Iterator[None]:
    """Train-mode BN (batch statistics) without gradients; BN buffers and mode restored after."""
    saved = [b.clone() for b in supernet.buffers()]
    was_training = supernet.training
    supernet.train()
    try:
        with torch.no_grad():
            yield
    finally:
        with torch.no_grad():
            for b, s in zip(supernet.buffers(), saved):
                b.copy_(s)
        supernet.train(was_training)


def accuracy(supernet: SuperNet, x: torch.Tensor, y: torch.Tensor, mode: Callable[[], dict],
             batch_size: int, tally: Callable[[dict, int], None] | None = None) -> float:
    """Accuracy on ``(x, y)`` in batches of ``batch_size``, running ``supernet(xb, **mode())``.

    ``mode`` is called once per batch (a fixed path, the mixture, or a fresh sample);
    ``tally(mode, batch_examples)``, when given, is told what each batch ran.
    """
    correct = 0
    with batch_statistics(supernet):
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            m = mode()
            if tally is not None:
                tally(m, len(yb))
            correct += int((supernet(xb, **m).argmax(1) == yb).sum())
    return correct / len(y)


class OneShotRun:
    """One search's supernet, data on its device, weight optimizer, minibatches and FLOP tally."""

    def __init__(self, data: Dataset, config: OneShotConfig):
        if not isinstance(data, Dataset):
            raise ValueError(f"data must be a naskit Dataset (naskit.load_dataset), got {type(data).__name__}")
        self.config, self.device = config, torch.device(config.device)
        network = NetworkConfig(channels=config.channels, cells_per_stage=config.cells_per_stage,
                                ndim=data.ndim, in_channels=data.in_channels, num_classes=data.num_classes)
        self.supernet = build_supernet(network, seed=config.seed, device=self.device)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.x, self.y = data.x_train.to(self.device), data.y_train.to(self.device)
        self.xv, self.yv = data.x_valid.to(self.device), data.y_valid.to(self.device)
        self.steps_per_epoch = math.ceil(len(self.y) / config.batch_size)
        self.total_steps = config.epochs * self.steps_per_epoch
        self.weights = [p for p in self.supernet.parameters() if p.requires_grad]
        # SGD with Nesterov momentum. Not naskit.trainer.sgd.FlatSGD, which moves every weight each
        # step: on a single path (RSPS, GDAS) the ops off the path get no gradient (None), and
        # torch's SGD leaves them alone, momentum and decay too. The learning rate follows a
        # cosine per epoch, as DARTS's train_search.py and NB201's search scripts anneal it:
        # epoch e (0..T-1) trains at w_lr_min + (w_lr - w_lr_min) * (1 + cos(pi e / T)) / 2.
        self.w_opt = torch.optim.SGD(self.weights, lr=config.w_lr, momentum=config.w_momentum,
                                     weight_decay=config.w_weight_decay, nesterov=config.w_momentum > 0,
                                     foreach=True)
        self.w_sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.w_opt, T_max=config.epochs, eta_min=config.w_lr_min)
        self.epochs_started = 0
        self.flops = PathFlops.measure(self.supernet, self.x[:1])
        self.search_flops = self.eval_flops = 0
        self.eval_watch = Stopwatch()  # seconds spent evaluating cells (accumulates)
        self._valid_order: list[torch.Tensor] = []

    def train_batches(self) -> Iterator[torch.Tensor]:
        """One epoch of training-split indices: a fresh permutation, in ``batch_size`` slices.
        Starting an epoch after the first moves the learning rate to that epoch's."""
        if self.epochs_started:
            self.w_sched.step()
        self.epochs_started += 1
        order = torch.randperm(len(self.y), generator=self.generator).to(self.device)
        return iter(order.split(self.config.batch_size))

    def valid_batch(self) -> torch.Tensor:
        """The next validation-split minibatch; a fresh permutation whenever one is used up."""
        if not self._valid_order:
            order = torch.randperm(len(self.yv), generator=self.generator).to(self.device)
            self._valid_order = list(order.split(self.config.batch_size))[::-1]
        return self._valid_order.pop()

    def loss(self, x: torch.Tensor, y: torch.Tensor, mode: dict) -> torch.Tensor:
        """Cross-entropy of ``supernet(x, **mode)``; its forward and backward join the tally."""
        self.search_flops += 3 * self.flops.of(mode) * len(y)
        return nn.functional.cross_entropy(self.supernet(x, **mode), y)

    def weight_step(self, idx: torch.Tensor, mode: dict) -> float:
        """One SGD step of the supernet's weights on training examples ``idx``; returns the loss."""
        loss = self.loss(self.x[idx], self.y[idx], mode)
        self.w_opt.zero_grad(set_to_none=True)
        loss.backward(inputs=self.weights)
        if self.config.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.weights, self.config.grad_clip)
        self.w_opt.step()
        return loss.item()

    def valid_accuracy(self, mode: Callable[[], dict]) -> float:
        """Validation accuracy with ``mode()`` drawn per batch (see ``accuracy``), FLOPs and time tallied."""
        with self.eval_watch:
            return accuracy(self.supernet, self.xv, self.yv, mode, self.config.batch_size, tally=self.tally_eval)

    def tally_eval(self, mode: dict, examples: int) -> None:
        """Add the forward FLOPs of ``examples`` examples through ``supernet(x, **mode)`` to ``eval_flops``."""
        self.eval_flops += self.flops.of(mode) * examples

    @property
    def w_lr(self) -> float:
        return float(self.w_opt.param_groups[0]["lr"])

