"""The hot numpy kernels of convolution and pooling, in one place.

Layouts: images are NCHW. Convolution lowers to one GEMM per group over an im2col matrix laid out as
``(C * kh * kw, N * Ho * Wo)``, all images at once; its adjoint (the input gradient, which is also
``conv_transpose2d``) is one GEMM per group followed by col2im, a handful of slice-adds (one per kernel offset)
into a padded buffer; never ``np.add.at``. Pooling works the same way over kernel offsets. Every kernel keeps
the input's float dtype (float32 stays float32).
Large arrays (im2col columns, GEMM results, outputs) come from a small pool of blocks that are reused once
nothing references them (``_buffer``), saving the page faults of fresh memory.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from dataclasses import dataclass

import numpy as np


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


# -- buffer reuse ----------------------------------------------------------------------------------------------
# A fresh multi-megabyte array is a new memory mapping: the first write to each of its 4 KiB pages is a page fault
# (the kernel maps and zeroes the page), about 15% of a CNN training step. So the kernels take their large arrays
# from a small pool of byte blocks instead. A block is handed out again only when nothing but the pool references
# it: a Tensor, a graph's saved tensor, a local variable and any view (a view holds its base) all count in
# ``sys.getrefcount``, so a block is reused only after its last user is done with it, when a fresh array would
# have been freed. Users overwrite all they read, except im2col, which tags its blocks (see there). A block may
# serve a request of another shape or dtype, or a smaller one, so that a network's layers share a few blocks.
# (key, block, its page-aligned bytes), least recent first
_POOL: list[tuple[tuple | None, np.ndarray, np.ndarray]] = []
_POOL_MAX_BLOCKS = 24
_POOL_MAX_BYTES = 256 << 20  # in all; one block up to half of it (the input-gradient columns of a
# (64, 32, 32, 32) conv take 80 MB: allocated fresh each call, that gradient took about 1.5x as long)
_POOL_MIN_BYTES = 256 << 10  # smaller arrays come from malloc's heap, whose pages are already mapped
_PAGE = 4096  # OpenBLAS's GEMMs run 5-15% faster on page-aligned operands than on malloc's (page + 16 bytes)
_POOL_LOCK = threading.Lock()


def _new_entry(key: tuple | None, nbytes: int) -> tuple[tuple | None, np.ndarray, np.ndarray]:
    block = np.zeros(nbytes + _PAGE, dtype=np.uint8)
    start = -block.ctypes.data % _PAGE
    return key, block, block[start : start + nbytes]


def _refs(entry: tuple[tuple | None, np.ndarray, np.ndarray]) -> int:
    return sys.getrefcount(entry[1])  # every array handed out from a block is a view whose base is the block


_FREE_REFS = _refs(_new_entry((), 0))  # the count of a block that only its pool entry holds


def _buffer(shape: tuple[int, ...], dtype: np.dtype | type, tag: object = None) -> tuple[np.ndarray, bool]:
    """A C-contiguous array of ``shape`` and ``dtype``, and True when it is new (then zero-filled); False when it
    is pooled memory that nothing else references any more, holding whatever its last user wrote. An untagged
    request takes the smallest free untagged block that holds it (wasting at most half of the block); a user
    that relies on what it left behind tags its requests, and gets back only blocks of its own tag, shape and
    dtype."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _POOL_MIN_BYTES or nbytes > _POOL_MAX_BYTES // 2:
        return np.zeros(shape, dtype=dtype), True
    key = None if tag is None else (tuple(shape), dtype, tag)
    with _POOL_LOCK:
        i = _find(key, nbytes)
        if i is not None:
            entry = _POOL.pop(i)
            _POOL.append(entry)  # now the most recently used
            return entry[2][:nbytes].view(dtype).reshape(shape), False
        entry = _new_entry(key, nbytes)
        if _make_room(nbytes):
            _POOL.append(entry)
        return entry[2].view(dtype).reshape(shape), True


def _find(key: tuple | None, nbytes: int) -> int | None:
    """The index of the free block to hand out for ``key`` (None: untagged) and ``nbytes``, if any."""
    found = None
    for i, entry in enumerate(_POOL):
        size = entry[2].nbytes
        if entry[0] != key or not nbytes <= size <= 2 * nbytes or _refs(entry) != _FREE_REFS:
            continue
        if found is None or size < _POOL[found][2].nbytes:
            found = i
    return found


