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


# -- conv and pool configurations --------------------------------------------------------------------------------
# Complete, valid argument sets for conv2d / conv_transpose2d / max_pool2d / avg_pool2d, with the output shape
# each must produce (computed here, independently of the package, with PyTorch's formulas).

from dataclasses import dataclass  # noqa: E402

__all__ += ["ConvConfig", "PoolConfig", "conv_configs", "conv_transpose_configs", "pool_configs"]

IntOrPair = int | tuple[int, int]


def _as_pair(value: IntOrPair) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


@dataclass(frozen=True)
class ConvConfig:
    """One valid ``conv2d`` (``transposed=False``) or ``conv_transpose2d`` (``transposed=True``) call.

    ``stride``, ``padding``, ``dilation`` and ``output_padding`` are the arguments as passed: an int, or an
    ``(h, w)`` pair; the ``*_hw`` properties give them as pairs. ``weight_shape`` is ``(O, C/groups, kH, kW)``
    for conv2d and ``(C_in, C_out/groups, kH, kW)`` for conv_transpose2d; ``output_shape`` is what the call
    must return (floor rounding for conv2d; ``(H - 1) s - 2p + d (k - 1) + output_padding + 1`` transposed).
    """

    input_shape: tuple[int, int, int, int]
    weight_shape: tuple[int, int, int, int]
    stride: IntOrPair
    padding: IntOrPair
    dilation: IntOrPair
    groups: int
    output_shape: tuple[int, int, int, int]
    output_padding: IntOrPair = 0
    transposed: bool = False

    @property
    def bias_shape(self) -> tuple[int]:
        """Shape of the bias: one entry per output channel."""
        return (self.output_shape[1],)

    @property
    def kernel_hw(self) -> tuple[int, int]:
        return self.weight_shape[2], self.weight_shape[3]

    @property
    def stride_hw(self) -> tuple[int, int]:
        return _as_pair(self.stride)

    @property
    def padding_hw(self) -> tuple[int, int]:
        return _as_pair(self.padding)

    @property
    def dilation_hw(self) -> tuple[int, int]:
        return _as_pair(self.dilation)

    @property
    def output_padding_hw(self) -> tuple[int, int]:
        return _as_pair(self.output_padding)

    @property
    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``conv2d(x, w, b, **kwargs)`` / ``conv_transpose2d(x, w, b, **kwargs)``."""
        kw: dict[str, Any] = {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
        }
        if self.transposed:
            kw["output_padding"] = self.output_padding
        return kw


@dataclass(frozen=True)
class PoolConfig:
    """One valid ``max_pool2d`` (``kind="max"``) or ``avg_pool2d`` (``kind="avg"``) call on ``input_shape``.

    Arguments are as passed (ints or ``(h, w)`` pairs; ``stride`` may be None, meaning the kernel size);
    ``output_shape`` follows PyTorch: floor, or with ``ceil_mode`` ceil, and then one fewer if the last window
    would start in the right padding. ``dilation`` is always 1 for ``avg``; ``count_include_pad`` and
    ``divisor_override`` matter only for ``avg``.
    """

    kind: str
    input_shape: tuple[int, int, int, int]
    kernel_size: IntOrPair
    stride: IntOrPair | None
    padding: IntOrPair
    dilation: IntOrPair
    ceil_mode: bool
    output_shape: tuple[int, int, int, int]
    count_include_pad: bool = True
    divisor_override: int | None = None

    @property
    def kernel_hw(self) -> tuple[int, int]:
        return _as_pair(self.kernel_size)

    @property
    def stride_hw(self) -> tuple[int, int]:
        return self.kernel_hw if self.stride is None else _as_pair(self.stride)

    @property
    def padding_hw(self) -> tuple[int, int]:
        return _as_pair(self.padding)

    @property
    def dilation_hw(self) -> tuple[int, int]:
        return _as_pair(self.dilation)

    @property
    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments (after the input) for ``max_pool2d`` or ``avg_pool2d``, by ``kind``."""
        kw: dict[str, Any] = {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "ceil_mode": self.ceil_mode,
        }
        if self.kind == "max":
            kw["dilation"] = self.dilation
        else:
            kw["count_include_pad"] = self.count_include_pad
            kw["divisor_override"] = self.divisor_override
        return kw


