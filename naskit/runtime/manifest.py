"""The run manifest: what a number depends on, recorded next to it.

A NAS result is only worth comparing when someone else can get it again, and that needs to know
what produced it. ``manifest`` records versions, the git commit, the hardware, the thread count,
the environment variables that change numerics, the seeds and the dataset's hash;
``write_manifest`` saves it atomically next to the results and ``load_manifest`` reads it back.
``naskit.repro.diff`` says how two manifests differ. Seeds and deterministic kernels live in
``naskit.runtime.seeding``.

Example:
    >>> sorted(manifest(seeds=[0]))[:3]
    ['argv', 'dataset', 'env']
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from naskit.runtime.files import atomic_write_bytes

MANIFEST_SCHEMA = 1
# Environment variables that change numerics: thread pools (OpenMP, MKL, OpenBLAS, BLIS,
# Apple Accelerate), the CPU kernels ATen and oneDNN pick, cuBLAS and TF32 determinism, and
# Python's hash seed (set iteration order).
NUMERICS_ENV_VARS = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS",
    "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "CUBLAS_WORKSPACE_CONFIG",
    "CUDA_VISIBLE_DEVICES", "CUDA_LAUNCH_BLOCKING", "NVIDIA_TF32_OVERRIDE",
    "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "PYTHONHASHSEED",
)
NUMERICS_ENV_PREFIXES = ("KMP_", "OMP_", "MKL_")  # all Intel OpenMP / OpenMP / MKL settings
_REPO_DIR = Path(__file__).resolve().parents[2]  # the checkout, for an editable install


def _git(*args: str) -> str | None:
    """Output of ``git args`` run in the package's checkout, or None when git can't answer."""
    try:
        done = subprocess.run(
            ["git", "-C", str(_REPO_DIR), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git_state() -> dict:
    """Commit and dirtiness of the checkout naskit is imported from; Nones when it isn't one.

    "Dirty" means tracked files differ from the commit (as ``git describe --dirty``);
    untracked files are not counted.
    """
    top = _git("rev-parse", "--show-toplevel")
    # A non-editable install sits in site-packages, which may lie inside some other repo.
    commit = _git("rev-parse", "HEAD") if top and Path(top).resolve() == _REPO_DIR else None
    if commit is None:  # not a checkout, or one with no commit yet
        return {"commit": None, "dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else status != ""}


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``), or None."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def _numerics_env() -> dict:
    return {
        name: value for name, value in sorted(os.environ.items())
        if name in NUMERICS_ENV_VARS or name.startswith(NUMERICS_ENV_PREFIXES)
    }


def _torch_state() -> dict:
    cuda = torch.cuda.is_available()
    return {
        "num_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda_available": cuda,
        "cuda_version": torch.version.cuda,
        "cuda_device": torch.cuda.get_device_name() if cuda else None,
    }


def json_checked(name: str, value):
    """``value`` if it is plain JSON (dicts, lists, strings, numbers, bools, None), else a
    ``ValueError`` naming ``name``."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be JSON-serialisable (dicts, lists, str, numbers): {err}") from None
    return value


def manifest(seeds=None, dataset=None, extra: dict | None = None) -> dict:
    """Record what a run's numbers depend on, as a JSON-serialisable dict.

    Args:
        seeds: the seed or seeds the run used (an int, a list, or a dict of them).
        dataset: a naskit ``Dataset`` (its ``summary()``: name, sizes, sha256 is recorded),
            or such a summary dict, or None.
        extra: any JSON-serialisable facts to keep with it (a config, a budget).

    Returns:
        A dict with keys ``schema, timestamp_utc, argv, versions`` (python, naskit, torch,
        numpy), ``git`` (commit, dirty: None outside a git checkout), ``platform`` (system,
        machine, cpu_model, logical_cores), ``torch`` (threads, deterministic flags, CUDA),
        ``env`` (the numerics-changing variables that are set), ``seeds, dataset, extra``.

    Example:
        >>> m = manifest(seeds=[0, 1, 2], extra={"budget_evals": 100})
        >>> m["seeds"], m["torch"]["num_threads"] == torch.get_num_threads()
        ([0, 1, 2], True)
    """
    from naskit import __version__  # at call time: naskit/__init__ may import this module

    if dataset is not None and not isinstance(dataset, dict):
        if not callable(getattr(dataset, "summary", None)):
            raise ValueError(f"dataset must be a naskit Dataset, a summary dict or None, got {dataset!r}")
        dataset = dataset.summary()
    return {
        "schema": MANIFEST_SCHEMA,
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "argv": list(sys.argv),
        "versions": {
            "python": platform.python_version(), "naskit": __version__,
            "torch": torch.__version__, "numpy": np.__version__,
        },
        "git": _git_state(),
        "platform": {
            "system": platform.platform(), "machine": platform.machine(),
            "cpu_model": cpu_model(), "logical_cores": os.cpu_count(),
        },
        "torch": _torch_state(),
        "env": _numerics_env(),
        "seeds": json_checked("seeds", seeds),
        "dataset": json_checked("dataset", dataset),
        "extra": json_checked("extra", extra),
    }


def write_manifest(path: str | os.PathLike, manifest: dict) -> Path:
    """Write ``manifest`` as JSON to ``path`` atomically: readers see the old file or the new one.

    The JSON goes to a temporary file in the same directory, is flushed and fsynced, then
    ``os.replace``-d over ``path`` (a rename, atomic on POSIX and Windows), so a crash never
    leaves a half-written manifest. A manifest that is not JSON raises ``ValueError`` before
    anything is written.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "manifest.json"
        >>> load_manifest(write_manifest(path, {"seeds": [0]}))
        {'seeds': [0]}
    """
    path = Path(path)
    text = json.dumps(json_checked("manifest", manifest), indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def load_manifest(path: str | os.PathLike) -> dict:
    """Read a manifest written by ``write_manifest``."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


