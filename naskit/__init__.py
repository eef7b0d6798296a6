"""naskit: learn Neural Architecture Search by doing it, with its cost and reproducibility measured.

The package's folders follow the pipeline, bottom to top (``docs/architecture.md``): ``core``
(the space, configs, values), ``runtime`` (seeds, threads, manifests, files), ``cost``, ``nn``
(ops, networks, supernet), ``data``, ``trainer``, ``strategies``, ``bench``, ``estimate``,
``evaluators``, ``runs`` (budgets, the search loop, its ledger, experiments), ``oneshot``,
``repro``, ``viz``, ``lessons``, ``cli``. The nouns of a first session are importable from here;
each is loaded on first use (PEP 562), so ``import naskit`` loads neither torch nor pandas.

Example:
    >>> import naskit
    >>> len(naskit.NB201Space())
    15625
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(("Arch", "NB201Space", "OPS", "parse"), "naskit.core.space"),
    **dict.fromkeys(("MNIST1DArgs", "NetworkConfig", "TrainConfig"), "naskit.core.configs"),
    **dict.fromkeys(("Proposal", "Result"), "naskit.core.types"),
    **dict.fromkeys(("manifest", "write_manifest", "load_manifest"), "naskit.runtime.manifest"),
    **dict.fromkeys(("seed_everything", "deterministic"), "naskit.runtime.seeding"),
    **dict.fromkeys(("EnergyEstimate", "estimate_energy", "measure_energy"), "naskit.cost.energy"),
    "Stopwatch": "naskit.cost.stopwatch",
    "cost_breakdown": "naskit.cost.accounting",
    "build_model": "naskit.nn.network",
    **dict.fromkeys(("Dataset", "available_datasets", "load_dataset"), "naskit.data"),
    **dict.fromkeys(("TrainResult", "train"), "naskit.trainer.loop"),
    "train_seeds": "naskit.trainer.stacked",
    "make_strategy": "naskit.strategies",
    "TabularBenchmark": "naskit.bench.table",
    "load_benchmark": "naskit.bench.store",
    "TabularEvaluator": "naskit.evaluators.tabular",
    "TrainingEvaluator": "naskit.evaluators.training",
    **dict.fromkeys(("ProxyEvaluator", "CachedProxyEvaluator"), "naskit.evaluators.proxy"),
    "CurveEvaluator": "naskit.evaluators.curve",
    "SurrogateEvaluator": "naskit.evaluators.surrogate",
    "Budget": "naskit.runs.budget",
    **dict.fromkeys(("SearchRun", "search"), "naskit.runs.loop"),
    "experiment": "naskit.runs.experiment",
    "diff_manifests": "naskit.repro.diff",
    **dict.fromkeys(("record_training", "replay"), "naskit.repro.replay"),
    **dict.fromkeys(("checklist", "checklist_markdown"), "naskit.repro.checklist"),
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    raise AttributeError(f"module 'naskit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
