"""The ``naskit`` command line.

Each command group lives in its own ``add_*_commands(subparsers)`` function that registers
its subcommands and sets ``func`` to the function that runs them; ``main`` just dispatches.
To add a group (``bench``, ``search``), write one such function and list it in ``COMMANDS``.

Example:
    $ naskit lessons list
    $ naskit lessons run 00 tour --smoke -p SEED 3 --out lessons_out --html
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from naskit.cli.lessons import add_lessons_commands

# ---- naskit lessons ---------------------------------------------------------------------


def add_bench_commands(subparsers) -> None:
    from naskit.cli.bench import add_bench_commands as add

    add(subparsers)


def add_search_commands(subparsers) -> None:
    from naskit.cli.search import add_search_commands as add

    add(subparsers)


def add_estimate_commands(subparsers) -> None:
    from naskit.cli.estimate import add_estimate_commands as add

    add(subparsers)


COMMANDS = (add_lessons_commands, add_bench_commands, add_search_commands, add_estimate_commands)


def build_parser() -> argparse.ArgumentParser:
    """The ``naskit`` argument parser, with every command group in ``COMMANDS``."""
    parser = argparse.ArgumentParser(prog="naskit", description="Learn Neural Architecture Search by doing it.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_commands in COMMANDS:
        add_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``naskit`` command line; returns the exit code.

    A ``ValueError`` from the library (an unknown lesson, a bad parameter) is shown as a
    one-line usage error with exit code 2, not a traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        parser.error(str(exc))  # prints usage and the message, exits with code 2
