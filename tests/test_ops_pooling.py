"""max_pool2d, avg_pool2d, adaptive_avg_pool2d and adaptive_max_pool2d against plain float64 loop references
written here (-inf padding and the first maximum for max; PyTorch's divisor rules for avg; ceil_mode's last-window
rule; adaptive windows [floor(i*H/Ho), ceil((i+1)*H/Ho))), gradients against float64 finite differences on inputs
without ties, the tie rule and return_indices pinned, argument errors, and -- where torch is importable -- PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import PoolConfig, arrays, maybe_non_contiguous, pool_configs

# The loop-reference forward tests are cheap: more examples than the profile's (never fewer).
MORE_EXAMPLES = settings(max_examples=max(75, settings.default.max_examples))
Pair = tuple[int, int]


def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


def rand(*shape: int, seed: int = 0, dtype: Any = np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- loop references (float64) ------------------------------------------------------------------------------------
def pool_len(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:  # the last window must start inside the input or left padding
        out -= 1
    return out


def ref_max_pool2d(x: Any, k: Pair, s: Pair, p: Pair, d: Pair, ceil_mode: bool) -> tuple[np.ndarray, np.ndarray]:
    """Max over each window (positions outside the input are -inf, i.e. skipped) and the flat index r*W + c of
    its first maximum in row-major window order. A window entirely in the padding (possible with dilation) gives
    -inf and index -1 (PyTorch's index there points outside the window; it is not compared)."""
    n_, c_, h_, w_ = x.shape
    ho_ = pool_len(h_, k[0], s[0], p[0], d[0], ceil_mode)
    wo_ = pool_len(w_, k[1], s[1], p[1], d[1], ceil_mode)
    xl = np.asarray(x, np.float64).tolist()
    out, idx = np.zeros((n_, c_, ho_, wo_)), np.zeros((n_, c_, ho_, wo_), dtype=np.int64)
    for n in range(n_):
        for c in range(c_):
            for ho in range(ho_):
                for wo in range(wo_):
                    best, where = -np.inf, None
                    for i in range(k[0]):
                        r = ho * s[0] - p[0] + i * d[0]
                        for j in range(k[1]):
                            q = wo * s[1] - p[1] + j * d[1]
                            if 0 <= r < h_ and 0 <= q < w_ and (where is None or xl[n][c][r][q] > best):
                                best, where = xl[n][c][r][q], r * w_ + q
                    out[n, c, ho, wo], idx[n, c, ho, wo] = best, -1 if where is None else where
    return out, idx


def every_window_reads_the_input(cfg: PoolConfig) -> bool:
    """False when some (dilated) window lies entirely in the padding: its output is -inf, where finite
    differences are meaningless."""
    for size, out, k, s, p, d in zip(cfg.input_shape[2:], cfg.output_shape[2:], cfg.kernel_hw, cfg.stride_hw,
                                     cfg.padding_hw, cfg.dilation_hw):  # fmt: skip
        if any(all(not 0 <= o * s - p + i * d < size for i in range(k)) for o in range(out)):
            return False
    return True


def ref_max_grad(gy: np.ndarray, idx: np.ndarray, x_shape: tuple) -> np.ndarray:
    """Each output's upstream gradient added to the input element at its flat index."""
    gx = np.zeros(x_shape)
    for n, c, ho, wo in np.ndindex(*gy.shape):
        if idx[n, c, ho, wo] < 0:
            continue
        r, q = divmod(int(idx[n, c, ho, wo]), x_shape[3])
        gx[n, c, r, q] += gy[n, c, ho, wo]
    return gx


def ref_avg_pool2d(x: Any, k: Pair, s: Pair, p: Pair, ceil_mode: bool, count_include_pad: bool,
                   divisor_override: int | None) -> np.ndarray:  # fmt: skip
    """PyTorch's avg_pool2d: the window is clipped to the padded input; its sum (over the input part) is divided
    by divisor_override, else by the clipped window's size with count_include_pad, else by the input part's."""
    n_, c_, h_, w_ = x.shape
    ho_, wo_ = pool_len(h_, k[0], s[0], p[0], 1, ceil_mode), pool_len(w_, k[1], s[1], p[1], 1, ceil_mode)
    xl = np.asarray(x, np.float64).tolist()
    out = np.zeros((n_, c_, ho_, wo_))
    for n in range(n_):
        for c in range(c_):
            for ho in range(ho_):
                for wo in range(wo_):
                    h0, w0 = ho * s[0] - p[0], wo * s[1] - p[1]
                    h1, w1 = min(h0 + k[0], h_ + p[0]), min(w0 + k[1], w_ + p[1])
                    padded_size = (h1 - h0) * (w1 - w0)
                    h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h_), min(w1, w_)
                    total = sum(xl[n][c][r][q] for r in range(h0, h1) for q in range(w0, w1))
                    if divisor_override is not None:
                        divisor = divisor_override
                    elif count_include_pad:
                        divisor = padded_size
                    else:
                        divisor = (h1 - h0) * (w1 - w0)
                    out[n, c, ho, wo] = total / divisor
    return out


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """[floor(i * size / out), ceil((i + 1) * size / out)) for each output index i."""
    return [((i * size) // out, ((i + 1) * size + out - 1) // out) for i in range(out)]


def ref_adaptive_pool2d(x: Any, out_hw: Pair, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean (kind "avg") or max with the flat index of its first maximum (kind "max") over adaptive windows."""
    n_, c_, h_, w_ = x.shape
    out, idx = np.zeros((n_, c_) + out_hw), np.zeros((n_, c_) + out_hw, dtype=np.int64)
    xl = np.asarray(x, np.float64).tolist()
    for n in range(n_):
        for c in range(c_):
            for i, (r0, r1) in enumerate(adaptive_windows(h_, out_hw[0])):
                for j, (q0, q1) in enumerate(adaptive_windows(w_, out_hw[1])):
                    cells = [(xl[n][c][r][q], r * w_ + q) for r in range(r0, r1) for q in range(q0, q1)]
                    if kind == "avg":
                        out[n, c, i, j] = sum(v for v, _ in cells) / len(cells)
                        continue
                    best = cells[0]
                    for cell in cells[1:]:
                        if cell[0] > best[0]:
                            best = cell
                    out[n, c, i, j], idx[n, c, i, j] = best
    return out, idx


def ref_pool(cfg: PoolConfig, x: Any) -> Any:
    if cfg.kind == "max":
        return ref_max_pool2d(x, cfg.kernel_hw, cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw, cfg.ceil_mode)
    return ref_avg_pool2d(x, cfg.kernel_hw, cfg.stride_hw, cfg.padding_hw, cfg.ceil_mode, cfg.count_include_pad,
                          cfg.divisor_override)  # fmt: skip


# -- drawn inputs -----------------------------------------------------------------------------------------------
@st.composite
def distinct_arrays(draw: st.DrawFn, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """Arrays (C-contiguous or strided views) of pairwise distinct values: a random permutation of 0..size-1
    scaled by 0.1 plus noise below 0.04, so neighbours differ by > 0.06 -- no ties for max, even under eps."""
    a = draw(maybe_non_contiguous(shape, dtype))
    rng = np.random.default_rng(draw(SEEDS))
    values = (rng.permutation(a.size) - a.size / 2) * 0.1 + rng.uniform(0, 0.04, a.size)
    a[...] = values.reshape(shape)
    return a


@st.composite
def noisy_or_not(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """A C-contiguous array or strided view of Hypothesis' values (often one repeated value: ties), half the time
    plus standard normal noise (so that a wrong divisor or index cannot hide behind a constant input)."""
    a = draw(maybe_non_contiguous(shape))
    if draw(st.booleans()):
        a[...] += np.random.default_rng(draw(SEEDS)).standard_normal(shape)
    return a


@st.composite
def pool_cases(draw: st.DrawFn, configs: st.SearchStrategy[PoolConfig], distinct: bool = False) -> tuple:
    cfg = draw(configs)
    x = draw(distinct_arrays(cfg.input_shape) if distinct else noisy_or_not(cfg.input_shape))
    return cfg, x


def pool(cfg: PoolConfig, x: Tensor) -> Tensor:
    return (F.max_pool2d if cfg.kind == "max" else F.avg_pool2d)(x, **cfg.kwargs)


SMALL_MAX = pool_configs("max", max_batch=1, max_channels=2, max_side=5).filter(every_window_reads_the_input)
MAX = pool_configs("max").filter(every_window_reads_the_input)
SMALL_AVG = pool_configs("avg", max_batch=1, max_channels=2, max_side=5)


# -- max_pool2d ---------------------------------------------------------------------------------------------------
@MORE_EXAMPLES
@given(pool_cases(pool_configs("max")))
def test_max_pool2d_values_and_return_indices_match_loop_reference(case: tuple) -> None:
    cfg, x = case
    out, idx = F.max_pool2d(Tensor(x), **cfg.kwargs, return_indices=True)
    expected, expected_idx = ref_pool(cfg, x)
    assert out.shape == cfg.output_shape and idx.shape == cfg.output_shape
    np.testing.assert_array_equal(out.data, expected)
    assert idx.dtype == np.int64
    reads = expected_idx >= 0  # windows that read some input element
    np.testing.assert_array_equal(idx.data[reads], expected_idx[reads])
    # without indices: a graph-free input takes the values-only kernel, a leaf the recorded one
    np.testing.assert_array_equal(F.max_pool2d(Tensor(x), **cfg.kwargs).data, expected)
    np.testing.assert_array_equal(F.max_pool2d(leaf(x), **cfg.kwargs).data, expected)


@given(pool_configs("max").flatmap(lambda c: st.tuples(st.just(c), arrays(c.input_shape, min_value=-1, max_value=1)
                                                       .map(np.round))), SEEDS)  # fmt: skip
def test_max_pool2d_gradient_with_ties_goes_to_first_maximum_of_each_window(case: tuple, seed: int) -> None:
    cfg, x = case  # values in {-1, 0, 1}: most windows hold ties
    gy = np.random.default_rng(seed).standard_normal(cfg.output_shape)
    xt = leaf(x)
    F.max_pool2d(xt, **cfg.kwargs).backward(Tensor(gy))
    _, idx = ref_pool(cfg, x)
    np.testing.assert_allclose(xt.grad.data, ref_max_grad(gy, idx, x.shape), rtol=1e-12, atol=1e-12)


@given(pool_cases(SMALL_MAX, distinct=True), SEEDS)
def test_max_pool2d_gradient_full_jacobian_on_small_configs(case: tuple, seed: int) -> None:
    cfg, x = case
    assert gradcheck(lambda t: F.max_pool2d(t, **cfg.kwargs), (leaf(x),), seed=seed)


@given(pool_cases(MAX, distinct=True), SEEDS)
def test_max_pool2d_gradient_fast_mode_on_full_range_configs(case: tuple, seed: int) -> None:
    cfg, x = case
    assert gradcheck(lambda t: F.max_pool2d(t, **cfg.kwargs), (leaf(x),), fast_mode=True, seed=seed)


@settings(max_examples=15)
@given(pool_cases(SMALL_MAX, distinct=True), SEEDS)
def test_max_pool2d_second_derivatives(case: tuple, seed: int) -> None:
    cfg, x = case
    assert gradgradcheck(lambda t: F.max_pool2d(t, **cfg.kwargs), (leaf(x),), fast_mode=True, seed=seed)


def test_max_pool2d_all_equal_windows_send_the_gradient_to_their_first_element_only() -> None:
    xt = leaf(np.ones((1, 1, 4, 4)))
    F.max_pool2d(xt, 2).backward(Tensor(np.arange(1.0, 5.0).reshape(1, 1, 2, 2)))
    expected = np.zeros((4, 4))
    expected[::2, ::2] = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(xt.grad.data[0, 0], expected)
    # Overlapping windows with -inf padding: each window's first *input* element, counted once per window.
    xt = leaf(np.ones((1, 1, 2, 2)))
    out, idx = F.max_pool2d(xt, 2, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(out.data, np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(idx.data[0, 0], [[0, 0, 1], [0, 0, 1], [2, 2, 3]])
    out.sum().backward()
    np.testing.assert_array_equal(xt.grad.data[0, 0], [[4, 2], [2, 1]])


def test_max_pool2d_return_indices_are_flat_indices_into_each_input_plane() -> None:
    x = np.arange(2 * 5 * 6, dtype=np.float64).reshape(1, 2, 5, 6)
    out, idx = F.max_pool2d(Tensor(x), 2, stride=2, padding=1, dilation=1, ceil_mode=False, return_indices=True)
    # rows/columns read by window (i, j): [2i - 1, 2i], [2j - 1, 2j], clipped; the max is the bottom-right one.
    rows, cols = np.array([0, 2, 4]), np.array([0, 2, 4, 5])
    np.testing.assert_array_equal(idx.data[0, 0], rows[:, None] * 6 + cols[None, :])
    np.testing.assert_array_equal(idx.data[0, 1], idx.data[0, 0])  # per plane, not into the whole tensor
    np.testing.assert_array_equal(out.data[0, 1], 30 + idx.data[0, 1])
    out3, idx3 = F.max_pool2d(Tensor(x[0]), 2, stride=2, padding=1, return_indices=True)
    assert out3.shape == idx3.shape == (2, 3, 4)
    np.testing.assert_array_equal(idx3.data, idx.data[0])


def test_max_pool2d_floor_mode_leaves_trailing_columns_without_gradient_and_ceil_mode_reads_them() -> None:
    x = rand(1, 2, 7, 6)
    xt = leaf(x)
    out = F.max_pool2d(xt, 3, stride=2)  # windows start at 0, 2, 4 along rows (all read), 0, 2 along columns
    assert out.shape == (1, 2, 3, 2)
    out.backward(Tensor(rand(1, 2, 3, 2, seed=1)))
    assert (xt.grad.data[..., 5] == 0).all()
    ceil = F.max_pool2d(Tensor(x), 3, stride=2, ceil_mode=True)  # a last column window [4, 7), cut to [4, 6)
    assert ceil.shape == (1, 2, 3, 3)
    expected = np.stack([x[:, :, r : r + 3, 4:].max(axis=(2, 3)) for r in (0, 2, 4)], axis=-1)
    np.testing.assert_array_equal(ceil.data[..., 2], expected)


@pytest.mark.parametrize("width, stride", [(200, None), (201, 1)], ids=["tiling path", "general path"])
def test_max_pool2d_kernel_with_more_than_32767_elements(width: int, stride: Any) -> None:
    x = np.zeros((1, 1, 200, width))
    x[0, 0, 199, 199] = 1.0  # offset 199 * 200 + 199 = 39999 in the window
    xt = leaf(x)
    out, idx = F.max_pool2d(xt, 200, stride=stride, return_indices=True)
    assert out.data[0, 0, 0, 0] == 1.0
    assert idx.data[0, 0, 0, 0] == 199 * width + 199
    out[..., 0].sum().backward()
    assert xt.grad.data[0, 0, 199, 199] == 1.0 and xt.grad.data.sum() == 1.0


# -- avg_pool2d ---------------------------------------------------------------------------------------------------
@MORE_EXAMPLES
@given(pool_cases(pool_configs("avg")))
def test_avg_pool2d_matches_loop_reference_with_pytorch_divisor_rules(case: tuple) -> None:
    cfg, x = case
    out = F.avg_pool2d(Tensor(x), **cfg.kwargs)
    assert out.shape == cfg.output_shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref_pool(cfg, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        # kernel 3, stride 2, padding 1 on 4 x 4 ones with ceil: windows [-1, 2), [1, 4), [3, 5) clipped to 5.
        (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         np.outer([2 / 3, 1, 1 / 2], [2 / 3, 1, 1 / 2])),
        (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), np.ones((3, 3))),
        (dict(kernel_size=3, stride=1, padding=1), np.outer([2 / 3, 1, 1, 2 / 3], [2 / 3, 1, 1, 2 / 3])),
        (dict(kernel_size=3, stride=1, padding=1, count_include_pad=False), np.ones((4, 4))),
        (dict(kernel_size=2, divisor_override=3), np.full((2, 2), 4 / 3)),
        (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=1),
         np.outer([2, 3, 1], [2, 3, 1])),
        # kernel 3, stride 3 on 4 with ceil: the second window [3, 6) is clipped to the padded input [0, 4), so
        # even counting padding it averages over its one row/column: not 1/3.
        (dict(kernel_size=3, ceil_mode=True), np.ones((2, 2))),
        (dict(kernel_size=3, ceil_mode=True, divisor_override=9), np.array([[1, 1 / 3], [1 / 3, 1 / 9]])),
    ],
)  # fmt: skip
def test_avg_pool2d_divisor_rules_on_ones(kwargs: dict, expected: np.ndarray) -> None:
    out = F.avg_pool2d(Tensor(np.ones((1, 1, 4, 4))), **kwargs)
    np.testing.assert_allclose(out.data[0, 0], expected, rtol=1e-12)


@given(pool_cases(SMALL_AVG), SEEDS)
def test_avg_pool2d_gradient_full_jacobian_on_small_configs(case: tuple, seed: int) -> None:
    cfg, x = case
    assert gradcheck(lambda t: F.avg_pool2d(t, **cfg.kwargs), (leaf(x),), seed=seed)


@given(pool_cases(pool_configs("avg")), SEEDS)
def test_avg_pool2d_gradient_fast_mode_on_full_range_configs(case: tuple, seed: int) -> None:
    cfg, x = case
    assert gradcheck(lambda t: F.avg_pool2d(t, **cfg.kwargs), (leaf(x),), fast_mode=True, seed=seed)


@settings(max_examples=15)
@given(pool_cases(pool_configs("avg", max_side=6)), SEEDS)
def test_avg_pool2d_second_derivatives(case: tuple, seed: int) -> None:
    cfg, x = case
    assert gradgradcheck(lambda t: F.avg_pool2d(t, **cfg.kwargs), (leaf(x),), fast_mode=True, seed=seed)


def test_avg_pool2d_floor_mode_leaves_trailing_rows_without_gradient_and_unbatched_agrees() -> None:
    x = rand(2, 7, 5)
    x3, x4 = leaf(x), leaf(x[None])
    out3, out4 = F.avg_pool2d(x3, 2), F.avg_pool2d(x4, 2)  # rows 0..5 and columns 0..3 are read
    assert out3.shape == (2, 3, 2) and out4.shape == (1, 2, 3, 2)
    np.testing.assert_array_equal(out3.data, out4.data[0])
    out3.sum().backward()
    out4.sum().backward()
    g = x3.grad.data
    assert (g[:, 6, :] == 0).all() and (g[:, :, 4] == 0).all() and (g[:, :6, :4] == 0.25).all()
    np.testing.assert_array_equal(g, x4.grad.data[0])


# -- adaptive pools -------------------------------------------------------------------------------------------------
OUT_SIDE = st.one_of(st.none(), st.integers(1, 9))


@st.composite
def adaptive_cases(draw: st.DrawFn, distinct: bool = False) -> tuple:
    """(output_size, (Ho, Wo), x): output sizes that divide the input or not, exceed it, or are None (keep)."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    oh, ow = draw(OUT_SIDE), draw(OUT_SIDE)
    output_size = draw(st.sampled_from([(oh, ow), [oh, ow]] + ([oh] if oh is not None and oh == ow else [])))
    output_size = output_size[0] if isinstance(output_size, list) and len(output_size) == 1 else output_size
    out_hw = (shape[2] if oh is None else oh, shape[3] if ow is None else ow)
    x = draw(distinct_arrays(shape) if distinct else noisy_or_not(shape))
    return output_size, out_hw, x


@MORE_EXAMPLES
@given(adaptive_cases())
def test_adaptive_avg_pool2d_matches_loop_reference(case: tuple) -> None:
    output_size, out_hw, x = case
    out = F.adaptive_avg_pool2d(Tensor(x), output_size)
    assert out.shape == x.shape[:2] + out_hw
    np.testing.assert_allclose(out.data, ref_adaptive_pool2d(x, out_hw, "avg")[0], rtol=1e-12, atol=1e-12)


@MORE_EXAMPLES
@given(adaptive_cases())
def test_adaptive_max_pool2d_values_and_indices_match_loop_reference(case: tuple) -> None:
    output_size, out_hw, x = case
    out, idx = F.adaptive_max_pool2d(Tensor(x), output_size, return_indices=True)
    expected, expected_idx = ref_adaptive_pool2d(x, out_hw, "max")
    np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(idx.data, expected_idx)


@given(adaptive_cases(distinct=True), SEEDS)
def test_adaptive_pools_gradients_match_numerics(case: tuple, seed: int) -> None:
    output_size, _, x = case
    fast = x.size > 80
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, output_size), (leaf(x),), fast_mode=fast, seed=seed)
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, output_size), (leaf(x),), fast_mode=fast, seed=seed)


