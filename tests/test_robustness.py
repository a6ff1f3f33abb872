"""Robustness of long training runs: memory stays flat, and a seed fixes every bit of the result.

* Memory: a small CNN trains for ``LOOP_STEPS`` steps in a fresh process; the growth of the peak RSS
  and of the number of gc-tracked objects between step 20 and the end must stay under a bound that a
  leak of one graph per step (the classic ``losses.append(loss)``) exceeds several times over; the
  same script with that leak switched on is run alongside and must fail the bound (the detector is
  sensitive). With the cyclic gc disabled, reference counting alone frees each step's graph.
* Determinism: the same seed gives bit-identical weights across two processes (different hash seeds)
  with shuffling, dropout and random augmentation all on; another data seed gives other weights.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import DataLoader, MNIST5k, Subset, TensorDataset
from tinygrad_cnn.data import transforms as T

ROOT = Path(__file__).resolve().parents[1]

# -- memory ------------------------------------------------------------------------------------------

LOOP_STEPS = 1000
WARMUP_STEPS = 20
# Measured (Linux, numpy 2.4): the peak RSS grows by ~0.4 MB between step 20 and step 1000 (a constant
# amount, not per step) and the gc-tracked objects by ~12; keeping every loss (its graph, ~15 KB and
# ~60 objects a step once backward has freed the saved tensors) grows them by ~15 MB and ~58,000.
RSS_BOUND_MB = 6.0
OBJECTS_BOUND = 2_000

_TRAIN_LOOP = r"""
import gc, json, resource, sys
import numpy as np
import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import DataLoader, TensorDataset

def peak_rss_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // 1024 if sys.platform == "darwin" else rss  # bytes on macOS, KiB on Linux

leak, steps, warmup = sys.argv[1] == "leak", int(sys.argv[2]), int(sys.argv[3])
tc.manual_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((128, 1, 12, 12)).astype(np.float32)
y = rng.integers(0, 10, 128)
loader = DataLoader(TensorDataset(tc.tensor(x), tc.tensor(y)), batch_size=16, shuffle=True)
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 3 * 3, 10),
)
criterion = nn.CrossEntropyLoss()
opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
kept = []
step = 0
out = {}
while step < steps:
    for xb, yb in loader:
        opt.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        opt.step()
        if leak:
            kept.append(loss)  # the bug under test: every step's graph stays reachable
        step += 1
        if step == warmup:
            gc.collect()
            out["rss_warm_kb"], out["objects_warm"] = peak_rss_kb(), len(gc.get_objects())
        if step == steps:
            break
gc.collect()
out["rss_end_kb"], out["objects_end"] = peak_rss_kb(), len(gc.get_objects())
out["loss"] = loss.item()
print(json.dumps(out))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def _start(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-c", code, *args]
    return subprocess.Popen(command, env=env or _env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, stderr
    return stdout


def _growth(report: dict) -> tuple[float, int]:
    """(peak RSS growth in MB, gc-tracked object growth) between the warm-up and the end."""
    return (report["rss_end_kb"] - report["rss_warm_kb"]) / 1024, report["objects_end"] - report["objects_warm"]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="peak RSS is read from /proc or getrusage")
def test_memory_is_flat_over_a_long_training_loop() -> None:
    # Both runs at once: the leaking one proves the bound catches a graph kept alive per step.
    args = (str(LOOP_STEPS), str(WARMUP_STEPS))
    clean, leaky = _start(_TRAIN_LOOP, "clean", *args), _start(_TRAIN_LOOP, "leak", *args)
    clean_report, leaky_report = json.loads(_finish(clean)), json.loads(_finish(leaky))
    assert np.isfinite(clean_report["loss"])
    rss_mb, objects = _growth(clean_report)
    assert rss_mb < RSS_BOUND_MB, f"peak RSS grew by {rss_mb:.2f} MB over {LOOP_STEPS - WARMUP_STEPS} steps"
    assert objects < OBJECTS_BOUND, f"{objects} more gc-tracked objects after {LOOP_STEPS - WARMUP_STEPS} steps"
    leak_mb, leak_objects = _growth(leaky_report)
    assert leak_mb > RSS_BOUND_MB, f"the deliberate leak grew the peak RSS by only {leak_mb:.2f} MB"
    assert leak_objects > OBJECTS_BOUND, f"the deliberate leak added only {leak_objects} objects"


def _graph_nodes(loss: tc.Tensor) -> list:
    """Every node of ``loss``'s graph (``grad_fn`` and everything reachable through ``next_functions``)."""
    nodes, stack, seen = [], [loss.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(nxt for nxt, _ in node.next_functions)
    return nodes


def test_refcounting_alone_frees_each_steps_graph() -> None:
    tc.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3)
    )
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(tc.randn(12, 1, 8, 8), tc.randint(0, 3, (12,))), batch_size=4, shuffle=True)
    activations: list[weakref.ref] = []
    model[1].register_forward_hook(lambda module, inputs, output: activations.append(weakref.ref(output)))

    def step(xb: tc.Tensor, yb: tc.Tensor) -> list[weakref.ref]:
        opt.zero_grad()
        loss = criterion(model(xb), yb)
        refs = [weakref.ref(loss)] + [weakref.ref(node) for node in _graph_nodes(loss)]
        loss.backward()
        opt.step()
        return refs

    for xb, yb in loader:  # warm-up: optimizer state, caches
        step(xb, yb)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        activations.clear()
        for xb, yb in loader:
            refs = step(xb, yb)
            assert len(refs) > 10
            alive = [r() for r in refs if r() is not None]
            # AccumulateGrad nodes belong to the parameters and outlive the step, as in PyTorch
            assert all(type(node).__name__ == "AccumulateGrad" for node in alive), alive
            del alive
            assert activations and activations[-1]() is None, "the ReLU output outlived its step"
        assert gc.collect() == 0, "a training step left reference cycles for the cyclic gc"
    finally:
        if was_enabled:
            gc.enable()


