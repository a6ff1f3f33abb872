"""Constructor-argument checks shared by the layers: each error names the layer and the argument."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn import dtypes
from tinygrad_cnn.nn import init


def is_int(value: Any) -> bool:
    """True for Python and numpy integers (not bools)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def check_int(value: Any, name: str, owner: str, minimum: int) -> int:
    """``value`` checked to be an int >= ``minimum``; returned as given."""
    if not is_int(value):
        raise TypeError(f"{owner}: {name}: expected an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {name}: expected an int >= {minimum}, got {value}")
    return value


def check_number(value: Any, name: str, owner: str, minimum: float | None = None) -> Any:
    """``value`` checked to be a real number (>= ``minimum`` if given, never nan); returned as given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name}: expected a number, got {value!r}")
    if value != value or (minimum is not None and value < minimum):
        raise ValueError(f"{owner}: {name}: expected a number >= {minimum}, got {value}")
    return value


def check_bool(value: Any, name: str, owner: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name}: expected a bool, got {value!r}")
    return bool(value)


def ntuple(value: Any, n: int, name: str, owner: str, minimum: int) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, each >= ``minimum``, as an ``n``-tuple (PyTorch's ``_ntuple``)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(items) != n or not all(is_int(v) for v in items):
        raise TypeError(f"{owner}: {name}: expected an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{owner}: {name}: expected values >= {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def check_reduction(reduction: Any, owner: str) -> str:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{owner}: reduction: expected one of 'none', 'mean', 'sum', got {reduction!r}")
    return reduction


def factory_dtype(device: Any, dtype: Any, owner: str) -> np.dtype:
    """The floating dtype of a layer's parameters (float32 by default); ``device`` must be None or cpu."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{owner}: device: tinygrad_cnn runs on numpy, expected None or 'cpu', got {device!r}")
    if dtype is None:
        return np.dtype(np.float32)
    dt = dtypes.to_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{owner}: dtype: parameters must be floating point, got {dt}")
    return dt


def reset_weight_and_bias(weight: Any, bias: Any) -> None:
    """PyTorch's default initialisation of Linear and conv layers, in place.

    weight: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias (if any): the same bound.
    """
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)
