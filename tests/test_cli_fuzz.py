"""``naskit`` under arguments drawn at random (issue 18, Build item 8).

Hypothesis draws arguments for ``naskit search``, ``naskit bench build|pack|verify`` and
``naskit lessons run``: flags and values a new user might type, good and bad, mixed. Every
invocation must either succeed (exit 0) or exit 2 with a one-line ``naskit: error: ...`` on
stderr, never a traceback; and no input file (a table, a ledger's recorded runs, a foreign
file, the shipped data) may change. The CLI runs in this process (``naskit.cli.app.main``) on a
small packed table, so each call takes well under a second. Nothing here trains a network or
executes a notebook: a process pool (what ``bench build`` and ``bench verify`` train in) or
papermill (``lessons run``) being reached means "the arguments were accepted", and stops there.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import io
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from search_helpers import synthetic_bench  # noqa: E402

import naskit.lessons.runner  # noqa: E402
from naskit.bench.store import DATA_DIR, pack  # noqa: E402
from naskit.bench.table import TabularBenchmark  # noqa: E402
from naskit.cli.app import main  # noqa: E402
from naskit.core.space import NB201Space  # noqa: E402
from naskit.strategies import STRATEGIES, strategy_options  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "lessons"
# no shrinking: a failing example is reported as drawn, and the test stays bounded in time
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class WouldRun(Exception):
    """Raised where real work would start: the arguments were all accepted."""


class PoolThatNeverStarts(cf.ProcessPoolExecutor):
    """A process pool that checks its arguments as the real one does, then stops the command."""

    def __init__(self, max_workers=None, *args, **kwargs):
        super().__init__(max_workers, *args, **kwargs)  # the real argument checks
        self.shutdown()
        raise WouldRun


def never_run_lessons(*args, **kwargs):
    raise WouldRun


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Inputs shared by every example: a packed table with costs, a costless one, a ledger with a run."""
    folder = tmp_path_factory.mktemp("fuzz")
    pack(synthetic_bench(), folder / "t.npz")
    space = NB201Space()
    costless = pd.DataFrame({"arch": [str(space[i]) for i in (0, 1000, 5000)],
                             "valid_acc": [0.9, 0.95, 0.97], "test_acc": [0.89, 0.94, 0.96]})
    pack(TabularBenchmark.from_table(costless), folder / "costless.npz")
    code, _, err = invoke(["search", "--strategy", "random", "--budget", "evaluations=3", "--table",
                           str(folder / "t.npz"), "--ledger", str(folder / "ledger.db"), "--quiet"])
    assert code == 0, err
    (folder / "ledger.db").rename(folder / "ledger.db.template")
    for extra in folder.glob("*.csv"):
        extra.unlink()
    return folder


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """``naskit ARGV`` in this process: (exit code, stdout, stderr); an exception escapes."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        except WouldRun:
            code = 0
    return code, out.getvalue(), err.getvalue()


def example_folder(workspace: Path) -> Path:
    """A fresh folder for one example: its own copy of the ledger, a foreign database, a text file."""
    folder = Path(tempfile.mkdtemp(dir=workspace))
    shutil.copy(workspace / "ledger.db.template", folder / "ledger.db")
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE users (id INTEGER)")
    db.commit()
    db.close()
    (folder / "notes.txt").write_text("keep me\n")
    (folder / "a_folder").mkdir()
    return folder


SHIPPED = tuple(p for p in DATA_DIR.glob("nb201_mnist1d*") if p.is_file())  # shipped tables, datasheets


def snapshot(*paths: Path) -> dict[Path, str]:
    """sha256 of every file at or under ``paths``."""
    files = [p for path in paths for p in ([path] if path.is_file() else sorted(path.rglob("*"))) if p.is_file()]
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def recorded_runs(ledger: Path) -> list[tuple]:
    """Every run and evaluation row a ledger holds (the shared cache pages aside)."""
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return [*db.execute("SELECT * FROM runs ORDER BY run_id"),
                *db.execute("SELECT * FROM evaluations ORDER BY run_id, n")]
    finally:
        db.close()


def check(argv: list[str], folder: Path, workspace: Path, outputs: tuple[Path, ...] = ()) -> int:
    """Run ``argv``; assert exit 0, or exit 2 with one line and nothing written; assert no input
    changed (``outputs``, the files the command was told to write, aside). Returns the exit code."""
    ledger_rows = set(recorded_runs(folder / "ledger.db"))
    before = snapshot(workspace, *SHIPPED)
    code, out, err = invoke(argv)
    after = snapshot(workspace, *SHIPPED)
    said = re.sub(r"/\S+", "PATH", " ".join(err.split()[2:6]))
    event(f"exit {code}" + (f": {said}" if code == 2 else ""))  # shown by pytest --hypothesis-show-statistics
    if os.environ.get("NASKIT_FUZZ_LOG"):
        print(code, argv, err.strip()[-300:], file=sys.__stderr__)
    assert code in (0, 2), f"exit {code} for {argv}\n{out}\n{err}"
    assert "Traceback" not in err, f"{argv}\n{err}"
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("naskit: error: "), f"{argv}\n{err}"
        assert after == before, f"{argv} was refused but changed {set(after.items()) ^ set(before.items())}"
    else:  # the ledger gains rows, the outputs are written; nothing else changes
        changed = [p for p in before if after.get(p) != before[p] and p not in outputs
                   and not p.name.startswith("ledger.db")]
        assert not changed, f"{argv} changed {changed}"
        if folder / "ledger.db" not in outputs:
            assert ledger_rows <= set(recorded_runs(folder / "ledger.db")), f"{argv} changed the ledger's runs"
    return code


def fuzz_once(workspace: Path, data, draw_argv, never=(cf, "ProcessPoolExecutor", PoolThatNeverStarts)) -> None:
    """Draw one command line with ``draw_argv(folder, workspace)`` in a fresh folder and ``check`` it,
    with ``never`` (module, name, stand-in) patched in where real work would start."""
    folder = example_folder(workspace)
    argv, outputs = data.draw(draw_argv(folder, workspace))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(*never)
        check(argv, folder, workspace, outputs)


# --- drawing arguments: mostly good values, each with a chance of being a mistake -------------------
# Each example draws one seeded ``random.Random`` and makes its choices with it, at the odds below
# (hypothesis's own draws favour the ends of a range, which would make most command lines mistakes).
def pick(rng: random.Random, good: list, bad: list, mistakes: int = 15):
    """One of ``good``, or, ``mistakes`` times in 100, one of ``bad``: a few mistakes per command line."""
    return rng.choice(bad if bad and chance(rng, mistakes) else good)


def chance(rng: random.Random, percent: int) -> bool:
    """True ``percent`` times in 100."""
    return rng.random() < percent / 100


def flag(rng: random.Random, name: str, good: list, bad: list, given: int = 50) -> list[str]:
    """``[name, value]`` ``given`` times in 100 (else ``[]``, the default)."""
    return [name, str(pick(rng, good, bad))] if chance(rng, given) else []


# --- naskit search ---------------------------------------------------------------------------------
# optuna logs to stderr; the multi-objective strategies need a latency this table lacks, refused only after
# the first evaluation (test_faults_runs.py::test_a_strategy_needing_a_cost_the_table_lacks_is_refused_up_front)
NOT_DRAWN = {"optuna", "mo_evolution", "mo_sh", "mo_asha", "scalarised"}
GOOD_BUDGETS = ["evaluations=1", "evaluations=3", "sim_seconds=5", "sim_seconds=12", "flops=8e9", "flops=1.2e10",
                "wall_seconds=0.5"]
BAD_BUDGETS = ["evaluations=0", "evaluations=-2", "evaluations=2.5", "evaluations=abc", "evaluations=nan",
               "evaluations=inf", "sim_seconds=0.001", "sim_seconds=0", "sim_seconds=-1", "sim_seconds=inf",
               "flops=100", "flops=abc", "wall_seconds=0", "epochs=3", "=3", "3", ""]
OPTION_VALUES = ["2", "3", "4", "0", "-1", "1.5", "abc", "None", "True", "[1, 2]", "{'a': 1}", "'x'"]


@st.composite
def search_argv(draw, folder: Path, workspace: Path) -> tuple[list[str], tuple[Path, ...]]:
    rng = draw(st.randoms(use_true_random=True))
    strategy = pick(rng, sorted(set(STRATEGIES) - NOT_DRAWN), ["annealing", None], mistakes=5)
    argv = ["search"] + (["--strategy", strategy] if strategy else [])
    for _ in range(rng.randint(0, 2)):
        argv += ["--budget", pick(rng, GOOD_BUDGETS, BAD_BUDGETS)]
    if not any(b.startswith("evaluations=") for b in argv[1::2]) and chance(rng, 60):
        argv += ["--budget", pick(rng, ["evaluations=2", "evaluations=4"], [])]  # most runs end quickly
    known = strategy_options(strategy) if strategy in STRATEGIES else []
    for _ in range(rng.randint(0, 1)):
        argv += ["-o", pick(rng, known or ["population_size"], ["no_such_option", ""]),
                 rng.choice(OPTION_VALUES)]
    if chance(rng, 10):  # never a valid training run: the dataset or the epochs are wrong
        dataset, epochs = rng.choice([("foo", "1"), ("", "1"), ("digits", "0"), ("digits", "-2"), ("MNIST1D", "2"),
                                      ("digits", "x")])
        argv += ["--evaluator", "training", "--dataset", dataset, "--epochs", epochs]
    else:
        argv += flag(rng, "--evaluator", ["tabular"], ["surrogate"], given=20)
    tables = {"small": workspace / "t.npz", "costless": workspace / "costless.npz", "shipped": "v1"}
    bad_tables = {"missing": folder / "none.npz", "folder": folder / "a_folder", "notes": folder / "notes.txt",
                  "ledger": folder / "ledger.db", "unbuilt": "v9"}
    table = pick(rng, [*tables.values()] * 3, [*bad_tables.values()])
    argv += ["--table", str(table)]
    ledgers = [folder / "new.db", folder / "ledger.db", folder / "deep" / "er" / "l.db"]
    bad_ledgers = [folder / "app.db", folder / "notes.txt", folder / "a_folder", workspace / "t.npz",
                   folder / "notes.txt" / "l.db"]
    ledger = pick(rng, ledgers, bad_ledgers)
    argv += ["--ledger", str(ledger)]
    outs = [None, folder / "h.csv", folder / "new" / "h.csv", folder / "notes.txt"]
    bad_outs = [folder / "ledger.db", folder / "ledger.db-wal", folder / "a_folder", folder / "notes.txt" / "h.csv",
                *([table] if isinstance(table, Path) and table.parent == workspace else [])]  # the table it reads
    out = pick(rng, outs, bad_outs)
    argv += ["--out", str(out)] if out is not None else []
    argv += flag(rng, "--seed", ["0", "7"], ["-1", "abc", "1.5"])
    argv += flag(rng, "--workers", ["1"], ["0", "-1", "abc"], given=20)
    argv += flag(rng, "--name", ["r1", "run.1_b-2"], ["a/b", "", ".x", "-x"], given=30)
    argv += [f for f, percent in (("--quiet", 50), ("--list", 8), ("--bogus", 3)) if chance(rng, percent)]
    inputs = {ledger, ledger.with_name(ledger.name + "-wal"), table}
    return argv, (out,) if out is not None and out not in inputs else ()


@FUZZ
@given(data=st.data())
def test_search_arguments_succeed_or_are_one_line_errors(workspace, data):
    fuzz_once(workspace, data, search_argv)


# --- naskit bench build | pack | verify ------------------------------------------------------------
@st.composite
def bench_argv(draw, folder: Path, workspace: Path) -> tuple[list[str], tuple[Path, ...]]:
    rng = draw(st.randoms(use_true_random=True))
    command = rng.choice(["build", "pack", "verify"])
    argv = ["bench", command, *flag(rng, "--version", ["v1", "v2"], ["v9", ""])]
    (folder / "records").mkdir()
    (folder / "garbage").mkdir()
    (folder / "garbage" / "runs-x-0of1.jsonl").write_text('not json\n{"key": "cut off')
    folders = [folder / "records", folder / "garbage", folder / "nowhere"]
    bad_folders = [folder / "notes.txt", folder / "notes.txt" / "runs"]
    if command == "build":  # always a folder of our own: the default is the live build's
        argv += ["--folder", str(pick(rng, folders, bad_folders))]
        argv += flag(rng, "--workers", ["1", "2"], ["0", "-2", "x"])
        argv += flag(rng, "--shard", ["0/1", "1/2"], ["2/2", "0/0", "-1/3", "a/b", "1"])
        argv += flag(rng, "--limit", ["0", "1", "3"], ["-1", "x"])
        argv += flag(rng, "--tag", ["ok", "m-1.b_2"], ["a b", "x/y", ""])
        argv += ["--reverse"] if chance(rng, 50) else []
    elif command == "pack":  # always outputs of our own: the defaults are the shipped files
        argv += ["--folder", str(pick(rng, folders, bad_folders))]
        argv += ["--out", str(pick(rng, [folder / "p.npz", folder / "new" / "p.npz"],
                                   [workspace / "t.npz", folder / "a_folder", folder / "notes.txt" / "p.npz"]))]
        argv += ["--datasheet", str(pick(rng, [folder / "p.md"], [folder / "notes.txt", folder / "a_folder",
                                                                   folder / "p.npz"]))]
    else:
        argv += flag(rng, "--sample", ["1", "3"], ["0", "-1", "999999", "x"])
        argv += flag(rng, "--seed", ["0", "5"], ["x"])
        argv += flag(rng, "--workers", ["1", "2"], ["0", "-1"])
        path = pick(rng, [workspace / "t.npz", workspace / "costless.npz", None],
                    [folder / "x.npz", folder / "a_folder", folder / "notes.txt"])
        argv += ["--path", str(path)] if path is not None else []
        argv += ["--any-origin"] if chance(rng, 50) else []
    return argv, ()  # no pre-existing file is one to write: every draw that could write fails first


@FUZZ
@given(data=st.data())
def test_bench_arguments_succeed_or_are_one_line_errors(workspace, data):
    fuzz_once(workspace, data, bench_argv)  # building and verifying train in a process pool: it never starts


# --- naskit lessons run ----------------------------------------------------------------------------
@st.composite
def lessons_argv(draw, folder: Path, workspace: Path) -> tuple[list[str], tuple[Path, ...]]:
    rng = draw(st.randoms(use_true_random=True))
    books = pick(rng, [FIXTURES, None], [folder / "none", folder / "notes.txt"], mistakes=10)
    names = ["echo", "00", "00_echo", "broken"] if books == FIXTURES else ["tour", "00", "06", "search_spaces"]
    argv = ["lessons", "run", *(pick(rng, names, ["nope", "99", ""]) for _ in range(rng.randint(0, 2)))]
    for _ in range(rng.randint(0, 2)):
        argv += ["-p", pick(rng, ["SEED", "SMOKE"], ["NO_SUCH_PARAM", "RESULTS", "1x", "EPOCHS", ""]),
                 pick(rng, ["1", "3", "True", "False"], ["abc", "1.5", "[1]", "None", "'x'", "", "1e400"], 30)]
    argv += ["--out", str(pick(rng, [folder / "out", folder / "a_folder"],
                               [folder / "notes.txt", folder / "notes.txt" / "out"]))]
    argv += ["--notebooks", str(books)] if books is not None else []
    argv += [f for f in ("--smoke", "--html") if chance(rng, 50)]
    return argv, ()  # nothing is written before papermill would start


@FUZZ
@given(data=st.data())
def test_lessons_run_arguments_succeed_or_are_one_line_errors(workspace, data):
    fuzz_once(workspace, data, lessons_argv, (naskit.lessons.runner, "run_lessons", never_run_lessons))