# -- determinism -------------------------------------------------------------------------------------

_TRAIN_SEEDED = r"""
import sys
import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import DataLoader, MNIST5k, Subset
from tinygrad_cnn.data import transforms as T

init_seed, data_seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
tc.manual_seed(init_seed)
model = nn.Sequential(
    nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
    nn.Flatten(), nn.Linear(4 * 13 * 13, 10),
)
tc.manual_seed(data_seed)  # everything after this point: shuffling, augmentation, dropout
augment = T.Compose([T.RandomCrop(28, padding=2), T.RandomShift(2), T.ToTensor(), T.Normalize((0.13,), (0.31,))])
data = Subset(MNIST5k("train", transform=augment), range(192))
loader = DataLoader(data, batch_size=32, shuffle=True)
opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
model.train()
for epoch in range(2):
    for xb, yb in loader:
        opt.zero_grad()
        criterion(model(xb), yb).backward()
        opt.step()
tc.save(model.state_dict(), path)
"""


def _train_in_process(init_seed: int, data_seed: int) -> dict[str, np.ndarray]:
    """The same run as ``_TRAIN_SEEDED`` (shorter), in this process."""
    tc.manual_seed(init_seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Dropout(0.25), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    tc.manual_seed(data_seed)
    augment = T.Compose([T.RandomCrop(28, padding=2), T.RandomShift(2), T.ToTensor()])
    loader = DataLoader(Subset(MNIST5k("train", transform=augment), range(64)), batch_size=16, shuffle=True)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for xb, yb in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def _assert_bit_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert np.array_equal(a[key], b[key]), f"{key} differs"


def test_same_seed_gives_bit_identical_weights_across_processes(tmp_path: Path) -> None:
    # Three processes at once: two with the same seeds (and different hash seeds, so set/dict-of-str
    # iteration order cannot hide in the result), one with another data seed.
    runs = {"a": (0, 1, "11"), "b": (0, 1, "22"), "c": (0, 2, "11")}
    procs = {}
    for name, (init_seed, data_seed, hash_seed) in runs.items():
        env = {**_env(), "PYTHONHASHSEED": hash_seed}
        path = str(tmp_path / f"{name}.safetensors")
        procs[name] = _start(_TRAIN_SEEDED, str(init_seed), str(data_seed), path, env=env)
    for proc in procs.values():
        _finish(proc)
    weights = {name: {k: t.data for k, t in tc.load(tmp_path / f"{name}.safetensors").items()} for name in runs}
    _assert_bit_identical(weights["a"], weights["b"])
    # only the data seed differs: shuffling, crops, shifts and dropout masks must all follow it
    assert any(not np.array_equal(weights["a"][k], weights["c"][k]) for k in weights["a"])


def test_manual_seed_twice_in_process_gives_identical_weights() -> None:
    first = _train_in_process(3, 4)
    second = _train_in_process(3, 4)
    _assert_bit_identical(first, second)
    other = _train_in_process(3, 5)
    assert any(not np.array_equal(first[k], other[k]) for k in first)


def test_each_random_source_follows_the_global_seed() -> None:
    """Shuffling, each augmentation and dropout draw from the global generator: reseeding repeats them."""
    image = (np.arange(28 * 28, dtype=np.uint8) % 251).reshape(1, 28, 28)
    sources = {
        "shuffle": lambda: [yb.tolist() for _, yb in DataLoader(TensorDataset(tc.arange(20), tc.arange(20)), 4, True)],
        "crop": lambda: [T.RandomCrop(28, padding=3)(image).tolist() for _ in range(4)],
        "shift": lambda: [T.RandomShift(3)(image).tolist() for _ in range(4)],
        "dropout": lambda: nn.Dropout(0.5)(tc.ones(64)).tolist(),
    }
    for name, draw in sources.items():
        tc.manual_seed(7)
        a = draw()
        tc.manual_seed(7)
        b = draw()
        tc.manual_seed(8)
        c = draw()
        assert a == b, name
        assert a != c, name
