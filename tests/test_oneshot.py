"""Tests for naskit.oneshot: one conformance suite over every method, then each method's idea.

References: FLOPs against ``cost.forward_flops`` of the stand-alone network ``extract`` builds;
RSPS's ranking against a transcription of NAS-Bench-201's ``search_find_best``
(D-X-Y/AutoDL-Projects, ``exps/NAS-Bench-201-algos/RANDOM-NAS.py``); DARTS-'s auxiliary skip
against an explicit ``beta * x`` on every edge, and its beta against a transcription of the
reference's ``DecayScheduler`` (Meituan-AutoML/DARTS-, ``src/utils.py``); DARTS+ against the
DARTS run it must follow until it stops. (GDAS's edge sum is pinned against NB201's
``forward_gdas`` in test_supernet.py.)
"""

import doctest
import json
import random
from dataclasses import replace

import pytest
import torch

import naskit
import naskit.oneshot.darts
import naskit.oneshot.darts_minus
import naskit.oneshot.darts_plus
import naskit.oneshot.gdas
import naskit.oneshot.rsps
from naskit.core.space import EDGES, NUM_NODES, OPS, Arch, NB201Space, live_edges, parse
from naskit.cost.flops import forward_flops
from naskit.oneshot import (
    METHODS,
    OneShotConfig,
    OneShotResult,
    darts_plus_from,
    rank,
    search_darts,
    search_darts_plus,
)
from naskit.oneshot.common import OneShotRun, PathFlops, derive
from naskit.oneshot.darts import Mixture, Step, arch_optimizer, arch_step, init_alpha
from naskit.oneshot.darts_minus import AuxiliarySkip
from naskit.oneshot.gdas import GumbelHard
from naskit.oneshot.rsps import candidates, one_batch_scores, rsps_from

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = OneShotConfig(epochs=1, channels=4, batch_size=64, num_candidates=6)
BILEVEL = ("darts", "gdas", "darts-", "darts+")


@pytest.fixture(scope="module")
def data(tiny_mnist1d):
    """MNIST-1D's first 256 training examples (``subset(256)``), 128 validation, 128 test."""
    return tiny_mnist1d


@pytest.fixture(scope="module")
def runs(data):
    """Every method, run once with seed 0 (shared by the conformance tests)."""
    return {name: search(data, TINY) for name, search in METHODS.items()}


def floats(result: OneShotResult) -> list:
    """Every number the history holds, for bit-level comparisons."""
    return [json.dumps(log.__dict__, sort_keys=True) for log in result.history]


# --- conformance: every method ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(METHODS))
def test_result_shape_and_valid_cell(runs, name):
    result = runs[name]
    assert result.method == name and isinstance(result.arch, Arch)
    assert parse(str(result.arch)) == result.arch
    last = result.history[-1]
    assert len(result.history) == 1 and last.epoch == 1
    assert last.arch == str(result.arch)
    assert last.skip_share == result.arch.ops.count("skip_connect") / 6
    assert 0 <= last.valid_acc <= 1 and 0 <= last.supernet_valid_acc <= 1
    weights = torch.tensor(last.arch_weights)
    assert weights.shape == (6, 5) and torch.allclose(weights.sum(1), torch.ones(6))
    assert result.wall_seconds > 0 and result.cpu_seconds > 0
    assert result.search_flops > 0 and result.eval_flops > 0
    assert json.loads(json.dumps(result.to_dict()))["arch"] == str(result.arch)


@pytest.mark.parametrize("name", list(METHODS))
def test_reproducible_for_a_seed(data, runs, name):
    again = METHODS[name](data, TINY)
    assert again.arch == runs[name].arch
    assert floats(again) == floats(runs[name])


@pytest.mark.parametrize("name", ["rsps", "darts", "gdas", "darts-"])
def test_seeds_differ(data, runs, name):
    other = METHODS[name](data, replace(TINY, seed=1))
    assert other.history[0].train_loss != runs[name].history[0].train_loss
    assert floats(other) != floats(runs[name])


