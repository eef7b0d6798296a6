"""The ledger, the search loop and ``naskit search`` under a new user's mistakes (issue 18, items 1-3,
6, 7, 9-11): nothing lost, nothing mixed, nothing silently wrong.

Each test backs one row of ``docs/faults.md``: outputs never overwrite inputs, a run is identified
by everything that determines its results (its table's data included) and the CLI refuses to
resume it with other settings, a budget must fit the evaluator, a resumable run needs a seed,
ledgers are checked when opened and read, and every mistake is a one-line error with exit code 2.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sqlite3
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from search_helpers import synthetic_bench  # noqa: E402

from naskit.bench.store import pack  # noqa: E402
from naskit.bench.table import TabularBenchmark  # noqa: E402
from naskit.cli.app import main  # noqa: E402
from naskit.core.space import NB201Space  # noqa: E402
from naskit.core.types import Result  # noqa: E402
from naskit.evaluators.tabular import TabularEvaluator  # noqa: E402
from naskit.runs.budget import Budget  # noqa: E402
from naskit.runs.ledger import Ledger  # noqa: E402
from naskit.runs.loop import search  # noqa: E402
from naskit.strategies import make_strategy  # noqa: E402


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A packed synthetic table and the same table with every accuracy halved."""
    folder = tmp_path_factory.mktemp("tables")
    bench = synthetic_bench()
    half = dataclasses.replace(bench, curves={k: v * 0.5 if k.endswith("acc") else v
                                              for k, v in bench.curves.items()})
    return pack(bench, folder / "t.npz"), pack(half, folder / "half.npz")


