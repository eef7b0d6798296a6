"""Run submitted notebooks headlessly and read each exercise's check: the grade report.

``check_notebooks`` executes each notebook with papermill (smoke mode unless told otherwise),
going on past a cell that raises, as nbgrader's autograder does, so one broken answer costs only
its own exercise. It then reads every check cell's result from the executed notebook: passed,
failed (with its hint), not attempted, or error (the check cell itself raised, e.g. because the
answer's cell failed and never assigned the name); a notebook that could not run at all is
reported, not fatal. ``write_report`` writes ``grades.csv`` (one row per submitted file, one column
per exercise) and ``feedback.csv`` (one row per file and exercise, with the hint).

Example:
    >>> graded = check_notebooks(["submissions/"], out_dir="graded")   # doctest: +SKIP
    >>> print(write_report(graded, "graded"))                           # doctest: +SKIP
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from naskit.lessons.checks import FAILED, FEEDBACK_MIME, NOT_ATTEMPTED, PASSED

ERROR, NOT_RUN, MISSING = "error", "not run", "missing"  # the check cell raised / never ran / was removed
STATUSES = (PASSED, FAILED, NOT_ATTEMPTED, ERROR, NOT_RUN, MISSING)


@dataclass
class Checked:
    """One executed submission: its checks by exercise id, as ``(status, message)``, in cell order."""

    submission: str  # the file as the grader named it, relative to the folder given
    output: Path  # the executed notebook
    checks: dict[str, tuple[str, str]] = field(default_factory=dict)
    error: str | None = None  # the first error of the run, "cell 12: NameError: ..."

    def expects(self, exercises: Iterable[str]) -> list[str]:
        """Those of ``exercises`` that belong to this submission's lesson (by the lesson number of its
        check cells; all of them when it has none), so one report can cover several lessons."""
        lessons = {x.split(".ex")[0] for x in self.checks}
        return [x for x in exercises if not lessons or x.split(".ex")[0] in lessons]

    def status(self, exercise: str) -> str:
        return self.result(exercise)[0]

    def result(self, exercise: str) -> tuple[str, str]:
        """``(status, message)`` of one exercise; a check cell the submission lacks is "missing",
        every check of a notebook that could not run at all "not run"."""
        if exercise in self.checks:
            return self.checks[exercise]
        return (NOT_RUN, self.error) if not self.checks and self.error else (MISSING, "no check cell")


def find_submissions(paths: Iterable[str | Path]) -> list[tuple[str, Path]]:
    """(name, path) of every notebook among ``paths``: files as given, folders searched recursively
    (checkpoint folders skipped), each named relative to the folder it was found in."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            for nb in sorted(path.rglob("*.ipynb")):
                if ".ipynb_checkpoints" not in nb.parts:
                    found.append((nb.relative_to(path).as_posix(), nb))
        elif path.suffix == ".ipynb" and path.is_file():
            found.append((path.name, path))
        else:
            raise ValueError(f"{path}: not a notebook (.ipynb) or a folder of notebooks")
    names = [name for name, _ in found]
    if len(set(names)) < len(names):  # two folders with the same file name: name them by path instead
        found = [(path.as_posix(), path) for _, path in found]
    return found


def check_ids(nb) -> list[str]:
    """The exercise ids of a notebook's check cells, in order."""
    return [c.metadata["naskit"]["check"] for c in nb.cells if "check" in c.metadata.get("naskit", {})]


def read_checks(nb) -> dict[str, tuple[str, str]]:
    """Each check cell's ``(status, message)`` in an executed notebook."""
    checks = {}
    for cell in nb.cells:
        exercise = cell.metadata.get("naskit", {}).get("check")
        if exercise is None:
            continue
        outputs = cell.get("outputs", [])
        feedback = next((o["data"][FEEDBACK_MIME] for o in outputs if FEEDBACK_MIME in o.get("data", {})), None)
        error = next((o for o in outputs if o.get("output_type") == "error"), None)
        if feedback is not None:
            checks[exercise] = (feedback["status"], feedback["message"])
        elif error is not None:
            checks[exercise] = (ERROR, f"{error['ename']}: {error['evalue']}")
        else:
            checks[exercise] = (NOT_RUN, "the cell did not run")
    return checks


