"""Reductions over ``dim`` (an int, a tuple of ints, or None for all) with ``keepdim``: sum, mean, amax,
amin, max/min along a dim (values and indices), var, std, logsumexp, argmax, argmin."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.tensor import Tensor, _dim

#: What ``max(dim)`` / ``min(dim)`` return, like ``torch.return_types.max``: ``values`` and ``indices``.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """Normalise ``dim`` to a sorted tuple of non-negative axes; None or () mean every axis."""
    if ndim == 0:
        if dim is not None:
            for d in dim if isinstance(dim, (tuple, list)) else (dim,):
                _dim(d, 0)
        return ()
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return tuple(range(ndim))
        out = [_dim(d, ndim) for d in dim]
        for d in out:
            if out.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims {tuple(dim)}")
        return tuple(sorted(out))
    return (_dim(dim, ndim),)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(grad: Tensor, ctx: Any) -> Tensor:
    """Bring a reduced gradient back to the input's shape by broadcasting over the reduced axes."""
    return grad.reshape(ctx.kept).expand(ctx.in_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple[int, ...], keepdim: bool) -> np.ndarray:
        ctx.in_shape, ctx.kept = x.shape, _kept_shape(x.shape, axes)
        return np.sum(x.data, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return _spread(grad, ctx), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple[int, ...], keepdim: bool) -> np.ndarray:
        ctx.in_shape, ctx.kept = x.shape, _kept_shape(x.shape, axes)
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        return np.mean(x.data, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return _spread(grad, ctx) * (1 / ctx.count) if ctx.count else _spread(grad, ctx), None, None


class Extremum(Function):
    """amax / amin: the gradient is split evenly among the elements that tie for the extreme value."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple[int, ...], keepdim: bool, largest: bool) -> np.ndarray:
        ctx.in_shape, ctx.kept = x.shape, _kept_shape(x.shape, axes)
        out = (np.max if largest else np.min)(x.data, axis=axes, keepdims=True)
        hit = (x.data == out).astype(x.dtype)
        ctx.save_for_backward(hit / hit.sum(axis=axes, keepdims=True))
        return out if keepdim else out.reshape([s for i, s in enumerate(x.shape) if i not in axes])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (share,) = ctx.saved_tensors
        return _spread(grad, ctx) * share, None, None, None


class ExtremumDim(Function):
    """max / min along one dim: values and (int64) indices; the gradient goes to the index (the first
    extreme element, as numpy's argmax)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, axis: int, keepdim: bool, largest: bool) -> tuple:
        idx = (np.argmax if largest else np.argmin)(x.data, axis=axis, keepdims=True)
        values = np.take_along_axis(x.data, idx, axis=axis)
        ctx.in_shape, ctx.kept = x.shape, values.shape
        positions = np.arange(x.shape[axis]).reshape([-1 if i == axis else 1 for i in range(x.ndim)])
        ctx.save_for_backward(positions == idx)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype(np.int64)

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _grad_indices: Tensor) -> tuple:
        (onehot,) = ctx.saved_tensors
        return _spread(grad, ctx) * onehot, None, None, None


class StdFromVar(Function):
    """sqrt(var) whose gradient is taken as 0 where the result is 0 (a constant slice)."""

    @staticmethod
    def forward(ctx: Any, v: Tensor) -> np.ndarray:
        out = np.sqrt(v.data)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        nonzero = out.data != 0
        return grad / (out * 2) if nonzero.all() else (grad / (out * 2)).where(Tensor(nonzero), 0.0)


def _float(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    return x


def _check_keepdim(keepdim: Any, op: str) -> bool:
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"{op}(): keepdim: expected a bool, got {type(keepdim).__name__}")
    return bool(keepdim)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Sum over ``dim`` (all dims when None). Integer and bool tensors sum to int64."""
    x = _float(x, "sum")
    out = Sum.apply(x, dims(dim, x.ndim), _check_keepdim(keepdim, "sum"))
    if out.dtype.kind in "biu" and out.dtype != np.int64:
        out = Tensor(out.data.astype(np.int64))
    return out


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all dims when None); needs a floating tensor, as in PyTorch."""
    x = _float(x, "mean")
    if x.dtype.kind != "f":
        raise RuntimeError(f"mean(): input: expected a floating point tensor, got dtype {x.dtype}; use .float()")
    return Mean.apply(x, dims(dim, x.ndim), _check_keepdim(keepdim, "mean"))


def _nonempty(x: Tensor, axes: tuple[int, ...], op: str, all_dims: bool = False) -> None:
    """Refuse reducing an empty dim without an identity: IndexError naming the dim, or (for a reduction
    over every dim of an empty tensor) RuntimeError, as PyTorch."""
    if x.numel() == 0 and all_dims:
        raise RuntimeError(
            f"{op}(): cannot reduce an empty tensor (shape {x.shape}) over all dims; give the dim to reduce"
        )
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"{op}(): cannot reduce over dim {a} of size 0 (input shape {x.shape})")


