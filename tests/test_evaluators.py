"""One conformance suite over every evaluator (``naskit.core.evaluator.Evaluator``), as
``tests/test_search.py`` runs one over every strategy.

Each evaluator is built on tiny fixtures (a synthetic table, a few dozen training examples, 2
channels, 2 epochs) and must: be an ``Evaluator``; return a ``Result`` for an ``Arch`` or its
string, with finite non-negative costs and accuracies in [0, 1] (or NaN with an ``estimate``); work
at every fidelity 1..max_fidelity; refuse a fidelity outside that range and a bad arch string with
a ``ValueError`` that names the range or the bad token, before any work; record a failure as a
failed ``Result`` instead of raising it; give the same result for the same cell, fidelity and
seed; describe itself in plain JSON; and pickle into a copy that gives the same result.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import naskit.data
import naskit.evaluators.proxy
from naskit.bench.table import TabularBenchmark
from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.core.evaluator import Evaluator, failed_result
from naskit.core.space import Arch, NB201Space, parse
from naskit.core.types import Result
from naskit.estimate.proxies import PROXIES
from naskit.evaluators.curve import CurveEvaluator
from naskit.evaluators.proxy import CachedProxyEvaluator, ProxyEvaluator
from naskit.evaluators.surrogate import SurrogateEvaluator
from naskit.evaluators.tabular import TabularEvaluator
from naskit.evaluators.training import TrainingEvaluator
from naskit.runs.budget import Budget
from naskit.runs.loop import search
from naskit.strategies import make_strategy

sys.path.insert(0, str(Path(__file__).parent))
from search_helpers import EPOCHS, synthetic_bench

GOOD = parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
# Cells the fixtures break on purpose: one the table lacks, one whose recorded run stopped after
# epoch 2 (a diverged build run: NaN from epoch 3 on), one the proxy records lack.
MISSING, STOPPED, UNSCORED = (NB201Space()[i] for i in (1, 2, 3))
STOPS_AFTER = 2
TINY_TRAINING = {"dataset": "mnist1d", "config": TrainConfig(epochs=2, batch_size=16),
                 "network": NetworkConfig(channels=2), "n_train": 32}
TINY_PROXY = {"proxy": "synflow", "batch_size": 8, "network": NetworkConfig(channels=2)}


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """One intra-op thread: bit-identical repeats of training and proxies."""


@pytest.fixture(scope="module")
def table() -> TabularBenchmark:
    """The synthetic table (every cell its own entry, one run each, EPOCHS epochs), with MISSING
    taken out and STOPPED's run cut after epoch STOPS_AFTER; entry keys for the proxy records."""
    bench = synthetic_bench()
    entry_of_cell = bench.entry_of_cell.copy()
    entry_of_cell[MISSING.index] = -1
    curves = {name: curve.copy() for name, curve in bench.curves.items()}
    for curve in curves.values():
        curve[STOPPED.index, STOPS_AFTER:] = np.nan  # run r is entry r is cell r in this table
    return dataclasses.replace(bench, entry_of_cell=entry_of_cell, curves=curves,
                               meta={"source": "synthetic", "keys": list(bench.entry_names)})


def proxy_records(bench: TabularBenchmark) -> pd.DataFrame:
    """Whole-space records of one proxy, as ``load_space_proxies`` gives them, without UNSCORED's."""
    keys = [k for k in bench.meta["keys"] if k != str(UNSCORED)]
    scores = np.random.default_rng(0).random(len(keys))
    return pd.DataFrame({"synflow": scores, "synflow_seconds": 0.01}, index=pd.Index(keys, name="key"))


def out_of_memory(*args):
    raise RuntimeError("CPU out of memory (simulated)")


# ---- the evaluators, on tiny fixtures ----------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One evaluator of the suite and what the suite may expect of it.

    ``failures(table, monkeypatch)`` lists evaluations that must fail, as (evaluator, arch,
    fidelity, status, words of the error); ``work(evaluator)`` the (object, attribute) pairs its
    evaluation starts from, replaced by an alarm to show a refusal comes before any work.
    """

    make: Callable[[TabularBenchmark], Evaluator]
    failures: Callable
    work: Callable
    measured: bool = False  # sim_seconds is measured (varies between repeats), not simulated
    counts_flops: bool = True
    accuracies: bool = True  # False: NaN accuracies, the evaluator's score in ``estimate``


def table_work(evaluator):
    """A table-backed evaluator's work starts with a lookup."""
    return [(evaluator.bench, name) for name in ("entry", "query", "curve", "drawn_seed")]


