"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d (NCHW or unbatched CHW).

Max and average pooling come as adjoint pairs of Functions (pool / scatter-back), so each backward is
again a Function of the pair and double backward needs nothing extra. Kernels live in ``kernels``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn import kernels
from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.autograd.grad_mode import is_grad_enabled
from tinygrad_cnn.functions.connection import _pair
from tinygrad_cnn.functions.reduction import ValuesIndices
from tinygrad_cnn.kernels import Window
from tinygrad_cnn.tensor import Tensor


class MaxPool2d(Function):
    """Max over each window; the gradient goes to one element per window: the first maximum in row-major
    window order (as PyTorch), or a NaN if the window holds one."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, win: Window, ho: int, wo: int) -> tuple:
        out, arg = kernels.max_pool2d_forward(x.data, win, ho, wo)
        ctx.win, ctx.in_shape = win, x.shape
        ctx.save_for_backward(arg)
        return out, arg

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _grad_arg: Tensor) -> tuple:
        (arg,) = ctx.saved_tensors
        return MaxPoolScatter.apply(grad, arg.data, ctx.win, ctx.in_shape), None, None, None


class MaxPoolScatter(Function):
    """Put each window's gradient at its arg-max (zeros elsewhere); its adjoint gathers at the arg-max."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, arg: np.ndarray, win: Window, shape: tuple[int, ...]) -> np.ndarray:
        ctx.win = win
        ctx.save_for_backward(arg)
        return kernels.max_pool2d_scatter(g.data, arg, win, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (arg,) = ctx.saved_tensors
        return MaxPoolGather.apply(grad, arg.data, ctx.win), None, None, None


class MaxPoolGather(Function):
    """Read, for each window, the value at its arg-max; its adjoint is ``MaxPoolScatter``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, arg: np.ndarray, win: Window) -> np.ndarray:
        ctx.win, ctx.in_shape = win, x.shape
        ctx.save_for_backward(arg)
        return kernels.max_pool2d_gather(x.data, arg, win)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (arg,) = ctx.saved_tensors
        return MaxPoolScatter.apply(grad, arg.data, ctx.win, ctx.in_shape), None, None


class AvgPool2d(Function):
    """Window sums divided by ``divisor`` (Ho, Wo); linear, so its backward is its adjoint below."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, win: Window, ho: int, wo: int, divisor: np.ndarray) -> np.ndarray:
        ctx.win, ctx.in_shape, ctx.divisor = win, x.shape, divisor
        return kernels.avg_pool2d_sum(x.data, win, ho, wo) / divisor

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return AvgPoolSpread.apply(grad, ctx.win, ctx.divisor, ctx.in_shape), None, None, None, None


class AvgPoolSpread(Function):
    """The adjoint of ``AvgPool2d``: each window's value / divisor, added to the pixels it covers."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, win: Window, divisor: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        ctx.win, ctx.divisor, ctx.out_hw = win, divisor, g.shape[2:]
        return kernels.avg_pool2d_spread(g.data / divisor, win, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return AvgPool2d.apply(grad, ctx.win, *ctx.out_hw, ctx.divisor), None, None, None


class AdaptiveMaxPool2d(Function):
    """Max over PyTorch's adaptive windows [floor(i*H/Ho), ceil((i+1)*H/Ho)); the gradient goes to each window's
    first maximum (its last NaN, if it holds one), as PyTorch. Also returns that element's flat index h * W + w."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, ho: int, wo: int) -> tuple:
        out, flat = kernels.adaptive_max_pool2d_forward(x.data, ho, wo)
        ctx.in_shape = x.shape
        ctx.save_for_backward(flat)
        return out, flat

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _grad_idx: Tensor) -> tuple:
        (flat,) = ctx.saved_tensors
        return AdaptiveMaxPoolScatter.apply(grad, flat.data, ctx.in_shape), None, None


class AdaptiveMaxPoolScatter(Function):
    """Add each window's gradient at its arg-max (zeros elsewhere); its adjoint gathers at the arg-max."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, flat: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        ctx.save_for_backward(flat)
        return kernels.adaptive_max_pool2d_scatter(g.data, flat, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (flat,) = ctx.saved_tensors
        return AdaptiveMaxPoolGather.apply(grad, flat.data), None, None


class AdaptiveMaxPoolGather(Function):
    """Read, for each window, the value at its arg-max; its adjoint is ``AdaptiveMaxPoolScatter``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, flat: np.ndarray) -> np.ndarray:
        ctx.in_shape = x.shape
        ctx.save_for_backward(flat)
        return kernels.adaptive_max_pool2d_gather(x.data, flat)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        (flat,) = ctx.saved_tensors
        return AdaptiveMaxPoolScatter.apply(grad, flat.data, ctx.in_shape), None