def _make_room(nbytes: int) -> bool:
    """Forget the least recently used blocks not in use until one more of ``nbytes`` fits; False if it cannot."""
    total = nbytes + sum(entry[1].nbytes for entry in _POOL)
    i = 0
    while i < len(_POOL) and (len(_POOL) >= _POOL_MAX_BLOCKS or total > _POOL_MAX_BYTES):
        if _refs(_POOL[i]) == _FREE_REFS:
            total -= _POOL.pop(i)[1].nbytes
        else:
            i += 1
    return len(_POOL) < _POOL_MAX_BLOCKS and total <= _POOL_MAX_BYTES


def release_buffers() -> None:
    """Empty the pool (a block in use is freed when its last user is done with it)."""
    with _POOL_LOCK:
        _POOL.clear()


def _reset_lock_in_child() -> None:  # a fork while another thread held the lock must not deadlock the child
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_in_child)


def _empty(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """An array its user overwrites entirely (contents undefined): pooled when large."""
    return _buffer(shape, dtype)[0]


# -- convolution -------------------------------------------------------------------------------------------
# Every convolution is one GEMM per group in each direction, over all images at once, on channel-major matrices
# (rows: channels or C * kh * kw; columns: the N * Ho * Wo output pixels): the forward ``W @ cols``, the weight
# gradient ``cols @ G.T`` and the input gradient ``W.T @ G`` followed by col2im. Only the relayouts between NCHW
# and these matrices (one copy each) touch the pixels outside a GEMM, im2col and col2im.
def _row_stride(m: int, itemsize: int) -> int:
    """The row stride (elements) of a pooled matrix of ``m`` columns: m rounded up to whole 64-byte cache lines,
    plus 256 bytes where that would be a multiple of 4 KiB. Rows a multiple of 4 KiB apart share cache sets; on
    the (288, 16384) float32 columns of a 32 -> 64 conv, BLAS ran 10-25% slower on them."""
    line = max(1, 64 // itemsize)
    stride = -(-m // line) * line
    if stride * itemsize % 4096 == 0 and m > 0:
        stride += max(1, 256 // itemsize)
    return stride


def _matrix(rows: int, m: int, dtype: np.dtype | type, tag: object = None) -> tuple[np.ndarray, bool]:
    """A pooled (rows, m) matrix with unit column stride and the row stride of ``_row_stride`` (a view into its
    block), and whether it is new (see ``_buffer``)."""
    dtype = np.dtype(dtype)
    block, new = _buffer((rows, _row_stride(m, dtype.itemsize)), dtype, tag)
    return block[:, :m], new


def im2col(x: np.ndarray, win: Window, ho: int, wo: int, ones: bool = False) -> np.ndarray:
    """Columns of every receptive field: shape ``(C * kh * kw, N * Ho * Wo)``, unit column stride, read-only;
    with ``ones``, one more row of ones (for a bias, see ``conv2d_forward``).

    Built as ``(C, kh, kw, N, Ho, Wo)``: for each kernel offset, one strided copy of the input pixels it reads.
    Entries that read the zero padding are never written: the array is pooled under a tag naming this exact
    geometry, so it is either new (zero-filled) or was last filled by this same loop, which left them zero
    (the result is a read-only view, so no one else writes into it)."""
    n, c, h, w = x.shape
    k, m = c * win.kh * win.kw, n * ho * wo
    block, _ = _matrix(k + ones, m, x.dtype, ("im2col", win, n, h, w, ho, wo, ones))
    if ones:
        block[k] = 1
    cols = block[:k].reshape(c, win.kh, win.kw, n, ho, wo)
    xt = x.transpose(1, 0, 2, 3)
    for i, j, _, _ in win.offsets(ho, wo):
        r0, r1, rows = _inside(ho, win.sh, i * win.dh - win.ph, h)
        c0, c1, columns = _inside(wo, win.sw, j * win.dw - win.pw, w)
        if r0 < r1 and c0 < c1:
            np.copyto(cols[:, i, j, :, r0:r1, c0:c1], xt[:, :, rows, columns])
    block.flags.writeable = False
    return block


def _inside(out: int, s: int, offset: int, size: int) -> tuple[int, int, slice]:
    """The outputs [o0, o1) whose input ``o * s + offset`` lies in [0, size), and the slice of those inputs."""
    o0 = min(out, max(0, -(offset // s)))  # ceil(-offset / s)
    o1 = max(o0, min(out, (size - 1 - offset) // s + 1))
    return o0, o1, slice(o0 * s + offset, (o1 - 1) * s + offset + 1, s)


def col2im(cols: np.ndarray, win: Window, shape: tuple[int, ...], ho: int, wo: int) -> np.ndarray:
    """The adjoint of ``im2col``: add each column entry back to its input pixel. ``shape`` is NCHW."""
    n, c, h, w = shape
    cols = cols.reshape(c, win.kh, win.kw, n, ho, wo)
    # Accumulate channel-major (C, N, Hp, Wp), the layout of the columns, so each slice-add reads
    # contiguous memory; one transpose to NCHW at the end.
    acc = _empty((c, n, h + 2 * win.ph, w + 2 * win.pw), cols.dtype)
    acc.fill(0)
    for i, j, rows, columns in win.offsets(ho, wo):
        acc[:, :, rows, columns] += cols[:, i, j]
    out = _empty((n, c, h, w), cols.dtype)
    np.copyto(out, acc[:, :, win.ph : win.ph + h, win.pw : win.pw + w].transpose(1, 0, 2, 3))
    return out


def _per_group(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[g rows] = a[g] @ b[g rows]`` for each group g, one GEMM each: ``a`` (groups, P, Q) holds the weights,
    ``b`` (groups * Q, R) and ``out`` (groups * P, R) are channel-major matrices with unit column stride."""
    p, q = a.shape[1:]
    for i in range(a.shape[0]):
        np.matmul(a[i], b[i * q : (i + 1) * q], out=out[i * p : (i + 1) * p])
    return out


def channels_first(y: np.ndarray) -> np.ndarray:
    """(N, O, Ho, Wo) -> the channel-major matrix (O, N * Ho * Wo) that the GEMMs take (a pooled copy)."""
    n, o, ho, wo = y.shape
    out, _ = _matrix(o, n * ho * wo, y.dtype)
    np.copyto(out.reshape(o, n, ho, wo), y.transpose(1, 0, 2, 3))
    return out


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, win: Window, groups: int, out_hw: tuple[int, int] | None = None,
    b: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw): one GEMM per group over im2col.

    ``out_hw`` limits the output to its first rows/columns (used when a conv is the adjoint of a
    transposed conv whose output_padding added rows). Returns the output (N, O, Ho, Wo) and the im2col
    matrix (kept for the weight gradient). A bias ``b`` (O,) (groups == 1 only) rides in the GEMM as one more
    weight column over a row of ones in the im2col matrix, which then has ``C * kh * kw + 1`` rows; the
    weight gradient from it (``conv2d_weight_bias_grad``) gets the bias gradient the same way. Both save a
    pass over the output."""
    n = x.shape[0]
    o = w.shape[0]
    ho, wo = out_hw or win.out_size(*x.shape[2:])
    if b is not None and groups != 1:
        raise ValueError("conv2d_forward: a bias is folded into the GEMM for groups == 1 only")
    cols = im2col(x, win, ho, wo, ones=b is not None)
    dtype = np.result_type(w, cols)
    wg = w.reshape(groups, o // groups, -1)
    if b is not None:
        wg = np.concatenate([wg[0], b.reshape(o, 1).astype(wg.dtype)], axis=1)[None]
    gemm = _per_group(wg, cols, _matrix(o, cols.shape[1], dtype)[0])  # (O, N * Ho * Wo)
    out = _empty((n, o, ho, wo), dtype)
    np.copyto(out, gemm.reshape(o, n, ho, wo).transpose(1, 0, 2, 3))
    return out, cols


def conv2d_input_grad(
    gy: np.ndarray, w: np.ndarray, win: Window, groups: int, shape: tuple[int, ...], g: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of conv2d w.r.t. its input of NCHW ``shape`` (also conv_transpose2d's forward): the columns
    ``w.T @ gy`` (one GEMM per group), then col2im. ``g`` is ``channels_first(gy)`` if the caller has it."""
    n, o, ho, wo = gy.shape
    wg = w.reshape(groups, o // groups, -1)
    # The row-shift layout needs a widened copy of gy: worth it unless the caller's channel-major copy ``g`` is
    # there for free and the columns (C * kh * kw rows) are fewer than gy's channels (O).
    by_rows = _row_shifts(win, shape, ho, wo) and (g is None or groups * wg.shape[2] > o)
    if by_rows and np.isfinite(w).all():  # (inf * 0 in a zero column would spill NaN)
        return _input_grad_by_rows(gy, wg, win, shape)
    cols, _ = _matrix(groups * wg.shape[2], n * ho * wo, np.result_type(w, gy))  # im2col's layout
    _per_group(wg.transpose(0, 2, 1), channels_first(gy) if g is None else g, cols)
    return col2im(cols, win, shape, ho, wo)


def _row_shifts(win: Window, shape: tuple[int, ...], ho: int, wo: int) -> bool:
    """True for a stride-1 conv whose output spans the whole padded input: every kernel offset's window of
    the padded image is then one contiguous run of its rows (see ``_input_grad_by_rows``)."""
    h, w = shape[2:]
    return (
        win.sh == win.sw == 1 and ho == h + 2 * win.ph - win.dh * (win.kh - 1)
        and wo == w + 2 * win.pw - win.dw * (win.kw - 1)
    )  # fmt: skip


def _input_grad_by_rows(gy: np.ndarray, wg: np.ndarray, win: Window, shape: tuple[int, ...]) -> np.ndarray:
    """conv2d's input gradient for ``_row_shifts`` geometries: one GEMM per group, then col2im as one contiguous
    slice-add per kernel offset.

    The output gradient is widened to the padded input's width Wp with zero columns, so that each image's
    columns for kernel offset (i, j) are a (C, Ho * Wp) block whose rows, laid end to end, land on the flat
    padded image (Hp * Wp) starting at ``i * dh * Wp + j * dw``: the zero columns spill onto the next row's
    left edge and add nothing. The (Wp - Wo) / Wo more GEMM work buys adds that run along whole images, where
    ``col2im``'s run along rows of Wo pixels, whose loop overhead dominates on small images (a (64, 32, 16, 16)
    input gradient: 5.4 ms of adds against 2.7). Memory: the columns of the whole batch, C * kh * kw by
    N * Ho * Wp, about the size of the forward's im2col matrix, which is alive beside them in a backward."""
    n, o, ho, wo = gy.shape
    c, h, w = shape[1:]
    hp, wp = h + 2 * win.ph, w + 2 * win.pw
    dtype = np.result_type(wg, gy)
    g, _ = _matrix(o, n * ho * wp, dtype)
    wide = g.reshape(o, n, ho, wp)
    wide[..., wo:] = 0
    np.copyto(wide[..., :wo], gy.transpose(1, 0, 2, 3))
    starts = [i * win.dh * wp + j * win.dw for i, j, _, _ in win.offsets(ho, wo)]
    cols, _ = _matrix(c * len(starts), n * ho * wp, dtype)
    _per_group(wg.transpose(0, 2, 1), g, cols)
    cols = cols.reshape(c, len(starts), n, ho * wp)
    acc = _empty((c, n, hp * wp + (win.kw - 1) * win.dw), dtype)  # room for the last offset's spill
    acc.fill(0)
    for k, start in enumerate(starts):
        acc[:, :, start : start + ho * wp] += cols[:, k]
    out = _empty(shape, dtype)
    np.copyto(out, acc[:, :, : hp * wp].reshape(c, n, hp, wp)[:, :, win.ph : win.ph + h, win.pw : win.pw + w]
              .transpose(1, 0, 2, 3))  # fmt: skip
    return out


def conv2d_weight_grad(
    cols: np.ndarray, gy: np.ndarray, groups: int, w_shape: tuple[int, ...], g: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of conv2d w.r.t. its weight, from the input's im2col matrix and the output gradient: one GEMM
    per group, ``cols @ G.T`` with ``G = channels_first(gy)`` (pass ``g`` if the caller already has it). This
    is the transpose of ``gy @ cols.T``: BLAS runs this operand order 10-15% faster on these long products, and
    transposing the small result back is cheap."""
    o = gy.shape[1]
    g = channels_first(gy) if g is None else g
    kg, og = cols.shape[0] // groups, o // groups
    dw = np.empty((groups, kg, og), dtype=np.result_type(cols, gy))
    for i in range(groups):
        np.matmul(cols[i * kg : (i + 1) * kg], g[i * og : (i + 1) * og].T, out=dw[i])
    return np.ascontiguousarray(dw.transpose(0, 2, 1)).reshape(w_shape)


def conv2d_weight_bias_grad(
    cols: np.ndarray, gy: np.ndarray, w_shape: tuple[int, ...], g: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """The weight and bias gradients of a groups == 1 conv from its im2col matrix with the row of ones
    (``conv2d_forward`` with a bias): one weight-gradient GEMM, whose last column is the bias gradient."""
    both = conv2d_weight_grad(cols, gy, 1, (w_shape[0], cols.shape[0]), g)
    return np.ascontiguousarray(both[:, :-1]).reshape(w_shape), np.ascontiguousarray(both[:, -1])


def conv2d_backward(
    gy: np.ndarray, w: np.ndarray, cols: np.ndarray | None, win: Window, groups: int, shape: tuple[int, ...],
    need_x: bool, need_w: bool,
) -> tuple[np.ndarray | None, np.ndarray | None]:  # fmt: skip
    """conv2d's input and weight gradients (None where not needed), with ``gy`` relaid out channel-major once
    for both GEMMs."""
    g = channels_first(gy) if need_w else None
    gx = conv2d_input_grad(gy, w, win, groups, shape, g) if need_x else None
    gw = None
    if need_w:
        assert cols is not None, "the weight gradient needs the input's im2col matrix"
        gw = conv2d_weight_grad(cols, gy, groups, w.shape, g)
    return gx, gw


def bias_grad(gy: np.ndarray) -> np.ndarray:
    """Gradient of a per-channel bias: ``gy`` (N, O, Ho, Wo) summed over N, Ho and Wo (contiguous rows first)."""
    n, o, ho, wo = gy.shape
    return gy.reshape(n, o, ho * wo).sum(axis=2).sum(axis=0)


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
    best, views = _window_max(x, win, ho, wo)
    arg = _first_equal(views, best, _offset_dtype(win))
    if np.isnan(best).any():  # windows holding NaN: the last NaN, as PyTorch's `val > max || isnan(val)`
        for k, v in enumerate(views):
            arg[np.isnan(v)] = k
    return best, arg


def max_pool2d_values(x: np.ndarray, win: Window, ho: int, wo: int) -> np.ndarray:
    """The max over each window alone, for a forward that records no graph (no arg-max to find)."""
    return _window_max(x, win, ho, wo)[0]


def _window_max(x: np.ndarray, win: Window, ho: int, wo: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The max over each window (NaN propagates), and the strided view of the input at each kernel offset."""
    xp = _pool_input(x, win, ho, wo, -np.inf)
    views = [xp[:, :, rows, columns] for _, _, rows, columns in win.offsets(ho, wo)]
    best = _empty(views[0].shape, x.dtype)
    np.copyto(best, views[0])
    for v in views[1:]:
        np.maximum(best, v, out=best)
    return best, views


def _first_equal(views: list[np.ndarray], best: np.ndarray, dtype: type) -> np.ndarray:
    """The first k with ``views[k] == best``, elementwise (K - 1 where none is, e.g. NaN windows).

    With ``ne_k = views[k] != best`` (0 or 1) it is ``ne_0 * (1 + ne_1 * (1 + ... * (1 + ne_{K-2})))``, evaluated
    from the inside out: the product is cut to 0 at the first k whose ``ne_k`` is 0, after adding the k ones
    before it. Whole-array arithmetic, no masked assignments."""
    arg = _empty(best.shape, dtype)
    if len(views) == 1:
        arg.fill(0)
        return arg
    np.not_equal(views[-2], best, out=arg)
    for v in views[-3::-1]:
        arg += 1
        arg *= np.not_equal(v, best)
    return arg


def _offset_dtype(win: Window) -> type:
    """The smallest integer type that holds every offset within a window."""
    return np.int16 if win.kh * win.kw <= np.iinfo(np.int16).max else np.int64


def max_pool2d_scatter(g: np.ndarray, arg: np.ndarray, win: Window, shape: tuple[int, ...]) -> np.ndarray:
    """Route each output gradient to its window's arg-max (the backward of max pooling)."""
    n, c, h, w = shape
    ho, wo = g.shape[2:]
    if _tiles(win, shape, ho, wo) and np.isfinite(g).all():
        # Each window owns a kh x kw tile: write every offset's plane whole, g where it is the arg-max, else 0.
        # g * (arg == k) is -0.0 where g < 0 is not routed there; adding 0.0 turns it into +0.0. (A non-finite g
        # takes the path below: inf * 0 would put NaN where the gradient is 0.)
        out = _empty(shape, g.dtype)
        for k, (i, j, _, _) in enumerate(win.offsets(ho, wo)):
            np.multiply(g, arg == k, out=out[:, :, i :: win.kh, j :: win.kw])
        out += 0.0
        return out
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


# -- adaptive max pooling ---------------------------------------------------------------------------------------
# PyTorch's adaptive windows: output i along a dim of ``size`` inputs covers [floor(i * size / out),
# ceil((i + 1) * size / out)) -- also when out > size (upsampling: windows of one or two elements, repeated).
# Windows differ in length by at most one per dim and neighbours may overlap, so the strided views of the fixed
# pools do not apply: the forward gathers every window's elements with one ``np.take`` from precomputed flat
# indices (no loop at all), the backward scatters in a few groups of pairwise disjoint windows (unique targets,
# so a plain fancy-index add is exact; never ``np.add.at``), and its adjoint is one ``np.take_along_axis``.
def adaptive_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Each adaptive window's start and (exclusive) end along a dim: two int64 arrays of length ``out``."""
    i = np.arange(out, dtype=np.int64)
    return (i * size) // out, -(-((i + 1) * size) // out)


def _adaptive_members(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """(out, k) positions ``start_i + d`` of each window's elements, d < k = the longest window's length (clipped
    to the input), and the (out, k) mask of the real ones (d < the window's own length)."""
    start, end = adaptive_bounds(size, out)
    pos = start[:, None] + np.arange(int((end - start).max()))
    return np.minimum(pos, size - 1), pos < end[:, None]


def _disjoint_stride(size: int, out: int) -> int:
    """The smallest m >= 1 such that windows i and i + m never share an element, for every i (1 when no windows
    overlap; 2 for overlapping downsampling windows; about out / size + 1 when upsampling). Starts and ends both
    increase with i, so window i is clear of every window from the first one starting at or after its end."""
    start, end = adaptive_bounds(size, out)
    return int((np.searchsorted(start, end, side="left") - np.arange(out)).max())


# Members per window from which the arg-max runs along each window's contiguous row of members (np.argmax, fast on
# long rows) rather than across windows with whole-array ops (a window's members spread over K rows). Measured at
# 1 thread, float32: (64, 32, 13, 13) -> 4 (K = 16) 0.66 ms vs 1.7 ms; (8, 64, 56, 56) -> 7 (K = 64) even;
# -> 1 (K = 3136) 2.7 ms vs 1.2 ms.
_ADAPTIVE_LONG_WINDOW = 64


def adaptive_max_pool2d_forward(x: np.ndarray, ho: int, wo: int) -> tuple[np.ndarray, np.ndarray]:
    """Max over each adaptive window of x (N, C, H, W): values (N, C, Ho, Wo) in x's dtype, and the int64 flat
    index ``h * W + w`` into the input plane of the first maximum in row-major window order (PyTorch's
    ``return_indices``). A window holding NaN gives NaN and the index of its last NaN, as PyTorch's CPU kernel
    (``val > max || isnan(val)``); an all -inf window gives -inf at its first element.

    Windows are padded to the longest (kh, kw): the flat indices of all P = Ho * Wo windows' K = kh * kw members
    are gathered at once with ``np.take``, and members beyond a window's own length set to -inf (they never win a
    tie: the window's first element comes before them). No Python loop. Short windows are laid out (K, P, N * C),
    from the planes transposed to (H * W, N * C), so that the max and the first k whose member equals it (the
    largest ``(K - k) * (member == max)``) are reductions over the leading axis; long ones (N * C, P, K), for
    ``np.argmax`` along each window's row."""
    n, c, h, w = x.shape
    if n * c == 0 or ho == 0 or wo == 0:
        return np.empty((n, c, ho, wo), dtype=x.dtype), np.empty((n, c, ho, wo), dtype=np.int64)
    rows, rows_real = _adaptive_members(h, ho)
    cols, cols_real = _adaptive_members(w, wo)
    members = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(ho * wo, -1)  # (P, K)
    padding = ~(rows_real[:, None, :, None] & cols_real[None, :, None, :]).reshape(members.shape)
    p, k = members.shape
    planes = x.reshape(n * c, h * w)
    if k >= _ADAPTIVE_LONG_WINDOW:
        vals = np.take(planes, members.ravel(), axis=1).reshape(n * c, p, k)
        if padding.any():
            np.copyto(vals, -np.inf, where=padding)
        arg = vals.argmax(axis=2)  # the first maximum (the first NaN where there is one)
        best = np.take_along_axis(vals, arg[..., None], axis=2)[..., 0]
        nan = np.isnan(best)
        if nan.any():
            arg[nan] = _last_nan(vals[nan].T)
        return best.reshape(n, c, ho, wo), members[np.arange(p), arg].reshape(n, c, ho, wo)
    vals = np.take(np.ascontiguousarray(planes.T), members.T.ravel(), axis=0).reshape(k, p, n * c)
    if padding.any():
        np.copyto(vals, -np.inf, where=padding.T[:, :, None])
    best = vals.max(axis=0)  # NaN propagates
    arg = k - ((vals == best) * np.arange(k, 0, -1, dtype=np.int16)[:, None, None]).max(axis=0)
    nan = np.isnan(best)
    if nan.any():
        arg[nan] = _last_nan(vals[:, nan])
    flat = members[np.arange(p)[:, None], arg]
    return np.ascontiguousarray(best.T).reshape(n, c, ho, wo), np.ascontiguousarray(flat.T).reshape(n, c, ho, wo)


def _last_nan(vals: np.ndarray) -> np.ndarray:
    """For each column of ``vals`` (K, m), each holding a NaN: the index k of its last NaN."""
    return (np.isnan(vals) * np.arange(1, len(vals) + 1)[:, None]).max(axis=0) - 1


def adaptive_max_pool2d_scatter(g: np.ndarray, flat: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The backward of adaptive max pooling: zeros of ``shape`` (N, C, H, W) with each output gradient of g
    (N, C, Ho, Wo) added at its window's arg-max ``flat`` (h * W + w); an element that is the arg-max of several
    (overlapping or repeated) windows gets the sum of their gradients.

    Windows i and i + mh (rows), j and j + mw (columns) are disjoint (``_disjoint_stride``), so within each of the
    mh * mw groups ``(i % mh, j % mw)`` the targets in a plane are distinct and one fancy-index add is exact. That is
    one group when no windows overlap, four for overlapping downsampling windows."""
    n, c, h, w = shape
    ho, wo = g.shape[2:]
    out = np.zeros((n * c, h * w), dtype=g.dtype)
    if out.size == 0 or g.size == 0:
        return out.reshape(shape)
    g, flat = g.reshape(n * c, ho, wo), flat.reshape(n * c, ho, wo)
    planes = np.arange(n * c)[:, None]
    mh, mw = _disjoint_stride(h, ho), _disjoint_stride(w, wo)
    for a in range(mh):
        for b in range(mw):
            out[planes, flat[:, a::mh, b::mw].reshape(n * c, -1)] += g[:, a::mh, b::mw].reshape(n * c, -1)
    return out.reshape(shape)


def adaptive_max_pool2d_gather(gx: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The adjoint of ``adaptive_max_pool2d_scatter``: the value of gx (N, C, H, W) at each window's arg-max
    ``flat`` (N, C, Ho, Wo)."""
    n, c, h, w = gx.shape
    ho, wo = flat.shape[2:]
    picked = np.take_along_axis(gx.reshape(n * c, h * w), flat.reshape(n * c, ho * wo), axis=1)
    return picked.reshape(n, c, ho, wo)