def execute(path: Path, output: Path, parameters: dict[str, Any], timeout: float | None,
            progress: bool) -> str | None:
    """Run ``path`` into ``output`` past any raising cell; why it could not run at all, or None."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from naskit.lessons.results import results_path
    from naskit.lessons.runner import KERNEL_NAME

    parameters = {**parameters, "RESULTS": str(results_path(output).resolve())}
    try:
        papermill.execute_notebook(path, output, parameters=parameters, kernel_name=KERNEL_NAME, cwd=path.parent,
                                   progress_bar=progress, execution_timeout=timeout, allow_errors=True)
    except PapermillExecutionError:  # raised once the whole notebook ran: its errors are in the output
        return None
    except Exception as exc:  # noqa: BLE001 -- not a notebook, or the kernel died: report it, go on
        return f"{type(exc).__name__}: {exc}"
    return None


def first_error(nb) -> str | None:
    """The first error of an executed notebook other than a check that failed, as
    ``"cell 7: NameError: ..."`` (cells counted from 0 in the submission, as papermill's injected
    parameters cell is not)."""
    from naskit.lessons.runner import INJECTED_TAG

    cells = [c for c in nb.cells if INJECTED_TAG not in c.metadata.get("tags", [])]
    for i, cell in enumerate(cells):
        failed_check = "check" in cell.metadata.get("naskit", {})
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and not (failed_check and output["ename"] == "WrongAnswer"):
                return f"cell {i}: {output['ename']}: {output['evalue']}"
    return None


def check_notebooks(paths: Iterable[str | Path], out_dir: str | Path = "checked", smoke: bool = True,
                    parameters: dict[str, Any] | None = None, timeout: float | None = None,
                    progress: bool = True) -> list[Checked]:
    """Execute every notebook among ``paths`` into ``out_dir`` and read its checks.

    Args:
        paths: notebooks and folders of notebooks (searched recursively).
        out_dir: where the executed notebooks go (created if needed).
        smoke: inject ``SMOKE=True``, the quick version of the lesson.
        parameters: more values to inject, each checked against every notebook's parameters cell.
        timeout: seconds any one cell may run before it is stopped (None: no limit).
        progress: a tqdm bar over the notebooks.

    Raises:
        ValueError: before anything runs, for a path that is no notebook, an ``out_dir`` that is a
            file, or a parameter a notebook's parameters cell does not set.
    """
    from tqdm.auto import tqdm

    from naskit.lessons.runner import Lesson, check_lesson_parameters, check_out_dir, lesson_parameters

    submissions = find_submissions(paths)
    out_dir = check_out_dir(out_dir, "out_dir")
    injected = lesson_parameters(smoke, parameters)
    readable = [(name, path) for name, path in submissions if _readable(path)]
    check_lesson_parameters([Lesson(0, path.stem, path, "") for _, path in readable], injected)
    out_dir.mkdir(parents=True, exist_ok=True)
    checked = []
    for name, path in tqdm(submissions, desc="notebooks", unit="notebook", disable=not progress):
        output = out_dir / name.replace("/", "__")
        output.unlink(missing_ok=True)  # never read an earlier run's results as this one's
        error = execute(path, output, injected, timeout, progress=False)
        ran = nbformat.read(output, as_version=4) if output.exists() else None
        checks = read_checks(ran) if ran is not None else {}
        error = error or (first_error(ran) if ran is not None else None)
        if ran is None and _readable(path):
            checks = {x: (NOT_RUN, error or "") for x in check_ids(nbformat.read(path, as_version=4))}
        checked.append(Checked(name, output, checks, error))
    return checked


def _readable(path: Path) -> bool:
    try:
        nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 -- an unreadable submission is reported when it runs
        return False
    return True


def write_report(checked: list[Checked], out_dir: str | Path) -> list[str]:
    """Write ``grades.csv`` (a row per submission, a column per exercise) and ``feedback.csv`` (a row
    per submission and exercise, with the hint) into ``out_dir``; returns the exercises, in order."""
    out_dir = Path(out_dir)
    exercises = list(dict.fromkeys(x for c in checked for x in c.checks))  # every exercise seen, in order
    with open(out_dir / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *exercises, "passed", "checks", "notebook_error"])
        for c in checked:  # an exercise of another lesson is left empty
            expected = c.expects(exercises)
            statuses = [c.status(x) if x in expected else "" for x in exercises]
            writer.writerow([c.submission, *statuses, statuses.count(PASSED), len(expected), c.error or ""])
    with open(out_dir / "feedback.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "exercise", "result", "message"])
        for c in checked:
            writer.writerows([c.submission, x, *c.result(x)] for x in c.expects(exercises))
    return exercises


def summary_rows(checked: list[Checked], exercises: list[str]) -> list[tuple[str, str, str, str]]:
    """Per submission: its name, checks passed ("3/4"), the others with their result, its first error."""
    rows = []
    for c in checked:
        expected = c.expects(exercises)
        rows.append((c.submission, f"{sum(c.status(x) == PASSED for x in expected)}/{len(expected)}",
                     ", ".join(f"{x} {c.status(x)}" for x in expected if c.status(x) != PASSED) or "-", c.error or ""))
    return rows


def passed_by_exercise(checked: list[Checked], exercises: list[str]) -> dict[str, tuple[int, int]]:
    """Per exercise: (submissions that passed it, submissions of its lesson)."""
    return {x: (sum(c.status(x) == PASSED for c in checked if x in c.expects([x])),
                sum(x in c.expects([x]) for c in checked)) for x in exercises}
