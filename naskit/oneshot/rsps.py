"""Random search with parameter sharing (RSPS; Li & Talwalkar, UAI 2019).

Train one supernet by sampling, for every minibatch, a uniformly random cell and taking an
SGD step on that single path only (the uniform single-path training of SPOS, Guo et al.
2020). No architecture parameters are learned: the supernet is meant to be a cheap
*evaluator*. After training, ``num_candidates`` random cells (drawn once, before training,
from the search's seeded ``random.Random``) inherit the supernet's weights and are ranked by
their validation accuracy; the best one is the result (NAS-Bench-201's RSPS ranks 100).

How a cell inherits an accuracy (``rank``): its single path runs with the supernet's
weights, with no fine-tuning. The mixed ops' BN layers keep no running statistics
(NB201's ``track_running_stats=False``), so they normalise with each batch's statistics; the
skeleton's BN layers do the same here, since their running averages mix every path the
supernet ever ran (``common.accuracy``). Batches are validation batches of ``batch_size``,
and nothing in the supernet changes.

Example:
    >>> from naskit import load_dataset
    >>> result = search_rsps(load_dataset("mnist1d").subset(128),
    ...                      OneShotConfig(epochs=1, channels=4, num_candidates=3))
    >>> len(result.ranking) <= 3, result.ranking[str(result.arch)] == max(result.ranking.values())
    (True, True)
"""

from __future__ import annotations

import random
from dataclasses import replace

from naskit.cost import Stopwatch
from naskit.data import Dataset
from naskit.oneshot.common import SearchRun, accuracy, skip_share, torch_threads
from naskit.oneshot.config import EpochLog, OneShotConfig, OneShotResult
from naskit.space import NUM_EDGES, OPS, Arch, NB201Space, parse
from naskit.supernet import SuperNet


def uniform() -> list[list[float]]:
    """The (6, 5) distribution RSPS samples cells from: every op equally likely on every edge."""
    return [[1.0 / len(OPS)] * len(OPS) for _ in range(NUM_EDGES)]


def search_rsps(data: Dataset, config: OneShotConfig | None = None, on_epoch=None) -> OneShotResult:
    """Train a supernet on uniformly random paths, then pick the best of random candidates.

    Args:
        data: a ``Dataset``: weights learn on ``x_train``, candidates are ranked on ``x_valid``.
        config: the ``OneShotConfig``; ``num_candidates`` cells are ranked.
        on_epoch: called as ``on_epoch(epoch, run)`` after each epoch (``run.supernet`` is
            the supernet so far), e.g. to follow how its ranking improves with training.

    Returns:
        A ``OneShotResult`` with every candidate's inherited accuracy in ``ranking``. The
        history's ``valid_acc``, ``arch`` and ``skip_share`` are set after the last epoch only
        (ranking is the expensive part); ``supernet_valid_acc`` uses a random path per batch.
    """
    config = config or OneShotConfig()
    space, rng = NB201Space(), random.Random(config.seed)
    history: list[EpochLog] = []
    with torch_threads(config.threads), Stopwatch() as watch:
        run = SearchRun(data, config)
        candidates = [space.sample(rng) for _ in range(config.num_candidates)]
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
        accs = [run.valid_accuracy(lambda a=a: {"arch": a}) for a in candidates]
    ranking = {str(a): acc for a, acc in zip(candidates, accs)}
    best = candidates[max(range(len(accs)), key=accs.__getitem__)]  # the first of ties
    history[-1] = replace(history[-1], valid_acc=ranking[str(best)], arch=str(best), skip_share=skip_share(best),
                          eval_flops=run.eval_flops)  # the ranking included
    return OneShotResult(
        "rsps", best, config, history, ranking=ranking,
        wall_seconds=watch.wall_seconds, cpu_seconds=watch.cpu_seconds,
        search_flops=run.search_flops, eval_flops=run.eval_flops, supernet=run.supernet,
        eval_wall_seconds=run.eval_watch.wall_seconds, eval_cpu_seconds=run.eval_watch.cpu_seconds,
    )


def rank(supernet: SuperNet, archs: list[Arch | str], data: Dataset, batch_size: int = 64) -> list[float]:
    """Inherited validation accuracy of each cell: its single path with the supernet's weights.

    Nothing is trained or changed: BN uses the statistics of each validation batch of
    ``batch_size`` (see the module docstring), and the supernet's buffers are restored.

    Example:
        >>> from naskit import load_dataset
        >>> from naskit.supernet import build_supernet
        >>> supernet = build_supernet(channels=4, seed=0)
        >>> accs = rank(supernet, ["|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"],
        ...             load_dataset("mnist1d"))
        >>> len(accs), 0.0 <= accs[0] <= 1.0
        (1, True)
    """
    device = next(supernet.parameters()).device
    x, y = data.x_valid.to(device), data.y_valid.to(device)
    archs = [parse(a) if isinstance(a, str) else a for a in archs]
    return [accuracy(supernet, x, y, lambda a=a: {"arch": a}, batch_size) for a in archs]
