"""The lesson figures: what they draw and how their axes are labelled (Agg backend, no display)."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import FancyArrowPatch

from naskit.core.space import EDGES, OPS, NB201Space, live_edges, parse
from naskit.trainer.loop import TrainResult
from naskit.viz import plots

matplotlib.use("Agg")  # headless: no display needed

# Node 2 gets nothing from the input, so edge 2 -> 3 (index 5) is dead though its op is real.
DEAD_CELL = parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_draw_cell_draws_six_labelled_edges():
    ax = plots.draw_cell(DEAD_CELL)
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(EDGES) == 6
    assert plots.cell_edge_patches(ax) == sorted(arrows, key=lambda p: int(p.get_gid().split()[1]))
    labels = [p.get_label() for p in plots.cell_edge_patches(ax)]
    assert labels[0] == "node 0 → node 1: nor_conv_3x3"
    assert labels[5] == "node 2 → node 3: avg_pool_3x3"
    texts = {t.get_text() for t in ax.texts}
    assert {"input", "output", "0", "3", "conv3x3", "skip", "pool3x3", "none"} <= texts
    legend = [t.get_text() for t in ax.figure.axes[-1].get_legend().get_texts()]
    assert legend == [*OPS, "dead edge"]


def test_draw_cell_styles_none_dead_and_live_edges():
    assert 5 not in live_edges(DEAD_CELL)
    arrows = plots.cell_edge_patches(plots.draw_cell(DEAD_CELL, highlight=[4]))
    assert arrows[1].get_linestyle() == "--"  # none
    assert matplotlib.colors.to_hex(arrows[5].get_edgecolor()) == plots.DEAD_COLOR  # dead pool
    assert matplotlib.colors.to_hex(arrows[0].get_edgecolor()) == plots.OP_COLORS["nor_conv_3x3"]
    assert arrows[4].get_linewidth() > arrows[0].get_linewidth()  # highlighted


def test_draw_cell_uses_the_given_axes():
    _fig, axes = plt.subplots(1, 2)
    assert plots.draw_cell(DEAD_CELL, ax=axes[1], title="t", legend=False) is axes[1]
    assert axes[1].get_title() == "t" and not axes[0].patches and axes[1].get_legend() is None


def _result(epochs=3):
    return TrainResult(arch=str(DEAD_CELL), seed=0, epochs=epochs, train_loss=[2.0, 1.5, 1.2][:epochs],
                       valid_acc=[0.3, 0.5, 0.6][:epochs], test_acc=[0.28, 0.49, 0.61][:epochs],
                       params=1000, forward_flops=5000)


def test_learning_curve_labels_units_and_plots_percent():
    ax = plots.plot_learning_curve(_result())
    loss_ax = ax.figure.axes[-1]
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "accuracy (%)"
    assert "loss" in loss_ax.get_ylabel()
    valid = ax.get_lines()[0]
    assert list(valid.get_xdata()) == [1, 2, 3]
    assert list(valid.get_ydata()) == pytest.approx([30, 50, 60])
    assert list(loss_ax.get_lines()[0].get_ydata()) == [2.0, 1.5, 1.2]


def test_learning_curve_takes_many_results_and_dicts():
    ax = plots.plot_learning_curve([_result(), _result(2).to_dict()], labels=["a", "b"])
    assert len(ax.get_lines()) == 4 and len(ax.figure.axes[-1].get_lines()) == 2
    legend = [t.get_text() for t in ax.figure.axes[-1].get_legend().get_texts()]
    assert legend == ["a", "b", "valid acc", "test acc", "train loss"]
    assert ax.get_xlim() == (0.5, 3.5)


def test_small_helpers_label_their_axes():
    ax = plots.plot_space_counts({"all": 15625, "unique": 6466})
    assert [t.get_text() for t in ax.texts] == ["15,625", "6,466"]
    assert plots.plot_cost_histogram([1, 2, 3], "forward_flops").get_xlabel().startswith("forward FLOPs")
    ax = plots.plot_encoding(NB201Space().encode(DEAD_CELL))
    assert ax.get_images()[0].get_array().sum() == 6
    ax = plots.plot_accuracy_vs_cost([_result(), _result(2)], cost="params")
    assert ax.get_ylabel() == "final validation accuracy (%)"
    assert plots.edge_label(3) == "node 0 → node 3"


def test_learning_curve_ticks_whole_epochs_even_for_one_epoch():
    ax = plots.plot_learning_curve(_result(1))
    ax.figure.canvas.draw()
    assert [t for t in ax.get_xticks() if 0.5 <= t <= 1.5] == [1.0]


def _fake_search(method="darts", seed=0):
    """A two-epoch one-shot result with known weights and skip shares."""
    from naskit.oneshot import EpochLog, OneShotConfig, OneShotResult

    rng = np.random.default_rng(seed)
    logs = []
    for epoch, skips in ((1, 1), (2, 3)):
        w = rng.random((6, 5))
        logs.append(EpochLog(epoch, 1.0, 1.0, 0.5, 0.5, None, (w / w.sum(1, keepdims=True)).tolist(), skips / 6))
    return OneShotResult(method, parse("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
                         OneShotConfig(seed=seed), logs)


def test_arch_weights_draw_one_line_per_op_per_edge():
    result = _fake_search()
    axes = plots.plot_arch_weights(result)
    assert len(axes) == 6 and all(len(ax.lines) == len(OPS) for ax in axes)
    for e, ax in enumerate(axes):
        for k, line in enumerate(ax.lines):
            assert list(line.get_ydata()) == [log.arch_weights[e][k] for log in result.history]
    assert axes[0].get_xlabel() == "epoch" and "softmax" in axes[0].get_ylabel()
    with pytest.raises(ValueError, match="needs 6 axes"):
        plots.plot_arch_weights(result, axes=plt.subplots(1, 2)[1])
    plt.close("all")


def test_skip_share_counts_skips_per_epoch():
    ax = plots.plot_skip_share([_fake_search(seed=0), _fake_search("darts-", seed=1)])
    assert [list(line.get_ydata()) for line in ax.lines] == [[1, 3], [1, 3]]
    assert ax.get_ylabel() == "skip connections in the derived cell"
    plt.close("all")


def test_rank_matrix_labels_every_cell_and_its_axes():
    seeds = pd.Index([0, 1, 2], name="seed")
    tau = pd.DataFrame([[1.0, 0.42, np.nan], [0.42, 1.0, 0.1], [np.nan, 0.1, 1.0]], index=seeds, columns=seeds)
    ax = plots.plot_rank_matrix(tau, title="Kendall τ between seeds")
    assert np.array_equal(ax.images[0].get_array(), tau.to_numpy(), equal_nan=True)
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.texts] == ["1.00", "0.42", "–", "0.42", "1.00", "0.10", "–", "0.10", "1.00"]
    assert [t.get_position() for t in ax.texts[:2]] == [(0, 0), (1, 0)]  # (column, row)
    assert matplotlib.colors.to_hex(ax.texts[0].get_color()) == "#000000"  # dark text on the bright diagonal
    assert matplotlib.colors.to_hex(ax.texts[5].get_color()) == "#ffffff"
    assert ax.get_xlabel() == ax.get_ylabel() == "seed" and ax.get_title() == "Kendall τ between seeds"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert len(ax.figure.axes) == 2  # the heat map and its colour bar


def test_rank_matrix_shares_the_given_axes_without_a_colour_bar():
    fig, axes = plt.subplots(1, 2)
    m = pd.DataFrame(np.eye(2), index=[1, 8], columns=[1, 8])
    assert plots.plot_rank_matrix(m, ax=axes[1], colorbar=False) is axes[1]
    assert not axes[0].images and len(fig.axes) == 2 and axes[1].get_xlabel() == ""


def test_seed_agreement_gives_both_correlations_with_the_top_half_chosen_by_a_third_seed():
    from scipy import stats

    rng = np.random.default_rng(0)
    truth = rng.uniform(0.5, 0.98, 200)
    first, second, third = (truth + rng.normal(0, 0.01, 200) for _ in range(3))
    first[3] = np.nan  # a class missing on one seed is left out
    ax = plots.plot_seed_agreement(first, second, rank_by=third, seeds=(1, 2, 0), title="v2")
    keep = np.isfinite(first)
    chosen = third[keep] >= np.median(third[keep])
    rest, top = (c.get_offsets() for c in ax.collections)
    assert np.allclose(top, 100 * np.column_stack([first[keep], second[keep]])[chosen])
    assert len(rest) + len(top) == 199
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    floor = np.quantile(100 * np.concatenate([first[keep], second[keep]]), 0.1)
    below = int(((100 * first[keep] < floor) | (100 * second[keep] < floor)).sum())
    rho_all, rho_top = stats.spearmanr(first[keep], second[keep])[0], stats.spearmanr(*top.T)[0]
    assert labels == [f"all 199 classes: ρ {rho_all:.2f} ({below} below the axes)",
                      f"top half by seed 0: ρ {rho_top:.2f}"]
    assert ax.get_xlim()[0] == pytest.approx(floor) and ax.get_ylim()[0] == pytest.approx(floor)
    assert ax.get_xlabel() == "final test accuracy, seed 1 (%)" and ax.get_title() == "v2"
    assert len(plots.plot_seed_agreement(first, second).collections) == 1  # no third seed: no top half
