"""CNN layer speed: conv2d, max_pool2d and batch_norm, forward and forward+backward, against torch eager.

Cases (float32, through the public ``tinygrad_cnn.nn.functional`` and ``torch.nn.functional``):

* conv2d, batch 64, 3 -> 32 channels on 32x32 and 32 -> 64 channels on 16x16, 3x3, padding 1, with bias;
* max_pool2d 2x2 on (64, 32, 32, 32);
* batch_norm, training mode (batch statistics, running stats updated), with weight and bias, on (64, 32, 32, 32).

"forward" records the graph (the inputs require grad); "forward+backward" is ``y.backward(g)`` with a fixed
random ``g``, leaf gradients cleared before each call. An op that ``tinygrad_cnn.nn.functional`` does not
have yet is skipped with a note.

Method, for a shared, noisy machine: every measurement runs in a fresh process
(``python bench/conv.py --worker CASE IMPL``), ours and torch alternating (ours, torch, ours, torch, ...)
over ``--rounds`` rounds; a measurement is the median of ``--repeats`` calls after ``--warmup`` calls. The
table gives the median over rounds of each, and the median of the per-round ratios ours/torch with their
range. Before timing, each case is checked once: our output, input gradients and updated running stats,
from the same inputs, must match torch's within rtol 1e-4 (plus atol 1e-4 * the tensor's max magnitude, for
entries that cancel to near zero). torch runs with its default thread count.

Run: ``python bench/conv.py [--rounds 5] [--repeats 10] [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from _harness import cpu_model, format_table, load_average, median_seconds, print_environment, run_worker

SEED = 0
RTOL = 1e-4
IMPLS = {"ours": "tinygrad_cnn", "torch": "torch"}  # implementation -> package
MODES = ("forward", "forward+backward")


@dataclass(frozen=True)
class Case:
    key: str  # the CASE argument of --worker
    label: str  # the row label
    op: str  # the function's name in tinygrad_cnn.nn.functional and torch.nn.functional
    shapes: dict[str, tuple[int, ...]]  # the arrays passed, in float32, drawn from N(0, 1) unless noted
    grads: tuple[str, ...]  # the arrays that require grad
    out_shape: tuple[int, ...]
    call: Callable[[Any, dict[str, Any]], Any]  # (functional module, tensors by name) -> output


def _conv(f: Any, t: dict[str, Any]) -> Any:
    return f.conv2d(t["input"], t["weight"], t["bias"], 1, 1)


def _pool(f: Any, t: dict[str, Any]) -> Any:
    return f.max_pool2d(t["input"], 2)


def _bn(f: Any, t: dict[str, Any]) -> Any:
    return f.batch_norm(t["input"], t["running_mean"], t["running_var"], t["weight"], t["bias"], training=True)


CASES = [
    Case("conv3", "conv2d 64x3x32x32 -> 32, 3x3 p1", "conv2d",
         {"input": (64, 3, 32, 32), "weight": (32, 3, 3, 3), "bias": (32,)},
         ("input", "weight", "bias"), (64, 32, 32, 32), _conv),
    Case("conv32", "conv2d 64x32x16x16 -> 64, 3x3 p1", "conv2d",
         {"input": (64, 32, 16, 16), "weight": (64, 32, 3, 3), "bias": (64,)},
         ("input", "weight", "bias"), (64, 64, 16, 16), _conv),
    Case("pool", "max_pool2d 64x32x32x32, 2x2", "max_pool2d",
         {"input": (64, 32, 32, 32)}, ("input",), (64, 32, 16, 16), _pool),
    Case("bn", "batch_norm 64x32x32x32, train", "batch_norm",
         {"input": (64, 32, 32, 32), "weight": (32,), "bias": (32,), "running_mean": (32,), "running_var": (32,)},
         ("input", "weight", "bias"), (64, 32, 32, 32), _bn),
]  # fmt: skip
CASES_BY_KEY = {c.key: c for c in CASES}


def case_arrays(case: Case, dtype: type = np.float32) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The case's inputs and output gradient ``g``: the same numbers for every implementation."""
    rng = np.random.default_rng(SEED)
    arrays = {name: rng.standard_normal(shape) for name, shape in case.shapes.items()}
    if "running_var" in arrays:
        arrays["running_var"] = np.abs(arrays["running_var"]) + 0.5
    if case.key.startswith("conv"):
        arrays["weight"] /= np.sqrt(np.prod(case.shapes["weight"][1:]))  # keep outputs O(1)
    g = rng.standard_normal(case.out_shape)
    return {k: v.astype(dtype) for k, v in arrays.items()}, g.astype(dtype)


