"""Tests for naskit.data: split sizes, the recorded hash, caching, and RNG hygiene.

References: MNIST-1D's published arguments give 4,000 train + 1,000 test sequences of length 40
(Greydanus & Kobak 2024); scikit-learn's digits are 1,797 8x8 images with pixel values 0..16.
"""

import hashlib
import random

import numpy as np
import pytest
import torch

import naskit
import naskit.data
from naskit.data import MNIST1D_SHA256, SPLIT_SEED, available_datasets, load_dataset


def row_keys(x: torch.Tensor, y: torch.Tensor) -> list[bytes]:
    """One hashable key per example: its values and its label."""
    x = x.reshape(len(x), -1).numpy()
    return [xi.tobytes() + bytes([int(yi)]) for xi, yi in zip(x, y)]


def sha256_of(*arrays: np.ndarray) -> str:
    """The recorded hash, recomputed with hashlib: dtype, shape and bytes of each array in turn."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(str(a.dtype).encode() + str(a.shape).encode() + np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A fresh disk cache in tmp_path and an empty memory cache; both restored afterwards."""
    monkeypatch.setenv("NASKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(naskit.data, "_MEMORY_CACHE", {})
    return tmp_path


# --- MNIST-1D ----------------------------------------------------------------------------------
def test_mnist1d_shapes_and_types(mnist1d):
    assert mnist1d.x_train.shape == (3000, 1, 40)
    assert mnist1d.x_valid.shape == (1000, 1, 40)
    assert mnist1d.x_test.shape == (1000, 1, 40)
    assert (len(mnist1d.y_train), len(mnist1d.y_valid), len(mnist1d.y_test)) == (3000, 1000, 1000)
    assert mnist1d.x_train.dtype == torch.float32 and mnist1d.y_train.dtype == torch.int64
    assert (mnist1d.ndim, mnist1d.in_channels, mnist1d.num_classes) == (1, 1, 10)
    assert mnist1d.summary()["input_shape"] == [1, 40]


def test_mnist1d_labels_are_the_ten_digits(mnist1d):
    for y in (mnist1d.y_train, mnist1d.y_valid, mnist1d.y_test):
        assert set(y.tolist()) == set(range(10))


def test_mnist1d_splits_are_disjoint(mnist1d):
    d = mnist1d
    splits = [(d.x_train, d.y_train), (d.x_valid, d.y_valid), (d.x_test, d.y_test)]
    train, valid, test = (set(row_keys(x, y)) for x, y in splits)
    assert (len(train), len(valid), len(test)) == (3000, 1000, 1000)  # no repeats inside a split
    assert not train & valid and not train & test and not valid & test


def test_mnist1d_sha256_is_the_recorded_one(mnist1d):
    assert mnist1d.sha256 == MNIST1D_SHA256
    # Undo the split (valid = first 1,000 of a seeded permutation of the 4,000 training
    # sequences) and hash the generator's arrays independently.
    order = np.random.default_rng(SPLIT_SEED).permutation(4000)
    x, y = np.empty((4000, 40), np.float32), np.empty(4000, np.int64)
    x[order[:1000]], y[order[:1000]] = mnist1d.x_valid[:, 0].numpy(), mnist1d.y_valid.numpy()
    x[order[1000:]], y[order[1000:]] = mnist1d.x_train[:, 0].numpy(), mnist1d.y_train.numpy()
    assert sha256_of(x, y, mnist1d.x_test[:, 0].numpy(), mnist1d.y_test.numpy()) == MNIST1D_SHA256


def test_second_load_returns_the_cached_object(mnist1d):
    assert load_dataset("mnist1d") is mnist1d
    assert naskit.load_dataset() is mnist1d  # mnist1d is the default


def test_generating_mnist1d_leaves_global_rngs_alone(empty_cache, mnist1d):
    # mnist1d's generator seeds NumPy's global RNG; the caller's streams must continue unchanged.
    np.random.seed(123)
    random.seed(123)
    torch_state = torch.get_rng_state()
    expected_np, expected_py = np.random.random(3), [random.random() for _ in range(3)]
    np.random.seed(123)
    random.seed(123)
    fresh = load_dataset("mnist1d")
    assert (empty_cache / "mnist1d.npz").exists()  # it really generated, into the empty cache
    assert np.array_equal(np.random.random(3), expected_np)
    assert [random.random() for _ in range(3)] == expected_py
    assert torch.equal(torch.get_rng_state(), torch_state)
    # and the regenerated data are the same data
    assert fresh is not mnist1d and fresh.sha256 == MNIST1D_SHA256
    assert torch.equal(fresh.x_train, mnist1d.x_train) and torch.equal(fresh.y_test, mnist1d.y_test)


# --- digits ------------------------------------------------------------------------------------
def test_digits_shapes_and_values(digits):
    assert digits.x_train.shape == (1077, 1, 8, 8)
    assert digits.x_valid.shape == (360, 1, 8, 8)
    assert digits.x_test.shape == (360, 1, 8, 8)
    assert (digits.ndim, digits.in_channels, digits.num_classes) == (2, 1, 10)
    for x in (digits.x_train, digits.x_valid, digits.x_test):
        assert x.dtype == torch.float32
        assert x.min() == 0.0 and x.max() == 1.0
        assert torch.equal(x * 16, (x * 16).round())  # pixel values 0..16, divided by 16


def test_digits_splits_partition_the_sklearn_dataset(digits):
    from sklearn.datasets import load_digits

    ref = load_digits()
    expected = sorted(row_keys(torch.from_numpy(ref.images / 16.0).float(), torch.from_numpy(ref.target)))
    splits = [(digits.x_train, digits.y_train), (digits.x_valid, digits.y_valid), (digits.x_test, digits.y_test)]
    got = [k for x, y in splits for k in row_keys(x, y)]
    assert sorted(got) == expected  # every image exactly once, across the three splits


def test_available_datasets():
    assert available_datasets() == ["digits", "mnist1d"]


@pytest.mark.parametrize("name", ["cifar10", "MNIST1D", ""])
def test_unknown_dataset_raises_value_error_listing_known_ones(name):
    with pytest.raises(ValueError) as info:
        load_dataset(name)
    message = str(info.value)
    assert repr(name) in message and "digits" in message and "mnist1d" in message


# --- the disk cache ----------------------------------------------------------------------------
def test_disk_cache_is_written_and_reused(empty_cache, digits):
    first = load_dataset("digits")
    assert (empty_cache / "digits.npz").exists()
    naskit.data._MEMORY_CACHE.clear()
    second = load_dataset("digits")
    assert second is not first
    assert torch.equal(second.x_train, digits.x_train) and second.sha256 == digits.sha256


def _garbage(raw: bytes) -> bytes:
    return b"this is not an npz file at all"


def _tampered(raw: bytes) -> bytes:
    """A well-formed npz whose arrays no longer match their stored hash."""
    import io

    with np.load(io.BytesIO(raw)) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["x"] = arrays["x"] * 0.5
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _missing_hash(raw: bytes) -> bytes:
    import io

    with np.load(io.BytesIO(raw)) as z:
        arrays = {k: z[k] for k in z.files if k != "sha256"}
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _empty(raw: bytes) -> bytes:
    return b""


@pytest.mark.parametrize(
    "damage",
    [
        _garbage,
        _tampered,
        _missing_hash,
        _truncated,
        _empty,
    ],
)
def test_damaged_disk_cache_is_regenerated(empty_cache, digits, damage):
    load_dataset("digits")  # writes a good cache file
    path = empty_cache / "digits.npz"
    path.write_bytes(damage(path.read_bytes()))
    naskit.data._MEMORY_CACHE.clear()
    data = load_dataset("digits")
    assert data.sha256 == digits.sha256
    assert torch.equal(data.x_train, digits.x_train) and torch.equal(data.y_test, digits.y_test)
    with np.load(path) as z:  # the file was rewritten, hash and all
        assert sha256_of(z["x"], z["y"], z["x_test"], z["y_test"]) == str(z["sha256"]) == digits.sha256
