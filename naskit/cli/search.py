"""``naskit search``: the search loop from a terminal, resumable by running the same command.

A ledger file holds runs by name (``naskit search --list --ledger F`` lists them). Without
``--name`` the run is named by its settings, so the same command resumes it; a command whose
settings differ from every run in the file is refused, naming each difference, and a new run
goes into a file that holds others only under a new ``--name``. Every argument, and every file
the search writes (the ledger, the history CSV), is checked before any work starts: an output
never overwrites an input, and a mistake is a one-line message with exit code 2.

Example:
    $ naskit search --strategy evolution --budget evaluations=150 --ledger runs.db
    $ naskit search --strategy random --budget evaluations=150 --ledger runs.db --name random-0
    $ naskit search --list --ledger runs.db
"""

from __future__ import annotations

import argparse
import json
import re
import typing
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
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--budget {key} must be a number, e.g. {key}=100, got {value!r}") from None
        limits[key] = int(number) if key == "evaluations" and number.is_integer() else number
    return Budget(**limits)


def _option_types(name: str) -> dict[str, tuple[type, ...]]:
    """The types each option of strategy ``name`` takes, from its constructor's annotations."""
    from naskit.strategies import STRATEGIES

    hints = typing.get_type_hints(STRATEGIES[name].__init__)
    return {k: typing.get_args(h) or (h,) for k, h in hints.items()}


def _options(name: str, pairs: list[list[str]]) -> dict:
    """``-o KEY VALUE`` pairs as the strategy's keyword options, each value checked against its type."""
    from naskit.lessons.runner import parse_parameter
    from naskit.strategies import strategy_options

    allowed, types, options = strategy_options(name), _option_types(name), {}
    for key, text in pairs:
        if key not in allowed:
            raise ValueError(f"-o {key}: strategy {name!r} has no option {key!r}; its options are: "
                             f"{', '.join(allowed) if allowed else '(none)'}")
        value, want = parse_parameter(text), types.get(key, (object,))
        ok = (isinstance(value, want) and not (isinstance(value, bool) and bool not in want)) or \
            (float in want and type(value) is int)
        if not ok:
            names = " or ".join("None" if t is type(None) else t.__name__ for t in want)
            raise ValueError(f"-o {key} takes {names} for strategy {name!r}, got {text!r}")
        options[key] = value
    return options


def _strategy(args: argparse.Namespace):
    from naskit.strategies import make_strategy

    options = _options(args.strategy, args.option)
    try:
        return make_strategy(args.strategy, seed=args.seed, **options)
    except TypeError as exc:  # an option of the right type that the strategy cannot use together
        raise ValueError(f"strategy {args.strategy!r} with options {options}: {exc}") from None


def _table(text: str | None):
    """``--table``: a shipped version (``v1``, ``v2``), a packed ``.npz`` path, or None (the default)."""
    from naskit.bench.store import VERSIONS, benchmark_path

    if text is None or text in VERSIONS:
        return benchmark_path(text) if text else benchmark_path()
    return Path(text)


def _evaluator(name: str, args: argparse.Namespace):
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.evaluators.training import TrainingEvaluator

    if name == "tabular":
        from naskit.bench.store import load_benchmark

        try:
            return TabularEvaluator(load_benchmark(_table(args.table)))
        except FileNotFoundError as exc:
            raise ValueError(f"--table: {exc}") from None
    if name == "training":
        from naskit.core.configs import TrainConfig

        return TrainingEvaluator(args.dataset, TrainConfig(epochs=args.epochs, threads=1), seed=args.seed)
    raise ValueError(f"unknown evaluator {name!r}; choose one of {', '.join(EVALUATORS)}")


def run_name(ledger_path: Path, settings: dict, name: str | None) -> str:
    """The run that ``settings`` continue or start in the ledger file.

    ``--name`` given: that run (refused when it exists with other settings). Else the name the
    settings give (``run_id_for``), unless the file holds other runs and none with these settings:
    then a ``ValueError`` names each setting that differs from the closest run.
    """
    from naskit.runs.ledger import Ledger, settings_diff
    from naskit.runs.loop import run_id_for

    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise ValueError(f"--name must be letters, digits, '.', '_' or '-' (starting with a letter or digit), "
                         f"got {name!r}")
    runs = {}
    if ledger_path.is_file() and ledger_path.stat().st_size:
        with Ledger(ledger_path, read_only=True) as ledger:
            runs = ledger.runs()
    plain = json.loads(json.dumps(settings, sort_keys=True, default=str))  # as the ledger stores it
    listing = f"`naskit search --list --ledger {ledger_path}` lists its runs"
    if name is not None:
        if name in runs and runs[name] != plain:
            raise ValueError(f"run {name!r} in {ledger_path} was started with other settings "
                             f"({'; '.join(settings_diff(runs[name], plain))}); resume it with the same "
                             f"settings, or start a new run with another --name ({listing})")
        return name
    default = run_id_for(settings)
    if not runs or default in runs:
        return default
    closest = min(runs, key=lambda r: len(settings_diff(runs[r], plain)))
    held = f"run {closest!r}" if len(runs) == 1 else \
        f"{len(runs)} runs, none with these settings; the closest, {closest!r}, was started"
    diff = "; ".join(settings_diff(runs[closest], plain))
    raise ValueError(f"{ledger_path} holds {held} with other settings ({diff}); resume it with the same settings, "
                     f"or start a new run in this file with --name NAME ({listing})")


