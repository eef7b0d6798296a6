"""Replay a recorded training or search from its record and say, field by field, what matches.

A run is replayable when its record holds everything that defines it: for a training, the
cell, the dataset (and its hash), the seed and the protocol; for a search, the strategy's
settings, the evaluator's description and the budget. On the same machine and thread count a
replay matches exactly; anywhere else the report shows where and by how much it differs, and
``diff_manifests`` of the two environments says why.

Example:
    >>> import naskit
    >>> data = naskit.load_dataset("digits")
    >>> record = record_training("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|", data,
    ...                          seed=0, config=naskit.TrainConfig(epochs=1))
    >>> replay(record).matches
    True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.trainer.loop import train

TRAIN_FIELDS = ("train_loss", "valid_acc", "test_acc", "valid_loss", "params", "forward_flops", "train_flops",
                "status")
SEARCH_FIELDS = ("arch", "fidelity", "status", "valid_acc", "test_acc", "estimate", "sim_seconds", "flops")


@dataclass
class ReplayReport:
    """Per field: recorded value, replayed value, and whether they are identical."""

    kind: str
    rows: list[dict] = field(default_factory=list)
    environment_diff: list[dict] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return all(r["match"] for r in self.rows)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def record_training(arch, data, seed: int = 0, config: TrainConfig | None = None,
                    network: NetworkConfig | None = None):
    """Train ``arch`` and return its record: a manifest whose ``extra`` holds the run's
    definition and results, ready for ``write_manifest`` and ``replay``."""
    from naskit.data import dataset_spec
    from naskit.runtime.manifest import manifest

    config, network = config or TrainConfig(), network or NetworkConfig()
    result = train(arch, data, seed=seed, config=config, network=network)
    definition = {"kind": "train", "arch": result.arch, "dataset": dataset_spec(data),
                  "n_train": len(data.y_train), "seed": seed, "config": asdict(config), "network": asdict(network)}
    return manifest(seeds={"train": seed}, dataset=data,
                    extra={**definition, "result": {k: result.to_dict()[k] for k in TRAIN_FIELDS}})


def _compare(name: str, recorded, replayed) -> dict:
    if isinstance(recorded, list | tuple) or isinstance(replayed, list | tuple):
        a, b = np.asarray(recorded, dtype=object), np.asarray(replayed, dtype=object)
        same = a.shape == b.shape and all(_same(x, y) for x, y in zip(a.tolist(), b.tolist()))
    else:
        same = _same(recorded, replayed)
    return {"field": name, "recorded": recorded, "replayed": replayed, "match": bool(same)}


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True  # NaN recorded, NaN replayed
    return x == y


def _replay_training(record: dict) -> ReplayReport:
    from naskit.data import dataset_from_spec, load_dataset
    from naskit.runtime.manifest import manifest

    spec = record["extra"]
    data = load_dataset(dataset_from_spec(spec["dataset"]))
    if spec["n_train"] != len(data.y_train):
        data = data.subset(spec["n_train"])
    report = ReplayReport("train")
    recorded_hash = (record.get("dataset") or {}).get("sha256")
    report.rows.append(_compare("dataset sha256", recorded_hash, data.sha256))
    result = train(spec["arch"], data, seed=spec["seed"], config=TrainConfig(**_tuples(spec["config"])),
                   network=NetworkConfig(**spec["network"]))
    for name in TRAIN_FIELDS:
        report.rows.append(_compare(name, spec["result"][name], result.to_dict()[name]))
    report.environment_diff = _env_diff(record, manifest(seeds={"train": spec["seed"]}, dataset=data))
    return report


def _replay_search(run) -> ReplayReport:
    from naskit.runs.budget import Budget
    from naskit.runs.loop import search
    from naskit.strategies import make_strategy

    settings = run.settings
    strategy_spec = dict(settings["strategy"])
    name, seed = strategy_spec.pop("name"), strategy_spec.pop("seed")
    evaluator = evaluator_from(settings["evaluator"])
    replayed = search(make_strategy(name, seed=seed, **strategy_spec), evaluator, Budget(**settings["budget"]),
                      workers=settings["workers"], progress=False)
    report = ReplayReport("search")
    report.rows.append(_compare("evaluations", len(run.history), len(replayed.history)))
    for name in SEARCH_FIELDS:
        report.rows.append(_compare(name, run.history[name].tolist(), replayed.history[name].tolist()))
    report.rows.append(_compare("best", str(run.best), str(replayed.best)))
    report.environment_diff = _env_diff(run.manifest, replayed.manifest)
    return report


def evaluator_from(spec: dict):
    """The evaluator a recorded ``describe()`` dict names (tabular on a shipped table, or training)."""
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.evaluators.training import TrainingEvaluator

    if spec["name"] == "tabular":
        from naskit.bench.store import load_benchmark

        if spec.get("table") not in (None, "naskit nb201_mnist1d"):
            raise ValueError(f"cannot replay on table {spec.get('table')!r}: only naskit's shipped table is "
                             "loadable by name; replay such runs by re-running them with the same table")
        # v1 tables record no version; a run recorded before signals existed read the seed mean
        signal = spec.get("signal", "mean" if spec.get("seed") is None else "one_run")
        return TabularEvaluator(load_benchmark(spec.get("version") or "v1"), seed=spec.get("seed") or 0,
                                epochs=spec.get("epochs"), signal=signal)
    if spec["name"] == "training":
        from naskit.data import dataset_from_spec

        return TrainingEvaluator(dataset_from_spec(spec["dataset"]), TrainConfig(**_tuples(spec["train"])),
                                 NetworkConfig(**spec["network"]), seed=spec["seed"], n_train=spec.get("n_train"),
                                 epochs=spec.get("epochs"))  # a low-fidelity search replays at its fidelity
    raise ValueError(f"cannot replay evaluator {spec['name']!r}; replayable: tabular, training")


def _tuples(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def _env_diff(a: dict | None, b: dict | None) -> list[dict]:
    from naskit.repro.diff import diff_manifests

    return diff_manifests(a or {}, b or {}) if a and b else []


def replay(run_or_record) -> ReplayReport:
    """Re-execute a recorded training (a ``record_training`` manifest, or its JSON loaded with
    ``load_manifest``) or a ``SearchRun``, and compare every recorded field."""
    from naskit.runs.loop import SearchRun

    if isinstance(run_or_record, SearchRun):
        return _replay_search(run_or_record)
    if isinstance(run_or_record, dict) and (run_or_record.get("extra") or {}).get("kind") == "train":
        return _replay_training(run_or_record)
    raise ValueError("replay takes a SearchRun or a training record from naskit.repro.replay.record_training "
                     "(or its JSON, loaded with naskit.load_manifest)")
