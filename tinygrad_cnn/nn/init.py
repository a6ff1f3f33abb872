"""Parameter initialisation, as ``torch.nn.init``: fill a tensor in place and return it.

Every function works under ``no_grad`` (so it may fill a ``Parameter``) and draws from the global generator
(``tinygrad_cnn.manual_seed``) or from the ``generator`` argument. The fan rules are PyTorch's: for a
weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and fan_out = out * prod(kernel).
Random streams are numpy's, so values differ from PyTorch's for the same seed; distributions do not.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from tinygrad_cnn.autograd.grad_mode import no_grad
from tinygrad_cnn.random import Generator
from tinygrad_cnn.tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_",
]  # fmt: skip

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (an ``nn.functional`` name), as PyTorch's table:
    1 for linear/conv*/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu
    (``param`` = negative slope, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope: float = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"calculate_gain(): negative_slope {param!r} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain(): unsupported nonlinearity {nonlinearity!r}")


def _tensor(tensor: Any, fn: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}(): tensor: expected a Tensor, got {type(tensor).__name__}")
    return tensor


def _float_tensor(tensor: Any, fn: str) -> Tensor:
    t = _tensor(tensor, fn)
    if t.dtype.kind != "f":
        raise TypeError(f"{fn}(): tensor: expected a floating point tensor, got dtype {t.dtype}")
    return t


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel): (in * prod(kernel), out * prod(kernel)); >= 2 dims."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _check_mode(mode: Any) -> str:
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of ['fan_in', 'fan_out']")
    return mode.lower()


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if _check_mode(mode) == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` (any shape) with U(a, b) samples; returns it."""
    with no_grad():
        return _float_tensor(tensor, "uniform_").uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` (any shape) with N(mean, std^2) samples; returns it."""
    with no_grad():
        return _float_tensor(tensor, "normal_").normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` (any shape) with ``val``; returns it."""
    with no_grad():
        return _tensor(tensor, "constant_").fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` (any shape) with ones; returns it."""
    with no_grad():
        return _tensor(tensor, "ones_").fill_(1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` (any shape) with zeros; returns it."""
    with no_grad():
        return _tensor(tensor, "zeros_").zero_()


def _xavier_std(tensor: Tensor, gain: float, fn: str) -> float:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_float_tensor(tensor, fn))
    if fan_in + fan_out == 0:
        raise ValueError(f"{fn}(): fan_in + fan_out is 0 for a tensor of shape {tensor.shape}")
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot uniform on a weight (out, in, *kernel): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    a = math.sqrt(3.0) * _xavier_std(tensor, gain, "xavier_uniform_")
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot normal on a weight (out, in, *kernel): N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain, "xavier_normal_"), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, fn: str) -> float | None:
    """gain / sqrt(fan), or None (with PyTorch's warning) for a tensor with no elements."""
    _float_tensor(tensor, fn)
    _check_mode(mode)
    gain = calculate_gain(nonlinearity, a)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return gain / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:  # fmt: skip
    """He uniform on a weight (out, in, *kernel): U(-b, b), b = gain * sqrt(3 / fan), gain from
    ``calculate_gain(nonlinearity, a)`` and fan = fan_in or fan_out (``mode``)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:  # fmt: skip
    """He normal on a weight (out, in, *kernel): N(0, std^2), std = gain / sqrt(fan) (see ``kaiming_uniform_``)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)
