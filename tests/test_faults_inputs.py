"""Bad inputs that must be refused where they enter, before any work (issue 18, items 2, 4, 5, 8-11).

Each test backs one row of ``docs/faults.md``: the table's identity, unknown datasets, accuracies
in percent, costs that are not costs, lesson parameters, output folders, the dataset cache, data
too small to train on, and one unit (fractions) for every accuracy a lesson records.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import naskit.data
from naskit.bench.store import load_benchmark, pack
from naskit.bench.table import TabularBenchmark
from naskit.cli.app import main
from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.core.space import NB201Space
from naskit.data import load_dataset
from naskit.lessons.results import Results
from naskit.lessons.runner import run_lessons
from naskit.runtime.files import sha256_file
from naskit.trainer.loop import train
from naskit.trainer.stacked import train_seeds

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "lessons"
NOTEBOOKS = HERE.parent / "notebooks"
GOOD = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
SMALL = NetworkConfig(channels=2)


def usage_error(argv: list[str], capsys) -> str:
    """The CLI's one-line error for ``argv`` (exit code 2, no traceback); fails otherwise."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("naskit: error:")]
    assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
    return errors[0]


def user_table(**columns) -> pd.DataFrame:
    """Three cells of the NB201 space with fraction accuracies; ``columns`` replace or add columns."""
    space = NB201Space()
    df = pd.DataFrame({"arch": [str(space[i]) for i in (0, 1000, 5000)],
                       "valid_acc": [0.90, 0.95, 0.97], "test_acc": [0.89, 0.94, 0.96]})
    for name, values in columns.items():
        df[name] = values
    return df


# --- item 2: a table's identity -------------------------------------------------------------------
def test_a_loaded_table_is_identified_by_its_files_checksum(tmp_path):
    path = pack(TabularBenchmark.from_table(user_table(train_flops=[1e9, 2e9, 3e9])), tmp_path / "t.npz")
    loaded = load_benchmark(path)
    assert loaded.sha256 == sha256_file(path) == (tmp_path / "t.npz.sha256").read_text().split()[0]


def test_a_user_tables_sha256_is_a_hash_of_its_content():
    a, b = TabularBenchmark.from_table(user_table()), TabularBenchmark.from_table(user_table())
    assert re.fullmatch(r"[0-9a-f]{64}", a.sha256) and a.sha256 == b.sha256
    halved = user_table()
    halved[["valid_acc", "test_acc"]] *= 0.5  # the half.npz: same cells, other accuracies
    assert TabularBenchmark.from_table(halved).sha256 != a.sha256
    curves = {k: v * 0.5 for k, v in a.curves.items()}
    assert dataclasses.replace(a, curves=curves).sha256 != a.sha256  # never a stale copy of the old hash


# --- item 4: an unknown dataset, on every path --------------------------------------------------
@pytest.mark.parametrize("name", ["foo", ["mnist1d"], 3])
def test_load_dataset_refuses_an_unknown_dataset_listing_the_known_ones(name):
    with pytest.raises(ValueError, match="unknown dataset.*digits, mnist1d"):
        load_dataset(name)


def test_train_refuses_an_unknown_dataset_name_before_any_work():
    with pytest.raises(ValueError, match="unknown dataset 'foo'.*digits, mnist1d"):
        train(GOOD, "foo", epochs=1, network=SMALL)
    with pytest.raises(ValueError, match="data must be a Dataset"):
        train(GOOD, 3, epochs=1, network=SMALL)
    with pytest.raises(ValueError, match="unknown dataset 'foo'"):
        train_seeds(GOOD, "foo", seeds=(0,), epochs=1, network=SMALL)
    by_name = train(GOOD, "digits", epochs=1, network=SMALL)  # a known name is loaded
    assert by_name.ok and by_name.final_valid_acc == train(GOOD, load_dataset("digits"), epochs=1,
                                                           network=SMALL).final_valid_acc


