"""The true Pareto front of the whole space, and how close a search's cells come to it.

A multi-objective search is judged by the truth, as a single-objective one is: each evaluated
cell's class at its mean test accuracy over seeds (maximised) and its network's costs
(minimised: measured latency, parameters, FLOPs, any of ``class_costs``). The table knows every
class, so the **true front** is exact, and a search's front can be scored by its hypervolume
against a reference point fixed for the whole table (the median accuracy and the largest cost of
any class), and by the share of the true front's classes it evaluated.

Example:
    >>> from naskit.bench.store import load_benchmark
    >>> bench = load_benchmark("v1")
    >>> front = true_front(bench, costs=("params",))
    >>> bool(front["test_acc"].is_monotonic_increasing)  # more parameters buy accuracy on the front
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from naskit.bench.table import TabularBenchmark
from naskit.core.pareto import hypervolume, pareto_front


def class_objectives(bench: TabularBenchmark, costs: Sequence[str], accuracy: str = "test_acc") -> np.ndarray:
    """Every entry's ``(accuracy, *costs)``, shape (N, 1 + len(costs)); NaN where a cost was not measured."""
    return np.column_stack([bench.class_values(accuracy), *(bench.class_costs(c).astype(float) for c in costs)])


def maximize(costs: Sequence[str]) -> list[bool]:
    """Accuracy up, every cost down."""
    return [True] + [False] * len(costs)


def true_front(bench: TabularBenchmark, costs: Sequence[str] = ("latency_ms_b1",),
               accuracy: str = "test_acc") -> pd.DataFrame:
    """The entries (classes) no other entry dominates in (accuracy, *costs), cheapest first.

    Columns: ``entry``, ``arch`` (the class's representative cell), the accuracy and each cost.
    Entries lacking a cost (a class whose latency was not measured) take no part.
    """
    points = class_objectives(bench, costs, accuracy)
    known = np.flatnonzero(np.isfinite(points).all(axis=1))
    on_front = known[pareto_front(points[known], maximize(costs))]
    frame = pd.DataFrame(points[on_front], columns=[accuracy, *costs])
    frame.insert(0, "arch", [bench.entry_names[i] for i in on_front])
    frame.insert(0, "entry", on_front)
    return frame.sort_values([costs[0], accuracy]).reset_index(drop=True)


def reference_point(bench: TabularBenchmark, costs: Sequence[str], accuracy: str = "test_acc",
                    quantile: float = 0.5) -> np.ndarray:
    """The hypervolume reference for the whole table: the accuracy at ``quantile`` over the classes
    (default the median: a cell must beat half the space to count; with the worst accuracy, the
    box below the front's accuracy would dwarf every difference between searches) and the
    largest cost of any class."""
    points = class_objectives(bench, costs, accuracy)
    points = points[np.isfinite(points).all(axis=1)]
    return np.array([np.quantile(points[:, 0], quantile), *points[:, 1:].max(axis=0)])


def entries_of(bench: TabularBenchmark, archs) -> np.ndarray:
    """The distinct table entries of the cells ``archs`` (NB201 strings or ``Arch``), in first-seen order."""
    return np.array(list(dict.fromkeys(bench.entry(a) for a in archs)), dtype=int)


def front_quality(bench: TabularBenchmark, archs, costs: Sequence[str] = ("latency_ms_b1",),
                  accuracy: str = "test_acc", front: pd.DataFrame | None = None,
                  reference: np.ndarray | None = None) -> dict[str, float]:
    """How good the cells a search evaluated are, judged by the truth: the ``hypervolume`` of
    their classes' true objectives (against ``reference_point``), that as a share of the true
    front's (``hypervolume_share``), and the share of the true front's classes among them
    (``front_recovered``)."""
    front = true_front(bench, costs, accuracy) if front is None else front
    reference = reference_point(bench, costs, accuracy) if reference is None else reference
    points = class_objectives(bench, costs, accuracy)
    entries = entries_of(bench, archs)
    mine = points[entries] if len(entries) else np.zeros((0, 1 + len(costs)))
    mine = mine[np.isfinite(mine).all(axis=1)]
    best = hypervolume(front[[accuracy, *costs]].to_numpy(), reference, maximize(costs))
    hv = hypervolume(mine, reference, maximize(costs)) if len(mine) else 0.0
    return {"hypervolume": hv, "hypervolume_share": hv / best if best > 0 else float("nan"),
            "front_recovered": float(np.isin(front["entry"].to_numpy(), entries).mean())}


