"""A surrogate predictor as an evaluator: scores cells by a model fitted on the table."""

from __future__ import annotations

import time

import numpy as np

from naskit.bench.table import TabularBenchmark
from naskit.core.checks import as_arch, check_fidelity
from naskit.core.space import Arch
from naskit.core.types import Result
from naskit.estimate.predictors import class_features, make_predictor
from naskit.evaluators.tabular import lookup_failure, table_description


class SurrogateEvaluator:
    """Predict final validation accuracy with a surrogate fit to ``n_train`` trained classes.

    The ``n_train`` training runs are paid once, up front: ``setup_cost`` holds their
    simulated seconds and FLOPs (from the table's clock); add it to a search's cost. Each
    evaluation afterwards costs a prediction (measured CPU seconds, no FLOPs counted), and
    returns NaN accuracies with the prediction in ``estimate``. One fidelity
    (``max_fidelity = 1``). A cell the table lacks is a failed result (it has no features).
    """

    name = "surrogate"
    max_fidelity = 1

    def __init__(self, bench: TabularBenchmark, predictor: str = "random_forest", n_train: int = 100, seed: int = 0,
                 extra_features: dict[str, np.ndarray] | None = None):
        self.bench, self.predictor, self.n_train, self.seed = bench, predictor, n_train, seed
        self.extra_features = list(extra_features or {})  # the names; the model holds what it learned
        x = class_features(bench, extra_features)
        valid = bench.class_values("valid_acc")
        usable = np.flatnonzero(np.isfinite(valid))
        if not 1 <= n_train < len(usable):
            raise ValueError(f"n_train must be in 1..{len(usable) - 1} for this table, got {n_train!r}")
        train = np.random.default_rng(seed).permutation(usable)[:n_train]
        start = time.process_time()
        self.model = make_predictor(predictor, seed).fit(x[train], valid[train])
        self.features = x  # (entries, features): one row per table entry
        sim = (bench.train_flops[train] + bench.eval_flops[train]).sum() / bench.flops_per_second
        self.setup_cost = {"evaluations": int(n_train), "sim_seconds": float(sim),
                           "flops": float(bench.train_flops[train].sum()),
                           "fit_cpu_seconds": time.process_time() - start}

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        arch = as_arch(arch)
        check_fidelity(fidelity, self.max_fidelity)
        if (missing := lookup_failure(self.bench, arch, fidelity)) is not None:
            return missing
        start = time.process_time()
        estimate = float(self.model.predict(self.features[self.bench.entry(arch)][None])[0])
        seconds = time.process_time() - start
        return Result(arch, fidelity, float("nan"), float("nan"), estimate=estimate, sim_seconds=seconds,
                      cpu_seconds=seconds)

    def describe(self) -> dict:
        return {"name": self.name, "predictor": self.predictor, "n_train": self.n_train, "seed": self.seed,
                "extra_features": self.extra_features, **table_description(self.bench)}
