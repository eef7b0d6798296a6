"""The shipped table: intact, complete where it claims to be, and reproducible bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import naskit
from naskit.bench.protocol import PROTOCOLS, BenchProtocol
from naskit.bench.store import DEFAULT_PATH
from naskit.runtime.manifest import manifest

pytestmark = pytest.mark.skipif(not DEFAULT_PATH.exists(), reason="no shipped table in data/")


@pytest.fixture(scope="module")
def bench():
    return naskit.load_benchmark()


def test_checksum_verified_and_protocol_is_the_current_one(bench):
    assert BenchProtocol.from_dict(bench.meta["protocol"]) == PROTOCOLS[bench.meta.get("version", "v1")]
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
    acc = bench.curves["valid_acc"][np.isfinite(bench.curves["valid_acc"])]
    assert np.allclose(acc * 1000, np.round(acc * 1000))
    assert acc.min() >= 0 and acc.max() <= 1


@pytest.mark.skipif(
    manifest()["platform"]["cpu_model"] != naskit.load_benchmark().meta["manifest"]["platform"]["cpu_model"]
    if DEFAULT_PATH.exists() else True,
    reason="bit-exact re-training is only promised on the CPU model that built the table",
)
def test_one_random_row_retrains_bit_for_bit(bench):
    from naskit.bench.verify import verify

    (row,) = verify(bench, sample=1, seed=0)
    assert row["match"], row
