"""MNIST-style data sets: the bundled 5k digits (``MNIST5k``, ``load_mnist5k``, ``mnist5k_split``) and
readers of the standard IDX files (``MNIST``, ``FashionMNIST``).

Images are uint8 numpy arrays of shape (1, 28, 28) (channels first; torchvision gives PIL images).
"""

from __future__ import annotations

import gzip
import os
import zlib
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn.data.dataset import ImageArrayDataset
from tinygrad_cnn.data.download import download_and_verify

__all__ = ["MNIST", "MNIST5k", "FashionMNIST", "load_mnist5k", "mnist5k_split", "read_idx_images", "read_idx_labels"]

_MNIST5K_FILE = "mnist_5k.npz"
_DIGIT_CLASSES = [
    "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
]  # fmt: skip


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """Load the bundled 5,000 MNIST training digits.

    Returns:
        ``(images, labels)``: ``images`` is uint8 of shape (5000, 28, 28) with pixel values 0-255,
        ``labels`` is int64 of shape (5000,) with values 0-9. There are 500 images of each class,
        sorted by class. Fresh arrays are returned on every call.
    """
    ref = importlib_resources.files(__package__).joinpath(_MNIST5K_FILE)
    with importlib_resources.as_file(ref) as path, np.load(path, allow_pickle=False) as npz:
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


class MNIST5k(ImageArrayDataset):
    """The bundled 5,000 MNIST digits as a data set (no files, no network).

    Args:
        split: ``"train"`` or ``"val"`` (the stratified split of :func:`mnist5k_split` with
            ``val_fraction`` and ``seed``), or ``"all"`` (all 5,000, sorted by class).
        transform: applied to each uint8 (1, 28, 28) image.
        target_transform: applied to each int label.
    """

    classes = _DIGIT_CLASSES

    def __init__(
        self,
        split: str = "train",
        val_fraction: float = 0.1,
        seed: int = 0,
        transform: Any = None,
        target_transform: Any = None,
    ) -> None:
        if split == "all":
            images, labels = load_mnist5k()
        elif split in ("train", "val"):
            tr_x, tr_y, va_x, va_y = mnist5k_split(val_fraction, seed)
            images, labels = (tr_x, tr_y) if split == "train" else (va_x, va_y)
        else:
            raise ValueError(f"MNIST5k: split must be 'train', 'val' or 'all', got {split!r}")
        self.split = split
        super().__init__(images[:, None], labels, transform, target_transform)

    def _extra_repr(self) -> list[str]:
        return [f"    Split: {self.split}"]


# -- IDX files ---------------------------------------------------------------------------------------

_IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions


def _read_maybe_gz(path: Path) -> bytes:
    if path.suffix == ".gz":
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: not a valid gzip file ({e})") from None
    return path.read_bytes()


