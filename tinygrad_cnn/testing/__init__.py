"""Helpers for testing ops: gradient-check assertions, and Hypothesis strategies (lazily imported).

``assert_gradcheck`` / ``assert_gradgradcheck`` need nothing beyond numpy. The strategies in
``tinygrad_cnn.testing.strategies`` (also reachable as ``tinygrad_cnn.testing.<name>``) need the
``test`` extra: ``pip install 'tinygrad-cnn[test]'``; hypothesis is imported only on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["assert_gradcheck", "assert_gradgradcheck"]

_STRATEGIES = frozenset(
    {
        "arrays",
        "broadcastable_shapes",
        "dims",
        "elements",
        "index_expressions",
        "maybe_non_contiguous",
        "non_contiguous",
        "shapes",
        "tensors",
        "ConvConfig",
        "PoolConfig",
        "conv_configs",
        "conv_transpose_configs",
        "pool_configs",
    }
)


def _as_inputs(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    from tinygrad_cnn.tensor import Tensor

    return tuple(
        Tensor(x, requires_grad=True) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x for x in inputs
    )


def assert_gradcheck(fn: Callable[..., Any], *inputs: Any, fast_mode: bool = False, **kw: Any) -> None:
    """``gradcheck(fn, inputs)`` that raises ``GradcheckError`` with the detailed message on failure.

    Floating numpy arrays among ``inputs`` become Tensors with ``requires_grad=True``; ``kw`` goes to
    ``gradcheck`` (``eps``, ``atol``, ``rtol``, ``seed``).
    """
    from tinygrad_cnn.autograd.gradcheck import gradcheck

    gradcheck(fn, _as_inputs(inputs), fast_mode=fast_mode, raise_exception=True, **kw)


def assert_gradgradcheck(fn: Callable[..., Any], *inputs: Any, fast_mode: bool = False, **kw: Any) -> None:
    """``gradgradcheck(fn, inputs)`` raising ``GradcheckError`` on failure (arrays as in assert_gradcheck)."""
    from tinygrad_cnn.autograd.gradcheck import gradgradcheck

    gradgradcheck(fn, _as_inputs(inputs), fast_mode=fast_mode, raise_exception=True, **kw)


def __getattr__(name: str) -> Any:
    if name in _STRATEGIES:
        from tinygrad_cnn.testing import strategies

        return getattr(strategies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
