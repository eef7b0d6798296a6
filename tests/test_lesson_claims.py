"""What the lessons say holds for what they computed, and their solutions are collapsed answers.

``notebooks/results/NN_name.results.json`` are the full-mode results of each lesson, copied there by
``python benchmarks/update_lesson_times.py --from OUT`` after ``naskit lessons run --out OUT``. Every
sentence of a lesson whose truth follows from its numbers is checked next to them with
``Results.claim``; here every recorded claim must hold, so a change that makes a sentence false
fails instead of leaving it in the lesson.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

from naskit.lessons.results import broken_claims, load_results

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IDS = [path.stem for path in LESSONS]


def committed_results(lesson: Path) -> dict:
    path = NOTEBOOKS / "results" / f"{lesson.stem}.results.json"
    if not path.exists():
        pytest.skip(f"no full-mode results committed for {lesson.stem} yet: run `naskit lessons run "
                    f"{lesson.stem[:2]} --out OUT` then `python benchmarks/update_lesson_times.py --from OUT`")
    return load_results(path)


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_every_claim_of_the_committed_full_run_holds(lesson):
    data = committed_results(lesson)
    assert data["results"], f"{lesson.stem}: the committed results file records nothing"
    assert broken_claims(data) == {}, f"{lesson.stem}: sentences its numbers do not bear out"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_lesson_checks_its_sentences_with_claims(lesson):
    data = committed_results(lesson)
    source = "".join(cell.source for cell in nbformat.read(lesson, as_version=4).cells)
    if "results.claim(" not in source:
        pytest.skip(f"{lesson.stem} makes no claims yet")
    assert data.get("claims"), f"{lesson.stem} calls results.claim, but its committed results hold no claims"


def ends_with_a_sentence(source: str) -> bool:
    """Whether a solution cell ends by printing (or displaying) a sentence: its last statement that
    calls ``print`` or ``display`` holds string literals of at least 5 words, the last literal ending
    in '.', '?' or '!', and nothing after it shows a value (only assignments and calls may follow)."""
    tree = ast.parse(source)
    shows = [i for i, node in enumerate(tree.body)
             if any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) in SHOWS
                    for n in ast.walk(node))]
    if not shows:
        return False
    quiet = all(isinstance(node, (ast.Assign, ast.AugAssign)) or
                (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)) for node in tree.body[shows[-1] + 1:])
    segment = ast.get_source_segment(source, tree.body[shows[-1]])
    strings = [t.string for t in tokenize.generate_tokens(io.StringIO(segment).readline) if t.type == tokenize.STRING]
    bodies = [QUOTES.sub("", s) for s in strings]
    return quiet and sum(len(b.split()) for b in bodies) >= 5 and bodies[-1].rstrip().endswith((".", "?", "!"))


SHOWS = {"print", "display"}
QUOTES = re.compile(r"""^[rbufRBUF]*('''|\"\"\"|'|")|('''|\"\"\"|'|")$""")  # a literal's prefix and quotes


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_every_solution_is_collapsed_tagged_and_ends_with_a_sentence(lesson):
    cells = nbformat.read(lesson, as_version=4).cells
    solutions = [(i, c) for i, c in enumerate(cells) if "solution" in c.metadata.get("tags", [])]
    for i, cell in solutions:
        assert cell.cell_type == "code", f"{lesson.stem} cell {i}: a solution is a code cell"
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, \
            f"{lesson.stem} cell {i}: solution not collapsed (metadata.jupyter.source_hidden)"
        assert ends_with_a_sentence(cell.source), \
            f"{lesson.stem} cell {i}: a solution ends by printing a sentence that answers the question"
    exercises = "".join(c.source for c in cells if c.cell_type == "markdown" and "## Exercises" in c.source)
    if exercises:
        listed = [line for line in exercises.split("## Exercises", 1)[1].splitlines()
                  if line[:3].rstrip(". ").isdigit() and line[:3].strip().endswith(".")]
        assert len(solutions) >= len(listed), f"{lesson.stem}: {len(listed)} exercises, {len(solutions)} solutions"


def test_ends_with_a_sentence_tells_a_sentence_from_a_bare_number():
    assert ends_with_a_sentence('x = 1\nprint(f"The gap is {x:.2f} points, inside the noise.")')
    assert not ends_with_a_sentence("x = 1\nprint(x)")
    assert not ends_with_a_sentence("table.round(3)")
    assert not ends_with_a_sentence('print("The gap is small.")\ntable.round(3)')
    assert ends_with_a_sentence('print("It is " + ("better." if x else "not better."))\npool.shutdown()')
