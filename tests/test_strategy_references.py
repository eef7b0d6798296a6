"""Published methods do what their reference code does by default, pinned rule by rule.

* BANANAS (White et al. 2021): naszilla/naszilla, ``naszilla/nas_algorithms.py`` (``bananas``),
  ``naszilla/nas_benchmarks.py`` (``get_candidates``), ``naszilla/nas_bench_201/cell_201.py``
  (path encoding, ``mutate``), ``naszilla/acquisition_functions.py`` (``its``),
  ``naszilla/params.py`` and ``naszilla/meta_neural_net.py`` (the ensemble).
* Local search (White et al. 2021): naszilla's ``local_search`` in ``naszilla/nas_algorithms.py``.
* Regularized evolution on NB201 (Real et al. 2019; Dong & Yang 2020): ``mutate_topology_func`` in
  D-X-Y/AutoDL-Projects ``exps/NAS-Bench-201-algos/R_EA.py``.

Where a rule is a formula or a small function, the test transcribes it (in our own words) and
compares; where it is a control flow with random choices, a checker replays the reference's
rules over a whole trajectory.
"""

import copy
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from naskit.core.space import OPS, PATHS, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies import BANANAS, LocalSearch, RegularizedEvolution
from naskit.strategies import bananas as bananas_module
from naskit.strategies.mlp_ensemble import MLPConfig, MLPEnsemble
from naskit.strategies.mutations import EACH_EDGE_PROBABILITY, mutate_each_edge, mutate_node_then_edge

sys.path.insert(0, str(Path(__file__).parent))
from test_strategies import ACC, drive, evaluate  # the synthetic objective and the ask/tell driver

SPACE = NB201Space()
CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


# --- the path encoding --------------------------------------------------------------------------
NASZILLA_OPS = ["avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3", "none", "skip_connect"]  # cell_201.py's order


def naszilla_path_indices(text: str) -> list[int]:
    """A transcription of naszilla's Cell201.get_op_list + get_paths + get_path_indices."""
    tokens = text.split("|")
    ops = [t.split("~")[0] for i, t in enumerate(tokens) if i not in (0, 2, 5, 9)]
    indices = []
    for k, blueprint in enumerate([[3], [0, 4], [1, 5], [0, 2, 5]]):
        index = 0 if k == 0 else 5 if k in (1, 2) else 5 + 25
        indices += [index + sum(NASZILLA_OPS.index(ops[e]) * 5 ** j for j, e in enumerate(blueprint))]
    return indices


