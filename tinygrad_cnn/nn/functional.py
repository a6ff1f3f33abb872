"""Stateless neural-network math, as ``torch.nn.functional``: activations, softmax/log_softmax, pad,
linear and convolutions, pooling. (Shapes are NCHW.)"""

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
from tinygrad_cnn.functions.connection import conv1d, conv2d, conv_transpose2d, linear
from tinygrad_cnn.functions.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "softplus", "silu", "sigmoid", "tanh", "softmax", "log_softmax", "pad",
    "linear", "conv1d", "conv2d", "conv_transpose2d",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
]  # fmt: skip
