"""Measure the shipped inference latency of a benchmark version's classes, and write its README.

    python benchmarks/measure_latency.py --version v1 --rounds 4 --conditions "quiet: ..."

Measures every class's network (``naskit.bench.latency.measure_classes``: 1 thread, batch 1 and
256, the median of ``--repeats`` passes after ``--warmup``, each round in a new shuffled order)
into ``data/latency_nb201_mnist1d_<version>/``, resuming what is already there, then writes that
folder's README from the records (``naskit.bench.datasheet.latency_lines``). ``--readme-only``
skips the measurement. Latency is only comparable when nothing else competes for the core: pin
the measurement (``taskset -c 1 python ...``) and say in ``--conditions`` what else ran.
"""

from __future__ import annotations

import argparse
import time

from naskit.bench.datasheet import latency_lines
from naskit.bench.latency import measure_classes, read_latencies
from naskit.bench.protocol import PROTOCOLS, class_representatives
from naskit.bench.store import DATA_DIR, LATENCY_DIRS, load_benchmark

INPUT_SHAPE = (1, 40)  # one MNIST-1D sequence


def readme(version: str, conditions: str, command: str) -> str:
    folder = DATA_DIR / LATENCY_DIRS[version]
    records = read_latencies(folder)
    files = sorted(p.name for p in folder.glob("latency-*.jsonl"))
    head = [
        f"# Measured inference latency of benchmark {version}'s networks",
        "",
        "*Generated from the records in this folder by `benchmarks/measure_latency.py` (its section is "
        "`naskit.bench.datasheet.latency_lines`, which `naskit bench pack` adds to a table's datasheet); do not "
        "edit.*",
        "",
        f"{', '.join(f'`{f}`' for f in files)}: one JSON line per measurement (class key, representative cell, "
        "round, median and interquartile range at batch 1 and 256 in ms, wall seconds of the measurement, threads, "
        f"repeats, warm-up passes, CPU model, torch, host). `naskit.load_benchmark('{version}')` merges them into "
        "the table as `latency_ms_b1`, `latency_iqr_ms_b1`, `latency_ms_b256`, `latency_iqr_ms_b256` (each "
        "class's fastest round, `naskit.bench.latency.latency_table`). "
        f"Measured with `{command}`; running it again resumes where it stopped.",
        "",
        f"**Conditions.** {conditions}",
        "",
    ]
    return "\n".join(head + latency_lines(load_benchmark(version), records))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="v1", choices=sorted(LATENCY_DIRS))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditions", required=True, help="what else ran on the machine while it measured")
    parser.add_argument("--readme-only", action="store_true", help="write the README from the records only")
    args = parser.parse_args()
    command = (f"python benchmarks/measure_latency.py --version {args.version} --rounds {args.rounds} "
               f"--repeats {args.repeats} --warmup {args.warmup} --seed {args.seed}")
    if not args.readme_only:
        start = time.perf_counter()
        classes = {key: str(arch) for key, arch in class_representatives().items()}
        n = measure_classes(DATA_DIR / LATENCY_DIRS[args.version], classes, PROTOCOLS[args.version].network,
                            INPUT_SHAPE, rounds=args.rounds, seed=args.seed, repeats=args.repeats,
                            warmup=args.warmup)
        print(f"measured {n:,} in {time.perf_counter() - start:.0f} s")
    path = DATA_DIR / LATENCY_DIRS[args.version] / "README.md"
    path.write_text(readme(args.version, args.conditions, command) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
