"""The hot numpy kernels of convolution and pooling, in one place.

Layouts: images are NCHW. Convolution lowers to GEMM over an im2col matrix laid out as
``(C * kh * kw, N * Ho * Wo)``; its adjoint (the input gradient, which is also ``conv_transpose2d``)
is one GEMM followed by col2im, a handful of strided slice-adds (one per kernel offset) into a padded
buffer; never ``np.add.at``. Pooling works the same way over kernel offsets. Every kernel keeps the
input's float dtype (float32 stays float32).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided


@dataclass(frozen=True)
class Window:
    """A 2-D sliding window: kernel size, stride, padding (symmetric per dim) and dilation."""

    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0
    dh: int = 1
    dw: int = 1

    def out_size(self, h: int, w: int, ceil_mode: bool = False) -> tuple[int, int]:
        """Output size with floor (or, for pools, ceil) rounding, as PyTorch computes it."""
        return (
            _out_len(h, self.kh, self.sh, self.ph, self.dh, ceil_mode),
            _out_len(w, self.kw, self.sw, self.pw, self.dw, ceil_mode),
        )

    def offsets(self, ho: int, wo: int) -> list[tuple[int, int, slice, slice]]:
        """For each kernel offset (i, j): the strided slices of the padded input it touches."""
        return [
            (
                i,
                j,
                slice(i * self.dh, i * self.dh + self.sh * (ho - 1) + 1, self.sh),
                slice(j * self.dw, j * self.dw + self.sw * (wo - 1) + 1, self.sw),
            )
            for i in range(self.kh)
            for j in range(self.kw)
        ]


def _out_len(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = n + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = math.ceil(span / s) + 1
    if (out - 1) * s >= n + p:  # the last window must start inside the input or the left padding
        out -= 1
    return out


def pad2d(x: np.ndarray, top: int, bottom: int, left: int, right: int, value: float = 0.0) -> np.ndarray:
    """Pad the last two dims of an NCHW array (returns ``x`` itself when there is nothing to pad)."""
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


# -- convolution -------------------------------------------------------------------------------------------
def im2col(x: np.ndarray, win: Window, ho: int, wo: int) -> np.ndarray:
    """Columns of every receptive field: shape ``(C * kh * kw, N * Ho * Wo)``, C-contiguous."""
    n, c = x.shape[:2]
    xp = pad2d(x, win.ph, win.ph, win.pw, win.pw)
    s0, s1, s2, s3 = xp.strides
    view = as_strided(
        xp,
        shape=(c, win.kh, win.kw, n, ho, wo),
        strides=(s1, s2 * win.dh, s3 * win.dw, s0, s2 * win.sh, s3 * win.sw),
        writeable=False,
    )
    return np.ascontiguousarray(view).reshape(c * win.kh * win.kw, n * ho * wo)


def col2im(cols: np.ndarray, win: Window, shape: tuple[int, ...], ho: int, wo: int) -> np.ndarray:
    """The adjoint of ``im2col``: add each column entry back to its input pixel. ``shape`` is NCHW."""
    n, c, h, w = shape
    cols = cols.reshape(c, win.kh, win.kw, n, ho, wo)
    # Accumulate channel-major (C, N, Hp, Wp), the layout of the columns, so each slice-add reads
    # contiguous memory; one transpose to NCHW at the end.
    out = np.zeros((c, n, h + 2 * win.ph, w + 2 * win.pw), dtype=cols.dtype)
    for i, j, rows, columns in win.offsets(ho, wo):
        out[:, :, rows, columns] += cols[:, i, j]
    return np.ascontiguousarray(out[:, :, win.ph : win.ph + h, win.pw : win.pw + w].transpose(1, 0, 2, 3))


def _per_group(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a[g] @ b[g]`` for each group: one 2-D GEMM each. (np.matmul on stacks of transposed matrices
    bypasses BLAS and is ten times slower; 2-D products of transposed views go straight to BLAS.)"""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    out = np.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=np.result_type(a, b))
    for i in range(a.shape[0]):
        np.matmul(a[i], b[i], out=out[i])
    return out