def best_feasible(bench: TabularBenchmark, history: pd.DataFrame, limits: dict[str, float]) -> pd.Series | None:
    """The best-scoring counted evaluation of a search whose class is within ``limits`` (cost name ->
    largest allowed value, looked up in the table), or None when no evaluated cell is feasible.

    What a constrained search (``naskit.strategies.multiobjective_wrappers.Constrained``) found.
    """
    rows = history[history["within_budget"] & history["score"].notna()]
    if rows.empty:
        return None
    entries = np.array([bench.entry(a) for a in rows["arch"]])
    ok = np.ones(len(rows), dtype=bool)
    for name, limit in limits.items():
        ok &= bench.class_costs(name)[entries] <= limit
    if not ok.any():
        return None
    feasible = rows[ok]
    return feasible.loc[feasible["score"].idxmax()]


def anytime_hypervolume(bench: TabularBenchmark, history: pd.DataFrame, grid, costs: Sequence[str] = ("latency_ms_b1",),
                        cost: str = "cum_sim_seconds", accuracy: str = "test_acc",
                        reference: np.ndarray | None = None) -> np.ndarray:
    """The hypervolume of one search's cells after each spend in ``grid`` (its ``cost`` column's
    units), shape (len(grid),). Only cells evaluated at the table's full fidelity count (a
    multi-fidelity search knows the others only by a partial training), judged by the truth."""
    reference = reference_point(bench, costs, accuracy) if reference is None else reference
    rows = history[history["within_budget"] & history["score"].notna()]
    full = rows["fidelity"].isna() | (rows["fidelity"] == bench.epochs)
    rows = rows[full.to_numpy(dtype=bool)]
    points = class_objectives(bench, costs, accuracy)[[bench.entry(a) for a in rows["arch"]]] \
        if len(rows) else np.zeros((0, 1 + len(costs)))
    spent = rows[cost].to_numpy()
    out = []
    for g in grid:
        mine = points[spent <= g]
        mine = mine[np.isfinite(mine).all(axis=1)]
        out.append(hypervolume(mine, reference, maximize(costs)) if len(mine) else 0.0)
    return np.asarray(out)


def best_under(bench: TabularBenchmark, limits: dict[str, float], accuracy: str = "test_acc") -> dict | None:
    """The most accurate class (by ``accuracy``, the seed mean) whose costs are all within
    ``limits`` (cost name -> largest allowed value): ``{"entry", "arch", accuracy, each cost}``,
    or None when no class fits. The truth a constrained search is judged against."""
    ok = np.isfinite(bench.class_values(accuracy))
    for name, limit in limits.items():
        ok &= bench.class_costs(name) <= limit
    if not ok.any():
        return None
    values = np.where(ok, bench.class_values(accuracy), -np.inf)
    i = int(np.argmax(values))
    return {"entry": i, "arch": bench.entry_names[i], accuracy: float(values[i]),
            **{name: float(bench.class_costs(name)[i]) for name in limits}}


def judge_runs(bench: TabularBenchmark, df: pd.DataFrame, costs: Sequence[str], grid) -> dict[str, dict]:
    """Per strategy of an experiment (``naskit.runs.experiment``), per seed: the ``share`` of the
    true front's hypervolume its full-fidelity cells reach, the share of the true front it
    evaluated (``recovered``), its counted ``evaluations``, and its ``anytime`` hypervolume share
    after each spend of ``grid`` (simulated seconds), each an array over seeds."""
    front, reference = true_front(bench, costs), reference_point(bench, costs)
    best = front_quality(bench, front["arch"], costs, front=front, reference=reference)["hypervolume"]
    out = {}
    for label, runs in df.groupby("strategy", sort=False):
        rows: dict[str, list] = {"share": [], "recovered": [], "anytime": [], "evaluations": []}
        for _, h in runs.groupby("seed"):
            counted = h[h["within_budget"] & h["score"].notna()]
            full = counted[(counted["fidelity"].isna() | (counted["fidelity"] == bench.epochs)).to_numpy(bool)]
            q = front_quality(bench, full["arch"], costs, front=front, reference=reference)
            rows["share"].append(q["hypervolume_share"])
            rows["recovered"].append(q["front_recovered"])
            rows["anytime"].append(anytime_hypervolume(bench, h, grid, costs, reference=reference) / best)
            rows["evaluations"].append(len(counted))
        out[label] = {k: np.asarray(v) for k, v in rows.items()}
    return out
