"""naskit: learn Neural Architecture Search by doing it, with its cost and reproducibility measured."""

from naskit.data import Dataset, available_datasets, load_dataset
from naskit.network import NetworkConfig, build_model
from naskit.space import OPS, Arch, NB201Space
from naskit.train import TrainConfig, TrainResult, train

__version__ = "0.1.0"

__all__ = [
    "OPS", "Arch", "NB201Space", "NetworkConfig", "build_model", "Dataset", "load_dataset",
    "available_datasets", "TrainConfig", "TrainResult", "train", "__version__",
]
