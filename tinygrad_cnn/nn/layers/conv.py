"""Convolution layers: ``Conv1d``, ``Conv2d`` and ``ConvTranspose2d``, as ``torch.nn``.

Only ``padding_mode="zeros"`` is supported (``reflect``, ``replicate`` and ``circular`` raise ValueError).
Weights are initialised as PyTorch's: ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))
with fan_in = weight.shape[1] * prod(kernel_size), and the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.layers._utils import check_bool, check_int, factory_dtype, is_int, ntuple, reset_weight_and_bias
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.tensor import Tensor


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolutions over ``n`` spatial dims."""

    _n: int = 2
    _transposed: bool = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, output_padding: Any, groups: int, bias: bool, padding_mode: str, device: Any,
                 dtype: Any) -> None:  # fmt: skip
        super().__init__()
        name, n = type(self).__name__, self._n
        check_int(in_channels, "in_channels", name, 1)
        check_int(out_channels, "out_channels", name, 1)
        check_int(groups, "groups", name, 1)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        kernel = ntuple(kernel_size, n, "kernel_size", name, 1)
        strides = ntuple(stride, n, "stride", name, 1)
        dilations = ntuple(dilation, n, "dilation", name, 1)
        if isinstance(padding, str):
            if self._transposed or padding not in ("same", "valid"):
                allowed = "an int or a tuple" if self._transposed else "an int, a tuple, 'same' or 'valid'"
                raise ValueError(f"{name}: padding: expected {allowed}, got {padding!r}")
            if padding == "same" and any(s != 1 for s in strides):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions (stride={stride})")
            pads: str | tuple[int, ...] = padding
        else:
            pads = ntuple(padding, n, "padding", name, 0)
        out_pads = ntuple(output_padding, n, "output_padding", name, 0)
        for op, s, d in zip(out_pads, strides, dilations):
            if op >= max(s, d):
                raise ValueError(f"{name}: output_padding {out_pads} must be smaller than either stride {strides} "
                                 f"or dilation {dilations}")  # fmt: skip
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode: only 'zeros' is supported, got {padding_mode!r}")
        dt = factory_dtype(device, dtype, name)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel
        self.stride = strides
        self.padding = pads
        self.dilation = dilations
        self.transposed = self._transposed
        self.output_padding = out_pads
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if self._transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(shape + kernel, dtype=dt))
        if check_bool(bias, "bias", name):
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (see the module docstring)."""
        reset_weight_and_bias(self.weight, self.bias)

    def extra_repr(self) -> str:
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution: weight (out_channels, in_channels / groups, k), bias (out_channels,)."""

    _n = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C_in, L) or (C_in, L) -> (N, C_out, L_out) or (C_out, L_out)."""
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D cross-correlation: weight (out_channels, in_channels / groups, kH, kW), bias (out_channels,)."""

    _n = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out)."""
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution: weight (in_channels, out_channels / groups, kH, kW), bias (out_channels,).

    fan_in for the initialisation is weight.shape[1] * kH * kW = out_channels / groups * kH * kW, as PyTorch.
    """

    _n = 2
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 output_padding: int | Sequence[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Sequence[int] = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                         bias, padding_mode, device, dtype)  # fmt: skip

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """``output_padding``, or the one that gives the requested ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        if (
            not isinstance(output_size, Sequence)
            or isinstance(output_size, str)
            or not all(is_int(s) for s in output_size)
        ):
            raise TypeError(f"ConvTranspose2d: output_size: expected a sequence of ints, got {output_size!r}")
        spatial = list(output_size)
        non_spatial = 2 if input.ndim == 4 else 1
        if len(spatial) == non_spatial + 2:
            spatial = spatial[non_spatial:]
        if len(spatial) != 2:
            raise ValueError(f"ConvTranspose2d: for {input.ndim}D input, output_size must have 2 or "
                             f"{non_spatial + 2} elements (got {len(output_size)})")  # fmt: skip
        in_hw = input.shape[non_spatial:]
        padding = cast("tuple[int, ...]", self.padding)  # never a string for a transposed conv (see _ConvNd)
        mins = [(in_hw[d] - 1) * self.stride[d] - 2 * padding[d] + self.dilation[d] * (self.kernel_size[d] - 1)
                + 1 for d in range(2)]  # fmt: skip
        maxs = [mins[d] + self.stride[d] - 1 for d in range(2)]
        if any(not mins[d] <= spatial[d] <= maxs[d] for d in range(2)):
            raise ValueError(f"requested an output size of {spatial}, but valid sizes range from {mins} to {maxs} "
                             f"(for an input of {tuple(in_hw)})")  # fmt: skip
        return tuple(spatial[d] - mins[d] for d in range(2))

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:  # noqa: A002
        """(N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) (or unbatched), with
        H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1."""
        out_pad = self._output_padding(input, output_size) if isinstance(input, Tensor) else self.output_padding
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, out_pad, self.groups,
                                  self.dilation)  # fmt: skip
