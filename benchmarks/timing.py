"""Timing helpers shared by the benchmarks: medians of several repeats, ratios measured in the same run."""
from __future__ import annotations

import statistics
import time


def median_time(fn, *, repeat: int = 7, number: int | None = None, budget: float = 0.2) -> float:
    """Median seconds per call of ``fn()`` over ``repeat`` runs of ``number`` calls (auto-sized to ~budget/repeat)."""
    fn()  # warm-up: compile, allocate, fill caches
    if number is None:
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-7)
        number = max(1, int(budget / repeat / one))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def fmt_time(s: float) -> str:
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def optional(name):
    """Import an optional peer (torch, jax, autograd) or return None."""
    try:
        return __import__(name)
    except Exception:
        return None
