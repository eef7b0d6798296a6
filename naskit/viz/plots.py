"""Matplotlib figures for the lessons: cells, learning curves, costs, search results.

Every function draws on the ``ax`` it is given (or on a new figure when ``ax`` is None) and
returns that ``Axes``, so figures compose into subplots. Nothing here changes global
matplotlib state, so the module works under any backend, including the headless ``Agg``.

Example:
    >>> from naskit.core.space import parse
    >>> ax = draw_cell(parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"))
    >>> len(cell_edge_patches(ax))
    6
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.ticker import MaxNLocator

from naskit.core.space import EDGES, NUM_NODES, OPS, Arch, live_edges

# One colour per op, fixed so that every figure in every lesson agrees.
OP_COLORS: dict[str, str] = {
    "none": "#bbbbbb",
    "skip_connect": "#2ca02c",
    "nor_conv_1x1": "#1f77b4",
    "nor_conv_3x3": "#d62728",
    "avg_pool_3x3": "#ff7f0e",
}
OP_SHORT: dict[str, str] = {
    "none": "none", "skip_connect": "skip", "nor_conv_1x1": "conv1x1",
    "nor_conv_3x3": "conv3x3", "avg_pool_3x3": "pool3x3",
}
DEAD_COLOR = "#999999"
# Arc bend per edge (matplotlib 'arc3' rad; negative bends above the node line). The two
# span-2 edges bend to opposite sides and the span-3 edge 0 -> 3 arcs over everything.
_EDGE_RAD = {(1, 0): 0.0, (2, 1): 0.0, (3, 2): 0.0, (2, 0): -0.45, (3, 1): 0.45, (3, 0): -0.5}
_NODE_RADIUS = 0.16
QUANTITY_LABELS = {
    "params": "parameters (count)",
    "forward_flops": "forward FLOPs per example (1 multiply-add = 2 FLOPs)",
    "train_flops": "training FLOPs (1 multiply-add = 2 FLOPs)",
    "wall_seconds": "training time (wall seconds)",
    "cpu_seconds": "training time (CPU seconds)",
}


def edge_label(edge: int) -> str:
    """'node j → node i' for the edge index ``edge`` into ``EDGES``."""
    to_node, from_node = EDGES[edge]
    return f"node {from_node} → node {to_node}"


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _edge_style(op: str, live: bool, highlighted: bool) -> dict:
    """Colour, line style and width of one edge arrow."""
    color = OP_COLORS[op] if live else DEAD_COLOR
    if op == "none":
        return {"color": OP_COLORS["none"], "linestyle": "--", "linewidth": 1.0, "alpha": 0.6}
    return {"color": color, "linestyle": "-", "linewidth": 3.5 if highlighted else 2.0, "alpha": 1.0 if live else 0.45}


def draw_cell(arch: Arch, ax: Axes | None = None, highlight: Sequence[int] = (), title: str | None = None,
              legend: bool = True) -> Axes:
    """Draw the NB201 cell ``arch`` as a DAG: nodes 0 (input) to 3 (output), left to right.

    Each of the 6 edges is an arrow coloured and labelled by its op. ``none`` edges are
    faint and dashed; dead edges (a real op whose source gets no signal from the input, or
    whose target never reaches the output; see ``naskit.nn.network.live_edges``) are grey.
    ``highlight`` lists edge indices to draw thicker, e.g. the edge a mutation changed;
    ``legend=False`` leaves out the op legend (for all but one panel of a multi-cell figure).
    Returns the ``Axes``; the arrows are the ``FancyArrowPatch`` objects whose ``gid`` is
    ``"edge <index>"``.
    """
    ax = _new_axes(ax, (6.0, 2.6))
    live = set(live_edges(arch))
    for e, (i, j) in enumerate(EDGES):
        op, rad = arch.ops[e], _EDGE_RAD[(i, j)]
        style = _edge_style(op, e in live, e in highlight)
        arrow = FancyArrowPatch(
            (j, 0.0), (i, 0.0), connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>", mutation_scale=14,
            shrinkA=14, shrinkB=14, zorder=1, **style,
        )
        arrow.set_gid(f"edge {e}")
        arrow.set_label(f"{edge_label(e)}: {op}")
        ax.add_patch(arrow)
        # The midpoint of arc3's quadratic Bezier sits half a 'rad' off the chord (aspect is equal).
        x, y = (i + j) / 2, -0.5 * rad * (i - j)
        ax.text(x, y, OP_SHORT[op], ha="center", va="center", fontsize=8, color=style["color"], zorder=3,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    for n in range(NUM_NODES):
        ax.add_patch(Circle((n, 0.0), _NODE_RADIUS, fc="white", ec="black", lw=1.5, zorder=2))
        ax.text(n, 0.0, str(n), ha="center", va="center", fontsize=11, zorder=3)
    ax.text(0, -0.3, "input", ha="center", va="top", fontsize=9)
    ax.text(NUM_NODES - 1, -0.3, "output", ha="center", va="top", fontsize=9)
    if legend:
        _cell_legend(ax)
    ax.set_xlim(-0.4, NUM_NODES - 0.6)
    ax.set_ylim(-0.8, 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is not None:
        ax.set_title(title, fontsize=8)
    return ax


def _cell_legend(ax: Axes) -> None:
    handles = [Line2D([], [], color=OP_COLORS[op], lw=2, ls="--" if op == "none" else "-", label=op) for op in OPS]
    handles.append(Line2D([], [], color=DEAD_COLOR, lw=2, alpha=0.45, label="dead edge"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)


def cell_edge_patches(ax: Axes) -> list[FancyArrowPatch]:
    """The 6 edge arrows that ``draw_cell`` added to ``ax``, in ``EDGES`` order."""
    arrows = {p.get_gid(): p for p in ax.patches if isinstance(p, FancyArrowPatch)}
    return [arrows[f"edge {e}"] for e in range(len(EDGES)) if f"edge {e}" in arrows]


def _get(result, name: str):
    """A field of a ``TrainResult`` or of its ``to_dict()`` mapping."""
    return result[name] if isinstance(result, Mapping) else getattr(result, name)


def _as_list(result_or_results) -> list:
    if isinstance(result_or_results, Mapping) or not isinstance(result_or_results, Sequence):
        return [result_or_results]
    return list(result_or_results)


def plot_learning_curve(result_or_results, ax: Axes | None = None, labels: Sequence[str] | None = None) -> Axes:
    """Validation (solid) and test (dashed) accuracy in % per epoch, train loss (dotted) on a twin axis.

    Accepts one ``TrainResult`` (or its ``to_dict()``) or a list of them, one colour each.
    Returns the accuracy ``Axes``; the loss axis is its twin, ``ax.figure.axes[-1]`` right after the call.
    """
    ax = _new_axes(ax, (6.0, 3.5))
    results = _as_list(result_or_results)
    loss_ax = ax.twinx()
    handles = []
    for k, result in enumerate(results):
        color = f"C{k % 10}"
        loss = _get(result, "train_loss")
        epochs = np.arange(1, len(_get(result, "valid_acc")) + 1)
        ax.plot(epochs, 100 * np.asarray(_get(result, "valid_acc")), "-o", color=color, ms=4)
        ax.plot(epochs, 100 * np.asarray(_get(result, "test_acc")), "--s", color=color, ms=3)
        loss_ax.plot(np.arange(1, len(loss) + 1), loss, ":^", color=color, ms=3)
        if len(results) > 1:
            handles.append(Line2D([], [], color=color, lw=2, label=labels[k] if labels else f"cell {k}"))
    for style, name in (("-o", "valid acc"), ("--s", "test acc"), (":^", "train loss")):
        handles.append(Line2D([], [], color="black" if len(results) > 1 else "C0", ls=style[:-1], marker=style[-1],
                              ms=3, label=name))
    n_epochs = max(len(_get(r, "train_loss")) for r in results)
    ax.set_xlim(0.5, n_epochs + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    loss_ax.set_ylabel("train loss (cross-entropy, nats)")
    # Rising accuracy sits high and falling loss low at the right, so the legend goes between them,
    # on the twin axes, which are drawn on top.
    loss_ax.legend(handles=handles, fontsize=7, loc="center right")
    return ax


def plot_space_counts(counts: Mapping[str, int], ax: Axes | None = None) -> Axes:
    """Bar chart of named cell counts, e.g. ``{"all cells": 15625, "unique": 6466}``, values printed on the bars."""
    ax = _new_axes(ax, (5.0, 3.0))
    names, values = list(counts), list(counts.values())
    bars = ax.bar(names, values, color=[f"C{k}" for k in range(len(names))])
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=9)
    ax.set_ylabel("number of cells")
    ax.set_ylim(0, 1.15 * max(values))
    return ax


def plot_cost_histogram(values: Sequence[float], quantity: str = "params", ax: Axes | None = None,
                        bins: int = 30) -> Axes:
    """Histogram of one cost over many cells; ``quantity`` names it (``"params"``, ``"forward_flops"``, ...)."""
    ax = _new_axes(ax, (5.0, 3.0))
    ax.hist(values, bins=bins, color="C0", edgecolor="white")
    ax.set_xlabel(QUANTITY_LABELS.get(quantity, quantity))
    ax.set_ylabel("number of cells")
    return ax


def plot_encoding(encoding: np.ndarray, ax: Axes | None = None) -> Axes:
    """Show a flat one-hot encoding (length 6 x 5, from ``NB201Space.encode``) as an edges x ops grid."""
    ax = _new_axes(ax, (4.0, 3.0))
    grid = np.asarray(encoding).reshape(len(EDGES), len(OPS))
    ax.imshow(grid, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(range(len(OPS)), [OP_SHORT[op] for op in OPS], rotation=45, ha="right")
    ax.set_yticks(range(len(EDGES)), [edge_label(e) for e in range(len(EDGES))])
    ax.set_xlabel("op")
    ax.set_ylabel("edge")
    return ax


def plot_accuracy_vs_cost(results: Sequence, cost: str = "params", ax: Axes | None = None) -> Axes:
    """Final validation accuracy (%) of each result against a cost field; the best is starred."""
    ax = _new_axes(ax, (5.0, 3.5))
    x = np.array([_get(r, cost) for r in results], dtype=float)
    y = 100 * np.array([_get(r, "valid_acc")[-1] for r in results], dtype=float)
    ax.scatter(x, y, color="C0", label="sampled cell")
    best = int(np.nanargmax(y))
    ax.scatter([x[best]], [y[best]], marker="*", s=250, color="C3", zorder=3, label="best (valid)")
    ax.set_xlabel(QUANTITY_LABELS.get(cost, cost))
    ax.set_ylabel("final validation accuracy (%)")
    ax.legend(fontsize=8)
    return ax


COST_LABELS = {
    "cum_sim_seconds": "simulated training time (s)",
    "cum_flops": "training FLOPs",
    "cum_evaluations": "evaluations",
    "elapsed": "wall-clock time (s)",
}
VALUE_LABELS = {
    "value": "test accuracy of the incumbent (%)",
    "final_test_of_best": "test accuracy of the incumbent (%)",
    "regret": "regret: best test acc. - incumbent's (points)",
}


def plot_anytime(curves, ax: Axes | None = None, cost: str = "cum_sim_seconds", value: str = "value",
                 level: float = 0.95, percent: bool = True) -> Axes:
    """Mean best-so-far curve per strategy with a ``level`` confidence band over seeds.

    ``curves`` is the output of ``naskit.runs.experiment.anytime`` (strategy, seed, cost, value).
    The band is a t-interval of the mean over seeds at each cost.
    """
    from scipy import stats

    ax = _new_axes(ax, (7, 4))
    scale = 100 if percent else 1
    for strategy, group in curves.groupby("strategy", sort=False):
        table = group.pivot_table(index="cost", columns="seed", values="value")
        if table.empty:  # every run of this strategy failed: nothing to draw
            continue
        mean, n = table.mean(axis=1) * scale, table.count(axis=1)
        sem = table.std(axis=1, ddof=1) * scale / np.sqrt(n)
        half = sem * stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
        line, = ax.plot(table.index, mean, label=f"{strategy} (n={int(n.max())})")
        ax.fill_between(table.index, mean - half, mean + half, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel(COST_LABELS.get(cost, cost))
    ax.set_ylabel(VALUE_LABELS.get(value, value))
    ax.set_title(f"mean over seeds, {int(level * 100)} % confidence band")
    ax.legend(fontsize="small")
    return ax


def plot_accuracy_distribution(values, ax: Axes | None = None, bins: int = 60, label: str = "cells") -> Axes:
    """Histogram of accuracies (fractions in [0, 1], shown in %), with the best and median marked."""
    ax = _new_axes(ax, (7, 3.5))
    values = 100 * np.asarray(values, float)
    values = values[np.isfinite(values)]
    ax.hist(values, bins=bins, color="C0", alpha=0.8)
    for stat, name, color in ((np.max(values), "best", "C3"), (np.median(values), "median", "C1")):
        ax.axvline(stat, color=color, ls="--", lw=1, label=f"{name} {stat:.2f} %")
    ax.set_xlabel("final test accuracy (%)")
    ax.set_ylabel(f"number of {label}")
    ax.legend()
    return ax


def plot_op_effects(table, ax: Axes | None = None) -> Axes:
    """Heat map of ``naskit.bench.landscape.op_effects``: mean accuracy by edge and op."""
    ax = _new_axes(ax, (7, 3.5))
    data = 100 * table.to_numpy(float)
    image = ax.imshow(data, cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [OP_SHORT.get(c, c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), list(table.index))
    for (i, j), v in np.ndenumerate(data):
        ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="w" if v < np.nanmean(data) else "k",
                fontsize="small")
    ax.set_xlabel("op on the edge")
    ax.set_ylabel("edge (from → to)")
    ax.figure.colorbar(image, ax=ax, label="mean test accuracy (%)")
    return ax


def plot_rank_matrix(matrix, ax: Axes | None = None, title: str | None = None, vmin: float = 0.0,
                     vmax: float = 1.0, colorbar: bool = True) -> Axes:
    """Heat map of a square matrix of rank correlations, each cell labelled with its value.

    ``matrix`` is a DataFrame such as ``naskit.repro.variance.ranking_stability(bench)["seeds"]``
    (Kendall τ between every pair of seeds); its index and column names label the axes. Values
    below ``vmin`` get the lowest colour; a NaN cell (too few shared classes) is labelled "–".
    ``colorbar=False`` leaves the colour bar out (to share one between panels:
    ``fig.colorbar(ax.images[0], ax=axes)``). Returns the ``Axes``; the image is ``ax.images[0]``.

    Example:
        >>> import pandas as pd
        >>> tau = pd.DataFrame([[1.0, 0.4], [0.4, 1.0]], index=[0, 1], columns=[0, 1])
        >>> [t.get_text() for t in plot_rank_matrix(tau, title="Kendall τ between seeds").texts]
        ['1.00', '0.40', '0.40', '1.00']
    """
    ax = _new_axes(ax, (5, 4))
    data = matrix.to_numpy(float)
    image = ax.imshow(data, vmin=vmin, vmax=vmax, cmap="viridis")
    ax.set_xticks(range(data.shape[1]), list(matrix.columns))
    ax.set_yticks(range(data.shape[0]), list(matrix.index))
    ax.set_xlabel(matrix.columns.name or "")
    ax.set_ylabel(matrix.index.name or "")
    middle = (vmin + vmax) / 2  # viridis is dark below the middle, bright above: pick a readable text colour
    for (i, j), v in np.ndenumerate(data):
        ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=8,
                color="k" if v > middle else "w")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="rank correlation")
    return ax


def plot_arch_weights(result, axes=None, title: str | None = None):
    """The architecture weights of a one-shot search over its epochs: one panel per edge, one
    line per op (``softmax(alpha)`` after each epoch, from ``result.history``).

    ``axes``: six Axes (e.g. ``plt.subplots(2, 3)[1]``) or None for a new 2 x 3 figure.
    Returns the array of Axes; ``axes[e].lines[k]`` is op ``OPS[k]`` on edge ``e``.
    """
    history = result.history
    epochs = [log.epoch for log in history]
    weights = np.array([log.arch_weights for log in history])  # (epochs, edges, ops)
    if axes is None:
        fig, axes = plt.subplots(2, 3, figsize=(12, 5.5), sharex=True, sharey=True)
        fig.suptitle(title or f"{result.method}: architecture weights per edge over the search")
    axes = np.asarray(axes).ravel()
    if len(axes) != len(EDGES):
        raise ValueError(f"plot_arch_weights needs {len(EDGES)} axes (one per edge), got {len(axes)}")
    for e, ax in enumerate(axes):
        for k, op in enumerate(OPS):
            ax.plot(epochs, weights[:, e, k], color=OP_COLORS[op], label=OP_SHORT[op], marker=".")
        ax.set_title(edge_label(e), fontsize="medium")
        ax.set_xlabel("epoch")
        ax.set_ylabel("weight (softmax of alpha)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(fontsize="small")
    return axes


def plot_skip_share(results, ax: Axes | None = None) -> Axes:
    """Skip connections in each search's derived cell over its epochs (DARTS's collapse)."""
    ax = _new_axes(ax, (7, 3.5))
    for r in _as_list(results):
        rows = [(log.epoch, round(len(EDGES) * log.skip_share)) for log in r.history if log.skip_share is not None]
        ax.plot(*zip(*rows), marker="o", label=f"{r.method} (seed {r.config.seed})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("skip connections in the derived cell")
    ax.set_ylim(-0.2, len(EDGES) + 0.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    return ax


def plot_seed_agreement(first, second, rank_by=None, ax: Axes | None = None, seeds: tuple[int, int] = (0, 1),
                        title: str | None = None, floor_quantile: float = 0.1) -> Axes:
    """One point per class: its final test accuracy on one training seed against another
    (fractions, shown in %), with the diagonal where two seeds agree, and Spearman ρ over all the
    classes in the legend. With ``rank_by`` (the same classes on a third seed), the top half by it
    is drawn in colour with its own ρ: chosen by a seed that is not plotted, so that the choice does
    not favour lucky draws of the two compared (as ``naskit.bench.datasheet.seed_pairs`` does).
    The axes start at the ``floor_quantile`` of the accuracies, where searches do their choosing;
    the legend counts the classes below. A table you can rank by has its points close to the
    diagonal, among the good classes too."""
    from scipy import stats

    ax = _new_axes(ax, (4.5, 4.5))
    a, b = (100 * np.asarray(v, float) for v in (first, second))
    c = None if rank_by is None else np.asarray(rank_by, float)
    keep = np.isfinite(a) & np.isfinite(b) & (True if c is None else np.isfinite(c))
    a, b = a[keep], b[keep]
    top = np.zeros(len(a), bool) if c is None else c[keep] >= np.median(c[keep])
    floor = float(np.quantile(np.concatenate([a, b]), floor_quantile))
    below = int(((a < floor) | (b < floor)).sum())
    ax.scatter(a[~top], b[~top], s=5, alpha=0.4, color="C7",
               label=f"all {len(a):,} classes: ρ {stats.spearmanr(a, b)[0]:.2f} ({below:,} below the axes)")
    if top.any():
        ax.scatter(a[top], b[top], s=5, alpha=0.5, color="C0",
                   label=f"top half by seed {seeds[2] if len(seeds) > 2 else '?'}: ρ "
                         f"{stats.spearmanr(a[top], b[top])[0]:.2f}")
    high = max(a.max(), b.max()) + 0.2
    ax.plot([floor, high], [floor, high], color="k", lw=0.8, ls="--")
    ax.set(xlim=(floor, high), ylim=(floor, high), aspect="equal",
           xlabel=f"final test accuracy, seed {seeds[0]} (%)", ylabel=f"final test accuracy, seed {seeds[1]} (%)")
    ax.legend(fontsize="small", loc="upper left", markerscale=3)
    if title:
        ax.set_title(title)
    return ax
