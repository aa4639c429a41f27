"""Exercise 02 -- a new rule in the table: softplus (follows tutorial 5, "Dual numbers from scratch", and tutorial
1, "How Flux works").

Every number type in dualnum takes its derivatives from one table, ``dualnum.rules``: a ``Rule`` holds a function's
value and its partial derivative, written as a formula of (x, z) where z = f(x) is the value already computed. Give
dualnum a function it does not know, softplus, and both modes -- forward (``dualnum.derivative``) and reverse
(``dualnum.tracker.gradient``) -- differentiate it, to every order.

    softplus(x) = ln(1 + eˣ)            softplus'(x) = σ(x) = 1 / (1 + e⁻ˣ)   (the logistic sigmoid)

Write:
1. ``softplus_value(x)``: ln(1 + eˣ) for a number or numpy array, without overflow for large x (ln(1 + e¹⁰⁰⁰)
   is 1000, not inf): ``np.logaddexp(0, x)`` is ln(e⁰ + eˣ) computed safely.
2. ``softplus_slope(x, z)``: the derivative σ(x), with numpy functions only (``np.exp``, not ``math.exp``): the
   formula is then differentiated itself when it is evaluated on a dual number, which gives the second
   derivative σ(x)(1 - σ(x)) for free. (z = softplus(x) is there if you want it: σ(x) = 1 - e⁻ᶻ.)
3. ``gradients(xs)``: put ``SOFTPLUS`` in the table for a block only, ``with dualnum.rules.override(SOFTPLUS):``,
   and inside it return the gradient of Σᵢ softplus(xᵢ) at the array xs in forward mode
   (``dualnum.gradient``) and in reverse mode (``dualnum.tracker.gradient``): a pair of arrays (both are [0] of
   the tuple those functions return). ``softplus(x)`` below applies the table's rule to any number type; outside
   the block it raises LookupError.

``override`` keeps your rule out of the real table (and out of dualnum's compiled kernels): after the block,
dualnum is exactly as before. Check your work with ``python -m tutorials.exercises check 2``.
"""
import numpy as np

import dualnum
from dualnum import tracker
from dualnum.functions import apply
from dualnum.rules import Rule


def softplus_value(x):
    """ln(1 + eˣ), for a number or an array."""
    # BEGIN SOLUTION: ln(1 + eˣ) without overflow
    return np.logaddexp(0.0, x)
    # END SOLUTION


def softplus_slope(x, z):
    """d softplus / dx = σ(x) = 1 / (1 + e⁻ˣ), written with numpy functions."""
    # BEGIN SOLUTION: the logistic sigmoid of x
    return 1.0 / (1.0 + np.exp(-x))
    # END SOLUTION


SOFTPLUS = Rule("softplus", softplus_value, (softplus_slope,), math="d softplus(x) = σ(x) dx")


def softplus(x):
    """softplus(x) by the table's rule, with its derivative carried along, for a float, an array, a Dual or a
    tracked value. It exists only inside a ``with dualnum.rules.override(SOFTPLUS):`` block."""
    rule = dualnum.rules.RULES.get("softplus")
    if rule is None:
        raise LookupError("softplus is not in dualnum's table: call it inside "
                          "`with dualnum.rules.override(SOFTPLUS):`")
    return apply(rule, x)


def gradients(xs):
    """(forward-mode gradient, reverse-mode gradient) of Σᵢ softplus(xᵢ) at xs, with SOFTPLUS in the table."""
    # BEGIN SOLUTION: inside `with dualnum.rules.override(SOFTPLUS):`, both modes on the same function
    with dualnum.rules.override(SOFTPLUS):
        def total(x):
            return np.sum(softplus(x))
        return dualnum.gradient(total, xs)[0], tracker.gradient(total, xs)[0]
    # END SOLUTION
