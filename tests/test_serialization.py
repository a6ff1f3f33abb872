"""save / load / load_metadata / save_state / load_state: safetensors files, no pickle, atomic writes."""

from __future__ import annotations

import collections
import json
import os
import pickle
import random
import re
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn import serialization as ser
from tinygrad_cnn.serialization import STATE_KEY, load, load_metadata, load_state, save, save_state

DTYPES = [np.dtype(d) for d in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")]
DTYPES += [np.dtype(d) for d in ("uint16", "uint32", "uint64", ">f8", ">i4")]  # extra widths, big-endian input


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the property tests (function-scoped tmp_path doesn't mix with @given)."""
    return tmp_path_factory.mktemp("serialization")


@st.composite
def any_arrays(draw: st.DrawFn, max_dims: int = 3, max_side: int = 4) -> np.ndarray:
    """Arrays of any supported dtype, full value range (nan/inf included), 0-d, empty or non-contiguous."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side))
    base = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(["C", "transpose", "flip", "step"]))
    if base.ndim == 0 or layout == "C":
        return base
    return {"transpose": base.T, "flip": base[::-1], "step": base[::2]}[layout]


def assert_same_array(expected: np.ndarray, actual: np.ndarray) -> None:
    """Same dtype (byte order aside), shape and bits; ``actual`` a fresh, writable, C-contiguous array."""
    assert type(actual) is np.ndarray
    assert actual.dtype == expected.dtype.newbyteorder("=")
    assert actual.shape == expected.shape
    assert np.ascontiguousarray(expected, dtype=actual.dtype).tobytes() == actual.tobytes()
    assert actual.flags.writeable and actual.flags.owndata and actual.flags.c_contiguous


def assert_same(expected: Any, actual: Any, where: str = "state") -> None:
    """Exact equality of nested structures: types (tuple vs list, int vs str keys, dtypes) and float bits."""
    if isinstance(expected, Tensor):
        assert type(actual) is Tensor, where
        assert actual.requires_grad == expected.requires_grad, where
        assert actual.grad is None and actual.grad_fn is None, where
        assert_same_array(expected.data, actual.data)
    elif isinstance(expected, np.ndarray):
        assert_same_array(expected, actual)
    elif isinstance(expected, np.generic):
        assert type(actual) is type(expected), where
        assert actual.dtype == expected.dtype and actual.tobytes() == expected.tobytes(), where
    elif isinstance(expected, dict):
        assert type(actual) is dict, where
        assert [(type(k), k) for k in actual] == [(type(k), k) for k in expected], where
        for key in expected:
            assert_same(expected[key], actual[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected), where
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert type(actual) is float and struct.pack("<d", actual) == struct.pack("<d", expected), where
    else:
        assert type(actual) is type(expected) and actual == expected, where


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def raw_safetensors(header: dict[str, Any], data: bytes = b"") -> bytes:
    """A hand-made safetensors file (to write dtypes safetensors.numpy can't, or odd headers)."""
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data


def _spec(dtype: str, shape: list[int], offsets: list[int]) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": offsets}


def example_checkpoint() -> dict[str, Any]:
    """A training checkpoint as a trainer would write it (model, optimizer, epoch, RNG, metrics)."""
    tc.manual_seed(0)
    w = tc.randn(4, 3, requires_grad=True)
    model = collections.OrderedDict(
        [("conv.weight", w), ("conv.bias", tc.zeros(4)), ("bn.num_batches_tracked", tc.tensor(7))]
    )
    return {
        "model": model,
        "optimizer": {
            "state": {
                0: {"momentum_buffer": tc.randn(4, 3), "step": tc.tensor(12.0)},
                1: {"momentum_buffer": tc.randn(4), "step": tc.tensor(12.0)},
            },
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "params": [0, 1]}],
        },
        "epoch": 3,
        "rng": {
            "bit_generator": "PCG64",
            "state": {"state": 2**127 + 5, "inc": 2**128 - 1},
            "has_uint32": 0,
            "uinteger": 0,
        },
        "torch_rng": tc.get_rng_state(),
        "numpy_rng": np.random.default_rng(1).bit_generator.state,
        "metrics": [{"epoch": 1, "val_acc": 0.97, "best": None}, {"epoch": 2, "val_acc": float("nan")}],
        "misc": {
            "inf": float("inf"),
            "-0": -0.0,
            "huge": -(2**9000),
            "text": "é\ud800",
            "flag": True,
            "scalars": (np.float16(1.5), np.int64(-3), np.bool_(True), np.float32("nan"), np.uint8(255)),
            "zero_d": np.array(2.5, dtype=np.float32),
            "empty": np.zeros((0, 3), dtype=np.int16),
            "view": np.arange(12.0).reshape(3, 4).T[::-1],
        },
    }


# -- save / load round trips ------------------------------------------------------------------------
@given(arrays=st.lists(any_arrays(), min_size=1, max_size=3), as_tensor=st.booleans())
def test_round_trip_is_bit_identical(workdir: Path, arrays: list[np.ndarray], as_tensor: bool) -> None:
    path = workdir / "roundtrip.safetensors"
    tensors = {f"p{i}": Tensor(a) if as_tensor else a for i, a in enumerate(arrays)}
    save(tensors, path)
    loaded = load(path)
    assert sorted(loaded) == sorted(tensors)
    for key, array in enumerate(arrays):
        t = loaded[f"p{key}"]
        assert type(t) is Tensor and not t.requires_grad
        assert_same_array(array, t.data)
    plain = safetensors.numpy.load_file(str(path))  # a standard safetensors file
    for key, array in enumerate(arrays):
        assert np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("=")).tobytes() == plain[f"p{key}"].tobytes()


