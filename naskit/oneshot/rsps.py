"""Random search with parameter sharing (RSPS; Li & Talwalkar, UAI 2019), as NAS-Bench-201 runs it.

Train one supernet by sampling, for every minibatch, a uniformly random cell and taking an
SGD step on that single path only (the uniform single-path training of SPOS, Guo et al.
2020). No architecture parameters are learned: the supernet is meant to be a cheap
*evaluator*. After training, ``num_candidates`` random cells inherit the supernet's weights,
with no fine-tuning, and the one that scores best is the result.

How a candidate is scored follows the reference, NAS-Bench-201's RSPS
(D-X-Y/AutoDL-Projects, ``exps/NAS-Bench-201-algos/RANDOM-NAS.py``, ``search_find_best``;
NATS-Bench's ``get_best_arch`` in ``exps/NATS-algos/search-cell.py`` does the same): after
training it draws 100 random cells and scores each on ONE batch of the shuffled validation
loader (512 examples; candidate i gets the loader's i-th batch, and the loader starts again,
reshuffled, when it runs out), with the network in eval mode and without gradients. In eval
mode the mixed ops' BN, which keeps no running statistics, normalises with that batch's
statistics, and the skeleton's BN (stem, reductions, head) uses the running statistics it
gathered in training. That is the default here (``candidate_scoring="one_batch"``). One batch
is a noisy score, and two candidates are compared on different examples.

``candidate_scoring="whole_split"`` is naskit's variant, and it changes two things: every
candidate is scored on the whole validation split, in batches of ``batch_size``, so all of
them are compared on the same examples; and the skeleton's BN normalises with each batch's
statistics too, instead of running statistics averaged over every path trained
(``common.accuracy``; nothing in the supernet changes). It is not the published protocol, so
its results are not comparable with the published tables (NB201: RSPS 87.66 % on CIFAR-10,
against 94.37 % for the best cell); which of the two ranks better is an empirical question
(``ranking.ranking_quality`` measures either).

The candidates (``candidates``) are distinct cells, as NATS-Bench's ``random.sample`` draws
them (NB201's script draws each one independently, so a cell can come twice). They are drawn
after training from a stream of the search's seed of their own, so training does not depend
on how many are ranked, and a longer list starts with a shorter one: ``rsps_from`` ranks more
candidates, or scores them the other way, with the supernet of a finished search, and gets
exactly what a new search would.

Example:
    >>> from naskit import load_dataset
    >>> result = search_rsps(load_dataset("mnist1d").subset(128),
    ...                      OneShotConfig(epochs=1, channels=4, num_candidates=3))
    >>> len(result.ranking), result.ranking[str(result.arch)] == max(result.ranking.values())
    (3, True)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

import torch

from naskit.core.checks import as_arch, check_whole
from naskit.core.space import NUM_EDGES, OPS, Arch, NB201Space, parse
from naskit.cost.stopwatch import Stopwatch
from naskit.data import Dataset
from naskit.nn.supernet import SuperNet
from naskit.oneshot.common import OneShotRun, PathFlops, accuracy, skip_share
from naskit.oneshot.config import EpochLog, OneShotConfig, OneShotResult
from naskit.runtime.threads import threads_set

RANKING_FIELDS = ("num_candidates", "candidate_scoring", "rank_batch_size")  # what training ignores


def uniform() -> list[list[float]]:
    """The (6, 5) distribution RSPS samples cells from: every op equally likely on every edge."""
    return [[1.0 / len(OPS)] * len(OPS) for _ in range(NUM_EDGES)]


def candidates(num_candidates: int, seed: int = 0) -> list[Arch]:
    """``num_candidates`` distinct uniformly random cells: the ones RSPS ranks for ``seed``.

    Drawn one at a time from a ``random.Random`` of their own (not the training's), skipping
    repeats: every set of distinct cells is equally likely, as with NATS-Bench's
    ``random.sample``, and a longer list starts with a shorter one.

    Example:
        >>> first = candidates(3, seed=0)
        >>> candidates(5, seed=0)[:3] == first, len(set(first))
        (True, 3)
    """
    space = NB201Space()
    check_whole("num_candidates", num_candidates, 1, len(space))
    rng = random.Random(f"rsps candidates, seed {seed}")
    drawn: dict[Arch, None] = {}  # insertion-ordered set
    while len(drawn) < num_candidates:
        drawn.setdefault(space.sample(rng), None)
    return list(drawn)


def search_rsps(data: Dataset, config: OneShotConfig | None = None, on_epoch=None) -> OneShotResult:
    """Train a supernet on uniformly random paths, then pick the best of random candidates.

    Args:
        data: a ``Dataset``: weights learn on ``x_train``, candidates are ranked on ``x_valid``.
        config: the ``OneShotConfig``; ``num_candidates`` cells are ranked, scored as
            ``candidate_scoring`` says (see the module docstring).
        on_epoch: called as ``on_epoch(epoch, run)`` after each epoch (``run.supernet`` is
            the supernet so far), e.g. to follow how its ranking improves with training.

    Returns:
        A ``OneShotResult`` with every candidate's score in ``ranking``, in the order drawn.
        The history's ``valid_acc`` (the chosen cell's score), ``arch`` and ``skip_share``
        are set after the last epoch only (ranking is the expensive part);
        ``supernet_valid_acc`` uses a random path per validation batch.
    """
    config = config or OneShotConfig()
    space, rng = NB201Space(), random.Random(config.seed)  # rng: the training's random paths
    history: list[EpochLog] = []
    with threads_set(config.threads), Stopwatch() as watch:
        run = OneShotRun(data, config)
        for epoch in range(config.epochs):
            losses = [run.weight_step(idx, {"arch": space.sample(rng)}) for idx in run.train_batches()]
            history.append(EpochLog(
                epoch=epoch + 1, train_loss=sum(losses) / len(losses), arch_loss=None, valid_acc=None,
                supernet_valid_acc=run.valid_accuracy(lambda: {"arch": space.sample(rng)}),
                arch=None, arch_weights=uniform(), skip_share=None, schedule={"w_lr": run.w_lr},
                search_flops=run.search_flops, eval_flops=run.eval_flops,  # after the evaluation above
            ))
            if on_epoch is not None:
                on_epoch(epoch + 1, run)
        with run.eval_watch:  # after training: how many are ranked cannot change it
            ranking = _ranking(run.supernet, run.xv, run.yv, config, tally=run.tally_eval)
    best, history = _select(ranking, history, run.eval_flops)
    return OneShotResult(
        "rsps", best, config, history, ranking=ranking,
        wall_seconds=watch.wall_seconds, cpu_seconds=watch.cpu_seconds,
        search_flops=run.search_flops, eval_flops=run.eval_flops, supernet=run.supernet,
        eval_wall_seconds=run.eval_watch.wall_seconds, eval_cpu_seconds=run.eval_watch.cpu_seconds,
    )


def rank(supernet: SuperNet, archs: list[Arch | str], data: Dataset,
         config: OneShotConfig | None = None) -> list[float]:
    """Inherited validation accuracy of each cell: its single path with the supernet's weights.

    Scored as ``config.candidate_scoring`` says (see the module docstring): ``"one_batch"``
    (the default, NB201's protocol) gives cell i the i-th batch of ``rank_batch_size``
    examples of a shuffled validation split (``config.seed`` sets the shuffle); ``"whole_split"``
    the whole split in batches of ``batch_size``. Nothing in the supernet changes, so with a
    search's config and ``candidates(config.num_candidates, config.seed)`` this gives back the
    search's ``ranking``; any other cells can be ranked the same way, without training again.

    Example:
        >>> from naskit import load_dataset
        >>> from naskit.nn.supernet import build_supernet
        >>> supernet = build_supernet(channels=4, seed=0)
        >>> accs = rank(supernet, ["|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"],
        ...             load_dataset("mnist1d"))
        >>> len(accs), 0.0 <= accs[0] <= 1.0
        (1, True)
    """
    config = config or OneShotConfig()
    device = next(supernet.parameters()).device
    x, y = data.x_valid.to(device), data.y_valid.to(device)
    archs = [as_arch(a) for a in archs]
    return _scores(supernet, archs, x, y, config)


class ShuffledBatches:
    """``(x, y)`` in batches of ``batch_size``, in a fresh random order on every pass: NB201's
    ``valid_loader`` (a ``DataLoader`` over a ``SubsetRandomSampler``), from a stream of ``seed``."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.shuffle = random.Random(f"rsps validation order, seed {seed}")

    def __iter__(self):
        order = list(range(len(self.y)))
        self.shuffle.shuffle(order)
        for b in torch.tensor(order, device=self.y.device).split(self.batch_size):
            yield self.x[b], self.y[b]


def one_batch_scores(supernet: SuperNet, archs: list[Arch], loader,
                     tally: Callable[[dict, int], None] | None = None) -> list[float]:
    """NB201's ``search_find_best``: cell i's accuracy on the next batch of ``loader`` (a new
    pass of it when one runs out), with the supernet in eval mode, without gradients."""
    scores = []
    was_training = supernet.training
    supernet.eval()  # eval mode changes no BN buffer
    try:
        with torch.no_grad():
            batches = iter(loader)
            for arch in archs:
                xb, yb = next(batches, (None, None))
                if xb is None:  # the loader is used up: start a new pass
                    batches = iter(loader)
                    xb, yb = next(batches)
                if tally is not None:
                    tally({"arch": arch}, len(yb))
                scores.append(int((supernet(xb, arch=arch).argmax(1) == yb).sum()) / len(yb))
    finally:
        supernet.train(was_training)
    return scores


def rsps_from(rsps: OneShotResult, data: Dataset, **ranking) -> OneShotResult:
    """The RSPS search with other ranking settings, read off a finished one without training again.

    Training does not depend on ``num_candidates``, ``candidate_scoring`` or
    ``rank_batch_size`` (the candidates are drawn after it, from a stream of their own), so
    ranking the candidates of ``replace(rsps.config, **ranking)`` with ``rsps.supernet`` gives
    what ``search_rsps(data, that config)`` would: the same cell, ranking, history and FLOPs.
    Seconds are the search's, with its ranking's time replaced by the new ranking's (both
    measured now: the old ranking is run again to time it).

    Args:
        rsps: an RSPS result that still holds its supernet (one read back from JSON does not).
        data: the dataset it searched.
        ranking: new values of ``num_candidates``, ``candidate_scoring``, ``rank_batch_size``.

    Example:
        >>> from naskit import load_dataset
        >>> data = load_dataset("mnist1d").subset(128)
        >>> rsps = search_rsps(data, OneShotConfig(epochs=1, channels=4, num_candidates=3))
        >>> wide = rsps_from(rsps, data, num_candidates=6)
        >>> list(wide.ranking)[:3] == list(rsps.ranking), wide.history[0].train_loss == rsps.history[0].train_loss
        (True, True)
    """
    if rsps.method != "rsps":
        raise ValueError(f"rsps_from takes an RSPS result, got a {rsps.method!r} one")
    if rsps.supernet is None:
        raise ValueError("this RSPS result holds no supernet (results read back from JSON do not): run search_rsps")
    unknown = sorted(set(ranking) - set(RANKING_FIELDS))
    if unknown:
        raise ValueError(f"rsps_from changes only the ranking ({', '.join(RANKING_FIELDS)}); "
                         f"training depends on {', '.join(unknown)}: run search_rsps with them")
    config, supernet = replace(rsps.config, **ranking), rsps.supernet
    device = next(supernet.parameters()).device
    x, y = data.x_valid.to(device), data.y_valid.to(device)
    flops = PathFlops.measure(supernet, data.x_train[:1].to(device))
    with threads_set(config.threads):
        _, old_flops, old_watch = _measured_ranking(supernet, x, y, rsps.config, flops)
        new, new_flops, new_watch = _measured_ranking(supernet, x, y, config, flops)
    eval_flops = rsps.eval_flops - old_flops + new_flops
    best, history = _select(new, rsps.history, eval_flops)
    return OneShotResult(
        "rsps", best, config, history, ranking=new,
        wall_seconds=rsps.wall_seconds - old_watch.wall_seconds + new_watch.wall_seconds,
        cpu_seconds=rsps.cpu_seconds - old_watch.cpu_seconds + new_watch.cpu_seconds,
        search_flops=rsps.search_flops, eval_flops=eval_flops, supernet=supernet,
        eval_wall_seconds=rsps.eval_wall_seconds - old_watch.wall_seconds + new_watch.wall_seconds,
        eval_cpu_seconds=rsps.eval_cpu_seconds - old_watch.cpu_seconds + new_watch.cpu_seconds,
    )


def _scores(supernet, archs, x, y, config, tally=None) -> list[float]:
    if config.candidate_scoring == "whole_split":
        return [accuracy(supernet, x, y, lambda a=a: {"arch": a}, config.batch_size, tally) for a in archs]
    return one_batch_scores(supernet, archs, ShuffledBatches(x, y, config.rank_batch_size, config.seed), tally)


def _ranking(supernet, x, y, config, tally=None) -> dict[str, float]:
    """Score of each of the config's candidates, by NB201 string, in the order drawn."""
    archs = candidates(config.num_candidates, config.seed)
    return {str(a): s for a, s in zip(archs, _scores(supernet, archs, x, y, config, tally))}


def _measured_ranking(supernet, x, y, config, flops: PathFlops) -> tuple[dict[str, float], int, Stopwatch]:
    """``_ranking`` with its forward FLOPs and seconds."""
    total = [0]

    def tally(mode: dict, examples: int) -> None:
        total[0] += flops.of(mode) * examples

    with Stopwatch() as watch:
        ranking = _ranking(supernet, x, y, config, tally)
    return ranking, total[0], watch


def _select(ranking: dict[str, float], history: list[EpochLog], eval_flops: int) -> tuple[Arch, list[EpochLog]]:
    """The best candidate (the first of ties) and the history with it in the last epoch's log."""
    best = max(ranking, key=ranking.__getitem__)  # max keeps the first of equal scores
    last = replace(history[-1], valid_acc=ranking[best], arch=best, skip_share=skip_share(parse(best)),
                   eval_flops=eval_flops)  # the ranking included
    return parse(best), [*history[:-1], last]
