"""``naskit bench build``: train the plan, in parallel, resumably, into JSON-lines shards.

Each finished run is appended as one JSON line to ``runs-<host>-<i>of<n>.jsonl`` and flushed
to disk before the next is written, so an interrupted build loses only the runs in flight.
Restarting reads every shard in the folder and skips what is done; shards built on
different machines (``--shard i/n``) merge by sitting in the same folder (``naskit.bench.shards``).
"""

from __future__ import annotations

import concurrent.futures as cf
import platform
from pathlib import Path

from naskit.bench.protocol import PROTOCOLS, BenchProtocol, Job, job_runs, plan
from naskit.bench.shards import check_shard, read_records, run_jobs
from naskit.core.checks import as_arch
from naskit.core.space import NB201Space

RECORD_FIELDS = (
    "key", "arch", "seed", "status", "error", "train_loss", "valid_acc", "valid_loss", "test_acc",
    "params", "forward_flops", "train_flops", "eval_flops", "wall_seconds", "cpu_seconds",
    "threads", "host", "torch",
)


def train_job(job: Job, protocol: BenchProtocol) -> list[dict]:
    """Train one job in this process with the protocol's thread count; one record per seed."""
    import torch

    from naskit.data import load_dataset
    from naskit.trainer.loop import train
    from naskit.trainer.stacked import train_seeds

    torch.set_num_threads(protocol.train.threads)
    data = load_dataset(protocol.dataset)
    if protocol.stack_seeds:
        results = train_seeds(job.arch, data, seeds=job.seeds, config=protocol.train, network=protocol.network)
    else:
        results = [train(job.arch, data, seed=s, config=protocol.train, network=protocol.network) for s in job.seeds]
    records = []
    for seed, result in zip(job.seeds, results):
        record = {k: v for k, v in result.to_dict().items() if k in RECORD_FIELDS}
        record.update(key=job.key, arch=job.arch, seed=seed, threads=torch.get_num_threads(),
                      host=platform.node(), torch=torch.__version__)
        if protocol.stack_seeds:
            record["trained_with"] = list(job.seeds)  # the seeds stacked with it: verify re-trains them
        records.append(record)
    return records


def lookup_or_train(bench, arch, protocol: BenchProtocol | None = None) -> tuple[float, str]:
    """A cell's final test accuracy: from ``bench`` when its class is there, else what the build
    would have put there, trained now: the class's representative, with the benchmark's protocol
    and the seeds its plan gives the class (stacked when the protocol stacks them), and the
    value a table query returns for them (the mean over the seeds).

    Returns ``(test_acc, "table" | "trained")``.
    """
    if bench is not None and arch in bench:
        return bench.query(arch).test_acc, "table"
    from naskit.bench.table import TabularBenchmark

    arch = as_arch(arch)
    if protocol is None:  # the protocol of the table's version (v1 for a table that names none)
        protocol = PROTOCOLS.get((bench.meta if bench is not None else {}).get("version", "v1"), BenchProtocol())
    key = NB201Space().canonical(arch)
    jobs = [job for job in plan(protocol) if job.key == key]  # one per class, or one per seed
    seeds = tuple(s for job in jobs for s in job.seeds)
    records = train_job(Job(key, jobs[0].arch, seeds), protocol)
    return TabularBenchmark.from_runs(records).query(arch).test_acc, "trained"


def read_runs(folder: str | Path) -> list[dict]:
    """Every complete build record in the folder's shards, the first of each (key, seed)."""
    return read_records(folder, "runs", ("key", "seed"))


def pending_jobs(folder, protocol: BenchProtocol, shard: tuple[int, int] = (0, 1), limit: int | None = None,
                 reverse: bool = False):
    """Jobs of the plan (in order, or from its end) that this shard owns and no shard has finished."""
    check_shard(shard)
    index, count = shard
    done = {(r["key"], r["seed"]) for r in read_runs(folder)}
    todo = [j for n, j in enumerate(plan(protocol))
            if n % count == index and not set(job_runs(j)) <= done]
    if reverse:
        todo.reverse()
    return todo[:limit] if limit is not None else todo


def build(
    folder: str | Path,
    protocol: BenchProtocol = BenchProtocol(),
    workers: int | None = None,
    executor: cf.Executor | None = None,
    shard: tuple[int, int] = (0, 1),
    limit: int | None = None,
    progress: bool = True,
    reverse: bool = False,
    tag: str | None = None,
) -> int:
    """Run the pending jobs and append their records; returns how many were written.

    Args:
        folder: where the ``runs-*.jsonl`` shards live (created if missing).
        workers: processes for the default process pool (one thread each); default all cores.
        executor: any ``concurrent.futures.Executor`` instead, e.g. a Dask client's
            ``get_executor()``; the caller owns and closes it.
        shard: ``(i, n)`` to build only every n-th job starting at i (one machine's share).
        limit: stop after this many jobs (for trials and tests).
        reverse: take the pending jobs from the end of the plan: a second machine started on
            the same folder works towards the first one instead of repeating its next jobs.
        tag: the shard file's name part (default: this machine's name); give machines that
            share a host name different tags, or their shards collide when merged.
    """
    todo = pending_jobs(folder, protocol, shard, limit, reverse)
    unit = "class" if protocol.stack_seeds else "net"  # a stacked job trains every seed of its class
    return run_jobs(folder, "runs", todo, train_job, (protocol,), shard=shard, workers=workers,
                    executor=executor, progress=progress, desc="bench build", unit=unit, tag=tag)