@pytest.mark.parametrize(
    "array",
    [
        np.array(3.5, dtype=np.float32),
        np.array(True),
        np.zeros((0,), np.float64),
        np.zeros((2, 0, 3), np.int8),
        np.arange(12, dtype=np.float32).reshape(3, 4).T,
        np.arange(10, dtype=np.int64)[::-1],
        np.arange(24, dtype=np.float16).reshape(2, 3, 4)[:, ::-2, 1::2],
        np.array([np.nan, -np.inf, np.inf, -0.0, 5e-324], dtype=np.float64),
        np.arange(6, dtype=">f4").reshape(2, 3),
    ],
    ids=["0d", "0d-bool", "empty", "empty-3d", "transposed", "negative-stride", "strided", "special", "big-endian"],
)
def test_round_trip_special_layouts(tmp_path: Path, array: np.ndarray) -> None:
    save({"a": array, "t": Tensor(array)}, tmp_path / "f.safetensors")
    loaded = load(tmp_path / "f.safetensors")
    assert_same_array(array, loaded["a"].data)
    assert_same_array(array, loaded["t"].data)


def test_tensor_that_requires_grad_saves_its_data(tmp_path: Path) -> None:
    w = tc.randn(3, 2, requires_grad=True)
    (w * 2).sum().backward()
    save({"w": w}, str(tmp_path / "w.safetensors"))
    loaded = load(str(tmp_path / "w.safetensors"))["w"]
    assert not loaded.requires_grad and loaded.grad is None
    np.testing.assert_array_equal(loaded.data, w.data)


@given(
    metadata=st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5),
)
def test_metadata_round_trip(workdir: Path, metadata: dict[str, str]) -> None:
    path = workdir / "meta.safetensors"
    save({"x": np.ones(2, np.float32)}, path, metadata=metadata)
    assert load_metadata(path) == metadata
    np.testing.assert_array_equal(load(path)["x"].data, np.ones(2, np.float32))


def test_metadata_defaults_to_empty_and_empty_file_of_tensors(tmp_path: Path) -> None:
    save({"x": np.ones(2)}, tmp_path / "a.safetensors")
    assert load_metadata(tmp_path / "a.safetensors") == {}
    save({}, tmp_path / "b.safetensors", metadata={"only": "metadata"})
    assert load(tmp_path / "b.safetensors") == {}
    assert load_metadata(tmp_path / "b.safetensors") == {"only": "metadata"}