def test_adaptive_windows_overlap_when_sizes_do_not_divide() -> None:
    # H = 5 -> 3 outputs: windows [0, 2), [1, 4), [3, 5); W = 4 -> 4: one column each.
    x = np.arange(20.0).reshape(1, 1, 5, 4)
    out = F.adaptive_avg_pool2d(Tensor(x), (3, None))
    np.testing.assert_allclose(out.data[0, 0], [x[0, 0, 0:2].mean(0), x[0, 0, 1:4].mean(0), x[0, 0, 3:5].mean(0)])
    xt = leaf(x[0])  # unbatched
    values, indices = F.adaptive_max_pool2d(xt, (3, 2), return_indices=True)
    np.testing.assert_array_equal(values.data[0], [[5, 7], [13, 15], [17, 19]])
    np.testing.assert_array_equal(indices.data[0], [[5, 7], [13, 15], [17, 19]])
    values.sum().backward()
    expected = np.zeros((5, 4))
    expected.flat[[5, 7, 13, 15, 17, 19]] = 1
    np.testing.assert_array_equal(xt.grad.data[0], expected)


def test_adaptive_pools_to_a_larger_output_repeat_input_elements() -> None:
    x = rand(1, 1, 2, 3)
    xt = leaf(x)
    out = F.adaptive_avg_pool2d(xt, (4, 6))  # every window is a single element, each read twice per dim
    np.testing.assert_array_equal(out.data, x.repeat(2, axis=2).repeat(2, axis=3))
    out.sum().backward()
    np.testing.assert_allclose(xt.grad.data, np.full(x.shape, 4.0))
    np.testing.assert_array_equal(F.adaptive_max_pool2d(Tensor(x), (4, 6)).data, out.data)


