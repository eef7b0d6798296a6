"""Tests for naskit.bench: the tabular benchmark, its file, its build plan, build, verify, datasheet.

Everything runs on tiny hand-made fixtures (a few classes, 3 epochs), never on the shipped
table, and checks against references computed here: pandas group means for the seed means,
``NB201Space().canonical`` for class membership, scipy's ``spearmanr``/``kendalltau`` for the
datasheet, the known 6,466 canonical classes of NAS-Bench-201 (Dong & Yang, ICLR 2020) for the
plan. The build tests train 4 two-channel, one-epoch networks (a few seconds).
"""

import concurrent.futures as cf
import dataclasses
import itertools
import json
import math
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

import naskit
from naskit.bench import verify as verify_module
from naskit.bench.build import RECORD_FIELDS, build, lookup_or_train, pending_jobs, read_runs
from naskit.bench.datasheet import (
    FAILED_RUN_POINTS,
    rank_correlation_by_epoch,
    reliability,
    render,
    seed_pairs,
    seed_study,
    summarize,
)
from naskit.bench.pack import pack_runs
from naskit.bench.protocol import BenchProtocol, class_representatives, multi_seed_subset, plan, stratum
from naskit.bench.shards import run_jobs
from naskit.bench.store import pack
from naskit.bench.table import DEFAULT_FLOPS_PER_SECOND, TabularBenchmark
from naskit.bench.verify import _compare, check_protocol, verify
from naskit.cli.bench import shard_argument
from naskit.core.configs import MNIST1DArgs, NetworkConfig, TrainConfig
from naskit.core.space import NB201Space, parse

SPACE = NB201Space()
E = 3  # epochs of the hand-made fixtures
TINY = BenchProtocol(network=NetworkConfig(channels=2), train=TrainConfig(epochs=1, threads=1),
                     multi_seed_classes=2)


@pytest.fixture(scope="module")
def members() -> dict[str, list]:
    """Reference classes: canonical key -> member cells, straight from ``NB201Space().canonical``."""
    groups = defaultdict(list)
    for cell in SPACE:
        groups[SPACE.canonical(cell)].append(cell)
    return groups


# --- from_table: a user's long-format table --------------------------------------------------------
TABLE_ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_1x1~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|",
    "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|",
]
NOT_IN_TABLE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(scope="module")
def long_table() -> pd.DataFrame:
    """4 archs x 2 seeds x 3 epochs, one row per (arch, seed, epoch), random curves."""
    rng = np.random.default_rng(0)
    rows = []
    for i, arch in enumerate(TABLE_ARCHS):
        for seed in (0, 1):
            acc = np.sort(rng.uniform(0.1, 0.95, (2, E)), axis=1)
            loss = np.sort(rng.uniform(0.1, 2.5, (2, E)), axis=1)[:, ::-1]
            for e in range(E):
                rows.append({"arch": arch, "seed": seed, "epoch": e + 1, "valid_acc": acc[0, e],
                             "test_acc": acc[1, e], "train_loss": loss[0, e], "valid_loss": loss[1, e],
                             "params": 1000 * (i + 1), "flops": 5000 * (i + 1),
                             "train_flops": 10**9 * (i + 1), "train_seconds": 2.0 + i + seed})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def table_bench(long_table) -> TabularBenchmark:
    return TabularBenchmark.from_table(long_table)


def test_from_table_docstring_example_one_fidelity():
    arch = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"
    bench = TabularBenchmark.from_table(pd.DataFrame({"arch": [arch], "valid_acc": [0.9], "test_acc": [0.89]}))
    assert bench.epochs == 1 and bench.seeds == [0]
    assert bench.query(arch).test_acc == 0.89


def test_query_default_is_the_seed_mean_at_the_last_epoch(table_bench, long_table):
    last = long_table[long_table.epoch == E].groupby("arch")[["valid_acc", "test_acc", "train_loss",
                                                               "valid_loss"]].mean()
    for arch, ref in last.iterrows():
        q = table_bench.query(arch)
        assert q.epoch == E and q.seed is None
        for name in ref.index:
            assert getattr(q, name) == pytest.approx(ref[name], abs=1e-15)


def test_query_with_epoch_and_seed_is_the_exact_row(table_bench, long_table):
    for arch in TABLE_ARCHS:
        row = long_table[(long_table.arch == arch) & (long_table.epoch == 2) & (long_table.seed == 1)].iloc[0]
        for query in (table_bench.query(arch, epoch=2, seed=1), table_bench.query(parse(arch), epoch=2, seed=1)):
            assert query.arch == parse(arch) and (query.epoch, query.seed) == (2, 1)
            assert (query.valid_acc, query.test_acc) == (row.valid_acc, row.test_acc)
            assert (query.train_loss, query.valid_loss) == (row.train_loss, row.valid_loss)
            assert query.measured_seconds == pytest.approx(row.train_seconds * 2 / E)
    assert table_bench.query(TABLE_ARCHS[0]) == table_bench.query(parse(TABLE_ARCHS[0]))


@pytest.mark.parametrize("epoch", [E + 1, 0, -1, 2.0, "2", True])
def test_bad_epoch_names_the_allowed_range(table_bench, epoch):
    with pytest.raises(ValueError, match=r"1\.\.3"):
        table_bench.query(TABLE_ARCHS[0], epoch=epoch)
    with pytest.raises(ValueError, match=r"1\.\.3"):
        table_bench.to_frame(epoch=epoch)


def test_unknown_seed_lists_the_archs_seeds(table_bench):
    with pytest.raises(ValueError, match=r"seed 7.*\[0, 1\]"):
        table_bench.query(TABLE_ARCHS[1], seed=7)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        table_bench.curve(TABLE_ARCHS[1], seed=7)


def test_arch_not_in_table_is_an_error(table_bench):
    with pytest.raises(ValueError, match="not in this table"):
        table_bench.query(NOT_IN_TABLE)
    with pytest.raises(ValueError, match="expected an Arch or an NB201 string"):
        table_bench.query(42)


