"""Multi-objective and constrained search, the true front and the latency columns, each pinned
against a transcription of its reference: Knowles 2006's weight set and augmented Tchebycheff
function (ParEGO), Deb et al. 2002's crowded comparison (NSGA-II), syne-tune's epsilon-net order
(MO-ASHA, Schmucker et al. 2021), and brute force for the fronts."""

import itertools
import math

import numpy as np
import pytest

from naskit.bench.front import best_feasible, best_under, front_quality, reference_point, true_front
from naskit.bench.latency import compare_with_shipped
from naskit.bench.store import load_benchmark
from naskit.core.pareto import epsilon_net_order, non_dominated_order, non_dominated_ranks
from naskit.core.space import NB201Space
from naskit.core.types import Proposal, Result
from naskit.evaluators.tabular import TabularEvaluator
from naskit.strategies import ASHA, MOASHA, Constrained, MORegularizedEvolution, MOSuccessiveHalving, Scalarised
from naskit.strategies.multiobjective_wrappers import augmented_tchebycheff, normalised, parego_weights

SPACE = NB201Space()


def result(arch, acc, latency, params=10_000, fidelity=None):
    return Result(arch, fidelity, acc, extra={"network": {"latency_ms_b1": latency, "params": params}})


# --- ParEGO's scalarisation (Knowles 2006) --------------------------------------------------------
def test_parego_weights_are_the_evenly_spaced_simplex_of_knowles_eq_1():
    for k, s, count in ((2, 10, 11), (3, 4, 15)):
        w = parego_weights(k)
        assert w.shape == (count, k) == (math.comb(s + k - 1, k - 1), k)
        assert np.allclose(w.sum(axis=1), 1) and set(np.round(w.ravel() * s, 9)) <= set(range(s + 1))
        assert len({tuple(r) for r in w}) == count


def test_augmented_tchebycheff_matches_knowles_eq_2_written_out():
    rng = np.random.default_rng(0)
    f, lam = rng.random((20, 3)), parego_weights(3)[7]
    by_hand = [max(lam[j] * x[j] for j in range(3)) + 0.05 * sum(lam[j] * x[j] for j in range(3)) for x in f]
    assert np.allclose(augmented_tchebycheff(f, lam), by_hand)


def test_scalarised_tells_its_strategy_minus_the_tchebycheff_value_of_the_normalised_objectives():
    strategy = Scalarised(seed=1, inner="random", segment=100)
    told = []
    strategy.inner.tell = lambda p, r: told.append(r.estimate)
    points = [(0.9, 0.5), (0.7, 0.2), (0.95, 0.9)]
    for acc, lat in points:
        p = strategy.ask()
        strategy.tell(p, result(p.arch, acc, lat))
    minimised = np.array([(-a, lat) for a, lat in points])
    expected = -augmented_tchebycheff(normalised(minimised)[-1], strategy.weights)
    assert told[-1] == pytest.approx(expected)
    with pytest.raises(ValueError, match="not asked"):
        strategy.tell(Proposal(SPACE[0]), result(SPACE[0], 0.5, 0.5))


def test_scalarised_draws_new_weights_and_a_fresh_strategy_each_segment():
    strategy = Scalarised(seed=0, inner="evolution", segment=5)
    for _ in range(30):
        p = strategy.ask()
        strategy.tell(p, result(p.arch, 0.5 + 0.01 * (p.arch.index % 7), 0.1 * (p.arch.index % 5)))
    assert len(strategy.segments) == 6
    with pytest.raises(ValueError, match="wraps strategies"):
        Scalarised(inner="constrained")


# --- NSGA-II's crowded comparison in the tournament ---------------------------------------------
def test_mo_evolution_tournament_prefers_the_lower_front_then_the_less_crowded():
    strategy = MORegularizedEvolution(seed=0, population_size=5, sample_size=5)
    cells = [SPACE[i] for i in (10, 20, 30, 40, 50)]
    # (acc, latency): a, b, c on the front (b in the middle, crowded), d dominated, e failed
    for arch, (acc, lat) in zip(cells[:4], [(0.9, 0.9), (0.8, 0.5), (0.5, 0.1), (0.6, 0.8)]):
        strategy.tell(Proposal(arch), result(arch, acc, lat))
    strategy.tell(Proposal(cells[4]), Result(cells[4], None, float("nan"), status="failed"))
    rank, crowding = strategy.crowded_keys()
    assert rank.tolist() == [0, 0, 0, 1, math.inf]
    assert crowding[0] == crowding[2] == math.inf and np.isfinite(crowding[1])
    members = list(strategy.population)
    assert strategy.tournament_winner([members[3], members[1]]) is members[1]  # front 0 beats front 1
    assert strategy.tournament_winner([members[1], members[2]]) is members[2]  # an extreme beats the middle
    assert strategy.tournament_winner([members[4], members[3]]) is members[3]  # a failure never wins


