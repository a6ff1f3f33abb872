"""Stateless neural-network math, as ``torch.nn.functional``: activations, softmax/log_softmax, pad."""

from tinygrad_cnn.functions.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from tinygrad_cnn.functions.array import pad

__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "softplus", "silu", "sigmoid", "tanh", "softmax", "log_softmax", "pad",
]  # fmt: skip
