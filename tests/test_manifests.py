"""diff_manifests finds what changed between two environments."""

from __future__ import annotations

import copy

import pytest

import naskit
from naskit.repro.diff import diff_manifests, format_diff


def test_a_changed_thread_count_and_seed_are_found():
    a = naskit.manifest(seeds={"train": 0}, dataset=naskit.load_dataset("digits"))
    b = copy.deepcopy(a)
    b["torch"]["num_threads"] = a["torch"]["num_threads"] + 3
    b["seeds"]["train"] = 1
    b["timestamp_utc"] = "another time"
    rows = diff_manifests(a, b)
    assert [r["field"] for r in rows] == ["seeds.train", "torch.num_threads"]
    assert rows[1]["a"] + 3 == rows[1]["b"] and "thread" in rows[1]["meaning"]
    assert any(r["field"] == "timestamp_utc" for r in diff_manifests(a, b, include_volatile=True))
    table = format_diff(rows)
    assert "`torch.num_threads`" in table and "`seeds.train`" in table


def test_identical_manifests_and_missing_fields():
    a = naskit.manifest(seeds={"train": 0})
    assert diff_manifests(a, copy.deepcopy(a)) == []
    assert format_diff([]).startswith("The two manifests agree")
    b = copy.deepcopy(a)
    del b["seeds"]["train"]
    (row,) = diff_manifests(a, b)
    assert row == {"field": "seeds.train", "a": 0, "b": None, "meaning": row["meaning"]}
    with pytest.raises(ValueError, match="two manifest dicts"):
        diff_manifests(a, "not a manifest")
