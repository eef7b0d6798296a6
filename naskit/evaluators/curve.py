"""Learning-curve extrapolation as an evaluator: a low-fidelity curve, extrapolated."""

from __future__ import annotations

from naskit.bench.table import TabularBenchmark
from naskit.core.checks import as_arch, check_fidelity
from naskit.core.evaluator import failed_result
from naskit.core.space import Arch
from naskit.core.types import Result
from naskit.estimate.curves import extrapolate
from naskit.evaluators.tabular import lookup_failure, table_description


class CurveEvaluator:
    """Observe the first ``epochs`` of a benchmark curve, predict the final validation accuracy.

    The charged cost is that of training ``epochs`` epochs (from the table's simulated clock);
    strategies rank by the prediction (``Result.estimate``); ``valid_acc`` is the observed
    value at ``epochs``. One fidelity (``max_fidelity = 1``): ``epochs`` is fixed up front.
    A cell the table lacks, or whose curve stops before ``epochs``, is a failed result.
    """

    name = "curve_extrapolation"
    max_fidelity = 1

    def __init__(self, bench: TabularBenchmark, epochs: int = 3):
        if not 1 <= epochs <= bench.epochs:
            raise ValueError(f"epochs must be in 1..{bench.epochs}, got {epochs!r}")
        self.bench, self.epochs = bench, epochs

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        arch = as_arch(arch)
        check_fidelity(fidelity, self.max_fidelity)
        if (missing := lookup_failure(self.bench, arch, fidelity)) is not None:
            return missing
        q = self.bench.query(arch, epoch=self.epochs)
        cost = {"flops": q.train_flops, "sim_seconds": q.sim_seconds}
        if q.valid_acc != q.valid_acc:  # NaN: no run of the class reached epoch ``epochs``
            return failed_result(arch, fidelity, f"every run of {arch} stopped before epoch {self.epochs} in the "
                                 "table (it diverged or failed when the table was built)", **cost)
        observed = self.bench.curve(arch, "valid_acc")[: self.epochs]
        fit = extrapolate(observed, self.bench.epochs)
        return Result(arch, fidelity, q.valid_acc, q.test_acc, estimate=fit.mean, **cost, extra={"std": fit.std})

    def describe(self) -> dict:
        return {"name": self.name, "epochs": self.epochs, "final_epoch": self.bench.epochs,
                **table_description(self.bench)}
