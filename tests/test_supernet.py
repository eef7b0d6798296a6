"""Tests for naskit.nn.supernet against the stand-alone ``Network`` and hand counts.

The reference is ``naskit.nn.network.Network`` (itself tested against an edge-by-edge NB201
cell in test_network.py): a single path through the supernet must compute exactly the
network that ``extract`` builds from the supernet's weights.
"""

import doctest
import random

import pytest
import torch

import naskit.nn.supernet
from naskit.core.configs import NetworkConfig
from naskit.core.space import EDGES, OPS, NB201Space, live_edges, parse
from naskit.cost.flops import count_params
from naskit.nn.network import build_model
from naskit.nn.supernet import MixedEdge, SuperCell, build_supernet

pytestmark = pytest.mark.usefixtures("one_thread")
SPACE = NB201Space()
NONE6 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SKIP6 = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
SPECIAL = [
    NONE6,
    SKIP6,
    # disconnected: node 1 has no input, so the 1x1 conv 1 -> 3 is dead
    "|none~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_1x1~1|none~2|",
    # node 2 is a dead end: its convs are dead, the rest live
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
]
ARCHS = [parse(s) for s in SPECIAL] + [SPACE.sample(random.Random(i)) for i in range(15)]


def inputs(ndim, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (batch, 1, 40) if ndim == 1 else (batch, 1, 8, 8)
    return torch.randn(shape, generator=g)


def config(ndim):
    return NetworkConfig(channels=4, ndim=ndim)


@torch.no_grad()
def randomize_bn(model, seed=1):
    """Give every BN non-default parameters and statistics, so that copying them matters."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            if m.affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g))
            if m.track_running_stats:
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model


def onehot(arch):
    return torch.tensor(SPACE.encode(arch)).view(6, 5)


# --- single path == extracted stand-alone network -------------------------------------------------
@pytest.mark.parametrize("ndim", [1, 2])
def test_single_path_equals_extracted_network_eval_and_train(ndim):
    supernet = randomize_bn(build_supernet(config(ndim), seed=0, affine=True, track_running_stats=True))
    x = inputs(ndim)
    for arch in ARCHS:
        supernet.eval()
        net = supernet.extract(arch)
        assert not net.training
        with torch.no_grad():
            torch.testing.assert_close(net(x), supernet(x, arch=arch), atol=1e-5, rtol=1e-5)
        # train mode: batch statistics, and both update their running statistics alike
        supernet.train(), net.train()
        torch.testing.assert_close(net(x), supernet(x, arch=arch), atol=1e-5, rtol=1e-5)
        supernet.eval(), net.eval()
        with torch.no_grad():
            torch.testing.assert_close(net(x), supernet(x, arch=arch), atol=1e-5, rtol=1e-5)


def test_extracted_network_has_the_standalone_parameter_count():
    supernet = build_supernet(config(1), seed=0, affine=True, track_running_stats=True)
    for arch in ARCHS[:6]:
        assert count_params(supernet.extract(arch)) == count_params(build_model(arch, config(1)))


def test_default_bn_extract_matches_in_train_mode_with_identity_affine():
    supernet = randomize_bn(build_supernet(config(1), seed=0))  # affine=False, no running stats
    x = inputs(1)
    arch = ARCHS[4]
    net = supernet.extract(arch)
    torch.testing.assert_close(net(x), supernet(x, arch=arch), atol=1e-5, rtol=1e-5)
    fused = net.cells[0].convs["0_nor_conv_3x3"][1]
    assert torch.all(fused.weight == 1) and torch.all(fused.bias == 0)


def test_extract_copies_into_the_fused_layout_and_does_not_share_storage():
    supernet = build_supernet(config(1), seed=0, affine=True, track_running_stats=True)
    arch = ARCHS[3]
    net = supernet.extract(arch)
    for e in live_edges(arch):
        views = net.cells[0].edge_weights(e)
        if views:
            source = supernet.cells[0].edges[e].ops[arch.ops[e]][1].weight
            assert torch.equal(views["conv.weight"], source)
    with torch.no_grad():
        supernet.cells[0].edges[0].ops["nor_conv_3x3"][1].weight.add_(1.0)
    assert not torch.equal(net.cells[0].edge_weights(0)["conv.weight"],
                           supernet.cells[0].edges[0].ops["nor_conv_3x3"][1].weight)


# --- weighted (DARTS) and hard (GDAS) modes --------------------------------------------------------
@pytest.mark.parametrize("ndim", [1, 2])
def test_one_hot_weights_equal_the_single_path(ndim):
    supernet = build_supernet(config(ndim), seed=0)
    x = inputs(ndim)
    for arch in ARCHS[:8]:
        torch.testing.assert_close(supernet(x, weights=onehot(arch)), supernet(x, arch=arch), atol=1e-6, rtol=1e-6)


def test_mixed_edge_is_linear_in_its_weights_and_picks_an_op_with_one_hot():
    edge = MixedEdge(1, 4, affine=False, track_running_stats=False)
    x = torch.randn(8, 4, 1, 40)
    w1, w2 = torch.rand(5), torch.rand(5)
    torch.testing.assert_close(edge(x, w1 + w2), edge(x, w1) + edge(x, w2), atol=1e-5, rtol=1e-5)
    for k, op in enumerate(OPS):
        expected = torch.zeros_like(x) if op == "none" else edge.ops[op](x)
        torch.testing.assert_close(edge(x, torch.eye(5)[k]), expected)


def test_gradient_reaches_every_non_none_weight():
    supernet = build_supernet(config(1), seed=0)
    x, y = inputs(1), torch.arange(8) % 10
    weights = torch.softmax(torch.randn(6, 5, generator=torch.Generator().manual_seed(0)), dim=1)
    weights.requires_grad_()
    torch.nn.functional.cross_entropy(supernet(x, weights=weights), y).backward()
    assert torch.all(weights.grad[:, 0] == 0)  # 'none' adds zero whatever its weight
    assert torch.all(weights.grad[:, 1:] != 0)


def straight_through(arch, seed=0):
    """Logits (6, 5) and a straight-through sample ``one_hot - p.detach() + p`` that picks ``arch``."""
    logits = torch.randn(6, 5, generator=torch.Generator().manual_seed(seed)).requires_grad_()
    probs = torch.softmax(logits, dim=1)
    hard = onehot(arch) - probs.detach() + probs  # straight-through (Dong & Yang 2019)
    hard.retain_grad()
    return logits, hard


@pytest.mark.parametrize("add_unchosen", [True, False], ids=["forward_gdas", "forward_gdas_v1"])
def test_hard_straight_through_equals_single_path_and_gives_gradients(add_unchosen):
    supernet = build_supernet(config(1), seed=0)
    x, y = inputs(1), torch.arange(8) % 10
    arch = parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|")
    logits, hard = straight_through(arch)
    out = supernet(x, hard=hard, add_unchosen=add_unchosen)
    torch.testing.assert_close(out, supernet(x, arch=arch), atol=1e-5, rtol=1e-5)
    torch.nn.functional.cross_entropy(out, y).backward()
    chosen = onehot(arch).bool()
    # Edges into the output node: nonzero. (Edges into nodes 1 and 2 get almost none here,
    # because a BN without affine after them divides any scale away.)
    assert hard.grad[3, OPS.index("avg_pool_3x3")] != 0 and hard.grad[5, OPS.index("nor_conv_3x3")] != 0
    assert torch.all(logits.grad[[3, 5]] != 0)  # ...and through softmax reaches every logit
    if add_unchosen:  # every edge into the output node adds its unchosen entries: each gets a gradient
        assert torch.all(hard.grad[[3, 4, 5]][~chosen[[3, 4, 5]]] != 0)
        assert torch.all(logits.grad[4] != 0)  # even the logits of edge 1 -> 3, whose 'none' did not run
    else:
        assert torch.all(hard.grad[~chosen] == 0)  # only the op that ran gets a gradient
        assert torch.all(logits.grad[4] == 0)  # so the 'none' edge 1 -> 3 learns nothing


def nb201_forward_gdas(cell, x, hardwts, index, v1=False):
    """Transcription of NAS-Bench-201's ``NAS201SearchCell.forward_gdas`` (D-X-Y/AutoDL-Projects,
    ``lib/models/cell_searchs/search_cells.py``; ``v1``: ``forward_gdas_v1``) on naskit's ops.

    Every edge runs: node i = sum over j < i of sum_o (h[o] * o(node j) if o is the chosen op
    else h[o]), with 'none' the zero op ``x * 0``; v1 keeps only ``h[chosen] * chosen(node j)``.
    """
    def op(e, k, h):
        return h.mul(0.0) if OPS[k] == "none" else cell.edges[e].ops[OPS[k]](h)

    nodes = [x]
    for i in range(1, 4):
        inter = []
        for e, (to, j) in enumerate(EDGES):
            if to != i:
                continue
            w, c = hardwts[e], index[e]
            if v1:
                inter.append(w[c] * op(e, c, nodes[j]))
            else:
                inter.append(sum(w[k] * op(e, k, nodes[j]) if k == c else w[k] for k in range(len(OPS))))
        nodes.append(sum(inter))
    return nodes[-1]


GDAS_CASES = [
    SPECIAL[2], SPECIAL[3], NONE6,
    # node 1 has no signal, but passes the gradient on through skips into nodes 2 and 3
    "|none~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|skip_connect~1|avg_pool_3x3~2|",
    # nodes 1 and 2 have no signal: a pool and a skip carry the gradient from the output back to them
    "|none~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",
    # a conv on a node without signal passes no gradient (ReLU at 0), a skip does
    "|none~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|",
] + [str(SPACE.sample(random.Random(100 + i))) for i in range(6)]


@pytest.mark.parametrize("v1", [False, True], ids=["forward_gdas", "forward_gdas_v1"])
@pytest.mark.parametrize("arch", GDAS_CASES)
def test_hard_mode_matches_nb201_forward_gdas(arch, v1):
    """Same value and same gradient, for every entry of the sample, as NB201's edge sum."""
    arch = parse(arch)
    cell = SuperCell(1, 4, affine=False, track_running_stats=False)
    x = torch.randn(8, 4, 1, 10, generator=torch.Generator().manual_seed(1))
    probe = torch.randn(8, 4, 1, 10, generator=torch.Generator().manual_seed(2))  # a loss with sum(dL/dy) != 0
    index = [OPS.index(op) for op in arch.ops]
    grads = []
    for run in ("naskit", "nb201"):
        logits, hard = straight_through(arch, seed=3)
        out = (cell(x, arch=arch, scale=hard, add_unchosen=not v1) if run == "naskit"
               else nb201_forward_gdas(cell, x, hard, index, v1=v1))
        outs = out.detach() if run == "naskit" else out.detach().expand_as(x)
        if out.requires_grad:  # (naskit's disconnected cell in v1 is a constant: no gradient at all)
            (out * probe).sum().backward()
        grads.append((outs, *(torch.zeros(6, 5) if t.grad is None else t.grad.clone() for t in (hard, logits))))
    (ours, ours_h, ours_l), (ref, ref_h, ref_l) = grads
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ours_h, ref_h, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours_l, ref_l, atol=1e-5, rtol=1e-5)
    unchosen = ~onehot(arch).bool()
    if v1:
        assert torch.all(ours_h[unchosen] == 0)
    else:  # the edges into the output node always get a gradient on their unchosen entries
        assert torch.all(ours_h[[3, 4, 5]][unchosen[[3, 4, 5]]] != 0)


