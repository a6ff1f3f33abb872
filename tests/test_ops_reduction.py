"""Reductions: forward against numpy, gradients proven against float64 finite differences.

Covers sum, mean, amax, amin, max/min with a dim (values, indices, the gradient to the index), max()/min()
without a dim, var and std (correction / unbiased), logsumexp, argmax and argmin; ``dim`` as an int, a
negative int, a tuple or None, with and without ``keepdim``; non-contiguous inputs, float32 in -> float32
out (gradients too), PyTorch's conventions at ties, stability of logsumexp, and the errors for bad input.

Each property test draws one input and checks everything about it (hypothesis spends most of its time
generating inputs): the float64 forward against numpy, the float32 forward and gradient, the full Jacobian
against central differences (``gradcheck`` weights it with a random, non-uniform upstream gradient) and the
double backward (``gradgradcheck``: full on a corner of the input, fast mode on all of it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from helpers import LARGE, SEEDS, SMALL, SMALL_1D, TOL, corner, grads_of, upstream
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import arrays, dims, maybe_non_contiguous, non_contiguous


def distinct(x: np.ndarray) -> None:
    """Spread the values evenly over [-3, 3] keeping their order (ties broken by position) and the layout
    (in place): neighbours are at least 0.8 * 6 / size apart, far more than gradcheck's eps, so amax, amin,
    max and min never tie, and std's variance stays away from 0."""
    spacing = 6.0 / x.size
    ranks = np.argsort(np.argsort(x.ravel(), kind="stable"), kind="stable").reshape(x.shape)
    x[...] = -3.0 + spacing * (ranks + 0.5) + 0.1 * spacing * np.clip(x, -3.0, 3.0) / 3.0


def axes_of(dim: Any, ndim: int) -> tuple[int, ...]:
    """The normalised axes a ``dim`` argument names (None: all)."""
    if dim is None:
        return tuple(range(ndim))
    return tuple(sorted(d % ndim for d in (dim if isinstance(dim, tuple) else (dim,))))


def reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...], keepdim: bool) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape) if keepdim or i not in axes)


def check_derivatives(fn: Callable[[Tensor], Any], x: np.ndarray, seed: int, *,
                      full_on_corner: bool = True) -> None:  # fmt: skip
    """Full-Jacobian gradcheck and gradgradcheck (full on a corner, fast mode on all of ``x``); 0-d inputs
    and 0-d results included."""
    assert gradcheck(fn, (Tensor(x, requires_grad=True),), seed=seed, **TOL)
    if full_on_corner:
        assert gradgradcheck(fn, (Tensor(corner(x), requires_grad=True),), seed=seed, **TOL)
    if not full_on_corner or corner(x).shape != x.shape:  # else the corner was everything
        assert gradgradcheck(fn, (Tensor(x, requires_grad=True),), seed=seed, fast_mode=True, **TOL)


def var_kwargs(n: int) -> st.SearchStrategy[dict]:
    """var/std keyword arguments with n - correction > 0: unbiased=True/False, correction=0..2, or none."""
    options = [{"unbiased": False}, {"correction": 0}]
    if n >= 2:
        options += [{}, {"unbiased": True}, {"correction": 1}]
    if n >= 3:
        options.append({"correction": 2})
    return st.sampled_from(options)


def ddof(kwargs: dict) -> int:
    if "correction" in kwargs:
        return kwargs["correction"]
    return 0 if kwargs.get("unbiased") is False else 1


