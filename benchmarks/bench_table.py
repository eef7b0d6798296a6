"""How fast naskit's tabular benchmark loads and answers queries, and what it costs in memory.

    python benchmarks/bench_table.py [--path data/nb201_mnist1d.npz] [--synthetic]

Measures, on a packed table:
  - load time of ``load_benchmark`` (best of 5) in this process, and in fresh processes
    (best of 5), where it includes ``import naskit`` (and so torch);
  - memory of loading, in a fresh process: the growth of peak RSS (``resource.getrusage``)
    and the tracemalloc peak of the Python allocations;
  - single-query throughput for ``query(arch)``, ``query(arch, epoch=3)`` and
    ``query(arch, seed=0)`` over random cells present in the table (Arch values; strings
    are timed too, since they are parsed on every call);
  - ``to_frame()`` (best of 3).

Targets: load < 1 s, < 200 MB, >= 100,000 queries/s. Without the shipped file, the current
build records are packed into a temporary file first. ``--synthetic`` also measures a table
of the full planned size (every class, 8,866 runs) with random curves, to see the final cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "data" / "nb201_mnist1d.npz"
RUNS = ROOT / "data" / "nb201_mnist1d"
N_QUERIES = 20_000

# Run in a fresh interpreter: import, load, report times and memory as one JSON line.
FRESH = r"""
import json, os, resource, sys, time, tracemalloc
def rss_now():  # current resident set in MB (Linux); the peak from getrusage where /proc is absent
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
import naskit
t1 = time.perf_counter()
rss0, now0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rss_now()
if sys.argv[2] == "trace":
    tracemalloc.start()
bench = naskit.load_benchmark(sys.argv[1])
t2 = time.perf_counter()
peak = tracemalloc.get_traced_memory()[1] if sys.argv[2] == "trace" else 0
rss1, now1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rss_now()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "total_s": t2 - t0, "rss_now_delta_mb": now1 - now0,
                  "rss_peak_delta_mb": (rss1 - rss0) / 1024, "rss_peak_mb": rss1 / 1024,
                  "trace_peak_mb": peak / 2**20}))
"""


def table_path(path: Path, tmp: Path) -> Path:
    """``path`` if it exists, else the current build records packed into ``tmp``."""
    if path.exists():
        return path
    from naskit.bench.pack import pack_runs

    out, summary = pack_runs(RUNS, tmp / "partial.npz", None)
    print(f"{path} does not exist yet: packed the {summary['runs']:,} runs built so far "
          f"({summary['classes_trained']:,} classes) into a temporary file instead")
    return out


def synthetic_table(tmp: Path) -> Path:
    """A table of the full planned size (every job of the default plan), random curves."""
    from naskit.bench.protocol import BenchProtocol, plan
    from naskit.bench.store import pack
    from naskit.bench.table import TabularBenchmark

    protocol, rng = BenchProtocol(), np.random.default_rng(0)
    epochs = protocol.train.epochs
    records = []
    for job in plan(protocol):
        acc = np.sort(rng.uniform(0.1, 0.97, (2, epochs)), axis=1)
        loss = np.sort(rng.uniform(0.05, 2.3, (2, epochs)), axis=1)[:, ::-1]
        records.append({"key": job.key, "seed": job.seeds[0], "valid_acc": acc[0], "test_acc": acc[1],
                        "train_loss": loss[0], "valid_loss": loss[1], "params": 10_000,
                        "forward_flops": 250_000, "train_flops": 2 * 10**10, "eval_flops": 4 * 10**9,
                        "wall_seconds": 3.0})
    return pack(TabularBenchmark.from_runs(records), tmp / "synthetic.npz")


def fresh(path: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", FRESH, str(path), mode], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def queries_per_second(bench, archs, **kwargs) -> float:
    query = bench.query
    seconds = best_time(lambda: [query(a, **kwargs) for a in archs], 3)
    return len(archs) / seconds


def measure(path: Path) -> list[tuple[str, str, str, bool | None]]:
    import naskit

    load = best_time(lambda: naskit.load_benchmark(path), 5)
    runs = [fresh(path, "time") for _ in range(5)]
    traced, untraced = fresh(path, "trace"), runs[0]
    bench = naskit.load_benchmark(path)
    cells = np.flatnonzero(bench.entry_of_cell >= 0)
    rng = np.random.default_rng(0)
    space = naskit.NB201Space()
    archs = [space[int(c)] for c in rng.choice(cells, N_QUERIES)]
    seeded = [a for a in archs if 0 in bench.seeds_of(a)]
    strings = [str(a) for a in archs]
    epoch = min(3, bench.epochs)
    rates = {
        "query(arch)": queries_per_second(bench, archs),
        f"query(arch, epoch={epoch})": queries_per_second(bench, archs, epoch=epoch),
        "query(arch, seed=0)": queries_per_second(bench, seeded, seed=0),
        "query(str)": queries_per_second(bench, strings),
    }
    frame = best_time(bench.to_frame, 3)
    size = path.stat().st_size / 2**20
    print(f"\n{path.name}: {len(bench.entry_names):,} entries, {len(bench.run_entry):,} runs, "
          f"{len(bench):,} cells, {bench.epochs} epochs, {size:.2f} MiB on disk")
    rows = [
        ("load_benchmark, this process (best of 5)", f"{load * 1e3:.1f} ms", "< 1 s", load < 1),
        ("load_benchmark, fresh process (best of 5)", f"{min(r['load_s'] for r in runs) * 1e3:.1f} ms",
         "< 1 s", min(r["load_s"] for r in runs) < 1),
        ("import naskit + load, fresh process (best of 5)", f"{min(r['total_s'] for r in runs):.2f} s",
         "", None),
        ("RSS growth of loading, fresh process", f"{untraced['rss_now_delta_mb']:.1f} MB", "< 200 MB",
         untraced["rss_now_delta_mb"] < 200),
        # getrusage's ru_maxrss is a high-water mark: importing torch sets it, loading may stay below
        ("peak RSS (getrusage) growth of loading", f"{untraced['rss_peak_delta_mb']:.1f} MB", "< 200 MB",
         untraced["rss_peak_delta_mb"] < 200),
        ("peak RSS of the process (import + load)", f"{untraced['rss_peak_mb']:.0f} MB", "", None),
        ("tracemalloc peak of loading", f"{traced['trace_peak_mb']:.1f} MB", "< 200 MB",
         traced["trace_peak_mb"] < 200),
    ]
    rows += [(name, f"{rate:,.0f} /s", ">= 100,000 /s" if name != "query(str)" else "", rate >= 1e5
              if name != "query(str)" else None) for name, rate in rates.items()]
    rows.append(("to_frame() (best of 3)", f"{frame * 1e3:.1f} ms", "", None))
    return rows


def show(rows) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'value':>14}  {'target':<14}  ok")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:>14}  {target:<14}  {'' if ok is None else ('yes' if ok else 'NO')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", type=Path, default=DEFAULT, help=f"packed table (default: {DEFAULT})")
    parser.add_argument("--synthetic", action="store_true", help="also measure a full-size synthetic table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = [table_path(args.path, Path(tmp))]
        if args.synthetic:
            paths.append(synthetic_table(Path(tmp)))
        for path in paths:
            show(measure(path))


if __name__ == "__main__":
    main()
