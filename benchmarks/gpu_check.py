"""A short check that naskit's CUDA paths work: build, train, count FLOPs and evaluate on a GPU.

    python benchmarks/gpu_check.py            # prints one line per check and the timings

Run on a machine with a CUDA GPU (exits with code 2 if there is none). Two trainings with
the same seed in deterministic mode must give identical curves on the GPU too.
"""

from __future__ import annotations

import sys
import time

import torch

import naskit
from naskit.cost.flops import forward_flops
from naskit.runtime import manifest as repro

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    data = naskit.load_dataset("mnist1d")
    model = naskit.build_model(ARCH, seed=0, device="cuda")
    assert next(model.parameters()).is_cuda
    x = data.x_train[:4].cuda()
    print("forward on cuda:", tuple(model(x).shape), "| forward FLOPs/example:", forward_flops(model, x[:1]))
    runs = []
    for _ in range(2):
        with repro.deterministic(True):
            start = time.perf_counter()
            r = naskit.train(ARCH, data, epochs=8, seed=0, device="cuda")
            torch.cuda.synchronize()
            runs.append((r, time.perf_counter() - start))
    (a, ta), (b, tb) = runs
    print(f"train 8 epochs on cuda: status {a.status}, test acc {100 * a.final_test_acc:.1f}%, "
          f"{ta:.2f} s (first, with warm-up) / {tb:.2f} s (second)")
    same = a.valid_acc == b.valid_acc and a.train_loss == b.train_loss
    print("same seed, deterministic mode -> identical curves on cuda:", same)
    cpu = naskit.train(ARCH, data, epochs=8, seed=0)
    print(f"cpu reference: test acc {100 * cpu.final_test_acc:.1f}%, {cpu.wall_seconds:.2f} s")
    for c in ("digits",):
        d = naskit.load_dataset(c)
        r = naskit.train(ARCH, d, epochs=2, seed=0, device="cuda")
        print(f"2-D cells on cuda ({c}): status {r.status}, test acc {100 * r.final_test_acc:.1f}%")
    print("manifest cuda fields:", {k: v for k, v in repro.manifest()["torch"].items() if "cuda" in k})
    return 0 if a.ok and same else 1


if __name__ == "__main__":
    sys.exit(main())
