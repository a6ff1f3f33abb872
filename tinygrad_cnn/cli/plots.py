"""Training plots (matplotlib's Agg backend, no window): loss/accuracy curves and the first conv layer's filters.

matplotlib is optional (``pip install tinygrad-cnn[plot]``); ``plot_run`` says so in one line when it is missing.
Also the ``tinygrad-cnn plot RUN_DIR`` command, which redraws both from metrics.csv and model.safetensors.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

PLOT_HINT = "matplotlib is not installed: pip install tinygrad-cnn[plot] gives the plots (curves.png, filters.png)"


def have_matplotlib() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float) -> Any:
    """A Figure drawn by the Agg canvas: no pyplot, no global backend switch, no window."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_curves(metrics: Sequence[Mapping[str, Any]], path: str | os.PathLike) -> None:
    """Loss (left) and accuracy (right) per epoch, training and validation, as a PNG."""
    epochs = [int(m["epoch"]) for m in metrics]
    fig = _figure(10, 4)
    for ax, key, title in ((fig.add_subplot(1, 2, 1), "loss", "loss"), (fig.add_subplot(1, 2, 2), "acc", "accuracy")):
        ax.plot(epochs, [float(m[f"train_{key}"]) for m in metrics], "o-", label="train")
        ax.plot(epochs, [float(m[f"val_{key}"]) for m in metrics], "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.fspath(path))


def save_filters(weight: np.ndarray, path: str | os.PathLike) -> None:
    """The filters of a conv weight (out, in, kh, kw) as a grid of small images.

    3 input channels are shown as colour (each filter scaled to [0, 1]); otherwise the mean over the
    input channels, in grey (dark: negative, light: positive).
    """
    w = np.asarray(weight, dtype=np.float64)
    n = w.shape[0]
    cols = min(n, 8)
    rows = math.ceil(n / cols)
    fig = _figure(cols * 0.9, rows * 0.9 + 0.4)
    fig.suptitle(f"first conv layer: {n} filters {w.shape[2]}x{w.shape[3]}", fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.4 / (rows * 0.9 + 0.4), wspace=0.1, hspace=0.1)
    grey = w.mean(axis=1)
    limit = float(np.abs(grey).max()) or 1.0  # one symmetric scale for all: mid-grey is 0
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        if w.shape[1] == 3:
            f = w[i]
            lo, hi = f.min(), f.max()
            ax.imshow(((f - lo) / (hi - lo + 1e-12)).transpose(1, 2, 0), interpolation="nearest")
        else:
            ax.imshow(grey[i], cmap="gray", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(os.fspath(path))


def first_conv_weight(model: Any) -> np.ndarray | None:
    """The weight of the first ``Conv2d`` in ``model`` (in registration order), or None."""
    from tinygrad_cnn import nn

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.weight.detach().numpy()
    return None


def plot_run(out: Path, metrics: Sequence[Mapping[str, Any]], model: Any) -> list[Path]:
    """Write out/curves.png and out/filters.png; without matplotlib print the install hint. Returns the files."""
    if not have_matplotlib():
        print(PLOT_HINT)
        return []
    written = []
    if metrics:
        save_curves(metrics, out / "curves.png")
        written.append(out / "curves.png")
    weight = first_conv_weight(model)
    if weight is not None:
        save_filters(weight, out / "filters.png")
        written.append(out / "filters.png")
    return written


def read_metrics_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a metrics.csv written by train."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``plot``."""
    parser.add_argument("run_dir", help="a folder written by train (metrics.csv, model.safetensors)")


def run(args: argparse.Namespace) -> int:
    """Redraw curves.png and filters.png of a training run."""
    from tinygrad_cnn.cli.common import CLIError, load_model_file

    out = Path(args.run_dir)
    if not (out / "metrics.csv").is_file():
        raise CLIError(f"{out}: no metrics.csv (is it a folder written by train?)")
    model = None
    for name in ("model.safetensors", "checkpoint.safetensors"):
        if (out / name).is_file():
            model, _ = load_model_file(out / name)
            break
    for path in plot_run(out, read_metrics_csv(out / "metrics.csv"), model if model is not None else _NoModel()):
        print(f"wrote {path}")
    return 0


class _NoModel:
    def modules(self) -> list[Any]:
        return []
