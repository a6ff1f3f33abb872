"""The numpy kernels directly: max pooling's arg-max and scatter on ties, NaN, signed zeros and non-finite
gradients; the weight gradient's GEMM; and the buffer pool (a pooled array is handed out again only once
nothing references it, and im2col's reused zero border stays zero)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinygrad_cnn import kernels
from tinygrad_cnn.kernels import Window

pytestmark = pytest.mark.usefixtures("small_pool")  # every array pooled (tests/conftest.py)


def loop_max_pool(x: np.ndarray, win: Window, ho: int, wo: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: scan each window in row-major order with PyTorch's rule ``val > max or isnan(val)``."""
    xp = np.pad(x, ((0, 0), (0, 0), (win.ph, win.ph + win.kh * win.dh), (win.pw, win.pw + win.kw * win.dw)),
                constant_values=-np.inf)  # fmt: skip
    best = np.full(x.shape[:2] + (ho, wo), -np.inf)
    arg = np.zeros(best.shape, dtype=np.int64)
    for n, c, r, s in itertools.product(*map(range, best.shape)):
        first = True
        for k, (i, j) in enumerate(itertools.product(range(win.kh), range(win.kw))):
            v = xp[n, c, r * win.sh + i * win.dh, s * win.sw + j * win.dw]
            if first or v > best[n, c, r, s] or np.isnan(v):
                best[n, c, r, s], arg[n, c, r, s], first = v, k, False
    return best, arg


WINDOWS = [Window(2, 2, 2, 2), Window(3, 3, 3, 3), Window(1, 1), Window(3, 2, 1, 2, 1, 1), Window(2, 3, 2, 1, 1, 0, 2)]


@pytest.mark.parametrize("win", WINDOWS, ids=str)
@pytest.mark.parametrize("kind", ["ties", "nan", "inf"])
def test_max_pool2d_forward_picks_the_first_maximum_and_the_last_nan(win: Window, kind: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-1, 2, (2, 3, 6, 6)).astype(np.float32)  # few values: most windows hold ties
    if kind == "nan":
        x[rng.random(x.shape) < 0.2] = np.nan
    if kind == "inf":
        x[rng.random(x.shape) < 0.5] = -np.inf
    ho, wo = win.out_size(6, 6)
    best, arg = kernels.max_pool2d_forward(x, win, ho, wo)
    ref_best, ref_arg = loop_max_pool(x.astype(np.float64), win, ho, wo)
    np.testing.assert_array_equal(best, ref_best.astype(np.float32))
    np.testing.assert_array_equal(arg, ref_arg)


def test_max_pool2d_scatter_writes_positive_zeros_and_keeps_non_finite_gradients_in_place() -> None:
    win = Window(2, 2, 2, 2)
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    _, arg = kernels.max_pool2d_forward(x, win, 2, 2)
    per_window = np.zeros((2, 3, 2, 2, 4), dtype=bool)  # (N, C, Ho, Wo, offset i * 2 + j)
    np.put_along_axis(per_window, arg[..., None].astype(np.intp), True, axis=-1)
    routed = per_window.reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    g = -np.ones((2, 3, 2, 2), dtype=np.float32)
    out = kernels.max_pool2d_scatter(g, arg, win, x.shape)
    assert (out[routed] == -1).all() and (out[~routed] == 0).all() and not np.signbit(out[~routed]).any()
    g[0, 0, 0, 0], g[1, 2, 1, 1] = np.inf, np.nan
    out = kernels.max_pool2d_scatter(g, arg, win, x.shape)
    assert (out[~routed] == 0).all()  # no inf * 0 = NaN off the arg-max
    assert np.isinf(out[0, 0, :2, :2]).sum() == 1 and np.isnan(out[1, 2, 2:, 2:]).sum() == 1


