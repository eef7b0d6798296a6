"""``naskit bench ...``: build, pack and verify the tabular benchmarks from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from naskit.bench.store import DATA_DIR, DEFAULT_VERSION, VERSIONS, benchmark_path

LATEST = max(VERSIONS)  # what `bench build` and `bench pack` make unless told otherwise


def runs_dir(version: str) -> Path:
    """The folder of a version's build records (``data/nb201_mnist1d_v2/`` for v2)."""
    return DATA_DIR / Path(VERSIONS[version]).stem


def datasheet_path(version: str) -> Path:
    """A version's datasheet (``data/nb201_mnist1d_v2.md`` for v2)."""
    return DATA_DIR / f"{Path(VERSIONS[version]).stem}.md"


def shard_argument(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes i/n such as 0/2, got {text!r}") from None
    return i, n


def seed_argument(text: str) -> int:
    """``--seed``: a whole number, 0 or more (what NumPy's and Python's seeded generators take)."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more (such as 0 or 7), got {text!r}")
    return seed


def check_counts(args: argparse.Namespace, *flags: str) -> None:
    """A ``ValueError`` naming the flag when a count given on the command line is below its least:
    ``--workers`` and ``--sample`` at least 1, ``--limit`` at least 0."""
    least = {"workers": 1, "sample": 1, "limit": 0}
    for flag in flags:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None and value < least[flag.lstrip("-")]:
            raise ValueError(f"{flag} must be at least {least[flag.lstrip('-')]}, got {value}")


def bench_build(args: argparse.Namespace) -> int:
    from naskit.bench.build import build, pending_jobs
    from naskit.bench.protocol import PROTOCOLS
    from naskit.lessons.runner import check_out_dir

    check_counts(args, "--workers", "--limit")
    protocol = PROTOCOLS[args.version]
    folder = check_out_dir(args.folder or runs_dir(args.version), "--folder")
    executor = client = None
    if args.dask:
        from distributed import Client

        client = Client(args.dask)
        executor = client.get_executor()
    try:
        written = build(folder, protocol, workers=args.workers, executor=executor,
                        shard=args.shard, limit=args.limit, reverse=args.reverse, tag=args.tag)
    finally:
        if client is not None:
            client.close()
    left = len(pending_jobs(folder, protocol, args.shard))
    print(f"wrote {written} jobs to {folder}; {left} jobs of this shard left")
    return 0


def bench_pack(args: argparse.Namespace) -> int:
    from naskit.bench.pack import pack_runs
    from naskit.bench.protocol import PROTOCOLS, class_representatives
    from naskit.runs.outputs import check_distinct, check_output_file

    folder = args.folder or runs_dir(args.version)
    if not folder.is_dir():
        raise ValueError(f"--folder {folder} is not a folder of build records; give the folder "
                         "`naskit bench build --folder` wrote")
    out, datasheet = args.out or benchmark_path(args.version), args.datasheet or datasheet_path(args.version)
    check_distinct({"--out": out, "--datasheet": datasheet})
    check_output_file(out, "--out", example="table.npz")
    check_output_file(datasheet, "--datasheet", example="table.md")
    path, summary = pack_runs(folder, out, datasheet, protocol=PROTOCOLS[args.version], version=args.version)
    print(f"packed {summary['runs']:,} runs ({summary['classes_trained']:,} classes, "
          f"{summary['cells_queryable']:,} cells) into {path}; datasheet {datasheet}")
    classes = len(class_representatives())
    if summary["classes_trained"] < classes:
        print(f"the table is partial: {summary['classes_trained']:,} of {classes:,} classes are trained, and a query "
              f"of any other cell fails; `naskit bench build --version {args.version}` resumes the build")
    return 0


def bench_verify(args: argparse.Namespace) -> int:
    from naskit.bench.store import load_benchmark
    from naskit.bench.verify import verify

    check_counts(args, "--sample", "--workers")
    if args.path is not None and args.path.is_dir():
        raise ValueError(f"--path {args.path} is a folder; give a packed table's .npz file")
    rows = verify(load_benchmark(args.path or args.version), args.sample, seed=args.seed, workers=args.workers,
                  any_origin=args.any_origin)
    for r in rows:
        status = "match" if r["match"] else "MISMATCH"
        va, ta = r["valid_acc"], r["test_acc"]
        print(f"{status:9s} seed {r['seed']}  valid {va['recorded']} -> {va['recomputed']}  "
              f"test {ta['recorded']} -> {ta['recomputed']}  {r['arch']}")
        for name in ("valid_acc", "test_acc", "train_loss", "valid_loss"):
            if r[name]["first_difference_epoch"] is not None:
                print(f"          {name} differs from epoch {r[name]['first_difference_epoch']}")
    bad = sum(not r["match"] for r in rows)
    print(f"{len(rows) - bad} of {len(rows)} re-trained runs match their records exactly")
    return 1 if bad else 0


def bench_latency(args: argparse.Namespace) -> int:
    from naskit.bench.latency import compare_with_shipped
    from naskit.bench.store import load_benchmark

    for flag in ("sample", "rounds", "repeats"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag} must be at least 1, got {getattr(args, flag)}")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} is a file; give a folder for the measurement records")
    bench = load_benchmark(args.version)
    if not bench.latency:
        print(f"note: benchmark {args.version} ships no latency yet; measuring without a comparison")
    r = compare_with_shipped(bench, args.out, sample=args.sample, rounds=args.rounds, seed=args.seed,
                             repeats=args.repeats)
    here, shipped = r["machine"], r["shipped"] or {}
    print(f"measured {r['classes']:,} classes of {args.version}'s network in {r['seconds']:.0f} s on "
          f"{here['cpu_model']} (torch {here['torch']}, 1 thread); records in {args.out}")
    if shipped:
        print(f"shipped figures: {', '.join(shipped['cpu_model'])}, torch {', '.join(shipped['torch'])}")
    for b in (1, 256):
        if f"spearman_b{b}" in r:
            print(f"batch {b:>3}: Spearman rho with the shipped latency {r[f'spearman_b{b}']:.3f}; "
                  f"this machine takes {r[f'ratio_b{b}']:.2f}x the shipped time (median over classes)")
    return 0


def add_bench_commands(subparsers) -> None:
    """Register ``naskit bench build``, ``pack`` and ``verify``."""
    bench = subparsers.add_parser("bench", help="build or check the tabular benchmarks")
    commands = bench.add_subparsers(dest="bench_command", required=True, metavar="{build,pack,verify,latency}")
    version = {"choices": sorted(VERSIONS), "metavar": "VERSION"}
    build = commands.add_parser("build", help="train a benchmark's runs (resumable: run again to continue)")
    build.add_argument("--version", default=LATEST, help=f"which table: {', '.join(VERSIONS)} (default {LATEST})",
                       **version)
    build.add_argument("--folder", type=Path, default=None,
                       help=f"shard folder (default: the version's, e.g. {runs_dir(LATEST)})")
    build.add_argument("--workers", type=int, default=None, help="processes, one thread each (default: all cores)")
    build.add_argument("--shard", type=shard_argument, default=(0, 1), metavar="I/N",
                       help="build every N-th job from I")
    build.add_argument("--limit", type=int, default=None, help="stop after this many jobs")
    build.add_argument("--reverse", action="store_true",
                       help="take jobs from the end of the plan (a second machine on the same folder)")
    build.add_argument("--tag", default=None,
                       help="name in the shard file, runs-TAG-IofN.jsonl (default: this machine's name)")
    build.add_argument("--dask", default=None, metavar="ADDRESS", help="run on a Dask scheduler instead")
    build.set_defaults(func=bench_build)

    pack = commands.add_parser("pack", help="pack a version's build records into data/ and write its datasheet")
    pack.add_argument("--version", default=LATEST, help=f"which table (default {LATEST})", **version)
    pack.add_argument("--folder", type=Path, default=None, help="shard folder (default: the version's)")
    pack.add_argument("--out", type=Path, default=None, help="packed file (default: the version's in data/)")
    pack.add_argument("--datasheet", type=Path, default=None, help="datasheet (default: the version's .md in data/)")
    pack.set_defaults(func=bench_pack)

    latency = commands.add_parser("latency", help="re-measure the classes' inference latency on this machine "
                                  "and compare it with the shipped figures")
    latency.add_argument("--version", default=DEFAULT_VERSION, help=f"which table (default {DEFAULT_VERSION})",
                         **version)
    latency.add_argument("--sample", type=int, default=200, help="how many random classes (default 200)")
    latency.add_argument("--rounds", type=int, default=1, help="measurement rounds, each in a new order (default 1)")
    latency.add_argument("--repeats", type=int, default=10, help="timed forward passes per batch size (default 10)")
    latency.add_argument("--seed", type=int, default=0, help="which classes are drawn, and their order")
    latency.add_argument("--out", type=Path, default=Path("naskit_latency"),
                         help="folder of the measurement records, resumable (default ./naskit_latency)")
    latency.set_defaults(func=bench_latency)

    check = commands.add_parser("verify", help="re-train random table rows and compare with their records")
    check.add_argument("--sample", type=int, default=3, help="how many runs to re-train (default 3)")
    check.add_argument("--seed", type=seed_argument, default=0, help="which runs are drawn")
    check.add_argument("--workers", type=int, default=1)
    check.add_argument("--any-origin", action="store_true",
                       help="draw among all rows, also those trained on another host or torch version")
    check.add_argument("--version", default=None, help=f"which shipped table (default {DEFAULT_VERSION})", **version)
    check.add_argument("--path", type=Path, default=None, help="a packed table instead of a shipped one")
    check.set_defaults(func=bench_verify)
