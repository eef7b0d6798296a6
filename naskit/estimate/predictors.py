"""Surrogate predictors: learn final accuracy from the architecture encoding.

After a few dozen architectures have been trained, a regression model on their encodings can
rank the rest (White et al. 2021, "How powerful are performance predictors in NAS?"). How
many training examples does each model need? ``predictor_learning_curve`` measures that on
naskit's benchmark: fit on ``n`` random classes, rank all the others, report Spearman/Kendall.

Encodings are ``NB201Space.encode`` one-hot vectors (30 numbers); ``extra_features`` can add
columns, e.g. zero-cost proxy scores, for a combined estimator.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from naskit.core.space import NB201Space
from naskit.estimate.correlate import correlate


class _Sklearn:
    def __init__(self, model):
        self.model = model

    def fit(self, x, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.fit(x, y)
        return self

    def predict(self, x):
        return self.model.predict(x)


class _Ensemble:
    """Mean prediction of one of the BANANAS-style ensembles in ``naskit.strategies.bananas``."""

    def __init__(self, kind: str, seed: int, size: int = 5):
        from naskit.strategies.predictor_guided import make_ensemble

        self.ensemble = make_ensemble(kind, size, np.random.default_rng(seed))

    def fit(self, x, y):
        self.mean, self.scale = float(np.mean(y)), float(np.std(y)) or 1.0
        self.ensemble.fit(x, (np.asarray(y) - self.mean) / self.scale)
        return self

    def predict(self, x):
        return self.ensemble.predict(x).mean(axis=0) * self.scale + self.mean


def make_predictor(name: str, seed: int = 0):
    """A fresh, seeded, unfitted predictor with ``fit(x, y)`` and ``predict(x)``."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Ridge

    factories = {
        "ridge": lambda: _Sklearn(Ridge(alpha=1.0)),
        "random_forest": lambda: _Sklearn(RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1)),
        "gradient_boosting": lambda: _Sklearn(GradientBoostingRegressor(random_state=seed)),
        "mlp_ensemble": lambda: _Ensemble("mlp", seed),
        "random_relu_ensemble": lambda: _Ensemble("random_mlp", seed),
    }
    if name not in factories:
        raise ValueError(f"unknown predictor {name!r}; choose one of {', '.join(factories)}")
    return factories[name]()


PREDICTORS = ("ridge", "random_forest", "gradient_boosting", "mlp_ensemble", "random_relu_ensemble")


def class_features(bench, extra_features: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """One row per table entry: the one-hot encoding of its representative (+ extra columns)."""
    space = NB201Space()
    x = space.encode_many([space.parse(name) for name in bench.entry_names])
    if extra_features:
        cols = [np.asarray(v, float)[:, None] for v in extra_features.values()]
        x = np.hstack([x] + [np.where(np.isfinite(c), c, np.nanmin(c[np.isfinite(c)])) for c in cols])
    return x


def predictor_learning_curve(bench, predictors=PREDICTORS, n_train=(10, 25, 50, 100, 200, 400), seeds=range(3),
                             extra_features: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Rank quality of each predictor against the number of trained architectures it learns from.

    For each seed, ``n`` classes are drawn at random; the predictor is fit to their final
    validation accuracy and ranks every other class against its final test accuracy.
    """
    x = class_features(bench, extra_features)
    valid = bench.class_values("valid_acc")
    test = bench.class_values("test_acc")
    usable = np.flatnonzero(np.isfinite(valid) & np.isfinite(test))
    rows = []
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(usable)
        for n in n_train:
            if n >= len(order):
                continue
            train, rest = order[:n], order[n:]
            for name in predictors:
                pred = make_predictor(name, seed).fit(x[train], valid[train]).predict(x[rest])
                stats = correlate(pred, test[rest], top=(0.05,))
                rows.append({"predictor": name, "n_train": n, "seed": seed, **stats})
    return pd.DataFrame(rows)


