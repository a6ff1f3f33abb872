"""Normalization layers as functions (``torch.nn.functional`` signatures, NCHW): batch_norm, layer_norm,
group_norm, local_response_norm.

batch_norm of float32/float64 input is one fused Function, ``BatchNormTrain`` (batch statistics) or
``BatchNormEval`` (running statistics): normalization and affine part in a few numpy passes over pooled
buffers, with the closed-form gradient for input, weight and bias. layer_norm,
group_norm (and batch_norm of other dtypes) share ``Normalize``: ``(x - mean) / sqrt(var + eps)`` over some
axes (biased variance), with the closed-form gradient; their affine part (``* weight + bias``) is ordinary
Tensor arithmetic. local_response_norm is composed of Tensor ops (pad, slices, pow).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import kernels
from tinygrad_cnn.autograd import grad_mode
from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.functions.array import pad
from tinygrad_cnn.tensor import Tensor

Moments = tuple[np.ndarray, np.ndarray, np.ndarray]


def _moments(d: np.ndarray, axes: tuple[int, ...]) -> Moments:
    """``(mean, d - mean, biased var)`` over ``axes`` (kept as size-1 dims), in ``d``'s dtype (two-pass)."""
    mean = d.mean(axis=axes, keepdims=True)
    centered = d - mean
    return mean, centered, np.mean(centered * centered, axis=axes, keepdims=True)


class Normalize(Function):
    """``xhat = (x - mean) / sqrt(var + eps)`` with mean and biased var over ``axes`` (same shape as x).

    Backward, with ``g`` the incoming gradient and means over ``axes``:
    ``dx = invstd * (g - mean(g) - xhat * mean(g * xhat))``. Without ``create_graph`` it is evaluated in numpy
    on saved arrays; with it, mean/invstd/xhat are recomputed from the saved input with Tensor ops, so the
    gradient is itself differentiable (double backward). ``moments`` optionally passes ``_moments(x.data,
    axes)`` computed by the caller (batch_norm needs them for the running statistics); its centered array is
    reused as the output's buffer.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple[int, ...], eps: float, moments: Moments | None = None) -> np.ndarray:
        _, centered, var = moments if moments is not None else _moments(x.data, axes)
        invstd = 1 / np.sqrt(var + eps)
        xhat = np.multiply(centered, invstd, out=centered)
        ctx.axes, ctx.eps = axes, eps
        ctx.save_for_backward(x, xhat, invstd)
        return xhat

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        x, xhat, invstd = ctx.saved_tensors
        axes = ctx.axes
        if grad_mode.is_grad_enabled():  # create_graph=True: keep the graph connected to x
            centered = x - x.mean(axes, keepdim=True)
            inv = ((centered * centered).mean(axes, keepdim=True) + ctx.eps).rsqrt()
            xh = centered * inv
            dx = inv * (grad - grad.mean(axes, keepdim=True) - xh * (grad * xh).mean(axes, keepdim=True))
            return dx, None, None, None
        g, xh = grad.data, xhat.data
        dx = invstd.data * (g - g.mean(axis=axes, keepdims=True) - xh * (g * xh).mean(axis=axes, keepdims=True))
        return Tensor(dx.astype(x.dtype, copy=False)), None, None, None


def _as3d(a: np.ndarray) -> np.ndarray:
    """``a`` (N, C, *) as (N, C, L) (a view when it can be; also for empty arrays)."""
    return a.reshape(a.shape[0], a.shape[1], int(np.prod(a.shape[2:], dtype=np.int64)))


def _channel_sum(a: np.ndarray) -> np.ndarray:
    """Per-channel sum of ``a`` (N, C, L) -> (C,), in ``a``'s dtype (BLAS-backed, no temporaries of a's size)."""
    return np.einsum("ncl->c", a)


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-channel ``sum(a * b)`` of two (N, C, L) arrays -> (C,), without an (N, C, L) temporary."""
    return np.vecdot(a, b).sum(axis=0)


