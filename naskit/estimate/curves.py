"""Learning-curve extrapolation: predict final accuracy from the first epochs.

Domhan et al. (2015) fit a set of parametric curve families to a partial learning curve and
extrapolate; Klein et al. (2017) and Baker et al. (2018) learn the extrapolation instead.
naskit fits two classic saturating families by least squares and averages them:

* pow3: ``y(t) = c - a * t**(-rate)``  (a power law approaching ``c``)
* exp3: ``y(t) = c - a * exp(-rate * t)``  (an exponential approach to ``c``)

Each family is linear in ``(c, a)`` once ``rate`` is fixed, so the fit scans a grid of rates
and solves the 2-parameter least-squares problem for every curve at once (variable
projection): thousands of curves are fitted in milliseconds, deterministically. The
prediction is the mean of the two families at the final epoch, clipped to [0, 1]; the
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
from dataclasses import dataclass

import numpy as np

RATES = np.round(np.arange(1, 101) * 0.05, 2)  # 0.05 .. 5.00
FAMILIES = {
    "pow3": lambda t, rate: np.power(t, -rate),
    "exp3": lambda t, rate: np.exp(-rate * t),
}


@dataclass(frozen=True)
class Extrapolation:
    """Predicted value at ``final_epoch`` with an uncertainty, and the per-family predictions."""

    mean: float
    std: float
    final_epoch: int
    per_family: dict


def _fit_family(basis, y: np.ndarray, final_epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """Best rate per curve of ``y`` (n, m); returns (prediction at final_epoch, rms residual)."""
    n, m = y.shape
    t = np.arange(1, m + 1, dtype=float)
    best_sse = np.full(n, np.inf)
    best_pred = np.full(n, np.nan)
    for rate in RATES:
        f = basis(t, rate)
        design = np.stack([np.ones(m), -f], axis=1)  # y = c - a f
        coef, *_ = np.linalg.lstsq(design, y.T, rcond=None)  # (2, n)
        sse = ((design @ coef - y.T) ** 2).sum(axis=0)
        better = sse < best_sse
        best_sse[better] = sse[better]
        best_pred[better] = (coef[0] - coef[1] * basis(float(final_epoch), rate))[better]
    return np.clip(best_pred, 0.0, 1.0), np.sqrt(best_sse / m)


def extrapolate_many(curves: np.ndarray, final_epoch: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Vectorised ``extrapolate`` for curves of equal length: (mean, std, per-family) arrays.

    Curves with a non-finite value get NaN.
    """
    y = np.asarray(curves, dtype=float)
    if y.ndim != 2:
        raise ValueError(f"curves must be a 2-D array (curves x epochs), got shape {y.shape}")
    if final_epoch < y.shape[1]:
        raise ValueError(f"final_epoch ({final_epoch}) must be at least the number of observed epochs ({y.shape[1]})")
    ok = np.isfinite(y).all(axis=1)
    mean, std = np.full(len(y), np.nan), np.full(len(y), np.nan)
    per_family = {name: np.full(len(y), np.nan) for name in FAMILIES}
    if y.shape[1] < 3:  # too short to fit: the last value, with the range seen as the error
        mean[ok] = y[ok, -1]
        std[ok] = np.ptp(y[ok], axis=1) if y.shape[1] > 1 else 0.0
        return mean, std, {}
    preds, residuals = [], []
    for name, basis in FAMILIES.items():
        pred, rms = _fit_family(basis, y[ok], final_epoch)
        per_family[name][ok] = pred
        preds.append(pred)
        residuals.append(rms)
    preds = np.stack(preds)
    mean[ok] = preds.mean(axis=0)
    std[ok] = np.ptp(preds, axis=0) / 2 + np.mean(residuals, axis=0)
    return mean, std, per_family


def extrapolate(curve, final_epoch: int) -> Extrapolation:
    """Fit the observed ``curve`` (values at epochs 1..m) and predict epoch ``final_epoch``.

    With fewer than 3 points the prediction is the last observed value with an uncertainty
    equal to the range seen so far.
    """
    y = np.asarray(curve, dtype=float)
    y = y[np.isfinite(y)]
    if final_epoch < len(y):
        raise ValueError(f"final_epoch ({final_epoch}) must be at least the number of observed epochs ({len(y)})")
    if len(y) == 0:
        return Extrapolation(math.nan, math.nan, final_epoch, {})
    mean, std, fam = extrapolate_many(y[None], final_epoch)
    return Extrapolation(float(mean[0]), float(std[0]), final_epoch, {k: float(v[0]) for k, v in fam.items()})


