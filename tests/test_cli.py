"""The ``tinygrad-cnn`` command: train's outputs, evaluate, resume determinism, NaN stop, Ctrl-C, errors.

Most runs are in-process (``main(argv)``) and small (LeNet-5 on a few hundred MNIST-5k digits); a few
use a subprocess to check what a real process prints and its exit code.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import serialization
from tinygrad_cnn.cli import main
from tinygrad_cnn.cli import train as train_mod
from tinygrad_cnn.cli.common import CHECKPOINT_FORMAT, MODEL_FORMAT
from tinygrad_cnn.cli.plots import have_matplotlib

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--model", "lenet5", "--limit", "640", "--optimizer", "adam", "--lr", "0.005", "--no-progress"]
HAVE_MPL = have_matplotlib()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def subprocess_cli(*argv: str, cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_cnn", *argv],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def without_seconds(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def assert_one_error_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tinygrad-cnn: error: "), err
    assert "Traceback" not in err


# -- a shared 2-epoch run ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("run") / "lenet"
    code = main(["train", *SMALL, "--epochs", "2", "--out", str(out)])
    assert code == 0
    return {"out": out}


def test_train_outputs(trained: dict, capsys: pytest.CaptureFixture[str]) -> None:
    out = trained["out"]
    rows = read_rows(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]
    assert all(np.isfinite(float(v)) for r in rows for v in r.values())
    assert float(rows[1]["val_acc"]) > 0.5  # learned something in 20 steps

    meta = serialization.load_metadata(out / "model.safetensors")
    assert meta["format"] == MODEL_FORMAT and meta["model"] == "lenet5" and meta["dataset"] == "mnist5k"
    assert json.loads(meta["config"]) == {"image_size": 28, "in_channels": 1, "num_classes": 10}
    assert json.loads(meta["normalize"]) == {"mean": [0.1307], "std": [0.3081]}
    weights = serialization.load(out / "model.safetensors")
    assert "features.0.weight" in weights and weights["classifier.4.weight"].shape == (10, 84)

    state = serialization.load_state(out / "checkpoint.safetensors")
    assert state["format"] == CHECKPOINT_FORMAT and state["epoch"] == 2
    assert set(state) >= {"model", "optimizer", "scheduler", "rng_state", "metrics", "args", "meta"}
    assert len(state["metrics"]) == 2 and state["args"]["model"] == "lenet5"
    if HAVE_MPL:
        assert (out / "curves.png").stat().st_size > 1000 and (out / "filters.png").stat().st_size > 1000


def test_evaluate_matches_train(trained: dict, capsys: pytest.CaptureFixture[str]) -> None:
    out = trained["out"]
    val_acc = float(read_rows(out / "metrics.csv")[-1]["val_acc"])
    for path in (out / "model.safetensors", out / "checkpoint.safetensors"):
        code, stdout, err = run_cli(capsys, "evaluate", str(path), "--split", "val")
        assert code == 0, err
        last = stdout.strip().splitlines()[-1]
        m = re.fullmatch(r"accuracy: (\d\.\d{4}) \((\d+)/(\d+)\)", last)
        assert m, last
        assert int(m.group(3)) == 500 and int(m.group(2)) / 500 == pytest.approx(val_acc)
        assert "confusion matrix" in stdout
        matrix = [list(map(int, line.split()[1:11])) for line in stdout.splitlines()[3:13]]
        assert np.trace(np.array(matrix)) == int(m.group(2))
    meta = serialization.load_metadata(out / "model.safetensors")
    assert last.split()[1] == meta["val_accuracy"]


def test_plot_command(trained: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(capsys, "plot", str(trained["out"]))
    assert code == 0
    if HAVE_MPL:
        assert "curves.png" in stdout and "filters.png" in stdout


def test_train_output_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(
        capsys,
        "train",
        "--model",
        "lenet5",
        "--limit",
        "128",
        "--epochs",
        "1",
        "--out",
        str(tmp_path),
        "--no-progress",
        "--batch-size",
        "32",
    )
    assert code == 0
    lines = stdout.strip().splitlines()
    assert re.match(r"epoch 1/1  train loss [\d.]+ acc [\d.]+  val loss [\d.]+ acc [\d.]+  lr \S+  [\d.]+s$", lines[1])
    assert re.fullmatch(r"val accuracy: \d\.\d{4} \(\d+/500\)", lines[-1])


def test_without_matplotlib(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code, stdout, _ = run_cli(
        capsys, "train", "--model", "lenet5", "--limit", "64", "--epochs", "1", "--out", str(tmp_path), "--no-progress"
    )
    assert code == 0
    assert "pip install tinygrad-cnn[plot]" in stdout
    assert not (tmp_path / "curves.png").exists() and (tmp_path / "model.safetensors").exists()


# -- resume -----------------------------------------------------------------------------------------------
def _interrupt_at_epoch(monkeypatch, epoch: int) -> None:
    """Make train_one_epoch raise KeyboardInterrupt (as Ctrl-C would) midway through the run's ``epoch``-th call."""
    real = train_mod.train_one_epoch
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "train_one_epoch", wrapper)