def test_non_dominated_order_is_by_front_then_crowding():
    rng = np.random.default_rng(3)
    pts = rng.random((40, 2))
    order = non_dominated_order(pts, [True, False])
    ranks = non_dominated_ranks(pts, [True, False])
    assert sorted(order.tolist()) == list(range(40))
    assert np.all(np.diff(ranks[order]) >= 0)


# --- MO successive halving: syne-tune's epsilon-net ---------------------------------------------
def syne_tune_epsilon_net(X, dim):
    """A transcription of syne-tune's compute_epsilon_net (non_dominated_priority.py), returning the order."""
    indices = set(range(X.shape[0]))
    order = [int(np.argmin(X, axis=0)[dim])]
    indices.remove(order[0])
    while indices:
        ordered = sorted(indices)
        diff = X[ordered][:, None, :].repeat(len(order), axis=1) - X[order]
        choice = ordered[np.linalg.norm(diff, axis=-1).min(-1).argmax()]
        order.append(choice)
        indices.remove(choice)
    return order


def test_epsilon_net_order_matches_syne_tune_on_random_fronts():
    rng = np.random.default_rng(5)
    for _ in range(20):
        X = rng.random((15, 3))
        assert epsilon_net_order(X, [False] * 3, first=0).tolist() == syne_tune_epsilon_net(X, 0)
        # maximised objectives are negated first
        assert epsilon_net_order(-X, [True] * 3, first=1).tolist() == syne_tune_epsilon_net(X, 1)


def test_mo_successive_halving_promotes_the_pareto_front_first():
    strategy = MOSuccessiveHalving(seed=0, min_fidelity=1, max_fidelity=2, eta=2, n_configs=4)
    asked = [strategy.ask() for _ in range(4)]
    values = {0: (0.9, 0.9), 1: (0.5, 0.1), 2: (0.6, 0.95), 3: (0.4, 0.5)}  # 0 and 1 are the front
    for i, p in enumerate(asked):
        strategy.tell(p, result(p.arch, *values[i], fidelity=p.fidelity))
    promoted = {strategy.ask().arch for _ in range(2)}
    assert promoted == {asked[0].arch, asked[1].arch}
    assert strategy.rungs[1]["fidelity"] == 2


def test_mo_asha_promotes_the_pareto_front_first_without_waiting_for_the_rung():
    strategy = MOASHA(seed=0, min_fidelity=1, max_fidelity=2, eta=2)
    a, b = strategy.ask(), strategy.ask()
    strategy.tell(a, result(a.arch, 0.9, 0.9, fidelity=1))
    strategy.tell(b, result(b.arch, 0.8, 0.95, fidelity=1))  # a dominates b
    assert strategy.ask() == Proposal(a.arch, 2)  # the top 1 of 2 results, promoted at once (Alg. 2)
    c, d = strategy.ask(), strategy.ask()
    strategy.tell(c, result(c.arch, 0.3, 0.1, fidelity=1))
    strategy.tell(d, result(d.arch, 0.2, 0.5, fidelity=1))  # c dominates d; the front is {a, c}
    assert strategy.ask() == Proposal(c.arch, 2)  # by score alone ASHA would promote b here
    assert strategy.ask().fidelity == 1  # a and c (the top 2 of 4) are promoted: a new cell starts


def test_mo_asha_with_one_cost_shared_by_every_cell_is_asha():
    """With every cell at the same latency, the non-dominated order is the score order: MO-ASHA
    must ask exactly what ASHA (Li et al. 2020, Alg. 2) asks, results told out of order."""
    rng = np.random.default_rng(3)
    mo, single = MOASHA(seed=4, max_fidelity=8, eta=2), ASHA(seed=4, max_fidelity=8, eta=2)
    pending = []
    for step in range(120):
        p = mo.ask()
        assert single.ask() == p, step
        pending.append(p)
        if len(pending) > 3 or rng.random() < 0.5:  # a few workers: results arrive in any order
            q = pending.pop(int(rng.integers(len(pending))))
            score = float(rng.random()) if rng.random() > 0.1 else float("-inf")  # a failure now and then
            mo.tell(q, result(q.arch, score, 0.5, fidelity=q.fidelity))
            single.tell(q, Result(q.arch, q.fidelity, score))
    assert all(rung.promoted for rung in mo.rungs[:-1])  # every rung promoted: the comparison reached the top


