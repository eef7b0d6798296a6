"""Run the lesson notebooks headlessly with papermill, and export them to HTML.

Lessons are the notebooks in the repository's ``notebooks/`` folder named ``NN_name.ipynb``
(``00_tour.ipynb``, ``01_search_spaces.ipynb``, ...). Each one has a ``parameters`` cell of
literals (at least ``SMOKE`` and ``SEED``); papermill injects new values right after it and
executes the notebook in a fresh ``python3`` kernel, as JupyterLab would, in the executed
notebook's own folder. Before any lesson runs, every parameter given is checked against the parameters cell of
each chosen lesson: its name must be set there, and its value must have the default's type.

Example:
    >>> from naskit.lessons.runner import list_lessons, run_lessons
    >>> [lesson.name for lesson in list_lessons()]               # doctest: +SKIP
    ['tour', 'search_spaces']
    >>> runs = run_lessons(["tour"], smoke=True, parameters={"SEED": 1})   # doctest: +SKIP
    >>> runs[0].ok, runs[0].output                               # doctest: +SKIP
    (True, PosixPath('lessons_out/00_tour.ipynb'))
"""

from __future__ import annotations

import ast
import html
import itertools
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

from naskit.lessons.peakmem import KernelPeakMemory
from naskit.lessons.results import results_path

KERNEL_NAME = "python3"
LESSON_FILE = re.compile(r"^(\d{2})_(\w+)\.ipynb$")  # "00_tour.ipynb" -> ("00", "tour")
# Cells papermill adds to an output notebook: the injected parameters, and error markers.
INJECTED_TAG = "injected-parameters"
ERROR_MARKER_TAG = "papermill-error-cell-tag"
PARAMETERS_TAG = "parameters"
# Set by the runner itself (``run_lesson``), never by a user: the path of the lesson's results file.
RUNNER_PARAMETERS = ("RESULTS",)
NOT_A_LITERAL = object()  # the default of a parameter assigned something other than a literal


@dataclass(frozen=True)
class Lesson:
    """One lesson notebook: ``number`` 0, ``name`` "tour", ``path`` .../00_tour.ipynb, ``title``."""

    number: int
    name: str
    path: Path
    title: str

    @property
    def stem(self) -> str:
        """The file name without ``.ipynb``, e.g. ``"00_tour"``."""
        return self.path.stem


@dataclass(frozen=True)
class LessonRun:
    """The outcome of executing one lesson.

    ``name`` is the lesson's file stem (``"00_tour"``); ``output`` the executed notebook (kept,
    partially executed, when the lesson failed). When ``ok`` is False, ``failed_cell`` is the
    0-based index of the failing cell in the lesson notebook (markdown cells count, the injected
    parameters cell does not; None if no cell was to blame, e.g. the kernel did not start) and
    ``error`` reads like ``"ZeroDivisionError: division by zero"``.
    """

    name: str
    seconds: float
    ok: bool
    output: Path
    failed_cell: int | None = None
    error: str | None = None
    peak_mb: float | None = None  # peak resident memory of the lesson's kernel process, MB

    @property
    def results(self) -> Path:
        """The lesson's key numbers, as recorded by its ``Results`` (``NN_name.results.json``)."""
        return results_path(self.output)

    def broken_claims(self) -> dict[str, str]:
        """The lesson's claims (``Results.claim``) that its numbers did not bear out in this run:
        ``{key: what the lesson says}``; empty when all held or it recorded no results file."""
        from naskit.lessons.results import broken_claims, load_results

        return broken_claims(load_results(self.results)) if self.results.exists() else {}


def default_notebooks_dir() -> Path:
    """The lessons: the repository's ``notebooks/`` folder in a checkout (and an editable
    install), ``naskit/shipped_notebooks/`` in an installed wheel, which packs ``notebooks/`` there."""
    package = Path(__file__).resolve().parents[1]  # naskit/
    installed = package / "shipped_notebooks"
    return installed if installed.is_dir() else package.parent / "notebooks"