def _batch_moments(x: np.ndarray) -> Moments:
    """``(mean, x - mean, biased var)`` per channel of ``x`` (N, C, *): mean and var (C,), the centered array
    (N, C, L) in a pooled buffer; all in x's dtype, two-pass."""
    x3 = _as3d(x)
    m = x3.dtype.type(x3.shape[0] * x3.shape[2])
    mean = _channel_sum(x3) / m
    centered = np.subtract(x3, _rows(mean, x3.shape[2]), out=kernels._empty(x3.shape, x3.dtype))
    return mean, centered, _channel_dot(centered, centered) / m


def _rows(v: np.ndarray, length: int) -> np.ndarray:
    """Per-channel values ``v`` (C,) repeated as a contiguous (C, length) array: numpy broadcasts it over
    (N, C, length) with its contiguous (SIMD) loops, about 1.5x faster than broadcasting ``v[:, None]``."""
    return np.repeat(v[:, None], length, axis=1)


class BatchNormTrain(Function):
    """Training-mode batch norm of ``x`` (N, C, *) with optional ``weight`` / ``bias`` (C,), fused.

    With M = N * prod(*) values per channel, per channel: ``mean = sum(x) / M``, ``c = x - mean``,
    ``var = sum(c * c) / M`` (biased, two-pass), ``invstd = 1 / sqrt(var + eps)``, ``xhat = c * invstd`` and
    ``y = c * (invstd * w) + b``. Backward, with ``g`` the incoming gradient:
    ``db = sum(g)``, ``dw = sum(g * xhat) = invstd * sum(g * c)``,
    ``dx = (w * invstd) * (g - db / M - xhat * dw / M)``, evaluated as ``(g - c * k - db / M) * (w * invstd)``
    with ``k = invstd * dw / M``. Everything stays in x's dtype (no float64 temporaries); the (N, C, *) arrays
    are pooled buffers. ``moments`` is ``_batch_moments(x.data)``, computed by the caller (batch_norm needs
    mean and var for the running statistics). With ``create_graph`` the gradients are recomputed from the saved
    input with Tensor ops, so they are differentiable (double backward).
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float, moments: Moments) -> Any:
        _, centered, var = moments  # from _batch_moments(x.data)
        invstd = (1 / np.sqrt(var + centered.dtype.type(eps))).astype(centered.dtype, copy=False)
        scale = invstd if weight is None else invstd * weight.data
        length = centered.shape[2]
        out = np.multiply(centered, _rows(scale, length), out=kernels._empty(centered.shape, centered.dtype))
        if bias is not None:
            out += _rows(bias.data, length)
        ctx.eps = eps
        ctx.save_for_backward(x, weight, bias, centered, invstd)  # freed after backward
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        x, weight, bias, centered, invstd = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if grad_mode.is_grad_enabled():  # create_graph=True: Tensor ops, connected to x and weight
            return BatchNormTrain._backward_graph(x, weight, grad, ctx.eps, need_x, need_w, need_b)
        centered, invstd = centered.data, invstd.data
        g = grad.data.reshape(centered.shape)
        m = g.shape[0] * g.shape[2]
        db = _channel_sum(g)
        dw = _channel_dot(g, centered) * invstd
        dx = None
        if need_x:
            scale = invstd if weight is None else invstd * weight.data
            k = invstd * dw / g.dtype.type(m)
            out = np.multiply(centered, _rows(-k, g.shape[2]), out=kernels._empty(g.shape, g.dtype))
            out -= _rows(db / g.dtype.type(m), g.shape[2])
            out += g
            out *= _rows(scale, g.shape[2])
            dx = Tensor(out.reshape(x.shape))
        dw_t = Tensor(dw.astype(weight.dtype, copy=False)) if need_w else None
        db_t = Tensor(db.astype(bias.dtype, copy=False)) if need_b else None
        return dx, dw_t, db_t, None, None

    @staticmethod
    def _backward_graph(x: Tensor, weight: Tensor | None, grad: Tensor, eps: float, *needs: bool) -> tuple:
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        centered = x - x.mean(axes, keepdim=True)
        inv = ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()
        xh = centered * inv
        dx = inv * (grad - grad.mean(axes, keepdim=True) - xh * (grad * xh).mean(axes, keepdim=True))
        if weight is not None:
            dx = dx * weight.reshape(shape)
        dw = (grad * xh).sum(axes) if needs[1] else None
        db = grad.sum(axes) if needs[2] else None
        return (dx if needs[0] else None), dw, db, None, None


class BatchNormEval(Function):
    """Evaluation-mode batch norm of ``x`` (N, C, *) with running statistics ``rm``, ``rv`` (C,, no grad) and
    optional ``weight`` / ``bias`` (C,), fused: ``invstd = 1 / sqrt(rv + eps)``,
    ``y = (x - rm) * (invstd * w) + b``. Backward: ``dx = g * (invstd * w)``, ``db = sum(g)``,
    ``dw = invstd * sum(g * (x - rm))`` (sums over all dims but C). With ``create_graph`` the gradients are
    Tensor ops (double backward)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None, rm: Tensor, rv: Tensor,
                eps: float) -> np.ndarray:  # fmt: skip
        x3 = _as3d(x.data)
        invstd = (1 / np.sqrt(rv.data + x3.dtype.type(eps))).astype(x3.dtype, copy=False)
        scale = invstd if weight is None else invstd * weight.data
        length = x3.shape[2]
        out = np.subtract(x3, _rows(rm.data, length), out=kernels._empty(x3.shape, x3.dtype))
        out *= _rows(scale, length)
        if bias is not None:
            out += _rows(bias.data, length)
        ctx.save_for_backward(x, weight, bias, rm.data.copy(), invstd)  # copies: rm, rv may change in place later
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        x, weight, bias, rm, inv = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if grad_mode.is_grad_enabled():  # create_graph=True: Tensor ops
            axes = (0,) + tuple(range(2, x.ndim))
            shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
            dx = grad * (inv if weight is None else inv * weight).reshape(shape) if need_x else None
            dw = (grad * ((x - rm.reshape(shape)) * inv.reshape(shape))).sum(axes) if need_w else None
            db = grad.sum(axes) if need_b else None
            return dx, dw, db, None, None, None
        g = _as3d(grad.data)
        length = g.shape[2]
        invstd = inv.data
        dx = dw = db = None
        if need_x:
            scale = invstd if weight is None else invstd * weight.data
            dx = Tensor(np.multiply(g, _rows(scale, length), out=kernels._empty(g.shape, g.dtype)).reshape(x.shape))
        if need_w:
            centered = np.subtract(
                x.data.reshape(g.shape), _rows(rm.data, length), out=kernels._empty(g.shape, g.dtype)
            )
            dw = Tensor(_channel_dot(g, centered) * invstd)
        if need_b:
            db = Tensor(_channel_sum(g))
        return dx, dw, db, None, None, None


