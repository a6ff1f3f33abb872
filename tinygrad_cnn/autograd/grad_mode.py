"""Gradient recording switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``.

Each works as a context manager and as a decorator, as in PyTorch. The flag is global to the process
(this library is single-threaded numpy; PyTorch's flag is thread-local).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward."""
    return _grad_enabled


def _set(mode: bool) -> None:
    global _grad_enabled
    _grad_enabled = bool(mode)


class _GradMode:
    """Base of the switches: sets the flag on entry, restores the previous value on exit."""

    mode = True

    def __enter__(self) -> None:
        self.prev = _grad_enabled
        _set(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _grad_enabled
            _set(self.mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(prev)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Operations inside do not record a graph: results have ``requires_grad=False``."""

    mode = False


class enable_grad(_GradMode):
    """Re-enables recording inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off at once, or for a ``with`` block / decorated call."""

    def __init__(self, mode: bool) -> None:
        self.prev = _grad_enabled
        self.mode = bool(mode)
        _set(self.mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)

    def __call__(self, fn: F) -> F:
        _set(self.prev)  # used as a decorator: the switch applies only inside the calls
        return super().__call__(fn)
