"""Sanity check of naskit's data and trainer against the published MNIST-1D baselines.

Greydanus & Kobak (MNIST-1D, Table 1) report test accuracy of a logistic regression about
32 %, an MLP about 68 % and a CNN about 94 % when trained on the 4,000 training examples.
This script builds those three models as they describe them (MLP: 2 hidden layers of
100 units; CNN: 3 conv layers of 25 channels with stride 2, then a linear layer), trains
them with ``naskit.train`` on train+valid (4,000 examples) and reports test accuracy.

    python benchmarks/bench_mnist1d_baselines.py --epochs 150
"""

from __future__ import annotations

import argparse
import dataclasses

import torch
from torch import nn

import naskit
from naskit.core.configs import TrainConfig

PUBLISHED = {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94}


def models(seed: int) -> dict[str, nn.Module]:
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
        torch.manual_seed(seed)
        return {
            "logistic": nn.Sequential(nn.Flatten(), nn.Linear(40, 10)),
            "mlp": nn.Sequential(nn.Flatten(), nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                                 nn.Linear(100, 10)),
            "cnn": nn.Sequential(
                nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(),   # (B, 25, 19)
                nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),  # (B, 25, 10)
                nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),  # (B, 25, 5)
                nn.Flatten(), nn.Linear(125, 10),
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", default=list(PUBLISHED), choices=list(PUBLISHED))
    parser.add_argument("--schedule", default="cosine", choices=["cosine", "constant"],
                        help="learning-rate schedule; the published runs used a constant rate")
    args = parser.parse_args()
    data = naskit.load_dataset("mnist1d")
    # the published protocol trains on all 4,000 training examples
    full = dataclasses.replace(data, x_train=torch.cat([data.x_train, data.x_valid]),
                               y_train=torch.cat([data.y_train, data.y_valid]))
    # their optimiser: Adam, lr 1e-2, batch 100, no weight decay (6,000 steps = 150 epochs)
    config = TrainConfig(epochs=args.epochs, batch_size=100, lr=1e-2, weight_decay=0.0, optimizer="adam",
                         schedule=args.schedule)
    print(f"MNIST-1D baselines, {args.epochs} epochs, Adam+{args.schedule}, batch 100, train on 4,000")
    print(f"{'model':10s}{'seed':>5s}{'params':>8s}{'test acc':>10s}{'published':>11s}{'seconds':>9s}")
    for seed in args.seeds:
        for name, model in models(seed).items():
            if name not in args.models:
                continue
            r = naskit.train(model, full, config=config, seed=seed)
            print(f"{name:10s}{seed:5d}{r.params:8d}{100 * r.final_test_acc:9.1f}%{100 * PUBLISHED[name]:10.0f}%"
                  f"{r.wall_seconds:9.1f}", flush=True)


if __name__ == "__main__":
    main()
