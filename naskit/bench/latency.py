"""The cost of the network you find: measured inference latency of every class, on this machine.

FLOPs count arithmetic; a CPU's latency also pays for memory traffic and per-call overhead, so
two cells with the same FLOPs can run at different speeds (HW-NAS-Bench, Li et al. 2021, found
FLOPs a poor proxy for latency on several devices). Here each class's network (the benchmark's
own, built with seed 0) runs forward in eval mode under ``torch.inference_mode`` on one thread:
at batch 1 (one request) and at batch 256 (throughput), ``repeats`` timed passes after
``warmup`` untimed ones; the median is the latency, the interquartile range its spread.

Machines drift (frequency scaling, other processes), so the classes are measured in a shuffled
order, over several ``rounds``, each round in a new order: drift then spreads over all classes
instead of lining up with a group of them, and two rounds give the repeatability of the ranking.
A class's shipped figure is its fastest round (``latency_table``): interference from other
processes (or other guests of a virtual machine) only ever slows a pass down, in bursts that can
cover a whole measurement, so the lowest of the rounds' medians is the one least touched by it.
On this project's machine, over 6,466 classes and 4 rounds, the minimum of two rounds ranked the
classes like the minimum of the two others with Spearman ρ 0.86 at batch 1, where their median
(a mean of two) reached 0.49 (``data/latency_nb201_mnist1d_v1/README.md``).
Every measurement is appended to a JSON-lines file as it is made, so an interrupted measurement
resumes where it stopped.

Example:
    >>> from naskit.core.configs import NetworkConfig
    >>> m = measure_network("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
    ...                     NetworkConfig(channels=4), (1, 40), batch_sizes=(1, 8), repeats=3, warmup=1)
    >>> sorted(m)
    ['latency_iqr_ms_b1', 'latency_iqr_ms_b8', 'latency_ms_b1', 'latency_ms_b8']
"""

from __future__ import annotations

import json
import os
import platform
import random
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from naskit.core.checks import check_whole
from naskit.core.configs import NetworkConfig

BATCH_SIZES = (1, 256)  # one request, and throughput
PREFIX = "latency"


def measure_network(arch, network: NetworkConfig, input_shape: Sequence[int], batch_sizes=BATCH_SIZES,
                    repeats: int = 20, warmup: int = 3, threads: int = 1) -> dict[str, float]:
    """Median forward time (ms) and its interquartile range of one cell's network, per batch size.

    Returns ``{"latency_ms_b1": ..., "latency_iqr_ms_b1": ..., ...}`` for each batch size.
    """
    import torch

    from naskit.nn.network import build_model
    from naskit.runtime.threads import threads_set

    check_whole("repeats", repeats, 1)
    check_whole("warmup", warmup, 0)
    out = {}
    with threads_set(threads), torch.inference_mode():
        model = build_model(arch, network, seed=0).eval()
        for b in batch_sizes:
            x = torch.randn(b, *input_shape, generator=torch.Generator().manual_seed(b))
            for _ in range(warmup):
                model(x)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - start)
            q25, q50, q75 = np.percentile(np.asarray(times) * 1e3, [25, 50, 75])
            out[f"latency_ms_b{b}"] = float(q50)
            out[f"latency_iqr_ms_b{b}"] = float(q75 - q25)
    return out


def machine() -> dict:
    """Where latencies were measured: the CPU model, core count, torch version, host."""
    import torch

    from naskit.runtime.manifest import cpu_model

    return {"cpu_model": cpu_model(), "logical_cores": os.cpu_count(), "torch": torch.__version__,
            "host": platform.node()}


def read_latencies(folder: str | Path) -> list[dict]:
    """Every complete measurement record in ``folder``, the first of each (key, round)."""
    from naskit.bench.shards import read_records

    return read_records(folder, PREFIX, ("key", "round"))


