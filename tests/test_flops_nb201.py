"""Tests for naskit.cost.nb201: FLOPs and parameters as NAS-Bench-201 counts them.

Three references: the published NB201 range (its smallest and largest networks on CIFAR-10,
CIFAR-100 and ImageNet16-120), a transcription of the counting rules of NB201's
``get_model_infos`` (D-X-Y/AutoDL-Projects, ``lib/utils/flop_benchmark.py``) run with forward
hooks on a network that builds every edge's op as NB201's ``InferCell`` does, and naskit's own
``cost.forward_flops`` / ``count_params`` where the two conventions must agree.
"""

import random
import time

import pytest
import torch
from torch import nn

import naskit
from naskit.bench.protocol import PROTOCOLS, class_representatives
from naskit.bench.store import benchmark_path
from naskit.core.configs import NetworkConfig
from naskit.core.space import CONV_KERNEL, EDGES, NUM_NODES, NB201Space, live_edges, parse
from naskit.cost.flops import count_params, forward_flops
from naskit.cost.nb201 import costs_nb201, flops_nb201, params_nb201
from naskit.nn import ops
from naskit.nn.network import build_model, skeleton, to_internal

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: 1 torch thread, restored after

NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ONE_3X3 = "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"  # input -> 3x3 conv -> output
DEAD_3X3 = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"  # node 1 feeds nothing
ONE_POOL = "|none~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|"
ONE_SKIP = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
V1 = NetworkConfig(channels=8, cells_per_stage=1)
SEQUENCE = (1, 40)  # one MNIST-1D example: (channels, length)


# --- the published numbers ---------------------------------------------------------------------
# NB201's cost_info ranges (FLOPs / 1e6, params / 1e6) over its 15,625 cells, as tabulated from its
# API by EvoXBench (min_max_values) and MO-HPOBench: the all-none cell and the all-3x3 cell.
PUBLISHED = {  # dataset: (classes, image side, (min FLOPs, max FLOPs), (min params, max params))
    "cifar10": (10, 32, (7.78305, 220.11969), (0.073306, 1.531546)),
    "cifar100": (100, 32, (7.7889, 220.12554), (0.079156, 1.537396)),
    "ImageNet16-120": (120, 16, (1.9534, 55.03756), (0.080456, 1.538696)),
}


@pytest.mark.parametrize("dataset", sorted(PUBLISHED))
def test_nb201s_published_extremes(dataset):
    classes, side, flops, params = PUBLISHED[dataset]
    nb201 = NetworkConfig(channels=16, cells_per_stage=5, ndim=2, in_channels=3, num_classes=classes)
    for arch, mflops, mparams in zip((NONE, ALL_3X3), flops, params):
        assert flops_nb201(arch, nb201, (3, side, side)) / 1e6 == pytest.approx(mflops, abs=5e-6)
        assert params_nb201(arch, nb201) / 1e6 == pytest.approx(mparams, abs=5e-7)


# --- hand counts on v1's network (8 channels, 1 cell per stage, sequences of 40) --------------------
# Stages: (8 channels, 40 positions), (16, 20), (32, 10). Multiply-adds of the skeleton:
#   stem 3*1*8*40 = 960; reductions (3*8*16 + 3*16*16 + 8*16)*20 = 25,600 and
#   (3*16*32 + 3*32*32 + 16*32)*10 = 51,200; classifier 32*10 + 10 (bias) = 330.  Total 78,090.
# A 3x3 conv edge in every cell adds 3*8*8*40 + 3*16*16*20 + 3*32*32*10 = 53,760.
SKELETON_MACS = 960 + 25_600 + 51_200 + 330
CONV3_MACS = 3 * 8 * 8 * 40 + 3 * 16 * 16 * 20 + 3 * 32 * 32 * 10
# Parameters: stem 3*8 + 2*8; reductions 3*8*16 + 32 + 3*16*16 + 32 + 8*16 and
# 3*16*32 + 64 + 3*32*32 + 64 + 16*32; head BN 64; classifier 32*10 + 10. A 3x3 conv edge adds
# its weights and its BN's affine pair in each stage: 3*8*8 + 16 + 3*16*16 + 32 + 3*32*32 + 64.
SKELETON_PARAMS = 40 + (384 + 32 + 768 + 32 + 128) + (1536 + 64 + 3072 + 64 + 512) + 64 + 330
CONV3_PARAMS = 3 * 64 + 16 + 3 * 256 + 32 + 3 * 1024 + 64


