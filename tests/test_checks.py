"""Automatic feedback and the grade report, end to end on a fixture course (tests/fixtures/course/):
the instructor's notebook passes every check, its student version reports each "not attempted",
a copy with one wrong answer fails exactly that check with its hint, and `naskit lessons check`
over the three writes the expected CSV."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import nbformat
import pytest

from naskit.cli.app import main
from naskit.lessons.checks import (
    EXERCISES,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    WrongAnswer,
    check,
    differs,
    exercise,
    feedback,
    get_exercise,
)
from naskit.lessons.instrument import BEGIN, END, assigned_names, instrument
from naskit.lessons.student import student_version

COURSE = Path(__file__).parent / "fixtures" / "course"
LESSON = COURSE / "01_spaces_exercises.ipynb"
WRONG_LINE = "connected = connected[:3]  # a wrong answer: one neighbour short"


def instructor_notebook():
    nb, report = instrument(nbformat.read(LESSON, as_version=4), 1)
    assert report.ok and report.checked == ["01.ex1", "01.ex2", "01.ex3"]
    return nb


def with_wrong_answer(nb):
    wrong = nbformat.from_dict(nb)
    cell = next(c for c in wrong.cells if "connected = [" in c.source)
    cell.source = cell.source.replace("\nprint(", f"\n{WRONG_LINE}\nprint(")
    return wrong


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The three submissions checked once through the command line (a kernel start each)."""
    root = tmp_path_factory.mktemp("course")
    submissions = root / "submissions"
    submissions.mkdir()
    nb = instructor_notebook()
    nbformat.write(nb, submissions / "instructor.ipynb")
    nbformat.write(student_version(nb, 1), submissions / "student.ipynb")
    nbformat.write(with_wrong_answer(nb), submissions / "wrong.ipynb")
    code = main(["lessons", "check", str(submissions), "--out", str(root / "graded")])
    return code, root / "graded"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_grade_report_over_instructor_student_and_wrong_is_the_expected_csv(graded):
    code, out = graded
    assert code == 1  # not everything passed
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == [
        "submission,01.ex1,01.ex2,01.ex3,passed,checks,notebook_error",
        "instructor.ipynb,passed,passed,passed,3,3,",
        "student.ipynb,not attempted,not attempted,not attempted,0,3,",
        "wrong.ipynb,passed,passed,failed,2,3,",
    ]


def test_the_wrong_answer_fails_exactly_its_check_with_its_hint(graded):
    _, out = graded
    rows = {(r["submission"], r["exercise"]): (r["result"], r["message"]) for r in read_csv(out / "feedback.csv")}
    assert rows[("wrong.ipynb", "01.ex3")] == (FAILED, "connected neighbours: expected 4, got 3")
    assert [rows[("wrong.ipynb", x)][0] for x in ("01.ex1", "01.ex2")] == [PASSED, PASSED]
    assert all(rows[("student.ipynb", x)][0] == NOT_ATTEMPTED for x in ("01.ex1", "01.ex2", "01.ex3"))
    # the student version ran to its last cell, placeholders and all
    student = nbformat.read(out / "student.ipynb", as_version=4)
    assert "the end of the lesson" in student.cells[-1].outputs[0]["text"]


def test_a_submission_that_cannot_run_is_reported_not_fatal(tmp_path, capsys):
    broken = tmp_path / "in" / "broken.ipynb"
    broken.parent.mkdir()
    broken.write_text("{ this is not a notebook", encoding="utf-8")
    assert main(["lessons", "check", str(broken.parent), "--out", str(tmp_path / "out")]) == 1
    (row,) = read_csv(tmp_path / "out" / "grades.csv")
    assert row["submission"] == "broken.ipynb" and row["notebook_error"]
    assert "broken.ipynb" in capsys.readouterr().out


