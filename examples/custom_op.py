"""Write your own differentiable op: Swish, ``x * sigmoid(beta * x)``, as a ``tinygrad_cnn.Function``.

A ``Function`` subclass pairs ``forward`` (numpy in, numpy out, nothing recorded) with ``backward``
(the gradient of the loss with respect to each input, given the gradient with respect to the output).
This script

1. defines ``SwishFunction`` with a learnable slope ``beta`` (a second input, a 0-d tensor),
2. proves its backward right: ``gradcheck`` (first derivatives) and ``gradgradcheck`` (second
   derivatives) against finite differences in float64, a property test with Hypothesis over many
   random shapes, values and memory layouts, and a deliberately wrong backward that gradcheck rejects,
3. wraps it in an ``nn.Module`` and trains a tiny MLP with it on the bundled MNIST digits.

Run: ``python examples/custom_op.py [--examples 50] [--epochs 2] [--seed 0]``.
"""

from __future__ import annotations

import argparse

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import mnist5k_split


class SwishFunction(tc.Function):
    """y = x * s with s = sigmoid(beta * x).

    dy/dx    = s + beta * x * s * (1 - s)
    dy/dbeta = x * x * s * (1 - s)          (beta is a scalar: summed over every element)
    """

    @staticmethod
    def forward(ctx, x, beta):
        # Runs with recording off; x and beta are Tensors, .data is their numpy array.
        ctx.save_for_backward(x, beta)
        z = beta.data * x.data
        s = 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid(z), without overflow in exp for large |z|
        return (x.data * s).astype(x.dtype, copy=False)  # numpy would promote float32 * float64

    @staticmethod
    def backward(ctx, grad):
        # Written with Tensor ops (not numpy), so the gradient is itself differentiable:
        # that is what lets gradgradcheck (and double backward) work through this op.
        x, beta = ctx.saved_tensors
        s = (beta * x).sigmoid()
        ds = s * (1 - s)
        grad_x = grad * (s + beta * x * ds) if ctx.needs_input_grad[0] else None
        grad_beta = (grad * x * x * ds).sum() if ctx.needs_input_grad[1] else None  # back to beta's shape ()
        return grad_x, grad_beta


def swish(x: tc.Tensor, beta: tc.Tensor) -> tc.Tensor:
    return SwishFunction.apply(x, beta)


def swish_reference(x: tc.Tensor, beta: tc.Tensor) -> tc.Tensor:
    """The same function composed from built-in ops: autograd derives its backward for us."""
    return x * (beta * x).sigmoid()


class WrongSwish(SwishFunction):
    """A typical mistake: treating s as a constant, so dy/dx = s (the chain rule through s forgotten)."""

    @staticmethod
    def backward(ctx, grad):
        x, beta = ctx.saved_tensors
        return grad * (beta * x).sigmoid(), None


def check(name: str, ok: bool) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    if not ok:
        raise SystemExit(f"check failed: {name}")


def prove_gradients(n_examples: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = tc.tensor(rng.standard_normal((3, 4)), dtype=tc.float64, requires_grad=True)
    beta = tc.tensor(0.7, dtype=tc.float64, requires_grad=True)

    print("checks (float64, central differences):")
    with tc.no_grad():
        same = np.allclose(swish(x, beta).numpy(), swish_reference(x, beta).numpy(), rtol=1e-12, atol=1e-12)
    check("forward equals x * sigmoid(beta * x)", same)
    check("gradcheck: d/dx and d/dbeta", tc.gradcheck(swish, (x, beta), seed=seed))
    check("gradgradcheck: second derivatives", tc.gradgradcheck(swish, (x, beta), seed=seed))
    check(
        "gradcheck rejects a wrong backward",
        not tc.gradcheck(WrongSwish.apply, (x, beta.detach()), raise_exception=False, seed=seed),
    )

    try:
        from hypothesis import given, settings
        from hypothesis import strategies as st

        from tinygrad_cnn.testing.strategies import assert_gradcheck, shapes, tensors
    except ImportError:
        print("  skip property test: pip install 'tinygrad-cnn[test]' for hypothesis")
        return

    # A property test: for any shape, any values in [-3, 3], contiguous or not, any beta in [-2, 2],
    # the op agrees with its reference and its gradients with finite differences.
    @settings(max_examples=n_examples, derandomize=True, deadline=None, database=None)
    @given(x=tensors(shape=shapes(min_dims=0, max_dims=3, max_side=4)), b=st.floats(-2.0, 2.0))
    def swish_property(x: tc.Tensor, b: float) -> None:
        beta = tc.tensor(b, dtype=tc.float64, requires_grad=True)
        with tc.no_grad():
            np.testing.assert_allclose(swish(x, beta).numpy(), swish_reference(x, beta).numpy(), rtol=1e-12, atol=1e-12)
        assert_gradcheck(swish, x, beta, seed=0)

    swish_property()
    check(f"hypothesis property test, {n_examples} random inputs", True)


class Swish(nn.Module):
    """The op as a layer: ``beta`` is a Parameter, so the optimizer learns it with the weights."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = nn.Parameter(tc.tensor(beta, dtype=tc.float32))

    def forward(self, x: tc.Tensor) -> tc.Tensor:
        return swish(x, self.beta)


def train_tiny_model(epochs: int, seed: int) -> None:
    tc.manual_seed(seed)
    train_x, train_y, val_x, val_y = mnist5k_split(seed=seed)
    train_x = tc.tensor(train_x.reshape(-1, 784).astype(np.float32) / 255.0)
    val_x = tc.tensor(val_x.reshape(-1, 784).astype(np.float32) / 255.0)
    train_y, val_y = tc.tensor(train_y), tc.tensor(val_y)

    model = nn.Sequential(nn.Linear(784, 64), Swish(), nn.Linear(64, 10))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    print(f"tiny model: {model}")
    order_rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = order_rng.permutation(len(train_y))
        losses = []
        for i in range(0, len(order), 64):
            idx = tc.tensor(order[i : i + 64])
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            optimizer.zero_grad()
            loss.backward()  # runs SwishFunction.backward for the Swish layer
            optimizer.step()
            losses.append(loss.item())
        with tc.no_grad():
            acc = (model(val_x).argmax(dim=1) == val_y).float().mean().item()
        beta = model[1].beta.item()
        print(f"epoch {epoch}/{epochs}  loss {np.mean(losses):.4f}  validation accuracy {acc:.4f}  beta {beta:.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="Hypothesis examples for the property test")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the tiny model (0 to skip it)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    prove_gradients(args.examples, args.seed)
    print("all gradient checks passed")
    if args.epochs > 0:
        train_tiny_model(args.epochs, args.seed)


if __name__ == "__main__":
    main()
