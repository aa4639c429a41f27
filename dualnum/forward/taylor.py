"""Taylor mode: f(x + t) = Σₖ cₖ tᵏ with f⁽ᵏ⁾(x) = k!·cₖ, every coefficient drawn from the rules table.

``derivatives(f, x, n)`` runs f once on a *Taylor number*, the series x + t, and reads off n + 1
coefficients. A rule y = f(u) gives y' = f'(u)·u'; comparing the coefficients of t^(k-1) gives

    y_k = (1/k) Σ_{j=1..k} j·u_j·d_{k-j},   d = f'(u), the rule's own derivative formula,

and that formula is evaluated *in Taylor arithmetic* on the series u and y (``exp``'s is y itself, ``sin``'s
is ``np.cos(u)``, whose own is ``-np.sin(u)``). y_k needs d only up to order k - 1, so the series are lazy:
each holds the coefficients computed so far and computes the next on demand; a formula is evaluated once per
operation, and ``np.sin(u)`` asked twice of one u is one series, so sin and cos feed each other in a loop and
every coefficient costs O(k) -- n derivatives cost O(n²), where nested duals cost O(2ⁿ).

Written out by hand, for speed and because the generic recurrence would chain a new node per order for them
(tests check them against the table's rules): ``+ - ×`` (Cauchy's product), ``/`` (u = y·v solved for y_k),
``u ** p`` for a constant p (u·y' = p·y·u': y_k = Σ ((p+1)j - k) u_j y_{k-j} / (k u₀); an integer p by
repeated products) and ``u ** v`` (y' = y·(v log u)'). Everything else -- exp, log, sin, sqrt, tanh, arctan2,
hypot, maximum, scipy.special's ... -- comes from the table alone. At a point where a derivative is infinite
(sqrt at 0) the coefficients are inf or NaN, as the nested derivatives are; as there, a product term with an
exact zero factor is 0 (NaN-safe).
"""
from __future__ import annotations

import itertools
import math
import numbers
import sys
import warnings

import numpy as np

from .. import functions, rules

_ids = itertools.count()


