"""Hypothesis strategies for testing ops: shapes, bounded arrays, non-contiguous views, dims, indices.

Needs the ``test`` extra (``pip install 'tinygrad-cnn[test]'``). Typical use::

    from hypothesis import given
    from tinygrad_cnn.testing.strategies import assert_gradcheck, tensors

    @given(tensors(shape=(2, 3)))
    def test_tanh_grad(x):
        assert_gradcheck(lambda t: t.tanh(), x)

Elements are finite, bounded (``[-3, 3]`` by default) and never subnormal, so ops and finite
differences behave; non-contiguous views (transposed, stepped, reversed) exercise stride handling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("tinygrad_cnn.testing.strategies needs hypothesis: pip install 'tinygrad-cnn[test]'") from exc

from tinygrad_cnn.testing import assert_gradcheck, assert_gradgradcheck

__all__ = [
    "arrays",
    "assert_gradcheck",
    "assert_gradgradcheck",
    "broadcastable_shapes",
    "dims",
    "elements",
    "index_expressions",
    "maybe_non_contiguous",
    "non_contiguous",
    "shapes",
    "tensors",
]

Shape = tuple[int, ...]
ShapeArg = Shape | st.SearchStrategy[Shape] | None


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 5) -> st.SearchStrategy[Shape]:
    """Array shapes with ``min_dims..max_dims`` dimensions of ``min_side..max_side`` each."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def elements(
    dtype: Any = np.float64, min_value: float = -3.0, max_value: float = 3.0, min_magnitude: float = 0.0
) -> st.SearchStrategy[Any]:
    """Scalars of ``dtype`` in ``[min_value, max_value]``: finite, not subnormal, ``|x| >= min_magnitude``."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        lo, hi = int(np.ceil(min_value)), int(np.floor(max_value))
        ints = st.integers(lo, hi)
        return ints.filter(lambda i: abs(i) >= min_magnitude) if min_magnitude > 0 else ints
    if dtype.kind != "f":
        raise ValueError(f"elements: unsupported dtype {dtype}")

    def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=8 * dtype.itemsize)

    if min_magnitude <= 0:
        return floats(min_value, max_value)
    parts = []
    if max_value >= min_magnitude:
        parts.append(floats(max(min_value, min_magnitude), max_value))
    if min_value <= -min_magnitude:
        parts.append(floats(min_value, min(max_value, -min_magnitude)))
    if not parts:
        raise ValueError(f"elements: no value in [{min_value}, {max_value}] has |x| >= {min_magnitude}")
    return st.one_of(*parts)


def _shape_strategy(shape: ShapeArg) -> st.SearchStrategy[Shape]:
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape
    return st.just(tuple(int(n) for n in shape))


def arrays(
    shape: ShapeArg = None,
    dtype: Any = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    *,
    min_magnitude: float = 0.0,
    unique: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """C-contiguous arrays with finite, bounded, non-subnormal elements (``shape`` may be a strategy)."""
    return hnp.arrays(
        np.dtype(dtype),
        _shape_strategy(shape),
        elements=elements(dtype, min_value, max_value, min_magnitude),
        unique=unique,
    )


@st.composite
def _non_contiguous(
    draw: st.DrawFn, shape: ShapeArg, dtype: Any, min_value: float, max_value: float, min_magnitude: float
) -> np.ndarray:
    shape = draw(_shape_strategy(shape))
    ndim = len(shape)
    big = [a for a, n in enumerate(shape) if n > 1]  # axes along which the layout is visible
    if not big or 0 in shape:
        return draw(arrays(shape, dtype, min_value, max_value, min_magnitude=min_magnitude))
    kinds = ["step", "flip"] + (["transpose"] if len(big) >= 2 else [])
    chosen = draw(st.sets(st.sampled_from(kinds), min_size=1))

    perm = list(range(ndim))
    if "transpose" in chosen:  # a permutation that reorders the non-trivial axes
        order = draw(st.permutations(big).filter(lambda p: list(p) != big))
        for slot, axis in zip(big, order, strict=True):
            perm[slot] = axis
    steps: dict[int, tuple[int, int]] = {}  # axis -> (start, step)
    if "step" in chosen:
        for axis in draw(st.sets(st.sampled_from(big), min_size=1, max_size=2)):
            step = draw(st.sampled_from([2, 3]))
            steps[axis] = (draw(st.integers(0, step - 1)), step)
    flips = draw(st.sets(st.sampled_from(big), min_size=1)) if "flip" in chosen else set()

    # Build a larger C-contiguous array, then view it: transpose, slice with steps, reverse.
    full = [n * steps[a][1] if a in steps else n for a, n in enumerate(shape)]
    base_shape = tuple(full[a] for a in perm)
    base = draw(arrays(base_shape, dtype, min_value, max_value, min_magnitude=min_magnitude))
    view = base.transpose(np.argsort(perm))
    view = view[tuple(slice(steps[a][0], None, steps[a][1]) if a in steps else slice(None) for a in range(ndim))]
    view = view[tuple(slice(None, None, -1) if a in flips else slice(None) for a in range(ndim))]
    assert view.shape == shape
    return view


def non_contiguous(
    shape: ShapeArg,
    dtype: Any = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    *,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy[np.ndarray]:
    """Non-C-contiguous views of ``shape`` (transposed, stepped and/or reversed); plain if size <= 1."""
    return _non_contiguous(shape, dtype, min_value, max_value, min_magnitude)


def maybe_non_contiguous(
    shape: ShapeArg,
    dtype: Any = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    *,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` that are either C-contiguous or non-contiguous views."""

    def either(s: Shape) -> st.SearchStrategy[np.ndarray]:
        return st.one_of(
            arrays(s, dtype, min_value, max_value, min_magnitude=min_magnitude),
            non_contiguous(s, dtype, min_value, max_value, min_magnitude=min_magnitude),
        )

    return _shape_strategy(shape).flatmap(either)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4, max_side: int = 4, min_side: int = 1
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (numpy rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda bs: bs.input_shapes)


