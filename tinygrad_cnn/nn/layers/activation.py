"""Activation layers: ``ReLU``, ``LeakyReLU``, ``ELU``, ``GELU``, ``SiLU``, ``Sigmoid``, ``Tanh``,
``Softmax`` and ``LogSoftmax``, as ``torch.nn``. All map (*) -> (*) elementwise (softmaxes along ``dim``).

``inplace`` is accepted where PyTorch has it (and shown in the repr), but results are always new tensors.
"""

from __future__ import annotations

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.layers._utils import check_bool, check_number, is_int
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class _Inplace(Module):
    """An activation with PyTorch's (ignored) ``inplace`` flag."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool(inplace, "inplace", type(self).__name__)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """max(x, 0)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.relu(input, self.inplace)


class SiLU(_Inplace):
    """x * sigmoid(x)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.silu(input, self.inplace)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = check_number(negative_slope, "negative_slope", "LeakyReLU")
        self.inplace = check_bool(inplace, "inplace", "LeakyReLU")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = check_number(alpha, "alpha", "ELU")
        self.inplace = check_bool(inplace, "inplace", "ELU")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x) (exact normal CDF), or its tanh approximation with ``approximate="tanh"``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate: expected 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.tanh(input)


class _SoftmaxBase(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is not None and not is_int(dim):
            raise TypeError(f"{type(self).__name__}: dim: expected an int or None, got {dim!r}")
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along ``dim``. ``dim`` may be left None at construction, as PyTorch allows, but
    the call then raises (PyTorch's implicit, deprecated choice of dim is not reproduced)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*), summing to 1 along ``dim``."""
        return F.softmax(input, self.dim)


class LogSoftmax(_SoftmaxBase):
    """x - logsumexp(x) along ``dim`` (required at call time, as ``Softmax``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.log_softmax(input, self.dim)
