"""Shared pieces of the op tests: shape strategies, tolerances and small helpers."""

from __future__ import annotations

from collections.abc import Callable

import hypothesis.strategies as st
import numpy as np

from tinygrad_cnn import Tensor
from tinygrad_cnn.testing.strategies import shapes

SMALL = shapes(min_dims=0, max_dims=3, max_side=4)  # full Jacobians
SMALL_1D = shapes(min_dims=1, max_dims=3, max_side=4)  # for ops that need a dim (softmax, ...)
LARGE = shapes(min_dims=2, max_dims=4, min_side=3, max_side=8)  # fast mode
SEEDS = st.integers(0, 2**32 - 1)
# Central differences in float64 (eps 1e-6) are accurate to ~1e-9 on these small, well-scaled inputs:
# tolerances 100x tighter than gradcheck's defaults, so that a gradient off by 0.1% fails. The fast-mode
# checks on large inputs sum thousands of rounding errors and keep gradcheck's defaults.
TOL = {"atol": 1e-7, "rtol": 1e-5}


def upstream(shape: tuple[int, ...], dtype: type, seed: int = 0) -> Tensor:
    """A random, non-uniform upstream gradient."""
    return Tensor(np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype))


def grads_of(fn: Callable[[Tensor], Tensor], x: np.ndarray, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``fn`` on a fresh leaf of ``x``, backpropagating a random upstream gradient: (output, x.grad)."""
    t = Tensor(x, requires_grad=True)
    out = fn(t)
    out.backward(upstream(out.shape, out.dtype, seed))
    return out, t.grad


def corner(a: np.ndarray) -> np.ndarray:
    """At most 2 elements along each axis (a view: the layout is kept)."""
    return a[tuple(slice(0, 2) for _ in range(a.ndim))]


def assert_same(t: Tensor, expected: np.ndarray) -> None:
    """``t`` is a Tensor with exactly ``expected``'s shape, dtype and values."""
    assert isinstance(t, Tensor)
    assert t.shape == expected.shape
    assert t.dtype == expected.dtype
    np.testing.assert_array_equal(t.data, expected)
