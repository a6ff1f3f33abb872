"""Activations: forward against plain numpy / math references, gradients proven against float64 finite
differences.

Covers relu, leaky_relu, elu, gelu (exact and approximate="tanh"), softplus (beta, threshold), silu,
sigmoid, tanh, softmax and log_softmax through ``tinygrad_cnn.nn.functional`` and the Tensor methods:
non-contiguous inputs, float32 in -> float32 out (gradients too), PyTorch's conventions at the kinks,
stability at +-1e4 in float32, and the errors for bad input.

Each property test draws one input and checks everything about it (hypothesis spends most of its time
generating inputs): the float64 forward against the reference, the float32 forward and gradient, the
full Jacobian against central differences (``gradcheck`` weights it with a random, non-uniform upstream
gradient) and the double backward (``gradgradcheck``: full on a corner of the input, fast on all of it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from helpers import LARGE, SEEDS, SMALL, SMALL_1D, TOL, corner, grads_of, upstream
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import arrays, dims, maybe_non_contiguous, non_contiguous


def check_derivatives(fn: Callable[[Tensor], Tensor], x: np.ndarray, seed: int) -> None:
    """Full-Jacobian gradcheck and gradgradcheck (full on a corner, fast mode on all of ``x``); 0-d
    inputs included."""
    assert gradcheck(fn, (Tensor(x, requires_grad=True),), seed=seed, **TOL)
    assert gradgradcheck(fn, (Tensor(corner(x), requires_grad=True),), seed=seed, **TOL)
    if corner(x).shape != x.shape:  # else the corner was everything
        assert gradgradcheck(fn, (Tensor(x, requires_grad=True),), seed=seed, fast_mode=True, **TOL)


def check_float32(fn: Callable[[Tensor], Tensor], ref: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                  rtol: float = 1e-5, atol: float = 1e-6) -> None:  # fmt: skip
    """float32 in -> float32 out, close to the float64 reference; a float32 gradient close to float64's."""
    x32 = x.astype(np.float32)
    out, g = grads_of(fn, x32, seed=1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ref(x32.astype(np.float64)), rtol=rtol, atol=atol)
    assert g.dtype == np.float32 and g.shape == x.shape
    _, g64 = grads_of(fn, x32.astype(np.float64), seed=1)
    np.testing.assert_allclose(g.data, g64.data, rtol=1e-4, atol=1e-5)


# -- numpy / math references (float64) ------------------------------------------------------------


def gelu_ref(x: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))), otypes=[np.float64])(x)


