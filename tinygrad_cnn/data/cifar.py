"""CIFAR-10 from either official distribution: the binary version (``*.bin`` records) or the Python
version (pickles), the latter read with an unpickler that refuses to run code.

Images are uint8 numpy arrays of shape (3, 32, 32) (channels first; torchvision gives PIL images).
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn.data.dataset import ImageArrayDataset
from tinygrad_cnn.data.download import download_and_verify, extract_tar

__all__ = ["CIFAR10", "UnsafePickleError", "read_cifar_binary", "read_cifar_pickle", "safe_load_pickle"]

_RECORD = 1 + 3 * 32 * 32  # label byte + 1024 red, 1024 green, 1024 blue bytes (rows top to bottom)


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked for a global that the restricted unpickler does not admit."""


def _numpy_global(module: str, name: str) -> Any:
    import importlib

    # numpy 2 keeps the code in numpy._core (numpy.core is a deprecated alias); numpy 1.x in numpy.core
    for mod in (module.replace("numpy.core.", "numpy._core."), module.replace("numpy._core.", "numpy.core.")):
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"cannot find {module}.{name} in this numpy")


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` restricted to latin-1: how Python 3 writes bytes in pickle protocols 0-2."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"_codecs.encode is admitted only as encode(str, 'latin1'), got encoding {encoding!r}")
    return text.encode("latin1")


_ALLOWED: dict[tuple[str, str], Callable[[], Any]] = {
    ("numpy.core.multiarray", "_reconstruct"): lambda: _numpy_global("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): lambda: _numpy_global("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    # pickle protocol 5 (numpy >= 1.16 writes arrays with _frombuffer there)
    ("numpy.core.numeric", "_frombuffer"): lambda: _numpy_global("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): lambda: _numpy_global("numpy._core.numeric", "_frombuffer"),
    # pickle protocols 0-2 written by Python 3 store bytes as _codecs.encode(str, "latin1")
    ("_codecs", "encode"): lambda: _latin1_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits only the globals needed to rebuild numpy arrays; anything else raises before it runs."""

    def __init__(self, file: Any, source: str) -> None:
        super().__init__(file, encoding="bytes")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise UnsafePickleError(
                f"{self._source}: refusing to load the global {module}.{name}; a CIFAR-10 pickle needs only numpy's "
                "array reconstruction (numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype)"
            )
        return factory()

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._source}: refusing a persistent id in the pickle")


def safe_load_pickle(path: str | os.PathLike) -> Any:
    """Unpickle ``path`` (with ``encoding="bytes"``, for Python 2 pickles) without executing code.

    Only numpy's array reconstruction globals are admitted (plus ``_codecs.encode`` limited to
    latin-1, which Python 3 protocol-2 pickles use for bytes); any other global raises
    ``UnsafePickleError`` (both a ``pickle.UnpicklingError`` and a ``ValueError``) naming the file and
    the global, before anything is called. Other corruption raises ValueError naming the file.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        return _RestrictedUnpickler(io.BytesIO(data), str(path)).load()
    except UnsafePickleError:
        raise
    except Exception as e:  # truncated or garbled pickles raise many types
        raise ValueError(f"{path}: not a valid pickle ({type(e).__name__}: {e})") from None


def _get(d: dict, key: str) -> Any:
    for k in (key.encode(), key):
        if k in d:
            return d[k]
    return None


def read_cifar_pickle(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch of the Python version (a dict with ``b"data"``: uint8 (N, 3072), ``b"labels"``:
    N ints in 0-9). Returns images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    path = Path(path)
    d = safe_load_pickle(path)
    if not isinstance(d, dict):
        raise ValueError(f"{path}: expected a dict with b'data' and b'labels', got {type(d).__name__}")
    data, labels = _get(d, "data"), _get(d, "labels")
    if data is None or labels is None:
        raise ValueError(f"{path}: the dict lacks b'data' or b'labels' (keys: {sorted(map(repr, d))})")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        desc = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"{path}: b'data' must be a uint8 array of shape (N, 3072), got {desc}")
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if not isinstance(labels, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        raise ValueError(f"{path}: b'labels' must be a list of ints")
    if len(labels) != data.shape[0]:
        raise ValueError(f"{path}: {data.shape[0]} images but {len(labels)} labels")
    bad = [v for v in labels if not 0 <= v <= 9]
    if bad:
        raise ValueError(f"{path}: label {bad[0]} is out of range (labels must be 0-9)")
    return np.ascontiguousarray(data.reshape(-1, 3, 32, 32)), np.asarray(labels, dtype=np.int64)


def read_cifar_binary(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch of the binary version: 3073-byte records (label byte, then 3072 pixel bytes:
    red, green, blue planes of 32 x 32). Returns images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(
            f"{path}: size {raw.size} bytes is not a positive multiple of the 3073-byte CIFAR-10 record "
            "(1 label byte + 3072 pixel bytes)"
        )
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.flatnonzero(labels > 9)[0])
        raise ValueError(f"{path}: record {bad} has label {int(labels[bad])}; labels must be 0-9")
    return np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32), labels


class CIFAR10(ImageArrayDataset):
    """CIFAR-10 (50,000 training and 10,000 test 32x32 colour images in 10 classes).

    Reads, from ``root/cifar-10-batches-bin``, ``root/cifar-10-batches-py`` or ``root`` itself, either
    the binary files (``data_batch_1.bin`` .. ``data_batch_5.bin`` for ``train=True``,
    ``test_batch.bin`` for ``train=False``) or the Python pickles (``data_batch_1`` .. ``data_batch_5``,
    ``test_batch``), which are loaded without executing any code (see :func:`safe_load_pickle`).
    ``download=True`` fetches ``cifar-10-binary.tar.gz`` into ``root``, checks its SHA-256 and MD5 and
    extracts it (tarfile ``filter="data"``).

    Items are ``(image, label)``: a uint8 (3, 32, 32) numpy array (channels first, unlike torchvision's
    PIL image) through ``transform``, and a Python int through ``target_transform``.
    ``data`` is uint8 (N, 3, 32, 32), ``targets`` int64 (N,).
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    archive = "cifar-10-binary.tar.gz"
    # SHA-256 as published for the archive (e.g. by tensorflow-datasets); MD5 from the CIFAR page / torchvision.
    archive_sha256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
    archive_md5 = "c32a1d4ab5d03f1284b67883e8d87530"

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
        names = [f"data_batch_{i}" for i in range(1, 6)] if self.train else ["test_batch"]
        found = self._find(names)
        if found is None and download:
            self._download()
            found = self._find(names)
        if found is None:
            raise FileNotFoundError(self._missing_message(names))
        files, reader = found
        parts = [reader(f) for f in files]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        super().__init__(images, labels, transform, target_transform)

    def _folders(self) -> list[Path]:
        return [self.root / "cifar-10-batches-bin", self.root / "cifar-10-batches-py", self.root]

    def _find(self, names: list[str]) -> tuple[list[Path], Callable] | None:
        for folder in self._folders():
            binary = [folder / f"{n}.bin" for n in names]
            if all(p.is_file() for p in binary):
                return binary, read_cifar_binary
            pickles = [folder / n for n in names]
            if all(p.is_file() for p in pickles):
                return pickles, read_cifar_pickle
        return None

    def _missing_message(self, names: list[str]) -> str:
        split = "training" if self.train else "test"
        return (
            f"CIFAR10 {split} split: files not found. Put either the binary files "
            f"{', '.join(n + '.bin' for n in names)} in {self.root / 'cifar-10-batches-bin'}, or the Python "
            f"pickles {', '.join(names)} in {self.root / 'cifar-10-batches-py'} (either may also sit directly in "
            f"{self.root}); they come from {self.url} (extract it in {self.root}) or "
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz; or pass download=True."
        )

    def _download(self) -> None:
        path = download_and_verify(
            self.url,
            self.root / self.archive,
            self.archive_sha256,
            md5=self.archive_md5,
            manual_files=[f"{self.archive} (or the cifar-10-batches-bin folder it holds)"],
        )
        extract_tar(path, self.root)

    def _extra_repr(self) -> list[str]:
        return [f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}"]
