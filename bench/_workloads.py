"""The workloads of ``bench/suite.py``, built the same way in tinygrad_cnn ("ours"), PyTorch and MyGrad.

Nothing here imports a framework at module level: each builder imports only the library it builds with,
so a worker process loads one framework (and ``bench/suite.py`` runs without torch or MyGrad installed).

Models are described by a small layer spec, ``(name, kind, *args)``:

* ``ref_spec(bn=False)``: the reference CNN: conv 3->32 3x3 p1, ReLU, max pool 2, conv 32->64 3x3 p1, ReLU,
  max pool 2, flatten, linear 4096->256, ReLU, linear 256->10 (with ``bn=True``: BatchNorm2d after each conv,
  convs without bias). Names are "0", "1", ... as ``nn.Sequential`` numbers its layers.
* ``SEED_SPEC``: SeedCNN: conv 1->32 7x7 p3, ReLU, max pool 2, flatten, linear 6272->500, ReLU, linear 500->10,
  with the names of ``tinygrad_cnn.models.SeedCNN`` (``conv``, ``fc1``, ``fc2``).

In ours and torch a spec becomes ``nn.Sequential`` of ``nn`` layers with ``optim.SGD(momentum)`` and
``nn.CrossEntropyLoss``, as a user writes it (ours for SeedCNN is ``tinygrad_cnn.models.SeedCNN``). In MyGrad
it is a list of ``mygrad.nnet`` calls (``conv_nd``, ``max_pool``, ``relu``, ``batchnorm``,
``softmax_crossentropy``) over parameter Tensors named as torch's ``state_dict`` keys, and a hand-written
momentum SGD with torch's formulation. All float32; weights can be copied from torch's ``state_dict``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from collections import OrderedDict
from typing import Any

import numpy as np

SEED = 0
LR, MOMENTUM = 0.01, 0.9
BN_EPS = 1e-5
IMPLS = ("ours", "torch", "mygrad")
PACKAGES = {"ours": "tinygrad_cnn", "torch": "torch", "mygrad": "mygrad"}

Spec = list[tuple]


def ref_spec(bn: bool = False) -> Spec:
    layers: list[tuple] = [("conv", 3, 32, 3, 1, not bn)]
    layers += [("bn", 32)] if bn else []
    layers += [("relu",), ("pool", 2), ("conv", 32, 64, 3, 1, not bn)]
    layers += [("bn", 64)] if bn else []
    layers += [("relu",), ("pool", 2), ("flatten",), ("linear", 4096, 256), ("relu",), ("linear", 256, 10)]
    return [(str(i), *layer) for i, layer in enumerate(layers)]


SEED_SPEC: Spec = [
    ("conv", "conv", 1, 32, 7, 3, True), ("relu", "relu"), ("pool", "pool", 2), ("flatten", "flatten"),
    ("fc1", "linear", 32 * 14 * 14, 500), ("relu2", "relu"), ("fc2", "linear", 500, 10),
]  # fmt: skip

MODELS: dict[str, tuple[Spec, tuple[int, int, int]]] = {
    "ref": (ref_spec(False), (3, 32, 32)),
    "ref_bn": (ref_spec(True), (3, 32, 32)),
    "seed": (SEED_SPEC, (1, 28, 28)),
}


def importable(impl: str) -> bool:
    """Whether ``impl``'s package can be found (without importing it)."""
    import importlib.util

    if impl == "ours":
        return True  # bench/_harness puts the checkout on sys.path
    return importlib.util.find_spec(PACKAGES[impl]) is not None