class Taylor:
    """A truncated power series c₀ + c₁t + c₂t² + …: ``value`` is c₀, ``coefficient(k)`` computes cₖ on demand."""

    __slots__ = ("c", "args", "id", "_busy", "_memo")
    __array_priority__ = 1000

    def __init__(self, c0, args=()):
        self.c = [c0]
        self.args = args  # the series this one is computed from (the graph f built)
        self.id = next(_ids)  # creation order: every argument is older than its result
        self._busy = False
        self._memo = None  # {rule name: series} of the unary rules applied to this series

    @property
    def value(self):
        return self.c[0]

    def coefficient(self, k):
        """cₖ = f⁽ᵏ⁾/k!, computing the ones missing below it first."""
        c = self.c
        if k < len(c):
            return c[k]
        if self._busy:
            raise RuntimeError(f"{self!r}: coefficient {k} depends on itself (a derivative formula of order k "
                               "that needs the result's own coefficient k)")
        self._busy = True
        try:
            while len(c) <= k:
                c.append(self._coef(len(c)))
        finally:
            self._busy = False
        return c[k]

    def _coef(self, k):
        raise NotImplementedError

    def __repr__(self):
        return f"Taylor({', '.join(repr(float(v)) for v in self.c)}, ...)"

    # ---- conversion and comparisons act on the value, as for Dual --------------------------------------------
    def __float__(self):
        raise TypeError(f"float() would drop the derivatives of the Taylor number {self!r}: inside "
                        "derivatives(f, x, n), use numpy functions (np.sin(x), not math.sin(x)); "
                        "Taylor.value gives the value if you really want to drop them")

    def __int__(self):
        return int(self.c[0])

    def __bool__(self):
        return bool(self.c[0])

    def __hash__(self):
        return hash(self.c[0])

    def __eq__(self, o):
        return self.c[0] == _value(o)

    def __ne__(self, o):
        return self.c[0] != _value(o)

    def __lt__(self, o):
        return self.c[0] < _value(o)

    def __le__(self, o):
        return self.c[0] <= _value(o)

    def __gt__(self, o):
        return self.c[0] > _value(o)

    def __ge__(self, o):
        return self.c[0] >= _value(o)

    # ---- arithmetic ----------------------------------------------------------------------------------------
    def __add__(self, o):
        return _add(self, _operand(o, "+"))

    def __radd__(self, o):
        return _add(_operand(o, "+"), self)

    def __sub__(self, o):
        return _sub(self, _operand(o, "-"))

    def __rsub__(self, o):
        return _sub(_operand(o, "-"), self)

    def __mul__(self, o):
        return _mul(self, _operand(o, "*"))

    def __rmul__(self, o):
        return _mul(_operand(o, "*"), self)

    def __truediv__(self, o):
        return _div(self, _operand(o, "/"))

    def __rtruediv__(self, o):
        return _div(_operand(o, "/"), self)

    def __pow__(self, o):
        return _pow(self, _operand(o, "**"))

    def __rpow__(self, o):
        return _pow(_operand(o, "**"), self)

    def __mod__(self, o):
        return apply_rule(rules.RULES["remainder"], (self, _operand(o, "%")))

    def __rmod__(self, o):
        return apply_rule(rules.RULES["remainder"], (_operand(o, "%"), self))

    def __floordiv__(self, o):
        return apply_rule(rules.RULES["floor_divide"], (self, _operand(o, "//")))

    def __rfloordiv__(self, o):
        return apply_rule(rules.RULES["floor_divide"], (_operand(o, "//"), self))

    def __neg__(self):
        return _Affine(self, -1.0, 0.0)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_rule(rules.RULES["absolute"], (self,))

    # ---- numpy protocols: every ufunc through the table ------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = f"np.{ufunc.__name__}"
        if method != "__call__":
            raise TypeError(f"{name}.{method} is not supported on a Taylor number (derivatives(f, x, n) runs f on "
                            "one scalar)")
        if kwargs:
            raise TypeError(f"{name} on a Taylor number takes no keyword arguments (got {', '.join(kwargs)})")
        args = tuple(_operand(a, name) for a in inputs)
        if ufunc in rules.VALUE_ONLY:
            return ufunc(*[_value(a) for a in args])
        core = _CORE.get(ufunc)
        if core is not None:
            return core(*args)
        r = rules.lookup(ufunc)
        if r is None:
            raise TypeError(f"{name} is not supported in Taylor mode: dualnum has no derivative rule for it (add "
                            "one to dualnum/rules.py)")
        return apply_rule(r, args)

    def __array_function__(self, func, types, args, kwargs):
        r = rules.lookup(func)  # np.where, np.clip, np.round, ...: functions with a rule of their own
        if r is None or kwargs:
            raise TypeError(f"np.{func.__name__} is not supported in Taylor mode (derivatives(f, x, n) runs f on "
                            "one scalar, through the rules of dualnum/rules.py" +
                            (f"; pass the arguments of np.{func.__name__} by position" if r is not None else "")
                            + ")")
        return apply_rule(r, tuple(_operand(a, f"np.{func.__name__}") for a in args))


def _value(o):
    return o.c[0] if isinstance(o, Taylor) else o


def _operand(o, where):
    """A Taylor number or a float; arrays, duals and tracked values are refused with a reason."""
    if isinstance(o, Taylor):
        return o
    if isinstance(o, (float, int, np.floating, np.integer, np.bool_)):
        return float(o)
    if isinstance(o, np.ndarray) and o.ndim == 0 and o.dtype.kind in "biuf":
        return float(o)
    if type(o).__name__ in ("Dual", "DualArray", "Tracked"):
        raise TypeError(f"{where}: a Taylor number meets a {type(o).__name__}; Taylor mode (derivatives) does not "
                        "nest with dual numbers or the tracker: use derivative(f, x, order=k) for nested "
                        "derivatives")
    if isinstance(o, (np.ndarray, list, tuple)):
        raise TypeError(f"{where}: a Taylor number meets an array of shape {np.shape(o)}; derivatives(f, x, n) "
                        "runs f on one scalar x and f must return one scalar. For derivatives at every point of "
                        "a grid use derivative(f, xs, order=k).")
    if isinstance(o, numbers.Complex):
        raise TypeError(f"{where}: complex numbers are not supported in Taylor mode (got {o!r})")
    raise TypeError(f"{where}: cannot compute with {type(o).__name__} {o!r} in Taylor mode; expected numbers")


