"""The peak resident memory of a child process, such as the kernel that executes a lesson.

Papermill starts a fresh Jupyter kernel for every notebook, as a child of this process.
``KernelPeakMemory`` watches this process's children from a background thread and keeps the
largest resident set size (RSS) a kernel reached: on Linux the kernel's own high-water mark
(``VmHWM`` in ``/proc/PID/status``), elsewhere the largest RSS seen at each poll.

Example:
    >>> with KernelPeakMemory(poll_seconds=0.05) as peak:
    ...     pass                                  # run a notebook here
    >>> peak.megabytes is None                   # no kernel was started
    True
"""

from __future__ import annotations

import threading
from pathlib import Path

import psutil

KERNEL_MARKERS = ("ipykernel_launcher", "ipykernel")


def _is_kernel(proc: psutil.Process) -> bool:
    try:
        return any(m in part for part in proc.cmdline() for m in KERNEL_MARKERS)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _peak_bytes(proc: psutil.Process) -> int:
    """The process's peak RSS so far (Linux), else its current RSS; 0 once it has gone."""
    status = Path(f"/proc/{proc.pid}/status")
    try:
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
        return proc.memory_info().rss
    except (OSError, psutil.Error, ValueError):
        return 0


class KernelPeakMemory:
    """Context manager: the peak RSS, in MB, of the kernel processes started inside the block."""

    def __init__(self, poll_seconds: float = 0.2):
        self.poll_seconds = poll_seconds
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._before: set[int] = set()

    @property
    def megabytes(self) -> float | None:
        """The peak in MB (10^6 bytes), or None when no kernel was seen."""
        return round(self.peak_bytes / 1e6, 1) if self.peak_bytes else None

    def _kernels(self) -> list[psutil.Process]:
        try:
            children = psutil.Process().children(recursive=False)
        except psutil.Error:
            return []
        return [p for p in children if p.pid not in self._before and _is_kernel(p)]

    def _watch(self) -> None:
        while not self._stop.is_set():
            for proc in self._kernels():
                self.peak_bytes = max(self.peak_bytes, _peak_bytes(proc))
            self._stop.wait(self.poll_seconds)

    def __enter__(self) -> KernelPeakMemory:
        self._before = {p.pid for p in psutil.Process().children(recursive=False)}
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
