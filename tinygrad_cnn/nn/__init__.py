"""Neural-network building blocks, as ``torch.nn``.

``tinygrad_cnn.nn.functional`` holds the stateless math; ``Module`` and ``Parameter`` hold state; the
layers (``Conv2d``, ``BatchNorm2d``, ...) and losses are thin modules over the functional ops.
"""

from tinygrad_cnn.nn import functional
from tinygrad_cnn.nn.containers import ModuleDict, ModuleList, Sequential
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter
