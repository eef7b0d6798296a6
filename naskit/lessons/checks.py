"""Automatic feedback on the lessons' exercises: one check per exercise, called in one line.

Every exercise has a stable id (``"03.ex2"``: lesson 03, exercise 2), an answer the learner
stores under a name the exercise gives (``variants_table``), and a check that compares the answer
with what naskit computes, with a tolerance where seeds or machines move numbers. In a lesson, the
cell after the learner's answer reads::

    check("03.ex2", variants_table, evaluator=evaluator, seeds=SEEDS, budget=BUDGET)

and shows one of three results: **passed**, **failed** with a hint, or **not attempted** (the
answer is still ``...``, the placeholder of a student version). A failed check raises
``WrongAnswer`` after showing its hint, so that nbgrader's autograder, which scores a test cell
by whether it raises, gives it no points; after a passed or not-attempted check the notebook
runs on. ``feedback(...)`` gives the same result as a value, showing and raising nothing.
``naskit lessons check`` reads the results from the executed notebook: each ``Feedback`` shown
carries a machine-readable copy under ``FEEDBACK_MIME``.

Example:
    >>> from naskit.lessons.checks import exercise, feedback, differs
    >>> @exercise("99.ex1", asks="the number of ops in NB-201's vocabulary", answer="n_ops")
    ... def check_99_ex1(answer):
    ...     return differs(answer, 5, "ops", rel=0)
    >>> feedback("99.ex1", 5).status
    'passed'
    >>> feedback("99.ex1", ...).status
    'not attempted'
    >>> print(feedback("99.ex1", 6))
    99.ex1: failed -- ops: expected 5, got 6
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"
FEEDBACK_MIME = "application/vnd.naskit.feedback+json"  # how `naskit lessons check` finds a result


class WrongAnswer(AssertionError):
    """A check failed; the message is its hint."""


@dataclass(frozen=True)
class Feedback:
    """The result of checking one answer: ``status`` one of passed, failed, not attempted."""

    exercise: str
    status: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"exercise": self.exercise, "status": self.status, "message": self.message}

    def __str__(self) -> str:
        return f"{self.exercise}: {self.status}" + (f" -- {self.message}" if self.message else "")

    def _repr_markdown_(self) -> str:
        mark = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⬜"}[self.status]
        return f"{mark} **{self.exercise} {self.status}**" + (f": {self.message}" if self.message else "")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/markdown": self._repr_markdown_(), FEEDBACK_MIME: self.to_json()}


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise: its id, what the learner writes (``asks``), the name(s) the answer
    is stored under, the lesson's names its check cell passes, and the function that checks it."""

    id: str
    asks: str
    answer: tuple[str, ...]
    context: tuple[str, ...]
    verify: Callable[..., str | None]  # (answer, **context) -> None when right, else the hint

    def check_call(self) -> str:
        """The check cell's one line: ``check("03.ex2", table, evaluator=evaluator)``."""
        answer = self.answer[0] if len(self.answer) == 1 else "(" + ", ".join(self.answer) + ")"
        context = "".join(f", {name.split('=')[0]}={name.split('=')[-1]}" for name in self.context)
        return f'check("{self.id}", {answer}{context})'


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, asks: str, answer: str | tuple[str, ...], context: tuple[str, ...] = ()):
    """Register the decorated function as the check of exercise ``id``.

    ``answer`` names what the learner assigns (a tuple for an answer in several parts, which
    ``check`` then receives as one tuple); each entry of ``context`` is a keyword of the check,
    ``"seeds"``, or ``"seeds=SEEDS"`` when the lesson's variable has another name."""
    if not _is_id(id):
        raise ValueError(f"exercise id {id!r} must look like '03.ex2' (lesson number, '.ex', exercise number)")

    def register(verify: Callable[..., str | None]) -> Callable[..., str | None]:
        names = (answer,) if isinstance(answer, str) else tuple(answer)
        EXERCISES[id] = Exercise(id, asks, names, tuple(context), verify)
        return verify

    return register


def _is_id(text: str) -> bool:
    lesson, _, number = text.partition(".ex")
    return lesson.isdigit() and len(lesson) == 2 and number.isdigit()


