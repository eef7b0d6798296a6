"""Tests for naskit.cost: parameter and FLOP counts against hand counts, energy arithmetic."""

import sys

import pytest
import torch
from torch import nn

from naskit.cost.energy import ENERGY_MODEL, EnergyEstimate, estimate_energy, measure_energy
from naskit.cost.flops import count_params, forward_flops, train_step_flops


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 5))


def test_count_params_matches_hand_count():
    assert count_params(mlp()) == (10 * 8 + 8) + (8 * 5 + 5)  # weights + biases = 133


def test_count_params_skips_frozen_parameters():
    model = nn.Sequential(nn.Linear(10, 8), nn.BatchNorm1d(8))
    model[1].requires_grad_(False)  # BN's 16 affine parameters frozen
    assert count_params(model) == 10 * 8 + 8


def test_forward_flops_of_linear_counts_two_per_multiply_add():
    # FlopCounterMode counts addmm as 2*M*N*K and ignores the bias add: 2 * 3 * 10 * 5.
    assert forward_flops(nn.Linear(10, 5), torch.randn(3, 10)) == 300


@pytest.mark.parametrize("stride, padding, groups", [(1, 1, 1), (2, 0, 2), (1, 2, 4)])
def test_forward_flops_of_conv1d_matches_closed_form(stride, padding, groups):
    n, c_in, c_out, length, k = 2, 4, 8, 16, 3
    conv = nn.Conv1d(c_in, c_out, k, stride=stride, padding=padding, groups=groups)
    l_out = (length + 2 * padding - k) // stride + 1
    expected = 2 * n * c_out * l_out * (c_in // groups) * k  # 2 FLOPs per multiply-add
    assert forward_flops(conv, torch.randn(n, c_in, length)) == expected


def test_forward_flops_leaves_model_untouched():
    model = nn.Sequential(nn.Linear(10, 8), nn.BatchNorm1d(8), nn.Dropout(0.5)).train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    forward_flops(model, torch.randn(4, 10) + 3.0)
    assert model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key  # BN running stats and count unchanged


def test_train_step_flops_of_one_linear_is_forward_plus_weight_gradient():
    # Backward of y = x W^T costs a weight gradient (= forward) and an input gradient
    # (= forward); the input is data, so its gradient is skipped: 2x forward, not 3x.
    linear, x, y = nn.Linear(10, 5), torch.randn(3, 10), torch.tensor([0, 1, 2])
    assert train_step_flops(linear, x, y) == 2 * forward_flops(linear, x)


def test_train_step_flops_of_mlp_is_close_to_three_forwards():
    model, x, y = mlp(), torch.randn(3, 10), torch.tensor([0, 1, 2])
    fwd = [2 * 3 * 10 * 8, 2 * 3 * 8 * 5]
    # forward + weight gradients of both layers + input gradient of the second layer only
    assert train_step_flops(model, x, y) == 2 * sum(fwd) + fwd[1]
    assert 2 * forward_flops(model, x) < train_step_flops(model, x, y) <= 3 * forward_flops(model, x)


def test_estimate_energy_matches_hand_calculation():
    e = estimate_energy(cpu_seconds=7200, wall_seconds=3600)
    cpu_joules = 7200 * 12.0  # CPU-seconds x W per core
    memory_joules = 3600 * 4.0 * 0.3725  # wall seconds x GB x W per GB
    assert e.cpu_kwh == pytest.approx(cpu_joules / 3.6e6)  # 0.024 kWh
    assert e.memory_kwh == pytest.approx(memory_joules / 3.6e6)  # 0.00149 kWh
    assert e.gpu_kwh == 0.0
    assert e.kwh == pytest.approx(0.02549)
    assert e.kg_co2e == pytest.approx(0.02549 * 0.475)
    assert e.model == ENERGY_MODEL and "Green Algorithms" in e.model
    assert e.assumptions.device == "cpu" and e.assumptions.watts_per_core == 12.0


def test_estimate_energy_overrides_and_gpu():
    e = estimate_energy(
        100, 3600, device="cuda:0", watts_per_core=10, memory_gb=0, pue=1.5, kg_co2e_per_kwh=0.1
    )
    assert e.gpu_kwh == pytest.approx(1.5 * 3600 * 250 / 3.6e6)  # V100 TDP for an hour, x PUE
    assert e.kwh == pytest.approx(1.5 * (100 * 10 + 3600 * 250) / 3.6e6)
    assert e.kg_co2e == pytest.approx(e.kwh * 0.1)
    assert e.cpu_kwh + e.memory_kwh + e.gpu_kwh == pytest.approx(e.kwh)
    assert estimate_energy(0, 3600, device="mps", gpu_watts=20, memory_gb=0).kwh == pytest.approx(0.02)


def test_energy_estimate_is_frozen_and_serialisable():
    e = estimate_energy(1.0, 1.0)
    assert isinstance(e, EnergyEstimate) and hash(e) == hash(estimate_energy(1.0, 1.0))
    with pytest.raises(AttributeError):
        e.kwh = 0.0
    assert e.to_dict()["assumptions"]["pue"] == 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cpu_seconds": -1, "wall_seconds": 1}, "cpu_seconds"),
        ({"cpu_seconds": 1, "wall_seconds": float("nan")}, "wall_seconds"),
        ({"cpu_seconds": 1, "wall_seconds": 1, "pue": 0.5}, "pue"),
        ({"cpu_seconds": 1, "wall_seconds": 1, "device": "mps"}, "gpu_watts"),
    ],
)
def test_estimate_energy_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimate_energy(**kwargs)


def test_measure_energy_without_codecarbon_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "codecarbon", None)  # makes `import codecarbon` fail
    with pytest.raises(ImportError, match=r"naskit\[energy\]"), measure_energy("FRA"):
        pass


def test_measure_energy_with_codecarbon():
    pytest.importorskip("codecarbon")
    with measure_energy("FRA", measure_power_secs=1) as energy:
        sum(range(100_000))
    assert energy.kwh >= 0 and energy.kg_co2e >= 0 and energy.seconds > 0
    assert energy.source.startswith("codecarbon")


def test_gpu_hours_is_flops_over_peak_times_utilisation():
    from naskit.cost.energy import REFERENCE_GPU_FLOPS, gpu_hours

    assert gpu_hours(REFERENCE_GPU_FLOPS * 3600, utilization=1.0) == pytest.approx(1.0)
    assert gpu_hours(1e15, utilization=0.5, peak_flops=1e12) == pytest.approx(1e15 / 0.5e12 / 3600)
    with pytest.raises(ValueError, match="utilization"):
        gpu_hours(1.0, utilization=0)