def test_malformed_arch_in_table_is_named(long_table):
    bad = long_table.copy()
    bad.loc[3, "arch"] = "|nor_conv_3x3~0|+|conv_5x5~0|none~1|+|none~0|none~1|none~2|"
    with pytest.raises(ValueError, match=r"conv_5x5~0.*unknown op 'conv_5x5'"):
        TabularBenchmark.from_table(bad)


def test_missing_required_columns_are_named(long_table):
    with pytest.raises(ValueError, match=r"\['valid_acc', 'test_acc'\]"):
        TabularBenchmark.from_table(long_table.drop(columns=["valid_acc", "test_acc"]))


@pytest.mark.parametrize("epoch", [0, 1.5, np.nan])
def test_bad_epoch_column_is_named(long_table, epoch):
    bad = long_table.astype({"epoch": float})
    bad.loc[0, "epoch"] = epoch
    with pytest.raises(ValueError, match="epoch values must be whole numbers >= 1"):
        TabularBenchmark.from_table(bad)


def test_duplicate_rows_are_an_error_and_spellings_of_one_cell_merge(long_table):
    with pytest.raises(ValueError, match="duplicate"):
        TabularBenchmark.from_table(pd.concat([long_table, long_table.iloc[:1]]))
    respelled = long_table.copy()
    respelled.loc[respelled.seed == 1, "arch"] = "  " + respelled.loc[respelled.seed == 1, "arch"]
    bench = TabularBenchmark.from_table(respelled)
    assert len(bench) == len(TABLE_ARCHS) and bench.seeds == [0, 1]
    assert bench.query(TABLE_ARCHS[0], seed=1) == TabularBenchmark.from_table(long_table).query(
        TABLE_ARCHS[0], seed=1)


def test_to_frame_has_one_row_per_arch_equal_to_single_queries(table_bench):
    for epoch in (None, 2):
        frame = table_bench.to_frame(epoch)
        assert sorted(frame.index) == sorted(parse(a).index for a in TABLE_ARCHS)
        for cell, row in frame.iterrows():
            q = table_bench.query(row.arch, epoch)
            assert row.arch == str(q.arch) and cell == q.arch.index and row.n_seeds == 2
            for name in ("valid_acc", "test_acc", "train_loss", "valid_loss", "params", "forward_flops",
                         "train_flops"):
                assert row[name] == getattr(q, name), name
            assert row.sim_seconds == pytest.approx(q.sim_seconds)


def test_curve_is_the_seed_mean_or_one_seed(table_bench, long_table):
    mean = long_table.groupby(["arch", "epoch"])["valid_acc"].mean()
    for arch in TABLE_ARCHS:
        np.testing.assert_allclose(table_bench.curve(arch), mean[arch].to_numpy(), rtol=0, atol=1e-15)
        one = long_table[(long_table.arch == arch) & (long_table.seed == 0)].sort_values("epoch")
        np.testing.assert_array_equal(table_bench.curve(arch, "test_acc", seed=0), one.test_acc)
    with pytest.raises(ValueError, match="unknown curve 'accuracy'"):
        table_bench.curve(TABLE_ARCHS[0], "accuracy")


def test_contains_and_len(table_bench):
    assert len(table_bench) == 4
    assert all(a in table_bench and parse(a) in table_bench for a in TABLE_ARCHS)
    assert NOT_IN_TABLE not in table_bench and parse(NOT_IN_TABLE) not in table_bench


# --- from_runs: build records, one entry per canonical class ------------------------------------
RUN_ARCHS = {  # an arch of each class -> the seeds it was trained with; seed 1 of B diverged
    "A": ("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|", (0, 1, 2)),  # 275 members
    "B": ("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|nor_conv_3x3~1|skip_connect~2|", (0, 1)),
    "C": ("|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|skip_connect~2|",
          (0,)),
    "D": ("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|",
          (0, 1, 2)),
    "E": ("|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|",
          (0, 1, 2)),
}


def make_record(key: str, arch: str, seed: int, rng, flops: int, diverge_at: int | None = None) -> dict:
    """A record shaped like ``build.train_job``'s; a diverged run stops after a NaN training loss."""
    acc = np.sort(rng.uniform(0.1, 0.95, (2, E)), axis=1).round(3)
    loss = np.sort(rng.uniform(0.1, 2.5, (2, E)), axis=1)[:, ::-1]
    ran = E if diverge_at is None else diverge_at - 1
    train_loss = loss[0, :ran].tolist() + ([] if diverge_at is None else [float("nan")])
    record = {
        "key": key, "arch": arch, "seed": seed, "status": "ok" if diverge_at is None else "diverged",
        "error": "", "train_loss": train_loss, "valid_acc": acc[0, :ran].tolist(),
        "test_acc": acc[1, :ran].tolist(), "valid_loss": loss[1, :ran].tolist(), "params": flops // 100,
        "forward_flops": flops, "train_flops": flops * 3000 * E, "eval_flops": flops * 2000 * E,
        "wall_seconds": 1.0 + seed, "cpu_seconds": 0.9 + seed, "threads": 1, "host": "test", "torch": "x",
    }
    assert tuple(sorted(record)) == tuple(sorted(RECORD_FIELDS))
    return record


@pytest.fixture(scope="module")
def records() -> list[dict]:
    rng = np.random.default_rng(1)
    reps = class_representatives(SPACE)
    out = []
    for i, (name, (arch, seeds)) in enumerate(RUN_ARCHS.items()):
        key = SPACE.canonical(parse(arch))
        for seed in seeds:
            diverged = 3 if (name, seed) == ("B", 1) else None
            out.append(make_record(key, str(reps[key]), seed, rng, 10**5 * (i + 1), diverged))
    assert len({r["key"] for r in out}) == len(RUN_ARCHS)
    return out


@pytest.fixture(scope="module")
def runs_bench(records) -> TabularBenchmark:
    return TabularBenchmark.from_runs(records)


def seeds_of(key: str) -> tuple:
    return next(seeds for arch, seeds in RUN_ARCHS.values() if SPACE.canonical(parse(arch)) == key)


def long_frame(records) -> pd.DataFrame:
    """The records as one row per (key, seed, epoch); NaN where a run had stopped."""
    rows = [{"key": r["key"], "seed": r["seed"], "epoch": e + 1,
             **{k: (r[k][e] if e < len(r[k]) else np.nan) for k in ("valid_acc", "test_acc")}}
            for r in records for e in range(E)]
    return pd.DataFrame(rows)


