"""Tutorial 7 -- Taylor and Newton: Newton's method, Taylor polynomials of growing order, f, f′, f″ on a grid.

Three classic lessons of calculus, each with the derivatives computed rather than derived by hand: Newton's
method finds √2 and the root of cos x = x with ``dualnum.derivative``, its error squaring at every step;
``dualnum.derivatives(f, x0, n)`` gives all the derivatives up to order n at once (Taylor mode), so Taylor
polynomials of growing order hug sin and exp(sin x) ever further from 0; and ``dualnum.derivative(f, xs)``
differentiates on a whole grid, so f, f′ and f″ are plotted with one call each.

Run it with ``python -m tutorials 7``, or open it as a notebook: the ``# %%`` cells run top to bottom.
"""
import math

import matplotlib.pyplot as plt
import numpy as np

import dualnum

from tutorials import common

# %% [markdown]
# # Taylor and Newton: derivatives put to work
#
# Calculus courses use derivatives for two things long before machine learning: to *solve* equations (Newton's
# method follows the tangent line to where it crosses zero) and to *approximate* functions (a Taylor polynomial
# matches a function's value and first n derivatives at a point). Both need derivatives of a function given
# as code, and both are where automatic differentiation shines: no derivative is worked out by hand below.

# %%
FAST = globals().get("FAST", False)   # set by `python -m tutorials --fast`; everything here is instantaneous
np.set_printoptions(precision=6, suppress=True)

# %% [markdown]
# ## Newton's method
# To solve f(x) = 0, replace f by its tangent line at the current guess and solve that instead:
# x_{k+1} = x_k - f(x_k) / f′(x_k). Here f′ comes from `dualnum.derivative(f, x)`. For f(x) = x² - 2,
# starting at 1, the iterates approach √2. Watch the error: once close, it is squared at every step (the
# number of correct digits doubles), and e_{k+1} / e_k² settles at |f″(r) / (2 f′(r))| = 1/(2√2) ≈ 0.354.

# %%
def newton(f, x, steps):
    """The iterates x₀, x₁, … of x ← x - f(x)/f′(x), stopping once a step is rounding noise (≤ 2 ulp)."""
    xs = [x]
    for _ in range(steps):
        x = x - f(x) / dualnum.derivative(f, x)
        if abs(x - xs[-1]) <= 2 * math.ulp(x):
            break
        xs.append(x)
    return xs


def report(xs, root, name):
    """Print each iterate, its error and e_{k+1}/e_k² (the constant of quadratic convergence)."""
    print(f"{'k':>2}  {name:>20}  {'error':>9}  {'e_k / e_(k-1)²':>14}")
    errors = [abs(x - root) for x in xs]
    for k, (x, e) in enumerate(zip(xs, errors)):
        ratio = f"{e / errors[k - 1] ** 2:14.6f}" if k and e > 0 and 0 < errors[k - 1] < 0.5 else ""
        print(f"{k:>2}  {x:20.16f}  {e:9.2e}  {ratio}")
    return errors


print("## Newton's method for x² - 2 = 0 from x₀ = 1, f′ by dualnum.derivative")
square = lambda x: x * x - 2   # noqa: E731
sqrt2_iterates = newton(square, 1.0, 8)
sqrt2_errors = report(sqrt2_iterates, math.sqrt(2), "x_k")
limit = abs(dualnum.derivative(square, math.sqrt(2), order=2) / (2 * dualnum.derivative(square, math.sqrt(2))))
print(f"Newton's √2 = {sqrt2_iterates[-1]!r}, math.sqrt(2) = {math.sqrt(2)!r}")
print(f"|f″(r) / (2 f′(r))| = {limit:.6f}   (1/(2√2) = {1 / (2 * math.sqrt(2)):.6f})")

# %% [markdown]
# ## A root without a formula: cos x = x
# f(x) = cos x - x has one root, the Dottie number (press cos on a calculator until it stops changing), and
# no closed form. Newton's method finds it to the last digit in four steps; pressing cos converges too, but
# only linearly (the error shrinks by the factor |sin r| ≈ 0.67 each time), so it takes over 80 presses.

