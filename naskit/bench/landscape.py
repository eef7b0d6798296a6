"""The benchmark's landscape: which ops matter, and how accuracy relates to cost."""

from __future__ import annotations

import pandas as pd

from naskit.bench.table import TabularBenchmark
from naskit.core.space import EDGES, OPS, NB201Space


def cell_frame(bench: TabularBenchmark, epoch: int | None = None) -> pd.DataFrame:
    """``bench.to_frame(epoch)`` plus one column per edge with its op (``edge_0`` ... ``edge_5``)."""
    frame = bench.to_frame(epoch)
    space = NB201Space()
    ops = [space[int(c)].ops for c in frame.index]
    for e in range(len(EDGES)):
        frame[f"edge_{e}"] = [o[e] for o in ops]
    return frame


def op_effects(bench: TabularBenchmark, value: str = "test_acc") -> pd.DataFrame:
    """Mean ``value`` over the cells that have op X on edge e: a 6 x 5 table (edges x ops).

    Over all cells, so each entry averages ~3,000 cells; a large spread along a row means the
    choice on that edge matters.
    """
    frame = cell_frame(bench)
    table = pd.DataFrame({op: [frame.loc[frame[f"edge_{e}"] == op, value].mean() for e in range(len(EDGES))]
                          for op in OPS})
    table.index = [f"{j}→{i}" for i, j in EDGES]
    table.index.name = "edge"
    return table


def top_cells(bench: TabularBenchmark, k: int = 10, by: str = "valid_acc") -> pd.DataFrame:
    """The ``k`` best classes by ``by`` (seed mean), one row per class (its representative)."""
    frame = bench.to_frame()
    frame = frame.loc[frame.groupby("entry")[by].idxmax()]  # one cell per class
    rep = {i: name for i, name in enumerate(bench.entry_names)}
    frame = frame.assign(arch=frame["entry"].map(rep)).drop_duplicates("entry")
    return frame.sort_values(by, ascending=False).head(k)[["arch", "valid_acc", "test_acc", "params",
                                                            "forward_flops", "n_seeds"]]
