"""The checklist answers from what a run recorded and flags what it cannot know."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from naskit.evaluators.tabular import TabularEvaluator
from naskit.repro.checklist import NO, UNKNOWN, YES, checklist, checklist_markdown, same_benchmark
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


BENCHMARK_QUESTION = "All methods compared on exactly the same benchmark"


def benchmark_item(record):
    (item,) = [it for it in checklist(record) if it.question.startswith(BENCHMARK_QUESTION)]
    return item


def table(version="s1", sha256="5ca1ab1e"):
    """The synthetic table as a named, versioned benchmark of a hashed dataset."""
    return dataclasses.replace(synthetic_bench(), meta={"source": "synthetic", "version": version,
                                                        "dataset": {"sha256": sha256}})


def run_on(bench, name="random"):
    return search(make_strategy(name, seed=0), TabularEvaluator(bench), Budget(evaluations=5), progress=False)


def test_same_benchmark_is_yes_when_every_run_used_one_table():
    bench = table()
    item = benchmark_item([run_on(bench), run_on(bench, "evolution")])
    assert item.answer == YES and "'synthetic' version s1" in item.evidence and "5ca1ab1e" in item.evidence
    df = experiment(["random", "evolution"], TabularEvaluator(bench), seeds=range(2), budget=Budget(evaluations=5),
                    progress=False)
    assert benchmark_item(df).answer == YES
    assert benchmark_item([df, run_on(table())]).answer == YES  # another copy of the same table


def test_same_benchmark_is_no_when_the_tables_differ():
    for other in (table(version="s2"), table(sha256="0ther"), dataclasses.replace(table(), meta={
            "source": "another table", "version": "s1", "dataset": {"sha256": "5ca1ab1e"}})):
        item = benchmark_item([run_on(table()), run_on(other, "evolution")])
        assert item.answer == NO and "2 different benchmarks" in item.evidence


def test_same_benchmark_is_unknown_when_the_record_does_not_say():
    unhashed = benchmark_item(run_on(synthetic_bench()))  # its meta names no dataset hash
    assert unhashed.answer == UNKNOWN and "dataset_sha256" in unhashed.evidence
    df = experiment(["random"], TabularEvaluator(table()), seeds=range(2), budget=Budget(evaluations=5),
                    progress=False)
    df.attrs.pop("evaluator")  # e.g. a frame written to CSV and read back
    assert benchmark_item(df).answer == UNKNOWN
    assert benchmark_item([run_on(table()), run_on(synthetic_bench())]).answer == UNKNOWN
    training = {"name": "training", "dataset": "mnist1d", "seed": 0}  # no table: the record cannot tell
    assert same_benchmark([training, training]).answer == UNKNOWN


def test_a_list_of_one_record_answers_as_the_record():
    run = run_on(table())
    assert checklist([run]) == checklist(run)
    two = checklist([run, run_on(table(), "evolution")])
    assert two[6].answer == NO and "2 runs" in two[6].evidence  # still one seed
    assert two[5].answer == YES and "random, evolution" in two[5].evidence