def test_every_member_cell_maps_to_its_class(runs_bench, records, members):
    keys = sorted({r["key"] for r in records})
    assert len(runs_bench) == sum(len(members[k]) for k in keys)
    for key in keys:
        entries = {runs_bench.entry(cell) for cell in members[key]}
        assert entries == {keys.index(key)}
        assert runs_bench.entry_names[keys.index(key)] == str(min(members[key], key=lambda a: a.index))
    untrained = next(k for k in members if k not in keys)
    assert all(cell not in runs_bench for cell in members[untrained])


def test_seed_mean_ignores_a_diverged_seed(runs_bench, records):
    ref = long_frame(records).groupby(["key", "epoch"])[["valid_acc", "test_acc"]].mean()  # skips NaN
    b = RUN_ARCHS["B"][0]
    key = SPACE.canonical(parse(b))
    assert runs_bench.query(b).test_acc == pytest.approx(ref.loc[(key, E), "test_acc"], abs=1e-15)
    assert runs_bench.query(b).test_acc == runs_bench.query(b, seed=0).test_acc  # seed 1 stopped at 2
    assert runs_bench.query(b, epoch=2).valid_acc == pytest.approx(ref.loc[(key, 2), "valid_acc"], abs=1e-15)
    assert math.isnan(runs_bench.query(b, seed=1).test_acc)
    assert runs_bench.query(b, seed=1, epoch=2).test_acc == records[4]["test_acc"][1]


def test_to_frame_of_runs_equals_single_queries(runs_bench):
    frame = runs_bench.to_frame()
    assert len(frame) == len(runs_bench)
    for cell, row in frame.sample(40, random_state=0).iterrows():
        q = runs_bench.query(SPACE[cell])
        assert (row.valid_acc, row.test_acc, row.train_flops) == (q.valid_acc, q.test_acc, q.train_flops)
        assert row.sim_seconds == pytest.approx(q.sim_seconds)


# --- the simulated clock ---------------------------------------------------------------------------
def test_sim_seconds_charges_the_flops_of_e_epochs(runs_bench, records):
    for rec in records:
        for e in range(1, E + 1):
            expected = (rec["train_flops"] * e / E + rec["eval_flops"] * e / E) / DEFAULT_FLOPS_PER_SECOND
            assert runs_bench.sim_seconds(rec["arch"], e) == pytest.approx(expected, rel=1e-12)
            assert runs_bench.query(rec["arch"], e).train_flops == int(rec["train_flops"] * e / E)


def test_sim_seconds_is_deterministic_and_monotone(runs_bench, records):
    again = TabularBenchmark.from_runs(list(reversed(records)))
    for arch, _ in RUN_ARCHS.values():
        clock = [runs_bench.sim_seconds(arch, e) for e in range(1, E + 1)]
        assert clock == [again.sim_seconds(arch, e) for e in range(1, E + 1)]
        assert all(a < b for a, b in itertools.pairwise(clock))
        assert runs_bench.sim_seconds(arch) == clock[-1]


def test_flops_per_second_override(records, runs_bench, tmp_path):
    slow = TabularBenchmark.from_runs(records, flops_per_second=1e9)
    arch = RUN_ARCHS["D"][0]
    scale = DEFAULT_FLOPS_PER_SECOND / 1e9
    assert slow.sim_seconds(arch, 2) == pytest.approx(runs_bench.sim_seconds(arch, 2) * scale)
    path = pack(slow, tmp_path / "slow.npz")
    assert naskit.load_benchmark(path).flops_per_second == 1e9  # the rate travels with the file
    assert naskit.load_benchmark(path, flops_per_second=2e9).sim_seconds(arch, 2) == pytest.approx(
        slow.sim_seconds(arch, 2) / 2)


# --- store: pack and load ------------------------------------------------------------------------
ARRAYS = ("entry_of_cell", "run_entry", "run_seed", "run_seconds", "params", "forward_flops",
          "train_flops", "eval_flops")


def test_pack_load_round_trip(runs_bench, tmp_path):
    path = pack(runs_bench, tmp_path / "table.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.npz", "table.npz.sha256"]  # no temp files
    loaded = naskit.load_benchmark(path)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(runs_bench, name), err_msg=name)
    for name, curve in runs_bench.curves.items():
        np.testing.assert_array_equal(loaded.curves[name], curve, err_msg=name)
    assert loaded.entry_names == runs_bench.entry_names and loaded.meta["keys"] == runs_bench.meta["keys"]
    for cell in np.flatnonzero(runs_bench.entry_of_cell >= 0)[::7]:
        for e in (1, E):
            assert loaded.query(SPACE[int(cell)], e) == runs_bench.query(SPACE[int(cell)], e)
    pd.testing.assert_frame_equal(loaded.to_frame(), runs_bench.to_frame())


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupted_file_is_reported_and_left_alone(runs_bench, tmp_path, damage):
    path = pack(runs_bench, tmp_path / "table.npz")
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) - 100]
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        naskit.load_benchmark(path)
    assert path.read_bytes() == bytes(data)


def test_missing_files_are_reported(runs_bench, tmp_path):
    with pytest.raises(FileNotFoundError, match="naskit bench build"):
        naskit.load_benchmark(tmp_path / "nowhere.npz")
    path = pack(runs_bench, tmp_path / "table.npz")
    path.with_name("table.npz.sha256").unlink()
    with pytest.raises(FileNotFoundError, match="checksum"):
        naskit.load_benchmark(path)


def test_a_file_of_another_format_is_refused(tmp_path):
    from naskit.runtime.files import atomic_write_bytes, sha256_file

    path = tmp_path / "other.npz"
    np.savez(path, meta=np.array(json.dumps({"format": "something-else"})))
    atomic_write_bytes(path.with_name("other.npz.sha256"), f"{sha256_file(path)}  other.npz\n".encode())
    with pytest.raises(ValueError, match="not a naskit-tabular-1 table"):
        naskit.load_benchmark(path)


