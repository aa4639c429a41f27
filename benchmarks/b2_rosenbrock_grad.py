"""B2: gradient of the n-dimensional Rosenbrock function by chunked forward mode.

Target: time ≤ 3 × (passes × one plain numpy evaluation), both measured in this run.
"""
import statistics
import sys

import numpy as np

import dualnum as dn
from dualnum.backends import fusion

from .timing import fmt_time, median_time


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def main(quick=False, rounds=3):
    print("B2  gradient of Rosenbrock, chunked forward mode; ratio = time / (passes × numpy f(x))")
    print(f"    ({rounds} rounds, each timing numpy f(x) and every chunk in turn; medians over the rounds)")
    print(f"{'n':>6} {'chunk':>6} {'passes':>6} {'numpy f(x)':>11} {'gradient':>10} {'ratio':>6}")
    for n in ([10, 100] if quick else [10, 100, 1000]):
        x = np.linspace(-1.0, 1.5, n)
        chunks = sorted({1, dn.chunk_size(n), min(n, 12), n})
        payback, fusion.PAYBACK = fusion.PAYBACK, 0.0  # the steady state of a long run: the loops compiled
        try:
            for chunk in chunks:
                passes = -(-n // chunk)
                for _ in range(-(-fusion.HOT // passes)):
                    dn.gradient(rosenbrock, x, chunk=chunk)  # warm: the fused loop compiles on the HOT-th pass
        finally:
            fusion.PAYBACK = payback
        t_f, t_g = [], {c: [] for c in chunks}
        for _ in range(rounds):  # in turns, so that a slow spell of the machine hits every column alike
            t_f.append(median_time(lambda: rosenbrock(x)))
            for chunk in chunks:
                t_g[chunk].append(median_time(lambda: dn.gradient(rosenbrock, x, chunk=chunk)))
        t_f = statistics.median(t_f)
        for chunk in chunks:
            passes = -(-n // chunk)
            t = statistics.median(t_g[chunk])
            print(f"{n:>6} {chunk:>6} {passes:>6} {fmt_time(t_f):>11} {fmt_time(t):>10} {t / (passes * t_f):>6.2f}",
                  flush=True)
            if chunk == dn.chunk_size(n) and n <= 100:
                from .targets import record
                record(f"B2 gradient <= 3 x passes x numpy f(x), n = {n}, default chunk",
                       f"{t / (passes * t_f):.2f} x", t <= 3 * passes * t_f)


if __name__ == "__main__":
    main("--quick" in sys.argv)
