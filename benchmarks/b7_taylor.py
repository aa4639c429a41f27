"""B7: Taylor mode, derivatives(f, x, n), against nested duals, derivative(f, x, order=n), and JAX's jet.

f(x) = sin(x)·exp(x)/(1+x²) at x = 0.5, orders 4, 8, 12, 20. Taylor mode returns every order 0..n in one run of
f (O(n²) work); nesting is timed for the single order n (O(2ⁿ)), which favours it. Nesting is capped where one
call would take longer than a few seconds: its time there is extrapolated from its measured growth and marked.
JAX (``jax.experimental.jet``, jitted, float64) is timed when installed; it is never a dependency.
"""
import math
import sys
import time

import numpy as np

from .timing import fmt_time, median_time, optional

import dualnum as dn

X = 0.5
ORDERS = (4, 8, 12, 20)
CAP_S = 3.0  # nested duals are not run where one call would take longer than this (estimated)


def f(x):
    return np.sin(x) * np.exp(x) / (1 + x ** 2)


def _jet_timer(n):
    """A jitted jet of order n, or None without JAX."""
    jax = optional("jax")
    if jax is None:
        return None
    try:
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax.experimental.jet import jet
    except Exception:
        return None

    def fj(x):
        return jnp.sin(x) * jnp.exp(x) / (1 + x ** 2)

    series = ([1.0] + [0.0] * (n - 1),)
    run = jax.jit(lambda x: jet(fj, (x,), series))
    out = run(X)  # (compile; check it against Taylor mode in jet's convention: derivatives, not coefficients)
    ours = dn.derivatives(f, X, n)
    theirs = np.array([float(out[0])] + [float(v) for v in out[1][0]])
    ok = np.allclose(theirs, ours, rtol=1e-8) or np.allclose(
        theirs * [math.factorial(k) for k in range(n + 1)], ours, rtol=1e-8)
    return (lambda: jax.block_until_ready(run(X))), ok


def main(quick=False):
    print("B7  Taylor mode: derivatives(f, x, n) vs nested derivative(f, x, order=n), f = sin(x)·exp(x)/(1+x²)")
    orders = ORDERS
    repeat = 5 if quick else 9
    rows = []
    nested_prev = None  # (order, seconds) of the last nested run, to extrapolate from
    growth = 2.0
    for n in orders:
        tt = median_time(lambda: dn.derivatives(f, X, n), repeat=repeat)
        est = None if nested_prev is None else nested_prev[1] * growth ** (n - nested_prev[0])
        if est is None or est < CAP_S / (3 if quick else 1):
            tn = median_time(lambda: dn.derivative(f, X, order=n), repeat=3 if n >= 12 else repeat,
                             budget=0.2 if n < 12 else 1e-9)
            if nested_prev is not None:
                growth = (tn / nested_prev[1]) ** (1.0 / (n - nested_prev[0]))
            nested_prev = (n, tn)
            measured = True
        else:
            tn, measured = est, False
        jt = _jet_timer(n)
        tj = median_time(jt[0], repeat=repeat) if jt else None
        rows.append((n, tt, tn, measured, tj, jt[1] if jt else None))
        print(f"  order {n:2d}: Taylor {fmt_time(tt):>9}   nested {fmt_time(tn):>9}"
              f"{'' if measured else ' (not run: extrapolated, ×%.2f per order)' % growth}"
              f"   nested / Taylor {tn / tt:9.1f}"
              + (f"   jet {fmt_time(tj)} (Taylor / jet {tt / tj:.2f}{'' if jt[1] else ', VALUES DIFFER'})"
                 if tj else "   jet: JAX not installed"), flush=True)
    # the growth of Taylor mode alone: ×4 per doubling of n is n²
    ns = (10, 20, 40, 80) if quick else (10, 20, 40, 80, 160)
    ts = [median_time(lambda: dn.derivatives(f, X, n), repeat=repeat) for n in ns]
    print("  Taylor mode growth: " + ", ".join(f"n={n}: {fmt_time(t)}" for n, t in zip(ns, ts)))
    print("  time ratio per doubling of n: " + ", ".join(f"{b / a:.2f}" for a, b in zip(ts, ts[1:]))
          + "  (4 = n², 2 = n)")
    t0 = time.perf_counter()
    d = dn.derivatives(f, X, 6)
    ref = [dn.derivative(f, X, order=k) for k in range(1, 7)]
    print(f"  check: orders 1-6 agree with nested duals to {np.max(np.abs(d[1:] - ref) / np.abs(ref)):.1e} "
          f"(relative; {time.perf_counter() - t0:.2f} s)")
    return rows


if __name__ == "__main__":
    main("--quick" in sys.argv)
