"""Replays of a short training and a short search match their records exactly."""

from __future__ import annotations

import copy

import pytest

import naskit
from naskit.bench.store import DEFAULT_PATH
from naskit.repro.replay import record_training, replay

ARCH = "|nor_conv_1x1~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_3x3~2|"


@pytest.fixture(scope="module")
def record():
    return record_training(ARCH, naskit.load_dataset("digits"), seed=3, config=naskit.TrainConfig(epochs=2))


def test_training_replays_exactly_also_through_json(record, tmp_path):
    report = replay(record)
    assert report.matches and report.kind == "train"
    assert {r["field"] for r in report.rows} >= {"train_loss", "valid_acc", "dataset sha256"}
    path = naskit.write_manifest(tmp_path / "run.json", record)
    assert replay(naskit.load_manifest(path)).matches


def test_a_tampered_record_is_reported_field_by_field(record):
    bad = copy.deepcopy(record)
    bad["extra"]["result"]["valid_acc"][-1] += 0.01
    report = replay(bad)
    assert not report.matches
    assert [r["field"] for r in report.rows if not r["match"]] == ["valid_acc"]


def test_another_seed_is_another_run(record):
    other = copy.deepcopy(record)
    other["extra"]["seed"] = 4
    report = replay(other)
    assert not report.matches and not next(r for r in report.rows if r["field"] == "train_loss")["match"]


@pytest.mark.skipif(not DEFAULT_PATH.exists(), reason="no shipped table")
def test_search_replays_exactly():
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.runs.budget import Budget
    from naskit.runs.loop import search
    from naskit.strategies import make_strategy

    run = search(make_strategy("evolution", seed=2), TabularEvaluator(naskit.load_benchmark()),
                 Budget(evaluations=25), progress=False)
    report = replay(run)
    assert report.matches, report.to_frame()[lambda f: ~f["match"]]
    assert all(not d["field"].startswith(("versions", "git.commit", "torch.num")) for d in report.environment_diff)


def test_replay_refuses_what_it_cannot_replay():
    with pytest.raises(ValueError, match="SearchRun or a training record"):
        replay({"extra": {"kind": "something"}})


def test_a_low_fidelity_training_evaluator_is_rebuilt_at_its_fidelity():
    from naskit.core.configs import TrainConfig
    from naskit.evaluators.training import TrainingEvaluator
    from naskit.repro.replay import evaluator_from

    low = TrainingEvaluator("mnist1d", TrainConfig(epochs=3), epochs=2, n_train=64)
    again = evaluator_from(low.describe())
    assert (again.epochs, again.max_fidelity, again.n_train) == (2, 3, 64)
    assert again.describe() == low.describe()


def test_a_generated_dataset_replays_from_its_recorded_arguments(tmp_path):
    from naskit.core.configs import MNIST1DArgs, TrainConfig
    from naskit.evaluators.training import TrainingEvaluator
    from naskit.repro.replay import evaluator_from

    args = MNIST1DArgs(n_train=60, n_valid=30, n_test=30, shear_scale=1.0)
    data = naskit.load_dataset(args)
    rec = record_training(ARCH, data.subset(40), seed=1, config=TrainConfig(epochs=1, batch_size=16))
    assert rec["extra"]["dataset"]["mnist1d_args"]["shear_scale"] == 1.0 and rec["extra"]["n_train"] == 40
    loaded = naskit.load_manifest(naskit.write_manifest(tmp_path / "run.json", rec))  # through JSON: lists
    report = replay(loaded)
    assert report.matches, report.to_frame()[lambda f: ~f["match"]]
    ev = TrainingEvaluator(args, TrainConfig(epochs=1))
    again = evaluator_from(ev.describe())
    assert again.dataset == args and again.describe() == ev.describe()