# -- argument checking ------------------------------------------------------------------------------------
# Error kinds follow PyTorch: TypeError for a wrong type, NotImplementedError (a RuntimeError) for an integer
# input, RuntimeError for shapes that do not fit, ValueError where PyTorch's Python code raises one.
def _input(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"{op}(): input: expected a floating point tensor, got dtype {x.dtype} (convert with .float())"
        )
    return x


def _param(
    t: Any, op: str, name: str, shape: tuple[int, ...], dtype: np.dtype, numel_only: bool = False
) -> Tensor | None:
    """``t`` checked to be None or a floating Tensor of ``shape``; cast (differentiably) to ``dtype``.
    ``numel_only``: any shape with the right number of elements is reshaped to ``shape`` (batch_norm, as PyTorch)."""
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): {name}: expected a Tensor or None, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise RuntimeError(f"{op}(): {name}: expected a floating point tensor, got dtype {t.dtype}")
    if t.shape != shape:
        if not numel_only or t.numel() != int(np.prod(shape)):
            raise RuntimeError(f"{op}(): {name}: expected shape {shape}, got {t.shape}")
        t = t.reshape(shape)
    return t if t.dtype == dtype else t.to(dtype)


def _number(v: Any, op: str, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}(): {name}: expected a number, got {type(v).__name__}")
    return float(v)


