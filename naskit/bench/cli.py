"""``naskit bench ...``: build, pack and verify the tabular benchmark from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
RUNS_DIR = DATA_DIR / "nb201_mnist1d"


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes i/n such as 0/2, got {text!r}") from None
    return i, n


def bench_build(args: argparse.Namespace) -> int:
    from naskit.bench.build import build, pending_jobs
    from naskit.bench.protocol import BenchProtocol

    protocol = BenchProtocol()
    executor = client = None
    if args.dask:
        from distributed import Client

        client = Client(args.dask)
        executor = client.get_executor()
    try:
        written = build(args.folder, protocol, workers=args.workers, executor=executor,
                        shard=args.shard, limit=args.limit)
    finally:
        if client is not None:
            client.close()
    left = len(pending_jobs(args.folder, protocol, args.shard))
    print(f"wrote {written} runs to {args.folder}; {left} jobs of this shard left")
    return 0


def add_bench_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``naskit bench build``."""
    bench = subparsers.add_parser("bench", help="build or check the tabular benchmark")
    commands = bench.add_subparsers(dest="bench_command", required=True, metavar="{build}")
    build = commands.add_parser("build", help="train the benchmark's runs (resumable: run again to continue)")
    build.add_argument("--folder", type=Path, default=RUNS_DIR, help=f"shard folder (default: {RUNS_DIR})")
    build.add_argument("--workers", type=int, default=None, help="processes, one thread each (default: all cores)")
    build.add_argument("--shard", type=_shard, default=(0, 1), metavar="I/N", help="build every N-th job from I")
    build.add_argument("--limit", type=int, default=None, help="stop after this many runs")
    build.add_argument("--dask", default=None, metavar="ADDRESS", help="run on a Dask scheduler instead")
    build.set_defaults(func=bench_build)