# -- argument checking ------------------------------------------------------------------------------------------
# Error kinds follow PyTorch: TypeError for an argument of the wrong type, RuntimeError for a value pooling
# cannot use (a zero kernel, a tuple of three sizes, an input of the wrong rank).
def _input(x: Any, op: str, empty_channels: bool = False) -> tuple[Tensor, bool]:
    """The input as a batched (N, C, H, W) tensor and whether it was unbatched (C, H, W). N may be 0; C, H
    and W may not (C may, for the adaptive pools, as in PyTorch)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"{op}(): input: expected a floating point tensor, got dtype {x.dtype} (convert with .float())"
        )
    if x.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): input: expected a 3-D (C, H, W) or 4-D (N, C, H, W) tensor, got shape {x.shape}")
    sizes = x.shape[-2:] if empty_channels else x.shape[-3:]
    if 0 in sizes:
        what = "spatial sizes" if empty_channels else "channels and spatial sizes"
        raise RuntimeError(f"{op}(): input: {what} must be non-zero (only the batch may be empty), got shape {x.shape}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _flag(value: Any, name: str, op: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}(): {name}: expected a bool, got {type(value).__name__}")
    return bool(value)


def _window(x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
            op: str) -> tuple[Window, int, int]:  # fmt: skip
    kh, kw = _pair(kernel_size, "kernel_size", op, 1)
    sh, sw = (kh, kw) if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _pair(stride, "stride", op, 1)  # fmt: skip
    ph, pw = _pair(padding, "padding", op, 0)
    dh, dw = _pair(dilation, "dilation", op, 1)
    ceil_mode = _flag(ceil_mode, "ceil_mode", op)
    if 2 * ph > kh or 2 * pw > kw:
        raise RuntimeError(f"{op}(): padding {(ph, pw)} should be at most half of kernel_size {(kh, kw)}")
    win = Window(kh, kw, sh, sw, ph, pw, dh, dw)
    h, w = x.shape[2:]
    ho, wo = win.out_size(h, w, ceil_mode=ceil_mode)
    if ho < 1 or wo < 1:
        raise RuntimeError(
            f"{op}(): the (dilated) kernel {(dh * (kh - 1) + 1, dw * (kw - 1) + 1)} does not fit the padded input "
            f"{(x.shape[2] + 2 * ph, x.shape[3] + 2 * pw)}: output size would be {(ho, wo)}"
        )
    return win, ho, wo


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    """Max over kernel_size windows (stride defaults to kernel_size; -inf padding). Ties: the gradient
    goes to the first maximum in the window (row-major), as PyTorch. ``return_indices`` also returns the
    flat index h * W + w of each maximum in its input plane (int64)."""
    op = "max_pool2d"
    x, unbatched = _input(input, op)
    win, ho, wo = _window(x, kernel_size, stride, padding, dilation, ceil_mode, op)
    if not return_indices and not (x.requires_grad and is_grad_enabled()):  # no graph: the values alone
        out = Tensor(kernels.max_pool2d_values(x.data, win, ho, wo))
        return out.squeeze(0) if unbatched else out
    out, arg = MaxPool2d.apply(x, win, ho, wo)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    idx = Tensor(kernels.max_pool2d_indices(arg.data, win, x.shape[3]))
    return out, (idx.squeeze(0) if unbatched else idx)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:  # fmt: skip
    """Mean over kernel_size windows with zero padding; the divisor follows PyTorch (window clipped to the
    padded input; padding counted only with ``count_include_pad``; or ``divisor_override``)."""
    op = "avg_pool2d"
    x, unbatched = _input(input, op)
    win, ho, wo = _window(x, kernel_size, stride, padding, 1, ceil_mode, op)
    count_include_pad = _flag(count_include_pad, "count_include_pad", op)
    if divisor_override is not None:
        if isinstance(divisor_override, (bool, np.bool_)) or not isinstance(divisor_override, (int, np.integer)):
            raise TypeError(f"{op}(): divisor_override: expected a non-zero int, got {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}(): divisor_override: expected a non-zero int, got 0")
        divisor = np.full((ho, wo), divisor_override)
    else:
        h, w = x.shape[2:]
        divisor = kernels.avg_pool2d_divisor(win, h, w, ho, wo, count_include_pad)
    out = AvgPool2d.apply(x, win, ho, wo, divisor.astype(x.dtype))
    return out.squeeze(0) if unbatched else out


def _output_size(x: Tensor, output_size: Any, op: str) -> tuple[int, int]:
    """An int or a pair of ints (None keeps the input's size); 0 gives an empty output, as PyTorch."""
    items = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if any(v is not None and (isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))) for v in items):
        raise TypeError(f"{op}(): output_size: expected an int or a pair of ints (or None), got {output_size!r}")
    if len(items) != 2:
        raise RuntimeError(f"{op}(): output_size: expected an int or a pair, got {len(items)} values {output_size!r}")
    sizes = [have if want is None else int(want) for have, want in zip(x.shape[2:], items)]
    if min(sizes) < 0:
        raise RuntimeError(f"{op}(): output_size: expected sizes >= 0, got {output_size!r}")
    return sizes[0], sizes[1]


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> Tensor:
    """(out, size) matrix whose row i averages the input over adaptive window i."""
    m = np.zeros((out, size), dtype=dtype)
    for i, (a, b) in enumerate(zip(*kernels.adaptive_bounds(size, out))):
        m[i, a:b] = 1 / (b - a)
    return Tensor(m)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average over PyTorch's adaptive windows (also for sizes that do not divide). The windows are
    separable, so this is ``A_h @ x @ A_w.T`` with two averaging matrices."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _input(input, op, empty_channels=True)
    ho, wo = _output_size(x, output_size, op)
    h, w = x.shape[2:]
    out = x
    if wo != w:
        out = out @ _adaptive_matrix(w, wo, x.dtype).T
    if ho != h:
        out = _adaptive_matrix(h, ho, x.dtype) @ out
    if out is x:
        out = x.clone()
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max over PyTorch's adaptive windows; the gradient goes to the first maximum of each window."""
    op = "adaptive_max_pool2d"
    x, unbatched = _input(input, op, empty_channels=True)
    ho, wo = _output_size(x, output_size, op)
    out, idx = AdaptiveMaxPool2d.apply(x, ho, wo)
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return ValuesIndices(out, idx) if return_indices else out
