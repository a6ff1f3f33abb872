"""Elementwise ops: forward against numpy, gradients proven against float64 finite differences.

Covers add, sub, mul, div, pow (tensor**tensor, tensor**scalar, scalar**tensor), neg, abs, exp, log,
log1p, sqrt, rsqrt, sin, cos, maximum, minimum, clamp and where: broadcasting, non-contiguous inputs,
float32 in -> float32 out (gradients too), PyTorch's conventions at kinks and ties, PyTorch's dtype
promotion, and the errors for bad input.

Hypothesis spends most of its time generating inputs, so each property test draws one input and checks
everything about it: the float64 forward against numpy, the float32 forward and gradient dtypes, the full
Jacobian against central differences (``gradcheck`` draws a random, non-uniform upstream gradient) and,
for smooth ops, the double backward (``gradgradcheck``, full on a corner of the input, fast mode on all
of it). Large inputs are checked in fast mode by one test per family that loops over the ops.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from helpers import LARGE, SEEDS, SMALL, TOL, corner, upstream
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import (
    arrays,
    broadcastable_shapes,
    maybe_non_contiguous,
    non_contiguous,
)


def grads_of(fn: Callable[..., Tensor], *arrays_: np.ndarray, seed: int = 0) -> tuple[Tensor, list[Tensor]]:
    """Run ``fn`` on fresh leaves of ``arrays_`` and backpropagate a random upstream gradient."""
    leaves = [Tensor(a, requires_grad=True) for a in arrays_]
    out = fn(*leaves)
    out.backward(upstream(out.shape, out.dtype, seed))
    return out, [t.grad for t in leaves]


def leaves(*arrays_: np.ndarray, requires_grad: tuple[bool, ...] | None = None) -> tuple[Tensor, ...]:
    flags = requires_grad or (True,) * len(arrays_)
    return tuple(Tensor(a, requires_grad=r) for a, r in zip(arrays_, flags, strict=True))


def check_derivatives(fn: Callable[..., Tensor], arrays_: tuple[np.ndarray, ...], seed: int, *, smooth: bool,
                      requires_grad: tuple[bool, ...] | None = None) -> None:  # fmt: skip
    """Full-Jacobian gradcheck; for smooth ops also gradgradcheck (full on a corner, fast on everything),
    0-d inputs included."""
    assert gradcheck(fn, leaves(*arrays_, requires_grad=requires_grad), seed=seed, **TOL)
    if smooth:
        corners = tuple(corner(a) for a in arrays_)
        assert gradgradcheck(fn, leaves(*corners, requires_grad=requires_grad), seed=seed, **TOL)
        if any(c.shape != a.shape for c, a in zip(corners, arrays_)):  # else the corner was everything
            assert gradgradcheck(fn, leaves(*arrays_, requires_grad=requires_grad), seed=seed, fast_mode=True, **TOL)


def fast_checks(name: str, fn: Callable[..., Tensor], arrays_: tuple[np.ndarray, ...], seed: int,
                smooth: bool) -> None:  # fmt: skip
    """Fast-mode gradcheck (and gradgradcheck for smooth ops), naming the op on failure."""
    try:
        gradcheck(fn, leaves(*arrays_), seed=seed, fast_mode=True)
        if smooth:
            gradgradcheck(fn, leaves(*arrays_), seed=seed, fast_mode=True)
    except GradcheckError as e:
        raise AssertionError(f"{name}: {e}") from e


# -- unary ops -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unary:
    name: str
    fn: Callable[[Tensor], Tensor]
    ref: Callable[[np.ndarray], np.ndarray]
    lo: float = -3.0  # bounds are powers of two, exact in float32 as well
    hi: float = 3.0
    min_magnitude: float = 0.0  # keeps abs away from its kink at 0
    smooth: bool = True

    def __str__(self) -> str:
        return self.name


UNARY = [
    Unary("neg", lambda t: -t, np.negative),
    Unary("abs", lambda t: t.abs(), np.abs, min_magnitude=2.0**-6),
    Unary("exp", tc.exp, np.exp),
    Unary("log", tc.log, np.log, lo=0.125),
    Unary("log1p", tc.log1p, np.log1p, lo=-0.875),
    Unary("sqrt", tc.sqrt, np.sqrt, lo=0.125),
    Unary("rsqrt", tc.rsqrt, lambda a: 1.0 / np.sqrt(a), lo=0.125),
    Unary("sin", tc.sin, np.sin),
    Unary("cos", tc.cos, np.cos),
]


@pytest.mark.parametrize("op", UNARY, ids=str)
@given(data=st.data())
def test_unary_op_matches_numpy_and_numeric_derivatives(op: Unary, data: st.DataObject) -> None:
    x = data.draw(maybe_non_contiguous(SMALL, np.float64, op.lo, op.hi, min_magnitude=op.min_magnitude), label="x")
    # forward, float64
    out = op.fn(Tensor(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(out.data, op.ref(x), rtol=1e-12, atol=1e-14)
    # float32 in -> float32 out, and a float32 gradient close to the float64 one
    x32 = x.astype(np.float32)
    out32, (g32,) = grads_of(op.fn, x32, seed=1)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, op.ref(x32.astype(np.float64)), rtol=1e-5, atol=1e-6)
    assert g32.dtype == np.float32 and g32.shape == x.shape
    _, (g64,) = grads_of(op.fn, x32.astype(np.float64), seed=1)
    np.testing.assert_allclose(g32.data, g64.data, rtol=1e-4, atol=1e-5)
    # derivatives against central differences
    check_derivatives(op.fn, (x,), data.draw(SEEDS, label="seed"), smooth=op.smooth)


@given(x01=non_contiguous(LARGE, np.float64, 0.0, 1.0), seed=SEEDS)
def test_unary_ops_gradients_match_numeric_in_fast_mode_on_large_non_contiguous_inputs(
    x01: np.ndarray, seed: int
) -> None:
    values = x01.copy()
    for op in UNARY:
        x01[...] = op.lo + values * (op.hi - op.lo)  # in place: the non-contiguous layout is kept
        x01[np.abs(x01) < op.min_magnitude] = op.min_magnitude
        fast_checks(op.name, op.fn, (x01,), seed, op.smooth)


ALIASES = [
    ("neg", lambda t: t.neg(), lambda t: -t),
    ("neg_fn", tc.neg, lambda t: -t),
    ("abs_builtin", abs, lambda t: t.abs()),
    ("abs_fn", tc.abs, lambda t: t.abs()),
    ("exp", lambda t: t.exp(), tc.exp),
    ("log", lambda t: (t * t + 1).log(), lambda t: tc.log(t * t + 1)),
    ("log1p", lambda t: (t * t).log1p(), lambda t: tc.log1p(t * t)),
    ("sqrt", lambda t: (t * t + 1).sqrt(), lambda t: tc.sqrt(t * t + 1)),
    ("rsqrt", lambda t: (t * t + 1).rsqrt(), lambda t: tc.rsqrt(t * t + 1)),
    ("sin", lambda t: t.sin(), tc.sin),
    ("cos", lambda t: t.cos(), tc.cos),
    ("square", lambda t: t.square(), lambda t: t * t),
    ("add", lambda t: t.add(t * 2), lambda t: tc.add(t, t * 2)),
    ("sub", lambda t: t.sub(t * 2), lambda t: tc.sub(t, t * 2)),
    ("mul", lambda t: t.mul(t + 1), lambda t: tc.mul(t, t + 1)),
    ("div", lambda t: t.div(t * t + 1), lambda t: tc.div(t, t * t + 1)),
    ("pow", lambda t: (t * t + 1).pow(t), lambda t: tc.pow(t * t + 1, t)),
    ("add_alpha", lambda t: t.add(t * t, alpha=-1.5), lambda t: t - 1.5 * (t * t)),
    ("sub_alpha", lambda t: t.sub(t * t, alpha=2.5), lambda t: t - 2.5 * (t * t)),
    ("maximum", lambda t: t.maximum(t * 0.5), lambda t: tc.maximum(t, t * 0.5)),
    ("minimum", lambda t: t.minimum(t * 0.5), lambda t: tc.minimum(t, t * 0.5)),
    ("clip", lambda t: t.clip(-0.5, 0.5), lambda t: tc.clip(t, -0.5, 0.5)),
    ("where", lambda t: t.where(t > 0, t * 3), lambda t: tc.where(t > 0, t, t * 3)),
]


@pytest.mark.parametrize("name, spelling, reference", ALIASES, ids=[a[0] for a in ALIASES])
def test_method_and_function_spellings_agree_in_value_and_gradient(
    name: str, spelling: Callable, reference: Callable
) -> None:
    x = np.array([[-1.3, 0.4, 2.2], [0.7, -0.2, 1.1]])
    out, (g,) = grads_of(spelling, x, seed=7)
    ref_out, (ref_g,) = grads_of(reference, x, seed=7)
    np.testing.assert_allclose(out.data, ref_out.data, rtol=1e-14)
    np.testing.assert_allclose(g.data, ref_g.data, rtol=1e-14)


@pytest.mark.parametrize("fn", [tc.exp, tc.log, tc.log1p, tc.sqrt, tc.rsqrt, tc.sin, tc.cos])
def test_unary_float_op_promotes_integer_tensor_to_float32(fn: Callable) -> None:
    out = fn(Tensor(np.array([1, 2, 3], dtype=np.int64)))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, fn(Tensor(np.array([1.0, 2.0, 3.0]))).data, rtol=1e-6)


def test_abs_gradient_at_zero_is_zero() -> None:
    _, (g,) = grads_of(lambda t: t.abs(), np.array([-2.0, 0.0, 3.0, -0.0]), seed=3)
    up = upstream((4,), np.float64, 3).data
    np.testing.assert_array_equal(g.data, [-up[0], 0.0, up[2], 0.0])


# -- binary ops ----------------------------------------------------------------------------------


def separate(a: np.ndarray, b: np.ndarray) -> None:
    """Move a's values to [k + 0.25, k + 0.45] and b's to [k + 0.75, k + 0.95] (in place, keeping the
    layout): every pair differs by at least 0.3, so maximum/minimum never tie, even after broadcasting."""
    for arr, offset in ((a, 0.25), (b, 0.75)):
        floor = np.floor(arr)
        arr[...] = floor + offset + 0.2 * (arr - floor)


@dataclass(frozen=True)
class Binary:
    name: str
    fn: Callable[[Tensor, Tensor], Tensor]
    ref: Callable[[np.ndarray, np.ndarray], np.ndarray]
    a_dom: tuple[float, float, float] = (-3.0, 3.0, 0.0)  # (min, max, min_magnitude)
    b_dom: tuple[float, float, float] = (-3.0, 3.0, 0.0)
    prepare: Callable[[np.ndarray, np.ndarray], None] | None = None

    def __str__(self) -> str:
        return self.name


BINARY = [
    Binary("add", operator.add, np.add),
    Binary("sub", operator.sub, np.subtract),
    Binary("mul", operator.mul, np.multiply),
    Binary("div", operator.truediv, np.true_divide, b_dom=(-3.0, 3.0, 0.5)),
    Binary("pow", operator.pow, np.power, a_dom=(0.25, 3.0, 0.0), b_dom=(-2.5, 2.5, 0.0)),
    Binary("maximum", tc.maximum, np.maximum, prepare=separate),
    Binary("minimum", tc.minimum, np.minimum, prepare=separate),
]


def draw_operand(data: st.DataObject, shape: tuple[int, ...], dom: tuple[float, float, float], label: str,
                 dtype: type = np.float64) -> np.ndarray:  # fmt: skip
    return data.draw(maybe_non_contiguous(shape, dtype, dom[0], dom[1], min_magnitude=dom[2]), label=label)


@pytest.mark.parametrize("op", BINARY, ids=str)
@given(data=st.data())
def test_binary_op_matches_numpy_and_numeric_derivatives_under_broadcasting(op: Binary, data: st.DataObject) -> None:
    sa, sb = data.draw(broadcastable_shapes(2, max_dims=3, max_side=4), label="shapes")
    a, b = draw_operand(data, sa, op.a_dom, "a"), draw_operand(data, sb, op.b_dom, "b")
    if op.prepare is not None:
        op.prepare(a, b)
    # forward, float64
    out = op.fn(Tensor(a), Tensor(b))
    assert out.dtype == np.float64 and out.shape == np.broadcast_shapes(sa, sb)
    np.testing.assert_allclose(out.data, op.ref(a, b), rtol=1e-12, atol=1e-14)
    # float32 in -> float32 out and float32 gradients of each operand's shape
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    out32, (ga, gb) = grads_of(op.fn, a32, b32, seed=2)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, op.ref(a32.astype(np.float64), b32.astype(np.float64)), rtol=1e-5, atol=1e-5)
    assert ga.dtype == np.float32 and ga.shape == sa and gb.dtype == np.float32 and gb.shape == sb
    _, (ga64, gb64) = grads_of(op.fn, a32.astype(np.float64), b32.astype(np.float64), seed=2)
    np.testing.assert_allclose(ga.data, ga64.data, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gb.data, gb64.data, rtol=1e-4, atol=1e-4)
    # derivatives w.r.t. both operands, or only one of them
    flags = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]), label="requires_grad")
    check_derivatives(op.fn, (a, b), data.draw(SEEDS, label="seed"), smooth=True, requires_grad=flags)


@given(shapes_=broadcastable_shapes(2, min_dims=2, max_dims=4, max_side=8), data=st.data())
def test_binary_ops_gradients_match_numeric_in_fast_mode_on_large_broadcast_shapes(
    shapes_: tuple, data: st.DataObject
) -> None:
    a01 = data.draw(non_contiguous(shapes_[0], np.float64, 0.0, 1.0), label="a")
    b01 = data.draw(maybe_non_contiguous(shapes_[1], np.float64, 0.0, 1.0), label="b")
    seed = data.draw(SEEDS, label="seed")
    a_values, b_values = a01.copy(), b01.copy()
    for op in BINARY:
        for arr, values, (lo, hi, magnitude) in ((a01, a_values, op.a_dom), (b01, b_values, op.b_dom)):
            arr[...] = lo + values * (hi - lo)  # in place: the layout is kept
            arr[np.abs(arr) < magnitude] = magnitude
        if op.prepare is not None:
            op.prepare(a01, b01)
        fast_checks(op.name, op.fn, (a01, b01), seed, smooth=True)


# -- a tensor with a Python scalar ---------------------------------------------------------------


@dataclass(frozen=True)
class WithScalar:
    name: str
    fn: Callable[[Tensor, float], Tensor]
    ref: Callable[[np.ndarray, float], np.ndarray]
    x_dom: tuple[float, float, float] = (-3.0, 3.0, 0.0)
    scalars: st.SearchStrategy = st.floats(-3.0, 3.0, allow_subnormal=False)

    def __str__(self) -> str:
        return self.name


NONZERO = st.floats(0.5, 3.0) | st.floats(-3.0, -0.5)
SCALAR_OPS = [
    WithScalar("tensor+scalar", lambda t, s: t + s, lambda x, s: x + s),
    WithScalar("scalar+tensor", lambda t, s: s + t, lambda x, s: s + x),
    WithScalar("tensor-scalar", lambda t, s: t - s, lambda x, s: x - s),
    WithScalar("scalar-tensor", lambda t, s: s - t, lambda x, s: s - x),
    WithScalar("tensor*scalar", lambda t, s: t * s, lambda x, s: x * s),
    WithScalar("scalar*tensor", lambda t, s: s * t, lambda x, s: s * x),
    WithScalar("tensor/scalar", lambda t, s: t / s, lambda x, s: x / s, scalars=NONZERO),
    WithScalar("scalar/tensor", lambda t, s: s / t, lambda x, s: s / x, x_dom=(-3.0, 3.0, 0.5)),
    # tensor ** real exponent needs a positive base
    WithScalar("tensor**scalar", lambda t, s: t**s, np.power, x_dom=(0.25, 3.0, 0.0)),
    # tensor ** integer exponent is defined for any base (away from 0 for negative exponents)
    WithScalar("tensor**int", lambda t, s: t**s, np.power, x_dom=(-3.0, 3.0, 0.25), scalars=st.integers(-3, 4)),
    WithScalar("scalar**tensor", lambda t, s: s**t, lambda x, s: np.power(s, x), scalars=st.floats(0.25, 3.0)),
]


@pytest.mark.parametrize("op", SCALAR_OPS, ids=str)
@given(data=st.data())
def test_tensor_with_python_scalar_matches_numpy_and_numeric_derivatives(op: WithScalar, data: st.DataObject) -> None:
    x = draw_operand(data, data.draw(SMALL, label="shape"), op.x_dom, "x")
    s = data.draw(op.scalars, label="scalar")
    fn = lambda t: op.fn(t, s)  # noqa: E731
    out = fn(Tensor(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(out.data, op.ref(x, s), rtol=1e-12, atol=1e-14)
    # a Python scalar does not promote float32
    x32 = x.astype(np.float32)
    out32, (g32,) = grads_of(fn, x32, seed=4)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, op.ref(x32.astype(np.float64), s), rtol=1e-5, atol=1e-5)
    assert g32.dtype == np.float32 and g32.shape == x.shape
    check_derivatives(fn, (x,), data.draw(SEEDS, label="seed"), smooth=True)


# -- double backward on 0-d inputs ---------------------------------------------------------------

ZERO_DIM_CASES = {
    "exp": tc.exp,
    "log": tc.log,
    "log1p": tc.log1p,
    "sqrt": tc.sqrt,
    "rsqrt": tc.rsqrt,
    "sin": tc.sin,
    "cos": tc.cos,
    "mul": lambda t: t * t,
    "div": lambda t: 1.5 / t,
    "tensor**scalar": lambda t: t**2.5,
    "tensor**tensor": lambda t: t**t,
    "scalar**tensor": lambda t: 2.5**t,
}


@pytest.mark.parametrize("fn", list(ZERO_DIM_CASES.values()), ids=list(ZERO_DIM_CASES))
def test_double_backward_on_zero_dim_input_matches_numeric(fn: Callable) -> None:
    assert gradgradcheck(fn, (Tensor(np.array(0.7), requires_grad=True),), seed=0, **TOL)


# -- pow conventions -----------------------------------------------------------------------------


def test_pow_zero_base_gradient_wrt_exponent_is_zero_for_nonnegative_exponents() -> None:
    base = Tensor(np.array([0.0, 0.0, 0.0, 2.0]), requires_grad=True)
    exponent = Tensor(np.array([0.0, 0.5, 2.0, 3.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # the gradient w.r.t. the base is inf/nan at 0
        (base**exponent).backward(Tensor(np.array([1.0, 2.0, 3.0, 4.0])))
    np.testing.assert_allclose(exponent.grad.data, [0.0, 0.0, 0.0, 4.0 * 8.0 * np.log(2.0)])


def test_pow_python_zero_base_gradient_wrt_exponent_is_zero_for_nonnegative_exponents() -> None:
    exponent = Tensor(np.array([0.0, 0.5, 2.0]), requires_grad=True)
    (0.0**exponent).backward(Tensor(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(exponent.grad.data, [0.0, 0.0, 0.0])


def test_pow_gradient_wrt_base_at_zero_base_for_positive_exponents() -> None:
    base = Tensor(np.array([0.0, 0.0]), requires_grad=True)
    exponent = Tensor(np.array([2.0, 0.5]), requires_grad=True)
    with np.errstate(divide="ignore"):
        (base**exponent).backward(Tensor(np.array([1.0, 1.0])))
    np.testing.assert_array_equal(base.grad.data, [0.0, np.inf])  # 2 * 0^1 and 0.5 * 0^-0.5, as PyTorch


def test_pow_zero_scalar_exponent_gradient_at_zero_base_is_zero() -> None:
    base = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (base**0).backward(Tensor(np.array([1.0, 1.0])))
    np.testing.assert_array_equal(base.grad.data, [0.0, 0.0])


def test_pow_zero_tensor_exponent_gradient_at_zero_base_is_zero() -> None:
    base = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    exponent = Tensor(np.array([0.0, 0.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (base**exponent).backward(Tensor(np.array([1.0, 1.0])))
    np.testing.assert_array_equal(base.grad.data, [0.0, 0.0])


def test_pow_python_zero_base_gradient_wrt_negative_exponent_is_minus_inf() -> None:
    exponent = Tensor(np.array([-1.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (0.0**exponent).backward(Tensor(np.array([1.0])))
    np.testing.assert_array_equal(exponent.grad.data, [-np.inf])


# -- maximum / minimum ties ----------------------------------------------------------------------


@pytest.mark.parametrize("fn", [tc.maximum, tc.minimum], ids=["maximum", "minimum"])
def test_maximum_minimum_split_gradient_evenly_at_ties(fn: Callable) -> None:
    a = Tensor(np.array([1.0, 2.0, 5.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 3.0, 4.0]), requires_grad=True)
    fn(a, b).backward(Tensor(np.array([2.0, 3.0, 5.0])))
    a_wins = [0.0, 0.0, 5.0] if fn is tc.maximum else [0.0, 3.0, 0.0]
    b_wins = [0.0, 3.0, 0.0] if fn is tc.maximum else [0.0, 0.0, 5.0]
    np.testing.assert_array_equal(a.grad.data, np.add(a_wins, [1.0, 0.0, 0.0]))
    np.testing.assert_array_equal(b.grad.data, np.add(b_wins, [1.0, 0.0, 0.0]))


def test_maximum_tie_shares_sum_over_broadcast_dimensions() -> None:
    a = Tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    b = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    tc.maximum(a, b).backward(Tensor(np.ones((2, 3))))
    np.testing.assert_array_equal(a.grad.data, [[0.5], [1.5]])
    np.testing.assert_array_equal(b.grad.data, [0.5, 1.5, 2.0])


def test_maximum_with_python_scalar_keeps_dtype_and_gives_gradient_to_tensor() -> None:
    x = Tensor(np.array([-1.0, 0.5, 2.0], dtype=np.float32), requires_grad=True)
    out = tc.maximum(x, 0.5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0.5, 0.5, 2.0])
    out.backward(Tensor(np.ones(3, np.float32)))
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 1.0])


# -- clamp ---------------------------------------------------------------------------------------

BOUND = {"allow_subnormal": False}
BOUNDS = {
    "min_and_max": st.tuples(st.floats(-3.0, 0.0, **BOUND), st.floats(0.5, 3.0, **BOUND)),
    "min_only": st.tuples(st.floats(-3.0, 3.0, **BOUND), st.none()),
    "max_only": st.tuples(st.none(), st.floats(-3.0, 3.0, **BOUND)),
}


@pytest.mark.parametrize("kind", sorted(BOUNDS))
@given(data=st.data())
def test_clamp_matches_np_clip_and_numeric_gradient_away_from_bounds(kind: str, data: st.DataObject) -> None:
    lo, hi = data.draw(BOUNDS[kind], label="bounds")
    x = data.draw(maybe_non_contiguous(SMALL), label="x")
    for bound in (lo, hi):  # keep the values away from the kinks at the bounds
        if bound is not None:
            x[np.abs(x - bound) < 1e-3] = bound + 1e-2
    fn = lambda t: t.clamp(lo, hi)  # noqa: E731
    out = fn(Tensor(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_array_equal(out.data, np.clip(x, lo, hi))
    out32, (g32,) = grads_of(fn, x.astype(np.float32), seed=5)
    assert out32.dtype == np.float32 and g32.dtype == np.float32 and g32.shape == x.shape
    np.testing.assert_allclose(
        out32.data, np.clip(x.astype(np.float32).astype(np.float64), lo, hi), rtol=1e-6, atol=1e-6
    )
    assert gradcheck(fn, (Tensor(x, requires_grad=True),), seed=data.draw(SEEDS, label="seed"), **TOL)


def test_clamp_passes_gradient_at_the_bounds_inclusive() -> None:
    up = upstream((5,), np.float64, 6).data
    _, (g,) = grads_of(lambda t: t.clamp(1.0, 3.0), np.array([0.0, 1.0, 2.0, 3.0, 4.0]), seed=6)
    np.testing.assert_array_equal(g.data, [0.0, up[1], up[2], up[3], 0.0])
    up = upstream((3,), np.float64, 6).data
    _, (g,) = grads_of(lambda t: t.clamp(min=1.0), np.array([0.0, 1.0, 2.0]), seed=6)
    np.testing.assert_array_equal(g.data, [0.0, up[1], up[2]])
    _, (g,) = grads_of(lambda t: t.clamp(max=1.0), np.array([0.0, 1.0, 2.0]), seed=6)
    np.testing.assert_array_equal(g.data, [up[0], up[1], 0.0])


def test_clamp_without_bounds_is_refused() -> None:
    with pytest.raises(RuntimeError):  # as PyTorch
        tc.clamp(Tensor(np.ones(2)))


def test_clamp_integer_tensor_with_float_bounds_promotes_to_float32() -> None:
    out = Tensor(np.array([1, 2], dtype=np.int64)).clamp(0.5, 1.5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [1.0, 1.5])


# -- where ---------------------------------------------------------------------------------------


@st.composite
def where_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sc, sa, sb = draw(broadcastable_shapes(3, max_dims=3, max_side=4))
    return draw(arrays(sc, np.bool_)), draw(maybe_non_contiguous(sa)), draw(maybe_non_contiguous(sb))


@given(where_case(), SEEDS)
def test_where_matches_numpy_and_numeric_derivatives_under_broadcasting(case: tuple, seed: int) -> None:
    cond, a, b = case
    expected = np.where(cond, a, b)
    out = tc.where(Tensor(cond), Tensor(a), Tensor(b))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(Tensor(a).where(Tensor(cond), Tensor(b)).data, expected)
    # the condition is an input too (not differentiable), so that the corners of all three broadcast
    fn = lambda c, x, y: tc.where(c, x * x, y)  # noqa: E731 - x * x: a non-trivial double backward
    check_derivatives(fn, (cond, a, b), seed, smooth=True, requires_grad=(False, True, True))


@given(where_case(), SEEDS, st.floats(-3.0, 3.0))
def test_where_with_python_scalar_matches_numpy_and_numeric_gradient(case: tuple, seed: int, s: float) -> None:
    cond, a, _ = case
    fn = lambda x: tc.where(Tensor(cond), x, s)  # noqa: E731
    np.testing.assert_array_equal(fn(Tensor(a)).data, np.where(cond, a, s))
    assert gradcheck(fn, (Tensor(a, requires_grad=True),), seed=seed, **TOL)


def test_where_float32_with_python_scalar_stays_float32_with_float32_gradient() -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    out = tc.where(Tensor(np.array([True, False, True])), x, 0.0)
    assert out.dtype == np.float32
    out.backward(Tensor(np.array([4.0, 5.0, 6.0], np.float32)))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [4.0, 0.0, 6.0])


def test_where_rejects_non_bool_condition() -> None:
    with pytest.raises(RuntimeError):  # as PyTorch
        tc.where(Tensor(np.array([1.0, 0.0])), Tensor(np.ones(2)), Tensor(np.zeros(2)))


# -- dtype promotion (PyTorch's rules) -----------------------------------------------------------

F32 = np.array([1.0, 2.0, 4.0], np.float32)
F64 = np.array([1.0, 2.0, 4.0], np.float64)
I64 = np.array([1, 2, 3], np.int64)
I32 = np.array([1, 2, 3], np.int32)

FLOAT32_WITH_NUMBER = {
    "f*2.5": lambda f: f * 2.5,
    "2.5*f": lambda f: 2.5 * f,
    "f+1e-3": lambda f: f + 1e-3,
    "f-3": lambda f: f - 3,
    "f/3.0": lambda f: f / 3.0,
    "3.0/f": lambda f: 3.0 / f,
    "f**2.0": lambda f: f**2.0,
    "f**2": lambda f: f**2,
    "2.0**f": lambda f: 2.0**f,
}


@pytest.mark.parametrize("expr", FLOAT32_WITH_NUMBER.values(), ids=FLOAT32_WITH_NUMBER.keys())
def test_float32_tensor_with_python_number_stays_float32(expr: Callable) -> None:
    assert expr(Tensor(F32)).dtype == np.float32


@pytest.mark.parametrize(
    "expr, expected",
    [
        (lambda i: i + 2.5, I64 + 2.5),
        (lambda i: 2.5 * i, I64 * 2.5),
        (lambda i: i / 2, I64 / 2),
        (lambda i: i**0.5, I64**0.5),
        (lambda i: 2.0**i, 2.0**I64),
    ],
    ids=["i+2.5", "2.5*i", "i/2", "i**0.5", "2.0**i"],
)
def test_int64_tensor_with_python_float_gives_float32(expr: Callable, expected: np.ndarray) -> None:
    out = expr(Tensor(I64))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)


@pytest.mark.parametrize("ints", [I64, I32], ids=["int64", "int32"])
def test_integer_tensor_true_division_gives_float32(ints: np.ndarray) -> None:
    out = Tensor(ints) / Tensor(np.array([2, 2, 2], ints.dtype))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0.5, 1.0, 1.5])


def test_integer_tensor_with_python_int_stays_integer() -> None:
    assert (Tensor(I64) * 2).dtype == np.int64
    assert (Tensor(I64) + Tensor(I32)).dtype == np.int64
    assert (Tensor(I64) ** 2).dtype == np.int64


def test_int_tensor_with_float32_tensor_gives_float32() -> None:
    assert (Tensor(I64) + Tensor(F32)).dtype == np.float32
    assert (Tensor(F32) * Tensor(I32)).dtype == np.float32


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, tc.maximum])
def test_float32_with_float64_tensor_gives_float64_and_gradients_keep_input_dtypes(op: Callable) -> None:
    a = Tensor(F32.copy(), requires_grad=True)
    b = Tensor(F64 + 0.5, requires_grad=True)
    out = op(a, b)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, op(Tensor(F32.astype(np.float64)), Tensor(F64 + 0.5)).data)
    out.backward(upstream(out.shape, np.float64))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_float32_tensor_with_zero_dim_float64_tensor_stays_float32() -> None:
    assert (Tensor(F32) * Tensor(np.array(2.5))).dtype == np.float32


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [tc.exp, tc.log, tc.log1p, tc.sqrt, tc.rsqrt, tc.sin, tc.cos, tc.abs, tc.neg],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("bad", [[1.0, 2.0], 1.5], ids=["list", "float"])
def test_unary_op_rejects_non_tensor_input_with_type_error(fn: Callable, bad: object) -> None:
    with pytest.raises(TypeError):
        fn(bad)


def test_clamp_rejects_non_tensor_input_with_type_error() -> None:
    with pytest.raises(TypeError):
        tc.clamp([1.0, 2.0], 0.0, 1.0)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow])
def test_binary_op_rejects_non_numeric_operand_with_type_error(op: Callable) -> None:
    with pytest.raises(TypeError):
        op(Tensor(F64), "2")
    with pytest.raises(TypeError):
        op(Tensor(F64), None)


@pytest.mark.parametrize("fn", [tc.maximum, tc.minimum])
def test_maximum_minimum_reject_non_tensor_input_with_type_error(fn: Callable) -> None:
    with pytest.raises(TypeError):
        fn(2.0, Tensor(F64))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_tensor_cannot_require_grad(dtype: type) -> None:
    data = np.array([1, 0, 1], dtype)
    with pytest.raises(RuntimeError):
        Tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError):
        tc.tensor(data.tolist(), requires_grad=True)
    with pytest.raises(RuntimeError):
        Tensor(data).requires_grad_()


def test_broadcasting_incompatible_shapes_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        Tensor(np.ones((2, 3))) + Tensor(np.ones((4,)))
