"""Many-seed experiments: every strategy, many seeds, one tidy DataFrame, a fair comparison.

A strategy is only meaningful against random search, over many seeds, as performance versus
compute (Li & Talwalkar 2019; Yang et al. 2020; Lindauer & Hutter 2020). ``experiment`` runs
that grid; ``anytime`` puts every run on a common cost axis; ``final_table`` gives mean ± std
and a significance test against random search.

Example:
    >>> from naskit.runs.budget import Budget
    >>> from naskit.evaluators.tabular import TabularEvaluator
    >>> from naskit.bench.table import TabularBenchmark
    >>> import pandas as pd
    >>> from naskit.core.space import NB201Space
    >>> space = NB201Space()
    >>> table = pd.DataFrame({"arch": [str(a) for a in space], "valid_acc": [a.index / 15625 for a in space],
    ...                       "test_acc": [a.index / 15625 for a in space]})
    >>> df = experiment(["random", "evolution"], TabularEvaluator(TabularBenchmark.from_table(table)),
    ...                 seeds=range(3), budget=Budget(evaluations=20), progress=False)
    >>> sorted(df["strategy"].unique()), df["seed"].nunique()
    (['evolution', 'random'], 3)
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from naskit.cost import accounting
from naskit.runs.budget import Budget
from naskit.runs.loop import search
from naskit.strategies import make_strategy


@dataclass(frozen=True)
class _Task:
    label: str
    strategy: str
    options: tuple
    seed: int


def _run_task(task: _Task, evaluator, budget: Budget, ledger, manifest, evaluate_on=None,
              workers: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    strategy = make_strategy(task.strategy, seed=task.seed, **dict(task.options))
    if hasattr(evaluator, "for_run"):  # each run sees its own noise: a table draws its runs by this seed
        evaluator = evaluator.for_run(task.seed)
    run = search(strategy, evaluator, budget, ledger=ledger, progress=False, manifest=manifest,
                 name=None if ledger is None else f"{task.label}-seed{task.seed}", final=True,
                 executor=evaluate_on, workers=workers)
    h = run.history
    h.insert(0, "seed", task.seed)
    h.insert(0, "strategy", task.label)
    h["stop_reason"] = run.stop_reason
    h["final_test_acc"] = run.final.test_acc if run.final is not None else float("nan")
    return h, run.cost_breakdown()


def _tasks(strategies, seeds) -> list[_Task]:
    if isinstance(strategies, (list, tuple)):
        strategies = {name: {} for name in strategies}
    tasks = []
    for label, spec in strategies.items():
        spec = dict(spec)
        name = spec.pop("strategy", label)
        make_strategy(name, **spec)  # fail early on an unknown name or option, before any work
        tasks.extend(_Task(label, name, tuple(sorted(spec.items())), int(s)) for s in seeds)
    return tasks


def experiment(
    strategies,
    evaluator,
    seeds=range(10),
    budget: Budget = Budget(evaluations=150),
    executor: cf.Executor | None = None,
    ledger: str | None = None,
    progress: bool = True,
    evaluate_on: cf.Executor | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Run every strategy with every seed and return all histories as one tidy DataFrame.

    Args:
        strategies: names (``["random", "evolution"]``) or a dict ``label -> options``, e.g.
            ``{"RE p10 s3": {"strategy": "evolution", "population_size": 10, "sample_size": 3}}``.
        evaluator: any evaluator (the tabular benchmark: microseconds per evaluation).
        seeds: the seeds; each (strategy, seed) is one independent run.
        budget: the budget of each run.
        executor: run the (strategy, seed) runs in parallel on any ``Executor``; the
            evaluator is sent to each worker once per run.
        ledger: a SQLite path: every run is resumable (run ids ``"{label}-seed{seed}"``).
        evaluate_on, workers: instead of running whole runs in parallel (``executor``), run
            them one after another and evaluate each run's candidates on this executor,
            ``workers`` at a time (``naskit.runs.loop.search``'s ``executor`` and ``workers``): for
            expensive evaluations such as real training.

    Returns:
        One row per evaluation: ``strategy``, ``seed`` and the columns of ``SearchRun.history``,
        plus ``final_test_of_best`` (the incumbent's test accuracy at full fidelity) and
        ``regret`` (the table's best test accuracy minus that) when the evaluator has a table,
        and ``final_test_acc``: the test accuracy of the run's final incumbent evaluated once
        more at the evaluator's full fidelity (with real training: trained fully).
        ``attrs``: the ``manifest``, the settings, and ``cost_breakdown``: the whole
        experiment's cost by phase, each run's incumbent evaluated once more at full fidelity
        as its final phase (``naskit.cost.accounting``).
    """
    from tqdm.auto import tqdm

    from naskit.runtime.manifest import manifest

    if executor is not None and evaluate_on is not None:
        raise ValueError("give executor (runs in parallel) or evaluate_on (candidates in parallel), not both")
    tasks = _tasks(strategies, seeds)
    record = manifest(extra={"experiment": [t.__dict__ for t in tasks[:1]], "runs": len(tasks)})
    args = (evaluator, budget, ledger, record, evaluate_on, workers)
    with tqdm(total=len(tasks), disable=not progress, desc="experiment", unit="run") as bar:
        if executor is None:
            outputs = []
            for task in tasks:
                outputs.append(_run_task(task, *args))
                bar.update(1)
        else:
            futures = [executor.submit(_run_task, task, *args) for task in tasks]
            for _ in cf.as_completed(futures):
                bar.update(1)
            outputs = [f.result() for f in futures]
    df = pd.concat([h for h, _ in outputs], ignore_index=True)
    df.attrs.update(manifest=record, evaluator=evaluator.describe(), budget=budget.__dict__,
                    strategies=sorted({t.label for t in tasks}), seeds=sorted({t.seed for t in tasks}),
                    cost_breakdown=accounting.add([b for _, b in outputs]))
    return _add_full_fidelity(df, evaluator)


