"""Tests for naskit.oneshot: one conformance suite over every method, then each method's idea.

References: FLOPs against ``cost.forward_flops`` of the stand-alone network ``extract`` builds;
DARTS-'s auxiliary skip against an explicit ``beta * x`` on every edge; DARTS+ against the
DARTS run it must follow until it stops.
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
from naskit.cost import forward_flops
from naskit.network import live_edges
from naskit.oneshot import (
    METHODS,
    OneShotConfig,
    OneShotResult,
    darts_plus_from,
    rank,
    search_darts,
    search_darts_plus,
)
from naskit.oneshot.common import PathFlops, SearchRun, derive
from naskit.oneshot.darts import Mixture, Step, arch_optimizer, arch_step, init_alpha
from naskit.oneshot.darts_minus import AuxiliarySkip
from naskit.oneshot.gdas import GumbelHard
from naskit.space import EDGES, NUM_NODES, OPS, Arch, NB201Space, parse

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
    ("tau_min", 0.0), ("tau_max", 0.05), ("num_candidates", 0), ("threads", 0), ("device", "gpu"),
    ("seed", -1), ("seed", "0"),
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
    run = SearchRun(data, TINY)
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

@pytest.mark.parametrize("relax", [Mixture(), AuxiliarySkip(), GumbelHard(10.0, 0.1, 1)],
                         ids=["darts", "darts-", "gdas"])
def test_one_arch_step_moves_alpha(data, relax):
    run = SearchRun(data, TINY)
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


def test_gumbel_sample_is_one_hot_with_soft_gradient():
    alpha = torch.randn(6, 5, generator=torch.Generator().manual_seed(0), requires_grad=True)
    hard = GumbelHard(1.0, 1.0, 1).mode(alpha, Step(0, 0, 1), torch.Generator().manual_seed(1))["hard"]
    assert torch.equal(hard.detach().round(), torch.eye(5)[hard.detach().argmax(1)])
    hard[:, 0].sum().backward()  # depends on alpha only through the soft sample
    assert (alpha.grad != 0).all()


def test_a_single_path_step_moves_only_that_path(data):
    """Ops off the sampled path get no gradient, so no momentum or weight-decay step either."""
    run = SearchRun(data, TINY)
    arch = parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")  # one conv, edge 0
    before = {k: v.detach().clone() for k, v in run.supernet.named_parameters()}
    for _ in range(2):  # the second step would move stale momentum, if there were any
        run.weight_step(next(run.train_batches()), {"arch": arch})
    moved = {k for k, v in run.supernet.named_parameters() if not torch.equal(v, before[k])}
    assert any(".edges.0.ops.nor_conv_3x3." in k for k in moved)
    assert not any(".edges." in k and ".edges.0.ops.nor_conv_3x3." not in k for k in moved)
    assert any(k.startswith("stem.") for k in moved)


# --- RSPS ----------------------------------------------------------------------------------------

def test_rsps_ranking(data, runs):
    result = runs["rsps"]
    assert 1 <= len(result.ranking) <= TINY.num_candidates
    assert all(0.0 <= acc <= 1.0 for acc in result.ranking.values())
    assert result.ranking[str(result.arch)] == max(result.ranking.values())
    archs = [parse(a) for a in result.ranking]
    state = {k: v.clone() for k, v in result.supernet.state_dict().items()}
    accs = rank(result.supernet, archs, data)
    assert accs == list(result.ranking.values())  # the same numbers, recomputed
    assert all(torch.equal(v, result.supernet.state_dict()[k]) for k, v in state.items())  # untouched
    assert rank(result.supernet, [str(archs[0])], data) == accs[:1]


def test_rsps_history_is_uniform_until_derived(runs):
    log = runs["rsps"].history[-1]
    assert log.arch_loss is None and log.arch_weights == [[0.2] * 5] * 6


# --- the remedies: DARTS- and DARTS+ -------------------------------------------------------------

def test_auxiliary_skip_is_beta_x_on_every_edge():
    """Reference: a cell whose every edge adds ``beta * x`` to the plain DARTS mixture."""
    from naskit.supernet import SuperCell
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        cell = SuperCell(ndim=1, channels=4, affine=False, track_running_stats=False)
    g = torch.Generator().manual_seed(0)
    x, alpha, step = torch.randn(8, 4, 1, 10, generator=g), torch.randn(6, 5, generator=g), Step(0, 1, 5)
    beta = AuxiliarySkip().beta(step)
    assert beta == 0.75
    nodes = [x]
    for i in range(1, NUM_NODES):
        nodes.append(sum(cell.edges[e](nodes[j], alpha.softmax(-1)[e]) + beta * nodes[j]
                         for e, (to, j) in enumerate(EDGES) if to == i))
    got = cell(x, weights=AuxiliarySkip().mode(alpha, step, None)["weights"])
    assert torch.allclose(got, nodes[-1], atol=1e-5)


def test_darts_minus_beta_decays_linearly_from_one_to_zero(runs):
    beta = AuxiliarySkip().beta
    assert [beta(Step(0, i, 16)) for i in (0, 5, 15)] == pytest.approx([1.0, 2 / 3, 0.0])
    assert runs["darts-"].history[-1].schedule["beta"] == 0.0


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
