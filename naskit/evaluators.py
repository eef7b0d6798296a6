"""Evaluators: turn a proposal into a ``Result`` with its cost, whatever the estimate is.

Every evaluator has ``evaluate(arch, fidelity=None) -> Result``, a ``max_fidelity`` and a
``describe()`` dict (recorded in the ledger), so the search loop and the plots never care
whether a result was looked up, trained or predicted. Evaluators are picklable, so a process
pool or a Dask cluster can run them.

Example:
    >>> import pandas as pd
    >>> from naskit.bench.table import TabularBenchmark
    >>> arch = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"
    >>> bench = TabularBenchmark.from_table(pd.DataFrame({"arch": [arch], "valid_acc": [0.9], "test_acc": [0.89]}))
    >>> TabularEvaluator(bench).evaluate(arch).valid_acc
    0.9
"""

from __future__ import annotations

from dataclasses import asdict

from naskit.bench.table import TabularBenchmark
from naskit.network import NetworkConfig
from naskit.space import Arch, parse
from naskit.strategies.base import Result
from naskit.train import TrainConfig


def _arch(arch: Arch | str) -> Arch:
    return parse(arch) if isinstance(arch, str) else arch


def _fidelity(fidelity: int | None, max_fidelity: int) -> int:
    if fidelity is None:
        return max_fidelity
    if isinstance(fidelity, bool) or not isinstance(fidelity, int) or not 1 <= fidelity <= max_fidelity:
        raise ValueError(f"fidelity (epochs) must be an integer in 1..{max_fidelity}, got {fidelity!r}")
    return fidelity


SIGNALS = ("one_run", "mean")


class TabularEvaluator:
    """Look results up in a ``TabularBenchmark``; cost is its simulated clock.

    Args:
        bench: the table (``naskit.load_benchmark()``).
        seed: which training run each query reads when ``signal`` is ``"one_run"``: one of the
            cell's runs, drawn reproducibly from this seed and the cell
            (``TabularBenchmark.drawn_seed``). ``naskit.experiment`` gives each search run its own.
        epochs: the fidelity used when a strategy asks for none (default: the table's last
            epoch); e.g. ``epochs=2`` makes a cheap low-fidelity evaluator.
        signal: ``"one_run"`` (default): each candidate is "trained" once and the search sees
            that run's validation accuracy, seed noise included, as a real search would;
            ``"mean"``: the mean over the class's runs, a search that could afford every seed.
            Experiments judge every search by the mean test accuracy over seeds either way.
    """

    name = "tabular"

    def __init__(self, bench: TabularBenchmark, seed: int = 0, epochs: int | None = None, signal: str = "one_run"):
        if signal not in SIGNALS:
            raise ValueError(f"unknown signal {signal!r}; choose one of {', '.join(SIGNALS)}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be a whole number (it draws which training run a query reads), got {seed!r}")
        self.bench, self.seed, self.signal = bench, seed, signal
        self.max_fidelity = bench.epochs
        self.epochs = _fidelity(epochs, bench.epochs)

    def for_run(self, seed: int) -> TabularEvaluator:
        """The same evaluator drawing its training runs with ``seed`` (one search run's noise)."""
        return TabularEvaluator(self.bench, seed=seed, epochs=self.epochs, signal=self.signal)

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        arch = _arch(arch)
        run = self.bench.drawn_seed(arch, self.seed) if self.signal == "one_run" else None
        q = self.bench.query(arch, epoch=self.epochs if fidelity is None else _fidelity(fidelity, self.max_fidelity),
                             seed=run)
        return Result(arch, fidelity, q.valid_acc, q.test_acc, flops=q.train_flops,
                      sim_seconds=q.sim_seconds, wall_seconds=0.0, cpu_seconds=0.0)

    def describe(self) -> dict:
        meta = self.bench.meta
        return {"name": self.name, "seed": self.seed, "signal": self.signal, "epochs": self.epochs,
                "table": meta.get("source", "naskit nb201_mnist1d"), "version": meta.get("version"),
                "dataset_sha256": meta.get("dataset", {}).get("sha256")}


class TrainingEvaluator:
    """Train the cell for real with ``naskit.train``; fidelity is the number of epochs.

    Cost: ``sim_seconds`` is the measured CPU seconds (real training has no simulated clock).
    The dataset is loaded by name inside the worker, so the evaluator pickles small.

    Args:
        dataset: ``"mnist1d"`` or ``"digits"``.
        config: the training protocol; its ``epochs`` is the full fidelity.
        epochs: the fidelity used when a strategy asks for none (default: full); e.g. 3 makes
            a low-fidelity estimator, while ``search(..., final=True)`` trains the incumbent fully.
        network, seed, n_train: the network shape, the training seed, a smaller training set.
    """

    name = "training"

    def __init__(self, dataset: str = "mnist1d", config: TrainConfig | None = None,
                 network: NetworkConfig | None = None, seed: int = 0, n_train: int | None = None,
                 epochs: int | None = None):
        self.dataset, self.seed, self.n_train = dataset, seed, n_train
        self.config = config or TrainConfig()
        self.network = network or NetworkConfig()
        self.max_fidelity = self.config.epochs
        self.epochs = _fidelity(epochs, self.max_fidelity)

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        from naskit.data import load_dataset
        from naskit.train import train

        arch = _arch(arch)
        epochs = self.epochs if fidelity is None else _fidelity(fidelity, self.max_fidelity)
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
        return {"name": self.name, "dataset": self.dataset, "seed": self.seed, "n_train": self.n_train,
                "epochs": self.epochs, "train": asdict(self.config), "network": asdict(self.network)}
