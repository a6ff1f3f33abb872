"""``SeedCNN``: the seed document's network, one convolution and two affine layers."""

from __future__ import annotations

from tinygrad_cnn import nn
from tinygrad_cnn.tensor import Tensor


class SeedCNN(nn.Module):
    """conv 32 filters 7x7 (padding 3), ReLU, 2x2 max pool, affine to 500, ReLU, affine to ``num_classes``.

    The convolution keeps the image size, the pool halves it, so the first affine layer reads
    ``32 * (image_size // 2) ** 2`` features. Parameters (trainable, all of them):

    * 1x28x28, 10 classes: 3,143,110 (conv 1,600; fc1 3,136,500; fc2 5,010)
    * 3x32x32, 10 classes: 4,106,246 (conv 4,736; fc1 4,096,500; fc2 5,010)

    State-dict keys: ``conv.weight/bias``, ``fc1.weight/bias``, ``fc2.weight/bias``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, num_classes=num_classes, image_size=image_size)
        if image_size < 2:
            raise ValueError(f"image_size must be at least 2, got {image_size}")
        self.conv = nn.Conv2d(in_channels, 32, kernel_size=7, padding=3)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * (image_size // 2) ** 2, 500)
        self.fc2 = nn.Linear(500, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(self.relu(self.conv(x)))  # (N, 32, H/2, W/2)
        x = self.relu(self.fc1(self.flatten(x)))  # (N, 500)
        return self.fc2(x)  # (N, num_classes) logits


def _check_positive(**values: int) -> None:
    """Raise ValueError (TypeError for a non-int) unless every value is a positive int."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be a positive int, got {value}")
