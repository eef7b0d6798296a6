"""A wheel of naskit carries the shipped benchmark and the lessons, and finds them when installed."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_names_every_package_folder():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "naskit").rglob("__init__.py")}
    assert listed == folders | {"naskit.shipped_data", "naskit.shipped_notebooks"}


def _setuptools_major() -> int:
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0])
    except Exception:  # noqa: BLE001 -- not installed, or an odd version string
        return 0


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # build with the installed setuptools when it is new enough (no download), else in pip's
    # isolated build environment
    isolation = ["--no-build-isolation"] if _setuptools_major() >= 68 else []
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", str(out), str(ROOT)]
    subprocess.run(cmd, check=True, capture_output=True)
    return next(out.glob("naskit-*.whl"))


def test_wheel_carries_the_benchmark_its_checksum_the_proxies_and_the_lessons(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"naskit/shipped_data/nb201_mnist1d.npz", "naskit/shipped_data/nb201_mnist1d.npz.sha256",
            "naskit/shipped_data/README.md", "naskit/shipped_notebooks/00_tour.ipynb",
            "naskit/shipped_notebooks/run_times.json"} <= names
    assert any(n.startswith("naskit/shipped_data/proxies_nb201_mnist1d/") for n in names)
    assert not any("runs-" in n for n in names)  # raw build records stay in the repository


def test_installed_wheel_loads_the_benchmark_from_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import naskit, naskit.lessons.runner as L; from naskit.bench.store import DATA_DIR; "
            "b = naskit.load_benchmark(); "
            "print(naskit.__file__, DATA_DIR, len(b), L.default_notebooks_dir(), len(L.list_lessons()))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0].startswith(str(target)) and out[1] == str(target / "naskit" / "shipped_data")
    assert int(out[2]) == 15625
    assert out[3] == str(target / "naskit" / "shipped_notebooks") and int(out[4]) >= 9
