"""The reference training step written by hand in plain numpy, against tinygrad_cnn and PyTorch eager.

Issue #5 measures the framework against "a hand-written numpy forward/backward of a small CNN". This script
is that baseline: bench/suite.py's step (2) -- conv 3->32 3x3 p1, ReLU, max pool 2, conv 32->64 3x3 p1, ReLU,
max pool 2, flatten, linear 4096->256, ReLU, linear 256->10, cross-entropy, SGD with momentum 0.9, batch 64,
float32 -- as plain numpy calls, no framework and no graph, written the way a numpy programmer would:
im2col as nine strided copies into a (C * 9, N * H * W) matrix, one GEMM per convolution, col2im as nine
slice-adds, 2x2 max pooling over the four strided views with masks of the first maximum, the usual stable
softmax. It uses nothing from tinygrad_cnn, so it shows what the framework costs (or saves) over plain numpy.

Method, as bench/suite.py: every measurement in a fresh process, hand-written / ours / torch alternating over
``--rounds`` rounds, each the median of ``--repeats`` steps after ``--warmup``; the table gives the medians
and the median per-round ratios. Before timing, the hand-written step's losses over 5 steps from torch's
initial weights, and the loss after them, must match torch's within rtol 1e-4 (else exit status 1).

Run: ``python bench/handwritten.py [--rounds 5] [--repeats 20] [--threads N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

import numpy as np
from _harness import format_table, load_average, median_seconds, print_environment, run_worker
from _workloads import thread_env

LR, MOMENTUM = 0.01, 0.9
IMPLS = ("hand", "ours", "torch")


class HandWrittenCNN:
    """bench/suite.py's reference CNN and its SGD-momentum step in plain numpy (float32, NCHW).

    Parameters are named as torch's ``state_dict`` of the ``nn.Sequential`` (``0`` and ``3`` convs, ``7`` and
    ``9`` linears), so torch's initial weights load directly."""

    def __init__(self, x: np.ndarray, y: np.ndarray, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        shapes = {"0": ((32, 3, 3, 3), 27), "3": ((64, 32, 3, 3), 288), "7": ((256, 4096), 4096), "9": ((10, 256), 256)}
        self.params: dict[str, np.ndarray] = {}
        for name, (shape, fan_in) in shapes.items():
            bound = 1 / np.sqrt(fan_in)
            self.params[f"{name}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
            self.params[f"{name}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(np.float32)
        self.momentum: dict[str, np.ndarray] = {}
        self.set_batch(x, y)

    def set_batch(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def load_numpy_state(self, state: dict[str, np.ndarray]) -> None:
        self.params = {k: np.array(v, dtype=np.float32) for k, v in state.items()}
        self.momentum = {}

    # -- layers: forward returns what backward needs -------------------------------------------------------
    @staticmethod
    def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """3x3 conv, padding 1: (N, C, H, W) -> (N, O, H, W), and the im2col matrix (C * 9, N * H * W)."""
        n, c, h, wd = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = np.empty((c, 3, 3, n, h, wd), dtype=x.dtype)
        for i in range(3):
            for j in range(3):
                cols[:, i, j] = xp[:, :, i : i + h, j : j + wd].transpose(1, 0, 2, 3)
        cols = cols.reshape(c * 9, n * h * wd)
        out = w.reshape(w.shape[0], -1) @ cols + b[:, None]  # (O, N * H * W)
        return np.ascontiguousarray(out.reshape(-1, n, h, wd).transpose(1, 0, 2, 3)), cols

    @staticmethod
    def conv_backward(
        g: np.ndarray, w: np.ndarray, cols: np.ndarray, need_x: bool
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """Input (if ``need_x``), weight and bias gradients of ``conv_forward`` from the output gradient."""
        n, o, h, wd = g.shape
        c = w.shape[1]
        g2 = g.transpose(1, 0, 2, 3).reshape(o, -1)  # (O, N * H * W)
        gw = (g2 @ cols.T).reshape(w.shape)
        gb = g2.sum(axis=1)
        if not need_x:
            return None, gw, gb
        dcols = (w.reshape(o, -1).T @ g2).reshape(c, 3, 3, n, h, wd)
        gxp = np.zeros((c, n, h + 2, wd + 2), dtype=g.dtype)
        for i in range(3):
            for j in range(3):
                gxp[:, :, i : i + h, j : j + wd] += dcols[:, i, j]
        return np.ascontiguousarray(gxp[:, :, 1:-1, 1:-1].transpose(1, 0, 2, 3)), gw, gb

    @staticmethod
    def pool_forward(x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """2x2 max pool, stride 2, over the four strided views of the input: the max, and for each view the
        mask of the windows whose first maximum it holds (PyTorch routes the gradient to the first)."""
        views = [x[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        out = np.maximum(np.maximum(views[0], views[1]), np.maximum(views[2], views[3]))
        taken = np.zeros(out.shape, dtype=bool)
        masks = []
        for v in views:
            m = (v == out) & ~taken
            taken |= m
            masks.append(m)
        return out, masks

    @staticmethod
    def pool_backward(g: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
        n, c, ho, wo = g.shape
        gx = np.empty((n, c, ho * 2, wo * 2), dtype=g.dtype)
        for (i, j), m in zip(((0, 0), (0, 1), (1, 0), (1, 1)), masks):
            gx[:, :, i::2, j::2] = g * m
        return gx

    # -- the step -----------------------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        p = self.params
        y1, cols1 = self.conv_forward(x, p["0.weight"], p["0.bias"])
        r1 = np.maximum(y1, 0)
        p1, m1 = self.pool_forward(r1)
        y2, cols2 = self.conv_forward(p1, p["3.weight"], p["3.bias"])
        r2 = np.maximum(y2, 0)
        p2, m2 = self.pool_forward(r2)
        f = p2.reshape(len(x), -1)
        h = f @ p["7.weight"].T + p["7.bias"]
        hr = np.maximum(h, 0)
        logits = hr @ p["9.weight"].T + p["9.bias"]
        return logits, dict(cols1=cols1, y1=y1, m1=m1, cols2=cols2, y2=y2, m2=m2, f=f, h=h, hr=hr)

    def step(self) -> float:
        """One SGD-momentum step on the batch; returns the loss before it."""
        p, n = self.params, len(self.x)
        logits, s = self.forward(self.x)
        loss, d = self.cross_entropy(logits, self.y)
        d[np.arange(n), self.y] -= 1  # the logits' gradient: (softmax - one-hot) / N
        d /= n
        g = {"9.weight": d.T @ s["hr"], "9.bias": d.sum(axis=0)}
        dh = (d @ p["9.weight"]) * (s["h"] > 0)
        g["7.weight"], g["7.bias"] = dh.T @ s["f"], dh.sum(axis=0)
        dp2 = (dh @ p["7.weight"]).reshape(n, 64, 8, 8)
        dy2 = self.pool_backward(dp2, s["m2"]) * (s["y2"] > 0)
        dp1, g["3.weight"], g["3.bias"] = self.conv_backward(dy2, p["3.weight"], s["cols2"], need_x=True)
        assert dp1 is not None
        dy1 = self.pool_backward(dp1, s["m1"]) * (s["y1"] > 0)
        _, g["0.weight"], g["0.bias"] = self.conv_backward(dy1, p["0.weight"], s["cols1"], need_x=False)
        for k, grad in g.items():  # torch's SGD: buf = momentum * buf + grad (buf = grad at first), p -= lr * buf
            buf = self.momentum.get(k)
            self.momentum[k] = buf = grad if buf is None else MOMENTUM * buf + grad
            p[k] -= LR * buf
        return loss

    def loss(self) -> float:
        return self.cross_entropy(self.forward(self.x)[0], self.y)[0]

    @staticmethod
    def cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """The mean cross-entropy of ``logits`` (N, classes) against labels ``y`` (N,), and the softmax."""
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(y)), y].mean()), np.exp(log_probs)


def build(impl: str, n: int) -> Any:
    import _workloads as w

    if impl == "hand":
        return HandWrittenCNN(*w.batch("ref", n))
    return w.build(impl, "ref", n)


def check(n: int, steps: int = 5) -> dict[str, Any]:
    """Losses of ``steps`` steps and one more forward, hand-written and torch, from torch's initial weights."""
    import _workloads as w

    ref = w.build("torch", "ref", n)
    hand = HandWrittenCNN(*w.batch("ref", n))
    hand.load_numpy_state(ref.numpy_state())
    losses: dict[str, list[float]] = {"hand": [], "torch": []}
    for i in range(steps):
        for impl, t in (("hand", hand), ("torch", ref)):
            t.set_batch(*w.batch("ref", n, index=i))
            losses[impl].append(float(t.step() if impl == "hand" else t.step().item()))
    for impl, t in (("hand", hand), ("torch", ref)):
        t.set_batch(*w.batch("ref", n, index=steps))
        losses[impl].append(t.loss())
    return losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="BLAS and torch threads (0: each library's default)")
    parser.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        print(json.dumps(check(args.batch)))
        return 0
    if args.worker:
        if args.worker == "torch" and args.threads > 0:
            import torch

            torch.set_num_threads(args.threads)
        t = build(args.worker, args.batch)
        print(json.dumps({"step": median_seconds(t.step, args.repeats, args.warmup)}))
        return 0

    print_environment()
    print(load_average())
    have_torch = "error" not in (checked := run_worker(__file__, ["--check", "--batch", str(args.batch)]))
    status = 0
    if have_torch:
        hand, ref = np.array(checked["hand"]), np.array(checked["torch"])
        ok = bool(np.allclose(hand, ref, rtol=1e-4, atol=0))
        status = 0 if ok else 1
        err = np.max(np.abs(hand / ref - 1))
        print(f"check: hand-written losses vs torch's (5 steps and the loss after them), max rel err {err:.1e}: "
              f"{'OK' if ok else 'FAIL'}")  # fmt: skip
    else:
        print(f"torch unavailable ({checked['error']}): hand-written vs ours only, no check")
    impls = [i for i in IMPLS if i != "torch" or have_torch]
    common = ["--batch", str(args.batch), "--repeats", str(args.repeats), "--warmup", str(args.warmup)]
    common += ["--threads", str(args.threads)]
    times: dict[str, list[float]] = {i: [] for i in impls}
    for _ in range(args.rounds):
        for impl in impls:
            result = run_worker(__file__, ["--worker", impl, *common], env=thread_env(args.threads))
            if "error" in result:
                print(f"{impl}: {result['error']}", file=sys.stderr)
                return 1
            times[impl].append(result["step"] * 1e3)
    print(load_average())
    rows = []
    for impl in impls:
        ratios = {
            other: statistics.median(a / b for a, b in zip(times[impl], times[other])) for other in ("hand", "torch")
            if other in times
        }  # fmt: skip
        rows.append([
            {"hand": "hand-written numpy", "ours": "tinygrad_cnn", "torch": "torch eager"}[impl],
            f"{statistics.median(times[impl]):.2f}", f"{min(times[impl]):.2f}-{max(times[impl]):.2f}",
            f"{ratios['hand']:.2f}x", f"{ratios['torch']:.2f}x" if "torch" in ratios else "-",
        ])  # fmt: skip
    print(f"reference training step, batch {args.batch}, {args.rounds} rounds, "
          f"threads: {args.threads or 'each library default'}")  # fmt: skip
    print(format_table(["implementation", "ms", "range", "/ hand-written", "/ torch"], rows))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
