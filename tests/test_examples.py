"""End-to-end: the example scripts run and learn."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_train_digits_mlp_loss_falls() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_digits_mlp.py"), "--epochs", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    losses = [float(v) for v in re.findall(r"^epoch \d+/\d+\s+loss ([0-9.]+)", proc.stdout, re.M)]
    assert len(losses) == 2, proc.stdout
    assert all(math.isfinite(v) for v in losses), proc.stdout
    assert losses[1] < losses[0], proc.stdout
    acc = re.search(r"^validation accuracy ([0-9.]+)", proc.stdout, re.M)
    assert acc is not None, proc.stdout
    assert float(acc.group(1)) > 0.8, proc.stdout
