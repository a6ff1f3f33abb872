"""``Parameter``: a Tensor that a ``Module`` registers as one of its trainable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and is registered when assigned to a Module attribute.

    ``Parameter(data)`` shares ``data``'s array (as PyTorch shares storage); ``Parameter()`` is an empty
    float32 tensor. Ops on a Parameter return plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            data = data.data
        elif not isinstance(data, np.ndarray):
            raise TypeError(f"Parameter: data must be a Tensor or a numpy array, got {type(data).__name__}")
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
