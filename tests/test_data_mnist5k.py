"""The bundled MNIST 5k digits: contents, checksum, and the stratified split."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tinygrad_cnn.data import load_mnist5k, mnist5k_split

# sha256 of the arrays' bytes (C order) as converted from the csv whose sha256 is in NOTICE.md.
IMAGES_SHA256 = "2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f"
LABELS_UINT8_SHA256 = "41b7b0a9d94690a3a2f54a1d01a9f1cc1b9512e3954fb737ad5ed9f66972403d"


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _row_keys(images: np.ndarray) -> list[bytes]:
    return [img.tobytes() for img in images]


def test_shapes_dtypes_and_range() -> None:
    images, labels = load_mnist5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 255
    assert labels.min() == 0 and labels.max() == 9


def test_500_per_class() -> None:
    _, labels = load_mnist5k()
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10


def test_checksum_stable() -> None:
    images, labels = load_mnist5k()
    assert _sha(images) == IMAGES_SHA256
    assert _sha(labels.astype(np.uint8)) == LABELS_UINT8_SHA256


def test_fresh_arrays_each_call() -> None:
    a, la = load_mnist5k()
    a[0, 0, 0] = 77
    la[0] = 9
    b, lb = load_mnist5k()
    assert b[0, 0, 0] == 0 and lb[0] == 0


@pytest.mark.parametrize("val_fraction", [0.1, 0.2])
def test_split_stratified_disjoint_covering(val_fraction: float) -> None:
    tr_x, tr_y, va_x, va_y = mnist5k_split(val_fraction=val_fraction, seed=0)
    n_val_per_class = round(500 * val_fraction)
    assert tr_x.dtype == va_x.dtype == np.uint8
    assert tr_y.dtype == va_y.dtype == np.int64
    assert tr_x.shape == (5000 - 10 * n_val_per_class, 28, 28)
    assert va_x.shape == (10 * n_val_per_class, 28, 28)
    assert np.bincount(va_y, minlength=10).tolist() == [n_val_per_class] * 10
    assert np.bincount(tr_y, minlength=10).tolist() == [500 - n_val_per_class] * 10

    # Disjoint and covering: as a multiset of (image, label), train + val is the whole data set.
    images, labels = load_mnist5k()
    whole = sorted(zip(_row_keys(images), labels.tolist(), strict=True))
    parts = sorted(zip(_row_keys(np.concatenate([tr_x, va_x])), np.concatenate([tr_y, va_y]).tolist(), strict=True))
    assert parts == whole
    # No image of val also appears in train (the data set holds no duplicate images).
    assert len(set(_row_keys(images))) == 5000
    assert not set(_row_keys(tr_x)) & set(_row_keys(va_x))


def test_split_reproducible_and_seed_dependent() -> None:
    a = mnist5k_split(seed=0)
    b = mnist5k_split(seed=0)
    c = mnist5k_split(seed=1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[3], c[3]) or not np.array_equal(a[2], c[2])


def test_split_is_shuffled() -> None:
    _, tr_y, _, va_y = mnist5k_split(seed=0)
    assert not np.all(np.diff(tr_y) >= 0)
    assert not np.all(np.diff(va_y) >= 0)


def test_split_rejects_bad_fraction() -> None:
    with pytest.raises(ValueError):
        mnist5k_split(val_fraction=1.5)
