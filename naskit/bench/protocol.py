"""The protocol of naskit's tabular benchmark: what is trained, how, and in which order.

Every canonical class of the NB201 space (6,466) is trained once with seed 0; a
stratified subset of classes is trained with two more seeds for the study of seed
variance. The plan is a pure function of the protocol, so every machine that builds a
shard, and every later ``verify``, agrees on which runs exist.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from naskit.network import NetworkConfig, live_edges
from naskit.space import Arch, NB201Space
from naskit.train import TrainConfig


@dataclass(frozen=True)
class BenchProtocol:
    """How every table row was trained (recorded in the datasheet and the shipped file)."""

    dataset: str = "mnist1d"
    network: NetworkConfig = field(default_factory=lambda: NetworkConfig(channels=8, cells_per_stage=1))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=8, batch_size=128, threads=1))
    seeds: tuple[int, ...] = (0, 1, 2)
    multi_seed_classes: int = 1200  # classes trained with every seed, stratified by structure
    plan_seed: int = 0  # orders the jobs and draws the multi-seed subset

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Job:
    """One training run of the build: the class key, its representative cell, a seed."""

    key: str
    arch: str
    seed: int


def class_representatives(space: NB201Space | None = None) -> dict[str, Arch]:
    """Canonical key -> the member with the lowest cell index (its representative)."""
    space = space or NB201Space()
    reps: dict[str, Arch] = {}
    for arch in space:  # enumeration is in index order, so the first member wins
        reps.setdefault(space.canonical(arch), arch)
    return reps


def stratum(arch: Arch) -> tuple[int, int, int]:
    """Structural stratum of a cell: live convolutions, live 3x3 convolutions, live edges."""
    live = live_edges(arch)
    convs = [e for e in live if arch.ops[e] in ("nor_conv_1x1", "nor_conv_3x3")]
    return (len(convs), sum(arch.ops[e] == "nor_conv_3x3" for e in convs), len(live))


def multi_seed_subset(reps: dict[str, Arch], n: int, seed: int) -> list[str]:
    """``n`` class keys drawn with proportional allocation over ``stratum`` (largest remainder)."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for key in sorted(reps):
        groups[stratum(reps[key])].append(key)
    total = len(reps)
    n = min(n, total)
    quota = {g: n * len(keys) / total for g, keys in groups.items()}
    take = {g: int(q) for g, q in quota.items()}
    for g in sorted(groups, key=lambda g: (-(quota[g] - take[g]), g))[: n - sum(take.values())]:
        take[g] += 1
    rng = random.Random(seed)
    chosen = []
    for g in sorted(groups):
        chosen.extend(rng.sample(groups[g], take[g]))
    return sorted(chosen)


def plan(protocol: BenchProtocol = BenchProtocol()) -> list[Job]:
    """All jobs in build order: every class with the first seed (shuffled, so a partial
    build is a uniform sample), then the other seeds for the multi-seed subset."""
    reps = class_representatives()
    rng = random.Random(protocol.plan_seed)
    first = sorted(reps)
    rng.shuffle(first)
    jobs = [Job(k, str(reps[k]), protocol.seeds[0]) for k in first]
    subset = multi_seed_subset(reps, protocol.multi_seed_classes, protocol.plan_seed)
    rng.shuffle(subset)
    for seed in protocol.seeds[1:]:
        jobs.extend(Job(k, str(reps[k]), seed) for k in subset)
    return jobs


def strata_counts(keys, reps) -> Counter:
    return Counter(stratum(reps[k]) for k in keys)
