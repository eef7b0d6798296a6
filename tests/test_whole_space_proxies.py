"""The whole-space proxy computation: resumable records aligned with the table."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from naskit.bench.table import TabularBenchmark
from naskit.estimate.whole_space import compute_space, load_space_proxies, pending, space_scores


def test_compute_resume_and_align(tmp_path):
    with ThreadPoolExecutor(1) as pool:
        assert compute_space(tmp_path, limit=2, executor=pool, progress=False) == 2
        assert compute_space(tmp_path, limit=1, executor=pool, progress=False) == 1
    assert len(pending(tmp_path)) == 6466 - 3
    frame = load_space_proxies(tmp_path)
    assert len(frame) == 3 and {"synflow", "naswot", "params", "synflow_seconds"} <= set(frame.columns)
    lines = [json.loads(line) for path in tmp_path.glob("proxies-*.jsonl") for line in path.read_text().splitlines()]
    assert len({(r["key"], r["seed"]) for r in lines}) == len(lines) == 3

    # a table holding two of the three scored classes plus one unscored class
    keys = list(frame.index[:2]) + ["not scored"]
    bench = TabularBenchmark.from_table(pd.DataFrame({"arch": list(frame["arch"][:2]) + [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"],
        "valid_acc": [0.1, 0.2, 0.3], "test_acc": [0.1, 0.2, 0.3]}))
    bench.meta["keys"] = keys
    scores = space_scores(bench, frame, "params")
    assert list(scores[:2]) == list(frame["params"][:2]) and np.isnan(scores[2])


def test_a_shipped_version_names_the_proxy_records_scored_with_its_network():
    from naskit.bench.store import DEFAULT_VERSION
    from naskit.estimate.whole_space import proxies_folder

    v1, v2 = load_space_proxies("v1"), load_space_proxies("v2")
    assert v1.equals(load_space_proxies(proxies_folder("v1")))
    assert load_space_proxies().equals(load_space_proxies(DEFAULT_VERSION))
    assert len(v1) == len(v2) == 6466
    # v2's network is narrower and deeper (4 channels, 3 cells per stage): other parameter counts
    assert not np.allclose(v1["params"].sort_index(), v2["params"].sort_index())


def test_a_table_knows_its_version_and_protocol_and_a_user_table_neither():
    import naskit
    from naskit.bench.protocol import PROTOCOLS

    shipped = naskit.load_benchmark("v1")
    assert shipped.version == "v1" and shipped.protocol == PROTOCOLS["v1"]
    frame = pd.DataFrame({"arch": ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"],
                          "valid_acc": [0.5], "test_acc": [0.5]})
    user = TabularBenchmark.from_table(frame)
    assert user.version is None and user.protocol is None
    recorded = json.loads(json.dumps(PROTOCOLS["v2"].to_dict()))  # as a packed table's meta holds it
    packed = dataclasses.replace(user, meta={"version": "v2", "protocol": recorded})
    assert packed.version == "v2" and packed.protocol == PROTOCOLS["v2"]


def test_sampled_proxies_score_cells_with_the_network_the_table_records():
    import naskit
    from naskit.bench.protocol import BenchProtocol
    from naskit.core.configs import NetworkConfig
    from naskit.estimate.proxies import compute_proxies
    from naskit.estimate.whole_space import sample_proxies

    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    narrow = BenchProtocol(network=NetworkConfig(channels=4))
    frame = pd.DataFrame({"arch": [arch], "valid_acc": [0.5], "test_acc": [0.5]})
    bench = dataclasses.replace(TabularBenchmark.from_table(frame),
                                meta={"protocol": json.loads(json.dumps(narrow.to_dict())), "keys": [arch]})
    sampled = sample_proxies(bench, 1)
    data = naskit.load_dataset("mnist1d")
    expected = compute_proxies(arch, data, names=["params", "synflow"], seed=0, network=narrow.network)
    wide = compute_proxies(arch, data, names=["params"], seed=0)
    assert sampled.loc[arch, "params"] == expected["params"] != wide["params"]
    assert sampled.loc[arch, "synflow"] == pytest.approx(expected["synflow"], rel=1e-6)