def batch(model: str, n: int, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Batch ``index`` of ``n`` float32 N(0, 1) images for ``model`` and int64 labels in [0, 10)."""
    shape = MODELS[model][1]
    rng = np.random.default_rng([SEED, index])
    x = rng.standard_normal((n, *shape), dtype=np.float32)
    y = rng.integers(0, 10, n, dtype=np.int64)
    return x, y


# -- ours and torch: the same code, `lib` is tinygrad_cnn or torch ---------------------------------------------
def build_module(lib: Any, spec: Spec) -> Any:
    """``lib.nn.Sequential`` of the spec's layers (named as the spec names them)."""
    nn = lib.nn
    layers: OrderedDict[str, Any] = OrderedDict()
    for name, kind, *a in spec:
        if kind == "conv":
            cin, cout, k, p, bias = a
            layers[name] = nn.Conv2d(cin, cout, k, padding=p, bias=bias)
        elif kind == "bn":
            layers[name] = nn.BatchNorm2d(a[0])
        elif kind == "relu":
            layers[name] = nn.ReLU()
        elif kind == "pool":
            layers[name] = nn.MaxPool2d(a[0])
        elif kind == "flatten":
            layers[name] = nn.Flatten()
        elif kind == "linear":
            layers[name] = nn.Linear(a[0], a[1])
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    return nn.Sequential(layers)


def _lib(impl: str) -> Any:
    lib = importlib.import_module(PACKAGES[impl])
    if impl == "ours":
        importlib.import_module("tinygrad_cnn.nn")
        importlib.import_module("tinygrad_cnn.optim")
    return lib


class TorchLike:
    """A model, SGD with momentum and cross-entropy in ours or torch, on one fixed batch."""

    def __init__(self, impl: str, model: str, n: int) -> None:
        self.impl, self.lib = impl, _lib(impl)
        lib = self.lib
        lib.manual_seed(SEED)
        spec = MODELS[model][0]
        self.model = None
        if impl == "ours" and model == "seed":
            try:
                from tinygrad_cnn.models import SeedCNN
            except ImportError:  # the models package may not exist in an older checkout
                pass
            else:
                self.model = SeedCNN()
        if self.model is None:
            self.model = build_module(lib, spec)
        self.opt = lib.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        self.loss_fn = lib.nn.CrossEntropyLoss()
        self.set_batch(*batch(model, n))

    def set_batch(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = self.lib.tensor(x), self.lib.tensor(y)

    def step(self) -> Any:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss

    def loss(self) -> float:
        with self.lib.no_grad():
            return float(self.loss_fn(self.model(self.x), self.y).item())

    def infer(self) -> Any:
        with self.lib.no_grad():
            return self.model(self.x)

    def eval(self) -> None:
        self.model.eval()

    def numpy_state(self) -> dict[str, np.ndarray]:
        return {k: np.array(v.detach().numpy(), copy=True) for k, v in self.model.state_dict().items()}

    def load_numpy_state(self, state: dict[str, np.ndarray]) -> None:
        if self.impl == "torch":
            self.model.load_state_dict({k: self.lib.from_numpy(np.array(v)) for k, v in state.items()})
        else:
            self.model.load_state_dict(state)  # ours takes numpy arrays


# -- MyGrad -------------------------------------------------------------------------------------------------------
class MyGradNet:
    """The spec as ``mygrad.nnet`` calls over float32 parameter Tensors; hand-written momentum SGD.

    BatchNorm uses ``mygrad.nnet.batchnorm``: batch statistics only (MyGrad keeps no running statistics, so
    this does a little less work than ours and torch in training mode, and has no eval mode)."""

    def __init__(self, model: str, n: int) -> None:
        import mygrad as mg

        self.mg = mg
        self.spec = MODELS[model][0]
        rng = np.random.default_rng(SEED)
        self.params: dict[str, Any] = {}
        for name, kind, *a in self.spec:
            if kind == "conv":
                cin, cout, k, _, bias = a
                self._param(rng, f"{name}.weight", (cout, cin, k, k), cin * k * k)
                if bias:
                    self._param(rng, f"{name}.bias", (cout,), cin * k * k)
            elif kind == "linear":
                self._param(rng, f"{name}.weight", (a[1], a[0]), a[0])
                self._param(rng, f"{name}.bias", (a[1],), a[0])
            elif kind == "bn":
                self.params[f"{name}.weight"] = mg.Tensor(np.ones(a[0], dtype=np.float32))
                self.params[f"{name}.bias"] = mg.Tensor(np.zeros(a[0], dtype=np.float32))
        self.buffers: dict[str, np.ndarray] = {}
        self.set_batch(*batch(model, n))

    def _param(self, rng: np.random.Generator, key: str, shape: tuple[int, ...], fan_in: int) -> None:
        bound = 1 / np.sqrt(fan_in)  # torch's default init of conv and linear layers
        self.params[key] = self.mg.Tensor(rng.uniform(-bound, bound, shape).astype(np.float32))

    def set_batch(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def forward(self, x: Any) -> Any:
        from mygrad.nnet import batchnorm, conv_nd, max_pool, relu

        p, h = self.params, x
        for name, kind, *a in self.spec:
            if kind == "conv":
                h = conv_nd(h, p[f"{name}.weight"], stride=1, padding=a[3])
                if a[4]:
                    h = h + p[f"{name}.bias"].reshape(1, -1, 1, 1)
            elif kind == "bn":
                h = batchnorm(h, gamma=p[f"{name}.weight"], beta=p[f"{name}.bias"], eps=BN_EPS)
            elif kind == "relu":
                h = relu(h)
            elif kind == "pool":
                h = max_pool(h, (a[0], a[0]), a[0])
            elif kind == "flatten":
                h = h.reshape(h.shape[0], -1)
            elif kind == "linear":
                h = self.mg.matmul(h, p[f"{name}.weight"].T) + p[f"{name}.bias"]
        return h

    def step(self) -> Any:
        from mygrad.nnet import softmax_crossentropy

        loss = softmax_crossentropy(self.forward(self.x), self.y)
        loss.backward()
        for key, param in self.params.items():  # torch's SGD: b = g at first, then b = m * b + g; p -= lr * b
            g = param.grad
            buf = self.buffers.get(key)
            if buf is None:
                self.buffers[key] = buf = np.array(g, dtype=np.float32, copy=True)
            else:
                buf *= MOMENTUM
                buf += g
            param.data -= LR * buf
        return loss

    def loss(self) -> float:
        from mygrad.nnet import softmax_crossentropy

        with self.mg.no_autodiff:
            return float(softmax_crossentropy(self.forward(self.x), self.y).item())

    def infer(self) -> Any:
        with self.mg.no_autodiff:
            return self.forward(self.x)

    def eval(self) -> None:
        if any(kind == "bn" for _, kind, *_ in self.spec):
            raise NotImplementedError("MyGrad's batchnorm has no running statistics, hence no eval mode")

    def numpy_state(self) -> dict[str, np.ndarray]:
        return {k: np.array(v.data, copy=True) for k, v in self.params.items()}

    def load_numpy_state(self, state: dict[str, np.ndarray]) -> None:
        for key, param in self.params.items():
            param.data[...] = state[key]  # running statistics in `state` have no counterpart here


def build(impl: str, model: str, n: int) -> Any:
    """A trainer for ``model`` ("ref", "ref_bn", "seed") in ``impl`` on a fixed batch of ``n``."""
    if impl == "mygrad":
        return MyGradNet(model, n)
    return TorchLike(impl, model, n)


# -- conv2d layers: reuse bench/conv.py's cases and preparation ---------------------------------------------------
def conv_case(key: str, n: int) -> Any:
    """bench/conv.py's conv case ``key`` ("conv3" or "conv32") with batch ``n``."""
    import conv

    case = conv.CASES_BY_KEY[key]
    shapes = dict(case.shapes, input=(n, *case.shapes["input"][1:]))
    return dataclasses.replace(case, shapes=shapes, out_shape=(n, *case.out_shape[1:]))


class MyGradConv:
    """A conv case in MyGrad: ``conv_nd`` plus bias, the same inputs and output gradient as bench/conv.py."""

    def __init__(self, case: Any) -> None:
        import conv
        import mygrad as mg

        arrays, self.g = conv.case_arrays(case)
        self.x, self.w, self.b = (mg.Tensor(arrays[k]) for k in ("input", "weight", "bias"))

    def forward(self) -> Any:
        from mygrad.nnet import conv_nd

        return conv_nd(self.x, self.w, stride=1, padding=1) + self.b.reshape(1, -1, 1, 1)

    def forward_backward(self) -> Any:
        y = self.forward()
        y.backward(self.g)
        return y


def prepare_conv(impl: str, key: str, n: int) -> Any:
    """An object with ``forward()`` and ``forward_backward()`` for conv case ``key`` in ``impl``."""
    case = conv_case(key, n)
    if impl == "mygrad":
        return MyGradConv(case)
    import conv

    return conv.prepare(case, impl)


# -- per-op overhead: bench/overhead.py's chain ---------------------------------------------------------------------
def overhead_mygrad(n_ops: int, repeats: int, warmup: int) -> tuple[float, float]:
    """overhead.py's chain (mul, add, tanh, relu) in MyGrad: seconds for forward and forward+backward."""
    import mygrad as mg
    from _harness import median_seconds
    from mygrad.nnet import relu
    from overhead import ADD, MUL, SHAPE

    x = mg.Tensor(np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32))

    def chain() -> Any:
        y = x
        for i in range(n_ops):
            k = i % 4
            y = y * MUL if k == 0 else y + ADD if k == 1 else mg.tanh(y) if k == 2 else relu(y)
        return y

    def fwd_bwd() -> Any:
        chain().sum().backward()
        return x.grad

    return median_seconds(chain, repeats, warmup), median_seconds(fwd_bwd, repeats, warmup)


# -- peak memory --------------------------------------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _maxrss_kb() -> int:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r  # bytes on macOS, KiB on Linux


def peak_memory(impl: str, model: str, n: int, steps: int) -> dict[str, Any]:
    """Peak RSS growth (MiB) of building ``model`` and running ``steps`` training steps in ``impl``, and the
    process's peak resident set during them (``total``: interpreter, library and batch included).

    The baseline is the resident size after importing the library and making the batch. On Linux the
    high-water mark is reset there (``/proc/self/clear_refs``), so the peak is VmHWM after the steps; elsewhere
    it is ``ru_maxrss``, which also counts the import's own peak (flagged by ``hwm_reset: false``)."""
    if impl == "mygrad":
        importlib.import_module("mygrad.nnet")
    else:
        _lib(impl)
    batch(model, n)
    base = _status_kb("VmRSS")
    reset = False
    if base is not None:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
                f.write("5")
            reset = True
        except OSError:
            pass
    else:
        base = _maxrss_kb()
    trainer = build(impl, model, n)
    for _ in range(steps):
        trainer.step()
    peak = (_status_kb("VmHWM") if reset else None) or _maxrss_kb()
    return {"peak": (peak - base) / 1024, "total": peak / 1024, "baseline": base / 1024, "hwm_reset": reset}


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default os.environ) with the BLAS/OpenMP thread counts set to ``threads`` (0: untouched)."""
    env = dict(os.environ if base is None else base)
    if threads > 0:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    return env
