"""Classic fixed image filters applied with ``F.conv2d`` to bundled MNIST digits, saved as a PNG grid.

A convolution layer learns its 3x3 kernels; here we write five well-known kernels by hand instead and
run them all in one ``conv2d`` call (5 output channels, 1 input channel, padding 1 so the output keeps
the 28x28 size). Like PyTorch, ``conv2d`` computes a cross-correlation: the kernel is not flipped.

* identity:  the input unchanged
* blur:      3x3 Gaussian (1 2 1 / 2 4 2 / 1 2 1, divided by 16)
* laplacian: 4-neighbour Laplacian, second derivative: large where intensity bends (both edge sides)
* sobel x:   horizontal derivative, smoothed vertically: responds to vertical strokes
* sobel y:   vertical derivative: responds to horizontal strokes

The grid has one row per digit: the filters' outputs, then the gradient magnitude sqrt(sx^2 + sy^2).
Needs matplotlib (``pip install 'tinygrad-cnn[plot]'``); without it the script says so on one line and
exits with status 1.

Run: ``python examples/edge_detection.py [--digits 0 3 7] [--out edges.png]``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.data import load_mnist5k

FILTERS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
}


def filter_responses(images: np.ndarray) -> dict[str, np.ndarray]:
    """Apply every filter in ``FILTERS`` to ``images`` (N, H, W) uint8; returns name -> (N, H, W) float32."""
    x = tc.tensor(images[:, None].astype(np.float32) / 255.0)  # (N, 1, H, W), values in [0, 1]
    weight = tc.tensor(np.stack(list(FILTERS.values()))[:, None], dtype=tc.float32)  # (5, 1, 3, 3)
    out = F.conv2d(x, weight, padding=1).numpy()  # (N, 5, H, W): channel k is filter k
    responses = {name: out[:, k] for k, name in enumerate(FILTERS)}
    responses["|sobel|"] = np.sqrt(responses["sobel x"] ** 2 + responses["sobel y"] ** 2)
    return responses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, nargs="+", choices=range(10), default=[0, 3, 7], help="one row per digit")
    parser.add_argument("--seed", type=int, default=0, help="which image of each class is drawn")
    parser.add_argument("--out", default="edge_detection.png", help="path of the PNG to write")
    args = parser.parse_args(argv)

    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed: render straight to a file
        import matplotlib.pyplot as plt
    except ImportError:
        print("edge_detection.py needs matplotlib: pip install 'tinygrad-cnn[plot]'", file=sys.stderr)
        return 1

    images, labels = load_mnist5k()
    rng = np.random.default_rng(args.seed)
    picked = [int(rng.choice(np.flatnonzero(labels == d))) for d in args.digits]
    responses = filter_responses(images[picked])
    print(f"digits {args.digits} (images {picked} of the bundled set), {len(responses)} filter outputs each")
    for name, r in responses.items():
        print(f"  {name:<10} min {r.min():+.3f}  max {r.max():+.3f}  mean |value| {np.abs(r).mean():.3f}")

    rows, cols = len(picked), len(responses)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows), squeeze=False)
    for i in range(rows):
        for j, (name, r) in enumerate(responses.items()):
            ax = axes[i, j]
            if name in ("identity", "blur", "|sobel|"):  # non-negative: grey scale from black
                ax.imshow(r[i], cmap="gray", vmin=0)
            else:  # signed responses: a diverging map centred on 0
                m = np.abs(r[i]).max() or 1.0
                ax.imshow(r[i], cmap="RdBu_r", vmin=-m, vmax=m)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(name, fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    print(f"saved a {rows}x{cols} grid to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
