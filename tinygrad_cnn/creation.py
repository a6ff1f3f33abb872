"""Ways to make tensors: ``tensor``, ``from_numpy``, ``zeros``/``ones``/``full``/``empty`` (and ``_like``),
``arange``, ``linspace``, ``eye``, ``rand``, ``randn``, ``randint``; all take ``dtype=`` and
``requires_grad=`` as in PyTorch. Random ones draw from the global generator (``manual_seed``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import dtypes
from tinygrad_cnn.random import Generator, numpy_generator
from tinygrad_cnn.tensor import Tensor, _int_or_none, _shape_arg


def _make(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor(arr)
    if requires_grad:
        t.requires_grad = True  # raises the clear error for integer dtypes
    return t


def _dtype_or(dtype: Any, default: np.dtype) -> np.dtype:
    return default if dtype is None else dtypes.to_dtype(dtype)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.number, np.bool_)) or (isinstance(v, Tensor) and v.data.size == 1)


def _number(v: Any, op: str, name: str) -> Any:
    """A Python/numpy number (or a one-element tensor's value); TypeError naming the argument otherwise."""
    if not _is_number(v):
        raise TypeError(f"{op}(): {name}: expected a number, got {type(v).__name__} {v!r}")
    return v.item() if isinstance(v, Tensor) else v


def _count(v: Any, op: str, name: str) -> int:
    """A non-negative int: TypeError for a non-int (bools and floats included), RuntimeError if negative."""
    n = _int_or_none(v)
    if n is None:
        raise TypeError(f"{op}(): {name}: expected an int, got {type(v).__name__} {v!r}")
    if n < 0:
        raise RuntimeError(f"{op}(): {name}: expected a non-negative int, got {n}")
    return n


def _like(t: Any, op: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(t).__name__}")
    return t


def _float_dtype(dtype: np.dtype, op: str) -> np.dtype:
    if dtype.kind != "f":
        raise NotImplementedError(f"{op}(): dtype: random floats need a floating point dtype, got {dtype}")
    return dtype


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python numbers, nested lists, numpy arrays, Tensors).

    Python floats become float32, ints int64, bools bool; a numpy array keeps its dtype.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [x.data if isinstance(x, Tensor) else x for x in data]
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"tensor(): data: nested sequences must be rectangular ({e})") from None
    if arr.dtype == object and isinstance(data, np.ndarray):  # PyTorch: TypeError for an object array
        raise TypeError("tensor(): data: cannot make a tensor from an ndarray of dtype object")
    if arr.dtype.kind in "USV" or (arr.dtype == object and any(isinstance(v, str) for v in arr.ravel())):
        # PyTorch: ValueError for strings
        raise ValueError(f"tensor(): data: expected numbers, got str values in {type(data).__name__} {data!r:.60}")
    if arr.dtype == object:  # PyTorch: RuntimeError for other objects
        raise RuntimeError(f"tensor(): data: could not infer a dtype for {type(data).__name__} with non-numeric items")
    target = dtypes.infer(data) if dtype is None else dtypes.to_dtype(dtype)
    return _make(np.array(arr, dtype=target, copy=True), requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a numpy array of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or dtypes.to_dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_dtype(dtype) == data.dtype):
        return Tensor(data)
    return tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (same dtype, no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): array: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy(): array: unsupported dtype {array.dtype}")
    return Tensor(array)


def _size(size: tuple) -> tuple[int, ...]:
    shape = _shape_arg(size, "size")
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: size {shape}")
    return shape


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of the given size (``zeros(2, 3)`` or ``zeros((2, 3))``), float32 by default."""
    return _make(np.zeros(_size(size), _dtype_or(dtype, dtypes.float32)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of the given size, float32 by default."""
    return _make(np.ones(_size(size), _dtype_or(dtype, dtypes.float32)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialised memory of the given size (values are arbitrary)."""
    return _make(np.empty(_size(size), _dtype_or(dtype, dtypes.float32)), requires_grad)


def full(size: Sequence[int], fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``size`` filled with ``fill_value``; the dtype follows the value (float32, int64 or bool) by default."""
    fill_value = _number(fill_value, "full", "fill_value")
    return _make(np.full(_size((size,)), fill_value, _dtype_or(dtype, dtypes.infer(fill_value))), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype."""
    t = _like(t, "zeros_like")
    return _make(np.zeros(t.shape, _dtype_or(dtype, t.dtype)), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype."""
    t = _like(t, "ones_like")
    return _make(np.ones(t.shape, _dtype_or(dtype, t.dtype)), requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with ``t``'s shape and dtype."""
    t = _like(t, "full_like")
    fill_value = _number(fill_value, "full_like", "fill_value")
    return _make(np.full(t.shape, fill_value, _dtype_or(dtype, t.dtype)), requires_grad)


def empty_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    t = _like(t, "empty_like")
    return _make(np.empty(t.shape, _dtype_or(dtype, t.dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``[start, end)`` in steps of ``step``; int64 when all are ints, else float32."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange", n) for v, n in ((start, "start"), (end, "end"), (step, "step")))
    if not all(np.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(
            f"arange(): unsupported range: start, end and step must be finite, got {start}, {end}, {step}"
        )
    if step == 0:
        raise RuntimeError("arange(): step: must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and lower bound inconsistent with step sign: start={start}, end={end}, step={step}"
        )
    all_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
    default = dtypes.int64 if all_int else dtypes.float32
    return _make(np.arange(start, end, step).astype(_dtype_or(dtype, default)), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 by default)."""
    steps = _count(steps, "linspace", "steps")
    start, end = _number(start, "linspace", "start"), _number(end, "linspace", "end")
    return _make(np.linspace(start, end, int(steps)).astype(_dtype_or(dtype, dtypes.float32)), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n x m`` identity matrix (``m = n`` by default)."""
    n = _count(n, "eye", "n")
    m = None if m is None else _count(m, "eye", "m")
    return _make(np.eye(n, m, dtype=_dtype_or(dtype, dtypes.float32)), requires_grad)


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), float32 by default."""
    dt = _float_dtype(_dtype_or(dtype, dtypes.float32), "rand")
    return _make(numpy_generator(generator).random(_size(size)).astype(dt), requires_grad)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, float32 by default."""
    dt = _float_dtype(_dtype_or(dtype, dtypes.float32), "randn")
    return _make(numpy_generator(generator).standard_normal(_size(size)).astype(dt), requires_grad)


def randint(low: int, high: int | None = None, size: Sequence[int] | None = None, *,
            generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Integers uniform in ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)``; int64."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint(): size: a size tuple is required, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    bounds = []
    for name, v in (("low", low), ("high", high)):
        n = _int_or_none(v)
        if n is None:
            raise TypeError(f"randint(): {name}: expected an int, got {type(v).__name__} {v!r}")
        bounds.append(n)
    low, high = bounds
    if high <= low:
        raise RuntimeError(f"randint(): high ({high}) must be larger than low ({low})")
    arr = numpy_generator(generator).integers(low, high, _size((size,)))
    return _make(arr.astype(_dtype_or(dtype, dtypes.int64)), requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64)."""
    n = _count(n, "randperm", "n")
    return Tensor(numpy_generator(generator).permutation(n).astype(_dtype_or(dtype, dtypes.int64)))
