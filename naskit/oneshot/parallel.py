"""Run several one-shot searches at once, one process (one thread) each.

One-shot searches on these small supernets use one core each, so on a laptop with ``k`` cores,
``k`` searches finish in the time of one: the lessons run their independent searches (other
methods, other seeds) side by side this way. Every search is the same as when run alone. An
interruption (Ctrl-C, a kernel restarted or killed) ends the searches in flight with it.

Example:
    >>> from naskit import load_dataset
    >>> from naskit.oneshot import OneShotConfig
    >>> runs = search_many({"a": ("darts", OneShotConfig(epochs=1, channels=4)),
    ...                     "b": ("gdas", OneShotConfig(epochs=1, channels=4))},
    ...                    load_dataset("mnist1d").subset(128), workers=1)
    >>> sorted(runs), runs["b"].method
    (['a', 'b'], 'gdas')
"""

from __future__ import annotations

import os

from naskit.data import Dataset
from naskit.oneshot.config import OneShotConfig, OneShotResult
from naskit.runtime.pool import process_pool


def _one(method: str, data: Dataset, config: OneShotConfig) -> OneShotResult:
    from naskit.oneshot import METHODS

    return METHODS[method](data, config)


def search_many(tasks: dict[str, tuple[str, OneShotConfig]], data: Dataset,
                workers: int | None = None) -> dict[str, OneShotResult]:
    """Run ``tasks`` (label -> (method name, config)) on ``data``, ``workers`` at a time.

    Args:
        tasks: e.g. ``{"darts seed 1": ("darts", OneShotConfig(seed=1))}``; methods are the
            keys of ``naskit.oneshot.METHODS``.
        data: the dataset every search uses.
        workers: processes (default: the machine's cores, at most one per task); 1 runs the
            searches here, one after another.

    Returns:
        label -> ``OneShotResult``, in the order of ``tasks``.
    """
    from naskit.oneshot import METHODS

    unknown = sorted({m for m, _ in tasks.values()} - set(METHODS))
    if unknown:
        raise ValueError(f"unknown one-shot method(s) {unknown}; choose from {', '.join(METHODS)}")
    workers = min(workers or os.cpu_count() or 1, len(tasks)) or 1
    if workers == 1:
        return {label: _one(method, data, config) for label, (method, config) in tasks.items()}
    with process_pool(workers) as pool:  # a killed kernel or Ctrl-C leaves no search running
        futures = {label: pool.submit(_one, method, data, config) for label, (method, config) in tasks.items()}
        return {label: f.result() for label, f in futures.items()}
