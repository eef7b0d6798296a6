"""Process pools that leave nothing behind.

A ``ProcessPoolExecutor`` left to itself outlives an interruption: Ctrl-C, or SIGTERM sent to
the main process alone, waits for the jobs in flight, and a main process killed outright (a
Jupyter kernel restarted, a job killed with SIGKILL) leaves its workers running their jobs as
orphans. ``process_pool`` starts fresh interpreters (``spawn``: safe next to threads and
notebooks) that end within a second of their parent, turns SIGTERM into ``SystemExit(143)``
while it is open, and on any exit other than a normal one ends its workers at once.

Example:
    >>> with process_pool(2) as pool:
    ...     sorted(pool.map(abs, [-2, 1]))
    [1, 2]
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator


@contextlib.contextmanager
def process_pool(workers: int) -> Iterator[cf.ProcessPoolExecutor]:
    """A spawn-started pool of ``workers`` processes, each watching its parent, ended on exit.

    A normal exit waits for the submitted jobs, as ``ProcessPoolExecutor`` does; an exception
    (``KeyboardInterrupt``, the ``SystemExit`` of SIGTERM, a failed job) terminates the workers,
    jobs in flight included, before it propagates."""
    before = set(multiprocessing.active_children())
    pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=watch_parent, initargs=(os.getpid(),))
    on_main = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _exit_on_term) if on_main else None
    finished = False
    try:
        yield pool
        finished = True
    finally:
        try:
            if finished:
                pool.shutdown(wait=True)
            else:
                stop_workers(pool, before)
        finally:
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)


def stop_workers(pool: cf.ProcessPoolExecutor, before: set) -> None:
    """End a pool's workers now, jobs in flight included (``shutdown`` alone lets them finish):
    they are this process's multiprocessing children that were not there ``before`` the pool."""
    for process in set(multiprocessing.active_children()) - before:
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def watch_parent(parent: int) -> None:
    """Pool initializer: end this worker once the process that started it is gone (killed with
    SIGKILL, say), rather than letting it finish its job as an orphan."""

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="naskit-watch-parent", daemon=True).start()


def _exit_on_term(signum, frame):
    raise SystemExit(128 + signum)
