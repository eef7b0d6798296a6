"""Tests for naskit.cost.accounting: every result's cost, phase by phase, adds up to its parts."""

from __future__ import annotations

import numpy as np
import pytest
from search_helpers import synthetic_bench

import naskit
from naskit.cost.accounting import PHASES, add, cost_breakdown, phase_table
from naskit.cost.energy import estimate_energy, gpu_hours
from naskit.evaluators.tabular import TabularEvaluator
from naskit.oneshot import OneShotConfig, search_darts
from naskit.runs.budget import Budget
from naskit.runs.experiment import experiment
from naskit.runs.loop import search
from naskit.strategies import make_strategy

pytestmark = pytest.mark.usefixtures("one_thread")
CELL = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def bench():
    return synthetic_bench()


def check_totals(table) -> None:
    assert table.index.tolist() == [*PHASES, "total"]
    for column in ("flops", "sim_seconds", "wall_seconds", "cpu_seconds"):
        assert table.loc["total", column] == pytest.approx(table.loc[list(PHASES), column].sum())
    total = table.loc["total"]
    energy = estimate_energy(total["cpu_seconds"], total["wall_seconds"], table.attrs["hardware"]["device"])
    assert total["kwh"] == pytest.approx(energy.kwh) and total["kg_co2e"] == pytest.approx(energy.kg_co2e)
    assert total["gpu_hours_estimate"] == pytest.approx(gpu_hours(total["flops"]))
    assert {"cpu", "logical_cores", "torch"} <= set(table.attrs["hardware"])
    assert "estimate" in table.attrs["notes"]


def test_a_training_run_is_its_final_phase(tiny_mnist1d):
    result = naskit.train(CELL, tiny_mnist1d, epochs=1)
    table = cost_breakdown(result)
    check_totals(table)
    assert table.loc["final", "flops"] == result.train_flops + result.eval_flops > 0
    assert table.loc["final", "wall_seconds"] == result.wall_seconds
    assert table.loc[["search", "evaluation"], "flops"].sum() == 0


def test_a_search_splits_strategy_candidates_and_final(bench):
    evaluator = TabularEvaluator(bench)
    run = search(make_strategy("evolution", seed=0), evaluator, Budget(evaluations=30), progress=False,
                 final=True)
    table = run.cost_breakdown()
    check_totals(table)
    assert table.loc["evaluation", "flops"] == run.history["flops"].sum() == run.cost["flops"]
    assert table.loc["evaluation", "sim_seconds"] == pytest.approx(run.history["sim_seconds"].sum())
    assert 0 < table.loc["search", "wall_seconds"] <= run.cost["elapsed_seconds"]
    full = evaluator.evaluate(run.best)
    assert run.final.valid_acc == full.valid_acc
    assert table.loc["final", "flops"] == full.flops and table.loc["final", "sim_seconds"] == full.sim_seconds
    without = search(make_strategy("evolution", seed=0), evaluator, Budget(evaluations=30), progress=False)
    assert without.final is None and without.cost_breakdown().loc["final"].eq(0).all()


def test_a_one_shot_search_splits_supernet_training_and_ranking(tiny_mnist1d):
    result = search_darts(tiny_mnist1d, OneShotConfig(epochs=1, channels=4))
    trained = naskit.train(result.arch, tiny_mnist1d, epochs=1)
    table = result.cost_breakdown(final=trained)
    check_totals(table)
    assert table.loc["search", "flops"] == result.search_flops and table.loc["evaluation", "flops"] == result.eval_flops
    assert 0 < result.eval_wall_seconds < result.wall_seconds
    assert table.loc[["search", "evaluation"], "wall_seconds"].sum() == pytest.approx(result.wall_seconds)
    assert table.loc["final", "flops"] == trained.train_flops + trained.eval_flops


def test_an_experiment_sums_its_runs(bench):
    evaluator = TabularEvaluator(bench)
    df = experiment(["random", "evolution"], evaluator, seeds=range(2), budget=Budget(evaluations=20), progress=False)
    table = df.attrs["cost_breakdown"]
    check_totals(table)
    assert table.loc["evaluation", "flops"] == df["flops"].sum()
    finals = [evaluator.evaluate(naskit.NB201Space().parse(g["incumbent"].iloc[-1])).flops
              for _, g in df.groupby(["strategy", "seed"])]
    assert table.loc["final", "flops"] == sum(finals)
    for _, g in df.groupby(["strategy", "seed"]):  # each run's final incumbent, evaluated at full fidelity
        incumbent = naskit.NB201Space().parse(g["incumbent"].iloc[-1])
        assert (g["final_test_acc"] == evaluator.evaluate(incumbent).test_acc).all()


