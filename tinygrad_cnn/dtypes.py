"""The dtypes a Tensor can hold, named as in PyTorch, and the rules that pick one from Python data.

A dtype here *is* a ``numpy.dtype``, so ``t.dtype == tinygrad_cnn.float32 == numpy.float32``.
Policy: Python floats (and lists holding any float) become float32, Python ints int64, bools bool;
a numpy array keeps its dtype (float64 is how gradient checks run).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001 - PyTorch's alias
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001

default_float = float32

_BY_NAME: dict[str, np.dtype] = {
    "float16": float16, "half": float16, "float32": float32, "float": float32, "float64": float64,
    "double": float64, "int8": int8, "uint8": uint8, "int16": int16, "short": int16, "int32": int32,
    "int": int32, "int64": int64, "long": int64, "bool": bool,
}  # fmt: skip


def to_dtype(dtype: Any, argname: str = "dtype") -> np.dtype:
    """Turn ``tinygrad_cnn.float32``, ``numpy.float32``, ``"float32"`` or a numpy dtype into a numpy dtype."""
    if isinstance(dtype, str):
        name = dtype.removeprefix("torch.").removeprefix("tinygrad_cnn.")
        if name in _BY_NAME:
            return _BY_NAME[name]
        raise TypeError(f"{argname}: unknown dtype name {dtype!r}; expected one of {sorted(_BY_NAME)}")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{argname}: expected a dtype such as tinygrad_cnn.float32, got {dtype!r}") from None
    if dt.kind not in "fiub":
        raise TypeError(f"{argname}: unsupported dtype {dt}; expected a float, integer or bool dtype")
    return dt


def is_floating(dtype: np.dtype) -> builtins.bool:
    """True for float16/32/64."""
    return dtype.kind == "f"


def name(dtype: np.dtype) -> str:
    """``tinygrad_cnn.float32``-style name, as PyTorch prints ``torch.float32``."""
    return f"tinygrad_cnn.{'bool' if dtype == bool else dtype.name}"


def infer(data: Any) -> np.dtype:
    """The dtype PyTorch would give ``tensor(data)`` for Python scalars and nested lists."""
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return default_float if not isinstance(data, np.ndarray) else arr.dtype
    if arr.dtype.kind in "iu":
        return arr.dtype if isinstance(data, np.ndarray) else int64
    if arr.dtype.kind == "b":
        return bool
    raise TypeError(f"data: cannot build a tensor from {type(data).__name__} holding {arr.dtype} values")
