"""Arithmetic with broadcasting: add, sub, mul, div, pow, neg.

Operands may be Tensors, Python numbers or numpy arrays. Python scalars are "weak": ``float32 * 2.0``
stays float32, as in PyTorch. A gradient is summed back to its input's shape (``sum_to``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.tensor import Tensor


def operand(x: Any, name: str = "other") -> Any:
    """A Tensor or a Python/numpy scalar; arrays and lists become (constant) Tensors."""
    if isinstance(x, (Tensor, int, float, bool, np.number, np.bool_)):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        from tinygrad_cnn.creation import tensor

        return tensor(x)
    raise TypeError(f"{name}: expected a Tensor or a number, got {type(x).__name__}")


def value(x: Any) -> Any:
    """The numpy value of an operand."""
    return x.data if isinstance(x, Tensor) else x


def fix_dtype(out: np.ndarray, *operands: Any) -> np.ndarray:
    """PyTorch's promotion where numpy differs: integer tensors with a float scalar (or true division of
    integers) give float32, not float64; and a 0-d float64 tensor does not widen a float32 tensor that
    has dimensions (0-d tensors act like scalars within the float category)."""
    if out.dtype != np.float64:
        return out
    tensors = [o for o in operands if isinstance(o, Tensor)]
    if not any(t.dtype == np.float64 for t in tensors):
        return out.astype(np.float32)
    dimensioned = [t.dtype for t in tensors if t.ndim > 0 and t.dtype.kind == "f"]
    if dimensioned and np.float64 not in dimensioned:
        return out.astype(np.result_type(*dimensioned))
    return out


def sum_to(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast gradient back down to ``shape`` (the inverse of broadcasting)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(axes, keepdim=True)
    return grad.reshape(shape) if grad.shape != shape else grad


def _shape(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Tensor) else ()


def _scalars(*operands: Any) -> tuple:
    """The non-Tensor operands (Tensors are saved with save_for_backward, so the graph can free them)."""
    return tuple(None if isinstance(o, Tensor) else o for o in operands)


class Add(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> np.ndarray:
        ctx.shapes = (_shape(a), _shape(b))
        return fix_dtype(np.add(value(a), value(b)), a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(grad, sa) if need_a else None, sum_to(grad, sb) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> np.ndarray:
        ctx.shapes = (_shape(a), _shape(b))
        return fix_dtype(np.subtract(value(a), value(b)), a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(grad, sa) if need_a else None, sum_to(-grad, sb) if need_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> np.ndarray:
        ctx.save_for_backward(a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
        ctx.scalars = _scalars(a, b)
        return fix_dtype(np.multiply(value(a), value(b)), a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        ta, tb = ctx.saved_tensors
        a = ta if ta is not None else ctx.scalars[0]
        b = tb if tb is not None else ctx.scalars[1]
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(grad * b, ta.shape) if need_a else None, sum_to(grad * a, tb.shape) if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> np.ndarray:
        ctx.save_for_backward(a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
        ctx.scalars = _scalars(a, b)
        return fix_dtype(np.true_divide(value(a), value(b)), a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        ta, tb = ctx.saved_tensors
        a = ta if ta is not None else ctx.scalars[0]
        b = tb if tb is not None else ctx.scalars[1]
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(grad / b, ta.shape) if need_a else None
        gb = sum_to(-grad * a / (b * b), tb.shape) if need_b else None
        return ga, gb


class Pow(Function):
    """``base ** exponent``; either may be a Tensor. d/dbase = e * b^(e-1); d/dexp = b^e * log(b)
    (taken as 0 where b == 0 and e >= 0, as PyTorch does)."""

    @staticmethod
    def forward(ctx: Any, base: Any, exponent: Any) -> np.ndarray:
        out = fix_dtype(np.power(value(base), value(exponent)), base, exponent)
        ctx.save_for_backward(
            base if isinstance(base, Tensor) else None, exponent if isinstance(exponent, Tensor) else None, out
        )
        ctx.scalars = _scalars(base, exponent)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        tb, te, out = ctx.saved_tensors
        b = tb if tb is not None else ctx.scalars[0]
        e = te if te is not None else ctx.scalars[1]
        need_b, need_e = ctx.needs_input_grad
        gb = ge = None
        if need_b:
            if isinstance(e, Tensor):  # d/db b**e = e * b**(e-1), taken as 0 at b == e == 0 (not 0 * inf)
                undefined = (e.data == 0) & (b.data == 0)
                slope = e * b ** (e - 1)
                gb = grad * (slope.where(Tensor(~undefined), 0.0) if undefined.any() else slope)
            else:
                gb = grad * (e * b ** (e - 1)) if e != 0 else grad * 0.0
            gb = sum_to(gb, tb.shape)
        if need_e:
            # log(b), with the term taken as 0 where b == 0 and e >= 0 (so 0 ** e has gradient 0 in e)
            zero = (np.asarray(value(b)) == 0) & (np.asarray(value(e)) >= 0)
            log_b: Tensor | float
            if isinstance(b, Tensor):
                log_b = (b.where(Tensor(~zero), 1.0) if zero.any() else b).log()
            else:
                # 0 ** e: log 0 = -inf, taken as 0 where e >= 0 (as for tensor bases), -inf where e < 0
                log_b = Tensor(np.where(e.data >= 0, 0.0, -np.inf).astype(e.dtype)) if b == 0 else float(np.log(b))
            ge = sum_to(grad * out * log_b, te.shape)
        return gb, ge


class Neg(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor) -> np.ndarray:
        return np.negative(a.data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return -grad


def binary(fn: type[Function], a: Any, b: Any, names: tuple[str, str] = ("input", "other")) -> Tensor:
    """Apply a broadcasting binary Function; shapes that do not broadcast raise RuntimeError, as PyTorch."""
    a, b = operand(a, names[0]), operand(b, names[1])
    if fn is Sub and any(isinstance(t, Tensor) and t.dtype == np.bool_ for t in (a, b)):
        raise RuntimeError(
            "sub(): subtraction, the `-` operator, with a bool tensor is not supported; use `^` (logical xor) "
            "or `~` (logical not) instead"
        )
    sa, sb = _shape(a), _shape(b)
    if sa != sb and sa and sb:  # a scalar or 0-d operand always broadcasts
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise RuntimeError(
                f"{fn.__name__.lower()}(): the shapes of {names[0]} {sa} and {names[1]} {sb} do not broadcast"
            ) from None
    return fn.apply(a, b)


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting."""
    return binary(Add, a, b)


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting."""
    return binary(Sub, a, b)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting."""
    return binary(Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    """``a / b`` (true division) with broadcasting."""
    return binary(Div, a, b)


def pow(base: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """``base ** exponent``; base or exponent may be a Python number."""
    return binary(Pow, base, exponent, ("input", "exponent"))


def neg(a: Tensor) -> Tensor:
    """``-a``."""
    if not isinstance(a, Tensor):
        raise TypeError(f"neg(): input: expected a Tensor, got {type(a).__name__}")
    if a.dtype == np.bool_:
        raise RuntimeError("neg(): negation, the `-` operator, on a bool tensor is not supported; use `~` instead")
    return Neg.apply(a)