def test_hand_count_of_a_cell_of_one_3x3_conv():
    assert flops_nb201(NONE, V1, SEQUENCE) == SKELETON_MACS == 78_090
    assert flops_nb201(ONE_3X3, V1, SEQUENCE) == SKELETON_MACS + CONV3_MACS == 131_850
    assert params_nb201(NONE, V1) == SKELETON_PARAMS == 7_026
    assert params_nb201(ONE_3X3, V1) == SKELETON_PARAMS + CONV3_PARAMS == 11_170


def test_a_dead_conv_counts_like_a_live_one_in_nb201_but_not_in_naskit():
    assert DEAD_3X3 != ONE_3X3 and live_edges(parse(DEAD_3X3)) == []
    assert flops_nb201(DEAD_3X3, V1, SEQUENCE) == flops_nb201(ONE_3X3, V1, SEQUENCE)
    assert params_nb201(DEAD_3X3, V1) == params_nb201(ONE_3X3, V1)
    x = torch.zeros(1, *SEQUENCE)
    dead, live = build_model(DEAD_3X3, V1), build_model(ONE_3X3, V1)
    assert forward_flops(dead, x) == forward_flops(build_model(NONE, V1), x) < forward_flops(live, x)
    assert count_params(dead) == SKELETON_PARAMS


def test_pooling_skip_and_none_cost_nothing():
    for arch in (ONE_POOL, ONE_SKIP):
        assert flops_nb201(arch, V1, SEQUENCE) == flops_nb201(NONE, V1, SEQUENCE)
        assert params_nb201(arch, V1) == params_nb201(NONE, V1)


# --- a transcription of NB201's get_model_infos, run on a network that runs every edge ----------------
class EveryEdgeCell(nn.Module):
    """NB201's ``InferCell``: one op per edge, dead or live (``none`` is a zero, skip an identity)."""

    def __init__(self, arch, ndim: int, width: int):
        super().__init__()
        self.arch = arch
        self.edges = nn.ModuleDict()
        for e, op in enumerate(arch.ops):
            if op in CONV_KERNEL:
                self.edges[str(e)] = ops.relu_conv_bn(ndim, width, width, CONV_KERNEL[op])
            elif op == "avg_pool_3x3":
                self.edges[str(e)] = ops.avg_pool(ndim)
            elif op == "skip_connect":
                self.edges[str(e)] = nn.Identity()

    def forward(self, x):
        nodes = [x]
        for i in range(1, NUM_NODES):
            terms = [self.edges[str(e)](nodes[j]) if str(e) in self.edges else nodes[j] * 0.0
                     for e, (ii, j) in enumerate(EDGES) if ii == i]
            nodes.append(sum(terms))
        return nodes[-1]


class EveryEdgeNetwork(nn.Module):
    """naskit's macro skeleton around ``EveryEdgeCell``s."""

    def __init__(self, arch, config: NetworkConfig):
        super().__init__()
        self.ndim = config.ndim
        self.stem, self.cells, self.head, self.classifier = skeleton(
            config, lambda width: EveryEdgeCell(arch, config.ndim, width))

    def forward(self, x):
        return self.classifier(self.head(self.cells(self.stem(to_internal(x, self.ndim)))).mean((2, 3)))


def reference_model_infos(model: nn.Module, batch: torch.Tensor) -> tuple[float, int]:
    """(multiply-adds per example, parameters) by NB201's rules (transcribed, not copied):
    Conv2d: k_h*k_w*C_in*C_out/groups per output position (+ C_out with a bias); Linear:
    in*out (+ out with a bias); pooling is hooked but left out of the sum; the total over the
    batch is divided by the batch size; parameters: every tensor of ``model.parameters()``."""
    total = [0.0]

    def conv_hook(module, inputs, output):
        positions = output.shape[0] * output.shape[2] * output.shape[3]
        kh, kw = module.kernel_size
        total[0] += kh * kw * module.in_channels * module.out_channels / module.groups * positions
        if module.bias is not None:
            total[0] += module.out_channels * positions

    def linear_hook(module, inputs, output):
        total[0] += inputs[0].shape[0] * (module.in_features * module.out_features
                                          + (module.out_features if module.bias is not None else 0))

    handles = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    handles += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            model.eval()(batch)
    finally:
        for h in handles:
            h.remove()
    return total[0] / batch.shape[0], sum(p.numel() for p in model.parameters())


