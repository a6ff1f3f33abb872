"""``detect_anomaly()``: find the op whose backward produced NaN.

While it is on, every op records where it was created, and every backward step checks its gradients;
the first NaN raises RuntimeError naming the op and the line of user code that created it.
"""

from __future__ import annotations

import os
from typing import Any

_enabled = False
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return _enabled


class detect_anomaly:
    """Context manager (and decorator) turning on NaN checks in backward. Slows things down: debug only."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        global _enabled
        self.prev = _enabled
        _enabled = self.check_nan

    def __exit__(self, *exc: object) -> None:
        global _enabled
        _enabled = self.prev

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def user_frame(trace: list[str] | None) -> str:
    """The innermost frame of a recorded stack that lies outside this package (the user's line)."""
    if not trace:
        return "(creation site not recorded: the op was created outside detect_anomaly())"
    for frame in reversed(trace):
        if _PACKAGE_DIR not in frame:
            return frame.rstrip()
    return trace[-1].rstrip()


def nan_error(node: Any, index: int) -> RuntimeError:
    """The error raised when ``node``'s backward returned NaN in its ``index``-th gradient."""
    return RuntimeError(
        f"Function '{node.name()}' returned nan values in its {index}th output.\n"
        f"The forward call that created it:\n{user_frame(node._trace)}"
    )
