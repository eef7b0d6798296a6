"""One-shot NAS: train one weight-sharing supernet instead of thousands of networks.

Every method takes a ``Dataset`` and a ``OneShotConfig`` and returns a ``OneShotResult``
(the derived cell, a per-epoch history and the search's cost), so they can be swapped
and compared:

===========  ==========================================================  ====================
``rsps``     random single paths, then best of N, one valid batch each    Li & Talwalkar 2019
``darts``    softmax mixture of all ops, alpha by gradient (first order)  Liu et al. 2019
``gdas``     one Gumbel-sampled path per step, straight-through gradient  Dong & Yang 2019
``darts-``   DARTS with a decaying auxiliary skip on every edge           Chu et al. 2021
``darts+``   DARTS stopped once the cell holds 2 skip connections         Liang et al. 2019
===========  ==========================================================  ====================

Weights learn on the training split, architecture parameters on the validation split; the
test split is never used. All randomness comes from ``config.seed``.

Example:
    >>> from naskit import load_dataset
    >>> config = OneShotConfig(epochs=1, channels=4, num_candidates=2)
    >>> result = METHODS["darts"](load_dataset("mnist1d").subset(128), config)
    >>> sorted(result.to_dict())[:3]
    ['arch', 'config', 'cpu_seconds']
"""

from naskit.oneshot.config import EpochLog, OneShotConfig, OneShotResult
from naskit.oneshot.darts import search_darts
from naskit.oneshot.darts_minus import search_darts_minus
from naskit.oneshot.darts_plus import darts_plus_from, search_darts_plus
from naskit.oneshot.gdas import search_gdas
from naskit.oneshot.parallel import search_many
from naskit.oneshot.rsps import rank, rsps_from, search_rsps

# Dong & Yang (ICLR 2020), NAS-Bench-201, Table 5: CIFAR-10 test accuracy (%) of the cell each
# method found, mean and std over its runs; the best cell of the space reaches 94.37 %.
PUBLISHED_NB201_CIFAR10 = {
    "DARTS (1st order)": {"test_acc_mean": 54.30, "test_acc_std": 0.00},
    "ENAS": {"test_acc_mean": 54.30, "test_acc_std": 0.00},
    "RSPS": {"test_acc_mean": 87.66, "test_acc_std": 1.69},
    "GDAS": {"test_acc_mean": 93.51, "test_acc_std": 0.13},
    "random search": {"test_acc_mean": 93.70, "test_acc_std": 0.36},
    "regularized evolution": {"test_acc_mean": 93.92, "test_acc_std": 0.30},
    "optimum of the space": {"test_acc_mean": 94.37, "test_acc_std": 0.00},
}

METHODS = {
    "rsps": search_rsps,
    "darts": search_darts,
    "gdas": search_gdas,
    "darts-": search_darts_minus,
    "darts+": search_darts_plus,
}

__all__ = [
    "METHODS",
    "PUBLISHED_NB201_CIFAR10",
    "darts_plus_from",
    "EpochLog",
    "OneShotConfig",
    "OneShotResult",
    "rank",
    "rsps_from",
    "search_many",
    "search_darts",
    "search_darts_minus",
    "search_darts_plus",
    "search_gdas",
    "search_rsps",
]