def test_loaded_arrays_are_independent_and_writable(tmp_path: Path) -> None:
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = Tensor(source.copy())
    path = tmp_path / "f.safetensors"
    save({"a": source, "b": source, "t": t}, path)
    source[:] = -1  # changing the source after saving doesn't change the file
    t.data[:] = -1
    first = load(path)
    first["a"].data[0, 0] = 100.0  # writable, and not shared with "b", nor with a second load
    first["a"] += 1
    assert first["b"].data[0, 0] == 0.0
    second = load(path)
    np.testing.assert_array_equal(second["a"].data, np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(second["t"].data, np.arange(6, dtype=np.float32).reshape(2, 3))
    assert not np.shares_memory(first["a"].data, second["a"].data)


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "f.safetensors"
    save({"a": np.zeros(1)}, path)
    os.chmod(path, 0o640)
    save({"a": np.ones(1)}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert load(path)["a"].data[0] == 1.0


# -- save_state / load_state ------------------------------------------------------------------------
def test_checkpoint_round_trip(tmp_path: Path) -> None:
    state = example_checkpoint()
    path = tmp_path / "ckpt.safetensors"
    save_state(state, path)
    loaded = load_state(path)
    expected = dict(state, model=dict(state["model"]))  # an OrderedDict comes back as a dict (same order)
    assert_same(expected, loaded)
    assert loaded["rng"]["state"]["state"] == 2**127 + 5  # big ints exact
    assert loaded["misc"]["huge"] == -(2**9000)
    assert loaded["model"]["conv.weight"].requires_grad  # requires_grad kept, data not shared with the original
    assert not np.shares_memory(loaded["model"]["conv.weight"].data, state["model"]["conv.weight"].data)
    # the RNG snapshots restore the generators exactly
    tc.set_rng_state(loaded["torch_rng"])
    a = tc.rand(5)
    tc.set_rng_state(state["torch_rng"])
    np.testing.assert_array_equal(a.data, tc.rand(5).data)
    gen = np.random.default_rng()
    gen.bit_generator.state = loaded["numpy_rng"]
    np.testing.assert_array_equal(gen.random(3), np.random.default_rng(1).random(3))
    # the file is a plain safetensors file too: tensors t0, t1, ... and the structure in the metadata
    assert set(load(path)) == {f"t{i}" for i in range(len(load(path)))}
    assert STATE_KEY in load_metadata(path)


def test_shared_objects_come_back_shared(tmp_path: Path) -> None:
    w = tc.randn(3)
    a = np.arange(4)
    save_state({"model": {"w": w}, "tied": [w, w], "arrays": (a, a)}, tmp_path / "s.safetensors")
    assert len(load(tmp_path / "s.safetensors")) == 2  # stored once each
    loaded = load_state(tmp_path / "s.safetensors")
    assert loaded["model"]["w"] is loaded["tied"][0] is loaded["tied"][1]
    assert loaded["arrays"][0] is loaded["arrays"][1]


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    any_arrays(max_dims=2, max_side=3),
    st.builds(Tensor, any_arrays(max_dims=2, max_side=3)),
    st.builds(
        lambda a: Tensor(a, requires_grad=True), hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=2))
    ),
    hnp.arrays(st.sampled_from(DTYPES[:9]), ()).map(lambda a: a[()]),  # numpy scalars
)
_keys = st.one_of(st.text(max_size=4), st.integers(min_value=-(10**30), max_value=10**30))
_structures = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=16,
)


@given(state=_structures)
def test_nested_structures_round_trip_exactly(workdir: Path, state: Any) -> None:
    path = workdir / "state.safetensors"
    save_state(state, path)
    assert_same(state, load_state(path))