def _affine(out: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...]) -> Tensor:
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# -- functional forms -------------------------------------------------------------------------------------
def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) of ``input`` (N, C, *), e.g. (N, C), (N, C, L), (N, C, H, W), then
    ``* weight + bias`` (each (C,), optional).

    ``training=True``: use the batch mean and biased variance over (N, *); if given, ``running_mean`` and
    ``running_var`` ((C,), no grad) are updated in place: ``r = (1 - momentum) * r + momentum * stat``, with
    the unbiased batch variance, as PyTorch. ``training=False``: normalize with the running statistics.
    """
    op = "batch_norm"
    x = _input(input, op)
    if x.ndim < 2:
        raise RuntimeError(f"{op}(): input: expected at least 2 dimensions (N, C, *), got shape {x.shape}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"{op}(): training: expected a bool, got {type(training).__name__}")
    c = x.shape[1]
    rm = _param(running_mean, op, "running_mean", (c,), x.dtype, numel_only=True)
    rv = _param(running_var, op, "running_var", (c,), x.dtype, numel_only=True)
    if (rm is None) != (rv is None):
        missing = "running_var" if rv is None else "running_mean"
        message = f"{op}(): running_mean and running_var: expected both Tensors or both None, got {missing}=None"
        raise ValueError(message) if training else RuntimeError(message)  # PyTorch's kinds
    w = _param(weight, op, "weight", (c,), x.dtype, numel_only=True)
    b = _param(bias, op, "bias", (c,), x.dtype, numel_only=True)
    momentum, eps = _number(momentum, op, "momentum"), _number(eps, op, "eps")
    if eps < 0:
        raise ValueError(f"{op}(): eps: expected a non-negative number, got {eps}")
    shape = (1, c) + (1,) * (x.ndim - 2)
    if not training:
        if rm is None:
            raise RuntimeError(f"{op}(): running_mean: expected a Tensor when training=False, got None")
        assert rv is not None  # checked above: both Tensors or both None
        if x.dtype in (np.float32, np.float64) and not (rm.requires_grad or rv.requires_grad):
            return BatchNormEval.apply(x, w, b, rm, rv, eps)
        scale = (rv + eps).rsqrt() if w is None else (rv + eps).rsqrt() * w  # (C,): cheap before broadcasting
        out = (x - rm.reshape(shape)) * scale.reshape(shape)
        return out if b is None else out + b.reshape(shape)

    axes = (0,) + tuple(range(2, x.ndim))
    n = x.numel() // c if c else 0
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
    if n == 0:  # an empty batch: an empty output, running statistics untouched (as PyTorch)
        return _affine(x.clone(), w, b, shape)
    if x.dtype in (np.float32, np.float64):
        moments = _batch_moments(x.data)
        mean, var = moments[0], moments[2]
        out = BatchNormTrain.apply(x, w, b, eps, moments)
    else:
        moments = _moments(x.data, axes)
        mean, var = moments[0], moments[2]
        out = _affine(Normalize.apply(x, axes, eps, moments), w, b, shape)
    if running_mean is not None:
        assert running_var is not None  # checked above (rm, rv): both Tensors or both None
        with grad_mode.no_grad():
            running_mean.mul_(1 - momentum).add_(mean.reshape(running_mean.shape), alpha=momentum)
            running_var.mul_(1 - momentum).add_(var.reshape(running_var.shape) * (n / (n - 1)), alpha=momentum)
    return out


def _normalized_shape(normalized_shape: Any, x: Tensor, op: str) -> tuple[int, ...]:
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    if not isinstance(ns, Sequence) or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in ns):
        raise TypeError(f"{op}(): normalized_shape: expected an int or a sequence of ints, got {normalized_shape!r}")
    ns = tuple(int(s) for s in ns)
    if not ns:
        raise RuntimeError(f"{op}(): normalized_shape: expected at least one dimension, got ()")
    if x.ndim < len(ns) or x.shape[x.ndim - len(ns) :] != ns:
        raise RuntimeError(
            f"{op}(): normalized_shape: expected the trailing dims of input to be {ns}, got input shape {x.shape}"
        )
    return ns


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the trailing dims ``normalized_shape`` of ``input`` (*, *normalized_shape) with their
    mean and biased variance, then ``* weight + bias`` (each of shape ``normalized_shape``, optional)."""
    op = "layer_norm"
    x = _input(input, op)
    ns = _normalized_shape(normalized_shape, x, op)
    w = _param(weight, op, "weight", ns, x.dtype)
    b = _param(bias, op, "bias", ns, x.dtype)
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    eps = _number(eps, op, "eps")
    if x.numel() == 0:  # an empty batch: nothing to normalize (and no mean of an empty slice)
        return _affine(x.clone(), w, b, ns)
    return _affine(Normalize.apply(x, axes, eps), w, b, ns)


