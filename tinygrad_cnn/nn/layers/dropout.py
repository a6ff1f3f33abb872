"""Dropout layers: ``Dropout`` (single elements) and ``Dropout2d`` (whole channels), as ``torch.nn``.

Active in training mode only (``module.train()``); the identity after ``module.eval()``. ``inplace`` is
accepted for PyTorch compatibility and shown in the repr, but the result is always computed out of place.
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.layers._utils import check_bool
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name}: p: expected a number, got {p!r}")
        if not 0 <= p <= 1:  # also rejects nan
            raise ValueError(f"{name}: p: dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = check_bool(inplace, "inplace", name)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (training mode only)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels with probability ``p`` and scale the rest by 1 / (1 - p) (training mode only).

    3-D input is read as (C, H, W), as ``nn.functional.dropout2d`` (PyTorch 2.x still reads it as (N, C, L)).
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, H, W) or (C, H, W) -> same shape."""
        return F.dropout2d(input, self.p, self.training, self.inplace)
