"""Shared helpers for the benchmarks in ``bench/``: timing, environment report, subprocess workers, tables.

Importing this module puts the repository root first on ``sys.path``, so that ``python bench/<name>.py``
benchmarks this checkout's ``tinygrad_cnn`` whether or not (and wherever) the package is installed.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))  # after the script's own directory (bench/), before site-packages


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def print_environment() -> None:
    """Python, numpy, the BLAS/OpenMP libraries loaded in this process, and the OpenBLAS variables as found."""
    import numpy as np

    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"numpy {np.__version__}")
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped]
    except ImportError:
        print("threadpoolctl not installed (pip install threadpoolctl, or the 'bench' extra) - no BLAS info")
    else:
        for lib in threadpool_info():
            keys = ("user_api", "internal_api", "version", "num_threads", "architecture")
            print("  " + ", ".join(f"{k}={lib.get(k)}" for k in keys) + f", filepath={lib.get('filepath')}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        print(f"{var}={os.environ.get(var, '(unset)')}")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return name or platform.processor() or "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (Unix), to judge how busy a shared machine was."""
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return "load average unknown"
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min), {os.cpu_count()} logical cores"


def run_worker(
    script: str | Path, args: Sequence[str], timeout: float = 600.0, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``python script *args`` in a fresh process and return the JSON object on its last stdout line.

    ``env`` replaces the child's environment (default: inherit this one). A failure (non-zero exit, timeout,
    no JSON) comes back as ``{"error": "..."}`` instead of raising.
    """
    cmd = [sys.executable, str(script), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s: {' '.join(cmd[1:])}"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(result, dict):
                return result
    tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
    return {"error": f"worker exited with {proc.returncode}: {tail}"}


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table, columns separated by `` | ``; the first column left-aligned, the others right."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])
