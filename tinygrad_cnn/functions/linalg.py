"""Matrix product with PyTorch's rules: 1-D operands are promoted (and the added dim removed after),
leading (batch) dims broadcast."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.functions.basic_math import operand, sum_to
from tinygrad_cnn.tensor import Tensor


class Matmul(Function):
    """``a @ b`` for a, b with at least 2 dims; batch dims broadcast, gradients summed back."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a, b)
        if a.ndim == 2 and a.data.flags.c_contiguous and _transposed(b.data):
            # ``x @ w.T`` (linear): OpenBLAS runs the same GEMM as ``(w @ x.T).T`` up to 25% faster (batch 64);
            # the result is copied to C order (a small copy next to the GEMM), contiguous as PyTorch's
            return np.ascontiguousarray(np.matmul(b.data.T, a.data.T).T)
        return np.matmul(a.data, b.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(_product(grad, b.mT, a), a.shape) if need_a else None
        gb = sum_to(_product(a.mT, grad, b), b.shape) if need_b else None
        return ga, gb


def _product(x: Tensor, y: Tensor, like: Tensor) -> Tensor:
    """``x @ y``, the gradient of ``like``, laid out as ``like``: when ``like`` is a transposed matrix (``w.T``
    in ``linear``) it is computed as ``(y.mT @ x.mT).mT``, the same GEMM, so that the weight's gradient,
    transposed back, is C-contiguous (the optimizer's in-place updates then read it in order)."""
    return (y.mT @ x.mT).mT if _transposed(like.data) else x @ y


def _transposed(data: np.ndarray) -> bool:
    """True for a matrix that is the transpose of a C-contiguous one (Fortran order)."""
    return data.ndim == 2 and data.flags.f_contiguous and not data.flags.c_contiguous


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product: vector.vector -> scalar, matrix @ vector, batched @ batched with broadcasting."""
    a, b = operand(a, "input"), operand(b)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul(): both arguments must be tensors, not scalars")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul(): both arguments need at least 1 dimension, got {a.ndim}D and {b.ndim}D")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise RuntimeError(
            f"matmul(): shapes cannot be multiplied ({'x'.join(map(str, a.shape))} and "
            f"{'x'.join(map(str, b.shape))}): input's last dim {a.shape[-1]} != other's "
            f"{'second-to-last' if b.ndim > 1 else 'only'} dim {b.shape[-2 if b.ndim > 1 else 0]}"
        )
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise RuntimeError(f"matmul(): batch dims {a.shape[:-2]} and {b.shape[:-2]} do not broadcast") from None
    for name, t in (("input", a), ("other", b)):
        if t.dtype == np.bool_:
            raise NotImplementedError(f"matmul(): {name}: bool tensors are not supported, got dtype bool")
    if (a.dtype.kind == "f") != (b.dtype.kind == "f") or (a.dtype.kind != "f" and a.dtype != b.dtype):
        raise RuntimeError(
            f"matmul(): expected input and other to have the same dtype, got {a.dtype} and {b.dtype} "
            "(convert one with .to(dtype))"
        )
    if a.dtype != b.dtype and a.dtype.kind == b.dtype.kind == "f":
        wide = np.promote_types(a.dtype, b.dtype)
        a, b = a.to(wide), b.to(wide)
    if a.ndim == 1 and b.ndim == 1:
        return Matmul.apply(a.reshape(1, -1), b.reshape(-1, 1)).reshape(())
    if a.ndim == 1:
        return Matmul.apply(a.unsqueeze(0), b).squeeze(-2)
    if b.ndim == 1:
        return Matmul.apply(a, b.unsqueeze(-1)).squeeze(-1)
    return Matmul.apply(a, b)
