"""``LeNet5``: LeCun et al. (1998)'s LeNet-5 in its common modern form (ReLU and max pooling)."""

from __future__ import annotations

from tinygrad_cnn import nn
from tinygrad_cnn.models.seed_cnn import _check_positive
from tinygrad_cnn.tensor import Tensor


class LeNet5(nn.Module):
    """conv 6 5x5, pool, conv 16 5x5, pool, affine 120, 84, ``num_classes``.

    The original LeNet-5 reads 32x32 images; a 28x28 image (MNIST) gets ``padding=2`` in the first
    convolution, so both give 16x5x5 features before the affine layers. Differences from the 1998
    paper, as in most modern versions: ReLU instead of scaled tanh, 2x2 max pooling instead of trainable
    sub-sampling, a full C3 connection table, and a plain affine output layer instead of RBF units.
    Parameters (trainable, all of them):

    * 1x28x28, 10 classes: 61,706
    * 3x32x32, 10 classes: 62,006

    State-dict keys: ``features.{0,3}.weight/bias`` (convs), ``classifier.{0,2,4}.weight/bias`` (affine).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, num_classes=num_classes, image_size=image_size)
        padding = 2 if image_size == 28 else 0
        size = ((image_size + 2 * padding - 4) // 2 - 4) // 2  # after conv, pool, conv, pool
        if size < 1:
            raise ValueError(f"image_size {image_size} is too small for LeNet5 (at least 28 is needed)")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(16 * size * size, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.features(x)))