def dims(ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> st.SearchStrategy[Any]:
    """Valid ``dim`` arguments for an ``ndim``-d tensor: an int in ``[-ndim, ndim)``, a tuple, or None."""
    options: list[st.SearchStrategy[Any]] = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        # Each axis in its positive or negative spelling; a tuple never names one axis twice.
        def spell(axis: int) -> st.SearchStrategy[int]:
            return st.sampled_from([axis, axis - ndim])

        options.append(st.integers(0, ndim - 1).flatmap(spell))
        if allow_tuple:
            distinct = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
            options.append(distinct.flatmap(lambda axes: st.tuples(*(spell(a) for a in axes))))
    if not options:
        raise ValueError(f"dims: no valid dim for ndim={ndim} with allow_none=False")
    return st.one_of(*options)


@st.composite
def _integer_array_index(draw: st.DrawFn, shape: Shape) -> Any:
    # Integer arrays (broadcast together) on the first k axes; negative values and repeats allowed.
    k = draw(st.integers(1, min(2, len(shape))))
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4))
    arrays_ = tuple(
        draw(hnp.arrays(np.intp, index_shape, elements=st.integers(-shape[a], shape[a] - 1))) for a in range(k)
    )
    if k == 1 and draw(st.booleans()):
        return arrays_[0]
    tail = draw(st.sampled_from([(), (Ellipsis,), (slice(None, None, -1),)])) if len(shape) > k else ()
    return arrays_ + tail


@st.composite
def _boolean_mask_index(draw: st.DrawFn, shape: Shape) -> Any:
    k = draw(st.integers(1, len(shape)))  # a mask over the leading k dims
    return draw(hnp.arrays(np.bool_, shape[:k]))


def index_expressions(shape: Shape) -> st.SearchStrategy[Any]:
    """Valid ``ndarray.__getitem__`` indices for ``shape``: basic, integer-array and boolean-mask ones."""
    shape = tuple(shape)
    options = [hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True)]
    if shape:
        options.append(_boolean_mask_index(shape))
        if all(n > 0 for n in shape[:2]):
            options.append(_integer_array_index(shape))
    return st.one_of(*options)


def tensors(
    shape: ShapeArg = None,
    dtype: Any = np.float64,
    requires_grad: bool = True,
    contiguous: bool | None = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
    *,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy[Any]:
    """``Tensor``s wrapping (without copy) arrays; ``contiguous`` True/False/None = yes/no/either."""
    if contiguous is None:
        make = maybe_non_contiguous
    elif contiguous:
        make = arrays
    else:
        make = non_contiguous
    data = make(shape, dtype, min_value, max_value, min_magnitude=min_magnitude)
    return data.map(_to_tensor(requires_grad))


def _to_tensor(requires_grad: bool) -> Callable[[np.ndarray], Any]:
    from tinygrad_cnn.tensor import Tensor

    def make(a: np.ndarray) -> Any:
        return Tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")

    return make