def training_work(evaluator):
    """Training starts by loading its dataset by name (inside ``evaluate``, from ``naskit.data``)."""
    return [(naskit.data, "load_dataset")]


def proxy_work(evaluator):
    """So does a proxy (``naskit.evaluators.proxy`` imports ``load_dataset``)."""
    return [(naskit.evaluators.proxy, "load_dataset")]


def make_cached_proxy(table):
    return CachedProxyEvaluator(table, proxy_records(table), "synflow")


def make_surrogate(table):
    return SurrogateEvaluator(table, n_train=20, seed=1)


def missing_cell(make):
    """The failure every table-backed evaluator shares: a cell the table lacks."""
    return lambda table, monkeypatch: [(make(table), MISSING, None, "failed", "not in this table")]


def tabular_failures(table, monkeypatch):
    return [*missing_cell(TabularEvaluator)(table, monkeypatch),
            (TabularEvaluator(table), STOPPED, STOPS_AFTER + 1, "failed", f"stopped before epoch {STOPS_AFTER + 1}"),
            (TabularEvaluator(table, signal="mean"), STOPPED, None, "failed", "every run")]


def curve_failures(table, monkeypatch):
    return [*missing_cell(CurveEvaluator)(table, monkeypatch),
            (CurveEvaluator(table, epochs=STOPS_AFTER + 1), STOPPED, None, "failed", "stopped before epoch 3")]


def cached_proxy_failures(table, monkeypatch):
    return [*missing_cell(make_cached_proxy)(table, monkeypatch),
            (make_cached_proxy(table), UNSCORED, None, "failed", "no recorded synflow score")]


def training_failures(table, monkeypatch):
    diverging = {**TINY_TRAINING, "config": TrainConfig(epochs=2, batch_size=16, lr=1e6)}
    return [(TrainingEvaluator(**diverging), GOOD, None, "diverged", "non-finite training loss")]


def proxy_failures(table, monkeypatch):
    # no NB201 cell makes a proxy raise (tests/test_proxies.py scores the degenerate ones), but a
    # large network or batch can run out of memory: simulated here, inside the proxy itself
    monkeypatch.setitem(PROXIES, "synflow", out_of_memory)
    return [(ProxyEvaluator(**TINY_PROXY), GOOD, None, "failed", "RuntimeError: CPU out of memory")]


CASES = {
    "tabular": Case(TabularEvaluator, tabular_failures, table_work),
    "tabular_mean_low_fidelity": Case(lambda t: TabularEvaluator(t, seed=3, epochs=2, signal="mean"),
                                      missing_cell(TabularEvaluator), table_work),
    "training": Case(lambda t: TrainingEvaluator(**TINY_TRAINING), training_failures, training_work, measured=True),
    "proxy": Case(lambda t: ProxyEvaluator(**TINY_PROXY), proxy_failures, proxy_work, measured=True,
                  accuracies=False),
    "cached_proxy": Case(make_cached_proxy, cached_proxy_failures, table_work, counts_flops=False, accuracies=False),
    "curve": Case(CurveEvaluator, curve_failures, table_work),
    "surrogate": Case(make_surrogate, missing_cell(make_surrogate), table_work, measured=True, counts_flops=False,
                      accuracies=False),
}


@pytest.fixture(scope="module")
def built(table):
    """``built(name)``: the case's evaluator, built once for the module."""
    cache = {}

    def build(name):
        if name not in cache:
            cache[name] = CASES[name].make(table)
        return cache[name]

    return build


# ---- what every result must satisfy ------------------------------------------------------------
def check_cost(r: Result, case: Case) -> None:
    assert isinstance(r.flops, int) and r.flops >= 0
    for name in ("sim_seconds", "wall_seconds", "cpu_seconds"):
        value = getattr(r, name)
        assert isinstance(value, float) and math.isfinite(value) and value >= 0, (name, value)
    if r.ok and case.counts_flops:
        assert r.flops > 0


