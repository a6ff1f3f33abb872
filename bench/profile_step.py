"""Where a training step's time goes: cProfile of bench/suite.py's workloads in tinygrad_cnn, by category.

Runs ``--steps`` training steps of a suite model ("ref" = (2), "ref_bn" = (3), "seed" = (5); or "infer" = (4))
at batch 64, first untimed-profiler-free (the step time, median), then under cProfile, and prints:

* the step's time split into categories (GEMMs, im2col, col2im, layout transposes, pooling, elementwise,
  loss, optimizer, autograd engine, Function/Tensor bookkeeping, ...). The time of a call that cProfile
  sees (a Python function or a builtin) goes to the innermost tinygrad_cnn function on its stack, so e.g.
  ``np.ascontiguousarray`` called by ``kernels.im2col`` counts as im2col. numpy operators and ufuncs
  (``a @ b``, ``x + y``) are invisible to cProfile and count in the function that runs them;
* the functions with the most own time (ms per step, after that attribution).

cProfile adds a fixed cost to every Python call, so the Python-overhead categories are inflated relative to
the step time printed first; ``--collapsed FILE`` summarises a py-spy recording (a sampling profiler with
little overhead) with the same categories instead::

    py-spy record --format raw --rate 250 -o /tmp/ref.txt -- python bench/profile_step.py --model ref --no-profile
    python bench/profile_step.py --collapsed /tmp/ref.txt

Run: ``python bench/profile_step.py [--model ref] [--steps 10] [--threads 1] [--top 25]``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

OWN = ("tinygrad_cnn/", "bench/")

# (path fragment, function name or "*") -> category; first match wins
CATEGORIES: list[tuple[str, str, str]] = [
    ("tinygrad_cnn/kernels.py", "_per_group", "GEMM: conv (kernels._per_group)"),
    ("tinygrad_cnn/kernels.py", "im2col", "im2col (pad + strided copy)"),
    ("tinygrad_cnn/kernels.py", "pad2d", "im2col (pad + strided copy)"),
    ("tinygrad_cnn/kernels.py", "col2im", "col2im (slice-adds + transpose)"),
    ("tinygrad_cnn/kernels.py", "channels_first", "layout: grad NCHW->CNHW (channels_first)"),
    ("tinygrad_cnn/kernels.py", "conv2d_forward", "layout: conv output CNHW->NCHW"),
    ("tinygrad_cnn/kernels.py", "max_pool", "max pool kernels"),
    ("tinygrad_cnn/kernels.py", "_pool_input", "max pool kernels"),
    ("tinygrad_cnn/kernels.py", "*", "other kernels glue"),
    ("tinygrad_cnn/functions/linalg.py", "*", "GEMM: linear (Matmul)"),
    ("tinygrad_cnn/functions/connection.py", "*", "conv Functions (bias add, bias grad, glue)"),
    ("tinygrad_cnn/functions/pooling.py", "*", "max pool Functions"),
    ("tinygrad_cnn/functions/activation.py", "*", "activations (ReLU)"),
    ("tinygrad_cnn/functions/normalization.py", "*", "batch norm"),
    ("tinygrad_cnn/functions/loss.py", "*", "loss (cross-entropy)"),
    ("tinygrad_cnn/functions/", "*", "elementwise / reductions / reshapes"),
    ("tinygrad_cnn/optim/", "*", "optimizer (SGD step, zero_grad)"),
    ("tinygrad_cnn/autograd/engine.py", "_accumulate", "autograd: leaf .grad copies / adds"),
    ("tinygrad_cnn/autograd/engine.py", "*", "autograd engine (walk, grad sums, checks)"),
    ("tinygrad_cnn/autograd/", "*", "Function.apply / ctx bookkeeping"),
    ("tinygrad_cnn/tensor.py", "*", "Tensor methods / construction"),
    ("tinygrad_cnn/nn/", "*", "nn.Module calls / layer glue"),
    ("tinygrad_cnn/", "*", "other tinygrad_cnn"),
    ("bench/", "*", "benchmark harness"),
]


def category(path: str, func: str) -> str:
    path = path.replace("\\", "/")
    for frag, name, cat in CATEGORIES:
        if frag in path and (name == "*" or func.startswith(name)):
            return cat
    return "other (outside tinygrad_cnn)"


def _own(path: str) -> bool:
    p = path.replace("\\", "/")
    return any(f in p for f in OWN)


def attribute(stats: pstats.Stats) -> dict[tuple[str, int, str], float]:
    """Own time per tinygrad_cnn/bench function, with every other function's own time handed up to its callers
    (in proportion to the cumulative time of each call edge) until it reaches one of ours."""
    raw: dict = stats.stats  # type: ignore[attr-defined]
    out: dict[tuple[str, int, str], float] = defaultdict(float)

    def give(func: tuple, amount: float, depth: int) -> None:
        if _own(func[0]) or depth > 30:
            out[func] += amount
            return
        callers = raw.get(func, (0, 0, 0, 0, {}))[4]
        weights = {c: e[3] for c, e in callers.items() if c != func}
        total = sum(weights.values())
        if total <= 0:
            weights = {c: e[2] for c, e in callers.items() if c != func}
            total = sum(weights.values())
        if total <= 0:
            out[("(outside)", 0, func[2])] += amount
            return
        for c, wgt in weights.items():
            give(c, amount * wgt / total, depth + 1)

    for func, (_, _, tt, _, _) in raw.items():
        if tt > 0:
            give(func, tt, 0)
    return out


def print_categories(times: dict[str, float], per: float, unit_total: float | None, title: str) -> None:
    total = sum(times.values())
    print(f"\n{title}")
    for cat, t in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"  {t / per * 1e3:8.2f} ms  {100 * t / total:5.1f}%  {cat}")
    line = f"  {total / per * 1e3:8.2f} ms  total per step"
    if unit_total:
        line += f" (without the profiler: {unit_total * 1e3:.2f} ms)"
    print(line)


def summarise_collapsed(path: str, top: int) -> None:
    """Categories and hottest innermost tinygrad_cnn frames of a py-spy ``--format raw`` recording."""
    cats: dict[str, float] = defaultdict(float)
    funcs: dict[str, float] = defaultdict(float)
    native: dict[str, float] = defaultdict(float)
    total = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            own = None
            for fr in reversed(frames):  # "func (path:line)"
                name, _, loc = fr.partition(" (")
                p = loc.rsplit(":", 1)[0]
                if "tinygrad_cnn/" in p or "bench/" in p:
                    own = (name, p)
                    break
            leaf = frames[-1].split(" (")[0] if frames else "?"
            if own is None:
                cats["other (outside tinygrad_cnn)"] += n
                continue
            cats[category(own[1], own[0])] += n
            funcs[f"{own[1].split('tinygrad_cnn/')[-1]}:{own[0]}"] += n
            if " (" not in frames[-1] or ".so" in frames[-1] or "[" in frames[-1]:
                native[leaf] += n
    print(f"py-spy samples: {total}")
    print("\nby category (share of samples):")
    for cat, n in sorted(cats.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * n / total:5.1f}%  {cat}")
    print(f"\ninnermost tinygrad_cnn function (top {top}):")
    for name, n in sorted(funcs.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / total:5.1f}%  {name}")
    if native:
        print(f"\nnative leaf frames (top {top}, with py-spy --native):")
        for name, n in sorted(native.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {100 * n / total:5.1f}%  {name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="cProfile a tinygrad_cnn training step by category")
    parser.add_argument("--model", default="ref", choices=("ref", "ref_bn", "seed", "infer"))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: default); set before numpy loads")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="only run the steps (for py-spy)")
    parser.add_argument("--collapsed", metavar="FILE", help="summarise a py-spy --format raw file and exit")
    args = parser.parse_args(argv)
    if args.collapsed:
        summarise_collapsed(args.collapsed, args.top)
        return
    if args.threads > 0:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _workloads as w  # noqa: E402  (after the thread variables)
    from _harness import load_average  # noqa: E402

    if args.model == "infer":
        t = w.build("ours", "ref", args.batch)
        t.eval()
        run: Any = t.infer
    else:
        t = w.build("ours", args.model, args.batch)
        run = t.step
    for _ in range(2):
        run()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    print(f"model {args.model}, batch {args.batch}, threads {args.threads or 'default'}: {step * 1e3:.2f} ms per "
          f"step (median of {args.steps}; min {min(times) * 1e3:.2f}); {load_average()}")  # fmt: skip
    if args.no_profile:
        return
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.steps):
        run()
    prof.disable()
    stats = pstats.Stats(prof)
    own = attribute(stats)
    cats: dict[str, float] = defaultdict(float)
    for (path, _, func), t_ in own.items():
        cats[category(path, func)] += t_
    print_categories(cats, args.steps, step, "cProfile, by category (per step; numpy/builtin time charged to the "
                     "innermost tinygrad_cnn caller):")  # fmt: skip
    print(f"\nown time after attribution, top {args.top} (ms per step):")
    raw: dict = stats.stats  # type: ignore[attr-defined]
    for (path, line, func), t_ in sorted(own.items(), key=lambda kv: -kv[1])[: args.top]:
        calls = raw.get((path, line, func), (0, 0))[1] / args.steps
        short = path.replace("\\", "/").split("tinygrad_cnn/")[-1]
        print(f"  {t_ / args.steps * 1e3:8.2f} ms  {calls:7.1f} calls  {short}:{line} {func}")


if __name__ == "__main__":
    main()
