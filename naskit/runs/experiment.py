"""Many-seed experiments: every strategy, many seeds, one tidy DataFrame, a fair comparison.

A strategy is only meaningful against random search, over many seeds, as performance versus
compute (Li & Talwalkar 2019; Yang et al. 2020; Lindauer & Hutter 2020). ``experiment`` runs
that grid; ``anytime`` puts every run on a common cost axis; ``final_rows`` keeps each run's last
row, its outcome; ``final_table`` gives mean ± std and a significance test against random search;
``win_rate`` asks how often a small study would rank one strategy above another.

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
    if evaluate_on is not None and workers is None:
        raise ValueError("evaluate_on needs workers= (how many candidates to evaluate at once): an executor's "
                         "size is not public, and the number of workers changes the trajectory")
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


def at_cost(df: pd.DataFrame, spent: float, cost: str = "cum_flops", value: str = "final_test_of_best") -> pd.DataFrame:
    """Each run's incumbent once it has spent at most ``spent`` (in ``cost``'s unit): the
    comparison of searches at equal compute, read off their anytime curves.

    Returns one row per run, indexed by (strategy, seed): ``value`` (NaN for a run whose first
    evaluation costs more than ``spent``) and ``evaluations``, the evaluations it had made (0 then).

    Example:
        >>> df = pd.DataFrame({"strategy": ["random"] * 3, "seed": [0, 0, 0], "n": [0, 1, 2],
        ...                    "within_budget": True, "cum_flops": [10.0, 20.0, 30.0],
        ...                    "final_test_of_best": [0.90, 0.92, 0.95]})
        >>> at_cost(df, 25).values.tolist(), at_cost(df, 5).values.tolist()
        ([[0.92, 2.0]], [[nan, 0.0]])
    """
    grid = np.array([spent], float)
    best = anytime(df, cost=cost, value=value, grid=grid).set_index(["strategy", "seed"])
    made = anytime(df, cost=cost, value="n", grid=grid).set_index(["strategy", "seed"])["value"]
    return pd.DataFrame({"value": best["value"], "evaluations": (made + 1).fillna(0).astype(int)})


def final_rows(df: pd.DataFrame, within_budget: bool = True) -> pd.DataFrame:
    """The last row of each run (strategy, seed): the run's outcome, its final incumbent.

    Args:
        df: an ``experiment`` DataFrame (any frame with ``strategy``, ``seed`` and ``n``, the
            evaluation's index within its run).
        within_budget: first drop the evaluations the budget did not count (``within_budget``
            False: the one that crossed a cost budget). The incumbent is the same either way; the
            costs and times of the last row are not.

    Returns:
        One row per run, the one with the largest ``n``, in the order of ``df``.

    Example:
        >>> df = pd.DataFrame({"strategy": ["random"] * 3 + ["evolution"] * 2, "seed": [0, 0, 0, 0, 0],
        ...                    "n": [0, 1, 2, 0, 1], "within_budget": [True, True, False, True, True],
        ...                    "final_test_of_best": [0.90, 0.92, 0.92, 0.91, 0.95]})
        >>> final_rows(df)[["strategy", "n", "final_test_of_best"]].values.tolist()
        [['random', 1, 0.92], ['evolution', 1, 0.95]]
        >>> final_rows(df, within_budget=False)["n"].tolist()
        [2, 1]
    """
    if within_budget:
        df = df[df["within_budget"]]
    last_n = df.groupby(["strategy", "seed"], sort=False)["n"].transform("max")
    return df[df["n"] == last_n]


def final_table(df: pd.DataFrame, value: str = "final_test_of_best", baseline: str | None = "random") -> pd.DataFrame:
    """Final ``value`` per strategy: mean, std, n, and a two-sided Mann-Whitney U test of each
    strategy's final values against ``baseline`` (``p_vs_baseline``)."""
    last = final_rows(df)
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


def win_rate(df: pd.DataFrame, a: str, b: str, seeds_per_study: int = 3, resamples: int = 2000,
             rng: np.random.Generator | int = 0, value: str = "final_test_of_best") -> float:
    """How often a study with only ``seeds_per_study`` seeds would rank strategy ``a`` above ``b``.

    A bootstrap over the runs of ``df``: each of ``resamples`` imagined studies draws
    ``seeds_per_study`` final ``value``s of ``a`` and as many of ``b`` (with replacement, from
    ``final_rows(df)``) and compares their means; a tie is not a win.

    Args:
        df: an ``experiment`` DataFrame with both strategies.
        a, b: the two strategy labels.
        seeds_per_study: seeds per strategy in each imagined study.
        resamples: imagined studies.
        rng: a NumPy ``Generator`` or a seed for one.
        value: the outcome compared (higher is better).

    Returns:
        The fraction of imagined studies in which ``a``'s mean beats ``b``'s.

    Example:
        >>> df = pd.DataFrame({"strategy": ["evolution"] * 2 + ["random"] * 2, "seed": [0, 1, 0, 1], "n": 0,
        ...                    "within_budget": True, "final_test_of_best": [0.95, 0.93, 0.94, 0.90]})
        >>> win_rate(df, "evolution", "random", seeds_per_study=1, resamples=1000)  # exact: 3 of 4 pairs
        0.744
    """
    if seeds_per_study < 1 or resamples < 1:
        raise ValueError(f"seeds_per_study and resamples must be at least 1, got {seeds_per_study} and {resamples}")
    last = final_rows(df)
    known = sorted(last["strategy"].unique())
    for name in (a, b):
        if name not in known:
            raise ValueError(f"no runs of strategy {name!r} in this DataFrame; it has {', '.join(map(repr, known))}")
    xa, xb = (last.loc[last["strategy"] == name, value].dropna().to_numpy() for name in (a, b))
    rng = np.random.default_rng(rng)
    # one study at a time, a's seeds drawn before b's: the same draws as the loop a learner would write
    wins = [rng.choice(xa, seeds_per_study).mean() > rng.choice(xb, seeds_per_study).mean() for _ in range(resamples)]
    return float(np.mean(wins))


__all__ = ["anytime", "experiment", "final_rows", "final_table", "optimum", "win_rate"]
