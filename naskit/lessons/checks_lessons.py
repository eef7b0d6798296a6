"""The checks of the exercises of lessons 00-08, one per exercise, keyed by its stable id.

Each check is about what its exercise asks, not about how a solution computes it: it takes the
learner's answer and the lesson's own objects (the benchmark, a training result, an experiment's
rows) and compares the answer with what naskit computes from them, exactly where the computation
is deterministic and with a stated tolerance where timings move it. Checks that would have to
repeat a long training instead check what can be checked without one (the right cell retrained,
the budget spent, the seeds asked for). ``naskit.lessons.checks`` explains the protocol.
"""

from __future__ import annotations

from typing import Any

from naskit.lessons.checks import differs, exercise, first_hint, not_equal

CONVOLUTIONS = {"nor_conv_1x1", "nor_conv_3x3"}
DAY_HOURS = 24.0


def _space():
    from naskit.core.space import NB201Space

    return NB201Space()


def _arch(value: Any, what: str):
    """(the ``Arch`` of ``value`` -- an ``Arch``, an NB201 string or a result with ``.arch``, or None; a hint)."""
    value = getattr(value, "arch", value)
    try:
        return _space().parse(str(value)), None
    except ValueError as error:
        return None, f"{what} should be an NB201 cell string: {error}"


def _mapping(answer: Any, what: str) -> tuple[dict | None, str | None]:
    """``answer`` (a dict or a pandas Series) as a dict, or a hint."""
    if hasattr(answer, "to_dict") and not hasattr(answer, "columns"):
        return answer.to_dict(), None
    if isinstance(answer, dict):
        return answer, None
    return None, f"{what} should be a dict (or a pandas Series) keyed by strategy, got {type(answer).__name__}"


def _means_match(table: Any, expected: dict[str, float], what: str) -> str | None:
    """A hint unless every expected mean appears in ``table["mean"]`` (rows may be named freely)."""
    if not hasattr(table, "columns") or "mean" not in table.columns:
        return f"{what} should be the DataFrame `final_table` returns (a `mean` column per strategy)"
    means = [float(v) for v in table["mean"]]
    for label, value in expected.items():
        if not any(abs(m - value) <= 1e-9 for m in means):
            return (f"{what}: no row has the mean final test accuracy of {label} ({value:.4%}); run it with the "
                    "lesson's evaluator, seeds and budget")
    return None


# --- 00 tour ---------------------------------------------------------------------------------------
@exercise("00.ex1", asks="the seconds it would take to train every cell of the space for EPOCHS epochs on this "
          "machine (a number, in seconds)", answer="total_seconds", context=("result", "epochs=EPOCHS"))
def check_00_ex1(total_seconds, result, epochs):
    per_epoch = result.wall_seconds / result.epochs  # seconds per epoch, as section 3 measured it
    # another run's timing (a search cell, CPU seconds) is as good an estimate: a factor of two either way
    return differs(total_seconds, per_epoch * epochs * len(_space()), "seconds for every cell", rel=0.5)


@exercise("00.ex2", asks="the search's winner retrained for EPOCHS epochs (`best_long`, what `train` returns) and "
          "whether its validation accuracy beats the hand-picked cell's (`beats_hand_picked`, True or False)",
          answer=("best_long", "beats_hand_picked"), context=("winner=best", "hand_picked=result", "epochs=EPOCHS"))
def check_00_ex2(answer, winner, hand_picked, epochs):
    best_long, beats = answer
    if not hasattr(best_long, "final_valid_acc"):
        return "`best_long` should be what `train(...)` returns"
    return first_hint(
        lambda: not_equal(str(best_long.arch), str(winner.arch), "the retrained cell (the search's winner)"),
        lambda: not_equal(best_long.epochs, epochs, "epochs of the retraining"),
        lambda: not_equal(bool(beats), best_long.final_valid_acc > hand_picked.final_valid_acc,
                          "whether the winner beats the hand-picked cell on validation accuracy"))


@exercise("00.ex3", asks="the cell that wins when the search runs with another SEED (`other_winner`, an NB201 "
          "string) and whether it is the cell that won with this seed (`same_winner`, True or False)",
          answer=("other_winner", "same_winner"), context=("winner=best",))