def _coefs(u, k):
    """The coefficient list of u, at least k + 1 long."""
    c = u.c
    if len(c) <= k:
        u.coefficient(k)
    return c


def _nsum(a, b, k, lo):
    """Σ_{j=lo..k} a[j]·b[k-j], a term with an exact zero factor being 0 (0·inf contributes nothing)."""
    return sum([x * y for x, y in zip(a[lo:k + 1], b[k - lo::-1]) if x and y])


def _wsum(a, b, k):
    """Σ_{j=1..k} j·a[j]·b[k-j], NaN-safe as _nsum: k·y_k of y' = b·a'."""
    return sum([j * x * y for j, x, y in zip(range(1, k + 1), a[1:k + 1], b[k - 1::-1]) if x and y])


def _fdiv(a, b):
    """a / b with numpy's float semantics (1/0 is inf, 0/0 NaN), not ZeroDivisionError."""
    if b:
        return a / b
    with np.errstate(all="ignore"):
        return float(np.float64(a) / b)


def _float(v, where):
    if type(v) is float or type(v) is np.float64:
        return float(v)
    v = np.asarray(v)
    if v.ndim or v.dtype.kind not in "biuf":
        raise TypeError(f"{where} returned {v!r}, not a number")
    return float(v)


# ---- the series: the independent variable, and the operations written out --------------------------------------

class _Var(Taylor):
    """x + t: the independent variable at x."""
    __slots__ = ()

    def __init__(self, x):
        super().__init__(x)
        self.c.append(1.0)

    def _coef(self, k):
        return 0.0


class _Affine(Taylor):
    """s·u + a (a sum with a constant, a product with one, -u)."""
    __slots__ = ("s",)

    def __init__(self, u, s, a):
        super().__init__(s * u.c[0] + a, (u,))
        self.s = s

    def _coef(self, k):
        x = self.args[0].coefficient(k)
        return self.s * x if x else 0.0


class _Add(Taylor):
    """u + v, or u - v (sign -1)."""
    __slots__ = ("sign",)

    def __init__(self, u, v, sign):
        super().__init__(u.c[0] + sign * v.c[0], (u, v))
        self.sign = sign

    def _coef(self, k):
        u, v = self.args
        return u.coefficient(k) + self.sign * v.coefficient(k)


class _Mul(Taylor):
    """u·v: y_k = Σ_{j=0..k} u_j v_{k-j} (Cauchy's product)."""
    __slots__ = ()

    def __init__(self, u, v):
        super().__init__(u.c[0] * v.c[0], (u, v))

    def _coef(self, k):
        u, v = self.args
        return _nsum(_coefs(u, k), _coefs(v, k), k, 0)


class _Div(Taylor):
    """u / v: u = y·v, so y_k = (u_k - Σ_{j=1..k} v_j y_{k-j}) / v₀; u may be a constant."""
    __slots__ = ("num",)

    def __init__(self, u, v):
        u0 = u.c[0] if isinstance(u, Taylor) else u
        super().__init__(_fdiv(u0, v.c[0]), (u, v) if isinstance(u, Taylor) else (v,))
        self.num = u

    def _coef(self, k):
        u, v = self.num, self.args[-1]
        uk = u.coefficient(k) if isinstance(u, Taylor) else 0.0
        return _fdiv(uk - _nsum(_coefs(v, k), self.c, k, 1), v.c[0])


