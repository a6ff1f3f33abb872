"""``SmallResNet``: a small residual network (He et al., 2016) of basic blocks, torchvision's naming."""

from __future__ import annotations

from collections.abc import Sequence

from tinygrad_cnn import nn
from tinygrad_cnn.models.seed_cnn import _check_positive
from tinygrad_cnn.tensor import Tensor


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    The shortcut is the identity when the shape is kept, else a 1x1 convolution (with ``stride``) and a
    batch norm (``downsample``, as in torchvision's ResNet).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class SmallResNet(nn.Module):
    """conv3x3(16)-BN-ReLU stem, three stages of basic blocks (16, 32, 64 channels; the 2nd and 3rd start
    with stride 2 and a 1x1-projection shortcut, the 1st has an identity shortcut), global average pool,
    affine to ``num_classes``.

    ``blocks`` sets the blocks per stage (default one each: an 8-layer ResNet; ``(3, 3, 3)`` is the
    ResNet-20 of the paper's CIFAR-10 experiments). ``image_size`` is accepted for a uniform signature
    and only checked (at least 4). Parameters with the defaults (trainable; the batch norms add 672
    running-statistic buffers and 9 step counters):

    * 1x28x28, 10 classes: 77,754
    * 3x32x32, 10 classes: 78,042

    State-dict keys follow torchvision: ``conv1``, ``bn1``, ``layer{1,2,3}.<i>.{conv1,bn1,conv2,bn2}``,
    ``layer{2,3}.0.downsample.{0,1}``, ``fc``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        blocks: Sequence[int] = (1, 1, 1),
        widths: Sequence[int] = (16, 32, 64),
    ) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, num_classes=num_classes, image_size=image_size)
        if image_size < 4:
            raise ValueError(f"image_size must be at least 4 for SmallResNet's two strided stages, got {image_size}")
        if len(blocks) != len(widths) or not blocks:
            raise ValueError(f"blocks and widths must have the same non-zero length, got {blocks} and {widths}")
        _check_positive(
            **{f"blocks[{i}]": b for i, b in enumerate(blocks)}, **{f"widths[{i}]": w for i, w in enumerate(widths)}
        )
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        channels = widths[0]
        for i, (n, width) in enumerate(zip(blocks, widths)):
            stage = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                stage.append(BasicBlock(channels, width, stride))
                channels = width
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.num_stages = len(blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.flatten(self.avgpool(x)))
