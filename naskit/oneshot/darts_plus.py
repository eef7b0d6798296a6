"""DARTS+: stop DARTS early, before it collapses to skip connections (Liang et al. 2019).

Liang et al. observe that the skip connections in DARTS's cells multiply late in the search,
as the supernet's weights converge, and propose stopping the search when a cell holds two or
more ``skip_connect`` ops (their first criterion; their second, the ranking of the
architecture weights staying the same for 10 epochs, is not implemented). The derived cell
is the argmax cell of the epoch that triggered the stop.

Everything else is first-order DARTS, so up to that epoch a DARTS+ search follows exactly the
trajectory of a DARTS search with the same config.

Example:
    >>> from naskit import load_dataset
    >>> result = search_darts_plus(load_dataset("mnist1d").subset(128), OneShotConfig(epochs=1, channels=4))
    >>> result.method, len(result.history)
    ('darts+', 1)
"""

from __future__ import annotations

from naskit.core.checks import check_whole
from naskit.core.space import NUM_EDGES, parse
from naskit.data import Dataset
from naskit.oneshot.config import OneShotConfig, OneShotResult
from naskit.oneshot.darts import Mixture, bilevel_search


def _check_max_skips(max_skip_connects: int) -> None:
    check_whole("max_skip_connects", max_skip_connects, 1, NUM_EDGES)


def search_darts_plus(data: Dataset, config: OneShotConfig | None = None,
                      max_skip_connects: int = 2) -> OneShotResult:
    """First-order DARTS that stops after the first epoch whose argmax cell holds at least
    ``max_skip_connects`` ``skip_connect`` edges (``result.stopped_early`` then says so when
    epochs were left).

    Args:
        data, config: as for ``search_darts``.
        max_skip_connects: the skip count that stops the search (Liang et al.: 2), 1..6.
    """
    _check_max_skips(max_skip_connects)

    def too_many_skips(log) -> bool:
        return round(log.skip_share * NUM_EDGES) >= max_skip_connects

    return bilevel_search("darts+", data, config, Mixture(), stop=too_many_skips)


def darts_plus_from(darts: OneShotResult, max_skip_connects: int = 2) -> OneShotResult:
    """The DARTS+ search read off a finished DARTS search with the same config, without a run.

    Up to its stopping epoch DARTS+ follows DARTS's trajectory exactly, so its history is the
    DARTS history cut at the first epoch whose argmax cell holds ``max_skip_connects`` skip
    connections, and its cell is that epoch's (the whole DARTS run when none does). FLOPs are
    those of the DARTS run to the end of that epoch (``EpochLog.search_flops``/``eval_flops``);
    seconds are the DARTS run's, pro rata by epochs; the supernet at the stopping epoch was not
    kept (``supernet`` is None).
    """
    if darts.method != "darts":
        raise ValueError(f"darts_plus_from takes a DARTS result, got a {darts.method!r} one")
    _check_max_skips(max_skip_connects)
    history = darts.history
    stop = next((i for i, log in enumerate(history) if round(log.skip_share * NUM_EDGES) >= max_skip_connects),
                len(history) - 1)
    kept, share = history[:stop + 1], (stop + 1) / len(history)
    return OneShotResult(
        "darts+", parse(kept[-1].arch), darts.config, list(kept), stopped_early=len(kept) < darts.config.epochs,
        wall_seconds=darts.wall_seconds * share, cpu_seconds=darts.cpu_seconds * share,
        search_flops=kept[-1].search_flops, eval_flops=kept[-1].eval_flops,
        eval_wall_seconds=darts.eval_wall_seconds * share, eval_cpu_seconds=darts.eval_cpu_seconds * share,
    )
