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
measured matmul peak. Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import math
import os
import random
import time

import torch
from torch import nn

import naskit
from naskit.bench.protocol import PROTOCOLS, BenchProtocol
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", choices=sorted(PROTOCOLS), default="v2",
                        help="the benchmark version whose protocol is trained (default v2)")
    parser.add_argument("--archs", type=int, default=12, help="number of random cells (default 12)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per cell (default 3)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the protocol's")
    parser.add_argument("--seed", type=int, default=0, help="draws the cells")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
