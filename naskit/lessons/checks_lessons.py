"""The checks of the exercises of lessons 00-10, one per exercise, keyed by its stable id.

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


@exercise("00.ex2", asks="the search's winner retrained for EPOCHS epochs (`best_long`, what `train` returns) and its "
          "validation accuracy minus the hand-picked cell's, in points (`gap`)",
          answer=("best_long", "gap"), context=("winner=best", "hand_picked=result", "epochs=EPOCHS"))
def check_00_ex2(answer, winner, hand_picked, epochs):
    best_long, gap = answer
    if not hasattr(best_long, "final_valid_acc"):
        return "`best_long` should be what `train(...)` returns"
    return first_hint(
        lambda: not_equal(str(best_long.arch), str(winner.arch), "the retrained cell (the search's winner)"),
        lambda: not_equal(best_long.epochs, epochs, "epochs of the retraining"),
        lambda: differs(gap, 100 * (best_long.final_valid_acc - hand_picked.final_valid_acc),
                        "the validation gap in points (winner minus hand-picked)", abs_tol=1e-6))


@exercise("00.ex3", asks="how many of the cells the sampling cell draws with SEED + 1 are among this run's candidates "
          "(`shared`, an int)", answer="shared", context=("candidates", "seed=SEED", "n_cells=N_CELLS"))
def check_00_ex3(shared, candidates, seed, n_cells):
    import random

    space = _space()
    rng = random.Random(seed + 1)  # the sampling cell's generator with the other seed
    other = {str(space.sample(rng)) for _ in range(n_cells)}
    return differs(shared, len(other & {str(c) for c in candidates}), "candidates shared with SEED + 1", rel=0)


# --- 01 search spaces --------------------------------------------------------------------------------
@exercise("01.ex1", asks="the cells that contain no convolution (`no_conv`: a list of cells, or how many)",
          answer="no_conv")
def check_01_ex1(no_conv):
    expected = sum(not CONVOLUTIONS & set(a.ops) for a in _space())
    if hasattr(no_conv, "__len__"):
        if any(CONVOLUTIONS & set(_space().parse(str(a)).ops) for a in no_conv):
            return "`no_conv` holds a cell with a convolution"
        no_conv = len(set(map(str, no_conv)))
    return differs(no_conv, expected, "cells without a convolution", rel=0)


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


@exercise("01.ex3", asks="the all-`none` cell's neighbours that are connected (`connected`: a list of cells, or how "
          "many)", answer="connected")
def check_01_ex3(connected):
    space = _space()
    empty = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    expected = {str(n) for n in space.neighbors(empty) if n.is_connected()}
    if hasattr(connected, "__len__"):
        wrong = {str(a) for a in connected} - expected
        if wrong:
            return f"{sorted(wrong)[0]} is not a connected neighbour of the all-none cell"
        connected = len({str(a) for a in connected})
    return differs(connected, len(expected), "connected neighbours", rel=0)


# --- 02 the cost of NAS ------------------------------------------------------------------------------
@exercise("02.ex1", asks="naskit's GPU-day estimate for the benchmark as planned at 5 % GPU utilisation (`at_5`, "
          "in GPU-days)", answer="at_5", context=("bench",))
def check_02_ex1(at_5, bench):
    import numpy as np

    from naskit.cost.energy import gpu_hours

    flops = bench.meta["build"]["planned_runs"] * float(np.mean(bench.train_flops + bench.eval_flops))
    return differs(at_5, gpu_hours(flops, utilization=0.05) / DAY_HOURS, "GPU-days at 5 %", rel=1e-3)


@exercise("02.ex2", asks="the DARTS search you ran (`d`, what `search_darts` returns) and how many evaluations of the "
          "lesson's cell its CPU seconds pay for (`evaluations_per_darts`, a number)",
          answer=("d", "evaluations_per_darts"), context=("evaluation=r",))
def check_02_ex2(answer, evaluation):
    darts_search, ratio = answer
    if getattr(darts_search, "method", None) != "darts":
        return "`d` should be what `search_darts(...)` returns"
    return differs(ratio, darts_search.cpu_seconds / evaluation.cpu_seconds,
                   "the DARTS search's CPU seconds / one evaluation's", rel=1e-3)


# --- 03 search strategies ----------------------------------------------------------------------------
def _final_means(strategies, evaluator, seeds, evaluations: int) -> dict[str, float]:
    from naskit.runs.budget import Budget
    from naskit.runs.experiment import experiment, final_table

    df = experiment(strategies, evaluator, seeds=seeds, budget=Budget(evaluations=evaluations), progress=False)
    return final_table(df)["mean"].to_dict()


@exercise("03.ex1", asks="the final table (`final_table`) of the lesson's strategies at half the budget, BUDGET // 2 "
          "evaluations (`half`)", answer="half",
          context=("evaluator", "seeds=SEEDS", "strategies=STRATEGIES", "budget=BUDGET"))
def check_03_ex1(half, evaluator, seeds, strategies, budget):
    expected = _final_means(list(strategies), evaluator, seeds, budget // 2)  # run again with half the budget
    return _means_match(half, expected, "the half-budget table")


@exercise("03.ex2", asks="the final table of regularized evolution with population 10 / sample 3 and with 50 / 10, "
          "over the lesson's seeds and budget (`re_table`)", answer="re_table",
          context=("evaluator", "seeds=SEEDS", "budget=BUDGET"))
def check_03_ex2(re_table, evaluator, seeds, budget):
    variants = {"population 10, sample 3": {"strategy": "evolution", "population_size": 10, "sample_size": 3},
                "population 50, sample 10": {"strategy": "evolution", "population_size": 50, "sample_size": 10}}
    expected = _final_means(variants, evaluator, seeds, budget)
    return _means_match(re_table, expected, "the table of the two settings")


@exercise("03.ex3", asks="per strategy, the seeds needed for a 95 % confidence interval of the mean final test "
          "accuracy with a half-width of 0.1 points, from the spread of the runs above (`needed`, a dict or Series "
          "keyed by strategy)", answer="needed", context=("last",))
def check_03_ex3(needed, last):
    got, hint = _mapping(needed, "`needed`")
    if hint:
        return hint
    std = last.groupby("strategy")["final_test_of_best"].std()
    for strategy, sigma in std.items():
        expected = (1.96 * sigma / 0.001) ** 2  # half-width 1.96 * sigma / sqrt(n) = 0.1 points = 0.001
        if strategy not in got:
            return f"`needed` has no entry for {strategy!r}"
        if expected > 8 and differs(got[strategy], 4 * expected, "", rel=0.05) is None:
            return f"{strategy}: {got[strategy]:.0f} seeds gives a full width of 0.1 points; the half-width is asked"
        hint = differs(got[strategy], expected, f"seeds for {strategy}", rel=0.05, abs_tol=2)
        if hint:
            return hint
    return None


# --- 04 cheap estimation -----------------------------------------------------------------------------
@exercise("04.ex1", asks="the low-fidelity estimate with the most Spearman ρ per simulated second (`top`: its row "
          "label in the report, or its number of epochs)", answer="top", context=("low",))
def check_04_ex1(top, low):
    expected = str((low["spearman"] / low["sim_seconds_per_arch"]).idxmax())  # "valid acc @ epoch 1"
    if isinstance(top, (int, float)) and not isinstance(top, bool):
        return differs(top, int(expected.split()[-1]), "epochs of the best estimate per simulated second", rel=0)
    return not_equal(str(top), expected, "the estimate with the most ρ per simulated second")


@exercise("04.ex2", asks="the zero-cost proxy the search of section 6 uses instead of synflow: the one with the "
          "highest Spearman ρ, or the runner-up when that is synflow (`choice`, its name)", answer="choice",
          context=("proxy_rho",))
def check_04_ex2(choice, proxy_rho):
    ranked = proxy_rho.sort_values(ascending=False)
    expected = [name for name in ranked.index if name != "synflow"][0]
    return not_equal(str(choice), str(expected), "the proxy with the highest ρ other than synflow")


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


@exercise("05.ex3", asks="the ranking study correlated against the benchmark's validation accuracy (`on_valid`, a "
          "DataFrame like the study's)", answer="on_valid", context=("study", "bench"))
def check_05_ex3(on_valid, study, bench):
    from naskit.oneshot.ranking import against

    if not hasattr(on_valid, "columns") or "spearman" not in on_valid:
        return "`on_valid` should be a DataFrame with a `spearman` column per checkpoint"
    expected = against(study, bench, truth="valid_acc")
    if len(on_valid) != len(expected):
        return f"`on_valid` should have one row per checkpoint ({len(expected)})"
    worst = float(abs(on_valid["spearman"].to_numpy() - expected["spearman"].to_numpy()).max())
    return None if worst <= 1e-9 else "these are not the correlations against `valid_acc` (against `test_acc`?)"


# --- 06 differentiable NAS ---------------------------------------------------------------------------
@exercise("06.ex1", asks="the distinct cells DARTS found over the seeds of section 4 (`cells`, a set of NB201 "
          "strings)", answer="cells", context=("runs=oneshot['darts']",))
def check_06_ex1(cells, runs):
    if isinstance(cells, str) or not hasattr(cells, "__iter__"):
        return "`cells` should be a set (or list) of NB201 strings"
    if len({r.config.seed for r in runs}) != len(runs):
        return "section 4's DARTS runs should each have their own seed"
    return not_equal(set(map(str, cells)), {str(r.arch) for r in runs}, "the distinct cells found")


@exercise("06.ex2", asks="GDAS run with `tau_min=1.0` (`warm`, what `search_gdas` returns)", answer="warm",
          context=("config",))
def check_06_ex2(warm, config):
    if getattr(warm, "method", None) != "gdas":
        return "`warm` should be what `search_gdas(...)` returns"
    return first_hint(lambda: not_equal(warm.config.tau_min, 1.0, "tau_min"),
                      lambda: not_equal(warm.config.epochs, config.epochs, "epochs (keep the lesson's config)"))


@exercise("06.ex3", asks="the share of a DARTS search's search-step FLOPs spent in architecture steps (`share`, a "
          "fraction)", answer="share", context=("data", "config", "epochs=EPOCHS"))
def check_06_ex3(share, data, config, epochs):
    # First-order DARTS (naskit.oneshot.darts): per training batch one weight step, then one
    # architecture step on the next validation batch, both through the whole mixture and counted
    # alike per example (naskit.oneshot.common.OneShotRun.loss), so the share is the share of
    # examples. Validation batches come from permutations of the split, split into batch_size pieces.
    n_train, n_valid, size = len(data.y_train), len(data.y_valid), config.batch_size
    steps = epochs * -(-n_train // size)
    cycle = [size] * (n_valid // size) + ([n_valid % size] if n_valid % size else [])
    valid_seen = sum(cycle) * (steps // len(cycle)) + sum(cycle[: steps % len(cycle)])
    return differs(share, valid_seen / (valid_seen + epochs * n_train),
                   "the architecture steps' share of the search FLOPs", abs_tol=0.01)


# --- 07 reproducibility ------------------------------------------------------------------------------
@exercise("07.ex1", asks="the spread of the search outcome at three times the budget (`wider`, what "
          "`variance.search_spread` returns)", answer="wider",
          context=("bench", "seed=SEED", "n_seeds=N_SEEDS", "budget=BUDGET"))
def check_07_ex1(wider, bench, seed, n_seeds, budget):
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.repro import variance
    from naskit.runs.budget import Budget
    from naskit.runs.experiment import experiment

    if not hasattr(wider, "columns") or "std" not in wider:
        return "`wider` should be what `variance.search_spread(...)` returns"
    df = experiment(["random", "evolution"], TabularEvaluator(bench), seeds=range(seed, seed + n_seeds),
                    budget=Budget(evaluations=3 * budget), progress=False)
    expected = variance.search_spread(df)
    if len(wider) != len(expected) or float(abs(wider["std"].to_numpy() - expected["std"].to_numpy()).max()) > 1e-9:
        return "the spread differs from the lesson's two strategies at 3 x BUDGET evaluations over its seeds"
    return None


@exercise("07.ex2", asks="the seeds per strategy a gap the size of the one above would need to be two standard errors "
          "of the difference of the two means (`needed`, a number)", answer="needed", context=("last",))
def check_07_ex2(needed, last):
    finals = [g["final_test_of_best"].to_numpy() for _, g in last.groupby("strategy")]
    if len(finals) != 2:
        return "section 3 should compare two strategies"
    gap = finals[0].mean() - finals[1].mean()
    sigma2 = (finals[0].var(ddof=1) + finals[1].var(ddof=1)) / 2
    # n seeds each: the difference of the means has standard error sigma * sqrt(2 / n); 2 of them = gap
    return differs(needed, 8 * sigma2 / max(gap ** 2, 1e-24), "seeds per strategy (8 sigma^2 / gap^2)", rel=0.05,
                   abs_tol=1)


@exercise("07.ex3", asks="the diff of your manifest and the colleague's once their thread count is yours and their "
          "torch version another (`rows`, what `diff_manifests` returns)", answer="rows")
def check_07_ex3(rows):
    try:
        fields = {row["field"] for row in rows}
    except (TypeError, KeyError):
        return "`rows` should be what `naskit.diff_manifests(mine, colleague)` returns"
    if "torch.num_threads" in fields:
        return "the thread counts still differ: set the colleague's to yours"
    if "versions.torch" not in fields:
        return "no torch version differs: give the colleague another torch version"
    return None


# --- 08 capstone -------------------------------------------------------------------------------------
@exercise("08.ex1", asks="how many test images apart the two strategies' mean final test accuracies are "
          "(`gap_images`, a number)", answer="gap_images", context=("last", "n_test"))
def check_08_ex1(gap_images, last, n_test):
    means = last.groupby("strategy")["final_test_acc"].mean().to_numpy()
    if len(means) != 2:
        return "section 3 should compare two strategies"
    return differs(abs(float(gap_images)), abs(means[0] - means[1]) * n_test, "test images between the means",
                   abs_tol=1e-6)


@exercise("08.ex2", asks="the search with full-fidelity evaluation at the same FLOPs budget (`fair`, what `search` "
          "returns)", answer="fair", context=("budget", "final_epochs=FINAL_EPOCHS"))
def check_08_ex2(fair, budget, final_epochs):
    history = getattr(fair, "history", None)
    if history is None or "cum_flops" not in history:
        return "`fair` should be what `search(...)` returns"
    if fair.settings.get("budget", {}).get("flops") != budget.flops:
        return "search with the lesson's budget in FLOPs (`budget`)"
    epochs = {int(e) for e in history["fidelity"].dropna()} or {fair.settings.get("evaluator", {}).get("epochs")}
    return not_equal(epochs, {final_epochs}, "epochs each candidate was trained (full fidelity)")


@exercise("08.ex3", asks="a search with another strategy of lesson 03 in place of the lesson's, on its evaluator "
          "and budget (`local`, what `search` returns)", answer="local", context=("strategy=STRATEGY", "budget"))
def check_08_ex3(local, strategy, budget):
    settings = getattr(local, "settings", None)
    if not isinstance(settings, dict) or "strategy" not in settings:
        return "`local` should be what `search(...)` returns"
    name = settings["strategy"]["name"]
    if name in (strategy, "random"):
        return f"the search ran {name!r}: pick another strategy of lesson 03"
    return not_equal(settings["budget"]["flops"], budget.flops, "the budget in FLOPs (the lesson's)")


# --- 09 cost of the network --------------------------------------------------------------------------
@exercise("09.ex1", asks="the true front by latency at batch 256 (`front_256`, what `true_front` returns) and how many "
          "of its classes are also on the front at batch 1 (`both`, a number)", answer=("front_256", "both"),
          context=("bench",))
def check_09_ex1(answer, bench):
    from naskit.bench.front import true_front

    front_256, both = answer
    if not hasattr(front_256, "columns") or "entry" not in front_256:
        return "`front_256` should be what `true_front(bench, (\"latency_ms_b256\",))` returns"
    expected = set(true_front(bench, ("latency_ms_b256",))["entry"])
    at_1 = set(true_front(bench, ("latency_ms_b1",))["entry"])
    return first_hint(
        lambda: None if set(front_256["entry"]) == expected else (
            f"`front_256` has {len(front_256)} classes, the true front by latency_ms_b256 {len(expected)}: "
            "is it the front by latency at batch 256?"),
        lambda: differs(both, len(expected & at_1), "classes on both fronts", rel=0))


@exercise("09.ex2", asks="per multi-objective strategy, its mean hypervolume share against parameters minus random "
          "search's, as a fraction (`gain`, a dict keyed by strategy)", answer="gain",
          context=("bench", "mo", "seed=SEED", "n_seeds=N_SEEDS", "budget", "grid", "one"))
def check_09_ex2(gain, bench, mo, seed, n_seeds, budget, grid, one):
    from naskit.bench.front import judge_runs
    from naskit.evaluators.tabular import TabularEvaluator
    from naskit.runs.experiment import experiment

    got, hint = _mapping(gain, "`gain`")
    if hint:
        return hint
    by_params = {label: {**options, "costs": ["params"]} if "costs" in options else options
                 for label, options in mo.items()}  # the lesson's searches, parameters as their cost
    runs = experiment(by_params, TabularEvaluator(bench), seeds=range(seed, seed + n_seeds), budget=budget,
                      progress=False)
    scores = judge_runs(bench, runs, ["params"], grid * one)
    base = scores["random"]["share"].mean()
    for label, s in scores.items():
        if label == "random":
            continue
        if label not in got:
            return f"`gain` has no entry for {label!r}"
        hint = differs(got[label], s["share"].mean() - base, f"{label}'s hypervolume share gain over random search",
                       abs_tol=1e-9)
        if hint:
            return hint
    return None


@exercise("09.ex3", asks="the points of test accuracy the latency limit costs: the best cell of the space minus the "
          "best cell under the limit (`price`, a number in points)", answer="price",
          context=("bench", "limit", "cost=COST"))
def check_09_ex3(price, bench, limit, cost):
    import numpy as np

    from naskit.bench.front import best_under

    fits = best_under(bench, {cost: limit})
    best = float(np.nanmax(bench.class_values("test_acc")))
    return differs(price, 100 * (best - fits["test_acc"]), "points of accuracy the limit costs", abs_tol=1e-6)


# --- 10 parallel multi-fidelity ----------------------------------------------------------------------
def _cluster_means(strategies, evaluator, n_seeds: int, budget, workers: int) -> dict[str, float]:
    """The mean final test accuracy per strategy of ``n_seeds`` searches on ``workers`` simulated workers."""
    from naskit.runs.experiment import experiment, final_table
    from naskit.runs.simulated import SimulatedWorkers

    df = experiment(strategies, evaluator, seeds=range(n_seeds), budget=budget, evaluate_on=SimulatedWorkers(workers),
                    workers=workers, progress=False)
    return final_table(df)["mean"].to_dict()


def _experiment_matches(df: Any, expected: dict[str, float], what: str) -> str | None:
    """A hint unless ``df``, what ``experiment`` returns, has each expected strategy's mean final accuracy."""
    from naskit.runs.experiment import final_table

    if not hasattr(df, "columns") or "strategy" not in df:
        return f"{what} should be what `experiment(...)` returns"
    if df["strategy"].nunique() != len(expected):
        return f"{what}: the exercise compares {len(expected)} searches, the answer has {df['strategy'].nunique()}"
    return _means_match(final_table(df), expected, what)