@given(adaptive_cases().map(lambda c: c[:2] + (np.round(c[2]),)), SEEDS)
def test_adaptive_max_pool2d_gradient_sums_over_the_windows_sharing_an_arg_max(case: tuple, seed: int) -> None:
    output_size, out_hw, x = case  # rounded values: ties; overlapping or repeated windows often share their arg-max
    gy = np.random.default_rng(seed).standard_normal(x.shape[:2] + out_hw)
    xt = leaf(x)
    F.adaptive_max_pool2d(xt, output_size).backward(Tensor(gy))
    _, idx = ref_adaptive_pool2d(x, out_hw, "max")
    np.testing.assert_allclose(xt.grad.data, ref_max_grad(gy, idx, x.shape), rtol=1e-12, atol=1e-12)


def test_adaptive_max_pool2d_element_that_is_the_max_of_overlapping_windows_gets_their_summed_gradient() -> None:
    # H = W = 5 -> 4: windows [0, 2), [1, 3), [2, 4), [3, 5) per dim; (2, 2) lies in windows 1 and 2 of each dim.
    x = rand(1, 1, 5, 5)
    x[0, 0, 2, 2] = 10.0
    gy = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    xt = leaf(x)
    values, indices = F.adaptive_max_pool2d(xt, 4, return_indices=True)
    np.testing.assert_array_equal(indices.data[0, 0, 1:3, 1:3], np.full((2, 2), 12))
    values.backward(Tensor(gy))
    assert xt.grad.data[0, 0, 2, 2] == gy[0, 0, 1:3, 1:3].sum()
    np.testing.assert_array_equal(xt.grad.data, ref_max_grad(gy, ref_adaptive_pool2d(x, (4, 4), "max")[1], x.shape))
    for dtype in (np.float32, np.float64):  # same in float32, where the sum stays float32
        xt = leaf(x.astype(dtype))
        F.adaptive_max_pool2d(xt, 4).backward(Tensor(gy.astype(dtype)))
        assert xt.grad.dtype == dtype and xt.grad.data[0, 0, 2, 2] == gy[0, 0, 1:3, 1:3].sum()