@dataclass
class Prepared:
    """One case made ready to call in one library."""

    case: Case
    functional: Any  # tinygrad_cnn.nn.functional or torch.nn.functional
    tensors: dict[str, Any]
    g: Any

    def forward(self) -> Any:
        return self.case.call(self.functional, self.tensors)

    def forward_backward(self) -> Any:
        for name in self.case.grads:
            self.tensors[name].grad = None
        y = self.forward()
        y.backward(self.g)
        return y


def prepare(case: Case, impl: str, dtype: type = np.float32) -> Prepared:
    """Tensors for ``case`` in ``impl`` ("ours" or "torch"), which have the same ``tensor`` and functional API."""
    if impl not in IMPLS:
        raise ValueError(f"unknown implementation {impl!r}; expected one of {tuple(IMPLS)}")
    lib = importlib.import_module(IMPLS[impl])
    functional = importlib.import_module(f"{IMPLS[impl]}.nn.functional")
    arrays, g = case_arrays(case, dtype)
    tensors = {name: lib.tensor(a, requires_grad=name in case.grads) for name, a in arrays.items()}
    return Prepared(case, functional, tensors, lib.tensor(g))


def to_numpy(t: Any) -> np.ndarray:
    return t.detach().numpy()


# -- worker: one measurement in this process ------------------------------------------------------------------
def worker(case_key: str, impl: str, repeats: int, warmup: int) -> dict[str, float]:
    """Seconds per call (median of ``repeats``) of forward and of forward+backward."""
    p = prepare(CASES_BY_KEY[case_key], impl)
    return {
        "forward": median_seconds(p.forward, repeats, warmup),
        "forward+backward": median_seconds(p.forward_backward, repeats, warmup),
    }


# -- correctness ----------------------------------------------------------------------------------------------
def results(p: Prepared) -> dict[str, np.ndarray]:
    """After one forward+backward: the output, each input gradient, and every other array (state, e.g. the
    running statistics, which batch_norm updates in place)."""
    y = p.forward_backward()
    out = {"output": to_numpy(y)}
    for name, t in p.tensors.items():
        if name in p.case.grads:
            out[f"grad {name}"] = to_numpy(t.grad)
        elif name != "input":
            out[name] = to_numpy(t)
    return out


def scaled_error(a: np.ndarray, ref: np.ndarray) -> float:
    """max |a - ref| / max |ref| (in float64)."""
    d = np.abs(a.astype(np.float64) - ref.astype(np.float64)).max()
    return float(d / max(np.abs(ref).max(), np.finfo(np.float32).tiny))


def check(case: Case) -> tuple[bool, str]:
    """Compare our results with torch's from the same float32 inputs; on a mismatch, both against float64."""
    try:
        ours = results(prepare(case, "ours"))
    except Exception as e:  # a colleague's op may be mid-edit: report, keep benchmarking the rest
        return False, f"ERROR in ours: {type(e).__name__}: {e}"
    ref = results(prepare(case, "torch"))
    errors, problems, mismatched = [], [], []
    for name, r in ref.items():
        a = ours.get(name)
        if a is None or a.shape != r.shape or a.dtype != r.dtype:
            got = "missing" if a is None else f"{a.dtype} {a.shape}"
            problems.append(f"{name}: ours {got}, torch {r.dtype} {r.shape}")
            continue
        errors.append(f"{name} {scaled_error(a, r):.1e}")
        if not np.allclose(a, r, rtol=RTOL, atol=RTOL * float(np.abs(r).max())):
            mismatched.append(name)
    msg = ", ".join(errors) + " (max |ours - torch| / max |torch|)"
    if mismatched:
        ref64 = results(prepare(case, "torch", np.float64))
        problems += [
            f"{name}: shape {ref[name].shape}, max abs err {np.abs(ours[name] - ref[name]).max():.3e}; "
            f"vs float64: ours {scaled_error(ours[name], ref64[name]):.1e}, "
            f"torch {scaled_error(ref[name], ref64[name]):.1e}"
            for name in mismatched
        ]
    return not problems, msg + "".join(f"\n    mismatch: {p}" for p in problems)