def test_the_search_cli_refuses_an_unknown_dataset_before_any_work(tmp_path, capsys):
    ledger = tmp_path / "w.db"
    line = usage_error(["search", "--strategy", "random", "--evaluator", "training", "--dataset", "foo",
                        "--budget", "evaluations=2", "--ledger", str(ledger)], capsys)
    assert "unknown dataset 'foo'" in line and "digits, mnist1d" in line
    assert not ledger.exists()


# --- item 5: accuracies in percent, costs that are not costs ------------------------------------
def test_a_table_in_percent_is_refused_with_how_to_convert():
    with pytest.raises(ValueError, match=r"valid_acc.*fractions in \[0, 1\].*percent.*divide by 100"):
        TabularBenchmark.from_table(user_table(valid_acc=[90.0, 95.5, 99.9]))


@pytest.mark.parametrize("column", ["valid_acc", "test_acc"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0, 1.5, "high"])
def test_accuracies_outside_zero_one_are_refused_naming_the_column(column, bad):
    values = [0.9, bad, 0.8]
    with pytest.raises(ValueError, match=rf"{column}.*fractions in \[0, 1\]") as info:
        TabularBenchmark.from_table(user_table(**{column: values}))
    assert "percent" not in str(info.value)  # one stray value is not a table in percent


@pytest.mark.parametrize("column", ["params", "flops", "train_flops", "train_seconds"])
@pytest.mark.parametrize("bad", [0, -5, np.nan, np.inf])
def test_costs_must_be_positive_and_finite(column, bad):
    with pytest.raises(ValueError, match=rf"{column}.*positive and finite"):
        TabularBenchmark.from_table(user_table(**{column: [1e6, bad, 2e6]}))


def test_a_table_says_whether_it_has_costs():
    assert not TabularBenchmark.from_table(user_table()).has_costs  # queries would cost 0 s
    assert not TabularBenchmark.from_table(user_table(flops=[1e6, 2e6, 3e6])).has_costs  # no training FLOPs
    with_costs = TabularBenchmark.from_table(user_table(train_flops=[1e9, 2e9, 3e9]))
    assert with_costs.has_costs and with_costs.sim_seconds(user_table()["arch"][0]) > 0


# --- item 8: lesson parameters, checked against the notebook before papermill starts ------------
@pytest.mark.parametrize("parameters, says", [
    ({"NO_SUCH_PARAM": 1}, r"NO_SUCH_PARAM.*00_echo.*SEED, SMOKE"),
    ({"SEED": "abc"}, r"SEED.*an int.*'abc'"),
    ({"SEED": 1.5}, r"SEED.*an int"),
    ({"SEED": True}, r"SEED.*an int"),
    ({"RESULTS": "x.json"}, r"RESULTS.*set by the runner"),
])
def test_lesson_parameters_are_checked_before_any_lesson_runs(tmp_path, parameters, says):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=says):
        run_lessons(["echo"], smoke=True, parameters=parameters, out_dir=out, notebooks_dir=FIXTURES,
                    progress=False)
    assert not out.exists()


def test_the_tours_parameters_are_checked_against_its_parameters_cell(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"SEED of 00_tour must be an int.*'abc'"):
        run_lessons(["tour"], smoke=True, parameters={"SEED": "abc"}, out_dir=out, progress=False)
    with pytest.raises(ValueError, match=r"NO_SUCH_PARAM.*00_tour.*EPOCHS"):
        run_lessons(["tour"], smoke=True, parameters={"NO_SUCH_PARAM": 1}, out_dir=out, progress=False)
    assert not out.exists()


def test_parameter_types_follow_the_defaults():
    from naskit.lessons.runner import check_lesson_parameters, list_lessons, resolve_lessons

    lessons = list_lessons()
    [darts] = resolve_lessons(["06"], lessons)
    [strategies] = resolve_lessons(["03"], lessons)
    check_lesson_parameters([darts], {"COLLAPSE_ARCH_LR": 1, "EPOCHS": 3, "SMOKE": True})  # an int is a number
    check_lesson_parameters([strategies], {"STRATEGIES": ["random", "local"]})
    with pytest.raises(ValueError, match=r"STRATEGIES of 03_search_strategies must be a list of str"):
        check_lesson_parameters([strategies], {"STRATEGIES": ["random", 3]})
    with pytest.raises(ValueError, match=r"SMOKE.*a bool"):
        check_lesson_parameters([darts], {"SMOKE": "yes"})
    with pytest.raises(ValueError, match=r"EPOCHS.*03_search_strategies"):  # 06 has EPOCHS, 03 has not
        check_lesson_parameters([darts, strategies], {"EPOCHS": 3})