def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the C channels of ``input`` (N, C, *) into ``num_groups`` groups of C / num_groups channels,
    normalize each (sample, group) over its channels and positions, then ``* weight + bias`` ((C,) each)."""
    op = "group_norm"
    x = _input(input, op)
    if x.ndim < 2:
        raise RuntimeError(f"{op}(): input: expected at least 2 dimensions (N, C, *), got shape {x.shape}")
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)):
        raise TypeError(f"{op}(): num_groups: expected an int, got {type(num_groups).__name__}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"{op}(): num_groups: expected a positive divisor of the number of channels {c}, got {num_groups}"
        )
    w = _param(weight, op, "weight", (c,), x.dtype)
    b = _param(bias, op, "bias", (c,), x.dtype)
    g, eps = int(num_groups), _number(eps, op, "eps")
    if x.numel() == 0:  # an empty batch: nothing to normalize (and no mean of an empty slice)
        return _affine(x.clone(), w, b, (1, c) + (1,) * (x.ndim - 2))
    grouped = x.reshape(n, g, x.numel() // (n * g) if n else 0)
    out = Normalize.apply(grouped, (2,), eps).reshape(x.shape)
    return _affine(out, w, b, (1, c) + (1,) * (x.ndim - 2))


def local_response_norm(
    input: Tensor,  # noqa: A002
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    """Local response normalization across channels of ``input`` (N, C, *), as PyTorch:
    ``out[:, c] = x[:, c] / (k + alpha / size * sum(x[:, j]^2 for j in c - size//2 .. c + (size-1)//2)) ** beta``
    (channels outside [0, C) count as zero)."""
    op = "local_response_norm"
    if isinstance(input, Tensor) and input.dtype.kind in "biu":
        input = input.float()  # noqa: A001 - integers are promoted, as PyTorch's composition of ops does
    x = _input(input, op)
    if x.ndim < 3:
        raise ValueError(f"{op}(): input: expected 3 or more dimensions (N, C, *), got shape {x.shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"{op}(): size: expected an int, got {type(size).__name__}")
    if size <= 0:
        raise RuntimeError(f"{op}(): size: expected a positive int, got {size}")
    alpha, beta, k = _number(alpha, op, "alpha"), _number(beta, op, "beta"), _number(k, op, "k")
    if x.numel() == 0:
        return x
    c = x.shape[1]
    widths = [0, 0] * (x.ndim - 2) + [size // 2, (size - 1) // 2]  # pad's order: last dim first
    sq = pad(x * x, widths)
    window = sq[:, 0:c]
    for i in range(1, size):
        window = window + sq[:, i : i + c]
    div = (window * (alpha / size) + k) ** beta
    return x / div
