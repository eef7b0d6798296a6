"""Every lesson in notebooks/ runs to the end in smoke mode (skipped while there are none)."""

from pathlib import Path

import pytest

from naskit.lessons import run_lessons

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_lesson_runs_in_smoke_mode(notebook, tmp_path):
    # Running by stem also checks the name: a notebook not named NN_name.ipynb is rejected.
    [run] = run_lessons([notebook.stem], smoke=True, out_dir=tmp_path, notebooks_dir=NOTEBOOKS, progress=False)
    assert run.ok, f"{notebook.name} failed at cell {run.failed_cell}: {run.error} (see {run.output})"