def test_save_state_names_the_place_of_an_unsupported_object(tmp_path: Path) -> None:
    path = tmp_path / "s.safetensors"
    save_state({"old": 1}, path)
    state = {"optimizer": {"param_groups": [{"lr": 0.1, "fn": lambda p: p}]}}
    message = r"^state\['optimizer'\]\['param_groups'\]\[0\]\['fn'\]: cannot save object of type function$"
    with pytest.raises(TypeError, match=message):
        save_state(state, path)
    assert load_state(path) == {"old": 1}  # nothing written
    assert os.listdir(tmp_path) == ["s.safetensors"]
    Point = collections.namedtuple("Point", "x y")
    cases = [
        ({"a": [1, {2.5, 3}]}, r"state\['a'\]\[1\]: cannot save object of type set"),
        ((1, Point(1, 2)), r"state\[1\]: cannot save object of type Point \(a subclass of tuple"),
        ({"t": (object(),)}, r"state\['t'\]\[0\]: cannot save object of type object"),
        ({"c": np.zeros(2, np.complex64)}, r"state\['c'\]: cannot save dtype complex64"),
        ({"o": np.array([None])}, r"state\['o'\]: cannot save dtype object"),
        ({"s": np.str_("x")}, r"state\['s'\]: cannot save dtype <U1"),
        ({"b": b"bytes"}, r"state\['b'\]: cannot save object of type bytes"),
        ({1.5: 1}, r"state: cannot save dict key 1.5 of type float"),
        ({"x": {True: 1}}, r"state\['x'\]: cannot save dict key True of type bool"),
        ({(1, 2): 1}, r"state: cannot save dict key \(1, 2\) of type tuple"),
        ({np.int64(3): 1}, r"state: cannot save dict key .* of type int64"),
    ]
    for obj, message in cases:
        with pytest.raises(TypeError, match=message):
            save_state(obj, path)
    cycle: list[Any] = [1]
    cycle.append({"self": cycle})
    with pytest.raises(ValueError, match=r"state\[1\]\['self'\]: cannot save a circular reference"):
        save_state(cycle, path)
    assert load_state(path) == {"old": 1}


def test_load_state_refuses_plain_and_corrupted_checkpoints(tmp_path: Path) -> None:
    plain = tmp_path / "plain.safetensors"
    save({"w": np.ones(2)}, plain)
    with pytest.raises(ValueError, match=r"plain\.safetensors.*not a tinygrad_cnn checkpoint"):
        load_state(plain)
    bad_documents = [
        "not json",
        "[1, 2]",
        json.dumps({"format": STATE_KEY, "version": 99, "root": None}),
        json.dumps({"format": STATE_KEY, "version": 1, "root": {"$": "tensor", "key": "t9"}}),
        json.dumps({"format": STATE_KEY, "version": 1, "root": {"$": "mystery"}}),
        json.dumps({"format": STATE_KEY, "version": 1, "root": {"$": "dict", "items": [[1.5, 2]]}}),
        json.dumps({"format": STATE_KEY, "version": 1, "root": {"$": "float", "bits": "zz"}}),
        json.dumps({"format": STATE_KEY, "version": 1, "root": {"$": "scalar", "key": "w"}}),  # not 0-d
        json.dumps({"format": STATE_KEY, "version": 1, "root": {"$": "tensor", "key": "i", "requires_grad": True}}),
        '{"format": "tinygrad_cnn.state", "version": 1, "root": 1%s}' % ("0" * 5000),  # int too long for json
    ]
    for i, document in enumerate(bad_documents):
        path = tmp_path / f"bad{i}.safetensors"
        save({"w": np.ones(2), "i": np.ones(2, np.int64)}, path, metadata={STATE_KEY: document})
        with pytest.raises(ValueError, match=rf"bad{i}\.safetensors.* corrupted tinygrad_cnn checkpoint"):
            load_state(path)


# -- errors -----------------------------------------------------------------------------------------
@pytest.fixture
def small_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "model.safetensors"
    save_state({"w": np.arange(6, dtype=np.float32), "b": Tensor(np.ones(2)), "epoch": 1}, path)
    return path, path.read_bytes()


LOADERS = [load, load_metadata, load_state]


def assert_invalid(path: Path) -> None:
    for loader in LOADERS:
        with pytest.raises(ValueError, match=re.escape(f"'{path}' is not a valid safetensors file")):
            loader(path)


def test_missing_file_and_missing_folder(tmp_path: Path) -> None:
    for loader in LOADERS:
        with pytest.raises(FileNotFoundError, match="nowhere.safetensors"):
            loader(tmp_path / "nowhere.safetensors")
    missing = tmp_path / "no_such_folder"
    for saver in (lambda p: save({"a": np.zeros(1)}, p), lambda p: save_state({"a": 1}, p)):
        with pytest.raises(FileNotFoundError, match="no_such_folder") as info:
            saver(missing / "f.safetensors")
        assert info.value.filename == str(missing)
    assert not missing.exists()


