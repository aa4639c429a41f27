"""Tutorial 5 -- dual numbers from scratch: a 30-line Dual, nesting and perturbation confusion, forward vs reverse.

Forward-mode automatic differentiation fits in one small class. A dual number ``a + b·ε`` with ``ε² = 0``
carries a value ``a`` and a derivative ``b``; every arithmetic rule, applied to it, is the chain rule. We build
one, check it against dualnum, break it with a nested derivative (perturbation confusion: an answer of 2 where
the truth is 1), see how dualnum's tags fix that, and finally time forward mode against reverse mode as the
number of inputs grows -- which is why neural networks are trained in reverse mode.

Run it with ``python -m tutorials 5`` (``--fast`` times fewer sizes), or open it as a notebook: the ``# %%``
cells run top to bottom.
"""
import math
import time

import matplotlib.pyplot as plt
import numpy as np

import dualnum
from dualnum import tracker

from tutorials import common

# %% [markdown]
# # Dual numbers from scratch

# %%
FAST = globals().get("FAST", False)   # `python -m tutorials --fast` sets it (fewer sizes timed); in a notebook: False
# Nothing here is random: the inputs are fixed grids, so only the timings change from run to run.

# %% [markdown]
# ## A dual number in 30 lines
# Write x = a + b·ε with ε² = 0. Then (a + bε)(c + dε) = ac + (ad + bc)ε: the ε-part of a product is the
# product rule. f(a + ε) = f(a) + f'(a)ε for any f built from such operations, so seeding ε-part 1 and
# reading the ε-part off the result gives the derivative. That is all forward mode is.

# %%
class Dual:
    """value + deriv·ε, ε² = 0. The value may itself be a Dual (that is how second derivatives nest)."""

    def __init__(self, value, deriv=0.0):
        self.value, self.deriv = value, deriv

    def __add__(self, o):
        o = lift(o)
        return Dual(self.value + o.value, self.deriv + o.deriv)

    def __sub__(self, o):
        o = lift(o)
        return Dual(self.value - o.value, self.deriv - o.deriv)

    def __mul__(self, o):
        o = lift(o)
        return Dual(self.value * o.value, self.deriv * o.value + self.value * o.deriv)   # product rule

    def __truediv__(self, o):
        o = lift(o)
        return Dual(self.value / o.value, (self.deriv * o.value - self.value * o.deriv) / (o.value * o.value))

    __radd__, __rmul__ = __add__, __mul__
    __rsub__ = lambda self, o: lift(o) - self
    __rtruediv__ = lambda self, o: lift(o) / self
    __neg__ = lambda self: Dual(-self.value, -self.deriv)
    __repr__ = lambda self: f"Dual({self.value!r}, {self.deriv!r})"


def lift(x):
    return x if isinstance(x, Dual) else Dual(x, 0.0)      # a constant: derivative 0


def sin(x):
    return Dual(sin(x.value), cos(x.value) * x.deriv) if isinstance(x, Dual) else math.sin(x)   # chain rule


def cos(x):
    return Dual(cos(x.value), -sin(x.value) * x.deriv) if isinstance(x, Dual) else math.cos(x)


def exp(x):
    return Dual(exp(x.value), exp(x.value) * x.deriv) if isinstance(x, Dual) else math.exp(x)


def D(f, x):
    """The derivative of f at x: seed ε-part 1, read the ε-part of the result."""
    return lift(f(Dual(x, 1.0))).deriv


# %% [markdown]
# ## Forward vs reverse mode: helpers for the timing cell

# %%
def f_sum(x):
    """f(x) = Σ sin(xᵢ)·xᵢ: n inputs, one output -- the shape of every training loss."""
    return np.sum(np.sin(x) * x)


def best_times(fns, rounds):
    """The fastest run of each function, in seconds, over ``rounds`` rounds that take turns.

    Taking turns spreads each function's runs over the whole measurement, so a moment when the machine is
    busy with something else slows one run of everything, not every run of one size; the minimum is the run
    least disturbed.
    """
    for fn in fns:
        fn()  # warm up: first calls load kernels and fill caches
    best = [math.inf] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


# %% [markdown]
# ## Our Dual at work
# %%
print("## our 30-line Dual")
f = lambda x: 3 * x * x + 2 * x + 1
print(f"f(x) = 3x² + 2x + 1;  f(Dual(2.0, 1.0)) = {f(Dual(2.0, 1.0))}")
print(f"D(f, 2) = {D(f, 2.0)}   (f'(x) = 6x + 2 = 14)")

# %% [markdown]
# ## Checked against dualnum, and against the derivative worked out by hand
# %%
print("\n## against dualnum.derivative and the hand-derived f'")
g_ours = lambda x: sin(x) * exp(x) / (1 + x * x) - x / 3
g_np = lambda x: np.sin(x) * np.exp(x) / (1 + x * x) - x / 3

