"""Does the supernet rank cells like stand-alone training does? Measured against the benchmark.

Weight sharing saves training only if a cell's *inherited* accuracy (its path through the
shared weights, no fine-tuning) orders cells the way their stand-alone accuracy does. Papers
that checked found the correlation weak (Bender et al. 2018; Yu et al., ICLR 2020, "Evaluating
the search phase of NAS"; Zela et al., ICLR 2020, NAS-Bench-1Shot1). naskit can check it for
every cell, because the benchmark holds the truth: ``ranking_quality`` trains a supernet by
uniform single paths (as RSPS does), and after chosen epochs ranks a fixed sample of cells by
inherited validation accuracy (``rsps.rank``, on the whole validation split unless told
otherwise) and correlates that with the benchmark's test accuracy. A supernet that is
already trained (``search_rsps(...).supernet``) ranks any cells with ``rsps.rank``, and
more RSPS candidates with ``rsps.rsps_from``, without training again.

Example:
    >>> from naskit import TabularBenchmark, load_dataset
    >>> import pandas as pd
    >>> cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    ...          "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
    ...          "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|avg_pool_3x3~2|"]
    >>> bench = TabularBenchmark.from_table(pd.DataFrame({"arch": cells, "valid_acc": [.9, .2, .7],
    ...                                                   "test_acc": [.9, .2, .7]}))
    >>> study = ranking_quality(load_dataset("mnist1d").subset(128), bench, cells=cells,
    ...                         checkpoints=(1, 2), config=OneShotConfig(channels=4))
    >>> study["epoch"].tolist(), list(study.columns[:4])
    ([1, 2], ['epoch', 'kendall', 'spearman', 'top10%'])
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from naskit.bench.table import TabularBenchmark
from naskit.core.checks import as_arch
from naskit.core.space import Arch
from naskit.data import Dataset
from naskit.estimate.correlate import correlate
from naskit.oneshot.config import OneShotConfig
from naskit.oneshot.rsps import rank, search_rsps


def sample_cells(bench: TabularBenchmark, n: int, seed: int = 0) -> list[str]:
    """``n`` distinct trained classes of ``bench`` (their representative cells), drawn with ``seed``."""
    names = list(bench.entry_names)
    if not 1 <= n <= len(names):
        raise ValueError(f"n must be in 1..{len(names)} (the table's trained classes), got {n}")
    picks = np.random.default_rng(seed).choice(len(names), size=n, replace=False)
    return [names[i] for i in sorted(picks)]


def ranking_quality(data: Dataset, bench: TabularBenchmark, cells: list[str | Arch] | int = 100,
                    checkpoints=(1, 2, 5, 10), config: OneShotConfig | None = None,
                    truth: str = "test_acc", candidate_scoring: str = "one_batch") -> pd.DataFrame:
    """Kendall τ, Spearman ρ and top-10 % overlap of inherited vs benchmark accuracy, by epoch.

    Args:
        data: the dataset the supernet trains on (weights: train split; ranking: valid split).
        bench: the benchmark holding the truth for every cell in ``cells``.
        cells: the cells to rank, or how many trained classes to draw (with ``config.seed``).
        checkpoints: after which supernet epochs to rank; training runs to the largest.
        config: the supernet's ``OneShotConfig`` (``epochs`` is set from ``checkpoints``).
        truth: the benchmark column correlated against (``test_acc`` or ``valid_acc``).
        candidate_scoring: how inherited accuracy is measured (``rsps.rank``). The default,
            ``"one_batch"``, measures the ranking RSPS's reference protocol sees (one validation
            batch per cell, eval-mode BN); ``"whole_split"`` scores every cell on the whole
            validation split with batch-statistics BN (naskit's earlier study, which ranks
            worse: the BN mode matters more than the number of examples).

    Returns:
        One row per checkpoint: ``epoch``, ``kendall``, ``spearman``, ``top10%``, ``n``, the
        supernet's training FLOPs and wall seconds so far, and the seconds ranking took.
        ``attrs["inherited"]``: every cell's inherited accuracy per checkpoint next to its
        ``truth``, as a dict of columns (``pd.DataFrame(study.attrs["inherited"])``).
    """
    checkpoints = sorted({int(e) for e in checkpoints})
    if not checkpoints or checkpoints[0] < 1:
        raise ValueError(f"checkpoints must be epochs >= 1, got {checkpoints}")
    config = replace(config or OneShotConfig(), epochs=checkpoints[-1], num_candidates=1)
    scoring = replace(config, candidate_scoring=candidate_scoring)  # checks the value
    if isinstance(cells, int):
        cells = sample_cells(bench, cells, seed=config.seed)
    archs = [as_arch(c) for c in cells]
    missing = [str(a) for a in archs if a not in bench]
    if missing:
        raise ValueError(f"{len(missing)} cells are not in the benchmark, e.g. {missing[0]}")
    true = np.array([getattr(bench.query(a), truth) for a in archs])
    inherited: dict[int, list[float]] = {}
    rows = []
    start, ranking_seconds = time.perf_counter(), 0.0

    def on_epoch(epoch: int, run) -> None:
        nonlocal ranking_seconds
        if epoch not in checkpoints:
            return
        t0 = time.perf_counter()
        flops_before = run.search_flops
        inherited[epoch] = rank(run.supernet, archs, data, scoring)
        took = time.perf_counter() - t0
        ranking_seconds += took
        stats = correlate(inherited[epoch], true, top=(0.10,))
        rows.append({"epoch": epoch, "kendall": stats["kendall"], "spearman": stats["spearman"],
                     "top10%": stats["top10%"], "n": stats["n"], "train_flops": flops_before,
                     "train_seconds": t0 - start - (ranking_seconds - took), "rank_seconds": took})

    search_rsps(data, config, on_epoch=on_epoch)
    study = pd.DataFrame(rows)
    study.attrs["truth"] = truth
    study.attrs["inherited"] = {"arch": [str(a) for a in archs], truth: true.tolist(),
                                **{f"epoch {e}": v for e, v in inherited.items()}}
    study.attrs["config"] = config
    return study


def against(study: pd.DataFrame, bench: TabularBenchmark, truth: str = "valid_acc") -> pd.DataFrame:
    """The same ranking study correlated against another benchmark column, without training again:
    the inherited accuracies it recorded (``study.attrs["inherited"]``) against ``truth``."""
    inherited = study.attrs["inherited"]
    true = np.array([getattr(bench.query(a), truth) for a in inherited["arch"]])
    out = study.copy()
    for i, epoch in zip(study.index, study["epoch"]):
        stats = correlate(inherited[f"epoch {epoch}"], true, top=(0.10,))
        for key in ("kendall", "spearman", "top10%", "n"):
            out.at[i, key] = stats[key]
    out.attrs.update(study.attrs, truth=truth)
    return out
