"""``naskit bench build``: train the plan, in parallel, resumably, into JSON-lines shards.

Each finished run is appended as one JSON line to ``runs-<shard>.jsonl`` and flushed to
disk before the next is written, so an interrupted build loses only the runs in flight.
Restarting reads every shard in the folder and skips what is done; shards built on
different machines (``--shard i/n``) merge by sitting in the same folder.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import platform
from pathlib import Path

from naskit.bench.protocol import BenchProtocol, Job, plan

RECORD_FIELDS = (
    "key", "arch", "seed", "status", "error", "train_loss", "valid_acc", "valid_loss", "test_acc",
    "params", "forward_flops", "train_flops", "eval_flops", "wall_seconds", "cpu_seconds",
    "threads", "host", "torch",
)


def train_job(job: Job, protocol: BenchProtocol) -> dict:
    """Train one job in this process with the protocol's thread count; return its record."""
    import torch

    from naskit.data import load_dataset
    from naskit.train import train

    torch.set_num_threads(protocol.train.threads)
    result = train(job.arch, load_dataset(protocol.dataset), seed=job.seed,
                   config=protocol.train, network=protocol.network)
    record = {k: v for k, v in result.to_dict().items() if k in RECORD_FIELDS}
    record.update(key=job.key, arch=job.arch, seed=job.seed, threads=torch.get_num_threads(),
                  host=platform.node(), torch=torch.__version__)
    return record


def read_runs(folder: str | Path) -> list[dict]:
    """Every complete record in the folder's shards, first occurrence of each (key, seed).

    A line cut off by a crash (no trailing newline, or invalid JSON) is ignored.
    """
    seen, runs = set(), []
    for path in sorted(Path(folder).glob("runs-*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if (rec["key"], rec["seed"]) not in seen:
                    seen.add((rec["key"], rec["seed"]))
                    runs.append(rec)
    return runs


def pending_jobs(folder, protocol: BenchProtocol, shard: tuple[int, int] = (0, 1), limit: int | None = None):
    """Jobs of the plan (in order) that this shard owns and no shard has finished."""
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"shard must be i/n with 0 <= i < n, got {index}/{count}")
    done = {(r["key"], r["seed"]) for r in read_runs(folder)}
    todo = [j for n, j in enumerate(plan(protocol)) if n % count == index and (j.key, j.seed) not in done]
    return todo[:limit] if limit is not None else todo


def build(
    folder: str | Path,
    protocol: BenchProtocol = BenchProtocol(),
    workers: int | None = None,
    executor: cf.Executor | None = None,
    shard: tuple[int, int] = (0, 1),
    limit: int | None = None,
    progress: bool = True,
) -> int:
    """Run the pending jobs and append their records; returns how many were written.

    Args:
        folder: where the ``runs-*.jsonl`` shards live (created if missing).
        workers: processes for the default process pool (one thread each); default all cores.
        executor: any ``concurrent.futures.Executor`` instead, e.g. a Dask client's
            ``get_executor()``; the caller owns and closes it.
        shard: ``(i, n)`` to build only every n-th job starting at i (one machine's share).
        limit: stop after this many jobs (for trials and tests).
    """
    from tqdm.auto import tqdm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    todo = pending_jobs(folder, protocol, shard, limit)
    if not todo:
        return 0
    own = executor is None
    if own:
        import multiprocessing

        executor = cf.ProcessPoolExecutor(workers or os.cpu_count(), mp_context=multiprocessing.get_context("spawn"))
    out = folder / f"runs-{platform.node() or 'host'}-{shard[0]}of{shard[1]}.jsonl"
    _end_cut_line(out)
    window = 4 * (workers or os.cpu_count() or 1)  # jobs in flight: bounded, so Ctrl-C loses few
    try:
        with open(out, "a", encoding="utf-8") as f, tqdm(total=len(todo), disable=not progress,
                                                         desc="bench build", unit="net") as bar:
            running: set[cf.Future] = set()
            written = 0
            for job in todo:
                running.add(executor.submit(train_job, job, protocol))
                if len(running) >= window:
                    running, n = _drain(running, f, bar, cf.FIRST_COMPLETED)
                    written += n
            written += _drain(running, f, bar, cf.ALL_COMPLETED)[1]
    finally:
        if own:
            executor.shutdown(wait=False, cancel_futures=True)
    return written


def _end_cut_line(path: Path) -> None:
    """After a crash mid-write, end the cut-off last line so the next record starts clean
    (``read_runs`` ignores the broken line; its job is simply run again)."""
    if path.exists() and path.stat().st_size:
        with open(path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")


def _drain(running, f, bar, when) -> tuple[set, int]:
    """Wait for finished jobs and append each record durably; returns (still running, written)."""
    done, running = cf.wait(running, return_when=when)
    for fut in done:
        f.write(json.dumps(fut.result(), separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())
        bar.update(1)
    return running, len(done)
