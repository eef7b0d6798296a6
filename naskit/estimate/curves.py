"""Learning-curve extrapolation: predict final accuracy from the first epochs.

Domhan et al. (2015) fit a set of parametric curve families to a partial learning curve and
extrapolate; Klein et al. (2017) and Baker et al. (2018) learn the extrapolation instead.
naskit fits two classic saturating families by least squares and averages them:

* pow3: ``y(t) = c - a * t**(-alpha)``  (a power law approaching ``c``)
* exp3: ``y(t) = c - a * exp(-b * t)``  (an exponential approach to ``c``)

The prediction is the mean of the two fits at the final epoch, clipped to [0, 1]; the
uncertainty is half their spread plus the fits' residual scale, a rough but honest error bar.

Example:
    >>> import numpy as np
    >>> t = np.arange(1, 5)
    >>> fit = extrapolate(0.95 - 0.5 * t ** -1.0, final_epoch=8)  # an exact power law
    >>> round(fit.per_family["pow3"], 4)  # recovers 0.95 - 0.5 / 8
    0.8875
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit


def pow3(t, c, a, alpha):
    return c - a * np.power(t, -alpha)


def exp3(t, c, a, b):
    return c - a * np.exp(-b * t)


FAMILIES = {
    # name: (function, initial guess, lower bounds, upper bounds) for parameters (c, a, rate)
    "pow3": (pow3, (0.9, 0.5, 1.0), (0.0, -2.0, 0.0), (1.0, 2.0, 5.0)),
    "exp3": (exp3, (0.9, 0.5, 0.5), (0.0, -2.0, 0.0), (1.0, 5.0, 5.0)),
}


@dataclass(frozen=True)
class Extrapolation:
    """Predicted value at ``final_epoch`` with an uncertainty, and the per-family predictions."""

    mean: float
    std: float
    final_epoch: int
    per_family: dict


def extrapolate(curve, final_epoch: int) -> Extrapolation:
    """Fit the observed ``curve`` (values at epochs 1..m) and predict epoch ``final_epoch``.

    With fewer than 3 points (or a fit that fails) the prediction is the last observed value
    with an uncertainty equal to the range seen so far.
    """
    y = np.asarray(curve, dtype=float)
    y = y[np.isfinite(y)]
    if final_epoch < len(y):
        raise ValueError(f"final_epoch ({final_epoch}) must be at least the number of observed epochs ({len(y)})")
    if len(y) == 0:
        return Extrapolation(math.nan, math.nan, final_epoch, {})
    t = np.arange(1, len(y) + 1, dtype=float)
    preds, residuals = {}, []
    if len(y) >= 3:
        for name, (f, p0, lo, hi) in FAMILIES.items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", OptimizeWarning)
                    params, _ = curve_fit(f, t, y, p0=p0, bounds=(lo, hi), maxfev=2000)
            except (RuntimeError, ValueError):
                continue
            preds[name] = float(np.clip(f(final_epoch, *params), 0.0, 1.0))
            residuals.append(float(np.sqrt(np.mean((f(t, *params) - y) ** 2))))
    if not preds:
        spread = float(y.max() - y.min()) if len(y) > 1 else 0.0
        return Extrapolation(float(y[-1]), spread, final_epoch, {})
    values = np.array(list(preds.values()))
    std = float(np.ptp(values) / 2 + np.mean(residuals))
    return Extrapolation(float(values.mean()), std, final_epoch, preds)


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
        from naskit.evaluators import _arch
        from naskit.strategies.base import Result

        arch = _arch(arch)
        observed = self.bench.curve(arch, "valid_acc")[: self.epochs]
        fit = extrapolate(observed, self.bench.epochs)
        q = self.bench.query(arch, epoch=self.epochs)
        return Result(arch, fidelity, q.valid_acc, q.test_acc, estimate=fit.mean, flops=q.train_flops,
                      sim_seconds=q.sim_seconds, extra={"std": fit.std})

    def describe(self) -> dict:
        return {"name": self.name, "epochs": self.epochs, "final_epoch": self.bench.epochs}