def check_accuracies(r: Result, case: Case) -> None:
    for name in ("valid_acc", "test_acc"):
        value = getattr(r, name)
        assert isinstance(value, float) and (0 <= value <= 1 or math.isnan(value)), (name, value)
    if case.accuracies:
        assert 0 <= r.valid_acc <= 1
    else:
        assert math.isnan(r.valid_acc) and math.isnan(r.test_acc)
        assert isinstance(r.estimate, float) and r.score == r.estimate


def comparable(r: Result, case: Case) -> dict:
    """``r``'s fields without the measured seconds (NaN written out, so that NaN equals NaN)."""
    fields = {**dataclasses.asdict(r), "arch": str(r.arch)}
    drop = ("wall_seconds", "cpu_seconds", *(("sim_seconds",) if case.measured else ()))
    return {k: "nan" if isinstance(v, float) and math.isnan(v) else v for k, v in fields.items() if k not in drop}


def forbid_work(monkeypatch, case: Case, evaluator) -> None:
    """From now on, any work ``evaluator`` starts raises an alarm (or is recorded as a failure),
    so that a ValueError seen afterwards was raised before any work."""

    def alarm(*args, **kwargs):
        raise AssertionError("the evaluator started work before refusing the request")

    for target, attribute in case.work(evaluator):
        monkeypatch.setattr(target, attribute, alarm)


# ---- conformance: every evaluator --------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
class TestConformance:
    def test_is_an_evaluator(self, name, built):
        ev = built(name)
        assert isinstance(ev, Evaluator)
        assert isinstance(ev.name, str) and isinstance(ev.max_fidelity, int) and ev.max_fidelity >= 1

    def test_evaluates_an_arch_or_its_string_into_a_result_with_its_cost(self, name, built):
        ev, case = built(name), CASES[name]
        by_arch, by_string = ev.evaluate(GOOD), ev.evaluate(str(GOOD))
        for r in (by_arch, by_string):
            assert isinstance(r, Result) and r.ok, r.error
            assert r.arch == GOOD and isinstance(r.arch, Arch) and r.fidelity is None and r.error == ""
            check_cost(r, case)
            check_accuracies(r, case)
        assert comparable(by_arch, case) == comparable(by_string, case)

    def test_every_fidelity_gives_a_result(self, name, built):
        ev, case = built(name), CASES[name]
        results = [ev.evaluate(GOOD, fidelity) for fidelity in range(1, ev.max_fidelity + 1)]
        for fidelity, r in enumerate(results, start=1):
            assert r.ok and r.fidelity == fidelity, r.error
            check_cost(r, case)
            check_accuracies(r, case)
        if case.counts_flops:  # more epochs, more FLOPs
            assert all(a.flops < b.flops for a, b in zip(results, results[1:]))

    @pytest.mark.parametrize("bad", ["zero", "one_too_many", "fraction", "bool"])
    def test_a_fidelity_outside_the_range_is_refused_before_any_work(self, name, bad, built, monkeypatch):
        ev = built(name)
        fidelity = {"zero": 0, "one_too_many": ev.max_fidelity + 1, "fraction": 1.5, "bool": True}[bad]
        forbid_work(monkeypatch, CASES[name], ev)
        with pytest.raises(ValueError, match=rf"fidelity.*1\.\.{ev.max_fidelity}.*got {fidelity!r}"):
            ev.evaluate(GOOD, fidelity)

    def test_a_bad_arch_is_refused_naming_the_bad_token_before_any_work(self, name, built, monkeypatch):
        ev = built(name)
        forbid_work(monkeypatch, CASES[name], ev)
        with pytest.raises(ValueError, match="unknown op 'nor_conv_5x5'.*allowed ops are none, skip_connect"):
            ev.evaluate(str(GOOD).replace("nor_conv_3x3~2", "nor_conv_5x5~2"))
        with pytest.raises(ValueError, match="source '3'"):
            ev.evaluate(str(GOOD).replace("nor_conv_3x3~2", "nor_conv_3x3~3"))
        with pytest.raises(ValueError, match="expected an Arch or an NB201 string.*got int"):
            ev.evaluate(42)

    def test_a_failed_evaluation_is_a_failed_result_not_an_exception(self, name, table, monkeypatch):
        case = CASES[name]
        for ev, arch, fidelity, status, words in case.failures(table, monkeypatch):
            r = ev.evaluate(arch, fidelity)
            assert isinstance(r, Result) and r.arch == arch and r.fidelity == fidelity
            assert r.status == status and not r.ok and words in r.error, (r.status, r.error)
            assert math.isnan(r.valid_acc) and math.isnan(r.test_acc) and r.score == -math.inf
            check_cost(r, case)

    def test_the_same_cell_fidelity_and_seed_give_the_same_result(self, name, table, built):
        ev, case = built(name), CASES[name]
        first = comparable(ev.evaluate(GOOD), case)
        assert comparable(ev.evaluate(GOOD), case) == first
        assert comparable(case.make(table).evaluate(GOOD), case) == first  # a fresh evaluator too
        low = comparable(ev.evaluate(GOOD, 1), case)
        assert comparable(ev.evaluate(GOOD, 1), case) == low

    def test_describe_is_plain_json_with_the_name(self, name, built):
        ev = built(name)
        described = ev.describe()
        assert isinstance(described, dict) and next(iter(described)) == "name" and described["name"] == ev.name
        assert json.loads(json.dumps(described)) == described  # no tuples, arrays or objects

    def test_pickles_into_a_copy_that_gives_the_same_result(self, name, built):
        ev, case = built(name), CASES[name]
        copy = pickle.loads(pickle.dumps(ev))
        assert type(copy) is type(ev) and copy.describe() == ev.describe()
        assert comparable(copy.evaluate(GOOD), case) == comparable(ev.evaluate(GOOD), case)

    def test_runs_in_the_search_loop(self, name, built):
        run = search(make_strategy("random", seed=0), built(name), Budget(evaluations=2), progress=False)
        assert len(run.history) == 2 and (run.history["status"] == "ok").all()
        assert run.best is not None and run.settings["evaluator"] == built(name).describe()