# --- build: resumable, sharded, any executor -----------------------------------------------------
@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    """Two tiny builds of 2 runs into one folder: a process pool, then a thread pool."""
    folder = tmp_path_factory.mktemp("runs")
    threads = torch.get_num_threads()
    pending = [len(pending_jobs(folder, TINY))]
    written = [build(folder, TINY, workers=1, limit=2, progress=False)]
    pending.append(len(pending_jobs(folder, TINY)))
    try:
        with cf.ThreadPoolExecutor(1) as pool:
            written.append(build(folder, TINY, executor=pool, limit=2, progress=False))
    finally:
        torch.set_num_threads(threads)  # train_job set 1 thread in this process
    pending.append(len(pending_jobs(folder, TINY)))
    return folder, written, pending


def test_build_resumes_without_duplicates(tiny_build):
    folder, written, pending = tiny_build
    runs = read_runs(folder)
    assert written == [2, 2]
    assert pending == [6466 + 2 * 2, 6466 + 2, 6466]
    assert {(r["key"], r["seed"]) for r in runs} == {(j.key, j.seeds[0]) for j in plan(TINY)[:4]}  # any order
    assert len(runs) == 4
    lines = sum(len(p.read_text().splitlines()) for p in folder.glob("runs-*.jsonl"))
    assert lines == 4
    for r in runs:
        assert set(r) == set(RECORD_FIELDS) and r["status"] == "ok" and r["threads"] == 1
        assert len(r["valid_acc"]) == 1 and SPACE.canonical(parse(r["arch"])) == r["key"]


def test_read_runs_skips_a_cut_line_and_duplicates(records, tmp_path):
    lines = [json.dumps(r) + "\n" for r in records[:3]]
    (tmp_path / "runs-a-0of1.jsonl").write_text(lines[0] + lines[1] + lines[2][:40])  # crash mid-line
    (tmp_path / "runs-b-0of1.jsonl").write_text(lines[1] + lines[2] + "{not json\n")
    (tmp_path / "notes.jsonl").write_text(lines[0])  # not a shard
    runs = read_runs(tmp_path)
    assert [(r["key"], r["seed"]) for r in runs] == [(r["key"], r["seed"]) for r in records[:3]]
    assert runs[2] == json.loads(lines[2])


def test_shards_are_disjoint_and_cover_the_plan(tmp_path):
    jobs = plan(TINY)
    first, second = pending_jobs(tmp_path, TINY, (0, 2)), pending_jobs(tmp_path, TINY, (1, 2))
    assert not set(first) & set(second)
    assert first == jobs[0::2] and second == jobs[1::2]
    assert len(first) + len(second) == len(jobs) and set(first) | set(second) == set(jobs)
    assert pending_jobs(tmp_path, TINY, (1, 2), limit=3) == second[:3]
    with pytest.raises(ValueError, match="0 <= i < n"):
        pending_jobs(tmp_path, TINY, (2, 2))
    assert shard_argument("1/2") == (1, 2)
    with pytest.raises(Exception, match="i/n"):
        shard_argument("1-2")


# --- plan: the known numbers of NAS-Bench-201 ------------------------------------------------------
@pytest.fixture(scope="module")
def default_plan():
    return plan(BenchProtocol())


def test_plan_trains_every_class_once_then_the_multi_seed_subset(default_plan, members):
    protocol = BenchProtocol()
    first, rest = default_plan[:6466], default_plan[6466:]
    assert len(members) == 6466
    assert len(default_plan) == 6466 + protocol.multi_seed_classes * (len(protocol.seeds) - 1)
    assert {j.seeds for j in first} == {(0,)} and Counter(j.key for j in first) == Counter(set(members))
    for job in first[::50]:
        assert parse(job.arch) == min(members[job.key], key=lambda a: a.index)
    for n, seed in enumerate(protocol.seeds[1:]):
        chunk = rest[n * protocol.multi_seed_classes:(n + 1) * protocol.multi_seed_classes]
        assert {j.seeds for j in chunk} == {(seed,)} and len({j.key for j in chunk}) == protocol.multi_seed_classes
        assert {j.key for j in chunk} == {j.key for j in rest[:protocol.multi_seed_classes]}


def test_plan_is_deterministic(default_plan):
    assert plan(BenchProtocol()) == default_plan
    other = plan(BenchProtocol(plan_seed=1))
    assert other[:6466] != default_plan[:6466]  # another order ...
    assert set(other[:6466]) == set(default_plan[:6466])  # ... of the same first-seed jobs


@pytest.mark.parametrize("n", [1200, 37, 7000])
def test_multi_seed_subset_is_proportional(n):
    reps = class_representatives(SPACE)
    chosen = multi_seed_subset(reps, n, seed=0)
    assert len(chosen) == len(set(chosen)) == min(n, len(reps))
    assert chosen == multi_seed_subset(reps, n, seed=0)
    sizes = Counter(stratum(a) for a in reps.values())
    taken = Counter(stratum(reps[k]) for k in chosen)
    for group, size in sizes.items():
        assert abs(taken[group] - min(n, len(reps)) * size / len(reps)) < 1, group


# --- verify: re-train and compare exactly -------------------------------------------------------
def test_compare_finds_the_first_differing_epoch(runs_bench, records):
    for row, rec in enumerate(records):
        assert _compare(runs_bench, row, rec)["match"], rec["status"]  # the diverged run (NaN) too
    changed = dict(records[0], valid_acc=[records[0]["valid_acc"][0], 0.123, records[0]["valid_acc"][2]])
    out = _compare(runs_bench, 0, changed)
    assert not out["match"] and out["valid_acc"]["first_difference_epoch"] == 2
    assert out["test_acc"]["first_difference_epoch"] is None
    shorter = dict(records[0], test_acc=records[0]["test_acc"][:2])
    assert _compare(runs_bench, 0, shorter)["test_acc"]["first_difference_epoch"] == 3
    diverged = records[4]
    assert diverged["status"] == "diverged"
    out = _compare(runs_bench, 3, diverged)  # another run's record: differs from epoch 1
    assert not out["match"] and out["valid_acc"]["first_difference_epoch"] == 1


def test_pack_runs_refuses_records_of_another_protocol(tiny_build, tmp_path):
    with pytest.raises(ValueError, match="ran \\[1\\] epochs but the protocol trains 8"):
        pack_runs(tiny_build[0], tmp_path / "t.npz")