def _int_or_pair(
    draw: st.DrawFn, lo_h: int, hi_h: int, lo_w: int | None = None, hi_w: int | None = None
) -> tuple[IntOrPair, tuple[int, int]]:
    """An argument in ``[lo_h, hi_h]`` x ``[lo_w, hi_w]``: a plain int (the same for both dims) or a pair."""
    lo_w = lo_h if lo_w is None else lo_w
    hi_w = hi_h if hi_w is None else hi_w
    lo, hi = max(lo_h, lo_w), min(hi_h, hi_w)
    if lo <= hi and draw(st.booleans()):
        v = draw(st.integers(lo, hi))
        return v, (v, v)
    pair = (draw(st.integers(lo_h, hi_h)), draw(st.integers(lo_w, hi_w)))
    return pair, pair


def _kernel_len(draw: st.DrawFn, size: int, pad: int, dil: int) -> int:
    """A kernel length whose dilated extent fits ``size + 2 pad``; 1 and the largest are drawn often."""
    largest = (size + 2 * pad - 1) // dil + 1
    return draw(st.one_of(st.just(1), st.just(largest), st.integers(1, largest)))


@st.composite
def _conv_configs(
    draw: st.DrawFn, max_batch: int, max_channels_per_group: int, max_groups: int, max_side: int, max_stride: int,
    max_padding: int, max_dilation: int,
) -> ConvConfig:  # fmt: skip
    n = draw(st.integers(1, max_batch))
    groups = draw(st.integers(1, max_groups))
    cg = draw(st.integers(1, max_channels_per_group))
    og = draw(st.integers(1, max_channels_per_group))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    stride, (sh, sw) = _int_or_pair(draw, 1, max_stride)
    padding, (ph, pw) = _int_or_pair(draw, 0, max_padding)
    dilation, (dh, dw) = _int_or_pair(draw, 1, max_dilation)
    kh, kw = _kernel_len(draw, h, ph, dh), _kernel_len(draw, w, pw, dw)
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return ConvConfig(
        input_shape=(n, cg * groups, h, w),
        weight_shape=(og * groups, cg, kh, kw),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        output_shape=(n, og * groups, ho, wo),
    )


def conv_configs(
    max_batch: int = 3,
    max_channels_per_group: int = 3,
    max_groups: int = 3,
    max_side: int = 10,
    max_stride: int = 4,
    max_padding: int = 3,
    max_dilation: int = 3,
) -> st.SearchStrategy[ConvConfig]:
    """Valid ``conv2d`` configurations (``ConvConfig``) with their expected output shape.

    Batch ``1..max_batch``; in and out channels per group ``1..max_channels_per_group``; groups
    ``1..max_groups``; H and W ``1..max_side``; stride ``1..max_stride`` (above the kernel too), padding
    ``0..max_padding`` and dilation ``1..max_dilation``, each an int or an asymmetric ``(h, w)`` pair; the
    kernel from 1 up to the largest whose dilated extent fits the padded input (both ends drawn often: 1x1
    kernels and kernels covering the whole padded input). The output is at least 1x1 and rounds down, so
    trailing input rows/columns that no window reaches occur.
    """
    return _conv_configs(max_batch, max_channels_per_group, max_groups, max_side, max_stride, max_padding,
                         max_dilation)  # fmt: skip


