"""Zero-cost proxies against independent references: hand counts, closed forms (SynFlow's
Euler identity, the softmax gradient, an explicit Hessian), hand-made binary codes and numpy,
and transcriptions of the reference code (Mellor et al.'s NASWOT hooks on an NB201-style
network, zero-cost-nas's Fisher). Then the contracts: deterministic, weights untouched,
degenerate cells scored as documented, and the ``ProxyEvaluator`` inside the search loop."""

import copy
import doctest
import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import naskit.estimate
import naskit.estimate.proxies
import naskit.evaluators.proxy
from naskit.core.configs import NetworkConfig
from naskit.core.space import CONV_KERNEL, EDGES, NUM_NODES, live_edges
from naskit.core.types import Result
from naskit.cost.flops import forward_flops
from naskit.estimate import PROXIES, compute_proxies
from naskit.estimate.proxies import (
    fisher,
    flops,
    grad_norm,
    grasp,
    jacob_cov,
    minibatch,
    naswot,
    naswot_kernel,
    params,
    reference_batch_size,
    snip,
    synflow,
)
from naskit.evaluators.proxy import ProxyEvaluator
from naskit.nn.network import Cell, build_model
from naskit.nn.ops import avg_pool, relu_conv_bn
from naskit.runs.budget import Budget
from naskit.runs.loop import search
from naskit.strategies import make_strategy

GOOD = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
CONV_THEN_SKIP = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"
DISCONNECTED = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
POOLS = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|avg_pool_3x3~1|avg_pool_3x3~2|"
# node 0 feeds three conv edges (two 3x3, one 1x1), node 1 two (3x3, 1x1), node 2 only a pool
SHARED = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_1x1~1|avg_pool_3x3~2|"
BATCH = 16  # small batches keep the suite fast; the proxies' definitions do not depend on it


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """One intra-op thread: bit-identical repeats, and no thread oversubscription on a busy CPU."""


@pytest.fixture(scope="module")
def batch(mnist1d):
    return minibatch(mnist1d, BATCH, seed=0)


# --- Baselines -----------------------------------------------------------------------------------
def test_params_is_a_hand_count(batch):
    x, y = batch
    assert params(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), x, y) == 3 * 4 + 4 + 4 * 2 + 2
    # NB201 skeleton, 8 channels, 1-D: stem, 2 reductions, head BN, classifier (no cell weights)
    stem = 1 * 8 * 3 + 2 * 8
    red1 = 8 * 16 * 3 + 2 * 16 + 16 * 16 * 3 + 2 * 16 + 8 * 16
    red2 = 16 * 32 * 3 + 2 * 32 + 32 * 32 * 3 + 2 * 32 + 16 * 32
    skeleton = stem + red1 + red2 + 2 * 32 + 32 * 10 + 10
    assert params(build_model(ALL_SKIP), x, y) == skeleton == 7026
    # one 3x3 conv + BN per cell, at 8, 16 and 32 channels
    cells = sum(c * c * 3 + 2 * c for c in (8, 16, 32))
    assert params(build_model(CONV_THEN_SKIP), x, y) == skeleton + cells


def test_flops_is_the_forward_flops_of_one_example(batch):
    x, y = batch
    model = build_model(GOOD, seed=0)
    assert flops(model, x, y) == forward_flops(model, x[:1]) > 0


# --- SynFlow -------------------------------------------------------------------------------------
def test_synflow_of_a_deep_linear_net_is_depth_times_the_flow():
    # With R = 1ᵀ|W_n|...|W_1|1, R is linear in each |W_l|, so sum |θ ⊙ ∂R/∂θ| = R per layer
    # (Euler's theorem) and synflow = n R. ReLUs are open on a positive network.
    torch.manual_seed(0)  # test-local weights; the proxy itself never touches the global RNG
    for layers in ([nn.Linear(3, 4, bias=False), nn.Linear(4, 2, bias=False)],
                   [nn.Linear(3, 5, bias=False), nn.ReLU(), nn.Linear(5, 4, bias=False), nn.ReLU(),
                    nn.Linear(4, 2, bias=False)]):
        model = nn.Sequential(*layers)
        ws = [np.abs(m.weight.detach().double().numpy()) for m in model if isinstance(m, nn.Linear)]
        flow = np.ones(3)
        for w in ws:
            flow = w @ flow
        x = torch.randn(7, 3)  # only its shape is used
        assert synflow(model, x, torch.zeros(7, dtype=torch.long)) == pytest.approx(len(ws) * flow.sum(), rel=1e-12)


