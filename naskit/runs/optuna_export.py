"""Any naskit search or experiment written as Optuna studies, so that ``optuna-dashboard`` shows it.

Each run becomes one study (direction ``maximize``) in an Optuna storage, e.g. an SQLite file;
each evaluation of its history becomes one trial, in the order the strategy was told:

- ``params``: the six edges, as ``OptunaStrategy`` names them (``edge_1_0`` ...), each a
  categorical over ``OPS``;
- ``value``: the score the strategy ranked by (the validation accuracy, a fraction, or the
  evaluator's estimate); a failed evaluation is a trial in state ``FAIL``, with no value;
- ``intermediate_values``: ``{fidelity: value}`` when the evaluation ran at a fidelity (epochs),
  so the dashboard's intermediate-values plot shows the multi-fidelity run;
- ``user_attrs``: the history's other columns (``n``, ``fidelity``, ``test_acc``, costs, the
  budget's totals, ``within_budget``, ``worker`` and ``sim_arrival`` on simulated workers...).

The study's ``user_attrs`` hold the run's strategy, seed and, for a single run, its settings.
Then ``optuna-dashboard sqlite:///runs.optuna.db`` shows every run (``pip install
optuna-dashboard``).

Example:
    >>> import optuna, tempfile
    >>> import naskit
    >>> from naskit.evaluators.tabular import TabularEvaluator
    >>> from naskit.runs.budget import Budget
    >>> from naskit.runs.loop import search
    >>> from naskit.strategies import RandomSearch
    >>> run = search(RandomSearch(seed=0), TabularEvaluator(naskit.load_benchmark("v1")), Budget(evaluations=5),
    ...              progress=False)
    >>> storage = f"sqlite:///{tempfile.mkdtemp()}/runs.optuna.db"
    >>> export_to_optuna(run, storage)
    ['random-s0']
    >>> study = optuna.load_study(study_name="random-s0", storage=storage)
    >>> [t.user_attrs["n"] for t in study.trials], study.trials[0].value == float(run.history["score"][0])
    ([0, 1, 2, 3, 4], True)
"""

from __future__ import annotations

import json
import math

import pandas as pd

from naskit.core.space import OPS, NB201Space
from naskit.strategies.optuna_strategy import PARAMS, import_optuna, quiet_optuna

SKIPPED = ("arch", "score", "incumbent")  # in params and value already, or a derived column naming a cell


def export_to_optuna(source, storage, study_name: str | None = None, overwrite: bool = False) -> list[str]:
    """Write a ``SearchRun``, or an ``experiment`` DataFrame (one study per strategy and seed), into
    the Optuna ``storage`` (a URL such as ``"sqlite:///runs.optuna.db"`` or a storage object).

    Args:
        source: a ``SearchRun`` (``naskit.runs.loop.search``) or the DataFrame of
            ``naskit.runs.experiment.experiment`` (columns ``strategy``, ``seed`` and the history's).
        storage: where Optuna keeps the studies.
        study_name: a run's study name (default: ``{strategy}-s{seed}``); for an experiment, a
            prefix to the names ``{strategy}-s{seed}``.
        overwrite: replace studies of the same names; otherwise such a name is refused.

    Returns:
        The study names written, in order.

    Raises:
        ValueError: a source of another kind, or a study name the storage already holds (before
            anything is written).
    """
    optuna = import_optuna()
    runs = _runs(source, study_name)
    if isinstance(storage, str):
        storage = optuna.storages.get_storage(storage)  # one connection for every study
    with quiet_optuna():
        taken = set(optuna.get_all_study_names(storage))
        clashes = [name for name, _, _ in runs if name in taken]
        if clashes and not overwrite:
            raise ValueError(f"the storage already holds the study {clashes[0]!r}; give another study_name, or "
                             "overwrite=True to replace it")
        for name, history, attrs in runs:
            if name in taken:
                optuna.delete_study(study_name=name, storage=storage)
            study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
            for key, value in attrs.items():
                study.set_user_attr(key, value)
            study.add_trials([history_trial(row, optuna) for row in history.to_dict("records")])
    return [name for name, _, _ in runs]


def _runs(source, study_name: str | None) -> list[tuple[str, pd.DataFrame, dict]]:
    """(study name, history, study attributes) per run of ``source``."""
    if isinstance(source, pd.DataFrame):
        if not {"strategy", "seed", "arch"} <= set(source.columns):
            raise ValueError("an experiment DataFrame needs the columns strategy, seed and the history's (arch, ...); "
                             f"this one has {list(source.columns)}")
        return [(f"{study_name or ''}{strategy}-s{seed}", run.drop(columns=["strategy", "seed"]),
                 {"strategy": strategy, "seed": int(seed)})
                for (strategy, seed), run in source.groupby(["strategy", "seed"], sort=False)]
    if hasattr(source, "history") and hasattr(source, "settings"):
        strategy = source.settings.get("strategy", {})
        name = study_name or f"{strategy.get('name', 'run')}-s{strategy.get('seed')}"
        attrs = {"strategy": strategy.get("name"), "seed": strategy.get("seed"), "run_id": source.run_id,
                 "stop_reason": source.stop_reason, "settings": json.loads(json.dumps(source.settings, default=str))}
        return [(name, source.history, attrs)]
    raise ValueError(f"export_to_optuna takes a SearchRun or an experiment DataFrame, got {type(source).__name__}")


def history_trial(row: dict, optuna=None):
    """One history row as an Optuna ``FrozenTrial`` (``optuna.trial.create_trial``)."""
    optuna = optuna or import_optuna()
    arch = NB201Space().parse(row["arch"])
    distributions = {p: optuna.distributions.CategoricalDistribution(OPS) for p in PARAMS}
    ok = row["status"] == "ok" and _finite(row["score"])
    fidelity = row.get("fidelity")
    steps = {int(fidelity): float(row["score"])} if ok and _finite(fidelity) else None
    attrs = {k: _plain(v) for k, v in row.items() if k not in SKIPPED}
    return optuna.trial.create_trial(
        params=dict(zip(PARAMS, arch.ops)), distributions=distributions,
        value=float(row["score"]) if ok else None, intermediate_values=steps, user_attrs=attrs,
        state=optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL)


def _finite(value) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def _plain(value):
    """A JSON value for a user attribute: numpy scalars as Python numbers, NaN as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
