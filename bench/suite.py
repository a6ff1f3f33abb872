"""The benchmark suite: tinygrad_cnn against PyTorch eager and MyGrad, from one interleaved run.

Rows (float32, batch 64 unless noted):

1. conv2d forward and forward+backward: 3 -> 32 channels on 32x32 and 32 -> 64 on 16x16, 3x3, padding 1;
2. the reference training step: conv 3->32 3x3 p1, ReLU, max pool 2, conv 32->64 3x3 p1, ReLU, max pool 2,
   flatten, linear 4096->256, ReLU, linear 256->10, cross-entropy, SGD with momentum, on 3x32x32;
3. the same with BatchNorm2d after each conv (convs without bias);
4. inference of (2) under no_grad in eval mode;
5. a SeedCNN training step on 1x28x28 (``tinygrad_cnn.models.SeedCNN``; the same network in torch / MyGrad);
6. peak memory of 3 steps of (2): the growth of the resident set over the process after imports and the
   process's whole peak resident set (library, interpreter and batch included);
7. per-op overhead on small tensors: bench/overhead.py's 1,000-op chain, forward and forward+backward.

Method, for a shared and noisy machine: every measurement runs in a fresh process
(``python bench/suite.py --worker CASE IMPL``), the implementations alternating (ours, torch, mygrad, ours,
torch, mygrad, ...) over ``--rounds`` rounds; a measurement is the median of ``--repeats`` calls after
``--warmup`` calls. The table gives the median over rounds of each time, the median of the per-round ratios
ours/torch (and their range) and mygrad/ours. By default every library keeps its own thread count (torch's
default settings, as the targets are stated); ``--threads N`` pins BLAS, OpenMP and torch to N threads in
every worker, which gives steadier figures on a loaded machine. When ``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` is
set, every measurement is also taken with both unset, in the same interleaved rounds, and both tables are
printed.

Before timing, one process checks the numbers: from torch's initial weights (copied into ours and MyGrad via
``state_dict`` as numpy arrays) and the same batches, the losses of 5 SGD-momentum steps and the loss after
them must match torch's within rtol 1e-4, for (2), (3) and (5), and (4)'s logits too; the conv cases are
checked by bench/conv.py's check (output and gradients). A failing check marks its rows FAIL and the exit
status is 1.

Run: ``python bench/suite.py [--rounds 5] [--quick] [--threads N] [--json PATH]``; ``--tiny`` is a smoke run
(batch 4, one round, one call each) for the tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from _harness import cpu_model, format_table, load_average, median_seconds, run_worker
from _workloads import IMPLS, importable, peak_memory, thread_env

RTOL = 1e-4
CHECK_STEPS = 5
MEMORY_STEPS = 3
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Case:
    key: str  # the CASE argument of --worker
    label: str
    kind: str  # conv, train, infer, memory, overhead
    model: str = ""  # for train / infer / memory: a key of _workloads.MODELS; for conv: bench/conv.py's case key
    check: str = ""  # the key of this case's correctness check


CASES = [
    Case("conv3", "(1) conv2d 3->32, 32x32", "conv", "conv3", "conv3"),
    Case("conv32", "(1) conv2d 32->64, 16x16", "conv", "conv32", "conv32"),
    Case("train", "(2) train step, reference CNN", "train", "ref", "ref"),
    Case("train_bn", "(3) train step, + BatchNorm2d", "train", "ref_bn", "ref_bn"),
    Case("infer", "(4) inference of (2), no_grad, eval", "infer", "ref", "infer"),
    Case("seed", "(5) train step, SeedCNN 1x28x28", "train", "seed", "seed"),
    Case("memory", f"(6) peak RSS of (2), {MEMORY_STEPS} steps", "memory", "ref", "ref"),  # growth, whole process
    Case("overhead", "(7) per-op overhead, 1000-op chain", "overhead"),
]
CASES_BY_KEY = {c.key: c for c in CASES}
# (metric key in the worker's result, row suffix, unit, scale from the worker's unit)
METRICS = {
    "conv": [("forward", " forward", "ms", 1e3), ("forward+backward", " fwd+bwd", "ms", 1e3)],
    "train": [("step", "", "ms", 1e3)],
    "infer": [("forward", "", "ms", 1e3)],
    "memory": [("peak", ", growth", "MiB", 1.0), ("total", ", process", "MiB", 1.0)],
    "overhead": [("forward", " forward", "us/op", 1e6), ("forward+backward", " fwd+bwd", "us/op", 1e6)],
}


@dataclass(frozen=True)
class Settings:
    rounds: int
    repeats: dict[str, int]  # per case kind
    warmup: int
    batch: int
    ops: int  # length of the overhead chain
    check_steps: int
    memory_steps: int


def settings(args: argparse.Namespace) -> Settings:
    if args.tiny:
        s = Settings(1, dict.fromkeys(("conv", "train", "infer", "overhead"), 1), 0, 4, 40, 2, MEMORY_STEPS)
    elif args.quick:
        s = Settings(2, dict.fromkeys(("conv", "train", "infer", "overhead"), 3), 1, 64, 1000, CHECK_STEPS, 3)
    else:
        s = Settings(5, {"conv": 10, "train": 5, "infer": 10, "overhead": 5}, 2, 64, 1000, CHECK_STEPS, 3)
    if args.rounds:
        s = dataclasses.replace(s, rounds=args.rounds)
    if args.repeats:
        s = dataclasses.replace(s, repeats=dict.fromkeys(s.repeats, args.repeats))
    if args.warmup is not None:
        s = dataclasses.replace(s, warmup=args.warmup)
    return s


# -- workers ------------------------------------------------------------------------------------------------------
def _set_torch_threads(impl: str, threads: int) -> None:
    if impl == "torch" and threads > 0:
        import torch

        torch.set_num_threads(threads)


def worker(case: Case, impl: str, s: Settings, threads: int) -> dict[str, float]:
    """One measurement of ``case`` in ``impl``, in this process: seconds (per call, or per op), or MiB."""
    import _workloads as w

    _set_torch_threads(impl, threads)
    reps = s.repeats.get(case.kind, 1)
    if case.kind == "conv":
        p = w.prepare_conv(impl, case.model, s.batch)
        return {
            "forward": median_seconds(p.forward, reps, s.warmup),
            "forward+backward": median_seconds(p.forward_backward, reps, s.warmup),
        }
    if case.kind == "train":
        t = w.build(impl, case.model, s.batch)
        return {"step": median_seconds(t.step, reps, max(s.warmup, 1))}  # the first step allocates momentum
    if case.kind == "infer":
        t = w.build(impl, case.model, s.batch)
        t.eval()
        return {"forward": median_seconds(t.infer, reps, s.warmup)}
    if case.kind == "memory":
        return peak_memory(impl, case.model, s.batch, s.memory_steps)
    if case.kind == "overhead":
        if impl == "mygrad":
            fwd, fb = w.overhead_mygrad(s.ops, reps, s.warmup)
        else:
            import overhead

            if impl == "ours":
                fwd, fb = overhead.bench_ours(s.ops, reps)
            else:
                import torch

                fwd, fb = overhead.bench_torch(torch, s.ops, reps)
        return {"forward": fwd / s.ops, "forward+backward": fb / s.ops}
    raise ValueError(f"unknown case kind {case.kind!r}")


def check_worker(
    s: Settings,
    impls: list[str],
    threads: int,
    models: tuple[str, ...] = ("ref", "ref_bn", "seed"),
    logits: bool = True,
    convs: tuple[str, ...] = ("conv3", "conv32"),
    libraries: bool = True,
) -> dict[str, Any]:
    """In this process: losses of ``check_steps`` steps (then one more forward) for every model in every
    implementation from torch's initial weights, (4)'s logits, bench/conv.py's conv checks, and the libraries."""
    import _workloads as w
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    out: dict[str, Any] = {"losses": {}, "logits": {}, "conv": {}, "libraries": _libraries(impls) if libraries else {}}
    for model in models:
        ref = w.build("torch", model, s.batch)
        state = ref.numpy_state()
        losses: dict[str, list[float]] = {}
        for impl in impls:
            t = ref if impl == "torch" else w.build(impl, model, s.batch)
            t.load_numpy_state(state)
            seq = []
            for i in range(s.check_steps):
                t.set_batch(*w.batch(model, s.batch, index=i))
                seq.append(float(t.step().item()))
            t.set_batch(*w.batch(model, s.batch, index=s.check_steps))
            seq.append(t.loss())
            losses[impl] = seq
        out["losses"][model] = losses
    ref = w.build("torch", "ref", s.batch)
    ref.eval()
    state = ref.numpy_state()
    for impl in impls if logits else ():
        t = ref if impl == "torch" else w.build(impl, "ref", s.batch)
        t.load_numpy_state(state)
        t.eval()
        y = t.infer()
        out["logits"][impl] = np.asarray(y.numpy() if hasattr(y, "numpy") else y).tolist()
    for key in convs:
        import conv

        try:
            ok, msg = conv.check(w.conv_case(key, s.batch))
        except Exception as e:  # report, keep going
            ok, msg = False, f"ERROR: {type(e).__name__}: {e}"
        out["conv"][key] = {"ok": ok, "msg": msg}
    return out