def test_verify_retrains_and_matches_bit_for_bit(tiny_build, tmp_path, monkeypatch):
    folder = tmp_path / "one"
    folder.mkdir()
    shard = next(tiny_build[0].glob("runs-*.jsonl"))
    (folder / shard.name).write_text(shard.read_text().splitlines(keepends=True)[0])  # the process-pool run
    path, summary = pack_runs(folder, tmp_path / "one.npz", None, protocol=TINY)
    bench = naskit.load_benchmark(path)
    assert summary["runs"] == 1 and bench.meta["protocol"]["train"]["epochs"] == 1
    with pytest.raises(ValueError, match="built with protocol"):
        verify(bench, sample=1)  # verify re-trains with the default protocol only
    check_protocol(TabularBenchmark.from_runs(read_runs(folder), meta={"protocol": TINY.to_dict()}), TINY)
    monkeypatch.setitem(verify_module.PROTOCOLS, "v1", TINY)  # a table without a version is v1
    with pytest.raises(ValueError, match="--sample must be in 1..1"):
        verify(bench, sample=2)
    (result,) = verify(bench, sample=1)
    assert result["match"], result
    assert result["valid_acc"]["recorded"] == result["valid_acc"]["recomputed"] == bench.curves["valid_acc"][0, 0]


def test_pack_stores_nb201_counts_and_an_older_file_gets_them_at_load(tiny_build, tmp_path):
    from naskit.cost.nb201 import flops_nb201, params_nb201

    path, _ = pack_runs(tiny_build[0], tmp_path / "t.npz", protocol=TINY)
    with np.load(path) as z:
        assert {"flops_nb201", "params_nb201"} <= set(z.files)
    bench = naskit.load_benchmark(path)
    shape = bench.meta["dataset"]["input_shape"]
    expected = {"flops_nb201": [flops_nb201(a, TINY.network, shape) for a in bench.entry_names],
                "params_nb201": [params_nb201(a, TINY.network) for a in bench.entry_names]}
    frame = bench.to_frame()
    for name, values in expected.items():
        assert bench.class_costs(name).tolist() == values
        assert frame[name].tolist() == [values[e] for e in frame["entry"]]
    q = bench.query(bench.entry_names[0])
    assert (q.flops_nb201, q.params_nb201) == (expected["flops_nb201"][0], expected["params_nb201"][0])
    older = dataclasses.replace(bench, flops_nb201=None, params_nb201=None)  # as packed before the counts
    with np.load(pack(older, tmp_path / "old.npz")) as z:
        assert "flops_nb201" not in z.files
    reloaded = naskit.load_benchmark(tmp_path / "old.npz")
    assert reloaded.class_costs("flops_nb201").tolist() == expected["flops_nb201"]
    pd.testing.assert_frame_equal(reloaded.to_frame(), frame)


def test_a_table_without_a_recorded_network_has_no_nb201_counts_and_says_so(runs_bench, tmp_path):
    loaded = naskit.load_benchmark(pack(runs_bench, tmp_path / "table.npz"))  # meta: no protocol
    assert loaded.flops_nb201 is None and "flops_nb201" not in loaded.to_frame()
    assert loaded.query(loaded.entry_names[0]).flops_nb201 is None
    with pytest.raises(ValueError, match="has no params_nb201.*meta\\['protocol'\\]\\['network'\\]"):
        loaded.class_costs("params_nb201")
    with pytest.raises(ValueError, match="unknown cost 'flops'"):
        loaded.class_costs("flops")
    np.testing.assert_array_equal(loaded.class_costs("forward_flops"), runs_bench.forward_flops)


def test_verify_draws_only_rows_trained_here(records, monkeypatch):
    from naskit.bench.pack import origin_of
    from naskit.bench.verify import current_origin, eligible_rows

    recs = [dict(r, host="vm", torch="0.0-elsewhere") for r in records]
    recs[1]["host"], recs[1]["torch"] = current_origin().split("/torch-")
    origins = sorted({origin_of(r) for r in recs})
    meta = {"build": {"origins": origins, "run_origin": [origins.index(origin_of(r)) for r in recs]}}
    bench = TabularBenchmark.from_runs(recs, meta=meta)
    assert eligible_rows(bench).tolist() == [1]
    assert eligible_rows(bench, any_origin=True).tolist() == list(range(len(recs)))
    meta["build"]["origins"] = [o.replace(current_origin(), "elsewhere/torch-9") for o in origins]
    with pytest.raises(ValueError, match="no row of this table was trained here"):
        eligible_rows(TabularBenchmark.from_runs(recs, meta=meta))


def test_reverse_takes_the_plan_from_its_end_and_tags_name_the_shard(tmp_path):
    jobs = plan(TINY)
    assert pending_jobs(tmp_path, TINY, reverse=True) == jobs[::-1]
    assert pending_jobs(tmp_path, TINY, (1, 2), limit=2, reverse=True) == jobs[1::2][::-1][:2]
    with pytest.raises(ValueError, match="shard tag"):
        build(tmp_path, TINY, limit=1, progress=False, tag="a/b")
    with cf.ThreadPoolExecutor(1) as pool:
        assert run_jobs(tmp_path, "runs", [1, 2], lambda job: {"job": job}, executor=pool,
                        tag="box-2", progress=False) == 2
    assert [p.name for p in tmp_path.glob("runs-*")] == ["runs-box-2-0of1.jsonl"]


# --- datasheet: computed figures against scipy -----------------------------------------------------
def test_rank_correlation_by_epoch_matches_scipy(runs_bench, records):
    means = long_frame(records).groupby(["key", "epoch"])[["valid_acc", "test_acc"]].mean()
    keys = runs_bench.meta["keys"]
    final = np.array([means.loc[(k, E), "test_acc"] for k in keys])
    rows = rank_correlation_by_epoch(runs_bench)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    for r in rows:
        early = np.array([means.loc[(k, r["epoch"]), "valid_acc"] for k in keys])
        assert r["spearman"] == pytest.approx(stats.spearmanr(early, final).statistic)
        assert r["kendall"] == pytest.approx(stats.kendalltau(early, final).statistic)


