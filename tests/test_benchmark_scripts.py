"""The statistics the scripts in ``benchmarks/`` print, on small hand-made cases."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_trainer_pairs_each_network_with_the_stacked_trainers_and_sets_failed_runs_aside():
    paired_accuracy = _script("bench_trainer").paired_accuracy
    # two cells x three seeds; side "single" stalls on cell 0 seed 1 (50 % against a best of 91 %)
    sides = {"single": [0.90, 0.50, 0.91, 0.92, 0.93, 0.94], "stacked": [0.91, 0.90, 0.90, 0.92, 0.95, 0.93]}
    rows = {r["side"]: r for r in paired_accuracy(sides, "stacked", n_seeds=3)}
    single = rows["single"]
    diffs = [-1.0, -40.0, 1.0, 0.0, -2.0, 1.0]  # points
    assert single["mean_diff"] == pytest.approx(sum(diffs) / 6)
    assert single["median_diff"] == pytest.approx(-0.5)
    sd = (sum((d - sum(diffs) / 6) ** 2 for d in diffs) / 5) ** 0.5
    assert single["ci95_half"] == pytest.approx(2.5705818 * sd / 6**0.5, rel=1e-6)  # t(0.975, 5 df)
    assert (single["failed"], single["n_no_failed"]) == (1, 5)
    assert single["mean_diff_no_failed"] == pytest.approx(-0.2)
    assert rows["stacked"]["failed"] == 0 and rows["stacked"]["mean_diff"] == 0
