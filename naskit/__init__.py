"""naskit: learn Neural Architecture Search by doing it, with its cost and reproducibility measured."""

from naskit.accounting import cost_breakdown
from naskit.bench.store import load_benchmark
from naskit.bench.table import TabularBenchmark
from naskit.checklist import checklist, checklist_markdown
from naskit.cost import Cost, EnergyEstimate, Stopwatch, estimate_energy, measure_energy
from naskit.data import Dataset, available_datasets, load_dataset
from naskit.manifests import diff_manifests
from naskit.network import NetworkConfig, build_model
from naskit.replay import record_training, replay
from naskit.repro import deterministic, load_manifest, manifest, seed_everything, write_manifest
from naskit.space import OPS, Arch, NB201Space
from naskit.train import TrainConfig, TrainResult, train

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "Arch",
    "Cost",
    "Dataset",
    "EnergyEstimate",
    "NB201Space",
    "NetworkConfig",
    "Stopwatch",
    "TabularBenchmark",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "available_datasets",
    "build_model",
    "deterministic",
    "estimate_energy",
    "load_benchmark",
    "load_dataset",
    "load_manifest",
    "manifest",
    "measure_energy",
    "seed_everything",
    "train",
    "write_manifest",
]
