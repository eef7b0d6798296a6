"""The architecture picker and the pure functions under it, without a browser."""

import matplotlib
import pytest
import torch

from naskit.core.configs import NetworkConfig
from naskit.core.space import OPS, Arch, NB201Space, parse
from naskit.cost import flops as cost
from naskit.nn.network import build_model
from naskit.viz.widgets import arch_from_choices, arch_picker, describe_arch

matplotlib.use("Agg")  # headless: no display needed

CHOICES = ["nor_conv_3x3", "none", "skip_connect", "none", "none", "nor_conv_1x1"]


def test_arch_from_choices_follows_edge_order():
    arch = arch_from_choices(CHOICES)
    assert str(arch) == "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"
    with pytest.raises(ValueError, match="conv_5x5"):
        arch_from_choices(CHOICES[:5] + ["conv_5x5"])
    with pytest.raises(ValueError, match="6 edges"):
        arch_from_choices(CHOICES[:5])


@pytest.mark.parametrize("config", [None, NetworkConfig(channels=4, ndim=2)])
def test_describe_arch_matches_cost_module(config):
    arch = arch_from_choices(CHOICES)
    info = describe_arch(arch, config)
    model = build_model(arch, config or NetworkConfig())
    shape = (1, 1, 40) if config is None else (1, 1, 8, 8)
    assert info["params"] == cost.count_params(model)
    assert info["forward_flops"] == cost.forward_flops(model, torch.zeros(shape))
    assert info["arch"] == str(arch) and info["canonical"] == NB201Space().canonical(arch)
    assert info["live_edges"] == [0, 2, 5] and info["is_connected"]


def test_describe_arch_of_a_disconnected_cell():
    info = describe_arch(Arch(("none",) * 6))
    assert not info["is_connected"] and info["live_edges"] == []


def test_picker_reacts_to_dropdown_changes():
    picker = arch_picker(arch_from_choices(CHOICES))
    assert [d.description for d in picker.dropdowns][:3] == ["node 0 → node 1", "node 0 → node 2", "node 1 → node 2"]
    assert all(tuple(d.options) == OPS for d in picker.dropdowns)
    before_png, before_params = picker.image.value, picker.info["params"]
    picker.dropdowns[5].value = "nor_conv_3x3"
    assert picker.arch == parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_3x3~2|")
    assert picker.info == describe_arch(picker.arch)
    assert picker.info["params"] > before_params
    assert bytes(picker.image.value) != bytes(before_png) and bytes(picker.image.value).startswith(b"\x89PNG")
    assert str(picker.arch) in picker.html.value and f"{picker.info['params']:,}" in picker.html.value


def test_picker_arch_can_be_set_whole():
    picker = arch_picker()
    picker.arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert [d.value for d in picker.dropdowns] == ["none"] * 6
    assert picker.info["is_connected"] is False and "outputs zeros" in picker.html.value
