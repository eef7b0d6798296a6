"""Turn build records into the shipped table and its datasheet, with provenance in ``meta``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from naskit.bench.build import read_runs
from naskit.bench.datasheet import render, summarize
from naskit.bench.latency import latency_arrays, latency_summary, read_latencies
from naskit.bench.protocol import BenchProtocol, job_runs, plan
from naskit.bench.store import DATA_DIR, LATENCY_DIRS, nb201_costs, pack
from naskit.bench.table import TabularBenchmark
from naskit.runtime.files import atomic_write_bytes


def origin_of(record: dict) -> str:
    """``host/torch-version``: the environment a run's bit-exact values belong to."""
    return f"{record['host']}/torch-{record['torch']}"


def build_meta(records: list[dict], protocol: BenchProtocol) -> dict:
    """Protocol, dataset, environment and build statistics recorded with the table."""
    from naskit.data import load_dataset
    from naskit.runtime.manifest import manifest

    cpu = np.array([r["cpu_seconds"] for r in records])
    flops = np.array([r["train_flops"] + r["eval_flops"] for r in records], dtype=float)
    data = load_dataset(protocol.dataset)
    origins = sorted({origin_of(r) for r in records})
    return {
        "protocol": protocol.to_dict(),
        "dataset": data.summary(),
        "manifest": manifest(seeds={"plan": protocol.plan_seed, "train": list(protocol.seeds)}, dataset=data),
        "build": {
            "planned_runs": sum(len(job_runs(job)) for job in plan(protocol)),  # a stacked job trains several
            "runs": len(records),
            "cpu_seconds": float(cpu.sum()),
            "cpu_seconds_per_run": float(cpu.mean()),
            "wall_seconds_per_run": float(np.mean([r["wall_seconds"] for r in records])),
            "achieved_gflops": float(flops.sum() / cpu.sum() / 1e9),
            "hosts": sorted({r["host"] for r in records}),
            "threads": sorted({r["threads"] for r in records}),
            "torch": sorted({r["torch"] for r in records}),
            "statuses": {s: sum(r["status"] == s for r in records) for s in {r["status"] for r in records}},
            # where each run was trained (host, torch): verify re-trains exactly only where it can
            "origins": origins,
            "origin_runs": [sum(origin_of(r) == o for r in records) for o in origins],
            "run_origin": [origins.index(origin_of(r)) for r in records],
        },
    }


def pack_runs(folder: str | Path, out: str | Path, datasheet: str | Path | None = None,
              protocol: BenchProtocol | None = None, version: str | None = None):
    """Pack every record in ``folder`` into ``out`` (+ ``.sha256``) and write the datasheet.

    ``protocol`` is the one the records were built with (default: ``BenchProtocol()``, v1's);
    it is recorded in the table with ``version``, and ``verify`` re-trains with it. Each entry's
    FLOPs and parameters in NAS-Bench-201's convention (``flops_nb201``, ``params_nb201``) are
    counted for the protocol's network and the dataset's input shape, and stored with the rest.
    """
    records = read_runs(folder)
    if not records:
        raise ValueError(f"no build records in {folder}; run `naskit bench build` first")
    protocol = protocol or BenchProtocol()
    epochs = sorted({len(r["valid_acc"]) for r in records if r["status"] == "ok"})
    if epochs and epochs != [protocol.train.epochs]:
        raise ValueError(f"the records in {folder} ran {epochs} epochs but the protocol trains "
                         f"{protocol.train.epochs}; pass the protocol they were built with")
    meta = build_meta(records, protocol)
    if version is not None:
        meta["version"] = version
    bench = TabularBenchmark.from_runs(records, meta=meta)
    bench = dataclasses.replace(bench, **nb201_costs(bench.entry_names, bench.meta))
    # the version's measured latency, when it has been measured (``naskit.bench.latency``)
    latency = read_latencies(DATA_DIR / LATENCY_DIRS[version]) if version in LATENCY_DIRS else []
    if latency:
        bench.meta["latency"] = latency_summary(latency)
        bench.latency = latency_arrays(latency, bench.meta["keys"])
    path = pack(bench, out)
    if datasheet is not None:
        atomic_write_bytes(datasheet, render(bench, latency).encode())
    return path, summarize(bench)