class _PowConst(Taylor):
    """u ** p, p constant and u₀ ≠ 0: u·y' = p·y·u' gives y_k = Σ_{j=1..k} ((p+1)j - k) u_j y_{k-j} / (k u₀)."""
    __slots__ = ("p",)

    def __init__(self, u, p):
        with np.errstate(all="ignore"):
            super().__init__(float(np.power(u.c[0], p)), (u,))
        self.p = p

    def _coef(self, k):
        u = _coefs(self.args[0], k)
        y, p1 = self.c, self.p + 1.0
        s = sum([(p1 * j - k) * x * z for j, x, z in zip(range(1, k + 1), u[1:k + 1], y[k - 1::-1]) if x and z])
        return _fdiv(s, k * u[0])


class _Exp(Taylor):
    """y with y' = y·w' and y₀ given: exp(w), or u ** v = exp(v log u) with y₀ = u₀ ** v₀ exactly."""
    __slots__ = ()

    def __init__(self, y0, w):
        super().__init__(y0, (w,))

    def _coef(self, k):
        return _wsum(_coefs(self.args[0], k), self.c, k) / k


class _Rule(Taylor):
    """Any rule of the table: y_k = (1/k) Σᵢ Σ_{j=1..k} j·(uᵢ)_j·(dᵢ)_{k-j}, dᵢ = ∂f/∂uᵢ evaluated on the series."""
    __slots__ = ("rule", "operands", "ders")

    def __init__(self, rule, operands):
        vals = [_value(a) for a in operands]
        if rule.guarded:  # (a branch np.where discards may divide by 0; otherwise numpy's warnings, as numpy gives)
            with np.errstate(divide="ignore", invalid="ignore"):
                c0 = _float(rule.f(*vals), f"np.{rule.name}")
        else:
            c0 = _float(rule.f(*vals), f"np.{rule.name}")
        super().__init__(c0, tuple(a for a in operands if isinstance(a, Taylor)))
        self.rule = rule
        self.operands = operands
        self.ders = None

    def _formulas(self):
        """(uᵢ, dᵢ) for each series argument: the rule's partial derivatives, evaluated once, as series or floats."""
        out = []
        r = self.rule
        for i, a in enumerate(self.operands):
            if not isinstance(a, Taylor) or i in r.nondiff:
                continue
            d = r.partials[i]
            if callable(d):  # (evaluated inside coefficients(), whose errstate keeps the warnings of 1/0 quiet)
                d = rules.evaluate(d, *self.operands, self)
            out.append((a, d if isinstance(d, Taylor) else _float(d, f"the derivative formula of np.{r.name}")))
        return out

    def _coef(self, k):
        if self.ders is None:
            self.ders = self._formulas()
        s = 0.0
        for u, d in self.ders:
            if type(d) is float:
                x = _coefs(u, k)[k]
                s += k * x * d if x and d else 0.0
            else:
                s += _wsum(_coefs(u, k), _coefs(d, k - 1), k)
        return s / k


# ---- the operations -------------------------------------------------------------------------------------------

def _add(a, b):
    if isinstance(a, Taylor):
        return _Add(a, b, 1.0) if isinstance(b, Taylor) else _Affine(a, 1.0, b)
    return _Affine(b, 1.0, a)


def _sub(a, b):
    if isinstance(a, Taylor):
        return _Add(a, b, -1.0) if isinstance(b, Taylor) else _Affine(a, 1.0, -b)
    return _Affine(b, -1.0, a)


def _mul(a, b):
    if isinstance(a, Taylor):
        return _Mul(a, b) if isinstance(b, Taylor) else _Affine(a, b, 0.0)
    return _Affine(b, a, 0.0)


def _div(a, b):
    if isinstance(b, Taylor):
        return _Div(a, b)
    if b and math.isfinite(b):
        return _Affine(a, 1.0 / b, 0.0)
    return _Div(a, _Const(b))  # u / 0 and u / inf: numpy's inf and NaN in every coefficient


