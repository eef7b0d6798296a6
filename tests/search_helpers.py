"""Shared by the search tests and the subprocesses they start: a synthetic benchmark."""

from __future__ import annotations

import sys
import time

import numpy as np

from naskit.bench.table import TabularBenchmark
from naskit.core.space import NB201Space
from naskit.evaluators.tabular import TabularEvaluator

EPOCHS = 4


def synthetic_bench(epochs: int = EPOCHS) -> TabularBenchmark:
    """Every cell its own entry; accuracy rises with epochs toward a fixed random final value."""
    n = len(NB201Space())
    final = np.random.default_rng(0).random(n) * 0.5 + 0.4
    ramp = np.arange(1, epochs + 1) / epochs
    curve = final[:, None] * (0.6 + 0.4 * ramp[None, :])
    flops = (np.random.default_rng(1).integers(1, 10, n) * 10**9).astype(np.int64)
    return TabularBenchmark(
        entry_of_cell=np.arange(n, dtype=np.int32), entry_names=[str(a) for a in NB201Space()],
        run_entry=np.arange(n, dtype=np.int32), run_seed=np.zeros(n, np.int32),
        curves={"valid_acc": curve, "test_acc": curve - 0.01, "train_loss": 1 - curve, "valid_loss": 1 - curve},
        run_seconds=np.ones(n), params=np.zeros(n, np.int64), forward_flops=np.zeros(n, np.int64),
        train_flops=flops, eval_flops=np.zeros(n, np.int64), flops_per_second=1e9,
        meta={"source": "synthetic"},
    )


class SlowEvaluator(TabularEvaluator):
    """A tabular evaluator that takes ``delay`` seconds per evaluation (to be killed mid-run)."""

    def __init__(self, bench, delay: float = 0.0):
        super().__init__(bench)
        self.delay = delay

    def evaluate(self, arch, fidelity=None):
        time.sleep(self.delay)
        return super().evaluate(arch, fidelity)


def main(argv: list[str]) -> None:
    """``python search_helpers.py LEDGER STRATEGY SEED EVALUATIONS DELAY``: one search run."""
    from naskit.runs.budget import Budget
    from naskit.runs.loop import search
    from naskit.strategies import make_strategy

    ledger, strategy, seed, evaluations, delay = argv
    run = search(make_strategy(strategy, seed=int(seed)), SlowEvaluator(synthetic_bench(), float(delay)),
                 Budget(evaluations=int(evaluations)), ledger=ledger, name=f"{strategy}-{seed}", progress=False)
    print(len(run.history), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
