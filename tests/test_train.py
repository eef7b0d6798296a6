"""Tests for naskit.trainer: determinism, curves, failure handling, cost bookkeeping, bad configs.

Runs are kept tiny: 256 MNIST-1D training sequences (``tiny_mnist1d``), 4 channels, 1-2 epochs.
"""

import copy
import math

import pytest
import torch
from torch import nn

from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.core.space import parse
from naskit.cost import flops as cost
from naskit.data import load_dataset
from naskit.nn.network import build_model
from naskit.trainer.loop import TrainResult, train

# Tiny tensors gain nothing from threads, and lose a lot when other work holds the cores.
pytestmark = pytest.mark.usefixtures("one_thread")
SMALL = NetworkConfig(channels=4)
# one 3x3 conv from the input, carried to the output by a skip edge; every other edge is none
ARCH = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"
NONE6 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
CURVES = ("train_loss", "valid_acc", "test_acc", "valid_loss")


def curves(result: TrainResult) -> tuple:
    return tuple(getattr(result, name) for name in CURVES)


class NaNNet(nn.Module):
    """A linear classifier whose logits are all NaN."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(40, 10)

    def forward(self, x):
        return self.linear(x.flatten(1)) * float("nan")


class FailsOnBatches(nn.Module):
    """Fine on one example (what the FLOP probes use), raises on a real minibatch."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(40, 10)

    def forward(self, x):
        if len(x) > 1:
            raise RuntimeError(f"boom on a batch of {len(x)}")
        return self.linear(x.flatten(1))


class AlwaysFails(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(40, 10)

    def forward(self, x):
        raise RuntimeError("boom")


# --- determinism -------------------------------------------------------------------------------
def test_same_seed_gives_bit_identical_curves(tiny_mnist1d):
    a = train(ARCH, tiny_mnist1d, epochs=2, seed=5, network=SMALL)
    b = train(parse(ARCH), tiny_mnist1d, epochs=2, seed=5, network=SMALL)
    assert a.ok and b.ok
    assert curves(a) == curves(b)
    sizes = ("params", "forward_flops", "train_flops", "eval_flops")
    assert [getattr(a, k) for k in sizes] == [getattr(b, k) for k in sizes]


def test_different_seeds_give_different_curves(tiny_mnist1d):
    a = train(ARCH, tiny_mnist1d, epochs=1, seed=0, network=SMALL)
    b = train(ARCH, tiny_mnist1d, epochs=1, seed=1, network=SMALL)
    assert a.train_loss != b.train_loss
    assert a.valid_loss != b.valid_loss


def test_train_leaves_global_torch_rng_alone(tiny_mnist1d):
    state = torch.get_rng_state()
    train(ARCH, tiny_mnist1d, epochs=1, seed=0, network=SMALL)
    assert torch.equal(torch.get_rng_state(), state)


# --- curves ------------------------------------------------------------------------------------
@pytest.mark.parametrize("epochs", [1, 2])
def test_one_value_per_epoch(tiny_mnist1d, epochs):
    r = train(ARCH, tiny_mnist1d, epochs=epochs, seed=0, network=SMALL)
    assert r.status == "ok" and r.ok and r.error == ""
    assert r.epochs == epochs and r.arch == ARCH and r.seed == 0
    for name in CURVES:
        assert len(getattr(r, name)) == epochs
    for acc in r.valid_acc + r.test_acc:
        assert 0 <= acc <= 1
        assert math.isclose(acc * 128, round(acc * 128))  # a count of 128 examples
    assert r.final_valid_acc == r.valid_acc[-1] and r.final_test_acc == r.test_acc[-1]
    assert r.wall_seconds > 0 and r.cpu_seconds > 0
    assert r.to_dict()["valid_acc"] == r.valid_acc


def test_epochs_argument_overrides_config(tiny_mnist1d):
    r = train(ARCH, tiny_mnist1d, epochs=1, config=TrainConfig(epochs=5), seed=0, network=SMALL)
    assert r.epochs == 1 and len(r.valid_acc) == 1


def test_reported_accuracy_and_loss_match_the_trained_model(tiny_mnist1d):
    # A module passed in is trained in place, so its final curves can be recomputed from it.
    model = build_model(ARCH, NetworkConfig(channels=4), seed=0)
    r = train(model, tiny_mnist1d, epochs=1, seed=0)
    assert r.ok and r.arch == ARCH  # a Network is labelled by its cell
    model.eval()
    with torch.no_grad():
        logits = model(tiny_mnist1d.x_valid)
    assert r.valid_acc[-1] == pytest.approx((logits.argmax(1) == tiny_mnist1d.y_valid).double().mean().item())
    assert r.valid_loss[-1] == pytest.approx(nn.functional.cross_entropy(logits, tiny_mnist1d.y_valid).item(), rel=1e-5)


def test_training_lowers_the_loss_on_digits(digits):
    # 2-D images (B, 1, 8, 8): the network follows the dataset's ndim.
    r = train(ARCH, digits, epochs=2, seed=0, network=SMALL)
    assert r.status == "ok", r.error
    assert len(r.valid_acc) == 2
    assert r.params == cost.count_params(build_model(ARCH, channels=4, ndim=2))
    # Uniform guessing costs ln(10) = 2.30 nats; two short epochs get well below it (about 1.4).
    # (Validation lags: 18 steps leave BN's running statistics far from the batch ones.)
    assert r.train_loss[1] < r.train_loss[0]
    assert r.train_loss[1] < 0.75 * math.log(10)


# --- failures are results ----------------------------------------------------------------------
def test_nan_output_gives_diverged_without_raising(tiny_mnist1d):
    r = train(NaNNet(), tiny_mnist1d, epochs=2, seed=0)
    assert r.status == "diverged" and not r.ok
    assert "non-finite" in r.error
    assert len(r.train_loss) == 1 and math.isnan(r.train_loss[0])  # stopped after the first epoch
    assert r.valid_acc == [] and math.isnan(r.final_valid_acc)
    assert r.arch == "NaNNet"


def test_exception_in_training_gives_failed_with_error_text(tiny_mnist1d):
    r = train(FailsOnBatches(), tiny_mnist1d, epochs=1, seed=0)
    assert r.status == "failed" and not r.ok
    assert r.error == "RuntimeError: boom on a batch of 128"
    assert r.valid_acc == []


def test_module_whose_forward_always_raises_gives_failed(tiny_mnist1d):
    r = train(AlwaysFails(), tiny_mnist1d, epochs=1, seed=0)
    assert r.status == "failed" and "boom" in r.error


# --- cost bookkeeping --------------------------------------------------------------------------
def test_flops_are_per_example_costs_times_examples_and_epochs(tiny_mnist1d):
    epochs = 2
    r = train(ARCH, tiny_mnist1d, epochs=epochs, seed=0, network=SMALL)
    model = build_model(ARCH, NetworkConfig(channels=4), seed=0)
    x, y = tiny_mnist1d.x_train[:1], tiny_mnist1d.y_train[:1]
    assert r.params == cost.count_params(model)
    assert r.forward_flops == cost.forward_flops(model, x)
    assert r.train_flops == cost.train_step_flops(model, x, y) * 256 * epochs
    assert r.eval_flops == r.forward_flops * (128 + 128) * epochs


def test_forward_flops_of_empty_cell_match_hand_count(tiny_mnist1d):
    # 2 FLOPs per multiply-add, C = 4, L = 40 -> 20 -> 10; the cells compute nothing.
    stem = 2 * 40 * 4 * 1 * 3
    reduction1 = 2 * 20 * (8 * 4 * 3 + 8 * 8 * 3 + 8 * 4)  # conv_a (stride 2), conv_b, 1x1 shortcut
    reduction2 = 2 * 10 * (16 * 8 * 3 + 16 * 16 * 3 + 16 * 8)
    classifier = 2 * 16 * 10
    r = train(NONE6, tiny_mnist1d, epochs=1, seed=0, network=SMALL)
    assert r.forward_flops == stem + reduction1 + reduction2 + classifier == 39680


# --- bad configuration -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": -3}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"optimizer": "rmsprop"}, "'rmsprop'.*sgd, adam"),
        ({"schedule": "step"}, "'step'.*cosine.*constant"),
        ({"epochs": 1.5}, "epochs"),
    ],
)
def test_bad_config_raises_value_error_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**kwargs)