def logsumexp_ref(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


# -- dim reductions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reduction:
    name: str
    call: Callable[..., Tensor]  # (tensor, dim, keepdim, **kwargs)
    ref: Callable[..., np.ndarray]  # (array, axis, keepdims, **kwargs)
    distinct: bool = False  # values must not tie (amax/amin) or must spread (std)
    allow_none: bool = True  # dim=None means every axis
    kwargs: Callable[[int], st.SearchStrategy[dict]] = lambda n: st.just({})

    def __str__(self) -> str:
        return self.name


REDUCTIONS = [
    Reduction("sum", lambda t, d, k: t.sum(d, keepdim=k), lambda a, ax, k: np.sum(a, axis=ax, keepdims=k)),
    Reduction("mean", lambda t, d, k: t.mean(d, keepdim=k), lambda a, ax, k: np.mean(a, axis=ax, keepdims=k)),
    Reduction("amax", lambda t, d, k: t.amax(d, keepdim=k), lambda a, ax, k: np.max(a, axis=ax, keepdims=k), True),
    Reduction("amin", lambda t, d, k: t.amin(d, keepdim=k), lambda a, ax, k: np.min(a, axis=ax, keepdims=k), True),
    Reduction(
        "var",
        lambda t, d, k, **kw: t.var(d, keepdim=k, **kw),
        lambda a, ax, k, **kw: np.var(a, axis=ax, keepdims=k, ddof=ddof(kw)),
        kwargs=var_kwargs,
    ),
    Reduction(
        "std",
        lambda t, d, k, **kw: t.std(d, keepdim=k, **kw),
        lambda a, ax, k, **kw: np.std(a, axis=ax, keepdims=k, ddof=ddof(kw)),
        distinct=True,
        kwargs=var_kwargs,
    ),
    # logsumexp needs a dim, as in PyTorch
    Reduction("logsumexp", lambda t, d, k: t.logsumexp(d, keepdim=k), logsumexp_ref, allow_none=False),
]


@pytest.mark.parametrize("op", REDUCTIONS, ids=str)
@given(data=st.data())
def test_reduction_matches_numpy_and_numeric_derivatives(op: Reduction, data: st.DataObject) -> None:
    x = data.draw(maybe_non_contiguous(SMALL if op.allow_none else SMALL_1D), label="x")
    if op.distinct:
        distinct(x)
    dim = data.draw(dims(x.ndim, allow_none=op.allow_none), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    axes = axes_of(dim, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes]))
    kwargs = data.draw(op.kwargs(n), label="kwargs")
    fn = lambda t: op.call(t, dim, keepdim, **kwargs)  # noqa: E731
    # forward, float64
    out = fn(Tensor(x))
    assert out.dtype == np.float64
    assert out.shape == reduced_shape(x.shape, axes, keepdim)
    np.testing.assert_allclose(out.data, op.ref(x, axes, keepdim, **kwargs), rtol=1e-12, atol=1e-12)
    # float32 in -> float32 out, and a float32 gradient of the input's shape
    x32 = x.astype(np.float32)
    out32 = fn(Tensor(x32))
    assert out32.dtype == np.float32
    expected32 = op.ref(x32.astype(np.float64), axes, keepdim, **kwargs)
    np.testing.assert_allclose(out32.data, expected32, rtol=1e-5, atol=1e-5)
    # std needs a spread: its gradient where all reduced values are equal is pinned apart
    if op.name == "std" and n < 2:
        return
    _, g32 = grads_of(fn, x32, seed=1)
    assert g32.dtype == np.float32 and g32.shape == x.shape
    _, g64 = grads_of(fn, x32.astype(np.float64), seed=1)
    np.testing.assert_allclose(g32.data, g64.data, rtol=1e-4, atol=1e-4)
    # derivatives; var/std on the corner need enough elements left for the correction
    n_corner = int(np.prod([corner(x).shape[a] for a in axes]))
    corner_ok = op.name not in ("var", "std") or n_corner - ddof(kwargs) > 0 and (op.name == "var" or n_corner >= 2)
    check_derivatives(fn, x, data.draw(SEEDS, label="seed"), full_on_corner=corner_ok)