def notebook_title(path: Path) -> str:
    """The text of the first markdown heading in a notebook, or "" if it has none."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return ""


def notebook_objectives(path: Path) -> list[str]:
    """The bullets under "By the end you will be able to" in the notebook's first cell."""
    nb = nbformat.read(path, as_version=4)
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    lines, inside, bullets = first.splitlines(), False, []
    for line in lines:
        if "By the end you will be able to" in line:
            inside = True
        elif inside and line.lstrip().startswith(("* ", "- ")):
            bullets.append(line.lstrip()[2:].strip())
        elif inside and bullets and line.startswith("  ") and line.strip():
            bullets[-1] += " " + line.strip()  # a bullet continued on the next line
        elif inside and bullets and not line.strip():
            break
    return bullets


RUN_TIMES_FILE = "run_times.json"
SLOW_FACTOR = 1.5  # a lesson that took this many times its recorded time is flagged


def recorded_seconds(times: dict, stem: str, smoke: bool) -> float | None:
    """The recorded run time of lesson ``stem`` in smoke or full mode, if any."""
    return times.get(stem, {}).get("smoke" if smoke else "full")


def expected_seconds(lessons: Iterable[Lesson], smoke: bool, times: dict) -> tuple[float, int]:
    """(sum of the recorded times of ``lessons``, how many have none recorded)."""
    known = [recorded_seconds(times, x.stem, smoke) for x in lessons]
    return sum(t for t in known if t is not None), sum(t is None for t in known)


def is_slow(run: LessonRun, times: dict, smoke: bool) -> bool:
    """Whether ``run`` took more than ``SLOW_FACTOR`` times the recorded time of its lesson."""
    recorded = recorded_seconds(times, run.name, smoke)
    return recorded is not None and run.seconds > SLOW_FACTOR * recorded


def load_run_times(notebooks_dir: str | Path | None = None) -> dict:
    """Measured run times per lesson stem (``{"00_tour": {"smoke": 12.3, "full": 45.6}}``),
    from ``notebooks/run_times.json`` as ``naskit lessons run --record-times`` writes it."""
    import json

    path = Path(notebooks_dir or default_notebooks_dir()) / RUN_TIMES_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def record_run_times(runs: Iterable[LessonRun], smoke: bool, notebooks_dir: str | Path | None = None,
                     note: str = "") -> Path:
    """Merge the seconds and peak memory of the successful ``runs`` into ``run_times.json`` in
    ``notebooks_dir`` (keys ``smoke``/``full``, ``*_peak_mb``), with the machine and the date.

    ``naskit lessons run`` writes one into its output folder for every run, and with
    ``--record-times`` into the lessons' folder too (what ``naskit lessons list`` shows)."""
    import datetime
    import json
    import os
    import platform

    from naskit.runtime.files import atomic_write_bytes
    from naskit.runtime.manifest import cpu_model

    times = load_run_times(notebooks_dir)
    machine = (f"{cpu_model()}, {os.cpu_count()} cores, {platform.node()}, {datetime.date.today().isoformat()}"
               + (f"; {note}" if note else ""))
    mode = "smoke" if smoke else "full"
    for run in runs:
        if run.ok:
            entry = times.setdefault(run.name, {})
            entry[mode] = round(run.seconds, 1)
            entry[f"{mode}_machine"] = machine
            if run.peak_mb is not None:
                entry[f"{mode}_peak_mb"] = round(run.peak_mb)
    path = Path(notebooks_dir or default_notebooks_dir()) / RUN_TIMES_FILE
    atomic_write_bytes(path, (json.dumps(times, indent=1, sort_keys=True) + "\n").encode())
    return path