def list_command(args: argparse.Namespace) -> int:
    """``naskit search --list --ledger F``: the runs F holds, one line each."""
    from naskit.cli.lessons import format_table
    from naskit.runs.ledger import Ledger

    with Ledger(args.ledger, read_only=True) as ledger:
        runs = ledger.summaries()
    if not runs:
        print(f"{args.ledger} holds no runs")
        return 0
    columns = ("run", "strategy", "seed", "evaluator", "evaluations", "status")
    print(format_table(columns, [[r[c] for c in columns] for r in runs]))
    return 0


def _check_arguments(args: argparse.Namespace) -> None:
    missing = [flag for flag, value in (("--strategy", args.strategy), ("--budget", args.budget)) if not value]
    if missing:
        raise ValueError(f"naskit search needs {' and '.join(missing)} (or --list to list a ledger's runs), e.g. "
                         "naskit search --strategy evolution --budget evaluations=150")
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")


def search_command(args: argparse.Namespace) -> int:
    import concurrent.futures as cf

    from naskit.runs.loop import check_search, run_settings, search
    from naskit.runs.outputs import check_distinct, check_output_file
    from naskit.runtime.files import atomic_write_bytes

    if args.list:
        return list_command(args)
    _check_arguments(args)  # every argument and output is checked before any work starts
    budget = _budget(args.budget)
    strategy = _strategy(args)
    table = _table(args.table) if args.evaluator == "tabular" else None
    check_distinct({"--table": table, "--ledger": args.ledger, "--out": args.out})
    check_output_file(args.ledger, "--ledger", example="naskit-search.db")
    evaluator = _evaluator(args.evaluator, args)
    settings = run_settings(strategy, evaluator, budget, args.workers)
    check_search(settings, evaluator, budget, args.ledger)
    name = run_name(args.ledger, settings, args.name)
    out = args.out or args.ledger.with_name(f"{name}.csv")
    check_distinct({"--table": table, "--ledger": args.ledger, "--out": out})
    check_output_file(out, "--out")
    optuna_storage = _optuna_storage(args.optuna_storage, {"--table": table, "--ledger": args.ledger, "--out": out})
    executor = cf.ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    try:
        run = search(strategy, evaluator, budget, ledger=str(args.ledger), executor=executor,
                     workers=args.workers, name=name, progress=not args.quiet)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    atomic_write_bytes(out, run.history.to_csv(index=False).encode())  # accuracies as fractions, as in the ledger
    best = run.best_result
    print(f"run {run.run_id}: {run.stop_reason}; {run.cost['evaluations']} evaluations, "
          f"{run.cost['sim_seconds']:.0f} simulated s, {run.cost['flops']:.3g} FLOPs")
    if best is not None:
        print(f"best: {best.arch}  valid accuracy {100 * best.valid_acc:.2f} %  test accuracy "
              f"{100 * best.test_acc:.2f} %")
    print(f"history: {out} (accuracies as fractions)  ledger: {args.ledger} (run the same command again to resume)")
    if optuna_storage is not None:
        from naskit.runs.optuna_export import export_to_optuna

        export_to_optuna(run, optuna_storage, study_name=name, overwrite=True)  # a resumed run replaces its study
        print(f"optuna study {name!r} in {args.optuna_storage}: optuna-dashboard {optuna_storage}")
    return 0


def _optuna_storage(path: Path | None, others: dict) -> str | None:
    """``--optuna-storage``'s SQLite URL, checked before any work: Optuna installed, a file apart
    from the other files. The run's study is named as the run (resuming replaces it)."""
    if path is None:
        return None
    from naskit.runs.outputs import check_distinct

    check_distinct({**others, "--optuna-storage": path})
    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise ValueError('--optuna-storage needs Optuna: pip install "naskit[optuna]"') from None
    return f"sqlite:///{path.resolve()}"


def add_search_commands(subparsers) -> None:
    """Register ``naskit search``."""
    from naskit.cli.bench import seed_argument
    from naskit.strategies import STRATEGIES

    p = subparsers.add_parser("search", help="run one search (resumable through its ledger)")
    p.add_argument("--strategy", choices=sorted(STRATEGIES), help="required, unless --list")
    p.add_argument("--evaluator", default="tabular", choices=EVALUATORS)
    p.add_argument("--budget", action="append", metavar="LIMIT=VALUE",
                   help="evaluations=N, sim_seconds=S, flops=F or wall_seconds=S; repeatable; required, unless --list")
    p.add_argument("--seed", type=seed_argument, default=0, help="the strategy's seed (and the trainer's), 0 or more")
    p.add_argument("--ledger", type=Path, default=Path("naskit-search.db"), help="SQLite ledger (resume point)")
    p.add_argument("--name", default=None,
                   help="the run's name in the ledger (default: named by its settings); a new name starts a new run")
    p.add_argument("--list", action="store_true", help="list the runs the ledger holds, and stop")
    p.add_argument("--out", type=Path, default=None, help="history CSV (default: next to the ledger)")
    p.add_argument("-o", "--option", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="a strategy option, e.g. -o population_size 10; repeatable")
    p.add_argument("--workers", type=int, default=1, help="evaluations in parallel (process pool)")
    p.add_argument("--table", default=None,
                   help="for --evaluator tabular: a shipped version (v1, v2) or a packed table's path (default: v1)")
    p.add_argument("--dataset", default="mnist1d", help="dataset for --evaluator training")
    p.add_argument("--epochs", type=int, default=8, help="full fidelity for --evaluator training")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--optuna-storage", type=Path, default=None, metavar="FILE",
                   help="also write the run as an Optuna study into this SQLite file (for optuna-dashboard)")
    p.set_defaults(func=search_command)
