"""Smoke test of the benchmark suite (bench/suite.py): a tiny run of every case in ours, and the check logic;
of bench/handwritten.py: its plain-numpy step against ours from the same weights, and a tiny run; and a
tiny run of bench/conv_floor.py.

The tiny run uses batch 4, one round and one call per measurement, ours only (importing torch in each worker
would cost seconds): it proves that every workload builds and steps, that the table and the JSON come out,
and that the exit status is 0. The correctness comparison is tested on made-up losses, and against torch
for real (one model, two steps) when torch is importable.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def suite():
    sys.path.insert(0, str(BENCH))  # bench/ modules import each other by name
    try:
        import suite as module  # bench/suite.py; its _harness import puts the checkout on sys.path

        yield module
    finally:
        sys.path.remove(str(BENCH))


def test_tiny_run_of_every_case(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "suite.py"), "--tiny", "--impls", "ours", "--json", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "numpy" in proc.stdout and "OPENBLAS_CORETYPE" in proc.stdout and "load average" in proc.stdout
    report = json.loads(out.read_text())
    assert report["errors"] == []
    variant = report["variants"][0]  # "as found" (a second one, with OPENBLAS_* unset, when they are set)
    rows = {(r["case"], r["metric"]): r for r in variant["rows"]}
    expected = {
        ("conv3", "forward"), ("conv3", "forward+backward"), ("conv32", "forward"), ("conv32", "forward+backward"),
        ("train", "step"), ("train_bn", "step"), ("infer", "forward"), ("seed", "step"), ("memory", "peak"),
        ("memory", "total"), ("overhead", "forward"), ("overhead", "forward+backward"),
    }  # fmt: skip
    assert set(rows) == expected
    for key, row in rows.items():
        value = row["median"]["ours"]
        assert value is not None and value > 0, (key, row)
        assert row["label"] in proc.stdout
    assert rows[("memory", "peak")]["unit"] == rows[("memory", "total")]["unit"] == "MiB"
    assert rows[("memory", "total")]["median"]["ours"] > rows[("memory", "peak")]["median"]["ours"]


def test_evaluate_check_flags_a_wrong_loss(suite):
    good = {"torch": [2.3, 2.2, 2.1], "ours": [2.3, 2.2, 2.1000001], "mygrad": [2.3, 2.2, 2.5]}
    bad = {"torch": [2.3, 2.2, 2.1], "ours": [2.3, 2.2, 2.11]}
    result = {
        "losses": {"ref": good, "seed": bad},
        "logits": {"torch": [[1.0, -2.0]], "ours": [[1.0, -2.00001]]},
        "conv": {"conv3": {"ok": True, "msg": "fine"}},
    }
    verdicts, lines = suite.evaluate_check(result)
    assert verdicts == {"ref": "OK", "seed": "FAIL", "infer": "OK", "conv3": "OK"}  # MyGrad is not judged
    assert len(lines) == 4 and lines[1].lstrip().startswith("FAIL")


def test_ratio_cells_skip_missing_rounds(suite):
    text, spread, med, ratios = suite.ratio_cells([2.0, None, 6.0], [1.0, 1.0, 2.0])
    assert ratios == [2.0, 3.0] and med == 2.5 and text == "2.50x" and spread == "2.00-3.00"
    assert suite.ratio_cells([], [])[0] == "-"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_losses_match_torch_from_the_same_weights(suite):
    import argparse

    s = suite.settings(argparse.Namespace(tiny=True, quick=False, rounds=None, repeats=None, warmup=None))
    result = suite.check_worker(
        s, ["ours", "torch"], threads=1, models=("ref",), logits=False, convs=(), libraries=False
    )
    verdicts, lines = suite.evaluate_check(result)
    assert verdicts == {"ref": "OK"}, lines


# -- bench/handwritten.py: the reference step in plain numpy ------------------------------------------------------
@pytest.fixture(scope="module")
def handwritten():
    sys.path.insert(0, str(BENCH))
    try:
        import _workloads
        import handwritten as module

        yield module, _workloads
    finally:
        sys.path.remove(str(BENCH))


def test_handwritten_step_matches_ours_from_the_same_weights(handwritten):
    """The plain-numpy step is the same computation as the framework's (else the comparison means nothing)."""
    hw, w = handwritten
    ours = w.build("ours", "ref", 8)
    hand = hw.HandWrittenCNN(*w.batch("ref", 8))
    hand.load_numpy_state(ours.numpy_state())
    for i in range(3):
        for t in (ours, hand):
            t.set_batch(*w.batch("ref", 8, index=i))
        assert hand.step() == pytest.approx(float(ours.step().item()), rel=1e-4)
    for t in (ours, hand):
        t.set_batch(*w.batch("ref", 8, index=3))
    assert hand.loss() == pytest.approx(ours.loss(), rel=1e-4)
    for key, value in ours.numpy_state().items():
        np.testing.assert_allclose(hand.params[key], value, rtol=1e-3, atol=1e-6)


def run_bench(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``bench/<script>`` with ``args``; it must exit with status 0."""
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_handwritten_tiny_run():
    proc = run_bench("handwritten.py", "--rounds", "1", "--repeats", "1", "--warmup", "0", "--batch", "4")
    for label in ("hand-written numpy", "tinygrad_cnn", "/ hand-written"):
        assert label in proc.stdout


def test_conv_floor_tiny_run():
    """bench/conv_floor.py: the bare GEMMs and column passes of a conv, ours, and torch when importable."""
    proc = run_bench("conv_floor.py", "--cases", "conv32", "--rounds", "1", "--repeats", "1", "--warmup", "0")
    rows = {line.split("|")[1].strip(): line for line in proc.stdout.splitlines() if "fwd+bwd" in line}
    assert {"ours", "gemms", "floor"} <= set(rows)
    ms = {what: float(rows[what].split("|")[2]) for what in ("ours", "gemms", "floor")}  # torch's: "-" without it
    assert 0 < ms["gemms"] < ms["floor"]  # the floor adds the column passes to the GEMMs
    assert "conv32 parts (ms): forward W @ cols " in proc.stdout and "transposed" in proc.stdout
    assert "im2col" in proc.stdout and "col2im" in proc.stdout
