"""Neural-network building blocks. ``tinygrad_cnn.nn.functional`` holds the stateless math; modules
(``nn.Module``, layers, losses) build on it."""

from tinygrad_cnn.nn import functional

__all__ = ["functional"]
