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


# -- conv and pool configurations ------------------------------------------------------------------------------------
from hypothesis import Phase  # noqa: E402

# (The loop references these feed are in tests/test_ops_conv.py and tests/test_ops_pooling.py; here: the configs
# are valid, within their documented bounds, agree with the package on the output shape, and reach the corners.)

_FIND = settings(max_examples=3000, database=None, derandomize=True, phases=[Phase.generate])  # no shrinking


def _pool_len_floor_ceil(size: int, k: int, s: int, p: int, d: int) -> tuple[int, int, int]:
    """(floor, ceil before PyTorch's last-window rule, ceil after it) output lengths."""
    span = size + 2 * p - d * (k - 1) - 1
    floor, ceil = span // s + 1, -(-span // s) + 1
    return floor, ceil, ceil - 1 if (ceil - 1) * s >= size + p else ceil


@given(ts.conv_configs())
def test_conv_configs_are_valid_within_bounds_and_give_their_output_shape(cfg: ts.ConvConfig) -> None:
    import tinygrad_cnn.nn.functional as F

    n, c, h, w = cfg.input_shape
    o, cg, kh, kw = cfg.weight_shape
    assert 1 <= n <= 3 and 1 <= cfg.groups <= 3 and c == cg * cfg.groups and 1 <= cg <= 3
    assert o % cfg.groups == 0 and 1 <= o // cfg.groups <= 3 and cfg.bias_shape == (o,)
    assert 1 <= h <= 10 and 1 <= w <= 10
    assert all(1 <= s <= 4 for s in cfg.stride_hw) and all(0 <= p <= 3 for p in cfg.padding_hw)
    assert all(1 <= d <= 3 for d in cfg.dilation_hw)
    for size, k, p, d in zip((h, w), (kh, kw), cfg.padding_hw, cfg.dilation_hw):
        assert 1 <= k and d * (k - 1) + 1 <= size + 2 * p  # the dilated kernel fits the padded input
    for arg in (cfg.stride, cfg.padding, cfg.dilation):
        assert isinstance(arg, int) or (isinstance(arg, tuple) and len(arg) == 2)
    assert set(cfg.kwargs) == {"stride", "padding", "dilation", "groups"}
    assert cfg.output_shape[:2] == (n, o) and min(cfg.output_shape[2:]) >= 1
    out = F.conv2d(Tensor(np.zeros(cfg.input_shape)), Tensor(np.zeros(cfg.weight_shape)), **cfg.kwargs)
    assert out.shape == cfg.output_shape


def _conv_remainder(cfg: ts.ConvConfig) -> bool:
    (h, _), (kh, _), (sh, _), (ph, _), (dh, _) = cfg.input_shape[2:], cfg.kernel_hw, cfg.stride_hw, cfg.padding_hw, \
        cfg.dilation_hw  # fmt: skip
    return (h + 2 * ph - dh * (kh - 1) - 1) % sh != 0