def test_summarize_and_seed_study_match_references(runs_bench, records):
    s = summarize(runs_bench)
    final = long_frame(records).query("epoch == @E").groupby("key")["test_acc"].mean() * 100
    assert s["test_acc_best"] == pytest.approx(final.max()) and s["test_acc_worst"] == pytest.approx(final.min())
    assert s["test_acc_median"] == pytest.approx(final.median())
    assert s["best_arch"] == str(class_representatives(SPACE)[final.idxmax()])
    assert (s["runs"], s["classes_trained"], s["classes_with_all_seeds"]) == (len(records), 5, 3)
    assert (s["cells_queryable"], s["epochs"], s["seeds"]) == (len(runs_bench), E, [0, 1, 2])
    full = [r for r in records if seeds_of(r["key"]) == (0, 1, 2)]
    wide = pd.DataFrame([(r["key"], r["seed"], r["test_acc"][-1]) for r in full],
                        columns=["key", "seed", "acc"]).pivot(index="key", columns="seed", values="acc")
    study = seed_study(runs_bench)
    assert study["classes"] == 3
    assert study["mean_std_points"] == pytest.approx((wide.std(axis=1, ddof=1) * 100).mean())
    assert study["spearman_seed_a_vs_b"] == pytest.approx(stats.spearmanr(wide[0], wide[1]).statistic)
    assert study["kendall_seed_a_vs_b"] == pytest.approx(stats.kendalltau(wide[0], wide[1]).statistic)
    below = (wide.max(axis=1).to_numpy()[:, None] - wide.to_numpy()) * 100 > FAILED_RUN_POINTS
    assert (study["runs_with_every_seed"], study["failed_runs"]) == (9, below.sum())
    assert study["classes_with_a_failed_run"] == below.any(axis=1).sum()
    assert study["median_by_seed"] == {s: pytest.approx(100 * wide[s].median()) for s in (0, 1, 2)}
    assert study["seed_offset_p"] == pytest.approx(stats.friedmanchisquare(wide[0], wide[1], wide[2]).pvalue)


def test_the_datasheet_says_when_one_seed_suits_every_class():
    rng, reps = np.random.default_rng(6), class_representatives(SPACE)
    keys = list(reps)[::300][:20]
    records = [make_record(k, str(reps[k]), seed, rng, 10**5) for k in keys for seed in (0, 1, 2)]
    for r in records:  # classes from 90 to 96 %, seed 1 half a point worse on every class, plus noise
        r["test_acc"] = [0.90 + 0.003 * keys.index(r["key"]) - 0.005 * (r["seed"] == 1) + rng.normal(0, 0.001)] * E
    study = seed_study(TabularBenchmark.from_runs(records))
    assert study["median_by_seed"][1] < min(study["median_by_seed"][0], study["median_by_seed"][2])
    assert study["seed_offset_p"] < 1e-4
    text = render(TabularBenchmark.from_runs(records))
    assert f"seed 1 {study['median_by_seed'][1]:.2f} %" in text and "Friedman test" in text
    assert f"p = {study['seed_offset_p']:.1e}" in text


def test_the_datasheet_counts_runs_that_failed_to_train():
    rng, reps = np.random.default_rng(4), class_representatives(SPACE)
    keys = list(reps)[::700][:6]
    records = [make_record(k, str(reps[k]), seed, rng, 10**5) for k in keys for seed in (0, 1, 2)]
    for r in records:  # classes from 90 to 95 %, seeds within a point, one stalled run at 50 %
        good = 0.90 + 0.01 * keys.index(r["key"]) + 0.003 * r["seed"]
        r["test_acc"] = [0.5 if (r["key"], r["seed"]) == (keys[2], 1) else good] * E
    bench = TabularBenchmark.from_runs(records)
    study = seed_study(bench)
    assert (study["failed_runs"], study["classes_with_a_failed_run"], study["runs_with_every_seed"]) == (1, 1, 18)
    assert "Failed trainings: 1 of these 18 runs (5.6 %, in 1 class)" in render(bench)


def test_render_contains_the_headline_numbers(runs_bench):
    s, text = summarize(runs_bench), render(runs_bench)
    assert f"best {s['test_acc_best']:.2f} %" in text and f"worst {s['test_acc_worst']:.2f} %" in text
    assert f"`{s['best_arch']}`" in text and f"{s['classes_trained']:,} of 6,466" in text
    assert "| Spearman ρ | " + " | ".join(f"{r['spearman']:.3f}" for r in s["rank_by_epoch"]) in text
    assert f"Kendall τ {s['seed_study']['kendall_seed_a_vs_b']:.3f}" in text


def test_a_v2_datasheet_measures_the_targets_and_says_which_top_quarter_ratio_they_mean():
    rng, reps = np.random.default_rng(2), class_representatives(SPACE)
    keys = list(reps)[::500][:12]  # 12 classes, every one with seeds 0, 1 and 2 (a seed pair needs 8)
    records = [make_record(k, str(reps[k]), seed, rng, 10**5) for k in keys for seed in (0, 1, 2)]
    bench = TabularBenchmark.from_runs(records, meta={"version": "v2"})
    s, text = summarize(bench), render(bench)
    pairs = s["seed_pairs"]
    assert len(pairs) == 3
    rho = float(np.mean([p["spearman_all"] for p in pairs]))
    assert f"| spearman_all | ≥ 0.8 | {rho:.3f} | {'yes' if rho >= 0.8 else 'no'} |" in text
    ratio = s["seed_study"]["top_quartile_ratio"]
    assert f"| ratio_top_quarter | ≥ 2.0 | {ratio:.3f} | {'yes' if ratio >= 2 else 'no'} |" in text
    assert "the one the target was set in" in text and "are not comparable" in text
    bench.meta["version"] = "v1"
    assert "the one the target was set in" not in render(bench)


