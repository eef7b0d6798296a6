"""Cheap performance estimation: judge a cell without training it to the end.

``proxies``: zero-cost proxies, scores of an untrained network on one minibatch (``synflow``,
``naswot``, ``snip``, ``grad_norm``, ``grasp``, ``fisher``, ``jacob_cov``, and the ``params`` /
``flops`` baselines); ``curves``: learning-curve extrapolation; ``predictors``: surrogate models;
``correlate`` and ``report``: how well an estimate ranks against the benchmark; ``whole_space``:
every class scored by every proxy, resumable. The evaluators that let a search run on any of
these are in ``naskit.evaluators``.

Example:
    >>> from naskit.estimate import PROXIES
    >>> sorted(PROXIES)[:3]
    ['fisher', 'flops', 'grad_norm']
"""

from naskit.estimate.proxies import PROXIES, compute_proxies

__all__ = ["PROXIES", "compute_proxies"]
