"""Faults and bad input: nothing lost, nothing run twice, nothing silently wrong.

Each test here backs one row of the table in ``docs/faults.md``. The kill-and-resume tests
kill real processes with SIGKILL at seeded random moments, several times; the longer version
is ``benchmarks/stress_kill_resume.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
import torch
from fault_helpers import TINY, DieOnce
from search_helpers import synthetic_bench

import naskit
from naskit.bench.build import build, read_runs
from naskit.bench.protocol import plan
from naskit.core.space import NB201Space
from naskit.evaluators.tabular import TabularEvaluator
from naskit.evaluators.training import TrainingEvaluator
from naskit.runs.budget import Budget
from naskit.runs.ledger import SCHEMA_VERSION, Ledger
from naskit.runs.loop import search
from naskit.runtime.files import atomic_write_bytes
from naskit.strategies import make_strategy

HERE = Path(__file__).parent
ROOT = HERE.parent


def start(*args: str, stdout=subprocess.PIPE, stderr=subprocess.PIPE) -> subprocess.Popen:
    """``fault_helpers.py`` in its own process group (so a kill takes all of it, like a crash)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, str(HERE / "fault_helpers.py"), *args], env=env,
                            stdout=stdout, stderr=stderr, text=True, start_new_session=True)


def wait_until(condition, proc: subprocess.Popen, timeout: float = 120.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    raise TimeoutError("the helper made no progress")


def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    os.killpg(proc.pid, sig)
    proc.wait(timeout=60)


def ledger_count(path: str) -> int:
    if not os.path.exists(path):
        return 0
    with Ledger(path) as ledger:
        return ledger.count("evolution-0", "ok")


def lines(folder: Path) -> int:
    return sum(p.read_text().count("\n") for p in folder.glob("runs-*.jsonl"))


# --- 1. kill and resume, repeatedly -----------------------------------------------------------
def test_search_killed_three_times_ends_as_the_uninterrupted_run(tmp_path):
    path, total = str(tmp_path / "l.db"), 60
    rng = random.Random(0)
    kills = sorted(rng.sample(range(5, total - 5), 3))  # kill once the ledger holds this many
    for at in kills:
        proc = start("search", path, str(total), "0.02")
        finished = wait_until(lambda at=at: ledger_count(path) >= at, proc)
        assert finished, proc.communicate()[1]
        time.sleep(rng.random() * 0.05)  # a random moment, not always right after a commit
        kill(proc)
    proc = start("search", path, str(total), "0")
    assert proc.wait(timeout=120) == 0, proc.communicate()[1]
    full = search(make_strategy("evolution", seed=0), TabularEvaluator(synthetic_bench()), Budget(evaluations=total),
                  progress=False)
    with Ledger(path) as ledger:
        rows = ledger.completed("evolution-0")
        assert ledger.count("evolution-0") == total  # none duplicated, none lost
        assert ledger.count("evolution-0", "running") == 0 and ledger.count("evolution-0", "interrupted") == 0
    assert [str(p.arch) for p, _, _ in rows] == list(full.history["arch"])
    assert [r.valid_acc for _, r, _ in rows] == list(full.history["valid_acc"])


def test_build_killed_three_times_ends_as_the_uninterrupted_build(tmp_path):
    folder, every = tmp_path / "killed", 647  # shard 0/647 of the tiny plan: 10 jobs
    jobs = plan(TINY)[::every]
    limit = len(jobs)
    rng = random.Random(1)
    for at in sorted(rng.sample(range(1, limit - 1), 3)):
        proc = start("build", str(folder), str(every))
        finished = wait_until(lambda at=at: folder.exists() and lines(folder) >= at, proc)
        assert finished, proc.communicate()[1]
        time.sleep(rng.random() * 0.2)
        kill(proc)
    proc = start("build", str(folder), str(every))
    assert proc.wait(timeout=300) == 0, proc.communicate()[1]
    killed = read_runs(folder)
    assert lines(folder) == limit == len(killed)  # every job once: nothing repeated, nothing lost
    reference = tmp_path / "reference"
    with ThreadPoolExecutor(1) as pool:
        build(reference, TINY, executor=pool, shard=(0, every), progress=False)
    torch.set_num_threads(1)
    expected = {(r["key"], r["seed"]): r for r in read_runs(reference)}
    assert set(expected) == {(j.key, j.seeds[0]) for j in jobs} and limit == 10
    for r in killed:  # the resumed build's records equal the uninterrupted build's, bit for bit
        ref = expected[(r["key"], r["seed"])]
        for curve in ("valid_acc", "train_loss", "test_acc"):
            assert r[curve] == ref[curve]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pid: int) -> float:
    """The CPU time ``pid`` has used (user + system), from /proc; 0 once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def running(pid: int) -> bool:
    """Whether ``pid`` is alive (a zombie waiting to be reaped counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def left_running_after(sig: int, proc: subprocess.Popen, workers: list[int]) -> list[int]:
    """Send ``sig`` to the helper's main process alone; the ``workers`` still running 10 s after it ended."""
    os.kill(proc.pid, sig)
    assert proc.wait(timeout=30) != 0
    deadline = time.time() + 10
    while any(running(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.1)
    return [pid for pid in workers if running(pid)]


def end_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_a_signal_to_the_main_process_alone_ends_its_pool_workers_too(tmp_path, sig):
    # a build sent SIGINT or SIGTERM by pid (not through a terminal, which signals the whole
    # process group) used to wait for its workers' jobs, or leave them running as orphans
    folder = tmp_path / "pool"
    proc = start("pool", str(folder))
    done = lambda: sum(p.read_text().count("\n") for p in folder.glob("jobs-*.jsonl"))  # noqa: E731
    try:
        assert wait_until(lambda: done() >= 4, proc), proc.communicate()[1]
        workers = children(proc.pid)
        assert len(workers) >= 2  # the two workers (spawn may add its resource tracker), now in minute-long jobs
        assert not left_running_after(sig, proc, workers)
        assert done() == 4  # nothing recorded twice or half
    finally:  # whatever failed, leave no process behind: the helper's group holds its workers
        end_group(proc)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_one_shot_searches_in_parallel_end_with_their_parent(sig, tmp_path):
    # search_many's workers used to go on searching, orphaned, for hours after the kernel that
    # started them was killed. The helper writes to files, as a kernel's output goes to its server.
    with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
        proc = start("oneshot", stdout=out, stderr=err)
    try:
        # both workers searching: two children besides spawn's resource tracker, each past its
        # imports and the unpickling of its task (a few CPU-seconds) and well into its epochs
        searching = lambda: sum(cpu_seconds(pid) >= 8.0 for pid in children(proc.pid)) >= 2  # noqa: E731
        assert wait_until(searching, proc, timeout=180), (tmp_path / "err.txt").read_text()
        workers = children(proc.pid)
        assert proc.poll() is None and len(workers) >= 3
        assert not left_running_after(sig, proc, workers)
    finally:
        end_group(proc)


# --- 2. Ctrl-C --------------------------------------------------------------------------------
def test_ctrl_c_in_a_terminal_marks_the_evaluation_interrupted_and_resume_finishes(tmp_path):
    path = str(tmp_path / "l.db")
    # 200 evaluations of 50 ms: the interrupt lands mid-run even on a busy machine
    proc = start("search", path, "200", "0.05")
    assert wait_until(lambda: ledger_count(path) >= 10, proc)
    kill(proc, signal.SIGINT)
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr.read()
    with Ledger(path) as ledger:  # readable, and the evaluation in flight is marked, not lost
        done = ledger.count("evolution-0", "ok")
        assert ledger.count("evolution-0", "interrupted") == 1 and ledger.count("evolution-0", "running") == 0
    proc = start("search", path, "200", "0")
    assert proc.wait(timeout=120) == 0
    with Ledger(path) as ledger:
        assert ledger.count("evolution-0", "ok") == 200 > done


# --- 3. failing candidates --------------------------------------------------------------------
def test_nan_loss_exception_and_out_of_memory_are_failed_evaluations(monkeypatch, one_thread):
    trainer = import_module("naskit.trainer.loop")
    original = trainer._run_epochs
    space = NB201Space()

    def flaky(model, data, config, device, result, generator):
        kind = space.parse(result.arch).index % 4
        if kind == 0:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        if kind == 1:
            raise RuntimeError("boom inside training")
        if kind == 2:
            with torch.no_grad():
                for p in model.parameters():
                    p.fill_(float("nan"))
        return original(model, data, config, device, result, generator)

    monkeypatch.setattr(trainer, "_run_epochs", flaky)
    evaluator = TrainingEvaluator(dataset="mnist1d", config=naskit.TrainConfig(epochs=1), n_train=256)
    run = search(make_strategy("random", seed=0), evaluator, Budget(evaluations=12), progress=False)
    h = run.history
    assert len(h) == 12  # the search went on
    kinds = h["arch"].map(lambda a: space.parse(a).index % 4)
    assert (h.loc[kinds == 0, "error"].str.contains("OutOfMemoryError")).all()
    assert (h.loc[kinds == 1, "error"].str.contains("boom inside training")).all()
    assert (h.loc[kinds == 2, "status"] == "diverged").all()
    assert (h.loc[kinds == 3, "status"] == "ok").all() and (kinds == 3).any()
    assert space.parse(str(run.best)).index % 4 == 3  # best-so-far ignores every failure
    assert h.loc[kinds != 3, "valid_acc"].isna().all()


# --- 4. bad input: a clear error before any work, nothing stored changed -----------------------
BAD_INPUT = [
    ("malformed arch", lambda: NB201Space().parse("|conv~0|+"), "node"),
    ("unknown op", lambda: NB201Space().parse("|conv5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"), "conv5x5"),
    ("unknown dataset", lambda: naskit.load_dataset("cifar10"), "mnist1d"),
    ("budget without a limit", lambda: Budget(), "at least one limit"),
    ("impossible budget", lambda: Budget(evaluations=0), "positive"),
    ("unknown strategy", lambda: make_strategy("annealing"), "random"),
    ("unknown strategy option", lambda: make_strategy("evolution", populaton_size=10), "populaton_size"),
    ("bad training config", lambda: naskit.TrainConfig(epochs=0), "epochs"),
    ("missing benchmark file", lambda: naskit.load_benchmark("/nonexistent/table.npz"), "nonexistent"),
]


@pytest.mark.parametrize("what,call,says", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_gets_a_clear_error(what, call, says):
    with pytest.raises((ValueError, FileNotFoundError, TypeError)) as info:
        call()
    assert says in str(info.value), f"{what}: {info.value}"


def test_a_ledger_of_another_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "old.db"
    with Ledger(path) as ledger:
        ledger.db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
        ledger.db.commit()
    before = path.read_bytes()
    with pytest.raises(ValueError, match=f"schema version 0; this naskit reads version {SCHEMA_VERSION}"):
        Ledger(path)
    assert path.read_bytes() == before


def test_resuming_with_other_settings_is_refused_before_any_evaluation(tmp_path):
    path, bench = str(tmp_path / "l.db"), synthetic_bench()
    search(make_strategy("random", seed=0), TabularEvaluator(bench), Budget(evaluations=5), ledger=path, name="r",
           progress=False)
    with Ledger(path) as ledger:
        before = ledger.completed("r")
    calls = []

    class Watched(TabularEvaluator):  # the same evaluator settings, but it notes every call
        def evaluate(self, arch, fidelity=None):
            calls.append(arch)
            return super().evaluate(arch, fidelity)

    with pytest.raises(ValueError, match="other settings.*seed"):
        search(make_strategy("random", seed=1), Watched(bench), Budget(evaluations=9), ledger=path, name="r",
               progress=False)
    assert calls == []
    with Ledger(path) as ledger:
        assert ledger.completed("r") == before


# --- 5. integrity: checksums and atomic writes -------------------------------------------------
def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "table.json"
    atomic_write_bytes(path, b'{"old": 1}')

    def crash(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b'{"new": 2}' * 1000)
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["table.json"]  # no temporary file left behind


def test_a_truncated_benchmark_is_reported_not_half_read(tmp_path):
    from naskit.bench.store import pack

    bench = synthetic_bench(epochs=2)
    path = pack(bench, tmp_path / "t.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="sha256"):
        naskit.load_benchmark(path)
    assert path.read_bytes() == data[: len(data) // 2]  # reported, not rebuilt or repaired


# --- 6. concurrency: workers that die ------------------------------------------------------------
class _DyingExecutor:
    """Its first ``fail`` submissions return a future whose worker 'died'."""

    def __init__(self, fail: int):
        self.fail, self.calls = fail, 0

    def submit(self, fn, *args):
        self.calls += 1
        future = Future()
        if self.calls <= self.fail:
            future.set_exception(ConnectionError("worker lost (simulated)"))
        else:
            future.set_result(fn(*args))
        return future


@pytest.mark.parametrize("fail,status", [(1, "ok"), (2, "failed")])
def test_a_dead_worker_is_retried_once(fail, status):
    executor = _DyingExecutor(fail)
    run = search(make_strategy("random", seed=0), TabularEvaluator(synthetic_bench()), Budget(evaluations=3),
                 executor=executor, workers=1, progress=False)
    first = run.history.iloc[0]
    assert first["status"] == status and len(run.history) == 3
    if status == "failed":
        assert "worker failed twice" in first["error"] and "worker lost" in first["error"]


def test_dask_worker_killed_mid_evaluation_is_retried_once_without_duplicates(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")]))
    bench = synthetic_bench()
    reference = search(make_strategy("random", seed=0), TabularEvaluator(bench), Budget(evaluations=8),
                       progress=False)
    victim = reference.history["arch"].iloc[3]
    marker = tmp_path / "died"
    evaluator = DieOnce(bench, victim=victim, marker=str(marker), delay=0.05)
    path = str(tmp_path / "l.db")
    # no retries by the scheduler itself: the lost task comes back to naskit as an error
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        run = search(make_strategy("random", seed=0), evaluator, Budget(evaluations=8), workers=2,
                     executor=client.get_executor(), ledger=path, progress=False)
    assert marker.exists()  # a worker really died
    assert run.history["status"].eq("ok").all(), run.history[["status", "error"]].to_string()
    assert list(run.history["arch"]) == list(reference.history["arch"])
    assert np.allclose(run.history["valid_acc"], reference.history["valid_acc"])
    with Ledger(path) as ledger:
        assert ledger.count() == 8  # one row per evaluation: the retry did not add one