@pytest.mark.parametrize("shape, out_hw", [((2, 2, 3, 4), (7, 9)), ((1, 3, 2, 5), (5, 3)), ((1, 2, 1, 1), (4, 3))])
def test_adaptive_max_pool2d_upsampling_values_indices_and_summed_gradient(shape: tuple, out_hw: Pair) -> None:
    x = rand(*shape, seed=3)
    gy = rand(*shape[:2], *out_hw, seed=4)
    xt = leaf(x)
    values, indices = F.adaptive_max_pool2d(xt, out_hw, return_indices=True)
    expected, expected_idx = ref_adaptive_pool2d(x, out_hw, "max")
    np.testing.assert_array_equal(values.data, expected)
    np.testing.assert_array_equal(indices.data, expected_idx)
    values.backward(Tensor(gy))
    np.testing.assert_allclose(xt.grad.data, ref_max_grad(gy, expected_idx, x.shape), rtol=1e-12, atol=1e-12)
    if shape[2:] == (1, 1):  # every window is the single element: it gets all the gradient
        np.testing.assert_allclose(xt.grad.data[..., 0, 0], gy.sum(axis=(2, 3)))


def test_adaptive_max_pool2d_window_with_nan_gives_nan_at_its_last_nan_as_pytorch_cpu() -> None:
    # PyTorch's CPU kernel keeps a value if `val > max || isnan(val)`: the last NaN of the window wins.
    nan = np.nan
    x = np.array([[1.0, nan, 3.0], [nan, 5.0, -np.inf], [7.0, 8.0, 9.0]]).reshape(1, 1, 3, 3)
    xt = leaf(x)
    values, indices = F.adaptive_max_pool2d(xt, 2, return_indices=True)  # windows [0, 2) and [1, 3) per dim
    np.testing.assert_array_equal(values.data[0, 0], [[nan, nan], [nan, 9.0]])
    np.testing.assert_array_equal(indices.data[0, 0], [[3, 1], [3, 8]])
    values.backward(Tensor(np.array([[1.0, 2.0], [4.0, 8.0]]).reshape(1, 1, 2, 2)))
    np.testing.assert_array_equal(xt.grad.data[0, 0], [[0, 2, 0], [5, 0, 0], [0, 0, 8]])
    # an all -inf window: -inf at its first element
    values, indices = F.adaptive_max_pool2d(Tensor(np.full((1, 1, 3, 3), -np.inf)), 2, return_indices=True)
    np.testing.assert_array_equal(values.data, np.full((1, 1, 2, 2), -np.inf))
    np.testing.assert_array_equal(indices.data[0, 0], [[0, 1], [3, 4]])


