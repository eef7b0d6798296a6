"""The pilot study behind a benchmark protocol: which protocol gives a ground truth that ranks?

A tabular benchmark's truth is only useful when two seeds of the same cells agree on their
order, and when the differences between good cells are larger than a seed's noise. The pilot
trains a fixed sample of classes (most from the top half of a reference table, where searches
operate) with two seeds under each candidate protocol and measures exactly that, with the
CPU time each candidate costs. ``naskit bench pack`` renders the table into the datasheet.

Example:
    >>> stats = pilot_stats([{"candidate": "a", "key": str(k), "test_acc": [0.9 + k / 100, 0.9 + k / 99],
    ...                       "cpu_seconds": 2.0} for k in range(8)])
    >>> float(round(stats.loc["a", "spearman_all"], 3))
    1.0
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from naskit.core.configs import MNIST1DArgs, NetworkConfig, TrainConfig

PILOT_SEEDS = (0, 1)


@dataclass(frozen=True)
class Candidate:
    """One candidate protocol: the data, the training and the network."""

    name: str
    data: MNIST1DArgs
    train: TrainConfig = field(default_factory=lambda: TrainConfig(test_epochs="last_epoch"))
    network: NetworkConfig = field(default_factory=lambda: NetworkConfig(channels=8, cells_per_stage=1))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PilotJob:
    candidate: Candidate
    key: str
    arch: str


def pilot_classes(reference_truth: dict[str, float], n_top: int = 60, n_rest: int = 40, seed: int = 0) -> list[str]:
    """Class keys: ``n_top`` drawn from the top half of ``reference_truth`` (key -> accuracy),
    ``n_rest`` from the bottom half; sorted."""
    order = sorted(reference_truth, key=lambda k: (-reference_truth[k], k))
    half = len(order) // 2
    rng = random.Random(seed)
    return sorted(rng.sample(order[:half], n_top) + rng.sample(order[half:], n_rest))


def train_pilot_job(job: PilotJob) -> dict:
    """Train one class with both pilot seeds under the job's candidate; return its record."""
    from naskit.data import load_dataset
    from naskit.trainer.stacked import train_seeds

    c = job.candidate
    results = train_seeds(job.arch, load_dataset(c.data), seeds=PILOT_SEEDS, config=c.train, network=c.network)
    return {
        "candidate": c.name, "key": job.key, "arch": job.arch, "seeds": list(PILOT_SEEDS),
        "status": [r.status for r in results],
        "valid_acc": [r.final_valid_acc for r in results], "test_acc": [r.final_test_acc for r in results],
        "valid_curves": [r.valid_acc for r in results],
        "cpu_seconds": sum(r.cpu_seconds for r in results), "wall_seconds": sum(r.wall_seconds for r in results),
        "protocol": c.to_dict(),
    }


def read_pilot(folder: str | Path) -> list[dict]:
    from naskit.bench.shards import read_records

    return read_records(folder, "pilot", ("candidate", "key"))


def run_pilot(folder: str | Path, candidates: list[Candidate], keys: list[str], reps: dict, workers: int = 2,
              progress: bool = True) -> int:
    """Train every (candidate, class) not yet in ``folder``; resumable like the build."""
    from naskit.bench.shards import run_jobs

    done = {(r["candidate"], r["key"]) for r in read_pilot(folder)}
    jobs = [PilotJob(c, k, str(reps[k])) for c in candidates for k in keys if (c.name, k) not in done]
    return run_jobs(folder, "pilot", jobs, train_pilot_job, workers=workers, progress=progress,
                    desc="pilot", unit="class")


def seed_agreement(a: np.ndarray, b: np.ndarray, rank_by: np.ndarray | None = None) -> dict:
    """Agreement of two seeds' accuracies (fractions) over the same classes, in points.

    ``ratio_*`` is the std of the class means over the mean seed std (|a - b| / sqrt 2 for two
    seeds) among the classes of the top half or top quarter: above 1, the differences between
    classes are larger than a seed's noise. The top classes are chosen by ``rank_by`` (e.g. a
    third seed: an independent choice), else by the mean of ``a`` and ``b``, which biases the
    within-top correlation downwards (classes get in by lucky draws of a or b, regression to
    the mean), the same for every protocol compared.
    """
    mean = (a + b) / 2
    seed_std = np.abs(a - b) / np.sqrt(2) * 100
    order = np.argsort(-(mean if rank_by is None else rank_by))
    top_half, top_quarter = order[: len(order) // 2], order[: len(order) // 4]

    def ratio(idx):
        return float(np.std(mean[idx] * 100, ddof=1) / seed_std[idx].mean())

    return {
        "spearman_all": float(sps.spearmanr(a, b).statistic),
        "spearman_top_half": float(sps.spearmanr(a[top_half], b[top_half]).statistic),
        "mean_abs_seed_diff": float(np.abs(a - b).mean() * 100),
        "seed_std_top_quarter": float(seed_std[top_quarter].mean()),
        "class_std_top_quarter": float(np.std(mean[top_quarter] * 100, ddof=1)),
        "ratio_top_half": ratio(top_half),
        "ratio_top_quarter": ratio(top_quarter),
        "best": float(mean.max() * 100),
        "median": float(np.median(mean) * 100),
        "spread": float((mean.max() - np.median(mean)) * 100),
        "mean_acc": float(mean.mean() * 100),
    }


def candidate_of(records: list[dict], protocol) -> str | None:
    """The name of the pilot candidate whose data, training and network are ``protocol``'s
    (a ``BenchProtocol``), or None when no candidate trained that way."""
    for r in records:
        recorded = r["protocol"]
        data = MNIST1DArgs(**{**recorded["data"], "seeds": tuple(recorded["data"]["seeds"])})
        if (data, TrainConfig(**recorded["train"]), NetworkConfig(**recorded["network"])) == (
                protocol.dataset, protocol.train, protocol.network):
            return recorded["name"]
    return None


def pilot_stats(records: list[dict]) -> pd.DataFrame:
    """One row per candidate: seed agreement (``seed_agreement``), classes, CPU-s per run."""
    rows = {}
    for name in dict.fromkeys(r["candidate"] for r in records):
        mine = [r for r in records if r["candidate"] == name]
        acc = np.array([r["test_acc"] for r in mine], dtype=float)
        ok = np.isfinite(acc).all(1)
        if ok.sum() < 8:
            continue
        row = seed_agreement(acc[ok, 0], acc[ok, 1])
        row["classes"] = int(ok.sum())
        row["cpu_s_per_run"] = float(np.mean([r["cpu_seconds"] for r in mine]) / acc.shape[1])
        rows[name] = row
    return pd.DataFrame(rows).T
