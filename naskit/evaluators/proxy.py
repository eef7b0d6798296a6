"""An evaluator that scores cells with a zero-cost proxy instead of training them.

``ProxyEvaluator`` has the evaluator interface of ``naskit.evaluators`` (``evaluate``,
``max_fidelity``, ``describe``), so any strategy and the search loop run on it unchanged.
Its ``Result`` carries the proxy's score in ``estimate`` (what strategies rank by) and NaN
accuracies: a proxy predicts nothing about accuracy on its own scale. The cost is measured:
the CPU and wall seconds of building the network and scoring it, and the FLOPs of every
forward, backward and double-backward pass and matrix product the proxy ran (2 FLOPs per
multiply-add, as in ``naskit.cost``), counted by ``torch.utils.flop_counter.FlopCounterMode``
in a second pass that is not timed (counting slows networks this small about threefold),
so an evaluation takes about four times the seconds it reports.

Example:
    >>> from naskit.runs.budget import Budget
    >>> from naskit.runs.loop import search
    >>> from naskit.strategies import make_strategy
    >>> run = search(make_strategy("random", seed=0), ProxyEvaluator("naswot", batch_size=16),
    ...              Budget(evaluations=2), progress=False)
    >>> len(run.history), str(run.best) == run.history.loc[run.history["estimate"].idxmax(), "arch"]
    (2, True)
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
from torch.utils.flop_counter import FlopCounterMode

from naskit.core.checks import as_arch, check_fidelity, check_whole
from naskit.core.configs import NetworkConfig
from naskit.core.evaluator import failed_result
from naskit.core.space import Arch
from naskit.core.types import Result
from naskit.cost.stopwatch import Stopwatch
from naskit.data import dataset_spec, load_dataset
from naskit.estimate.proxies import check_proxy_names, compute_proxies
from naskit.estimate.whole_space import space_scores
from naskit.evaluators.tabular import lookup_failure, table_description
from naskit.evaluators.training import check_dataset_name


class ProxyEvaluator:
    """Score the untrained network of a cell with one zero-cost proxy (``naskit.estimate.PROXIES``).

    Args:
        proxy: a key of ``PROXIES`` (``"synflow"``, ``"naswot"``, ``"snip"``, ...).
        dataset: the dataset whose training split gives the minibatch, loaded by name in
            the worker so the evaluator pickles small.
        seed: seeds the weight initialisation and the minibatch.
        batch_size: examples in the minibatch (default: the proxy's reference batch,
            ``naskit.estimate.proxies.reference_batch_size``).
        network: the macro skeleton (``ndim``, ``in_channels``, ``num_classes`` follow the data).

    There is one fidelity (``max_fidelity = 1``): a proxy has no epochs to shorten.
    Cost: ``sim_seconds`` is the measured CPU seconds, as for ``TrainingEvaluator``. A proxy
    that raises (out of memory, say) gives a failed result with the seconds it ran.
    """

    name = "proxy"
    max_fidelity = 1

    def __init__(self, proxy: str = "synflow", dataset: str = "mnist1d", seed: int = 0,
                 batch_size: int | None = None, network: NetworkConfig | None = None):
        check_proxy_names([proxy])
        check_dataset_name(dataset)
        if batch_size is not None:
            check_whole("batch_size", batch_size, 1, why="or None: the proxy's reference batch")
            n = len(load_dataset(dataset).y_train)  # loaded to check, not kept: the evaluator pickles small
            check_whole("batch_size", batch_size, 1, n, why=f"the training examples of {dataset}")
        self.proxy, self.dataset, self.seed, self.batch_size = proxy, dataset, seed, batch_size
        self.network = network or NetworkConfig()

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        arch = as_arch(arch)
        check_fidelity(fidelity, self.max_fidelity)
        data = load_dataset(self.dataset)
        options = {"names": [self.proxy], "seed": self.seed, "batch_size": self.batch_size, "network": self.network}
        watch = Stopwatch()
        try:
            with watch:
                scores = compute_proxies(arch, data, **options)
            # FLOPs come from a second, untimed pass: FlopCounterMode's bookkeeping about triples
            # the seconds of networks this small, and the proxy is deterministic
            with FlopCounterMode(display=False) as counter:
                compute_proxies(arch, data, **options)
        except Exception as exc:  # e.g. out of memory: a failed candidate is a result, as in training
            return failed_result(arch, fidelity, f"{type(exc).__name__}: {exc}", sim_seconds=watch.cpu_seconds,
                                 wall_seconds=watch.wall_seconds, cpu_seconds=watch.cpu_seconds)
        nan = float("nan")
        return Result(arch, fidelity, nan, nan, flops=int(counter.get_total_flops()),
                      sim_seconds=watch.cpu_seconds, wall_seconds=watch.wall_seconds,
                      cpu_seconds=watch.cpu_seconds, estimate=scores[self.proxy])

    def describe(self) -> dict:
        return {"name": self.name, "proxy": self.proxy, "dataset": dataset_spec(self.dataset), "seed": self.seed,
                "batch_size": self.batch_size, "network": asdict(self.network)}


class CachedProxyEvaluator:
    """A zero-cost proxy looked up from the whole-space records, charging its recorded CPU
    seconds: a search on a proxy at table speed, so it can be repeated over many seeds.

    A cell the table lacks, or whose class has no record, is a failed result.
    """

    name = "cached_proxy"
    max_fidelity = 1

    def __init__(self, bench, proxies: pd.DataFrame, proxy: str = "synflow"):
        if proxy not in proxies.columns:
            raise ValueError(f"no proxy {proxy!r} in the records; they hold "
                             f"{', '.join(c for c in proxies.columns if not c.endswith('_seconds'))}")
        self.bench, self.proxy = bench, proxy
        self.scores = space_scores(bench, proxies, proxy)
        self.seconds = proxies[f"{proxy}_seconds"].reindex(bench.meta["keys"]).to_numpy(float)

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result:
        arch = as_arch(arch)
        check_fidelity(fidelity, self.max_fidelity)
        if (missing := lookup_failure(self.bench, arch, fidelity)) is not None:
            return missing
        i = self.bench.entry(arch)
        if not np.isfinite(self.seconds[i]):
            return failed_result(arch, fidelity, f"{arch} has no recorded {self.proxy} score")
        nan = float("nan")
        return Result(arch, fidelity, nan, nan, estimate=float(self.scores[i]), sim_seconds=float(self.seconds[i]),
                      cpu_seconds=float(self.seconds[i]))

    def describe(self) -> dict:
        return {"name": self.name, "proxy": self.proxy, **table_description(self.bench)}
