"""Kill a search and a benchmark build with SIGKILL many times, resume each time, and check
that the end result equals an uninterrupted run: nothing lost, nothing duplicated.

    python benchmarks/stress_kill_resume.py --kills 20 --seed 0

The test suite runs the short version (3 kills each, tests/test_faults.py); this is the long
one. It uses the same helper programs (tests/fault_helpers.py): an evolution search of 200
evaluations on a synthetic table, and a tiny benchmark build of 20 jobs.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path[:0] = [str(ROOT), str(TESTS)]

from fault_helpers import TINY  # noqa: E402
from search_helpers import synthetic_bench  # noqa: E402

from naskit.bench.build import build, read_runs  # noqa: E402
from naskit.bench.protocol import plan  # noqa: E402
from naskit.evaluators.tabular import TabularEvaluator  # noqa: E402
from naskit.runs.budget import Budget  # noqa: E402
from naskit.runs.ledger import Ledger  # noqa: E402
from naskit.runs.loop import search  # noqa: E402
from naskit.strategies import make_strategy  # noqa: E402


def start(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    return subprocess.Popen([sys.executable, str(TESTS / "fault_helpers.py"), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def run_until(args, progress, at, rng) -> bool:
    """Start the helper, wait until ``progress() >= at``, then SIGKILL it at a random moment."""
    proc = start(*args)
    while progress() < at:
        if proc.poll() is not None:
            return False  # it finished before the kill
        time.sleep(0.02)
    time.sleep(rng.random() * 0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def stress_search(kills: int, rng: random.Random, folder: Path) -> str:
    path, total = str(folder / "ledger.db"), 200
    count = lambda: Ledger(path).count("evolution-0", "ok") if os.path.exists(path) else 0  # noqa: E731
    done = sum(run_until(("search", path, str(total), "0.01"), count, at, rng)
               for at in sorted(rng.sample(range(1, total), kills)))
    start("search", path, str(total), "0").wait()
    full = search(make_strategy("evolution", seed=0), TabularEvaluator(synthetic_bench()),
                  Budget(evaluations=total), progress=False)
    with Ledger(path) as ledger:
        rows, n = ledger.completed("evolution-0"), ledger.count("evolution-0")
        stuck = ledger.count("evolution-0", "running") + ledger.count("evolution-0", "interrupted")
    same = [str(p.arch) for p, _, _ in rows] == list(full.history["arch"])
    return f"search: {done} kills; {n} rows for {total} evaluations, {stuck} left running; same trajectory: {same}"


def stress_build(kills: int, rng: random.Random, folder: Path) -> str:
    every, runs = 324, folder / "runs"
    jobs = plan(TINY)[::every]
    lines = lambda: sum(p.read_text().count("\n") for p in runs.glob("runs-*.jsonl"))  # noqa: E731
    done = sum(run_until(("build", str(runs), str(every)), lines, at, rng)
               for at in sorted(rng.sample(range(1, len(jobs)), min(kills, len(jobs) - 1))))
    start("build", str(runs), str(every)).wait()
    reference = folder / "reference"
    with ThreadPoolExecutor(1) as pool:
        build(reference, TINY, executor=pool, shard=(0, every), progress=False)
    ref = {(r["key"], r["seed"]): r["valid_acc"] for r in read_runs(reference)}
    got = read_runs(runs)
    same = all(ref[(r["key"], r["seed"])] == r["valid_acc"] for r in got)
    return (f"build: {done} kills; {lines()} records for {len(jobs)} jobs, {len(got)} distinct; "
            f"bit-identical to an uninterrupted build: {same and len(got) == len(ref)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(stress_search(args.kills, random.Random(args.seed), Path(tmp)), flush=True)
        print(stress_build(args.kills, random.Random(args.seed + 1), Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
