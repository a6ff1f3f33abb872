"""``tinygrad-cnn evaluate CHECKPOINT``: accuracy and confusion matrix of a trained model on a data split."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import nn
from tinygrad_cnn.cli.common import DATASETS, CLIError, load_model_file, load_split, make_transform
from tinygrad_cnn.data import DataLoader

EVAL_BATCH_SIZE = 256  # train's validation pass uses the same batches, so both report the same numbers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``evaluate``."""
    parser.add_argument("checkpoint", help="model.safetensors (or checkpoint.safetensors) written by train")
    parser.add_argument("--dataset", choices=sorted(DATASETS), help="data set (default: the one trained on)")
    parser.add_argument("--data-dir", help="folder of the data files (default: the one trained with)")
    parser.add_argument(
        "--split",
        choices=["train", "val", "test"],
        help="which split (default: test, or val for mnist5k which has no test split)",
    )
    parser.add_argument("--batch-size", type=int, default=EVAL_BATCH_SIZE, help="images per batch (default 256)")


def evaluate_model(model: nn.Module, loader: Any, criterion: nn.Module) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean loss, predictions and labels of ``model`` (in eval mode, without recording a graph) over ``loader``."""
    model.eval()
    total_loss, preds, labels = 0.0, [], []
    with tc.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += criterion(logits, y).item() * len(y)
            preds.append(logits.argmax(dim=1).numpy())
            labels.append(y.numpy())
    pred, label = np.concatenate(preds), np.concatenate(labels)
    return total_loss / max(len(label), 1), pred, label


def confusion_matrix(pred: np.ndarray, label: np.ndarray, num_classes: int) -> np.ndarray:
    """``m[i, j]``: how many images of true class i were predicted as class j."""
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (label, pred), 1)
    return m


def format_confusion(m: np.ndarray) -> str:
    """The matrix as text: rows are true classes, columns predicted classes, with totals per row."""
    width = max(len(str(int(m.max(initial=0)))), len(str(m.shape[0] - 1)), 3) + 1
    lines = [
        "confusion matrix (rows: true class, columns: predicted class)",
        "true\\pred" + "".join(f"{j:>{width}}" for j in range(m.shape[1])) + f"{'total':>{width + 3}}",
    ]
    for i, row in enumerate(m):
        lines.append(f"{i:>9}" + "".join(f"{int(v):>{width}}" for v in row) + f"{int(row.sum()):>{width + 3}}")
    return "\n".join(lines)


def format_accuracy(correct: int, total: int, prefix: str = "accuracy") -> str:
    """``accuracy: 0.9876 (9876/10000)``."""
    return f"{prefix}: {correct / max(total, 1):.4f} ({correct}/{total})"


def run(args: argparse.Namespace) -> int:
    """Rebuild the model from the file's metadata, evaluate it, print the confusion matrix and the accuracy."""
    if args.batch_size < 1:
        raise CLIError(f"argument --batch-size: must be >= 1, got {args.batch_size}")
    model, meta = load_model_file(args.checkpoint)
    dataset = args.dataset or meta.get("dataset", "mnist5k")
    if dataset not in DATASETS:
        raise CLIError(f"{args.checkpoint}: unknown data set {dataset!r} in the metadata; pass --dataset")
    spec = DATASETS[dataset]
    config = json.loads(meta["config"])
    expected = (config.get("in_channels", 1), config.get("image_size", 28))
    if (spec.channels, spec.image_size) != expected:
        raise CLIError(
            f"the model reads {expected[0]}x{expected[1]}x{expected[1]} images but {dataset} has "
            f"{spec.channels}x{spec.image_size}x{spec.image_size}"
        )
    if config.get("num_classes", spec.num_classes) != spec.num_classes:
        raise CLIError(f"the model has {config['num_classes']} classes but {dataset} has {spec.num_classes}")
    norm = json.loads(meta["normalize"]) if "normalize" in meta else {"mean": spec.mean, "std": spec.std}
    split = args.split or ("test" if spec.has_test else "val")
    data_dir = args.data_dir or meta.get("data_dir", "data")
    data = load_split(spec, split, data_dir, make_transform(spec, False, norm["mean"], norm["std"]))
    loader = DataLoader(data, batch_size=args.batch_size)
    loss, pred, label = evaluate_model(model, loader, nn.CrossEntropyLoss())
    correct = int((pred == label).sum())
    print(f"{meta['model']} on {dataset} {split} ({len(label)} images), loss {loss:.4f}")
    print(format_confusion(confusion_matrix(pred, label, spec.num_classes)))
    print(format_accuracy(correct, len(label)))
    return 0
