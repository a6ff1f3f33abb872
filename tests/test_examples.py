"""End-to-end: the example scripts run, learn, and print what they promise (each in a subprocess)."""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    # PYTHONPATH: the scripts import tinygrad_cnn from this checkout even when it is not pip-installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def load_example(name: str) -> ModuleType:
    """Import an example script as a module (its ``main`` does not run) to test its functions."""
    spec = importlib.util.spec_from_file_location(f"example_{Path(name).stem}", EXAMPLES / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def epoch_values(pattern: str, text: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, text, re.M)]


@pytest.mark.slow
def test_train_mnist_learns(tmp_path: Path) -> None:
    """Module + DataLoader + transform + SGD + OneCycleLR on the bundled digits: a sensible accuracy in 2 epochs."""
    weights = tmp_path / "mnist.safetensors"
    proc = run_example("train_mnist.py", "--epochs", "2", "--width", "8", "--save", str(weights))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    losses = epoch_values(r"^epoch \d+/2\s+loss ([0-9.]+)", proc.stdout)
    accs = epoch_values(r"^epoch \d+/2 .*validation accuracy ([0-9.]+)", proc.stdout)
    assert len(losses) == 2 and len(accs) == 2 and all(math.isfinite(v) for v in losses), proc.stdout
    assert losses[1] < losses[0] < 2.3, proc.stdout  # below chance level (ln 10) and falling
    assert accs[1] > 0.9, proc.stdout
    reloaded = epoch_values(r"^saved the weights to .*; reloaded model: validation accuracy ([0-9.]+)", proc.stdout)
    assert reloaded == [accs[1]] and weights.stat().st_size > 0, proc.stdout


@pytest.mark.slow
def test_tensor_expressions_learns_real_digits() -> None:
    """A CNN of conv/pool/linear/cross-entropy tensor expressions trained by hand-written SGD."""
    proc = run_example("tensor_expressions.py", "--epochs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    losses = epoch_values(r"^epoch \d+/\d+\s+loss ([0-9.]+)", proc.stdout)
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), proc.stdout
    assert losses[1] < losses[0] < 2.3, proc.stdout
    acc = re.search(r"^validation accuracy ([0-9.]+)", proc.stdout, re.M)
    assert acc is not None and float(acc.group(1)) > 0.9, proc.stdout


def test_custom_op_checks_pass_and_model_trains() -> None:
    proc = run_example("custom_op.py", "--examples", "10", "--epochs", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all gradient checks passed" in proc.stdout, proc.stdout
    assert "FAIL" not in proc.stdout
    for check in ("gradcheck: d/dx", "gradgradcheck", "rejects a wrong backward", "hypothesis property test"):
        assert re.search(rf"^\s+ok\s+.*{re.escape(check)}", proc.stdout, re.M), proc.stdout
    acc = re.search(r"^epoch 1/1 .*validation accuracy ([0-9.]+)", proc.stdout, re.M)
    assert acc is not None and float(acc.group(1)) > 0.8, proc.stdout


def test_edge_detection_writes_png(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    proc = run_example("edge_detection.py", "--digits", "1", "8", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "saved a 2x6 grid" in proc.stdout, proc.stdout
    data = out.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_edge_detection_filters_match_naive_loops() -> None:
    """The conv2d responses equal a direct loop over the zero-padded image (cross-correlation, no flip)."""
    example = load_example("edge_detection.py")
    from tinygrad_cnn.data import load_mnist5k

    image = load_mnist5k()[0][1234]
    responses = example.filter_responses(image[None])
    padded = np.pad(image.astype(np.float64) / 255.0, 1)
    for name in ("identity", "laplacian", "sobel x", "sobel y"):
        kernel = example.FILTERS[name]
        naive = np.zeros((28, 28))
        for i in range(28):
            for j in range(28):
                naive[i, j] = sum(kernel[a, b] * padded[i + a, j + b] for a in range(3) for b in range(3))
        np.testing.assert_allclose(responses[name][0], naive, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(responses["identity"][0], image / 255.0, atol=1e-6)


def test_edge_detection_without_matplotlib_says_how_to_install(tmp_path: Path) -> None:
    code = (
        "import runpy, sys; sys.modules['matplotlib'] = None; "  # None in sys.modules makes the import fail
        f"sys.argv = ['edge_detection.py', '--out', {str(tmp_path / 'x.png')!r}]; "
        f"runpy.run_path({str(EXAMPLES / 'edge_detection.py')!r}, run_name='__main__')"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "pip install 'tinygrad-cnn[plot]'" in proc.stderr, proc.stderr
    assert not (tmp_path / "x.png").exists()


def write_fake_cifar10(folder: Path, per_file: int, seed: int = 0) -> None:
    """The six files of the official binary layout, each of ``per_file`` random 3073-byte records."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = rng.integers(0, 256, size=(per_file, 3073), dtype=np.uint8)
        records[:, 0] = rng.integers(0, 10, size=per_file)  # the label byte
        (folder / name).write_bytes(records.tobytes())


@pytest.mark.slow
def test_cifar10_trains_on_binary_files(tmp_path: Path) -> None:
    write_fake_cifar10(tmp_path / "cifar-10-batches-bin", per_file=60)
    proc = run_example("cifar10.py", "--data-dir", str(tmp_path), "--limit", "0", "--epochs", "1", "--width", "8")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^train 300 images, test 60 images", proc.stdout, re.M), proc.stdout
    loss = re.search(r"^epoch 1/1 .*loss ([0-9.]+)", proc.stdout, re.M)
    assert loss is not None and math.isfinite(float(loss.group(1))), proc.stdout


def test_cifar10_without_files_says_where_to_put_them(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    proc = run_example("cifar10.py", "--data-dir", str(missing))
    assert proc.returncode != 0
    assert proc.stdout == "" and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and str(missing) in proc.stderr, proc.stderr
    assert "cifar-10-binary.tar.gz" in proc.stderr