def test_global_rng_and_threads_untouched(data):
    before_threads = torch.get_num_threads()
    torch.set_num_threads(2)
    torch_state, py_state = torch.get_rng_state(), random.getstate()
    try:
        for name in ("rsps", "gdas"):
            METHODS[name](data, TINY)
            assert torch.get_num_threads() == 2
        assert torch.equal(torch.get_rng_state(), torch_state)
        assert random.getstate() == py_state
    finally:
        torch.set_num_threads(before_threads)


@pytest.mark.parametrize("field, value", [
    ("epochs", 0), ("batch_size", 0), ("batch_size", 2.5), ("channels", 0), ("cells_per_stage", True),
    ("w_lr", 0.0), ("w_lr_min", -1.0), ("w_momentum", 1.0), ("w_weight_decay", -1e-3),
    ("grad_clip", 0.0), ("arch_lr", -3e-4), ("arch_betas", (1.0, 0.5)), ("arch_weight_decay", -1.0),
    ("tau_min", 0.0), ("tau_max", 0.05), ("num_candidates", 0), ("num_candidates", 15626), ("threads", 0),
    ("device", "gpu"), ("seed", -1), ("seed", "0"), ("gdas_variant", "v1"), ("candidate_scoring", "whole"),
    ("rank_batch_size", 0),
])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        OneShotConfig(**{field: value})


def test_w_lr_min_above_w_lr_is_refused():
    with pytest.raises(ValueError, match="w_lr_min"):
        OneShotConfig(w_lr=0.01, w_lr_min=0.1)


def test_data_must_be_a_dataset():
    with pytest.raises(ValueError, match="Dataset"):
        search_darts("mnist1d", TINY)


# --- cost ----------------------------------------------------------------------------------------

