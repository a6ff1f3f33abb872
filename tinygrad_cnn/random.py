"""One global random generator that every random function draws from; ``manual_seed(n)`` reseeds it.

Like PyTorch, the default generator starts from a fixed seed, so an unseeded program is reproducible too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_SEED = 67280421310721  # PyTorch's default seed value


class Generator:
    """A seedable source of random numbers (a thin wrapper of ``numpy.random.Generator`` / PCG64)."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (a non-negative int)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
        if seed < 0:
            raise ValueError(f"seed: expected a non-negative int, got {seed}")
        self._seed = int(seed)
        self.np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._seed

    def get_state(self) -> dict[str, Any]:
        """A picklable-free snapshot (plain dict of ints) to restore with ``set_state``."""
        return {"seed": self._seed, "bit_generator": self.np.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from a snapshot taken with ``get_state``."""
        self._seed = int(state["seed"])
        self.np.bit_generator.state = state["bit_generator"]


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used by ``rand``, ``randn``, ``randint``, dropout and shuffling."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The seed of the global generator."""
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    """Snapshot of the global generator's state."""
    return default_generator.get_state()


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the global generator from ``get_rng_state()``."""
    default_generator.set_state(state)


def numpy_generator(generator: Generator | None = None) -> np.random.Generator:
    """The numpy generator behind ``generator`` (or behind the global one)."""
    return (generator or default_generator).np
