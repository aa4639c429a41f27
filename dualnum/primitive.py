"""numpy functions whose derivative is written by hand -- ``det``, ``inv``, ``solve``, ``einsum``, ... -- with the
value, the forward rule (jvp) and the reverse rule (vjp) side by side, once for both modes.

An entry says, for y = f(x₁, ..., xₙ):

    jvp(dx, y, *x, **kw) -> ẏ      the derivative along one direction; dx[i] is None where xᵢ is constant
    vjp(ȳ, y, *x, **kw)  -> (x̄ᵢ)   the adjoint: one cotangent per positional argument, None where there is
                                    none (a shorter tuple leaves the rest None)

Both are written with numpy functions on whatever number type they are given, so they are differentiable
themselves: a Hessian through ``det`` differentiates det's jvp (forward over forward) or its vjp (forward over
reverse) with the same table. A function with several results (``slogdet``, ``eigh``, ``svd``, ``qr``) has ẏ
and ȳ as tuples of the same length; results listed in ``constant`` (``slogdet``'s sign) are plain arrays with
derivative 0, and their entries of ẏ and ȳ are None. forward mode (dualnum/forward/dualarray.py) calls jvp once per
direction; the tracker (dualnum/reverse/tracked.py) records one node whose adjoint is vjp.

A *multilinear* function (``einsum``, ``kron``: linear in each argument separately) needs no jvp: its
derivative is Σᵢ f(x₁, ..., dxᵢ, ..., xₙ), which :func:`multilinear_jvp` computes from f itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._numpy.protocol import registrar

#: numpy function -> its Primitive; dualarray.py and tracked.py register a handler for each
TABLE: dict = {}
#: numpy function -> a function written with other numpy functions (``matrix_power`` from ``@``, ``norm`` from
#: ``svd``): it works on every number type as it is, so both modes register it unchanged
COMPOSITES: dict = {}


@dataclass(frozen=True)
class Primitive:
    func: Callable                 # the numpy function: the value is func(*x, **kw) on the values
    jvp: Callable                  # (dx, y, *x, **kw) -> ẏ, dx with one entry per positional argument
    vjp: Callable                  # (ȳ, y, *x, **kw) -> (x̄ᵢ), one per positional argument
    argnums: tuple = (0,)          # the positional arguments that may carry derivatives
    constant: tuple = ()           # indices of results that are constants (slogdet's sign)
    variadic: bool = False         # every positional argument from argnums[0] on may be differentiated
    prepare: Callable = None       # (args, kwargs) -> (args, kwargs) in the form jvp/vjp expect (einsum's sublists)

    @property
    def name(self):
        mod = getattr(self.func, "__module__", "") or ""
        return ("np.linalg." if "linalg" in mod else "np.") + self.func.__name__

    def positions(self, nargs):
        """The positional arguments that may be differentiated, for a call with ``nargs`` of them."""
        if self.variadic:
            return tuple(range(self.argnums[0], nargs))
        return tuple(i for i in self.argnums if i < nargs)


def define(func, jvp=None, vjp=None, argnums=(0,), constant=(), variadic=False, prepare=None):
    """Add ``func`` to the table; ``jvp=None`` means func is multilinear in ``argnums``."""
    TABLE[func] = Primitive(func, jvp or multilinear_jvp(func), vjp, tuple(argnums), tuple(constant), variadic,
                            prepare)
    return TABLE[func]


#: ``@composite(np.f)``: ``impl`` computes each numpy function with numpy functions that have derivatives already
composite = registrar(COMPOSITES)


def multilinear_jvp(func):
    """ẏ = Σᵢ f(x₁, ..., dxᵢ, ..., xₙ) for a function linear in each differentiable argument."""
    def jvp(dx, y, *x, **kw):
        total = None
        for i, d in enumerate(dx):
            if d is not None:
                t = func(*x[:i], d, *x[i + 1:], **kw)
                total = t if total is None else total + t
        return total
    return jvp


# ---- for the two adapters (dualarray.py, tracked.py) -------------------------------------------------------------

def like(y, items):
    """``items`` as a result of y's kind: numpy's named tuple (SlogdetResult, EighResult, ...) or a tuple."""
    return type(y)(*items) if hasattr(y, "_fields") else tuple(items)


def unaliased(y, x):
    """y with each result that is a view of an input copied (einsum('ii->i') returns one): its derivative is new,
    so its value must be too, or a write into the result would change the input's value and not its derivative."""
    many = isinstance(y, tuple)
    ys = y if many else (y,)
    if not any(type(v) is np.ndarray and any(type(a) is np.ndarray and np.may_share_memory(v, a) for a in x)
               for v in ys):
        return y
    copies = [np.copy(v) if type(v) is np.ndarray else v for v in ys]
    return like(y, copies) if many else copies[0]