def test_add_and_errors():
    one = phase_table({"search": {"flops": 1, "wall_seconds": 2.0}, "final": {"cpu_seconds": 3.0}})
    two = add([one, one])
    assert np.allclose(two[["flops", "wall_seconds", "cpu_seconds"]], 2 * one[["flops", "wall_seconds", "cpu_seconds"]])
    assert add([]).loc["total"].eq(0).all()
    with pytest.raises(ValueError, match="unknown phases \\['training'\\]"):
        phase_table({"training": {}})
    with pytest.raises(TypeError, match="TrainResult, SearchRun or OneShotResult"):
        cost_breakdown("a run")


def test_low_fidelity_search_trains_the_incumbent_fully(one_thread):
    from naskit.evaluators.training import TrainingEvaluator

    evaluator = TrainingEvaluator("digits", config=naskit.TrainConfig(epochs=2), epochs=1, n_train=128)
    run = search(make_strategy("random", seed=0), evaluator, Budget(evaluations=3), progress=False, final=True)
    assert (run.history["fidelity"].isna()).all()  # the strategy asked for the default: 1 epoch
    one = evaluator.evaluate(run.best)
    assert run.final.fidelity == 2 and run.final.flops == 2 * one.flops  # the final training: 2 epochs
    assert run.cost_breakdown().loc["final", "flops"] == run.final.flops
    with pytest.raises(ValueError, match="1..2"):
        TrainingEvaluator("digits", config=naskit.TrainConfig(epochs=2), epochs=3)


def test_experiment_can_evaluate_candidates_in_parallel(bench):
    from concurrent.futures import ThreadPoolExecutor

    evaluator = TabularEvaluator(bench)
    plain = experiment(["random", "evolution"], evaluator, seeds=range(2), budget=Budget(evaluations=15),
                       progress=False, workers=2)  # two in flight, in this process: the same trajectory
    with ThreadPoolExecutor(2) as pool:
        pooled = experiment(["random", "evolution"], evaluator, seeds=range(2), budget=Budget(evaluations=15),
                            progress=False, evaluate_on=pool, workers=2)
        with pytest.raises(ValueError, match="not both"):
            experiment(["random"], evaluator, seeds=range(1), executor=pool, evaluate_on=pool, progress=False)
    assert list(plain["arch"]) == list(pooled["arch"]) and list(plain["valid_acc"]) == list(pooled["valid_acc"])


class Bill:
    """Not a naskit result: anything that says its phases has a breakdown."""

    device = "cpu"

    def cost_phases(self):
        return {"search": {"flops": 10, "wall_seconds": 1.0}, "evaluation": {"sim_seconds": 5.0}}


def test_each_result_says_its_own_phases(tiny_mnist1d, bench):
    table = cost_breakdown(Bill())
    check_totals(table)
    assert table.loc["search", "flops"] == 10 and table.loc["evaluation", "sim_seconds"] == 5.0
    trained = naskit.train(CELL, tiny_mnist1d, epochs=1)
    assert trained.cost_phases() == {"final": {"flops": trained.train_flops + trained.eval_flops,
                                               "wall_seconds": trained.wall_seconds,
                                               "cpu_seconds": trained.cpu_seconds}}
    with_final = cost_breakdown(Bill(), final=trained)  # a separate final training fills the final phase
    assert with_final.loc["final", "flops"] == trained.train_flops + trained.eval_flops
    run = search(make_strategy("random", seed=0), TabularEvaluator(bench), Budget(evaluations=10), progress=False,
                 final=True)
    assert set(run.cost_phases()) == set(PHASES) and run.cost_phases()["final"]["flops"] == run.final.flops
    replaced = cost_breakdown(run, final=trained)  # the caller's final replaces the run's own
    assert replaced.loc["final", "flops"] == trained.train_flops + trained.eval_flops
    assert replaced.loc["evaluation"].equals(run.cost_breakdown().loc["evaluation"])


def test_one_shot_phases_split_the_measured_seconds():
    from naskit.core.space import parse
    from naskit.oneshot.config import OneShotResult

    result = OneShotResult("darts", parse(CELL), OneShotConfig(device="cuda"), wall_seconds=10.0, cpu_seconds=8.0,
                           search_flops=700, eval_flops=300, eval_wall_seconds=4.0, eval_cpu_seconds=3.0)
    assert result.cost_phases() == {"search": {"flops": 700, "wall_seconds": 6.0, "cpu_seconds": 5.0},
                                    "evaluation": {"flops": 300, "wall_seconds": 4.0, "cpu_seconds": 3.0}}
    table = result.cost_breakdown()  # where it ran is the search's own device, not the default CPU
    assert table.loc["total", "flops"] == 1000 and table.attrs["hardware"]["device"] == "cuda"
    assert cost_breakdown(result).equals(table)


def test_accounting_knows_no_result_class_and_imports_only_lower_layers():
    import ast
    from pathlib import Path

    import naskit.cost.accounting as accounting

    tree = ast.parse(Path(accounting.__file__).read_text(encoding="utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    layers = {m.split(".")[1] for m in modules if m.startswith("naskit.")}
    assert layers <= {"core", "runtime", "cost"}, layers
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "isinstance" not in calls
