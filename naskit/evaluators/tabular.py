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

from naskit.bench.table import TabularBenchmark
from naskit.core.checks import as_arch, check_fidelity, check_whole
from naskit.core.space import Arch
from naskit.core.types import Result

SIGNALS = ("one_run", "mean")


class TabularEvaluator:
    """Look results up in a ``TabularBenchmark``; cost is its simulated clock.

    Args:
        bench: the table (``naskit.load_benchmark()``).
        seed: which training run each query reads when ``signal`` is ``"one_run"``: one of the
            cell's runs, drawn reproducibly from this seed and the cell
            (``TabularBenchmark.drawn_seed``). ``naskit.runs.experiment`` gives each search run its own.
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
        check_whole("seed", seed, why="it draws which training run a query reads")
        self.bench, self.seed, self.signal = bench, seed, signal
        self.max_fidelity = bench.epochs
        self.epochs = check_fidelity(epochs, bench.epochs)

    def for_run(self, seed: int) -> TabularEvaluator:
        """The same evaluator drawing its training runs with ``seed`` (one search run's noise)."""
        return TabularEvaluator(self.bench, seed=seed, epochs=self.epochs, signal=self.signal)

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        arch = as_arch(arch)
        run = self.bench.drawn_seed(arch, self.seed) if self.signal == "one_run" else None
        epoch = self.epochs if fidelity is None else check_fidelity(fidelity, self.max_fidelity)
        q = self.bench.query(arch, epoch=epoch, seed=run)
        return Result(arch, fidelity, q.valid_acc, q.test_acc, flops=q.train_flops,
                      sim_seconds=q.sim_seconds, wall_seconds=0.0, cpu_seconds=0.0)

    def describe(self) -> dict:
        meta = self.bench.meta
        return {"name": self.name, "seed": self.seed, "signal": self.signal, "epochs": self.epochs,
                "table": meta.get("source", "naskit nb201_mnist1d"), "version": meta.get("version"),
                "dataset_sha256": meta.get("dataset", {}).get("sha256")}


