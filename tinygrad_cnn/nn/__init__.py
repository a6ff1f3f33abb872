"""Neural-network building blocks, as ``torch.nn``.

``tinygrad_cnn.nn.functional`` holds the stateless math; ``Module`` and ``Parameter`` hold state; the
layers (``Conv2d``, ``BatchNorm2d``, ...) and losses are thin modules over the functional ops;
``nn.init`` fills parameters and ``nn.utils`` clips gradients.
"""

from tinygrad_cnn.nn import functional
from tinygrad_cnn.nn.containers import ModuleDict, ModuleList, Sequential
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter

from tinygrad_cnn.nn import init, utils  # isort: skip - init needs Tensor only, the layers need init
from tinygrad_cnn.nn.layers import (
    ELU,
    GELU,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    CrossEntropyLoss,
    Dropout,
    Dropout2d,
    Flatten,
    GroupNorm,
    Identity,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LocalResponseNorm,
    LogSoftmax,
    MaxPool2d,
    MSELoss,
    NLLLoss,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Identity", "Linear", "Flatten", "Conv1d", "Conv2d", "ConvTranspose2d",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "LocalResponseNorm", "Dropout", "Dropout2d",
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss", "BCELoss",
]  # fmt: skip
