"""The Optuna bridge: OptunaStrategy with each sampler through the conformance checks, and the
export of naskit searches and experiments to an Optuna SQLite storage, read back with Optuna."""

import copy
import math
import pickle
import threading

import numpy as np
import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")

from search_helpers import synthetic_bench  # noqa: E402
from test_strategies import as_text, drive, evaluate, floats_in  # noqa: E402

from naskit.core.space import Arch, NB201Space  # noqa: E402
from naskit.evaluators.tabular import TabularEvaluator  # noqa: E402
from naskit.runs.budget import Budget  # noqa: E402
from naskit.runs.experiment import experiment  # noqa: E402
from naskit.runs.loop import search  # noqa: E402
from naskit.runs.optuna_export import export_to_optuna  # noqa: E402
from naskit.runs.simulated import SimulatedWorkers  # noqa: E402
from naskit.strategies import OptunaStrategy, make_strategy  # noqa: E402
from naskit.strategies.optuna_strategy import PARAMS  # noqa: E402

SPACE = NB201Space()
# GP fits a Gaussian process at every ask (about a second here): 9 asks, the last 6 by the GP
SAMPLERS = [("tpe", 60), ("random", 60), ("nsgaii", 60), ("gp", 9)]


def bridge(sampler, seed):
    options = {"sampler_options": {"n_startup_trials": 3}} if sampler == "gp" else {}
    return make_strategy("optuna", seed=seed, sampler=sampler, **options)


@pytest.mark.parametrize("sampler, n", SAMPLERS)
def test_each_sampler_conforms(sampler, n):
    proposals = drive(bridge(sampler, 3), n)
    assert len(proposals) == n and len({p.arch for p in proposals}) == n   # never a repeat
    assert all(p.fidelity is None for p in proposals)
    assert as_text(proposals) == as_text(drive(bridge(sampler, 3), n))
    assert as_text(proposals) != as_text(drive(bridge(sampler, 4), n))
    if sampler != "gp":
        in_flight = drive(bridge(sampler, 5), n, in_flight=4)
        assert as_text(in_flight) == as_text(drive(bridge(sampler, 5), n, in_flight=4))