def test_check_reports_passed_failed_with_hint_and_not_attempted():
    assert feedback("01.ex1", 729).status == PASSED
    assert feedback("01.ex1", ...).status == NOT_ATTEMPTED
    assert check("01.ex1", ...) is None  # not attempted: the notebook runs on
    with pytest.raises(WrongAnswer, match="cells without a convolution: expected 729, got 728"):
        check("01.ex1", 728)
    with pytest.raises(WrongAnswer, match="holds a cell with a convolution"):
        check("01.ex1", ["|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(ValueError, match="no check for exercise '01.ex9'"):
        check("01.ex9", 1)


def test_a_tuple_answer_with_a_part_left_out_fails_naming_it():
    @exercise("98.ex1", asks="two numbers", answer=("first", "second"))
    def check_98_ex1(answer):
        return differs(sum(answer), 3, "the sum", rel=0)

    try:
        assert feedback("98.ex1", (1, 2)).status == PASSED
        assert feedback("98.ex1", (..., ...)).status == NOT_ATTEMPTED
        with pytest.raises(WrongAnswer, match="`second` still `...`"):
            check("98.ex1", (1, ...))
        import pandas as pd  # a part whose == is elementwise (a front, a table) must not be compared to `...`
        assert "still `...`" in feedback("98.ex1", (pd.DataFrame({"a": [1]}), ...)).message
    finally:
        del EXERCISES["98.ex1"]


def test_hints_name_the_usual_unit_mistakes():
    assert "percent: give a fraction" in differs(97.1, 0.971, "accuracy")
    assert "hours: give seconds" in differs(2.0, 7200.0, "seconds")
    assert "in hours: give days" in differs(48.0, 2.0, "GPU-days")
    assert "in days: give hours" in differs(2.0, 48.0, "GPU-hours")
    assert differs(7300, 7200.0, "seconds", rel=0.05) is None
    assert "expected a number" in differs("fast", 1.0, "seconds")


def test_every_lesson_check_is_registered_with_answer_names_a_learner_can_assign():
    lessons = {0: 3, 1: 3, 2: 2, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 3, 9: 3, 10: 3}  # exercises per lesson
    ids = sorted(f"{n:02d}.ex{k}" for n, count in lessons.items() for k in range(1, count + 1))
    get_exercise(ids[0])  # loads the lessons' checks
    assert sorted(x for x in EXERCISES if x[:2].isdigit() and int(x[:2]) <= 10 and get_exercise(x)) == ids
    for id in ids:
        ex = get_exercise(id)
        assert ex.asks and all(name.isidentifier() for name in ex.answer), id
        ast.parse(ex.check_call())  # the check cell's line is valid Python


def test_instrument_marks_cells_as_nbgrader_does_and_is_idempotent():
    nb = instructor_notebook()
    again, _ = instrument(nb, 1)
    assert nbformat.writes(again) == nbformat.writes(nb)
    nbformat.validate(nb)
    checks = [c for c in nb.cells if "check" in c.metadata.get("naskit", {})]
    assert [c.source.splitlines()[-1] for c in checks] == [
        'check("01.ex1", no_conv)', 'check("01.ex2", biggest)', 'check("01.ex3", connected)']
    for cell in checks:
        meta = cell.metadata["nbgrader"]
        assert (meta["grade"], meta["solution"], meta["locked"], meta["points"]) == (True, False, True, 1)
    index = {id(c): i for i, c in enumerate(nb.cells)}
    for cell in nb.cells:  # each check follows the exercise's last solution cell
        exercise_id = cell.metadata.get("naskit", {}).get("exercise")
        if exercise_id and cell.cell_type == "code":
            assert cell.source.count(BEGIN) == 1 and cell.source.rstrip().endswith(END)
            assert cell.metadata["nbgrader"]["solution"] is True
    after = [nb.cells[index[id(c)] - 1] for c in checks]
    assert [c.metadata["naskit"]["exercise"] for c in after] == ["01.ex1", "01.ex2", "01.ex3"]
    assert len({c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata}) == 7


def test_instrument_reports_a_solution_that_does_not_assign_the_checked_name():
    nb = nbformat.read(LESSON, as_version=4)
    cell = next(c for c in nb.cells if "connected = [" in c.source)
    cell.source = cell.source.replace("connected", "linked")
    _, report = instrument(nb, 1)
    assert report.unassigned == {"01.ex3": ["connected"]} and not report.ok


def test_assigned_names_reads_top_level_assignments():
    assert assigned_names("a = 1\nb, (c, d) = 2, (3, 4)\nfor e in []: pass\nx += 1\ndef f(): g = 1") == \
        {"a", "b", "c", "d", "e", "x"}


@pytest.mark.parametrize("stem", [f"{n:02d}" for n in range(11)])
def test_the_lessons_are_instrumented_every_exercise_checked_and_instrumenting_again_changes_nothing(stem):
    from naskit.lessons.runner import list_lessons, resolve_lessons
    from naskit.lessons.student import lesson_number

    (lesson,) = resolve_lessons([stem], list_lessons())
    nb = nbformat.read(lesson.path, as_version=4)
    again, report = instrument(nb, lesson_number(lesson.path))
    assert report.ok, report  # every solution has a check, every check a solution assigning its names
    assert nbformat.writes(again) == nbformat.writes(nb), f"run `naskit lessons instrument {stem}`"