@given(x01=non_contiguous(LARGE, np.float64, 0.0, 1.0), seed=SEEDS, data=st.data())
def test_reductions_gradients_match_numeric_in_fast_mode_on_large_non_contiguous_inputs(
    x01: np.ndarray, seed: int, data: st.DataObject
) -> None:
    x01[...] = -3.0 + 6.0 * x01
    distinct(x01)  # in place: the non-contiguous layout is kept
    for op in REDUCTIONS:
        dim = data.draw(dims(x01.ndim, allow_none=op.allow_none), label=f"{op.name} dim")
        keepdim = data.draw(st.booleans(), label=f"{op.name} keepdim")
        axes = axes_of(dim, x01.ndim)
        kwargs = data.draw(op.kwargs(int(np.prod([x01.shape[a] for a in axes]))), label=f"{op.name} kwargs")
        fn = lambda t: op.call(t, dim, keepdim, **kwargs)  # noqa: B023, E731
        try:
            gradcheck(fn, (Tensor(x01, requires_grad=True),), seed=seed, fast_mode=True)
            gradgradcheck(fn, (Tensor(x01, requires_grad=True),), seed=seed, fast_mode=True)
        except GradcheckError as e:
            raise AssertionError(f"{op.name}(dim={dim}, keepdim={keepdim}, {kwargs}): {e}") from e


SPELLINGS = [
    ("sum", lambda t: tc.sum(t, (0, -1), True), lambda t: t.sum(dim=(-1, 0), keepdim=True)),
    ("sum_dtype", lambda t: t.float().sum(0, dtype=tc.float64), lambda t: t.sum(0)),
    ("mean", lambda t: tc.mean(t, -1), lambda t: t.mean(dim=1)),
    ("amax", lambda t: tc.amax(t, 1), lambda t: t.amax(dim=-1)),
    ("amin", lambda t: tc.amin(t, (0, 1)), lambda t: t.amin()),
    ("max_none", lambda t: tc.max(t), lambda t: t.amax()),
    ("min_none", lambda t: t.min(), lambda t: tc.amin(t)),
    ("max_dim", lambda t: tc.max(t, 1)[0], lambda t: t.max(dim=-1).values),
    ("min_dim", lambda t: tc.min(t, 0, True).values, lambda t: t.min(dim=-2, keepdim=True)[0]),
    ("var_positional", lambda t: t.var(1, False, True), lambda t: t.var(dim=1, keepdim=True, correction=0)),
    ("std_positional", lambda t: tc.std(t, 0, True), lambda t: t.std(dim=0, correction=1)),
    ("var_fn", lambda t: tc.var(t), lambda t: t.var(unbiased=True)),
    ("logsumexp", lambda t: tc.logsumexp(t, -1, True), lambda t: t.logsumexp(dim=1, keepdim=True)),
]