def check_00_ex3(answer, winner):
    other, same = answer
    arch, hint = _arch(other, "`other_winner`")
    return hint or not_equal(bool(same), str(arch) == str(_arch(winner, "the winner")[0]),
                             "whether the same cell won")


# --- 01 search spaces --------------------------------------------------------------------------------
@exercise("01.ex1", asks="how many of the 15,625 cells contain no convolution (an int)", answer="n_no_conv")
def check_01_ex1(n_no_conv):
    expected = sum(not CONVOLUTIONS & set(a.ops) for a in _space())
    return differs(n_no_conv, expected, "cells without a convolution", rel=0)


@exercise("01.ex2", asks="the cell with the most parameters (an NB201 string or an Arch)", answer="biggest")
def check_01_ex2(biggest):
    from naskit.viz.widgets import describe_arch

    arch, hint = _arch(biggest, "`biggest`")
    if hint:
        return hint
    # a 3x3 convolution has the most weights of any op and every edge is live when all are convolutions
    most = describe_arch(_space().parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                                        "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"))["params"]
    got = describe_arch(arch)["params"]
    return None if got == most else f"{arch} has {got:,} parameters; another cell has {most:,}"


@exercise("01.ex3", asks="how many of the all-`none` cell's 24 neighbours are connected (an int)",
          answer="n_connected")
def check_01_ex3(n_connected):
    space = _space()
    empty = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    return differs(n_connected, sum(n.is_connected() for n in space.neighbors(empty)), "connected neighbours", rel=0)


# --- 02 the cost of NAS ------------------------------------------------------------------------------
@exercise("02.ex1", asks="naskit's GPU-day estimate for the benchmark as planned at 5 % GPU utilisation (a number, "
          "in GPU-days)", answer="gpu_days_at_5_percent", context=("bench",))
def check_02_ex1(gpu_days_at_5_percent, bench):
    import numpy as np

    from naskit.cost.energy import gpu_hours

    flops = bench.meta["build"]["planned_runs"] * float(np.mean(bench.train_flops + bench.eval_flops))
    return differs(gpu_days_at_5_percent, gpu_hours(flops, utilization=0.05) / DAY_HOURS, "GPU-days at 5 %",
                   rel=1e-3)


@exercise("02.ex2", asks="the DARTS search you ran (`darts_search`, what `search_darts` returns) and how many "
          "evaluations of the lesson's cell its CPU seconds pay for (`evaluations_per_darts`, a number)",
          answer=("darts_search", "evaluations_per_darts"), context=("evaluation=r",))
def check_02_ex2(answer, evaluation):
    darts_search, ratio = answer
    if getattr(darts_search, "method", None) != "darts":
        return "`darts_search` should be what `search_darts(...)` returns"
    return differs(ratio, darts_search.cpu_seconds / evaluation.cpu_seconds,
                   "the DARTS search's CPU seconds / one evaluation's", rel=1e-3)


# --- 03 search strategies ----------------------------------------------------------------------------
def _final_means(strategies, evaluator, seeds, evaluations: int) -> dict[str, float]:
    from naskit.runs.budget import Budget
    from naskit.runs.experiment import experiment, final_table

    df = experiment(strategies, evaluator, seeds=seeds, budget=Budget(evaluations=evaluations), progress=False)
    return final_table(df)["mean"].to_dict()


@exercise("03.ex1", asks="the final table (`final_table`) of the lesson's strategies at half the budget",
          answer="half_budget_table",
          context=("evaluator", "seeds=SEEDS", "strategies=STRATEGIES", "budget=BUDGET"))
