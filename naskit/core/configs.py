"""The configurations of a network, a training run and a generated dataset: frozen dataclasses.

Every setting a result depends on is one of these values, passed explicitly and recorded with
the result (a benchmark's protocol holds all three). Plain Python: importing them costs nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from naskit.core.checks import check_whole


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


OPTIMIZERS = ("sgd", "adam")


TEST_EPOCHS = ("every_epoch", "last_epoch")


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
            check_whole(name, value, 1)
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


@dataclass(frozen=True)
class MNIST1DArgs:
    """A generated MNIST-1D dataset: the mnist1d generator's knobs and the size of each split.

    The defaults of the knobs are the published ones (``mnist1d.data.get_dataset_args``).
    Each split is drawn with its own generator seed (``seeds``: train, valid, test), so no
    evaluation example comes from the training data's random stream, and every split is
    standardised with the training split's mean and std (mnist1d standardises each dataset by
    its own). Larger noise, shear or translation make the task harder.
    """

    n_train: int = 4000
    n_valid: int = 10000
    n_test: int = 10000
    corr_noise_scale: float = 0.25
    iid_noise_scale: float = 2e-2
    shear_scale: float = 0.75
    max_translation: int = 48
    scale_coeff: float = 0.4
    final_seq_length: int = 40
    seeds: tuple[int, int, int] = (1, 2, 3)

    def __post_init__(self) -> None:
        for name in ("n_train", "n_valid", "n_test"):
            value = getattr(self, name)
            check_whole(name, value, 10, why="one per class")
        if len(set(self.seeds)) != 3:
            raise ValueError(f"seeds must be three different generator seeds (train, valid, test), got {self.seeds!r}")

    def label(self) -> str:
        """A short readable name with every value that differs from the defaults."""
        defaults = MNIST1DArgs()
        changed = [f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self)
                   if getattr(self, f.name) != getattr(defaults, f.name)]
        return "mnist1d(" + ", ".join(changed) + ")"
