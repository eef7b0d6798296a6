"""Put each exercise's check cell after its solution, and mark the cells as nbgrader does.

``instrument(nb, number)`` finds each solution cell's exercise (``naskit.lessons.student.exercise_of``),
records the id in the cell's metadata (``naskit.exercise``, so later runs no longer depend on the
cell's text), and puts one check cell after the exercise's last solution cell: the one-line
``check(...)`` call of its registered check (``naskit.lessons.checks_lessons``). Running it again
gives the same notebook: old check cells are replaced, by exercise id.

The cells follow nbgrader's conventions (its cell metadata, schema version 3): a code solution is
an autograded answer with its code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, a
written one a manually graded answer, and each check cell a locked autograder test worth one
point. So ``nbgrader generate_assignment`` makes its own student version of a lesson, and
``nbgrader autograde`` scores the check cells (a failed check raises; see ``naskit.lessons.checks``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from naskit.lessons.student import CHECK_TAG, exercise_of, is_solution, lesson_number

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
NBGRADER_SCHEMA = 3
CHECK_IMPORT = "from naskit.lessons.checks import check  # automatic feedback: `naskit lessons check`"


@dataclass
class Instrumented:
    """What ``instrument`` did to one notebook, and what it could not do."""

    checked: list[str] = field(default_factory=list)       # exercises that got a check cell
    unchecked: list[str] = field(default_factory=list)     # solution cells whose exercise has no check
    unassigned: dict[str, list[str]] = field(default_factory=dict)  # answer names no solution cell assigns
    without_solution: list[str] = field(default_factory=list)  # registered checks of the lesson never reached

    @property
    def ok(self) -> bool:
        return not (self.unchecked or self.unassigned or self.without_solution)


def grade_id(exercise: str, role: str) -> str:
    """nbgrader's cell id: ``grade_id("03.ex2", "check")`` -> ``"ex03_2_check"`` (letters, digits, _)."""
    lesson, number = exercise.split(".ex")
    return f"ex{lesson}_{number}_{role}"


def nbgrader_metadata(exercise: str, role: str, cell_type: str) -> dict:
    """The ``nbgrader`` metadata of an answer cell (``role="answer"``) or a check cell."""
    meta = {"grade_id": grade_id(exercise, role), "schema_version": NBGRADER_SCHEMA, "task": False}
    if role == "check":
        return {**meta, "grade": True, "solution": False, "locked": True, "points": 1}
    if cell_type == "markdown":  # a written answer: graded by hand
        return {**meta, "grade": True, "solution": True, "locked": False, "points": 1}
    return {**meta, "grade": False, "solution": True, "locked": False}


def with_solution_markers(source: str) -> str:
    """``source`` with its code (after the leading comment lines) between nbgrader's markers."""
    if BEGIN in source:
        return source
    lines = source.rstrip("\n").splitlines()
    head = 0
    while head < len(lines) and lines[head].lstrip().startswith("#"):
        head += 1
    return "\n".join([*lines[:head], BEGIN, *lines[head:], END])


def assigned_names(source: str) -> set[str]:
    """The names a code cell assigns at its top level (``a = ...``, ``a, b = ...``, ``for a in``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
        for target in targets:
            for sub in ast.walk(target) if target is not None else ():
                if isinstance(sub, ast.Name):
                    names.add(sub.id)
    return names


def check_cell(exercise):
    """The check cell of a registered ``Exercise``."""
    cell = nbformat.v4.new_code_cell(
        f"{CHECK_IMPORT}\n\n{exercise.check_call()}",
        metadata={"tags": [CHECK_TAG], "naskit": {"check": exercise.id},
                  "nbgrader": nbgrader_metadata(exercise.id, "check", "code")})
    cell.id = grade_id(exercise.id, "check")  # the same id every time: instrumenting again changes nothing
    return cell


def solution_exercises(cells, number: int | None) -> list[str]:
    """The exercise of each solution cell among ``cells``, in order."""
    return [x for x in (exercise_of(c, number) for c in cells if is_solution(c)) if x is not None]


def instrument(nb, number: int | None) -> tuple[object, Instrumented]:
    """Notebook ``nb`` of lesson ``number`` with a check cell after each exercise's solution."""
    from naskit.lessons.checks import EXERCISES, get_exercise

    nb = nbformat.from_dict(nb)
    report = Instrumented()
    cells = [c for c in nb.cells if "check" not in c.metadata.get("naskit", {})]  # old check cells go
    last: dict[str, int] = {}
    names: dict[str, set[str]] = {}
    for i, cell in enumerate(cells):
        exercise = exercise_of(cell, number) if is_solution(cell) else None
        if exercise is None:
            continue
        cell.metadata.setdefault("naskit", {})["exercise"] = exercise
        parts = sum(x == exercise for x in solution_exercises(cells[:i], number))  # nbgrader wants one id per cell
        role = "answer" if parts == 0 else f"answer{parts + 1}"
        cell.metadata["nbgrader"] = nbgrader_metadata(exercise, role, cell.cell_type)
        if cell.cell_type == "code":
            cell.source = with_solution_markers(cell.source)
            names.setdefault(exercise, set()).update(assigned_names(cell.source))
        last[exercise] = i
    for exercise, i in sorted(last.items(), key=lambda item: -item[1]):  # from the end: indices stay valid
        try:
            registered = get_exercise(exercise)
        except ValueError:
            report.unchecked.append(exercise)
            continue
        missing = [name for name in registered.answer if name not in names.get(exercise, set())]
        if missing:
            report.unassigned[exercise] = missing
        cells.insert(i + 1, check_cell(registered))
        report.checked.insert(0, exercise)
    prefix = f"{number:02d}.ex" if number is not None else None
    report.without_solution = sorted(x for x in EXERCISES if prefix and x.startswith(prefix) and x not in last)
    nb.cells = cells
    return nb, report


def instrument_lessons(names: Iterable[str] | None = None, notebooks_dir: str | Path | None = None,
                       ) -> dict[str, Instrumented]:
    """Instrument lessons in place (default: all); returns what was done to each, by file stem."""
    from naskit.lessons.runner import list_lessons, resolve_lessons

    lessons = list_lessons(notebooks_dir)
    chosen = lessons if names is None else resolve_lessons(list(names), lessons)
    reports = {}
    for lesson in chosen:
        nb, reports[lesson.stem] = instrument(nbformat.read(lesson.path, as_version=4), lesson_number(lesson.path))
        nbformat.write(nb, lesson.path)
    return reports
