"""Ready-made layers and losses, one concept per file, re-exported by ``tinygrad_cnn.nn``."""

from tinygrad_cnn.nn.layers.activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from tinygrad_cnn.nn.layers.conv import Conv1d, Conv2d, ConvTranspose2d
from tinygrad_cnn.nn.layers.dropout import Dropout, Dropout2d
from tinygrad_cnn.nn.layers.linear import Flatten, Identity, Linear
from tinygrad_cnn.nn.layers.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from tinygrad_cnn.nn.layers.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, LocalResponseNorm
from tinygrad_cnn.nn.layers.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "Identity", "Linear", "Flatten", "Conv1d", "Conv2d", "ConvTranspose2d",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "LocalResponseNorm", "Dropout", "Dropout2d",
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss", "BCELoss",
]  # fmt: skip