def gelu_tanh_ref(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def softplus_ref(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def softmax_ref(x: np.ndarray, dim: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax_ref(x: np.ndarray, dim: int) -> np.ndarray:
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


# -- pointwise activations -------------------------------------------------------------------------


def away_from_zero(x: np.ndarray, params: tuple) -> None:
    x[np.abs(x) < 2.0**-6] = 2.0**-6


def away_from_softplus_threshold(x: np.ndarray, params: tuple) -> None:
    beta, threshold = params  # the switch to the linear branch at beta * x == threshold is a (tiny) jump
    x[np.abs(beta * x - threshold) < 1e-3] = (threshold - 1e-2) / beta


@dataclass(frozen=True)
class Act:
    name: str
    make: Callable[..., Callable[[Tensor], Tensor]]  # params -> the op
    ref: Callable[..., np.ndarray]  # (x, *params) -> reference
    params: st.SearchStrategy = st.just(())
    avoid: Callable[[np.ndarray, tuple], None] | None = None  # moves x off the kinks, in place
    shapes: st.SearchStrategy = SMALL

    def __str__(self) -> str:
        return self.name


SOFTPLUS_PARAMS = st.just((1.0, 20.0)) | st.tuples(st.floats(0.25, 3.0), st.floats(0.5, 20.0))
ACTIVATIONS = [
    Act("relu", lambda: F.relu, lambda x: np.maximum(x, 0.0), avoid=away_from_zero),
    Act("leaky_relu_default", lambda: F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), avoid=away_from_zero),
    Act(
        "leaky_relu",
        lambda s: lambda t: F.leaky_relu(t, negative_slope=s),
        lambda x, s: np.where(x > 0, x, s * x),
        st.tuples(st.floats(-1.0, 2.0)),
        away_from_zero,
    ),
    Act("elu_default", lambda: F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), avoid=away_from_zero),
    Act(
        "elu",
        lambda a: lambda t: F.elu(t, alpha=a),
        lambda x, a: np.where(x > 0, x, a * np.expm1(x)),
        st.tuples(st.floats(0.125, 3.0)),
        away_from_zero,
    ),
    Act("gelu", lambda: F.gelu, gelu_ref),
    Act("gelu_tanh", lambda: lambda t: F.gelu(t, approximate="tanh"), gelu_tanh_ref),
    Act(
        "softplus",
        lambda b, th: lambda t: F.softplus(t, beta=b, threshold=th),
        softplus_ref,
        SOFTPLUS_PARAMS,
        away_from_softplus_threshold,
    ),
    Act("silu", lambda: F.silu, lambda x: x / (1.0 + np.exp(-x))),
    Act("sigmoid", lambda: F.sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x))),
    Act("tanh", lambda: F.tanh, np.tanh),
]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=str)
@given(data=st.data())
def test_activation_matches_reference_and_numeric_derivatives(act: Act, data: st.DataObject) -> None:
    params = data.draw(act.params, label="params")
    x = data.draw(maybe_non_contiguous(act.shapes), label="x")
    if act.avoid is not None:
        act.avoid(x, params)
    fn = act.make(*params)
    ref = lambda a: act.ref(a, *params)  # noqa: E731
    out = fn(Tensor(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12, atol=1e-14)
    check_float32(fn, ref, x)
    check_derivatives(fn, x, data.draw(SEEDS, label="seed"))


@given(x01=non_contiguous(LARGE, np.float64, 0.0, 1.0), seed=SEEDS, data=st.data())
def test_activations_gradients_match_numeric_in_fast_mode_on_large_non_contiguous_inputs(
    x01: np.ndarray, seed: int, data: st.DataObject
) -> None:
    values = x01.copy()
    ops = []
    for act in ACTIVATIONS:
        params = data.draw(act.params, label=act.name)
        ops.append((act.name, act.make(*params), act.avoid, params))
    dim = data.draw(dims(x01.ndim, allow_none=False, allow_tuple=False), label="dim")
    ops += [
        ("softmax", lambda t: F.softmax(t, dim), None, ()),
        ("log_softmax", lambda t: F.log_softmax(t, dim), None, ()),
    ]
    for name, fn, avoid, params in ops:
        x01[...] = -3.0 + 6.0 * values  # in place: the non-contiguous layout is kept
        if avoid is not None:
            avoid(x01, params)
        try:
            gradcheck(fn, (Tensor(x01, requires_grad=True),), seed=seed, fast_mode=True)
            gradgradcheck(fn, (Tensor(x01, requires_grad=True),), seed=seed, fast_mode=True)
        except GradcheckError as e:
            raise AssertionError(f"{name}: {e}") from e


# -- softmax / log_softmax -------------------------------------------------------------------------

SOFTMAXES = {"softmax": (F.softmax, softmax_ref), "log_softmax": (F.log_softmax, log_softmax_ref)}


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@given(data=st.data())
def test_softmax_matches_naive_reference_and_numeric_derivatives(name: str, data: st.DataObject) -> None:
    op, _ = SOFTMAXES[name]
    x = data.draw(maybe_non_contiguous(SMALL_1D), label="x")
    dim = data.draw(dims(x.ndim, allow_none=False, allow_tuple=False), label="dim")
    fn = lambda t: op(t, dim)  # noqa: E731
    # naive float64 reference: exp / sum(exp), no shift (the inputs are small)
    e = np.exp(x)
    naive = e / e.sum(axis=dim, keepdims=True)
    expected = naive if name == "softmax" else np.log(naive)
    out = fn(Tensor(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.exp(out.data) if name == "log_softmax" else out.data, naive, rtol=1e-12)
    check_float32(fn, lambda a: SOFTMAXES[name][1](a, dim), x)
    check_derivatives(fn, x, data.draw(SEEDS, label="seed"))


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@given(x=arrays(SMALL_1D, np.float32, -1e4, 1e4), data=st.data())
def test_softmax_finite_and_correct_for_huge_float32_logits(name: str, x: np.ndarray, data: st.DataObject) -> None:
    op, ref = SOFTMAXES[name]
    dim = data.draw(dims(x.ndim, allow_none=False, allow_tuple=False), label="dim")
    t = Tensor(x, requires_grad=True)
    out = op(t, dim)
    assert out.dtype == np.float32 and np.isfinite(out.data).all()
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(out.data, ref(x64, dim), rtol=1e-5, atol=1e-3)
    g = upstream(x.shape, np.float32, 8)
    out.backward(g)
    assert t.grad.dtype == np.float32 and np.isfinite(t.grad.data).all()
    s, g64 = softmax_ref(x64, dim), g.data.astype(np.float64)
    if name == "softmax":
        expected = s * (g64 - (g64 * s).sum(axis=dim, keepdims=True))
    else:
        expected = g64 - s * g64.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(t.grad.data, expected, rtol=1e-4, atol=1e-4)


def test_log_softmax_of_plus_minus_1e4_float32_is_exact_and_gradient_finite() -> None:
    x = Tensor(np.array([1e4, -1e4, 0.0], np.float32), requires_grad=True)
    out = F.log_softmax(x, 0)
    np.testing.assert_array_equal(out.data, [0.0, -2e4, -1e4])
    out.backward(Tensor(np.array([1.0, 2.0, 3.0], np.float32)))
    np.testing.assert_array_equal(x.grad.data, [-5.0, 2.0, 3.0])  # g - softmax * sum(g)


def test_softmax_of_plus_minus_1e4_float32_is_one_hot_with_zero_gradient() -> None:
    x = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], np.float32), requires_grad=True)
    out = F.softmax(x, -1)
    np.testing.assert_allclose(out.data, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    out.backward(Tensor(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], np.float32)))
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0, 0.0], [-1 / 3, 0.0, 1 / 3]], atol=1e-6)