def test_synflow_bypasses_batchnorm():
    torch.manual_seed(0)
    with_bn = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        with_bn[1].weight.fill_(5.0)  # a bypassed BN cannot matter, whatever its parameters
        with_bn[1].running_var.fill_(9.0)
    without = nn.Sequential(with_bn[0], with_bn[2], with_bn[3])
    x, y = torch.randn(4, 3), torch.zeros(4, dtype=torch.long)
    assert synflow(with_bn, x, y) == synflow(without, x, y)


# --- Gradient saliencies -------------------------------------------------------------------------
def test_snip_and_grad_norm_match_the_softmax_gradient_by_hand():
    # One linear layer: ∂L/∂W = (softmax(z) - onehot(y))ᵀ x / N for the mean cross-entropy.
    torch.manual_seed(0)
    model, x, y = nn.Linear(5, 3), torch.randn(8, 5), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    w, b, xn = model.weight.detach().numpy(), model.bias.detach().numpy(), x.numpy()
    z = xn @ w.T + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = (p - np.eye(3)[y.numpy()]).T @ xn / len(xn)
    assert snip(model, x, y) == pytest.approx(np.abs(w * grad).sum(), rel=1e-5)
    assert grad_norm(model, x, y) == pytest.approx(np.linalg.norm(grad), rel=1e-5)


def test_snip_and_grad_norm_match_autograd_on_a_two_layer_net():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3))
    x, y = torch.randn(8, 5), torch.arange(8) % 3
    weights = [model[0].weight, model[2].weight]  # biases are not scored (Abdelfattah et al.)
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), weights)
    assert snip(model, x, y) == pytest.approx(sum(float((w.detach() * g).abs().sum()) for w, g in zip(weights, grads)))
    assert grad_norm(model, x, y) == pytest.approx(sum(float(g.norm()) for g in grads))


def test_grasp_matches_an_explicit_hessian():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))  # tanh: a non-zero Hessian
    x, y = torch.randn(6, 4), torch.arange(6) % 2
    xd, b1, b2 = x.double(), model[0].bias.detach().double(), model[2].bias.detach().double()
    theta = torch.cat([model[0].weight.detach().flatten(), model[2].weight.detach().flatten()]).double()

    def loss(theta):  # the loss as a function of the 18 scored weights (biases held fixed)
        w1, w2 = theta[:12].view(3, 4), theta[12:].view(2, 3)
        return F.cross_entropy(torch.tanh(xd @ w1.T + b1) @ w2.T + b2, y)

    g = torch.func.grad(loss)(theta)
    hessian = torch.autograd.functional.hessian(loss, theta)  # (18, 18), formed explicitly
    expected = float(-(theta * (hessian @ g)).sum())
    assert expected != 0
    assert grasp(model, x, y) == pytest.approx(expected, rel=1e-4, abs=1e-9)


def test_fisher_matches_a_hand_written_forward():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, (1, 3), bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 5, 3))
    x, y = torch.randn(6, 1, 1, 7), torch.arange(6) % 3
    a1 = F.conv2d(x, model[0].weight)  # (N, 2, 1, 5): the conv's output, hooked
    a2 = F.linear(F.relu(a1).flatten(1), model[3].weight, model[3].bias)  # (N, 3): the linear's output
    g1, g2 = torch.autograd.grad(F.cross_entropy(a2, y), [a1, a2])
    per_channel = [(a1 * g1).sum((2, 3)).detach(), (a2 * g2).detach()]  # (N, channels), summed over positions
    delta = [float(0.5 * (c**2).mean(0).sum()) for c in per_channel]  # Theis et al. 2018, summed over channels
    # each channel counts once per weight: fan-in 1 x 3 taps for the conv, 10 in features for the linear
    assert fisher(model, x, y) == pytest.approx(3 * delta[0] + 10 * delta[1], rel=1e-5)
    assert fisher(model, x, y, count="per_channel") == pytest.approx(delta[0] + delta[1], rel=1e-5)


