"""The search replay and estimator explorer widgets: set values, check what they show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from search_helpers import synthetic_bench

from naskit.evaluators.tabular import TabularEvaluator
from naskit.runs.budget import Budget
from naskit.runs.loop import search
from naskit.strategies import make_strategy
from naskit.viz.explorers import estimator_explorer, estimator_view, playback_frame, search_playback


@pytest.fixture(scope="module")
def run():
    return search(make_strategy("evolution", seed=0), TabularEvaluator(synthetic_bench()), Budget(evaluations=40),
                  progress=False)


def test_replay_frame_is_the_history_up_to_n(run):
    h = run.history
    frame = playback_frame(h, 25, population=10)
    assert frame["curve"] == list(h["best_valid_so_far"].iloc[:26])
    assert frame["best_valid"] == h["valid_acc"].iloc[:26].max()
    assert frame["best_arch"] == h["incumbent"].iloc[25]
    assert frame["population"] == list(range(16, 26))
    with pytest.raises(ValueError, match="n must be in 0..39"):
        playback_frame(h, 40)


def test_replay_frame_skips_failed_evaluations():
    h = pd.DataFrame({"arch": ["a", "b"], "valid_acc": [np.nan, 0.4], "status": ["failed", "ok"]})
    assert playback_frame(h, 0)["best_arch"] is None
    assert playback_frame(h, 1)["best_arch"] == "b"


def test_search_replay_follows_its_slider(run):
    widget = search_playback(run)
    assert widget.slider.max == 39 and widget.frame["n"] == 39
    image = widget.image.value
    widget.slider.value = 5
    assert widget.frame == playback_frame(run.history, 5, population=10)
    assert "after 6 evaluations" in widget.html.value and widget.frame["best_arch"] in widget.html.value
    assert bytes(widget.image.value) != bytes(image) and bytes(widget.image.value).startswith(b"\x89PNG")


def test_estimator_explorer_switches_estimators():
    rng = np.random.default_rng(0)
    truth = rng.random(200)
    scores = {"good": truth + rng.normal(0, 0.05, 200), "noise": rng.random(200)}
    widget = estimator_explorer(scores, truth)
    assert widget.view["name"] == "good"
    widget.dropdown.value = "noise"
    assert widget.view == estimator_view(scores, truth, "noise")
    assert widget.view["spearman"] == pytest.approx(stats.spearmanr(scores["noise"], truth).statistic)
    assert "noise" in widget.html.value and f"{widget.view['kendall']:.3f}" in widget.html.value
    with pytest.raises(ValueError, match="unknown estimator 'x'; choose one of good, noise"):
        estimator_view(scores, truth, "x")