@pytest.mark.parametrize("name, spelling, reference", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_method_and_function_spellings_agree_in_value_and_gradient(
    name: str, spelling: Callable, reference: Callable
) -> None:
    x = np.array([[-1.3, 0.4, 2.2], [0.7, -0.2, 1.1]])
    out, g = grads_of(spelling, x, seed=14)
    ref_out, ref_g = grads_of(reference, x, seed=14)
    assert out.dtype == ref_out.dtype and g.dtype == ref_g.dtype
    np.testing.assert_allclose(out.data, ref_out.data, rtol=1e-7)
    np.testing.assert_allclose(g.data, ref_g.data, rtol=1e-7)


# -- max / min along a dim: values and indices ------------------------------------------------------


@pytest.mark.parametrize("largest", [True, False], ids=["max", "min"])
@given(data=st.data())
def test_max_min_along_dim_match_numpy_and_numeric_derivatives(largest: bool, data: st.DataObject) -> None:
    x = data.draw(maybe_non_contiguous(SMALL_1D), label="x")
    distinct(x)
    dim = data.draw(dims(x.ndim, allow_none=False, allow_tuple=False), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    fn = (lambda t: t.max(dim, keepdim)) if largest else (lambda t: t.min(dim, keepdim=keepdim))
    values, indices = fn(Tensor(x))
    expected_idx = (np.argmax if largest else np.argmin)(x, axis=dim, keepdims=True)
    expected = np.take_along_axis(x, expected_idx, axis=dim)
    if not keepdim:
        expected, expected_idx = expected.squeeze(dim), expected_idx.squeeze(dim)
    assert values.dtype == np.float64 and indices.dtype == np.int64
    assert values.shape == indices.shape == expected.shape
    np.testing.assert_array_equal(values.data, expected)
    np.testing.assert_array_equal(indices.data, expected_idx)
    assert not indices.requires_grad
    # float32 values and gradient
    x32 = x.astype(np.float32)
    out32, g32 = grads_of(lambda t: fn(t).values, x32, seed=2)
    assert out32.dtype == np.float32 and g32.dtype == np.float32 and g32.shape == x.shape
    # derivatives through the values (the indices output is an integer tensor gradcheck skips)
    check_derivatives(fn, x, data.draw(SEEDS, label="seed"))


def test_max_along_dim_gives_the_gradient_to_the_first_maximum() -> None:
    x = Tensor(np.array([[2.0, 1.0, 2.0], [0.0, 3.0, 3.0]]), requires_grad=True)
    values, indices = x.max(1)
    np.testing.assert_array_equal(indices.data, [0, 1])
    values.backward(Tensor(np.array([5.0, 7.0])))
    np.testing.assert_array_equal(x.grad.data, [[5.0, 0.0, 0.0], [0.0, 7.0, 0.0]])


def test_min_along_dim_gives_the_gradient_to_the_first_minimum() -> None:
    x = Tensor(np.array([[1.0, 1.0, 3.0], [4.0, 0.0, 0.0]]), requires_grad=True)
    values, indices = x.min(-1, keepdim=True)
    np.testing.assert_array_equal(indices.data, [[0], [1]])
    values.backward(Tensor(np.array([[5.0], [7.0]])))
    np.testing.assert_array_equal(x.grad.data, [[5.0, 0.0, 0.0], [0.0, 7.0, 0.0]])


def test_max_along_dim_returns_a_named_pair() -> None:
    out = Tensor(np.array([[1.0, 4.0], [3.0, 2.0]])).max(dim=0)
    values, indices = out
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(indices.data, [1, 0])


def test_max_along_dim_of_zero_dim_tensor() -> None:
    x = Tensor(np.array(2.5), requires_grad=True)
    values, indices = x.max(0)
    assert values.shape == () and values.item() == 2.5 and indices.item() == 0 and indices.dtype == np.int64
    values.backward(Tensor(np.array(3.0)))
    assert x.grad.item() == 3.0


# -- max() / min() / amax / amin: ties share the gradient evenly -------------------------------------


@pytest.mark.parametrize("largest", [True, False], ids=["max", "min"])
@given(x=maybe_non_contiguous(SMALL), seed=SEEDS)
def test_max_min_without_dim_match_numpy_and_numeric_gradient(largest: bool, x: np.ndarray, seed: int) -> None:
    distinct(x)
    fn = (lambda t: t.max()) if largest else (lambda t: t.min())
    out = fn(Tensor(x))
    assert out.shape == () and out.dtype == np.float64
    assert out.item() == (x.max() if largest else x.min())
    assert gradcheck(fn, (Tensor(x, requires_grad=True),), seed=seed, **TOL)


@pytest.mark.parametrize(
    "fn", [lambda t: t.max(), lambda t: t.amax(), lambda t: tc.max(t)], ids=["max", "amax", "tc.max"]
)
def test_max_without_dim_splits_the_gradient_evenly_among_ties(fn: Callable) -> None:
    x = Tensor(np.array([[2.0, 1.0], [2.0, 2.0]]), requires_grad=True)
    fn(x).backward(Tensor(np.array(6.0)))
    np.testing.assert_array_equal(x.grad.data, [[2.0, 0.0], [2.0, 2.0]])


def test_min_without_dim_splits_the_gradient_evenly_among_ties() -> None:
    x = Tensor(np.array([2.0, 1.0, 1.0]), requires_grad=True)
    x.min().backward(Tensor(np.array(3.0)))
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.5, 1.5])


def test_amax_amin_along_dims_split_ties_evenly_per_slice() -> None:
    x = Tensor(np.array([[3.0, 3.0, 1.0], [0.0, 5.0, 0.0]]), requires_grad=True)
    x.amax(1).backward(Tensor(np.array([4.0, 6.0])))
    np.testing.assert_array_equal(x.grad.data, [[2.0, 2.0, 0.0], [0.0, 6.0, 0.0]])
    y = Tensor(x.data.copy(), requires_grad=True)
    y.amin(-1, keepdim=True).backward(Tensor(np.array([[4.0], [6.0]])))
    np.testing.assert_array_equal(y.grad.data, [[0.0, 0.0, 4.0], [3.0, 0.0, 3.0]])


