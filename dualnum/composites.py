"""numpy functions that are compositions of other numpy functions, written once for every array type.

``max``/``min`` from each type's extremum, ``clip``/``where`` from their rules, ``prod`` = a chain of ``*``,
``mean = sum / n``, ``var = mean((x - mean)²)``, ``std = √var``,
``norm = √Σx²``, ``dot``/``inner``/``outer`` from ``matmul``/``multiply``/``sum``, ``vstack``/``hstack`` from
``concatenate``. Each calls numpy, so it reaches the primitives of whatever type it is given: DualArray and
Tracked implement the primitives and add the handlers :func:`make` builds to their tables. Functions that
only look at values (``argmax``, ``isnan``, ...) and constants (``zeros_like``) are among them too.
"""
import numpy as np

from .protocol import ndim_of, no_out, normalize_axes, shape_of
from .rules import RULES


def _count(a, axes):
    return int(np.prod([shape_of(a)[i] for i in axes])) if axes else 1


def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=np._NoValue):
    no_out("np.mean", out)
    if where is not np._NoValue:
        raise TypeError("np.mean with derivatives does not take where=")
    if isinstance(a, (list, tuple)):
        a = np.stack(a)
    axes = normalize_axes(axis, ndim_of(a))
    return np.sum(a, axis=axes, keepdims=keepdims) / _count(a, axes)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=np._NoValue):
    no_out("np.var", out)
    axes = normalize_axes(axis, ndim_of(a))
    d = a - mean(a, axis=axes, keepdims=True)
    return np.sum(d * d, axis=axes, keepdims=keepdims) / (_count(a, axes) - ddof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=np._NoValue):
    return np.sqrt(var(a, axis=axis, ddof=ddof, keepdims=keepdims))


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
    """Product as a chain of multiplications: exact even with zeros (no division by the element)."""
    no_out("np.prod", out)
    r = a
    for ax in sorted(normalize_axes(axis, ndim_of(a)), reverse=True):
        m = np.moveaxis(r, ax, 0)
        n = shape_of(m)[0]
        acc = m[0] if n else np.ones(shape_of(m)[1:])
        for i in range(1, n):
            acc = acc * m[i]
        r = np.expand_dims(acc, ax) if keepdims else acc
    return r


def make(unsupported, value, apply, extremum):
    """The handlers, given the type's ``unsupported(name, why)`` error, its ``value`` (strip derivatives), its
    ``apply(rule, args)`` (a rule of the table on its values) and its ``extremum(a, axis, keepdims, np.max)``."""

    def amax(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
        no_out("np.max", out)
        return extremum(a, axis, keepdims, np.max)

    def amin(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
        no_out("np.min", out)
        return extremum(a, axis, keepdims, np.min)

    def clip(a, a_min=None, a_max=None, out=None, min=None, max=None, **kw):
        no_out("np.clip", out)
        lo = a_min if a_min is not None else min
        hi = a_max if a_max is not None else max
        lo = -np.inf if lo is None else lo
        hi = np.inf if hi is None else hi
        return apply(RULES["clip"], (a, lo, hi))

    def where(condition, x=None, y=None):
        if x is None and y is None:
            return np.nonzero(value(condition))
        return apply(RULES["where"], (np.asarray(value(condition)).astype(bool), x, y))

    def ravel(a, order="C"):
        return np.reshape(a, -1, order=order)

    def norm(x, ord=None, axis=None, keepdims=False):
        if ord not in (None, 2, "fro") or (ord == 2 and ndim_of(x) == 2 and axis is None):
            raise unsupported(f"np.linalg.norm(ord={ord!r})", "only the 2-norm of vectors and the Frobenius "
                              "norm are")
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))

    def dot(a, b, out=None):
        no_out("np.dot", out)
        if ndim_of(a) == 0 or ndim_of(b) == 0:
            return np.multiply(a, b)
        if ndim_of(a) <= 2 and ndim_of(b) <= 2:
            return np.matmul(a, b)
        raise unsupported("np.dot of arrays with more than 2 dimensions", "use np.matmul (@) for stacks")

    def inner(a, b):
        if ndim_of(a) <= 1 and ndim_of(b) <= 1:
            return np.sum(np.multiply(a, b))
        raise unsupported("np.inner/np.vdot of arrays with more than 1 dimension")

    def outer(a, b, out=None):
        no_out("np.outer", out)
        return np.multiply(np.reshape(a, (-1, 1)), np.reshape(b, (1, -1)))

    def atleast(*arys):
        res = [np.reshape(a, (1,)) if ndim_of(a) == 0 else a for a in arys]
        return res[0] if len(res) == 1 else res

    def vstack(tup, dtype=None, casting="same_kind"):
        return np.concatenate([np.reshape(a, (1, -1)) if ndim_of(a) < 2 else a for a in tup], axis=0)

    def hstack(tup, dtype=None, casting="same_kind"):
        arrays = [np.reshape(a, (1,)) if ndim_of(a) == 0 else a for a in tup]
        return np.concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)

    def full_like(a, fill_value, *args, **kwargs):
        if value(fill_value) is not fill_value:  # a differentiable fill: broadcast it, derivatives and all
            return np.broadcast_to(fill_value, np.shape(value(a))) * 1.0
        return np.full_like(value(a), fill_value, *args, **kwargs)

    def value_only(func):
        def handler(*args, **kwargs):
            return func(*[value(a) for a in args], **kwargs)
        return handler

    handlers = {np.max: amax, np.amax: amax, np.min: amin, np.amin: amin, np.clip: clip, np.where: where,
                np.ravel: ravel, np.mean: mean, np.var: var, np.std: std, np.prod: prod, np.linalg.norm: norm,
                np.dot: dot, np.inner: inner, np.vdot: inner, np.outer: outer, np.atleast_1d: atleast,
                np.atleast_2d: atleast, np.vstack: vstack, np.hstack: hstack, np.full_like: full_like}
    # zeros_like(x) is a constant: its derivative is zero, so nothing is dropped by reading values only
    for f in (np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero,
              np.isclose, np.allclose, np.array_equal, np.isnan, np.isfinite, np.isinf, np.argwhere,
              np.flatnonzero, np.result_type, np.zeros_like, np.ones_like, np.empty_like):
        handlers[f] = value_only(f)
    return handlers
