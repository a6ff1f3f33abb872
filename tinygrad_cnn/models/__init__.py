"""Ready-made models: ``SeedCNN``, ``LeNet5``, ``SmallVGG``, ``SmallResNet``, by name through ``get_model``.

Every model takes ``(in_channels, num_classes, image_size)`` keywords and maps a ``(N, C, H, W)`` float
batch to ``(N, num_classes)`` logits. Each class docstring gives its parameter counts for 1x28x28 and
3x32x32 inputs; the same architectures written in ``torch.nn`` have the same ``state_dict`` keys and shapes.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.models.lenet import LeNet5
from tinygrad_cnn.models.resnet import BasicBlock, SmallResNet
from tinygrad_cnn.models.seed_cnn import SeedCNN
from tinygrad_cnn.models.vgg import SmallVGG
from tinygrad_cnn.nn.module import Module

__all__ = ["MODELS", "BasicBlock", "LeNet5", "SeedCNN", "SmallResNet", "SmallVGG", "get_model"]

MODELS: dict[str, type[Module]] = {
    "seedcnn": SeedCNN,
    "lenet5": LeNet5,
    "vgg": SmallVGG,
    "resnet": SmallResNet,
}


def get_model(name: str, **config: Any) -> Module:
    """Build the model registered as ``name`` (case-insensitive) with keyword ``config``.

    Raises ValueError listing the known names for an unknown one, and the model's own
    ValueError/TypeError for a bad config (e.g. ``get_model("seedcnn", in_channels=0)``).
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[key](**config)
