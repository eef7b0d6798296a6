"""Student versions: no solution text leaks, outputs are cleared, the parameters and check cells
stay, and the student version of a lesson still runs top to bottom in smoke mode."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from naskit.cli.app import main
from naskit.lessons.instrument import instrument
from naskit.lessons.runner import run_lessons
from naskit.lessons.student import is_solution, lesson_number, student_version

COURSE = Path(__file__).parent / "fixtures" / "course"
LESSONS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def solution_sources(nb) -> list[str]:
    return [c.source.strip() for c in nb.cells if is_solution(c) and c.source.strip()]


def assert_no_leak(nb, student) -> None:
    text = nbformat.writes(student)
    elsewhere = "\n".join(c.source for c in nb.cells if not is_solution(c))  # what the lesson shows anyway
    for source in solution_sources(nb):
        assert source not in text
        for line in source.splitlines():  # not even one line of code (comments, blanks, shared lines aside)
            code = line.strip()
            if code and not code.startswith("#") and len(code) > 12 and code not in elsewhere:
                assert code not in text, f"solution line leaked: {code}"


@pytest.mark.parametrize("path", [*LESSONS, COURSE / "01_spaces_exercises.ipynb"], ids=lambda p: p.stem)
def test_no_solution_text_leaks_and_every_other_cell_stays(path):
    nb = nbformat.read(path, as_version=4)
    nb, _ = instrument(nb, lesson_number(path))
    student = student_version(nb, lesson_number(path))
    nbformat.validate(student)
    assert_no_leak(nb, student)
    assert len(student.cells) == len(nb.cells)
    for before, after in zip(nb.cells, student.cells):
        if not is_solution(before):
            assert after.source == before.source or "Solutions are in the collapsed" in before.source
            assert after.metadata.get("tags", []) == before.metadata.get("tags", [])
        if after.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None
    placeholders = [c for c in student.cells if "exercise" in c.metadata.get("tags", [])]
    assert not any("source_hidden" in str(c.metadata) for c in placeholders)  # nothing collapsed to hunt for


def test_the_placeholders_say_what_to_write_and_assign_the_checked_names():
    nb, _ = instrument(nbformat.read(COURSE / "01_spaces_exercises.ipynb", as_version=4), 1)
    student = student_version(nb, 1)
    placeholders = [c for c in student.cells if "exercise" in c.metadata.get("tags", [])]
    assert [c.metadata["naskit"]["exercise"] for c in placeholders] == ["01.ex1", "01.ex2", "01.ex2", "01.ex3"]
    code = [c.source for c in placeholders if c.cell_type == "code"]
    assert [s.splitlines()[-1] for s in code] == ["no_conv = ...", "biggest = ...", "connected = ..."]
    assert all(s.startswith(f"# Exercise {k}: write your solution here.") for k, s in zip((1, 2, 3), code))
    assert "no convolution" in code[0]  # what the exercise asks, from its check
    assert "Solutions are in the collapsed" not in nbformat.writes(student)


def test_the_student_version_runs_top_to_bottom_in_smoke_mode(tmp_path):
    lessons, student = tmp_path / "lessons", tmp_path / "student"
    lessons.mkdir()
    nb, _ = instrument(nbformat.read(COURSE / "01_spaces_exercises.ipynb", as_version=4), 1)
    nbformat.write(nb, lessons / "01_spaces_exercises.ipynb")
    assert main(["lessons", "student", "--notebooks", str(lessons), "--out", str(student)]) == 0
    (run,) = run_lessons(smoke=True, out_dir=tmp_path / "ran", notebooks_dir=student, progress=False)
    assert run.ok, run.error


def test_student_refuses_to_overwrite_the_lessons(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["lessons", "student", "--notebooks", str(COURSE), "--out", str(COURSE)])
    assert exit_info.value.code == 2 and "overwrite the solutions" in capsys.readouterr().err


# One wrong answer per lesson, appended to its exercise's solution: that check alone fails, with a hint.
WRONG = {"00.ex1": "total_seconds = total_seconds / 3600  # hours, not seconds",
         "01.ex3": "connected = connected[:3]  # one neighbour short",
         "02.ex1": "at_5 = at_5 * 24  # hours, not days",
         "03.ex3": "needed = needed * 4  # the full width, not the half-width",
         "04.ex2": 'choice = "synflow"  # the proxy the exercise excludes',
         "05.ex3": "on_valid = study  # the correlations against the test accuracy",
         "06.ex2": "warm = gdas  # the run without the warm-up",
         "07.ex3": 'rows = [r for r in rows if r["field"] != "versions.torch"]  # the torch version dropped',
         "08.ex1": "gap_images = gap_images + 1  # one image off",
         "09.ex3": "price = price + 1  # one point off",
         "10.ex1": 'eta4 = eta4[eta4["strategy"] != eta4["strategy"].iloc[-1]]  # one of the two runs left out'}


def answered_student_version(path: Path):
    """The student version of lesson ``path`` with two exercises answered: the one in ``WRONG``
    with its solution plus the wrong line, another one with its solution as it stands; every
    other exercise keeps its placeholder. Returns (notebook, wrong id, correct id)."""
    number = lesson_number(path)
    nb, _ = instrument(nbformat.read(path, as_version=4), number)
    student = student_version(nb, number)
    ids = lambda cell: cell.metadata.get("naskit", {}).get("exercise")  # noqa: E731
    wrong = next(w for w in WRONG if w[:2] == path.name[:2])
    correct = min({ids(c) for c in nb.cells if is_solution(c) and ids(c)} - {wrong})
    for ours, theirs in zip(student.cells, nb.cells):
        if is_solution(theirs) and ids(theirs) in (wrong, correct):
            ours.cell_type, ours.source = theirs.cell_type, theirs.source
    last = [c for c, o in zip(student.cells, nb.cells) if is_solution(o) and ids(o) == wrong and c.cell_type == "code"]
    last[-1].source = last[-1].source.replace("### END SOLUTION", f"{WRONG[wrong]}\n### END SOLUTION")
    return student, wrong, correct


def test_every_lessons_student_version_runs_and_grades_each_check_passed_failed_or_not_attempted(tmp_path):
    # One run per lesson covers the three states: a correct answer passes, one wrong answer fails
    # with a hint and every exercise left as its placeholder is "not attempted" (that the lessons'
    # own solutions pass every check, the smoke runs of test_notebooks.py show).
    from naskit.lessons.grading import check_notebooks, first_error

    assert main(["lessons", "student", "--out", str(tmp_path / "student")]) == 0  # the command itself
    assert sorted(p.name for p in (tmp_path / "student").glob("*.ipynb")) == [p.name for p in LESSONS]
    assert sorted(w[:2] for w in WRONG) == sorted(p.name[:2] for p in LESSONS)
    answered, expected = tmp_path / "answered", {}
    answered.mkdir()
    for path in LESSONS:
        nb, wrong, correct = answered_student_version(path)
        nbformat.write(nb, answered / path.name)
        expected[path.name] = wrong, correct
    checked = check_notebooks([answered], tmp_path / "ran", progress=False)
    assert len(checked) == len(LESSONS)
    for c in checked:
        wrong, correct = expected[Path(c.submission).name]
        assert c.error is None, f"{c.submission}: {c.error}"
        assert first_error(nbformat.read(c.output, as_version=4)) is None
        assert c.checks[wrong][0] == "failed" and c.checks[wrong][1], (wrong, c.checks[wrong])
        assert c.checks[correct][0] == "passed", (correct, c.checks[correct])
        others = {status for id, (status, _) in c.checks.items() if id not in (wrong, correct)}
        assert others <= {"not attempted"}, c.checks
