"""Measured inference latency: medians and spreads, shuffled rounds, resumable records."""

import json
import math

import pytest

from naskit.bench.latency import (
    half_agreement,
    latency_table,
    measure_classes,
    measure_network,
    read_latencies,
    round_agreement,
)
from naskit.core.configs import NetworkConfig

TINY = NetworkConfig(channels=2)
CELLS = {
    "a": "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
    "b": "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
    "c": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
}


def test_a_measurement_is_a_median_and_an_interquartile_range_per_batch_size():
    m = measure_network(CELLS["c"], TINY, (1, 40), batch_sizes=(1, 4), repeats=5, warmup=1)
    assert set(m) == {"latency_ms_b1", "latency_iqr_ms_b1", "latency_ms_b4", "latency_iqr_ms_b4"}
    assert all(v >= 0 for v in m.values()) and m["latency_ms_b1"] > 0
    with pytest.raises(ValueError, match="repeats"):
        measure_network(CELLS["a"], TINY, (1, 40), repeats=0)


def test_rounds_are_shuffled_recorded_as_they_go_and_resumed(tmp_path, monkeypatch):
    import naskit.bench.latency as latency

    order = []
    monkeypatch.setattr(latency, "measure_network",
                        lambda arch, *a, **k: order.append(arch) or {"latency_ms_b1": float(len(arch))})
    many = {f"k{i}": CELLS["a"] + " " * i for i in range(8)}  # distinguishable stand-ins, never built
    assert measure_classes(tmp_path, many, TINY, (1, 40), rounds=2, seed=3, progress=False) == 16
    first, second = order[:8], order[8:]
    assert sorted(first) == sorted(second) and first != second  # every class once per round, reordered
    records = read_latencies(tmp_path)
    assert len(records) == 16 and {r["round"] for r in records} == {0, 1}
    assert {"cpu_model", "torch", "threads", "repeats"} <= set(records[0])
    assert measure_classes(tmp_path, many, TINY, (1, 40), rounds=2, seed=3, progress=False) == 0  # resumed
    # an interrupted measurement continues with what is missing
    path = next(tmp_path.glob("latency-*.jsonl"))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5]))
    assert measure_classes(tmp_path, many, TINY, (1, 40), rounds=2, seed=3, progress=False) == 11
    assert len(read_latencies(tmp_path)) == 16


def test_the_table_takes_the_fastest_round_and_rounds_agree_by_rank():
    records = [{"key": k, "round": r, "latency_ms_b1": v + r * 0.1} for r in (0, 1, 2)
               for k, v in (("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0))]
    table = latency_table(records)
    assert table["b"]["latency_ms_b1"] == pytest.approx(2.0)  # the fastest round
    assert latency_table(records, "median")["b"]["latency_ms_b1"] == pytest.approx(2.1)
    assert round_agreement(records) == pytest.approx(1.0)
    swapped = [dict(r, latency_ms_b1=5 - r["latency_ms_b1"]) if r["round"] == 1 else r for r in records]
    assert round_agreement(swapped) == pytest.approx(-1.0)
    assert json.dumps(table)  # plain values


def test_half_agreement_ranks_the_median_of_the_even_rounds_against_the_odd_rounds():
    # four classes, four rounds; class "d" is slowest in the even rounds' median, fastest in the odd ones'
    values = {"a": (1, 1, 1, 1), "b": (2, 2, 2, 2), "c": (3, 9, 3, 9), "d": (9, 0.5, 8, 0.5)}
    records = [{"key": k, "round": r, "latency_ms_b1": v[r]} for k, v in values.items() for r in range(4)]
    even = [1, 2, 3, 8.5]  # median of rounds 0 and 2 per class
    odd = [1, 2, 9, 0.5]   # median of rounds 1 and 3
    from scipy import stats

    assert half_agreement(records, over_rounds="median") == pytest.approx(stats.spearmanr(even, odd).statistic)
    fastest_even, fastest_odd = [1, 2, 3, 8], [1, 2, 9, 0.5]  # the lower of rounds 0 and 2, of 1 and 3
    assert half_agreement(records) == pytest.approx(stats.spearmanr(fastest_even, fastest_odd).statistic)
    assert math.isnan(half_agreement([r for r in records if r["round"] == 0]))  # one round: no halves
