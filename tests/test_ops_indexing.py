"""Indexing: ``Tensor.__getitem__`` with numpy/PyTorch semantics, its gradient (accumulating over repeated
indices) and double backward, and ``__setitem__`` (only outside the graph).

The forward agrees with numpy's ``a[index]``; the gradient agrees with float64 finite differences
(``gradcheck``) on contiguous and non-contiguous inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import SEEDS, assert_same
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import arrays, index_expressions, maybe_non_contiguous, non_contiguous, shapes

FULL_MODE_MAX_ELEMENTS = 64


def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


@st.composite
def array_and_index(draw: st.DrawFn, max_dims: int = 3, max_side: int = 4) -> tuple[np.ndarray, Any]:
    a = draw(maybe_non_contiguous(shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side)))
    return a, draw(index_expressions(a.shape))


# -- forward and gradient for any index -----------------------------------------------------------------


@given(array_and_index(), SEEDS)
def test_getitem_matches_numpy_and_gradchecks_for_generated_indices(case: Any, seed: int) -> None:
    a, index = case
    assert_same(leaf(a)[index], a[index])
    fast = a.size > FULL_MODE_MAX_ELEMENTS
    assert gradcheck(lambda t: t[index], (leaf(a),), seed=seed, fast_mode=fast)


@given(array_and_index(max_dims=3, max_side=3), SEEDS)
def test_getitem_gradgradchecks_for_generated_indices(case: Any, seed: int) -> None:
    a, index = case
    assert gradgradcheck(lambda t: t[index], (leaf(a),), seed=seed, fast_mode=a.size > 27)


@given(non_contiguous((5, 4, 6)), st.data(), SEEDS)
def test_getitem_fast_mode_gradcheck_on_larger_non_contiguous_inputs(a: np.ndarray, data: Any, seed: int) -> None:
    index = data.draw(index_expressions(a.shape))
    assert_same(leaf(a)[index], a[index])
    assert gradcheck(lambda t: t[index], (leaf(a),), seed=seed, fast_mode=True)


# Explicit indices, so every kind is exercised whatever Hypothesis draws. The array has shape (3, 4, 5).
MASK = np.random.default_rng(7).standard_normal((3, 4, 5)) > 0
INDICES: dict[str, Any] = {
    "int": 1,
    "negative-int": -1,
    "ints": (2, -4, 0),
    "slice": slice(1, None),
    "slice-step": (slice(None), slice(0, 4, 2)),
    "negative-step": (slice(None, None, -1), slice(3, 0, -2)),
    "empty-slice": slice(2, 1),
    "none": (None, 1, None),
    "ellipsis": (Ellipsis, 2),
    "ellipsis-none": (0, Ellipsis, None),
    "bool-mask-numpy": MASK,
    "bool-mask-tensor": Tensor(MASK),
    "bool-mask-leading-dim": np.array([True, False, True]),
    "bool-mask-middle-dim": (slice(None), np.array([False, True, True, False])),
    "int-array-repeated": np.array([0, 0, 2, 0]),
    "int-array-negative": np.array([-1, -3, 2]),
    "int-tensor": Tensor(np.array([[2, 0], [0, -1]])),
    "int-list": [1, 1, 0],
    "two-int-arrays-broadcast": (np.array([[0], [2]]), np.array([1, 1, 3])),
    "int-array-and-slice": (np.array([2, 2]), slice(1, 3)),
    "slice-and-int-array": (slice(None, None, -1), np.array([3, 0, 3])),
    "arrays-split-by-slice": (np.array([0, 2]), slice(None), np.array([4, 4])),
    "int-and-int-array": (1, slice(None), np.array([0, 4, 0])),
    "none-and-int-array": (None, np.array([1, 1]), Ellipsis),
    "mask-and-int": (np.array([True, False, True]), 2),
}


@pytest.mark.parametrize("name", list(INDICES))
def test_getitem_matches_numpy_gradchecks_and_gradgradchecks_for_each_index_kind(name: str) -> None:
    index = INDICES[name]
    a = np.random.default_rng(0).standard_normal((5, 4, 3)).transpose(2, 1, 0)  # non-contiguous (3, 4, 5)
    np_index = tuple(i.data if isinstance(i, Tensor) else i for i in index) if isinstance(index, tuple) else index
    np_index = np_index.data if isinstance(np_index, Tensor) else np_index
    np_index = np.asarray(np_index) if isinstance(np_index, list) else np_index
    assert_same(leaf(a)[index], a[np_index])
    assert gradcheck(lambda t: t[index], (leaf(a),), seed=1)
    assert gradgradcheck(lambda t: t[index], (leaf(a),), seed=2, fast_mode=True)


# -- gradient accumulation ------------------------------------------------------------------------------


@given(
    arrays((4, 3)),
    st.lists(st.integers(-4, 3), min_size=1, max_size=8),
    st.integers(0, 2**32 - 1),
)
def test_gradient_accumulates_over_repeated_and_negative_indices(a: np.ndarray, idx: list[int], seed: int) -> None:
    x = leaf(a)
    g = np.random.default_rng(seed).standard_normal((len(idx), 3))
    x[np.array(idx)].backward(Tensor(g))
    expected = np.zeros_like(a)
    for row, i in enumerate(idx):  # each occurrence adds its own row of the upstream gradient
        expected[i % 4] += g[row]
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12, atol=1e-12)


def test_gradient_accumulates_over_repeated_pairs_of_int_arrays() -> None:
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    x[np.array([1, 1, -1, 0]), np.array([2, -1, 2, 0])].backward(Tensor(np.array([1.0, 10.0, 100.0, 1000.0])))
    np.testing.assert_array_equal(x.grad.data, [[1000.0, 0.0, 0.0], [0.0, 0.0, 111.0]])


def test_second_derivative_through_repeated_indexing_is_exact() -> None:
    # y = sum(x[i]^2 for i in [0, 0, 1]) -> dy/dx = [4 x0, 2 x1, 0]; d/dx (dy/dx . v) = [4 v0, 2 v1, 0]
    x = Tensor(np.array([1.5, -2.0, 3.0]), requires_grad=True)
    (g,) = tg.autograd.grad((x[np.array([0, 0, 1])] ** 2).sum(), (x,), create_graph=True)
    np.testing.assert_allclose(g.data, [6.0, -4.0, 0.0])
    v = np.array([0.5, -1.0, 7.0])
    (gg,) = tg.autograd.grad((g * Tensor(v)).sum(), (x,))
    np.testing.assert_allclose(gg.data, [2.0, -2.0, 0.0])


# -- dtype and views ------------------------------------------------------------------------------------


@given(array_and_index())
def test_float32_getitem_stays_float32_and_gradient_has_input_dtype_and_shape(case: Any) -> None:
    a, index = case
    x = leaf(a.astype(np.float32))
    y = x[index]
    assert y.dtype == np.float32
    g = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(Tensor(g))
    assert x.grad.dtype == np.float32 and x.grad.shape == a.shape
    x64 = leaf(a)
    x64[index].backward(Tensor(g.astype(np.float64)))
    np.testing.assert_allclose(x.grad.data, x64.grad.data, rtol=1e-6, atol=1e-6)


def test_basic_indexing_returns_a_view_and_advanced_indexing_a_copy_like_pytorch() -> None:
    x = Tensor(np.arange(12.0).reshape(3, 4))
    assert np.shares_memory(x[1:, ::-2].data, x.data)
    assert not np.shares_memory(x[np.array([0, 1])].data, x.data)
    assert not np.shares_memory(x[x > 5.0].data, x.data)


# -- bad indices ----------------------------------------------------------------------------------------


def _x() -> Tensor:
    return Tensor(np.zeros((5, 3)))


BAD_INDICES = [
    pytest.param(1.0, "1.0", id="python-float"),
    pytest.param((0, 1.5), "1.5", id="float-in-tuple"),
    pytest.param(np.float64(2.0), "2.0", id="numpy-float"),
    pytest.param(Tensor(np.array([0.0, 1.0])), "float", id="float-tensor"),
    pytest.param([0.5], "float", id="list-of-floats"),
    pytest.param(5, "5", id="int-past-the-end"),
    pytest.param(-6, "-6", id="negative-int-past-the-start"),
    pytest.param((0, 3), "3", id="second-dim-out-of-range"),
    pytest.param(np.array([0, 7]), "7", id="int-array-out-of-range"),
    pytest.param(Tensor(np.array([-6])), "-6", id="int-tensor-out-of-range"),
    pytest.param((0, 0, 0), "too many", id="too-many-indices"),
    pytest.param(np.array([True, False]), "boolean", id="mask-of-the-wrong-length"),
]


@pytest.mark.parametrize(("index", "match"), BAD_INDICES)
def test_bad_index_raises_index_error_naming_it(index: Any, match: str) -> None:
    with pytest.raises(IndexError, match=match):
        _x()[index]


def test_string_index_raises_type_error_naming_it() -> None:  # PyTorch: TypeError
    with pytest.raises(TypeError, match="'a'"):
        _x()["a"]


@given(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
def test_any_out_of_range_int_raises_index_error(shape: tuple[int, ...], data: st.DataObject) -> None:
    axis = data.draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    bad = data.draw(st.integers(n, n + 3) | st.integers(-n - 3, -n - 1))
    index = (slice(None),) * axis + (bad,)
    with pytest.raises(IndexError, match=str(bad)):
        Tensor(np.zeros(shape))[index]
    with pytest.raises(IndexError):
        Tensor(np.zeros(shape))[index[:-1] + (np.array([0, bad]),)]


# -- setitem --------------------------------------------------------------------------------------------

SET_CASES: list[tuple[Any, Callable[[tuple[int, ...]], Any]]] = [
    (1, lambda s: 7.0),
    ((slice(None), -1), lambda s: np.arange(s[0], dtype=np.float64)),
    ((slice(None, None, -1), None, 0), lambda s: Tensor(np.full((1, 1), -2.0))),
    (np.array([0, 2]), lambda s: Tensor(np.ones(s[1:]))),
    (np.array([[True, False, True, False]] * 3), lambda s: 3.5),
    ((Ellipsis, slice(1, 3)), lambda s: Tensor(np.array([8.0, 9.0]))),
]


@pytest.mark.parametrize(("index", "value"), SET_CASES)
def test_setitem_outside_the_graph_matches_numpy(index: Any, value: Callable) -> None:
    a = np.arange(12.0).reshape(3, 4)
    x = Tensor(a.copy())
    v = value(a.shape)
    x[index] = v
    expected = a.copy()
    expected[index] = v.data if isinstance(v, Tensor) else v
    np.testing.assert_array_equal(x.data, expected)


def test_setitem_with_a_tensor_mask_and_tensor_indices() -> None:
    x = Tensor(np.arange(6.0))
    x[x > 3.0] = 0.0
    x[Tensor(np.array([0, -1]))] = -1.0
    np.testing.assert_array_equal(x.data, [-1.0, 1.0, 2.0, 3.0, 0.0, -1.0])


def test_setitem_on_a_leaf_requiring_grad_raises_runtime_error_and_leaves_it_unchanged() -> None:
    x = Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0
    np.testing.assert_array_equal(x.data, np.zeros(3))


def test_setitem_on_a_leaf_requiring_grad_is_allowed_under_no_grad() -> None:
    x = Tensor(np.zeros(3), requires_grad=True)
    with tg.no_grad():
        x[1] = 4.0
    np.testing.assert_array_equal(x.data, [0.0, 4.0, 0.0])
    assert x.requires_grad and x.is_leaf


def test_setitem_with_a_float_index_raises_index_error() -> None:
    x = Tensor(np.zeros(3))
    with pytest.raises(IndexError):
        x[0.0] = 1.0