class _Const(Taylor):
    __slots__ = ()

    def _coef(self, k):
        return 0.0


def _pow(a, b):
    if not isinstance(b, Taylor):  # u ** p
        p = b
        if p == 0:
            return 1.0  # x**0 is the constant 1, even at x = 0 (the table's convention)
        whole = math.isfinite(p) and p == int(p)
        if whole and 0 < p <= 2 ** 20:  # exact polynomial arithmetic, repeated squaring
            return _ipow(a, int(p))
        if whole and -2 ** 20 <= p < 0:
            return _Div(1.0, _ipow(a, -int(p)))
        if a.c[0] != 0:
            return _PowConst(a, p)
        return _Rule(_POWER, (a, p))  # at u₀ = 0 the table's own formula, p·u^(p-1), order by order
    base = a.c[0] if isinstance(a, Taylor) else a
    if base == 0:
        return _Rule(_POWER, (a, b))  # the table's conventions at a zero base
    logu = apply_rule(_LOG, (a,)) if isinstance(a, Taylor) else _log(a)
    with np.errstate(all="ignore"):
        y0 = float(np.power(base, b.c[0]))
    return _Exp(y0, _mul(b, logu))


def _log(c):
    with np.errstate(all="ignore"):
        return float(np.log(c))


def _ipow(u, p):
    result = None
    while p:
        if p & 1:
            result = u if result is None else _Mul(result, u)
        p >>= 1
        if p:
            u = _Mul(u, u)
    return result


def apply_rule(rule, args):
    """A rule of the table on Taylor numbers and floats; one series per (rule, argument) for unary rules."""
    if not any(isinstance(a, Taylor) for a in args):
        return rule.f(*args)
    if rule.zero:  # a step (floor, sign, ...): its series is the constant value
        with np.errstate(all="ignore"):
            return _float(rule.f(*[_value(a) for a in args]), f"np.{rule.name}")
    if len(args) == 1:
        u = args[0]
        memo = u._memo
        if memo is None:
            memo = u._memo = {}
        y = memo.get(rule.name)
        if y is None:
            y = memo[rule.name] = _Rule(rule, args)
        return y
    return _Rule(rule, args)


_POWER, _LOG = rules.RULES["power"], rules.RULES["log"]
_CORE = {np.add: _add, np.subtract: _sub, np.multiply: _mul, np.true_divide: _div, np.power: _pow,
         np.negative: lambda a: _Affine(a, -1.0, 0.0), np.positive: lambda a: a, np.square: lambda a: _Mul(a, a)}


def _register():
    # sigmoid(x), relu(x) and numpy's object loops find the rule's Taylor version
    for cls in (Taylor, _Var, _Affine, _Add, _Mul, _Div, _PowConst, _Exp, _Rule, _Const):
        functions.APPLIERS[cls] = lambda rule, args: apply_rule(rule, tuple(_operand(a, rule.name) for a in args))


_register()


# numpy runs a ufunc on an object array (np.array([x, x * x])) by calling each element's method of the ufunc's
# name: give Taylor one per rule, so that path takes the table too
rules.object_loop_methods(Taylor, lambda rule: lambda self, *o: Taylor.__array_ufunc__(self, rule.f, "__call__",
                                                                                          self, *o))


# ---- the API ---------------------------------------------------------------------------------------------------

def _graph(y):
    """The series of f's graph that y depends on, oldest first (formula series are computed on demand)."""
    seen, stack = {y.id: y}, [y]
    while stack:
        for a in stack.pop().args:
            if a.id not in seen:
                seen[a.id] = a
                stack.append(a)
    return [seen[i] for i in sorted(seen)]


