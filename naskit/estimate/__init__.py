"""Cheap performance estimation: judge a cell without training it to the end.

``proxies``: zero-cost proxies, scores of an untrained network on one minibatch
(``synflow``, ``naswot``, ``snip``, ``grad_norm``, ``grasp``, ``fisher``, ``jacob_cov``, and
the ``params`` / ``flops`` baselines). ``evaluator``: ``ProxyEvaluator``, which lets any
search strategy run on a proxy instead of on training.

Example:
    >>> from naskit.estimate import PROXIES
    >>> sorted(PROXIES)[:3]
    ['fisher', 'flops', 'grad_norm']
"""

from naskit.estimate.proxies import PROXIES, compute_proxies
from naskit.evaluators.proxy import ProxyEvaluator

__all__ = ["PROXIES", "ProxyEvaluator", "compute_proxies"]
