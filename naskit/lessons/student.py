"""Student versions of the lessons: every solution replaced by a cell that says what to write.

A lesson's solutions are the cells tagged ``solution`` (collapsed in JupyterLab). The student
version keeps every other cell, the parameters cell and the check cells included, clears every
output, and puts in place of each solution cell an empty one that names the exercise and, when it
has a check (``naskit.lessons.checks``), what to write and under which name, assigned the
placeholder ``...``: the notebook still runs top to bottom, and each check reports "not attempted"
until the learner replaces the ``...``.

Example:
    >>> from naskit.lessons.student import write_student_versions
    >>> write_student_versions(["03"], "course/student")     # doctest: +SKIP
    [PosixPath('course/student/03_search_strategies.ipynb')]
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
EXERCISE_TAG = "exercise"  # the placeholder cell a learner writes in
# "# Exercise 2: ..." or "**Exercise 3, solution.**": the exercise a solution cell answers
EXERCISE_NUMBER = re.compile(r"Exercise\s+(\d+)", re.IGNORECASE)
SOLUTIONS_HERE = re.compile(r"^.*[Ss]olutions? (are|is) in the collapsed cells?.*$", re.MULTILINE)
ANSWERS_HERE = "Write your answers in the cells below; the cell after each one checks it."


def is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.metadata.get("tags", [])


def lesson_number(path: str | Path) -> int | None:
    """``03_search_strategies.ipynb`` -> 3; a submission ``alice_03_x.ipynb`` has none (None)."""
    match = re.match(r"^(\d{2})_", Path(path).name)
    return int(match.group(1)) if match else None


def exercise_of(cell, number: int | None) -> str | None:
    """The id of the exercise a solution cell answers: its ``naskit.exercise`` metadata (set by
    ``naskit.lessons.instrument``), else "Exercise N" in its first line with the lesson's number."""
    from naskit.lessons.checks import exercise_id

    recorded = cell.metadata.get("naskit", {}).get("exercise")
    if recorded:
        return recorded
    lines = cell.source.strip().splitlines()
    match = EXERCISE_NUMBER.search(lines[0]) if lines else None
    return exercise_id(number, int(match.group(1))) if match and number is not None else None


def placeholder(cell, exercise: str | None, answered: set[str]):
    """The cell a learner gets in place of solution ``cell``; ``answered`` collects the exercises
    whose answer names a placeholder already assigned (a second solution cell of one exercise
    asks for nothing more)."""
    label = f"Exercise {exercise.split('.ex')[1]}" if exercise else "This exercise"
    metadata = {"tags": [EXERCISE_TAG]}
    if exercise:
        metadata["naskit"] = {"exercise": exercise}
    if "nbgrader" in cell.metadata:
        metadata["nbgrader"] = dict(cell.metadata["nbgrader"])
    if cell.cell_type == "markdown":
        return nbformat.v4.new_markdown_cell(f"**{label}.** *Write your answer here.*", metadata=metadata)
    lines = [f"# {label}: write your solution here."]
    ex = _registered(exercise)
    if ex is not None and exercise not in answered:
        answered.add(exercise)
        names = " and ".join(f"`{name}`" for name in ex.answer)
        lines += textwrap.wrap(f"Assign to {names}: {ex.asks}. The next cell checks it.", 96,
                               initial_indent="# ", subsequent_indent="# ")
        lines += [f"{name} = ..." for name in ex.answer]
    return nbformat.v4.new_code_cell("\n".join(lines), metadata=metadata)


def _registered(exercise: str | None):
    """The registered ``Exercise`` of id ``exercise``, or None."""
    from naskit.lessons.checks import get_exercise

    if exercise is None:
        return None
    try:
        return get_exercise(exercise)
    except ValueError:
        return None


def student_version(nb, number: int | None):
    """A copy of notebook ``nb`` (lesson ``number``) without its solutions, every output cleared."""
    student = nbformat.from_dict(nb)  # a deep copy
    answered: set[str] = set()
    cells = []
    for cell in student.cells:
        if is_solution(cell):
            cell = placeholder(cell, exercise_of(cell, number), answered)
        elif cell.cell_type == "markdown":
            cell.source = SOLUTIONS_HERE.sub(ANSWERS_HERE, cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    student.cells = cells
    student.metadata.setdefault("naskit", {})["student_version"] = True
    return student


def write_student_versions(names: Iterable[str] | None, out_dir: str | Path,
                           notebooks_dir: str | Path | None = None) -> list[Path]:
    """Write the student version of each lesson (default: all) to ``out_dir/NN_name.ipynb``.

    Raises:
        ValueError: before writing anything, for an unknown lesson, an ``out_dir`` that is a file,
            or an ``out_dir`` that is the lessons' own folder (it would overwrite the solutions).
    """
    from naskit.lessons.runner import check_out_dir, list_lessons, resolve_lessons

    lessons = list_lessons(notebooks_dir)
    chosen = lessons if names is None else resolve_lessons(list(names), lessons)
    out_dir = check_out_dir(out_dir, "out_dir")
    if chosen and out_dir.resolve() == chosen[0].path.parent.resolve():
        raise ValueError(f"out_dir {out_dir} is the lessons' folder: the student versions would overwrite the "
                         "solutions; give another folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in chosen:
        nb = nbformat.read(lesson.path, as_version=4)
        path = out_dir / lesson.path.name
        nbformat.write(student_version(nb, lesson.number), path)
        written.append(path)
    return written
