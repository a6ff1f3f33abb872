"""Loss layers: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``L1Loss``, ``BCEWithLogitsLoss`` and
``BCELoss``, as ``torch.nn``: ``loss(input, target)`` calls the ``nn.functional`` op with the stored options.

Class weights (``weight``, ``pos_weight``) are registered as buffers, as PyTorch (so they are in
``state_dict`` and follow ``.double()``). The deprecated ``size_average`` / ``reduce`` arguments are
accepted, with PyTorch's warning and translation into ``reduction``.
"""

from __future__ import annotations

import warnings
from typing import Any

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.layers._utils import check_number, check_reduction, is_int
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """PyTorch's translation of the deprecated flags (both default True) into ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                  stacklevel=4)  # fmt: skip
    return result


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = check_reduction(reduction, type(self).__name__)


def _buffer(module: Module, name: str, value: Any) -> None:
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{type(module).__name__}: {name}: expected a Tensor or None, got {type(value).__name__}")
    module.register_buffer(name, value)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        _buffer(self, "weight", weight)


def _ignore_index(value: Any, owner: str) -> int:
    if not is_int(value):
        raise TypeError(f"{owner}: ignore_index: expected an int, got {value!r}")
    return value


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits (N, C), (N, C, d1, ...) or (C,) against class indices (N,), (N, d1, ...)
    or (), or class probabilities of the input's shape; ``weight`` (C,) rescales each class."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _ignore_index(ignore_index, "CrossEntropyLoss")
        check_number(label_smoothing, "label_smoothing", "CrossEntropyLoss", 0)
        if label_smoothing > 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing: expected a value in [0, 1], got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """-> () for 'mean'/'sum', the target's shape for 'none'."""
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)  # fmt: skip


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities (N, C), (N, C, d1, ...) or (C,) at class indices
    (N,), (N, d1, ...) or (); ``weight`` (C,) rescales each class."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _ignore_index(ignore_index, "NLLLoss")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """-> () for 'mean'/'sum', the target's shape for 'none'."""
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Squared error (input - target)^2 of two tensors of one shape, reduced."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """(*), (*) -> () for 'mean'/'sum', (*) for 'none'."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Absolute error |input - target| of two tensors of one shape, reduced."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """(*), (*) -> () for 'mean'/'sum', (*) for 'none'."""
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities in [0, 1] against targets of the same shape; ``weight``
    broadcasts to the input's shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """(*), (*) -> () for 'mean'/'sum', (*) for 'none'."""
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy on logits (stable sigmoid inside); ``weight`` broadcasts to the input's shape,
    ``pos_weight`` (e.g. (C,) along the last dim) weights the positive targets."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        _buffer(self, "weight", weight)
        _buffer(self, "pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """(*), (*) -> () for 'mean'/'sum', (*) for 'none'."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)  # fmt: skip
