"""The convolution and pooling kernels never scatter with ``np.add.at`` (nor any other ufunc's ``.at``): it is an
unbuffered per-element loop, far slower than the slice-adds and gathers the kernels use instead.

``np.add`` is a ufunc whose ``at`` attribute is read-only, and the kernels call the ufunc directly, so neither can
be monkeypatched. Instead a profile hook (``sys.setprofile``, which reports every call into C) records each call to a
ufunc's bound ``at`` method while an op runs its forward, backward and -- where the op supports it -- double
backward. A positive control checks that the hook does see ``np.add.at``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd import grad


@contextmanager
def ufunc_at_calls() -> Iterator[list[str]]:
    """Records ``<ufunc>.at`` calls made (from Python) while the block runs, as 'np.add.at at file:line'."""
    calls: list[str] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", None) == "at":
            owner = getattr(arg, "__self__", None)
            if owner is np.add or isinstance(owner, np.ufunc):
                calls.append(f"np.{owner.__name__}.at at {frame.f_code.co_filename}:{frame.f_lineno}")

    old, old_threads = sys.getprofile(), threading.getprofile()
    sys.setprofile(hook)
    threading.setprofile(hook)
    try:
        yield calls
    finally:
        sys.setprofile(old)
        threading.setprofile(old_threads)


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def forward_backward_double_backward(fn: Callable[..., Tensor], arrays: list[np.ndarray], dtype: Any) -> None:
    """``fn`` on leaves of ``arrays``; first gradients with a leaf upstream gradient (create_graph), then the
    gradient of a random weighting of them: through each backward's own backward (for max pooling that is the
    gather that is the scatter's adjoint, reached through the upstream gradient)."""
    leaves = [Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    gy = Tensor(rand(*out.shape, seed=1).astype(dtype), requires_grad=True)
    firsts = grad(out, leaves, gy, create_graph=True)
    total = None
    for k, g in enumerate(firsts):
        term = (g * Tensor(rand(*g.shape, seed=2 + k).astype(dtype))).sum()
        total = term if total is None else total + term
    total.backward()
    assert gy.grad is not None and gy.grad.shape == out.shape


def distinct(*shape: int, seed: int = 0) -> np.ndarray:
    """Pairwise distinct values (no ties in any window)."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))) * 0.1 + rng.uniform(0, 0.01, shape).ravel()).reshape(shape)


CASES = [
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b), [rand(2, 3, 6, 5), rand(4, 3, 3, 2), rand(4)]),
    ("conv2d strided padded dilated", lambda x, w: F.conv2d(x, w, stride=2, padding=(2, 1), dilation=(1, 2)),
     [rand(2, 3, 7, 8), rand(4, 3, 3, 3)]),
    ("conv2d groups", lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=1, groups=2),
     [rand(2, 4, 5, 6), rand(6, 2, 3, 3)]),
    ("conv2d stride 1 same", lambda x, w: F.conv2d(x, w, padding=1), [rand(2, 3, 5, 5), rand(2, 3, 3, 3)]),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [rand(2, 3, 4, 5), rand(3, 2, 3, 3), rand(2)]),
    ("conv_transpose2d overlapping", lambda x, w: F.conv_transpose2d(x, w, stride=1, dilation=2),
     [rand(1, 2, 3, 4), rand(2, 3, 2, 3)]),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2),
     [rand(2, 3, 11), rand(4, 3, 3), rand(4)]),
    ("max_pool2d tiling", lambda x: F.max_pool2d(x, 2), [distinct(2, 3, 6, 4)]),
    ("max_pool2d overlapping padded", lambda x: F.max_pool2d(x, 3, stride=1, padding=1), [distinct(2, 2, 5, 6)]),
    ("max_pool2d ceil dilated", lambda x: F.max_pool2d(x, (3, 2), stride=2, padding=1, dilation=(1, 2),
                                                       ceil_mode=True), [distinct(1, 2, 7, 8)]),
    ("max_pool2d ties", lambda x: F.max_pool2d(x, 3, stride=1, padding=1), [np.ones((1, 2, 4, 5))]),
    ("avg_pool2d tiling", lambda x: F.avg_pool2d(x, 2), [rand(2, 3, 6, 4)]),
    ("avg_pool2d overlapping padded", lambda x: F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False),
     [rand(2, 2, 5, 6)]),
    ("avg_pool2d ceil", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [rand(1, 2, 7, 8)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 4)), [rand(2, 3, 7, 5)]),
    ("adaptive_max_pool2d dividing", lambda x: F.adaptive_max_pool2d(x, (2, 3)), [distinct(2, 3, 6, 6)]),
    ("adaptive_max_pool2d overlapping", lambda x: F.adaptive_max_pool2d(x, (3, 4)), [distinct(2, 2, 7, 5)]),
    ("adaptive_max_pool2d upsampling", lambda x: F.adaptive_max_pool2d(x, (5, 7)), [distinct(1, 2, 3, 4)]),
    ("adaptive_max_pool2d ties", lambda x: F.adaptive_max_pool2d(x, (3, 3)), [np.ones((1, 2, 5, 4))]),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn, arrays", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_conv_and_pool_never_call_ufunc_at(fn: Callable[..., Tensor], arrays: list[np.ndarray], dtype: Any) -> None:
    with ufunc_at_calls() as calls:
        forward_backward_double_backward(fn, arrays, dtype)
    assert calls == [], f"ufunc.at was called: {calls}"


def test_the_hook_sees_np_add_at() -> None:
    a = np.zeros(3)
    with ufunc_at_calls() as calls:
        np.add.at(a, [0, 0, 2], 1.0)
    assert len(calls) == 1 and calls[0].startswith("np.add.at at ")
    np.testing.assert_array_equal(a, [2, 0, 1])
