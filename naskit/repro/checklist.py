"""The NAS best-practice checklist (Lindauer & Hutter 2020, JMLR 21(243)), filled in from a run.

``checklist(record)`` answers each item from what was recorded (manifests, settings, seeds,
evaluators and histories), and marks an item *unknown* where the record cannot know the answer
(ablations, how the method's own hyperparameters were tuned) or does not say, so the author must
answer it. A record is a ``SearchRun``, an ``experiment`` DataFrame, or a list of them compared
in one study. The result is Markdown, for a report or a notebook.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from naskit.cost import accounting

YES, NO, UNKNOWN = "yes", "no", "unknown — answer it yourself"
# what identifies a benchmark table in an evaluator's describe() (``TabularEvaluator``)
BENCHMARK_KEYS = ("table", "version", "dataset_sha256")


@dataclass(frozen=True)
class Item:
    question: str
    answer: str
    evidence: str


def _facts(obj) -> dict:
    """The recorded facts of a SearchRun or of an ``experiment`` DataFrame; the lists hold one
    entry per record (an experiment's runs share one manifest, evaluator and budget)."""
    if isinstance(obj, pd.DataFrame):
        a = obj.attrs
        last = obj.groupby(["strategy", "seed"]).tail(1) if len(obj) else obj
        return {"manifests": [a.get("manifest", {})], "evaluators": [a.get("evaluator", {})],
                "budgets": [a.get("budget")],
                "strategies": a.get("strategies", sorted(obj["strategy"].unique()) if len(obj) else []),
                "seeds": a.get("seeds", sorted(obj["seed"].unique()) if len(obj) else []),
                "has_cost_axis": "cum_sim_seconds" in obj, "n_runs": len(last),
                "breakdown": a.get("cost_breakdown")}
    settings = getattr(obj, "settings", {}) or {}
    strategy = settings.get("strategy", {})
    return {"manifests": [getattr(obj, "manifest", {}) or {}], "evaluators": [settings.get("evaluator", {})],
            "budgets": [settings.get("budget")],
            "strategies": [strategy.get("name", "?")], "seeds": [strategy.get("seed")],
            "has_cost_axis": "cum_sim_seconds" in getattr(obj, "history", pd.DataFrame()), "n_runs": 1,
            "breakdown": obj.cost_breakdown() if hasattr(obj, "cost_breakdown") else None}


def _study_facts(obj) -> dict:
    """``_facts`` of one record, or of a list of records compared in one study."""
    if not isinstance(obj, (list, tuple)):
        return _facts(obj)
    if not obj:
        raise ValueError("checklist needs a SearchRun, an experiment DataFrame, or a non-empty list of them")
    parts = [_facts(o) for o in obj]
    breakdowns = [p["breakdown"] for p in parts]
    return {"manifests": [m for p in parts for m in p["manifests"]],
            "evaluators": [e for p in parts for e in p["evaluators"]],
            "budgets": [b for p in parts for b in p["budgets"]],
            "strategies": list(dict.fromkeys(s for p in parts for s in p["strategies"])),
            "seeds": list(dict.fromkeys(s for p in parts for s in p["seeds"])),
            "has_cost_axis": all(p["has_cost_axis"] for p in parts), "n_runs": sum(p["n_runs"] for p in parts),
            "breakdown": None if any(b is None for b in breakdowns) else accounting.add(breakdowns)}


def _distinct(values: list) -> list:
    """The different values, in order of appearance (dicts compare by content)."""
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def checklist(obj) -> list[Item]:
    """The checklist's items for a ``SearchRun``, an ``experiment`` DataFrame, or a list of them
    compared in one study (e.g. ``[random_run, evolution_run]``)."""
    f = _study_facts(obj)
    evaluators = _distinct(f["evaluators"])
    tabular = all(ev.get("name") == "tabular" for ev in evaluators)
    seeds = [s for s in f["seeds"] if s is not None]
    return [
        _code(f["manifests"]),
        Item("Hyperparameters and random seeds of the method and of the final evaluation released?",
             YES if seeds else NO, f"seeds {seeds}; evaluator settings {'; '.join(map(str, evaluators))}"),
        same_benchmark(f["evaluators"]),
        _confounders(f["manifests"], f["budgets"]),
        Item("Performance compared over time (anytime), not only at the end?",
             YES if f["has_cost_axis"] else NO, "history has cumulative cost columns (plots.plot_anytime)"),
        Item("Compared against random search (and random sampling)?",
             YES if "random" in f["strategies"] else NO, f"strategies: {', '.join(map(str, f['strategies']))}"),
        Item("Multiple runs with different seeds, and the seeds reported?",
             YES if len(seeds) >= 2 else NO, f"{len(seeds)} seed(s) per strategy, {f['n_runs']} runs"),
        Item("Tabular or surrogate benchmark used for in-depth evaluation?", YES if tabular else NO,
             f"tabular evaluator on {', '.join(str(ev.get('table')) for ev in evaluators)}" if tabular
             else f"evaluator {', '.join(str(ev.get('name')) for ev in evaluators)}"),
        Item("Ablation studies run?", UNKNOWN, "a run cannot know"),
        Item("How the method's own hyperparameters were tuned, and what that cost, reported?", UNKNOWN,
             "a run cannot know: report it, or state that defaults were used"),
        _end_to_end(f["breakdown"]),
        Item("All details of the experimental setup reported?", YES if all(f["manifests"]) else NO,
             "the run's manifest: versions, commit, platform, threads, numerics variables, seeds, data hash"),
    ]


def checklist_markdown(obj) -> str:
    """``checklist(obj)`` as a Markdown table."""
    rows = ["| # | item | answer | evidence |", "|---|---|---|---|"]
    rows += [f"| {i} | {it.question} | {it.answer} | {it.evidence} |" for i, it in enumerate(checklist(obj), 1)]
    return "\n".join(rows)


def same_benchmark(evaluators: list[dict]) -> Item:
    """Whether every run compared used one benchmark table, from each run's evaluator record
    (its ``describe()``): YES when all name the same table, version and dataset hash
    (``BENCHMARK_KEYS``), NO when they differ, UNKNOWN when a record does not say (an
    evaluator without a table, such as real training, or a table without a data hash). A
    recorded version of None (the v1 table records none) is compared like any other value.

    Example:
        >>> v1 = {"name": "tabular", "table": "naskit nb201_mnist1d", "version": None, "dataset_sha256": "b590"}
        >>> [same_benchmark(evs).answer for evs in ([v1, v1], [v1, {**v1, "version": "v2"}])]
        ['yes', 'no']
    """
    question = "All methods compared on exactly the same benchmark, data split, search space and training code?"
    if not evaluators:
        return Item(question, UNKNOWN, "no evaluator recorded")
    unsaid = [f"evaluator {ev.get('name', '?')!r} records no {' or '.join(missing)}"
              for ev in _distinct(evaluators) if (missing := _unrecorded(ev))]
    if unsaid:
        return Item(question, UNKNOWN, f"the record does not say which benchmark every run used: {'; '.join(unsaid)}")
    tables = _distinct([tuple(ev[k] for k in BENCHMARK_KEYS) for ev in evaluators])
    described = "; ".join(f"table {t!r} " + ("(no version recorded)" if v is None else f"version {v}")
                          + f", dataset sha256 {h}" for t, v, h in tables)
    if len(tables) > 1:
        return Item(question, NO, f"the runs used {len(tables)} different benchmarks: {described}")
    return Item(question, YES, f"every run used one benchmark: {described}")


def _unrecorded(evaluator: dict) -> list[str]:
    """The ``BENCHMARK_KEYS`` an evaluator's record lacks (a version may be None; a name or hash may not)."""
    return [k for k in BENCHMARK_KEYS if k not in evaluator or (k != "version" and not evaluator[k])]


def _code(manifests: list[dict]) -> Item:
    gits = [m.get("git", {}) or {} for m in manifests]
    commits = _distinct([g.get("commit") for g in gits if g.get("commit")])
    dirty = any(g.get("dirty") for g in gits if g.get("commit"))
    released = bool(commits) and all(g.get("commit") and g.get("dirty") is False for g in gits)
    evidence = (f"naskit at commit {', '.join(commits)}" + (" with uncommitted changes" if dirty else "")
                if commits else "not run from a git checkout: no commit recorded")
    return Item("Code for the search space, the training pipeline and the NAS method released?",
                YES if released else NO, evidence)


def _confounders(manifests: list[dict], budgets: list) -> Item:
    question = "Confounding factors controlled (hardware, library versions, run time)?"
    environments = _distinct([((m.get("versions") or {}).get("torch"), (m.get("platform") or {}).get("cpu_model"))
                              for m in manifests])
    budgets = _distinct(budgets)
    where = "; ".join(f"torch {torch}, {cpu}" for torch, cpu in environments)
    evidence = (f"all runs in one environment: {where}" if len(environments) == 1 else
                f"runs in {len(environments)} environments: {where}")
    evidence += "; equal budgets per run" if len(budgets) == 1 else f"; budgets differ: {budgets}"
    if not all(m.get("versions") for m in manifests):
        return Item(question, UNKNOWN, evidence)
    return Item(question, YES if len(environments) == 1 and len(budgets) == 1 else NO, evidence)


def _end_to_end(breakdown) -> Item:
    question = "Time for the entire end-to-end NAS method reported (not only the search phase)?"
    if breakdown is None:
        return Item(question, NO, "no cost breakdown recorded")
    b = breakdown
    parts = ", ".join(f"{p} {b.loc[p, 'sim_seconds']:.0f} sim-s / {b.loc[p, 'wall_seconds']:.1f} wall-s"
                      for p in ("search", "evaluation", "final"))
    final = breakdown.loc["final", "flops"] > 0 or breakdown.loc["final", "wall_seconds"] > 0
    return Item(question, YES if final else NO,
                f"naskit.cost_breakdown: {parts}" + ("" if final else "; the final training was not run"))
