"""naskit's trainers against a plain PyTorch reference loop, on the same networks.

The reference is how a tutorial trains a small network: a ``DataLoader`` over a
``TensorDataset`` (batch 128, shuffled), the same optimizer, schedule and epochs, PyTorch's
default thread count, one network after another, evaluation through a ``DataLoader`` too.
naskit's sides run one worker process per core, each with one thread: ``naskit.train`` (one
network per job) and ``naskit.trainer.stacked.train_seeds`` (all seeds of a cell in one job, as the
benchmark builds them). Every side trains the same cells with the same seeds, with the protocol of
the benchmark version named by ``--version`` (its dataset, network and training settings).

    python benchmarks/bench_trainer.py --version v2 --archs 8
    python benchmarks/bench_trainer.py --version v1 --archs 12 --seeds 3

prints networks per hour for each side, mean accuracies, and achieved GFLOP/s against a
measured matmul peak, then each side's accuracy paired with the stacked trainer's on the same
cell and seed (the mean difference with its 95 % t-interval, the median, and the runs that failed:
more than ``FAILED_RUN_POINTS`` below the best run of their cell). ``--out FILE`` keeps every
network's accuracies as JSON.

    python benchmarks/bench_trainer.py --against v2 --runs 48

times nothing: it re-trains ``--runs`` random recorded runs of a table alone, with
``naskit.train``, and pairs each with the value the table holds for it (which the build trained
with its class's other seeds stacked, when the protocol stacks them). A table built stacked
equals single training up to rounding, and ReLU turns rounding into different runs (a sign
flip of one pre-activation near 0 changes the gradient); this asks whether the difference
has a direction. Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import json
import math
import os
import random
import time

import numpy as np
import torch
from scipy import stats
from torch import nn

import naskit
from naskit.bench.datasheet import FAILED_RUN_POINTS
from naskit.bench.protocol import PROTOCOLS, BenchProtocol
from naskit.bench.verify import eligible_rows, table_protocol
from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.data import load_dataset


def reference_train(arch, data, config: TrainConfig, seed: int, network: NetworkConfig) -> float:
    """The plain loop: DataLoader, batch 128, same SGD + cosine schedule, the validation split
    after every epoch and the test split when the protocol tests (``config.tests_after``).
    Returns the final test accuracy."""
    from torch.utils.data import DataLoader, TensorDataset

    net = dataclasses.replace(network, ndim=data.ndim, in_channels=data.in_channels)
    model = naskit.build_model(arch, net, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=128, shuffle=True, generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay, nesterov=config.nesterov)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * len(loader))
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=128)
    valid_loader = DataLoader(TensorDataset(data.x_valid, data.y_valid), batch_size=128)
    acc = 0.0
    for epoch in range(1, config.epochs + 1):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            splits = (valid_loader, test_loader) if config.tests_after(epoch) else (valid_loader,)
            for split in splits:  # the same curves naskit records
                correct = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in split)
                acc = correct / len(split.dataset)
    return acc


def _warm_up(protocol: BenchProtocol, seconds: float = 1.0) -> None:
    """Start-up work of a worker, done before the clock starts (the reference runs in this
    already warm process): imports, the protocol's dataset, the FLOP counter's first use."""
    import naskit.cost.flops

    naskit.train("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|", _data(protocol).subset(128),
                 epochs=1, network=protocol.network)
    time.sleep(seconds)  # hold this worker so the other workers start too


def _naskit_worker(args):
    arch, protocol, seed = args
    torch.set_num_threads(1)
    result = naskit.train(arch, _data(protocol), config=protocol.train, network=protocol.network, seed=seed)
    return [(result.final_test_acc, result.train_flops)]


def _stacked_worker(args):
    from naskit.trainer.stacked import train_seeds

    arch, protocol, seeds = args
    torch.set_num_threads(1)
    results = train_seeds(arch, _data(protocol), seeds=seeds, config=protocol.train, network=protocol.network)
    return [(r.final_test_acc, r.train_flops) for r in results]


_DATA: dict = {}


def _data(protocol: BenchProtocol):
    """The protocol's dataset, generated once per process."""
    if protocol.dataset not in _DATA:
        _DATA[protocol.dataset] = load_dataset(protocol.dataset)
    return _DATA[protocol.dataset]