def _add_full_fidelity(df: pd.DataFrame, evaluator) -> pd.DataFrame:
    bench = getattr(evaluator, "bench", None)
    if bench is None:
        df["final_test_of_best"] = df["test_of_best"]
        return df
    # the incumbent's final-epoch test accuracy: what you get when you train the chosen cell fully
    best_arch = df["incumbent"]
    cache: dict[str, float] = {}
    final = []
    for arch in best_arch:
        if arch is None or arch != arch:  # no incumbent yet (None, or NaN after concat)
            final.append(np.nan)
            continue
        if arch not in cache:  # an incumbent the table lacks (e.g. found by a live proxy) has no truth
            cache[arch] = bench.query(arch).test_acc if arch in bench else np.nan  # the mean over seeds
        final.append(cache[arch])
    df["final_test_of_best"] = final
    df["regret"] = optimum(evaluator) - df["final_test_of_best"]
    return df


def optimum(evaluator) -> float:
    """The best final test accuracy in the evaluator's table (mean over seeds)."""
    bench = evaluator.bench
    return float(np.nanmax(bench.to_frame()["test_acc"]))


def anytime(df: pd.DataFrame, cost: str = "cum_sim_seconds", value: str = "final_test_of_best",
            grid: int | np.ndarray = 50) -> pd.DataFrame:
    """Each run's best-so-far ``value`` on a common ``cost`` grid (a step function).

    Returns a tidy frame: strategy, seed, cost, value. Before a run's first evaluation the
    value is NaN.
    """
    if np.isscalar(grid):
        top = df[cost].max()
        grid = np.linspace(top / grid, top, int(grid))
    rows = []
    for (strategy, seed), run in df[df["within_budget"]].groupby(["strategy", "seed"], sort=False):
        x, y = run[cost].to_numpy(float), run[value].to_numpy(float)
        idx = np.searchsorted(x, grid, side="right") - 1
        vals = np.where(idx >= 0, y[np.clip(idx, 0, None)], np.nan)
        rows.append(pd.DataFrame({"strategy": strategy, "seed": seed, "cost": grid, "value": vals}))
    return pd.concat(rows, ignore_index=True)


def final_table(df: pd.DataFrame, value: str = "final_test_of_best", baseline: str | None = "random") -> pd.DataFrame:
    """Final ``value`` per strategy: mean, std, n, and a two-sided Mann-Whitney U test of each
    strategy's final values against ``baseline`` (``p_vs_baseline``)."""
    last = df[df["within_budget"]].groupby(["strategy", "seed"], sort=False).tail(1)
    rows = []
    base = last.loc[last["strategy"] == baseline, value].dropna() if baseline else None
    for strategy, group in last.groupby("strategy", sort=False):
        values = group[value].dropna()
        row = {"strategy": strategy, "mean": values.mean(), "std": values.std(ddof=1), "n": len(values)}
        if "regret" in group:
            row["regret_mean"] = group["regret"].mean()
            row["regret_std"] = group["regret"].std(ddof=1)
        if base is not None and len(base) and strategy != baseline and len(values):
            row["p_vs_" + baseline] = stats.mannwhitneyu(values, base, alternative="two-sided").pvalue
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy")


__all__ = ["anytime", "experiment", "final_table", "optimum"]
