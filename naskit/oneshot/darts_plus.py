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

from naskit.data import Dataset
from naskit.oneshot.config import OneShotConfig, OneShotResult
from naskit.oneshot.darts import Mixture, bilevel_search
from naskit.space import NUM_EDGES


def search_darts_plus(data: Dataset, config: OneShotConfig | None = None,
                      max_skip_connects: int = 2) -> OneShotResult:
    """First-order DARTS that stops after the first epoch whose argmax cell holds at least
    ``max_skip_connects`` ``skip_connect`` edges (``result.stopped_early`` then says so when
    epochs were left).

    Args:
        data, config: as for ``search_darts``.
        max_skip_connects: the skip count that stops the search (Liang et al.: 2), 1..6.
    """
    if isinstance(max_skip_connects, bool) or not isinstance(max_skip_connects, int) \
            or not 1 <= max_skip_connects <= NUM_EDGES:
        raise ValueError(f"max_skip_connects must be a whole number in 1..{NUM_EDGES}, got {max_skip_connects!r}")

    def too_many_skips(log) -> bool:
        return round(log.skip_share * NUM_EDGES) >= max_skip_connects

    return bilevel_search("darts+", data, config, Mixture(), stop=too_many_skips)
