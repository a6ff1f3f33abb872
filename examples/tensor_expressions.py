"""Train a small CNN on the bundled MNIST digits, written as raw tensor expressions.

conv 1->16 5x5 (padding 2), ReLU, 2x2 max pool, conv 16->32 3x3 (padding 1), ReLU, 2x2 max pool,
linear 32*7*7 -> 10, cross-entropy; SGD with momentum written by hand under ``tc.no_grad()``.

No ``nn.Module``, no optimizer: the weights are plain leaf Tensors created with ``requires_grad=True``,
the model is a function of them built from ``tinygrad_cnn.nn.functional`` ops, ``loss.backward()``
fills each weight's ``.grad``, and the update is ordinary in-place arithmetic. This is everything
``nn.Conv2d`` and ``optim.SGD`` do for you (``examples/train_mnist.py`` is the same job written with
them). ``F.cross_entropy(logits, y)`` is itself just ``-F.log_softmax(logits, 1)[tc.arange(n), y].mean()``.

Prints the mean training loss of each epoch and the validation accuracy (about 0.97 after 3 epochs).

Run: ``python examples/tensor_expressions.py [--epochs 3] [--lr 0.05] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.data import mnist5k_split


def he_init(*shape: int, fan_in: int) -> tc.Tensor:
    """A leaf weight drawn from N(0, 2 / fan_in)."""
    w = tc.randn(*shape, requires_grad=True)
    with tc.no_grad():  # in-place ops on a leaf that requires grad are allowed only here
        w *= (2.0 / fan_in) ** 0.5
    return w


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    tc.manual_seed(args.seed)
    train_x, train_y, val_x, val_y = mnist5k_split(val_fraction=0.1, seed=args.seed)
    train_x = train_x[:, None].astype(np.float32) / 255.0  # (N, 1, 28, 28)
    val_x = val_x[:, None].astype(np.float32) / 255.0
    print(f"train {len(train_x)} digits, validation {len(val_x)} digits")

    w1, b1 = he_init(16, 1, 5, 5, fan_in=25), tc.zeros(16, requires_grad=True)
    w2, b2 = he_init(32, 16, 3, 3, fan_in=144), tc.zeros(32, requires_grad=True)
    w3, b3 = he_init(10, 32 * 7 * 7, fan_in=32 * 7 * 7), tc.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2, w3, b3]
    print(f"parameters: {sum(p.numel() for p in params):,} in {len(params)} leaf tensors")
    velocity = [tc.zeros_like(p) for p in params]

    def logits(x: tc.Tensor) -> tc.Tensor:
        h = F.max_pool2d(F.conv2d(x, w1, b1, padding=2).relu(), 2)  # (N, 16, 14, 14)
        h = F.max_pool2d(F.conv2d(h, w2, b2, padding=1).relu(), 2)  # (N, 32, 7, 7)
        return F.linear(h.flatten(1), w3, b3)  # (N, 10)

    order_rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = order_rng.permutation(len(train_x))
        losses = []
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            loss = F.cross_entropy(logits(tc.tensor(train_x[idx])), tc.tensor(train_y[idx]))
            loss.backward()  # fills p.grad for every leaf p that requires grad
            with tc.no_grad():  # the update must not be recorded in the graph
                # v <- momentum * v + grad;  p <- p - lr * v  (torch.optim.SGD's momentum rule)
                for p, v in zip(params, velocity):
                    v.mul_(args.momentum).add_(p.grad)
                    p.sub_(v, alpha=args.lr)
                    p.grad = None  # gradients accumulate: clear them before the next backward
            losses.append(loss.item())
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch}/{args.epochs}  loss {np.mean(losses):.4f}  ({elapsed:.1f} s)")

    with tc.no_grad():
        pred = logits(tc.tensor(val_x)).numpy().argmax(axis=1)
    print(f"validation accuracy {np.mean(pred == val_y):.4f} ({int(np.sum(pred == val_y))}/{len(val_y)})")


if __name__ == "__main__":
    main()
