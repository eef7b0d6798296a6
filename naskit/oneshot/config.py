"""The one configuration and the one result shape every one-shot search shares.

The defaults follow DARTS (Liu et al. 2019) and NAS-Bench-201's re-runs of it (Dong & Yang
2020): supernet weights by SGD with momentum 0.9 (Nesterov, as NB201), learning rate 0.025
annealed (cosine) to 0.001, weight decay 3e-4 (DARTS's; NB201 uses 5e-4), gradients clipped
at norm 5, batch 64; architecture logits by Adam at 3e-4 with betas (0.5, 0.999) and weight
decay 1e-3. Epochs and widths are shrunk so that a search runs on a laptop CPU in minutes
(DARTS and NB201 search for 50 epochs at 16 channels).

Example:
    >>> config = OneShotConfig(epochs=2, channels=4)
    >>> config.w_lr, config.arch_betas
    (0.025, (0.5, 0.999))
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import torch

from naskit.core.checks import check_whole
from naskit.core.space import Arch, NB201Space
from naskit.cost import accounting

GDAS_VARIANTS = ("gdas", "gdas_v1")  # NB201's forward_gdas (the reference), forward_gdas_v1
CANDIDATE_SCORINGS = ("one_batch", "whole_split")  # NB201's and NATS-Bench's RSPS, naskit's variant


@dataclass(frozen=True)
class OneShotConfig:
    """Hyperparameters of a one-shot search; each method reads the fields it needs.

    Supernet (weights ``w``, on the training split):
        epochs, batch_size: passes over the training split, and its minibatch size.
        w_lr, w_lr_min: SGD learning rate, annealed per epoch by a cosine towards ``w_lr_min``
            (epoch e of T trains at ``w_lr_min + (w_lr - w_lr_min)(1 + cos(pi e / T)) / 2``, as
            DARTS's and NB201's search scripts).
        w_momentum, w_weight_decay: Nesterov momentum and L2 weight decay.
        grad_clip: clip the weights' gradient to this L2 norm (``None``: no clipping).
        channels, cells_per_stage: the supernet's width and depth (``NetworkConfig``).
    Architecture (logits ``alpha`` of shape (6, 5), on the validation split; DARTS, GDAS):
        arch_lr, arch_betas, arch_weight_decay: Adam's settings.
    GDAS: tau_max, tau_min: Gumbel-softmax temperature, linear per epoch from max to min.
        gdas_variant: which entries of the Gumbel sample get a gradient (``naskit.oneshot.gdas``):
            ``"gdas"`` (NB201's ``forward_gdas``, the reference) or ``"gdas_v1"``.
    RSPS (``naskit.oneshot.rsps``): num_candidates: distinct random cells ranked after training.
        candidate_scoring: how each candidate's inherited accuracy is measured: ``"one_batch"``
            (NB201 and NATS-Bench: one validation batch each, BN in eval mode) or
            ``"whole_split"`` (naskit's variant: the whole validation split in batches of
            ``batch_size``, batch-statistics BN everywhere).
        rank_batch_size: examples in each candidate's batch with ``"one_batch"`` (NB201's
            ``test_batch_size``, 512).
    Run: threads (torch intra-op threads while searching, restored after; ``None`` keeps the
        current setting), device (``"cpu"``, ``"cuda"``, ``"mps"``), seed (every random choice).
    """

    epochs: int = 10
    batch_size: int = 64
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float | None = 5.0
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    channels: int = 8
    cells_per_stage: int = 1
    tau_max: float = 10.0
    tau_min: float = 0.1
    gdas_variant: str = "gdas"
    num_candidates: int = 100
    candidate_scoring: str = "one_batch"
    rank_batch_size: int = 512
    threads: int | None = 1
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "channels", "cells_per_stage", "num_candidates", "rank_batch_size"):
            _whole(name, getattr(self, name), minimum=1)
        if self.num_candidates > len(NB201Space()):
            raise ValueError(f"num_candidates must be at most {len(NB201Space()):,} (every cell of the space), "
                             f"got {self.num_candidates!r}")
        _choice("gdas_variant", self.gdas_variant, GDAS_VARIANTS)
        _choice("candidate_scoring", self.candidate_scoring, CANDIDATE_SCORINGS)
        _whole("seed", self.seed, minimum=0)
        if self.threads is not None:
            _whole("threads", self.threads, minimum=1)
        for name in ("w_lr", "arch_lr", "tau_min"):
            _number(name, getattr(self, name), positive=True)
        for name in ("w_lr_min", "w_weight_decay", "arch_weight_decay"):
            _number(name, getattr(self, name), positive=False)
        if self.w_lr_min > self.w_lr:
            raise ValueError(f"w_lr_min must not exceed w_lr ({self.w_lr}), got {self.w_lr_min!r}")
        if not 0 <= _number("w_momentum", self.w_momentum) < 1:
            raise ValueError(f"w_momentum must be in [0, 1), got {self.w_momentum!r}")
        if self.grad_clip is not None:
            _number("grad_clip", self.grad_clip, positive=True)
        betas = self.arch_betas
        if not (isinstance(betas, tuple) and len(betas) == 2
                and all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"arch_betas must be a pair of numbers in [0, 1), e.g. (0.5, 0.999), got {betas!r}")
        if _number("tau_max", self.tau_max) < self.tau_min:
            raise ValueError(f"tau_max must be at least tau_min ({self.tau_min}), got {self.tau_max!r}")
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device must be 'cpu', 'cuda' or 'mps', got {self.device!r}") from exc


def _choice(name: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def _whole(name: str, value, minimum: int) -> None:
    check_whole(name, value, minimum)


def _number(name: str, value, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if not positive and value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return value


@dataclass(frozen=True)
class EpochLog:
    """What a search looked like after one epoch (``epoch`` counts from 1).

    train_loss: mean cross-entropy of the epoch's weight steps (training split).
    arch_loss: mean cross-entropy of its architecture steps (validation split); None for RSPS.
    valid_acc: inherited validation accuracy of ``arch``, the cell derived if the search
        stopped here (single path, supernet weights, batch-statistics BN; ``common.accuracy``).
        RSPS derives only after its last epoch, so it is None before; then it is the chosen
        candidate's score, measured as ``candidate_scoring`` says (``rsps.rank``).
    supernet_valid_acc: validation accuracy of the supernet as it trains: the DARTS mixture,
        a fresh Gumbel sample (GDAS) or a fresh random path (RSPS) per validation batch.
    arch_weights: ``softmax(alpha)`` as a (6, 5) list, rows in ``EDGES`` order, columns in
        ``OPS`` order (RSPS: its uniform sampling distribution).
    skip_share: fraction of ``arch``'s 6 edges that are ``skip_connect`` (None with ``arch``).
    schedule: the annealed knobs at the end of the epoch, e.g. ``{"w_lr": .., "tau": ..}``.
    search_flops, eval_flops: the search's FLOPs so far, to the end of this epoch (see
        ``OneShotResult``).
    """

    epoch: int
    train_loss: float
    arch_loss: float | None
    valid_acc: float | None
    supernet_valid_acc: float
    arch: str | None
    arch_weights: list[list[float]]
    skip_share: float | None
    schedule: dict[str, float] = field(default_factory=dict)
    search_flops: int = 0
    eval_flops: int = 0


@dataclass
class OneShotResult:
    """The outcome of one one-shot search, the same shape for every method.

    Attributes:
        method: the key in ``naskit.oneshot.METHODS`` (``"darts"``, ...).
        arch: the derived cell.
        config: the ``OneShotConfig`` it ran with.
        history: one ``EpochLog`` per epoch run.
        stopped_early: True when an early-stopping rule (DARTS+) ended the search.
        ranking: RSPS: every candidate's score (``candidate_scoring``), by NB201 string, in the
            order the candidates were drawn (``rsps.candidates``).
        wall_seconds, cpu_seconds: measured by ``naskit.cost.stopwatch.Stopwatch`` over the whole search.
        search_flops: FLOPs of the weight and architecture steps, ``3 x forward`` each (the
            usual rule: a backward pass costs about two forward passes).
        eval_flops: FLOPs of the forward passes that evaluated and ranked cells.
            Both count 2 FLOPs per multiply-add of convolutions and the classifier
            (``FlopCounterMode``); the forward FLOPs per example of each path or mixture come
            from ``naskit.oneshot.common.PathFlops``, measured once per search.
        eval_wall_seconds, eval_cpu_seconds: the part of the seconds spent evaluating cells.
        supernet: the trained ``SuperNet`` (not serialised), e.g. to ``rsps.rank`` more cells,
            or to read another RSPS ranking off the search (``rsps.rsps_from``).
    """

    method: str
    arch: Arch
    config: OneShotConfig
    history: list[EpochLog] = field(default_factory=list)
    stopped_early: bool = False
    ranking: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    search_flops: int = 0
    eval_flops: int = 0
    eval_wall_seconds: float = 0.0
    eval_cpu_seconds: float = 0.0
    supernet: torch.nn.Module | None = field(default=None, repr=False, compare=False)

    @property
    def flops(self) -> int:
        return self.search_flops + self.eval_flops

    @property
    def device(self) -> str:
        """Where the search ran (``config.device``): the cost breakdown's energy estimate reads it."""
        return self.config.device

    def cost_phases(self) -> dict[str, dict[str, float]]:
        """The search's cost by phase (``naskit.cost.accounting``): training the supernet and the
        architecture (``search``), and evaluating and ranking cells on it (``evaluation``)."""
        return {
            "search": {"flops": self.search_flops, "wall_seconds": self.wall_seconds - self.eval_wall_seconds,
                       "cpu_seconds": self.cpu_seconds - self.eval_cpu_seconds},
            "evaluation": {"flops": self.eval_flops, "wall_seconds": self.eval_wall_seconds,
                           "cpu_seconds": self.eval_cpu_seconds},
        }

    def cost_breakdown(self, final=None):
        """Phase-by-phase cost (``naskit.cost.accounting.cost_breakdown``); ``final``: the found
        cell's training, when done."""
        return accounting.cost_breakdown(self, final=final)

    def to_dict(self) -> dict:
        """Plain JSON-ready values: the arch as its NB201 string, without the supernet."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "supernet"}
        out.update(arch=str(self.arch), config=asdict(self.config),
                   history=[asdict(log) for log in self.history], flops=self.flops)
        out["config"]["arch_betas"] = list(self.config.arch_betas)
        return out
