"""Tests for naskit.repro: seeding, deterministic mode, manifests and their atomic writing."""

import json
import os
import random
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from torch import nn

import naskit
from naskit.data import Dataset
from naskit.runtime import manifest as repro
from naskit.runtime.manifest import load_manifest, manifest, write_manifest
from naskit.runtime.seeding import deterministic, seed_everything

MANIFEST_KEYS = {
    "schema", "timestamp_utc", "argv", "versions", "git", "platform", "torch", "env",
    "seeds", "dataset", "extra",
}


@pytest.fixture
def torch_rng_restored():
    state = torch.get_rng_state()
    yield
    torch.set_rng_state(state)


def tiny_dataset() -> Dataset:
    x, y = torch.zeros(4, 1, 8), torch.zeros(4, dtype=torch.long)
    return Dataset("tiny", x, y, x[:2], y[:2], x[:1], y[:1], sha256="ab" * 32)


# --- seed_everything ---------------------------------------------------------------------------
def test_seed_everything_gives_reproducible_draws(torch_rng_restored):
    a, b = seed_everything(123), seed_everything(123)
    assert [a["random"].random() for _ in range(3)] == [b["random"].random() for _ in range(3)]
    assert np.array_equal(a["numpy"].normal(size=5), b["numpy"].normal(size=5))
    assert torch.equal(torch.rand(5, generator=a["torch"]), torch.rand(5, generator=b["torch"]))
    c = seed_everything(124)
    assert not np.array_equal(c["numpy"].normal(size=5), seed_everything(123)["numpy"].normal(size=5))


def test_seed_everything_seeds_torch_global_rng_for_weight_init(torch_rng_restored):
    seed_everything(5)
    first = nn.Linear(4, 3).weight.detach().clone()
    seed_everything(5)
    assert torch.equal(nn.Linear(4, 3).weight, first)


def test_seed_everything_leaves_python_and_numpy_globals_alone(torch_rng_restored):
    py_state, np_state = random.getstate(), np.random.get_state()
    seed_everything(0)
    assert random.getstate() == py_state
    assert np.array_equal(np.random.get_state()[1], np_state[1])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, 2**63])
def test_seed_everything_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


# --- deterministic -----------------------------------------------------------------------------
def flags() -> tuple:
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, torch.get_num_threads(),
    )


def test_deterministic_sets_then_restores_flags_and_threads():
    before = flags()
    with deterministic(threads=1):
        assert flags() == (True, False, True, False, 1)
    assert flags() == before


def test_deterministic_restores_after_an_error_and_a_non_default_state():
    before = flags()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = True
    try:
        custom = flags()
        with pytest.raises(RuntimeError, match="boom"), deterministic(enabled=False, threads=1):
            assert not torch.are_deterministic_algorithms_enabled()
            raise RuntimeError("boom")
        assert flags() == custom
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.benchmark = before[3]


@pytest.mark.parametrize("threads", [0, -2, 1.5, True])
def test_deterministic_rejects_bad_threads(threads):
    with pytest.raises(ValueError, match="threads"), deterministic(threads=threads):
        pass


# --- manifest ----------------------------------------------------------------------------------
def test_manifest_has_all_keys_and_is_json_serialisable(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("KMP_AFFINITY", "compact")
    monkeypatch.setenv("NASKIT_UNRELATED", "x")
    m = manifest(seeds=[0, 1], dataset=tiny_dataset(), extra={"budget": 10})
    assert set(m) == MANIFEST_KEYS
    assert json.loads(json.dumps(m)) == m
    assert m["versions"]["naskit"] == naskit.__version__
    assert m["versions"]["torch"] == torch.__version__ and m["versions"]["numpy"] == np.__version__
    assert m["platform"]["logical_cores"] == os.cpu_count()
    assert m["torch"]["num_threads"] == torch.get_num_threads()
    assert m["torch"]["cuda_available"] == torch.cuda.is_available()
    assert m["env"]["OMP_NUM_THREADS"] == "1" and m["env"]["KMP_AFFINITY"] == "compact"
    assert "NASKIT_UNRELATED" not in m["env"]
    assert m["seeds"] == [0, 1] and m["extra"] == {"budget": 10}
    assert m["dataset"] == tiny_dataset().summary()
    assert m["timestamp_utc"].endswith("+00:00")


def test_manifest_rejects_bad_dataset_and_unserialisable_extra():
    with pytest.raises(ValueError, match="dataset"):
        manifest(dataset=42)
    with pytest.raises(ValueError, match="extra"):
        manifest(extra={"model": object()})


def git(*args, cwd) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_manifest_detects_this_checkouts_commit():
    if not (repro._REPO_DIR / ".git").exists():
        pytest.skip("naskit is not imported from a git checkout")
    try:
        head = git("rev-parse", "HEAD", cwd=repro._REPO_DIR)
    except subprocess.CalledProcessError:
        pytest.skip("the checkout has no commit")
    state = manifest()["git"]
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"]) and state["commit"] == head
    assert isinstance(state["dirty"], bool)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_manifest_git_dirty_and_not_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(repro, "_REPO_DIR", tmp_path)
    assert manifest()["git"] == {"commit": None, "dirty": None}  # not a checkout: no crash
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(name, "test")
    for name in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(name, "test@example.com")
    git("init", "-q", cwd=tmp_path)
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt", cwd=tmp_path)
    assert manifest()["git"] == {"commit": None, "dirty": None}  # a checkout with no commit yet
    git("commit", "-q", "-m", "one", cwd=tmp_path)
    assert manifest()["git"] == {"commit": git("rev-parse", "HEAD", cwd=tmp_path), "dirty": False}
    (tmp_path / "untracked.txt").write_text("ignored, as git describe --dirty does")
    assert manifest()["git"]["dirty"] is False
    (tmp_path / "a.txt").write_text("2")
    assert manifest()["git"]["dirty"] is True


# --- write_manifest / load_manifest ------------------------------------------------------------
def test_write_manifest_round_trips_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "manifest.json"
    m = manifest(seeds=3)
    assert write_manifest(path, m) == path
    assert load_manifest(path) == m
    write_manifest(str(path), {"seeds": 4})  # replaces an existing file
    assert load_manifest(path) == {"seeds": 4}
    assert os.listdir(tmp_path) == ["manifest.json"]


def test_write_manifest_failure_keeps_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "manifest.json"
    write_manifest(path, {"seeds": 1})
    with pytest.raises(ValueError, match="manifest"):
        write_manifest(path, {"seeds": object()})  # not JSON: fails before touching disk

    def crash(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        write_manifest(path, {"seeds": 2})
    assert load_manifest(path) == {"seeds": 1}
    assert os.listdir(tmp_path) == ["manifest.json"]