def channels_first(y: np.ndarray, groups: int) -> np.ndarray:
    """(N, O, Ho, Wo) -> (groups, O / groups, N * Ho * Wo), the layout the GEMMs take."""
    n, o = y.shape[:2]
    return np.ascontiguousarray(y.transpose(1, 0, 2, 3)).reshape(groups, o // groups, n * y.shape[2] * y.shape[3])


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, win: Window, groups: int, out_hw: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw): one GEMM per group.

    ``out_hw`` limits the output to its first rows/columns (used when a conv is the adjoint of a
    transposed conv whose output_padding added rows). Returns the output (N, O, Ho, Wo) and the im2col
    matrix (kept for the weight gradient)."""
    n = x.shape[0]
    o = w.shape[0]
    ho, wo = out_hw or win.out_size(*x.shape[2:])
    cols = im2col(x, win, ho, wo)
    out = _per_group(w.reshape(groups, o // groups, -1), cols.reshape(groups, cols.shape[0] // groups, cols.shape[1]))
    out = out.reshape(o, n, ho, wo).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), cols


def conv2d_input_grad(
    gy: np.ndarray, w: np.ndarray, win: Window, groups: int, shape: tuple[int, ...], g: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of conv2d w.r.t. its input of NCHW ``shape`` (also conv_transpose2d's forward).
    ``g`` is ``channels_first(gy, groups)`` when the caller already has it."""
    o = w.shape[0]
    ho, wo = gy.shape[2:]
    g = channels_first(gy, groups) if g is None else g
    wg = w.reshape(groups, o // groups, -1)
    cols = _per_group(wg.transpose(0, 2, 1), g)  # (groups, C/groups * kh * kw, N * Ho * Wo)
    return col2im(cols.reshape(cols.shape[0] * cols.shape[1], cols.shape[2]), win, shape, ho, wo)


def conv2d_weight_grad(
    cols: np.ndarray, gy: np.ndarray, groups: int, w_shape: tuple[int, ...], g: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of conv2d w.r.t. its weight, from the input's im2col matrix and the output gradient
    (``g`` is ``channels_first(gy, groups)`` when the caller already has it)."""
    g = channels_first(gy, groups) if g is None else g
    colsg = cols.reshape(groups, cols.shape[0] // groups, cols.shape[1])
    return _per_group(g, colsg.transpose(0, 2, 1)).reshape(w_shape)


# -- pooling --------------------------------------------------------------------------------------------------
def _pool_input(x: np.ndarray, win: Window, ho: int, wo: int, value: float) -> np.ndarray:
    """Pad for pooling: ``padding`` on each side plus whatever a ceil-mode last window overhangs."""
    h, w = x.shape[2:]
    extra_h = max(0, (ho - 1) * win.sh + win.dh * (win.kh - 1) + 1 - (h + 2 * win.ph))
    extra_w = max(0, (wo - 1) * win.sw + win.dw * (win.kw - 1) + 1 - (w + 2 * win.pw))
    return pad2d(x, win.ph, win.ph + extra_h, win.pw, win.pw + extra_w, value)


def _tiles(win: Window, shape: tuple[int, ...], ho: int, wo: int) -> bool:
    """True when the windows tile the input exactly (no overlap, gap or padding): reshape kernels apply."""
    h, w = shape[2:]
    return (
        win.sh == win.kh and win.sw == win.kw and win.ph == win.pw == 0 and win.dh == win.dw == 1
        and ho * win.kh == h and wo * win.kw == w
    )  # fmt: skip


def max_pool2d_forward(x: np.ndarray, win: Window, ho: int, wo: int) -> tuple[np.ndarray, np.ndarray]:
    """Max over each window and the (first) arg-max as an offset ``i * kw + j`` within the window.
    NaN wins, as in PyTorch."""
    xp = _pool_input(x, win, ho, wo, -np.inf)
    views = [xp[:, :, rows, columns] for _, _, rows, columns in win.offsets(ho, wo)]
    best = views[0].copy()
    for v in views[1:]:
        np.maximum(best, v, out=best)  # propagates NaN
    arg = np.zeros(best.shape, dtype=_offset_dtype(win))
    for k in range(len(views) - 1, 0, -1):  # descending, so the first maximum's offset is written last
        arg[views[k] == best] = k
    arg[views[0] == best] = 0
    if np.isnan(best).any():  # windows holding NaN: the last NaN, as PyTorch's `val > max || isnan(val)`
        for k, v in enumerate(views):
            arg[np.isnan(v)] = k
    return best, arg


def _offset_dtype(win: Window) -> type:
    """The smallest integer type that holds every offset within a window."""
    return np.int16 if win.kh * win.kw <= np.iinfo(np.int16).max else np.int64


def max_pool2d_scatter(g: np.ndarray, arg: np.ndarray, win: Window, shape: tuple[int, ...]) -> np.ndarray:
    """Route each output gradient to its window's arg-max (the backward of max pooling)."""
    n, c, h, w = shape
    ho, wo = g.shape[2:]
    if _tiles(win, shape, ho, wo):
        out = np.zeros((n, c, ho, wo, win.kh * win.kw), dtype=g.dtype)
        np.put_along_axis(out, arg[..., None].astype(np.intp), g[..., None], axis=-1)
        out = out.reshape(n, c, ho, wo, win.kh, win.kw).transpose(0, 1, 2, 4, 3, 5)
        return np.ascontiguousarray(out).reshape(shape)
    empty = np.empty((n, c, 0, 0), dtype=g.dtype)
    gp = np.zeros(_pool_input(empty, win, ho, wo, 0).shape[:2] + _padded_hw(win, h, w, ho, wo), dtype=g.dtype)
    for k, (_, _, rows, columns) in enumerate(win.offsets(ho, wo)):
        gp[:, :, rows, columns] += np.where(arg == k, g, 0)
    return np.ascontiguousarray(gp[:, :, win.ph : win.ph + h, win.pw : win.pw + w])


def max_pool2d_gather(gx: np.ndarray, arg: np.ndarray, win: Window) -> np.ndarray:
    """Pick, for each window, the value of ``gx`` at its arg-max (the adjoint of ``max_pool2d_scatter``)."""
    ho, wo = arg.shape[2:]
    xp = _pool_input(gx, win, ho, wo, 0)
    out = np.zeros(arg.shape, dtype=gx.dtype)
    for k, (_, _, rows, columns) in enumerate(win.offsets(ho, wo)):
        np.copyto(out, xp[:, :, rows, columns], where=arg == k)
    return out


def _padded_hw(win: Window, h: int, w: int, ho: int, wo: int) -> tuple[int, int]:
    return (
        max(h + 2 * win.ph, (ho - 1) * win.sh + win.dh * (win.kh - 1) + 1),
        max(w + 2 * win.pw, (wo - 1) * win.sw + win.dw * (win.kw - 1) + 1),
    )


def max_pool2d_indices(arg: np.ndarray, win: Window, w: int) -> np.ndarray:
    """PyTorch's ``return_indices``: the flat index ``h * W + w`` of each maximum in its input plane."""
    ho, wo = arg.shape[2:]
    i, j = np.divmod(arg.astype(np.int64), win.kw)
    rows = np.arange(ho).reshape(-1, 1) * win.sh - win.ph + i * win.dh
    cols = np.arange(wo).reshape(1, -1) * win.sw - win.pw + j * win.dw
    return rows * w + cols


def avg_pool2d_divisor(win: Window, h: int, w: int, ho: int, wo: int, count_include_pad: bool) -> np.ndarray:
    """The number each window's sum is divided by, shape (Ho, Wo), by PyTorch's rules: windows are
    clipped to the padded input; padding counts only when ``count_include_pad``."""

    def lengths(n: int, k: int, s: int, p: int, out: int) -> np.ndarray:
        start = np.arange(out) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            return end - start
        return np.minimum(end, n) - np.maximum(start, 0)

    return np.outer(lengths(h, win.kh, win.sh, win.ph, ho), lengths(w, win.kw, win.sw, win.pw, wo))


def avg_pool2d_sum(x: np.ndarray, win: Window, ho: int, wo: int) -> np.ndarray:
    """Sum over each (zero-padded) window, one strided slice-add per kernel offset."""
    n, c = x.shape[:2]
    if _tiles(win, x.shape, ho, wo):
        return x.reshape(n, c, ho, win.kh, wo, win.kw).sum(axis=(3, 5))
    xp = _pool_input(x, win, ho, wo, 0)
    out = np.zeros((n, c, ho, wo), dtype=x.dtype)
    for _, _, rows, columns in win.offsets(ho, wo):
        out += xp[:, :, rows, columns]
    return out


def avg_pool2d_spread(g: np.ndarray, win: Window, shape: tuple[int, ...]) -> np.ndarray:
    """The adjoint of ``avg_pool2d_sum``: add each window's value to every input pixel it covers."""
    n, c, h, w = shape
    ho, wo = g.shape[2:]
    if _tiles(win, shape, ho, wo):
        out = np.broadcast_to(g[:, :, :, None, :, None], (n, c, ho, win.kh, wo, win.kw))
        return np.ascontiguousarray(out).reshape(shape)
    gp = np.zeros((n, c) + _padded_hw(win, h, w, ho, wo), dtype=g.dtype)
    for _, _, rows, columns in win.offsets(ho, wo):
        gp[:, :, rows, columns] += g
    return np.ascontiguousarray(gp[:, :, win.ph : win.ph + h, win.pw : win.pw + w])
