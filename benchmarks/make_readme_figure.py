"""Draw the README's picture: an NB201 cell and its learning curve on MNIST-1D.

    python benchmarks/make_readme_figure.py      # writes docs/images/tour.png
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

import naskit
from naskit.viz import plots

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def main() -> None:
    torch.set_num_threads(1)  # the trainer's fastest setting for one small network
    result = naskit.train(ARCH, naskit.load_dataset("mnist1d"), epochs=8, seed=0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1.3, 1]})
    plots.draw_cell(naskit.NB201Space().parse(ARCH), ax=left, title="one of 15,625 NB201 cells")
    plots.plot_learning_curve(result, ax=right)
    right.set_title(f"trained on MNIST-1D on a CPU: {result.cpu_seconds:.1f} CPU-s, {result.params:,} params")
    out = Path(__file__).resolve().parent.parent / "docs" / "images" / "tour.png"
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