def exercise_id(lesson_number: int, exercise_number: int) -> str:
    """``exercise_id(3, 2)`` -> ``"03.ex2"``."""
    return f"{lesson_number:02d}.ex{exercise_number}"


def get_exercise(id: str) -> Exercise:
    """The registered exercise ``id``, the lessons' checks loaded; a ``ValueError`` listing the known ids."""
    import naskit.lessons.checks_lessons  # noqa: F401 -- registers the lessons' checks

    if id not in EXERCISES:
        raise ValueError(f"no check for exercise {id!r}; known: {', '.join(sorted(EXERCISES)) or '(none)'}")
    return EXERCISES[id]


def attempted(answer: Any) -> bool:
    """False while the answer (or every part of a tuple answer) is still the placeholder ``...``."""
    if isinstance(answer, tuple):
        return any(attempted(part) for part in answer)
    return answer is not Ellipsis


def feedback(exercise_id: str, answer: Any, **context: Any) -> Feedback:
    """The feedback on an answer to exercise ``exercise_id``, shown nowhere and raising nothing.

    Raises:
        ValueError: for an exercise id with no check.
    """
    ex = get_exercise(exercise_id)
    if not attempted(answer):
        return Feedback(ex.id, NOT_ATTEMPTED, f"assign your answer to `{'`, `'.join(ex.answer)}` above, then rerun")
    if isinstance(answer, tuple) and len(ex.answer) > 1 and any(part is Ellipsis for part in answer):  # not `in`: ==
        missing = [name for name, part in zip(ex.answer, answer) if part is Ellipsis]
        hint = f"`{'`, `'.join(missing)}` still `...`: answer every part"
    else:
        hint = ex.verify(answer, **context)
    return Feedback(ex.id, PASSED, "") if hint is None else Feedback(ex.id, FAILED, hint)


def check(exercise_id: str, answer: Any, **context: Any) -> None:
    """Show the feedback on an answer to exercise ``exercise_id``: the one line of a check cell.

    It returns nothing, so the cell's only output is the feedback shown (nbgrader gives a test
    cell without an error its full points, and would read a returned value as partial credit).

    Raises:
        WrongAnswer: when the answer is wrong, after showing the hint (so autograders score it 0).
        ValueError: for an exercise id with no check.
    """
    result = feedback(exercise_id, answer, **context)
    try:
        from IPython.display import display
    except ImportError:  # plain Python
        display = print
    display(result)
    if result.status == FAILED:
        raise WrongAnswer(f"{result.exercise}: {result.message}")


# --- Comparisons that return a hint, or None when the answer is right ------------------------------
def differs(got: Any, expected: float, what: str, rel: float = 1e-6, abs_tol: float = 0.0) -> str | None:
    """A hint when ``got`` is not a number within ``rel`` (relative) or ``abs_tol`` of ``expected``."""
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"expected a number ({what}), got {type(got).__name__}"
    if math.isclose(value, expected, rel_tol=rel, abs_tol=abs_tol):
        return None
    for factor, unit in ((100, "percent: give a fraction"), (1 / 100, "a fraction: give percent"),
                         (1 / 3600, "hours: give seconds"), (1 / 86400, "days: give seconds"),
                         (24, "hours: give days"), (1 / 24, "days: give hours")):
        if expected and math.isclose(value, expected * factor, rel_tol=max(rel, 1e-3)):
            return f"{value:.4g} looks like {expected:.4g} in {unit} ({what})"
    if rel == 0 and abs_tol == 0:
        return f"{what}: expected {expected:.6g}, got {value:.6g}"
    band = f" (within {rel:.0%})" if rel >= 0.01 else ""
    return f"{what}: expected about {expected:.4g}{band}, got {value:.4g}"


def not_equal(got: Any, expected: Any, what: str) -> str | None:
    """A hint when ``got != expected``."""
    return None if got == expected else f"{what}: expected {expected!r}, got {got!r}"


def first_hint(*parts: Callable[[], str | None]) -> str | None:
    """The first hint that is not None, each part called in turn: a check of several parts stops at
    the first wrong one (so a later part may assume the earlier ones hold)."""
    for part in parts:
        hint = part()
        if hint is not None:
            return hint
    return None