# --- constrained search --------------------------------------------------------------------------
def test_constrained_tells_its_strategy_an_infeasible_result_as_a_failure():
    strategy = Constrained(seed=0, inner="evolution", limits={"latency_ms_b1": 0.5})
    told = []
    strategy.inner.tell = lambda p, r: told.append(r)
    p = strategy.ask()
    strategy.tell(p, result(p.arch, 0.9, 0.7))
    strategy.tell(p, result(p.arch, 0.8, 0.4))
    assert told[0].status == "infeasible" and told[0].score == -math.inf and "0.7 > 0.5" in told[0].error
    assert told[1].ok and told[1].score == 0.8
    with pytest.raises(ValueError, match="limits"):
        Constrained(limits={})


# --- the table: latency columns, network costs in results, the true front -------------------------
@pytest.fixture(scope="module")
def bench():
    return load_benchmark("v1")


def test_results_of_the_table_carry_their_networks_costs(bench):
    arch = bench.entry_names[5]
    r = TabularEvaluator(bench).evaluate(arch)
    q = bench.query(arch)
    assert r.network_cost("params") == q.params and r.network_cost("flops_nb201") == q.flops_nb201
    with pytest.raises(ValueError, match="reports no network cost 'energy'"):
        r.network_cost("energy")


def test_the_table_exposes_latency_like_other_costs(bench):
    if not bench.latency:
        pytest.skip("no latency measured for v1 yet")
    lat = bench.class_costs("latency_ms_b1")
    assert lat.shape == (len(bench.entry_names),) and np.nanmin(lat) > 0
    i = int(np.flatnonzero(np.isfinite(lat))[0])
    assert bench.query(bench.entry_names[i]).latency_ms_b1 == pytest.approx(lat[i])
    assert "latency_iqr_ms_b256" in bench.to_frame().columns


def brute_force_front(acc, cost):
    return {i for i in range(len(acc)) if not any(acc[j] >= acc[i] and cost[j] <= cost[i] and
                                                  (acc[j] > acc[i] or cost[j] < cost[i]) for j in range(len(acc)))}


def test_true_front_matches_brute_force_and_scores_itself_perfectly(bench):
    rng = np.random.default_rng(0)
    sample = rng.choice(len(bench.entry_names), 400, replace=False)
    acc, params = bench.class_values("test_acc"), bench.class_costs("params").astype(float)
    front = true_front(bench, ("params",))
    on_front = set(front["entry"])
    # brute force over a sample: a sampled point is on the sample's front if no sampled point dominates it
    sub = brute_force_front(acc[sample], params[sample])
    assert {int(sample[i]) for i in sub} >= on_front & set(sample.tolist())
    assert on_front == {int(i) for i in brute_force_front_sorted(acc, params)}
    q = front_quality(bench, front["arch"], ("params",), front=front)
    assert q["hypervolume_share"] == pytest.approx(1.0) and q["front_recovered"] == 1.0
    assert front_quality(bench, [], ("params",))["hypervolume"] == 0.0
    assert reference_point(bench, ("params",)).tolist() == [np.median(acc), params.max()]


def brute_force_front_sorted(acc, cost):
    """A sweep over the costs: a point is on the front when it is the most accurate at its cost and
    more accurate than everything cheaper (equal points all stay)."""
    front, best_cheaper = [], -np.inf
    for c in sorted(set(cost.tolist())):
        at = np.flatnonzero(cost == c)
        top = acc[at].max()
        if top > best_cheaper:
            front += [int(i) for i in at if acc[i] == top]
        best_cheaper = max(best_cheaper, top)
    return front


def test_best_feasible_is_the_best_score_within_the_limits(bench):
    import pandas as pd

    archs = bench.entry_names[:50]
    history = pd.DataFrame({"arch": archs, "score": bench.class_values("valid_acc")[:50], "within_budget": True})
    limit = float(np.median(bench.class_costs("params")[:50]))
    row = best_feasible(bench, history, {"params": limit})
    ok = bench.class_costs("params")[:50] <= limit
    assert row["score"] == bench.class_values("valid_acc")[:50][ok].max()
    assert best_feasible(bench, history, {"params": 0}) is None


