"""Stateless neural-network math, as ``torch.nn.functional``: activations, softmax/log_softmax, pad,
linear and convolutions, pooling, normalization, dropout and losses. (Images are NCHW.)"""

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
from tinygrad_cnn.functions.dropout import dropout, dropout2d
from tinygrad_cnn.functions.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from tinygrad_cnn.functions.normalization import batch_norm, group_norm, layer_norm, local_response_norm
from tinygrad_cnn.functions.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "softplus", "silu", "sigmoid", "tanh", "softmax", "log_softmax", "pad",
    "linear", "conv1d", "conv2d", "conv_transpose2d",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
    "batch_norm", "layer_norm", "group_norm", "local_response_norm", "dropout", "dropout2d",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
]  # fmt: skip
