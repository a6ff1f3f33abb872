"""linear against a plain float64 loop reference written here (input (in,), (N, in) or (N, d1, in); weight
(out, in) or 1-D (in,); bias None, (out,), (1,) or 0-d), gradients against float64 finite differences (full
Jacobian on small draws, fast mode on larger ones, second order), strided inputs, float32, empty dims, argument
errors, and -- where torch is importable -- PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import SEEDS, TOL
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import maybe_non_contiguous, non_contiguous

# The loop-reference forward tests are cheap: more examples than the profile's (never fewer).
MORE_EXAMPLES = settings(max_examples=max(75, settings.default.max_examples))


def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


def rand(*shape: int, seed: int = 0, dtype: Any = np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- loop reference (float64) --------------------------------------------------------------------------------------
def ref_linear(x: Any, w: Any, b: Any) -> np.ndarray:
    """One multiply-add at a time: out[..., o] = b[o] + sum_i x[..., i] * w[o, i] for a 2-D weight, and
    out[...] = sum_i x[..., i] * w[i] for a 1-D one (no bias then). A bias of shape () or (1,) is one value."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    lead, n_in = x.shape[:-1], x.shape[-1]
    xl, wl = x.tolist(), w.tolist()

    def row(idx: tuple) -> list:
        r = xl
        for i in idx:
            r = r[i]
        return r

    if w.ndim == 1:
        out = np.zeros(lead)
        for idx in np.ndindex(*lead):
            acc = 0.0
            for i in range(n_in):
                acc += row(idx)[i] * wl[i]
            out[idx] = acc
        return out
    n_out = w.shape[0]
    bias = [0.0] * n_out
    if b is not None:
        b = np.asarray(b, np.float64)
        bias = [float(b)] * n_out if b.ndim == 0 else [float(b[0] if b.shape == (1,) else b[o]) for o in range(n_out)]
    out = np.zeros(lead + (n_out,))
    for idx in np.ndindex(*lead):
        for o in range(n_out):
            acc = bias[o]
            for i in range(n_in):
                acc += row(idx)[i] * wl[o][i]
            out[idx + (o,)] = acc
    return out


