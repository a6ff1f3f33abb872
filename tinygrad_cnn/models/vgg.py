"""``SmallVGG``: a VGG-style stack of 3x3 convolutions with batch norm, sized for 28x28 and 32x32 images."""

from __future__ import annotations

from tinygrad_cnn import nn
from tinygrad_cnn.models.seed_cnn import _check_positive
from tinygrad_cnn.tensor import Tensor

# Channels of each 3x3 conv; "M" is a 2x2 max pool (VGG's configuration notation).
SMALL_VGG_CFG: tuple[int | str, ...] = (32, 32, "M", 64, 64, "M", 128, 128, "M")


class SmallVGG(nn.Module):
    """VGG-style: [conv3x3-BN-ReLU] x2, pool, [conv3x3(64)-BN-ReLU] x2, pool, [conv3x3(128)-BN-ReLU] x2, pool,
    global average pool, dropout 0.3, affine to ``num_classes``.

    Convolutions have no bias (the batch norm after each one has it). The global average pool makes
    the network independent of the image size (``image_size`` is accepted for a uniform signature and
    only checked: at least 8). Parameters (trainable; the batch norms add 896 running-statistic buffers
    and 6 step counters):

    * 1x28x28, 10 classes: 288,170
    * 3x32x32, 10 classes: 288,746

    State-dict keys: ``features.<i>.weight`` (convs), ``features.<i>.{weight,bias,running_mean,running_var,
    num_batches_tracked}`` (batch norms), ``classifier.2.weight/bias``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, num_classes=num_classes, image_size=image_size)
        if image_size < 8:
            raise ValueError(f"image_size must be at least 8 for SmallVGG's three pools, got {image_size}")
        layers: list[nn.Module] = []
        channels = in_channels
        for v in SMALL_VGG_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                assert isinstance(v, int)
                layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
                channels = v
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(channels, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.pool(self.features(x)))