SPACE = NB201Space()
SAMPLE = [ONE_3X3, DEAD_3X3, ONE_POOL, ALL_3X3, NONE] + [str(SPACE.sample(random.Random(s))) for s in range(12)]
CONFIGS = {  # config, one example's shape
    "v1": (V1, SEQUENCE),
    "v2": (NetworkConfig(channels=4, cells_per_stage=3), SEQUENCE),
    "images": (NetworkConfig(channels=4, cells_per_stage=2, ndim=2, in_channels=3, num_classes=7), (3, 8, 12)),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_equals_a_transcription_of_nb201s_counting_rules(name):
    config, shape = CONFIGS[name]
    for arch in SAMPLE:
        model = EveryEdgeNetwork(parse(arch), config)
        macs, params = reference_model_infos(model, torch.rand(3, *shape))
        assert (flops_nb201(arch, config, shape), params_nb201(arch, config)) == (macs, params), arch


# --- where naskit's convention and NB201's must agree --------------------------------------------------
def dead_conv_macs(arch, config: NetworkConfig, shape) -> int:
    """Multiply-adds of the convs naskit does not build: NB201 counts them, naskit does not."""
    positions = [shape[-1] // 2**s * (shape[1] // 2**s if config.ndim == 2 else 1) for s in range(3)]
    live = live_edges(arch)
    dead = sum(CONV_KERNEL[op] ** config.ndim for e, op in enumerate(arch.ops)
               if op in CONV_KERNEL and e not in live)
    return config.cells_per_stage * dead * sum((config.channels * 2**s) ** 2 * positions[s] for s in range(3))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_naskits_forward_flops_are_twice_nb201s_less_the_bias_and_dead_convs(name):
    config, shape = CONFIGS[name]
    x = torch.zeros(1, *shape)
    seen = {"with dead convs": 0, "without": 0}
    for arch in map(parse, SAMPLE):
        model = build_model(arch, config)
        dead = dead_conv_macs(arch, config, shape)
        seen["with dead convs" if dead else "without"] += 1
        nb201 = flops_nb201(arch, config, shape)
        # FlopCounterMode: 2 per multiply-add, no bias; the network leaves dead convs out
        assert forward_flops(model, x) == 2 * (nb201 - config.num_classes - dead), arch
        if not dead:
            assert count_params(model) == params_nb201(arch, config), arch
        else:
            assert count_params(model) < params_nb201(arch, config), arch
    assert min(seen.values()) > 0, seen


def test_ratio_to_naskit_is_two_without_dead_convs_and_below_with_them():
    x = torch.zeros(1, *SEQUENCE)
    ratio = {a: forward_flops(build_model(a, V1), x) / flops_nb201(a, V1, SEQUENCE) for a in (ALL_3X3, DEAD_3X3)}
    assert ratio[ALL_3X3] == pytest.approx(2, abs=1e-3)
    assert ratio[DEAD_3X3] == pytest.approx(2 * (SKELETON_MACS - 10) / (SKELETON_MACS + CONV3_MACS))  # 1.18


# --- errors, speed, batches of cells ----------------------------------------------------------------------
@pytest.mark.parametrize("shape, match", [((40,), "input_shape"), ((3, 40), "in_channels=1"), ((1, 42), "odd size")])
def test_bad_input_shapes_are_named(shape, match):
    with pytest.raises(ValueError, match=match):
        flops_nb201(ONE_3X3, V1, shape)


def test_every_class_is_counted_in_well_under_a_second_per_network():
    reps = list(class_representatives(SPACE).values())
    for version in ("v1", "v2"):
        network = PROTOCOLS[version].network
        start = time.perf_counter()
        flops, params = costs_nb201(reps, network, SEQUENCE)
        assert time.perf_counter() - start < 10  # about 0.1 s on a laptop core
        assert len(flops) == len(params) == 6466
        assert flops[7] == flops_nb201(reps[7], network, SEQUENCE) and params[7] == params_nb201(reps[7], network)


@pytest.mark.skipif(not benchmark_path("v1").exists(), reason="no v1 table in data/")
def test_the_shipped_table_predating_the_counts_gets_them_at_load_time():
    bench = naskit.load_benchmark("v1")
    network = PROTOCOLS["v1"].network
    for i in (0, 5, len(bench.entry_names) - 1):
        assert bench.class_costs("flops_nb201")[i] == flops_nb201(bench.entry_names[i], network, SEQUENCE)
        assert bench.query(bench.entry_names[i]).params_nb201 == params_nb201(bench.entry_names[i], network)
