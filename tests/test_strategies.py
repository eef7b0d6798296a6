"""Tests for the search strategies: one conformance suite run against every strategy, then each
algorithm's own published behaviour (Real et al. 2019 Alg. 1; White et al. 2021; Williams 1992;
White et al. 2021 BANANAS; Jamieson & Talwalkar 2016; Li et al. 2018 Table 1). The rules pinned
against each method's reference code are in test_strategy_references.py.

A tiny driver plays the search loop (ask -> evaluate -> tell, optionally with several asks in
flight) on a synthetic, deterministic objective: each edge's op adds a fixed gain (structure a
strategy can exploit, like NB201's smooth landscape) and each cell gets a fixed random bump.
"""

import copy
import doctest
import importlib
import importlib.util
import os
import pickle
import subprocess
import sys
from collections import deque

import numpy as np
import pytest
from scipy.stats import spearmanr

from naskit.core.space import OPS, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies import (
    ASHA,
    BANANAS,
    REINFORCE,
    STRATEGIES,
    Constrained,
    Hyperband,
    LocalSearch,
    MORegularizedEvolution,
    OptunaStrategy,
    PredictorGuided,
    RandomSearch,
    RegularizedEvolution,
    Scalarised,
    Strategy,
    SuccessiveHalving,
    halving_schedule,
    hyperband_brackets,
    make_strategy,
    strategy_options,
)
from naskit.strategies.mlp_ensemble import MLPEnsemble
from naskit.strategies.predictor_guided import RandomReLUEnsemble, SklearnMLPEnsemble

