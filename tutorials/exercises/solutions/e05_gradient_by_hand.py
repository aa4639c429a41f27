"""Exercise 05 -- a gradient by hand, checked against dualnum (follows tutorial 1, "How Flux works": gradients of
ordinary code, and tutorial 5, "Dual numbers from scratch": forward mode pushes one direction through the code).

The Rosenbrock function of n ≥ 2 numbers is a classic test of optimisers (a long curved valley, minimum 0 at
x = (1, 1, ..., 1)):

    f(x) = Σᵢ 100·(xᵢ₊₁ - xᵢ²)² + (1 - xᵢ)²        for i = 0 .. n-2

Differentiate one term by hand. Each term touches xᵢ and xᵢ₊₁, so xⱼ gets a share from the term where it is xᵢ
(j ≤ n-2) and one from the term where it is xᵢ₊₁ (j ≥ 1):

    ∂f/∂xⱼ = -400·xⱼ·(xⱼ₊₁ - xⱼ²) - 2·(1 - xⱼ)     (j ≤ n-2)
           + 200·(xⱼ - xⱼ₋₁²)                       (j ≥ 1)

The same f is a sum of squares, f = Σₖ rₖ², of the residuals r(x) = [10·(x₁: - x:₋₁²), 1 - x:₋₁] (all the first
kind, then all the second: 2(n-1) numbers). Their Jacobian applied to a direction v, the JVP, is what forward
mode computes in one pass (``dualnum.jvp(f, x, v)`` returns ``(f(x), J v)``):

    J v = [10·(v₁: - 2·x:₋₁·v:₋₁),  -v:₋₁]

Write, with numpy on a 1-D array x (no loops needed: slices x[1:] and x[:-1] line the terms up):
1. ``rosenbrock(x)``: f(x), a number. Use only numpy operations, so that dualnum can run it on dual numbers
   and tracked values (the checker takes ``dualnum.gradient`` and ``dualnum.tracker.gradient`` of it);
2. ``rosenbrock_grad(x)``: ∇f(x) by the formula above, an array of x's shape (plain numpy, no dualnum);
3. ``residuals(x)``: r(x), an array of 2(n-1) numbers (with numpy operations, as 1.);
4. ``residuals_jvp(x, v)``: J(x) v by the formula above (plain numpy).

Try your own answers with ``dualnum.gradient(rosenbrock, x)[0]``, ``dualnum.jvp(residuals, x, v)`` and
``dualnum.testing.gradcheck(rosenbrock, x, grad=(rosenbrock_grad(x),))``, then grade them with
``python -m tutorials.exercises check 5``.
"""
import numpy as np


def rosenbrock(x):
    """f(x) = Σᵢ 100·(xᵢ₊₁ - xᵢ²)² + (1 - xᵢ)²."""
    # BEGIN SOLUTION: the sum of the n-1 terms, with the slices x[1:] and x[:-1]
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    # END SOLUTION


def rosenbrock_grad(x):
    """∇f(x), by hand: each xⱼ collects its share of the term it starts and of the term it ends."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    # BEGIN SOLUTION: the share of the term xⱼ starts (j ≤ n-2), then of the term it ends (j ≥ 1)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    # END SOLUTION
    return g


def residuals(x):
    """r(x) = [10·(x₁: - x:₋₁²), 1 - x:₋₁], so that rosenbrock(x) = Σ r(x)²."""
    # BEGIN SOLUTION: the two kinds of residual, joined into one array
    return np.concatenate([10 * (x[1:] - x[:-1] ** 2), 1 - x[:-1]])
    # END SOLUTION


def residuals_jvp(x, v):
    """J(x) v, the change of the residuals along the direction v: [10·(v₁: - 2·x:₋₁·v:₋₁), -v:₋₁]."""
    x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
    # BEGIN SOLUTION: differentiate each residual along v (the chain rule on xᵢ²)
    return np.concatenate([10 * (v[1:] - 2 * x[:-1] * v[:-1]), -v[:-1]])
    # END SOLUTION
