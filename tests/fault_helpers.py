"""Programs the fault tests start and kill, and evaluators that fail on purpose.

    python fault_helpers.py build FOLDER N          # a tiny benchmark build of every N-th job, resumable
    python fault_helpers.py search LEDGER N DELAY   # an evolution search of N evaluations
    python fault_helpers.py pool FOLDER             # run_jobs on its own pool: 4 quick jobs, then slow ones
    python fault_helpers.py oneshot                 # search_many: two one-shot searches of many minutes
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from naskit.bench.protocol import BenchProtocol  # noqa: E402
from naskit.core.configs import NetworkConfig, TrainConfig  # noqa: E402
from naskit.evaluators.tabular import TabularEvaluator  # noqa: E402

# A build protocol whose runs take a fraction of a second: 2 channels, 1 epoch.
TINY = BenchProtocol(network=NetworkConfig(channels=2), train=TrainConfig(epochs=1, threads=1),
                     multi_seed_classes=2)


class DieOnce(TabularEvaluator):
    """Kills its own process (as a crashed or OOM-killed worker would) the first time it
    evaluates ``victim``; a marker file remembers that it did, across processes."""

    def __init__(self, bench, victim: str, marker: str, delay: float = 0.0):
        super().__init__(bench)
        self.victim, self.marker, self.delay = victim, marker, delay

    def evaluate(self, arch, fidelity=None):
        time.sleep(self.delay)
        if str(arch) == self.victim and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)
        return super().evaluate(arch, fidelity)


def _build(folder: str, every: str) -> None:
    from naskit.bench.build import build

    with cf.ThreadPoolExecutor(1) as pool:  # one process: a kill takes everything down at once
        build(folder, TINY, executor=pool, shard=(0, int(every)), progress=False)


def _search(ledger: str, evaluations: str, delay: str) -> None:
    from search_helpers import SlowEvaluator, synthetic_bench

    from naskit.runs.budget import Budget
    from naskit.runs.loop import search
    from naskit.strategies import make_strategy

    search(make_strategy("evolution", seed=0), SlowEvaluator(synthetic_bench(), float(delay)),
           Budget(evaluations=int(evaluations)), ledger=ledger, name="evolution-0", progress=False)


def slow_job(job: int) -> dict:
    """A job for the pool tests: the first four are quick, the rest take a minute."""
    time.sleep(0.05 if job < 4 else 60.0)
    return {"job": job}


def _pool(folder: str) -> None:
    from fault_helpers import slow_job  # by module name, so the spawned workers can import it

    from naskit.bench.shards import run_jobs

    run_jobs(folder, "jobs", list(range(12)), slow_job, workers=2, progress=False)


def _oneshot() -> None:
    from naskit.data import load_dataset
    from naskit.oneshot import OneShotConfig, search_many

    long = OneShotConfig(epochs=100_000, channels=2, batch_size=16)  # runs until it is stopped
    search_many({"a": ("darts", long), "b": ("gdas", long)}, load_dataset("mnist1d").subset(64), workers=2)


if __name__ == "__main__":
    # Ctrl-C as in a terminal: a process started from a non-interactive shell's background job
    # inherits SIGINT ignored, and Python then raises no KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    {"build": _build, "search": _search, "pool": _pool, "oneshot": _oneshot}[sys.argv[1]](*sys.argv[2:])