def test_the_datasheet_lists_the_generator_knobs_in_one_order_whatever_the_meta_was_saved_with():
    from naskit.bench.protocol import PROTOCOLS

    rng, reps = np.random.default_rng(2), class_representatives(SPACE)
    keys = list(reps)[::500][:12]
    records = [make_record(k, str(reps[k]), seed, rng, 10**5) for k in keys for seed in (0, 1, 2)]
    protocol = PROTOCOLS["v2"].to_dict()
    saved = json.loads(json.dumps(protocol, sort_keys=True))  # a packed file's meta comes back with sorted keys
    assert list(saved["dataset"]) != list(protocol["dataset"])
    sizes = {"n_train": 8000, "n_valid": 10000, "n_test": 10000, "sha256": "0" * 64}
    texts = [render(TabularBenchmark.from_runs(records, meta={"version": "v2", "protocol": p, "dataset": sizes}))
             for p in (protocol, saved)]
    lines = [next(line for line in text.splitlines() if line.startswith("- Data:")) for text in texts]
    assert lines[0] == lines[1] and "(corr_noise_scale 0.25, iid_noise_scale 0.02, shear_scale 0.75" in lines[0]


def test_reliability_is_one_row_of_the_seed_study_and_refuses_a_single_seed_table():
    rng, reps = np.random.default_rng(4), class_representatives(SPACE)
    keys = list(reps)[::500][:12]
    records = [make_record(k, str(reps[k]), seed, rng, 10**5) for k in keys for seed in (0, 1, 2)]
    bench = TabularBenchmark.from_runs(records, meta={"dataset": {"n_test": 1000}})
    row, pairs, study = reliability(bench), seed_pairs(bench), seed_study(bench)
    assert row["classes with every seed"] == 12 and row["test examples"] == 1000
    assert row["ρ seed vs seed, all"] == pytest.approx(np.mean([p["spearman_all"] for p in pairs]))
    assert row["top quarter: class std / seed std"] == study["top_quartile_ratio"]
    assert row["failed runs (%)"] == 100 * study["failed_runs"] / 36
    with pytest.raises(ValueError, match="several seeds"):
        reliability(TabularBenchmark.from_runs([r for r in records if r["seed"] == 0], meta={"dataset": {"n_test": 1}}))


def test_packing_a_partial_build_says_the_table_is_partial(records, tmp_path, capsys, monkeypatch):
    from naskit.bench.protocol import PROTOCOLS
    from naskit.cli.app import main

    v1 = PROTOCOLS["v1"]  # the fixture's records ran E epochs
    monkeypatch.setitem(PROTOCOLS, "v1", dataclasses.replace(v1, train=dataclasses.replace(v1.train, epochs=E)))
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "runs-test-0of1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    argv = ["bench", "pack", "--version", "v1", "--folder", str(folder), "--out", str(tmp_path / "t.npz"),
            "--datasheet", str(tmp_path / "t.md")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"the table is partial: {len(RUN_ARCHS)} of 6,466 classes are trained" in out
    assert "`naskit bench build --version v1` resumes the build" in out


def test_landscape_op_effects_equal_a_direct_groupby():
    import pandas as pd

    from naskit.bench.landscape import cell_frame, op_effects, top_cells

    space = NB201Space()
    rng = np.random.default_rng(5)
    archs = [space.sample(rng) for _ in range(300)]
    df = pd.DataFrame({"arch": list(dict.fromkeys(str(a) for a in archs))})
    df["valid_acc"] = 0.01 + 0.99 * rng.random(len(df))  # fractions, so test_acc = valid - 0.01 stays in [0, 1]
    df["test_acc"] = df["valid_acc"] - 0.01
    bench = TabularBenchmark.from_table(df)
    table = op_effects(bench)
    frame = cell_frame(bench)
    for e in range(6):
        expected = frame.groupby(f"edge_{e}")["test_acc"].mean()
        for op, value in expected.items():
            assert table.iloc[e][op] == pytest.approx(value)
    top = top_cells(bench, k=5)
    assert list(top["valid_acc"]) == sorted(df["valid_acc"], reverse=True)[:5]


# --- a protocol that trains every class with every seed, stacked (benchmark v2's kind) -------------
TINY_STACKED = BenchProtocol(dataset=MNIST1DArgs(n_train=100, n_valid=100, n_test=100),
                             network=NetworkConfig(channels=2), train=TrainConfig(epochs=1, threads=1,
                                                                                  test_epochs="last_epoch"),
                             seeds=(0, 1, 2), multi_seed_classes=None, stack_seeds=True)


def test_stacked_plan_trains_each_class_once_with_all_its_seeds():
    jobs = plan(TINY_STACKED)
    assert len(jobs) == 6466 and {j.seeds for j in jobs} == {(0, 1, 2)}
    assert len({j.key for j in jobs}) == 6466
    assert BenchProtocol.from_dict(json.loads(json.dumps(TINY_STACKED.to_dict()))) == TINY_STACKED


def test_stacked_build_writes_a_record_per_seed_resumes_and_verifies(tmp_path, monkeypatch):
    import naskit.bench.verify as verify_module

    folder = tmp_path / "runs"
    assert build(folder, TINY_STACKED, workers=1, limit=2, progress=False) == 2
    assert len(pending_jobs(folder, TINY_STACKED)) == 6466 - 2
    runs = read_runs(folder)
    assert len(runs) == 6 and sorted(r["seed"] for r in runs) == [0, 0, 1, 1, 2, 2]
    assert all(r["trained_with"] == [0, 1, 2] and r["test_acc"][-1] == r["test_acc"][-1] for r in runs)
    path, summary = pack_runs(folder, tmp_path / "t.npz", tmp_path / "t.md", protocol=TINY_STACKED, version="v9")
    bench = naskit.load_benchmark(path)
    assert bench.meta["version"] == "v9" and summary["classes_with_all_seeds"] == 2
    monkeypatch.setitem(verify_module.PROTOCOLS, "v9", TINY_STACKED)
    rows = verify(bench, sample=2, seed=1)
    assert all(r["match"] for r in rows), rows
    # a class the table lacks is trained as the build would train it: the value the table gets
    missing = pending_jobs(folder, TINY_STACKED, limit=1)[0]
    trained, source = lookup_or_train(bench, missing.arch, protocol=TINY_STACKED)
    assert source == "trained"
    assert build(folder, TINY_STACKED, workers=1, limit=1, progress=False) == 1
    fuller = naskit.load_benchmark(pack_runs(folder, tmp_path / "t2.npz", protocol=TINY_STACKED, version="v9")[0])
    assert fuller.query(missing.arch).test_acc == trained


