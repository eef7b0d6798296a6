"""``naskit search``: the search loop from a terminal, resumable by running the same command."""

from __future__ import annotations

import argparse
from pathlib import Path

EVALUATORS = ("tabular", "training")


def _budget(items: list[str]):
    from naskit.runs.budget import Budget

    limits = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--budget takes LIMIT=VALUE such as evaluations=150 or sim_seconds=3600, got {item!r}")
        if key not in Budget.__dataclass_fields__:
            raise ValueError(f"unknown budget limit {key!r}; limits are {', '.join(Budget.__dataclass_fields__)}")
        number = float(value)
        limits[key] = int(number) if key == "evaluations" and number.is_integer() else number
    return Budget(**limits)


def _evaluator(name: str, args: argparse.Namespace):
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.evaluators.training import TrainingEvaluator

    if name == "tabular":
        from naskit.bench.store import load_benchmark

        return TabularEvaluator(load_benchmark(args.table))
    if name == "training":
        from naskit.core.configs import TrainConfig

        return TrainingEvaluator(args.dataset, TrainConfig(epochs=args.epochs, threads=1), seed=args.seed)
    raise ValueError(f"unknown evaluator {name!r}; choose one of {', '.join(EVALUATORS)}")


def search_command(args: argparse.Namespace) -> int:
    import concurrent.futures as cf

    from naskit.lessons.runner import parse_parameter
    from naskit.runs.loop import search
    from naskit.strategies import make_strategy

    budget = _budget(args.budget)  # every argument is checked before any work starts
    options = {k: parse_parameter(v) for k, v in args.option}
    strategy = make_strategy(args.strategy, seed=args.seed, **options)
    evaluator = _evaluator(args.evaluator, args)
    executor = cf.ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    try:
        run = search(strategy, evaluator, budget, ledger=str(args.ledger), executor=executor,
                     workers=args.workers, progress=not args.quiet)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    out = args.out or args.ledger.with_name(f"{run.run_id}.csv")
    run.history.to_csv(out, index=False)
    best = run.best_result
    print(f"run {run.run_id}: {run.stop_reason}; {run.cost['evaluations']} evaluations, "
          f"{run.cost['sim_seconds']:.0f} simulated s, {run.cost['flops']:.3g} FLOPs")
    if best is not None:
        print(f"best: {best.arch}  valid {100 * best.valid_acc:.2f} %  test {100 * best.test_acc:.2f} %")
    print(f"history: {out}  ledger: {args.ledger} (run the same command again to resume)")
    return 0


def add_search_commands(subparsers) -> None:
    """Register ``naskit search``."""
    from naskit.strategies import STRATEGIES

    p = subparsers.add_parser("search", help="run one search (resumable through its ledger)")
    p.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    p.add_argument("--evaluator", default="tabular", choices=EVALUATORS)
    p.add_argument("--budget", action="append", required=True, metavar="LIMIT=VALUE",
                   help="evaluations=N, sim_seconds=S, flops=F or wall_seconds=S; repeatable")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ledger", type=Path, default=Path("naskit-search.db"), help="SQLite ledger (resume point)")
    p.add_argument("--out", type=Path, default=None, help="history CSV (default: next to the ledger)")
    p.add_argument("-o", "--option", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="a strategy option, e.g. -o population_size 10; repeatable")
    p.add_argument("--workers", type=int, default=1, help="evaluations in parallel (process pool)")
    p.add_argument("--table", type=Path, default=None, help="packed table for --evaluator tabular")
    p.add_argument("--dataset", default="mnist1d", help="dataset for --evaluator training")
    p.add_argument("--epochs", type=int, default=8, help="full fidelity for --evaluator training")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=search_command)
