"""B4: latency of one scalar derivative, derivative(lambda x: 3x² + 2x + 1, 2.0), order 1 and 2.

Targets: ≤ 3 µs and ≤ 8 µs per call. Beside: a bare __slots__ dual class written here, jax.grad (jit), torch.
"""
import sys

from .timing import fmt_time, median_time, optional

import dualnum as dn


class Bare:
    """The least a dual number can be: value and one partial, + and * only (the reference floor)."""
    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v, self.d = v, d

    def __add__(self, o):
        return Bare(self.v + o.v, self.d + o.d) if type(o) is Bare else Bare(self.v + o, self.d)

    __radd__ = __add__

    def __mul__(self, o):
        return Bare(self.v * o.v, self.d * o.v + self.v * o.d) if type(o) is Bare else Bare(self.v * o, self.d * o)

    __rmul__ = __mul__

    def __pow__(self, n):
        return Bare(self.v ** n, n * self.v ** (n - 1) * self.d)


def f(x):
    return 3 * x**2 + 2 * x + 1


def main(quick=False):
    print("B4  latency of derivative(3x² + 2x + 1, 2.0)")
    t1 = median_time(lambda: dn.derivative(f, 2.0), repeat=9)
    t2 = median_time(lambda: dn.derivative(f, 2.0, order=2), repeat=9)
    tb = median_time(lambda: f(Bare(2.0, 1.0)).d, repeat=9)
    print(f"  dualnum order 1: {fmt_time(t1)}  (target ≤ 3 µs)")
    print(f"  dualnum order 2: {fmt_time(t2)}  (target ≤ 8 µs)")
    from .targets import record
    record("B4 derivative <= 3 µs", fmt_time(t1), t1 <= 3e-6)
    record("B4 second derivative <= 8 µs", fmt_time(t2), t2 <= 8e-6)
    print(f"  bare __slots__ dual, order 1: {fmt_time(tb)}  (ratio {t1 / tb:.2f})")
    jax = optional("jax")
    if jax is not None:
        g = jax.jit(jax.grad(f))
        g(2.0)
        print(f"  jax.grad (jit) order 1: {fmt_time(median_time(lambda: g(2.0).block_until_ready(), repeat=9))}")
    torch = optional("torch")
    if torch is not None:
        def tgrad():
            x = torch.tensor(2.0, requires_grad=True)
            return torch.autograd.grad(f(x), x)[0]
        print(f"  torch.autograd order 1: {fmt_time(median_time(tgrad, repeat=9))}")


if __name__ == "__main__":
    main("--quick" in sys.argv)