def g_prime(x):  # quotient + product rule, by hand
    u, v = math.sin(x) * math.exp(x), 1 + x * x
    du = math.cos(x) * math.exp(x) + math.sin(x) * math.exp(x)
    return (du * v - u * 2 * x) / v ** 2 - 1 / 3

worst = 0.0
for x0 in [-1.5, 0.0, 0.7, 2.0]:
    ours, theirs, exact = D(g_ours, x0), dualnum.derivative(g_np, x0), g_prime(x0)
    worst = max(worst, abs(ours - exact), abs(theirs - exact))
    print(f"x = {x0:5}: ours {ours:.12f}  dualnum {theirs:.12f}  by hand {exact:.12f}")
print(f"largest difference from the hand-derived derivative: {worst:.1e}")

# %% [markdown]
# ## dualnum's Dual prints its value and its partials
# It is the same idea with a tuple of partials (several directions at once) and numpy support.
# %%
print("\n## dualnum.Dual")
d = f(dualnum.Dual(2.0, 1.0))
print(f"f(dualnum.Dual(2.0, 1.0)) = {d!r}")
print(f"value {d.value}, partials {d.partials}")
print(f"np.sin(dualnum.Dual(0.0, 1.0)) = {np.sin(dualnum.Dual(0.0, 1.0))!r}   (sin 0 = 0, cos 0 = 1)")

# %% [markdown]
# ## Nesting: the derivative of a derivative
# Feed a Dual whose value is itself a Dual: the outer ε differentiates what the inner ε computed.
# %%
print("\n## nested duals: second derivatives")
print(f"ours:    D(x -> D(f, x), 2) = {D(lambda x: D(f, x), 2.0)}   (f'' = 6)")
print(f"dualnum: derivative(f, 2, order=2) = {dualnum.derivative(f, 2.0, order=2)}")
print(f"dualnum: derivative(x -> derivative(f, x), 2) = "
      f"{dualnum.derivative(lambda x: dualnum.derivative(f, x), 2.0)}")

# %% [markdown]
# ## Perturbation confusion
# d/dx [ x · d/dy (x + y) ] at x = 1: the inner derivative is 1 whatever x is, so the answer is
# d/dx [x · 1] = 1. Our Dual has one kind of ε for every call of D, so inside the inner D the ε that x
# carries from the outer D is mistaken for the inner one: the inner "derivative" comes out as 2.
# %%
print("\n## perturbation confusion: D(x -> x * D(y -> x + y, 1), 1), the right answer is 1")
naive = D(lambda x: x * D(lambda y: x + y, 1.0), 1.0)
print(f"our tagless Dual:  {naive}   <- WRONG (the inner D counted the outer x's ε as its own)")
print(f"  inside: x + y = {Dual(1.0, 1.0) + Dual(1.0, 1.0)}: two ε's added as if they were one")
right = dualnum.derivative(lambda x: x * dualnum.derivative(lambda y: x + y, 1.0), 1.0)
print(f"dualnum.derivative: {right}   <- right")
print("dualnum gives every derivative call its own tag (its own ε₁, ε₂, ...): an inner call reads only its own "
      "ε's part,\nand ε₁ε₂ is not 0, so the levels never mix -- ForwardDiff.jl's fix, and JAX's.")

