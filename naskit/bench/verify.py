"""``naskit bench verify``: re-train table rows with the recorded protocol and compare exactly.

On the machine and thread count that built a row, naskit's trainer is deterministic, so a
re-trained row must match its record bit for bit. Anything else means the code, the
libraries, the data or the hardware changed: the manifest diff says which.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing

import numpy as np

from naskit.bench.build import train_job
from naskit.bench.protocol import PROTOCOLS, BenchProtocol, Job
from naskit.bench.table import CURVES, TabularBenchmark


def check_protocol(bench: TabularBenchmark, protocol: BenchProtocol) -> None:
    """Raise when the table was built with another protocol than ``protocol``."""
    recorded = bench.meta.get("protocol")
    if recorded is None or BenchProtocol.from_dict(recorded) != protocol:
        current = json.loads(json.dumps(protocol.to_dict()))
        raise ValueError(f"the table was built with protocol {recorded}, not the current {current}; "
                         "verify with the naskit version recorded in its datasheet")


def table_protocol(bench: TabularBenchmark) -> BenchProtocol:
    """The protocol naskit registers for the table's version (``meta["version"]``, v1 when
    absent), checked against the one the table records."""
    version = bench.meta.get("version", "v1")
    if version not in PROTOCOLS:
        raise ValueError(f"unknown benchmark version {version!r}; naskit knows {', '.join(PROTOCOLS)}")
    protocol = PROTOCOLS[version]
    check_protocol(bench, protocol)
    return protocol


def current_origin() -> str:
    """This machine's ``host/torch-version``, as :func:`naskit.bench.pack.origin_of` records it."""
    import platform

    import torch

    return f"{platform.node() or 'host'}/torch-{torch.__version__}"


def eligible_rows(bench: TabularBenchmark, any_origin: bool = False) -> np.ndarray:
    """Rows whose recorded environment is this one (all rows with ``any_origin`` or when the
    table does not record origins)."""
    build = bench.meta.get("build", {})
    run_origin = build.get("run_origin")
    if any_origin or run_origin is None:
        return np.arange(len(bench.run_entry))
    from naskit.runtime.manifest import cpu_model

    packed_on = bench.meta.get("manifest", {}).get("platform", {}).get("cpu_model")
    if packed_on and cpu_model() and packed_on != cpu_model():
        raise ValueError(f"this table was built on {packed_on} and this machine is {cpu_model()}: another CPU "
                         "rounds differently, so re-training cannot match bit for bit. Run verify on the "
                         "build machine's CPU, or pass --any-origin to compare anyway")
    here = current_origin()
    origins = build["origins"]
    if here not in origins:
        raise ValueError(f"no row of this table was trained here ({here}); it was built on "
                         f"{', '.join(origins)}. Exact re-training needs the same host and torch "
                         "version: run verify there, or pass --any-origin to compare anyway")
    return np.flatnonzero(np.asarray(run_origin) == origins.index(here))


def verify(bench: TabularBenchmark, sample: int, seed: int = 0, workers: int = 1,
           any_origin: bool = False) -> list[dict]:
    """Re-train ``sample`` random runs of ``bench`` and compare every per-epoch value.

    Runs are drawn among those trained on this host with this torch version (another CPU or
    library version rounds differently); ``any_origin`` draws among all rows.
    Returns one dict per run: arch, seed, ``match`` and, per curve, the recorded and the
    recomputed final values (and the first epoch that differs, if any).
    """
    protocol = table_protocol(bench)
    pool = eligible_rows(bench, any_origin)
    if not 1 <= sample <= len(pool):
        raise ValueError(f"--sample must be in 1..{len(pool)}, got {sample}")
    rows = np.random.default_rng(seed).choice(pool, size=sample, replace=False)
    jobs = [_job_of_row(bench, int(r), protocol) for r in rows]
    ctx = multiprocessing.get_context("spawn")  # fresh processes, as in the build
    with cf.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        outputs = list(pool.map(train_job, jobs, [protocol] * len(jobs)))
    out = []
    for r, records in zip(rows, outputs):
        seed = int(bench.run_seed[r])
        out.append(_compare(bench, int(r), next(rec for rec in records if rec["seed"] == seed)))
    return out


def _job_of_row(bench: TabularBenchmark, row: int, protocol: BenchProtocol) -> Job:
    """The build job that trained table row ``row``: its seed alone, or, when the protocol
    stacks seeds, every seed of its class (a seed's values depend on the group it trained in)."""
    entry = int(bench.run_entry[row])
    seeds = (int(bench.run_seed[row]),)
    if protocol.stack_seeds:
        seeds = tuple(int(s) for s in np.sort(bench.run_seed[bench.run_entry == entry]))
        seeds = tuple(s for s in protocol.seeds if s in seeds)  # in the plan's order
    return Job(bench.meta["keys"][entry], bench.entry_names[entry], seeds)


def _compare(bench: TabularBenchmark, row: int, rec: dict) -> dict:
    out = {"arch": rec["arch"], "seed": rec["seed"], "match": True}
    for name in CURVES:
        stored = bench.curves[name][row]  # (E,), NaN-padded after a run that stopped early
        recomputed = np.asarray(rec[name], dtype=np.float64)
        n = len(recomputed)
        # a diverged run records a NaN loss itself: NaN equals NaN here, and the padding must be NaN
        same = (n <= len(stored) and bool(np.array_equal(stored[:n], recomputed, equal_nan=True))
                and bool(np.isnan(stored[n:]).all()))
        recorded = stored[np.isfinite(stored)]
        out[name] = {
            "recorded": float(recorded[-1]) if len(recorded) else None,
            "recomputed": float(recomputed[-1]) if len(recomputed) else None,
            "first_difference_epoch": None if same else _first_difference(stored, recomputed),
        }
        out["match"] &= same
    return out


def _first_difference(a: np.ndarray, b: np.ndarray) -> int:
    for e, (x, y) in enumerate(zip(a, b), start=1):
        if x != y and not (np.isnan(x) and np.isnan(y)):
            return e
    return min(len(a), len(b)) + 1
