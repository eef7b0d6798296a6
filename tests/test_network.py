"""Tests for naskit.nn.network and naskit.nn.ops against reference implementations and hand counts.

The fused ``Cell`` (shared ReLUs, sibling convolutions in one kernel, dead edges left out) is
compared with a plain edge-by-edge NB201 cell written here from PyTorch's own layers:
``nn.Conv1d``/``nn.BatchNorm1d``/``nn.AvgPool1d`` for sequences, their 2-D versions for images.
"""

import random

import pytest
import torch
from torch import nn

from naskit.core.configs import NetworkConfig
from naskit.core.space import OPS, NB201Space, live_edges, parse
from naskit.cost.flops import count_params
from naskit.nn.network import Cell, Network, build_model
from naskit.nn.ops import AvgPool3, Halve

# Tiny tensors gain nothing from threads, and lose a lot when other work holds the cores.
pytestmark = pytest.mark.usefixtures("one_thread")
SPACE = NB201Space()
# (to_node, from_node) in NB201 string order, written out rather than imported
EDGE_LIST = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
NONE6 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
CONV3_ONLY = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


# --- the reference cell ------------------------------------------------------------------------
class ReferenceCell(nn.Module):
    """NB201's cell, one module per edge: node i = sum over j < i of op_ij(node j).

    A node none of whose inputs carries a signal is the zero function (``None`` here), and an
    edge from it adds nothing: NB201's '#' rule, which the fused cell implements by pruning.
    """

    def __init__(self, arch, ndim, c):
        super().__init__()
        conv, bn = (nn.Conv1d, nn.BatchNorm1d) if ndim == 1 else (nn.Conv2d, nn.BatchNorm2d)
        pool = nn.AvgPool1d if ndim == 1 else nn.AvgPool2d
        self.arch = arch
        self.edges = nn.ModuleDict()
        for e, op in enumerate(arch.ops):
            if op in ("nor_conv_1x1", "nor_conv_3x3"):
                k = int(op[-1])
                self.edges[str(e)] = nn.Sequential(nn.ReLU(), conv(c, c, k, padding=k // 2, bias=False), bn(c))
            elif op == "avg_pool_3x3":
                self.edges[str(e)] = pool(3, stride=1, padding=1, count_include_pad=False)
            elif op == "skip_connect":
                self.edges[str(e)] = nn.Identity()

    def forward(self, x):
        nodes = [x]
        for i in (1, 2, 3):
            terms = [
                self.edges[str(e)](nodes[j])
                for e, (to, j) in enumerate(EDGE_LIST)
                if to == i and self.arch.ops[e] != "none" and nodes[j] is not None
            ]
            nodes.append(sum(terms[1:], terms[0]) if terms else None)
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


def randomize_(module, gen):
    """Random weights, BN affine parameters and running statistics (variance kept positive)."""
    with torch.no_grad():
        for name, t in [*module.named_parameters(), *module.named_buffers()]:
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            else:
                t.copy_(0.5 * torch.randn(t.shape, generator=gen))


def reference_like(cell, ndim, gen):
    """A ReferenceCell holding the fused cell's weights, via ``Cell.edge_weights``.

    Edges the fused cell did not build keep random weights of their own: if such an edge could
    reach the output, the two cells would disagree.
    """
    ref = ReferenceCell(cell.arch, ndim, cell.channels)
    randomize_(ref, gen)
    with torch.no_grad():
        for e in range(6):
            w = cell.edge_weights(e)
            if not w:
                continue
            _, conv, bn = ref.edges[str(e)]
            conv.weight.copy_(w["conv.weight"].reshape(conv.weight.shape))  # (C, C, 1, k) -> (C, C, k) in 1-D
            for key in ("weight", "bias", "running_mean", "running_var"):
                getattr(bn, key).copy_(w[f"bn.{key}"])
    return ref


def internal(x, ndim):
    """The fused cell's layout: channels-last 4-D, a sequence as height 1."""
    return (x.unsqueeze(2) if ndim == 1 else x).contiguous(memory_format=torch.channels_last)


def external(y, ndim):
    return y.squeeze(2) if ndim == 1 else y


def random_archs(n, seed):
    rng = random.Random(seed)
    fixed = [CONV3_ONLY, NONE6,
             "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|"]
    return [parse(s) for s in fixed] + [SPACE.sample(rng) for _ in range(n)]


@pytest.mark.parametrize("ndim, shape", [(1, (4, 3, 11)), (2, (4, 3, 5, 6))])
def test_fused_cell_equals_edge_by_edge_reference(ndim, shape):
    gen = torch.Generator().manual_seed(ndim)
    for arch in random_archs(40, seed=ndim):
        cell = Cell(arch, ndim, channels=shape[1])
        randomize_(cell, gen)
        ref = reference_like(cell, ndim, gen)
        x = torch.randn(shape, generator=gen)
        # eval: running statistics; train: batch statistics, and both update the running ones
        cell.eval(), ref.eval()
        torch.testing.assert_close(external(cell(internal(x, ndim)), ndim), ref(x), atol=1e-5, rtol=0)
        cell.train(), ref.train()
        torch.testing.assert_close(external(cell(internal(x, ndim)), ndim), ref(x), atol=1e-5, rtol=0)
        for e in live_edges(arch):
            w = cell.edge_weights(e)
            if w:
                bn = ref.edges[str(e)][2]
                torch.testing.assert_close(w["bn.running_mean"], bn.running_mean, atol=1e-6, rtol=0)
                torch.testing.assert_close(w["bn.running_var"], bn.running_var, atol=1e-6, rtol=0)
        cell.eval(), ref.eval()
        torch.testing.assert_close(external(cell(internal(x, ndim)), ndim), ref(x), atol=1e-5, rtol=0)


def test_fused_cell_gradients_equal_reference():
    gen = torch.Generator().manual_seed(5)
    arch = parse(CONV3_ONLY)
    cell = Cell(arch, 1, channels=3)
    randomize_(cell, gen)
    ref = reference_like(cell, 1, gen)
    x = torch.randn(4, 3, 9, generator=gen)
    external(cell(internal(x, 1)), 1).square().sum().backward()
    ref(x).square().sum().backward()
    # edge (1, 0)'s conv is rows 0..C-1 of the fused node-0 conv
    fused_grad = cell.convs["0_nor_conv_3x3"][0].weight.grad[:3].reshape(3, 3, 3)
    torch.testing.assert_close(fused_grad, ref.edges["0"][1].weight.grad, atol=1e-4, rtol=1e-5)


# --- live edges and dead cells -----------------------------------------------------------------
@pytest.mark.parametrize(
    "arch, live",
    [
        ("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|", [0, 2, 5]),
        (CONV3_ONLY, [0, 1, 2, 3, 4, 5]),
        # node 2 feeds nothing (2 -> 3 is none): edges into it are dead
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|", [0, 3, 4]),
        # node 1 gets no signal (0 -> 1 is none): edges out of it are dead
        ("|none~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|skip_connect~2|", [1, 5]),
        # node 1 has a signal but no way to the output
        ("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", []),
        # node 2 is fed only by zeros, so its conv to the output is dead
        ("|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|", []),
        (NONE6, []),
        ("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", [3]),
    ],
)
def test_live_edges_hand_worked(arch, live):
    assert live_edges(parse(arch)) == live


@pytest.mark.parametrize(
    "arch",
    [
        NONE6,
        "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|",
    ],
)
@pytest.mark.parametrize("ndim", [1, 2])
def test_disconnected_cell_outputs_zeros_and_has_no_weights(arch, ndim):
    cell = Cell(parse(arch), ndim, channels=4)
    assert count_params(cell) == 0
    x = internal(torch.randn((2, 4, 7) if ndim == 1 else (2, 4, 5, 5)), ndim)
    for mode in (True, False):
        cell.train(mode)
        y = cell(x)
        assert y.shape == x.shape
        assert torch.equal(y, torch.zeros_like(x))


def test_edge_weights_empty_for_weightless_and_dead_edges():
    cell = Cell(parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|avg_pool_3x3~0|skip_connect~1|none~2|"), 1, 4)
    assert cell.edge_weights(0)["conv.weight"].shape == (4, 4, 1, 3)
    assert cell.edge_weights(1) == {}  # conv into node 2, which feeds nothing
    assert cell.edge_weights(2) == {}  # none
    assert cell.edge_weights(3) == {}  # pool
    assert cell.edge_weights(4) == {}  # skip


# --- ops against PyTorch's pooling layers -----------------------------------------------------
@pytest.mark.parametrize("length", [1, 2, 3, 4, 7, 40])
def test_avgpool3_1d_equals_avgpool1d_ignoring_padding(length):
    x = torch.randn(2, 3, length)
    ref = nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False)(x)
    torch.testing.assert_close(external(AvgPool3(1)(internal(x, 1)), 1), ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("hw", [(1, 1), (1, 5), (2, 2), (3, 4), (5, 3), (8, 8)])
def test_avgpool3_2d_equals_avgpool2d_ignoring_padding(hw):
    x = torch.randn(2, 3, *hw)
    ref = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)(x)
    torch.testing.assert_close(AvgPool3(2)(internal(x, 2)), ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("length", [2, 5, 8, 40])
def test_halve_1d_equals_avgpool1d(length):
    x = torch.randn(2, 3, length)
    torch.testing.assert_close(external(Halve(1)(internal(x, 1)), 1), nn.AvgPool1d(2, 2)(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("hw", [(2, 2), (3, 5), (8, 8), (7, 4)])
def test_halve_2d_equals_avgpool2d(hw):
    x = torch.randn(2, 3, *hw)
    torch.testing.assert_close(Halve(2)(internal(x, 2)), nn.AvgPool2d(2, 2)(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("op", [AvgPool3, Halve])
def test_pool_ops_reject_bad_ndim(op):
    with pytest.raises(ValueError, match="ndim must be 1"):
        op(3)


# --- the macro network -------------------------------------------------------------------------
ARCH = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|"


def test_output_shape_for_sequences():
    model = build_model(ARCH, seed=0)
    assert model(torch.randn(5, 1, 40)).shape == (5, 10)


def test_output_shape_for_images():
    model = build_model(ARCH, ndim=2, seed=0)
    assert model(torch.randn(5, 1, 8, 8)).shape == (5, 10)


def test_output_shape_follows_config():
    model = build_model(ARCH, NetworkConfig(channels=4, cells_per_stage=2, in_channels=3, num_classes=7), seed=0)
    assert model(torch.randn(2, 3, 32)).shape == (2, 7)
    assert sum(isinstance(m, Cell) for m in model.cells) == 6


@pytest.mark.parametrize("ndim, bad_shape", [(1, (5, 40)), (1, (5, 1, 8, 8)), (2, (5, 1, 40)), (2, (5, 8, 8))])
def test_wrong_input_rank_raises_value_error(ndim, bad_shape):
    model = build_model(ARCH, ndim=ndim, seed=0)
    with pytest.raises(ValueError, match=str(tuple(bad_shape)).replace("(", r"\(").replace(")", r"\)")):
        model(torch.randn(bad_shape))


def test_bad_network_config_raises_value_error():
    with pytest.raises(ValueError, match="ndim"):
        NetworkConfig(ndim=3)
    with pytest.raises(ValueError, match="channels"):
        NetworkConfig(channels=0)
    with pytest.raises(ValueError, match="either a NetworkConfig"):
        build_model(ARCH, NetworkConfig(), channels=4)


def skeleton_params(c):
    """Hand count of everything but the cells, for 1-D, 1 input channel, 10 classes (3-wide convs)."""
    stem = 1 * c * 3 + 2 * c  # conv (no bias) + BN (weight, bias)

    def reduction(c_in, c_out):  # ReLU-conv3(stride 2)-BN, ReLU-conv3-BN, avgpool + conv1x1 shortcut
        return (c_in * c_out * 3 + 2 * c_out) + (c_out * c_out * 3 + 2 * c_out) + c_in * c_out

    head = 2 * (4 * c) + (4 * c * 10 + 10)  # BN + linear with bias
    return stem + reduction(c, 2 * c) + reduction(2 * c, 4 * c) + head


def test_skeleton_hand_count_for_8_channels():
    # 40 + (384+32+768+32+128) + (1536+64+3072+64+512) + (64+330)
    assert skeleton_params(8) == 7026


def test_parameter_count_of_empty_cell_is_the_skeleton():
    assert count_params(build_model(NONE6)) == skeleton_params(8) == 7026


def test_parameter_count_of_one_live_conv_matches_hand_count():
    # Edge 1->0 conv3 reaches the output via skip 3<-1; the conv1 into node 2 is dead (2 -> 3 is none).
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|none~2|"
    cell = sum(w * w * 3 + 2 * w for w in (8, 16, 32))  # conv3 weights + BN per stage width
    assert count_params(build_model(arch)) == skeleton_params(8) + cell == 11170


def test_parameter_count_of_all_conv3_cell_in_2d():
    c = 4
    conv_1x1_free = (3 * 3 * 1 * c + 2 * c) + 2 * (4 * c) + (4 * c * 10 + 10)  # stem, head

    def reduction(ci, co):
        return (ci * co * 9 + 2 * co) + (co * co * 9 + 2 * co) + ci * co

    cells = sum(6 * (w * w * 9 + 2 * w) for w in (c, 2 * c, 4 * c))
    expected = conv_1x1_free + reduction(c, 2 * c) + reduction(2 * c, 4 * c) + cells
    assert count_params(build_model(CONV3_ONLY, channels=c, ndim=2)) == expected


def test_build_model_is_reproducible_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b, c = build_model(ARCH, seed=3), build_model(ARCH, seed=3), build_model(ARCH, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert sa.keys() == sb.keys() == sc.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_build_model_accepts_arch_or_string():
    a, b = build_model(ARCH, seed=1), build_model(parse(ARCH), seed=1)
    assert isinstance(a, Network) and a.arch == parse(ARCH)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_build_model_on_cpu_device(device):
    model = build_model(ARCH, seed=0, device=device)
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert model(torch.zeros(2, 1, 40)).shape == (2, 10)


def test_every_op_appears_in_a_reference_checked_cell():
    # guard for the reference test above: its cells use every op on every edge
    seen = {(e, op) for arch in random_archs(40, seed=1) + random_archs(40, seed=2) for e, op in enumerate(arch.ops)}
    assert seen == {(e, op) for e in range(6) for op in OPS}
