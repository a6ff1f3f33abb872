"""Train a small CNN on the bundled MNIST digits with nn.Module, DataLoader, an optimizer and a schedule.

The usual PyTorch recipe, piece by piece:

* the model is an ``nn.Module`` subclass: layers are attributes, ``forward`` says how they connect;
* ``MNIST5k`` (4,500 training and 500 validation digits shipped with the package) with a transform
  (uint8 image -> float32 in [0, 1] -> a random shift of up to 2 pixels for training -> normalized), fed
  to ``DataLoader`` in shuffled mini-batches;
* ``optim.SGD`` with momentum (or ``--optimizer adam``) and ``OneCycleLR``, which warms the learning rate
  up then anneals it, one ``scheduler.step()`` per batch;
* ``model.train()`` / ``model.eval()`` switch Dropout on and off; validation runs under ``tc.no_grad()``.

Prints the model, then per epoch the mean training loss, the learning rate and the validation accuracy
(about 0.97 after 3 epochs). With ``--save PATH`` it writes the weights (``state_dict``) as a safetensors
file and loads them into a fresh model.

Run: ``python examples/train_mnist.py [--epochs 3] [--optimizer sgd|adam] [--lr 0.05] [--seed 0] [--save PATH]``.
"""

from __future__ import annotations

import argparse
import time

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import DataLoader, MNIST5k
from tinygrad_cnn.data.transforms import Compose, Normalize, RandomShift, ToTensor

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)  # statistics of the MNIST training pixels


class SmallCNN(nn.Module):
    """conv 5x5 -> ReLU -> max pool -> conv 3x3 -> ReLU -> max pool -> dropout -> linear: 28x28 in, 10 logits out."""

    def __init__(self, width: int = 16, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, kernel_size=5, padding=2)  # (N, 1, 28, 28) -> (N, w, 28, 28)
        self.conv2 = nn.Conv2d(width, 2 * width, kernel_size=3, padding=1)  # (N, w, 14, 14) -> (N, 2w, 14, 14)
        self.pool = nn.MaxPool2d(2)  # halves height and width; no weights, so one instance serves twice
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(0.25)  # active in train() mode only
        self.fc = nn.Linear(2 * width * 7 * 7, num_classes)

    def forward(self, x: tc.Tensor) -> tc.Tensor:
        x = self.pool(self.relu(self.conv1(x)))  # (N, w, 14, 14)
        x = self.pool(self.relu(self.conv2(x)))  # (N, 2w, 7, 7)
        return self.fc(self.dropout(x.flatten(1)))  # (N, 10)


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Fraction of correctly classified images."""
    model.eval()  # dropout off
    correct = total = 0
    with tc.no_grad():  # no graph needed: saves time and memory
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    return correct / total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default 0.05 sgd, 0.003 adam)")
    parser.add_argument("--width", type=int, default=16, help="channels of the first conv layer")
    parser.add_argument("--shift", type=int, default=2, help="random shift augmentation, in pixels (0: off)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="write the trained weights there (safetensors) and reload them")
    args = parser.parse_args(argv)
    lr = args.lr if args.lr is not None else {"sgd": 0.05, "adam": 0.003}[args.optimizer]

    tc.manual_seed(args.seed)  # seeds weight init, shuffling, augmentation and dropout

    # Data: each item is (uint8 image of shape (1, 28, 28), int label); the transform turns the image into
    # normalized float32. Augmentation (the random shift) is for training only.
    augment = [RandomShift(args.shift)] if args.shift > 0 else []
    train_set = MNIST5k(split="train", transform=Compose([ToTensor(), *augment, Normalize(MNIST_MEAN, MNIST_STD)]))
    val_set = MNIST5k(split="val", transform=Compose([ToTensor(), Normalize(MNIST_MEAN, MNIST_STD)]))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=500)
    print(f"train {len(train_set)} digits, validation {len(val_set)} digits, {len(train_loader)} batches per epoch")

    model = SmallCNN(width=args.width)
    print(model)
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")

    if args.optimizer == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    else:
        optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=args.epochs * len(train_loader))
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()  # dropout on
        total_loss = 0.0
        for images, labels in train_loader:  # images (N, 1, 28, 28) float32, labels (N,) int64
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()  # gradients accumulate across backward calls: clear them first
            loss.backward()
            optimizer.step()
            scheduler.step()  # OneCycleLR moves the learning rate after every batch
            total_loss += loss.item() * len(labels)
        acc = evaluate(model, val_loader)
        print(
            f"epoch {epoch}/{args.epochs}  loss {total_loss / len(train_set):.4f}  "
            f"lr {scheduler.get_last_lr()[0]:.2g}  validation accuracy {acc:.4f}  ({time.perf_counter() - start:.1f} s)"
        )

    if args.save:
        tc.save(model.state_dict(), args.save)  # a plain safetensors file: safetensors.torch.load_file reads it too
        restored = SmallCNN(width=args.width)  # fresh random weights...
        restored.load_state_dict(tc.load(args.save))  # ...replaced by the saved ones
        acc = evaluate(restored, val_loader)
        print(f"saved the weights to {args.save}; reloaded model: validation accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
