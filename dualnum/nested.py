"""Modes inside modes: second derivatives as the derivative of a first derivative.

``hessian`` nests forward mode in forward mode (a gradient of duals inside a jacobian of duals) or, with
``method="forward-over-reverse"``, the tracker's gradient inside a forward-mode jacobian; ``hvp`` is H·v as
d/dε ∇f(x + εv), the tracker run on dual numbers. Every call draws a fresh tag from one counter shared by both
modes, so the inner and outer derivatives never mix (no perturbation confusion). This is the only module that
calls both modes' APIs.
"""
from __future__ import annotations

import math

import numpy as np

from . import tracker
from .forward import _SCALARS, _check_chunk, _size, as_input, chunk_size, derivative, gradient, jacobian, jvp

HESSIAN_METHODS = ("auto", "forward-over-forward", "forward-over-reverse")
#: up to this many inputs nested duals beat a reverse pass per chunk of directions (benchmarks/b3)
SMALL = 16
#: floats in one nested array (value and c × c partials of an n-element intermediate): bounds a Hessian's memory
BUDGET = 1_000_000
#: numbers in the tracker's graph of one forward-over-reverse pass (its adjoints and temporaries come on top)
GRAPH_BUDGET = 2_000_000


def hessian(f, x, chunk: int | None = None, method: str = "auto"):
    """H[i, j] = ∂²f/∂xᵢ∂xⱼ for scalar f: the jacobian of the gradient.

    ``method="forward-over-forward"``: nested duals, the gradient itself in forward mode; it runs any code forward
    mode runs, and its cost grows like n² evaluations' worth of partials (chunks are sized so that one nested
    array holds at most about a million numbers).
    ``method="forward-over-reverse"``: duals over the tracker's reverse-mode gradient (Zygote's and
    torch.func's choice), one reverse pass per chunk of directions: much cheaper for large n (benchmarks/b3).
    A chunk is up to 256 directions, fewer when the graph f records is large (GRAPH_BUDGET numbers a pass).
    ``method="auto"`` (the default): forward over forward up to 16 inputs; above, forward over reverse, and
    forward over forward where the tracker refuses f or its Hessian has an inf or NaN (forward mode's chain rule
    is NaN-safe, the tracker's is not).
    """
    if method not in HESSIAN_METHODS:
        raise ValueError(f"hessian: method must be one of {HESSIAN_METHODS}, got {method!r}")
    chunk = _check_chunk(chunk, "hessian")
    x = as_input(x, "hessian")
    scalar = type(x) in _SCALARS
    if method == "auto":
        if scalar or _size(x) <= SMALL:
            method = "forward-over-forward"
        else:
            try:
                H = _over_reverse(f, x, chunk, scalar)
            except (TypeError, NotImplementedError):
                return _over_forward(f, x, chunk, scalar)  # (code the tracker refuses: forward mode runs it)
            return H if np.all(np.isfinite(H)) else _over_forward(f, x, chunk, scalar)
    if method == "forward-over-reverse":
        return _over_reverse(f, x, chunk, scalar)
    return _over_forward(f, x, chunk, scalar)


def _over_reverse(f, x, chunk, scalar):
    if scalar:
        return derivative(lambda z: tracker.gradient(f, z)[0], x)
    if not chunk:
        # one pass carries every direction up to 256 (the reverse pass costs Python per operation, not per
        # input), as long as its graph holds at most GRAPH_BUDGET numbers: c directions multiply it by c + 1
        held = tracker._recorded_size(f, x)
        chunk = chunk_size(_size(x), max(1, min(256, GRAPH_BUDGET // max(held, 1) - 1)))
    return jacobian(lambda z: tracker.gradient(f, z)[0], x, chunk=chunk)


def _over_forward(f, x, chunk, scalar):
    if scalar:
        return derivative(f, x, order=2)
    n = _size(x)
    # an intermediate of n numbers nests (1 + c)² of them: c ≈ √(BUDGET / n) keeps it near BUDGET
    c = chunk or chunk_size(n, max(1, min(64, int(math.sqrt(BUDGET / max(n, 1))) - 1)))
    return jacobian(lambda z: gradient(f, z, chunk=c)[0], x, chunk=c)


def hvp(f, x, v):
    """H(x)·v, the Hessian-vector product, as d/dε ∇f(x + εv): the tracker's gradient run on dual numbers."""
    return jvp(lambda z: tracker.gradient(f, z)[0], x, v)[1]