def test_path_flops_match_the_standalone_network(data):
    run = OneShotRun(data, TINY)
    example = data.x_train[:1]
    archs = [Arch(("none",) * 6), Arch(("nor_conv_3x3",) * 6),
             parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|")]
    archs += [NB201Space().sample(random.Random(i)) for i in range(5)]
    for arch in archs:
        assert run.flops.path(arch) == forward_flops(run.supernet.extract(arch), example), arch
    with torch.no_grad(), torch.utils.flop_counter.FlopCounterMode(display=False) as counter:
        run.supernet(example, weights=torch.full((6, 5), 0.2))
    assert run.flops.mixture() == counter.get_total_flops()


def test_darts_flop_tally(data, runs):
    """4 weight steps and 4 architecture steps of 64 examples each, then two evaluations."""
    result = runs["darts"]
    flops = PathFlops.measure(result.supernet, data.x_train[:1])
    assert result.search_flops == 3 * flops.mixture() * (4 * 64 + 4 * 64)
    assert result.eval_flops == (flops.path(result.arch) + flops.mixture()) * len(data.y_valid)


# --- DARTS and GDAS: gradients reach alpha -------------------------------------------------------

@pytest.mark.parametrize("relax", [Mixture(), AuxiliarySkip(4), GumbelHard(10.0, 0.1, 1),
                                   GumbelHard(10.0, 0.1, 1, add_unchosen=False)],
                         ids=["darts", "darts-", "gdas", "gdas_v1"])
def test_one_arch_step_moves_alpha(data, relax):
    run = OneShotRun(data, TINY)
    alpha = init_alpha(run)
    before = alpha.detach().clone()
    weights_before = [p.detach().clone() for p in run.weights]
    mode = relax.mode(alpha, Step(0, 0, 4), run.generator)
    arch_step(run, alpha, arch_optimizer(alpha, TINY), mode)
    assert alpha.grad is not None and alpha.grad.abs().sum() > 0
    assert not torch.equal(alpha.detach(), before)
    assert all(torch.equal(p, q) for p, q in zip(run.weights, weights_before))  # weights held fixed
    if isinstance(relax, GumbelHard):  # the straight-through gradient reaches every logit of a live edge
        for e in live_edges(derive(mode["hard"])):
            assert (alpha.grad[e] != 0).all()


def test_darts_derives_the_argmax_cell_including_none(runs):
    for name in BILEVEL:
        weights = runs[name].history[-1].arch_weights
        assert runs[name].arch == Arch(tuple(OPS[max(range(5), key=row.__getitem__)] for row in weights))
    none_wins = torch.zeros(6, 5)
    none_wins[:, OPS.index("none")] = 1.0
    assert derive(none_wins) == Arch(("none",) * 6)  # NB201's rule: none is a candidate too


def test_gdas_temperature_falls_linearly_per_epoch():
    tau = GumbelHard(10.0, 0.1, epochs=4).tau
    assert [tau(e) for e in range(4)] == pytest.approx([10.0, 6.7, 3.4, 0.1])
    assert tau(0) == 10.0 and tau(3) == 0.1


def test_gdas_variant_changes_which_entries_learn(data, runs):
    """Same seed: the same samples and weight steps at first, but v1's alpha gets other gradients."""
    mode = GumbelHard(10.0, 0.1, 1).mode(torch.zeros(6, 5), Step(0, 0, 1), torch.Generator().manual_seed(0))
    assert mode["add_unchosen"] is True  # NB201's forward_gdas is the default
    v1 = naskit.oneshot.search_gdas(data, replace(TINY, gdas_variant="gdas_v1"))
    assert v1.method == "gdas" and v1.config.gdas_variant == "gdas_v1"
    assert v1.history[0].arch_weights != runs["gdas"].history[0].arch_weights


def test_gumbel_sample_is_one_hot_with_soft_gradient():
    alpha = torch.randn(6, 5, generator=torch.Generator().manual_seed(0), requires_grad=True)
    hard = GumbelHard(1.0, 1.0, 1).mode(alpha, Step(0, 0, 1), torch.Generator().manual_seed(1))["hard"]
    assert torch.equal(hard.detach().round(), torch.eye(5)[hard.detach().argmax(1)])
    hard[:, 0].sum().backward()  # depends on alpha only through the soft sample
    assert (alpha.grad != 0).all()


def test_a_single_path_step_moves_only_that_path(data):
    """Ops off the sampled path get no gradient, so no momentum or weight-decay step either."""
    run = OneShotRun(data, TINY)
    arch = parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")  # one conv, edge 0
    before = {k: v.detach().clone() for k, v in run.supernet.named_parameters()}
    for _ in range(2):  # the second step would move stale momentum, if there were any
        run.weight_step(next(run.train_batches()), {"arch": arch})
    moved = {k for k, v in run.supernet.named_parameters() if not torch.equal(v, before[k])}
    assert any(".edges.0.ops.nor_conv_3x3." in k for k in moved)
    assert not any(".edges." in k and ".edges.0.ops.nor_conv_3x3." not in k for k in moved)
    assert any(k.startswith("stem.") for k in moved)


# --- RSPS ----------------------------------------------------------------------------------------

def nb201_search_find_best(xloader, network, archs):
    """Transcription of NAS-Bench-201's ``search_find_best`` (D-X-Y/AutoDL-Projects,
    ``exps/NAS-Bench-201-algos/RANDOM-NAS.py``; NATS-Bench's ``get_best_arch`` is the same loop):
    eval mode, no gradients, candidate i on the loader's next batch, a new pass when it runs out;
    top-1 accuracy, and ``np.argmax`` (the first of ties)."""
    import numpy as np

    with torch.no_grad():
        network.eval()
        valid_accs = []
        loader_iter = iter(xloader)
        for arch in archs:
            try:
                inputs, targets = next(loader_iter)
            except StopIteration:
                loader_iter = iter(xloader)
                inputs, targets = next(loader_iter)
            logits = network(inputs, arch=arch)
            valid_accs.append((logits.argmax(1) == targets).float().mean().item())
        best_idx = int(np.argmax(valid_accs))
    return archs[best_idx], valid_accs


def nb201_valid_loader(data, batch_size, seed):
    """NB201's ``valid_loader`` on the validation split: a DataLoader over a SubsetRandomSampler."""
    from torch.utils.data import DataLoader, SubsetRandomSampler, TensorDataset

    sampler = SubsetRandomSampler(range(len(data.y_valid)), generator=torch.Generator().manual_seed(seed))
    return DataLoader(TensorDataset(data.x_valid, data.y_valid), batch_size=batch_size, sampler=sampler)


def trained_supernet(data, steps=4):
    """A supernet after a few random-path steps: its skeleton's BN has running statistics of its own."""
    run, rng = OneShotRun(data, TINY), random.Random(0)
    for idx in list(run.train_batches())[:steps]:
        run.weight_step(idx, {"arch": NB201Space().sample(rng)})
    return run.supernet


def test_rsps_scores_candidates_as_nb201_search_find_best(data):
    """The default ranking is NB201's: one batch each (7 candidates on 3 batches: two passes), eval mode."""
    supernet = trained_supernet(data)
    archs = candidates(7, seed=0)
    state = {k: v.clone() for k, v in supernet.state_dict().items()}
    ours = one_batch_scores(supernet, archs, nb201_valid_loader(data, 48, seed=5))  # 128 = 48 + 48 + 32
    assert supernet.training  # the caller's mode is restored ...
    assert all(torch.equal(v, supernet.state_dict()[k]) for k, v in state.items())  # ... and nothing changed
    best, ref = nb201_search_find_best(nb201_valid_loader(data, 48, seed=5), supernet, archs)
    supernet.train()
    assert ours == pytest.approx(ref, abs=1e-6)
    assert archs[max(range(7), key=ours.__getitem__)] == best
    # eval mode matters here: the skeleton's BN then uses its running statistics, not the batch's
    with naskit.oneshot.common.batch_statistics(supernet):
        train_mode = [float((supernet(xb, arch=a).argmax(1) == yb).float().mean())
                      for a, (xb, yb) in zip(archs, nb201_valid_loader(data, 48, seed=5))]
    assert train_mode != ours[:3]


def test_rsps_ranking(data, runs):
    result = runs["rsps"]
    assert list(result.ranking) == [str(a) for a in candidates(TINY.num_candidates, TINY.seed)]  # distinct
    assert all(0.0 <= acc <= 1.0 for acc in result.ranking.values())
    assert result.ranking[str(result.arch)] == max(result.ranking.values())
    archs = [parse(a) for a in result.ranking]
    state = {k: v.clone() for k, v in result.supernet.state_dict().items()}
    accs = rank(result.supernet, archs, data, TINY)
    assert accs == list(result.ranking.values())  # the same numbers, recomputed
    assert all(torch.equal(v, result.supernet.state_dict()[k]) for k, v in state.items())  # untouched
    assert rank(result.supernet, [str(archs[0])], data, TINY) == accs[:1]


def test_rsps_whole_split_scores_every_candidate_on_the_whole_split(data, runs):
    """naskit's variant: the whole validation split in batches of 64, batch-statistics BN everywhere."""
    import copy

    supernet = runs["rsps"].supernet
    archs = candidates(4, seed=0)
    reference = copy.deepcopy(supernet).train()  # train-mode BN normalises each batch by its own statistics
    with torch.no_grad():
        expected = [sum(int((reference(xb, arch=a).argmax(1) == yb).sum())
                        for xb, yb in zip(data.x_valid.split(64), data.y_valid.split(64))) / len(data.y_valid)
                    for a in archs]
    assert rank(supernet, archs, data, replace(TINY, candidate_scoring="whole_split")) == expected


def test_rsps_training_ignores_the_ranking_settings(data, runs):
    """Candidates are drawn after training: more of them, or another scoring, trains the same supernet,
    and ``rsps_from`` reads the other search off the first one exactly."""
    for changes in ({"num_candidates": 9}, {"candidate_scoring": "whole_split"}):
        config = replace(TINY, **changes)
        again = naskit.oneshot.search_rsps(data, config)
        trained = runs["rsps"].supernet.state_dict()  # the same supernet, bit for bit
        assert all(torch.equal(v, trained[k]) for k, v in again.supernet.state_dict().items())
        last, first = again.history[-1], runs["rsps"].history[-1]
        assert (last.train_loss, last.supernet_valid_acc, last.search_flops) == (
            first.train_loss, first.supernet_valid_acc, first.search_flops)
        read = rsps_from(runs["rsps"], data, **changes)
        assert (read.arch, read.ranking, read.config) == (again.arch, again.ranking, config)
        assert floats(read) == floats(again) and (read.search_flops, read.eval_flops) == (again.search_flops,
                                                                                         again.eval_flops)
        assert read.wall_seconds > 0 and read.eval_cpu_seconds > 0
    assert list(again.ranking) == list(runs["rsps"].ranking)  # the same candidates, scored otherwise
    with pytest.raises(ValueError, match="training depends on epochs"):
        rsps_from(runs["rsps"], data, epochs=2)
    with pytest.raises(ValueError, match="takes an RSPS result"):
        rsps_from(runs["darts"], data, num_candidates=3)


def test_candidates_are_distinct_uniform_and_extend(data):
    first = candidates(50, seed=1)
    assert len(set(first)) == 50 and candidates(80, seed=1)[:50] == first
    assert candidates(50, seed=2) != first
    assert len(set(candidates(15625, seed=0))) == 15625  # every cell, once
    counts = {op: 0 for op in OPS}  # 6 edges x 2,000 cells: each op near 1/5 on every edge
    for arch in candidates(2000, seed=3):
        for op in arch.ops:
            counts[op] += 1
    assert all(abs(n / 12000 - 0.2) < 0.02 for n in counts.values())


def test_rsps_history_is_uniform_until_derived(runs):
    log = runs["rsps"].history[-1]
    assert log.arch_loss is None and log.arch_weights == [[0.2] * 5] * 6


# --- the remedies: DARTS- and DARTS+ -------------------------------------------------------------

def test_auxiliary_skip_is_beta_x_on_every_edge():
    """Reference: a cell whose every edge adds ``beta * x`` to the plain DARTS mixture."""
    from naskit.nn.supernet import SuperCell
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        cell = SuperCell(ndim=1, channels=4, affine=False, track_running_stats=False)
    g = torch.Generator().manual_seed(0)
    x, alpha, step = torch.randn(8, 4, 1, 10, generator=g), torch.randn(6, 5, generator=g), Step(1, 5, 20)
    beta = AuxiliarySkip(epochs=4).beta(step)
    assert beta == 0.75
    relax = AuxiliarySkip(epochs=4)
    nodes = [x]
    for i in range(1, NUM_NODES):
        nodes.append(sum(cell.edges[e](nodes[j], alpha.softmax(-1)[e]) + beta * nodes[j]
                         for e, (to, j) in enumerate(EDGES) if to == i))
    got = cell(x, weights=relax.mode(alpha, step, None)["weights"])
    assert torch.allclose(got, nodes[-1], atol=1e-5)


def darts_minus_decay_rate(epochs, skip_beta=1.0, decay_max_epoch=None, decay_start_epoch=0, decay_stop_epoch=None):
    """Transcription of DARTS-'s ``DecayScheduler`` (Meituan-AutoML/DARTS-, ``src/utils.py``) with
    ``decay_type="linear"`` (``scripts/run_darts_minus.sh``), stepped at the start of every epoch as
    ``train_search.py`` does: the ``decay_rate`` each epoch runs with. Defaults: 50, 0, 50 for 50 epochs."""
    t_max = decay_max_epoch if decay_max_epoch is not None else epochs
    t_stop = decay_stop_epoch if decay_stop_epoch is not None else epochs
    rate, rates = 1.0, []
    for epoch in range(epochs):
        if epoch >= decay_start_epoch:
            rate = skip_beta * (t_max - epoch) / (t_max - decay_start_epoch) if epoch <= t_stop else rate
        else:
            rate = skip_beta
        rates.append(rate)
    return rates


@pytest.mark.parametrize("epochs", [1, 2, 10, 50])
def test_darts_minus_beta_is_the_references_per_epoch_decay(epochs):
    relax = AuxiliarySkip(epochs)
    steps_per_epoch = 3
    ours = [[relax.beta(Step(e, e * steps_per_epoch + i, epochs * steps_per_epoch)) for i in range(steps_per_epoch)]
            for e in range(epochs)]
    reference = darts_minus_decay_rate(epochs)
    assert [per_step[0] for per_step in ours] == pytest.approx(reference, abs=1e-12)
    assert all(len(set(per_step)) == 1 for per_step in ours)  # constant within an epoch
    assert reference[0] == 1.0 and reference[-1] == pytest.approx(1 / epochs)  # 1 first, never 0


def test_darts_minus_records_beta_per_epoch(runs, data):
    assert runs["darts-"].history[-1].schedule["beta"] == 1.0  # one epoch: beta stays 1
    two = naskit.oneshot.search_darts_minus(data, replace(TINY, epochs=2))
    assert [log.schedule["beta"] for log in two.history] == [1.0, 0.5]


def test_darts_minus_changes_the_search(runs):
    """Same seed, same batches: the auxiliary skip must change what the weights and alpha learn."""
    minus, plain = runs["darts-"].history[0], runs["darts"].history[0]
    assert minus.train_loss != plain.train_loss
    assert minus.arch_weights != plain.arch_weights


def test_darts_plus_follows_darts_until_it_stops(data, runs):
    """Constructed: seed 3's DARTS cell has a skip connection after epoch 1 of 2; a DARTS+
    threshold of that many skips must stop there, on exactly DARTS's trajectory."""
    config = replace(TINY, epochs=2, seed=3)
    darts = search_darts(data, config)
    skips = round(darts.history[0].skip_share * 6)
    assert skips >= 1, f"the constructed setting needs a skip in DARTS's first cell, got {darts.history[0].arch}"
    plus = search_darts_plus(data, config, max_skip_connects=skips)
    assert plus.stopped_early and len(plus.history) == 1
    assert floats(plus) == floats(darts)[:1] and plus.arch == parse(darts.history[0].arch)
    # ... so it can be read off the DARTS run, at no cost: same cell, history and FLOPs
    read = darts_plus_from(darts, max_skip_connects=skips)
    assert (read.method, read.arch, read.stopped_early) == ("darts+", plus.arch, True)
    assert floats(read) == floats(plus) and read.flops == plus.flops
    for name in ("darts", "rsps", "gdas"):  # the history's FLOPs so far end at the result's
        last = runs[name].history[-1]
        assert (last.search_flops, last.eval_flops) == (runs[name].search_flops, runs[name].eval_flops)
    never = darts_plus_from(runs["darts"])  # below the threshold: the whole DARTS run
    assert floats(never) == floats(runs["darts"]) and never.arch == runs["darts"].arch
    with pytest.raises(ValueError, match="takes a DARTS result"):
        darts_plus_from(runs["gdas"])
    # below the threshold (seed 0 has fewer than 2 skips), DARTS+ is DARTS
    assert runs["darts"].history[0].skip_share < 2 / 6
    assert floats(runs["darts+"]) == floats(runs["darts"]) and not runs["darts+"].stopped_early


def test_darts_plus_threshold_is_checked():
    with pytest.raises(ValueError, match="max_skip_connects"):
        search_darts_plus(None, TINY, max_skip_connects=0)


# --- docstring examples --------------------------------------------------------------------------

@pytest.mark.parametrize("module", [naskit.oneshot, naskit.oneshot.config, naskit.oneshot.rsps,
                                    naskit.oneshot.darts, naskit.oneshot.gdas, naskit.oneshot.darts_minus,
                                    naskit.oneshot.darts_plus], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


# --- ranking quality: inherited vs stand-alone accuracy -----------------------------------------
@pytest.fixture(scope="module")
def truth_table():
    """A small table of 12 random cells with made-up accuracies (the truth the supernet is scored on)."""
    import numpy as np
    import pandas as pd

    space, seen, cells = NB201Space(), set(), []
    rng = random.Random(0)
    while len(cells) < 12:  # one cell per canonical class, as a benchmark holds them
        arch = space.sample(rng)
        if space.canonical(arch) not in seen:
            seen.add(space.canonical(arch))
            cells.append(str(arch))
    acc = np.random.default_rng(0).uniform(0.2, 0.95, size=len(cells))
    return naskit.TabularBenchmark.from_table(pd.DataFrame({"arch": cells, "valid_acc": acc, "test_acc": acc}))


def test_ranking_quality_correlates_inherited_with_the_table(data, truth_table):
    import pandas as pd
    from scipy import stats

    from naskit.oneshot.ranking import ranking_quality, sample_cells

    cells = sample_cells(truth_table, 8, seed=1)
    assert len(set(cells)) == 8 and cells == sample_cells(truth_table, 8, seed=1)
    study = ranking_quality(data, truth_table, cells=cells, checkpoints=(2, 1), config=TINY)
    assert study["epoch"].tolist() == [1, 2]
    assert (study["train_flops"].diff().dropna() > 0).all() and (study["n"] == 8).all()
    inherited = pd.DataFrame(study.attrs["inherited"])
    assert inherited["arch"].tolist() == cells
    assert inherited["test_acc"].tolist() == [truth_table.query(c).test_acc for c in cells]
    for row in study.itertuples():
        ref = stats.kendalltau(inherited[f"epoch {row.epoch}"], inherited["test_acc"]).statistic
        assert row.kendall == pytest.approx(ref)
    again = ranking_quality(data, truth_table, cells=cells, checkpoints=(1, 2), config=TINY)
    assert again.attrs["inherited"] == study.attrs["inherited"]  # reproducible for a seed
    assert len(pd.concat([study, again])) == 4  # attrs hold plain values, so studies concatenate
    # the same study against the validation accuracy, from what it recorded: as if run with truth=
    from naskit.oneshot.ranking import against

    valid = against(study, truth_table, "valid_acc")
    rerun = ranking_quality(data, truth_table, cells=cells, checkpoints=(1, 2), config=TINY, truth="valid_acc")
    cols = ["epoch", "kendall", "spearman", "top10%", "n"]
    assert valid[cols].equals(rerun[cols]) and valid.attrs["truth"] == "valid_acc"


def test_ranking_quality_refuses_cells_outside_the_table(data, truth_table):
    from naskit.oneshot.ranking import ranking_quality, sample_cells

    outside = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert outside not in truth_table
    with pytest.raises(ValueError, match="not in the benchmark"):
        ranking_quality(data, truth_table, cells=[outside], checkpoints=(1,), config=TINY)
    with pytest.raises(ValueError, match="checkpoints"):
        ranking_quality(data, truth_table, cells=3, checkpoints=(0,), config=TINY)
    with pytest.raises(ValueError, match="n must be in 1..12"):
        sample_cells(truth_table, 13)


def test_search_many_in_processes_equals_each_search_alone(data, runs):
    from naskit.oneshot import search_many

    tasks = {"d": ("darts", TINY), "g": ("gdas", TINY), "d1": ("darts", replace(TINY, seed=1))}
    parallel = search_many(tasks, data, workers=2)
    assert list(parallel) == ["d", "g", "d1"]
    assert floats(parallel["d"]) == floats(runs["darts"]) and floats(parallel["g"]) == floats(runs["gdas"])
    assert floats(parallel["d1"]) == floats(search_darts(data, replace(TINY, seed=1)))
    with pytest.raises(ValueError, match="unknown one-shot method"):
        search_many({"x": ("enas", TINY)}, data)


def test_weight_learning_rate_follows_a_cosine_per_epoch_as_darts_and_nb201(data):
    """DARTS's train_search.py and NB201's search scripts set the rate once per epoch:
    epoch e of T trains at lr_min + (lr - lr_min) (1 + cos(pi e / T)) / 2 (never lr_min itself)."""
    import math

    config = replace(TINY, epochs=4, w_lr=0.1, w_lr_min=0.01)
    result = search_darts(data, config)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
    assert [log.schedule["w_lr"] for log in result.history] == pytest.approx(expected, rel=1e-12)
