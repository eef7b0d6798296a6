"""``naskit lessons ...``: list, run and export the lesson notebooks from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned plain-text columns, one line per row, under a header line."""
    cells = [[str(value) for value in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def lessons_list(args: argparse.Namespace) -> int:
    """``naskit lessons list``: number, name, title and measured run times of every lesson."""
    from naskit.lessons.runner import list_lessons, load_run_times, notebook_objectives

    lessons = list_lessons(args.notebooks)
    times = load_run_times(args.notebooks)

    def seconds(x, mode):
        value = times.get(x.stem, {}).get(mode)
        return "?" if value is None else f"{value:.0f}"

    rows = [(f"{x.number:02d}", x.name, x.title, seconds(x, "smoke"), seconds(x, "full")) for x in lessons]
    print(format_table(["number", "name", "title", "smoke s", "full s"], rows))
    if times:
        print("run times measured by `naskit lessons run [--smoke] --record-times` on "
              + "; ".join(sorted({v for t in times.values() for k, v in t.items() if k.endswith("_machine")})))
    if args.objectives:
        for x in lessons:
            print(f"\n{x.title}")
            for bullet in notebook_objectives(x.path):
                print(f"  - {bullet}")
    return 0


def lessons_run(args: argparse.Namespace) -> int:
    """``naskit lessons run``: execute lessons, print their runtimes; 1 if any failed, or (in full
    mode) if any lesson's claim did not hold for its numbers (``Results.claim``)."""
    from pathlib import Path

    from naskit.lessons.runner import (
        SLOW_FACTOR,
        check_out_dir,
        expected_seconds,
        export_html,
        is_slow,
        load_run_times,
        parse_parameter,
        plan_lessons,
        recorded_seconds,
        run_lessons,
    )

    parameters = {key: parse_parameter(value) for key, value in args.parameters}
    check_out_dir(args.out, "--out")  # every argument is checked before anything is printed or run
    chosen, _, _ = plan_lessons(args.names or None, args.smoke, args.out, parameters, args.notebooks)
    times = load_run_times(args.notebooks)
    total, unknown = expected_seconds(chosen, args.smoke, times)
    mode = "smoke" if args.smoke else "full"
    print(f"running {len(chosen)} lesson(s) in {mode} mode; recorded times add up to about "
          f"{_duration(total)}" + (f" (+ {unknown} lesson(s) with no recorded time)" if unknown else "")
          + f"; executed notebooks go to {Path(args.out).resolve()}", flush=True)
    runs = run_lessons(
        args.names or None, smoke=args.smoke, out_dir=args.out, parameters=parameters,
        notebooks_dir=args.notebooks,
    )

    def status(run):
        if not run.ok:
            return "FAILED"
        return f"ok, SLOW (recorded {recorded_seconds(times, run.name, args.smoke):.0f} s)" \
            if is_slow(run, times, args.smoke) else "ok"

    rows = [(run.name, f"{run.seconds:.1f}", "?" if run.peak_mb is None else f"{run.peak_mb:.0f}", status(run))
            for run in runs]
    print(format_table(["lesson", "seconds", "peak MB", "status"], rows))
    print(f"total {_duration(sum(run.seconds for run in runs))}; peak MB is the kernel process's resident memory; "
          f"SLOW: more than {SLOW_FACTOR}x the recorded time")
    if args.html:
        print(f"HTML: {export_html(runs, args.out)}")
    from naskit.lessons.runner import record_run_times as record

    print(f"times and peak memory of this run: {record(runs, args.smoke, args.out)}")
    if args.record_times:
        from naskit.lessons.runner import record_run_times

        print(f"run times recorded in {record_run_times(runs, args.smoke, args.notebooks)}")
    failed = [run for run in runs if not run.ok]
    for run in failed:
        where = f"cell {run.failed_cell}" if run.failed_cell is not None else "before any cell ran"
        print(f"\nFAILED {run.name}.ipynb at {where} (counting from 0): {run.error}")
        print(f"  partial output: {run.output}")
    broken = {} if args.smoke else {run.name: run.broken_claims() for run in runs if run.ok}
    for name, claims in broken.items():  # smoke mode's numbers are too small to bear claims out
        for key, says in claims.items():
            print(f"WARNING: {name}: claim {key!r} does not hold for this run's numbers: {says}")
    return 1 if failed or any(broken.values()) else 0


def _duration(seconds: float) -> str:
    """``75`` -> ``"1 min 15 s"``."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def add_lessons_commands(subparsers) -> None:
    """Register ``naskit lessons list`` and ``naskit lessons run``, and the teaching commands
    ``student``, ``check`` and ``instrument`` (``naskit.cli.teach``)."""
    lessons = subparsers.add_parser("lessons", help="list, execute, hand out and check the lesson notebooks")
    commands = lessons.add_subparsers(dest="lessons_command", required=True)
    notebooks = {"metavar": "DIR", "default": None, "help": "folder of NN_name.ipynb lessons (default: notebooks/)"}

    listing = commands.add_parser("list", help="show the lessons: number, name, title, measured run times")
    listing.add_argument("--notebooks", **notebooks)
    listing.add_argument("--objectives", action="store_true", help="also print each lesson's learning objectives")
    listing.set_defaults(func=lessons_list)

    run = commands.add_parser("run", help="execute lessons headlessly with papermill")
    run.add_argument("names", nargs="*", metavar="NAME", help='"00", "00_tour" or "tour" (default: all)')
    run.add_argument("--smoke", action="store_true", help="inject SMOKE=True: the quick version")
    run.add_argument("--out", default="lessons_out", metavar="DIR", help="output folder (default: lessons_out)")
    run.add_argument(
        "-p", "--parameter", dest="parameters", nargs=2, action="append", default=[],
        metavar=("KEY", "VALUE"),
        help="inject KEY=VALUE (a Python literal, else a string), KEY one of the lesson's parameters and VALUE "
             "of its default's type; repeatable",
    )
    run.add_argument("--html", action="store_true", help="also export HTML and an index.html to --out")
    run.add_argument("--record-times", action="store_true",
                     help="merge the measured seconds into notebooks/run_times.json (shown by `lessons list`)")
    run.add_argument("--notebooks", **notebooks)
    run.set_defaults(func=lessons_run)

    from naskit.cli.teach import add_teach_commands

    add_teach_commands(commands, notebooks)
