"""End-to-end: the example scripts run and learn."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_train_digits_cnn_learns_real_digits() -> None:
    """The README's main job: a CNN of conv/pool/linear/cross-entropy ops trained by hand-written SGD."""
    proc = run_example("train_digits_cnn.py", "--epochs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    losses = [float(v) for v in re.findall(r"^epoch \d+/\d+\s+loss ([0-9.]+)", proc.stdout, re.M)]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), proc.stdout
    assert losses[1] < losses[0] < 2.3, proc.stdout  # below chance level (ln 10) and falling
    acc = re.search(r"^validation accuracy ([0-9.]+)", proc.stdout, re.M)
    assert acc is not None and float(acc.group(1)) > 0.9, proc.stdout


@pytest.mark.slow
def test_train_digits_mlp_loss_falls() -> None:
    proc = run_example("train_digits_mlp.py", "--epochs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    losses = [float(v) for v in re.findall(r"^epoch \d+/\d+\s+loss ([0-9.]+)", proc.stdout, re.M)]
    assert len(losses) == 2, proc.stdout
    assert all(math.isfinite(v) for v in losses), proc.stdout
    assert losses[1] < losses[0], proc.stdout
    acc = re.search(r"^validation accuracy ([0-9.]+)", proc.stdout, re.M)
    assert acc is not None, proc.stdout
    assert float(acc.group(1)) > 0.8, proc.stdout