def test_the_lessons_cli_refuses_a_bad_parameter_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "o"
    line = usage_error(["lessons", "run", "echo", "--smoke", "-p", "NO_SUCH_PARAM", "1", "--notebooks",
                        str(FIXTURES), "--out", str(out)], capsys)
    assert "NO_SUCH_PARAM" in line and not out.exists()
    line = usage_error(["lessons", "run", "echo", "--smoke", "-p", "SEED", "abc", "--notebooks", str(FIXTURES),
                        "--out", str(out)], capsys)
    assert "SEED" in line and "int" in line and not out.exists()


# --- item 9: output folders and the dataset cache -----------------------------------------------
def test_lessons_out_that_is_a_file_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "results.txt"
    out.write_text("keep me")
    with pytest.raises(ValueError, match=r"out_dir.*results.txt.*is a file"):
        run_lessons(["echo"], smoke=True, out_dir=out, notebooks_dir=FIXTURES, progress=False)
    with pytest.raises(ValueError, match=r"out_dir.*results.txt.*is a file"):
        run_lessons(["echo"], smoke=True, out_dir=out / "sub", notebooks_dir=FIXTURES, progress=False)
    line = usage_error(["lessons", "run", "echo", "--smoke", "--notebooks", str(FIXTURES), "--out", str(out)], capsys)
    assert "--out" in line and "is a file" in line
    assert out.read_text() == "keep me"


@pytest.fixture
def no_memory_cache(monkeypatch):
    monkeypatch.setattr(naskit.data, "_MEMORY_CACHE", {})


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_naskit_cache_at_a_file_is_a_clear_error_before_any_work(tmp_path, monkeypatch, no_memory_cache):
    cache = tmp_path / "cache.txt"
    cache.write_text("not a folder")
    monkeypatch.setenv("NASKIT_CACHE", str(cache))
    with pytest.raises(ValueError, match=r"NASKIT_CACHE.*cache.txt.*is a file, not a folder"):
        load_dataset("digits")
    assert cache.read_text() == "not a folder" and temp_files(tmp_path) == []


def test_a_folder_where_the_cache_file_goes_is_a_clear_error(tmp_path, monkeypatch, no_memory_cache):
    (tmp_path / "digits.npz").mkdir()
    monkeypatch.setenv("NASKIT_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match=r"digits.npz is a folder"):
        load_dataset("digits")
    assert temp_files(tmp_path) == []


def test_naskit_cache_at_a_folder_works_and_leaves_no_temporary_file(tmp_path, monkeypatch, no_memory_cache,
                                                                      digits):
    monkeypatch.setenv("NASKIT_CACHE", str(tmp_path / "new" / "cache"))
    assert load_dataset("digits").sha256 == digits.sha256
    assert [p.name for p in (tmp_path / "new" / "cache").iterdir()] == ["digits.npz"]
    assert temp_files(tmp_path) == []


# --- item 10: a wrong cache, data too small to train on -----------------------------------------
def consistent_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A cache file whose stored hash matches its (wrong) arrays: it passes a self-consistency check."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, sha256=naskit.data._hash_arrays(*arrays.values()))
    path.write_bytes(buffer.getvalue())


def test_a_self_consistent_but_wrong_digits_cache_is_regenerated(tmp_path, monkeypatch, no_memory_cache, digits):
    monkeypatch.setenv("NASKIT_CACHE", str(tmp_path))
    load_dataset("digits")
    with np.load(tmp_path / "digits.npz") as z:
        arrays = {k: z[k] for k in ("x", "y", "x_test", "y_test")}
    arrays["x"] = arrays["x"][:, ::-1].copy()  # every image upside down: another dataset, same shapes
    consistent_cache(tmp_path / "digits.npz", arrays)
    naskit.data._MEMORY_CACHE.clear()
    again = load_dataset("digits")
    assert again.sha256 == digits.sha256 == getattr(naskit.data, "DIGITS_SHA256", None)
    assert torch.equal(again.x_train, digits.x_train)
    with np.load(tmp_path / "digits.npz") as z:  # the wrong file was replaced
        assert str(z["sha256"]) == digits.sha256


def test_a_self_consistent_but_wrong_mnist1d_cache_is_regenerated(tmp_path, monkeypatch, no_memory_cache, mnist1d):
    monkeypatch.setenv("NASKIT_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    consistent_cache(tmp_path / "mnist1d.npz", {
        "x": rng.standard_normal((4000, 40)).astype(np.float32), "y": rng.integers(0, 10, 4000),
        "x_test": rng.standard_normal((1000, 40)).astype(np.float32), "y_test": rng.integers(0, 10, 1000)})
    assert load_dataset("mnist1d").sha256 == mnist1d.sha256  # not "the mnist1d package changed"


