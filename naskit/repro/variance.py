"""Variance studies: how much seeds, fidelities and numerics move NAS results.

Yang et al. (ICLR 2020, "NAS evaluation is frustratingly hard") found the training protocol
and the seed moving results more than the search method; Li & Talwalkar (2019) could not
reproduce NAS papers exactly. These functions measure the same effects on naskit's own
results (they are also reachable as ``naskit.repro.<name>``):

- ``seed_spread``: one architecture's accuracy across seeds, from the benchmark;
- ``training_spread``: the same by real training, for any cell and seeds;
- ``search_spread``: a search's outcome across seeds (from an ``experiment`` DataFrame);
- ``ranking_stability``: Kendall τ between fidelities (epochs) and between seeds;
- ``numerics_study``: does the thread count or deterministic mode change results bit for bit?

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"strategy": ["random"] * 4, "seed": [0, 0, 1, 1], "n": [0, 1, 0, 1],
    ...                    "incumbent": ["a", "b", "a", "a"], "final_test_of_best": [.90, .93, .91, .91]})
    >>> search_spread(df)[["runs", "mean", "distinct_cells"]].round(3).to_dict("records")
    [{'runs': 2, 'mean': 0.92, 'distinct_cells': 2}]
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from naskit.bench.table import TabularBenchmark


def seed_spread(bench: TabularBenchmark, archs=None, value: str = "test_acc") -> pd.DataFrame:
    """Per trained class with 2+ seeds: final ``value`` per seed, mean, std (ddof 1), range.

    ``archs`` restricts it to these cells (their classes); default: every multi-seed class.
    Accuracies stay fractions; ``std`` and ``range`` are in the same unit.
    """
    runs = bench.runs_frame()
    wide = runs.pivot_table(index="entry", columns="seed", values=value)
    if archs is not None:
        wide = wide.reindex([bench.entry(a) for a in archs])
    wide = wide[wide.notna().sum(axis=1) >= 2]
    out = pd.DataFrame({
        "arch": [bench.entry_names[e] for e in wide.index],
        "seeds": wide.notna().sum(axis=1).to_numpy(),
        "mean": wide.mean(axis=1).to_numpy(),
        "std": wide.std(axis=1, ddof=1).to_numpy(),
        "range": (wide.max(axis=1) - wide.min(axis=1)).to_numpy(),
    })
    for seed in wide.columns:
        out[f"seed {seed}"] = wide[seed].to_numpy()
    return out


def training_spread(arch, data, seeds=range(3), config=None, network=None) -> pd.DataFrame:
    """Train ``arch`` once per seed: final validation and test accuracy per seed.

    ``attrs`` hold ``mean`` and ``std`` (ddof 1) of the test accuracy; every run uses the
    ``TrainConfig`` ``config`` (default: the benchmark's protocol, one thread).
    """
    from naskit.trainer.loop import train

    results = [train(arch, data, seed=int(s), config=config, network=network) for s in seeds]
    out = pd.DataFrame({"seed": [r.seed for r in results], "valid_acc": [r.final_valid_acc for r in results],
                        "test_acc": [r.final_test_acc for r in results],
                        "cpu_seconds": [r.cpu_seconds for r in results]})
    out.attrs.update(arch=str(arch), mean=float(out["test_acc"].mean()),
                     std=float(out["test_acc"].std(ddof=1)) if len(out) > 1 else float("nan"))
    return out


def search_spread(df: pd.DataFrame, value: str = "final_test_of_best") -> pd.DataFrame:
    """Per strategy, the spread over seeds of a search's outcome (the last row of each run).

    Columns: ``runs``, ``mean``, ``std`` (ddof 1), ``min``, ``max`` of ``value``, and
    ``distinct_cells``: how many different incumbents the seeds ended with.
    """
    from naskit.runs.experiment import final_rows

    last = final_rows(df, within_budget=False)  # evaluations past the budget never change the incumbent
    grouped = last.groupby("strategy")
    out = grouped[value].agg(runs="count", mean="mean", std="std", min="min", max="max")
    out["distinct_cells"] = grouped["incumbent"].nunique()
    return out.reset_index()


def ranking_stability(bench: TabularBenchmark) -> dict[str, pd.DataFrame]:
    """Kendall τ between rankings of the trained classes.

    Returns ``{"fidelity": E x E, "seeds": S x S}``: between the validation accuracy after
    every pair of epochs (seed means, all classes), and between the final test accuracy of
    every pair of seeds (over the classes trained with both).
    """
    epochs = range(1, bench.epochs + 1)
    curves = {e: bench.class_values("valid_acc", epoch=e) for e in epochs}  # seed means, one per class
    fidelity = pd.DataFrame(np.eye(len(epochs)), index=list(epochs), columns=list(epochs))
    for a, b in itertools.combinations(epochs, 2):
        x, y = curves[a], curves[b]
        ok = np.isfinite(x) & np.isfinite(y)
        fidelity.loc[a, b] = fidelity.loc[b, a] = stats.kendalltau(x[ok], y[ok]).statistic
    wide = bench.runs_frame().pivot_table(index="entry", columns="seed", values="test_acc")
    seeds = pd.DataFrame(np.eye(wide.shape[1]), index=wide.columns, columns=wide.columns)
    for a, b in itertools.combinations(wide.columns, 2):
        both = wide[[a, b]].dropna()
        seeds.loc[a, b] = seeds.loc[b, a] = stats.kendalltau(both[a], both[b]).statistic if len(both) > 2 else np.nan
    fidelity.index.name = fidelity.columns.name = "epoch"
    seeds.index.name = seeds.columns.name = "seed"
    return {"fidelity": fidelity, "seeds": seeds}


def numerics_study(arch, data, threads=(1, 2), epochs: int = 2, seed: int = 0, network=None) -> pd.DataFrame:
    """Train ``arch`` with the same seed under each thread count, with and without
    ``naskit.deterministic()``, and compare every curve with the first setting bit for bit.

    Returns one row per setting: ``threads``, ``deterministic``, ``identical`` (every recorded
    value equal to the reference), ``max_abs_diff`` over the curves, and the final accuracies.
    """
    from naskit.core.configs import TrainConfig
    from naskit.runtime.seeding import deterministic
    from naskit.trainer.loop import train

    rows, reference = [], None
    for t, det in itertools.product(threads, (False, True)):
        with deterministic(det):
            r = train(arch, data, seed=seed, config=TrainConfig(epochs=epochs, threads=int(t)), network=network)
        values = np.array(r.train_loss + r.valid_acc + r.valid_loss + r.test_acc, dtype=np.float64)
        if reference is None:
            reference = values
        same_shape = values.shape == reference.shape
        rows.append({"threads": int(t), "deterministic": det,
                     "identical": bool(same_shape and np.array_equal(values, reference, equal_nan=True)),
                     "max_abs_diff": float(np.nanmax(np.abs(values - reference))) if same_shape else float("inf"),
                     "final_train_loss": r.train_loss[-1], "final_test_acc": r.final_test_acc})
    return pd.DataFrame(rows)
