"""Dropout (``torch.nn.functional`` signatures): dropout zeroes single elements, dropout2d whole channels.

Inverted dropout: each element (or channel) is kept with probability 1 - p and multiplied by 1 / (1 - p),
so the expected output equals the input and evaluation (``training=False``) is the identity. Masks come
from the global generator (``tinygrad_cnn.random``), so ``tinygrad_cnn.manual_seed`` makes them repeatable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.random import numpy_generator
from tinygrad_cnn.tensor import Tensor


class Dropout(Function):
    """``x * mask`` for a constant ``mask`` (broadcastable to x: 0 where dropped, 1 / (1 - p) where kept)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, mask: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(mask)
        return x.data * mask

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (mask,) = ctx.saved_tensors
        return grad * mask, None


def _check(x: Any, p: Any, training: Any, op: str) -> tuple[Tensor, float]:
    """Error kinds as PyTorch: TypeError for wrong types, ValueError for p outside [0, 1], RuntimeError for a
    nan p (PyTorch's Python check lets nan through to the kernel, which refuses it)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    if not isinstance(p, (int, float, np.integer, np.floating)):  # bool is an int: p=True means 1, as PyTorch
        raise TypeError(f"{op}(): p: expected a number, got {type(p).__name__}")
    if np.isnan(p):
        raise RuntimeError(f"{op}(): p: dropout probability has to be between 0 and 1, got {p}")
    if not 0 <= p <= 1:
        raise ValueError(f"{op}(): p: dropout probability has to be between 0 and 1, got {p}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"{op}(): training: expected a bool, got {type(training).__name__}")
    if x.dtype.kind != "f" and training and p != 0:  # evaluation (or p=0) returns any tensor unchanged
        raise RuntimeError(
            f"{op}(): input: expected a floating point tensor in training, got dtype {x.dtype} (the scaled "
            "result cannot be stored in it)"
        )
    return x, float(p)


def _mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> np.ndarray:
    """Keep-mask scaled by 1 / (1 - p) (all zeros for p = 1), drawn from the global generator."""
    draw_dtype = np.float64 if dtype == np.float64 else np.float32  # the generator draws float32 or float64 only
    keep = numpy_generator().random(shape, dtype=draw_dtype) >= p
    scale = 0.0 if p == 1 else 1 / (1 - p)
    return keep.astype(dtype) * dtype.type(scale)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero each element of ``input`` with probability ``p`` and scale the others by 1 / (1 - p); the identity
    (the input itself) when ``training=False`` or ``p=0``. ``inplace`` is accepted for PyTorch compatibility;
    the result is always computed out of place."""
    x, p = _check(input, p, training, "dropout")
    if not training or p == 0:
        return x
    return Dropout.apply(x, _mask(x.shape, p, x.dtype))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels of ``input`` (N, C, H, W) or (C, H, W) with probability ``p``, scaling the kept
    ones by 1 / (1 - p); the identity when ``training=False`` or ``p=0``. ``inplace`` is accepted for
    compatibility; the result is always computed out of place. Unlike PyTorch 2.x, which still reads a 3-D
    input as (N, C, L) with a deprecation warning, 3-D input is (C, H, W) here: the behaviour PyTorch has
    announced (use a 4-D view for 1-D channel dropout)."""
    x, p = _check(input, p, training, "dropout2d")
    if x.ndim not in (3, 4):
        raise RuntimeError(
            f"dropout2d(): input: expected a 3-D (C, H, W) or 4-D (N, C, H, W) tensor, got shape {x.shape}"
        )
    if not training or p == 0:
        return x
    return Dropout.apply(x, _mask(x.shape[:-2] + (1, 1), p, x.dtype))
