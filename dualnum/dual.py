"""The scalar dual number ``a + b₁ε₁ + … + bₖεₖ`` with ``εᵢεⱼ = 0``: f(a + bε) = f(a) + f'(a) b ε.

``Dual(value, *partials)``: the value and one partial derivative per seeded direction. ``value`` and the
partials are floats, or themselves duals of an *older* tag (nesting: derivatives of derivatives).
Every derivative comes from :mod:`dualnum.rules`; ``+ - * / **`` also have a hand-inlined fast path
(a derivative call on a polynomial is a few microseconds) that the tests check against the table.
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from . import rules

_REAL = (float, int, np.floating, np.integer)  # bool is an int: True + dual works like 1 + dual


def _scal(x):
    """Unwrap numpy scalars and 0-d arrays into Python floats; leave duals alone."""
    t = type(x)
    if t is float or t is Dual:
        return x
    if t is np.ndarray:
        x = x[()]
        if type(x) is np.ndarray:  # object array: not ours to unwrap
            return x
    if isinstance(x, (np.floating, np.integer, np.bool_, int)):
        return float(x)
    return x


def _check_real(x, what):
    if isinstance(x, Dual) or (isinstance(x, numbers.Real) and not isinstance(x, np.ndarray)):
        return x
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "biuf":
        return float(x)
    if isinstance(x, numbers.Complex):
        raise TypeError(f"Dual {what} must be a real number, got the complex number {x!r}: "
                        "dualnum differentiates real functions only")
    raise TypeError(f"Dual {what} must be a real number, got {type(x).__name__} {x!r}")


def primal(x):
    """The plain number or array inside any (nested) dual: strips every level of perturbation."""
    while type(x) is Dual or getattr(x, "_is_dualarray", False):
        x = x.value
    return x


class Dual:
    """A dual number: ``Dual(3.0, 1.0)`` is 3 + 1ε. Arithmetic, comparisons and numpy ufuncs work on it."""

    __slots__ = ("value", "partials", "tag")

    def __init__(self, value, *partials, tag: int = 0):
        value = _check_real(value, "value")
        self.value = value if type(value) is Dual else float(value)
        self.partials = tuple(p if type(p) is Dual else float(p)
                              for p in (_check_real(q, "partial") for q in partials))
        self.tag = int(tag)

    @staticmethod
    def _new(value, partials, tag):
        d = object.__new__(Dual)
        d.value = value
        d.partials = partials
        d.tag = tag
        return d

    # ---- display and conversion --------------------------------------------------------------------------
    def __repr__(self):
        fmt = lambda x: repr(x) if type(x) is Dual else repr(float(x))  # noqa: E731
        return "Dual(" + ", ".join([fmt(self.value)] + [fmt(p) for p in self.partials]) + ")"

    def __float__(self):
        if any(p != 0 or (type(p) is Dual and any(q != 0 for q in _all_partials(p))) for p in self.partials):
            raise TypeError(
                f"float() would drop the derivative of {self!r}. A dual number cannot go into math.sin, "
                "a plain float array or any other code that only takes floats: use numpy functions "
                "(np.sin(x)) and build arrays with np.stack/np.concatenate; dualnum.value(x) gives the "
                "value if you really want to drop the derivative.")
        return float(self.value)

    def __int__(self):
        return int(primal(self))  # the derivative of int() is zero almost everywhere: nothing is lost

    def __round__(self, ndigits=None):
        return round(primal(self), ndigits)

    # math.floor/ceil/trunc: integers, whose derivative is zero almost everywhere -- nothing is dropped
    def __floor__(self):
        return math.floor(primal(self))

    def __ceil__(self):
        return math.ceil(primal(self))

    def __trunc__(self):
        return math.trunc(primal(self))

    def __bool__(self):
        return bool(self.value)

    def __hash__(self):
        return hash(primal(self))

    # ---- comparisons act on the value (as ForwardDiff < 1.0 and Tracker did) --------------------------------
    def __eq__(self, o):
        return primal(self) == primal(o)

    def __ne__(self, o):
        return primal(self) != primal(o)

    def __lt__(self, o):
        return primal(self) < primal(o)

    def __le__(self, o):
        return primal(self) <= primal(o)

    def __gt__(self, o):
        return primal(self) > primal(o)

    def __ge__(self, o):
        return primal(self) >= primal(o)

    # ---- arithmetic: inlined sum/product/quotient/power rules (checked against rules.py in tests) -----------
    def __add__(self, o):
        if type(o) is Dual:
            if o.tag == self.tag:
                return Dual._new(self.value + o.value, tuple(map(operator.add, self.partials, o.partials)),
                                 self.tag)
            return apply_scalar(_ADD, (self, o))
        if isinstance(o, _REAL):
            return Dual._new(self.value + o, self.partials, self.tag)
        return NotImplemented

    def __radd__(self, o):
        t = type(o)
        if t is float or t is int:  # 2*x + 1: the commonest case first
            return Dual._new(o + self.value, self.partials, self.tag)
        return self.__add__(o)

    def __sub__(self, o):
        if type(o) is Dual:
            if o.tag == self.tag:
                return Dual._new(self.value - o.value, tuple(map(operator.sub, self.partials, o.partials)),
                                 self.tag)
            return apply_scalar(_SUB, (self, o))
        if isinstance(o, _REAL):
            return Dual._new(self.value - o, self.partials, self.tag)
        return NotImplemented

    def __rsub__(self, o):
        if isinstance(o, _REAL):
            return Dual._new(o - self.value, tuple(-p for p in self.partials), self.tag)
        return NotImplemented

    def __mul__(self, o):
        t = type(o)
        if t is float or t is int:  # 3*x: the commonest case first
            ps = self.partials
            return Dual._new(self.value * o, (ps[0] * o,) if len(ps) == 1 else tuple([p * o for p in ps]),
                             self.tag)
        if t is Dual:
            if o.tag == self.tag:
                a, b = self.value, o.value
                return Dual._new(a * b, tuple([b * p + a * q for p, q in zip(self.partials, o.partials)]),
                                 self.tag)
            return apply_scalar(_MUL, (self, o))
        if isinstance(o, _REAL):
            return Dual._new(self.value * o, tuple(p * o for p in self.partials), self.tag)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, o):
        if type(o) is Dual:
            if o.tag == self.tag:
                b = o.value
                z = self.value / b
                return Dual._new(z, tuple((p - z * q) / b for p, q in zip(self.partials, o.partials)),
                                 self.tag)
            return apply_scalar(_DIV, (self, o))
        if isinstance(o, _REAL):
            if o == 0:
                return apply_scalar(_DIV, (self, float(o)))  # numpy semantics (inf/nan), not ZeroDivisionError
            return Dual._new(self.value / o, tuple(p / o for p in self.partials), self.tag)
        return NotImplemented

    def __rtruediv__(self, o):
        if isinstance(o, _REAL):
            a = self.value
            if a == 0:
                return apply_scalar(_DIV, (float(o), self))
            z = o / a
            return Dual._new(z, tuple(-z / a * p for p in self.partials), self.tag)
        return NotImplemented

    def __pow__(self, o):
        if type(o) is int and not (o < 0 and self.value == 0):
            if o == 0:
                return Dual._new(1.0, tuple(0.0 * p for p in self.partials), self.tag)
            a = self.value
            c = o * a ** (o - 1)
            ps = self.partials
            return Dual._new(a ** o, (c * ps[0],) if len(ps) == 1 else tuple([c * p for p in ps]), self.tag)
        if isinstance(o, (Dual,) + _REAL):
            return apply_scalar(_POW, (self, o))
        return NotImplemented

    def __rpow__(self, o):
        if isinstance(o, _REAL):
            return apply_scalar(_POW, (float(o), self))
        return NotImplemented

    def __neg__(self):
        return Dual._new(-self.value, tuple(-p for p in self.partials), self.tag)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_scalar(_ABS, (self,))

    # ---- numpy protocols ------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(_is_array(a) for a in inputs):
            # meets an array: become a 0-d DualArray and let the array code broadcast
            return _dualarray().dispatch_ufunc(ufunc, method, inputs, kwargs)
        if method != "__call__":
            raise TypeError(f"np.{ufunc.__name__}.{method} is not supported for a scalar Dual")
        if kwargs:
            raise TypeError(f"np.{ufunc.__name__} on a Dual takes no keyword arguments "
                            f"(got {', '.join(kwargs)}): `out=` would store it in a float array and drop "
                            "the derivative")
        if ufunc in rules.VALUE_ONLY:
            return ufunc(*[primal(a) for a in inputs])
        r = rules.BY_FUNCTION.get(ufunc)
        if r is None:
            raise TypeError(f"np.{ufunc.__name__} is not supported for Dual: dualnum has no derivative rule "
                            "for it (add one to dualnum/rules.py)")
        return apply_scalar(r, tuple(_scal(a) for a in inputs))

    def __array_function__(self, func, types, args, kwargs):
        out = _dualarray().dispatch_function(func, args, kwargs)
        return _dualarray().scalar_if_0d(out)


def _object_loop_method(rule):
    # numpy runs a ufunc on an object array (np.array([dual, dual])) by calling the method of the same name on
    # each element: np.sin(arr) calls dual.sin(). Give Dual one per rule, so that path takes the table too.
    def method(self, *others):
        return apply_scalar(rule, (self,) + others)
    method.__name__ = rule.name
    method.__doc__ = f"np.{rule.name} of this dual number (used by numpy on object arrays): {rule.math}"
    return method


def _all_partials(d):
    yield d.value
    for p in d.partials:
        if type(p) is Dual:
            yield from _all_partials(p)
        else:
            yield p


def _is_array(a):
    return (type(a) is np.ndarray and a.ndim > 0) or getattr(a, "_is_dualarray", False) or \
        isinstance(a, (list, tuple))


def apply_scalar(rule, args):
    """Apply a rule to scalar arguments, at least one a Dual: the chain rule at the outermost tag."""
    tag = max(a.tag for a in args if type(a) is Dual)
    vals = [a.value if type(a) is Dual and a.tag == tag else a for a in args]
    if rule.guarded:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _chain_scalar(rule, args, vals, tag)
    return _chain_scalar(rule, args, vals, tag)


def _chain_scalar(rule, args, vals, tag):
    out = _scal(rule.f(*vals))
    parts = None
    for i, a in enumerate(args):
        if type(a) is not Dual or a.tag != tag or i in rule.nondiff:
            continue
        d = rule.partials[i]
        if callable(d):
            try:
                d = _scal(d(*vals, out))
            except ZeroDivisionError:  # Python floats raise where numpy gives inf: follow numpy
                with np.errstate(divide="ignore", invalid="ignore"):
                    d = _scal(d(*[np.float64(v) if type(v) is float else v for v in vals],
                                np.float64(out) if type(out) is float else out))
        if type(d) is not Dual and d == 1.0:
            c = a.partials
        else:
            c = tuple(d * p for p in a.partials)
        parts = c if parts is None else tuple(map(operator.add, parts, c))
    if parts is None:  # only non-differentiable arguments were duals (e.g. the condition of where)
        parts = tuple(0.0 for _ in next(a for a in args if type(a) is Dual and a.tag == tag).partials)
    return Dual._new(out, parts, tag)


def _dualarray():
    from . import dualarray
    return dualarray


_ADD, _SUB, _MUL, _DIV, _POW, _ABS = (rules.RULES[n] for n in
                                      ("add", "subtract", "multiply", "true_divide", "power", "absolute"))

for _r in rules.RULES.values():
    if isinstance(_r.f, np.ufunc) and _r.arity == 1 and not hasattr(Dual, _r.name):
        setattr(Dual, _r.name, _object_loop_method(_r))