def _libraries(impls: list[str]) -> dict[str, Any]:
    """Versions, thread counts and the BLAS/OpenMP libraries loaded (threadpoolctl), with every library imported."""
    import importlib

    info: dict[str, Any] = {}
    for impl in impls:
        mod = importlib.import_module({"ours": "tinygrad_cnn", "torch": "torch", "mygrad": "mygrad"}[impl])
        info[impl] = getattr(mod, "__version__", "?")
    import torch

    info["torch_threads"] = torch.get_num_threads()
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped]
    except ImportError:
        info["threadpools"] = None
    else:
        keys = ("user_api", "internal_api", "version", "num_threads", "architecture", "filepath")
        info["threadpools"] = [{k: lib.get(k) for k in keys} for lib in threadpool_info()]
    return info


# -- checks ---------------------------------------------------------------------------------------------------------
def rel_err(a: Any, ref: Any) -> float:
    a, ref = np.asarray(a, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(a - ref) / np.maximum(np.abs(ref), np.finfo(np.float32).tiny)))


def evaluate_check(result: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Verdicts per check key ("OK"/"FAIL") and the lines to print."""
    verdicts: dict[str, str] = {}
    lines: list[str] = []
    names = {"ref": "(2) reference CNN", "ref_bn": "(3) + BatchNorm2d", "seed": "(5) SeedCNN"}
    for model, losses in result["losses"].items():
        ref = losses["torch"]
        parts, ok = [], True
        for impl in ("ours", "mygrad"):
            if impl in losses:
                e = rel_err(losses[impl], ref)
                parts.append(f"{impl} {e:.1e}")
                ok = ok and (impl != "ours" or e <= RTOL)  # MyGrad is reported, our own verdict is on ours
        verdicts[model] = "OK" if ok else "FAIL"
        lines.append(f"  {verdicts[model]:4} {names.get(model, model)}: losses torch "
                     f"{' '.join(f'{v:.6f}' for v in ref)}; max rel err vs torch: {', '.join(parts)}")  # fmt: skip
    logits = result["logits"]
    if "torch" in logits:
        ref = np.asarray(logits["torch"])
        scale = float(np.abs(ref).max())
        parts, ok = [], True
        for impl in ("ours", "mygrad"):
            if impl in logits:
                e = float(np.abs(np.asarray(logits[impl]) - ref).max() / scale)
                parts.append(f"{impl} {e:.1e}")
                ok = ok and (impl != "ours" or e <= RTOL)
        verdicts["infer"] = "OK" if ok else "FAIL"
        lines.append(f"  {verdicts['infer']:4} (4) eval logits: max |err| / max |torch|: {', '.join(parts)}")
    for key, r in result["conv"].items():
        verdicts[key] = "OK" if r["ok"] else "FAIL"
        lines.append(f"  {verdicts[key]:4} (1) {key} vs torch: {r['msg']}")
    return verdicts, lines


# -- environment ------------------------------------------------------------------------------------------------------
def cpu_details() -> str:
    """CPU family/model/stepping and the SIMD flags that pick BLAS kernels (Linux /proc/cpuinfo)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("cpu family", "model", "stepping", "flags") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip() and fields:
                    break
    except OSError:
        return ""
    flags = set(fields.get("flags", "").split())
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return (f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')} stepping "
            f"{fields.get('stepping', '?')}, {' '.join(simd) or 'no avx2'}")  # fmt: skip


def environment(threads: int) -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": f"{platform.machine()} {platform.system()}",
        "numpy": np.__version__,
        "cpu": cpu_model(),
        "cpu_details": cpu_details(),
        "logical_cores": os.cpu_count(),
        "threads": threads,
        "openblas_vars": {v: os.environ.get(v) for v in OPENBLAS_VARS},
    }
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped]
    except ImportError:
        env["numpy_blas"] = None
    else:
        env["numpy_blas"] = [
            {k: lib.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
            for lib in threadpool_info()
        ]
    return env


def print_environment_block(env: dict[str, Any], libraries: dict[str, Any] | None) -> None:
    print(f"python {env['python']} on {env['platform']}; numpy {env['numpy']}")
    print(f"cpu: {env['cpu']} ({env['cpu_details']}); {env['logical_cores']} logical cores")
    if env["numpy_blas"] is None:
        print("numpy BLAS: unknown (pip install threadpoolctl)")
    for lib in env["numpy_blas"] or []:
        print(f"numpy BLAS: {lib['internal_api']} {lib['version']}, kernel {lib['architecture']}, "
              f"{lib['threading_layer']} threading, {lib['num_threads']} threads by default")  # fmt: skip
    for var, value in env["openblas_vars"].items():
        print(f"{var}={'(unset)' if value is None else value}")
    if libraries:
        versions = ", ".join(f"{k} {v}" for k, v in libraries.items() if k in IMPLS)
        print(f"versions: {versions}; torch threads in the workers: {libraries.get('torch_threads')}")
        for lib in libraries.get("threadpools") or []:
            print(f"  worker threadpool: {lib['internal_api']} {lib['version']}, {lib['num_threads']} threads, "
                  f"{lib['architecture'] or ''} {os.path.basename(lib['filepath'] or '')}")  # fmt: skip
    t = env["threads"]
    print(f"threads: {t} per library (OMP/OPENBLAS/MKL_NUM_THREADS, torch.set_num_threads)" if t > 0
          else "threads: each library's default")  # fmt: skip


# -- driver ---------------------------------------------------------------------------------------------------------
def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if unit == "MiB" else f"{value:.2f}"


def ratio_cells(num: list[float], den: list[float]) -> tuple[str, str, float | None, list[float]]:
    """Median and range of the per-round ratios num/den (rounds where both exist)."""
    rs = [a / b for a, b in zip(num, den) if a is not None and b is not None and b > 0]
    if not rs:
        return "-", "-", None, []
    med = statistics.median(rs)
    return f"{med:.2f}x", f"{min(rs):.2f}-{max(rs):.2f}", med, rs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tinygrad_cnn vs PyTorch eager and MyGrad: the benchmark suite")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5; 2 quick; 1 tiny)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per measurement (all cases)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls before timing (default 2)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 calls (a few minutes)")
    parser.add_argument("--tiny", action="store_true", help="smoke run: batch 4, 1 round, 1 call, 40-op chain")
    parser.add_argument("--threads", type=int, default=0, help="BLAS/OpenMP/torch threads per library (0: defaults)")
    parser.add_argument("--impls", default=",".join(IMPLS), help="comma list of ours,torch,mygrad")
    parser.add_argument("--cases", default=",".join(c.key for c in CASES), help="comma list of case keys")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    s = settings(args)

    if args.worker:
        key, impl = args.worker
        if key == "check":
            print(json.dumps(check_worker(s, impl.split(","), args.threads)))
        else:
            print(json.dumps(worker(CASES_BY_KEY[key], impl, s, args.threads)))
        return 0

    wanted = [i.strip() for i in args.impls.split(",") if i.strip()]
    unknown = [i for i in wanted if i not in IMPLS] + [k for k in args.cases.split(",") if k not in CASES_BY_KEY]
    if unknown:
        parser.error(f"unknown implementation or case: {', '.join(unknown)}")
    impls = [i for i in IMPLS if i in wanted and importable(i)]
    missing = [i for i in wanted if i not in impls]
    cases = [CASES_BY_KEY[k] for k in args.cases.split(",")]
    base_args = ["--threads", str(args.threads), "--warmup", str(s.warmup)]
    base_args += ["--tiny"] if args.tiny else ["--quick"] if args.quick else []
    if args.rounds:
        base_args += ["--rounds", str(args.rounds)]
    if args.repeats:
        base_args += ["--repeats", str(args.repeats)]
    found = {v: os.environ[v] for v in OPENBLAS_VARS if v in os.environ}
    variants: list[tuple[str, dict[str, str]]] = [("as found", thread_env(args.threads))]
    if found:
        variants.append((f"{' and '.join(OPENBLAS_VARS)} unset",
                         {k: v for k, v in thread_env(args.threads).items() if k not in OPENBLAS_VARS}))  # fmt: skip

    env = environment(args.threads)
    load_start = load_average()
    report: dict[str, Any] = {"argv": sys.argv[1:], "environment": env, "impls": impls, "load": {"start": load_start}}
    errors: list[str] = []

    verdicts: dict[str, str] = {}
    check_lines: list[str] = []
    libraries = None
    if "torch" in impls:
        res = run_worker(__file__, ["--worker", "check", ",".join(impls), *base_args], env=variants[0][1])
        if "error" in res:
            errors.append(f"correctness check: {res['error']}")
            verdicts = {c.check: "ERROR" for c in cases}
        else:
            libraries = res["libraries"]
            verdicts, check_lines = evaluate_check(res)
            report["check"] = {"result": res, "verdicts": verdicts}
    report["libraries"] = libraries

    print_environment_block(env, libraries)
    print(f"at the start: {load_start}")
    if found:
        print(f"{', '.join(f'{k}={v}' for k, v in found.items())} found: every measurement runs twice, "
              "as found and with both unset (interleaved)")  # fmt: skip
    else:
        print(f"{' and '.join(OPENBLAS_VARS)} are unset already: one run")
    for i in missing:
        print(f"{i}: not importable, skipped")
    if "torch" in impls:
        print(f"\ncorrectness vs torch ({s.check_steps} SGD-momentum steps from torch's initial weights, same "
              f"batches, then one more loss; rtol {RTOL:.0e}; MyGrad shown, not judged):")  # fmt: skip
        print("\n".join(check_lines) or "  (check failed to run)")
    else:
        print("\ntorch not measured: no ratio, no correctness check")

    # -- the interleaved rounds
    reps = ", ".join(f"{n} {k}" for k, n in s.repeats.items())
    print(f"\n{s.rounds} round(s), one process per measurement, {', '.join(impls)} alternating; each = median of "
          f"calls ({reps}) after {s.warmup} warm-up (train: at least 1)", flush=True)  # fmt: skip
    results: dict[tuple[int, str, str, str], list[float | None]] = {}  # (variant, case, impl, metric) -> per round
    round_loads = []
    t0 = time.perf_counter()
    for r in range(s.rounds):
        round_loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
        print(f"  round {r + 1}/{s.rounds} ({time.perf_counter() - t0:.0f} s, {load_average()})", file=sys.stderr,
              flush=True)  # fmt: skip
        for c in cases:
            for vi, (vlabel, venv) in enumerate(variants):
                for impl in impls:
                    res = run_worker(__file__, ["--worker", c.key, impl, *base_args], env=venv)
                    if "error" in res:
                        errors.append(f"{c.key}, {impl}, {vlabel}, round {r + 1}: {res['error']}")
                    for metric, *_ in METRICS[c.kind]:
                        results.setdefault((vi, c.key, impl, metric), []).append(res.get(metric))

    report["load"]["rounds_1min"] = round_loads
    report["load"]["end"] = load_average()
    report["seconds"] = time.perf_counter() - t0
    report["variants"] = []
    header = ["case", "unit", "ours", "torch", "ours/torch", "range", "mygrad", "mygrad/ours", "check"]
    for vi, (vlabel, _) in enumerate(variants):
        rows, jrows = [], []
        for c in cases:
            for metric, suffix, unit, scale in METRICS[c.kind]:
                per = {i: [None if v is None else v * scale for v in results.get((vi, c.key, i, metric), [])]
                       for i in impls}  # fmt: skip
                med = {i: statistics.median([v for v in per[i] if v is not None]) if any(
                    v is not None for v in per[i]) else None for i in impls}  # fmt: skip
                rt, rt_range, rt_med, _ = ratio_cells(per.get("ours", []), per.get("torch", []))
                rm, _, rm_med, _ = ratio_cells(per.get("mygrad", []), per.get("ours", []))
                check = verdicts.get(c.check, "-") if c.check else "-"
                rows.append([c.label + suffix, unit, fmt(med.get("ours"), unit), fmt(med.get("torch"), unit), rt,
                             rt_range, fmt(med.get("mygrad"), unit), rm, check])  # fmt: skip
                jrows.append({"case": c.key, "metric": metric, "label": c.label + suffix, "unit": unit,
                              "median": med, "per_round": per, "ours/torch": rt_med, "mygrad/ours": rm_med,
                              "check": check})  # fmt: skip
        report["variants"].append({"label": vlabel, "rows": jrows})
        print(f"\n[{vlabel}]" if len(variants) > 1 else "")
        print(format_table(header, rows))
    print("times: median over rounds; ratios: median of the per-round ratios (range: min-max of ours/torch);")
    print("ours/torch > 1: we are slower than torch; mygrad/ours > 1: MyGrad is slower than us")
    loads = [v for v in round_loads if v is not None]
    if loads:
        print(f"1-min load average at the rounds' starts: {min(loads):.2f}-{max(loads):.2f}; "
              f"at the end: {report['load']['end']}; {report['seconds']:.0f} s")  # fmt: skip
    for e in errors:
        print(f"error: {e}")
    report["errors"] = errors
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    failed = any(v != "OK" for v in verdicts.values())
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
