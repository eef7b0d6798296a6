"""Real training as an evaluator: the cell is trained with ``naskit.trainer.loop.train``."""

from __future__ import annotations

from dataclasses import asdict

from naskit.core.checks import as_arch, check_fidelity
from naskit.core.configs import MNIST1DArgs, NetworkConfig, TrainConfig
from naskit.core.space import Arch
from naskit.core.types import Result


class TrainingEvaluator:
    """Train the cell for real with ``naskit.train``; fidelity is the number of epochs.

    Cost: ``sim_seconds`` is the measured CPU seconds (real training has no simulated clock).
    The dataset is loaded by name inside the worker, so the evaluator pickles small. A run
    whose loss became non-finite is a ``"diverged"`` result, one that crashed a ``"failed"``
    one (``naskit.trainer.loop.train`` records both); neither raises.

    Args:
        dataset: ``"mnist1d"`` or ``"digits"``.
        config: the training protocol; its ``epochs`` is the full fidelity.
        epochs: the fidelity used when a strategy asks for none (default: full); e.g. 3 makes
            a low-fidelity estimator, while ``search(..., final=True)`` trains the incumbent fully.
        network, seed, n_train: the network shape, the training seed, a smaller training set
            (the first ``n_train`` training examples).
    """

    name = "training"

    def __init__(self, dataset: str = "mnist1d", config: TrainConfig | None = None,
                 network: NetworkConfig | None = None, seed: int = 0, n_train: int | None = None,
                 epochs: int | None = None):
        check_dataset_name(dataset)
        if n_train is not None:
            from naskit.data import load_dataset

            load_dataset(dataset).subset(n_train)  # its ValueError gives the allowed range; nothing is kept
        self.dataset, self.seed, self.n_train = dataset, seed, n_train
        self.config = config or TrainConfig()
        self.network = network or NetworkConfig()
        self.max_fidelity = self.config.epochs
        self.epochs = check_fidelity(epochs, self.max_fidelity)

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        from naskit.data import load_dataset
        from naskit.trainer.loop import train

        arch = as_arch(arch)
        epochs = self.epochs if fidelity is None else check_fidelity(fidelity, self.max_fidelity)
        data = load_dataset(self.dataset)
        if self.n_train is not None:
            data = data.subset(self.n_train)
        r = train(arch, data, epochs=epochs, seed=self.seed, config=self.config, network=self.network)
        nan = float("nan")
        return Result(
            arch, fidelity, r.final_valid_acc if r.ok else nan, r.final_test_acc if r.ok else nan,
            status=r.status, error=r.error, flops=r.train_flops + r.eval_flops,
            sim_seconds=r.cpu_seconds, wall_seconds=r.wall_seconds, cpu_seconds=r.cpu_seconds,
        )

    def describe(self) -> dict:
        from naskit.data import dataset_spec

        return {"name": self.name, "dataset": dataset_spec(self.dataset), "seed": self.seed, "n_train": self.n_train,
                "epochs": self.epochs, "train": asdict(self.config), "network": asdict(self.network)}


def check_dataset_name(dataset: str | MNIST1DArgs) -> None:
    """A ``ValueError`` naming the known datasets when ``dataset`` is none of them (checked without
    loading; an ``MNIST1DArgs`` describes a generated dataset, and ``load_dataset`` takes it too)."""
    from naskit.data import available_datasets

    if not isinstance(dataset, MNIST1DArgs) and dataset not in available_datasets():
        raise ValueError(f"unknown dataset {dataset!r}; known datasets are {', '.join(available_datasets())}")
