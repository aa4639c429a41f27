"""B1: JVP of f(x) = sum(sin(x)·exp(-x) + x²/(1+x²)) on a DualArray, beside plain numpy f(x), PyTorch and JAX.

Also: peak memory of one op (n = 1e6, k = 8 directions) and start-up (import, first derivative, fresh process).
"""
import subprocess
import sys
import tracemalloc

import numpy as np

import dualnum as dn
from dualnum.backends import fusion, kernels, use

from .timing import fmt_time, median_time, optional


def f(x):
    return np.sum(np.sin(x) * np.exp(-x) + x**2 / (1 + x**2))


def torch_jvp(torch):
    import torch.autograd.forward_ad as fwAD

    def run(x, v):
        with fwAD.dual_level():
            d = fwAD.make_dual(x, v)
            y = torch.sum(torch.sin(d) * torch.exp(-d) + d**2 / (1 + d**2))
            return fwAD.unpack_dual(y).tangent
    return run


def jvp_rows(quick):
    torch, jax = optional("torch"), optional("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        jf = jax.jit(lambda x, v: jax.jvp(lambda t: jnp.sum(jnp.sin(t) * jnp.exp(-t) + t**2 / (1 + t**2)),
                                          (x,), (v,)))
    sizes = [1_000, 100_000] if quick else [1_000, 100_000, 1_000_000]
    print("  dual JVP: use('numba'), fused (the default); per-op: use('kernels'), one kernel per operation; "
          "numpy: use('numpy'), no numba")
    print(f"{'n':>9} {'numpy f(x)':>11} {'dual JVP':>10} {'ratio':>6} {'per-op':>10} {'ratio':>6}"
          f" {'numpy-path':>10} {'ratio':>6} {'torch fwd':>10} {'ratio':>6} {'jax jvp':>9} {'ratio':>6}")
    for n in sizes:
        rng = np.random.default_rng(0)
        x, v = rng.random(n), rng.random(n)
        t_np = median_time(lambda: f(x))
        with use("numba"):
            payback, fusion.PAYBACK = fusion.PAYBACK, 0.0  # the steady state of a long run: the loop compiled
            try:
                for _ in range(fusion.HOT):
                    dn.jvp(f, x, v)  # the fused loop compiles (or loads from disk) on the HOT-th call
            finally:
                fusion.PAYBACK = payback
            t_dual = median_time(lambda: dn.jvp(f, x, v))
        with use("kernels"):
            t_perop = median_time(lambda: dn.jvp(f, x, v))
        with use("numpy"):
            t_nppath = median_time(lambda: dn.jvp(f, x, v))
        line = (f"{n:>9} {fmt_time(t_np):>11} {fmt_time(t_dual):>10} {t_dual / t_np:>6.2f}"
                f" {fmt_time(t_perop):>10} {t_perop / t_np:>6.2f} {fmt_time(t_nppath):>10} {t_nppath / t_np:>6.2f}")
        if torch is not None:
            tx, tv = torch.from_numpy(x), torch.from_numpy(v)
            run = torch_jvp(torch)
            t_t = median_time(lambda: run(tx, tv))
            line += f" {fmt_time(t_t):>10} {t_t / t_np:>6.2f}"
        else:
            line += f" {'-':>10} {'-':>6}"
        if jax is not None:
            jx, jv = jnp.asarray(x), jnp.asarray(v)
            t_j = median_time(lambda: jf(jx, jv)[1].block_until_ready())
            line += f" {fmt_time(t_j):>9} {t_j / t_np:>6.2f}"
        else:
            line += f" {'-':>9} {'-':>6}"
        print(line, flush=True)
        if n == 1_000_000:
            from .targets import record
            record("B1 dual JVP <= 1.25 x numpy f(x), n = 1e6", f"{t_dual / t_np:.2f} x", t_dual <= 1.25 * t_np)
            record("B1 faster than torch forward_ad, n = 1e6",
                   f"{t_dual / t_t:.2f} x torch" if torch is not None else "torch not installed",
                   (t_dual < t_t) if torch is not None else None)


