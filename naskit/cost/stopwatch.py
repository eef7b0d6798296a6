"""Wall and CPU seconds of a block of code."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class Stopwatch:
    """Measures wall seconds and this process's CPU seconds of a ``with`` block.

    Example:
        >>> with Stopwatch() as sw:
        ...     _ = sum(range(1000))
        >>> sw.wall_seconds >= 0 and sw.cpu_seconds >= 0
        True
    """

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_seconds += time.perf_counter() - self._wall
        self.cpu_seconds += time.process_time() - self._cpu