def paths_of(indices, op_names) -> set[tuple[str, ...]]:
    """Decode path-encoding indices (length-major, first op least significant) into op sequences."""
    out = set()
    for index in indices:
        length = 1 if index < 5 else 2 if index < 30 else 3
        index -= {1: 0, 2: 5, 3: 30}[length]
        out.add(tuple(op_names[index // 5 ** j % 5] for j in range(length)))
    return out


def test_path_encoding_of_a_known_cell_by_hand():
    # 0->3: skip (index 1); 0->1->3: conv3, conv3 -> 5 + 3 + 3*5 = 23; 0->2->3: conv3, skip -> 5 + 3 + 1*5 = 13;
    # 0->1->2->3: conv3, avg_pool, skip -> 30 + 3 + 4*5 + 1*25 = 78 (naskit's OPS: none 0 ... avg_pool 4).
    arch = SPACE.parse(CELL)
    full, truncated = SPACE.encode_paths(arch), SPACE.encode_paths(arch, max_length=2)
    assert full.shape == (155,) and full.dtype == np.float32
    assert np.flatnonzero(full).tolist() == [1, 13, 23, 78]
    assert truncated.shape == (30,) and np.flatnonzero(truncated).tolist() == [1, 13, 23]
    assert PATHS == ((3,), (0, 4), (1, 5), (0, 2, 5))  # naszilla's path_blueprints


def test_path_encoding_matches_a_transcription_of_naszilla_on_every_cell():
    for arch in SPACE:
        theirs = naszilla_path_indices(str(arch))
        ours = np.flatnonzero(SPACE.encode_paths(arch)).tolist()
        assert paths_of(ours, OPS) == paths_of(theirs, NASZILLA_OPS)  # same paths, ops relabelled
        truncated = np.flatnonzero(SPACE.encode_paths(arch, max_length=2)).tolist()  # naszilla's cutoff 30
        assert paths_of(truncated, OPS) == paths_of([i for i in theirs if i < 30], NASZILLA_OPS)


def test_path_encoding_rejects_an_impossible_length():
    with pytest.raises(ValueError, match="max_length must be 1, 2 or 3.*got 4"):
        SPACE.encode_paths(SPACE.parse(CELL), max_length=4)


# --- BANANAS's ensemble ---------------------------------------------------------------------------
def test_bananas_ensemble_has_naszillas_standard_shape_and_keras_init():
    assert MLPConfig() == MLPConfig(members=5, layers=10, width=20, epochs=150, batch_size=32,
                                    learning_rate=0.01, beta_1=0.9, beta_2=0.99, epsilon=1e-7)
    ensemble = MLPEnsemble(inputs=30, rng=np.random.default_rng(0))
    assert [w.shape for w in ensemble.weights] == [(5, 30, 20)] + [(5, 20, 20)] * 9 + [(5, 20, 1)]
    assert [b.shape for b in ensemble.biases] == [(5, 1, 20)] * 10 + [(5, 1, 1)]
    assert all(not b.any() for b in ensemble.biases)  # Keras: zero biases
    for w in ensemble.weights:  # Keras: Glorot uniform, U(-l, l) with l = sqrt(6 / (fan_in + fan_out))
        limit = np.sqrt(6 / (w.shape[1] + w.shape[2]))
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit


def torch_copy(ensemble: MLPEnsemble) -> list[torch.Tensor]:
    return [torch.tensor(p, requires_grad=True) for p in ensemble.weights + ensemble.biases]


def torch_loss(params, x, y) -> torch.Tensor:
    """The same networks in PyTorch: ReLU hidden layers, a linear output, the sum of members' MAEs."""
    weights, biases = params[: len(params) // 2], params[len(params) // 2:]
    h = torch.tensor(x)
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w + b
        h = torch.relu(h) if i < len(weights) - 1 else h
    return (h[..., 0] - torch.tensor(y)).abs().mean(dim=1).sum()


def test_bananas_ensemble_loss_is_mae_and_its_gradient_matches_pytorch_autograd():
    rng = np.random.default_rng(1)
    ensemble = MLPEnsemble(inputs=30, rng=rng)
    x = rng.integers(0, 2, (5, 32, 30)).astype(np.float32)  # a batch per member
    y = (100 * rng.random((5, 32))).astype(np.float32)
    loss, grad = ensemble.gradient(x, y)
    prediction = np.stack([ensemble.predict(x[m])[m] for m in range(5)])
    assert np.allclose(loss, np.abs(prediction - y).mean(axis=1), rtol=1e-5)  # mean absolute error
    params = torch_copy(ensemble)
    torch_loss(params, x, y).backward()
    ours = ensemble.views(grad)
    for mine, theirs in zip(ours[0] + ours[1], params):
        assert np.allclose(mine, theirs.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_bananas_ensemble_adam_matches_pytorch_adam():
    # The same gradients into both optimizers, all of size 0.5 to 2: Keras adds epsilon to sqrt(v)
    # before the bias correction and PyTorch after it, which matters only for tiny gradients.
    rng = np.random.default_rng(2)
    ensemble = MLPEnsemble(inputs=30, rng=rng)
    params = torch_copy(ensemble)
    adam = torch.optim.Adam(params, lr=0.01, betas=(0.9, 0.99), eps=1e-7)
    m, v = np.zeros_like(ensemble.params), np.zeros_like(ensemble.params)
    for step in range(1, 6):
        grad = (rng.choice([-1, 1], ensemble.params.shape) * rng.uniform(0.5, 2, ensemble.params.shape))
        grad = grad.astype(np.float32)
        ensemble.adam_step(grad, m, v, step)
        weights, biases = ensemble.views(grad)
        for p, g in zip(params, weights + biases):
            p.grad = torch.tensor(g)
        adam.step()
    for mine, theirs in zip(ensemble.weights + ensemble.biases, params):
        assert np.allclose(mine, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_bananas_ensemble_learns_to_rank_unseen_cells():
    strategy, rng = BANANAS(seed=0), np.random.default_rng(0)
    train, held_out = rng.choice(len(SPACE), size=(2, 200), replace=False)
    for i in train:
        strategy.tell(Proposal(SPACE[int(i)]), Result(SPACE[int(i)], None, float(ACC[i])))
    strategy.fit()
    mean, std = strategy.predict([SPACE[int(i)] for i in held_out])
    assert mean.shape == std.shape == (200,) and np.all(std >= 0)
    assert np.allclose(strategy.errors(), 100 * (1 - ACC[train]))  # naszilla's val_loss, in percent
    assert spearmanr(-mean, ACC[held_out])[0] > 0.3  # low predicted error <-> high accuracy


# --- BANANAS's loop -------------------------------------------------------------------------------
def test_each_edge_mutation_changes_each_edge_with_probability_one_quarter():
    parent, rng, n = SPACE.parse(CELL), random.Random(0), 20000
    children = [mutate_each_edge(parent, rng) for _ in range(n)]
    changed = np.array([[a != b for a, b in zip(parent.ops, c.ops)] for c in children])
    assert EACH_EDGE_PROBABILITY == 1 / 4  # naszilla: mutation_rate / (OP_SPOTS - 2) = 1 / (6 - 2)
    assert np.allclose(changed.mean(axis=0), 1 / 4, atol=0.015)
    assert abs((~changed.any(axis=1)).mean() - 0.75 ** 6) < 0.015  # the child may be the parent
    new_ops = Counter(c.ops[0] for c in children if c.ops[0] != parent.ops[0])
    assert set(new_ops) == set(OPS) - {parent.ops[0]} and min(new_ops.values()) > 0.8 * max(new_ops.values())


def test_bananas_candidates_follow_naszillas_get_candidates(monkeypatch):
    """100 tries from the best cell; the next best gets 100 more only while fewer than 100 are new."""
    strategy = BANANAS(seed=0)
    told = [SPACE[i] for i in range(10)]
    for rank, arch in enumerate(told):
        strategy.tell(Proposal(arch), Result(arch, None, 0.9 - 0.01 * rank))  # told[0] is the best
    calls, script = [], iter([SPACE[100 + i % 60] for i in range(100)]      # best: 60 new, 40 repeats
                             + [told[3]] * 10 + [SPACE[1000 + i] for i in range(90)]  # 2nd: 10 seen, 90 new
                             + [SPACE[5000 + i] for i in range(100)])

    def scripted(parent, rng):
        calls.append(parent)
        return next(script)

    monkeypatch.setattr(bananas_module, "mutate_each_edge", scripted)
    pool = strategy.candidate_pool()
    assert calls == [told[0]] * 100 + [told[1]] * 100  # 150 new after two parents: stop
    assert pool == [SPACE[100 + i] for i in range(60)] + [SPACE[1000 + i] for i in range(90)]


def asks_with_fits(strategy, n):
    """Drive ``n`` sequential asks on the synthetic objective; record ``strategy.fits`` after each ask."""
    fits = []
    for _ in range(n):
        proposal = strategy.ask()
        fits.append(strategy.fits)
        strategy.tell(proposal, evaluate(proposal))
    return fits


def test_bananas_evaluates_10_random_cells_then_10_cells_per_fit():
    strategy = BANANAS(seed=0)
    assert asks_with_fits(strategy, 150) == [n for n in range(15) for _ in range(10)]  # 14 fits for 150
    archs = [arch for arch, _ in strategy.history]
    assert len(set(archs)) == 150


def test_bananas_waits_for_the_whole_batch_before_the_next_fit():
    strategy = BANANAS(seed=0)
    first = [strategy.ask() for _ in range(10)]
    assert strategy.ask() is None and strategy.fits == 0
    for p in first[:-1]:
        strategy.tell(p, evaluate(p))
        assert strategy.ask() is None
    strategy.tell(first[-1], evaluate(first[-1]))
    batch = [strategy.ask() for _ in range(10)]  # one fit gives 10 proposals, all at once
    assert all(batch) and strategy.fits == 1 and strategy.ask() is None


def test_bananas_batch_is_the_k_lowest_independent_thompson_draws():
    strategy = BANANAS(seed=3)
    drive(strategy, 30)
    before = copy.deepcopy(strategy)
    batch = [strategy.ask().arch for _ in range(10)]
    # A transcription of naszilla's acq_fn(explore_type="its") on the same fit and candidates:
    ensemble = before.fit()
    pool = before.candidate_pool()
    x = np.stack([SPACE.encode_paths(a, 2) for a in pool])
    predictions = ensemble.predict(x)                       # (5 members, candidates)
    mean, stds = np.mean(predictions, axis=0), np.sqrt(np.var(predictions, axis=0))
    samples = ensemble.rng.normal(mean, stds)
    assert batch == [pool[i] for i in np.argsort(samples)[:10]]


def test_bananas_uses_no_global_random_state():
    np.random.seed(0)
    random.seed(0)
    state_np, state_py = np.random.get_state()[1].copy(), random.getstate()
    first = [p.arch for p in drive(BANANAS(seed=1), 40)]
    assert np.array_equal(np.random.get_state()[1], state_np) and random.getstate() == state_py
    np.random.seed(123)
    random.seed(123)
    assert [p.arch for p in drive(BANANAS(seed=1), 40)] == first


# --- local search ---------------------------------------------------------------------------------
def check_naszilla_local_search(proposals: list[Arch], score, initial: int = 10) -> int:
    """Replay naszilla's ``local_search`` rules over a trajectory; return the number of climbs.

    Each climb queries ``initial`` new random cells and starts from the best; then, in any
    order, it queries unqueried neighbours of the current cell, moves to the first that is
    strictly better, and restarts only when every neighbour has been queried.
    """
    queried, i, climbs = set(), 0, 0
    while i < len(proposals):
        climbs += 1
        starts = proposals[i:i + initial]
        assert len(set(starts)) == len(starts) and not queried & set(starts), "starts must be new cells"
        queried |= set(starts)
        i += len(starts)
        center = max(starts, key=score)
        while i < len(proposals):
            unqueried = [a for a in SPACE.neighbors(center) if a not in queried]
            if not unqueried:
                break  # a local optimum: restart
            assert proposals[i] in unqueried, f"proposal {i} is not an unqueried neighbour of the center"
            queried.add(proposals[i])
            if score(proposals[i]) > score(center):
                center = proposals[i]
            i += 1
    return climbs


def test_local_search_follows_naszillas_rules_over_many_climbs():
    def score(arch):
        return ACC[arch.index]

    for seed in range(3):
        proposals = [p.arch for p in drive(LocalSearch(seed=seed), 400)]
        assert check_naszilla_local_search(proposals, score) >= 3


def test_local_search_starts_from_the_best_of_ten_new_random_cells():
    strategy = LocalSearch(seed=0)
    starts = [strategy.ask() for _ in range(10)]
    assert len({p.arch for p in starts}) == 10 and strategy.ask() is None  # wait for all ten
    for k, p in enumerate(starts):
        strategy.tell(p, Result(p.arch, None, 0.9 if k == 6 else 0.5))
    neighbour = strategy.ask()
    assert strategy.center == starts[6].arch and neighbour.arch in SPACE.neighbors(starts[6].arch)


def test_local_search_skips_a_neighbour_queried_before():
    strategy = LocalSearch(seed=0, initial=1)
    start = strategy.ask()
    known = SPACE.neighbors(start.arch)[5]
    strategy.tell(Proposal(known), Result(known, None, 0.9))  # queried before, e.g. in an earlier climb
    strategy.tell(start, Result(start.arch, None, 0.5))
    proposals = [strategy.ask() for _ in range(23)]
    assert known not in {p.arch for p in proposals} and strategy.center == start.arch  # skipped, not a move


# --- regularized evolution's mutation ---------------------------------------------------------------
def nb201_mutate_topology(nodes: list[tuple[tuple[str, int], ...]], rng: random.Random):
    """A transcription of NB201's mutate_topology_func on its genotype: a tuple of (op, source) per node."""
    nodes = list(nodes)
    node_id = rng.randint(0, len(nodes) - 1)
    node_info = list(nodes[node_id])
    source = rng.randint(0, len(node_info) - 1)
    op = rng.choice(OPS)  # NB201's op_names for the nas-bench-201 space, in the same order as OPS
    while op == node_info[source][0]:
        op = rng.choice(OPS)
    node_info[source] = (op, node_info[source][1])
    nodes[node_id] = tuple(node_info)
    return nodes


def genotype(arch: Arch):
    return [tuple((arch.op(i, j), j) for j in range(i)) for i in range(1, 4)]


def test_node_then_edge_mutation_is_nb201s_mutate_topology_func_call_for_call():
    for seed in range(500):
        parent = SPACE.sample(random.Random(10_000 + seed))
        ours = mutate_node_then_edge(parent, random.Random(seed))
        assert genotype(ours) == nb201_mutate_topology(genotype(parent), random.Random(seed))


@pytest.mark.parametrize("mutation, expected", [
    ("node_then_edge", [1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9]),  # NB201: node 1/3, then edge 1/i
    ("uniform_edge", [1 / 6] * 6),
])
def test_evolution_mutation_changes_edges_with_the_rule_s_probabilities(mutation, expected):
    strategy = RegularizedEvolution(seed=0, population_size=1, sample_size=1, mutation=mutation)
    parent = strategy.ask()
    strategy.tell(parent, evaluate(parent))
    children = [strategy.ask().arch for _ in range(9000)]  # no tells: the only member is the parent
    changed = np.array([[a != b for a, b in zip(parent.arch.ops, c.ops)] for c in children])
    assert (changed.sum(axis=1) == 1).all()
    assert np.allclose(changed.mean(axis=0), expected, atol=0.015)


def test_evolution_defaults_to_nb201s_mutation():
    assert RegularizedEvolution().mutation == "node_then_edge"