def memory_rows():
    n, k = 1_000_000, 8
    x = dn.DualArray(np.random.default_rng(0).random(n), np.ones((k, n)), tag=1)
    y = dn.DualArray(1.0 + np.random.default_rng(1).random(n), np.ones((k, n)), tag=1)
    expected = (k + 1) * n * 8
    # a lone operation is pending until read (dualnum/backends/fusion.py); reading .partials computes it
    for name, op in [("x * x", lambda: (x * x).partials), ("x / y", lambda: (x / y).partials),
                     ("sin(x)", lambda: np.sin(x).partials), ("x ** 2", lambda: (x**2).partials)]:
        op()  # warm: compile, cache
        tracemalloc.start()
        out = op()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del out
        print(f"  {name:<12} peak {peak / 2**20:7.1f} MiB, output (k+1)·n·8 = {expected / 2**20:.1f} MiB,"
              f" ratio {peak / expected:.2f}")


def startup_rows():
    py = sys.executable
    cmds = {"import dualnum": "import dualnum",
            "first derivative": "import dualnum as dn; dn.derivative(lambda x: 3*x**2 + 2*x + 1, 2.0)",
            "first JVP n=1e5 (kernels, warm cache)":
                "import numpy as np, dualnum as dn; x = np.ones(100000); dn.jvp(lambda v: np.sum(v*v/(1+v)), x, x)"}
    import time
    for name, code in cmds.items():
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([py, "-c", code], check=True)
            times.append(time.perf_counter() - t0)
        base = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([py, "-c", "pass"], check=True)
            base.append(time.perf_counter() - t0)
        print(f"  {name:<40} {np.median(times):.3f} s (bare python {np.median(base):.3f} s)")


def per_rule_rows(n=200_000):
    """Kernel time ÷ numpy-path time for every rule with a kernel, k = 1 and k = 8: the measurements behind each
    rule's numpy_faster ("k1", "kn"; dualnum/rules.py), which the last columns show."""
    from dualnum.functions import apply
    rows = []
    for r in kernels.kernel_rules():
        x = dn.DualArray(np.random.default_rng(0).uniform(*r.domain, n), np.ones((1, n)), tag=3)
        ratios = []
        for k in (1, 8):
            xk = dn.DualArray(x.value, np.ones((k, n)), tag=3)
            args = (xk,) if r.arity == 1 else (xk, xk)
            with use("kernels", always=True):  # the kernel even where numpy_faster sends the rule to numpy
                t_k = median_time(lambda: apply(r, *args).partials, repeat=5, budget=0.05)
            with use("numpy"):
                t_n = median_time(lambda: apply(r, *args).partials, repeat=5, budget=0.05)
            ratios.append(t_k / t_n)
        rows.append((r, *ratios))
    rows.sort(key=lambda t: t[1])
    for r, a, b in rows:
        used = ["numpy" if where in r.numpy_faster else "kernel" for where in ("k1", "kn")]
        print(f"  {r.name:<12} k=1 {a:5.2f} ({used[0]:<6})  k=8 {b:5.2f} ({used[1]})")


def main(quick=False):
    print("B1  JVP of sum(sin(x)exp(-x) + x²/(1+x²)); ratio = time / numpy f(x) in the same run")
    jvp_rows(quick)
    print("Memory of one DualArray op, n = 1e6, k = 8 (tracemalloc peak):")
    memory_rows()
    print("Start-up, fresh process, median of 5:")
    startup_rows()
    if not quick:
        print("Per rule, n = 2e5: kernel time ÷ numpy-path time (below 1: the kernel wins), and the path used:")
        per_rule_rows()


if __name__ == "__main__":
    main("--quick" in sys.argv)