@pytest.mark.parametrize(
    "extra", [[], ["--model", "resnet", "--limit", "96", "--batch-size", "32"]], ids=["lenet5", "resnet"]
)
def test_resume_after_interrupt_is_deterministic(extra: list[str], tmp_path: Path, capsys, monkeypatch) -> None:
    """2 epochs straight == interrupted in epoch 2 + --resume: identical epoch-2 row (but seconds), same weights.

    ResNet adds batch-norm running statistics to what the checkpoint must restore (LeNet-5: weights, Adam's
    state, the one-cycle schedule, and the generator that shuffles and augments).
    """
    argv = ["train", *SMALL, *extra, "--epochs", "2"]
    assert run_cli(capsys, *argv, "--out", str(tmp_path / "a"))[0] == 0

    _interrupt_at_epoch(monkeypatch, 2)
    code, stdout, _ = run_cli(capsys, *argv, "--out", str(tmp_path / "b"))
    assert code == 130
    assert "--resume" in stdout and "holds epoch 1" in stdout
    assert len(read_rows(tmp_path / "b" / "metrics.csv")) == 1
    monkeypatch.undo()

    code, stdout, err = run_cli(capsys, "train", "--out", str(tmp_path / "b"), "--resume", "--no-progress")
    assert code == 0, err
    a, b = read_rows(tmp_path / "a" / "metrics.csv"), read_rows(tmp_path / "b" / "metrics.csv")
    assert without_seconds(a) == without_seconds(b)
    wa, wb = (
        serialization.load(tmp_path / "a" / "model.safetensors"),
        serialization.load(tmp_path / "b" / "model.safetensors"),
    )
    assert all(np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa)


@pytest.mark.slow
def test_every_schedule_and_optimizer_resumes_exactly(tmp_path: Path, capsys, monkeypatch) -> None:
    """Each schedule (paired with an optimizer) trains, and its state survives an interruption bit for bit."""
    optimizers = list(train_mod.DEFAULT_LR)
    for i, schedule in enumerate(train_mod.SCHEDULES):
        opt = optimizers[i % len(optimizers)]
        argv = ["train", "--model", "lenet5", "--limit", "64", "--batch-size", "32", "--epochs", "2", "--no-progress",
                "--schedule", schedule, "--optimizer", opt]  # fmt: skip
        a, b = tmp_path / f"{schedule}-a", tmp_path / f"{schedule}-b"
        assert run_cli(capsys, *argv, "--out", str(a))[0] == 0, schedule
        _interrupt_at_epoch(monkeypatch, 2)
        assert run_cli(capsys, *argv, "--out", str(b))[0] == 130
        monkeypatch.undo()
        code, _, err = run_cli(capsys, "train", "--out", str(b), "--resume", "--no-progress")
        assert code == 0, err
        rows = read_rows(a / "metrics.csv")
        assert without_seconds(rows) == without_seconds(read_rows(b / "metrics.csv")), (schedule, opt)
        if schedule not in ("none", "plateau"):
            assert rows[0]["lr"] != rows[1]["lr"], schedule  # the schedule did change the lr