@st.composite
def _conv_transpose_configs(
    draw: st.DrawFn, max_batch: int, max_channels_per_group: int, max_groups: int, max_side: int, max_kernel: int,
    max_stride: int, max_padding: int, max_dilation: int,
) -> ConvConfig:  # fmt: skip
    n = draw(st.integers(1, max_batch))
    groups = draw(st.integers(1, max_groups))
    cig = draw(st.integers(1, max_channels_per_group))
    cog = draw(st.integers(1, max_channels_per_group))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kh, kw = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    stride, (sh, sw) = _int_or_pair(draw, 1, max_stride)
    dilation, (dh, dw) = _int_or_pair(draw, 1, max_dilation)
    output_padding, (oph, opw) = _int_or_pair(draw, 0, max(sh, dh) - 1, 0, max(sw, dw) - 1)
    # Without padding the output has (h - 1) s + d (k - 1) + op + 1 rows; padding removes 2 p of them.
    full_h = (h - 1) * sh + dh * (kh - 1) + oph + 1
    full_w = (w - 1) * sw + dw * (kw - 1) + opw + 1
    padding, (ph, pw) = _int_or_pair(draw, 0, min(max_padding, (full_h - 1) // 2), 0,
                                     min(max_padding, (full_w - 1) // 2))  # fmt: skip
    return ConvConfig(
        input_shape=(n, cig * groups, h, w),
        weight_shape=(cig * groups, cog, kh, kw),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        output_shape=(n, cog * groups, full_h - 2 * ph, full_w - 2 * pw),
        output_padding=output_padding,
        transposed=True,
    )


def conv_transpose_configs(
    max_batch: int = 3,
    max_channels_per_group: int = 3,
    max_groups: int = 3,
    max_side: int = 6,
    max_kernel: int = 4,
    max_stride: int = 4,
    max_padding: int = 3,
    max_dilation: int = 3,
) -> st.SearchStrategy[ConvConfig]:
    """Valid ``conv_transpose2d`` configurations (``ConvConfig`` with ``transposed=True``).

    As ``conv_configs`` (kernel ``1..max_kernel``), plus ``output_padding`` below ``max(stride, dilation)``
    per dim (so it can reach or exceed the stride when the dilation is larger) and padding small enough
    that the output, ``(H - 1) s - 2p + d (k - 1) + output_padding + 1``, is at least 1.
    """
    return _conv_transpose_configs(max_batch, max_channels_per_group, max_groups, max_side, max_kernel, max_stride,
                                   max_padding, max_dilation)  # fmt: skip


def _pool_len(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: floor or ceil, and in ceil mode the last window must start inside
    the input or the left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_kernels(size: int, s: int | None, p: int, d: int, ceil_mode: bool, max_kernel: int | None) -> list[int]:
    """The kernel lengths valid for one dim: at least ``2 p`` (PyTorch: padding <= kernel // 2), at most
    ``max_kernel``, and giving an output of at least 1 (``s`` None: the stride is the kernel). The largest
    considered is the one whose dilated extent fits the padded input plus, in ceil mode, ``s - 1`` more
    (with ``s`` None, as many more as that fit)."""
    fit = (size + 2 * p - 1) // d + 1
    cap = fit + ((fit if s is None else s) - 1 if ceil_mode else 0)  # stride None: up to twice the fit
    if max_kernel is not None:
        cap = min(cap, max_kernel)
    return [k for k in range(max(1, 2 * p), cap + 1) if _pool_len(size, k, k if s is None else s, p, d, ceil_mode) >= 1]


@st.composite
def _pool_configs(
    draw: st.DrawFn, kind: str, max_batch: int, max_channels: int, max_side: int, max_kernel: int | None,
    max_stride: int, max_dilation: int, max_padding: int,
) -> PoolConfig:  # fmt: skip
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    dilation: IntOrPair = 1
    dh = dw = 1
    if kind == "max":
        dilation, (dh, dw) = _int_or_pair(draw, 1, max_dilation)
    stride: IntOrPair | None
    sh: int | None
    sw: int | None
    if draw(st.booleans()):
        stride = sh = sw = None
    else:
        stride, (sh, sw) = _int_or_pair(draw, 1, max_stride)
    ceil_mode = draw(st.booleans())

    def kernels(size: int, s: int | None, p: int, d: int) -> list[int]:
        return _pool_kernels(size, s, p, d, ceil_mode, max_kernel)

    def max_pad(size: int, s: int | None, d: int) -> int:
        return max(p for p in range(max_padding + 1) if kernels(size, s, p, d))  # p = 0 always has kernel 1

    padding, (ph, pw) = _int_or_pair(draw, 0, max_pad(h, sh, dh), 0, max_pad(w, sw, dw))
    kernels_h, kernels_w = kernels(h, sh, ph, dh), kernels(w, sw, pw, dw)

    def kernel_len(options: list[int], size: int, p: int, d: int) -> int:
        # the smallest, the largest whose dilated extent fits the padded input (= it, undilated), or any
        fit = (size + 2 * p - 1) // d + 1
        ends = [st.just(options[0]), st.just(fit if fit in options else options[-1])]
        return draw(st.one_of(*ends, st.sampled_from(options)))

    both = sorted(set(kernels_h) & set(kernels_w))
    if len(both) > 0 and draw(st.booleans()):
        kh = kw = kernel_len(both, min(h, w), min(ph, pw), min(dh, dw))
        kernel_size: IntOrPair = kh
    else:
        kh, kw = kernel_len(kernels_h, h, ph, dh), kernel_len(kernels_w, w, pw, dw)
        kernel_size = (kh, kw)
    sh, sw = (kh, kw) if stride is None else (sh, sw)
    assert sh is not None and sw is not None  # drawn with the stride (None only when stride is)
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)), h, w)
    out = (shape[0], shape[1], _pool_len(h, kh, sh, ph, dh, ceil_mode), _pool_len(w, kw, sw, pw, dw, ceil_mode))
    extra: dict[str, Any] = {}
    if kind == "avg":
        extra["count_include_pad"] = draw(st.booleans())
        extra["divisor_override"] = draw(st.one_of(st.none(), st.integers(1, 6)))
    return PoolConfig(kind, shape, kernel_size, stride, padding, dilation, ceil_mode, out, **extra)


def pool_configs(
    kind: str = "max",
    max_batch: int = 3,
    max_channels: int = 3,
    max_side: int = 10,
    max_kernel: int | None = None,
    max_stride: int = 4,
    max_dilation: int = 3,
    max_padding: int = 3,
) -> st.SearchStrategy[PoolConfig]:
    """Valid ``max_pool2d`` (``kind="max"``) or ``avg_pool2d`` (``kind="avg"``) configurations (``PoolConfig``).

    Batch ``1..max_batch``, channels ``1..max_channels``, H and W ``1..max_side``; dilation ``1..max_dilation``
    for max (1 for avg); stride None (= kernel) or ``1..max_stride``; padding ``0..max_padding`` (and at most
    half the kernel, as PyTorch requires); the kernel from 1 (or ``2 * padding``) up to the largest whose
    dilated extent fits the padded input -- both ends drawn often, so 1x1 kernels and kernels equal to the
    (padded) input occur for every input size -- and in ``ceil_mode`` beyond it by less than the stride (windows
    that hang over the padded input, as long as the output is at least 1x1; stride None: up to about twice
    it); ``max_kernel`` (None: no cap) bounds it. Stride, padding, dilation and kernel are each an int or an
    ``(h, w)`` pair; ``ceil_mode`` either way; for avg ``count_include_pad`` either way and ``divisor_override``
    None or ``1..6``. Floor mode keeps remainders (trailing rows no window reads); ceil mode adds windows that
    start in the remainder or the padding, and drops one that would start in the right padding (PyTorch's rule).
    """
    if kind not in ("max", "avg"):
        raise ValueError(f"pool_configs: kind: expected 'max' or 'avg', got {kind!r}")
    return _pool_configs(kind, max_batch, max_channels, max_side, max_kernel, max_stride, max_dilation, max_padding)
