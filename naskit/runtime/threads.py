"""torch's intra-op thread count, set for a block and restored afterwards.

Small networks train fastest on one thread, and bit-level results depend on the thread count,
so the trainer, the one-shot searches and the benchmark build fix it while they run.
"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def threads_set(threads: int | None):
    """Run a block with torch's intra-op thread count set to ``threads`` (None: unchanged),
    restoring the previous count afterwards."""
    import torch  # imported when used: the runtime layer loads without torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
