"""Per-op overhead of small-tensor forward and forward+backward.

Builds a chain of elementwise ops (a repeating mul, add, tanh, relu) on a (4, 4) float32 tensor that
requires grad, and reports microseconds per op (median over repeats) for:

* raw numpy doing the same arithmetic (the floor: no graph, no autograd),
* tinygrad_cnn forward (graph recorded), and forward + ``y.sum().backward()``,
* torch, the same, when ``torch`` is importable (thread count left at its default),

then the ratio tinygrad_cnn / torch. Also prints numpy's version, the BLAS libraries seen by
threadpoolctl when it is installed, and ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` as found.

Run: ``python bench/overhead.py [--ops 1000] [--repeats 7]``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from _harness import median_seconds, print_environment

SHAPE = (4, 4)
MUL, ADD = 1.01, 0.1


def chain(x: Any, n_ops: int) -> Any:
    """``n_ops`` elementwise ops on ``x``: mul, add, tanh, relu, repeated (works for both libraries)."""
    y = x
    for i in range(n_ops):
        k = i % 4
        if k == 0:
            y = y * MUL
        elif k == 1:
            y = y + ADD
        elif k == 2:
            y = y.tanh()
        else:
            y = y.relu()
    return y


def chain_numpy(x: np.ndarray, n_ops: int) -> np.ndarray:
    y = x
    for i in range(n_ops):
        k = i % 4
        if k == 0:
            y = y * np.float32(MUL)
        elif k == 1:
            y = y + np.float32(ADD)
        elif k == 2:
            y = np.tanh(y)
        else:
            y = np.maximum(y, np.float32(0))
    return y


def bench_numpy(n_ops: int, repeats: int) -> float:
    x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    return median_seconds(lambda: chain_numpy(x, n_ops), repeats)


def bench_ours(n_ops: int, repeats: int) -> tuple[float, float]:
    import tinygrad_cnn as tc  # here, not at the top: bench/suite.py's torch workers import this module too

    tc.manual_seed(0)
    x = tc.randn(*SHAPE, requires_grad=True)

    def fwd() -> object:
        return chain(x, n_ops)

    def fwd_bwd() -> Any:
        x.grad = None
        chain(x, n_ops).sum().backward()
        return x.grad

    g = fwd_bwd()
    assert g is not None and g.shape == SHAPE, "backward did not produce x.grad"
    return median_seconds(fwd, repeats), median_seconds(fwd_bwd, repeats)


def bench_torch(torch: Any, n_ops: int, repeats: int) -> tuple[float, float]:
    torch.manual_seed(0)
    x = torch.randn(*SHAPE, requires_grad=True)

    def fwd() -> object:
        return chain(x, n_ops)

    def fwd_bwd() -> object:
        x.grad = None
        chain(x, n_ops).sum().backward()
        return x.grad

    return median_seconds(fwd, repeats), median_seconds(fwd_bwd, repeats)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="per-op overhead of small-tensor autograd")
    parser.add_argument("--ops", type=int, default=1000, help="length of the op chain (default 1000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats; the median is kept")
    args = parser.parse_args(argv)
    n, r = args.ops, args.repeats

    print_environment()
    print(f"chain of {n} elementwise ops (mul, add, tanh, relu) on a {SHAPE} float32 tensor, median of {r}")

    def us(seconds: float) -> str:
        return f"{seconds / n * 1e6:8.2f} us/op"

    t_np = bench_numpy(n, r)
    print(f"numpy (no autograd)      forward          {us(t_np)}")
    f_ours, fb_ours = bench_ours(n, r)
    print(f"tinygrad_cnn             forward          {us(f_ours)}")
    print(f"tinygrad_cnn             forward+backward {us(fb_ours)}")

    try:
        import torch
    except ImportError:
        print("torch not importable: no comparison")
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    f_t, fb_t = bench_torch(torch, n, r)
    print(f"torch                    forward          {us(f_t)}")
    print(f"torch                    forward+backward {us(fb_t)}")
    print(f"ratio ours/torch: forward {f_ours / f_t:.2f}x, forward+backward {fb_ours / fb_t:.2f}x")


if __name__ == "__main__":
    main()
