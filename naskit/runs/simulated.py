"""Simulated parallel workers: replay a multi-worker search on a benchmark's simulated clock.

A tabular benchmark answers at once but says how long each training would have taken (its
``sim_seconds``). ``SimulatedWorkers(n)`` passed to ``naskit.runs.loop.search`` as its executor
turns that into the run a cluster of ``n`` workers would have had, as Syne Tune's simulator
backend does: each evaluation occupies one worker for its simulated seconds, a result reaches the
strategy when its worker finishes (completion order, not proposal order), a worker with nothing
to do (the strategy waits, e.g. for a rung of synchronous successive halving) stands idle, and the
run records the simulated wall-clock at which each result arrived. Ties are broken the same way
every time: the lowest-numbered idle worker takes the next evaluation, and of two results that
arrive at the same simulated second the one asked first is told first. So a run is a function of
its seed, also with 16 workers, and resuming from a ledger repeats it exactly.

The budget may limit the simulated wall-clock (``Budget(sim_wall_seconds=...)``, the time the
cluster would have taken) besides the total simulated compute (``Budget(sim_seconds=...)``, the sum
over workers).

Example:
    >>> import naskit
    >>> from naskit.evaluators.tabular import TabularEvaluator
    >>> from naskit.runs.budget import Budget
    >>> from naskit.runs.loop import search
    >>> from naskit.strategies import ASHA
    >>> run = search(ASHA(seed=0, max_fidelity=8), TabularEvaluator(naskit.load_benchmark("v1")),
    ...              Budget(sim_wall_seconds=60), executor=SimulatedWorkers(4), progress=False)
    >>> run.cost["sim_wall_seconds"] <= 60 < run.cost["sim_seconds"], worker_utilisation(run)
    (True, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

SCHEDULE_COLUMNS = ("n", "worker", "sim_start", "sim_arrival", "told")


@dataclass(frozen=True)
class SimulatedWorkers:
    """``workers`` simulated workers for ``search(executor=...)``; see the module docstring."""

    workers: int

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"SimulatedWorkers(workers=...) must be a positive integer, got {self.workers!r}")

    def clock(self) -> SimulatedClock:
        """A fresh clock for one run (the workers' state is per run; this object is only settings)."""
        return SimulatedClock(self.workers)


@dataclass
class SimulatedClock:
    """The state of the simulated cluster during one run: the time now, when each worker is free,
    and every evaluation's worker, start and arrival (``schedule``)."""

    workers: int
    now: float = 0.0
    free_at: list[float] = field(init=False)
    rows: dict[int, dict] = field(default_factory=dict)  # n -> its schedule row

    def __post_init__(self) -> None:
        self.free_at = [0.0] * self.workers

    def start(self, n: int, sim_seconds: float) -> None:
        """Evaluation ``n`` starts now on the lowest-numbered idle worker and takes ``sim_seconds``
        (a failure that reports no cost takes none)."""
        worker = min(w for w in range(self.workers) if self.free_at[w] <= self.now)  # the loop keeps one idle
        seconds = sim_seconds if sim_seconds == sim_seconds and sim_seconds > 0 else 0.0
        self.free_at[worker] = self.now + seconds
        self.rows[n] = {"n": n, "worker": worker, "sim_start": self.now, "sim_arrival": self.now + seconds,
                        "told": False}

    def next_arrival(self, in_flight: list[int]) -> int:
        """Which of the evaluations ``in_flight`` arrives first (ties: the one asked first); the
        clock moves on to its arrival."""
        n = min(in_flight, key=lambda k: (self.rows[k]["sim_arrival"], k))
        self.now = self.rows[n]["sim_arrival"]
        self.rows[n]["told"] = True
        return n

    def schedule(self) -> pd.DataFrame:
        """One row per evaluation started, in ask order: its worker, simulated start and arrival
        seconds, and whether its result reached the strategy (``told``)."""
        return pd.DataFrame([self.rows[n] for n in sorted(self.rows)], columns=list(SCHEDULE_COLUMNS))


def worker_idle_seconds(run) -> list[float]:
    """Each worker's idle simulated seconds between 0 and the last arrival told (the run's
    simulated wall-clock): time it held no evaluation. Needs a run with simulated workers."""
    schedule, end = _schedule(run), run.cost["sim_wall_seconds"]
    busy = [0.0] * run.settings["workers"]
    for worker, start, arrival in zip(schedule["worker"], schedule["sim_start"], schedule["sim_arrival"]):
        busy[worker] += max(0.0, min(arrival, end) - start)
    return [end - b for b in busy]


def worker_utilisation(run) -> float:
    """The share of the workers' time spent evaluating, in [0, 1]: 1 - idle / (workers x wall-clock)."""
    end = run.cost["sim_wall_seconds"]
    if end <= 0:
        return math.nan
    return round(1.0 - sum(worker_idle_seconds(run)) / (run.settings["workers"] * end), 12)


def _schedule(run) -> pd.DataFrame:
    if run.schedule is None:
        raise ValueError(f"run {run.run_id!r} did not run on simulated workers: search(..., "
                         "executor=SimulatedWorkers(n)) records the schedule that idle times need")
    return run.schedule