def cli(argv, capsys) -> tuple[int, str, str]:
    """Run ``naskit ARGV``: (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def usage_error(argv, capsys) -> str:
    """The one-line error of ``naskit ARGV`` (exit code 2, no traceback); fails otherwise."""
    code, _, err = cli(argv, capsys)
    assert code == 2 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("naskit: error: "), err
    return err


def searching(table, ledger, *more):
    return ["search", "--strategy", "random", "--budget", "evaluations=3", "--table", table, "--ledger", ledger,
            "--quiet", *more]


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- 1. outputs never overwrite inputs --------------------------------------------------------------
@pytest.mark.parametrize("victim", ["ledger", "table", "ledger-wal"])
def test_out_equal_to_the_ledger_or_the_table_is_refused_before_any_work(tmp_path, tables, capsys, victim):
    table = tmp_path / "t.npz"
    table.write_bytes(tables[0].read_bytes())
    (tmp_path / "t.npz.sha256").write_bytes(tables[0].with_name("t.npz.sha256").read_bytes())
    ledger = tmp_path / "o.db"
    assert cli(searching(table, ledger), capsys)[0] == 0
    before = files_in(tmp_path)
    out = {"ledger": ledger, "table": table, "ledger-wal": tmp_path / "o.db-wal"}[victim]
    err = usage_error(searching(table, ledger, "--out", out), capsys)
    assert "is the same file as" in err and "--out" in err
    assert files_in(tmp_path) == before  # nothing written, the ledger's run is still there
    with Ledger(ledger) as opened:
        assert len(opened.runs()) == 1


def test_every_output_is_checked_before_the_search_starts(tmp_path, tables, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    for argv, says in [
        (searching(tables[0], tmp_path / "l.db", "--out", tmp_path / "folder"), "is a folder"),
        (searching(tables[0], tmp_path / "l.db", "--out", tmp_path / "file" / "h.csv"), "is a file, not a folder"),
        (searching(tables[0], tmp_path / "folder"), "--ledger"),
        (searching(tables[0], tmp_path / "file" / "l.db"), "is a file, not a folder"),
    ]:
        assert says in usage_error(argv, capsys)
        assert not (tmp_path / "l.db").exists()  # refused before the search began
    # a missing folder for --out is created before the search, not a traceback after it
    code, out, _ = cli(searching(tables[0], tmp_path / "l.db", "--out", tmp_path / "new" / "deep" / "h.csv"), capsys)
    assert code == 0 and len(pd.read_csv(tmp_path / "new" / "deep" / "h.csv")) == 3


# --- 2. a run is identified by its table's data ------------------------------------------------------
def test_resuming_with_another_table_is_refused_naming_the_difference(tmp_path, tables, capsys):
    ledger = tmp_path / "l.db"
    assert cli(searching(tables[0], ledger), capsys)[0] == 0
    before = ledger.read_bytes()
    err = usage_error(searching(tables[1], ledger), capsys)
    assert "evaluator.table_sha256" in err and "--name" in err
    assert ledger.read_bytes() == before


def test_the_api_refuses_another_table_under_the_same_name(tmp_path):
    bench = synthetic_bench()
    half = dataclasses.replace(bench, curves={k: v * 0.5 for k, v in bench.curves.items()})
    path = tmp_path / "l.db"
    search(make_strategy("random", seed=0), TabularEvaluator(bench), Budget(evaluations=3), ledger=path, name="r",
           progress=False)
    with pytest.raises(ValueError, match="other settings.*table_sha256"):
        search(make_strategy("random", seed=0), TabularEvaluator(half), Budget(evaluations=3), ledger=path,
               name="r", progress=False)
    described = TabularEvaluator(bench).describe()
    assert described["table_sha256"] == bench.sha256 and described["flops_per_second"] == bench.flops_per_second


# --- 3. the CLI refuses a settings change; a new run needs a new name ---------------------------------
@pytest.mark.parametrize("change, says", [
    (["--strategy", "evolution"], "strategy.name: 'random' -> 'evolution'"),
    (["--seed", "7"], "strategy.seed: 0 -> 7"),
    (["--budget", "evaluations=4"], "budget.evaluations: 3 -> 4"),
])
def test_the_cli_refuses_to_resume_a_run_with_other_settings_naming_each(tmp_path, tables, capsys, change, says):
    ledger = tmp_path / "l.db"
    assert cli(searching(tables[0], ledger), capsys)[0] == 0
    argv = searching(tables[0], ledger)
    for flag, value in zip(change[::2], change[1::2]):
        i = argv.index(flag) if flag in argv else None
        if i is None:
            argv += [flag, value]
        else:
            argv[i + 1] = value
    before = ledger.read_bytes()
    err = usage_error(argv, capsys)
    assert says in err and "--name" in err
    assert ledger.read_bytes() == before
    with Ledger(ledger) as opened:
        assert len(opened.runs()) == 1


def test_a_new_run_in_a_ledger_file_needs_a_new_name_and_list_shows_the_runs(tmp_path, tables, capsys):
    ledger = tmp_path / "l.db"
    assert cli(searching(tables[0], ledger), capsys)[0] == 0
    assert cli(searching(tables[0], ledger), capsys)[0] == 0  # the same command resumes (here: replays) it
    code, out, _ = cli(searching(tables[0], ledger, "--seed", "7", "--name", "seven"), capsys)
    assert code == 0 and "run seven:" in out
    err = usage_error(searching(tables[0], ledger, "--seed", "8", "--name", "seven"), capsys)
    assert "run 'seven'" in err and "strategy.seed: 7 -> 8" in err
    code, out, _ = cli(["search", "--list", "--ledger", ledger], capsys)
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].split() == ["run", "strategy", "seed", "evaluator", "evaluations", "status"]
    assert len(lines) == 4 and lines[3].split()[:5] == ["seven", "random", "7", "tabular", "3"]
    assert lines[2].startswith("random-s0-") and "finished: evaluations budget reached (3)" in lines[2]
    assert "no ledger at" in usage_error(["search", "--list", "--ledger", tmp_path / "none.db"], capsys)
    assert not (tmp_path / "none.db").exists()


# --- 6. budgets that could never end, or never begin --------------------------------------------------
def _costless_table() -> TabularBenchmark:
    space = NB201Space()
    return TabularBenchmark.from_table(pd.DataFrame({"arch": [str(space[i]) for i in (0, 1000, 5000)],
                                                     "valid_acc": [0.9, 0.95, 0.97], "test_acc": [0.89, 0.94, 0.96]}))


@pytest.mark.parametrize("measure", ["sim_seconds", "flops"])
def test_a_cost_budget_on_a_table_without_costs_is_refused_up_front(measure):
    evaluator = TabularEvaluator(_costless_table())
    # wall_seconds ends the search if the refusal is missing (it would otherwise never stop)
    with pytest.raises(ValueError, match=f"{measure}=100 would never be reached: .* charges 0 {measure}.*no costs"):
        search(make_strategy("random", seed=0), evaluator, Budget(**{measure: 100}, wall_seconds=1), progress=False)


def test_a_budget_that_cannot_fit_one_evaluation_is_refused_with_the_smallest_that_would(tables, capsys):
    evaluator = TabularEvaluator(synthetic_bench())
    with pytest.raises(ValueError, match="flops=100 cannot pay for one evaluation") as info:
        search(make_strategy("random", seed=0), evaluator, Budget(flops=100), progress=False)
    least = float(re.search(r"give flops=(\S+) or more", str(info.value)).group(1))
    # the smallest budget it names pays for an evaluation at the lowest fidelity
    run = search(make_strategy("sh", seed=0, max_fidelity=4), evaluator, Budget(flops=least), progress=False)
    assert run.cost["evaluations"] >= 1 and run.cost["flops"] <= least
    assert "cannot pay for one evaluation" in usage_error(
        ["search", "--strategy", "random", "--budget", "flops=100", "--table", tables[0], "--ledger",
         Path(tables[0]).with_name("unused.db"), "--quiet"], capsys)
    assert not Path(tables[0]).with_name("unused.db").exists()


# --- 7. a resumable run needs a seed ---------------------------------------------------------------
def test_seed_none_with_a_ledger_is_refused_saying_why(tmp_path):
    path = tmp_path / "l.db"
    with pytest.raises(ValueError, match="seed=None.*could not be resumed.*seed=0"):
        search(make_strategy("random", seed=None), TabularEvaluator(synthetic_bench()), Budget(evaluations=2),
               ledger=path, progress=False)
    assert not path.exists()
    run = search(make_strategy("random", seed=None), TabularEvaluator(synthetic_bench()), Budget(evaluations=2),
                 progress=False)  # without a ledger nothing needs to be resumed
    assert len(run.history) == 2


# --- 9. clear errors, not tracebacks -------------------------------------------------------------------
@pytest.mark.parametrize("more, says", [
    (["-o", "population_size", "abc"], "-o population_size takes int for strategy 'evolution', got 'abc'"),
    (["-o", "populaton_size", "3"], "has no option 'populaton_size'"),
    (["--budget", "flops=abc"], "--budget flops must be a number"),
    (["--table", "/nonexistent/t.npz"], "--table: no benchmark file at /nonexistent/t.npz"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--name", "a/b"], "--name must be"),
    (["--strategy", "annealing"], "invalid choice: 'annealing'"),
])
def test_search_cli_mistakes_are_one_line_errors(tmp_path, tables, capsys, more, says):
    argv = ["search", "--strategy", "evolution", "--budget", "evaluations=3", "--table", tables[0],
            "--ledger", tmp_path / "l.db", "--quiet", *more]
    assert says in usage_error(argv, capsys)
    assert not (tmp_path / "l.db").exists()


def test_a_missing_strategy_or_budget_is_a_one_line_error(tmp_path, capsys):
    assert "needs --strategy and --budget" in usage_error(["search", "--ledger", tmp_path / "l.db"], capsys)


# found by tests/test_cli_fuzz.py: each was a traceback, a wrong reason, or work done before a refusal
def test_a_negative_seed_is_refused_before_the_ledger_is_created(tmp_path, tables, capsys):
    ledger = tmp_path / "l.db"
    assert "--seed: must be a whole number, 0 or more" in usage_error(searching(tables[0], ledger, "--seed", "-1"),
                                                                       capsys)
    assert not ledger.exists()  # the strategy used to refuse it inside the search, after the ledger was made


def test_list_says_why_there_is_no_ledger(tmp_path, capsys):
    assert "the file does not exist" in usage_error(["search", "--list", "--ledger", tmp_path / "none.db"], capsys)
    (tmp_path / "runs").mkdir()
    assert "it is a folder" in usage_error(["search", "--list", "--ledger", tmp_path / "runs"], capsys)


@pytest.mark.parametrize("argv, says", [
    (["bench", "build", "--folder", "{file}"], "--folder {file}: {file} is a file, not a folder"),
    (["bench", "build", "--folder", "{file}/runs"], "is a file, not a folder"),
    (["bench", "build", "--folder", "{tmp}/new", "--limit", "-1"], "--limit must be at least 0, got -1"),
    (["bench", "build", "--folder", "{tmp}/new", "--workers", "0"], "--workers must be at least 1, got 0"),
    (["bench", "pack", "--folder", "{file}", "--out", "{tmp}/p.npz", "--datasheet", "{tmp}/p.md"],
     "is not a folder of build records"),
    (["bench", "pack", "--folder", "{tmp}", "--out", "{tmp}/p.npz", "--datasheet", "{tmp}/p.npz"],
     "--datasheet {tmp}/p.npz is the same file as --out"),
    (["bench", "pack", "--folder", "{tmp}", "--out", "{tmp}", "--datasheet", "{tmp}/p.md"], "is a folder"),
    (["bench", "verify", "--path", "{tmp}"], "--path {tmp} is a folder"),
    (["bench", "verify", "--workers", "0"], "--workers must be at least 1, got 0"),
    (["bench", "verify", "--sample", "-1"], "--sample must be at least 1, got -1"),
    (["bench", "verify", "--seed", "-1"], "--seed: must be a whole number, 0 or more"),
])
def test_bench_cli_mistakes_are_one_line_errors_before_any_work(tmp_path, capsys, argv, says):
    file = tmp_path / "notes.txt"
    file.write_text("keep me")
    fill = {"file": file, "tmp": tmp_path}
    assert says.format(**fill) in usage_error([a.format(**fill) for a in argv], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"] and file.read_text() == "keep me"


# --- problems the CLI fuzz test met outside the CLI, fixed: each test failed before its fix -----------------
def test_a_cost_budget_on_a_partial_table_is_refused_unless_evaluations_bound_it():
    space = NB201Space()
    partial = TabularBenchmark.from_table(pd.DataFrame({
        "arch": [str(space[i]) for i in (0, 1000, 5000)], "valid_acc": [0.9, 0.95, 0.97],
        "test_acc": [0.89, 0.94, 0.96], "train_flops": [1e9, 2e9, 3e9]}))
    for budget in (Budget(sim_seconds=100, wall_seconds=2), Budget(flops=1e12)):
        with pytest.raises(ValueError, match="alone might never be reached: the table covers"):
            search(make_strategy("random", seed=0), TabularEvaluator(partial), budget, progress=False)
    run = search(make_strategy("random", seed=0), TabularEvaluator(partial), Budget(sim_seconds=100, evaluations=20),
                 progress=False)
    assert len(run.history) == 20  # outside the table: failed evaluations that cost nothing
    assert "3 of the space's 15,625 cells" in TabularEvaluator(partial).free_queries()
    from naskit.bench.store import load_benchmark
    assert TabularEvaluator(load_benchmark("v1")).free_queries() is None  # a whole table: every query costs


def test_a_strategy_needing_a_cost_the_table_lacks_is_refused_up_front(tmp_path):
    path = tmp_path / "l.db"
    with pytest.raises(ValueError, match="latency_ms_b1"):
        search(make_strategy("mo_evolution", seed=0), TabularEvaluator(synthetic_bench()), Budget(evaluations=3),
               ledger=path, progress=False)
    if path.exists():  # refused before the run was opened
        with Ledger(path, read_only=True) as ledger:
            assert ledger.runs() == {}


def test_a_read_only_ledger_is_called_read_only_not_corrupted(tmp_path, monkeypatch):
    path = tmp_path / "l.db"
    Ledger(path).close()
    path.chmod(0o444)
    if os.geteuid() == 0:  # root writes read-only files: show naskit what another user would see
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == path and mode & os.W_OK
                            else real(p, mode, **kw))
    with pytest.raises(ValueError, match="read-only") as info:
        Ledger(path)
    assert "corrupt" not in str(info.value)
    with Ledger(path, read_only=True) as ledger:  # still listable
        assert ledger.summaries() == []


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER)")
    db.execute("INSERT INTO users VALUES (1)")
    db.commit()
    db.close()
    before = files_in(tmp_path)
    with pytest.raises(ValueError, match="SQLite database but not a naskit ledger.*users.*untouched"):
        Ledger(path)
    assert files_in(tmp_path) == before  # no naskit tables, not switched to WAL, no -wal file


# --- 10. values out of range are refused when read, or never recorded ----------------------------------
def test_a_ledger_value_out_of_range_is_refused_naming_the_row(tmp_path):
    path, bench = tmp_path / "l.db", synthetic_bench()
    search(make_strategy("random", seed=0), TabularEvaluator(bench), Budget(evaluations=4), ledger=path, name="r",
           progress=False)
    db = sqlite3.connect(path)
    db.execute("UPDATE evaluations SET test_acc = 1.934 WHERE run_id = 'r' AND n = 2")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match=r"run 'r', evaluation 2 .*test_acc is 1.934, outside \[0, 1\]"):
        search(make_strategy("random", seed=0), TabularEvaluator(bench), Budget(evaluations=4), ledger=path,
               name="r", progress=False)


def test_an_evaluator_value_out_of_range_is_a_failed_evaluation_not_a_poisoned_ledger(tmp_path):
    class Percent(TabularEvaluator):  # a broken evaluator: accuracies in percent
        def evaluate(self, arch, fidelity=None):
            r = super().evaluate(arch, fidelity)
            return dataclasses.replace(r, valid_acc=100 * r.valid_acc)

    path, bench = tmp_path / "l.db", synthetic_bench()
    run = search(make_strategy("random", seed=0), Percent(bench), Budget(evaluations=3), ledger=path, name="p",
                 progress=False)
    assert (run.history["status"] == "failed").all() and run.best is None
    assert run.history["error"].str.contains(r"valid_acc is .*outside \[0, 1\]").all()
    assert (run.history["sim_seconds"] > 0).all()  # its cost still counts
    with Ledger(path) as ledger:
        assert len(ledger.completed("p")) == 3  # the ledger reads back


def test_a_ledger_from_before_run_statuses_still_opens(tmp_path):
    path = tmp_path / "l.db"
    with Ledger(path) as ledger:
        ledger.open_run("r", {"strategy": {"name": "random", "seed": 0}})
        ledger.record("r", 0, Result(NB201Space()[3], None, 0.5), 1.0)
        ledger.db.execute("DROP TABLE finished")
    with Ledger(path, read_only=True) as ledger:
        assert ledger.summaries()[0]["status"] == "unfinished"
    with Ledger(path) as ledger:
        ledger.mark_finished("r", "evaluations budget reached (1)")
        assert ledger.summaries()[0]["status"] == "finished: evaluations budget reached (1)"


# --- 11. one unit in machine-readable outputs ---------------------------------------------------------
def test_the_csv_and_the_ledger_hold_fractions_and_the_text_labels_percent(tmp_path, tables, capsys):
    ledger, out = tmp_path / "l.db", tmp_path / "h.csv"
    code, text, _ = cli(searching(tables[0], ledger, "--out", out), capsys)
    history = pd.read_csv(out)
    with Ledger(ledger) as opened:
        (run_id,) = opened.runs()
        stored = [r.valid_acc for _, r, _ in opened.completed(run_id)]
    assert code == 0 and history["valid_acc"].between(0, 1).all() and list(history["valid_acc"]) == stored
    best = history["valid_acc"].max()
    assert f"valid accuracy {100 * best:.2f} %" in text and "accuracies as fractions" in text