def check_03_ex1(half_budget_table, evaluator, seeds, strategies, budget):
    expected = _final_means(list(strategies), evaluator, seeds, budget // 2)
    return _means_match(half_budget_table, expected, "the half-budget table")


@exercise("03.ex2", asks="the final table of regularized evolution with population 10 / sample 3 and with 50 / 10, "
          "over the lesson's seeds and budget", answer="variants_table",
          context=("evaluator", "seeds=SEEDS", "budget=BUDGET"))
def check_03_ex2(variants_table, evaluator, seeds, budget):
    variants = {"population 10, sample 3": {"strategy": "evolution", "population_size": 10, "sample_size": 3},
                "population 50, sample 10": {"strategy": "evolution", "population_size": 50, "sample_size": 10}}
    expected = _final_means(variants, evaluator, seeds, budget)
    return _means_match(variants_table, expected, "the table of the two settings")


@exercise("03.ex3", asks="per strategy, the seeds needed for a 95 % confidence interval of the mean final test "
          "accuracy narrower than 0.1 points (its full width), from the spread of the runs above "
          "(a dict or Series keyed by strategy)", answer="seeds_needed", context=("last",))
def check_03_ex3(seeds_needed, last):
    got, hint = _mapping(seeds_needed, "`seeds_needed`")
    if hint:
        return hint
    std = last.groupby("strategy")["final_test_of_best"].std()
    for strategy, sigma in std.items():
        expected = (2 * 1.96 * sigma / 0.001) ** 2  # full width 2 * 1.96 * sigma / sqrt(n) < 0.1 points
        if strategy not in got:
            return f"`seeds_needed` has no entry for {strategy!r}"
        if differs(got[strategy], expected / 4, "", rel=0.05) is None and expected > 4:
            return f"{strategy}: {got[strategy]:.0f} seeds gives a half-width of 0.1 points; the width is twice that"
        hint = differs(got[strategy], expected, f"seeds for {strategy}", rel=0.05, abs_tol=2)
        if hint:
            return hint
    return None


# --- 04 cheap estimation -----------------------------------------------------------------------------
@exercise("04.ex1", asks="the number of epochs whose validation accuracy gives the best Spearman ρ per simulated "
          "second (an int)", answer="best_epoch", context=("low",))
def check_04_ex1(best_epoch, low):
    per_second = (low["spearman"] / low["sim_seconds_per_arch"]).to_numpy()
    return differs(best_epoch, 1 + int(per_second.argmax()), "the best epoch per simulated second", rel=0)


@exercise("04.ex2", asks="the name of the zero-cost proxy with the highest Spearman ρ in the table (a str)",
          answer="best_proxy", context=("table",))
def check_04_ex2(best_proxy, table):
    proxies = table[table["kind"] == "zero-cost proxy"]
    expected = str(proxies["spearman"].idxmax())
    return None if str(best_proxy) in (expected, expected.split()[0]) else \
        f"`best_proxy`: {best_proxy!r} is not the proxy with the highest ρ in the table"


@exercise("04.ex3", asks="the predictor learning curve with synflow as an extra feature (`curve_with_proxy`, what "
          "`predictor_learning_curve` returns)", answer="curve_with_proxy", context=("bench", "proxies"))
def check_04_ex3(curve_with_proxy, bench, proxies):
    from naskit.estimate.predictors import predictor_learning_curve
    from naskit.estimate.whole_space import space_scores

    if not hasattr(curve_with_proxy, "columns") or not {"predictor", "n_train", "seed"} <= set(curve_with_proxy):
        return "`curve_with_proxy` should be what `predictor_learning_curve(...)` returns"
    used = {key: sorted(set(curve_with_proxy[column])) for key, column in
            (("predictors", "predictor"), ("n_train", "n_train"), ("seeds", "seed"))}
    extra = {"synflow": space_scores(bench, proxies, "synflow")}
    expected = predictor_learning_curve(bench, **used, extra_features=extra)
    got = curve_with_proxy.groupby(["predictor", "n_train"])["spearman"].mean()
    want = expected.groupby(["predictor", "n_train"])["spearman"].mean()
    worst = float((got - want).abs().max())
    return None if worst <= 1e-9 else (f"the curve differs from one with synflow as an extra feature (by up to "
                                       f"{worst:.3f} ρ): pass extra_features={{'synflow': ...}}")


# --- 05 weight sharing -------------------------------------------------------------------------------
@exercise("05.ex1", asks="the supernet's ranking quality at the checkpoints LONGER (`longer`, what `ranking_quality` "
          "returns)", answer="longer", context=("checkpoints=LONGER",))
def check_05_ex1(longer, checkpoints):
    if not hasattr(longer, "columns") or not {"epoch", "kendall", "spearman"} <= set(longer):
        return "`longer` should be what `ranking_quality(...)` returns"
    return first_hint(
        lambda: not_equal([int(e) for e in longer["epoch"]], list(checkpoints), "the checkpoints measured"),
        lambda: None if longer[["kendall", "spearman"]].abs().le(1).all().all() else "correlations outside [-1, 1]")


@exercise("05.ex2", asks="RSPS re-ranked with WIDE candidates (`wide`, what `rsps_from` returns)", answer="wide",
          context=("rsps", "num_candidates=WIDE"))
def check_05_ex2(wide, rsps, num_candidates):
    if getattr(wide, "method", None) != "rsps":
        return "`wide` should be what `rsps_from(rsps, data, num_candidates=WIDE)` returns"
    return first_hint(lambda: not_equal(wide.config.num_candidates, num_candidates, "candidates ranked"),
                      lambda: not_equal(wide.config.seed, rsps.config.seed, "the seed (re-rank the lesson's search)"))


@exercise("05.ex3", asks="the ranking study correlated against the benchmark's validation accuracy (`valid_ranking`, "
          "a DataFrame like the study's)", answer="valid_ranking", context=("study", "bench"))
def check_05_ex3(valid_ranking, study, bench):
    from naskit.oneshot.ranking import against

    if not hasattr(valid_ranking, "columns") or "spearman" not in valid_ranking:
        return "`valid_ranking` should be a DataFrame with a `spearman` column per checkpoint"
    expected = against(study, bench, truth="valid_acc")
    if len(valid_ranking) != len(expected):
        return f"`valid_ranking` should have one row per checkpoint ({len(expected)})"
    worst = float((valid_ranking["spearman"].to_numpy() - expected["spearman"].to_numpy()).__abs__().max())
    return None if worst <= 1e-9 else "these are not the correlations against `valid_acc` (compare with `test_acc`?)"


# --- 06 differentiable NAS ---------------------------------------------------------------------------
@exercise("06.ex1", asks="the cell DARTS finds with each of 3 seeds (`found_cells`, a dict seed -> NB201 string), "
          "the lesson's seed included", answer="found_cells", context=("darts", "seed=SEED"))
def check_06_ex1(found_cells, darts, seed):
    cells, hint = _mapping(found_cells, "`found_cells`")
    if hint:
        return hint
    if len(cells) != 3:
        return f"`found_cells` should hold 3 seeds, holds {len(cells)}"
    for key, cell in cells.items():
        arch, hint = _arch(cell, f"the cell of seed {key}")
        if hint:
            return hint
    return not_equal(str(_arch(cells.get(seed), "")[0]), str(darts.arch), f"the cell of seed {seed} (section 1's)")


@exercise("06.ex2", asks="GDAS run with `tau_min=1.0` (`warm`, what `search_gdas` returns)", answer="warm",
          context=("config",))
def check_06_ex2(warm, config):
    if getattr(warm, "method", None) != "gdas":
        return "`warm` should be what `search_gdas(...)` returns"
    return first_hint(lambda: not_equal(warm.config.tau_min, 1.0, "tau_min"),
                      lambda: not_equal(warm.config.epochs, config.epochs, "epochs (keep the lesson's config)"))


@exercise("06.ex3", asks="the share of a DARTS search's FLOPs spent in architecture steps (a fraction)",
          answer="arch_share", context=("darts",))
def check_06_ex3(arch_share, darts):
    # first-order DARTS: per training batch one weight step and one architecture step, each a forward
    # and backward pass of the whole mixture on a batch of batch_size examples, so half of the search
    return differs(arch_share, 0.5, "the architecture steps' share of the search FLOPs", abs_tol=0.05)


# --- 07 reproducibility ------------------------------------------------------------------------------
@exercise("07.ex1", asks="the spread of the search outcome at three times the budget (`bigger_spread`, what "
          "`variance.search_spread` returns)", answer="bigger_spread",
          context=("bench", "seed=SEED", "n_seeds=N_SEEDS", "budget=BUDGET"))
def check_07_ex1(bigger_spread, bench, seed, n_seeds, budget):
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.repro import variance
    from naskit.runs.budget import Budget
    from naskit.runs.experiment import experiment

    if not hasattr(bigger_spread, "columns") or "std" not in bigger_spread:
        return "`bigger_spread` should be what `variance.search_spread(...)` returns"
    df = experiment(["random", "evolution"], TabularEvaluator(bench), seeds=range(seed, seed + n_seeds),
                    budget=Budget(evaluations=3 * budget), progress=False)
    expected = variance.search_spread(df)
    if len(bigger_spread) != len(expected) or float(abs(bigger_spread["std"].to_numpy()
                                                        - expected["std"].to_numpy()).max()) > 1e-9:
        return "the spread differs from the lesson's two strategies at 3 x BUDGET evaluations over its seeds"
    return None


@exercise("07.ex2", asks="the seeds per strategy needed for the gap between the two means to be two standard "
          "errors of their difference (a number)", answer="seeds_needed", context=("outcome",))
def check_07_ex2(seeds_needed, outcome):
    import numpy as np

    gap = abs(float(outcome["mean"].iloc[-1] - outcome["mean"].iloc[0]))
    pooled = float(np.sqrt((outcome["std"] ** 2).mean()))
    # the difference of two means of n seeds each has standard error pooled * sqrt(2 / n)
    expected = 8 * pooled ** 2 / max(gap, 1e-12) ** 2
    return differs(seeds_needed, expected, "seeds per strategy (8 sigma^2 / gap^2)", rel=0.05, abs_tol=1)


@exercise("07.ex3", asks="the diff of your manifest and the colleague's once their thread count is yours and their "
          "torch version another (`diff_rows`, what `diff_manifests` returns)", answer="diff_rows", context=("mine",))
def check_07_ex3(diff_rows, mine):
    try:
        fields = {row["field"] for row in diff_rows}
    except (TypeError, KeyError):
        return "`diff_rows` should be what `naskit.diff_manifests(mine, colleague)` returns"
    if "torch.num_threads" in fields:
        return "the thread counts still differ: set the colleague's to yours"
    if "versions.torch" not in fields:
        return "no torch version differs: give the colleague another torch version"
    return None


# --- 08 capstone -------------------------------------------------------------------------------------
def _spent_flops(df) -> list[float]:
    from naskit.runs.experiment import final_rows

    return [float(v) for v in final_rows(df)["cum_flops"]]


@exercise("08.ex1", asks="the experiment (what `experiment` returns) of the two strategies with twice the budget "
          "(`doubled`)", answer="doubled", context=("budget",))
def check_08_ex1(doubled, budget):
    if not hasattr(doubled, "columns") or "cum_flops" not in doubled:
        return "`doubled` should be what `experiment(...)` returns"
    spent = _spent_flops(doubled)
    if max(spent) > 2 * budget.flops * (1 + 1e-9):
        return f"a run spent {max(spent) / 1e9:.0f} GFLOPs, more than twice the budget"
    if max(spent) <= budget.flops:
        return "no run spent more than the lesson's budget: double BUDGET_TRAININGS"
    return None


@exercise("08.ex2", asks="the search with full-fidelity evaluation at the same FLOPs budget (`fair`, what `search` "
          "returns)", answer="fair", context=("budget", "final_epochs=FINAL_EPOCHS"))
def check_08_ex2(fair, budget, final_epochs):
    history = getattr(fair, "history", None)
    if history is None or "cum_flops" not in history:
        return "`fair` should be what `search(...)` returns"
    if float(history["cum_flops"].iloc[-1]) > budget.flops * (1 + 1e-9):
        return "the search spent more FLOPs than the lesson's budget"
    if "fidelity" in history and set(history["fidelity"].dropna()) - {final_epochs}:
        return f"candidates were trained for {sorted(set(history['fidelity']))} epochs, not {final_epochs}"
    return None


@exercise("08.ex3", asks="the experiment with another strategy of lesson 03 in place of the lesson's (`swapped`, what "
          "`experiment` returns)", answer="swapped", context=("strategy=STRATEGY",))
def check_08_ex3(swapped, strategy):
    if not hasattr(swapped, "columns") or "strategy" not in swapped:
        return "`swapped` should be what `experiment(...)` returns"
    others = set(swapped["strategy"]) - {strategy, "random"}
    return None if others else f"no strategy other than {strategy!r} and random search ran"
