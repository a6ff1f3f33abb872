"""Dense layers: ``Identity``, ``Linear`` and ``Flatten``, as ``torch.nn``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.layers._utils import check_bool, check_int, factory_dtype, is_int, reset_weight_and_bias
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.tensor import Tensor


class Identity(Module):
    """Returns its input unchanged (any shape); constructor arguments are accepted and ignored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*), the same object."""
        return input


class Linear(Module):
    """``y = x @ weight.T + bias``: weight (out_features, in_features), bias (out_features,).

    Initialised as PyTorch: weight by ``kaiming_uniform_(a=sqrt(5))`` (U(-1/sqrt(in), 1/sqrt(in))), bias
    U(-1/sqrt(in_features), 1/sqrt(in_features)). Parameters are float32 unless ``dtype`` says otherwise.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        self.in_features = check_int(in_features, "in_features", name, 0)
        self.out_features = check_int(out_features, "out_features", name, 0)
        dt = factory_dtype(device, dtype, name)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        if check_bool(bias, "bias", name):
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (see the class docstring)."""
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, in_features) -> (*, out_features)."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Flattens dims ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for arg, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not is_int(value):
                raise TypeError(f"Flatten: {arg}: expected an int, got {value!r}")
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, S_start, ..., S_end, *) -> (*, S_start * ... * S_end, *)."""
        if not isinstance(input, Tensor):
            raise TypeError(f"Flatten: input: expected a Tensor, got {type(input).__name__}")
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
