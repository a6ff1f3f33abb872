"""Normalization layers: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``, ``GroupNorm`` and
``LocalResponseNorm``, as ``torch.nn`` (same buffers, defaults, update rules and reprs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.layers._utils import check_bool, check_int, check_number, factory_dtype, is_int
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.tensor import Tensor


def _affine_params(module: Module, shape: tuple[int, ...], affine: bool, bias: bool, dt: np.dtype) -> None:
    """Register ``weight`` and ``bias`` of ``shape`` (or None placeholders), as PyTorch's norm layers."""
    if affine:
        module.weight = Parameter(np.empty(shape, dtype=dt))
        if bias:
            module.bias = Parameter(np.empty(shape, dtype=dt))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    """Batch normalization over dim 1 (C) with PyTorch's buffers and update rule.

    Training: normalize with the batch mean and biased variance; with ``track_running_stats``, count the
    batch in ``num_batches_tracked`` and update ``running_mean`` / ``running_var`` (unbiased batch
    variance) by ``r = (1 - m) r + m stat`` with m = ``momentum``, or m = 1 / num_batches_tracked (a
    cumulative average) when ``momentum`` is None. Evaluation: normalize with the running statistics, or
    with the batch's when ``track_running_stats=False`` (the buffers are then None).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        self.num_features = check_int(num_features, "num_features", name, 1)
        self.eps = check_number(eps, "eps", name, 0)
        if momentum is not None:
            check_number(momentum, "momentum", name)
        self.momentum = momentum
        self.affine = check_bool(affine, "affine", name)
        self.track_running_stats = check_bool(track_running_stats, "track_running_stats", name)
        dt = factory_dtype(device, dtype, name)
        _affine_params(self, (num_features,), self.affine, check_bool(bias, "bias", name), dt)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (when tracked)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, weight = 1 and bias = 0."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *) -> (N, C, *), normalized per channel."""
        if isinstance(input, Tensor):
            self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        update = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if update else None, self.running_var if update else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)  # fmt: skip

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")  # fmt: skip


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input; weight and bias (C,), buffers (C,) and an int64 count."""

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input; weight and bias (C,), buffers (C,) and an int64 count."""

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class LayerNorm(Module):
    """Normalize over the trailing dims ``normalized_shape`` with their mean and biased variance, then
    ``* weight + bias`` (each of shape ``normalized_shape``, initialised to 1 and 0)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        shape: Any = (normalized_shape,) if is_int(normalized_shape) else normalized_shape  # checked below
        if not isinstance(shape, Sequence) or isinstance(shape, str) or not all(is_int(s) for s in shape):
            raise TypeError(f"{name}: normalized_shape: expected an int or a sequence of ints, got {shape!r}")
        if len(shape) == 0 or any(s < 1 for s in shape):
            raise ValueError(f"{name}: normalized_shape: expected one or more positive ints, got {shape!r}")
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = check_number(eps, "eps", name, 0)
        self.elementwise_affine = check_bool(elementwise_affine, "elementwise_affine", name)
        dt = factory_dtype(device, dtype, name)
        _affine_params(self, self.normalized_shape, self.elementwise_affine, check_bool(bias, "bias", name), dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, *normalized_shape) -> same shape."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")  # fmt: skip


class GroupNorm(Module):
    """Normalize each (sample, group of num_channels / num_groups channels) over its channels and positions,
    then ``* weight + bias`` ((C,) each, initialised to 1 and 0)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        check_int(num_groups, "num_groups", name, 1)
        check_int(num_channels, "num_channels", name, 1)
        if num_channels % num_groups:
            raise ValueError(f"{name}: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = check_number(eps, "eps", name, 0)
        self.affine = check_bool(affine, "affine", name)
        dt = factory_dtype(device, dtype, name)
        _affine_params(self, (num_channels,), self.affine, check_bool(bias, "bias", name), dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *) -> (N, C, *)."""
        if isinstance(input, Tensor) and input.ndim >= 2 and input.shape[1] != self.num_channels:
            raise RuntimeError(f"GroupNorm: expected input with num_channels = {self.num_channels} channels in dim 1, "
                               f"got input of shape {input.shape}")  # fmt: skip
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")  # fmt: skip


class LocalResponseNorm(Module):
    """Local response normalization across channels (no parameters):
    x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        name = type(self).__name__
        self.size = check_int(size, "size", name, 1)
        self.alpha = check_number(alpha, "alpha", name)
        self.beta = check_number(beta, "beta", name)
        self.k = check_number(k, "k", name)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *) -> (N, C, *)."""
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
