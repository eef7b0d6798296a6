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

from naskit.core.configs import MNIST1DArgs, NetworkConfig, TrainConfig
from naskit.core.space import Arch, NB201Space, live_edges


@dataclass(frozen=True)
class BenchProtocol:
    """How every table row was trained (recorded in the datasheet and the shipped file).

    ``dataset`` names a dataset (``"mnist1d"``) or describes a generated MNIST-1D variant
    (``MNIST1DArgs``). ``multi_seed_classes`` classes are trained with every seed, the rest
    with the first; ``None`` trains every class with every seed. ``stack_seeds`` trains the
    seeds of a class together as one grouped network (``naskit.trainer.stacked.train_seeds``), which is
    faster on a CPU and equal to separate training up to floating-point rounding.
    """

    dataset: str | MNIST1DArgs = "mnist1d"
    network: NetworkConfig = field(default_factory=lambda: NetworkConfig(channels=8, cells_per_stage=1))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=8, batch_size=128, threads=1))
    seeds: tuple[int, ...] = (0, 1, 2)
    multi_seed_classes: int | None = 1200  # classes trained with every seed, stratified by structure
    plan_seed: int = 0  # orders the jobs and draws the multi-seed subset
    stack_seeds: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BenchProtocol:
        """The protocol recorded in a table's metadata (fields it lacks take their defaults)."""
        d = dict(d)
        if isinstance(d.get("dataset"), dict):
            d["dataset"] = MNIST1DArgs(**{**d["dataset"], "seeds": tuple(d["dataset"].get("seeds", (1, 2, 3)))})
        if "network" in d:
            d["network"] = NetworkConfig(**d["network"])
        if "train" in d:
            d["train"] = TrainConfig(**d["train"])
        if "seeds" in d:
            d["seeds"] = tuple(d["seeds"])
        return cls(**d)


@dataclass(frozen=True)
class Job:
    """One training job of the build: the class key, its representative cell, its seeds (one
    seed, or every seed of the class when the protocol stacks them)."""

    key: str
    arch: str
    seeds: tuple[int, ...]


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
    build is a uniform sample), then the other seeds for the multi-seed subset. With
    ``stack_seeds``, one job per class trains all its seeds at once."""
    reps = class_representatives()
    rng = random.Random(protocol.plan_seed)
    first = sorted(reps)
    rng.shuffle(first)
    if protocol.multi_seed_classes is None and protocol.stack_seeds:
        return [Job(k, str(reps[k]), tuple(protocol.seeds)) for k in first]
    n_multi = len(reps) if protocol.multi_seed_classes is None else protocol.multi_seed_classes
    if protocol.stack_seeds:
        subset = set(multi_seed_subset(reps, n_multi, protocol.plan_seed))
        return [Job(k, str(reps[k]), tuple(protocol.seeds) if k in subset else protocol.seeds[:1]) for k in first]
    jobs = [Job(k, str(reps[k]), (protocol.seeds[0],)) for k in first]
    subset = multi_seed_subset(reps, n_multi, protocol.plan_seed)
    rng.shuffle(subset)
    for seed in protocol.seeds[1:]:
        jobs.extend(Job(k, str(reps[k]), (seed,)) for k in subset)
    return jobs


def job_runs(job: Job) -> list[tuple[str, int]]:
    """The (class key, seed) runs a job produces."""
    return [(job.key, s) for s in job.seeds]


def strata_counts(keys, reps) -> Counter:
    return Counter(stratum(reps[k]) for k in keys)


# The protocols of naskit's shipped tables, by version (recorded in each table's meta).
# v2 was chosen by the pilot study in its datasheet (data/nb201_mnist1d_v2.md): a deep, narrow
# network (4 channels, 3 cells per stage, so the cell decides more of the network) trained on
# 8,000 examples, whose seeds agree far better than v1's; 10,000 validation and test examples.
PROTOCOLS: dict[str, BenchProtocol] = {
    "v1": BenchProtocol(),
    "v2": BenchProtocol(
        dataset=MNIST1DArgs(n_train=8000, n_valid=10000, n_test=10000),
        network=NetworkConfig(channels=4, cells_per_stage=3),
        train=TrainConfig(epochs=8, batch_size=128, threads=1, test_epochs="last_epoch"),
        seeds=(0, 1, 2), multi_seed_classes=None, stack_seeds=True,
    ),
}