# %%
print("\n## Newton's method for cos x - x = 0 from x₀ = 1")
dottie = lambda x: np.cos(x) - x   # noqa: E731
dottie_iterates = newton(dottie, 1.0, 10)
root = float(dottie_iterates[-1])
dottie_errors = report(dottie_iterates, root, "x_k")
print(f"root r = {root!r}, cos(r) - r = {math.cos(root) - root:.1e}, Newton steps: {len(dottie_iterates) - 1}")
limit_dottie = abs(dualnum.derivative(dottie, root, order=2) / (2 * dualnum.derivative(dottie, root)))
print(f"|f″(r) / (2 f′(r))| = {limit_dottie:.6f}   (cos r / (2(1 + sin r)) = "
      f"{math.cos(root) / (2 * (1 + math.sin(root))):.6f})")
presses, x = 0, 1.0
while abs(x - root) > 1e-15 and presses < 1000:
    x, presses = math.cos(x), presses + 1
print(f"pressing cos from 1 gets as close in {presses} presses")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
grid = np.linspace(0.9, 2.1, 200)
ax1.plot(grid, square(grid), color="black", lw=2, label="f(x) = x² - 2")
for k, xk in enumerate(sqrt2_iterates[:3]):
    slope = dualnum.derivative(square, xk)
    ax1.plot(grid, square(xk) + slope * (grid - xk), "--", lw=1, color=f"C{k}",
             label=f"tangent at x{k} = {xk:.4f}")
    ax1.plot([xk, xk], [0, square(xk)], ":", color=f"C{k}")
    ax1.plot(xk, square(xk), "o", color=f"C{k}")
ax1.axhline(0, color="gray", lw=0.8)
ax1.set_ylim(-1.5, 2.5)
ax1.set_xlabel("x")
ax1.set_title("Newton: follow the tangent to zero")
ax1.legend(fontsize=8, loc="upper left")
lo, hi, bisect = 1.0, 2.0, []
for _ in range(60):   # bisection for comparison: one bit (a factor 2) per step
    mid = (lo + hi) / 2
    bisect.append(abs(mid - math.sqrt(2)) or 1e-17)
    lo, hi = (mid, hi) if square(mid) < 0 else (lo, mid)
ax2.semilogy([e for e in sqrt2_errors if e > 0], "o-", label="Newton, x² - 2")
ax2.semilogy([e for e in dottie_errors if e > 0], "s-", label="Newton, cos x - x")
ax2.semilogy(bisect[:40], ".-", color="gray", alpha=0.6, label="bisection, x² - 2")
ax2.set_xlabel("step k")
ax2.set_ylabel("error |x_k - r|")
ax2.set_title("Quadratic convergence: the error is squared each step")
ax2.set_ylim(1e-17, 1)
ax2.grid(True, which="both", alpha=0.3)
ax2.legend(fontsize=8)
common.save(fig, "newton.png")

# %% [markdown]
# ## Many derivatives at once: Taylor mode
# The Taylor polynomial of order n about 0 is T_n(x) = Σ_{k ≤ n} f⁽ᵏ⁾(0) xᵏ / k!. It needs every derivative up
# to order n. Nesting `derivative` n times would work, but its cost doubles with each order;
# `dualnum.derivatives(f, x0, n)` returns `[f(x0), f′(x0), …, f⁽ⁿ⁾(x0)]` in one pass of power-series (Taylor)
# arithmetic, whose cost grows like n², built from the same rules table. For sin the derivatives at 0 cycle
# 0, 1, 0, -1; for exp(sin x) they are less obvious.
#
# Each added order makes the polynomial follow the function further from 0. Both series converge for every x,
# but not at the same pace: at x = 1 the error of exp(sin x)'s polynomial falls steadily, at x = 2 it still
# jumps around at order 15, and the plot shows the high orders leaving the curve past |x| ≈ 2.

# %%
print("\n## dualnum.derivatives(f, 0, n): f(0), f′(0), …, f⁽ⁿ⁾(0) in one call")
N = 15
sin_derivs = dualnum.derivatives(np.sin, 0.0, N)
f = lambda x: np.exp(np.sin(x))   # noqa: E731
f_derivs = dualnum.derivatives(f, 0.0, N)
print(f"sin:        {sin_derivs}")
print(f"exp(sin x): {f_derivs}")
nested = [dualnum.derivative(f, 0.0, order=k) for k in range(1, 6)]
print(f"nested derivative(f, 0, order=k), k = 1..5: {np.array(nested)}   (the same numbers; order k nests k "
      "duals,\n  2ᵏ numbers per value, where Taylor mode carries k + 1)")


