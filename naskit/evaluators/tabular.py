"""The tabular evaluator: a cell's result read from a ``TabularBenchmark``, charged its simulated cost.

A search on the table "trains" a candidate by reading one of its recorded training runs, so it
costs microseconds while its ``sim_seconds`` and ``flops`` say what the training would have
cost. It follows the evaluator protocol (``naskit.core.evaluator``): a cell the table lacks, or
a recorded run that stopped before the asked epoch, is a failed ``Result``, not an exception.

Example:
    >>> import pandas as pd
    >>> import numpy as np

from naskit.bench.table import TabularBenchmark
    >>> arch = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"
    >>> bench = TabularBenchmark.from_table(pd.DataFrame({"arch": [arch], "valid_acc": [0.9], "test_acc": [0.89]}))
    >>> TabularEvaluator(bench).evaluate(arch).valid_acc
    0.9
"""

from __future__ import annotations

import numpy as np

from naskit.bench.table import TabularBenchmark
from naskit.core.checks import as_arch, check_fidelity, check_whole
from naskit.core.evaluator import failed_result
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
        epoch = self.epochs if fidelity is None else check_fidelity(fidelity, self.max_fidelity)
        if (missing := lookup_failure(self.bench, arch, fidelity)) is not None:
            return missing
        run = self.bench.drawn_seed(arch, self.seed) if self.signal == "one_run" else None
        q = self.bench.query(arch, epoch=epoch, seed=run)
        cost = {"flops": q.train_flops, "sim_seconds": q.sim_seconds, "wall_seconds": 0.0, "cpu_seconds": 0.0}
        if q.valid_acc != q.valid_acc:  # NaN: the table records no accuracy at this epoch
            runs = f"every run of {arch}" if run is None else f"the run of {arch} with seed {run}"
            return failed_result(arch, fidelity, f"{runs} stopped before epoch {epoch} in the table "
                                 "(it diverged or failed when the table was built)", **cost)
        return Result(arch, fidelity, q.valid_acc, q.test_acc, **cost, extra={"network": network_costs(q)})

    def describe(self) -> dict:
        return {"name": self.name, "seed": self.seed, "signal": self.signal, "epochs": self.epochs,
                **table_description(self.bench)}

    def network_cost_names(self) -> list[str]:
        """The network costs (``NETWORK_COSTS``) this table reports for its cells, e.g. no latency
        in a table without measured latency: a multi-objective strategy needs its costs among them."""
        first = self.bench.query(self.bench.to_frame()["arch"].iloc[0])
        return sorted(network_costs(first))

    def free_queries(self) -> str | None:
        """Which evaluations cost nothing, or None: a table that covers only part of the space
        answers a cell outside it with a failed evaluation that charges no cost."""
        space_cells = self.bench.entry_of_cell.size  # every cell of the NB201 space
        missing = space_cells - len(self.bench)
        if missing <= 0:
            return None
        return (f"the table covers {len(self.bench):,} of the space's {space_cells:,} cells and a "
                f"cell outside it is a failed evaluation that costs nothing ({missing:,} such cells)")

    def cost_range(self) -> dict[str, tuple[float, float]]:
        """What one evaluation of a cell in the table can cost, per budget measure: (the cheapest,
        at 1 epoch, the dearest, at the table's last). ``search`` refuses a budget that could pay
        for none, or a measure the table charges nothing of (a table without cost columns)."""
        b = self.bench
        first = (b.train_flops * (1 / b.epochs)).astype(np.int64)  # as ``query`` charges epoch 1
        return {"flops": (float(first.min()), float(b.train_flops.max())),
                "sim_seconds": (float(((first + b.eval_flops / b.epochs) / b.flops_per_second).min()),
                                float(((b.train_flops + b.eval_flops) / b.flops_per_second).max()))}


NETWORK_COSTS = ("params", "forward_flops", "flops_nb201", "params_nb201", "latency_ms_b1", "latency_ms_b256")


def network_costs(q) -> dict[str, float]:
    """The costs of a queried cell's network that the table has (``Result.network_cost``)."""
    out = {}
    for name in NETWORK_COSTS:
        value = getattr(q, name)
        if value is not None and value == value:  # a table without it, or a class not measured (NaN)
            out[name] = value
    return out


def table_description(bench: TabularBenchmark) -> dict:
    """What identifies a table in an evaluator's ``describe()``: its source and version, its data
    (``table_sha256``: the packed file's checksum, or a content hash of a table built in memory)
    and its dataset's hash, and the rate of its simulated clock. A resumed run whose table differs
    in any of them is refused (``naskit.runs.ledger``)."""
    meta = bench.meta
    return {"table": meta.get("source", "naskit nb201_mnist1d"), "version": meta.get("version"),
            "table_sha256": getattr(bench, "sha256", None), "dataset_sha256": meta.get("dataset", {}).get("sha256"),
            "flops_per_second": bench.flops_per_second}


def lookup_failure(bench: TabularBenchmark, arch: Arch, fidelity: int | None) -> Result | None:
    """The failed ``Result`` of looking up a cell ``bench`` lacks (the table's message says so), else None."""
    try:
        bench.entry(arch)
    except ValueError as exc:
        return failed_result(arch, fidelity, str(exc))
    return None
