"""B3: Hessians with the default call, beside torch.func.hessian, autograd and JAX, and the default's peak memory.

Two functions: Rosenbrock (n = 10, 100, 130) and DiffTests' ``vec2num_3``, ‖x xᵀ‖ (the Frobenius norm of the
outer product, n = 100, 130), whose intermediates hold n² numbers. ``dn.hessian`` picks its method (nested duals
for up to 16 inputs, duals over the tracker above); both explicit methods are timed too. Every column is
measured in this run, medians of 5; the peak is tracemalloc's, in a call of its own.
"""
import sys
import tracemalloc

import numpy as np

import dualnum as dn
from dualnum.backends import blocks

from .b2_rosenbrock_grad import rosenbrock
from .timing import fmt_time, median_time, optional


#: each function once, for any numpy-like module m (numpy, torch, autograd.numpy, jax.numpy)
FORMULAS = {
    "rosenbrock": lambda m: lambda t: m.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1.0 - t[:-1]) ** 2),
    "vec2num_3": lambda m: lambda t: m.sqrt(m.sum((t[None, :] * t[:, None]) ** 2)),
}
vec2num_3 = FORMULAS["vec2num_3"](np)
vec2num_3.__name__ = "vec2num_3"


def _peers(torch, ag, jax):
    """For each peer, a builder of its Hessian function of each of FORMULAS at x."""
    out = {}
    if torch is not None:
        from torch.func import hessian as th
        out["torch.func"] = lambda name, x: (lambda h=th(FORMULAS[name](torch)), tx=torch.from_numpy(x):
                                             h(tx).numpy())
    if ag is not None:
        import autograd.numpy as anp
        from autograd import hessian as ah
        out["autograd"] = lambda name, x: (lambda h=ah(FORMULAS[name](anp)): h(x))
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def build(name, x):
            h, jx = jax.jit(jax.hessian(FORMULAS[name](jnp))), jnp.asarray(x)
            return lambda: np.asarray(h(jx).block_until_ready())
        out["jax (jit)"] = build
    return out


def main(quick=False):
    from .targets import record
    torch, ag, jax = optional("torch"), optional("autograd"), optional("jax")
    peers = _peers(torch, ag, jax)
    print("B3  Hessian, default call (dn.hessian(f, x)) and both methods; every column measured in this run")
    print(f"{'f':>10} {'n':>4} {'default':>10} {'fwd/fwd':>10} {'fwd/rev':>10} {'peak':>8}"
          + "".join(f" {p:>11}" for p in ("torch.func", "autograd", "jax (jit)")))
    cases = [(rosenbrock, 10), (rosenbrock, 100), (rosenbrock, 130), (vec2num_3, 100), (vec2num_3, 130)]
    for f, n in cases:
        name = f.__name__
        x = np.linspace(-1.0, 1.5, n) + 0.01
        H = dn.hessian(f, x)
        for _ in range(16):
            dn.hessian(f, x)  # warm: a fused loop compiles on its tree's 16th computation
        blocks.clear()  # (kept kernel blocks are memory too: the call makes its own, and they count)
        tracemalloc.start()
        dn.hessian(f, x)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        t_default = median_time(lambda: dn.hessian(f, x), repeat=5)
        slow = name == "vec2num_3" or quick  # nested duals square the n² intermediates: timed once, not 5 times
        t_ff = median_time(lambda: dn.hessian(f, x, method="forward-over-forward"), repeat=1 if slow else 5,
                           number=1 if slow else None)
        t_fr = median_time(lambda: dn.hessian(f, x, method="forward-over-reverse"), repeat=5)
        row = f"{name:>10} {n:>4} {fmt_time(t_default):>10} {fmt_time(t_ff):>10} {fmt_time(t_fr):>10} " \
              f"{peak / 1e6:6.1f}MB"
        t_torch = None
        for peer in ("torch.func", "autograd", "jax (jit)"):
            if peer not in peers or (peer == "autograd" and name == "vec2num_3" and quick):
                row += f" {'-':>11}"
                continue
            h = peers[peer](name, x)
            assert np.allclose(h(), H, rtol=1e-8, atol=1e-8), (peer, name, n)
            t = median_time(h, repeat=5)
            if peer == "torch.func":
                t_torch = t
            row += f" {fmt_time(t):>11}"
        print(row, flush=True)
        record(f"B3 default hessian faster than torch.func.hessian, {name}, n = {n}",
               f"{t_default / t_torch:.2f} x torch" if t_torch else "torch not installed",
               (t_default < t_torch) if t_torch else None)
        if n == 130:
            record(f"B3 default hessian's peak memory <= 100 MB, {name}, n = {n}", f"{peak / 1e6:.1f} MB",
                   peak <= 100e6)


if __name__ == "__main__":
    main("--quick" in sys.argv)