def list_lessons(notebooks_dir: str | Path | None = None) -> list[Lesson]:
    """List the lesson notebooks, in lesson order.

    Args:
        notebooks_dir: folder holding ``NN_name.ipynb`` notebooks; default: the repository's
            ``notebooks/``. Other files in it are ignored.

    Returns:
        One ``Lesson`` per notebook, sorted by number.

    Raises:
        ValueError: if the folder does not exist, or two lessons share a number.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    if not folder.is_dir():
        raise ValueError(f"no lessons folder at {folder}; pass notebooks_dir= (or --notebooks DIR)")
    lessons = []
    for path in sorted(folder.glob("*.ipynb")):
        match = LESSON_FILE.match(path.name)
        if match:
            number, name = match.groups()
            lessons.append(Lesson(int(number), name, path, notebook_title(path)))
    for first, second in itertools.pairwise(lessons):  # sorted, so a clash is a neighbour
        if first.number == second.number:
            raise ValueError(f"two lessons share number {first.number:02d}: "
                             f"{first.path.name} and {second.path.name}; renumber one")
    return lessons


def resolve_lessons(names: Iterable[str], lessons: list[Lesson]) -> list[Lesson]:
    """Map each of ``names`` (``"00"``, ``"00_tour"`` or ``"tour"``) to its lesson, in order.

    Raises:
        ValueError: naming every unknown name and listing the known lessons.
    """
    chosen, unknown = [], []
    for name in names:
        name = str(name)
        found = [
            lesson for lesson in lessons
            if name in (lesson.stem, lesson.name) or (name.isdigit() and int(name) == lesson.number)
        ]
        if not found:
            unknown.append(name)
        elif found[0] not in chosen:
            chosen.append(found[0])
    if unknown:
        known = ", ".join(lesson.stem for lesson in lessons) or "(none)"
        raise ValueError(f"unknown lesson(s) {unknown}; known lessons: {known}")
    return chosen


def parse_parameter(text: str) -> Any:
    """A command-line parameter value: a Python literal if it parses as one, else the string.

    >>> parse_parameter("3"), parse_parameter("[1, 2]"), parse_parameter("True"), parse_parameter("cifar")
    (3, [1, 2], True, 'cifar')
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def lesson_parameters(smoke: bool, parameters: dict[str, Any] | None) -> dict[str, Any]:
    """The parameters to inject: ``SMOKE=True`` when ``smoke``, then ``parameters``; checked."""
    merged = {"SMOKE": True} if smoke else {}
    for key, value in (parameters or {}).items():
        if not str(key).isidentifier():
            raise ValueError(f"parameter name {key!r} is not a Python variable name")
        if smoke and key == "SMOKE" and value is not True:
            raise ValueError(f"smoke=True contradicts parameter SMOKE={value!r}; drop one of them")
        merged[key] = value
    return merged


