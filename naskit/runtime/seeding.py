"""Seeded generators to pass explicitly, and a deterministic mode.

``seed_everything`` returns seeded ``random.Random`` and ``numpy.random.Generator`` objects for
the caller to pass on (naskit never draws from a global RNG), and seeds torch's global RNG for
code outside naskit; ``deterministic()`` switches PyTorch's deterministic algorithms on for a block.
"""

from __future__ import annotations

import contextlib
import os
import random
import warnings
from collections.abc import Iterator

import numpy as np

from naskit.core.checks import check_whole


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an int in [0, 2**63), got {seed!r}")


def seed_everything(seed: int) -> dict:
    """Seed torch's global RNG and return fresh generators, all from ``seed``, to pass explicitly.

    naskit passes its randomness explicitly (a ``random.Random`` to search spaces and
    strategies, a ``numpy.random.Generator`` to data code, a ``torch.Generator`` to samplers).
    One thing cannot be passed: ``nn.Module`` constructors initialise weights, and
    ``nn.Dropout`` draws its masks, from torch's *global* RNG. So this also calls
    ``torch.manual_seed(seed)`` (which seeds every CUDA device too). Python's ``random`` and
    NumPy's global RNGs are left alone: naskit never draws from them.

    Args:
        seed: an int in ``[0, 2**63)``.

    Returns:
        ``{"random": random.Random, "numpy": numpy.random.Generator, "torch": torch.Generator}``,
        each seeded with ``seed`` (the torch generator lives on the CPU).

    Example:
        >>> a, b = seed_everything(7), seed_everything(7)
        >>> a["random"].random() == b["random"].random()
        True
        >>> bool((a["numpy"].normal(size=3) == b["numpy"].normal(size=3)).all())
        True
    """
    import torch  # imported when used: the runtime layer loads without torch

    _check_seed(seed)
    seed = int(seed)
    torch.manual_seed(seed)
    return {
        "random": random.Random(seed),
        "numpy": np.random.default_rng(seed),
        "torch": torch.Generator().manual_seed(seed),
    }


@contextlib.contextmanager
def deterministic(enabled: bool = True, threads: int | None = None) -> Iterator[None]:
    """Within the block, make PyTorch pick deterministic kernels; restore the settings after.

    Sets ``torch.use_deterministic_algorithms(enabled)`` (ops with no deterministic kernel then
    raise instead of silently varying), ``cudnn.deterministic = enabled`` and, when enabled,
    ``cudnn.benchmark = False`` (autotuning may pick a different kernel each run). With
    ``threads``, also ``torch.set_num_threads(threads)``: a CPU sum split over a different
    number of threads is added in a different order, so its last bits can differ.

    On CUDA, PyTorch's reproducibility notes also ask for the environment variable
    ``CUBLAS_WORKSPACE_CONFIG=:4096:8``, set before Python starts; a warning says so when it isn't.

    Args:
        enabled: True for deterministic kernels; False to allow nondeterministic ones.
        threads: a positive number of intra-op CPU threads, or None to leave it unchanged.

    Example:
        >>> import torch
        >>> before = torch.get_num_threads()
        >>> with deterministic(threads=1):
        ...     torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
        (True, 1)
        >>> torch.get_num_threads() == before
        True
    """
    import torch

    if threads is not None:
        check_whole("threads", threads, 1, why="or None to leave it unchanged")
    cudnn = torch.backends.cudnn
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.deterministic, cudnn.benchmark, torch.get_num_threads(),
    )
    if enabled and torch.cuda.is_available() and os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in (
        ":4096:8", ":16:8"
    ):
        warnings.warn(
            "PyTorch's reproducibility notes ask for CUBLAS_WORKSPACE_CONFIG=:4096:8, set before "
            "Python starts, for deterministic cuBLAS on CUDA", stacklevel=3,
        )
    try:
        torch.use_deterministic_algorithms(enabled)
        cudnn.deterministic = enabled
        if enabled:
            cudnn.benchmark = False
        if threads is not None:
            torch.set_num_threads(threads)
        yield
    finally:
        algorithms, warn_only, cudnn.deterministic, cudnn.benchmark, num_threads = previous
        torch.use_deterministic_algorithms(algorithms, warn_only=warn_only)
        torch.set_num_threads(num_threads)
