"""The whole-space proxy computation: resumable records aligned with the table."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

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