def test_truncated_file_at_every_length(small_file: tuple[Path, bytes]) -> None:
    path, data = small_file
    assert len(data) < 1000
    for cut in range(len(data)):
        write_bytes(path, data[:cut])
        assert_invalid(path)
    write_bytes(path, data + b"\0")  # a trailing byte is corruption too
    assert_invalid(path)


def test_every_flipped_header_byte_is_detected(small_file: tuple[Path, bytes]) -> None:
    path, data = small_file
    header_end = 8 + int.from_bytes(data[:8], "little")
    for i in range(header_end):
        corrupted = bytearray(data)
        corrupted[i] ^= 0xFF
        write_bytes(path, bytes(corrupted))
        assert_invalid(path)


def _reference_load(data: bytes) -> dict[str, np.ndarray] | None:
    try:
        return safetensors.numpy.load(data)
    except Exception:
        return None


@given(position=st.integers(0, 10**6), mask=st.integers(1, 255))
def test_flipped_bits_in_header_fail_cleanly(workdir: Path, position: int, mask: int) -> None:
    """Any header corruption raises ValueError naming the file, or (if still a valid file) loads as safetensors does."""
    path = workdir / "flip.safetensors"
    save({"weight": np.arange(6, dtype=np.float32).reshape(2, 3), "bias": np.zeros(2)}, path, {"epoch": "3"})
    data = bytearray(path.read_bytes())
    data[position % (8 + int.from_bytes(data[:8], "little"))] ^= mask
    write_bytes(path, bytes(data))
    reference = _reference_load(bytes(data))
    if reference is None:
        with pytest.raises(ValueError, match="flip.safetensors' is not a valid safetensors file"):
            load(path)
    else:  # e.g. a flipped letter in a name: a different, valid file
        loaded = load(path)
        assert {k: v.data.tobytes() for k, v in loaded.items()} == {k: v.tobytes() for k, v in reference.items()}


@given(data=st.binary(max_size=300))
def test_random_bytes_are_refused(workdir: Path, data: bytes) -> None:
    path = write_bytes(workdir / "random.bin", data)
    if _reference_load(data) is None:
        with pytest.raises(ValueError, match="random.bin' is not a valid safetensors file"):
            load(path)
        with pytest.raises(ValueError, match="random.bin' is not a valid safetensors file"):
            load_metadata(path)


