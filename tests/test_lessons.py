"""The lesson runner, on two tiny fixture lessons: ``00_echo`` (passes) and ``01_broken`` (fails)."""

from pathlib import Path

import nbformat
import pytest

from naskit.cli.app import main
from naskit.lessons.runner import export_html, list_lessons, parse_parameter, run_lessons

FIXTURES = Path(__file__).parent / "fixtures" / "lessons"


def cell_text(cell) -> str:
    """All stream text a code cell printed."""
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both fixture lessons, executed once for the whole module (a kernel start is ~1 s)."""
    out = tmp_path_factory.mktemp("lessons_out")
    return run_lessons(smoke=True, parameters={"SEED": 7}, out_dir=out, notebooks_dir=FIXTURES, progress=False)


def test_list_lessons_reads_numbers_names_and_titles():
    lessons = list_lessons(FIXTURES)
    assert [(x.number, x.name, x.stem, x.title) for x in lessons] == [
        (0, "echo", "00_echo", "Echo the parameters"),
        (1, "broken", "01_broken", "Broken on purpose"),
    ]
    assert lessons[0].path == FIXTURES / "00_echo.ipynb"


def test_list_lessons_ignores_other_files_and_rejects_clashing_numbers(tmp_path):
    (tmp_path / "scratch.ipynb").write_text((FIXTURES / "00_echo.ipynb").read_text())
    assert list_lessons(tmp_path) == []
    for name in ("03_a.ipynb", "03_b.ipynb"):
        (tmp_path / name).write_text((FIXTURES / "00_echo.ipynb").read_text())
    with pytest.raises(ValueError, match="03_a.ipynb and 03_b.ipynb"):
        list_lessons(tmp_path)
    with pytest.raises(ValueError, match="no lessons folder"):
        list_lessons(tmp_path / "missing")


def test_unknown_name_raises_before_anything_runs(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"\['tuor'\].*00_echo, 01_broken"):
        run_lessons(["echo", "tuor"], out_dir=out, notebooks_dir=FIXTURES, progress=False)
    with pytest.raises(ValueError, match=r"\['tuor'\]"):  # one name as a plain string
        run_lessons("tuor", out_dir=out, notebooks_dir=FIXTURES, progress=False)
    assert not out.exists()


@pytest.mark.parametrize("bad", [{"not a name": 1}, {"SMOKE": False}])
def test_bad_parameters_raise_before_anything_runs(tmp_path, bad):
    with pytest.raises(ValueError):
        run_lessons(smoke=True, parameters=bad, out_dir=tmp_path / "out", notebooks_dir=FIXTURES)
    assert not (tmp_path / "out").exists()


def test_parse_parameter_reads_literals_else_strings():
    assert parse_parameter("7") == 7
    assert parse_parameter("0.5") == 0.5
    assert parse_parameter("False") is False
    assert parse_parameter("{'a': [1, 2]}") == {"a": [1, 2]}
    assert parse_parameter("digits") == "digits"
    assert parse_parameter("1 +") == "1 +"


def test_parameters_reach_the_notebook(runs):
    echo = runs[0]
    assert (echo.name, echo.ok, echo.failed_cell, echo.error) == ("00_echo", True, None, None)
    assert echo.seconds > 0
    executed = nbformat.read(echo.output, as_version=4)
    assert "SMOKE=True SEED=7" in cell_text(executed.cells[-1])


def test_failure_names_cell_and_error_and_keeps_partial_output(runs):
    broken = runs[1]  # fails in its 2nd code cell
    assert (broken.name, broken.ok) == ("01_broken", False)
    assert broken.failed_cell == 2  # index in the lesson notebook: markdown, parameters, 1 / 0
    assert broken.error == "ZeroDivisionError: division by zero"
    executed = nbformat.read(broken.output, as_version=4)
    sources = [cell.source for cell in executed.cells]
    assert 'print("never reached")' in sources  # the partial notebook is kept, whole
    assert not any("never reached" in cell_text(cell) for cell in executed.cells)


def test_export_html_writes_a_page_per_lesson_and_an_index(runs, tmp_path):
    index = export_html(runs, tmp_path / "html")
    assert index == tmp_path / "html" / "index.html"
    page = index.read_text()
    for name in ("00_echo", "01_broken"):
        assert f'href="{name}.html"' in page
        assert (tmp_path / "html" / f"{name}.html").stat().st_size > 1000
    assert "ZeroDivisionError" in page
    assert "SMOKE=True SEED=7" in (tmp_path / "html" / "00_echo.html").read_text()


def test_cli_lessons_list(capsys):
    assert main(["lessons", "list", "--notebooks", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "00      echo    Echo the parameters" in out


def test_cli_run_reports_the_failure_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["lessons", "run", "broken", "0", "--smoke", "-p", "SEED", "3", "--html", "--notebooks", str(FIXTURES)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "01_broken  " in out and "FAILED" in out and "00_echo  " in out
    assert "01_broken.ipynb at cell 2" in out and "ZeroDivisionError: division by zero" in out
    assert (tmp_path / "lessons_out" / "index.html").exists()
    echo = nbformat.read(tmp_path / "lessons_out" / "00_echo.ipynb", as_version=4)
    assert "SMOKE=True SEED=3" in cell_text(echo.cells[-1])


def test_cli_unknown_lesson_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["lessons", "run", "nope", "--notebooks", str(FIXTURES)])
    assert exit_.value.code == 2
    assert "unknown lesson(s) ['nope']" in capsys.readouterr().err


# --- key numbers, machine-readable -----------------------------------------------------------------
def test_results_file_is_written_as_recorded_and_compared_without_timings(tmp_path):
    import numpy as np

    from naskit.lessons.results import Results, compare_results, load_results, results_path

    path = results_path(tmp_path / "07_reproducibility.ipynb")
    assert path.name == "07_reproducibility.results.json"
    results = Results(path)
    results.record("acc", np.float64(0.97))
    assert load_results(path)["results"] == {"acc": 0.97}  # on disk at once, numpy made plain
    results.record("cells", ("a", "b"))
    results.record("nan", float("nan"))
    results.timing("seconds", 3.0)
    first = load_results(path)
    assert first["results"]["cells"] == ["a", "b"] and first["timings"] == {"seconds": 3.0}
    second = {"results": dict(first["results"]), "timings": {"seconds": 9.0}}
    assert compare_results(first, second) == []  # NaN equals NaN; timings are not compared
    second["results"]["acc"] = 0.98
    del second["results"]["cells"]
    assert compare_results(first, second) == ["acc", "cells"]
    with pytest.raises(ValueError, match="JSON-serialisable"):
        results.record("bad", object())


def test_objectives_and_recorded_run_times_are_listed(tmp_path, capsys):
    from naskit.lessons.runner import LessonRun, load_run_times, notebook_objectives, record_run_times

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    bullets = notebook_objectives(notebooks / "07_reproducibility.ipynb")
    assert len(bullets) == 4 and bullets[2].startswith("judge how stable a ranking is")
    for nb in notebooks.glob("[0-9][0-9]_*.ipynb"):  # every lesson states its objectives
        assert notebook_objectives(nb), nb.name
    runs = [LessonRun("00_tour", 12.34, True, tmp_path / "00_tour.ipynb", peak_mb=321.4),
            LessonRun("01_search_spaces", 5.0, False, tmp_path / "01_search_spaces.ipynb")]
    record_run_times(runs, smoke=True, notebooks_dir=tmp_path)
    record_run_times(runs[:1], smoke=False, notebooks_dir=tmp_path)
    times = load_run_times(tmp_path)
    assert times["00_tour"]["smoke"] == times["00_tour"]["full"] == 12.3
    assert times["00_tour"]["smoke_peak_mb"] == 321
    assert "01_search_spaces" not in times  # a failed run measures nothing
    (tmp_path / "00_tour.ipynb").write_text((notebooks / "00_tour.ipynb").read_text())
    assert main(["lessons", "list", "--notebooks", str(tmp_path), "--objectives"]) == 0
    out = capsys.readouterr().out
    assert "12" in out and "load the MNIST-1D dataset" in out


def test_runs_report_the_kernels_peak_memory(runs):
    # a Python kernel with numpy and torch importable holds tens of MB at least
    assert all(run.peak_mb is not None and 20 < run.peak_mb < 20_000 for run in runs)


def test_cli_run_says_how_long_and_where_first_and_flags_slow_lessons(tmp_path, capsys, monkeypatch):
    import json
    import shutil

    from naskit.lessons.runner import LessonRun, expected_seconds, is_slow, list_lessons

    notebooks = tmp_path / "nb"
    shutil.copytree(FIXTURES, notebooks)
    # the echo lesson takes about a second; recorded as 0.1 s it must come out as slow
    (notebooks / "run_times.json").write_text(json.dumps({"00_echo": {"smoke": 0.1}}))
    monkeypatch.chdir(tmp_path)
    assert main(["lessons", "run", "echo", "--smoke", "--notebooks", str(notebooks), "--out", "o"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "recorded times add up to about 0 s" in first and str(tmp_path / "o") in first
    assert "SLOW (recorded 0 s)" in out and "peak MB" in out
    times = {"00_echo": {"smoke": 10.0, "full": 40.0}}
    lessons = list_lessons(notebooks)
    assert expected_seconds(lessons, smoke=True, times=times) == (10.0, 1)  # 01_broken: none recorded
    assert expected_seconds(lessons, smoke=False, times=times) == (40.0, 1)
    run = LessonRun("00_echo", 14.0, True, tmp_path / "x.ipynb")
    assert not is_slow(run, times, smoke=True) and is_slow(LessonRun("00_echo", 15.1, True, run.output), times, True)


def claims_lesson(folder: Path) -> Path:
    """A one-cell lesson whose second claim does not hold."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# 00 · Claims"),
                nbformat.v4.new_code_cell("SMOKE = False\nSEED = 0\nRESULTS = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("from naskit.lessons.results import Results\nresults = Results(RESULTS)\n"
                                          "results.record('x', 1)\nresults.claim('holds', True, 'one is one')\n"
                                          "results.claim('two_beats_three', 2 > 3, 'two beats three')")]
    folder.mkdir()
    nbformat.write(nb, folder / "00_claims.ipynb")
    return folder


