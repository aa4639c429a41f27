"""Exercise 03 -- a second derivative by nesting (follows tutorial 5, "Dual numbers from scratch": nesting, and
tutorial 7, "Taylor and Newton").

``dualnum.derivative(f, x)`` evaluates f on a dual number. Nothing stops f from being a derivative itself: the
derivative of x -> f'(x) is f''(x), computed by dual numbers whose values are dual numbers (dualnum tags the two
levels apart). Use it for two classics:

* the signed curvature of the graph y = f(x), how sharply it bends:
      κ(x) = f''(x) / (1 + f'(x)²)^(3/2)
  (a circle of radius r has |κ| = 1/r everywhere; the parabola y = x² has κ(0) = 2);
* Newton's method for a minimum: a smooth minimum has f'(x) = 0, so apply Newton's root step to f':
      x ← x - f'(x) / f''(x)

Write, with ``dualnum.derivative`` only (no finite differences, no formulas by hand: f is any function written
with numpy):
1. ``second_derivative(f, x)``: f''(x), the derivative of x -> f'(x), by nesting two calls of ``derivative``;
2. ``curvature(f, x)``: κ(x) from f'(x) and f''(x);
3. ``newton_minimum(f, x0, steps)``: the list [x0, x1, ..., x_steps] of Newton's iterates for f' = 0.

Check your work with ``python -m tutorials.exercises check 3``.
"""
import numpy as np  # noqa: F401  (f is written with numpy functions)

import dualnum


def second_derivative(f, x):
    """f''(x): the derivative of the derivative."""
    # BEGIN SOLUTION: derivative of (t -> derivative of f at t), at x
    return dualnum.derivative(lambda t: dualnum.derivative(f, t), x)
    # END SOLUTION


def curvature(f, x):
    """κ(x) = f''(x) / (1 + f'(x)²)^(3/2): the signed curvature of y = f(x)."""
    # BEGIN SOLUTION: f' and f'' at x, then the formula
    d1 = dualnum.derivative(f, x)
    d2 = second_derivative(f, x)
    return d2 / (1.0 + d1 * d1) ** 1.5
    # END SOLUTION


def newton_minimum(f, x0, steps):
    """[x0, x1, ..., x_steps] with x_{k+1} = x_k - f'(x_k) / f''(x_k)."""
    xs = [x0]
    # BEGIN SOLUTION: one Newton step on f' per iteration
    x = x0
    for _ in range(steps):
        x = x - dualnum.derivative(f, x) / second_derivative(f, x)
        xs.append(x)
    # END SOLUTION
    return xs
