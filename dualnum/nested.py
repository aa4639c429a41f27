"""Modes inside modes: second derivatives as the derivative of a first derivative.

``hessian`` nests forward mode in forward mode (a gradient of duals inside a jacobian of duals) or, with
``method="forward-over-reverse"``, the tracker's gradient inside a forward-mode jacobian; ``hvp`` is H·v as
d/dε ∇f(x + εv), the tracker run on dual numbers. Every call draws a fresh tag from one counter shared by both
modes, so the inner and outer derivatives never mix (no perturbation confusion). This is the only module that
calls both modes' APIs.
"""
from __future__ import annotations

from . import tracker
from .forward import _SCALARS, _check_chunk, _size, as_input, chunk_size, derivative, gradient, jacobian, jvp

HESSIAN_METHODS = ("forward-over-forward", "forward-over-reverse")


def hessian(f, x, chunk: int | None = None, method: str = "forward-over-forward"):
    """H[i, j] = ∂²f/∂xᵢ∂xⱼ for scalar f: the jacobian of the gradient.

    ``method="forward-over-forward"`` (the default): nested duals, the gradient itself in forward mode; it runs
    any code forward mode runs, and its cost grows like n² evaluations' worth of partials.
    ``method="forward-over-reverse"``: duals over the tracker's reverse-mode gradient (Zygote's and
    torch.func's choice), one reverse pass per chunk of directions: much cheaper for large n (benchmarks/b3).
    """
    if method not in HESSIAN_METHODS:
        raise ValueError(f"hessian: method must be one of {HESSIAN_METHODS}, got {method!r}")
    chunk = _check_chunk(chunk, "hessian")
    x = as_input(x, "hessian")
    if method == "forward-over-reverse":
        if type(x) in _SCALARS:
            return derivative(lambda z: tracker.gradient(f, z)[0], x)
        # one pass carries every direction up to 256: the reverse pass costs Python per operation, not per input
        return jacobian(lambda z: tracker.gradient(f, z)[0], x, chunk=chunk or chunk_size(_size(x), 256))
    if type(x) in _SCALARS:
        return derivative(f, x, order=2)
    return jacobian(lambda z: gradient(f, z, chunk=chunk)[0], x, chunk=chunk)


def hvp(f, x, v):
    """H(x)·v, the Hessian-vector product, as d/dε ∇f(x + εv): the tracker's gradient run on dual numbers."""
    return jvp(lambda z: tracker.gradient(f, z)[0], x, v)[1]