def test_softmax_dtype_argument_casts_first_and_gradient_keeps_input_dtype() -> None:
    x = Tensor(np.array([0.5, 1.0, -2.0], np.float32), requires_grad=True)
    out = F.softmax(x, 0, dtype=tc.float64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, softmax_ref(x.data.astype(np.float64), 0), rtol=1e-7)
    out.backward(upstream((3,), np.float64))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_softmax_of_zero_dim_tensor(op: Callable) -> None:
    out = op(Tensor(np.array(1.5)), 0)
    assert out.shape == () and out.item() == (1.0 if op is F.softmax else 0.0)


# -- extreme values --------------------------------------------------------------------------------

EXTREMES = np.array([-1e4, -100.0, 100.0, 1e4], np.float32)


@pytest.mark.parametrize(
    "fn, expected, slope",
    [
        (F.sigmoid, [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]),
        (F.tanh, [-1.0, -1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]),
        (F.silu, [0.0, 0.0, 100.0, 1e4], [0.0, 0.0, 1.0, 1.0]),
        (F.gelu, [0.0, 0.0, 100.0, 1e4], [0.0, 0.0, 1.0, 1.0]),
        (lambda t: F.gelu(t, approximate="tanh"), [0.0, 0.0, 100.0, 1e4], [0.0, 0.0, 1.0, 1.0]),
        (F.softplus, [0.0, 0.0, 100.0, 1e4], [0.0, 0.0, 1.0, 1.0]),
        (F.elu, [-1.0, -1.0, 100.0, 1e4], [0.0, 0.0, 1.0, 1.0]),
        (F.relu, [0.0, 0.0, 100.0, 1e4], [0.0, 0.0, 1.0, 1.0]),
    ],
    ids=["sigmoid", "tanh", "silu", "gelu", "gelu_tanh", "softplus", "elu", "relu"],
)
def test_activation_finite_and_saturated_at_plus_minus_1e4_float32(fn: Callable, expected: list, slope: list) -> None:
    x = Tensor(EXTREMES.copy(), requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow or 0 * inf, even inside
        out = fn(x)
        out.backward(Tensor(np.ones(4, np.float32)))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(x.grad.data, slope, rtol=1e-6, atol=1e-30)


@given(x=arrays(SMALL, np.float64, 20.0, 1e4), beta=st.floats(0.5, 3.0), threshold=st.floats(1.0, 9.0))
def test_softplus_is_exactly_linear_above_threshold(x: np.ndarray, beta: float, threshold: float) -> None:
    out, g = grads_of(lambda t: F.softplus(t, beta=beta, threshold=threshold), x, seed=9)
    np.testing.assert_array_equal(out.data, x)  # beta * x >= 10 > threshold: the identity
    np.testing.assert_array_equal(g.data, upstream(x.shape, np.float64, 9).data)


def test_softplus_below_threshold_is_the_smooth_formula_for_large_inputs() -> None:
    x = Tensor(np.array([15.0, 19.5]), requires_grad=True)
    out = F.softplus(x)
    np.testing.assert_allclose(out.data, np.log1p(np.exp(x.data)), rtol=1e-15)
    assert (out.data > x.data).all()  # not the linear branch yet (threshold 20)


# -- conventions at the kinks (PyTorch's) -----------------------------------------------------------


def test_relu_gradient_at_zero_is_zero() -> None:
    _, g = grads_of(F.relu, np.array([-1.0, 0.0, 2.0]), seed=10)
    up = upstream((3,), np.float64, 10).data
    np.testing.assert_array_equal(g.data, [0.0, 0.0, up[2]])


@pytest.mark.parametrize("create_graph", [False, True])
def test_relu_gradient_with_non_finite_values_is_pytorchs(create_graph: bool) -> None:
    """PyTorch's relu backward is ``out <= 0 ? 0 : grad``: 0 where the output is 0, even for an inf or NaN
    upstream gradient (a product with a 0/1 mask would give NaN there), and the gradient through a NaN output."""
    x = tc.tensor([-2.0, -1.0, math.nan, 3.0, 0.0, 5.0], requires_grad=True)
    g = tc.tensor([math.inf, math.nan, 2.0, math.nan, -math.inf, 4.0])
    (gx,) = tc.autograd.grad(F.relu(x), x, g, create_graph=create_graph)
    np.testing.assert_array_equal(gx.data, [0.0, 0.0, 2.0, math.nan, 0.0, 4.0])


def test_relu_double_backward_is_the_mask() -> None:
    x = tc.tensor([-1.0, 2.0, 0.0], requires_grad=True)
    g = tc.tensor([3.0, 4.0, 5.0], requires_grad=True)
    (gx,) = tc.autograd.grad(F.relu(x), x, g, create_graph=True)
    (gg,) = tc.autograd.grad(gx, g, tc.tensor([7.0, 8.0, 9.0]))
    np.testing.assert_array_equal(gg.data, [0.0, 8.0, 0.0])


@pytest.mark.parametrize("slope", [0.01, 0.2, -0.5, 1.5])
def test_leaky_relu_gradient_at_zero_is_negative_slope(slope: float) -> None:
    _, g = grads_of(lambda t: F.leaky_relu(t, slope), np.array([-1.0, 0.0, 2.0]), seed=11)
    up = upstream((3,), np.float64, 11).data
    np.testing.assert_allclose(g.data, [slope * up[0], slope * up[1], up[2]], rtol=1e-15)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_gradient_at_zero_is_alpha(alpha: float) -> None:
    _, g = grads_of(lambda t: F.elu(t, alpha), np.array([0.0]), seed=12)
    np.testing.assert_allclose(g.data, alpha * upstream((1,), np.float64, 12).data, rtol=1e-15)


def test_softplus_gradient_at_threshold_is_sigmoid() -> None:
    _, g = grads_of(lambda t: F.softplus(t, beta=2.0, threshold=4.0), np.array([2.0]), seed=13)
    sig = 1.0 / (1.0 + np.exp(-4.0))  # beta * x == threshold is still the smooth branch (PyTorch: '>')
    np.testing.assert_allclose(g.data, sig * upstream((1,), np.float64, 13).data, rtol=1e-12)


# -- spellings -------------------------------------------------------------------------------------

SPELLINGS = [
    ("relu", lambda t: t.relu(), F.relu),
    ("tc.relu", tc.relu, F.relu),
    ("sigmoid", lambda t: t.sigmoid(), F.sigmoid),
    ("tc.sigmoid", tc.sigmoid, F.sigmoid),
    ("tanh", lambda t: t.tanh(), F.tanh),
    ("tc.tanh", tc.tanh, F.tanh),
    ("softmax", lambda t: t.softmax(-1), lambda t: F.softmax(t, dim=1)),
    ("tc.softmax", lambda t: tc.softmax(t, 0), lambda t: F.softmax(t, -2)),
    ("log_softmax", lambda t: t.log_softmax(0), lambda t: F.log_softmax(t, dim=-2)),
    ("tc.log_softmax", lambda t: tc.log_softmax(t, 1), lambda t: F.log_softmax(t, -1)),
    ("leaky_relu_kw", lambda t: F.leaky_relu(t, negative_slope=0.3, inplace=False), lambda t: F.leaky_relu(t, 0.3)),
    ("gelu_none", lambda t: F.gelu(t, approximate="none"), F.gelu),
    ("softplus_defaults", lambda t: F.softplus(t, beta=1.0, threshold=20.0), F.softplus),
]


@pytest.mark.parametrize("name, spelling, reference", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_method_and_function_spellings_agree_in_value_and_gradient(
    name: str, spelling: Callable, reference: Callable
) -> None:
    x = np.array([[-1.3, 0.4, 2.2], [0.7, -0.2, 1.1]])
    out, g = grads_of(spelling, x, seed=14)
    ref_out, ref_g = grads_of(reference, x, seed=14)
    np.testing.assert_array_equal(out.data, ref_out.data)
    np.testing.assert_array_equal(g.data, ref_g.data)


# -- 0-d inputs ------------------------------------------------------------------------------------

ZERO_DIM = {
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "softplus": F.softplus,
    "silu": F.silu,
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
    "elu": F.elu,
}


@pytest.mark.parametrize("fn", list(ZERO_DIM.values()), ids=list(ZERO_DIM))
def test_double_backward_on_zero_dim_input_matches_numeric(fn: Callable) -> None:
    assert gradgradcheck(fn, (Tensor(np.array(-0.7), requires_grad=True),), seed=0, **TOL)


def test_gelu_of_zero_dim_tensor_matches_reference() -> None:
    x = np.array(0.5)
    np.testing.assert_allclose(F.gelu(Tensor(x)).data, gelu_ref(x), rtol=1e-12)
    assert gradgradcheck(F.gelu, (Tensor(x, requires_grad=True),), seed=0, **TOL)


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax, tc.softmax, tc.log_softmax])
def test_softmax_without_dim_is_a_type_error(op: Callable) -> None:
    with pytest.raises(TypeError):
        op(Tensor(np.ones((2, 3))))
    with pytest.raises(TypeError):
        op(Tensor(np.ones((2, 3))), dim=None)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("dim", [2, -3, 5])