@pytest.mark.parametrize(
    "kind, condition",
    [
        ("1x1 kernel", lambda c: c.kernel_hw == (1, 1)),
        ("kernel equal to the padded input", lambda c: c.dilation_hw == (1, 1) and c.kernel_hw ==
         (c.input_shape[2] + 2 * c.padding_hw[0], c.input_shape[3] + 2 * c.padding_hw[1]) and c.padding_hw[0] > 0),
        ("batch 1 with groups", lambda c: c.input_shape[0] == 1 and c.groups > 1),
        ("stride above the kernel", lambda c: c.stride_hw[0] > c.kernel_hw[0] > 1),
        ("rows no window reaches", _conv_remainder),
        ("asymmetric padding pair", lambda c: isinstance(c.padding, tuple) and c.padding[0] != c.padding[1]),
        ("int padding", lambda c: isinstance(c.padding, int) and c.padding > 0),
        ("dilation pair", lambda c: isinstance(c.dilation, tuple) and max(c.dilation) > 1),
        ("out channels per group differ from in", lambda c: c.weight_shape[0] // c.groups != c.weight_shape[1]),
        ("largest sizes", lambda c: c.input_shape[0] == 3 and max(c.input_shape[2:]) == 10),
    ],
)  # fmt: skip
def test_conv_configs_reach_the_special_cases(kind: str, condition) -> None:
    find(ts.conv_configs(), condition, settings=_FIND)


@given(ts.conv_transpose_configs())
def test_conv_transpose_configs_are_valid_and_give_their_output_shape(cfg: ts.ConvConfig) -> None:
    import tinygrad_cnn.nn.functional as F

    n, cin, h, w = cfg.input_shape
    cin_w, cog, kh, kw = cfg.weight_shape
    assert cfg.transposed and cin == cin_w and cin % cfg.groups == 0 and cfg.bias_shape == (cog * cfg.groups,)
    for op, s, d in zip(cfg.output_padding_hw, cfg.stride_hw, cfg.dilation_hw):
        assert 0 <= op < max(s, d)
    for size, k, s, p, d, op, out in zip((h, w), (kh, kw), cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw,
                                         cfg.output_padding_hw, cfg.output_shape[2:]):  # fmt: skip
        assert out == (size - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1
    assert cfg.kwargs["output_padding"] == cfg.output_padding
    out = F.conv_transpose2d(Tensor(np.zeros(cfg.input_shape)), Tensor(np.zeros(cfg.weight_shape)), **cfg.kwargs)
    assert out.shape == cfg.output_shape


@pytest.mark.parametrize(
    "kind, condition",
    [
        ("output_padding", lambda c: max(c.output_padding_hw) > 0),
        ("output_padding >= stride (below dilation)", lambda c: c.output_padding_hw[0] >= c.stride_hw[0]),
        ("padding", lambda c: min(c.padding_hw) > 0),
        ("output of one row", lambda c: c.output_shape[2] == 1 and c.input_shape[2] > 1),
    ],
)
def test_conv_transpose_configs_reach_the_special_cases(kind: str, condition) -> None:
    find(ts.conv_transpose_configs(), condition, settings=_FIND)


@pytest.mark.parametrize("kind", ["max", "avg"])
@given(data=st.data())
def test_pool_configs_are_valid_within_bounds_and_give_their_output_shape(kind: str, data: st.DataObject) -> None:
    import tinygrad_cnn.nn.functional as F

    cfg = data.draw(ts.pool_configs(kind))
    assert cfg.kind == kind
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = cfg.kernel_hw, cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw
    n, c, h, w = cfg.input_shape
    assert 1 <= n <= 3 and 1 <= c <= 3 and 1 <= h <= 10 and 1 <= w <= 10
    assert 0 <= ph <= min(3, kh // 2) and 0 <= pw <= min(3, kw // 2)
    assert cfg.stride is None or (1 <= sh <= 4 and 1 <= sw <= 4)
    for size, k, s, p, d in zip((h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw)):
        # the dilated kernel fits the padded input, or in ceil mode hangs over it by less than the stride
        assert 1 <= k and d * (k - 1) + 1 <= size + 2 * p + (s - 1 if cfg.ceil_mode else 0)
    if kind == "avg":
        assert cfg.dilation == 1 and "dilation" not in cfg.kwargs
        assert cfg.divisor_override is None or 1 <= cfg.divisor_override <= 6
    else:
        assert 1 <= dh <= 3 and 1 <= dw <= 3 and "count_include_pad" not in cfg.kwargs
    for size, k, s, p, d, out in zip(cfg.input_shape[2:], (kh, kw), (sh, sw), (ph, pw), (dh, dw),
                                     cfg.output_shape[2:]):  # fmt: skip
        assert out == _pool_len_floor_ceil(size, k, s, p, d)[2 if cfg.ceil_mode else 0] >= 1
    op = F.max_pool2d if kind == "max" else F.avg_pool2d
    assert op(Tensor(np.zeros(cfg.input_shape)), **cfg.kwargs).shape == cfg.output_shape


def _ceil_adds_a_window(c: ts.PoolConfig) -> bool:
    floor, _, ceil = _pool_len_floor_ceil(c.input_shape[2], c.kernel_hw[0], c.stride_hw[0], c.padding_hw[0],
                                          c.dilation_hw[0])  # fmt: skip
    return c.ceil_mode and ceil > floor


def _last_window_rule_applies(c: ts.PoolConfig) -> bool:
    _, before, after = _pool_len_floor_ceil(c.input_shape[2], c.kernel_hw[0], c.stride_hw[0], c.padding_hw[0],
                                            c.dilation_hw[0])  # fmt: skip
    return c.ceil_mode and after < before


@pytest.mark.parametrize(
    "kind, name, condition",
    [
        ("max", "stride None", lambda c: c.stride is None and max(c.kernel_hw) > 1),
        ("max", "stride above the kernel", lambda c: c.stride is not None and c.stride_hw[0] > c.kernel_hw[0]),
        ("max", "dilation and padding", lambda c: min(c.dilation_hw) > 1 and min(c.padding_hw) > 0),
        ("max", "ceil mode adds a window", _ceil_adds_a_window),
        ("max", "ceil mode's last-window rule", _last_window_rule_applies),
        ("avg", "ceil mode adds a window", _ceil_adds_a_window),
        ("avg", "ceil mode's last-window rule", _last_window_rule_applies),
        ("avg", "count_include_pad=False with padding", lambda c: not c.count_include_pad and max(c.padding_hw) > 0),
        ("avg", "divisor_override", lambda c: c.divisor_override is not None),
        ("avg", "asymmetric kernel pair", lambda c: c.kernel_hw[0] != c.kernel_hw[1]),
    ],
)
def test_pool_configs_reach_the_special_cases(kind: str, name: str, condition) -> None:
    find(ts.pool_configs(kind), condition, settings=_FIND)


def _pool_h(c: ts.PoolConfig) -> tuple[int, int, int, int, int, int]:
    """(size, kernel, stride, padding, dilation, output length) along H."""
    return (c.input_shape[2], c.kernel_hw[0], c.stride_hw[0], c.padding_hw[0], c.dilation_hw[0], c.output_shape[2])


def _last_window_start(c: ts.PoolConfig) -> int:
    """Where the last window along H starts, in padded coordinates (the input is rows p .. p + size - 1)."""
    return (c.output_shape[2] - 1) * c.stride_hw[0]


def _ceil_window_starts_in_the_remainder(c: ts.PoolConfig) -> bool:
    size, p = c.input_shape[2], c.padding_hw[0]
    return _ceil_adds_a_window(c) and p <= _last_window_start(c) < p + size


def _ceil_window_starts_in_the_left_padding(c: ts.PoolConfig) -> bool:
    return _ceil_adds_a_window(c) and _last_window_start(c) < c.padding_hw[0]


def _ceil_window_hangs_over_the_padded_input(c: ts.PoolConfig) -> bool:
    size, k, s, p, d, out = _pool_h(c)
    return c.ceil_mode and _last_window_start(c) + d * (k - 1) + 1 > size + 2 * p


def _floor_leaves_input_rows_unread(c: ts.PoolConfig) -> bool:
    size, k, s, p, d, out = _pool_h(c)
    return not c.ceil_mode and _last_window_start(c) + d * (k - 1) < p + size - 1  # the last input row


_BOTH = ("max", "avg")
_POOL_CORNERS = [
    (_BOTH, "asymmetric padding pair", lambda c: isinstance(c.padding, tuple) and c.padding[0] != c.padding[1]),
    (_BOTH, "padding 3", lambda c: max(c.padding_hw) == 3),
    (_BOTH, "batch 3", lambda c: c.input_shape[0] == 3),
    (_BOTH, "batch 1 and largest side", lambda c: c.input_shape[0] == 1 and max(c.input_shape[2:]) == 10),
    (_BOTH, "1x1 kernel on a larger input", lambda c: c.kernel_hw == (1, 1) and min(c.input_shape[2:]) > 1 and
     c.dilation_hw == (1, 1)),
    (_BOTH, "kernel equal to the padded input", lambda c: c.dilation_hw[0] == 1 and c.padding_hw[0] > 0 and
     c.kernel_hw[0] == c.input_shape[2] + 2 * c.padding_hw[0]),
    (_BOTH, "kernel above 4", lambda c: min(c.kernel_hw) > 4),
    (("avg",), "stride above a kernel above 1", lambda c: c.stride is not None and c.stride_hw[0] > c.kernel_hw[0] > 1),
    (_BOTH, "ceil mode: last window starts in the remainder", _ceil_window_starts_in_the_remainder),
    (("max",), "ceil mode: last window starts in the left padding", _ceil_window_starts_in_the_left_padding),
    (_BOTH, "ceil mode: last window hangs over the padded input", _ceil_window_hangs_over_the_padded_input),
    (_BOTH, "ceil mode: a window starting in the right padding is dropped", _last_window_rule_applies),
    (_BOTH, "floor mode: trailing input rows no window reads", _floor_leaves_input_rows_unread),
]  # fmt: skip
# (max's stride above the kernel and avg's ceil-mode window starting in the left padding: the same code draws them,
# and test_pool_configs_reach_the_special_cases has the first; leaving them out keeps the CI profile fast.)


@pytest.mark.parametrize(
    "kind, name, condition",
    [(kind, name, cond) for kinds, name, cond in _POOL_CORNERS for kind in kinds],
    ids=[f"{kind}-{name}" for kinds, name, _ in _POOL_CORNERS for kind in kinds],
)
def test_pool_configs_reach_the_spec_corners(kind: str, name: str, condition) -> None:
    find(ts.pool_configs(kind), condition, settings=_FIND)


def test_pool_configs_give_a_window_equal_to_the_padded_input_for_every_input_size() -> None:
    # input sizes (H or W) seen with a (dilated) window spanning exactly the whole padded input, max and avg drawn
    # alternately (the kernel is drawn by the same code for both; max adds dilation)
    sizes: dict[str, set[int]] = {"max": set(), "avg": set()}

    @settings(max_examples=600, database=None, derandomize=True, phases=[Phase.generate])
    @given(st.one_of(ts.pool_configs("max"), ts.pool_configs("avg")))
    def collect(c: ts.PoolConfig) -> None:
        for size, k, p, d in zip(c.input_shape[2:], c.kernel_hw, c.padding_hw, c.dilation_hw):
            if d * (k - 1) + 1 == size + 2 * p:
                sizes[c.kind].add(size)

    collect()
    assert sizes["max"] | sizes["avg"] == set(range(1, 11))


def test_pool_configs_smaller_bounds_are_respected() -> None:
    cfg = ts.pool_configs("max", max_batch=1, max_channels=2, max_side=5, max_kernel=3, max_padding=1)

    @settings(max_examples=50, database=None, derandomize=True)
    @given(cfg)
    def check(c: ts.PoolConfig) -> None:
        assert c.input_shape[0] == 1 and c.input_shape[1] <= 2 and max(c.input_shape[2:]) <= 5
        assert max(c.kernel_hw) <= 3 and max(c.padding_hw) <= 1

    check()


def test_pool_configs_reject_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match=r"kind: expected 'max' or 'avg', got 'min'"):
        ts.pool_configs("min")


def test_configs_are_frozen() -> None:
    import dataclasses

    cfg = find(ts.conv_configs(), lambda c: True, settings=_FIND)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.groups = 2  # type: ignore[misc]
