"""Activations: relu, leaky_relu, elu, gelu (exact and tanh), softplus, silu, sigmoid, tanh,
softmax and log_softmax (both stable for logits of +-1e4 in float32)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn import dtypes, kernels
from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.autograd.grad_mode import is_grad_enabled
from tinygrad_cnn.tensor import Tensor, _dim

_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT_2PI = math.sqrt(2 * math.pi)
_GELU_K = math.sqrt(2 / math.pi)
_GELU_C = 0.044715


def _check(x: Any, op: str) -> Tensor:
    """A Tensor input; integer and bool tensors are promoted to float32, as PyTorch's float ops do."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    return x if x.dtype.kind == "f" else x.float()


def _check_float(x: Any, op: str) -> Tensor:
    """A floating Tensor input: PyTorch has no integer kernel for these ops (NotImplementedError there too)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"{op}(): input: expected a floating point tensor, got dtype {x.dtype} (convert with .float())"
        )
    return x


def _number(v: Any, op: str, name: str) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}(): {name}: expected a number, got {type(v).__name__}")
    return float(v)


class Relu(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        out = np.maximum(x.data, 0, out=kernels._empty(x.shape, x.dtype))  # pooled: no page faults when large
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        """The gradient where the output is not 0 (positive, or NaN: PyTorch's ``out <= 0 ? 0 : grad``), else
        0 -- also for an inf or NaN ``grad``, which a product with a 0/1 mask would turn into NaN there."""
        (out,) = ctx.saved_tensors
        if is_grad_enabled():  # create_graph: differentiable in grad
            return grad.where(out != 0, 0.0)
        if not np.isfinite(grad.data).all():
            return Tensor(np.where(out.data != 0, grad.data, grad.dtype.type(0)))
        # the mask as 0.0/1.0 floats, multiplied in place: one float-by-float product, no bool-to-float casts
        mask = np.not_equal(out.data, 0, out=kernels._empty(out.shape, grad.dtype), casting="unsafe")
        return Tensor(np.multiply(grad.data, mask, out=mask))


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, slope: float) -> np.ndarray:
        d = x.data
        ctx.save_for_backward(np.where(d > 0, 1, slope).astype(d.dtype))
        return np.where(d > 0, d, d * slope)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (scale,) = ctx.saved_tensors
        return grad * scale, None


class Elu(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, alpha: float) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        d = x.data
        return np.where(d > 0, d, np.expm1(np.minimum(d, 0)) * alpha)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        positive = x.data > 0
        slope = x.clamp(max=0).exp() * ctx.alpha  # alpha * exp(x) for x <= 0
        return grad * slope.where(Tensor(~positive), 1.0), None


class NormalCdf(Function):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF (exact erf from ``math.erf``)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return _normal_cdf(x.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * _normal_pdf(x)


def _normal_cdf(d: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + _erf(d * (1 / math.sqrt(2)))), dtype=d.dtype)


def _sigmoid(d: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(d))  # never overflows
    return np.where(d >= 0, 1 / (1 + e), e / (1 + e))


def _normal_pdf(x: Tensor) -> Tensor:
    return (x * x * -0.5).exp() * (1 / _SQRT_2PI)


class Gelu(Function):
    """x * Phi(x); with ``approximate="tanh"``: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, approximate: str) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        d = x.data
        if approximate == "tanh":
            return 0.5 * d * (1 + np.tanh(_GELU_K * (d + _GELU_C * d**3)))
        return d * _normal_cdf(d)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ((x + x * x * x * _GELU_C) * _GELU_K).tanh()
            slope = (t + 1) * 0.5 + x * (1 - t * t) * (x * x * (3 * _GELU_C) + 1) * (0.5 * _GELU_K)
        else:
            slope = NormalCdf.apply(x) + x * _normal_pdf(x)
        return grad * slope, None


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear (x) where beta x > threshold."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, beta: float, threshold: float) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        d = x.data
        z = d * beta
        return np.where(z > threshold, d, np.logaddexp(0, z) / beta).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        z = x * ctx.beta
        slope = z.sigmoid().where(Tensor(z.data <= ctx.threshold), 1.0)
        return grad * slope, None, None


class Sigmoid(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        out = _sigmoid(x.data)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Tanh(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        out = np.tanh(x.data)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Silu(Function):
    """x * sigmoid(x)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return x.data * _sigmoid(x.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return grad * (s * (x * (1 - s) + 1))


class Softmax(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> np.ndarray:
        e = np.exp(x.data - x.data.max(axis=dim, keepdims=True))
        out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> np.ndarray:
        shifted = x.data - x.data.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(ctx.dim, keepdim=True), None


# -- functional forms (nn.functional signatures) -------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0). ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    Integer tensors stay integer, as in PyTorch."""
    if isinstance(input, Tensor) and input.dtype.kind in "iu":
        return Tensor(np.maximum(input.data, 0))
    if isinstance(input, Tensor) and input.dtype.kind == "b":
        raise RuntimeError("relu(): input: bool tensors are not supported, got dtype bool")
    return Relu.apply(_check(input, "relu"))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else negative_slope * x (``inplace`` accepted, not used)."""
    x = _check_float(input, "leaky_relu")
    return LeakyRelu.apply(x, _number(negative_slope, "leaky_relu", "negative_slope"))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else alpha * (exp(x) - 1) (``inplace`` accepted, not used)."""
    x = _check_float(input, "elu")
    return Elu.apply(x, _number(alpha, "elu", "alpha"))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x * Phi(x) with the exact normal CDF, or its tanh approximation with ``approximate="tanh"``."""
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): approximate: expected 'none' or 'tanh', got {type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu(): approximate: expected 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_check_float(input, "gelu"), approximate)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (beta = 0 divides by zero, as
    PyTorch)."""
    x = _check_float(input, "softplus")
    beta, threshold = _number(beta, "softplus", "beta"), _number(threshold, "softplus", "threshold")
    return Softplus.apply(x, beta, threshold)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (``inplace`` accepted, not used)."""
    return Silu.apply(_check_float(input, "silu"))


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-x)), computed without overflow."""
    return Sigmoid.apply(_check(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """Hyperbolic tangent."""
    return Tanh.apply(_check(input, "tanh"))


def _softmax_dim(x: Tensor, dim: Any, op: str) -> int:
    if dim is None:
        raise TypeError(f"{op}(): dim: an explicit dim is required (PyTorch's implicit choice is deprecated)")
    return _dim(dim, x.ndim)


def _softmax_input(input: Any, dtype: Any, op: str) -> Tensor:
    """A floating input (``dtype``, if given, converts first); integer tensors are refused as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(input).__name__}")
    return _check_float(input if dtype is None else input.to(dtypes.to_dtype(dtype)), op)


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim`` (stable: the max is subtracted first). ``dim`` is required."""
    x = _softmax_input(input, dtype, "softmax")
    d = _softmax_dim(x, dim, "softmax")
    if x.numel() == 0:  # nothing to normalize (the max of an empty dim is undefined)
        return x.clone()
    return Softmax.apply(x, d)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """x - logsumexp(x) along ``dim``; finite for logits of +-1e4 in float32. ``dim`` is required."""
    x = _softmax_input(input, dtype, "log_softmax")
    d = _softmax_dim(x, dim, "log_softmax")
    if x.numel() == 0:
        return x.clone()
    return LogSoftmax.apply(x, d)