def test_none_only_cell_outputs_zeros_in_every_mode():
    cell = SuperCell(1, 4, affine=False, track_running_stats=False)
    x = torch.randn(8, 4, 1, 40)
    assert torch.equal(cell(x, arch=parse(NONE6)), torch.zeros_like(x))
    assert torch.equal(cell(x, weights=onehot(parse(NONE6))), torch.zeros_like(x))


# --- structure, seeding, errors --------------------------------------------------------------------
@pytest.mark.parametrize("ndim,affine", [(1, False), (2, False), (1, True)])
def test_parameter_count_is_skeleton_plus_every_edge_conv(ndim, affine):
    cfg = NetworkConfig(channels=4, cells_per_stage=2, ndim=ndim)
    skeleton = count_params(build_model(NONE6, cfg))  # an all-'none' cell has no parameters
    taps = 1 if ndim == 1 else 3  # kernel rows x columns: (1, k) or (k, k)
    edges = 0
    for stage in range(3):
        c = cfg.channels * 2**stage
        per_edge = c * c * (1 * 1) + c * c * (taps * 3) + (4 * c if affine else 0)  # 1x1 + 3x3 [+ 2 BNs]
        edges += cfg.cells_per_stage * len(EDGES) * per_edge
    assert count_params(build_supernet(cfg, affine=affine)) == skeleton + edges


