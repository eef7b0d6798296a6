"""Two lesson widgets: a search playback (lesson 03) and an estimator explorer (lesson 04).

As with the architecture picker, pure functions do the work (``playback_frame``,
``estimator_view``) and the widgets only wire a slider or a dropdown to them and draw the result
as a PNG, so tests set widget values and check the numbers without a browser.

Example:
    >>> import pandas as pd
    >>> history = pd.DataFrame({"arch": ["a", "b", "c"], "valid_acc": [0.5, 0.9, 0.7],
    ...                         "status": ["ok", "ok", "ok"]})
    >>> frame = playback_frame(history, 2, population=2)
    >>> frame["best_arch"], frame["best_valid"], frame["population"]
    ('b', 0.9, [1, 2])
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from naskit.estimate.correlate import correlate
from naskit.viz.widgets import StaticPicture


def _png(draw, figsize=(7.0, 3.2), dpi: int = 90) -> bytes:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    draw(fig.add_subplot())
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class _Explorer(StaticPicture, widgets.VBox):
    """A control above a picture and a line of text, both redrawn by ``_render(value)`` whenever
    the control's value changes."""

    def __init__(self, control: widgets.ValueWidget):
        self.control = control
        self.image, self.html = widgets.Image(format="png"), widgets.HTML()
        super().__init__(children=[control, self.image, self.html])
        self._refresh()
        control.observe(self._refresh, names="value")

    def _refresh(self, change=None) -> None:
        self.image.value, self.html.value = self._render(self.control.value)

    def _render(self, value) -> tuple[bytes, str]:
        raise NotImplementedError


# --- search playback ---------------------------------------------------------------------------
def playback_frame(history: pd.DataFrame, n: int, population: int = 10) -> dict:
    """The state of a search after its evaluations ``0..n``.

    Returns ``n``, ``best_valid`` and ``best_arch`` (the best ok evaluation so far), ``curve``
    (best-so-far after each evaluation up to n) and ``population``: the row indices of the last
    ``population`` evaluations, the members of regularized evolution's aging population.
    """
    if not 0 <= n < len(history):
        raise ValueError(f"n must be in 0..{len(history) - 1}, got {n}")
    seen = history.iloc[: n + 1]
    valid = seen["valid_acc"].where(seen["status"] == "ok")
    curve = valid.cummax().tolist()
    best = valid.idxmax() if valid.notna().any() else None
    return {
        "n": n, "curve": curve,
        "best_valid": None if best is None else float(valid[best]),
        "best_arch": None if best is None else seen.at[best, "arch"],
        "population": list(range(max(0, n + 1 - population), n + 1)),
    }


def _draw_playback(ax, history: pd.DataFrame, frame: dict) -> None:
    n = frame["n"]
    ax.scatter(history.index[: n + 1], 100 * history["valid_acc"].iloc[: n + 1], s=10, color="C0", alpha=0.4,
               label="evaluated")
    pop = frame["population"]
    ax.scatter(pop, 100 * history["valid_acc"].iloc[pop], s=24, color="C2", label="population")
    ax.plot(range(n + 1), 100 * np.asarray(frame["curve"], dtype=float), color="C1", label="best so far")
    ax.set_xlim(-1, len(history))
    finite = history["valid_acc"][np.isfinite(history["valid_acc"])]
    if len(finite):
        ax.set_ylim(100 * finite.min() - 1, 100 * finite.max() + 1)
    ax.set_xlabel("evaluation")
    ax.set_ylabel("validation accuracy (%)")
    ax.legend(loc="lower right", fontsize="small")


class SearchPlayback(_Explorer):
    """A slider over a search's evaluations: the evaluated cells, the population and the
    best-so-far curve up to the slider's position. ``replay.frame`` is the ``playback_frame``."""

    def __init__(self, history: pd.DataFrame, population: int = 10):
        if len(history) == 0:
            raise ValueError("the search has no evaluations to play back")
        self.history, self.population = history.reset_index(drop=True), population
        self.slider = widgets.IntSlider(value=len(history) - 1, min=0, max=len(history) - 1,
                                        description="evaluation", continuous_update=False)
        self.frame: dict = {}
        super().__init__(self.slider)

    def _render(self, n: int) -> tuple[bytes, str]:
        self.frame = playback_frame(self.history, n, self.population)
        best = "none yet" if self.frame["best_arch"] is None else \
            f"<code>{self.frame['best_arch']}</code> ({100 * self.frame['best_valid']:.2f} %)"
        return (_png(lambda ax: _draw_playback(ax, self.history, self.frame)),
                f"after {self.frame['n'] + 1} evaluations, best: {best}")


def search_playback(run_or_history, population: int = 10) -> SearchPlayback:
    """A ``SearchPlayback`` of a ``SearchRun`` (or its history DataFrame)."""
    history = getattr(run_or_history, "history", run_or_history)
    return SearchPlayback(history, population)


# --- estimator explorer ---------------------------------------------------------------------------
def estimator_view(scores: dict, truth, name: str) -> dict:
    """``correlate`` of estimator ``name`` against ``truth`` over the cells both score."""
    if name not in scores:
        raise ValueError(f"unknown estimator {name!r}; choose one of {', '.join(scores)}")
    estimate, truth = np.asarray(scores[name], float), np.asarray(truth, float)
    return {"name": name, **correlate(estimate, truth)}


class EstimatorExplorer(_Explorer):
    """A dropdown of estimators: the scatter of the chosen one against the truth, and its rank
    correlations. ``explorer.view`` is the ``estimator_view``."""

    def __init__(self, scores: dict, truth, truth_label: str = "final test accuracy"):
        if not scores:
            raise ValueError("give at least one estimator's scores")
        self.scores, self.truth, self.truth_label = scores, np.asarray(truth, float), truth_label
        self.dropdown = widgets.Dropdown(options=list(scores), description="estimator")
        self.view: dict = {}
        super().__init__(self.dropdown)

    def _render(self, name: str) -> tuple[bytes, str]:
        self.view = v = estimator_view(self.scores, self.truth, name)
        x = np.asarray(self.scores[name], float)

        def draw(ax):
            ax.scatter(x, 100 * self.truth, s=4, alpha=0.4)
            ax.set_xlabel(f"{name} score")
            ax.set_ylabel(f"{self.truth_label} (%)")
            ax.set_title(f"Spearman ρ {v['spearman']:.3f}, Kendall τ {v['kendall']:.3f}")

        return _png(draw), (f"<b>{name}</b>: Spearman ρ {v['spearman']:.3f}, Kendall τ {v['kendall']:.3f}, "
                            f"top-10 % overlap {v['top10%']:.2f} over {v['n']:,} architectures")


def estimator_explorer(scores: dict, truth, truth_label: str = "final test accuracy") -> EstimatorExplorer:
    """An ``EstimatorExplorer`` over ``scores`` (name -> one score per cell, aligned with ``truth``)."""
    return EstimatorExplorer(scores, truth, truth_label)