def test_full_mode_warns_of_each_broken_claim_and_exits_1_smoke_mode_ignores_them(tmp_path, capsys, monkeypatch):
    notebooks = claims_lesson(tmp_path / "nb")
    monkeypatch.chdir(tmp_path)
    assert main(["lessons", "run", "claims", "--notebooks", str(notebooks), "--out", "full"]) == 1
    out = capsys.readouterr().out
    assert "WARNING: 00_claims: claim 'two_beats_three' does not hold" in out and "two beats three" in out
    assert "'holds'" not in out
    assert main(["lessons", "run", "claims", "--smoke", "--notebooks", str(notebooks), "--out", "smoke"]) == 0
    assert "WARNING" not in capsys.readouterr().out
    # the injected parameters cell names the results file relative to the executed notebook
    executed = nbformat.read(tmp_path / "full" / "00_claims.ipynb", as_version=4)
    [injected] = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'RESULTS = "00_claims.results.json"' in injected.source and str(tmp_path) not in injected.source
    assert (tmp_path / "full" / "00_claims.results.json").exists()


def test_html_export_shows_a_picture_of_each_widget_beside_it():
    from IPython.core.formatters import DisplayFormatter

    from naskit.lessons.runner import WIDGET_VIEW, with_widget_pictures
    from naskit.viz.widgets import arch_picker

    bundle, _ = DisplayFormatter().format(arch_picker())  # what a notebook stores for the widget's display
    assert WIDGET_VIEW in bundle and bundle["text/html"].count("data:image/png;base64,") == 1
    assert "parameters: <b>" in bundle["text/html"]  # the caption the widget shows first
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("arch_picker()", outputs=[
        nbformat.v4.new_output("display_data", data=bundle), nbformat.v4.new_output("stream", text="x")])]
    outputs = with_widget_pictures(nb).cells[0].outputs
    assert [sorted(o.get("data", {})) for o in outputs] == [[WIDGET_VIEW, "text/plain"], ["text/html"], []]
    assert outputs[1].data["text/html"] == bundle["text/html"]