def test_resume_extends_a_finished_run(tmp_path: Path, capsys) -> None:
    """1 epoch, then --resume --epochs 2 == 2 epochs straight (with a schedule that does not depend on epochs)."""
    argv = ["train", *SMALL, "--schedule", "none"]
    assert run_cli(capsys, *argv, "--epochs", "2", "--out", str(tmp_path / "a"))[0] == 0
    assert run_cli(capsys, *argv, "--epochs", "1", "--out", str(tmp_path / "b"))[0] == 0
    code, _, err = run_cli(capsys, "train", "--out", str(tmp_path / "b"), "--resume", "--epochs", "2", "--no-progress")
    assert code == 0, err
    a, b = read_rows(tmp_path / "a" / "metrics.csv"), read_rows(tmp_path / "b" / "metrics.csv")
    assert without_seconds(a) == without_seconds(b) and len(a) == 2


def test_resume_refuses_changed_settings(trained: dict, capsys) -> None:
    code, _, err = run_cli(capsys, "train", "--out", str(trained["out"]), "--resume", "--lr", "0.5")
    assert code != 0 and "--lr" in err
    assert_one_error_line(err)
    code, _, err = run_cli(capsys, "train", "--out", str(trained["out"]), "--resume", "--epochs", "5")
    assert code != 0 and "onecycle" in err
    assert_one_error_line(err)


# -- divergence ---------------------------------------------------------------------------------------------
def test_nan_loss_stops_with_one_line(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(
        capsys,
        "train",
        *SMALL,
        "--optimizer",
        "sgd",
        "--lr",
        "1e9",
        "--momentum",
        "0",
        "--schedule",
        "none",
        "--epochs",
        "2",
        "--out",
        str(tmp_path),
    )
    assert code == 1
    assert_one_error_line(err)
    assert "training stopped in epoch 1" in err and "nothing was saved" in err
    assert not (tmp_path / "model.safetensors").exists() and not (tmp_path / "checkpoint.safetensors").exists()


def test_nan_keeps_last_good_checkpoint(tmp_path: Path, capsys, monkeypatch) -> None:
    real = train_mod.train_one_epoch
    calls = {"n": 0}

    def poisoned(model, *args, **kwargs):  # in epoch 2 a weight becomes NaN: the next loss is NaN
        calls["n"] += 1
        if calls["n"] == 2:
            with tc.no_grad():
                next(iter(model.parameters())).data[...] = np.nan
        return real(model, *args, **kwargs)

    monkeypatch.setattr(train_mod, "train_one_epoch", poisoned)
    code, _, err = run_cli(capsys, "train", *SMALL, "--epochs", "3", "--out", str(tmp_path))
    assert code == 1
    assert_one_error_line(err)
    assert "epoch 2" in err and "keeps epoch 1" in err and "nan" in err
    state = serialization.load_state(tmp_path / "checkpoint.safetensors")
    assert state["epoch"] == 1
    assert all(np.isfinite(t.numpy()).all() for t in state["model"].values())
    assert len(read_rows(tmp_path / "metrics.csv")) == 1


# -- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--model", "alexnet"], "invalid choice"),
        (["train", "--lr", "0"], "--lr"),
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--lr", "nan"], "--lr"),
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--batch-size", "x"], "--batch-size"),
        (["train", "--dataset", "mnist", "--data-dir", "/nonexistent/dir"], "MNIST"),
        (["train", "--dataset", "cifar10", "--data-dir", "/nonexistent/dir"], "CIFAR"),
        (["train", "--resume", "--out", "/nonexistent/run"], "no checkpoint"),
        (["evaluate", "/nonexistent/model.safetensors"], "no such file"),
        (["evaluate"], "required"),
        ([], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_are_one_line(argv: list[str], needle: str, capsys) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code != 0
    assert_one_error_line(err)
    assert needle in err


def test_corrupt_and_foreign_files(tmp_path: Path, trained: dict, capsys) -> None:
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    plain = tmp_path / "plain.safetensors"
    serialization.save({"w": np.zeros(3, np.float32)}, plain)
    for path in (bad, plain):
        code, _, err = run_cli(capsys, "evaluate", str(path))
        assert code == 1
        assert_one_error_line(err)
    # a corrupt checkpoint for --resume
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "checkpoint.safetensors").write_bytes(os.urandom(64))
    code, _, err = run_cli(capsys, "train", "--out", str(run_dir), "--resume")
    assert code == 1
    assert_one_error_line(err)
    # mnist5k has no test split; the model does not read CIFAR-10's images
    model = str(trained["out"] / "model.safetensors")
    for argv, needle in ((["--split", "test"], "no test split"), (["--dataset", "cifar10"], "3x32x32")):
        code, _, err = run_cli(capsys, "evaluate", model, *argv)
        assert code == 1 and needle in err
        assert_one_error_line(err)


def test_errors_in_a_real_process(tmp_path: Path) -> None:
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"garbage")
    for argv in (["train", "--model", "nope"], ["evaluate", str(bad)], ["train", "--epochs", "-3"]):
        proc = subprocess_cli(*argv)
        assert proc.returncode != 0
        assert_one_error_line(proc.stderr)
        assert proc.stdout == ""


