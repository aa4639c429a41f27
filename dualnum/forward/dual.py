"""The scalar dual number ``a + b₁ε₁ + … + bₖεₖ`` with ``εᵢεⱼ = 0``: f(a + bε) = f(a) + f'(a) b ε.

``Dual(value, *partials)``: the value and one partial derivative per seeded direction. ``value`` and the
partials are floats, or themselves duals of an *older* tag (nesting: derivatives of derivatives).
Every derivative comes from :mod:`dualnum.rules`; ``+ - * / **`` also have a hand-inlined fast path
(a derivative call on a polynomial is a few microseconds) that the tests check against the table.

A scalar behaves as one element of an array: numpy's float semantics (1/0 is inf, (-8)**(1/3) is NaN; never
ZeroDivisionError, OverflowError or a complex number), and the NaN-safe chain rule (a term ∂f·p is exactly 0
where either factor is exactly 0, so one input's inf never spreads to another input's partial). Duals of one
tag carry the same number of partials; one without any (``Dual(2.0)``) is a constant, padded with zeros.
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from .. import rules
from ..tags import LIVE

_REAL = (float, int, np.floating, np.integer)  # bool is an int: True + dual works like 1 + dual


def _scal(x):
    """Unwrap numpy scalars and 0-d arrays into Python floats; leave duals alone."""
    t = type(x)
    if t is float or t is Dual:
        return x
    if t is np.float64:
        return float(x)
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
                "(np.sin(x)) and build arrays with np.stack/np.concatenate (np.arange takes floats only: "
                "for a differentiable start write start + step * np.arange(n)); dualnum.value(x) gives the "
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
    # Each fast path computes with Python floats; where that would differ from numpy (a division by zero, an
    # overflowing power) or a partial comes out NaN (0·inf, which the NaN-safe chain rule makes 0), it hands
    # the operation to apply_scalar, which follows the table with numpy's semantics.
    def __add__(self, o):
        if type(o) is Dual:
            if o.tag == self.tag:
                ps, qs = self.partials, o.partials
                if len(ps) != len(qs):
                    ps, qs = _same_count(self, o)
                return Dual._new(self.value + o.value, tuple(map(operator.add, ps, qs)), self.tag)
            return apply_scalar(_ADD, (self, o))
        if isinstance(o, _REAL):
            return Dual._new(self.value + o, self.partials, self.tag)
        return _foreign(self, o, _ADD, False)

    def __radd__(self, o):
        t = type(o)
        if t is float or t is int:  # 2*x + 1: the commonest case first
            return Dual._new(o + self.value, self.partials, self.tag)
        return self.__add__(o)

    def __sub__(self, o):
        if type(o) is Dual:
            if o.tag == self.tag:
                ps, qs = self.partials, o.partials
                if len(ps) != len(qs):
                    ps, qs = _same_count(self, o)
                return Dual._new(self.value - o.value, tuple(map(operator.sub, ps, qs)), self.tag)
            return apply_scalar(_SUB, (self, o))
        if isinstance(o, _REAL):
            return Dual._new(self.value - o, self.partials, self.tag)
        return _foreign(self, o, _SUB, False)

    def __rsub__(self, o):
        if isinstance(o, _REAL):
            return Dual._new(o - self.value, tuple(-p for p in self.partials), self.tag)
        return _foreign(self, o, _SUB, True)

    def __mul__(self, o):
        t = type(o)
        if t is float or t is int:  # 3*x: the commonest case first
            ps = self.partials
            if len(ps) == 1:
                r = ps[0] * o
                if (r == r) if type(r) is float else not _isnan(r):
                    return Dual._new(self.value * o, (r,), self.tag)
            else:
                parts = tuple([p * o for p in ps])
                if not _has_nan(parts):
                    return Dual._new(self.value * o, parts, self.tag)
            return apply_scalar(_MUL, (self, o))  # 0·inf and inf·0 are 0 in the chain rule
        if t is Dual:
            if o.tag == self.tag:
                a, b = self.value, o.value
                ps, qs = self.partials, o.partials
                if len(ps) != len(qs):
                    ps, qs = _same_count(self, o)
                parts = tuple([b * p + a * q for p, q in zip(ps, qs)])
                if _has_nan(parts):
                    return apply_scalar(_MUL, (self, o))
                return Dual._new(a * b, parts, self.tag)
            return apply_scalar(_MUL, (self, o))
        if isinstance(o, _REAL):
            return self.__mul__(float(o)) if o == o else apply_scalar(_MUL, (self, o))
        return _foreign(self, o, _MUL, False)

    __rmul__ = __mul__  # a product commutes (in value and in derivative)

    def __truediv__(self, o):
        if type(o) is Dual:
            if o.tag == self.tag:
                b = o.value
                if b == 0:
                    return apply_scalar(_DIV, (self, o))  # numpy semantics (inf/nan), not ZeroDivisionError
                ps, qs = self.partials, o.partials
                if len(ps) != len(qs):
                    ps, qs = _same_count(self, o)
                z = self.value / b
                parts = tuple([(p - z * q) / b for p, q in zip(ps, qs)])
                if _has_nan(parts):
                    return apply_scalar(_DIV, (self, o))
                return Dual._new(z, parts, self.tag)
            return apply_scalar(_DIV, (self, o))
        if isinstance(o, _REAL):
            if o == 0 or o * 0.0 != 0.0:  # 1/0 and ∞/∞: numpy's inf/nan, and the NaN-safe chain rule
                return apply_scalar(_DIV, (self, float(o)))
            return Dual._new(self.value / o, tuple([p / o for p in self.partials]), self.tag)
        return _foreign(self, o, _DIV, False)

    def __rtruediv__(self, o):
        if isinstance(o, _REAL):
            a = self.value
            if a == 0:
                return apply_scalar(_DIV, (float(o), self))
            z = o / a
            parts = tuple([-z / a * p for p in self.partials])
            if _has_nan(parts):
                return apply_scalar(_DIV, (float(o), self))
            return Dual._new(z, parts, self.tag)
        return _foreign(self, o, _DIV, True)

    def __pow__(self, o):
        if type(o) is int and not (o < 0 and self.value == 0):
            ps = self.partials
            if o == 0:  # x**0 is the constant 1, even at 0, inf or NaN: its derivative is exactly 0
                return Dual._new(1.0, (0.0,) * len(ps), self.tag)
            a = self.value
            try:
                c = o * a ** (o - 1)
                v = a ** o
            except OverflowError:  # Python floats raise where numpy gives inf
                return apply_scalar(_POW, (self, o))
            if len(ps) == 1:
                r = c * ps[0]
                if (r == r) if type(r) is float else not _isnan(r):
                    return Dual._new(v, (r,), self.tag)
            else:
                parts = tuple([c * p for p in ps])
                if not _has_nan(parts):
                    return Dual._new(v, parts, self.tag)
            return apply_scalar(_POW, (self, o))
        if isinstance(o, (Dual,) + _REAL):
            return apply_scalar(_POW, (self, o))
        return _foreign(self, o, _POW, False)

    def __rpow__(self, o):
        if isinstance(o, _REAL):
            return apply_scalar(_POW, (float(o), self))
        return _foreign(self, o, _POW, True)

    def __neg__(self):
        return Dual._new(-self.value, tuple(-p for p in self.partials), self.tag)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_scalar(_ABS, (self,))

    # ---- numpy protocols ------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        for a in inputs:
            if type(a) not in _SCALAR_TYPES:  # a tracked value among them: the levels decide who goes first
                inputs = _levels(inputs)
                if inputs is None:
                    return NotImplemented
                break
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
        r = rules.lookup(ufunc)
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
        isinstance(a, (list, tuple)) or (type(a) not in _SCALAR_TYPES and getattr(a, "shape", ()) != ())


def apply_scalar(rule, args):
    """Apply a rule to scalar arguments, at least one a Dual: the chain rule at the outermost tag."""
    tag = -1
    mixed = False
    for a in args:
        if type(a) is Dual and a.tag != tag:
            mixed = tag != -1
            if a.tag > tag:
                tag = a.tag
    if mixed:  # duals of several levels meet: each must belong to a call still in progress
        _check_levels(args)
    vals = [a.value if type(a) is Dual and a.tag == tag else a for a in args]
    if rule.guarded:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _chain_scalar(rule, args, vals, tag)
    return _chain_scalar(rule, args, vals, tag)


def _chain_scalar(rule, args, vals, tag):
    """f(a + bε) = f(a) + Σᵢ ∂ᵢf(a) bᵢ ε, with each term ∂ᵢf · bᵢ exactly 0 where either factor is (NaN-safe)."""
    f = rule.f
    out = _scal(f(*vals) if type(f) is np.ufunc else rules.evaluate(f, *vals))  # (a rule written in Python too)
    k = -1  # the number of partials at this tag; a dual with none is a constant
    parts = None
    for i, a in enumerate(args):
        if type(a) is not Dual or a.tag != tag:
            continue
        ps = a.partials
        n = len(ps)
        if n != k:
            if k > 0 and n:
                raise _count_error(k, n, tag)
            k = max(k, n)
        if not n or i in rule.nondiff:
            continue
        d = rule.partials[i]
        if callable(d):  # rules.evaluate, inlined (this is the hot path of every ufunc on a Dual)
            try:
                r = d(*vals, out)
            except (ZeroDivisionError, OverflowError):  # Python floats raise where numpy gives inf
                r = rules.on_numpy_scalars(d, *vals, out)
            else:
                if type(r) is not np.float64 and rules.is_complex(r):  # Python's (-8.0) ** (1/3)
                    r = rules.on_numpy_scalars(d, *vals, out)
            d = _scal(r)
        t = type(d)
        if (t is float or t is int) and d == 1.0:
            c = ps
        elif t is float and len(ps) == 1:
            c = d * ps[0]
            c = (0.0 if _isnan(c) and (d == 0 or _is_zero(ps[0])) else c,)  # NaN-safe: 0·inf is 0
        else:
            c = tuple([_term(d, p) for p in ps])
        parts = c if parts is None else tuple(map(operator.add, parts, c))
    return Dual._new(out, parts if parts is not None else (0.0,) * k, tag)


def _term(d, p):
    """d·p, but exactly 0 where d or p is exactly 0: 0·inf and 0·NaN contribute nothing (NaN-safe mode)."""
    r = d * p
    if _isnan(r) and (_is_zero(d) or _is_zero(p)):
        return 0.0
    return r


def _is_zero(x):
    """x is exactly zero at every level: 0.0, or a dual whose value and partials all are (Dual(0, 1) is not)."""
    t = type(x)
    if t is float or t is int or isinstance(x, (np.floating, np.integer)):
        return x == 0
    if t is Dual:
        return _is_zero(x.value) and all(_is_zero(p) for p in x.partials)
    return False  # a tracked value may carry a derivative of its own level: never assume it is zero


def _has_nan(parts):
    for p in parts:
        if (p != p) if type(p) is float else _isnan(p):
            return True
    return False


def _isnan(x):
    """The value at the bottom of a (nested) dual is NaN (an inner level's NaN-safety is its own)."""
    while type(x) is Dual:
        x = x.value
    return x != x


def _count_error(k1, k2, tag):
    return ValueError(
        f"Dual numbers with different numbers of partials meet in one operation: k = {k1} and k = {k2} "
        f"(tag {tag}). Seed every input of one differentiation with the same k directions; build a constant "
        "without partials, Dual(c), and it joins any k as zeros.")


def _same_count(a, b):
    """The partials of two duals of one tag, a constant's (no partials) padded with zeros; else ValueError."""
    ps, qs = a.partials, b.partials
    if not ps:
        return (0.0,) * len(qs), qs
    if not qs:
        return ps, (0.0,) * len(ps)
    raise _count_error(len(ps), len(qs), a.tag)


def _check_levels(args):
    if not LIVE:
        return  # no differentiation in progress: duals built by hand, with any tags
    for a in args:
        if type(a) is Dual and a.tag and a.tag not in LIVE:
            raise escaped_error(a.tag)


def escaped_error(tag):
    return ValueError(
        f"a dual number of a finished differentiation (tag {tag}) is used here: it escaped the derivative/"
        "gradient/jacobian call that made it (was it stored in a list or a variable outside f?), and its "
        "perturbation would be confused with the current one. Keep dual numbers inside the function being "
        "differentiated; store dualnum.value(y) if you need the number afterwards.")


# ---- dual numbers meet tracked values (levels): a tag decides who is the outer layer ----------------------------

def _foreign(self, o, rule, reflected):
    """self (op) o, or o (op) self, for an operand that is neither a number nor a Dual (e.g. a tracked value)."""
    tracked = _tracked()
    if type(o) is not tracked.Tracked:
        return NotImplemented
    o = tracked.peel_idle(o)
    if type(o) is tracked.Tracked:
        if o._tag >= self.tag:
            return NotImplemented  # the tracked level is the outer one: it records, with this dual a constant
        if o.shape != ():
            return _OPERATORS[rule.name](*((o, _dualarray().lift(self)) if reflected else
                                           (_dualarray().lift(self), o)))
        return apply_scalar(rule, (o, self) if reflected else (self, o))  # an older level: a constant here
    return _OPERATORS[rule.name](*((o, self) if reflected else (self, o)))  # nobody differentiates it


_SCALAR_TYPES = frozenset([Dual, float, int, bool, np.float64, np.float32, np.int64, np.int32, np.bool_])


def _levels(inputs):
    """Ufunc inputs with the levels nobody differentiates stripped; None if a tracked level is the outer one."""
    tracked = _tracked()
    top = max((a.tag for a in inputs if type(a) is Dual), default=-1)
    out = []
    for a in inputs:
        if type(a) is tracked.Tracked:
            a = tracked.peel_idle(a)
            if type(a) is tracked.Tracked:
                if a._tag >= top:
                    return None  # the tracker records, with the duals as its constants
        out.append(a)
    return tuple(out)


_OPERATORS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
              "true_divide": operator.truediv, "power": operator.pow}


_TRACKED = []


def _tracked():
    if not _TRACKED:
        from ..reverse import tracked  # tracked.py builds on this module: imported when first needed
        _TRACKED.append(tracked)
    return _TRACKED[0]


def _dualarray():
    from . import dualarray
    return dualarray


_ADD, _SUB, _MUL, _DIV, _POW, _ABS = (rules.RULES[n] for n in
                                      ("add", "subtract", "multiply", "true_divide", "power", "absolute"))

rules.object_loop_methods(Dual, _object_loop_method)