# -- driver ---------------------------------------------------------------------------------------------------
def import_torch() -> Any:
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def available_ops() -> tuple[set[str], str]:
    """The case ops that tinygrad_cnn.nn.functional has, and why the others are missing."""
    try:
        import tinygrad_cnn.nn.functional as ours_f
    except Exception as e:
        return set(), f"tinygrad_cnn.nn.functional not importable: {type(e).__name__}: {e}"
    return {c.op for c in CASES if callable(getattr(ours_f, c.op, None))}, "not in tinygrad_cnn.nn.functional yet"


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.2f}" if values else "-"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="conv2d / max_pool2d / batch_norm speed against torch eager")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5; 2 with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per measurement (default 10; 3 quick)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before timing (default 2)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer rounds and repeats")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    repeats = args.repeats or (3 if args.quick else 10)

    if args.worker:
        case_key, impl = args.worker
        print(json.dumps(worker(case_key, impl, repeats, args.warmup)))
        return

    torch = import_torch()
    print_environment()  # after importing torch, so that its OpenMP runtime is listed too
    print(f"cpu: {cpu_model()}; {load_average()}")
    if torch is None:
        print("torch not importable: timing ours only, no ratio, no correctness check")
        impls: tuple[str, ...] = ("ours",)
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads (default)")
        impls = tuple(IMPLS)

    have, why_missing = available_ops()
    cases = [c for c in CASES if c.op in have]
    for c in CASES:
        if c.op not in have:
            print(f"skipped: {c.label}: {c.op} {why_missing}")

    checks: dict[str, str] = {}
    if torch is not None and cases:
        print(f"\ncorrectness vs torch, same float32 inputs, rtol {RTOL:.0e}:")
        for c in cases:
            ok, msg = check(c)
            checks[c.key] = "OK" if ok else "FAIL"
            print(f"  {checks[c.key]:4} {c.label}: {msg}")

    order = "ours and torch alternating" if len(impls) == 2 else "ours only"
    print(f"\n{rounds} rounds, one process per measurement, {order}; "
          f"each = median of {repeats} calls after {args.warmup} warm-up", flush=True)  # fmt: skip
    times: dict[tuple[str, str, str], list[float]] = {}  # (case, impl, mode) -> seconds per round
    ratios: dict[tuple[str, str], list[float]] = {}  # (case, mode) -> ours/torch per round
    errors: list[str] = []
    for r in range(rounds):
        print(f"  round {r + 1}/{rounds}", file=sys.stderr, flush=True)
        for c in cases:
            got = {}
            for impl in impls:
                res = run_worker(__file__, ["--worker", c.key, impl, "--repeats", str(repeats),
                                            "--warmup", str(args.warmup)])  # fmt: skip
                if "error" in res:
                    errors.append(f"{c.label}, {impl}, round {r + 1}: {res['error']}")
                    continue
                got[impl] = res
                for mode in MODES:
                    times.setdefault((c.key, impl, mode), []).append(res[mode])
            if len(got) == 2:
                for mode in MODES:
                    ratios.setdefault((c.key, mode), []).append(got["ours"][mode] / got["torch"][mode])

    header = ["case", "ours ms", "torch ms", "ours/torch", "range", "vs torch"]
    rows = []
    for c in CASES:
        if c not in cases:
            rows.append([c.label, "-", "-", "-", "-", "skipped"])
            continue
        for mode in MODES:
            rs = ratios.get((c.key, mode), [])
            rows.append([
                f"{c.label} {mode}",
                median_ms(times.get((c.key, "ours", mode), [])),
                median_ms(times.get((c.key, "torch", mode), [])),
                f"{statistics.median(rs):.2f}x" if rs else "-",
                f"{min(rs):.2f}-{max(rs):.2f}" if rs else "-",
                checks.get(c.key, "-"),
            ])  # fmt: skip
    print()
    print(format_table(header, rows) if rows else "nothing to time")
    print("ms: median over rounds; ours/torch: median of the per-round ratios; range: their min-max")
    print(f"at the end: {load_average()}")
    for e in errors:
        print(f"error: {e}")


if __name__ == "__main__":
    main()