@pytest.mark.parametrize("path", ["by rows", "col2im", "strided"])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_kernels_equal_plain_products(path: str, groups: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both input-gradient paths (row shifts for stride 1, col2im otherwise) and the one-GEMM forward and weight
    gradient against plain products of the im2col matrix."""
    if path == "col2im":  # a stride-1 geometry forced through col2im
        monkeypatch.setattr(kernels, "_row_shifts", lambda *args: False)
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 4, 7, 6)), rng.standard_normal((6, 4 // groups, 3, 3))
    win = Window(3, 3, 2, 1, 1, 1) if path == "strided" else Window(3, 3, 1, 1, 1, 1)
    y, cols = kernels.conv2d_forward(x, w, win, groups)
    gy = rng.standard_normal(y.shape)
    wg = w.reshape(groups, 6 // groups, -1)
    colsg = cols.reshape(groups, -1, cols.shape[1])
    g = gy.transpose(1, 0, 2, 3).reshape(groups, 6 // groups, -1)  # (groups, O / groups, N * Ho * Wo)
    want_y = np.concatenate([wg[i] @ colsg[i] for i in range(groups)]).reshape(6, 3, *y.shape[2:]).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(y, want_y, rtol=1e-12, atol=1e-12)
    want_w = np.stack([g[i] @ colsg[i].T for i in range(groups)]).reshape(w.shape)
    want_cols = np.concatenate([wg[i].T @ g[i] for i in range(groups)])
    want_x = kernels.col2im(want_cols, win, x.shape, *y.shape[2:])
    for gx, gw in [
        (kernels.conv2d_input_grad(gy, w, win, groups, x.shape), kernels.conv2d_weight_grad(cols, gy, groups, w.shape)),
        kernels.conv2d_backward(gy, w, cols, win, groups, x.shape, True, True),
    ]:
        assert gx.flags.c_contiguous and gw.flags.c_contiguous
        np.testing.assert_allclose(gx, want_x, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gw, want_w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kernels.bias_grad(gy), gy.sum(axis=(0, 2, 3)), rtol=1e-12)
    empty_x, empty_gy = x[:0], gy[:0]  # an empty batch: empty outputs, zero weight gradient
    y0, cols0 = kernels.conv2d_forward(empty_x, w, win, groups)
    gx0, gw0 = kernels.conv2d_backward(empty_gy, w, cols0, win, groups, empty_x.shape, True, True)
    assert y0.shape == empty_gy.shape and gx0.shape == empty_x.shape and (gw0 == 0).all()
    assert (kernels.bias_grad(empty_gy) == np.zeros(6)).all()


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("groups", [1, 2])
def test_each_conv_direction_is_one_gemm_per_group_over_all_images(
    stride: int, groups: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forward, the input gradient and the weight gradient each run ``groups`` 2-D GEMMs whatever the batch:
    no loop over images, and no stacked per-image products."""
    calls: list[tuple[int, ...]] = []
    matmul = np.matmul

    def counting(a: np.ndarray, b: np.ndarray, **kwargs: object) -> np.ndarray:
        calls.append((np.ndim(a), np.ndim(b)))
        return matmul(a, b, **kwargs)

    rng = np.random.default_rng(5)
    win = Window(3, 3, stride, stride, 1, 1)
    x, w = rng.standard_normal((5, 4, 9, 8)).astype(np.float32), rng.standard_normal((6, 4 // groups, 3, 3))
    w = w.astype(np.float32)
    monkeypatch.setattr(np, "matmul", counting)
    y, cols = kernels.conv2d_forward(x, w, win, groups)
    assert calls == [(2, 2)] * groups
    gy = rng.standard_normal(y.shape).astype(np.float32)
    for need_x, need_w in [(True, False), (False, True), (True, True)]:
        calls.clear()
        kernels.conv2d_backward(gy, w, cols, win, groups, x.shape, need_x, need_w)
        assert calls == [(2, 2)] * groups * (need_x + need_w)


def test_gemm_matrices_rows_are_not_4_kib_apart() -> None:
    """Pooled GEMM operands get a row stride off multiples of 4 KiB (rows that far apart share cache sets)."""
    x = np.ones((64, 2, 16, 16), dtype=np.float32)  # 64 * 16 * 16 = 16384 columns: 64 KiB rows if packed
    cols = kernels.im2col(x, Window(3, 3, 1, 1, 1, 1), 16, 16)
    assert cols.shape == (18, 16384) and cols.strides[1] == 4
    assert cols.strides[0] >= 16384 * 4 and cols.strides[0] % 4096 != 0 and cols.strides[0] % 64 == 0
    g = kernels.channels_first(x)
    assert g.shape == (2, 16384) and g.strides[0] % 4096 != 0
    np.testing.assert_array_equal(g, 1)


def test_a_pooled_array_is_not_handed_out_while_referenced() -> None:
    a, new = kernels._buffer((4, 5), np.float32)
    assert new and a.ctypes.data % kernels._PAGE == 0
    view = a[1:]
    del a
    b, new = kernels._buffer((4, 5), np.float32)
    assert new and not np.shares_memory(b, view)  # the view keeps the first block in use
    del view
    c, new = kernels._buffer((2, 10), np.float32)  # same size, other shape: the freed block again
    assert not new and not np.shares_memory(c, b)
    address = c.ctypes.data
    del c
    d, new = kernels._buffer((3, 4), np.float64)  # 96 bytes fit in a free 80-byte block? no: a new one
    assert new
    e, new = kernels._buffer((3, 5), np.float32)  # 60 bytes: the free 80-byte block (at most half wasted)
    assert not new and e.ctypes.data == address
    f, new = kernels._buffer((1, 5), np.float32)  # 20 bytes would waste more than half of any free block
    assert new and not np.shares_memory(f, d)


def test_conv_outputs_held_by_the_caller_are_never_overwritten() -> None:
    rng = np.random.default_rng(3)
    w, win = rng.standard_normal((5, 3, 3, 3)), Window(3, 3, 1, 1, 1, 1)
    xs = [rng.standard_normal((2, 3, 6, 6)) for _ in range(3)]
    held = [kernels.conv2d_forward(x, w, win, 1) for x in xs]
    kernels.release_buffers()
    for x, (y, cols) in zip(xs, held):
        want_y, want_cols = kernels.conv2d_forward(x, w, win, 1)
        np.testing.assert_array_equal(y, want_y)
        np.testing.assert_array_equal(cols, want_cols)


def test_im2col_reuses_its_block_and_its_padding_entries_stay_zero() -> None:
    rng = np.random.default_rng(4)
    win = Window(3, 3, 2, 2, 2, 1, 2, 1)
    ho, wo = win.out_size(7, 8)
    first = kernels.im2col(rng.standard_normal((2, 3, 7, 8)), win, ho, wo)
    assert not first.flags.writeable
    address = first.ctypes.data
    del first
    x = rng.standard_normal((2, 3, 7, 8))
    again = kernels.im2col(x, win, ho, wo)
    assert again.ctypes.data == address  # the same block, refilled
    xp = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)))
    want = np.stack([xp[:, :, i * 2 : i * 2 + 2 * (ho - 1) + 1 : 2, j : j + 2 * (wo - 1) + 1 : 2]
                     for i in range(3) for j in range(3)])  # fmt: skip
    np.testing.assert_array_equal(again, want.transpose(2, 0, 1, 3, 4).reshape(again.shape))
