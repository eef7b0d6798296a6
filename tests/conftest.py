"""Shared fixtures: the two datasets (loaded once), a tiny MNIST-1D slice, and a 1-thread torch."""

import pytest
import torch

import naskit
from naskit.data import Dataset


@pytest.fixture(scope="session")
def mnist1d() -> Dataset:
    return naskit.load_dataset("mnist1d")


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return naskit.load_dataset("digits")


@pytest.fixture(scope="session")
def tiny_mnist1d(mnist1d) -> Dataset:
    """256 / 128 / 128 examples of MNIST-1D: enough to train on, fast enough to do it often."""
    d = mnist1d
    return Dataset(
        "mnist1d-tiny", d.x_train[:256], d.y_train[:256], d.x_valid[:128], d.y_valid[:128],
        d.x_test[:128], d.y_test[:128], sha256=d.sha256,
    )


@pytest.fixture
def one_thread():
    """Bit-identical CPU results need a fixed intra-op thread count; restore the caller's after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
