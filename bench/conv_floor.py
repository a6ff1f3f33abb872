"""How close can an im2col + GEMM convolution in numpy come to PyTorch? Its bare work against torch's whole conv.

For each conv case of ``bench/conv.py`` (batch 64, 3x3, padding 1, with bias: 3 -> 32 on 32x32 and
32 -> 64 on 16x16), forward + backward (gradients of input, weight and bias), this times in fresh processes,
alternating:

* ``torch``: PyTorch eager's ``F.conv2d`` forward + backward, as ``bench/conv.py`` times it;
* ``ours``: ``tinygrad_cnn.nn.functional.conv2d`` forward + backward, likewise;
* ``gemms``: the three products any im2col + GEMM convolution must run, on ready-made page-aligned float32
  operands: the forward ``W @ cols`` (O x (K+1), the bias riding as one more column over a row of ones,
  times (K+1) x M), the weight and bias gradient ``G @ cols.T`` and the input gradient's columns ``W.T @ G``
  (K = C * 9 rows, M = N * H * W pixels). Each product in the faster of its two operand orders (the result
  or its transpose), measured here;
* ``floor``: ``gemms`` plus the two passes over the K x M columns that no im2col convolution escapes:
  im2col's nine strided copies from the padded input into the columns, and col2im's nine adds of the
  input gradient's columns into a padded image, here as the cheapest adds that read those bytes (contiguous
  runs of whole images, not the shifted windows a real col2im needs). Relayouts between NCHW and the
  channel-major matrices, bookkeeping and the autograd engine are left out: ``floor`` is a lower bound
  for any implementation of this kind, ours or hand-written.

The table gives the medians over rounds and the median per-round ratio to torch. When ``floor / torch``
exceeds a target ratio, no im2col + BLAS GEMM design on this machine meets it.

Run: ``python bench/conv_floor.py [--rounds 5] [--repeats 10] [--threads N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

import numpy as np
from _harness import format_table, load_average, median_seconds, print_environment, run_worker
from _workloads import importable, thread_env
from conv import CASES_BY_KEY, prepare

CONV_CASES = ("conv3", "conv32")
IMPLS = ("torch", "ours", "gemms", "floor")
_PAGE = 4096


def aligned(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A C-contiguous float32 array of standard normals whose data starts on a page boundary (as our pooled
    buffers do; OpenBLAS runs 5-15% faster on those than on malloc's page + 16 bytes)."""
    n = int(np.prod(shape))
    raw = np.empty(n * 4 + _PAGE, dtype=np.uint8)
    start = -raw.ctypes.data % _PAGE
    out = raw[start : start + n * 4].view(np.float32).reshape(shape)
    out[...] = rng.standard_normal(shape, dtype=np.float32)
    return out


def product_orders(a: np.ndarray, b: np.ndarray, repeats: int, warmup: int) -> tuple[float, float]:
    """Seconds of ``a @ b`` and of its transpose ``b.T @ a.T``, each on page-aligned C-contiguous copies of its
    operands into a preallocated C-contiguous result."""
    rng = np.random.default_rng(1)
    ops = {}
    for name, v in {"a": a, "b": b, "a.T": a.T, "b.T": b.T}.items():
        ops[name] = aligned(v.shape, rng)
        np.copyto(ops[name], v)
    out, out_t = aligned((a.shape[0], b.shape[1]), rng), aligned((b.shape[1], a.shape[0]), rng)
    straight = median_seconds(lambda: np.matmul(ops["a"], ops["b"], out=out), repeats, warmup)
    transposed = median_seconds(lambda: np.matmul(ops["b.T"], ops["a.T"], out=out_t), repeats, warmup)
    return straight, transposed