# ---- the rest of the contract ------------------------------------------------------------------
def test_failed_result_has_nan_accuracies_the_reason_and_the_cost_spent():
    r = failed_result(GOOD, 2, "out of memory", sim_seconds=1.5, flops=10)
    assert r.status == "failed" and r.error == "out of memory" and r.fidelity == 2
    assert math.isnan(r.valid_acc) and math.isnan(r.test_acc) and r.score == -math.inf
    assert (r.sim_seconds, r.flops, r.wall_seconds) == (1.5, 10, 0.0)
    assert failed_result(GOOD, None, "nan loss", status="diverged").status == "diverged"
    with pytest.raises(ValueError, match="'failed' or 'diverged', got 'ok'"):
        failed_result(GOOD, None, "", status="ok")


def test_an_object_missing_part_of_the_protocol_is_not_an_evaluator():
    class NoDescribe:
        name, max_fidelity = "no_describe", 1

        def evaluate(self, arch, fidelity=None):
            return Result(arch, fidelity, 0.5)

    assert not isinstance(NoDescribe(), Evaluator)


def test_a_stopped_run_fails_past_its_last_epoch_and_is_charged_as_before(table):
    ev = TabularEvaluator(table)
    assert ev.evaluate(STOPPED, STOPS_AFTER).ok
    r = ev.evaluate(STOPPED, STOPS_AFTER + 1)
    q = table.query(STOPPED, epoch=STOPS_AFTER + 1, seed=0)  # the table's own cost of that query
    assert not r.ok and (r.flops, r.sim_seconds) == (q.train_flops, q.sim_seconds)
    assert r.error == (f"the run of {STOPPED} with seed 0 stopped before epoch 3 in the table "
                       "(it diverged or failed when the table was built)")


def test_the_tabular_evaluator_reads_the_table(table):
    """Its numbers are the table's: one drawn run per query (``signal="one_run"``) or the mean."""
    for arch, epoch in ((GOOD, None), (GOOD, 1), (NB201Space()[777], 3)):
        q = table.query(arch, epoch=epoch, seed=table.drawn_seed(arch, 0))
        r = TabularEvaluator(table).evaluate(arch, epoch)
        assert (r.valid_acc, r.test_acc, r.flops, r.sim_seconds) == (q.valid_acc, q.test_acc, q.train_flops,
                                                                     q.sim_seconds)
    assert TabularEvaluator(table, signal="mean", epochs=2).evaluate(GOOD).valid_acc == table.query(GOOD, 2).valid_acc


