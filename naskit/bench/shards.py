"""Resumable parallel jobs whose results are JSON lines in shard files.

The benchmark build and the whole-space proxy computation share this: each finished job is
appended as one JSON line to ``<prefix>-<host>-<i>of<n>.jsonl`` and flushed to disk before the
next, so an interruption loses only the jobs in flight. Restarting reads every shard in the
folder and skips what is done; shards from different machines merge by sitting together.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import os
import platform
from pathlib import Path

from naskit.runtime.pool import process_pool


def read_records(folder: str | Path, prefix: str, key: tuple[str, ...]) -> list[dict]:
    """Every complete record in ``folder/<prefix>-*.jsonl``, the first occurrence of each key.

    A line cut off by a crash (no trailing newline, or invalid JSON) is ignored.
    """
    seen, records = set(), []
    for path in sorted(Path(folder).glob(f"{prefix}-*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                k = tuple(rec[name] for name in key)
                if k not in seen:
                    seen.add(k)
                    records.append(rec)
    return records


def check_shard(shard: tuple[int, int]) -> None:
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"shard must be i/n with 0 <= i < n, got {index}/{count}")


def run_jobs(folder: str | Path, prefix: str, jobs: list, fn, args: tuple = (), *, shard=(0, 1),
             workers: int | None = None, executor: cf.Executor | None = None, progress: bool = True,
             desc: str = "jobs", unit: str = "job", tag: str | None = None) -> int:
    """Run ``fn(job, *args)`` for every job (in a spawn-started process pool by default, or
    on ``executor``) and append each returned record (or list of records) durably; returns how
    many jobs were done.

    The shard file is ``<prefix>-<tag>-<i>of<n>.jsonl``, ``tag`` defaulting to the host name.

    With its own pool, an interruption of this process alone (Ctrl-C, or SIGTERM, which is
    turned into ``SystemExit(143)`` here) ends the workers too instead of leaving them to finish
    their jobs, and a worker whose parent is killed outright ends within a second."""
    from tqdm.auto import tqdm

    tag = tag or platform.node() or "host"
    if not tag.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"a shard tag takes letters, digits, '-', '_' and '.', got {tag!r}")
    folder = Path(folder)
    out = folder / f"{prefix}-{tag}-{shard[0]}of{shard[1]}.jsonl"
    folder.mkdir(parents=True, exist_ok=True)
    if not jobs:
        return 0
    _end_cut_line(out)
    window = 4 * (workers or os.cpu_count() or 1)  # jobs in flight: bounded, so Ctrl-C loses few
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(process_pool(workers or os.cpu_count() or 1))
        f = stack.enter_context(open(out, "a", encoding="utf-8"))
        bar = stack.enter_context(tqdm(total=len(jobs), disable=not progress, desc=desc, unit=unit))
        written, running = 0, set()
        for job in jobs:
            running.add(executor.submit(fn, job, *args))
            if len(running) >= window:
                running, n = _drain(running, f, bar, cf.FIRST_COMPLETED)
                written += n
        written += _drain(running, f, bar, cf.ALL_COMPLETED)[1]
    return written


def _end_cut_line(path: Path) -> None:
    """After a crash mid-write, end the cut-off last line so the next record starts clean
    (the reader ignores the broken line; its job is simply run again)."""
    if path.exists() and path.stat().st_size:
        with open(path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")


def _drain(running, f, bar, when) -> tuple[set, int]:
    """Wait for finished jobs and append each record durably; returns (still running, written)."""
    done, running = cf.wait(running, return_when=when)
    for fut in done:
        result = fut.result()
        for record in result if isinstance(result, list) else [result]:  # a job may yield several
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())
        bar.update(1)
    return running, len(done)
