"""Elementwise math: exp, log, log1p, sqrt, rsqrt, sin, cos, abs, sign, maximum, minimum, clamp, where,
and comparisons (which return bool tensors and have no gradient)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.functions.basic_math import fix_dtype, operand, sum_to, value
from tinygrad_cnn.tensor import Tensor


def _float_input(x: Any, op: str) -> Tensor:
    """Unary math needs a Tensor; integer tensors are promoted to float32 as PyTorch does."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    return x if x.dtype.kind == "f" else x.float()


class Exp(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        out = np.exp(x.data)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log1p(x.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Sqrt(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        out = np.sqrt(x.data)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad / (out * 2)


class Rsqrt(Function):
    """``1 / sqrt(x)``; d/dx = -0.5 * out^3."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        out = 1 / np.sqrt(x.data)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out * out * out * -0.5


class Sin(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * x.cos()


class Cos(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * -x.sin()


class Abs(Function):
    """|x|; the gradient at 0 is 0 (sign(0) = 0), as in PyTorch."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(np.sign(x.data))
        return np.abs(x.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (sign,) = ctx.saved_tensors
        return grad * sign


class Maximum(Function):
    """Elementwise max with broadcasting; at ties the gradient is split evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(_share(a.data, b.data, np.greater))
        ctx.shapes = (a.shape, b.shape)
        return np.maximum(a.data, b.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return _split_grad(ctx, grad)


class Minimum(Function):
    """Elementwise min with broadcasting; at ties the gradient is split evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(_share(a.data, b.data, np.less))
        ctx.shapes = (a.shape, b.shape)
        return np.minimum(a.data, b.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return _split_grad(ctx, grad)


def _share(a: np.ndarray, b: np.ndarray, wins: Callable) -> np.ndarray:
    """The share of the gradient that goes to ``a``: 1 where a wins, 0.5 at ties, 0 where b wins."""
    dtype = np.result_type(a, b)
    return wins(a, b).astype(dtype) + (a == b).astype(dtype) * 0.5


def _split_grad(ctx: Any, grad: Tensor) -> tuple:
    (share_a,) = ctx.saved_tensors
    sa, sb = ctx.shapes
    need_a, need_b = ctx.needs_input_grad
    ga = sum_to(grad * share_a, sa) if need_a else None
    gb = sum_to(grad * (1 - share_a), sb) if need_b else None
    return ga, gb


class Clamp(Function):
    """Clip to ``[min, max]``; the gradient passes where ``min <= x <= max`` (bounds included)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, lo: Any, hi: Any) -> np.ndarray:
        d = x.data
        inside = np.ones(d.shape, dtype=bool)
        if lo is not None:
            inside &= d >= lo
        if hi is not None:
            inside &= d <= hi
        ctx.save_for_backward(inside)
        return np.clip(d, lo, hi).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None


class Where(Function):
    """``condition ? a : b`` with broadcasting; the gradient goes to the chosen side."""

    @staticmethod
    def forward(ctx: Any, cond: np.ndarray, a: Any, b: Any) -> np.ndarray:
        ctx.save_for_backward(cond)
        ctx.shapes = (None, np.shape(value(a)), np.shape(value(b)))
        return fix_dtype(np.where(cond, value(a), value(b)), a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (cond,) = ctx.saved_tensors
        _, sa, sb = ctx.shapes
        _, need_a, need_b = ctx.needs_input_grad
        ga = sum_to(grad * cond, sa) if need_a else None
        gb = sum_to(grad * ~cond.data, sb) if need_b else None
        return None, ga, gb


# -- functional forms ------------------------------------------------------------------------------
def exp(x: Tensor) -> Tensor:
    """e ** x, elementwise."""
    return Exp.apply(_float_input(x, "exp"))


def log(x: Tensor) -> Tensor:
    """Natural logarithm, elementwise."""
    return Log.apply(_float_input(x, "log"))


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), accurate for small x."""
    return Log1p.apply(_float_input(x, "log1p"))


def sqrt(x: Tensor) -> Tensor:
    """Square root, elementwise."""
    return Sqrt.apply(_float_input(x, "sqrt"))


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x), elementwise."""
    return Rsqrt.apply(_float_input(x, "rsqrt"))


def sin(x: Tensor) -> Tensor:
    """Sine, elementwise."""
    return Sin.apply(_float_input(x, "sin"))


def cos(x: Tensor) -> Tensor:
    """Cosine, elementwise."""
    return Cos.apply(_float_input(x, "cos"))


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|x|, elementwise (integer tensors stay integer)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"abs(): input: expected a Tensor, got {type(x).__name__}")
    if x.dtype == np.bool_:
        raise NotImplementedError("abs(): input: bool tensors are not supported, got dtype bool")
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 per element (a bool tensor is its own sign); a constant (zero gradient)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"sign(): input: expected a Tensor, got {type(x).__name__}")
    return Tensor(x.data.copy() if x.dtype == np.bool_ else np.sign(x.data))


def _broadcast_check(op: str, *named: tuple[str, Any]) -> None:
    """RuntimeError naming the operands when their shapes do not broadcast (as PyTorch), instead of numpy's
    ValueError from deep inside."""
    shapes = [(name, np.shape(value(v))) for name, v in named if v is not None]
    if len({sh for _, sh in shapes}) <= 1:
        return
    try:
        np.broadcast_shapes(*(sh for _, sh in shapes))
    except ValueError:
        listed = ", ".join(f"{name} {sh}" for name, sh in shapes)
        raise RuntimeError(f"{op}(): the shapes of {listed} do not broadcast") from None


def _tensor_pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    a, b = operand(a, "input"), operand(b)
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(a).__name__}")
    if not isinstance(b, Tensor):
        b = Tensor(np.asarray(b, dtype=a.dtype))
    _broadcast_check(op, ("input", a), ("other", b))
    return a, b


def maximum(a: Tensor, b: Any) -> Tensor:
    """Elementwise maximum of two tensors (broadcast)."""
    return Maximum.apply(*_tensor_pair(a, b, "maximum"))


def minimum(a: Tensor, b: Any) -> Tensor:
    """Elementwise minimum of two tensors (broadcast)."""
    return Minimum.apply(*_tensor_pair(a, b, "minimum"))


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Clip each element to ``[min, max]`` (either bound may be None, or a Tensor)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"clamp(): input: expected a Tensor, got {type(x).__name__}")
    if min is None and max is None:
        raise RuntimeError("clamp(): at least one of 'min' or 'max' must not be None")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None:
            operand(bound, name)
            if np.asarray(value(bound)).dtype.kind not in "fiub":
                raise TypeError(f"clamp(): {name}: expected a Tensor or a number, got {type(bound).__name__}")
    _broadcast_check("clamp", ("input", x), ("min", min), ("max", max))
    lo, hi = value(min), value(max)
    if x.dtype.kind in "biu" and any(np.asarray(b).dtype.kind == "f" for b in (lo, hi) if b is not None):
        x = x.float()  # float bounds promote an integer tensor, as PyTorch
    return Clamp.apply(x, lo, hi)


clip = clamp


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise ``condition ? input : other``, broadcasting all three."""
    cond = np.asarray(value(condition))
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where(): condition: expected a bool tensor, got dtype {cond.dtype}")
    a, b = operand(input, "input"), operand(other)
    _broadcast_check("where", ("condition", cond), ("input", a), ("other", b))
    return Where.apply(cond, a, b)


_BITWISE = (np.bitwise_and, np.bitwise_or, np.bitwise_xor)


def compare(op: Callable, a: Tensor, b: Any) -> Tensor:
    """A comparison or bitwise op: a bool (or integer) tensor with no gradient."""
    b = operand(b)
    if op in _BITWISE:
        for t in (a, b):
            if np.asarray(value(t)).dtype.kind not in "biu":
                raise NotImplementedError(
                    f"{op.__name__}(): expected bool or integer operands, got dtype {np.asarray(value(t)).dtype}"
                )
    if isinstance(b, Tensor) and b.shape != a.shape:
        _broadcast_check(op.__name__, ("input", a), ("other", b))
    return Tensor(op(a.data, value(b)))