def load_update_lesson_times(root: Path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "update_lesson_times", Path(__file__).resolve().parents[1] / "benchmarks" / "update_lesson_times.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "ROOT", root)
    return script


def test_update_lesson_times_marks_only_the_times_of_a_shared_machine(tmp_path, monkeypatch):
    script = load_update_lesson_times(tmp_path, monkeypatch)
    rows = ["| 05 | a | b | 78‡ | 373‡ | 560 | 568 |", "| 06 | c | d | 147‡ | 1245‡ | 1 | 2 |"]
    (tmp_path / "README.md").write_text("\n".join(rows))
    shared = "AMD EPYC, 2 cores; shared with other jobs: upper bounds"
    times = {"05_a": {"smoke": 80.4, "full": 380.0, "smoke_machine": shared, "full_machine": "AMD EPYC"},
             "06_c": {"smoke": 42.9, "full": 408.8, "smoke_machine": "AMD EPYC", "full_machine": "AMD EPYC",
                      "smoke_peak_mb": 572, "full_peak_mb": 587}}
    assert script.update_readme(times) == ["05", "06"]
    assert (tmp_path / "README.md").read_text().split("\n") == ["| 05 | a | b | 80‡ | 380‡ | ? | ? |",
                                                               "| 06 | c | d | 43 | 409 | 572 | 587 |"]
    first = ("measured with `naskit lessons run 05 [--smoke] --record-times` (on a shared machine, load average "
             "12-14: upper bounds): 78 s in smoke mode, 373 s in full mode.")
    notebook = tmp_path / "05_a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(first)]), notebook)
    assert script.update_notebook(notebook, times["05_a"])  # the note on how loaded it was stays
    assert nbformat.read(notebook, 4).cells[0].source == first.replace("78 s", "80 s").replace("373 s", "380 s")
    assert script.update_notebook(notebook, times["06_c"])
    quiet = "(nothing else running): 43 s in smoke mode, 409 s in full mode."
    assert quiet in nbformat.read(notebook, 4).cells[0].source


def test_update_lesson_times_copies_only_full_mode_results(tmp_path, monkeypatch):
    import json

    script = load_update_lesson_times(tmp_path, monkeypatch)
    run = tmp_path / "out"
    run.mkdir()
    for stem, smoke in (("05_full", False), ("06_smoke", True)):
        nb = nbformat.v4.new_notebook()
        injected = "# Parameters\n" + ("SMOKE = True\n" if smoke else "") + 'RESULTS = "x.results.json"\n'
        nb.cells = [nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]},
                                              execution_count=1)]
        nbformat.write(nb, run / f"{stem}.ipynb")
        (run / f"{stem}.results.json").write_text(json.dumps({"results": {"smoke": smoke}, "claims": {}}))
    unfinished = nbformat.v4.new_notebook()  # a full run still in progress: its last cell has not run
    unfinished.cells = [nbformat.v4.new_code_cell("# Parameters", metadata={"tags": ["injected-parameters"]},
                                                  execution_count=1), nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(unfinished, run / "07_running.ipynb")
    (run / "07_running.results.json").write_text("{}")
    assert script.copy_results([run]) == ["05_full"]
    assert json.loads((tmp_path / "notebooks" / "results" / "05_full.results.json").read_text())["results"] == {
        "smoke": False}
    assert not (tmp_path / "notebooks" / "results" / "06_smoke.results.json").exists()
