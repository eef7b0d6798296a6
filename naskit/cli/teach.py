"""``naskit lessons student|check|instrument``: teach a course with the lessons.

    $ naskit lessons student --out course/student             # every lesson without its solutions
    $ naskit lessons check notebooks/03_search_strategies.ipynb  # run it, report each exercise's check
    $ naskit lessons check submissions/ --out graded          # a folder: graded/grades.csv, feedback.csv
    $ naskit lessons instrument                               # (instructor) put the check cells in place
"""

from __future__ import annotations

import argparse
from pathlib import Path


def lessons_student(args: argparse.Namespace) -> int:
    """``naskit lessons student``: write the student versions."""
    from naskit.lessons.student import write_student_versions

    written = write_student_versions(args.names or None, args.out, args.notebooks)
    for path in written:
        print(path)
    print(f"{len(written)} student version(s) in {Path(args.out).resolve()}: solutions replaced by cells that say "
          "what to write, outputs cleared")
    return 0


def lessons_check(args: argparse.Namespace) -> int:
    """``naskit lessons check``: execute notebooks, report every check; 1 unless all ran and passed."""
    from naskit.cli.lessons import format_table
    from naskit.lessons.checks import PASSED
    from naskit.lessons.grading import check_notebooks, passed_by_exercise, summary_rows, write_report
    from naskit.lessons.runner import parse_parameter

    parameters = {key: parse_parameter(value) for key, value in args.parameters}
    paths = [_lesson_or_path(x, args.notebooks) for x in args.notebooks_or_folders]
    checked = check_notebooks(paths, args.out, smoke=not args.full, parameters=parameters, timeout=args.timeout)
    exercises = write_report(checked, args.out)
    print(format_table(["submission", "passed", "not passed", "notebook error"], summary_rows(checked, exercises)))
    print("passed, per exercise: " + ", ".join(f"{x} {n}/{of}"
                                               for x, (n, of) in passed_by_exercise(checked, exercises).items()))
    out = Path(args.out)
    print(f"grades: {out / 'grades.csv'}; hints: {out / 'feedback.csv'}; executed notebooks in {out}")
    everything = all(not c.error and all(c.status(x) == PASSED for x in c.expects(exercises)) for c in checked)
    return 0 if everything and exercises else 1


def _lesson_or_path(text: str, notebooks: str | None) -> Path:
    """A path as given when it exists, else the lesson it names ("03", "03_search_strategies")."""
    from naskit.lessons.runner import list_lessons, resolve_lessons

    path = Path(text)
    if path.exists():
        return path
    try:
        return resolve_lessons([text], list_lessons(notebooks))[0].path
    except ValueError:
        raise ValueError(f"{text}: no such notebook or folder, and no lesson of that name") from None


def lessons_instrument(args: argparse.Namespace) -> int:
    """``naskit lessons instrument``: put each exercise's check cell after its solution; 1 if a
    solution has no check or does not assign the name its check reads."""
    from naskit.lessons.instrument import instrument_lessons

    reports = instrument_lessons(args.names or None, args.notebooks)
    for stem, report in reports.items():
        print(f"{stem}: checks after {', '.join(report.checked) or 'no exercise'}")
        for exercise in report.unchecked:
            print(f"  {exercise}: a solution with no registered check")
        for exercise, names in report.unassigned.items():
            print(f"  {exercise}: no solution cell assigns {', '.join(names)}, which its check reads")
        for exercise in report.without_solution:
            print(f"  {exercise}: a registered check with no solution cell")
    return 0 if all(report.ok for report in reports.values()) else 1


def add_teach_commands(commands, notebooks: dict) -> None:
    """Register ``student``, ``check`` and ``instrument`` under ``naskit lessons``."""
    student = commands.add_parser("student", help="write student versions: solutions replaced by empty cells")
    student.add_argument("names", nargs="*", metavar="NAME", help='"00", "00_tour" or "tour" (default: all)')
    student.add_argument("--out", required=True, metavar="DIR", help="folder for the student versions")
    student.add_argument("--notebooks", **notebooks)
    student.set_defaults(func=lessons_student)

    check = commands.add_parser("check", help="execute notebooks headlessly and report each exercise's check "
                                              "(a folder of submissions: a grade report)")
    check.add_argument("notebooks_or_folders", nargs="+", metavar="NOTEBOOK",
                       help="notebooks, folders of submitted notebooks, or lesson names")
    check.add_argument("--full", action="store_true", help="run the full lesson (default: smoke mode, SMOKE=True)")
    check.add_argument("--out", default="checked", metavar="DIR",
                       help="folder for the executed notebooks, grades.csv and feedback.csv (default: checked)")
    check.add_argument("-p", "--parameter", dest="parameters", nargs=2, action="append", default=[],
                       metavar=("KEY", "VALUE"), help="inject KEY=VALUE, as `naskit lessons run -p`; repeatable")
    check.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                       help="stop any one cell after this many seconds (default: no limit)")
    check.add_argument("--notebooks", **notebooks)
    check.set_defaults(func=lessons_check)

    instrument = commands.add_parser("instrument", help="(instructors) insert or update the check cell after "
                                                        "each exercise's solution, in place")
    instrument.add_argument("names", nargs="*", metavar="NAME", help="lessons (default: all)")
    instrument.add_argument("--notebooks", **notebooks)
    instrument.set_defaults(func=lessons_instrument)