@settings(max_examples=15)
@given(adaptive_cases(distinct=True), SEEDS)
def test_adaptive_max_pool2d_second_derivatives(case: tuple, seed: int) -> None:
    output_size, _, x = case
    x = x[:1, :2, :6, :6]  # small: double backward through the scatter / gather pair
    assert gradgradcheck(lambda t: F.adaptive_max_pool2d(t, output_size), (leaf(x),), fast_mode=True, seed=seed)


# -- all pools ------------------------------------------------------------------------------------------------------
def test_pools_keep_float32_in_output_and_gradient() -> None:
    x = (np.random.default_rng(0).permutation(2 * 3 * 7 * 6) * 0.1).reshape(2, 3, 7, 6).astype(np.float32)
    calls = [
        (lambda t: F.max_pool2d(t, 3, stride=2, padding=1, ceil_mode=True),
         ref_max_pool2d(x, (3, 3), (2, 2), (1, 1), (1, 1), True)[0]),
        (lambda t: F.avg_pool2d(t, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         ref_avg_pool2d(x, (3, 3), (2, 2), (1, 1), True, False, None)),
        (lambda t: F.adaptive_avg_pool2d(t, (4, 5)), ref_adaptive_pool2d(x, (4, 5), "avg")[0]),
        (lambda t: F.adaptive_max_pool2d(t, (4, 5)), ref_adaptive_pool2d(x, (4, 5), "max")[0]),
    ]  # fmt: skip
    for fn, expected in calls:
        xt = leaf(x)
        out = fn(xt)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
        out.backward(Tensor(np.ones(out.shape, dtype=np.float32)))
        assert xt.grad.dtype == np.float32


# -- bad arguments ----------------------------------------------------------------------------------------------------
def T(*shape: int, dtype: Any = np.float64) -> Tensor:
    return Tensor(np.zeros(shape, dtype=dtype))


BAD_CALLS = [
    ("kernel 0", lambda: F.max_pool2d(T(1, 1, 4, 4), 0), RuntimeError, r"kernel_size: expected .*>= 1, got 0"),
    ("avg kernel 0", lambda: F.avg_pool2d(T(1, 1, 4, 4), (2, 0)), RuntimeError,
     r"kernel_size: expected .*>= 1, got \(2, 0\)"),
    ("stride 0", lambda: F.max_pool2d(T(1, 1, 4, 4), 2, stride=0), RuntimeError, r"stride: expected .*>= 1, got 0"),
    ("avg stride 0", lambda: F.avg_pool2d(T(1, 1, 4, 4), 2, stride=(0, 1)), RuntimeError,
     r"stride: expected .*>= 1, got \(0, 1\)"),
    ("dilation 0", lambda: F.max_pool2d(T(1, 1, 4, 4), 2, dilation=0), RuntimeError, r"dilation: expected .*got 0"),
    ("negative padding", lambda: F.max_pool2d(T(1, 1, 4, 4), 2, padding=-1), RuntimeError,
     r"padding: expected .*>= 0, got -1"),
    ("padding above half the kernel", lambda: F.max_pool2d(T(1, 1, 4, 4), 3, padding=2), RuntimeError,
     r"padding \(2, 2\) should be at most half of kernel_size \(3, 3\)"),
    ("avg padding above half the kernel", lambda: F.avg_pool2d(T(1, 1, 4, 4), (4, 2), padding=(2, 2)), RuntimeError,
     r"padding \(2, 2\) should be at most half of kernel_size \(4, 2\)"),
    ("kernel larger than padded input", lambda: F.max_pool2d(T(1, 1, 2, 5), 3), RuntimeError,
     r"kernel \(3, 3\) does not fit the padded input \(2, 5\)"),
    ("2-D input", lambda: F.max_pool2d(T(4, 4), 2), RuntimeError,
     r"input: expected a 3-D .* or 4-D .*got shape \(4, 4\)"),
    ("5-D input", lambda: F.avg_pool2d(T(1, 1, 1, 4, 4), 2), RuntimeError,
     r"input: expected .*got shape \(1, 1, 1, 4, 4\)"),
    ("adaptive 2-D input", lambda: F.adaptive_avg_pool2d(T(4, 4), 2), RuntimeError, r"input: expected a 3-D"),
    ("integer input", lambda: F.max_pool2d(T(1, 1, 4, 4, dtype=np.int64), 2), NotImplementedError,
     r"input: expected a floating point tensor, got dtype int64"),
    ("avg integer input", lambda: F.avg_pool2d(T(1, 1, 4, 4, dtype=np.int32), 2), NotImplementedError,
     r"input: expected a floating point tensor, got dtype int32"),
    ("adaptive integer input", lambda: F.adaptive_max_pool2d(T(1, 1, 4, 4, dtype=np.int64), 2), NotImplementedError,
     r"input: expected a floating point tensor, got dtype int64"),
    ("ndarray input", lambda: F.max_pool2d(np.zeros((1, 1, 4, 4)), 2), TypeError, r"input: expected a Tensor"),
    ("divisor_override 0", lambda: F.avg_pool2d(T(1, 1, 4, 4), 2, divisor_override=0), RuntimeError,
     r"divisor_override: expected a non-zero int, got 0"),
    ("adaptive output -1", lambda: F.adaptive_avg_pool2d(T(1, 1, 4, 4), (-1, 2)), RuntimeError,
     r"output_size: expected sizes >= 0, got \(-1, 2\)"),
    ("adaptive output of 3 sizes", lambda: F.adaptive_max_pool2d(T(1, 1, 4, 4), (1, 2, 3)), RuntimeError,
     r"output_size: expected an int or a pair, got 3 values \(1, 2, 3\)"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_arguments_raise_naming_the_argument_with_expected_and_got(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# -- comparison with PyTorch (only where torch is installed) ---------------------------------------------------------
def compare_with_torch(torch: Any, ours: Any, theirs: Any, x: np.ndarray, seed: int) -> None:
    """Same values (and indices, when both return them) and the same input gradient, in float64."""
    xt, tx = leaf(x), torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    out, t_out = ours(xt), theirs(tx)
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(out[1].data, t_out[1].numpy())
        out, t_out = out[0], t_out[0]
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    gy = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(Tensor(gy))
    t_out.backward(torch.tensor(gy))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=40)
@given(case=pool_cases(MAX), seed=SEEDS)
def test_max_pool2d_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    # Ties included: both send the gradient to the first maximum. (Windows entirely in the padding are left out:
    # PyTorch's index there points outside the window.)
    cfg, x = case
    ours = lambda t: F.max_pool2d(t, **cfg.kwargs, return_indices=True)  # noqa: E731
    theirs = lambda t: torch.nn.functional.max_pool2d(t, **cfg.kwargs, return_indices=True)  # noqa: E731
    compare_with_torch(torch, ours, theirs, x, seed)


@settings(max_examples=40)
@given(case=pool_cases(pool_configs("avg")), seed=SEEDS)
def test_avg_pool2d_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    cfg, x = case
    ours = lambda t: F.avg_pool2d(t, **cfg.kwargs)  # noqa: E731
    theirs = lambda t: torch.nn.functional.avg_pool2d(t, **cfg.kwargs)  # noqa: E731
    compare_with_torch(torch, ours, theirs, x, seed)


@settings(max_examples=40)
@given(case=adaptive_cases(), seed=SEEDS)
def test_adaptive_avg_pool2d_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    output_size, _, x = case
    ours = lambda t: F.adaptive_avg_pool2d(t, output_size)  # noqa: E731
    theirs = lambda t: torch.nn.functional.adaptive_avg_pool2d(t, output_size)  # noqa: E731
    compare_with_torch(torch, ours, theirs, x, seed)


@settings(max_examples=40)
@given(case=adaptive_cases(), seed=SEEDS)
def test_adaptive_max_pool2d_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    output_size, _, x = case
    ours = lambda t: tuple(F.adaptive_max_pool2d(t, output_size, return_indices=True))  # noqa: E731
    theirs = lambda t: torch.nn.functional.adaptive_max_pool2d(t, output_size, return_indices=True)  # noqa: E731
    compare_with_torch(torch, ours, theirs, x, seed)


@settings(max_examples=40)
@given(case=adaptive_cases(), seed=SEEDS, nan_fraction=st.sampled_from([0.1, 0.3]))
def test_adaptive_max_pool2d_with_nan_matches_torch(torch: Any, case: tuple, seed: int, nan_fraction: float) -> None:
    # NaN wins its window (value NaN, index and gradient at the window's last NaN), as PyTorch's CPU kernel.
    output_size, _, x = case
    x = np.array(x)
    rng = np.random.default_rng(seed)
    x[rng.random(x.shape) < nan_fraction] = np.nan
    x[rng.random(x.shape) < 0.1] = -np.inf
    xt, tx = leaf(x), torch.tensor(x, requires_grad=True)
    values, indices = F.adaptive_max_pool2d(xt, output_size, return_indices=True)
    t_values, t_indices = torch.nn.functional.adaptive_max_pool2d(tx, output_size, return_indices=True)
    np.testing.assert_array_equal(values.data, t_values.detach().numpy())  # NaN == NaN here
    np.testing.assert_array_equal(indices.data, t_indices.numpy())
    gy = rng.standard_normal(values.shape)
    values.backward(Tensor(gy))
    t_values.backward(torch.tensor(gy))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