def measure_classes(folder: str | Path, classes: dict[str, str], network: NetworkConfig, input_shape,
                    rounds: int = 2, seed: int = 0, repeats: int = 20, warmup: int = 3, threads: int = 1,
                    progress: bool = True, tag: str | None = None) -> int:
    """Measure every class (key -> representative cell) ``rounds`` times, each round in a new
    shuffled order, appending one record per (class, round) to ``folder``; returns how many were
    measured now (those already in ``folder`` are skipped: the measurement resumes).

    Runs in this process, one measurement at a time: latency is only comparable when nothing
    else competes for the core.
    """
    from tqdm.auto import tqdm

    check_whole("rounds", rounds, 1)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    done = {(r["key"], r["round"]) for r in read_latencies(folder)}
    where = machine()
    out = folder / f"{PREFIX}-{tag or platform.node() or 'host'}.jsonl"
    rng = random.Random(seed)
    todo = []
    for r in range(rounds):
        order = sorted(classes)
        rng.shuffle(order)  # a new order each round, drawn whether or not the round is done
        todo += [(k, r) for k in order if (k, r) not in done]
    written = 0
    with open(out, "a", encoding="utf-8") as f:
        for key, r in tqdm(todo, desc="latency", unit="net", disable=not progress):
            start = time.perf_counter()
            figures = measure_network(classes[key], network, input_shape, repeats=repeats, warmup=warmup,
                                      threads=threads)
            record = {"key": key, "arch": classes[key], "round": r, **figures,
                      "seconds": time.perf_counter() - start,  # the measurement's cost, network built included
                      "threads": threads, "repeats": repeats, "warmup": warmup, **where}
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
            f.flush()
            written += 1
    return written


OVER_ROUNDS = {"min": np.min, "median": np.median}  # how a class's rounds make one figure


def half_agreement(records: list[dict], figure: str = "latency_ms_b1", over_rounds: str = "min") -> float:
    """Spearman ρ between the figure of the even rounds and that of the odd rounds (each the
    ``over_rounds`` aggregate, as ``latency_table`` makes the shipped one), over the classes
    measured in both halves: how repeatable the shipped figure is, for half as many rounds. NaN
    with fewer than two rounds."""
    from scipy import stats

    aggregate = OVER_ROUNDS[over_rounds]
    halves: list[dict[str, list[float]]] = [{}, {}]
    for r in records:
        halves[r["round"] % 2].setdefault(r["key"], []).append(r[figure])
    both = sorted(set(halves[0]) & set(halves[1]))
    if len(both) < 3:
        return float("nan")
    even, odd = ([float(aggregate(h[k])) for k in both] for h in halves)
    return float(stats.spearmanr(even, odd).statistic)


def latency_table(records: list[dict], over_rounds: str = "min") -> dict[str, dict[str, float]]:
    """Per class key, per batch size: the latency (ms) of its fastest round (``over_rounds="min"``,
    the shipped figure) with that round's interquartile range, or the median over rounds of each
    (``"median"``)."""
    if over_rounds not in OVER_ROUNDS:
        raise ValueError(f"over_rounds must be one of {', '.join(OVER_ROUNDS)}, got {over_rounds!r}")
    by_key: dict[str, list[dict]] = {}
    for r in records:
        by_key.setdefault(r["key"], []).append(r)
    medians = [k for k in records[0] if k.startswith("latency_ms_")] if records else []
    out = {}
    for key, rs in by_key.items():
        out[key] = {}
        for name in medians:
            spread = name.replace("latency_ms_", "latency_iqr_ms_")
            if over_rounds == "min":
                fastest = min(rs, key=lambda r: r[name])
                out[key][name] = float(fastest[name])
                if spread in fastest:
                    out[key][spread] = float(fastest[spread])
            else:
                out[key][name] = float(np.median([r[name] for r in rs]))
                if spread in rs[0]:
                    out[key][spread] = float(np.median([r[spread] for r in rs]))
    return out


def round_agreement(records: list[dict], figure: str = "latency_ms_b1") -> float:
    """Spearman ρ between the latency ranking of round 0 and round 1 over the classes measured in
    both: how repeatable the ranking is on this machine."""
    from scipy import stats

    first = {r["key"]: r[figure] for r in records if r["round"] == 0}
    second = {r["key"]: r[figure] for r in records if r["round"] == 1}
    both = sorted(set(first) & set(second))
    if len(both) < 3:
        return float("nan")
    return float(stats.spearmanr([first[k] for k in both], [second[k] for k in both]).statistic)


