"""The NAS best-practice checklist (Lindauer & Hutter 2020, JMLR 21(243)), filled in from a run.

``checklist(run_or_experiment)`` answers each item from what the run recorded (its manifest,
settings, seeds, evaluator and history), and marks an item *unknown* where the run cannot
know the answer (ablations, how the method's own hyperparameters were tuned) so the author
must answer it. The result is Markdown, for a report or a notebook.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

YES, NO, UNKNOWN = "yes", "no", "unknown — answer it yourself"


@dataclass(frozen=True)
class Item:
    question: str
    answer: str
    evidence: str


def _facts(obj) -> dict:
    """The recorded facts of a SearchRun or of an ``experiment`` DataFrame."""
    if isinstance(obj, pd.DataFrame):
        a = obj.attrs
        last = obj.groupby(["strategy", "seed"]).tail(1) if len(obj) else obj
        return {"manifest": a.get("manifest", {}), "evaluator": a.get("evaluator", {}),
                "strategies": a.get("strategies", sorted(obj["strategy"].unique()) if len(obj) else []),
                "seeds": a.get("seeds", sorted(obj["seed"].unique()) if len(obj) else []),
                "has_cost_axis": "cum_sim_seconds" in obj, "n_runs": len(last),
                "breakdown": a.get("cost_breakdown")}
    settings = getattr(obj, "settings", {}) or {}
    strategy = settings.get("strategy", {})
    return {"manifest": getattr(obj, "manifest", {}) or {}, "evaluator": settings.get("evaluator", {}),
            "strategies": [strategy.get("name", "?")], "seeds": [strategy.get("seed")],
            "has_cost_axis": "cum_sim_seconds" in getattr(obj, "history", pd.DataFrame()), "n_runs": 1,
            "breakdown": obj.cost_breakdown() if hasattr(obj, "cost_breakdown") else None}


def checklist(obj) -> list[Item]:
    """The checklist's items for a ``SearchRun`` or an ``experiment`` DataFrame."""
    f = _facts(obj)
    git = f["manifest"].get("git", {}) or {}
    commit, dirty = git.get("commit"), git.get("dirty")
    code = YES if commit and dirty is False else NO
    code_evidence = f"naskit at commit {commit}" + (" with uncommitted changes" if dirty else "") if commit else \
        "not run from a git checkout: no commit recorded"
    ev = f["evaluator"]
    tabular = ev.get("name") == "tabular"
    seeds = [s for s in f["seeds"] if s is not None]
    versions = f["manifest"].get("versions", {})
    return [
        Item("Code for the search space, the training pipeline and the NAS method released?", code, code_evidence),
        Item("Hyperparameters and random seeds of the method and of the final evaluation released?",
             YES if seeds else NO, f"seeds {seeds}; evaluator settings {ev}"),
        Item("All methods compared on exactly the same benchmark, data split, search space and training code?",
             YES, f"one evaluator for every run: {ev.get('name')}" + (f", dataset sha256 {ev.get('dataset_sha256')}"
                                                                        if ev.get("dataset_sha256") else "")),
        Item("Confounding factors controlled (hardware, library versions, run time)?",
             YES if versions else UNKNOWN,
             f"all runs in one environment: torch {versions.get('torch')}, "
             f"{(f['manifest'].get('platform') or {}).get('cpu_model')}; equal budgets per run"),
        Item("Performance compared over time (anytime), not only at the end?",
             YES if f["has_cost_axis"] else NO, "history has cumulative cost columns (plots.plot_anytime)"),
        Item("Compared against random search (and random sampling)?",
             YES if "random" in f["strategies"] else NO, f"strategies: {', '.join(map(str, f['strategies']))}"),
        Item("Multiple runs with different seeds, and the seeds reported?",
             YES if len(seeds) >= 2 else NO, f"{len(seeds)} seed(s) per strategy, {f['n_runs']} runs"),
        Item("Tabular or surrogate benchmark used for in-depth evaluation?", YES if tabular else NO,
             f"tabular evaluator on {ev.get('table')}" if tabular else f"evaluator {ev.get('name')}"),
        Item("Ablation studies run?", UNKNOWN, "a run cannot know"),
        Item("How the method's own hyperparameters were tuned, and what that cost, reported?", UNKNOWN,
             "a run cannot know: report it, or state that defaults were used"),
        _end_to_end(f["breakdown"]),
        Item("All details of the experimental setup reported?", YES if f["manifest"] else NO,
             "the run's manifest: versions, commit, platform, threads, numerics variables, seeds, data hash"),
    ]


def checklist_markdown(obj) -> str:
    """``checklist(obj)`` as a Markdown table."""
    rows = ["| # | item | answer | evidence |", "|---|---|---|---|"]
    rows += [f"| {i} | {it.question} | {it.answer} | {it.evidence} |" for i, it in enumerate(checklist(obj), 1)]
    return "\n".join(rows)


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