def test_foreign_and_degenerate_files(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    files = {
        "empty.safetensors": b"",
        "short.safetensors": b"\x02\x00\x00",
        "pickle.pt": pickle.dumps({"w": np.arange(3), "epoch": 1}),
        "image.png": png,
        "text.json": b'{"w": [1, 2, 3]}',
        "zeros.safetensors": bytes(64),
        "absurd.safetensors": (2**64 - 1).to_bytes(8, "little") + b"{}",
        "absurd2.safetensors": (2**63).to_bytes(8, "little") + b"{}      ",
        "one_too_long.safetensors": (9).to_bytes(8, "little") + b"{}      ",
        "not_a_header.safetensors": raw_safetensors({"w": 1}),
        "bad_offsets.safetensors": raw_safetensors({"w": _spec("F32", [2], [0, 4])}, bytes(8)),
        "bad_shape.safetensors": raw_safetensors({"w": _spec("F32", [3], [0, 8])}, bytes(8)),
        "bad_dtype.safetensors": raw_safetensors({"w": _spec("X9", [2], [0, 8])}, bytes(8)),
    }  # fmt: skip
    for name, data in files.items():
        assert_invalid(write_bytes(tmp_path / name, data))
    try:
        torch = __import__("torch")
    except ImportError:
        return
    torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")  # a zip of pickles
    assert_invalid(tmp_path / "torch.pt")


def test_dtypes_numpy_cannot_hold_are_refused_by_name(tmp_path: Path) -> None:
    for dtype, itemsize in (("BF16", 2), ("F8_E4M3", 1), ("C64", 8)):
        header = {"ok": _spec("F32", [1], [0, 4]), "weight": _spec(dtype, [2], [4, 4 + 2 * itemsize])}
        path = write_bytes(tmp_path / f"{dtype}.safetensors", raw_safetensors(header, bytes(4 + 2 * itemsize)))
        with pytest.raises(ValueError, match=rf"{dtype}\.safetensors.*tensor 'weight' has dtype {dtype}"):
            load(path)
        assert load_metadata(path) == {}  # the metadata alone is still readable


def test_save_refuses_wrong_keys_values_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "f.safetensors"
    cases: list[tuple[Any, Any, type[Exception], str]] = [
        ({1: np.zeros(1)}, None, TypeError, r"key 1 is of type int; keys must be str"),
        ({"w": [1.0, 2.0]}, None, TypeError, r"tensors\['w'\]: expected a Tensor or numpy.ndarray, got .* list"),
        ({"w": 3.0}, None, TypeError, r"tensors\['w'\].*type float"),
        ({"w": np.zeros(2, np.complex128)}, None, TypeError, r"tensors\['w'\]: cannot save dtype complex128"),
        ({"w": np.array(["a"])}, None, TypeError, r"tensors\['w'\]: cannot save dtype <U1"),
        ([np.zeros(1)], None, TypeError, r"tensors: expected a mapping"),
        ({"__metadata__": np.zeros(1)}, None, ValueError, "reserved"),
        ({"w": np.zeros(1)}, {"epoch": 3}, TypeError, r"metadata: entries must be str -> str"),
        ({"w": np.zeros(1)}, {1: "x"}, TypeError, r"metadata: entries must be str -> str"),
        ({"w": np.zeros(1)}, ["x"], TypeError, r"metadata: expected a mapping"),
    ]
    for tensors, metadata, error, message in cases:
        with pytest.raises(error, match=message):
            save(tensors, path, metadata)
    assert os.listdir(tmp_path) == []


# -- atomicity --------------------------------------------------------------------------------------
def _failing_write(fd: int, data: bytes) -> None:
    os.write(fd, data[: len(data) // 2])
    raise OSError(28, "No space left on device (simulated)")


def _interrupting_write(fd: int, data: bytes) -> None:
    os.write(fd, data[:100])
    raise KeyboardInterrupt


def _failing_fsync(fd: int) -> None:
    raise OSError(5, "I/O error (simulated)")


def _failing_replace(src: Any, dst: Any) -> None:
    raise PermissionError(13, "Permission denied (simulated)")


@pytest.mark.parametrize(
    ("target", "replacement", "error"),
    [
        ((ser, "_write_all"), _failing_write, OSError),
        ((ser, "_write_all"), _interrupting_write, KeyboardInterrupt),
        ((ser.os, "fsync"), _failing_fsync, OSError),
        ((ser.os, "replace"), _failing_replace, PermissionError),
    ],
    ids=["write", "interrupt", "fsync", "replace"],
)
@pytest.mark.parametrize("saver", ["save", "save_state"])
def test_failed_save_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: tuple[Any, str], replacement: Any, error: type, saver: str
) -> None:
    path = tmp_path / "model.safetensors"
    old = {"w": np.arange(1000, dtype=np.float32)}
    new = {"w": np.ones(100_000, dtype=np.float64)}

    def write(obj: dict[str, Any], p: Path) -> None:
        save(obj, p) if saver == "save" else save_state(obj, p)

    write(old, path)
    before = path.read_bytes()
    monkeypatch.setattr(*target, replacement)
    with pytest.raises(error):
        write(new, path)
    with pytest.raises(error):
        write(new, tmp_path / "fresh.safetensors")  # a failed first save leaves nothing behind
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]
    write(new, path)  # and the next save works
    assert os.listdir(tmp_path) == ["model.safetensors"]


_KILL_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from tinygrad_cnn import serialization

    write_all = serialization._write_all

    def announced_write_all(fd, data):  # tell the parent that bytes are about to hit the disk
        print("writing", flush=True)
        write_all(fd, data)

    serialization._write_all = announced_write_all
    path, n = sys.argv[1], int(sys.argv[2])
    versions = [{"version": v, "w": np.arange(n, dtype=np.float32) + v, "tail": (np.full(7, v),)} for v in (0, 1)]
    print("ready", flush=True)
    i = 1
    while True:
        serialization.save_state(versions[i % 2], path)
        i += 1
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_save_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """A process saving 8 MB in a loop is SIGKILLed 16 times: the file is always version A or B, whole.

    Half the kills come at a random moment of the loop, half a few ms after a write has started (so some
    surely land mid-write: a stray temp file proves it).
    """
    n = 2_000_000  # float32: 8 MB
    path = tmp_path / "ckpt.safetensors"
    save_state({"version": 0, "w": np.arange(n, dtype=np.float32), "tail": (np.full(7, 0),)}, path)
    package_root = str(Path(tc.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    rng = random.Random(1234)
    seen = []
    strays: set[str] = set()
    for kill in range(16):
        child = subprocess.Popen(
            [sys.executable, "-c", _KILL_CHILD, str(path), str(n)], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            if kill % 2:
                for _ in range(rng.randint(1, 3)):  # during the 1st to 3rd save
                    assert child.stdout.readline() == "writing\n"
                time.sleep(rng.uniform(0.0, 0.008))
            else:
                time.sleep(rng.uniform(0.0, 0.2))
        finally:
            child.kill()  # SIGKILL
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        state = load_state(path)
        version = state["version"]
        assert version in (0, 1)
        np.testing.assert_array_equal(state["w"], np.arange(n, dtype=np.float32) + version)
        np.testing.assert_array_equal(state["tail"][0], np.full(7, version))
        seen.append(version)
        for name in os.listdir(tmp_path):  # stray files only under temp names
            if name != path.name:
                assert name.startswith(f".{path.name}.") and name.endswith(".tmp"), name
                strays.add(name)
    assert set(seen) == {0, 1}, seen  # the children did replace the file, both ways
    assert strays, "no kill landed mid-write"


# -- PyTorch interop --------------------------------------------------------------------------------
def test_torch_reads_our_files_and_we_read_theirs(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    ours = {
        "f16": np.linspace(-2, 2, 6, dtype=np.float16).reshape(2, 3),
        "f32": np.arange(12, dtype=np.float32).reshape(3, 4).T,  # non-contiguous
        "f64": np.array([np.nan, np.inf, -0.0]),
        "i8": np.array([-128, 127], dtype=np.int8),
        "i16": np.array([-(2**15)], dtype=np.int16),
        "i32": np.array(7, dtype=np.int32),
        "i64": np.array([2**62, -1], dtype=np.int64),
        "u8": np.array([0, 255], dtype=np.uint8),
        "bool": np.array([[True, False]]),
        "empty": np.zeros((0, 2), np.float32),
    }
    save({k: Tensor(v) if i % 2 else v for i, (k, v) in enumerate(ours.items())}, tmp_path / "ours.safetensors")
    theirs = safetensors_torch.load_file(str(tmp_path / "ours.safetensors"))
    assert set(theirs) == set(ours)
    for key, array in ours.items():
        t = theirs[key]
        assert t.dtype == getattr(torch, {"bool": "bool"}.get(str(array.dtype), str(array.dtype))), key
        assert tuple(t.shape) == array.shape
        np.testing.assert_array_equal(t.numpy(), array)

    torch.manual_seed(0)
    state_dict = {
        "conv.weight": torch.randn(4, 1, 3, 3),
        "conv.bias": torch.randn(4, dtype=torch.float64),
        "bn.num_batches_tracked": torch.tensor(5),
        "mask": torch.tensor([True, False]),
        "half": torch.randn(3).half(),
        "u8": torch.arange(4, dtype=torch.uint8),
        "t": torch.randn(3, 4).t().contiguous(),
    }
    safetensors_torch.save_file(state_dict, str(tmp_path / "theirs.safetensors"), metadata={"format": "pt"})
    loaded = load(tmp_path / "theirs.safetensors")
    assert load_metadata(tmp_path / "theirs.safetensors") == {"format": "pt"}
    assert set(loaded) == set(state_dict)
    for key, t in state_dict.items():
        assert loaded[key].dtype == t.numpy().dtype and loaded[key].shape == tuple(t.shape), key
        np.testing.assert_array_equal(loaded[key].data, t.numpy())

    save_state(example_checkpoint(), tmp_path / "ckpt.safetensors")  # checkpoints are readable by torch too
    assert set(safetensors_torch.load_file(str(tmp_path / "ckpt.safetensors"))) == set(
        load(tmp_path / "ckpt.safetensors")
    )
