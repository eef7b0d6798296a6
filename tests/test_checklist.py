"""The checklist answers from what a run recorded and flags what it cannot know."""

from __future__ import annotations

import sys
from pathlib import Path

from naskit.evaluators.tabular import TabularEvaluator
from naskit.repro.checklist import NO, UNKNOWN, YES, checklist, checklist_markdown
from naskit.runs.budget import Budget
from naskit.runs.experiment import experiment
from naskit.runs.loop import search
from naskit.strategies import make_strategy

sys.path.insert(0, str(Path(__file__).parent))
from search_helpers import synthetic_bench


def test_experiment_with_random_search_and_many_seeds():
    df = experiment(["random", "evolution"], TabularEvaluator(synthetic_bench()), seeds=range(3),
                    budget=Budget(evaluations=10), progress=False)
    items = checklist(df)
    answer = {it.question.split()[0] + " " + it.question.split()[1]: it.answer for it in items}
    assert answer["Compared against"] == YES
    assert answer["Multiple runs"] == YES
    assert answer["Tabular or"] == YES
    assert answer["Ablation studies"] == UNKNOWN
    md = checklist_markdown(df)
    assert md.count("\n") == len(items) + 1 and "| 6 |" in md


def test_single_run_without_random_search_is_flagged():
    run = search(make_strategy("evolution", seed=0), TabularEvaluator(synthetic_bench()), Budget(evaluations=5),
                 progress=False)
    answers = [it.answer for it in checklist(run)]
    assert answers[5] == NO  # no random-search baseline
    assert answers[6] == NO  # one seed
    assert "seeds [0]" in checklist(run)[1].evidence


def test_end_to_end_cost_needs_the_final_training():
    question = "Time for the entire end-to-end"
    evaluator = TabularEvaluator(synthetic_bench())
    without = search(make_strategy("random", seed=0), evaluator, Budget(evaluations=5), progress=False)
    with_final = search(make_strategy("random", seed=0), evaluator, Budget(evaluations=5), progress=False,
                        final=True)
    (a,) = [it for it in checklist(without) if it.question.startswith(question)]
    (b,) = [it for it in checklist(with_final) if it.question.startswith(question)]
    assert a.answer == NO and "final training was not run" in a.evidence
    assert b.answer == YES and "final" in b.evidence and "sim-s" in b.evidence
    df = experiment(["random"], evaluator, seeds=range(2), budget=Budget(evaluations=5), progress=False)
    (c,) = [it for it in checklist(df) if it.question.startswith(question)]
    assert c.answer == YES  # experiments evaluate every run's incumbent at full fidelity