def bare_work(key: str, repeats: int, warmup: int) -> dict[str, Any]:
    """The GEMMs and the two column passes of ``key``'s conv, each timed alone (seconds)."""
    shapes = CASES_BY_KEY[key].shapes
    n, c, h, w = shapes["input"]
    o = shapes["weight"][0]
    k, m = c * 9, n * h * w
    rng = np.random.default_rng(0)
    weight, cols, g = aligned((o, k + 1), rng), aligned((k + 1, m), rng), aligned((o, m), rng)
    products = {  # name -> (a, b) of the product a @ b; its transpose is the other operand order
        "forward W @ cols": (weight, cols),  # (O, M)
        "weight grad G @ cols.T": (g, cols.T),  # (O, K + 1): weight and bias gradients
        "input grad W.T @ G": (weight[:, :k].T, g),  # (K, M): the input gradient's columns
    }
    parts, gemms = {}, 0.0
    for name, (a, b) in products.items():
        straight, transposed = product_orders(a, b, repeats, warmup)
        parts[name], parts[f"{name} transposed"] = straight, transposed
        gemms += min(straight, transposed)

    xp = aligned((c, n, h + 2, w + 2), rng)  # the padded input, channel-major as the columns are
    columns = aligned((c, 3, 3, n, h, w), rng)

    def im2col() -> None:
        for i in range(3):
            for j in range(3):
                np.copyto(columns[:, i, j], xp[:, :, i : i + h, j : j + w])

    acc = aligned((c, n, (h + 2) * (w + 2)), rng)
    flat = columns.reshape(c, 9, n, h * w)

    def col2im() -> None:  # the same bytes as col2im, in the cheapest runs (a lower bound, not a col2im)
        for kk in range(9):
            acc[:, :, : h * w] += flat[:, kk]

    parts["im2col"] = median_seconds(im2col, repeats, warmup)
    parts["col2im"] = median_seconds(col2im, repeats, warmup)
    return {"gemms": gemms, "floor": gemms + parts["im2col"] + parts["col2im"], "parts": parts}


def worker(key: str, impl: str, repeats: int, warmup: int, threads: int) -> dict[str, Any]:
    """Seconds of forward + backward of ``key`` in ``impl`` ("torch", "ours" or "bare": gemms and floor)."""
    if impl == "bare":
        return bare_work(key, repeats, warmup)
    if impl == "torch" and threads > 0:
        import torch

        torch.set_num_threads(threads)
    p = prepare(CASES_BY_KEY[key], impl)
    return {impl: median_seconds(p.forward_backward, repeats, warmup)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="an im2col + GEMM conv's bare work against torch's whole conv")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before timing (default 2)")
    parser.add_argument("--threads", type=int, default=0, help="BLAS/OpenMP/torch threads (0: each default)")
    parser.add_argument("--cases", default=",".join(CONV_CASES), help="comma list of conv3, conv32")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        key, impl = args.worker
        print(json.dumps(worker(key, impl, args.repeats, args.warmup, args.threads)))
        return 0

    cases = [k.strip() for k in args.cases.split(",") if k.strip()]
    unknown = [k for k in cases if k not in CONV_CASES]
    if unknown:
        parser.error(f"unknown case: {', '.join(unknown)} (expected {', '.join(CONV_CASES)})")
    runners = ["ours", "bare"] + (["torch"] if importable("torch") else [])
    env = thread_env(args.threads)
    print_environment()
    print(f"threads: {args.threads or 'each library default'}; {load_average()}")
    if "torch" not in runners:
        print("torch not importable: no torch column, no ratios")
    times: dict[tuple[str, str], list[float]] = {}  # (case, impl) -> seconds per round
    ratios: dict[tuple[str, str], list[float]] = {}  # (case, impl) -> impl / torch per round
    parts: dict[str, dict[str, list[float]]] = {}
    errors: list[str] = []
    worker_args = ["--repeats", str(args.repeats), "--warmup", str(args.warmup), "--threads", str(args.threads)]
    for r in range(args.rounds):
        print(f"  round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        for key in cases:
            got: dict[str, float] = {}
            for runner in runners:
                res = run_worker(__file__, ["--worker", key, runner, *worker_args], env=env)
                if "error" in res:
                    errors.append(f"{key}, {runner}, round {r + 1}: {res['error']}")
                    continue
                for name, value in res.pop("parts", {}).items():
                    parts.setdefault(key, {}).setdefault(name, []).append(value)
                got.update(res)
            for impl, value in got.items():
                times.setdefault((key, impl), []).append(value)
                if "torch" in got:
                    ratios.setdefault((key, impl), []).append(value / got["torch"])

    rows = []
    for key in cases:
        for impl in IMPLS:
            t, q = times.get((key, impl), []), ratios.get((key, impl), [])
            rows.append([
                f"{CASES_BY_KEY[key].label} fwd+bwd", impl,
                f"{statistics.median(t) * 1e3:.2f}" if t else "-",
                f"{statistics.median(q):.2f}x" if q else "-",
                f"{min(q):.2f}-{max(q):.2f}" if q else "-",
            ])  # fmt: skip
    print()
    print(format_table(["case", "what", "ms", "/ torch", "range"], rows))
    print("ms: median over rounds; / torch: median of the per-round ratios; range: their min-max")
    for key in cases:
        detail = ", ".join(f"{name} {statistics.median(v) * 1e3:.2f}" for name, v in parts.get(key, {}).items())
        print(f"{key} parts (ms): {detail}")
    print(f"at the end: {load_average()}")
    for e in errors:
        print(f"error: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