def test_help(capsys) -> None:
    for argv in (["--help"], ["train", "--help"], ["evaluate", "--help"]):
        code, out, _ = run_cli(capsys, *argv)
        assert code == 0 and "usage: tinygrad-cnn" in out


def test_defaults_reach_the_documented_settings() -> None:
    """`train` with no options: SeedCNN on mnist5k, runs/mnist5k-seedcnn (the full run is too long for a test)."""
    from tinygrad_cnn.cli import build_parser

    settings, out, state = train_mod.resolve_settings(build_parser().parse_args(["train"]))
    assert state is None and out == Path("runs") / "mnist5k-seedcnn"
    assert settings["model"] == "seedcnn" and settings["dataset"] == "mnist5k"
    assert settings["lr"] == train_mod.DEFAULT_LR[settings["optimizer"]]


# -- Ctrl-C in a real process ------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process")
def test_ctrl_c_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    argv = [
        sys.executable,
        "-m",
        "tinygrad_cnn",
        "train",
        "--model",
        "lenet5",
        "--limit",
        "1280",
        "--epochs",
        "3",
        "--out",
        str(out),
        "--progress",
    ]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.safetensors").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "img/s" in stderr  # the progress bar ran
    assert "interrupted" in stdout and "--resume" in stdout
    saved = serialization.load_state(out / "checkpoint.safetensors")["epoch"]
    assert saved >= 1 and len(read_rows(out / "metrics.csv")) == saved

    resumed = subprocess.run(
        [sys.executable, "-m", "tinygrad_cnn", "train", "--out", str(out), "--resume", "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert [r["epoch"] for r in read_rows(out / "metrics.csv")] == ["1", "2", "3"]
    assert (out / "model.safetensors").exists()


# -- an IDX data set from files (MNIST's format, made up here: no network) ------------------------------------
def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    import gzip

    n, rows, cols = images.shape
    header = (2051).to_bytes(4, "big") + n.to_bytes(4, "big") + rows.to_bytes(4, "big") + cols.to_bytes(4, "big")
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(header + images.astype(np.uint8).tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write((2049).to_bytes(4, "big") + n.to_bytes(4, "big") + labels.astype(np.uint8).tobytes())


def test_mnist_files_train_val_test(tmp_path: Path, capsys) -> None:
    """--dataset mnist reads IDX files: a seeded train/val split of the training files, the test files for test."""
    from tinygrad_cnn.data import load_mnist5k

    images, labels = load_mnist5k()
    pick = np.random.default_rng(1).permutation(len(labels))
    data = tmp_path / "data"
    (data / "MNIST" / "raw").mkdir(parents=True)
    write_idx(data / "MNIST" / "raw", "train", images[pick[:300]], labels[pick[:300]])
    write_idx(data / "MNIST" / "raw", "t10k", images[pick[300:380]], labels[pick[300:380]])
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, "train", "--dataset", "mnist", "--data-dir", str(data), "--model", "lenet5",
                                "--epochs", "1", "--out", str(out), "--no-progress", "--no-augment")  # fmt: skip
    assert code == 0, err
    assert "270 train / 30 val images" in stdout
    assert stdout.strip().splitlines()[-1].endswith("/30)")
    model = str(out / "model.safetensors")
    for split, n in (("test", 80), ("val", 30), ("train", 270)):
        code, stdout, err = run_cli(capsys, "evaluate", model, "--split", split)
        assert code == 0, err
        assert stdout.strip().splitlines()[-1].endswith(f"/{n})")
    code, _, err = run_cli(capsys, "evaluate", model, "--data-dir", str(tmp_path / "nowhere"))
    assert code == 1 and "t10k-images-idx3-ubyte" in err
    assert_one_error_line(err)
