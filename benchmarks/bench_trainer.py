"""naskit's trainer against a plain PyTorch reference loop, on the same architectures.

The reference is how a tutorial trains a small network: a ``DataLoader`` over a
``TensorDataset`` (batch 128, shuffled), the same optimizer, schedule and epochs, PyTorch's
default thread count, one network after another, evaluation through a ``DataLoader`` too.
naskit's side runs one worker process per core, each with one thread, using ``naskit.train``.

    python benchmarks/bench_trainer.py --archs 12 --epochs 8

prints networks per hour for each side, mean accuracies, and achieved GFLOP/s against a
measured matmul peak. Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import math
import os
import random
import time

import torch
from torch import nn

import naskit
from naskit.data import load_dataset
from naskit.train import TrainConfig


def reference_train(arch, data, config: TrainConfig, seed: int) -> float:
    """The plain loop: DataLoader, batch 128, same SGD + cosine schedule. Returns test accuracy."""
    from torch.utils.data import DataLoader, TensorDataset

    net = naskit.NetworkConfig(ndim=data.ndim, in_channels=data.in_channels)
    model = naskit.build_model(arch, net, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=128, shuffle=True, generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay, nesterov=config.nesterov)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * len(loader))
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=128)
    valid_loader = DataLoader(TensorDataset(data.x_valid, data.y_valid), batch_size=128)
    acc = 0.0
    for _ in range(config.epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            for split in (valid_loader, test_loader):  # the same per-epoch curves naskit records
                correct = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in split)
                acc = correct / len(split.dataset)
    return acc


def _warm_up(seconds: float = 1.0) -> None:
    """Start-up work of a worker, done before the clock starts (the reference runs in this
    already warm process): imports, the dataset, the FLOP counter's first use."""
    import naskit.cost

    naskit.train("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
                 load_dataset("mnist1d").subset(128), epochs=1)
    time.sleep(seconds)  # hold this worker so the other workers start too


def _naskit_worker(args):
    arch, epochs, seed = args
    torch.set_num_threads(1)
    result = naskit.train(arch, load_dataset("mnist1d"), config=TrainConfig(epochs=epochs), seed=seed)
    return result.final_test_acc, result.train_flops


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
    parser.add_argument("--archs", type=int, default=12, help="number of random cells (default 12)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()

    space, rng = naskit.NB201Space(), random.Random(args.seed)
    archs = [space.sample(rng) for _ in range(args.archs)]
    data = load_dataset("mnist1d")
    config = TrainConfig(epochs=args.epochs)
    default_threads = torch.get_num_threads()
    peak1 = matmul_peak_gflops(1)
    torch.set_num_threads(default_threads)

    start = time.perf_counter()
    ref_acc = [reference_train(a, data, config, args.seed) for a in archs]
    ref_seconds = time.perf_counter() - start

    ctx = torch.multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        list(pool.map(_warm_up, [1.0] * args.workers))
        start = time.perf_counter()
        out = list(pool.map(_naskit_worker, [(a, args.epochs, args.seed) for a in archs]))
        nk_seconds = time.perf_counter() - start
    nk_acc = [acc for acc, _ in out]
    flops = sum(f for _, f in out)

    def mean(xs):
        return sum(xs) / len(xs)

    print(f"{len(archs)} random cells, {args.epochs} epochs, MNIST-1D, {os.cpu_count()} cores")
    print(f"{'':28s}{'networks/hour':>15s}{'mean test acc':>15s}{'GFLOP/s':>10s}")
    for name, secs, acc in (
        (f"reference ({default_threads} threads)", ref_seconds, ref_acc),
        (f"naskit ({args.workers} procs x 1 thread)", nk_seconds, nk_acc),
    ):
        print(f"{name:28s}{3600 * len(archs) / secs:15.1f}{100 * mean(acc):15.2f}{flops / secs / 1e9:10.2f}")
    print("(naskit's workers were started and warmed up before its clock started, as the reference's process)")
    print(f"speed-up: {ref_seconds / nk_seconds:.2f}x; accuracy difference: "
          f"{100 * (mean(nk_acc) - mean(ref_acc)):+.2f} points")
    print(f"matmul peak: {peak1:.1f} GFLOP/s per core, {peak1 * args.workers:.1f} for {args.workers} cores "
          "(FLOPs counted as 2 per multiply-add, forward+backward = 3x forward)")
    assert all(math.isfinite(a) for a in ref_acc + nk_acc)


if __name__ == "__main__":
    main()
