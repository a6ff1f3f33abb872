"""Layers that connect inputs to outputs through weights: linear, conv1d, conv2d, conv_transpose2d.

Three Functions carry all convolutions, each the adjoint of another, so that every backward is again a
convolution (double backward for free):
- ``Conv2d``: y = conv(x, w) (+ bias), GEMM over im2col;
- ``ConvTranspose2d``: the adjoint of conv in its input; it is conv2d's input gradient and
  conv_transpose2d's forward (GEMM then col2im);
- ``Conv2dWeightGrad``: conv2d's gradient in its weight, from the input and the output gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn import kernels
from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.autograd.grad_mode import is_grad_enabled
from tinygrad_cnn.kernels import Window
from tinygrad_cnn.tensor import Tensor


class Conv2d(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Tensor | None, win: Window, groups: int,
                out_hw: tuple[int, int] | None = None) -> np.ndarray:  # fmt: skip
        fold = b is not None and groups == 1  # the bias rides in the GEMM (see kernels.conv2d_forward)
        folded = b.data if b is not None and fold else None
        out, cols = kernels.conv2d_forward(x.data, w.data, win, groups, out_hw, folded)
        if b is not None and not fold:
            out += b.data.reshape(1, -1, 1, 1)
        ctx.win, ctx.groups = win, groups
        ctx.save_for_backward(x, w, cols if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        x, w, cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        cols = None if cols is None else cols.data  # the forward's im2col matrix, reused
        ones = cols is not None and cols.shape[0] > ctx.groups * w.data[0].size  # with the bias's row of ones
        gx: np.ndarray | Tensor | None  # arrays in the plain backward, Tensors in the differentiable one
        gw: np.ndarray | Tensor | None
        gb: np.ndarray | Tensor | None
        if not is_grad_enabled():  # plain backward: run the kernels directly
            gb = None
            if ones:  # weight and bias gradients from one GEMM
                assert cols is not None  # ones implies cols
                g = kernels.channels_first(grad.data)  # the output gradient channel-major, for both GEMMs
                gx = kernels.conv2d_input_grad(grad.data, w.data, ctx.win, 1, x.shape, g) if need_x else None
                gw, gb = kernels.conv2d_weight_bias_grad(cols, grad.data, w.shape, g)
            else:
                gx, gw = kernels.conv2d_backward(grad.data, w.data, cols, ctx.win, ctx.groups, x.shape, need_x, need_w)
            if need_b and gb is None:
                gb = kernels.bias_grad(grad.data)
            return (
                None if gx is None else Tensor(gx),
                None if gw is None else Tensor(gw),
                Tensor(gb) if need_b else None,
                None, None, None,
            )  # fmt: skip
        if ones:
            assert cols is not None  # ones implies cols
            cols = cols[:-1]
        # create_graph: the same gradients as differentiable Functions (double backward)
        gx = ConvTranspose2d.apply(grad, w, None, ctx.win, ctx.groups, x.shape) if need_x else None
        gw = Conv2dWeightGrad.apply(x, grad, ctx.win, ctx.groups, w.shape, cols) if need_w else None
        gb = grad.sum((0, 2, 3)) if need_b else None
        return gx, gw, gb, None, None, None


class ConvTranspose2d(Function):
    """The adjoint of ``Conv2d`` in its input: maps (N, O, Ho, Wo) back to ``shape`` (N, C, H, W)."""

    @staticmethod
    def forward(ctx: Any, u: Tensor, w: Tensor, b: Tensor | None, win: Window, groups: int,
                shape: tuple[int, ...]) -> np.ndarray:  # fmt: skip
        out = kernels.conv2d_input_grad(u.data, w.data, win, groups, shape)
        if b is not None:
            out += b.data.reshape(1, -1, 1, 1)
        ctx.win, ctx.groups = win, groups
        ctx.save_for_backward(u, w)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        u, w = ctx.saved_tensors
        need_u, need_w, need_b = ctx.needs_input_grad[:3]
        gu = Conv2d.apply(grad, w, None, ctx.win, ctx.groups, u.shape[2:]) if need_u else None
        gw = Conv2dWeightGrad.apply(grad, u, ctx.win, ctx.groups, w.shape, None) if need_w else None
        gb = grad.sum((0, 2, 3)) if need_b else None
        return gu, gw, gb, None, None, None


class Conv2dWeightGrad(Function):
    """dL/dw of ``conv(x, w)`` given x and the output gradient ``gy``; bilinear in (x, gy)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, gy: Tensor, win: Window, groups: int, w_shape: tuple[int, ...],
                cols: np.ndarray | None) -> np.ndarray:  # fmt: skip
        if cols is None:
            ho, wo = gy.shape[2:]
            cols = kernels.im2col(x.data, win, ho, wo)
        ctx.win, ctx.groups = win, groups
        ctx.save_for_backward(x, gy)
        return kernels.conv2d_weight_grad(cols, gy.data, groups, w_shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        x, gy = ctx.saved_tensors
        need_x, need_gy = ctx.needs_input_grad[:2]
        gx = ConvTranspose2d.apply(gy, grad, None, ctx.win, ctx.groups, x.shape) if need_x else None
        ggy = Conv2d.apply(x, grad, None, ctx.win, ctx.groups, gy.shape[2:]) if need_gy else None
        return gx, ggy, None, None, None, None


# -- argument checking -------------------------------------------------------------------------------------------
# Error kinds follow PyTorch: a value of the wrong Python type is a TypeError; a well-typed value that the op
# cannot use (a non-positive stride, mismatched channels, a tuple of the wrong length) is a RuntimeError.
def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _pair(value: Any, name: str, op: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (a 1-tuple is repeated, as PyTorch), each >= ``minimum``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not items or any(not _is_int(v) for v in items):
        raise TypeError(f"{op}(): {name}: expected an int or a pair of ints, got {value!r}")
    if len(items) == 1:
        items = items * 2
    if len(items) != 2:
        raise RuntimeError(f"{op}(): {name}: expected an int or a pair of ints, got {len(items)} values {value!r}")
    if any(v < minimum for v in items):
        raise RuntimeError(f"{op}(): {name}: expected values >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def _single(value: Any, name: str, op: str, minimum: int) -> int:
    """An int (or a 1-tuple of one) that is >= ``minimum``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not items or any(not _is_int(v) for v in items):
        raise TypeError(f"{op}(): {name}: expected an int or a 1-tuple of an int, got {value!r}")
    if len(items) != 1:
        raise RuntimeError(f"{op}(): {name}: expected an int or a 1-tuple of an int, got {len(items)} values {value!r}")
    if items[0] < minimum:
        raise RuntimeError(f"{op}(): {name}: expected a value >= {minimum}, got {items[0]}")
    return int(items[0])


def _float_tensor(t: Any, name: str, op: str) -> Tensor:
    """A Tensor of a numeric dtype: floating, or integer (PyTorch computes integer convolutions and linear
    layers on the CPU too, as long as every operand has the same dtype, which ``_same_dtype`` checks)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): {name}: expected a Tensor, got {type(t).__name__}")
    if t.dtype.kind not in "fiu":
        raise NotImplementedError(f"{op}(): {name}: expected a floating point tensor, got dtype {t.dtype}")
    return t


def _same_dtype(x: Tensor, w: Tensor, b: Tensor | None, op: str) -> None:
    for name, t in (("weight", w), ("bias", b)):
        if t is not None and t.dtype != x.dtype:
            raise RuntimeError(
                f"{op}(): input is {x.dtype} but {name} is {t.dtype}; expected the same dtype "
                "(convert one with .to(dtype))"
            )


def _check_groups(groups: Any, op: str) -> int:
    if not _is_int(groups):
        raise TypeError(f"{op}(): groups: expected a positive int, got {groups!r}")
    if groups < 1:
        raise RuntimeError(f"{op}(): groups: expected a positive int, got {groups!r}")
    return int(groups)


def _check_bias(b: Any, channels: int, op: str) -> Tensor | None:
    if b is None:
        return None
    b = _float_tensor(b, "bias", op)
    if b.shape != (channels,):
        raise RuntimeError(f"{op}(): bias: expected shape ({channels},), got {b.shape}")
    return b


def _check_weight(w: Tensor, ndim: int, layout: str, op: str) -> None:
    if w.ndim != ndim:
        raise RuntimeError(f"{op}(): weight: expected a {ndim}-D tensor {layout}, got shape {w.shape}")
    if w.shape[0] == 0:
        raise RuntimeError(f"{op}(): weight: expected at least 1 filter (weight.shape[0] >= 1), got shape {w.shape}")


def _batched(x: Tensor, op: str, spatial: int) -> tuple[Tensor, bool]:
    """Accept unbatched input (one dim fewer) as PyTorch does; returns the batched tensor and a flag."""
    if x.ndim == spatial + 1:
        return x.unsqueeze(0), True
    if x.ndim != spatial + 2:
        raise RuntimeError(
            f"{op}(): input: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) tensor, "
            f"got {x.ndim}-D with shape {x.shape}"
        )
    return x, False


def _check_padding_string(padding: Any, op: str) -> None:
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise RuntimeError(f"{op}(): padding: expected an int, a pair, 'valid' or 'same', got {padding!r}")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,  # noqa: A002
           dilation: Any = 1, groups: int = 1) -> Tensor:  # fmt: skip
    """2-D cross-correlation: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW), bias (O,).

    ``padding`` is an int, a pair, ``"valid"`` (0) or ``"same"`` (stride 1 only; an odd total pads one more
    at the bottom/right, as PyTorch). Output (N, O, Ho, Wo) with Ho = floor((H + 2p - d(k-1) - 1) / s) + 1;
    input rows and columns that no window reaches get a zero gradient. Bad arguments raise PyTorch's error
    kinds: TypeError for a wrong type, RuntimeError for a value the convolution cannot use.
    """
    op = "conv2d"
    x, unbatched = _batched(_float_tensor(input, "input", op), op, 2)
    w = _float_tensor(weight, "weight", op)
    _check_weight(w, 4, "(out_channels, in_channels/groups, kH, kW)", op)
    groups = _check_groups(groups, op)
    b = _check_bias(bias, w.shape[0], op)
    _same_dtype(x, w, b, op)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    if c != cg * groups:
        raise RuntimeError(f"{op}(): input has {c} channels but weight expects {cg * groups} "
                           f"(weight.shape[1] * groups = {cg} * {groups})")  # fmt: skip
    if o % groups:
        raise RuntimeError(f"{op}(): groups: out_channels {o} (weight.shape[0]) is not divisible by groups {groups}")
    if min(kh, kw) < 1:
        raise RuntimeError(f"{op}(): weight: kernel size must be at least 1, got {(kh, kw)}")
    sh, sw = _pair(stride, "stride", op, 1)
    dh, dw = _pair(dilation, "dilation", op, 1)
    _check_padding_string(padding, op)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:  # "same"
            if (sh, sw) != (1, 1):
                raise RuntimeError(f"{op}(): padding='same' is not supported for strided convolutions, got stride "
                                   f"{stride!r}")  # fmt: skip
            th, tw = dh * (kh - 1), dw * (kw - 1)
            if th % 2 or tw % 2:  # asymmetric: pad explicitly, the extra row/column at the bottom/right
                from tinygrad_cnn.functions.array import pad

                x = pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
                padding = 0
            else:
                padding = (th // 2, tw // 2)
    ph, pw = _pair(padding, "padding", op, 0)
    h, wd = x.shape[2:]
    if dh * (kh - 1) + 1 > h + 2 * ph or dw * (kw - 1) + 1 > wd + 2 * pw:
        raise RuntimeError(
            f"{op}(): kernel size {(kh, kw)} (dilated: {(dh * (kh - 1) + 1, dw * (kw - 1) + 1)}) is larger than "
            f"the padded input {(h + 2 * ph, wd + 2 * pw)}"
        )
    out = Conv2d.apply(x, w, b, Window(kh, kw, sh, sw, ph, pw, dh, dw), groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,  # noqa: A002
           dilation: Any = 1, groups: int = 1) -> Tensor:  # fmt: skip
    """1-D cross-correlation: input (N, C, L) or (C, L), weight (O, C/groups, k); conv2d on a height of 1."""
    op = "conv1d"
    x, unbatched = _batched(_float_tensor(input, "input", op), op, 1)
    w = _float_tensor(weight, "weight", op)
    _check_weight(w, 3, "(out_channels, in_channels/groups, k)", op)
    groups = _check_groups(groups, op)
    b = _check_bias(bias, w.shape[0], op)
    _same_dtype(x, w, b, op)
    stride, dilation = _single(stride, "stride", op, 1), _single(dilation, "dilation", op, 1)
    _check_padding_string(padding, op)
    if not isinstance(padding, str):
        padding = _single(padding, "padding", op, 0)
    c, length, (o, cg, k) = x.shape[1], x.shape[2], w.shape
    if c != cg * groups:
        raise RuntimeError(f"{op}(): input has {c} channels but weight expects {cg * groups} "
                           f"(weight.shape[1] * groups = {cg} * {groups})")  # fmt: skip
    if o % groups:
        raise RuntimeError(f"{op}(): groups: out_channels {o} (weight.shape[0]) is not divisible by groups {groups}")
    if k < 1:
        raise RuntimeError(f"{op}(): weight: kernel size must be at least 1, got {k}")
    if padding == "same" and stride != 1:
        raise RuntimeError(f"{op}(): padding='same' is not supported for strided convolutions, got stride {stride}")
    pad = 0 if isinstance(padding, str) else padding
    if padding != "same" and dilation * (k - 1) + 1 > length + 2 * pad:
        raise RuntimeError(f"{op}(): kernel size {k} (dilated: {dilation * (k - 1) + 1}) is larger than the padded "
                           f"input {length + 2 * pad}")  # fmt: skip
    as_2d = padding if isinstance(padding, str) else (0, padding)
    out = conv2d(x.unsqueeze(2), w.unsqueeze(2), b, (1, stride), as_2d, (1, dilation), groups).squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(  # noqa: D417
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed convolution (the gradient of conv2d in its input): input (N, C_in, H, W), weight
    (C_in, C_out/groups, kH, kW). Output size: (H - 1) * s - 2p + d(k - 1) + output_padding + 1."""
    op = "conv_transpose2d"
    x, unbatched = _batched(_float_tensor(input, "input", op), op, 2)
    w = _float_tensor(weight, "weight", op)
    _check_weight(w, 4, "(in_channels, out_channels/groups, kH, kW)", op)
    groups = _check_groups(groups, op)
    n, c, h, wd = x.shape
    cin, cog, kh, kw = w.shape
    if c != cin:
        raise RuntimeError(f"{op}(): input has {c} channels but weight expects {cin} (weight.shape[0])")
    if cin % groups:
        raise RuntimeError(f"{op}(): groups: in_channels {cin} is not divisible by groups {groups}")
    if min(kh, kw) < 1:
        raise RuntimeError(f"{op}(): weight: kernel size must be at least 1, got {(kh, kw)}")
    b = _check_bias(bias, cog * groups, op)
    _same_dtype(x, w, b, op)
    sh, sw = _pair(stride, "stride", op, 1)
    dh, dw = _pair(dilation, "dilation", op, 1)
    ph, pw = _pair(padding, "padding", op, 0)
    oph, opw = _pair(output_padding, "output_padding", op, 0)
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise RuntimeError(f"{op}(): output_padding {(oph, opw)} must be smaller than either stride {(sh, sw)} "
                           f"or dilation {(dh, dw)}")  # fmt: skip
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise RuntimeError(f"{op}(): the output size {(ho, wo)} is too small: padding {(ph, pw)} is too large")
    out = ConvTranspose2d.apply(x, w, b, Window(kh, kw, sh, sw, ph, pw, dh, dw), groups, (n, cog * groups, ho, wo))
    return out.squeeze(0) if unbatched else out


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input @ weight.T + bias``: input (*, in_features), weight (out_features, in_features), bias (out,)
    or any shape that broadcasts to the output (as PyTorch). A 1-D weight (in_features,) without bias gives
    ``input @ weight``, shape (*)."""
    op = "linear"
    x = _float_tensor(input, "input", op)
    w = _float_tensor(weight, "weight", op)
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(f"{op}(): input and weight need at least 1 dimension, got shapes {x.shape} and {w.shape}")
    if w.ndim > 2 or (w.ndim == 1 and bias is not None):
        raise RuntimeError(f"{op}(): weight: expected a 2-D tensor (out_features, in_features), got shape {w.shape}")
    in_features = w.shape[-1]
    if x.shape[-1] != in_features:
        raise RuntimeError(f"{op}(): input's last dim must equal in_features = {in_features} "
                           f"(weight.shape[{w.ndim - 1}]), got input shape {x.shape}")  # fmt: skip
    b = None
    if bias is not None:
        b = _float_tensor(bias, "bias", op)
        out_shape = x.shape[:-1] + w.shape[:1]
        try:
            fits = np.broadcast_shapes(b.shape, out_shape) == out_shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"{op}(): bias: expected shape ({w.shape[0]},) (or one that broadcasts to the output "
                               f"shape {out_shape}), got {b.shape}")  # fmt: skip
    _same_dtype(x, w, b, op)
    out = x @ w.T if w.ndim == 2 else x @ w
    return out + b if b is not None else out