# --- one training run per query, drawn reproducibly; the truth is the mean over seeds ----------------
def test_drawn_seed_is_reproducible_covers_the_seeds_and_varies_by_cell_and_draw(runs_bench, members):
    key = SPACE.canonical(parse(RUN_ARCHS["D"][0]))
    cells = members[key]
    assert runs_bench.seeds_of(cells[0]) == [0, 1, 2]
    draws = [[runs_bench.drawn_seed(c, d) for c in cells] for d in range(40)]
    assert draws == [[runs_bench.drawn_seed(c, d) for c in cells] for d in range(40)]  # a pure function
    seen = {s for row in draws for s in row}
    assert seen == {0, 1, 2}
    assert len({tuple(row) for row in draws}) > 1 and len({row[0] for row in draws}) > 1
    single = SPACE.canonical(parse(next(a for a, seeds in RUN_ARCHS.values() if seeds == (0,))))
    assert {runs_bench.drawn_seed(members[single][0], d) for d in range(20)} == {runs_bench.seeds_of(
        members[single][0])[0]}


def test_class_values_are_the_mean_or_one_seed_per_class(runs_bench):
    mean = runs_bench.class_values("test_acc")
    for i, name in enumerate(runs_bench.entry_names):
        assert mean[i] == pytest.approx(runs_bench.query(name).test_acc, nan_ok=True)
    one = runs_bench.class_values("valid_acc", epoch=2, seed=1)
    for i, name in enumerate(runs_bench.entry_names):
        if 1 in runs_bench.seeds_of(name):
            assert one[i] == runs_bench.query(name, epoch=2, seed=1).valid_acc
        else:
            assert np.isnan(one[i])
    with pytest.raises(ValueError, match="unknown curve"):
        runs_bench.class_values("accuracy")


def test_tabular_evaluator_reads_one_drawn_run_and_experiments_judge_by_the_mean(runs_bench):
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.runs.budget import Budget
    from naskit.runs.experiment import experiment

    arch = RUN_ARCHS["E"][0]
    for draw in range(6):
        ev = TabularEvaluator(runs_bench).for_run(draw)
        seed = runs_bench.drawn_seed(arch, draw)
        assert ev.evaluate(arch).valid_acc == runs_bench.query(arch, seed=seed).valid_acc
    assert TabularEvaluator(runs_bench, signal="mean").evaluate(arch).valid_acc == runs_bench.query(arch).valid_acc
    with pytest.raises(ValueError, match="unknown signal"):
        TabularEvaluator(runs_bench, signal="median")
    df = experiment(["random"], TabularEvaluator(runs_bench), seeds=range(4), budget=Budget(evaluations=3),
                    progress=False)
    for arch_text, final in zip(df["incumbent"], df["final_test_of_best"]):
        if arch_text is None:
            continue
        assert final == pytest.approx(runs_bench.query(arch_text).test_acc)  # the truth: mean over seeds


def test_verify_refuses_a_table_built_on_another_cpu_before_training(monkeypatch, tiny_build):
    import naskit.bench.verify as verify_module
    import naskit.runtime.manifest as manifest_module

    monkeypatch.setitem(verify_module.PROTOCOLS, "v1", TINY)
    folder = tiny_build[0]
    bench = TabularBenchmark.from_runs(read_runs(folder), meta={
        "protocol": TINY.to_dict(), "manifest": {"platform": {"cpu_model": "Some Other CPU 9000"}},
        "build": {"origins": ["x/torch-y"], "run_origin": [0] * len(read_runs(folder))}})
    monkeypatch.setattr(manifest_module, "cpu_model", lambda: "This CPU")
    with pytest.raises(ValueError, match="built on Some Other CPU 9000 and this machine is This CPU"):
        verify(bench, sample=1)


def test_the_planned_runs_count_every_seed_of_a_stacked_job(records):
    from naskit.bench.pack import build_meta
    from naskit.bench.protocol import PROTOCOLS

    # v1: every class once, plus two more seeds for 1,200 classes; v2: three stacked seeds per job
    assert build_meta(records, PROTOCOLS["v1"])["build"]["planned_runs"] == 6466 + 2 * 1200
    v2 = PROTOCOLS["v2"]
    assert len(plan(v2)) == 6466 and build_meta(records, v2)["build"]["planned_runs"] == 3 * 6466


def test_the_v2_datasheet_names_the_pilot_candidate_it_chose_and_the_cost_trade_off():
    from naskit.bench.pilot import candidate_of, pilot_stats, read_pilot
    from naskit.bench.protocol import PROTOCOLS
    from naskit.bench.store import DATA_DIR

    records = read_pilot(DATA_DIR / "pilot_v2")
    assert candidate_of(records, PROTOCOLS["v2"]) == "w4c3-8k-e8" and candidate_of(records, PROTOCOLS["v1"]) is None
    rng, reps = np.random.default_rng(3), class_representatives(SPACE)
    keys = list(reps)[::500][:12]
    runs = [make_record(k, str(reps[k]), seed, rng, 10**5) for k in keys for seed in (0, 1, 2)]
    meta = {"version": "v2", "protocol": json.loads(json.dumps(PROTOCOLS["v2"].to_dict())),
            "dataset": naskit.load_dataset(PROTOCOLS["v2"].dataset).summary(), "build": {"cpu_seconds_per_run": 7.0}}
    text = render(TabularBenchmark.from_runs(runs, meta=meta))
    stats = pilot_stats(records)
    hours = stats["cpu_s_per_run"] * 3 * 6466 / 3600
    assert f"| {hours['w4c3-8k-e8']:.1f} |" in text
    assert (f"**Chosen: `w4c3-8k-e8`**, the protocol of this table. At its pilot rate the whole build was projected "
            f"at {hours['w4c3-8k-e8']:.1f} core-hours, against a budget of 30; the build measured 7.00 CPU-s per run, "
            f"{7 * 3 * 6466 / 3600:.1f} core-hours for all 19,398 runs.") in text
    within = stats[hours <= 30]
    best = within["spearman_top_half"].astype(float).idxmax()
    assert f"among those within the budget is `{best}`" in text
