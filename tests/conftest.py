"""Shared pytest configuration: Hypothesis settings profiles.

Pick one with the ``HYPOTHESIS_PROFILE`` environment variable (default ``dev``):

* ``ci``       -- 25 examples a test, derandomized (reproducible), no deadline;
* ``dev``      -- 60 examples a test, no deadline;
* ``thorough`` -- 500 examples a test, no deadline.

The ``torch`` fixture gives the ``torch`` module for comparisons with PyTorch, and skips the test where it is
not installed (as in CI). ``small_pool`` makes the kernels pool every array, however small, so that small cases
exercise buffer reuse.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tinygrad_cnn import kernels

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def torch() -> Any:
    return pytest.importorskip("torch")


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pool every array, however small, on an empty pool (emptied again afterwards)."""
    monkeypatch.setattr(kernels, "_POOL_MIN_BYTES", 0)
    kernels.release_buffers()
    yield
    kernels.release_buffers()
