"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` and ``AdaptiveMaxPool2d``, as ``torch.nn``.

Arguments are kept as given (an int or a pair), as PyTorch keeps them, so the reprs agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.layers._utils import check_bool, is_int, ntuple
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor

IntOrPair = int | Sequence[int]


def _window(name: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    """Validate kernel_size/stride/padding/dilation; returns the stride (``kernel_size`` when None)."""
    kernel = ntuple(kernel_size, 2, "kernel_size", name, 1)
    if stride is None:
        stride = kernel_size
    ntuple(stride, 2, "stride", name, 1)
    pads = ntuple(padding, 2, "padding", name, 0)
    ntuple(dilation, 2, "dilation", name, 1)
    if any(2 * p > k for p, k in zip(pads, kernel)):
        raise ValueError(f"{name}: padding {padding!r} should be at most half of kernel_size {kernel_size!r}")
    return stride


class MaxPool2d(Module):
    """Max over ``kernel_size`` windows (stride defaults to kernel_size, padding counts as -inf)."""

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0,
                 dilation: IntOrPair = 1, return_indices: bool = False, ceil_mode: bool = False) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        self.kernel_size = kernel_size
        self.stride = _window(name, kernel_size, stride, padding, dilation)
        self.padding = padding
        self.dilation = dilation
        self.return_indices = check_bool(return_indices, "return_indices", name)
        self.ceil_mode = check_bool(ceil_mode, "ceil_mode", name)

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """(N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) (or unbatched); with ``return_indices`` also the
        int64 flat indices h * W + w of the maxima."""
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)  # fmt: skip

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")  # fmt: skip


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows (zero padding; divisor as PyTorch's ``count_include_pad`` /
    ``divisor_override``)."""

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        self.kernel_size = kernel_size
        self.stride = _window(name, kernel_size, stride, padding, 1)
        self.padding = padding
        self.ceil_mode = check_bool(ceil_mode, "ceil_mode", name)
        self.count_include_pad = check_bool(count_include_pad, "count_include_pad", name)
        if divisor_override is not None and (not is_int(divisor_override) or divisor_override == 0):
            raise ValueError(f"{name}: divisor_override: expected a non-zero int or None, got {divisor_override!r}")
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) (or unbatched)."""
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _output_size(output_size: Any, name: str) -> Any:
    """An int, None, or a pair of non-negative ints / None (0 gives an empty output); returned as given."""
    items = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,)
    if len(items) not in (1, 2) or (len(items) == 1 and isinstance(output_size, (tuple, list))):
        raise ValueError(f"{name}: output_size: expected an int or a pair of ints (or None), got {output_size!r}")
    for v in items:
        if v is not None and (not is_int(v) or v < 0):
            raise ValueError(f"{name}: output_size: expected non-negative ints (or None), got {output_size!r}")
    return output_size


class AdaptiveAvgPool2d(Module):
    """Average over PyTorch's adaptive windows, to a fixed ``output_size`` (None keeps that input size)."""

    def __init__(self, output_size: int | None | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = _output_size(output_size, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, H, W) or (C, H, W) -> (N, C, *output_size) (or unbatched)."""
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max over PyTorch's adaptive windows, to a fixed ``output_size`` (None keeps that input size)."""

    def __init__(self, output_size: int | None | Sequence[int | None], return_indices: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.output_size = _output_size(output_size, name)
        self.return_indices = check_bool(return_indices, "return_indices", name)

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """(N, C, H, W) or (C, H, W) -> (N, C, *output_size) (or unbatched); with ``return_indices`` also the
        int64 flat indices of the maxima."""
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
