"""The shipped tables: intact, complete where they claim to be, and reproducible bit for bit.

Each test runs on every version in data/ (v1, and v2 once it is packed)."""

from __future__ import annotations

import numpy as np
import pytest

import naskit
from naskit.bench.protocol import PROTOCOLS
from naskit.bench.store import VERSIONS, benchmark_path
from naskit.runtime.manifest import manifest

SHIPPED = [v for v in VERSIONS if benchmark_path(v).exists()]
pytestmark = pytest.mark.skipif(not SHIPPED, reason="no shipped table in data/")


@pytest.fixture(scope="module", params=SHIPPED)
def bench(request):
    return naskit.load_benchmark(request.param)


def test_checksum_verified_and_protocol_is_the_current_one(bench):
    assert bench.protocol == PROTOCOLS[bench.version]
    # the table was trained on the data this naskit generates for its protocol (v1: the published MNIST-1D)
    assert bench.meta["dataset"]["sha256"] == naskit.load_dataset(bench.protocol.dataset).sha256
    if bench.version == "v1":
        assert bench.meta["dataset"]["sha256"] == naskit.data.MNIST1D_SHA256


def test_every_member_of_a_trained_class_is_queryable_with_its_class_values(bench):
    space = naskit.NB201Space()
    keys = bench.meta["keys"]
    trained = set(keys)
    for arch in space:
        key = space.canonical(arch)
        assert (arch in bench) == (key in trained)
    for i in np.random.default_rng(0).choice(len(keys), size=min(20, len(keys)), replace=False):
        rep = space.parse(bench.entry_names[i])
        assert space.canonical(rep) == keys[i]
        assert bench.query(rep).valid_acc == bench.curve(rep)[-1]


def test_accuracies_are_fractions_of_the_split_sizes(bench):
    for split in ("valid", "test"):
        n = bench.meta["dataset"][f"n_{split}"]
        acc = bench.curves[f"{split}_acc"][np.isfinite(bench.curves[f"{split}_acc"])]
        assert len(acc) and np.allclose(acc * n, np.round(acc * n), rtol=0, atol=1e-3)
        assert acc.min() >= 0 and acc.max() <= 1


def test_one_random_row_retrains_bit_for_bit(bench):
    from naskit.bench.verify import verify

    if manifest()["platform"]["cpu_model"] != bench.meta["manifest"]["platform"]["cpu_model"]:
        pytest.skip("bit-exact re-training is only promised on the CPU model that built the table")
    (row,) = verify(bench, sample=1, seed=0)
    assert row["match"], row


def test_the_shipped_datasheet_is_what_pack_writes_for_the_shipped_table(bench):
    """``naskit bench pack`` writes the datasheet with the table; a datasheet left behind by a
    change to ``render`` would describe the table with yesterday's figures."""
    from naskit.bench.datasheet import render
    from naskit.bench.latency import read_latencies
    from naskit.bench.store import DATA_DIR, LATENCY_DIRS
    from naskit.cli.bench import datasheet_path

    latency = read_latencies(DATA_DIR / LATENCY_DIRS[bench.version])
    assert datasheet_path(bench.version).read_text() == render(bench, latency), \
        f"re-write it: naskit bench pack --version {bench.version}, or render() of the shipped table"