def test_the_training_evaluator_reports_what_train_returns():
    from naskit.trainer.loop import train

    reference = train(GOOD, naskit.data.load_dataset("mnist1d").subset(32), epochs=1, seed=0,
                      config=TINY_TRAINING["config"], network=TINY_TRAINING["network"])
    r = TrainingEvaluator(**TINY_TRAINING).evaluate(GOOD, 1)
    assert (r.valid_acc, r.test_acc) == (reference.final_valid_acc, reference.final_test_acc)
    assert r.flops == reference.train_flops + reference.eval_flops and r.sim_seconds == r.cpu_seconds


def test_for_run_gives_the_same_evaluator_with_another_seed(table):
    ev = TabularEvaluator(table, epochs=3, signal="mean")
    other = ev.for_run(7)
    assert other.describe() == {**ev.describe(), "seed": 7}
    assert comparable(other.evaluate(GOOD), CASES["tabular"]) == comparable(
        TabularEvaluator(table, seed=7, epochs=3, signal="mean").evaluate(GOOD), CASES["tabular"])


def test_describe_tells_tables_apart(table):
    """A resumed run is refused when ``describe()`` differs: every table-backed evaluator names its table."""
    other = dataclasses.replace(table, meta={**table.meta, "source": "another table"})
    for make in (TabularEvaluator, CurveEvaluator, make_cached_proxy, make_surrogate):
        assert make(table).describe()["table"] == "synthetic" and make(other).describe()["table"] == "another table"


def test_inside_search_what_evaluate_raises_is_a_failed_result_with_no_cost(table):
    """The loop's safety net: successive halving asks for 8 epochs of a 4-epoch table; the
    evaluator refuses (a ValueError) and the loop records the refusal, and the search goes on."""
    run = search(make_strategy("sh", seed=0, max_fidelity=2 * EPOCHS), TabularEvaluator(table),
                 Budget(evaluations=100), progress=False)
    h = run.history
    asked_too_much = h[h["fidelity"] > EPOCHS]
    assert len(asked_too_much) == 1 and run.stop_reason == "strategy finished"
    row = asked_too_much.iloc[0]
    assert row["status"] == "failed" and row["error"].startswith("ValueError: fidelity (epochs) must be")
    assert "1..4" in row["error"] and row["sim_seconds"] == row["flops"] == 0
    assert (h.loc[h["fidelity"] <= EPOCHS, "status"] == "ok").all()


@pytest.mark.parametrize("make, words", [
    pytest.param(lambda t: TrainingEvaluator("mnist"), "unknown dataset 'mnist'; known datasets are digits, mnist1d",
                 id="training-dataset"),
    pytest.param(lambda t: TrainingEvaluator(n_train=10**6), r"n_train must be in 1\.\.3000, got 1000000",
                 id="training-n_train"),
    pytest.param(lambda t: TrainingEvaluator(config=TrainConfig(epochs=2), epochs=3), r"1\.\.2, got 3",
                 id="training-epochs"),
    pytest.param(lambda t: ProxyEvaluator(dataset="mnist"), "unknown dataset 'mnist'", id="proxy-dataset"),
    pytest.param(lambda t: ProxyEvaluator("zen"), "unknown proxy 'zen'; known proxies are synflow", id="proxy-name"),
    pytest.param(lambda t: ProxyEvaluator(batch_size=10**6),
                 r"batch_size must be a whole number in 1\.\.3000 \(the training examples of mnist1d\)",
                 id="proxy-batch_size"),
    pytest.param(lambda t: CachedProxyEvaluator(t, proxy_records(t), "naswot"), "no proxy 'naswot' in the records",
                 id="cached_proxy-name"),
    pytest.param(lambda t: TabularEvaluator(t, signal="median"), "unknown signal 'median'; choose one of one_run, mean",
                 id="tabular-signal"),
    pytest.param(lambda t: TabularEvaluator(t, epochs=9), r"1\.\.4, got 9", id="tabular-epochs"),
    pytest.param(lambda t: CurveEvaluator(t, epochs=9), r"epochs must be in 1\.\.4, got 9", id="curve-epochs"),
    pytest.param(lambda t: SurrogateEvaluator(t, n_train=10**6), r"n_train must be in 1\.\.15623 for this table",
                 id="surrogate-n_train"),
])
def test_mistaken_settings_are_refused_by_the_constructor(make, words, table):
    with pytest.raises(ValueError, match=words):
        make(table)