SPACE = NB201Space()
MAX_FIDELITY = 8
# op index of every cell's 6 edges, in enumeration order: shape (15625, 6)
_DIGITS = np.array([[i // 5 ** (5 - e) % 5 for e in range(6)] for i in range(len(SPACE))])
_GAIN = np.random.default_rng(1).random((6, len(OPS)))   # what each op is worth on each edge
_BUMP = np.random.default_rng(0).random(len(SPACE))      # a fixed random value per cell
ACC = 0.8 * _GAIN[np.arange(6), _DIGITS].mean(axis=1) + 0.2 * _BUMP  # full-fidelity valid_acc, per cell
# network costs for multi-objective strategies: convolutions (op indices 2, 3) cost latency and parameters
_CONVS = ((_DIGITS == 2) | (_DIGITS == 3)).sum(axis=1)
LATENCY = 0.2 + 0.05 * _CONVS + 0.02 * np.random.default_rng(2).random(len(SPACE))
PARAMS = 7000 + 4000 * _CONVS


def evaluate(proposal: Proposal, fails=lambda arch: False) -> Result:
    """The synthetic evaluator: lower fidelity costs 0.02 accuracy per missing epoch."""
    if fails(proposal.arch):
        return Result(proposal.arch, proposal.fidelity, float("nan"), status="failed", error="synthetic")
    acc = ACC[proposal.arch.index]
    if proposal.fidelity is not None:
        acc -= 0.02 * (MAX_FIDELITY - proposal.fidelity)
    network = {"latency_ms_b1": float(LATENCY[proposal.arch.index]), "params": int(PARAMS[proposal.arch.index])}
    return Result(proposal.arch, proposal.fidelity, float(acc), extra={"network": network})


def drive(strategy: Strategy, n: int, in_flight: int = 1, evaluator=evaluate) -> list[Proposal]:
    """Keep up to ``in_flight`` asks running, tell the oldest result first; stop after ``n`` asks
    (or when the strategy finishes), then tell whatever is still pending."""
    asked, pending = [], deque()
    while len(asked) < n:
        proposal = strategy.ask() if len(pending) < in_flight else None
        if proposal is not None:
            asked.append(proposal)
            pending.append(proposal)
        elif pending:
            oldest = pending.popleft()
            strategy.tell(oldest, evaluator(oldest))
        else:
            assert strategy.finished, "ask() returned None with nothing pending, yet the strategy is not finished"
            break
    while pending:
        oldest = pending.popleft()
        strategy.tell(oldest, evaluator(oldest))
    return asked


def as_text(proposals: list[Proposal]) -> list[str]:
    return [f"{p.arch}@{p.fidelity}" for p in proposals]


def floats_in(obj):
    """Every float a strategy holds: in containers, numpy arrays and nested strategies."""
    if isinstance(obj, float):
        yield obj
    elif isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        yield from obj.ravel().tolist()
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from floats_in(key)
            yield from floats_in(value)
    elif isinstance(obj, (list, tuple, deque, set)):
        for item in obj:
            yield from floats_in(item)
    elif isinstance(obj, (Strategy, RandomReLUEnsemble, SklearnMLPEnsemble, MLPEnsemble)):
        yield from floats_in(vars(obj))


def told_scores(strategy: Strategy) -> list[tuple[Arch, float]]:
    """The (cell, score) pairs a strategy keeps to decide what is good."""
    if isinstance(strategy, MORegularizedEvolution):
        return [(arch, score) for arch, score, _ in strategy.population]
    if isinstance(strategy, Constrained):  # what the wrapped strategy was told, infeasible cells left out
        return [(a, s) for a, s in told_scores(strategy.inner) if a not in strategy.infeasible]
    if isinstance(strategy, Scalarised):
        return [pair for inner in strategy.segments for pair in told_scores(inner)]
    if isinstance(strategy, RegularizedEvolution):
        return list(strategy.population)
    if isinstance(strategy, LocalSearch):
        return list(strategy.scores.items())
    if isinstance(strategy, (PredictorGuided, BANANAS)):
        return list(strategy.history)
    if isinstance(strategy, SuccessiveHalving):
        return [pair for rung in strategy.rungs for pair in rung["results"].items()]
    if isinstance(strategy, Hyperband):  # and BOHB, a Hyperband
        return [pair for bracket in strategy.brackets for pair in told_scores(bracket)]
    if isinstance(strategy, ASHA):
        return [pair for rung in strategy.rungs for pair in rung.results.items()]
    if isinstance(strategy, OptunaStrategy):
        return list(strategy.scores.items())
    return []


# Registered strategies whose optional extra is not installed are skipped, saying which extra.
EXTRAS = {"optuna": "optuna"}  # strategy -> the extra (and module) it needs
MISSING = {name: f"needs the {extra!r} extra" for name, extra in EXTRAS.items()
           if importlib.util.find_spec(extra) is None}
NAMES = [name for name in STRATEGIES if name not in MISSING]
CASES = NAMES + [pytest.param(name, marks=pytest.mark.skip(reason=why)) for name, why in MISSING.items()]


# --- conformance: every strategy ---------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_proposals_are_valid_cells_and_fidelities(name):
    strategy = make_strategy(name, seed=0)
    proposals = drive(strategy, 60)
    assert proposals
    for p in proposals:
        assert isinstance(p, Proposal) and isinstance(p.arch, Arch)
        assert p.fidelity is None or (isinstance(p.fidelity, int) and 1 <= p.fidelity <= MAX_FIDELITY)


@pytest.mark.parametrize("name", CASES)
def test_same_seed_same_proposals_and_different_seeds_differ(name):
    first = as_text(drive(make_strategy(name, seed=3), 60))
    again = as_text(drive(make_strategy(name, seed=3), 60))
    other = as_text(drive(make_strategy(name, seed=4), 60))
    assert first == again
    assert first != other


@pytest.mark.parametrize("name", CASES)
def test_four_asks_in_flight_are_valid_and_reproducible(name):
    first = drive(make_strategy(name, seed=5), 60, in_flight=4)
    assert as_text(first) == as_text(drive(make_strategy(name, seed=5), 60, in_flight=4))
    assert all(isinstance(p.arch, Arch) for p in first)


@pytest.mark.parametrize("name", CASES)
def test_a_copy_mid_search_continues_the_same_way(name):
    strategy = make_strategy(name, seed=2)
    drive(strategy, 20, in_flight=3)
    for clone in (copy.deepcopy(strategy), pickle.loads(pickle.dumps(strategy))):
        assert as_text(drive(clone, 20, in_flight=3)) == as_text(drive(copy.deepcopy(strategy), 20, in_flight=3))


@pytest.mark.parametrize("name", CASES)
def test_settings_name_the_strategy_and_rebuild_it(name):
    strategy = make_strategy(name, seed=7)
    settings = strategy.settings()
    assert settings["name"] == name == strategy.name and settings["seed"] == 7
    options = {k: v for k, v in settings.items() if k not in ("name", "seed")}
    assert sorted(options) == sorted(strategy_options(name))
    rebuilt = make_strategy(name, seed=7, **options)
    assert as_text(drive(rebuilt, 30)) == as_text(drive(make_strategy(name, seed=7), 30))


@pytest.mark.parametrize("name", CASES)
def test_failed_results_are_tolerated_and_never_best(name):
    def fails(arch):  # about a third of all cells, including many good ones
        return arch.index % 3 == 0

    strategy = make_strategy(name, seed=0)
    proposals = drive(strategy, 60, in_flight=2, evaluator=lambda p: evaluate(p, fails))
    assert any(fails(p.arch) for p in proposals)
    assert not any(np.isnan(x) for x in floats_in(strategy)), "a NaN from a failure leaked into the state"
    scores = told_scores(strategy)
    for arch, score in scores:
        assert (score == float("-inf")) == fails(arch)
    if scores:
        best_arch, _ = max(scores, key=lambda pair: pair[1])
        assert not fails(best_arch)


@pytest.mark.parametrize("name", ["evolution", "local", "bananas", "predictor_guided"])
def test_guided_strategies_make_progress(name):
    # The top 1% of cells: random search with 150 evaluations misses it about 1 time in 5.
    top_percent = np.quantile(ACC, 0.99)
    for seed in range(3):
        best = max(ACC[p.arch.index] for p in drive(make_strategy(name, seed=seed), 150))
        assert best > np.median(ACC)
        assert best >= top_percent, f"seed {seed}: best {best:.3f} < 99th percentile {top_percent:.3f}"


def test_proposals_do_not_depend_on_python_hash_seed():
    """Set order changes with PYTHONHASHSEED (Arch hashes strings); a run replayed in a new process must not."""
    code = (
        "import sys; sys.path.insert(0, 'tests'); import test_strategies as t\n"
        "for name in t.NAMES: print(name, t.as_text(t.drive(t.make_strategy(name, seed=1), 40, in_flight=2)))\n"
    )
    hash_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"  # differ from this process
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    other = subprocess.run([sys.executable, "-c", code], cwd=here, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout
    ours = "".join(f"{name} {as_text(drive(make_strategy(name, seed=1), 40, in_flight=2))}\n" for name in NAMES)
    assert other == ours


@pytest.mark.parametrize("module", ["__init__", "random_search", "evolution", "local_search", "reinforce",
                                    "bananas", "predictor_guided", "mlp_ensemble", "mutations", "halving",
                                    "hyperband", "multiobjective", "multiobjective_wrappers",
                                    "multiobjective_halving"])
def test_docstring_examples_run(module):
    name = "naskit.strategies" if module == "__init__" else f"naskit.strategies.{module}"
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


# --- random search -----------------------------------------------------------------------------
def test_random_search_covers_the_ops_uniformly():
    proposals = drive(RandomSearch(seed=0), 600)
    counts = np.bincount([OPS.index(op) for p in proposals for op in p.arch.ops], minlength=len(OPS))
    assert counts.min() > 0.8 * counts.mean()


# --- regularized evolution ---------------------------------------------------------------------
def test_evolution_ages_out_the_oldest_and_keeps_the_population_size():
    strategy, told = RegularizedEvolution(seed=0, population_size=10, sample_size=3), []
    for _ in range(40):
        proposal = strategy.ask()
        strategy.tell(proposal, evaluate(proposal))
        told.append(proposal.arch)
        assert len(strategy.population) <= 10
        assert [arch for arch, _ in strategy.population] == told[-10:]  # newest right, oldest gone


def test_evolution_counts_pending_random_cells_then_mutates():
    strategy = RegularizedEvolution(seed=0, population_size=10, sample_size=3)
    first = [strategy.ask() for _ in range(10)]   # ten random asks, all pending
    assert strategy.random_asked == 10
    for proposal in first:
        strategy.tell(proposal, evaluate(proposal))
    for _ in range(5):  # from now on, children differ from some member on exactly one edge
        child = strategy.ask().arch
        members = [arch for arch, _ in strategy.population]
        assert any(sum(a != b for a, b in zip(child.ops, m.ops)) == 1 for m in members)
    assert strategy.random_asked == 10


def hamming(a: Arch, b: Arch) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


def test_evolution_tournament_picks_the_best_sampled_parent():
    strategy = RegularizedEvolution(seed=0, population_size=3, sample_size=3)
    poor, good, failed = [strategy.ask() for _ in range(3)]
    strategy.tell(poor, Result(poor.arch, None, 0.1))
    strategy.tell(good, Result(good.arch, None, 0.9))
    strategy.tell(failed, Result(failed.arch, None, float("nan"), status="failed"))
    children = [strategy.ask().arch for _ in range(300)]  # no tells: the population stays put
    # `good` is among 3 members drawn with replacement with p = 1 - (2/3)**3 = 0.70, and then wins;
    # the failed member is a parent only when all 3 draws are it: p = 1/27.
    assert np.mean([hamming(c, good.arch) == 1 for c in children]) > 0.6
    assert np.mean([hamming(c, failed.arch) == 1 for c in children]) < 0.1


# --- local search ------------------------------------------------------------------------------
TARGET = Arch(("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3"))


def matches(arch: Arch) -> float:
    """A single-peaked objective: how many edges agree with TARGET (6 only at TARGET)."""
    return float(sum(a == b for a, b in zip(arch.ops, TARGET.ops)))


@pytest.mark.parametrize("initial", [1, 10])
def test_local_search_climbs_to_the_optimum_then_restarts(initial):
    strategy, climb_cells, moves = LocalSearch(seed=0, initial=initial), [], []
    while strategy.climbs < 2:
        before = strategy.center
        proposal = strategy.ask()
        if strategy.climbs == 1:
            climb_cells.append(proposal.arch)
        else:  # the restart proposal
            assert before == TARGET                       # it restarted at the (only) local optimum ...
            assert set(SPACE.neighbors(TARGET)) <= set(strategy.scores)  # ... once every neighbour was known
            assert proposal.arch not in strategy.scores   # from a cell never evaluated
            break
        old_center = strategy.center
        strategy.tell(proposal, Result(proposal.arch, None, matches(proposal.arch) / 6))
        if strategy.center != old_center:
            moves.append((old_center, strategy.center))
    assert len(climb_cells) == len(set(climb_cells)), "a cell was proposed twice in one climb"
    assert moves and all(matches(new) > matches(old) for old, new in moves)


def test_local_search_moves_on_first_improvement():
    strategy = LocalSearch(seed=0, initial=1)
    start = strategy.ask()
    strategy.tell(start, Result(start.arch, None, 0.5))
    worse = strategy.ask()
    strategy.tell(worse, Result(worse.arch, None, 0.4))
    assert strategy.center == start.arch
    better = strategy.ask()
    strategy.tell(better, Result(better.arch, None, 0.6))
    assert strategy.center == better.arch  # moved at once, without evaluating the other 22 neighbours


def test_local_search_leaves_a_failed_start():
    strategy = LocalSearch(seed=0, initial=1)
    start = strategy.ask()
    strategy.tell(start, Result(start.arch, None, float("nan"), status="failed"))
    neighbour = strategy.ask()
    assert neighbour.arch in SPACE.neighbors(start.arch)
    strategy.tell(neighbour, Result(neighbour.arch, None, 0.1))
    assert strategy.center == neighbour.arch


def test_local_search_waits_for_the_last_neighbours_then_restarts():
    strategy = LocalSearch(seed=0, initial=1)
    proposals = [strategy.ask() for _ in range(25)]  # the start and its 24 neighbours, all pending
    assert strategy.ask() is None                     # a pending neighbour may still improve
    for p in proposals:
        strategy.tell(p, Result(p.arch, None, 1.0 if p is proposals[0] else 0.5))
    restart = strategy.ask()                          # the start was a local optimum
    assert strategy.climbs == 2 and restart.arch not in {p.arch for p in proposals}


def test_local_search_with_reuse_known_reuses_a_known_score_instead_of_reevaluating():
    strategy = LocalSearch(seed=0, initial=1, reuse_known=True)
    start = strategy.ask()
    known = SPACE.neighbors(start.arch)[5]
    strategy.tell(Proposal(known), Result(known, None, 0.9))  # e.g. replayed from an earlier run
    strategy.tell(start, Result(start.arch, None, 0.5))
    for _ in range(30):
        p = strategy.ask()
        assert p.arch != known
        strategy.tell(p, Result(p.arch, None, 0.1))
    assert strategy.scores[strategy.center] == 0.9 and strategy.center == known


# --- REINFORCE ---------------------------------------------------------------------------------
def test_reinforce_learns_a_rewarded_op():
    strategy = REINFORCE(seed=0)
    conv = OPS.index("nor_conv_3x3")
    assert np.allclose(strategy.probabilities(), 1 / len(OPS))
    for _ in range(200):
        proposal = strategy.ask()
        reward = 1.0 if proposal.arch.ops[0] == "nor_conv_3x3" else 0.0
        strategy.tell(proposal, Result(proposal.arch, None, reward))
    probs = strategy.probabilities()
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert probs[0, conv] > 0.5
    assert probs[1:].max() < probs[0, conv]  # unrewarded edges stay closer to uniform


def test_reinforce_pushes_probability_away_from_a_failed_cell():
    strategy = REINFORCE(seed=0, learning_rate=0.05)
    for _ in range(5):
        p = strategy.ask()
        strategy.tell(p, Result(p.arch, None, 0.8))
    failed = Arch(("avg_pool_3x3",) * 6)
    before = strategy.probabilities()[:, -1].copy()
    strategy.tell(Proposal(failed), Result(failed, None, float("nan"), status="failed"))
    assert np.all(strategy.probabilities()[:, -1] < before)  # reward 0 < baseline: its ops lose


# --- predictor-guided search (BANANAS's loop, cheap ingredients) ---------------------------------
def test_predictor_ensemble_ranks_unseen_cells():
    strategy, rng = PredictorGuided(seed=0), np.random.default_rng(0)
    train, held_out = rng.choice(len(SPACE), size=(2, 200), replace=False)
    for i in train:
        strategy.tell(Proposal(SPACE[int(i)]), Result(SPACE[int(i)], None, float(ACC[i])))
    mean, std = strategy.predict([SPACE[int(i)] for i in held_out])
    assert mean.shape == std.shape == (200,) and np.all(std >= 0)
    assert spearmanr(mean, ACC[held_out])[0] > 0.6


@pytest.mark.parametrize("acquisition", ["its", "ucb"])
def test_predictor_guided_never_reproposes_a_cell(acquisition):
    proposals = drive(PredictorGuided(seed=0, acquisition=acquisition), 80, in_flight=4)
    archs = [p.arch for p in proposals]
    assert len(set(archs)) == len(archs)


def test_predictor_guided_with_sklearn_mlps():
    strategy = PredictorGuided(seed=0, initial=4, ensemble=2, candidates=20, predictor="mlp")
    first = as_text(drive(strategy, 8))
    assert first == as_text(drive(PredictorGuided(seed=0, initial=4, ensemble=2, candidates=20, predictor="mlp"), 8))


# --- successive halving and Hyperband ------------------------------------------------------------
def test_halving_schedule_follows_eta():
    assert halving_schedule(8, 1, 8, 2) == [(8, 1), (4, 2), (2, 4), (1, 8)]
    assert halving_schedule(9, 1, 9, 3) == [(9, 1), (3, 3), (1, 9)]
    assert halving_schedule(27, 1, 10, 3) == [(27, 1), (9, 3), (3, 10)]  # top rung always max_fidelity


def test_successive_halving_promotes_the_top_scores_rung_by_rung():
    strategy = SuccessiveHalving(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
    proposals = drive(strategy, 100, in_flight=3)
    assert strategy.finished and strategy.ask() is None
    sizes = [(sum(p.fidelity == f for p in proposals), f) for f in (1, 2, 4, 8)]
    assert sizes == [(8, 1), (4, 2), (2, 4), (1, 8)]
    for lower, upper in zip(strategy.rungs, strategy.rungs[1:]):
        results = lower["results"]
        top = sorted(results, key=results.get, reverse=True)[: upper["size"]]
        assert set(upper["cells"]) == set(top)
    assert len(set(strategy.rungs[0]["cells"])) == 8


def test_successive_halving_waits_for_a_whole_rung():
    strategy = SuccessiveHalving(seed=0, min_fidelity=1, max_fidelity=9, eta=3)
    rung0 = [strategy.ask() for _ in range(9)]
    assert strategy.ask() is None and not strategy.finished
    for p in rung0[:-1]:
        strategy.tell(p, evaluate(p))
        assert strategy.ask() is None  # one result is still out
    strategy.tell(rung0[-1], evaluate(rung0[-1]))
    assert strategy.ask().fidelity == 3


def test_successive_halving_never_promotes_a_failure():
    strategy = SuccessiveHalving(seed=0, min_fidelity=1, max_fidelity=4, eta=2)
    rung0 = [strategy.ask() for _ in range(4)]
    for k, p in enumerate(rung0):  # three of four fail: only one survivor for two places
        strategy.tell(p, evaluate(p) if k == 2 else Result(p.arch, 1, float("nan"), status="failed"))
    assert strategy.ask().arch == rung0[2].arch and strategy.ask() is None


def test_hyperband_brackets_match_li_et_al_table_1():
    # Li et al. 2018, Table 1: R = 81, eta = 3.
    assert hyperband_brackets(1, 81, 3) == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    assert hyperband_brackets(1, 8, 2) == [
        [(8, 1), (4, 2), (2, 4), (1, 8)], [(6, 2), (3, 4), (1, 8)], [(4, 4), (2, 8)], [(4, 8)],
    ]


def test_hyperband_runs_its_brackets_in_order_then_loops():
    strategy = Hyperband(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
    per_cycle = sum(n for bracket in strategy.plan for n, _ in bracket)  # 15 + 10 + 6 + 4 = 35
    proposals = drive(strategy, per_cycle + 1)
    seen = [(len(b.rungs[0]["cells"]), [(r["size"], r["fidelity"]) for r in b.rungs]) for b in strategy.brackets]
    assert [rungs for _, rungs in seen[:4]] == strategy.plan
    assert len(strategy.brackets) == 5 and proposals[-1].fidelity == 1  # bracket s_max again
    assert not strategy.finished


def test_hyperband_starts_the_next_bracket_while_one_waits():
    strategy = Hyperband(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
    proposals = [strategy.ask() for _ in range(10)]  # 8 of bracket 0, then bracket 1 fills idle workers
    assert [p.fidelity for p in proposals] == [1] * 8 + [2] * 2 and len(strategy.brackets) == 2


# --- make_strategy ---------------------------------------------------------------------------------
def test_make_strategy_builds_each_registered_class():
    for name, cls in STRATEGIES.items():
        if name in MISSING:
            continue
        assert type(make_strategy(name, seed=1)) is cls


def test_make_strategy_rejects_an_unknown_name_listing_the_known_ones():
    with pytest.raises(ValueError, match="unknown strategy 'evolve'.*random, evolution, local"):
        make_strategy("evolve")


def test_make_strategy_rejects_an_unknown_option_listing_the_allowed_ones():
    with pytest.raises(ValueError, match="no option 'pop_size'.*population_size, sample_size"):
        make_strategy("evolution", pop_size=10)
    with pytest.raises(ValueError, match="no option 'eta'.*none besides space and seed"):
        make_strategy("random", eta=3)


@pytest.mark.parametrize("name, options, message", [
    ("evolution", {"sample_size": 11}, "sample_size"),
    ("evolution", {"mutation": "per_edge"}, "mutation 'per_edge'.*node_then_edge, uniform_edge"),
    ("local", {"initial": 0}, "initial must be"),
    ("bananas", {"k": 0}, "k must be"),
    ("bananas", {"max_path_length": 4}, "max_path_length must be 1, 2 or 3"),
    ("bananas", {"acquisition": "ei"}, "no option 'acquisition'.*initial, k, candidates, max_path_length"),
    ("predictor_guided", {"acquisition": "ei"}, "acquisition 'ei'.*its, ucb"),
    ("predictor_guided", {"predictor": "gp"}, "predictor 'gp'"),
    ("reinforce", {"baseline_decay": 1.0}, "baseline_decay"),
    ("sh", {"eta": 1}, "eta"),
    ("sh", {"min_fidelity": 4, "max_fidelity": 2}, "max_fidelity"),
    ("hyperband", {"max_fidelity": 8.0}, "max_fidelity must be an int"),
])
def test_bad_options_raise_before_any_search(name, options, message):
    with pytest.raises(ValueError, match=message):
        make_strategy(name, **options)
