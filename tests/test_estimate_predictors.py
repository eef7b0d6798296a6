"""Surrogate predictors: a learnable synthetic table is learned; costs are accounted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from naskit.bench.table import TabularBenchmark
from naskit.core.space import NB201Space
from naskit.estimate.predictors import PREDICTORS, class_features, make_predictor, predictor_learning_curve
from naskit.evaluators.surrogate import SurrogateEvaluator


@pytest.fixture(scope="module")
def linear_bench():
    """600 cells whose accuracy is a fixed linear function of the one-hot encoding."""
    space = NB201Space()
    rng = np.random.default_rng(0)
    archs = list(dict.fromkeys(space.sample(rng) for _ in range(700)))[:600]
    w = rng.normal(0, 0.02, 30)
    acc = 0.8 + space.encode_many(archs) @ w
    df = pd.DataFrame({"arch": [str(a) for a in archs], "valid_acc": acc, "test_acc": acc,
                       "train_flops": 10**9})
    return TabularBenchmark.from_table(df)


def test_unknown_predictor_is_refused():
    with pytest.raises(ValueError, match="unknown predictor 'svm'.*ridge"):
        make_predictor("svm")


def test_features_are_the_one_hot_encodings_plus_extra_columns(linear_bench):
    x = class_features(linear_bench)
    space = NB201Space()
    assert x.shape == (600, 30)
    assert np.array_equal(x[3], space.encode(space.parse(linear_bench.entry_names[3])))
    extra = np.arange(600, dtype=float)
    extra[0] = np.nan  # a proxy that failed on one cell: filled with the column's minimum
    x2 = class_features(linear_bench, {"proxy": extra})
    assert x2.shape == (600, 31) and x2[0, -1] == 1.0 and x2[5, -1] == 5.0


@pytest.mark.parametrize("name", PREDICTORS)
def test_every_predictor_learns_a_linear_table(name, linear_bench):
    df = predictor_learning_curve(linear_bench, predictors=[name], n_train=(200,), seeds=[0])
    assert len(df) == 1 and df["n"].iloc[0] == 400
    assert df["spearman"].iloc[0] > (0.95 if name == "ridge" else 0.6)


def test_more_training_examples_help(linear_bench):
    df = predictor_learning_curve(linear_bench, predictors=["ridge"], n_train=(10, 300), seeds=range(3))
    means = df.groupby("n_train")["spearman"].mean()
    assert means[300] > means[10]


def test_surrogate_evaluator_accounts_for_its_training_set(linear_bench):
    ev = SurrogateEvaluator(linear_bench, predictor="ridge", n_train=50, seed=1)
    assert ev.setup_cost["evaluations"] == 50
    assert ev.setup_cost["sim_seconds"] == pytest.approx(50 * 10**9 / linear_bench.flops_per_second)
    arch = linear_bench.entry_names[7]
    r = ev.evaluate(arch)
    assert np.isnan(r.valid_acc) and r.estimate == pytest.approx(linear_bench.query(arch).valid_acc, abs=0.02)
    with pytest.raises(ValueError, match="n_train"):
        SurrogateEvaluator(linear_bench, n_train=600)