# -- argmax / argmin --------------------------------------------------------------------------------


@pytest.mark.parametrize("largest", [True, False], ids=["argmax", "argmin"])
@given(x=maybe_non_contiguous(SMALL_1D), data=st.data())
def test_argmax_argmin_match_numpy(largest: bool, x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.none() | dims(x.ndim, allow_none=False, allow_tuple=False), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    t = Tensor(x, requires_grad=True)
    out = t.argmax(dim, keepdim) if largest else t.argmin(dim=dim, keepdim=keepdim)
    np_fn = np.argmax if largest else np.argmin
    expected = np_fn(x, axis=dim, keepdims=keepdim)  # first index at ties, as PyTorch
    assert out.dtype == np.int64 and not out.requires_grad
    assert out.shape == np.shape(expected)
    np.testing.assert_array_equal(out.data, expected)
    fn_out = (tc.argmax if largest else tc.argmin)(t, dim, keepdim)
    np.testing.assert_array_equal(fn_out.data, expected)


def test_argmax_argmin_pick_the_first_index_at_ties() -> None:
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]))
    np.testing.assert_array_equal(x.argmax(1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(0).data, [0, 1, 1])
    np.testing.assert_array_equal(Tensor(np.array([2.0, 0.0, 0.0, 2.0])).argmax().data, 0)
    assert x.argmax().item() == 1 and x.argmin().item() == 5


# -- var / std ----------------------------------------------------------------------------------------


def test_var_and_std_default_to_bessel_correction() -> None:
    x = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.5]])
    np.testing.assert_allclose(Tensor(x).var().item(), np.var(x, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(Tensor(x).std(1).data, np.std(x, axis=1, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(Tensor(x).var(0, unbiased=False).data, np.var(x, axis=0), rtol=1e-14)
    np.testing.assert_allclose(Tensor(x).std(correction=2).item(), np.std(x, ddof=2), rtol=1e-14)


def test_var_with_no_degrees_of_freedom_is_nan_for_a_single_element() -> None:
    with np.errstate(all="ignore"):
        assert np.isnan(Tensor(np.array([1.5])).var().item())
        assert np.isnan(Tensor(np.array(1.5)).std().item())
    assert Tensor(np.array([1.5])).var(unbiased=False).item() == 0.0


def test_var_with_correction_larger_than_count_is_inf_like_pytorch() -> None:
    with np.errstate(all="ignore"):
        assert Tensor(np.array([1.0, 3.0])).var(correction=3).item() == np.inf


def test_std_gradient_of_constant_input_is_zero() -> None:
    x = Tensor(np.array([[1.0, 1.0], [2.0, 3.0]]), requires_grad=True)
    with np.errstate(all="ignore"):
        x.std(1).backward(Tensor(np.array([1.0, 1.0])))
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0], [-np.sqrt(0.5), np.sqrt(0.5)]])


@pytest.mark.parametrize("kwargs", [{}, {"dim": (0, 1)}, {"unbiased": False}], ids=["default", "all_dims", "biased"])
def test_std_over_every_dim_double_backward_matches_numeric(kwargs: dict) -> None:
    x = Tensor(np.array([[0.3, -1.2, 2.0], [0.5, 1.1, -0.4]]), requires_grad=True)
    assert gradgradcheck(lambda t: t.std(**kwargs), (x,), seed=0, **TOL)


def test_std_keepdim_over_every_dim_double_backward_matches_numeric() -> None:
    x = Tensor(np.array([[0.3, -1.2, 2.0], [0.5, 1.1, -0.4]]), requires_grad=True)
    assert gradgradcheck(lambda t: t.std(keepdim=True), (x,), seed=0, **TOL)


def test_var_gradient_of_constant_input_is_zero() -> None:
    x = Tensor(np.full((2, 3), 1.25), requires_grad=True)
    x.var(1).backward(Tensor(np.array([1.0, 2.0])))
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


# -- logsumexp --------------------------------------------------------------------------------------


@given(x=arrays(SMALL_1D, np.float32, -1e4, 1e4), data=st.data())
def test_logsumexp_finite_and_correct_for_huge_float32_inputs(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(dims(x.ndim, allow_none=False), label="dim")
    axes = axes_of(dim, x.ndim)
    t = Tensor(x, requires_grad=True)
    out = t.logsumexp(dim)
    assert out.dtype == np.float32 and np.isfinite(out.data).all()
    x64 = x.astype(np.float64)
    m = x64.max(axis=axes, keepdims=True)
    expected = np.log(np.exp(x64 - m).sum(axis=axes, keepdims=True)) + m
    np.testing.assert_allclose(out.data, expected.reshape(out.shape), rtol=1e-6, atol=1e-3)
    g = upstream(out.shape, np.float32, 3)
    out.backward(g)
    assert t.grad.dtype == np.float32 and np.isfinite(t.grad.data).all()
    softmax = np.exp(x64 - expected)  # d logsumexp / dx
    np.testing.assert_allclose(t.grad.data, softmax * g.data.reshape(expected.shape), rtol=1e-4, atol=1e-4)


def test_logsumexp_of_plus_minus_1e4_float32() -> None:
    x = Tensor(np.array([[1e4, -1e4], [-1e4, -1e4]], np.float32), requires_grad=True)
    out = x.logsumexp(1)
    np.testing.assert_allclose(out.data, [1e4, -1e4 + np.log(2.0)], rtol=1e-7)
    out.backward(Tensor(np.array([1.0, 2.0], np.float32)))
    np.testing.assert_allclose(x.grad.data, [[1.0, 0.0], [1.0, 1.0]], rtol=1e-6)


def test_logsumexp_of_all_minus_inf_is_minus_inf() -> None:
    with np.errstate(divide="ignore"):
        out = Tensor(np.array([[-np.inf, -np.inf], [0.0, -np.inf]])).logsumexp(1)
    np.testing.assert_array_equal(out.data, [-np.inf, 0.0])


# -- dims: (), 0-d inputs, integer inputs -----------------------------------------------------------


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
def test_empty_dim_tuple_reduces_every_dimension_like_pytorch(op: str) -> None:
    x = np.array([[1.0, 5.0], [3.0, -2.0]])
    out = getattr(Tensor(x), op)((), keepdim=True)
    assert out.shape == (1, 1)
    assert out.item() == {"sum": 7.0, "mean": 1.75, "amax": 5.0, "amin": -2.0}[op]


@pytest.mark.parametrize("dim", [None, 0, -1, ()])
def test_sum_of_zero_dim_tensor(dim: Any) -> None:
    x = Tensor(np.array(2.5), requires_grad=True)
    out = x.sum(dim, keepdim=True)
    assert out.shape == () and out.item() == 2.5
    out.backward(Tensor(np.array(3.0)))
    assert x.grad.item() == 3.0


def test_sum_of_integer_and_bool_tensors_gives_int64() -> None:
    assert Tensor(np.array([1, 2], np.int32)).sum().dtype == np.int64
    assert Tensor(np.array([True, True, False])).sum().item() == 2
    assert Tensor(np.array([True, True, False])).sum().dtype == np.int64


ZERO_DIM = {
    "sum": lambda t: t.sum() * t.sum(),
    "mean": lambda t: t.mean() * t,
    "amax": lambda t: t.amax() * t,
    "var_biased": lambda t: (t * t).var(unbiased=False) + t * t,
    "logsumexp": lambda t: t.logsumexp(0),
}


@pytest.mark.parametrize("fn", list(ZERO_DIM.values()), ids=list(ZERO_DIM))
def test_double_backward_on_zero_dim_input_matches_numeric(fn: Callable) -> None:
    assert gradgradcheck(fn, (Tensor(np.array(0.7), requires_grad=True),), seed=0, **TOL)


@pytest.mark.parametrize("op", ["mean", "var", "std"])
def test_mean_var_std_of_integer_tensor_raise_runtime_error(op: str) -> None:
    with pytest.raises(RuntimeError):
        getattr(Tensor(np.array([1, 2, 3])), op)()


def test_logsumexp_promotes_integer_tensor_to_float32() -> None:
    out = Tensor(np.array([1, 2], np.int64)).logsumexp(0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.item(), np.log(np.exp(1.0) + np.exp(2.0)), rtol=1e-6)


# -- bad input --------------------------------------------------------------------------------------

DIM_OPS: dict[str, Callable[[Tensor, Any], Any]] = {
    "sum": lambda t, d: t.sum(d),
    "mean": lambda t, d: t.mean(d),
    "amax": lambda t, d: t.amax(d),
    "amin": lambda t, d: t.amin(d),
    "var": lambda t, d: t.var(d),
    "std": lambda t, d: t.std(d),
    "logsumexp": lambda t, d: t.logsumexp(d),
    "tc.sum": lambda t, d: tc.sum(t, d),
    "tc.amax": lambda t, d: tc.amax(t, d),
}
INT_DIM_OPS: dict[str, Callable[[Tensor, Any], Any]] = {
    "max": lambda t, d: t.max(d),
    "min": lambda t, d: t.min(d),
    "argmax": lambda t, d: t.argmax(d),
    "argmin": lambda t, d: t.argmin(d),
    "tc.max": lambda t, d: tc.max(t, d),
}


@pytest.mark.parametrize("op", {**DIM_OPS, **INT_DIM_OPS}.values(), ids={**DIM_OPS, **INT_DIM_OPS}.keys())
@pytest.mark.parametrize("dim", [2, -3, 7])
def test_dim_out_of_range_is_an_index_error(op: Callable, dim: int) -> None:
    with pytest.raises(IndexError):
        op(Tensor(np.ones((2, 3))), dim)


@pytest.mark.parametrize("op", DIM_OPS.values(), ids=DIM_OPS.keys())
@pytest.mark.parametrize("dim", [(0, 2), (1, -3)])
def test_dim_tuple_with_an_axis_out_of_range_is_an_index_error(op: Callable, dim: tuple) -> None:
    with pytest.raises(IndexError):
        op(Tensor(np.ones((2, 3))), dim)


@pytest.mark.parametrize("op", DIM_OPS.values(), ids=DIM_OPS.keys())
@pytest.mark.parametrize("dim", [(0, 0), (1, -1), (0, 1, -2)])
def test_duplicate_dims_are_a_runtime_error(op: Callable, dim: tuple) -> None:
    with pytest.raises(RuntimeError):
        op(Tensor(np.ones((2, 3))), dim)


@pytest.mark.parametrize("op", INT_DIM_OPS.values(), ids=INT_DIM_OPS.keys())
def test_max_min_argmax_with_tuple_dim_is_a_type_error(op: Callable) -> None:
    with pytest.raises(TypeError):
        op(Tensor(np.ones((2, 3))), (0,))


@pytest.mark.parametrize(
    "fn",
    [
        tc.sum,
        tc.mean,
        tc.amax,
        tc.amin,
        tc.max,
        tc.min,
        tc.argmax,
        tc.argmin,
        tc.var,
        tc.std,
        lambda x: tc.logsumexp(x, 0),
    ],  # fmt: skip
    ids=["sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "logsumexp"],
)
@pytest.mark.parametrize("bad", [[1.0, 2.0], np.array([1.0, 2.0]), 1.5], ids=["list", "ndarray", "float"])
def test_reduction_rejects_non_tensor_input_with_type_error(fn: Callable, bad: object) -> None:
    with pytest.raises(TypeError):
        fn(bad)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
def test_non_bool_keepdim_is_a_type_error(op: str) -> None:
    with pytest.raises(TypeError):
        getattr(Tensor(np.ones((2, 3))), op)(0, keepdim=1)


@pytest.mark.parametrize("op", ["amax", "amin", "max", "min", "argmax", "argmin"])
def test_reducing_an_empty_dimension_without_identity_is_an_index_error(op: str) -> None:
    with pytest.raises(IndexError):
        getattr(Tensor(np.ones((0, 3))), op)(0)