def zero_cost_nas_fisher(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """zero-cost-nas's ``fisher.py`` then ``find_measures``'s ``sum_arr``, transcribed.

    Per conv/linear layer: ``|Δ_k|`` per output channel from the layer output's activation
    and gradient, broadcast over ``weight.shape[1:]`` (``reshape_elements``), all summed.
    """
    net = copy.deepcopy(model).train()
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    fishers = {}

    def forward_hook(layer, inputs, out):
        def on_grad(grad):  # dL/d(layer output), as the reference's backward hook on its dummy identity
            act, g = out.detach(), grad.detach()
            g_nk = (act * g).sum(tuple(range(2, act.dim()))) if act.dim() > 2 else act * g
            fishers[layer] = fishers.get(layer, 0) + g_nk.pow(2).mean(0).mul(0.5)
        out.register_hook(on_grad)

    for layer in layers:
        layer.register_forward_hook(forward_hook)
    F.cross_entropy(net(x), y).backward()
    arrays = []
    for layer in layers:
        per_channel = fishers.get(layer, torch.zeros(layer.weight.shape[0])).abs()
        arrays.append(torch.stack([torch.full(layer.weight.shape[1:], float(v)) for v in per_channel]))
    return sum(float(a.double().sum()) for a in arrays)


@pytest.mark.parametrize("arch", [GOOD, SHARED, POOLS])
def test_fisher_matches_zero_cost_nas_on_nb201_networks(arch, batch):
    x, y = batch
    model = build_model(arch, seed=0)
    reference = zero_cost_nas_fisher(model, x, y)
    assert fisher(model, x, y) == pytest.approx(reference, rel=1e-5)
    # the per-channel variant is more than ten times smaller on these networks
    assert fisher(model, x, y, count="per_channel") < reference / 10


# --- NASWOT and Jacobian covariance --------------------------------------------------------------
def test_naswot_kernel_counts_agreements():
    codes = torch.tensor([[1, 0, 1], [1, 1, 0], [0, 0, 1]])
    # K[i, j] = units where examples i and j agree (both on or both off), by hand
    expected = np.array([[3, 1, 2], [1, 3, 0], [2, 0, 3]], dtype=float)
    np.testing.assert_array_equal(naswot_kernel(codes).numpy(), expected)
    assert np.linalg.slogdet(expected)[1] == pytest.approx(math.log(abs(np.linalg.det(expected))))


def test_naswot_is_the_logdet_of_the_relu_codes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    x, y = torch.randn(5, 4), torch.zeros(5, dtype=torch.long)
    with torch.no_grad():
        h1 = model[0](x)
        h2 = model[2](torch.relu(h1))
    c = torch.cat([h1 > 0, h2 > 0], dim=1).double().numpy()  # (5, 11) binary codes
    kernel = c @ c.T + (1 - c) @ (1 - c).T
    assert naswot(model, x, y) == pytest.approx(np.linalg.slogdet(kernel)[1], rel=1e-12)


class FunctionalRelu(nn.Module):
    """Like ``naskit.nn.network.Cell``: ReLU called as a function, not as a module."""

    def __init__(self, twin):
        super().__init__()
        self.first, self.second = twin[0], twin[2]

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def test_naswot_sees_functional_relus():
    torch.manual_seed(0)
    modules = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = torch.randn(6, 4), torch.zeros(6, dtype=torch.long)
    score = naswot(FunctionalRelu(modules), x, y)
    assert score == naswot(modules, x, y) and math.isfinite(score)


def test_naswot_of_identical_examples_is_minus_infinity():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    assert naswot(model, torch.ones(3, 4), torch.zeros(3, dtype=torch.long)) == -math.inf


class NB201Cell(nn.Module):
    """NB201's ``InferCell`` (Dong & Yang 2020) with the weights of a naskit ``Cell``: one
    ``ReLUConvBN`` module, with its own ``nn.ReLU``, per conv edge; nodes are sums of edges.

    Every edge of the test cells is live (naskit's cell and NB201's build the same edges).
    Each ReLU module is tagged with the source node it reads, to count shared codes once.
    """

    def __init__(self, cell: Cell):
        super().__init__()
        self.ops, c = cell.arch.ops, cell.channels
        self.edges = nn.ModuleDict()
        for e in live_edges(cell.arch):
            op = self.ops[e]
            if op in CONV_KERNEL:
                edge, w = relu_conv_bn(1, c, c, CONV_KERNEL[op]), cell.edge_weights(e)
                with torch.no_grad():
                    edge[1].weight.copy_(w["conv.weight"])
                    edge[2].weight.copy_(w["bn.weight"])
                    edge[2].bias.copy_(w["bn.bias"])
                edge[0].source = (id(self), EDGES[e][1])
            elif op == "avg_pool_3x3":
                edge = avg_pool(1)
            else:
                edge = nn.Identity()
            self.edges[str(e)] = edge

    def forward(self, x):
        nodes = [x]
        for i in range(1, NUM_NODES):
            nodes.append(sum(self.edges[str(e)](nodes[j]) for e, (to, j) in enumerate(EDGES)
                             if to == i and str(e) in self.edges))
        return nodes[-1]


def mellor_naswot(net: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """Mellor et al.'s ``score_networks.py``, transcribed; returns the score and its per-node variant.

    A forward hook on every module whose type name contains ``ReLU`` adds the kernel of the
    binary code of its *input* (> 0), once the module has seen a backward pass: the reference
    first runs forward and backward (its Jacobian pass), then the forward that counts.
    """
    kernels, visited = [], set()

    def forward_hook(module, inputs, out):
        if module in visited:  # the reference's `visited_backwards` flag
            c = (inputs[0].flatten(1) > 0).double().numpy()
            kernels.append((getattr(module, "source", module), c @ c.T + (1 - c) @ (1 - c).T))

    for module in net.modules():
        if "ReLU" in type(module).__name__:
            module.register_forward_hook(forward_hook)
            module.register_full_backward_hook(lambda module, grad_in, grad_out: visited.add(module))
    net(x.clone().requires_grad_(True)).sum().backward()
    with torch.no_grad():
        net(x)
    per_node = {}  # one kernel per shared source node: the code is the same for each of its edges
    for source, k in kernels:
        per_node[source] = k
    return np.linalg.slogdet(sum(k for _, k in kernels))[1], np.linalg.slogdet(sum(per_node.values()))[1]


@pytest.mark.parametrize("arch", [SHARED, GOOD])
def test_naswot_matches_mellor_et_al_on_an_nb201_network(arch, batch):
    x, y = batch
    model = build_model(arch, seed=0)
    reference = copy.deepcopy(model)
    for i, layer in enumerate(reference.cells):
        if isinstance(layer, Cell):
            reference.cells[i] = NB201Cell(layer)
    with torch.no_grad():  # the same function: the reference network is a faithful NB201 network
        torch.testing.assert_close(reference(x), model(x), rtol=1e-4, atol=1e-5)
    # hooked: 5 conv edges in each of 3 cells, 2 ReLUs in each of 2 reductions, 1 before the classifier
    assert sum("ReLU" in type(m).__name__ for m in reference.modules()) == 3 * 5 + 2 * 2 + 1
    score, per_node = mellor_naswot(reference, x)
    assert naswot(model, x, y) == pytest.approx(score, rel=1e-9)
    assert naswot(model, x, y, count="per_node") == pytest.approx(per_node, rel=1e-9)
    assert per_node < score


def test_naswot_per_edge_is_at_least_per_node_and_options_are_checked():
    # K(per edge) = K(per node) + the extra copies of shared kernels, positive semi-definite
    # matrices: adding them cannot lower the determinant of a positive-definite K
    model = build_model(SHARED, seed=0)
    x = torch.randn(12, 1, 40, generator=torch.Generator().manual_seed(1))
    y = torch.zeros(12, dtype=torch.long)
    assert naswot(model, x, y) > naswot(model, x, y, count="per_node")
    with pytest.raises(ValueError, match="'per_edge', 'per_node'"):
        naswot(model, x, y, count="per_module")
    with pytest.raises(ValueError, match="'per_weight', 'per_channel'"):
        fisher(model, x, y, count="per_edge")


def test_jacob_cov_matches_numpy_on_an_analytic_jacobian():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    x, y = torch.randn(4, 6), torch.zeros(4, dtype=torch.long)
    w1, b1 = model[0].weight.detach().double().numpy(), model[0].bias.detach().double().numpy()
    w2 = model[2].weight.detach().double().numpy()
    pre = x.double().numpy() @ w1.T + b1  # (N, 5)
    # d/dx of the summed outputs: W1ᵀ diag(1 - tanh²) W2ᵀ 1, one row per example
    jac = ((1 - np.tanh(pre) ** 2) * w2.sum(0)) @ w1  # (N, 6)
    v = np.linalg.eig(np.corrcoef(jac))[0].real  # as Mellor et al.'s code
    expected = -np.sum(np.log(v + 1e-5) + 1 / (v + 1e-5))
    assert jacob_cov(model, x, y) == pytest.approx(expected, rel=1e-6)


# --- Contracts on NB201 networks -----------------------------------------------------------------
def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", list(PROXIES))
def test_proxies_are_deterministic_and_leave_the_model_unchanged(name, batch):
    x, y = batch
    model = build_model(GOOD, seed=0)
    before, rng = _state(model), torch.get_rng_state()
    first = PROXIES[name](model, x, y)
    second = PROXIES[name](build_model(GOOD, seed=0), x.clone(), y.clone())
    assert isinstance(first, float) and first == second
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert torch.equal(rng, torch.get_rng_state())  # no global RNG use


@pytest.mark.parametrize("arch", [GOOD, DISCONNECTED, ALL_SKIP, POOLS])
def test_every_proxy_scores_every_kind_of_cell(arch, mnist1d):
    scores = compute_proxies(arch, mnist1d, batch_size=BATCH)
    assert set(scores) == set(PROXIES) | {f"{n}_seconds" for n in PROXIES}
    for name in PROXIES:
        assert isinstance(scores[name], float) and not math.isnan(scores[name]), name
        assert scores[f"{name}_seconds"] >= 0
    if arch == DISCONNECTED:  # the documented scores of a network whose output is constant
        assert scores["synflow"] == scores["snip"] == scores["grad_norm"] == scores["grasp"] == 0
        assert scores["naswot"] == scores["jacob_cov"] == -math.inf
        assert math.isfinite(scores["fisher"])
    else:
        assert all(math.isfinite(scores[n]) for n in PROXIES)
        assert scores["synflow"] > 0 and scores["snip"] > 0 and scores["grad_norm"] > 0


def test_compute_proxies_is_seeded_and_follows_the_data(mnist1d, digits):
    def strip(scores):
        return {k: v for k, v in scores.items() if not k.endswith("_seconds")}

    names = ["synflow", "naswot", "snip"]
    a = compute_proxies(GOOD, mnist1d, names, seed=1, batch_size=BATCH)
    assert strip(a) == strip(compute_proxies(GOOD, mnist1d, names, seed=1, batch_size=BATCH))
    assert strip(a) != strip(compute_proxies(GOOD, mnist1d, names, seed=2, batch_size=BATCH))
    # a 2-D dataset sets ndim/in_channels/num_classes; channels come from the given config
    small = NetworkConfig(channels=4)
    two_d = compute_proxies(GOOD, digits, ["params"], network=small, batch_size=BATCH)
    model = build_model(GOOD, NetworkConfig(channels=4, ndim=2))
    assert two_d["params"] == sum(p.numel() for p in model.parameters())


def test_compute_proxies_scores_each_proxy_on_its_reference_batch(mnist1d):
    assert reference_batch_size("naswot") == 128  # Mellor et al.'s score_networks.py
    assert reference_batch_size("snip") == reference_batch_size("fisher") == 64  # zero-cost-nas
    x, y = minibatch(mnist1d, 128, seed=3)
    x64, y64 = minibatch(mnist1d, 64, seed=3)
    assert torch.equal(x[:64], x64) and torch.equal(y[:64], y64)  # a smaller batch is a prefix
    model = build_model(GOOD, seed=3)
    scores = compute_proxies(GOOD, mnist1d, ["naswot", "snip"], seed=3)
    assert scores["naswot"] == naswot(model, x, y) and scores["snip"] == snip(model, x64, y64)
    fixed = compute_proxies(GOOD, mnist1d, ["naswot"], seed=3, batch_size=64)  # one size for all
    assert fixed["naswot"] == naswot(model, x64, y64) != scores["naswot"]
    with pytest.raises(ValueError, match="naswot's reference minibatch has 128 examples"):
        compute_proxies(GOOD, mnist1d.subset(100), ["naswot"])


def test_bad_names_and_batch_sizes_are_refused(mnist1d):
    with pytest.raises(ValueError, match="synflow"):
        compute_proxies(GOOD, mnist1d, ["synflo"])
    with pytest.raises(ValueError, match="batch_size"):
        compute_proxies(GOOD, mnist1d, ["params"], batch_size=10**6)
    with pytest.raises(ValueError, match="known proxies are synflow, naswot"):
        ProxyEvaluator("zen")
    with pytest.raises(ValueError, match="batch_size"):
        ProxyEvaluator(batch_size=0)


# --- The evaluator -------------------------------------------------------------------------------
def test_proxy_evaluator_result(mnist1d):
    evaluator = ProxyEvaluator("snip", batch_size=BATCH)
    r = evaluator.evaluate(GOOD)
    assert isinstance(r, Result) and r.ok and str(r.arch) == GOOD and r.fidelity is None
    assert math.isnan(r.valid_acc) and math.isnan(r.test_acc)
    assert r.estimate == compute_proxies(GOOD, mnist1d, ["snip"], batch_size=BATCH)["snip"] == r.score
    assert r.flops > 0 and r.sim_seconds > 0 and r.wall_seconds > 0 and r.cpu_seconds == r.sim_seconds
    assert evaluator.max_fidelity == 1 and evaluator.evaluate(GOOD, fidelity=1).estimate == r.estimate
    with pytest.raises(ValueError, match="fidelity"):
        evaluator.evaluate(GOOD, fidelity=2)
    described = pickle.loads(pickle.dumps(evaluator)).describe()
    assert described["proxy"] == "snip" and described["batch_size"] == BATCH


def test_proxy_evaluator_counts_the_flops_it_ran():
    # the `flops` proxy runs exactly one forward pass of one example, and `params` none
    r = ProxyEvaluator("flops", batch_size=BATCH).evaluate(GOOD)
    assert r.flops == r.estimate == forward_flops(build_model(GOOD, seed=0), torch.zeros(1, 1, 40))
    assert ProxyEvaluator("params", batch_size=BATCH).evaluate(GOOD).flops == 0
    # snip: a forward and a backward pass of the batch, more than the forward alone
    assert ProxyEvaluator("snip", batch_size=BATCH).evaluate(GOOD).flops > BATCH * r.flops


def test_search_on_a_proxy_keeps_the_max_estimate_cell():
    run = search(make_strategy("random", seed=0), ProxyEvaluator("synflow", batch_size=BATCH),
                 Budget(evaluations=3), progress=False)
    h = run.history
    assert len(h) == 3 and h["valid_acc"].isna().all() and h["estimate"].notna().all()
    assert str(run.best) == h.loc[h["estimate"].idxmax(), "arch"]
    assert run.best_result.estimate == h["estimate"].max()


@pytest.mark.parametrize("module", [naskit.estimate, naskit.estimate.proxies, naskit.evaluators.proxy])
def test_docstring_examples_run(module):
    assert doctest.testmod(module).failed == 0

