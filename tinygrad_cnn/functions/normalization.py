"""Normalization layers as functions (``torch.nn.functional`` signatures, NCHW): batch_norm, layer_norm,
group_norm, local_response_norm.

batch_norm (training), layer_norm and group_norm share one Function, ``Normalize``: ``(x - mean) / sqrt(var
+ eps)`` over some axes (biased variance), with the closed-form gradient; the affine part (``* weight +
bias``) is ordinary Tensor arithmetic. local_response_norm is composed of Tensor ops (pad, slices, pow).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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
        scale = (rv + eps).rsqrt() if w is None else (rv + eps).rsqrt() * w  # (C,): cheap before broadcasting
        out = (x - rm.reshape(shape)) * scale.reshape(shape)
        return out if b is None else out + b.reshape(shape)

    axes = (0,) + tuple(range(2, x.ndim))
    n = x.numel() // c if c else 0
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
    if n == 0:  # an empty batch: an empty output, running statistics untouched (as PyTorch)
        return _affine(x.clone(), w, b, shape)
    moments = _moments(x.data, axes)
    mean, var = moments[0], moments[2]
    if running_mean is not None:
        with grad_mode.no_grad():
            running_mean.mul_(1 - momentum).add_(mean.reshape(running_mean.shape), alpha=momentum)
            running_var.mul_(1 - momentum).add_(var.reshape(running_var.shape) * (n / (n - 1)), alpha=momentum)
    return _affine(Normalize.apply(x, axes, eps, moments), w, b, shape)


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
