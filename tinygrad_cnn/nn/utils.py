"""Gradient clipping and parameter flattening, as ``torch.nn.utils``.

Each function takes one Tensor or an iterable of Tensors (usually ``model.parameters()``); parameters
whose ``grad`` is None are skipped. Norms are computed in the gradients' own dtype (float32 stays float32).
``foreach`` is accepted for PyTorch compatibility and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_cnn.autograd.grad_mode import no_grad
from tinygrad_cnn.functions.array import cat
from tinygrad_cnn.tensor import Tensor

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "parameters_to_vector",
    "vector_to_parameters",
]  # fmt: skip

TensorOrTensors = Tensor | Iterable[Tensor]


def _tensors(tensors: TensorOrTensors, fn: str) -> list[Tensor]:
    items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): expected Tensors, got {type(t).__name__} at position {i}")
    return items


def _grads(parameters: TensorOrTensors, fn: str) -> list[Tensor]:
    return [p.grad for p in _tensors(parameters, fn) if p.grad is not None]


def _norm_type(norm_type: Any, fn: str) -> float:
    try:
        return float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}(): norm_type: expected a number (or 'inf'), got {norm_type!r}") from None


def _max_norm(max_norm: Any, fn: str) -> float:
    try:
        return float(max_norm)
    except (TypeError, ValueError) as exc:  # PyTorch's kinds (float() of a str or of None), with the name
        raise type(exc)(f"{fn}(): max_norm: expected a number, got {max_norm!r}") from None


def _vector_norm(a: np.ndarray, p: float) -> np.ndarray:
    """The p-norm of all of ``a``'s elements as a 0-d array of ``a``'s dtype (0 for an empty array)."""
    dt = a.dtype
    if a.size == 0:
        return np.zeros((), dtype=dt)
    if p == 2:
        flat = a.ravel()
        return np.sqrt(np.dot(flat, flat)).astype(dt)
    mag = np.abs(a)
    if p == math.inf:
        return mag.max().astype(dt)
    if p == -math.inf:
        return mag.min().astype(dt)
    if p == 0:
        return np.asarray(np.count_nonzero(a), dtype=dt)
    if p == 1:
        return mag.sum(dtype=dt).astype(dt)
    return np.power(np.power(mag, dt.type(p)).sum(dtype=dt), dt.type(1.0 / p)).astype(dt)


def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:  # fmt: skip
    """The ``norm_type``-norm of all elements of ``tensors`` together, as a 0-d Tensor (0.0 for none)."""
    fn = "get_total_norm"
    p = _norm_type(norm_type, fn)
    arrays = [t.data for t in _tensors(tensors, fn)]
    if not arrays:
        return Tensor(np.zeros((), dtype=np.float32))
    dtype = np.result_type(*[a.dtype for a in arrays])
    if dtype.kind != "f":
        raise TypeError(f"{fn}(): expected floating point tensors, got dtype {dtype}")
    norms = np.stack([_vector_norm(a, p).astype(dtype) for a in arrays])
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor(total)


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:  # fmt: skip
    """Scale the gradients in place by min(1, max_norm / (total_norm + 1e-6))."""
    max_value = _max_norm(max_norm, "clip_grads_with_norm_")
    grads = _grads(parameters, "clip_grads_with_norm_")
    if not grads:
        return
    total = np.asarray(total_norm.data if isinstance(total_norm, Tensor) else total_norm)
    coef = total.dtype.type(max_value) / (total + total.dtype.type(1e-6))
    coef = np.minimum(coef, total.dtype.type(1.0))
    with no_grad():
        for g in grads:
            g.mul_(coef.astype(g.dtype))


def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:  # fmt: skip
    """Scale all gradients in place so that their joint ``norm_type``-norm is at most ``max_norm``, as
    PyTorch: by min(1, max_norm / (total + 1e-6)). Returns the total norm before clipping (0-d Tensor).
    ``error_if_nonfinite`` raises RuntimeError on a nan/inf total instead of scaling by it."""
    params = _tensors(parameters, "clip_grad_norm_")
    _max_norm(max_norm, "clip_grad_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient in place to [-clip_value, clip_value]."""
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float, np.integer, np.floating)):
        raise TypeError(f"clip_grad_value_(): clip_value: expected a number, got {clip_value!r}")
    c = float(clip_value)
    with no_grad():
        for g in _grads(parameters, "clip_grad_value_"):
            g.clamp_(g.dtype.type(-c), g.dtype.type(c))


def parameters_to_vector(parameters: TensorOrTensors) -> Tensor:
    """All parameters flattened and concatenated in order: shape (sum of numel,); differentiable."""
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector(): expected at least one parameter")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: TensorOrTensors) -> None:
    """Copy consecutive slices of ``vec`` (shape (sum of numel,)) into the parameters, in place.

    Unlike PyTorch, which makes each parameter a view of ``vec``, the values are copied (cast to each
    parameter's dtype), so later updates of the parameters never write into ``vec``.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters(): expected a Tensor, but got: {type(vec).__name__}")
    params = _tensors(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters(): vec: expected a 1-D tensor of {total} elements (the parameters' total), "
            f"got shape {vec.shape}"
        )
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec.data[offset : offset + n].reshape(p.shape))
            offset += n