@pytest.mark.parametrize("sampler, n", SAMPLERS[:3])
def test_each_sampler_copies_and_rebuilds_from_its_settings(sampler, n):
    strategy = bridge(sampler, 2)
    drive(strategy, n // 3, in_flight=3)
    for clone in (copy.deepcopy(strategy), pickle.loads(pickle.dumps(strategy))):
        assert as_text(drive(clone, 10, in_flight=3)) == as_text(drive(copy.deepcopy(strategy), 10, in_flight=3))
    settings = strategy.settings()
    rebuilt = make_strategy("optuna", seed=2, **{k: v for k, v in settings.items() if k not in ("name", "seed")})
    assert as_text(drive(rebuilt, 10)) == as_text(drive(bridge(sampler, 2), 10))


def test_a_sampler_holding_a_lock_still_copies():
    # Optuna 5.1's genetic samplers (NSGA-II) keep a threading.Lock, which pickle and deepcopy refuse
    strategy = bridge("tpe", 1)
    drive(strategy, 5)
    strategy.study.sampler.held = threading.Lock()
    strategy.study.sampler.held.acquire()
    for clone in (copy.deepcopy(strategy), pickle.loads(pickle.dumps(strategy))):
        lock = clone.study.sampler.held
        assert lock is not strategy.study.sampler.held and lock.acquire(blocking=False)  # its own, unlocked
        assert as_text(drive(clone, 5)) == as_text(drive(copy.deepcopy(strategy), 5))


@pytest.mark.parametrize("sampler, n", SAMPLERS[:3])
def test_each_sampler_tolerates_failures(sampler, n):
    def fails(arch):
        return arch.index % 3 == 0

    strategy = bridge(sampler, 0)
    proposals = drive(strategy, n, in_flight=2, evaluator=lambda p: evaluate(p, fails))
    assert any(fails(p.arch) for p in proposals)
    assert not any(math.isnan(x) for x in floats_in(strategy))
    for arch, score in strategy.scores.items():
        assert (score == -math.inf) == fails(arch)
    states = {t.state for t in strategy.study.trials}
    assert optuna.trial.TrialState.FAIL in states and optuna.trial.TrialState.COMPLETE in states


def test_the_study_mirrors_what_the_strategy_was_told():
    strategy = OptunaStrategy(seed=1)
    drive(strategy, 30)
    for trial in strategy.study.trials:
        arch = Arch(tuple(trial.params[p] for p in PARAMS))
        assert trial.value == pytest.approx(strategy.scores[arch])


@pytest.fixture(scope="module")
def evaluator():
    return TabularEvaluator(synthetic_bench())


def assert_study_equals_history(study, history):
    """Every trial of ``study`` against its row of the naskit history, in order."""
    assert len(study.trials) == len(history)
    for trial, row in zip(study.trials, history.to_dict("records")):
        arch = SPACE.parse(row["arch"])
        assert [trial.params[p] for p in PARAMS] == list(arch.ops)
        ok = row["status"] == "ok"
        assert trial.state == (optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL)
        if ok:
            assert trial.value == row["score"]
            if row["fidelity"] == row["fidelity"] and row["fidelity"] is not None:
                assert trial.intermediate_values == {int(row["fidelity"]): row["score"]}
        else:
            assert trial.value is None
        for key in ("n", "valid_acc", "test_acc", "sim_seconds", "flops", "cum_sim_seconds", "within_budget"):
            expected = row[key]
            got = trial.user_attrs[key]
            if isinstance(expected, float) and np.isnan(expected):
                assert got is None
            else:
                assert got == pytest.approx(expected)


def test_a_search_exported_to_sqlite_loads_with_every_trial_equal(evaluator, tmp_path):
    run = search(make_strategy("asha", seed=0, max_fidelity=4), evaluator, Budget(sim_wall_seconds=12),
                 executor=SimulatedWorkers(4), progress=False)
    storage = f"sqlite:///{tmp_path / 'runs.optuna.db'}"
    assert export_to_optuna(run, storage) == ["asha-s0"]
    study = optuna.load_study(study_name="asha-s0", storage=storage)
    assert_study_equals_history(study, run.history)
    assert study.user_attrs["run_id"] == run.run_id and study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert [t.user_attrs["sim_arrival"] for t in study.trials] == run.history["sim_arrival"].tolist()
    with pytest.raises(ValueError, match="already holds the study 'asha-s0'"):
        export_to_optuna(run, storage)
    assert export_to_optuna(run, storage, overwrite=True) == ["asha-s0"]


def test_an_experiment_with_failures_exported_to_sqlite(evaluator, tmp_path):
    class Flaky(TabularEvaluator):
        def evaluate(self, arch, fidelity=None):
            if arch.index % 4 == 0:
                raise RuntimeError("boom")
            return super().evaluate(arch, fidelity)

    df = experiment(["random", "bohb"], Flaky(evaluator.bench), seeds=range(2), budget=Budget(evaluations=25),
                    progress=False)
    storage = f"sqlite:///{tmp_path / 'exp.optuna.db'}"
    names = export_to_optuna(df, storage, study_name="exp-")
    assert names == ["exp-random-s0", "exp-random-s1", "exp-bohb-s0", "exp-bohb-s1"]
    assert sorted(optuna.get_all_study_names(storage)) == sorted(names)
    for name in names:
        strategy, seed = name[4:].rsplit("-s", 1)
        history = df[(df["strategy"] == strategy) & (df["seed"] == int(seed))]
        assert_study_equals_history(optuna.load_study(study_name=name, storage=storage), history)
    assert (df["status"] == "failed").any()


def test_export_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="SearchRun or an experiment DataFrame"):
        export_to_optuna([1, 2], f"sqlite:///{tmp_path / 'x.db'}")


def test_naskit_search_writes_its_run_into_an_optuna_storage(tmp_path, capsys):
    from naskit.cli import main

    db, storage = tmp_path / "runs.db", tmp_path / "runs.optuna.db"
    argv = ["search", "--strategy", "random", "--budget", "evaluations=12", "--ledger", str(db), "--name", "r0",
            "--optuna-storage", str(storage), "--quiet"]
    for _ in range(2):   # the second command resumes the run and replaces its study
        assert main(argv) == 0
    assert "optuna-dashboard sqlite:///" in capsys.readouterr().out
    study = optuna.load_study(study_name="r0", storage=f"sqlite:///{storage}")
    history = pd.read_csv(tmp_path / "r0.csv")
    assert [t.user_attrs["n"] for t in study.trials] == history["n"].tolist()
    assert [t.value for t in study.trials] == pytest.approx(history["score"].tolist())
