"""Data set readers on small files written in each real format: IDX (MNIST, Fashion-MNIST), CIFAR-10
binary and pickled batches, malformed and malicious files, downloads from local URLs; MNIST5k."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.data import (
    CIFAR10,
    MNIST,
    DataLoader,
    DownloadError,
    FashionMNIST,
    MNIST5k,
    UnsafePickleError,
    download_and_verify,
    mnist5k_split,
)
from tinygrad_cnn.data import transforms as T
from tinygrad_cnn.data.download import extract_tar

RNG = np.random.default_rng(0)


# -- writers of the real formats ---------------------------------------------------------------------


def idx_images(images: np.ndarray, magic: int = 2051, count: int | None = None) -> bytes:
    n, rows, cols = images.shape
    return struct.pack(">IIII", magic, n if count is None else count, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray, magic: int = 2049, count: int | None = None) -> bytes:
    return struct.pack(">II", magic, len(labels) if count is None else count) + labels.astype(np.uint8).tobytes()


def write(path: Path, payload: bytes, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def write_mnist(folder: Path, prefix: str, n: int, gz: bool, rows: int = 28, cols: int = 28):
    images = RNG.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    labels = RNG.integers(0, 10, size=n)
    write(folder / f"{prefix}-images-idx3-ubyte", idx_images(images), gz)
    write(folder / f"{prefix}-labels-idx1-ubyte", idx_labels(labels), gz)
    return images, labels


def cifar_records(n: int) -> tuple[np.ndarray, np.ndarray]:
    return RNG.integers(0, 256, size=(n, 3072), dtype=np.uint8), RNG.integers(0, 10, size=n)


def cifar_bin(data: np.ndarray, labels: np.ndarray) -> bytes:
    return np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1).tobytes()


def cifar_pickle(data: np.ndarray, labels: np.ndarray, protocol: int = 2) -> bytes:
    batch = {
        b"batch_label": b"training batch 1 of 5",
        b"labels": [int(v) for v in labels],
        b"data": data,
        b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))],
    }
    return pickle.dumps(batch, protocol=protocol)


def write_cifar(folder: Path, kind: str, n: int = 3, splits=("train", "test"), protocol: int = 2):
    """The official file names in ``folder``; returns {split: (data (N, 3072), labels)}."""
    out = {}
    for split in splits:
        names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        parts = [cifar_records(n) for _ in names]
        for name, (data, labels) in zip(names, parts, strict=True):
            if kind == "bin":
                write(folder / f"{name}.bin", cifar_bin(data, labels))
            else:
                write(folder / name, cifar_pickle(data, labels, protocol))
        out[split] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return out


# -- MNIST / FashionMNIST ----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("torchvision_layout", [False, True])
def test_mnist_reads_idx(tmp_path: Path, gz: bool, torchvision_layout: bool) -> None:
    folder = tmp_path / "MNIST" / "raw" if torchvision_layout else tmp_path
    images, labels = write_mnist(folder, "train", 7, gz)
    test_images, test_labels = write_mnist(folder, "t10k", 4, gz)
    ds = MNIST(tmp_path)
    assert len(ds) == 7 and ds.data.shape == (7, 1, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64 and ds.targets.tolist() == labels.tolist()
    np.testing.assert_array_equal(ds.data[:, 0], images)
    img, label = ds[3]
    assert img.shape == (1, 28, 28) and img.dtype == np.uint8 and type(label) is int and label == labels[3]
    np.testing.assert_array_equal(img[0], images[3])
    assert ds.classes[0] == "0 - zero" and len(ds.classes) == 10
    test = MNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(test.data[:, 0], test_images)
    assert test.targets.tolist() == test_labels.tolist()


def test_fashion_mnist_layout_and_classes(tmp_path: Path) -> None:
    images, labels = write_mnist(tmp_path / "FashionMNIST" / "raw", "t10k", 5, gz=True, rows=4, cols=6)
    ds = FashionMNIST(tmp_path, train=False)
    assert ds.data.shape == (5, 1, 4, 6) and ds.targets.tolist() == labels.tolist()
    assert ds.classes[-1] == "Ankle boot" and len(ds.classes) == 10
    with pytest.raises(FileNotFoundError):  # MNIST's folder is not FashionMNIST's
        MNIST(tmp_path, train=False)


def test_test_split_only_folder(tmp_path: Path) -> None:
    write_mnist(tmp_path, "t10k", 3, gz=True)
    assert len(MNIST(tmp_path, train=False)) == 3
    with pytest.raises(FileNotFoundError) as err:
        MNIST(tmp_path, train=True)
    msg = str(err.value)
    assert "train-images-idx3-ubyte" in msg and "train-labels-idx1-ubyte" in msg and "t10k" not in msg
    assert str(tmp_path / "MNIST" / "raw") in msg and str(tmp_path) in msg
    assert "https://" in msg and "download=True" in msg


def test_missing_one_file_names_only_that_file(tmp_path: Path) -> None:
    write(tmp_path / "train-images-idx3-ubyte", idx_images(np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(FileNotFoundError, match="missing train-labels-idx1-ubyte ") as err:
        MNIST(tmp_path)
    assert "missing train-images" not in str(err.value)


def test_mnist_transforms_and_getitems(tmp_path: Path) -> None:
    write_mnist(tmp_path, "train", 9, gz=False)
    ds = MNIST(tmp_path, transform=T.ToTensor(), target_transform=lambda y: y + 100)
    img, label = ds[0]
    assert img.dtype == np.float32 and label >= 100
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    plain = MNIST(tmp_path)
    batch = plain.__getitems__([8, 1])
    np.testing.assert_array_equal(batch[0][0], plain.data[8])
    assert batch[1][1] == plain.targets[1]
    assert "Number of datapoints: 9" in repr(plain)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "case, match",
    [
        ("images_magic", "bad magic number 2049"),
        ("labels_magic", "bad magic number 2051"),
        ("truncated_images", "the header says 3 images of 28x28"),
        ("truncated_labels", "the header says 3 labels"),
        ("extra_bytes", "the header says 3 images"),
        ("count_mismatch", "holds 3 images but .* holds 2 labels"),
        ("label_range", "label 10 at index 1 is out of range"),
        ("short_header", "truncated IDX header"),
    ],
)
def test_malformed_idx(tmp_path: Path, gz: bool, case: str, match: str) -> None:
    images = np.zeros((3, 28, 28), np.uint8)
    labels = np.array([1, 2, 3])
    img_bytes, lab_bytes = idx_images(images), idx_labels(labels)
    bad_file = "images"
    if case == "images_magic":
        img_bytes = idx_images(images, magic=2049)
    elif case == "labels_magic":
        lab_bytes, bad_file = idx_labels(labels, magic=2051), "labels"
    elif case == "truncated_images":
        img_bytes = img_bytes[:-10]
    elif case == "truncated_labels":
        lab_bytes, bad_file = lab_bytes[:-1], "labels"
    elif case == "extra_bytes":
        img_bytes += b"\0"
    elif case == "count_mismatch":
        lab_bytes = idx_labels(labels[:2])
    elif case == "label_range":
        lab_bytes, bad_file = idx_labels(np.array([1, 10, 3])), "labels"
    elif case == "short_header":
        img_bytes = img_bytes[:10]
    write(tmp_path / "train-images-idx3-ubyte", img_bytes, gz)
    write(tmp_path / "train-labels-idx1-ubyte", lab_bytes, gz)
    with pytest.raises(ValueError, match=match) as err:
        MNIST(tmp_path)
    assert f"train-{bad_file}-idx" in str(err.value)


def test_corrupt_gzip(tmp_path: Path) -> None:
    write_mnist(tmp_path, "train", 2, gz=True)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: not a valid gzip"):
        MNIST(tmp_path)


# -- CIFAR-10 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, sub",
    [("bin", "cifar-10-batches-bin"), ("bin", ""), ("py", "cifar-10-batches-py"), ("py", "")],
)
def test_cifar_reads_both_formats(tmp_path: Path, kind: str, sub: str) -> None:
    ref = write_cifar(tmp_path / sub, kind)
    for train, split in ((True, "train"), (False, "test")):
        ds = CIFAR10(tmp_path, train=train)
        data, labels = ref[split]
        assert len(ds) == len(labels) == (15 if train else 3)
        assert ds.data.shape == (len(labels), 3, 32, 32) and ds.data.dtype == np.uint8
        assert ds.targets.dtype == np.int64 and ds.targets.tolist() == labels.tolist()
        np.testing.assert_array_equal(ds.data.reshape(len(labels), -1), data)
        img, label = ds[1]
        np.testing.assert_array_equal(img[0].ravel(), data[1, :1024])  # red plane first
        np.testing.assert_array_equal(img[2, 31], data[1, -32:])  # last row of blue
        assert type(label) is int and label == labels[1]
    assert ds.classes == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_pickle_protocols(tmp_path: Path, protocol: int) -> None:
    ref = write_cifar(tmp_path / "cifar-10-batches-py", "py", splits=("test",), protocol=protocol)
    ds = CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data.reshape(3, -1), ref["test"][0])


def test_cifar_test_split_only_and_missing_message(tmp_path: Path) -> None:
    write_cifar(tmp_path / "cifar-10-batches-bin", "bin", splits=("test",))
    assert len(CIFAR10(tmp_path, train=False)) == 3
    with pytest.raises(FileNotFoundError) as err:
        CIFAR10(tmp_path, train=True)
    msg = str(err.value)
    assert "data_batch_1.bin" in msg and "data_batch_5.bin" in msg and "test_batch" not in msg
    assert str(tmp_path / "cifar-10-batches-bin") in msg and str(tmp_path / "cifar-10-batches-py") in msg
    assert "cifar-10-binary.tar.gz" in msg


def test_cifar_binary_malformed(tmp_path: Path) -> None:
    data, labels = cifar_records(2)
    folder = tmp_path / "cifar-10-batches-bin"
    write(folder / "test_batch.bin", cifar_bin(data, labels)[:-5])
    with pytest.raises(ValueError, match="test_batch.bin: size 6141 bytes is not a positive multiple of the 3073"):
        CIFAR10(tmp_path, train=False)
    write(folder / "test_batch.bin", b"")
    with pytest.raises(ValueError, match="test_batch.bin"):
        CIFAR10(tmp_path, train=False)
    write(folder / "test_batch.bin", cifar_bin(data, np.array([3, 12])))
    with pytest.raises(ValueError, match="test_batch.bin: record 1 has label 12"):
        CIFAR10(tmp_path, train=False)


@pytest.mark.parametrize(
    "payload, match",
    [
        ({b"data": np.zeros((2, 3072), np.int64), b"labels": [1, 2]}, "uint8 array of shape \\(N, 3072\\)"),
        ({b"data": np.zeros((2, 3071), np.uint8), b"labels": [1, 2]}, "uint8 array of shape \\(N, 3072\\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 10]}, "label 10 is out of range"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "2 images but 1 labels"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1.0, 2.0]}, "list of ints"),
        ({b"labels": [1, 2]}, "lacks b'data'"),
        ([1, 2, 3], "expected a dict"),
    ],
)
def test_cifar_pickle_malformed(tmp_path: Path, payload: object, match: str) -> None:
    write(tmp_path / "test_batch", pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match=match) as err:
        CIFAR10(tmp_path, train=False)
    assert "test_batch" in str(err.value)


def test_cifar_truncated_pickle(tmp_path: Path) -> None:
    data, labels = cifar_records(2)
    write(tmp_path / "test_batch", cifar_pickle(data, labels)[:-20])
    with pytest.raises(ValueError, match="test_batch: not a valid pickle"):
        CIFAR10(tmp_path, train=False)


class _SystemCall:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _EvalCall:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import builtins

        return builtins.exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.mark.parametrize("evil, refused", [(_SystemCall, "posix.system"), (_EvalCall, "builtins.exec")])
def test_malicious_pickle_is_refused_without_running(tmp_path: Path, evil: type, refused: str) -> None:
    if refused == "posix.system" and os.name != "posix":
        pytest.skip("os.system pickles as posix.system only on POSIX")
    marker = tmp_path / "pwned"
    data, labels = cifar_records(2)
    batch = {b"data": data, b"labels": [int(v) for v in labels], b"filenames": [evil(marker)]}
    write(tmp_path / "cifar-10-batches-py" / "test_batch", pickle.dumps(batch, protocol=2))
    with pytest.raises(UnsafePickleError) as err:
        CIFAR10(tmp_path, train=False)
    assert isinstance(err.value, ValueError) and isinstance(err.value, pickle.UnpicklingError)
    assert "test_batch" in str(err.value)
    assert refused in str(err.value) or refused.replace("builtins", "__builtin__") in str(err.value)  # protocol 2 name
    assert not marker.exists()
    # The payload is live: a plain pickle.load would have run it.
    if refused == "builtins.exec":
        pickle.loads((tmp_path / "cifar-10-batches-py" / "test_batch").read_bytes())
        assert marker.exists()


def test_codecs_encode_only_for_latin1(tmp_path: Path) -> None:
    # protocol 2 writes bytes as _codecs.encode(str, "latin1"); any other codec is refused
    payload = pickle.dumps(b"abc", protocol=2).replace(b"latin1", b"rot_13")
    write(tmp_path / "test_batch", payload)
    with pytest.raises(ValueError, match="latin1|latin-1"):
        CIFAR10(tmp_path, train=False)


# -- downloads ---------------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_and_verify_file_url(tmp_path: Path) -> None:
    src = write(tmp_path / "src" / "blob.bin", b"hello" * 1000)
    dest = tmp_path / "out" / "sub" / "blob.bin"
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    got = download_and_verify(src.as_uri(), dest, _sha(src.read_bytes()), md5=md5)
    assert got == dest and dest.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["blob.bin"]  # no temporary left behind


def test_download_mismatch_removes_file(tmp_path: Path) -> None:
    src = write(tmp_path / "blob.bin", b"payload")
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        download_and_verify(src.as_uri(), dest, "0" * 64)
    assert list(dest.parent.iterdir()) == []
    with pytest.raises(ValueError, match="MD5 mismatch"):
        download_and_verify(src.as_uri(), dest, _sha(b"payload"), md5="0" * 32)
    assert list(dest.parent.iterdir()) == []


def test_download_network_failure_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    dest = tmp_path / "raw" / "a.gz"
    with pytest.raises(DownloadError) as err:
        download_and_verify(["https://example.invalid/a.gz", "https://mirror.invalid/a.gz"], dest, "0" * 64,
                            manual_files=["a.gz", "b.gz"])  # fmt: skip
    msg = str(err.value)
    assert "no network" in msg and str(dest.parent) in msg and "a.gz, b.gz" in msg and "by hand" in msg
    assert list(dest.parent.iterdir()) == []
    # a file already there with the right digest needs no network
    dest.write_bytes(b"ok")
    assert download_and_verify("https://example.invalid/a.gz", dest, _sha(b"ok")) == dest


def test_download_falls_back_to_next_mirror(tmp_path: Path) -> None:
    src = write(tmp_path / "m2" / "f.gz", b"data")
    missing = (tmp_path / "m1" / "f.gz").as_uri()
    dest = download_and_verify([missing, src.as_uri()], tmp_path / "out" / "f.gz", _sha(b"data"))
    assert dest.read_bytes() == b"data"


def test_mnist_download_from_local_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = tmp_path / "mirror"
    images, labels = write_mnist(mirror, "t10k", 4, gz=True)
    digests = {p.name: (_sha(p.read_bytes()), hashlib.md5(p.read_bytes()).hexdigest()) for p in mirror.iterdir()}
    monkeypatch.setattr(MNIST, "mirrors", [(tmp_path / "nowhere").as_uri() + "/", mirror.as_uri() + "/"])
    monkeypatch.setattr(MNIST, "resources", digests)
    root = tmp_path / "data"
    ds = MNIST(root, train=False, download=True)
    assert sorted(p.name for p in (root / "MNIST" / "raw").iterdir()) == sorted(digests)
    np.testing.assert_array_equal(ds.data[:, 0], images)
    # a wrong digest fails and leaves nothing behind
    monkeypatch.setattr(MNIST, "resources", {k: ("f" * 64, v[1]) for k, v in digests.items()})
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        MNIST(tmp_path / "other", train=False, download=True)
    assert not any((tmp_path / "other" / "MNIST" / "raw").iterdir())


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_cifar_download_and_extract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, labels = cifar_records(4)
    archive = write(tmp_path / "mirror" / "cifar-10-binary.tar.gz",
                    _tar_gz({"cifar-10-batches-bin/test_batch.bin": cifar_bin(data, labels)}))  # fmt: skip
    blob = archive.read_bytes()
    monkeypatch.setattr(CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(CIFAR10, "archive_sha256", _sha(blob))
    monkeypatch.setattr(CIFAR10, "archive_md5", hashlib.md5(blob).hexdigest())
    ds = CIFAR10(tmp_path / "root", train=False, download=True)
    assert ds.targets.tolist() == labels.tolist()
    assert (tmp_path / "root" / "cifar-10-batches-bin" / "test_batch.bin").is_file()


def test_extract_tar_refuses_escaping_members(tmp_path: Path) -> None:
    archive = write(tmp_path / "evil.tar.gz", _tar_gz({"../escaped.txt": b"x", "ok.txt": b"y"}))
    with pytest.raises((tarfile.TarError, ValueError)):
        extract_tar(archive, tmp_path / "dest")
    assert not (tmp_path / "escaped.txt").exists()


def test_official_digests_are_well_formed() -> None:
    for cls in (MNIST, FashionMNIST):
        assert sorted(cls.resources) == sorted(
            f"{p}-{k}-idx{d}-ubyte.gz" for p in ("train", "t10k") for k, d in (("images", 3), ("labels", 1))
        )
        for sha, md5 in cls.resources.values():
            assert len(sha) == 64 and len(md5) == 32 and int(sha, 16) >= 0 and int(md5, 16) >= 0
    assert len(CIFAR10.archive_sha256) == 64 and len(CIFAR10.archive_md5) == 32


# -- MNIST5k -----------------------------------------------------------------------------------------


def test_mnist5k_splits_sizes_and_stratification() -> None:
    train, val, full = MNIST5k("train"), MNIST5k("val"), MNIST5k("all")
    assert (len(train), len(val), len(full)) == (4500, 500, 5000)
    assert np.bincount(val.targets, minlength=10).tolist() == [50] * 10
    assert np.bincount(train.targets, minlength=10).tolist() == [450] * 10
    assert train.data.shape == (4500, 1, 28, 28) and train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    img, label = val[0]
    assert img.shape == (1, 28, 28) and img.dtype == np.uint8 and type(label) is int
    tr_x, tr_y, va_x, va_y = mnist5k_split(0.1, 0)
    np.testing.assert_array_equal(val.data[:, 0], va_x)
    np.testing.assert_array_equal(train.targets, tr_y)
    small = MNIST5k("val", val_fraction=0.2, seed=3)
    assert len(small) == 1000 and np.bincount(small.targets).tolist() == [100] * 10
    assert full.targets.tolist() == sorted(full.targets.tolist())
    img[:] = 255 - img  # items are copies: the data set is unchanged
    np.testing.assert_array_equal(val.data[0, 0], va_x[0])
    with pytest.raises(ValueError, match="split"):
        MNIST5k("test")


def test_mnist5k_loader_with_augmentation_reproducible() -> None:
    tfm = T.Compose([T.RandomShift(2), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds = MNIST5k("val", transform=tfm)

    def run() -> list[np.ndarray]:
        tc.manual_seed(0)
        return [x.data for x, _ in DataLoader(ds, batch_size=128, shuffle=True)]

    a, b = run(), run()
    assert [x.shape for x in a] == [(128, 1, 28, 28)] * 3 + [(116, 1, 28, 28)]
    assert a[0].dtype == np.float32
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