def taylor(derivs, n, x):
    """T_n(x) = Σ_{k ≤ n} f⁽ᵏ⁾(0) xᵏ / k!, from the list of derivatives at 0."""
    return sum(derivs[k] * x ** k / math.factorial(k) for k in range(n + 1))


print(f"\n{'order n':>8}  {'T_n(1) for exp(sin x)':>22}  {'error at x = 1':>14}  {'error at x = 2':>14}")
for n in [1, 2, 4, 6, 8, 10, 12, 15]:
    print(f"{n:>8}  {taylor(f_derivs, n, 1.0):22.15f}  {abs(taylor(f_derivs, n, 1.0) - f(1.0)):14.2e}  "
          f"{abs(taylor(f_derivs, n, 2.0) - f(2.0)):14.2e}")
print(f"exp(sin 1) = {f(1.0):.15f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
xs = np.linspace(-2 * np.pi, 2 * np.pi, 400)
ax1.plot(xs, np.sin(xs), color="black", lw=2.5, label="sin x")
for i, n in enumerate([1, 3, 5, 7, 9, 11, 13]):
    ax1.plot(xs, taylor(sin_derivs, n, xs), lw=1.2, color=plt.cm.viridis(i / 6), label=f"T{n}")
ax1.set_ylim(-2.5, 2.5)
ax1.set_title("Taylor polynomials of sin about 0")
ax1.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.13))
xs = np.linspace(-3, 3, 400)
ax2.plot(xs, f(xs), color="black", lw=2.5, label="exp(sin x)")
for i, n in enumerate([1, 2, 4, 6, 10, 15]):
    ax2.plot(xs, taylor(f_derivs, n, xs), lw=1.2, color=plt.cm.plasma(i / 6), label=f"T{n}")
ax2.set_ylim(-0.5, 4)
ax2.set_title("Taylor polynomials of exp(sin x) about 0")
ax2.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.13))
for ax in (ax1, ax2):
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_xlabel("x")
common.save(fig, "taylor_polynomials.png")

# %% [markdown]
# ## f, f′ and f″ on a grid, one call each
# `dualnum.derivative(f, xs)` with an array of points gives f′ at every point in one forward pass (f must act
# elementwise: each output depends on its own point only), and `order=2` gives f″. For f(x) = exp(sin x),
# f′(x) = cos x · e^{sin x} and f″(x) = (cos²x - sin x) · e^{sin x}: we check both on the grid.

# %%
print("\n## derivatives on a grid: dualnum.derivative(f, xs) and dualnum.derivative(f, xs, order=2)")
xs = np.linspace(-2 * np.pi, 2 * np.pi, 121 if FAST else 601)
f1 = dualnum.derivative(f, xs)
f2 = dualnum.derivative(f, xs, order=2)
exact1 = np.cos(xs) * np.exp(np.sin(xs))
exact2 = (np.cos(xs) ** 2 - np.sin(xs)) * np.exp(np.sin(xs))
print(f"{xs.size} points; largest error of f′: {np.max(np.abs(f1 - exact1)):.1e}, "
      f"of f″: {np.max(np.abs(f2 - exact2)):.1e}")
print(f"at x = 1: f″ from the grid call {dualnum.derivative(f, np.array([1.0]), order=2)[0]:.12f}, "
      f"from derivatives(f, 1, 2) {dualnum.derivatives(f, 1.0, 2)[2]:.12f}")
try:
    dualnum.derivative(np.cumsum, xs)
except ValueError as err:   # np.cumsum mixes the points: no single derivative per point exists
    print(f"derivative(np.cumsum, xs) refuses: {type(err).__name__}: {str(err)[:110]}...")

fig, ax = plt.subplots(figsize=(9, 4.4))
ax.plot(xs, f(xs), color="black", lw=2, label="f(x) = exp(sin x)")
ax.plot(xs, f1, color="C0", lw=1.5, label="f′(x): derivative(f, xs)")
ax.plot(xs, f2, color="C3", lw=1.5, label="f″(x): derivative(f, xs, order=2)")
ax.axhline(0, color="gray", lw=0.6)
critical = np.flatnonzero(np.diff(np.sign(f1)) != 0)
ax.plot(xs[critical], f(xs[critical]), "o", color="C0", ms=5, label="where f′ changes sign (max/min of f)")
ax.set_xlabel("x")
ax.set_title("f, f′ and f″ on a grid: one call each")
ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
common.save(fig, "grid_derivatives.png")