# -- drawn cases -------------------------------------------------------------------------------------------------
@st.composite
def noisy(draw: st.DrawFn, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """A C-contiguous array or strided view: Hypothesis' values plus standard normal noise (Hypothesis often fills
    an array with one value, which would hide a swapped index)."""
    a = draw(maybe_non_contiguous(shape, dtype))
    a[...] += np.random.default_rng(draw(SEEDS)).standard_normal(shape).astype(dtype)
    return a


@st.composite
def linear_cases(draw: st.DrawFn, max_in: int = 6, max_out: int = 5, max_batch: int = 3, max_d1: int = 4,
                 dtype: Any = np.float64) -> tuple:  # fmt: skip
    """(x, w, b): x of shape (in,), (N, in) or (N, d1, in); w (out, in) or, without bias, 1-D (in,); b None,
    (out,), (1,) or 0-d."""
    n_in, n_out = draw(st.integers(1, max_in)), draw(st.integers(1, max_out))
    lead = draw(st.one_of(st.just(()), st.tuples(st.integers(1, max_batch)),
                          st.tuples(st.integers(1, max_batch), st.integers(1, max_d1))))  # fmt: skip
    x = draw(noisy(lead + (n_in,), dtype))
    if draw(st.integers(0, 4)) == 0:  # the 1-D weight: x @ w, shape lead; PyTorch allows no bias with it
        return x, draw(noisy((n_in,), dtype)), None
    w = draw(noisy((n_out, n_in), dtype))
    bias_shape = draw(st.sampled_from([None, (n_out,), (n_out,), (1,), ()]))
    b = None if bias_shape is None else draw(noisy(bias_shape, dtype))
    return x, w, b


def expected_shape(x: np.ndarray, w: np.ndarray) -> tuple[int, ...]:
    return x.shape[:-1] + w.shape[:1] if w.ndim == 2 else x.shape[:-1]


def inputs_and_fn(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple:
    if b is None:
        return (leaf(x), leaf(w)), lambda xt, wt: F.linear(xt, wt)
    return (leaf(x), leaf(w), leaf(b)), lambda xt, wt, bt: F.linear(xt, wt, bt)


SMALL = linear_cases(max_in=4, max_out=3, max_batch=2, max_d1=2)  # full Jacobians
LARGE = linear_cases(max_in=24, max_out=12, max_batch=5, max_d1=4)  # fast mode


# -- forward and gradients ----------------------------------------------------------------------------------------
@MORE_EXAMPLES
@given(linear_cases())
def test_linear_forward_matches_loop_reference(case: tuple) -> None:
    x, w, b = case
    out = F.linear(Tensor(x), Tensor(w), None if b is None else Tensor(b))
    assert out.shape == expected_shape(x, w) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref_linear(x, w, b), rtol=1e-12, atol=1e-12)


@given(SMALL, SEEDS)
def test_linear_gradients_full_jacobian_on_small_draws(case: tuple, seed: int) -> None:
    inputs, fn = inputs_and_fn(*case)
    assert gradcheck(fn, inputs, seed=seed, **TOL)


@given(LARGE, SEEDS)
def test_linear_gradients_fast_mode_on_larger_draws(case: tuple, seed: int) -> None:
    inputs, fn = inputs_and_fn(*case)
    # linear in each input: central differences are exact up to rounding, so the tight tolerances hold here too
    assert gradcheck(fn, inputs, fast_mode=True, seed=seed, **TOL)


@settings(max_examples=15)
@given(SMALL, SEEDS)
def test_linear_second_derivatives(case: tuple, seed: int) -> None:
    inputs, fn = inputs_and_fn(*case)
    assert gradgradcheck(fn, inputs, seed=seed, **TOL)


@given(st.data(), st.integers(1, 6), st.integers(1, 5), st.integers(1, 4), SEEDS)
def test_linear_on_strided_views_equals_linear_on_contiguous_copies(data: st.DataObject, n_in: int, n_out: int,
                                                                    n: int, seed: int) -> None:  # fmt: skip
    x, w = data.draw(non_contiguous((n, n_in))), data.draw(non_contiguous((n_out, n_in)))
    x[...] += rand(n, n_in, seed=seed)  # strided views stay views, with noise on top
    w[...] += rand(n_out, n_in, seed=seed + 1)
    b = rand(n_out, seed=seed + 2)
    gy = rand(n, n_out, seed=seed + 3)
    xs, ws, xc, wc = leaf(x), leaf(w), leaf(np.ascontiguousarray(x)), leaf(np.ascontiguousarray(w))
    out = F.linear(xs, ws, Tensor(b))
    out.backward(Tensor(gy))
    F.linear(xc, wc, Tensor(b)).backward(Tensor(gy))
    np.testing.assert_allclose(out.data, ref_linear(x, w, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xs.grad.data, xc.grad.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ws.grad.data, wc.grad.data, rtol=1e-12, atol=1e-12)
    # and the gradients are the closed forms gy @ w and gy^T @ x, written as loops
    np.testing.assert_allclose(xs.grad.data, ref_linear(gy, w.T, None), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ws.grad.data, ref_linear(gy.T, x.T, None), rtol=1e-12, atol=1e-12)


def test_linear_unbatched_input_and_batch_of_one_agree() -> None:
    x, w, b = rand(5), rand(3, 5, seed=1), rand(3, seed=2)
    one = F.linear(Tensor(x), Tensor(w), Tensor(b))
    batched = F.linear(Tensor(x[None]), Tensor(w), Tensor(b))
    assert one.shape == (3,) and batched.shape == (1, 3)
    np.testing.assert_allclose(one.data, batched.data[0], rtol=1e-12)
    vec = F.linear(Tensor(x), Tensor(w[0]))  # both 1-D: a dot product, shape ()
    assert vec.shape == ()
    np.testing.assert_allclose(vec.data, ref_linear(x, w[0], None), rtol=1e-12)


def test_linear_empty_dims() -> None:
    # no input features: the output is the bias; no rows or no outputs: empty outputs and zero-size gradients
    for x_shape, w_shape, b_shape in [((2, 0), (4, 0), (4,)), ((0, 3), (4, 3), (4,)), ((2, 3), (0, 3), (0,))]:
        x, w, b = rand(*x_shape), rand(*w_shape, seed=1), rand(*b_shape, seed=2)
        xt, wt, bt = leaf(x), leaf(w), leaf(b)
        out = F.linear(xt, wt, bt)
        np.testing.assert_array_equal(out.data, ref_linear(x, w, b))
        gy = rand(*out.shape, seed=3)
        out.backward(Tensor(gy))
        np.testing.assert_allclose(xt.grad.data, ref_linear(gy, w.T, None), rtol=1e-12, atol=0)  # gy @ w
        np.testing.assert_allclose(wt.grad.data, ref_linear(gy.T, x.T, None), rtol=1e-12, atol=0)  # gy^T @ x
        np.testing.assert_allclose(bt.grad.data, gy.sum(0), rtol=1e-12, atol=0)
        assert xt.grad.shape == x_shape and wt.grad.shape == w_shape and bt.grad.shape == b_shape


def test_linear_keeps_float32_in_output_and_gradients() -> None:
    cases = [(rand(4, 6), rand(3, 6, seed=1), rand(3, seed=2)), (rand(2, 3, 6), rand(6, seed=1), None),
             (rand(6), rand(3, 6, seed=1), rand(seed=2))]  # fmt: skip
    for x, w, b in cases:
        x, w = x.astype(np.float32), w.astype(np.float32)
        b = None if b is None else b.astype(np.float32)
        leaves = [leaf(a) for a in (x, w, b) if a is not None]
        out = F.linear(*leaves)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.data, ref_linear(x, w, b), rtol=1e-5, atol=1e-5)
        out.backward(Tensor(rand(*out.shape, seed=3, dtype=np.float32)))
        assert all(t.grad.dtype == np.float32 for t in leaves)


# -- bad arguments ----------------------------------------------------------------------------------------------------
def T(*shape: int, dtype: Any = np.float64) -> Tensor:
    return Tensor(np.zeros(shape, dtype=dtype))


BAD_CALLS = [
    ("in_features mismatch", lambda: F.linear(T(2, 5), T(4, 3)), RuntimeError,
     r"^linear\(\): input's last dim must equal in_features = 3 \(weight.shape\[1\]\), got input shape \(2, 5\)$"),
    ("in_features mismatch, 3-D input", lambda: F.linear(T(2, 3, 5), T(4, 3)), RuntimeError,
     r"in_features = 3 \(weight.shape\[1\]\), got input shape \(2, 3, 5\)"),
    ("in_features mismatch, 1-D weight", lambda: F.linear(T(2, 5), T(3)), RuntimeError,
     r"in_features = 3 \(weight.shape\[0\]\), got input shape \(2, 5\)"),
    ("0-d input", lambda: F.linear(T(), T(4, 3)), RuntimeError,
     r"input and weight need at least 1 dimension, got shapes \(\) and \(4, 3\)"),
    ("0-d weight", lambda: F.linear(T(3), T()), RuntimeError, r"at least 1 dimension, got shapes \(3,\) and \(\)"),
    ("3-D weight", lambda: F.linear(T(3), T(2, 2, 3)), RuntimeError,
     r"weight: expected a 2-D tensor \(out_features, in_features\), got shape \(2, 2, 3\)"),
    ("1-D weight with bias", lambda: F.linear(T(2, 3), T(3), T(2)), RuntimeError,
     r"weight: expected a 2-D tensor .*got shape \(3,\)"),
    ("bias of wrong shape", lambda: F.linear(T(2, 3), T(4, 3), T(3)), RuntimeError,
     r"bias: expected shape \(4,\) \(or one that broadcasts to the output shape \(2, 4\)\), got \(3,\)"),
    ("bias with more dims than the output", lambda: F.linear(T(2, 3), T(4, 3), T(5, 2, 4)), RuntimeError,
     r"bias: expected shape \(4,\).*got \(5, 2, 4\)"),
    ("weight dtype", lambda: F.linear(T(2, 3, dtype=np.float32), T(4, 3)), RuntimeError,
     r"input is float32 but weight is float64"),
    ("bias dtype", lambda: F.linear(T(2, 3), T(4, 3), T(4, dtype=np.float32)), RuntimeError,
     r"input is float64 but bias is float32"),
    ("integer input", lambda: F.linear(T(2, 3, dtype=np.int64), T(4, 3)), RuntimeError,
     r"input is int64 but weight is float64"),
    ("ndarray input", lambda: F.linear(np.zeros((2, 3)), T(4, 3)), TypeError, r"input: expected a Tensor, got ndarray"),
    ("ndarray bias", lambda: F.linear(T(2, 3), T(4, 3), np.zeros(4)), TypeError,
     r"bias: expected a Tensor, got ndarray"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_arguments_raise_naming_the_argument_with_expected_and_got(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# -- comparison with PyTorch (only where torch is installed) ---------------------------------------------------------
@settings(max_examples=40)
@given(case=linear_cases(max_in=10, max_out=8), seed=SEEDS)
def test_linear_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    """Same forward and same gradients (for a random upstream gradient) in float64."""
    arrays_ = [a for a in case if a is not None]
    leaves = [leaf(a) for a in arrays_]
    t_leaves = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in arrays_]
    out, t_out = F.linear(*leaves), torch.nn.functional.linear(*t_leaves)
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-10)
    gy = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(Tensor(gy))
    t_out.backward(torch.tensor(gy))
    for mine, theirs in zip(leaves, t_leaves, strict=True):
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-10)
