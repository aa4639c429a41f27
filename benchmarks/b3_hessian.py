"""B3: Hessian of Rosenbrock (n = 10, 100), both methods of dn.hessian, beside torch.func.hessian, autograd, JAX.

forward-over-forward (nested duals) is dn.hessian's default, as SPEC says; forward-over-reverse (duals over the
tracker) is ``method="forward-over-reverse"``, the method torch.func.hessian and Zygote use.
"""
import sys

import numpy as np

import dualnum as dn

from .b2_rosenbrock_grad import rosenbrock
from .timing import fmt_time, median_time, optional


def main(quick=False):
    torch, ag, jax = optional("torch"), optional("autograd"), optional("jax")
    print("B3  Hessian of Rosenbrock; every column measured in this run")
    print(f"{'n':>5} {'fwd/fwd':>10} {'fwd/rev':>10} {'torch.func':>11} {'autograd':>10} {'jax (jit)':>10}")
    for n in (10, 100):
        x = np.linspace(-1.0, 1.5, n)
        H = dn.hessian(rosenbrock, x)
        assert np.allclose(dn.hessian(rosenbrock, x, method="forward-over-reverse"), H)
        for _ in range(16):
            dn.hessian(rosenbrock, x)  # warm: fused loops compile on a tree's 16th computation
        t_default = median_time(lambda: dn.hessian(rosenbrock, x), repeat=5)
        row = f"{n:>5} {fmt_time(t_default):>10}"
        t_r = median_time(lambda: dn.hessian(rosenbrock, x, method="forward-over-reverse"), repeat=5)
        row += f" {fmt_time(t_r):>10}"
        if torch is not None:
            from torch.func import hessian as th
            tf = lambda t: torch.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1.0 - t[:-1]) ** 2)  # noqa: E731
            tx = torch.from_numpy(x)
            assert np.allclose(th(tf)(tx).numpy(), H)
            t_torch = median_time(lambda: th(tf)(tx), repeat=5)
            row += f" {fmt_time(t_torch):>11}"
        else:
            row += f" {'-':>11}"
        from .targets import record
        record(f"B3 default hessian faster than torch.func.hessian, n = {n}",
               f"{t_default / t_torch:.2f} x torch" if torch is not None else "torch not installed",
               (t_default < t_torch) if torch is not None else None)
        if ag is not None:
            import autograd.numpy as anp
            from autograd import hessian as ah
            af = lambda t: anp.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1.0 - t[:-1]) ** 2)  # noqa: E731
            assert np.allclose(ah(af)(x), H)
            row += f" {fmt_time(median_time(lambda: ah(af)(x), repeat=5)):>10}"
        else:
            row += f" {'-':>10}"
        if jax is not None:
            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp
            jf = jax.jit(jax.hessian(lambda t: jnp.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1.0 - t[:-1]) ** 2)))
            jx = jnp.asarray(x)
            assert np.allclose(np.asarray(jf(jx)), H)
            row += f" {fmt_time(median_time(lambda: jf(jx).block_until_ready(), repeat=5)):>10}"
        else:
            row += f" {'-':>10}"
        print(row, flush=True)


if __name__ == "__main__":
    main("--quick" in sys.argv)