def test_remeasured_latency_is_compared_with_the_shipped_by_rank(bench, tmp_path, monkeypatch):
    import naskit.bench.latency as latency

    if not bench.latency:
        pytest.skip("no latency measured for v1 yet")
    shipped = {name: bench.latency["latency_ms_b1"][i] for i, name in enumerate(bench.entry_names)}
    measured = [i for i, v in enumerate(bench.latency["latency_ms_b1"]) if np.isfinite(v)]
    monkeypatch.setattr(latency, "measure_network", lambda arch, *a, **k: {
        "latency_ms_b1": 2 * shipped[arch], "latency_iqr_ms_b1": 0.0}, raising=True)
    out = compare_with_shipped(bench, tmp_path, sample=300, rounds=1, progress=False)
    assert out["classes"] == 300
    assert out["spearman_b1"] == pytest.approx(1.0) and out["ratio_b1"] == pytest.approx(2.0)
    assert len(measured) > 0
    with pytest.raises(ValueError, match="sample"):
        compare_with_shipped(bench, tmp_path, sample=0)


def test_every_combination_of_objectives_gives_a_front(bench):
    costs = [c for c in ("params", "flops_nb201", "latency_ms_b1") if c != "latency_ms_b1" or bench.latency]
    for r in range(1, len(costs) + 1):
        for combo in itertools.combinations(costs, r):
            assert len(true_front(bench, combo)) >= 1


def test_best_under_is_the_most_accurate_class_within_the_budget(bench):
    params, truth = bench.class_costs("params"), bench.class_values("test_acc")
    limit = float(np.median(params))
    best = best_under(bench, {"params": limit})
    assert best["test_acc"] == truth[params <= limit].max() and best["params"] <= limit
    assert best_under(bench, {"params": 0}) is None


def test_the_latency_budget_widget_shows_best_under_for_its_slider(bench):
    from naskit.viz.latency_budget import latency_budget_picker

    picker = latency_budget_picker(bench, cost="params")
    assert picker.view == best_under(bench, {"params": picker.slider.value})
    picker.slider.value = picker.slider.min
    assert picker.view == best_under(bench, {"params": picker.slider.min})
    assert f"{100 * picker.view['test_acc']:.2f} %" in picker.html.value and picker.image.value[:4] == b"\x89PNG"
    from IPython.core.formatters import DisplayFormatter

    bundle, _ = DisplayFormatter().format(picker)  # what a notebook stores for the widget's display
    assert "naskit-static-widget" in bundle["text/html"]  # the static picture for an exported page


def test_the_datasheet_latency_section_reports_cost_correlations_and_repeatability(bench):
    from naskit.bench.datasheet import latency_lines

    if not bench.latency:
        pytest.skip("no latency measured for v1 yet")
    keys = bench.meta["keys"][:30]
    records = [{"key": k, "round": r, "latency_ms_b1": 1.0 + i, "latency_iqr_ms_b1": 0.1, "latency_ms_b256": 10.0 + i,
                "latency_iqr_ms_b256": 1.0, "repeats": 10, "warmup": 2, "seconds": 0.5}
               for r in (0, 1) for i, k in enumerate(keys)]
    text = "\n".join(latency_lines(bench, records))
    assert "## Inference latency" in text and "over the 30 classes measured in both: 1.000 at batch 1, 1.000" in text
    assert "| flops_nb201 |" in text and "0.01 hours of wall time" in text


@pytest.mark.parametrize("flag", ["--sample", "--rounds", "--repeats"])
def test_bench_latency_refuses_a_count_below_one_before_measuring(flag, tmp_path, capsys):
    from naskit.cli.app import main

    with pytest.raises(SystemExit) as stop:
        main(["bench", "latency", flag, "0", "--out", str(tmp_path / "lat")])
    assert stop.value.code == 2 and f"{flag} must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "lat").exists()


def test_bench_latency_measures_a_sample_and_compares_it(tmp_path, capsys, monkeypatch):
    import naskit.bench.latency as latency
    from naskit.cli.app import main

    monkeypatch.setattr(latency, "measure_network", lambda arch, *a, **k: {
        "latency_ms_b1": float(len(arch)), "latency_iqr_ms_b1": 0.0, "latency_ms_b256": float(len(arch)),
        "latency_iqr_ms_b256": 0.0})
    assert main(["bench", "latency", "--sample", "5", "--out", str(tmp_path / "lat")]) == 0
    from naskit.bench.store import DEFAULT_VERSION

    assert f"measured 5 classes of {DEFAULT_VERSION}'s network" in capsys.readouterr().out
    assert len(latency.read_latencies(tmp_path / "lat")) == 5


def test_a_packed_table_keeps_its_latency(bench, tmp_path):
    from naskit.bench.store import pack

    if not bench.latency:
        pytest.skip("no latency measured for v1 yet")
    loaded = load_benchmark(pack(bench, tmp_path / "t.npz"))
    assert sorted(loaded.latency) == sorted(bench.latency)
    assert np.array_equal(loaded.latency["latency_ms_b1"], bench.latency["latency_ms_b1"], equal_nan=True)