def _idx_header(buf: bytes, path: Path, magic: int, ndim: int) -> tuple[int, ...]:
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise ValueError(f"{path}: truncated IDX header: {len(buf)} bytes, expected at least {header}")
    got = int.from_bytes(buf[:4], "big")
    if got != magic:
        kind = "labels" if magic == _IDX_LABELS_MAGIC else "images"
        raise ValueError(
            f"{path}: bad magic number {got} (0x{got:08x}); an IDX {kind} file ({ndim} dimension(s), unsigned bytes) "
            f"starts with {magic} (0x{magic:08x})"
        )
    return tuple(int.from_bytes(buf[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))


def read_idx_labels(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX label file (optionally gzipped): magic 2049, a count, then one byte per label.

    Returns an int64 array (count,). Raises ValueError naming the file for a bad magic number, a
    payload whose size is not the header's count, or a label that is not in 0-9.
    """
    path = Path(path)
    buf = _read_maybe_gz(path)
    (count,) = _idx_header(buf, path, _IDX_LABELS_MAGIC, 1)
    payload = len(buf) - 8
    if payload != count:
        raise ValueError(f"{path}: the header says {count} labels but the file holds {payload} label bytes")
    labels = np.frombuffer(buf, dtype=np.uint8, offset=8)
    if labels.size and labels.max() > 9:
        bad = int(np.flatnonzero(labels > 9)[0])
        raise ValueError(f"{path}: label {int(labels[bad])} at index {bad} is out of range (labels must be 0-9)")
    return labels.astype(np.int64)


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX image file (optionally gzipped): magic 2051, count, rows, cols, then the pixels.

    Returns a uint8 array (count, 1, rows, cols). Raises ValueError naming the file for a bad magic
    number or a payload whose size is not count * rows * cols.
    """
    path = Path(path)
    buf = _read_maybe_gz(path)
    count, rows, cols = _idx_header(buf, path, _IDX_IMAGES_MAGIC, 3)
    payload = len(buf) - 16
    if payload != count * rows * cols:
        raise ValueError(
            f"{path}: the header says {count} images of {rows}x{cols} = {count * rows * cols} bytes but the file "
            f"holds {payload} pixel bytes"
        )
    return np.frombuffer(buf, dtype=np.uint8, offset=16).reshape(count, 1, rows, cols).copy()


class MNIST(ImageArrayDataset):
    """MNIST read from the standard IDX files in ``root`` (as ``torchvision.datasets.MNIST``).

    The training split reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``, the test
    split (``train=False``) ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or
    gzipped (``.gz``), from ``root/MNIST/raw/`` (torchvision's layout) or ``root`` itself. A split
    needs only its own two files. ``download=True`` fetches the missing gzipped files of the split into
    ``root/MNIST/raw/`` and checks their SHA-256 (and the MD5 torchvision lists).

    Items are ``(image, label)``: a uint8 (1, 28, 28) numpy array (channels first, unlike
    torchvision's PIL image) through ``transform``, and a Python int through ``target_transform``.
    ``data`` is uint8 (N, 1, 28, 28), ``targets`` int64 (N,).
    """

    classes = _DIGIT_CLASSES
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"]
    # file: (sha256, md5) of the gzipped files; the MD5s are torchvision's, the SHA-256s those published
    # for the same files (e.g. by tensorflow-datasets).
    resources = {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "f68b3c2dcbeaaa9fbdd348bbdeb94873"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "d53e105ee54ea40749a09fcbcd1e9432"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "9fb629c4189551a2d022fa330f9573f3"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ec29112dd5afa0611ce80d1b7f02629c"
        ),
    }  # fmt: skip

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        transform: Any = None,
        target_transform: Any = None,
        download: bool = False,
    ) -> None:
        self.root = Path(root).expanduser()
        self.train = bool(train)
        prefix = "train" if self.train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        if download and any(self._find(n) is None for n in names):
            self._download(names)
        image_file, label_file = self._find(names[0]), self._find(names[1])
        if image_file is None or label_file is None:
            missing = [n for n, p in zip(names, (image_file, label_file)) if p is None]
            raise FileNotFoundError(self._missing_message(missing))
        images = read_idx_images(image_file)
        labels = read_idx_labels(label_file)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{image_file} holds {images.shape[0]} images but {label_file} holds {labels.shape[0]} labels; "
                "the counts must agree"
            )
        super().__init__(images, labels, transform, target_transform)

    @property
    def raw_folder(self) -> Path:
        """``root/<ClassName>/raw``, where torchvision keeps the files (and ``download`` puts them)."""
        return self.root / type(self).__name__ / "raw"

    def _find(self, name: str) -> Path | None:
        for folder in (self.raw_folder, self.root):
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
        return None

    def _missing_message(self, missing: list[str]) -> str:
        split = "training" if self.train else "test"
        urls = "\n".join(f"    {self.mirrors[0]}{n}.gz" for n in missing)
        return (
            f"{type(self).__name__} {split} split: missing {', '.join(missing)} (plain or .gz). Put "
            f"{' and '.join(f'{n}.gz' for n in missing)} (or their unzipped versions) in {self.raw_folder} or in "
            f"{self.root}, or pass download=True. Download URLs:\n{urls}"
        )

    def _download(self, names: list[str]) -> None:
        gz = [f"{n}.gz" for n in names]
        for name in gz:
            if self._find(name.removesuffix(".gz")) is not None:
                continue
            sha256, md5 = self.resources[name]
            download_and_verify(
                [m + name for m in self.mirrors], self.raw_folder / name, sha256, md5=md5, manual_files=gz
            )

    def _extra_repr(self) -> list[str]:
        return [f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}"]


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando) from the same IDX file names as :class:`MNIST`, in ``root/FashionMNIST/raw/``
    or ``root``; items are uint8 (1, 28, 28) images and int labels of the 10 clothing classes."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    resources = {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", "25c81989df183df01b3e8a0aad5dffbe"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", "bef4ecab320f06d8554ea6380940ec79"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", "bb300cfdad3c16e7a12a480ee83cd310"
        ),
    }  # fmt: skip