@exercise("10.ex1", asks="ASHA with eta = 2 and with eta = 4 on WORKERS workers, over the seeds of section 3 "
          "(`eta4`, what `experiment` returns)", answer="eta4",
          context=("evaluator", "n_seeds=N_SEEDS", "compute=COMPUTE", "workers=WORKERS", "multi=MULTI"))
def check_10_ex1(eta4, evaluator, n_seeds, compute, workers, multi):
    from naskit.runs.budget import Budget

    variants = {"eta 2": {"strategy": "asha", **multi}, "eta 4": {"strategy": "asha", "eta": 4, **multi}}
    expected = _cluster_means(variants, evaluator, n_seeds, Budget(sim_seconds=compute), workers)
    return _experiment_matches(eta4, expected, "the two ASHA runs")


@exercise("10.ex2", asks="BOHB with HpBandSter's kernel and with `bandwidth_rule=\"gini\"` on WORKERS workers, over "
          "the seeds of section 3 (`kernels`, what `experiment` returns)", answer="kernels",
          context=("evaluator", "n_seeds=N_SEEDS", "compute=COMPUTE", "workers=WORKERS", "multi=MULTI"))
def check_10_ex2(kernels, evaluator, n_seeds, compute, workers, multi):
    from naskit.runs.budget import Budget

    variants = {"hpbandster": {"strategy": "bohb", **multi},
                "gini": {"strategy": "bohb", "bandwidth_rule": "gini", **multi}}
    expected = _cluster_means(variants, evaluator, n_seeds, Budget(sim_seconds=compute), workers)
    return _experiment_matches(kernels, expected, "the two BOHB kernels")


@exercise("10.ex3", asks="synchronous successive halving (128 configurations) and ASHA with the same wall-clock "
          "budget, COMPUTE / WORKERS simulated seconds, on WORKERS workers (`same_time`, what `experiment` returns)",
          answer="same_time",
          context=("evaluator", "n_seeds=N_SEEDS", "compute=COMPUTE", "workers=WORKERS", "multi=MULTI"))
def check_10_ex3(same_time, evaluator, n_seeds, compute, workers, multi):
    from naskit.runs.budget import Budget

    variants = {"sh": {"strategy": "sh", "n_configs": 128, **multi}, "asha": {"strategy": "asha", **multi}}
    expected = _cluster_means(variants, evaluator, n_seeds, Budget(sim_wall_seconds=compute / workers), workers)
    return _experiment_matches(same_time, expected, "the two searches with the same wall-clock")