def test_softmax_dim_out_of_range_is_an_index_error(op: Callable, dim: int) -> None:
    with pytest.raises(IndexError):
        op(Tensor(np.ones((2, 3))), dim)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_softmax_with_tuple_dim_is_a_type_error(op: Callable) -> None:
    with pytest.raises(TypeError):
        op(Tensor(np.ones((2, 3))), (0, 1))


NON_TENSOR_OPS: list[Callable[[Any], Any]] = [
    F.relu, F.leaky_relu, F.elu, F.gelu, F.softplus, F.silu, F.sigmoid, F.tanh,
    lambda x: F.softmax(x, 0), lambda x: F.log_softmax(x, 0),
]  # fmt: skip


@pytest.mark.parametrize(
    "op",
    NON_TENSOR_OPS,
    ids=["relu", "leaky_relu", "elu", "gelu", "softplus", "silu", "sigmoid", "tanh", "softmax", "log_softmax"],
)
@pytest.mark.parametrize("bad", [[0.5, -1.0], np.array([0.5, -1.0]), 0.5], ids=["list", "ndarray", "float"])
def test_activation_rejects_non_tensor_input_with_type_error(op: Callable, bad: object) -> None:
    with pytest.raises(TypeError):
        op(bad)


def test_gelu_rejects_unknown_approximation() -> None:
    with pytest.raises(RuntimeError):  # as PyTorch
        F.gelu(Tensor(np.ones(2)), approximate="erf")


def test_activations_accept_integer_tensors_like_pytorch() -> None:
    ints = Tensor(np.array([-2, 0, 3], dtype=np.int64))
    assert F.relu(ints).dtype == np.int64
    assert F.sigmoid(ints).dtype == np.float32
    assert F.tanh(ints).dtype == np.float32