def amax(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (all when empty); ties share the gradient evenly."""
    x = _float(x, "amax")
    axes = dims(dim, x.ndim)
    _nonempty(x, axes, "amax", dim is None or (isinstance(dim, (tuple, list)) and not dim))
    return Extremum.apply(x, axes, _check_keepdim(keepdim, "amax"), True)


def amin(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (all when empty); ties share the gradient evenly."""
    x = _float(x, "amin")
    axes = dims(dim, x.ndim)
    _nonempty(x, axes, "amin", dim is None or (isinstance(dim, (tuple, list)) and not dim))
    return Extremum.apply(x, axes, _check_keepdim(keepdim, "amin"), False)


def _extremum(x: Tensor, dim: Any, keepdim: bool, largest: bool, op: str) -> Any:
    x = _float(x, op)
    if dim is None:
        _nonempty(x, (), op, all_dims=True)
        return amax(x) if largest else amin(x)
    if isinstance(dim, Tensor):  # max(other): the elementwise maximum, as PyTorch's overload
        from tinygrad_cnn.functions.math import maximum, minimum

        return maximum(x, dim) if largest else minimum(x, dim)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): dim: expected an int, got {type(dim).__name__}; use amax/amin for several dims")
    axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), Tensor(np.array(0, dtype=np.int64)))
    _nonempty(x, (axis,), op)
    return ValuesIndices(*ExtremumDim.apply(x, axis, _check_keepdim(keepdim, op), largest))


def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Without ``dim``: the largest element. With ``dim``: ``(values, indices)``; the gradient goes to the
    index (the first maximum)."""
    return _extremum(x, dim, keepdim, True, "max")


def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Without ``dim``: the smallest element. With ``dim``: ``(values, indices)``."""
    return _extremum(x, dim, keepdim, False, "min")


def _arg(x: Tensor, dim: int | None, keepdim: bool, fn: Any, op: str) -> Tensor:
    x = _float(x, op)
    if dim is None and x.numel() == 0:
        raise IndexError(f"{op}(): cannot take {op} of an empty tensor (shape {x.shape}); give a dim")
    if dim is not None:
        _nonempty(x, () if x.ndim == 0 else (_dim(dim, x.ndim),), op)
    keepdim = _check_keepdim(keepdim, op)
    if dim is None:
        out = np.asarray(fn(x.data))
        return Tensor(out.reshape((1,) * x.ndim) if keepdim else out.astype(np.int64))
    return Tensor(fn(x.data, axis=_dim(dim, x.ndim), keepdims=keepdim).astype(np.int64))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) largest value, over the flattened tensor when ``dim`` is None."""
    return _arg(x, dim, keepdim, np.argmax, "argmax")


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) smallest value, over the flattened tensor when ``dim`` is None."""
    return _arg(x, dim, keepdim, np.argmin, "argmin")


def _correction(unbiased: bool | None, correction: int | None) -> float:
    if unbiased is not None and not isinstance(unbiased, (bool, np.bool_)):
        raise TypeError(f"var/std: unbiased: expected a bool, got {type(unbiased).__name__}")
    if correction is not None and (
        isinstance(correction, (bool, np.bool_)) or not isinstance(correction, (int, float, np.integer, np.floating))
    ):
        raise TypeError(f"var/std: correction: expected a number, got {type(correction).__name__}")
    if correction is not None and unbiased is not None:
        raise TypeError("var/std: unbiased and correction: give one of them, not both")
    if correction is not None:
        return float(correction)
    return 0.0 if unbiased is False else 1.0


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:  # fmt: skip
    """Variance over ``dim``: sum((x - mean)^2) / (N - correction); correction 1 (Bessel) by default,
    ``unbiased=False`` means correction 0. N - correction <= 0 divides by 0 (inf, or nan for a constant
    input), as in PyTorch."""
    x = _float(x, "var")
    if x.dtype.kind != "f":
        raise RuntimeError(f"var(): input: expected a floating point tensor, got dtype {x.dtype}; use .float()")
    axes = dims(dim, x.ndim)
    keepdim = _check_keepdim(keepdim, "var")
    n = int(np.prod([x.shape[a] for a in axes]))
    dof = n - _correction(unbiased, correction)
    centered = x - x.mean(axes, keepdim=True)
    return (centered * centered).sum(axes, keepdim=keepdim) * (1 / dof if dof > 0 else float("inf"))


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:  # fmt: skip
    """Standard deviation: the square root of ``var(...)``; where it is 0 the gradient is 0 (not nan),
    as PyTorch."""
    return StdFromVar.apply(var(x, dim, unbiased, keepdim, correction=correction))


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably by factoring out the (detached) maximum."""
    x = _float(x, "logsumexp")
    axes = dims(dim, x.ndim)
    keepdim = _check_keepdim(keepdim, "logsumexp")
    m = np.max(x.data, axis=axes, keepdims=True) if x.numel() else np.zeros(_kept_shape(x.shape, axes), x.dtype)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    out = (x - Tensor(m)).exp().sum(axes, keepdim=True).log() + Tensor(m)
    return out if keepdim else out.reshape([s for i, s in enumerate(x.shape) if i not in axes])
