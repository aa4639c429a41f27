"""Exercise 12 -- choosing a learning rate from the landscape (follows tutorials 4 and 2: the cost surface).

Fit a line ŷ = m·x + b by least squares: the loss L(m, b) = mean((m·x + b - y)²) is a bowl over the (m, b)
plane, and its shape decides which learning rates work. Near a point, L curves like ½ dᵀ H d, where H is the
Hessian, the 2×2 matrix of second derivatives [[L_mm, L_mb], [L_mb, L_bb]]. One gradient-descent step
p ← p - η ∇L multiplies the distance to the minimum along each eigenvector of H by (1 - η λ), λ its eigenvalue:

  * the descent is stable when |1 - η λ| < 1 for every λ, that is  η < 2 / λmax  (the largest stable rate);
  * the slowest direction shrinks fastest when both ends are balanced, |1 - η λmin| = |1 - η λmax|:
    η* = 2 / (λmin + λmax)  (the best fixed rate for a quadratic bowl).

Write:
1. ``landscape(loss, ms, bs)``: the loss on the grid ms × bs, with ``nn.loss_grid`` (labels ("m", "b"));
2. ``hessian_from_grid(grid, i, j)``: H at the grid point (ms[j], bs[i]) read off the landscape by central
   differences (grid.Z[i, j] is the loss at (grid.xs[j], grid.ys[i]); hm, hb are the grid's spacings):
       L_mm ≈ (Z[i, j+1] - 2 Z[i, j] + Z[i, j-1]) / hm²        L_bb ≈ (Z[i+1, j] - 2 Z[i, j] + Z[i-1, j]) / hb²
       L_mb ≈ (Z[i+1, j+1] - Z[i+1, j-1] - Z[i-1, j+1] + Z[i-1, j-1]) / (4 hm hb)
3. ``hessian(loss, m, b)``: the exact H at (m, b) with ``dualnum.hessian`` (dual numbers nested twice);
4. ``largest_stable_rate(H)`` = 2 / λmax, and ``best_rate(H)`` = 2 / (λmin + λmax)  (``np.linalg.eigvalsh``);
5. ``descend(loss, m, b, rate, steps)``: gradient descent with ``dualnum.gradient(loss, m, b)``; return the final
   (m, b) and the list of losses, the starting one first (``steps + 1`` numbers).

Then try it: with η* the line is found in a few dozen steps; with 1.1 × 2/λmax the losses blow up.
Check it with ``python -m tutorials.exercises check 12``.
"""
import numpy as np

import dualnum
import nn

X = np.linspace(-1.0, 3.0, 30)
Y = 2.0 * X + 1.0 + 0.3 * np.sin(3 * X)


def loss(m, b):
    """mean((m·x + b - y)²) over the data axis only, so that nn.loss_grid evaluates the whole grid at once."""
    return np.mean((m * X + b - Y) ** 2, axis=-1)


def landscape(loss, ms, bs):
    """The loss on the grid ms × bs: an nn.landscape.Grid with Z[i, j] = loss(ms[j], bs[i])."""
    # BEGIN SOLUTION: one call to nn.loss_grid, m along the x axis of the grid
    return nn.loss_grid(loss, ms, bs, labels=("m", "b"))
    # END SOLUTION


def hessian_from_grid(grid, i, j):
    """The 2×2 Hessian at (grid.xs[j], grid.ys[i]) by central differences of grid.Z (a uniform grid)."""
    Z = grid.Z
    hm, hb = grid.xs[1] - grid.xs[0], grid.ys[1] - grid.ys[0]
    # BEGIN SOLUTION: the three second differences (m runs along the columns j, b along the rows i)
    L_mm = (Z[i, j + 1] - 2 * Z[i, j] + Z[i, j - 1]) / hm ** 2
    L_bb = (Z[i + 1, j] - 2 * Z[i, j] + Z[i - 1, j]) / hb ** 2
    L_mb = (Z[i + 1, j + 1] - Z[i + 1, j - 1] - Z[i - 1, j + 1] + Z[i - 1, j - 1]) / (4 * hm * hb)
    # END SOLUTION
    return np.array([[L_mm, L_mb], [L_mb, L_bb]])


def hessian(loss, m, b):
    """The exact Hessian of loss at (m, b), by dualnum.hessian."""
    # BEGIN SOLUTION: dualnum.hessian of a function of one vector p = (m, b)
    return dualnum.hessian(lambda p: loss(p[0], p[1]), np.array([m, b], dtype=float))
    # END SOLUTION


def largest_stable_rate(H):
    """2 / λmax: plain gradient descent on a bowl with Hessian H diverges for any larger rate."""
    # BEGIN SOLUTION: the largest eigenvalue of the symmetric H
    return 2.0 / np.linalg.eigvalsh(H)[-1]
    # END SOLUTION


def best_rate(H):
    """2 / (λmin + λmax): the fixed rate that shrinks the slowest direction fastest."""
    # BEGIN SOLUTION: balance the smallest and the largest eigenvalue
    lam = np.linalg.eigvalsh(H)
    return 2.0 / (lam[0] + lam[-1])
    # END SOLUTION


def descend(loss, m, b, rate, steps):
    """Gradient descent from (m, b): returns (m, b, losses) with losses[0] the starting loss (steps + 1 numbers)."""
    losses = [float(loss(m, b))]
    # BEGIN SOLUTION: both partial derivatives from dualnum.gradient, then one step against them
    for _ in range(steps):
        gm, gb = dualnum.gradient(loss, m, b)
        m, b = m - rate * gm, b - rate * gb
        losses.append(float(loss(m, b)))
    # END SOLUTION
    return m, b, losses


if __name__ == "__main__":
    grid = landscape(loss, np.linspace(0, 4, 41), np.linspace(-1, 3, 41))
    H = hessian(loss, 0.0, 0.0)
    print(f"H from the grid {hessian_from_grid(grid, 20, 20).round(4).tolist()}, exact {H.round(4).tolist()}")
    bound, eta = largest_stable_rate(H), best_rate(H)
    print(f"2/λmax = {bound:.4f}; chosen η* = {eta:.4f}")
    for rate in (eta, 1.1 * bound):
        m, b, losses = descend(loss, 0.0, 0.0, rate, 60)
        print(f"rate {rate:.4f}: loss {losses[0]:.3f} -> {losses[-1]:.4g}, (m, b) = ({m:.4f}, {b:.4f})")
