"""Learning-curve extrapolation as an evaluator: a low-fidelity curve, extrapolated."""

from __future__ import annotations

from naskit.estimate.curves import extrapolate


class CurveEvaluator:
    """Observe the first ``epochs`` of a benchmark curve, predict the final validation accuracy.

    The charged cost is that of training ``epochs`` epochs (from the table's simulated clock);
    strategies rank by the prediction (``Result.estimate``); ``valid_acc`` is the observed
    value at ``epochs``.
    """

    name = "curve_extrapolation"

    def __init__(self, bench, epochs: int = 3):
        if not 1 <= epochs <= bench.epochs:
            raise ValueError(f"epochs must be in 1..{bench.epochs}, got {epochs!r}")
        self.bench, self.epochs = bench, epochs
        self.max_fidelity = 1

    def evaluate(self, arch, fidelity=None):
        from naskit.core.checks import as_arch
        from naskit.core.types import Result

        arch = as_arch(arch)
        observed = self.bench.curve(arch, "valid_acc")[: self.epochs]
        fit = extrapolate(observed, self.bench.epochs)
        q = self.bench.query(arch, epoch=self.epochs)
        return Result(arch, fidelity, q.valid_acc, q.test_acc, estimate=fit.mean, flops=q.train_flops,
                      sim_seconds=q.sim_seconds, extra={"std": fit.std})

    def describe(self) -> dict:
        return {"name": self.name, "epochs": self.epochs, "final_epoch": self.bench.epochs}