def latency_arrays(records: list[dict], keys: list[str]) -> dict[str, np.ndarray]:
    """The table's latency columns: per class key of ``keys`` (the table's entry order), each
    figure of ``latency_table`` (ms: the fastest round), NaN for a class not measured."""
    medians = latency_table(records)
    figures = sorted({f for m in medians.values() for f in m})
    return {f: np.array([medians.get(k, {}).get(f, np.nan) for k in keys]) for f in figures}


def latency_summary(records: list[dict]) -> dict:
    """Where and how the latencies were measured (recorded in the table's meta)."""
    first = records[0]
    return {"classes": len({r["key"] for r in records}), "rounds": len({r["round"] for r in records}),
            "records": len(records),
            **{k: sorted({r[k] for r in records}) for k in ("cpu_model", "torch", "threads", "host")},
            "repeats": first["repeats"], "warmup": first["warmup"]}


def network_of(bench) -> tuple[NetworkConfig, tuple[int, ...]]:
    """The network a table's classes were built with and one example's input shape, from its meta."""
    from naskit.bench.protocol import BenchProtocol

    meta = bench.meta
    if "network" not in meta.get("protocol", {}) or "input_shape" not in meta.get("dataset", {}):
        raise ValueError("this table records no network and input shape (meta['protocol'], meta['dataset']); "
                         "latency can only be measured for a table packed by `naskit bench pack`")
    return BenchProtocol.from_dict(meta["protocol"]).network, tuple(meta["dataset"]["input_shape"])


def compare_with_shipped(bench, folder: str | Path, sample: int | None = 200, rounds: int = 1, seed: int = 0,
                         repeats: int = 10, warmup: int = 2, progress: bool = True) -> dict:
    """Re-measure ``sample`` random classes of ``bench`` (None: all) on this machine into
    ``folder`` (resumable) and compare with the table's shipped latency.

    Returns, per batch size ``b``: ``spearman_b{b}`` (rank correlation of this machine's medians
    with the shipped ones over the classes measured here), ``ratio_b{b}`` (the median over
    classes of here / shipped: how much slower this machine is), plus ``classes``,
    ``seconds`` (the measurement's wall time), this ``machine()`` and the shipped one.
    """
    from scipy import stats

    check_whole("seed", seed, 0)
    keys = bench.meta.get("keys")
    if keys is None:
        raise ValueError("this table has no class keys (meta['keys']); pack it with `naskit bench pack`")
    if sample is not None:
        check_whole("sample", sample, 1)
    network, input_shape = network_of(bench)
    # drawn with NumPy's generator: random.Random(seed).sample would pick the classes a shuffle with the
    # same seed puts last, the ones an unfinished measurement round has not reached
    everything = np.arange(len(keys))
    chosen = np.sort(np.random.default_rng(seed).choice(everything, min(sample, len(keys)), replace=False)) \
        if sample else everything
    classes = {keys[i]: bench.entry_names[i] for i in chosen.tolist()}
    start = time.perf_counter()
    measure_classes(folder, classes, network, input_shape, rounds=rounds, seed=seed, repeats=repeats,
                    warmup=warmup, progress=progress)
    seconds = time.perf_counter() - start
    mine = latency_table([r for r in read_latencies(folder) if r["key"] in classes])
    out = {"classes": len(mine), "seconds": seconds, "machine": machine(), "shipped": bench.meta.get("latency")}
    index = {k: i for i, k in enumerate(keys)}
    for b in BATCH_SIZES:
        name = f"latency_ms_b{b}"
        if name not in bench.latency:
            continue
        pairs = [(m[name], bench.latency[name][index[k]]) for k, m in mine.items() if name in m]
        pairs = np.array([p for p in pairs if np.isfinite(p[1])])
        if len(pairs) >= 3:
            out[f"spearman_b{b}"] = float(stats.spearmanr(pairs[:, 0], pairs[:, 1]).statistic)
            out[f"ratio_b{b}"] = float(np.median(pairs[:, 0] / pairs[:, 1]))
    return out
