"""naskit's tabular benchmark: the NB201 cell space trained on MNIST-1D."""

from naskit.bench.protocol import BenchProtocol, Job, class_representatives, plan

__all__ = ["BenchProtocol", "Job", "class_representatives", "plan"]
