"""The Hypothesis strategies of tinygrad_cnn.testing produce what they claim."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from tinygrad_cnn.autograd.gradcheck import GradcheckError
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.testing import strategies as ts
from tinygrad_cnn.testing.strategies import (
    arrays,
    assert_gradcheck,
    broadcastable_shapes,
    dims,
    index_expressions,
    maybe_non_contiguous,
    non_contiguous,
    shapes,
    tensors,
)


def has_visible_layout(shape: tuple[int, ...]) -> bool:
    """A layout can only be non-contiguous when the array has elements and some axis longer than 1."""
    return 0 not in shape and any(n > 1 for n in shape)


def assert_finite_bounded(a: np.ndarray, lo: float = -3.0, hi: float = 3.0) -> None:
    assert np.isfinite(a).all()
    assert ((a >= lo) & (a <= hi)).all()
    tiny = np.finfo(a.dtype).tiny
    assert not ((a != 0) & (np.abs(a) < tiny)).any(), "subnormal element"


# -- shapes and arrays ------------------------------------------------------------------------------


@given(shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_respect_bounds(shape: tuple[int, ...]) -> None:
    assert 1 <= len(shape) <= 3
    assert all(2 <= n <= 4 for n in shape)


@given(arrays())
def test_arrays_are_finite_and_bounded(a: np.ndarray) -> None:
    assert a.dtype == np.float64 and a.flags.c_contiguous
    assert_finite_bounded(a)


@given(arrays(shapes(max_dims=2), dtype=np.float32, min_value=-1.0, max_value=2.0))
def test_float32_arrays(a: np.ndarray) -> None:
    assert a.dtype == np.float32
    assert_finite_bounded(a, -1.0, 2.0)


@given(arrays((5,), min_magnitude=0.5))
def test_min_magnitude_keeps_away_from_zero(a: np.ndarray) -> None:
    assert (np.abs(a) >= 0.5).all()


# -- layouts ---------------------------------------------------------------------------------------


@given(st.data(), shapes(max_dims=4, min_side=0, max_side=4))
def test_non_contiguous_has_shape_and_strided_layout(data: st.DataObject, shape: tuple[int, ...]) -> None:
    a = data.draw(non_contiguous(shape))
    assert a.shape == shape and a.dtype == np.float64
    assert_finite_bounded(a)
    if has_visible_layout(shape):
        assert not a.flags.c_contiguous
        assert a.base is not None  # a view of a larger / differently ordered array


@given(st.data(), shapes(max_dims=3, max_side=4))
def test_maybe_non_contiguous_has_shape(data: st.DataObject, shape: tuple[int, ...]) -> None:
    a = data.draw(maybe_non_contiguous(shape, dtype=np.float32))
    assert a.shape == shape and a.dtype == np.float32
    assert_finite_bounded(a)


@pytest.mark.parametrize(
    "kind, condition",
    [
        ("negative strides", lambda a: any(s < 0 for s in a.strides)),
        ("transposed", lambda a: abs(a.strides[0]) < abs(a.strides[1])),
        ("stepped", lambda a: a.base is not None and a.base.size > a.size),
        ("contiguous", lambda a: a.flags.c_contiguous),
    ],
)
def test_layout_kinds_are_all_produced(kind: str, condition) -> None:
    strategy = maybe_non_contiguous((3, 4)) if kind == "contiguous" else non_contiguous((3, 4))
    find(strategy, condition, settings=settings(max_examples=500, database=None, derandomize=True))


# -- broadcasting, dims, indices ------------------------------------------------------------------


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(st.just(n), broadcastable_shapes(num_shapes=n))))
def test_broadcastable_shapes_broadcast(case: tuple) -> None:
    n, shape_tuple = case
    assert isinstance(shape_tuple, tuple) and len(shape_tuple) == n
    out = np.broadcast_shapes(*shape_tuple)
    assert len(out) <= 4 and all(side <= 4 for s in shape_tuple for side in s)


@given(st.integers(0, 4).flatmap(lambda nd: st.tuples(st.just(nd), dims(nd))))
def test_dims_are_valid_and_unique(case: tuple) -> None:
    ndim, dim = case
    if dim is None:
        return
    axes = dim if isinstance(dim, tuple) else (dim,)
    assert axes and all(isinstance(d, int) and -ndim <= d < ndim for d in axes)
    normalized = [d % ndim for d in axes]
    assert len(set(normalized)) == len(normalized)
    np.sum(np.zeros((2,) * ndim), axis=dim)  # numpy accepts it


@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(st.just(nd), dims(nd, allow_none=False, allow_tuple=False))))
def test_dims_without_none_or_tuple(case: tuple) -> None:
    ndim, dim = case
    assert isinstance(dim, int) and -ndim <= dim < ndim


def test_dims_rejects_impossible_request() -> None:
    with pytest.raises(ValueError):
        dims(0, allow_none=False)


@given(st.data(), shapes(max_dims=4, min_side=0, max_side=4))
def test_index_expressions_index_without_error(data: st.DataObject, shape: tuple[int, ...]) -> None:
    a = np.arange(int(np.prod(shape))).reshape(shape)
    index = data.draw(index_expressions(shape))
    a[index]


def _flat(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


@pytest.mark.parametrize(
    "kind, condition",
    [
        ("negative-step slice", lambda i: any(isinstance(e, slice) and (e.step or 1) < 0 for e in _flat(i))),
        ("newaxis", lambda i: any(e is None for e in _flat(i))),
        ("ellipsis", lambda i: any(e is Ellipsis for e in _flat(i))),
        (
            "integer array with repeats and negatives",
            lambda i: any(
                isinstance(e, np.ndarray) and e.dtype.kind == "i" and (e < 0).any() and len(np.unique(e)) < e.size
                for e in _flat(i)
            ),
        ),
        ("boolean mask", lambda i: isinstance(i, np.ndarray) and i.dtype == np.bool_ and i.ndim >= 1),
    ],
)
def test_index_kinds_are_all_produced(kind: str, condition) -> None:
    find(index_expressions((4, 3, 2)), condition, settings=settings(max_examples=2000, database=None, derandomize=True))


# -- tensors and assert_gradcheck --------------------------------------------------------------------


@given(tensors(shape=(3, 4), contiguous=False))
def test_tensors_wrap_non_contiguous_arrays_without_copy(t: Tensor) -> None:
    assert isinstance(t, Tensor)
    assert t.requires_grad and t.is_leaf and t.shape == (3, 4)
    assert not t.data.flags.c_contiguous


@given(tensors(shape=shapes(max_dims=2), requires_grad=False, contiguous=True, dtype=np.float32))
def test_tensors_contiguous_without_grad(t: Tensor) -> None:
    assert not t.requires_grad and t.dtype == np.float32 and t.data.flags.c_contiguous


@settings(max_examples=20)
@given(
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).flatmap(
        lambda nkm: st.tuples(tensors(shape=nkm[:2]), tensors(shape=nkm[1:]))
    )
)
def test_assert_gradcheck_inside_given(pair: tuple[Tensor, Tensor]) -> None:
    x, y = pair
    assert_gradcheck(lambda a: (a * a).exp(), x)
    assert_gradcheck(lambda a, b: a @ b, x, y)
    assert_gradcheck(lambda a, b: a @ b, x, y, fast_mode=True)


@settings(max_examples=10)
@given(arrays((2, 3)))
def test_assert_gradcheck_accepts_arrays(a: np.ndarray) -> None:
    assert_gradcheck(lambda t: t * t, a, seed=0)


def test_assert_gradcheck_raises_with_details() -> None:
    from tinygrad_cnn.autograd import Function

    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return 2.0 * x.data

        @staticmethod
        def backward(ctx, grad):
            return grad * 3.0

    with pytest.raises(GradcheckError, match=r"input 0.*element"):
        assert_gradcheck(Wrong.apply, Tensor(np.ones((2, 2)), requires_grad=True), seed=0)


def test_strategies_reachable_lazily_from_testing_package() -> None:
    import tinygrad_cnn.testing as testing

    assert testing.arrays is ts.arrays and testing.tensors is ts.tensors


def test_missing_hypothesis_gives_install_hint() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import tinygrad_cnn.testing\n"  # must not need hypothesis
        "try:\n"
        "    import tinygrad_cnn.testing.strategies\n"
        "except ImportError as e:\n"
        "    assert \"pip install 'tinygrad-cnn[test]'\" in str(e), e\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