def coefficients(f, x, n: int):
    """[c₀, …, cₙ], cₖ = f⁽ᵏ⁾(x)/k!: the Taylor polynomial of f at x, as a float array."""
    n = _check_order(n)
    x = _scalar_input(x)
    y = f(_Var(x))
    if not isinstance(y, Taylor):
        out = np.zeros(n + 1)
        out[0] = _result_value(y)
        return out
    nodes = _graph(y)
    # A rule whose derivative formula makes a new rule each order (x**p at x = 0, digamma's zeta(s, x)) is a chain
    # of series, one per order, computed by recursion (pure Python frames): room for it at high orders
    limit = sys.getrecursionlimit()
    if n > 40:
        sys.setrecursionlimit(max(limit, 1000 + 25 * n))
    try:
        with np.errstate(all="ignore"):
            for k in range(1, n + 1):  # order by order, oldest first: each series finds its arguments ready
                for s in nodes:
                    if len(s.c) <= k:
                        s.coefficient(k)
    finally:
        if n > 40:
            sys.setrecursionlimit(limit)
    return np.array(y.c[:n + 1], dtype=float)


def derivatives(f, x, n: int):
    """[f(x), f′(x), …, f⁽ⁿ⁾(x)] by Taylor mode: f⁽ᵏ⁾(x) = k!·cₖ of f(x + t) = Σ cₖ tᵏ, O(n²) work.

    The cₖ are floats: where f⁽ᵏ⁾/k! underflows (orders past ~150, or sooner for slowly varying f) a
    RuntimeWarning says so and how to rescale."""
    c = coefficients(f, x, n)
    tiny = (c != 0) & (np.abs(c) < np.finfo(float).tiny)
    if tiny.any():  # cₖ = f⁽ᵏ⁾/k! left the floats' normal range: the orders above it lose digits, then read 0
        warnings.warn(
            f"derivatives(f, x, {n}): the Taylor coefficients f⁽ᵏ⁾(x)/k! underflow from order "
            f"{int(np.argmax(tiny))} on, so those derivatives lose precision (and may read 0). Rescale: the "
            "derivatives of g(s) = f(x + h·s) at s = 0 are hᵏ·f⁽ᵏ⁾(x); a larger h keeps them in range.",
            RuntimeWarning, stacklevel=2)
    return np.ldexp(c * _FACTORIALS[0][:n + 1], _FACTORIALS[1][:n + 1]) if n < len(_FACTORIALS[0]) else \
        np.ldexp(c * _factorials(n)[0], _factorials(n)[1])


def _factorials(n):
    """k! = mₖ·2^eₖ for k = 0..n, mₖ in [0.5, 1): cₖ·k! stays finite where k! alone overflows (k > 170)."""
    m, e, ms, es = 1.0, 0, [], []
    for k in range(n + 1):
        m, de = math.frexp(m * max(k, 1))
        e += de
        ms.append(m)
        es.append(e)
    return np.array(ms), np.array(es)


_FACTORIALS = _factorials(64)


def _check_order(n):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"derivatives(f, x, n): n must be an integer ≥ 0 (the highest order wanted), got {n!r}")
    return int(n)


def _scalar_input(x):
    from . import as_input  # (the forward API imports this module)
    x = as_input(x, "derivatives")
    if isinstance(x, np.ndarray):
        if x.ndim:
            raise TypeError(f"derivatives(f, x, n) needs a scalar x, but x has shape {x.shape}: for f⁽ᵏ⁾ at every "
                            "point of a grid use derivative(f, xs, order=k) (one call per order)")
        return float(x)
    if type(x) is not float:
        raise TypeError(f"derivatives(f, x, n) needs x to be a plain number, got a {type(x).__name__}: Taylor mode "
                        "does not nest with dual numbers or the tracker; use derivative(f, x, order=k) inside them")
    return x


def _result_value(y):
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, (numbers.Real, np.ndarray)):
        raise TypeError(f"derivatives(f, x, n): f must return one number, got {type(y).__name__} "
                        f"{str(y)[:40]}")
    y = np.asarray(y)
    if y.ndim or y.dtype.kind not in "biuf":
        raise TypeError(f"derivatives(f, x, n): f must return one number, got an array of shape {y.shape}")
    return float(y)