class Untouchable(nn.Module):
    """A model that fails the test if training ever reaches it."""

    def forward(self, x):
        raise AssertionError("training started")


def test_a_batch_larger_than_the_training_data_is_refused_before_any_work(digits):
    small = digits.subset(100)
    with pytest.raises(ValueError, match=r"batch_size.*128.*100 training examples"):
        train(Untouchable(), small, epochs=1)
    assert train(GOOD, small, epochs=1, network=SMALL, config=TrainConfig(batch_size=100)).ok  # equal is fine


@pytest.mark.parametrize("n", [1, 9])
def test_training_data_too_small_to_train_on_is_refused_before_any_work(digits, n):
    tiny = digits.subset(n)
    with pytest.raises(ValueError, match=rf"data has {n} training example.*at least 10"):
        train(Untouchable(), tiny, epochs=1, config=TrainConfig(batch_size=1))
    with pytest.raises(ValueError, match=rf"data has {n} training example.*at least 10"):
        train_seeds(GOOD, tiny, seeds=(0, 1), epochs=1, config=TrainConfig(batch_size=1), network=SMALL)
    assert train(GOOD, digits.subset(10), epochs=1, network=SMALL, config=TrainConfig(batch_size=10)).ok


# --- item 11: one unit for accuracy in the lessons' results files -------------------------------
def test_results_refuse_an_accuracy_in_percent():
    results = Results(None)
    results.record("rsps_test_acc", 0.957)
    results.record("one_evaluation", {"params": 1200, "final_test_acc": 0.9})
    for key, value in (("found_test_acc", {"darts": 95.7}), ("x", {"final_test_acc": 96.0}),
                       ("training_test_acc_by_seed", [0.9, 91.0])):
        with pytest.raises(ValueError, match=r"fractions in \[0, 1\].*divide by 100"):
            results.record(key, value)
    assert results.data["results"] == {"rsps_test_acc": 0.957,
                                       "one_evaluation": {"params": 1200, "final_test_acc": 0.9}}


def recorded_expressions(notebook: Path):
    """(key source, value source) of every ``results.record(key, value)`` call in a notebook."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code" or "results.record" not in cell.source:
            continue
        tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith(("%", "!"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "results.record":
                yield ast.unparse(node.args[0]), ast.unparse(node.args[1])


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_lessons_record_accuracies_as_fractions(notebook):
    for key, value in recorded_expressions(notebook):
        assert not re.search(r"\b100\s*\*|\*\s*100\b", value), f"{notebook.stem}: {key} records percent: {value}"
        # a percent column read for the record must be divided back into a fraction
        assert not ("%" in value and "acc" in value and "/ 100" not in value), \
            f"{notebook.stem}: {key} records a percent column: {value}"
        assert "points" not in key, f"{notebook.stem}: {key} records percentage points"
