"""Train a 784-64-10 MLP on the bundled MNIST digits, written as raw tensor expressions.

No ``nn.Module`` or optimizer: the parameters are leaf tensors, the model is ``x @ w1 + b1``,
``.relu()``, ``x @ w2 + b2`` and ``log_softmax``, and the SGD step is written by hand under
``tc.no_grad()``. Prints the mean training loss of each epoch and the final validation accuracy.

Run: ``python examples/train_digits_mlp.py [--epochs 10]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn.data import mnist5k_split


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    tc.manual_seed(args.seed)
    train_x, train_y, val_x, val_y = mnist5k_split(val_fraction=0.1, seed=args.seed)
    train_x = train_x.reshape(len(train_x), 784).astype(np.float32) / 255.0
    val_x = val_x.reshape(len(val_x), 784).astype(np.float32) / 255.0
    print(f"train {len(train_x)} digits, validation {len(val_x)} digits")

    # Parameters: leaf tensors. He-style scaling is applied in place, which is allowed under no_grad.
    h = args.hidden
    w1 = tc.randn(784, h, requires_grad=True)
    b1 = tc.zeros(h, requires_grad=True)
    w2 = tc.randn(h, 10, requires_grad=True)
    b2 = tc.zeros(10, requires_grad=True)
    with tc.no_grad():
        w1 *= (2.0 / 784) ** 0.5
        w2 *= (1.0 / h) ** 0.5
    params = [w1, b1, w2, b2]

    def log_probs(x: tc.Tensor) -> tc.Tensor:
        hidden = (x @ w1 + b1).relu()
        return tc.nn.functional.log_softmax(hidden @ w2 + b2, dim=1)

    order_rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = order_rng.permutation(len(train_x))
        losses = []
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            x = tc.tensor(train_x[idx])
            y = tc.tensor(train_y[idx])
            n = len(idx)
            logp = log_probs(x)
            loss = -logp[tc.arange(n), y].mean()  # negative log-likelihood of the targets
            loss.backward()
            with tc.no_grad():
                for p in params:
                    p -= args.lr * p.grad
                    p.grad = None
            losses.append(loss.item())
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch}/{args.epochs}  loss {np.mean(losses):.4f}  ({elapsed:.1f} s)")

    with tc.no_grad():
        pred = log_probs(tc.tensor(val_x)).numpy().argmax(axis=1)
    print(f"validation accuracy {np.mean(pred == val_y):.4f}")


if __name__ == "__main__":
    main()
