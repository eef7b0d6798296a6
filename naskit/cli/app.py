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


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what is wrong, and where to read the usage."""

    def error(self, message: str):
        self.fail(f"{message} (see `{self.prog} -h`)")

    def fail(self, message: str):
        """Print ``message`` as one line, ``naskit: error: ...``, on stderr and exit with code 2 (``SystemExit``)."""
        self.exit(2, f"{self.prog.split()[0]}: error: {' '.join(str(message).split())}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``naskit`` argument parser, with every command group in ``COMMANDS`` (their parsers are ``Parser``s too)."""
    parser = Parser(prog="naskit", description="Learn Neural Architecture Search by doing it.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_commands in COMMANDS:
        add_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``naskit`` command line; returns the exit code.

    A user's mistake, a ``ValueError`` from the library (an unknown lesson, a bad parameter, a
    ledger with other settings) or a missing file, is shown as a one-line error with exit code 2
    (``SystemExit``), not a traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        parser.fail(str(exc))  # one line on stderr, exits with code 2
