"""Bundled data sets.

For now this holds one small real data set, 5,000 MNIST training digits (``load_mnist5k``,
``mnist5k_split``), shipped as package data so that examples run with no network. Provenance and
licence: ``NOTICE.md`` next to this file. This package will grow ``Dataset``/``DataLoader``
utilities later.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["load_mnist5k", "mnist5k_split"]

_MNIST5K_FILE = "mnist_5k.npz"


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """Load the bundled 5,000 MNIST training digits.

    Returns:
        ``(images, labels)``: ``images`` is uint8 of shape (5000, 28, 28) with pixel values 0-255,
        ``labels`` is int64 of shape (5000,) with values 0-9. There are 500 images of each class,
        sorted by class. Fresh arrays are returned on every call.
    """
    ref = resources.files(__package__).joinpath(_MNIST5K_FILE)
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as npz:
        images = np.asarray(npz["images"], dtype=np.uint8)
        labels = np.asarray(npz["labels"]).astype(np.int64)
    return images, labels


def mnist5k_split(val_fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the bundled digits into a training and a validation set, stratified by class.

    From each class, ``round(val_fraction * class_size)`` images, drawn at random with
    ``np.random.default_rng(seed)``, go to the validation set, so both sets have the same class
    proportions (with 500 per class and the default 0.1: 4,500 train and 500 val, 50 per class).
    Each set is then shuffled with the same generator. The split is disjoint and covers all 5,000
    images, and the same ``seed`` gives the same split.

    Args:
        val_fraction: fraction of each class put in the validation set, in [0, 1].
        seed: seed of the random generator.

    Returns:
        ``(train_images, train_labels, val_images, val_labels)``, with the dtypes of
        :func:`load_mnist5k` (uint8 images, int64 labels).
    """
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be in [0, 1], got {val_fraction}")
    images, labels = load_mnist5k()
    rng = np.random.default_rng(seed)
    train_idx: list[np.ndarray] = []
    val_idx: list[np.ndarray] = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(val_fraction * idx.size))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    train = rng.permutation(np.concatenate(train_idx))
    val = rng.permutation(np.concatenate(val_idx))
    return images[train], labels[train], images[val], labels[val]
