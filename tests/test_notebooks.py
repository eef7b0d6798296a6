"""Every lesson in notebooks/ runs to the end in smoke mode and records its key numbers; lesson 07
runs twice, with identical results."""

from pathlib import Path

import pytest

from naskit.lessons.results import compare_results, load_results
from naskit.lessons.runner import run_lessons

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TWICE = "07_reproducibility"  # executed twice: its recorded results must be identical


def run_smoke(stem: str, out_dir: Path):
    # Running by stem also checks the name: a notebook not named NN_name.ipynb is rejected.
    [run] = run_lessons([stem], smoke=True, out_dir=out_dir, notebooks_dir=NOTEBOOKS, progress=False)
    assert run.ok, f"{stem} failed at cell {run.failed_cell}: {run.error} (see {run.output})"
    return run


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_lesson_runs_in_smoke_mode(notebook, tmp_path):
    run = run_smoke(notebook.stem, tmp_path)
    assert load_results(run.results)["results"], f"{notebook.stem} recorded no results"
    if notebook.stem == TWICE:
        again = run_smoke(notebook.stem, tmp_path / "again")
        first, second = load_results(run.results), load_results(again.results)
        assert len(first["results"]) >= 10, first
        assert compare_results(first, second) == [], (first, second)
