"""Train a small CNN on CIFAR-10 from your own copy of the data set.

CIFAR-10 is not bundled (163 MB): download the binary version, cifar-10-binary.tar.gz, from
https://www.cs.toronto.edu/~kriz/cifar.html and extract it into the --data-dir folder (default ``data``),
so that ``data/cifar-10-batches-bin/data_batch_1.bin`` exists (the files may also sit in --data-dir
itself; the python version, cifar-10-python.tar.gz, works too), or pass ``--download``.

* model: by default three blocks of conv 3x3 -> BatchNorm -> ReLU -> max pool (32x32 -> 16 -> 8 -> 4),
  global average pooling, dropout and a linear classifier, ``tinygrad_cnn.nn`` layers in an ``nn.Sequential``;
  ``--model vgg`` (or ``resnet``, ``lenet5``, ``seedcnn``) takes a ready-made one from ``tinygrad_cnn.models``;
* data: the standard augmentation for CIFAR (a random 32x32 crop of the image padded by 4 pixels, and a
  random horizontal flip) then per-channel normalization; the test images are only normalized;
* training: SGD with Nesterov momentum and weight decay, cross-entropy with label smoothing, and a
  cosine learning-rate schedule stepped once per epoch.

Prints per epoch the learning rate, the training loss and accuracy, and the test accuracy.
numpy on a CPU is no GPU: the default, 10,000 training images (and 2,000 test images) for 5 epochs,
takes several minutes on two cores; ``--limit 0`` uses all 50,000 (and the 10,000 test images).

Run: ``python examples/cifar10.py [--data-dir data] [--limit 10000] [--epochs 5] [--model small] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import tinygrad_cnn as tc
from tinygrad_cnn import models, nn, optim
from tinygrad_cnn.data import CIFAR10, DataLoader, Subset
from tinygrad_cnn.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # per-channel statistics of the 50,000 training images
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


def small_vgg(width: int = 32, num_classes: int = 10) -> nn.Sequential:
    """(N, 3, 32, 32) -> (N, num_classes): channels width, 2*width, 4*width at 32, 16 and 8 pixels.

    Averaging each final feature map (instead of flattening all 4x4 positions into the classifier) keeps
    the classifier small and training stable at a large learning rate.
    """

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        # No conv bias: BatchNorm subtracts the mean right after, so a bias would have no effect.
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(
        *block(3, width),  # -> (N, w, 16, 16)
        *block(width, 2 * width),  # -> (N, 2w, 8, 8)
        *block(2 * width, 4 * width),  # -> (N, 4w, 4, 4)
        nn.AdaptiveAvgPool2d(1),  # -> (N, 4w, 1, 1): the mean of each feature map over the image
        nn.Flatten(),  # -> (N, 4w)
        nn.Dropout(0.2),
        nn.Linear(4 * width, num_classes),
    )


def load_data(data_dir: str, limit: int, download: bool) -> tuple[CIFAR10 | Subset, CIFAR10 | Subset]:
    train_tf = Compose(
        [ToTensor(), RandomCrop(32, padding=4), RandomHorizontalFlip(), Normalize(CIFAR10_MEAN, CIFAR10_STD)]
    )
    test_tf = Compose([ToTensor(), Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    train_set = CIFAR10(data_dir, train=True, transform=train_tf, download=download)
    test_set = CIFAR10(data_dir, train=False, transform=test_tf, download=download)
    if limit > 0:  # the first images of each split (the official files are already in random order)
        train_set = Subset(train_set, range(min(limit, len(train_set))))
        test_set = Subset(test_set, range(min(max(limit // 5, 1), len(test_set))))
    return train_set, test_set


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data", help="folder holding cifar-10-batches-bin (or its files)")
    parser.add_argument("--download", action="store_true", help="fetch cifar-10-binary.tar.gz into --data-dir")
    parser.add_argument("--model", choices=["small", *models.MODELS], default="small")
    parser.add_argument("--limit", type=int, default=10000, help="training images to use, 0 for all (test: limit/5)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--width", type=int, default=32, help="channels of the first conv layer (--model small)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    try:
        train_set, test_set = load_data(args.data_dir, args.limit, args.download)
    except FileNotFoundError:  # no files: say where they go, in one line, without a traceback
        where = Path(args.data_dir) / "cifar-10-batches-bin"
        print(
            f"cifar10.py: CIFAR-10 not found: extract cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/"
            f"cifar.html) in {args.data_dir} so that {where / 'data_batch_1.bin'} exists, or add --download",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:  # a failed download (DownloadError) or an unreadable file
        print(f"cifar10.py: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2

    tc.manual_seed(args.seed)  # weight init, shuffling, augmentation, dropout
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=500)
    print(f"train {len(train_set)} images, test {len(test_set)} images, {len(train_loader)} batches per epoch")

    if args.model == "small":
        model, name = small_vgg(args.width), f"small VGG of width {args.width}"
    else:
        model = models.get_model(args.model, in_channels=3, num_classes=10, image_size=32)
        name = type(model).__name__
    print(f"model: {name}, {sum(p.numel() for p in model.parameters()):,} parameters")
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()  # BatchNorm uses batch statistics and updates its running ones; dropout on
        total_loss, correct = 0.0, 0
        for images, labels in train_loader:  # (N, 3, 32, 32) float32, (N,) int64
            logits = model(images)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum().item()
        lr = scheduler.get_last_lr()[0]
        scheduler.step()  # once per epoch: cosine from --lr down to 0 over --epochs

        model.eval()  # BatchNorm uses its running statistics; dropout off
        test_correct = 0
        with tc.no_grad():
            for images, labels in test_loader:
                test_correct += (model(images).argmax(dim=1) == labels).sum().item()
        print(
            f"epoch {epoch}/{args.epochs}  lr {lr:.4f}  loss {total_loss / len(train_set):.4f}  "
            f"train accuracy {correct / len(train_set):.4f}  test accuracy {test_correct / len(test_set):.4f}  "
            f"({time.perf_counter() - start:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