def _pool_run(fn, jobs, workers, protocol):
    """Run ``jobs`` on warmed-up worker processes; (seconds, [(test_acc, train_flops)])."""
    ctx = torch.multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(_warm_up, [protocol] * workers))
        start = time.perf_counter()
        out = [x for chunk in pool.map(fn, jobs) for x in chunk]
        return time.perf_counter() - start, out


def matmul_peak_gflops(threads: int, n: int = 1024, repeats: int = 10) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def paired_accuracy(sides: dict[str, list[float]], against: str, n_seeds: int) -> list[dict]:
    """Each side's final test accuracy against side ``against``'s, network by network (same cell,
    same seed, in the same order); differences in points. A run has failed when it ends more than
    ``FAILED_RUN_POINTS`` below the best run of its cell on any side (the datasheet's rule)."""
    acc = {name: 100 * np.asarray(a, dtype=float) for name, a in sides.items()}
    cells = np.concatenate(list(acc.values())).reshape(len(acc), -1, n_seeds)  # side, cell, seed
    best = cells.max(axis=(0, 2))
    failed = {name: (a.reshape(-1, n_seeds) < best[:, None] - FAILED_RUN_POINTS).ravel() for name, a in acc.items()}
    rows = []
    for name, a in acc.items():
        d = a - acc[against]
        kept = ~(failed[name] | failed[against])
        half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan
        nonzero = d[kept][d[kept] != 0]
        wilcoxon = float(stats.wilcoxon(nonzero).pvalue) if len(nonzero) else math.nan
        rows.append({"side": name, "mean_diff": float(d.mean()), "ci95_half": half, "median_diff": float(np.median(d)),
                     "failed": int(failed[name].sum()), "mean_diff_no_failed": float(d[kept].mean()),
                     "n": len(d), "n_no_failed": int(kept.sum()), "wilcoxon_p_no_failed": wilcoxon})
    return rows


def print_paired(rows: list[dict], against: str, n: int) -> None:
    print(f"\naccuracy paired with {against}, same cell and seed ({n} networks; points):")
    print(f"{'':36s}{'mean diff':>10s}{'95% CI':>18s}{'median':>8s}{'failed':>8s}{'mean, no failed':>17s}"
          f"{'Wilcoxon p':>12s}")
    for r in rows:
        ci = f"[{r['mean_diff'] - r['ci95_half']:+.2f}, {r['mean_diff'] + r['ci95_half']:+.2f}]"
        print(f"{r['side']:36s}{r['mean_diff']:+10.2f}{ci:>18s}{r['median_diff']:+8.2f}{r['failed']:8d}"
              f"{r['mean_diff_no_failed']:+11.2f} ({r['n_no_failed']}){r['wilcoxon_p_no_failed']:12.3f}")
    print(f"(failed: more than {FAILED_RUN_POINTS:.0f} points below the best run of its cell on any side; "
          "the Wilcoxon signed-rank test is on the runs no side failed)")


