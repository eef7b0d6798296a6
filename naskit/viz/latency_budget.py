"""Lesson 09's widget: pick a latency budget, see the best cell that fits it.

The pure function ``naskit.bench.front.best_under`` does the work; the widget wires a slider to
it and shows the cell's drawing and a line of text, with a static picture of the state it was
shown in for an exported page (``StaticPicture``), so tests set the slider and check the numbers
without a browser.

Example:
    >>> from naskit.bench.store import load_benchmark
    >>> picker = latency_budget_picker(load_benchmark(), cost="params")
    >>> picker.slider.value = picker.slider.max
    >>> bool(picker.view["test_acc"] == max(load_benchmark().class_values("test_acc")))
    True
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from naskit.bench.front import best_under
from naskit.bench.table import TabularBenchmark
from naskit.core.space import parse
from naskit.viz.widgets import StaticPicture, cell_png


class LatencyBudgetPicker(StaticPicture, widgets.VBox):
    """A slider over a network cost (default: latency at batch 1, ms): the most accurate class
    within it (``best_under``), drawn, with its accuracy and costs. ``picker.view`` is the
    ``best_under`` dict of the current budget (None when nothing fits)."""

    def __init__(self, bench: TabularBenchmark, cost: str = "latency_ms_b1", start: float | None = None):
        values = bench.class_costs(cost).astype(float)
        values = values[np.isfinite(values)]
        if len(values) == 0:
            raise ValueError(f"the table has no measured {cost}")
        low, high = float(values.min()), float(values.max())
        self.bench, self.cost = bench, cost
        self.slider = widgets.FloatSlider(value=float(np.median(values)) if start is None else start, min=low,
                                          max=high, step=(high - low) / 200, description=f"{cost} ≤",
                                          readout_format=".3g", continuous_update=False,
                                          style={"description_width": "initial"}, layout={"width": "600px"})
        self.image, self.html = widgets.Image(format="png"), widgets.HTML()
        self.view: dict | None = None
        super().__init__(children=[self.slider, self.image, self.html])
        self._refresh()
        self.slider.observe(self._refresh, names="value")

    def _refresh(self, change=None) -> None:
        self.view = v = best_under(self.bench, {self.cost: self.slider.value})
        if v is None:
            self.html.value = f"no class has {self.cost} ≤ {self.slider.value:.4g}"
            return
        self.image.value = cell_png(parse(v["arch"]))
        q = self.bench.query(v["arch"])
        self.html.value = (f"best cell with {self.cost} ≤ {self.slider.value:.4g}: <code>{html.escape(v['arch'])}"
                           f"</code><br>test accuracy <b>{100 * v['test_acc']:.2f} %</b> (mean over seeds), "
                           f"{self.cost} <b>{v[self.cost]:.4g}</b>, {q.params:,} parameters, "
                           f"{q.flops_nb201:,} multiply-adds per example")


def latency_budget_picker(bench: TabularBenchmark, cost: str = "latency_ms_b1",
                          start: float | None = None) -> LatencyBudgetPicker:
    """A ``LatencyBudgetPicker`` over ``bench``'s ``cost`` (starting at ``start``, default the median)."""
    return LatencyBudgetPicker(bench, cost, start)
