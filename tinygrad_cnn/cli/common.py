"""What ``train``, ``evaluate`` and ``plot`` share: the data sets, the model file's metadata, user errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROG = "tinygrad-cnn"
MODEL_FORMAT = "tinygrad-cnn/1"  # the "format" metadata entry of model.safetensors
CHECKPOINT_FORMAT = "tinygrad-cnn-checkpoint/1"  # the "format" entry of checkpoint.safetensors' state
SPLIT_SEED = 0  # seed of the train/validation split of the official training sets (fixed: evaluate redoes it)


class CLIError(Exception):
    """A user error: ``main`` prints ``tinygrad-cnn: error: <message>`` and exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(text: object) -> str:
    """``text`` with its lines joined (multi-line library messages become one line)."""
    return " ".join(str(text).split())


@dataclass(frozen=True)
class DatasetSpec:
    """A data set the commands know: its shape, normalisation, validation split and augmentation."""

    name: str
    channels: int
    image_size: int
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    val_size: int  # images of the official training set held out for validation (mnist5k: its own 500)
    has_test: bool
    augment: Callable[[], list[Any]]  # the random training transforms (before ToTensor)


def _digit_augment() -> list[Any]:
    from tinygrad_cnn.data import transforms as T

    return [T.RandomAffine(degrees=8, translate=(0.08, 0.08))]  # up to 8 degrees and 2 pixels


def _fashion_augment() -> list[Any]:
    from tinygrad_cnn.data import transforms as T

    return [T.RandomHorizontalFlip(), T.RandomCrop(28, padding=2)]


def _cifar_augment() -> list[Any]:
    from tinygrad_cnn.data import transforms as T

    return [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()]


MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
DATASETS: dict[str, DatasetSpec] = {
    "mnist5k": DatasetSpec("mnist5k", 1, 28, 10, MNIST_MEAN, MNIST_STD, 500, False, _digit_augment),
    "mnist": DatasetSpec("mnist", 1, 28, 10, MNIST_MEAN, MNIST_STD, 5000, True, _digit_augment),
    "fashion-mnist": DatasetSpec("fashion-mnist", 1, 28, 10, (0.2860,), (0.3530,), 5000, True, _fashion_augment),
    "cifar10": DatasetSpec(
        "cifar10", 3, 32, 10, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), 5000, True, _cifar_augment
    ),
}


def make_transform(spec: DatasetSpec, augment: bool, mean: Sequence[float], std: Sequence[float]) -> Any:
    """[augmentation,] ToTensor, Normalize(mean, std): uint8 (C, H, W) -> normalised float32."""
    from tinygrad_cnn.data import transforms as T

    steps = (spec.augment() if augment else []) + [T.ToTensor(), T.Normalize(list(mean), list(std))]
    return T.Compose(steps)


class _Transformed:
    """The items of ``dataset`` with ``transform`` applied to each image (a data set view)."""

    def __init__(self, dataset: Any, transform: Any) -> None:
        self.dataset, self.transform = dataset, transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image, label = self.dataset[index]
        return self.transform(image), label


def load_split(
    spec: DatasetSpec, split: str, data_dir: str | os.PathLike, transform: Any, *, download: bool = False
) -> Any:
    """The ``split`` ("train", "val" or "test") of a data set, each image through ``transform``.

    mnist5k uses its bundled stratified 4,500/500 split. For the other data sets "train" and "val" are a
    seeded split (``SPLIT_SEED``) of the official training set (``spec.val_size`` = 5,000 images for
    validation, at most 10% of a smaller set) and "test" is the official test set. A missing data
    folder raises the reader's FileNotFoundError.
    """
    from tinygrad_cnn import data

    if split not in ("train", "val", "test"):
        raise CLIError(f"unknown split {split!r}; choose from train, val, test")
    if spec.name == "mnist5k":
        if split == "test":
            raise CLIError("mnist5k has no test split (its 5,000 digits are split into train and val); use --split val")
        return data.MNIST5k(split=split, transform=transform)
    readers = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}
    reader = getattr(data, readers[spec.name])
    try:
        if split == "test":
            return reader(data_dir, train=False, transform=transform, download=download)
        full = reader(data_dir, train=True, download=download)
    except FileNotFoundError as e:  # the reader's message, with the command's option for downloading
        raise CLIError(one_line(e).replace("pass download=True", "pass --download (train)")) from None
    val_size = min(spec.val_size, len(full) // 10)  # 5,000 of the official sets; 10% of a smaller one
    order = np.random.default_rng(SPLIT_SEED).permutation(len(full))
    indices = np.sort(order[:val_size] if split == "val" else order[val_size:])
    return _Transformed(data.Subset(full, indices.tolist()), transform)


def check_positive(name: str, value: float | None, minimum: float = 0.0, strict: bool = True) -> None:
    """CLIError unless ``value`` (when given) is > minimum (or >= with ``strict=False``)."""
    if value is None:
        return
    ok = value > minimum if strict else value >= minimum
    if not ok or value != value:  # NaN fails too
        raise CLIError(f"argument {name}: must be {'>' if strict else '>='} {minimum:g}, got {value:g}")


# -- model files ----------------------------------------------------------------------------------------
def model_metadata(
    model_name: str, config: Mapping[str, Any], spec: DatasetSpec, data_dir: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The str -> str metadata of model.safetensors: enough for ``evaluate`` to rebuild model and data."""
    meta = {
        "format": MODEL_FORMAT,
        "model": model_name,
        "config": json.dumps(dict(config), sort_keys=True),
        "dataset": spec.name,
        "data_dir": str(Path(data_dir).expanduser().resolve()),
        "normalize": json.dumps({"mean": list(spec.mean), "std": list(spec.std)}),
        "split_seed": str(SPLIT_SEED),
    }
    meta.update(extra or {})
    return meta


def load_model_file(path: str | os.PathLike) -> tuple[Any, dict[str, str]]:
    """Rebuild the model saved in ``path`` (model.safetensors or checkpoint.safetensors): (model, metadata).

    Raises CLIError for a missing file, a file that is not safetensors, or one without our metadata.
    """
    from tinygrad_cnn import serialization
    from tinygrad_cnn.models import get_model

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CLIError(f"{path}: no such file")
    metadata = serialization.load_metadata(path)  # ValueError for a corrupt file
    if metadata.get("format") == MODEL_FORMAT:
        weights: Mapping[str, Any] = serialization.load(path)
    elif serialization.STATE_KEY in metadata:
        state = serialization.load_state(path)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise CLIError(f"{path}: not a checkpoint written by `{PROG} train`")
        weights, metadata = state["model"], dict(state["meta"])
    else:
        raise CLIError(
            f"{path}: a safetensors file without {PROG}'s model metadata (was it written by `{PROG} train`?)"
        )
    try:
        config = json.loads(metadata["config"])
        model = get_model(metadata["model"], **config)
    except (KeyError, json.JSONDecodeError, TypeError) as e:
        raise CLIError(f"{path}: bad model metadata ({one_line(e)})") from None
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        raise CLIError(f"{path}: the weights do not fit model {metadata['model']}: {one_line(e)}") from None
    return model, metadata
