"""``naskit estimate proxies``: the whole-space proxy computation from the command line."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def estimate_proxies(args: argparse.Namespace) -> int:
    from naskit.bench.protocol import PROTOCOLS
    from naskit.estimate.whole_space import compute_space, pending, proxies_folder

    folder = args.folder or proxies_folder(args.version)
    start = time.perf_counter()
    written = compute_space(folder, seed=args.seed, batch_size=args.batch_size, workers=args.workers,
                            shard=args.shard, limit=args.limit, protocol=PROTOCOLS[args.version])
    seconds = time.perf_counter() - start
    left = len(pending(folder, args.seed, args.shard))
    rate = f" ({seconds / written:.3f} s per class with {args.workers or 'all'} workers)" if written else ""
    print(f"scored {written} classes in {seconds:.0f} s{rate}; {left} left in this shard")
    return 0


def add_estimate_commands(subparsers) -> None:
    from naskit.bench.store import VERSIONS
    from naskit.cli.bench import LATEST, shard_argument

    est = subparsers.add_parser("estimate", help="cheap performance estimates over the whole space")
    commands = est.add_subparsers(dest="estimate_command", required=True, metavar="{proxies}")
    p = commands.add_parser("proxies", help="score every canonical class with every zero-cost proxy (resumable)")
    p.add_argument("--version", default=LATEST, choices=sorted(VERSIONS), metavar="VERSION",
                   help=f"whose network and data: benchmark {', '.join(VERSIONS)} (default {LATEST})")
    p.add_argument("--folder", type=Path, default=None, help="record folder (default: the version's in data/)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None,
                   help="one minibatch size for every proxy (default: each proxy's reference batch)")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--shard", type=shard_argument, default=(0, 1), metavar="I/N")
    p.add_argument("--limit", type=int, default=None)
    p.set_defaults(func=estimate_proxies)