def notebook_parameters(path: Path) -> dict[str, Any]:
    """The names a notebook's ``parameters`` cell assigns, each with its default value
    (``NOT_A_LITERAL`` when that is not a Python literal); empty when it has no such cell.

    >>> notebook_parameters(default_notebooks_dir() / "00_tour.ipynb")["SEED"]   # doctest: +SKIP
    0
    """
    cells = nbformat.read(path, as_version=4).cells
    cell = next((c for c in cells if c.cell_type == "code" and PARAMETERS_TAG in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        raise ValueError(f"the parameters cell of {path.name} is not valid Python: {exc}") from None
    defaults = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):  # SEED: int = 0
            targets = [node.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                defaults[target.id] = _literal(node.value)
            for name in getattr(target, "elts", []):  # A, B = 1, 2: names without a checked type
                if isinstance(name, ast.Name):
                    defaults[name.id] = NOT_A_LITERAL
    return defaults


def _literal(node: ast.AST | None) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return NOT_A_LITERAL


def _kind(default: Any) -> str:
    """How a message names the values a parameter with ``default`` takes: "an int", "a list of str"."""
    if isinstance(default, bool):
        return "a bool (True or False)"
    if isinstance(default, int):
        return "an int"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, (list, tuple)) and _element(default) is not None:
        return f"a {type(default).__name__} of {type(_element(default)).__name__}"
    return f"a {type(default).__name__}"


def _element(default: list | tuple) -> Any:
    """The first element of a non-empty sequence whose elements all have one type, else None."""
    kinds = {type(v) for v in default}
    return default[0] if len(kinds) == 1 else None


def _fits(value: Any, default: Any) -> bool:
    """Whether ``value`` has the type of ``default`` (an int fits a float; None and non-literal
    defaults take anything; a list's elements must fit the default's, when those share a type)."""
    if default is None or default is NOT_A_LITERAL:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        element = _element(default)
        return isinstance(value, type(default)) and (element is None or all(_fits(v, element) for v in value))
    return isinstance(value, type(default))


def check_lesson_parameters(lessons: Iterable[Lesson], parameters: dict[str, Any]) -> None:
    """A ``ValueError`` unless every parameter is set by the parameters cell of every lesson in
    ``lessons``, with a value of its default's type (``-p SEED abc`` is refused: ``SEED`` is an int).

    ``RESULTS`` is the runner's to set (``RUNNER_PARAMETERS``), and is refused here."""
    declared = {lesson.stem: notebook_parameters(lesson.path) for lesson in lessons}
    for name, value in parameters.items():
        if name in RUNNER_PARAMETERS:
            raise ValueError(f"parameter {name} is set by the runner (the path of each lesson's results file, next "
                             "to its executed notebook); leave it out")
        lacking = [stem for stem, defaults in declared.items() if name not in defaults]
        if lacking:
            sets = "; ".join(f"the parameters cell of {stem} sets only {_names(declared[stem])}" for stem in lacking)
            raise ValueError(f"unknown parameter {name}: {sets}")
        for stem, defaults in declared.items():
            if not _fits(value, defaults[name]):
                raise ValueError(f"parameter {name} of {stem} must be {_kind(defaults[name])}, like its default "
                                 f"{defaults[name]!r}; got {value!r} (a {type(value).__name__})")


def _names(defaults: dict[str, Any]) -> str:
    return ", ".join(sorted(set(defaults) - set(RUNNER_PARAMETERS))) or "nothing"


def check_out_dir(out_dir: str | Path, name: str = "out_dir") -> Path:
    """``out_dir`` as a ``Path`` if it is a folder or can be made one (nothing is created), else a
    ``ValueError`` naming the argument ``name``: the path, or a folder above it, is a file, or
    the first existing folder is not writable."""
    out_dir = Path(out_dir)
    for folder in (out_dir, *out_dir.resolve().parents):
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(f"{name} {out_dir}: {folder} is a file, not a folder; give a folder for the "
                                 "executed notebooks (it is created if missing)")
            if not os.access(folder, os.W_OK):
                raise ValueError(f"{name} {out_dir}: {folder} is not writable; give a folder you can write to")
            break
    return out_dir


def plan_lessons(names: Iterable[str] | None, smoke: bool, out_dir: str | Path, parameters: dict[str, Any] | None,
                 notebooks_dir: str | Path | None) -> tuple[list[Lesson], dict[str, Any], Path]:
    """What ``run_lessons`` runs (the lessons, the parameters to inject, the output folder), every
    argument checked and nothing created or run; its ``ValueError`` names the bad argument."""
    lessons = list_lessons(notebooks_dir)
    if isinstance(names, str):  # run_lessons("tour") means one lesson, not four letters
        names = [names]
    chosen = lessons if names is None else resolve_lessons(names, lessons)
    injected = lesson_parameters(smoke, parameters)
    check_lesson_parameters(chosen, injected)
    return chosen, injected, check_out_dir(out_dir)


def source_cell_index(output: Path, cell_index: int) -> int:
    """Turn papermill's index of a failing cell into its index in the lesson notebook.

    Papermill counts the cell it injected; it also adds error-marker cells to the saved output
    after indexing, so we drop those before counting injected cells ahead of the failure.
    """
    cells = nbformat.read(output, as_version=4).cells
    cells = [cell for cell in cells if ERROR_MARKER_TAG not in cell.metadata.get("tags", [])]
    injected = sum(INJECTED_TAG in cell.metadata.get("tags", []) for cell in cells[:cell_index])
    return cell_index - injected


def run_lesson(lesson: Lesson, output: Path, parameters: dict[str, Any], progress: bool) -> LessonRun:
    """Execute one lesson into ``output``, turning a failure into a ``LessonRun`` record.

    The kernel runs in ``output``'s folder, and ``RESULTS`` is injected as the name of the lesson's
    results file there (``"05_weight_sharing.results.json"``): the executed notebook shows a path
    relative to itself, not this machine's folders, and anything a lesson writes lands beside it.
    """
    start = time.perf_counter()
    failed_cell, error = None, None
    parameters = {**parameters, "RESULTS": results_path(output).name}
    results_path(output).unlink(missing_ok=True)  # never mistake an old run's numbers for this one's
    with KernelPeakMemory() as memory:
        try:
            papermill.execute_notebook(
                lesson.path, output, parameters=parameters, kernel_name=KERNEL_NAME,
                progress_bar=progress, cwd=output.parent,
            )
        except PapermillExecutionError as exc:
            failed_cell = source_cell_index(output, exc.cell_index)
            error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # noqa: BLE001 -- the kernel died or never started: record it, go on
            error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    return LessonRun(lesson.stem, seconds, error is None, output, failed_cell, error, memory.megabytes)


def run_lessons(
    names: Iterable[str] | None = None,
    smoke: bool = False,
    out_dir: str | Path = "lessons_out",
    parameters: dict[str, Any] | None = None,
    notebooks_dir: str | Path | None = None,
    progress: bool = True,
) -> list[LessonRun]:
    """Execute lessons with papermill, each into ``out_dir/NN_name.ipynb``.

    Every requested lesson runs, even after one fails; check ``run.ok`` on each result.

    Args:
        names: lessons to run, as numbers ("00"), stems ("00_tour") or names ("tour");
            default: all of them, in order.
        smoke: inject ``SMOKE=True`` so each lesson runs its quick version.
        out_dir: folder for the executed notebooks (created if needed).
        parameters: values injected after each notebook's ``parameters`` cell, e.g. {"SEED": 3};
            each must be set by every chosen lesson's parameters cell, with its default's type.
        notebooks_dir: folder holding the lessons; default: the repository's ``notebooks/``.
        progress: show tqdm progress bars.

    Returns:
        One ``LessonRun`` per lesson, in the order run.

    Raises:
        ValueError: before anything runs, for an unknown lesson name, a parameter that a chosen
            lesson's parameters cell does not set or that has another type than its default, or an
            ``out_dir`` that is (or is inside) a file.
    """
    chosen, injected, out_dir = plan_lessons(names, smoke, out_dir, parameters, notebooks_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"out_dir {out_dir} cannot be created: {exc.strerror or exc}") from None
    runs = []
    bar = tqdm(chosen, desc="lessons", unit="notebook", disable=not progress)
    for lesson in bar:
        bar.set_postfix_str(lesson.stem)
        runs.append(run_lesson(lesson, out_dir / lesson.path.name, injected, progress))
    return runs


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def with_widget_pictures(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with the static picture each widget display carries (``text/html``, see
    ``naskit.viz.widgets.StaticPicture``) moved into an output of its own right after the widget.

    An HTML export prefers the widget view, which a headless run leaves empty (no widget state is
    saved): split apart, the page shows the widget's place and the picture of its first state."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/html" in data:
                picture = data.pop("text/html")
                outputs += [output, nbformat.v4.new_output("display_data", data={"text/html": picture})]
            else:
                outputs.append(output)
        cell.outputs = outputs
    return nb


def export_html(runs: Iterable[LessonRun], out_dir: str | Path) -> Path:
    """Write each executed notebook as ``out_dir/NN_name.html``, and an ``index.html`` linking them.

    Failed lessons are exported too (their partial output shows the error), when it exists. Each
    widget is shown with a static picture of its first state beside it (``with_widget_pictures``).

    Args:
        runs: results of ``run_lessons``.
        out_dir: folder for the HTML files (created if needed).

    Returns:
        The path of ``index.html``.
    """
    from nbconvert import HTMLExporter  # slow to import; only this function needs it

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    rows = []
    for run in runs:
        link = html.escape(run.name)
        if run.output.exists():
            body, _ = exporter.from_notebook_node(with_widget_pictures(nbformat.read(run.output, as_version=4)))
            (out_dir / f"{run.name}.html").write_text(body, encoding="utf-8")
            link = f'<a href="{html.escape(run.name)}.html">{html.escape(run.name)}</a>'
        status = "ok" if run.ok else html.escape(f"FAILED at cell {run.failed_cell}: {run.error}")
        rows.append(f"<tr><td>{link}</td><td>{run.seconds:.1f}</td><td>{status}</td></tr>")
    index = out_dir / "index.html"
    index.write_text(INDEX_PAGE.format(rows="\n".join(rows)), encoding="utf-8")
    return index


INDEX_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>naskit lessons</title></head>
<body><h1>naskit lessons</h1>
<table border="1" cellpadding="4">
<tr><th>lesson</th><th>seconds</th><th>status</th></tr>
{rows}
</table></body></html>
"""