# %% [markdown]
# ## Forward vs reverse mode as the number of inputs grows
# Forward mode pushes one direction per ε; for a gradient of n inputs it needs n directions, carried a chunk
# at a time (dualnum: up to 64 per pass). Each pass costs about one evaluation of f *times the chunk*, so the
# gradient costs about n evaluations of f. Reverse mode (the tracker) evaluates f once, recording, then
# sweeps back once: about 2-4 evaluations whatever n is. A network's loss has one output and millions of
# inputs (the weights), hence backpropagation.
# %%
print("\n## forward (dualnum.gradient, chunked) vs reverse (dualnum.tracker.gradient) for f(x) = Σ sin(x)·x")
sizes = [1, 3, 10, 30, 100, 300] if FAST else [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
rounds = 3 if FAST else 9
rows, fns = [], []
for n in sizes:
    x = np.linspace(0.1, 3.0, n)
    exact = np.sin(x) + x * np.cos(x)
    gf = dualnum.gradient(f_sum, x)[0]
    gr = tracker.gradient(f_sum, x)[0]
    err = max(np.max(np.abs(gf - exact)), np.max(np.abs(gr - exact)))
    c = dualnum.chunk_size(n)
    rows.append([n, math.ceil(n / c), c, err])
    fns += [lambda x=x: dualnum.gradient(f_sum, x), lambda x=x: tracker.gradient(f_sum, x),
            lambda x=x: f_sum(x)]
times = best_times(fns, rounds)
rows = [(n, passes, c, times[3 * k], times[3 * k + 1], times[3 * k + 2], err)
        for k, (n, passes, c, err) in enumerate(rows)]
print(f"{'n':>6} {'passes':>6} {'chunk':>5} {'forward':>11} {'reverse':>11} {'f alone':>10} {'fwd/rev':>8}  max error")
for n, passes, c, tf, tr, t0, err in rows:
    print(f"{n:>6} {passes:>6} {c:>5} {tf * 1e6:>9.1f}µs {tr * 1e6:>9.1f}µs {t0 * 1e6:>8.1f}µs "
          f"{tf / tr:>8.1f}  {err:.1e}")
print(f"both gradients equal sin(x) + x·cos(x) to {max(r[-1] for r in rows):.1e} at every n")
n_big, _, _, tf_big, tr_big, _, _ = rows[-1]
print(f"at n = {n_big}: forward {tf_big * 1e3:.2f} ms, reverse {tr_big * 1e3:.3f} ms "
      f"-> reverse is {tf_big / tr_big:.0f}x faster (timings vary from machine to machine)")
print(f"in units of one evaluation of f: forward {tf_big / rows[-1][5]:.0f}x, reverse {tr_big / rows[-1][5]:.0f}x")
cross = next((n for n, _, _, tf, tr, _, _ in rows if tf > tr), None)
if cross is not None and cross > rows[0][0]:
    print(f"with few inputs forward mode wins (one pass, no tape to record and sweep back); here reverse mode "
          f"takes over from n = {cross}")
print("forward mode's time grows with n (more directions to push through every operation); reverse mode's stays "
      "nearly flat here\n(one recorded pass and one sweep back; its cost grows only like f's own cost, which "
      "is tiny next to the Python overhead at these sizes)")

ns = np.array([r[0] for r in rows], dtype=float)
fig, ax = plt.subplots(figsize=(8, 5.2))
ax.loglog(ns, [r[3] * 1e6 for r in rows], "o-", label="forward mode: dualnum.gradient (chunked duals)")
ax.loglog(ns, [r[4] * 1e6 for r in rows], "s-", label="reverse mode: dualnum.tracker.gradient")
ax.loglog(ns, [r[5] * 1e6 for r in rows], ":", color="gray", label="f(x) alone, no derivatives")
ref = rows[-1][3] * 1e6 * (ns / ns[-1])
ax.loglog(ns, ref, "--", color="C0", alpha=0.4, lw=1, label="∝ n (guide)")
for n, passes, c, tf, *_ in rows:
    if passes > 1 and (n >= 100):
        ax.annotate(f"{passes} passes", (n, tf * 1e6), textcoords="offset points", xytext=(-45, 6), fontsize=7,
                    color="C0")
ax.set_xlabel("number of inputs n")
ax.set_ylabel("time per gradient (µs, best of several runs)")
ax.set_title("Gradient of f(x) = Σ sin(xᵢ)·xᵢ: forward vs reverse mode")
ax.set_ylim(bottom=max(1e-1, min(r[5] for r in rows) * 1e6 / 3))
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8)
common.save(fig, "forward_vs_reverse.png")


# %% [markdown]
# ## How dualnum keeps array code fast: the chain rule as one loop
# An elementwise chain on a DualArray is first only recorded. When something reads it, dualnum runs the chain
# as one loop, written from the same rules table: for each element, the value and the local derivative of
# every step, then the chain rule for each direction. Once a chain has run 16 times, numba compiles that loop.
# %%
print("\n## the loop dualnum writes for y = sin(x) * x")
x = dualnum.DualArray(np.linspace(0.0, 1.0, 5), np.ones((1, 5)))
y = np.sin(x) * x
if dualnum.backends.fusion.ENABLED:
    print(dualnum.backends.fusion.loop_source(y, one_direction=True))
    print("(_f_ and _d0_, _d1_: the value and partials of each rule, from the rules table; x, z: values;\n"
          " e: local derivatives; g, u: tangents, the ε-parts. out[0] holds y, out[1] its derivative.\n"
          " The branch taken on a NaN (u != u) is the NaN-safe chain rule: a term with a zero factor is 0, even "
          "0 · inf.)")
else:  # DUALNUM_NUMBA=0 or DUALNUM_FUSE=0: every operation runs on its own, so there is no loop to show
    print("(fusion is off here, DUALNUM_NUMBA=0 or DUALNUM_FUSE=0: each operation ran on its own, numpy's way)")
print(f"y' = {y.partials[0]}")
print(f"sin x + x cos x = {np.sin(x.value) + x.value * np.cos(x.value)}")