def test_bad_epochs_argument_raises_before_training(tiny_mnist1d):
    with pytest.raises(ValueError, match="epochs"):
        train(ARCH, tiny_mnist1d, epochs=0)


def test_constant_schedule_and_adam_train_and_differ_from_the_default(tiny_mnist1d):
    base = train(ARCH, tiny_mnist1d, epochs=2, seed=0, network=SMALL)
    const = train(ARCH, tiny_mnist1d, seed=0, network=SMALL, config=TrainConfig(epochs=2, schedule="constant"))
    adam = train(ARCH, tiny_mnist1d, seed=0, network=SMALL,
                 config=TrainConfig(epochs=2, optimizer="adam", lr=1e-2))
    assert const.ok and adam.ok
    assert const.train_loss[0] == base.train_loss[0]  # the schedules agree until the rate decays
    assert const.train_loss[1] != base.train_loss[1] and adam.train_loss != base.train_loss


def test_training_uses_the_configured_threads_and_restores_the_caller_s(tiny_mnist1d):
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(40, 10)

        def forward(self, x):
            seen.append(torch.get_num_threads())
            return self.linear(x.flatten(1))

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train(Probe(), tiny_mnist1d, epochs=1, seed=0)
        assert set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("nesterov", [True, False])
def test_flat_sgd_is_bit_identical_to_torch_sgd(nesterov):
    from naskit.trainer.sgd import FlatSGD

    torch.manual_seed(0)  # test-local: builds two identical copies of a small model
    a = nn.Sequential(nn.Conv1d(1, 4, 3), nn.BatchNorm1d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 38, 10))
    b = copy.deepcopy(a)
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=nesterov, foreach=True)
    opt_b = FlatSGD(b.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=nesterov)
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        x = torch.randn(16, 1, 40, generator=gen)
        y = torch.randint(0, 10, (16,), generator=gen)
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            for group in opt.param_groups:
                group["lr"] *= 0.9  # as a schedule would
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_test_split_only_after_the_last_epoch_when_asked():
    data = load_dataset("mnist1d").subset(256)
    cell = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    every = train(cell, data, config=TrainConfig(epochs=3))
    last = train(cell, data, config=TrainConfig(epochs=3, test_epochs="last_epoch"))
    assert all(v != v for v in last.test_acc[:2]) and last.test_acc[2] == every.test_acc[2]
    assert last.valid_acc == every.valid_acc and last.train_loss == every.train_loss
    n_valid, n_test = len(data.y_valid), len(data.y_test)
    assert every.eval_flops == every.forward_flops * 3 * (n_valid + n_test)
    assert last.eval_flops == last.forward_flops * (3 * n_valid + n_test)
    with pytest.raises(ValueError, match="test_epochs"):
        TrainConfig(test_epochs="sometimes")