def test_seeded_construction_is_reproducible_and_leaves_the_global_rng_alone():
    before = torch.get_rng_state()
    a, b = build_supernet(config(1), seed=3), build_supernet(config(1), seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(p, q), name
    c = build_supernet(config(1), seed=4)
    assert not torch.equal(a.stem[0].weight, c.stem[0].weight)
    a.extract(ARCHS[4])
    assert torch.equal(torch.get_rng_state(), before)


def test_bad_mode_arguments_raise_before_any_work():
    supernet = build_supernet(config(1), seed=0)
    x = inputs(1)
    with pytest.raises(ValueError, match=r"\(6, 5\)"):
        supernet(x, weights=torch.ones(5, 6))
    with pytest.raises(ValueError, match=r"\(6, 5\)"):
        supernet(x, hard=torch.ones(30))
    with pytest.raises(ValueError, match="one-hot"):
        supernet(x, hard=torch.full((6, 5), 0.2))
    with pytest.raises(ValueError, match="exactly one"):
        supernet(x)
    with pytest.raises(ValueError, match="exactly one"):
        supernet(x, arch=ARCHS[0], weights=onehot(ARCHS[0]))
    with pytest.raises(ValueError, match="unknown op"):
        supernet(x, arch="|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(ValueError, match="either a NetworkConfig"):
        build_supernet(config(1), channels=4)


def test_docstring_examples_run():
    assert doctest.testmod(naskit.nn.supernet).failed == 0
