"""Exercise 06 -- the backward step of one operation (follows tutorial 6, "Inside backprop": the chain rule at each
node, read backwards).

On the way back, every node z = op(x, y) of the tape receives z̄ = ∂L/∂z, the gradient of the loss L with respect
to its output, and passes on to each input its share, the *vector-Jacobian product* (VJP):

    x̄ = Σ z̄ · ∂z/∂x        (summed over every element of z that x touched)

Written out for the operations below (z̄ has z's shape, and each x̄ must have x's shape):

    z = x · y   (elementwise)    x̄ = z̄ · y,          ȳ = z̄ · x
    z = x / y   (elementwise)    x̄ = z̄ / y,          ȳ = -z̄ · x / y²
    z = sin x                    x̄ = z̄ · cos x
    C = A B     (matrices)       Ā = C̄ Bᵀ,           B̄ = Aᵀ C̄
    Z = X + b   (b added to every column of X, shape (n,) against (n, batch))
                                 X̄ = Z̄,              b̄ = Σ over the columns of Z̄   (b touched every column)

(Check the shapes: C̄ Bᵀ is (m, p)(p, n) = (m, n), A's shape. A gradient of the wrong shape is a sure sign of a
missing transpose.) These are exactly what the tracker does at each node: ``tracker.show(y)`` prints each
node's rule, and ``dualnum.tracker.gradient(lambda x: np.sum(op(x) * zbar), x)`` is the VJP of op at x.

Write, in plain numpy (no dualnum inside):
1. ``mul_vjp(x, y, zbar)`` and ``div_vjp(x, y, zbar)``: the pair (x̄, ȳ);
2. ``sin_vjp(x, zbar)``: x̄;
3. ``matmul_vjp(A, B, Cbar)``: the pair (Ā, B̄);
4. ``bias_add_vjp(X, b, Zbar)``: the pair (X̄, b̄);
5. ``backprop_by_hand(A, B, W)``: the gradient (Ā, B̄) of L = Σ W·S·C with C = A B and S = sin C (W a
   constant array of C's shape), by running the forward pass and then your VJPs from L back to A and B, as the
   tracker would. The gradient reaching the product P = S·C is W (L = Σ W·P). C is used twice (by sin, and
   directly as a factor of S·C): a node used twice receives a gradient from each use, and they add up.

Grade it with ``python -m tutorials.exercises check 6``.
"""
import numpy as np


def mul_vjp(x, y, zbar):
    """z = x · y elementwise: (x̄, ȳ) = (z̄ · y, z̄ · x)."""
    # BEGIN SOLUTION: each factor receives z̄ times the other factor
    return zbar * y, zbar * x
    # END SOLUTION


def div_vjp(x, y, zbar):
    """z = x / y elementwise: (x̄, ȳ) = (z̄ / y, -z̄ · x / y²)."""
    # BEGIN SOLUTION: d(x/y) = dx / y - x dy / y²
    return zbar / y, -zbar * x / y ** 2
    # END SOLUTION


def sin_vjp(x, zbar):
    """z = sin x: x̄ = z̄ · cos x."""
    # BEGIN SOLUTION: the local derivative of sin, times the gradient arriving
    return zbar * np.cos(x)
    # END SOLUTION


def matmul_vjp(A, B, Cbar):
    """C = A B: (Ā, B̄) = (C̄ Bᵀ, Aᵀ C̄)."""
    # BEGIN SOLUTION: two matrix products, each of its input's shape
    return Cbar @ B.T, A.T @ Cbar
    # END SOLUTION


def bias_add_vjp(X, b, Zbar):
    """Z = X + b[:, None]: (X̄, b̄) = (Z̄, Z̄ summed over the columns)."""
    # BEGIN SOLUTION: X̄ passes through; b was used by every column, so its gradients add up
    return Zbar, np.sum(Zbar, axis=1)
    # END SOLUTION


def backprop_by_hand(A, B, W):
    """(Ā, B̄) of L = Σ W·S·C, C = A B, S = sin C: the forward pass, then your VJPs from L back to A and B."""
    # BEGIN SOLUTION: forward C = A B, S = sin C; back: W reaches S·C, then S and C, C also through sin; matmul
    C = A @ B
    S = np.sin(C)
    Sbar, Cbar_direct = mul_vjp(S, C, W)
    Cbar = sin_vjp(C, Sbar) + Cbar_direct
    return matmul_vjp(A, B, Cbar)
    # END SOLUTION
