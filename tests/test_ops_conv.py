"""conv2d, conv1d and conv_transpose2d against plain float64 loop references written here (groups, stride,
padding, dilation, output_padding), gradients against float64 finite differences (first and second order),
explicit edge cases (remainder rows, stride above the kernel, 1x1 and whole-input kernels, unbatched input,
padding "same"/"valid", depthwise, float32), argument errors, and -- where torch is importable -- PyTorch.
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
from tinygrad_cnn.testing.strategies import (
    ConvConfig,
    conv_configs,
    conv_transpose_configs,
    maybe_non_contiguous,
    non_contiguous,
)

# The loop-reference forward tests are cheap: more examples than the profile's (never fewer).
MORE_EXAMPLES = settings(max_examples=max(75, settings.default.max_examples))
Pair = tuple[int, int]


def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


# -- loop references (float64) ------------------------------------------------------------------------------------
def ref_conv2d(x: Any, w: Any, b: Any, stride: Pair, padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
    """Cross-correlation, one multiply-add at a time: out[n, o, ho, wo] = b[o] + sum over the channels c of
    o's group and kernel offsets (i, j) of x[n, c, ho*s - p + i*d, wo*s - p + j*d] * w[o, c, i, j]
    (positions outside the input are zero padding)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n_, c_, h_, w_ = x.shape
    o_, cg, kh, kw = w.shape
    ho_ = (h_ + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo_ = (w_ + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o_ // groups
    xl, wl = np.asarray(x, np.float64).tolist(), np.asarray(w, np.float64).tolist()
    out = np.zeros((n_, o_, ho_, wo_))
    for n in range(n_):
        for o in range(o_):
            g = o // og
            for ho in range(ho_):
                for wo in range(wo_):
                    acc = 0.0 if b is None else float(b[o])
                    for c in range(cg):
                        plane, kernel = xl[n][g * cg + c], wl[o][c]
                        for i in range(kh):
                            r = ho * sh - ph + i * dh
                            if not 0 <= r < h_:
                                continue
                            for j in range(kw):
                                q = wo * sw - pw + j * dw
                                if 0 <= q < w_:
                                    acc += plane[r][q] * kernel[i][j]
                    out[n, o, ho, wo] = acc
    return out


def ref_conv2d_input_grad(gy: Any, w: Any, x_shape: tuple, stride: Pair, padding: Pair, dilation: Pair,
                          groups: int) -> np.ndarray:  # fmt: skip
    """d(sum(gy * conv2d(x, w))) / dx: every output element sends gy * w back to the pixel it read."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n_, _, h_, w_ = x_shape
    o_, cg, kh, kw = w.shape
    og = o_ // groups
    gl, wl = np.asarray(gy, np.float64).tolist(), np.asarray(w, np.float64).tolist()
    gx = np.zeros(x_shape)
    for n in range(n_):
        for o in range(o_):
            for ho in range(gy.shape[2]):
                for wo in range(gy.shape[3]):
                    for c in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                r, q = ho * sh - ph + i * dh, wo * sw - pw + j * dw
                                if 0 <= r < h_ and 0 <= q < w_:
                                    gx[n, (o // og) * cg + c, r, q] += gl[n][o][ho][wo] * wl[o][c][i][j]
    return gx


def ref_conv_transpose2d(x: Any, w: Any, b: Any, stride: Pair, padding: Pair, output_padding: Pair,
                         dilation: Pair, groups: int) -> np.ndarray:  # fmt: skip
    """Scatter form: each input pixel x[n, ci, h, w] adds x * w[ci, co, i, j] to the output at
    (h*s - p + i*d, w*s - p + j*d) for the output channels co of ci's group."""
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    n_, cin, h_, w_ = x.shape
    _, cog, kh, kw = w.shape
    cig = cin // groups
    ho_ = (h_ - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo_ = (w_ - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    xl, wl = np.asarray(x, np.float64).tolist(), np.asarray(w, np.float64).tolist()
    out = np.zeros((n_, cog * groups, ho_, wo_))
    for n in range(n_):
        for ci in range(cin):
            g = ci // cig
            for h in range(h_):
                for q in range(w_):
                    v = xl[n][ci][h][q]
                    for co in range(cog):
                        for i in range(kh):
                            r = h * sh - ph + i * dh
                            if not 0 <= r < ho_:
                                continue
                            for j in range(kw):
                                c = q * sw - pw + j * dw
                                if 0 <= c < wo_:
                                    out[n, g * cog + co, r, c] += v * wl[ci][co][i][j]
    if b is not None:
        out += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return out


def ref_conv1d(x: Any, w: Any, b: Any, stride: int, padding: int, dilation: int, groups: int) -> np.ndarray:
    """1-D cross-correlation, loops over n, o, l, c, k."""
    n_, _, len_ = x.shape
    o_, cg, k_ = w.shape
    lo_ = (len_ + 2 * padding - dilation * (k_ - 1) - 1) // stride + 1
    og = o_ // groups
    out = np.zeros((n_, o_, lo_))
    for n in range(n_):
        for o in range(o_):
            for lo in range(lo_):
                acc = 0.0 if b is None else float(b[o])
                for c in range(cg):
                    for k in range(k_):
                        pos = lo * stride - padding + k * dilation
                        if 0 <= pos < len_:
                            acc += float(x[n, (o // og) * cg + c, pos]) * float(w[o, c, k])
                out[n, o, lo] = acc
    return out


def ref_conv2d_cfg(cfg: ConvConfig, x: Any, w: Any, b: Any) -> np.ndarray:
    return ref_conv2d(x, w, b, cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw, cfg.groups)


def ref_conv_transpose2d_cfg(cfg: ConvConfig, x: Any, w: Any, b: Any) -> np.ndarray:
    return ref_conv_transpose2d(x, w, b, cfg.stride_hw, cfg.padding_hw, cfg.output_padding_hw, cfg.dilation_hw,
                                cfg.groups)  # fmt: skip


def reached(size: int, out: int, k: int, s: int, p: int, d: int) -> np.ndarray:
    """Mask of the input positions (along one dim) that some window reads."""
    mask = np.zeros(size, dtype=bool)
    for o in range(out):
        for i in range(k):
            if 0 <= o * s - p + i * d < size:
                mask[o * s - p + i * d] = True
    return mask


# -- drawn cases -------------------------------------------------------------------------------------------------
@st.composite
def noisy(draw: st.DrawFn, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """A C-contiguous array or strided view: Hypothesis' values plus standard normal noise (Hypothesis often fills
    an array with one value, which would hide a wrong index or weight)."""
    a = draw(maybe_non_contiguous(shape, dtype))
    a[...] += np.random.default_rng(draw(SEEDS)).standard_normal(shape).astype(dtype)
    return a


@st.composite
def conv_cases(draw: st.DrawFn, configs: st.SearchStrategy[ConvConfig], dtype: Any = np.float64) -> tuple:
    """(config, x, w, b): x and w C-contiguous or strided views, b an array or None."""
    cfg = draw(configs)
    x = draw(noisy(cfg.input_shape, dtype))
    w = draw(noisy(cfg.weight_shape, dtype))
    b = draw(st.one_of(st.none(), noisy(cfg.bias_shape, dtype)))
    return cfg, x, w, b


SMALL_CONV = conv_configs(max_batch=2, max_channels_per_group=2, max_groups=2, max_side=4, max_stride=3,
                          max_padding=2, max_dilation=2)  # fmt: skip
SMALL_CONV_T = conv_transpose_configs(max_batch=2, max_channels_per_group=2, max_groups=2, max_side=3, max_kernel=3,
                                      max_stride=3, max_padding=2, max_dilation=2)  # fmt: skip


def inputs_and_fn(op: Any, cfg: ConvConfig, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple:
    kw = cfg.kwargs
    if b is None:
        return (leaf(x), leaf(w)), lambda xt, wt: op(xt, wt, None, **kw)
    return (leaf(x), leaf(w), leaf(b)), lambda xt, wt, bt: op(xt, wt, bt, **kw)


# -- conv2d: forward and gradients ----------------------------------------------------------------------------------
@MORE_EXAMPLES
@given(conv_cases(conv_configs()))
def test_conv2d_forward_matches_loop_reference(case: tuple) -> None:
    cfg, x, w, b = case
    out = F.conv2d(Tensor(x), Tensor(w), None if b is None else Tensor(b), **cfg.kwargs)
    assert out.shape == cfg.output_shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref_conv2d_cfg(cfg, x, w, b), rtol=1e-12, atol=1e-12)


@given(conv_cases(SMALL_CONV), SEEDS)
def test_conv2d_gradients_full_jacobian_on_small_configs(case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    inputs, fn = inputs_and_fn(F.conv2d, cfg, x, w, b)
    assert gradcheck(fn, inputs, seed=seed)


@given(conv_cases(conv_configs()), SEEDS)
def test_conv2d_gradients_fast_mode_on_full_range_configs(case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    inputs, fn = inputs_and_fn(F.conv2d, cfg, x, w, b)
    assert gradcheck(fn, inputs, fast_mode=True, seed=seed)


@settings(max_examples=15)
@given(conv_cases(SMALL_CONV), SEEDS)
def test_conv2d_second_derivatives(case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    inputs, fn = inputs_and_fn(F.conv2d, cfg, x, w, b)
    assert gradgradcheck(fn, inputs, fast_mode=True, seed=seed)


@given(conv_cases(conv_configs(max_batch=2, max_side=7)), SEEDS)
def test_conv2d_input_gradient_is_exactly_zero_where_no_window_reaches_and_matches_loop_reference(
    case: tuple, seed: int
) -> None:
    cfg, x, w, _ = case
    gy = np.random.default_rng(seed).standard_normal(cfg.output_shape)
    xt = leaf(x)
    F.conv2d(xt, Tensor(w), **cfg.kwargs).backward(Tensor(gy))
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = cfg.kernel_hw, cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw
    rows = reached(x.shape[2], cfg.output_shape[2], kh, sh, ph, dh)
    cols = reached(x.shape[3], cfg.output_shape[3], kw, sw, pw, dw)
    unreached = ~(rows[:, None] & cols[None, :])
    assert (xt.grad.data[:, :, unreached] == 0).all()
    expected = ref_conv2d_input_grad(gy, w, x.shape, cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw, cfg.groups)
    np.testing.assert_allclose(xt.grad.data, expected, rtol=1e-12, atol=1e-12)


@given(st.data(), conv_configs(max_batch=2, max_side=6))
def test_conv2d_on_strided_views_equals_conv2d_on_contiguous_copies(data: st.DataObject, cfg: ConvConfig) -> None:
    x, w = data.draw(non_contiguous(cfg.input_shape)), data.draw(non_contiguous(cfg.weight_shape))
    x[...] += rand(*cfg.input_shape)  # strided views stay views, with noise on top
    w[...] += rand(*cfg.weight_shape, seed=1)
    assert not x.flags.c_contiguous or x.size == 1
    gy = rand(*cfg.output_shape, seed=2)
    xs, ws = leaf(x), leaf(w)
    xc, wc = leaf(np.ascontiguousarray(x)), leaf(np.ascontiguousarray(w))
    F.conv2d(xs, ws, **cfg.kwargs).backward(Tensor(gy))
    F.conv2d(xc, wc, **cfg.kwargs).backward(Tensor(gy))
    np.testing.assert_allclose(xs.grad.data, xc.grad.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ws.grad.data, wc.grad.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        F.conv2d(Tensor(x), Tensor(w), **cfg.kwargs).data, ref_conv2d_cfg(cfg, x, w, None), rtol=1e-12, atol=1e-12
    )


# -- conv2d: explicit edge cases ----------------------------------------------------------------------------------
def rand(*shape: int, seed: int = 0, dtype: Any = np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_conv2d_output_rounds_down_and_trailing_rows_and_columns_get_zero_gradient() -> None:
    # H = 8, W = 7, kernel 3, stride 3: windows cover rows 0..5 and columns 0..5; row 6, 7 and column 6 are unread.
    x, w, b = rand(2, 3, 8, 7), rand(4, 3, 3, 3, seed=1), rand(4, seed=2)
    xt = leaf(x)
    out = F.conv2d(xt, Tensor(w), Tensor(b), stride=3)
    assert out.shape == (2, 4, 2, 2)
    np.testing.assert_allclose(out.data, ref_conv2d(x, w, b, (3, 3), (0, 0), (1, 1), 1), rtol=1e-12)
    out.backward(Tensor(rand(2, 4, 2, 2, seed=3)))
    g = xt.grad.data
    assert (g[:, :, 6:, :] == 0).all() and (g[:, :, :, 6:] == 0).all()
    assert (g[:, :, :6, :6] != 0).all()
    assert gradcheck(lambda a, c, d: F.conv2d(a, c, d, stride=3), (xt, leaf(w), leaf(b)), seed=0)


def test_conv2d_stride_above_kernel_skips_rows_and_columns_between_windows() -> None:
    # kernel 2, stride 3 on 8 x 8: rows/columns 0, 1, 3, 4, 6, 7 are read; 2 and 5 are skipped.
    x, w = rand(1, 2, 8, 8), rand(3, 2, 2, 2, seed=1)
    xt = leaf(x)
    out = F.conv2d(xt, Tensor(w), stride=3)
    assert out.shape == (1, 3, 3, 3)
    np.testing.assert_allclose(out.data, ref_conv2d(x, w, None, (3, 3), (0, 0), (1, 1), 1), rtol=1e-12)
    out.sum().backward()
    skipped = np.zeros(8, dtype=bool)
    skipped[[2, 5]] = True
    g = xt.grad.data
    assert (g[:, :, skipped, :] == 0).all() and (g[:, :, :, skipped] == 0).all()
    assert (g[:, :, ~skipped][:, :, :, ~skipped] != 0).all()
    assert gradcheck(lambda a, c: F.conv2d(a, c, stride=3), (xt, leaf(w)), seed=0)


def test_conv2d_1x1_kernel_is_a_channel_matmul_per_pixel() -> None:
    x, w, b = rand(2, 3, 5, 4), rand(6, 3, 1, 1, seed=1), rand(6, seed=2)
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b))
    np.testing.assert_allclose(out.data, np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x) + b[:, None, None], rtol=1e-12)
    strided = F.conv2d(Tensor(x), Tensor(w), stride=2)
    np.testing.assert_allclose(strided.data, np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x[:, :, ::2, ::2]), rtol=1e-12)
    assert gradcheck(lambda a, c, d: F.conv2d(a, c, d, stride=2), (leaf(x), leaf(w), leaf(b)), seed=0)


def test_conv2d_kernel_equal_to_padded_input_gives_one_output_pixel() -> None:
    x, w = rand(2, 3, 4, 5), rand(2, 3, 6, 7, seed=1)
    out = F.conv2d(Tensor(x), Tensor(w), padding=1)
    assert out.shape == (2, 2, 1, 1)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_allclose(out.data[:, :, 0, 0], np.einsum("nchw,ochw->no", padded, w), rtol=1e-12)
    assert gradcheck(lambda a, c: F.conv2d(a, c, padding=1), (leaf(x), leaf(w)), seed=0)


def test_conv2d_batch_of_one_and_unbatched_input_agree() -> None:
    x, w, b = rand(3, 5, 5), rand(4, 3, 3, 3, seed=1), rand(4, seed=2)
    x3, x4 = leaf(x), leaf(x[None])
    out3 = F.conv2d(x3, Tensor(w), Tensor(b), padding=1, stride=2)
    out4 = F.conv2d(x4, Tensor(w), Tensor(b), padding=1, stride=2)
    assert out3.shape == (4, 3, 3) and out4.shape == (1, 4, 3, 3)
    np.testing.assert_allclose(out3.data, out4.data[0], rtol=1e-15)
    np.testing.assert_allclose(out4.data, ref_conv2d(x[None], w, b, (2, 2), (1, 1), (1, 1), 1), rtol=1e-12)
    gy = rand(4, 3, 3, seed=3)
    out3.backward(Tensor(gy))
    out4.backward(Tensor(gy[None]))
    assert x3.grad.shape == (3, 5, 5)
    np.testing.assert_allclose(x3.grad.data, x4.grad.data[0], rtol=1e-15)


@pytest.mark.parametrize(
    "kernel, dilation",
    [((3, 3), (1, 1)), ((4, 4), (1, 1)), ((2, 5), (1, 1)), ((3, 2), (2, 1)), ((2, 3), (3, 2)), ((4, 1), (2, 3))],
)
def test_conv2d_padding_same_keeps_size_and_pads_the_extra_row_at_bottom_right(kernel: Pair, dilation: Pair) -> None:
    x, w, b = rand(2, 2, 6, 5), rand(3, 2, *kernel, seed=1), rand(3, seed=2)
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), padding="same", dilation=dilation)
    assert out.shape == (2, 3, 6, 5)
    th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
    padded = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    np.testing.assert_allclose(out.data, ref_conv2d(padded, w, b, (1, 1), (0, 0), dilation, 1), rtol=1e-12)
    fn = lambda a, c, d: F.conv2d(a, c, d, padding="same", dilation=dilation)  # noqa: E731
    assert gradcheck(fn, (leaf(x), leaf(w), leaf(b)), fast_mode=True, seed=0)
    assert gradcheck(fn, (leaf(x[:1, :, :4, :3]), leaf(w), leaf(b)), seed=0)


def test_conv2d_padding_valid_is_no_padding() -> None:
    x, w = rand(1, 2, 5, 6), rand(3, 2, 2, 3, seed=1)
    valid = F.conv2d(Tensor(x), Tensor(w), padding="valid", stride=2)
    np.testing.assert_array_equal(valid.data, F.conv2d(Tensor(x), Tensor(w), padding=0, stride=2).data)
    np.testing.assert_allclose(valid.data, ref_conv2d(x, w, None, (2, 2), (0, 0), (1, 1), 1), rtol=1e-12)


def test_conv2d_depthwise_groups_equal_channels() -> None:
    # groups = channels = 4, two filters per channel: output channel o reads input channel o // 2 only.
    x, w, b = rand(2, 4, 6, 6), rand(8, 1, 3, 3, seed=1), rand(8, seed=2)
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), padding=1, groups=4)
    assert out.shape == (2, 8, 6, 6)
    np.testing.assert_allclose(out.data, ref_conv2d(x, w, b, (1, 1), (1, 1), (1, 1), 4), rtol=1e-12)
    for o in range(8):
        alone = ref_conv2d(x[:, o // 2 : o // 2 + 1], w[o : o + 1], b[o : o + 1], (1, 1), (1, 1), (1, 1), 1)
        np.testing.assert_allclose(out.data[:, o : o + 1], alone, rtol=1e-12)
    fn = lambda a, c, d: F.conv2d(a, c, d, padding=1, groups=4)  # noqa: E731
    assert gradcheck(fn, (leaf(x[:1, :, :4, :4]), leaf(w), leaf(b)), seed=0)


def test_conv_ops_keep_float32_in_output_and_gradients() -> None:
    x, w, b = rand(2, 4, 6, 6, dtype=np.float32), rand(6, 2, 3, 3, seed=1, dtype=np.float32), rand(6, dtype=np.float32)
    wt = rand(4, 3, 3, 3, seed=3, dtype=np.float32)
    cases = [
        (F.conv2d, (x, w, b), dict(stride=2, padding=1, groups=2), ref_conv2d(x, w, b, (2, 2), (1, 1), (1, 1), 2)),
        (F.conv_transpose2d, (x, wt, b[:6]), dict(stride=2, groups=2),
         ref_conv_transpose2d(x, wt, b[:6], (2, 2), (0, 0), (0, 0), (1, 1), 2)),
        (F.conv1d, (x[:, :, 0], w[:, :, 0], b), dict(padding=1, groups=2),
         ref_conv1d(x[:, :, 0], w[:, :, 0], b, 1, 1, 1, 2)),
    ]  # fmt: skip
    for op, arrays_, kwargs, expected in cases:
        leaves = [leaf(a) for a in arrays_]
        out = op(*leaves, **kwargs)
        assert out.dtype == np.float32, op.__name__
        np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-4)
        out.backward(Tensor(np.ones(out.shape, dtype=np.float32)))
        assert all(t.grad.dtype == np.float32 for t in leaves), op.__name__


# -- conv_transpose2d -------------------------------------------------------------------------------------------
@MORE_EXAMPLES
@given(conv_cases(conv_transpose_configs()))
def test_conv_transpose2d_forward_matches_scatter_loop_reference(case: tuple) -> None:
    cfg, x, w, b = case
    out = F.conv_transpose2d(Tensor(x), Tensor(w), None if b is None else Tensor(b), **cfg.kwargs)
    assert out.shape == cfg.output_shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref_conv_transpose2d_cfg(cfg, x, w, b), rtol=1e-12, atol=1e-12)


@given(conv_cases(SMALL_CONV_T), SEEDS)
def test_conv_transpose2d_gradients_full_jacobian_on_small_configs(case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    inputs, fn = inputs_and_fn(F.conv_transpose2d, cfg, x, w, b)
    assert gradcheck(fn, inputs, seed=seed)


@given(conv_cases(conv_transpose_configs()), SEEDS)
def test_conv_transpose2d_gradients_fast_mode_on_full_range_configs(case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    inputs, fn = inputs_and_fn(F.conv_transpose2d, cfg, x, w, b)
    assert gradcheck(fn, inputs, fast_mode=True, seed=seed)


@given(conv_cases(conv_transpose_configs()), SEEDS)
def test_conv_transpose2d_weight_and_bias_gradients_for_every_output_padding(case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    b = np.zeros(cfg.bias_shape) if b is None else b
    kw = cfg.kwargs
    fn = lambda wt, bt: F.conv_transpose2d(Tensor(x), wt, bt, **kw)  # noqa: E731
    assert gradcheck(fn, (leaf(w), leaf(b)), fast_mode=True, seed=seed)


@settings(max_examples=15)
@given(conv_cases(SMALL_CONV_T), SEEDS)
def test_conv_transpose2d_second_derivatives(case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    inputs, fn = inputs_and_fn(F.conv_transpose2d, cfg, x, w, b)
    assert gradgradcheck(fn, inputs, fast_mode=True, seed=seed)


@given(conv_cases(conv_configs(max_batch=2, max_side=6)), SEEDS)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case: tuple, seed: int) -> None:
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> when conv_transpose2d restores x's size via output_padding.
    cfg, x, w, _ = case
    y = np.random.default_rng(seed).standard_normal(cfg.output_shape)
    (h, wd), (kh, kw) = cfg.input_shape[2:], cfg.kernel_hw
    (sh, sw), (ph, pw), (dh, dw) = cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw
    oph = h - ((cfg.output_shape[2] - 1) * sh - 2 * ph + dh * (kh - 1) + 1)
    opw = wd - ((cfg.output_shape[3] - 1) * sw - 2 * pw + dw * (kw - 1) + 1)
    if oph >= max(sh, dh) or opw >= max(sw, dw) or oph < 0 or opw < 0:
        return  # conv_transpose2d cannot produce this size
    back = F.conv_transpose2d(Tensor(y), Tensor(w), stride=(sh, sw), padding=(ph, pw), output_padding=(oph, opw),
                              dilation=(dh, dw), groups=cfg.groups)  # fmt: skip
    forward = F.conv2d(Tensor(x), Tensor(w), **cfg.kwargs)
    np.testing.assert_allclose(np.sum(forward.data * y), np.sum(x * back.data), rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_input_gradient_when_output_padding_reaches_the_stride() -> None:
    # stride 1, dilation 2, output_padding 1 is valid in PyTorch: output (3 - 1) + 2 + 1 + 1 = 6 rows.
    x, w = leaf(rand(1, 1, 3, 3)), leaf(rand(1, 1, 2, 2, seed=1))
    out = F.conv_transpose2d(x, w, stride=1, dilation=2, output_padding=1)
    assert out.shape == (1, 1, 6, 6)
    out.backward(Tensor(rand(1, 1, 6, 6, seed=2)))
    assert x.grad.shape == (1, 1, 3, 3) and w.grad.shape == (1, 1, 2, 2)
    assert gradcheck(lambda a, c: F.conv_transpose2d(a, c, stride=1, dilation=2, output_padding=1), (x, w), seed=0)


def test_conv_transpose2d_unbatched_input_and_output_size_formula() -> None:
    x, w, b = rand(2, 3, 4), rand(2, 3, 3, 2, seed=1), rand(6, seed=2)  # groups 2: 1 in / 3 out channels a group
    out = F.conv_transpose2d(Tensor(x), Tensor(w), Tensor(b), stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                             groups=2)  # fmt: skip
    assert out.shape == (6, (3 - 1) * 2 - 2 + 2 + 1 + 1, (4 - 1) * 3 + 1 + 2 + 1)
    expected = ref_conv_transpose2d(x[None], w, b, (2, 3), (1, 0), (1, 2), (1, 1), 2)[0]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


# -- conv1d -------------------------------------------------------------------------------------------------------
@st.composite
def conv1d_cases(draw: st.DrawFn) -> tuple:
    """A conv1d case from the width dim of a conv2d config; stride/padding/dilation as ints or 1-tuples."""
    cfg = draw(conv_configs())
    n, c, _, length = cfg.input_shape
    o, cg, _, k = cfg.weight_shape
    (_, s), (_, p), (_, d) = cfg.stride_hw, cfg.padding_hw, cfg.dilation_hw
    spell = lambda v: draw(st.sampled_from([v, (v,)]))  # noqa: E731
    kwargs = dict(stride=spell(s), padding=spell(p), dilation=spell(d), groups=cfg.groups)
    x = draw(noisy((n, c, length)))
    w = draw(noisy((o, cg, k)))
    b = draw(st.one_of(st.none(), noisy((o,))))
    return (s, p, d, cfg.groups), kwargs, x, w, b


@given(conv1d_cases(), SEEDS)
def test_conv1d_forward_matches_loop_reference_and_gradients_match_numerics(case: tuple, seed: int) -> None:
    (s, p, d, groups), kwargs, x, w, b = case
    out = F.conv1d(Tensor(x), Tensor(w), None if b is None else Tensor(b), **kwargs)
    np.testing.assert_allclose(out.data, ref_conv1d(x, w, b, s, p, d, groups), rtol=1e-12, atol=1e-12)
    inputs = (leaf(x), leaf(w)) + (() if b is None else (leaf(b),))
    fn = lambda *a: F.conv1d(a[0], a[1], a[2] if len(a) > 2 else None, **kwargs)  # noqa: E731
    assert gradcheck(fn, inputs, fast_mode=x.size + w.size > 60, seed=seed)


def test_conv1d_unbatched_and_padding_same() -> None:
    x, w, b = rand(3, 7), rand(2, 3, 4, seed=1), rand(2, seed=2)
    out = F.conv1d(Tensor(x), Tensor(w), Tensor(b), padding="same", dilation=2)
    assert out.shape == (2, 7)
    padded = np.pad(x, ((0, 0), (3, 3)))  # total 2 * (4 - 1) = 6, three each side
    np.testing.assert_allclose(out.data, ref_conv1d(padded[None], w, b, 1, 0, 2, 1)[0], rtol=1e-12)
    odd = F.conv1d(Tensor(x), Tensor(w), padding="same")  # total 3: one left, two right
    np.testing.assert_allclose(odd.data, ref_conv1d(np.pad(x, ((0, 0), (1, 2)))[None], w, None, 1, 0, 1, 1)[0],
                               rtol=1e-12)  # fmt: skip
    assert gradcheck(lambda a, c: F.conv1d(a, c, padding="same"), (leaf(x), leaf(w)), seed=0)


# -- bad arguments ----------------------------------------------------------------------------------------------------
def T(*shape: int, dtype: Any = np.float64) -> Tensor:
    return Tensor(np.zeros(shape, dtype=dtype))


BAD_CALLS = [
    ("channel mismatch", lambda: F.conv2d(T(1, 3, 5, 5), T(2, 4, 3, 3)), RuntimeError,
     r"input has 3 channels.*expects 4"),
    ("groups not dividing in channels", lambda: F.conv2d(T(1, 4, 5, 5), T(3, 2, 3, 3), groups=3), RuntimeError,
     r"input has 4 channels but weight expects 6 \(weight.shape\[1\] \* groups = 2 \* 3\)"),
    ("groups not dividing out channels", lambda: F.conv2d(T(1, 4, 5, 5), T(3, 2, 3, 3), groups=2), RuntimeError,
     r"groups: out_channels 3.*not divisible by groups 2"),
    ("transpose groups not dividing in channels", lambda: F.conv_transpose2d(T(1, 3, 5, 5), T(3, 2, 3, 3), groups=2),
     RuntimeError, r"groups: in_channels 3 is not divisible by groups 2"),
    ("kernel larger than padded input", lambda: F.conv2d(T(1, 1, 3, 3), T(1, 1, 6, 3), padding=1), RuntimeError,
     r"kernel size \(6, 3\).*larger than the padded input \(5, 5\)"),
    ("dilated kernel larger than padded input", lambda: F.conv2d(T(1, 1, 4, 4), T(1, 1, 3, 3), dilation=2),
     RuntimeError, r"dilated: \(5, 5\).*padded input \(4, 4\)"),
    ("stride 0", lambda: F.conv2d(T(1, 1, 3, 3), T(1, 1, 2, 2), stride=0), RuntimeError,
     r"stride: expected .*>= 1, got 0"),
    ("transpose stride 0", lambda: F.conv_transpose2d(T(1, 1, 3, 3), T(1, 1, 2, 2), stride=(1, 0)), RuntimeError,
     r"stride: expected .*>= 1, got \(1, 0\)"),
    ("empty kernel", lambda: F.conv2d(T(1, 1, 3, 3), T(1, 1, 0, 2)), RuntimeError, r"weight: kernel size.*at least 1"),
    ("dilation 0", lambda: F.conv2d(T(1, 1, 3, 3), T(1, 1, 2, 2), dilation=0), RuntimeError, r"dilation: expected"),
    ("negative padding", lambda: F.conv2d(T(1, 1, 3, 3), T(1, 1, 2, 2), padding=-1), RuntimeError,
     r"padding: expected .*>= 0, got -1"),
    ("transpose negative padding", lambda: F.conv_transpose2d(T(1, 1, 3, 3), T(1, 1, 2, 2), padding=(0, -1)),
     RuntimeError, r"padding: expected .*>= 0, got \(0, -1\)"),
    ("output_padding = stride", lambda: F.conv_transpose2d(T(1, 1, 3, 3), T(1, 1, 2, 2), stride=2, output_padding=2),
     RuntimeError, r"output_padding \(2, 2\) must be smaller than.*stride \(2, 2\).*dilation \(1, 1\)"),
    ("output_padding above dilation", lambda: F.conv_transpose2d(T(1, 1, 3, 3), T(1, 1, 2, 2), dilation=2,
     output_padding=(0, 2)), RuntimeError, r"output_padding \(0, 2\)"),
    ("2-D input to conv2d", lambda: F.conv2d(T(5, 5), T(1, 1, 2, 2)), RuntimeError,
     r"input: expected a 3-D .* or 4-D .*got 2-D"),
    ("5-D input to conv2d", lambda: F.conv2d(T(1, 1, 1, 5, 5), T(1, 1, 2, 2)), RuntimeError, r"input: .*got 5-D"),
    ("4-D input to conv1d", lambda: F.conv1d(T(1, 1, 5, 5), T(1, 1, 2)), RuntimeError,
     r"input: expected a 2-D .*got 4-D"),
    ("5-D input to conv_transpose2d", lambda: F.conv_transpose2d(T(1, 1, 1, 5, 5), T(1, 1, 2, 2)), RuntimeError,
     r"input: .*got 5-D"),
    ("3-D weight to conv2d", lambda: F.conv2d(T(1, 1, 5, 5), T(1, 1, 2)), RuntimeError, r"weight: expected a 4-D"),
    ("same with stride", lambda: F.conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), padding="same", stride=2), RuntimeError,
     r"padding='same'.*strided.*stride 2"),
    ("unknown padding string", lambda: F.conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), padding="full"), RuntimeError,
     r"padding: expected .*'same'.*got 'full'"),
    ("bias of wrong shape", lambda: F.conv2d(T(1, 1, 5, 5), T(2, 1, 3, 3), T(3)), RuntimeError,
     r"bias: expected shape \(2,\), got \(3,\)"),
    ("transpose bias of wrong shape", lambda: F.conv_transpose2d(T(1, 2, 5, 5), T(2, 3, 3, 3), T(2)), RuntimeError,
     r"bias: expected shape \(3,\), got \(2,\)"),
    ("weight dtype", lambda: F.conv2d(T(1, 1, 5, 5, dtype=np.float32), T(1, 1, 3, 3)), RuntimeError,
     r"input is float32 but weight is float64"),
    ("bias dtype", lambda: F.conv_transpose2d(T(1, 1, 5, 5), T(1, 1, 3, 3), T(1, dtype=np.float32)),
     RuntimeError, r"input is float64 but bias is float32"),
    ("integer input", lambda: F.conv2d(T(1, 1, 5, 5, dtype=np.int64), T(1, 1, 3, 3)), RuntimeError,
     r"input is int64 but weight is float64"),
    ("integer weight", lambda: F.conv1d(T(1, 1, 5), T(1, 1, 3, dtype=np.int32)), RuntimeError,
     r"input is float64 but weight is int32"),
    ("ndarray input", lambda: F.conv2d(np.zeros((1, 1, 5, 5)), T(1, 1, 3, 3)), TypeError,
     r"input: expected a Tensor, got ndarray"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_arguments_raise_naming_the_argument_with_expected_and_got(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.conv1d(T(1, 1, 5), T(1, 1, 3), stride=0), r"^conv1d\(\): stride: expected .*>= 1, got 0$"),
        (lambda: F.conv1d(T(1, 1, 5), T(1, 1, 3), padding=-1), r"^conv1d\(\): padding: expected .*>= 0, got -1$"),
        (lambda: F.conv1d(T(1, 3, 5), T(2, 4, 3)), r"^conv1d\(\): input has 3 channels"),
        (lambda: F.conv1d(T(1, 1, 3), T(1, 1, 5)), r"^conv1d\(\): kernel size 5 .*larger than the padded input 3"),
    ],
    ids=["stride", "padding", "channels", "kernel"],
)
def test_conv1d_errors_name_conv1d_and_the_values_passed(call: Any, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        call()


# -- comparison with PyTorch (only where torch is installed) ---------------------------------------------------------
def compare_with_torch(torch: Any, ours: Any, theirs: Any, arrays_: list, seed: int) -> None:
    """Same forward and same gradients (for a random upstream gradient) in float64."""
    leaves = [leaf(a) for a in arrays_]
    t_leaves = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in arrays_]
    out, t_out = ours(*leaves), theirs(*t_leaves)
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-10)
    gy = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(Tensor(gy))
    t_out.backward(torch.tensor(gy))
    for mine, theirs_ in zip(leaves, t_leaves):
        np.testing.assert_allclose(mine.grad.data, theirs_.grad.numpy(), rtol=1e-10, atol=1e-10)


@settings(max_examples=40)
@given(case=conv_cases(conv_configs()), seed=SEEDS)
def test_conv2d_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    arrays_ = [x, w] + ([] if b is None else [b])
    ours = lambda *a: F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, **cfg.kwargs)  # noqa: E731
    theirs = lambda *a: torch.nn.functional.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, **cfg.kwargs)  # noqa: E731
    compare_with_torch(torch, ours, theirs, arrays_, seed)


@settings(max_examples=40)
@given(case=conv_cases(conv_transpose_configs()), seed=SEEDS)
def test_conv_transpose2d_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    cfg, x, w, b = case
    arrays_ = [x, w] + ([] if b is None else [b])
    ours = lambda *a: F.conv_transpose2d(a[0], a[1], a[2] if len(a) > 2 else None, **cfg.kwargs)  # noqa: E731
    theirs = lambda *a: torch.nn.functional.conv_transpose2d(a[0], a[1], a[2] if len(a) > 2 else None,  # noqa: E731
                                                             **cfg.kwargs)  # fmt: skip
    compare_with_torch(torch, ours, theirs, arrays_, seed)


@settings(max_examples=40)
@given(case=conv1d_cases(), seed=SEEDS)
def test_conv1d_matches_torch(torch: Any, case: tuple, seed: int) -> None:
    _, kwargs, x, w, b = case
    arrays_ = [x, w] + ([] if b is None else [b])
    ours = lambda *a: F.conv1d(a[0], a[1], a[2] if len(a) > 2 else None, **kwargs)  # noqa: E731
    theirs = lambda *a: torch.nn.functional.conv1d(a[0], a[1], a[2] if len(a) > 2 else None, **kwargs)  # noqa: E731
    compare_with_torch(torch, ours, theirs, arrays_, seed)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("kernel, dilation", [((3, 3), 1), ((4, 2), 1), ((2, 3), (2, 3))])
def test_conv2d_padding_same_matches_torch(torch: Any, kernel: Pair, dilation: Any) -> None:
    x, w, b = rand(2, 2, 6, 5), rand(3, 2, *kernel, seed=1), rand(3, seed=2)
    ours = lambda *a: F.conv2d(*a, padding="same", dilation=dilation)  # noqa: E731
    theirs = lambda *a: torch.nn.functional.conv2d(*a, padding="same", dilation=dilation)  # noqa: E731
    compare_with_torch(torch, ours, theirs, [x, w, b], 0)