def against_table(args) -> None:
    """Re-train ``args.runs`` recorded runs of a table alone and pair them with its values."""
    bench = naskit.load_benchmark(args.against)
    protocol = table_protocol(bench)
    rows = np.sort(np.random.default_rng(args.seed).choice(eligible_rows(bench), size=args.runs, replace=False))
    jobs = [(bench.entry_names[bench.run_entry[r]], protocol, int(bench.run_seed[r])) for r in rows]
    seconds, single = _pool_run(_naskit_worker, jobs, args.workers, protocol)
    final = bench.curves["test_acc"][rows]
    recorded = [float(c[np.isfinite(c)][-1]) for c in final]
    sides = {"naskit.train, alone": [a for a, _ in single], "the table's record": recorded}
    print(f"table {bench.version or args.against}: {args.runs} random recorded runs re-trained alone with naskit.train "
          f"({'the build stacked seeds' if protocol.stack_seeds else 'the build trained each seed alone'}), "
          f"{seconds:.0f} s on {args.workers} workers")
    print_paired(paired_accuracy(sides, "the table's record", 1), "the table's record", len(rows))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"table": str(args.against), "archs": [j[0] for j in jobs], "seeds": [j[2] for j in jobs],
                       "test_acc": sides, "torch": torch.__version__}, f, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", choices=sorted(PROTOCOLS), default="v2",
                        help="the benchmark version whose protocol is trained (default v2)")
    parser.add_argument("--archs", type=int, default=12, help="number of random cells (default 12)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per cell (default 3)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the protocol's")
    parser.add_argument("--seed", type=int, default=0, help="draws the cells")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default=None, help="write every network's accuracy per side as JSON")
    parser.add_argument("--against", default=None,
                        help="a table (version or .npz): re-train --runs of its runs alone and pair them with it")
    parser.add_argument("--runs", type=int, default=48, help="with --against: how many runs (default 48)")
    args = parser.parse_args()
    if args.against is not None:
        return against_table(args)

    space, rng = naskit.NB201Space(), random.Random(args.seed)
    archs = [space.sample(rng) for _ in range(args.archs)]
    seeds = tuple(range(args.seeds))
    protocol = PROTOCOLS[args.version]
    if args.epochs is not None:
        protocol = dataclasses.replace(protocol, train=dataclasses.replace(protocol.train, epochs=args.epochs))
    data, config = _data(protocol), protocol.train
    default_threads = torch.get_num_threads()
    peak1 = matmul_peak_gflops(1)
    torch.set_num_threads(default_threads)
    n_nets = len(archs) * len(seeds)

    start = time.perf_counter()
    ref_acc = [reference_train(a, data, config, s, protocol.network) for a in archs for s in seeds]
    ref_seconds = time.perf_counter() - start
    single_seconds, single = _pool_run(_naskit_worker, [(a, protocol, s) for a in archs for s in seeds],
                                       args.workers, protocol)
    stacked_seconds, stacked = _pool_run(_stacked_worker, [(a, protocol, seeds) for a in archs], args.workers,
                                         protocol)
    flops = sum(f for _, f in single)

    def mean(xs):
        return sum(xs) / len(xs)

    print(f"benchmark {args.version}'s protocol: {len(archs)} random cells x {len(seeds)} seeds, "
          f"{config.epochs} epochs, {len(data.y_train):,} training examples, {protocol.network.channels} channels, "
          f"{protocol.network.cells_per_stage} cells per stage, {os.cpu_count()} cores")
    print(f"{'':36s}{'networks/hour':>15s}{'mean test acc':>15s}{'GFLOP/s':>10s}{'speed-up':>10s}")
    rows = (
        (f"reference ({default_threads} threads)", ref_seconds, ref_acc),
        (f"naskit.train ({args.workers} procs x 1 thread)", single_seconds, [a for a, _ in single]),
        (f"naskit stacked seeds ({args.workers} x 1)", stacked_seconds, [a for a, _ in stacked]),
    )
    for name, secs, acc in rows:
        print(f"{name:36s}{3600 * n_nets / secs:15.1f}{100 * mean(acc):15.2f}{flops / secs / 1e9:10.2f}"
              f"{ref_seconds / secs:9.2f}x")
    print("(naskit's workers were started and warmed up before its clock started, as the reference's process)")
    print(f"matmul peak: {peak1:.1f} GFLOP/s per core, {peak1 * args.workers:.1f} for {args.workers} cores "
          "(FLOPs counted as 2 per multiply-add, forward+backward = 3x forward; GFLOP/s of training only)")
    assert all(math.isfinite(a) for a in ref_acc + [a for a, _ in single + stacked])

    sides = {name: acc for name, _, acc in rows}
    print_paired(paired_accuracy(sides, rows[2][0], len(seeds)), "the stacked trainer's", n_nets)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"version": args.version, "archs": [str(a) for a in archs], "seeds": list(seeds),
                       "test_acc": sides, "torch": torch.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
