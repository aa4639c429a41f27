"""The one table of calculus rules: each primitive with its value and its partial derivatives, side by side.

Every number type in dualnum draws its derivatives from this table and nowhere else:

* the scalar :class:`~dualnum.forward.dual.Dual` and the :class:`~dualnum.forward.dualarray.DualArray` (forward mode)
  multiply each partial by the seed partials of that argument (the chain rule);
* the reverse-mode tracker multiplies each partial by the incoming gradient;
* compiled kernels, one per operation (``kernels.py``) or one per chain of operations (``fusion.py``), numba
  now and CUDA later, compile the very same formulas for one element.

A rule for ``z = f(x)`` gives ``dz/dx`` as a function of ``(x, z)``; a rule for ``z = f(x, y)`` gives
``(dz/dx, dz/dy)`` as functions of ``(x, y, z)``. Passing ``z`` lets a formula reuse the value (``exp``,
``tanh``, ``sqrt``). A partial is either such a function or a plain number (a constant derivative, as for
``+``). Formulas use only arithmetic and numpy ufuncs, so they evaluate on floats, arrays, duals and tracked
values alike -- that is what makes nested (higher-order) derivatives work: the formula for sin's derivative,
evaluated on a dual number, differentiates itself.

Conventions at kinks (documented because students ask):

* ``abs``: derivative +1 at 0.0 (ForwardDiff's convention), -1 for x < 0.
* ``maximum``/``minimum``/``fmax``/``fmin``: at a tie the derivative is split evenly, 1/2 to each argument
  (as JAX and PyTorch do), so ``maximum(x, y)`` and ``maximum(y, x)`` agree and ``maximum(x, x)`` has slope 1.
* ``clip(x, lo, hi)``: slope 1 for ``lo <= x <= hi`` inclusive (PyTorch's ``clamp``), 0 outside; the bound
  that is active gets slope 1 when it is itself differentiated.
* ``sign``, ``floor``, ``ceil``, ``rint``/``round``, ``trunc``: derivative 0 everywhere (a.e. true; the
  jumps are not differentiable).
* ``x ** y``: ``d/dx = 0`` when ``y == 0`` (``x**0 == 1`` even at ``x = 0``); ``d/dy = 0`` when ``x == 0``
  (the limit from ``x > 0`` for ``y > 0``); a negative base with an integer exponent works, its ``d/dy`` is NaN
  (there is no real derivative) but is only computed when the exponent is itself being differentiated.
"""
from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple, Union

import numpy as np

Partial = Union[Callable, float, int]

LN2 = math.log(2.0)
LN10 = math.log(10.0)


@dataclass(frozen=True)
class Rule:
    """One primitive: ``f`` computes the value, ``partials[i]`` is d f / d (argument i)."""

    name: str
    f: Callable
    partials: Tuple[Partial, ...]
    math: str = ""  # the derivative in one line, for docs and students
    domain: Tuple[float, float] = (-3.0, 3.0)  # where tests sample it (each argument)
    domain2: Optional[Tuple[float, float]] = None  # second argument's domain, if different
    smooth: bool = True  # False: the derivative is piecewise constant (kinks, steps)
    zero: bool = False  # derivative is identically zero (sign, floor, ...)
    guarded: bool = False  # the formula may evaluate log(0) or 1/0 on a branch np.where discards
    nondiff: Tuple[int, ...] = field(default=())  # argument positions that are never differentiated
    compiled: bool = True  # False: numba cannot compile its formulas (scipy.special's): numpy computes it
    #: Speed only, never the numbers: where numpy's path was measured faster than the compiled one, so the rule
    #: takes numpy's there -- "k1" (its per-rule kernel, one direction: a JVP), "kn" (that kernel with k > 1
    #: directions), "fused" (a node of a fused loop on arrays of kernels.MIN_SIZE elements or more). Given as a
    #: set or a string of those words ("k1 kn"). The measurements: ``python -m benchmarks b1`` prints kernel time
    #: ÷ numpy time per rule for k = 1 and k = 8 (numpy's SIMD exp, log, tanh, ... beat numba's scalar libm 3-12x;
    #: a constant derivative is one numpy multiply over all k directions). ``backends.use(..., always=True)``
    #: ignores it. Not part of a kernel's source, so changing it compiles nothing again.
    numpy_faster: frozenset = frozenset()

    def __post_init__(self):
        where = self.numpy_faster
        where = frozenset(where.split() if isinstance(where, str) else where)
        if not where <= _PATHS:
            raise ValueError(f"Rule {self.name!r}: numpy_faster names the compiled paths where numpy is faster, "
                             f"some of {sorted(_PATHS)}; got {sorted(map(str, where - _PATHS))}")
        object.__setattr__(self, "numpy_faster", where)

    @property
    def arity(self) -> int:
        return len(self.partials)


_PATHS = frozenset(("k1", "kn", "fused"))  # the compiled paths Rule.numpy_faster can name
#: numpy's SIMD loops beat numba's scalar libm calls for these everywhere, fused loops included (b1's table)
_LIBM = "k1 kn fused"


RULES: dict[str, Rule] = {}
BY_FUNCTION: dict[object, Rule] = {}  # numpy ufunc (or function) -> Rule


def rule(name, f, *partials, aliases=(), **kw) -> Rule:
    r = Rule(name, f, tuple(partials), **kw)
    RULES[name] = r
    BY_FUNCTION[f] = r
    for a in aliases:
        BY_FUNCTION[a] = r
    return r


_COMPLEX = frozenset([complex, np.complex64, np.complex128, np.clongdouble])


def evaluate(d, *args):
    """d(x, …, z) with numpy's float semantics even on Python floats: 1/0 is inf, (-8)**(1/3) is NaN.

    Python's own float arithmetic raises ZeroDivisionError or OverflowError, or (``**``) returns a complex
    number, where numpy gives inf or NaN; every mode that evaluates a formula on scalars calls it through here
    (or checks the same way), so a scalar derivative agrees with the same element of an array.
    """
    try:
        r = d(*args)
    except (ZeroDivisionError, OverflowError):
        return on_numpy_scalars(d, *args)
    return on_numpy_scalars(d, *args) if is_complex(r) else r


def is_complex(r):
    """r is a complex number or array (type tests: isinstance(np.float64, np.complexfloating) costs more than
    most formulas)."""
    t = type(r)
    return t in _COMPLEX or (t is np.ndarray and r.dtype.kind == "c")


def on_numpy_scalars(d, *args):
    """d evaluated with its Python float and int arguments as numpy scalars, which follow IEEE arithmetic."""
    with np.errstate(all="ignore"):
        return d(*[np.float64(a) if type(a) is float or type(a) is int else a for a in args])


def _select(c, a, b):
    """a where c holds, else b: np.where, named so a compiled backend can swap in a scalar branch.

    One condition (a scalar) is a plain branch, as in the compiled kernels: the branch not taken is not part of
    the result, so its NaN or inf (x**(y-1) at x = 0) never reaches a derivative, of any order."""
    if type(c) is bool or type(c) is np.bool_:
        return a if c else b
    return np.where(c, a, b)


def _half_step(d):
    """1 where d > 0, 1/2 where d == 0, 0 where d < 0: the share of a max/min tie."""
    return (np.sign(d) + 1.0) * 0.5


def _pow_dbase(x, y, z):
    # y * x**(y-1), but exactly 0 when y == 0 (x**0 is the constant 1, even at x = 0). np.power, not **:
    # Python's ** on floats raises at 0**-1 and gives a complex number for (-8)**(1/3), numpy gives inf/NaN
    return _select(y == 0, 0.0, y * np.power(x, y - 1))


def _pow_dexp(x, y, z):
    # z * log(x), but 0 at x == 0 (the limit from the right); NaN for x < 0, where no real derivative exists
    return _select(x == 0, 0.0, z * np.log(x))


def _sigmoid(x):
    """Logistic function 1/(1+exp(-x)), stable for large |x|: never exponentiates a positive number."""
    e = np.exp(-np.abs(x))
    return _select(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ---- arithmetic -------------------------------------------------------------------------------------------
rule("add", np.add, 1.0, 1.0, math="d(x+y) = dx + dy", numpy_faster="k1 kn")
rule("subtract", np.subtract, 1.0, -1.0, math="d(x-y) = dx - dy")
rule("multiply", np.multiply, lambda x, y, z: y, lambda x, y, z: x, math="d(xy) = y dx + x dy")
rule("true_divide", np.true_divide, lambda x, y, z: 1.0 / y, lambda x, y, z: -z / y,
     math="d(x/y) = dx/y - (x/y²) dy", domain2=(0.5, 3.0))
rule("power", np.power, _pow_dbase, _pow_dexp, math="d(x^y) = y x^(y-1) dx + x^y log(x) dy",
     domain=(0.2, 3.0), guarded=True, numpy_faster=_LIBM)
rule("negative", np.negative, -1.0, math="d(-x) = -dx", numpy_faster="k1 kn")
rule("positive", np.positive, 1.0, math="d(+x) = dx", numpy_faster="kn")
rule("absolute", np.absolute, lambda x, z: _select(x >= 0, 1.0, -1.0), aliases=(np.abs,),
     math="d|x| = sign(x) dx, +1 at 0", smooth=False)
rule("square", np.square, lambda x, z: 2.0 * x, math="d(x²) = 2x dx", numpy_faster="kn")
rule("reciprocal", np.reciprocal, lambda x, z: -z * z, math="d(1/x) = -1/x² dx", domain=(0.3, 3.0), numpy_faster="kn")
rule("sqrt", np.sqrt, lambda x, z: 0.5 / z, math="d√x = dx / (2√x)", domain=(0.1, 4.0), numpy_faster="kn")
rule("cbrt", np.cbrt, lambda x, z: 1.0 / (3.0 * z * z),
     math="d∛x = dx / (3 ∛x²)", domain=(0.1, 4.0), numpy_faster=_LIBM)

# ---- exponentials and logarithms ---------------------------------------------------------------------------
rule("exp", np.exp, lambda x, z: z, math="d eˣ = eˣ dx", numpy_faster=_LIBM)
rule("exp2", np.exp2, lambda x, z: z * LN2, math="d 2ˣ = 2ˣ ln2 dx", numpy_faster=_LIBM)
rule("expm1", np.expm1, lambda x, z: z + 1.0, math="d(eˣ-1) = eˣ dx", numpy_faster=_LIBM)
rule("log", np.log, lambda x, z: 1.0 / x, math="d ln x = dx / x", domain=(0.1, 5.0), numpy_faster=_LIBM)
rule("log2", np.log2, lambda x, z: 1.0 / (x * LN2),
     math="d log₂x = dx / (x ln2)", domain=(0.1, 5.0), numpy_faster=_LIBM)
rule("log10", np.log10, lambda x, z: 1.0 / (x * LN10),
     math="d log₁₀x = dx / (x ln10)", domain=(0.1, 5.0), numpy_faster=_LIBM)
rule("log1p", np.log1p, lambda x, z: 1.0 / (1.0 + x),
     math="d ln(1+x) = dx / (1+x)", domain=(-0.9, 5.0), numpy_faster=_LIBM)
rule("logaddexp", np.logaddexp, lambda x, y, z: np.exp(x - z), lambda x, y, z: np.exp(y - z),
     math="d log(eˣ+eʸ) = (eˣ dx + eʸ dy) / (eˣ+eʸ)", numpy_faster="k1")
rule("logaddexp2", np.logaddexp2, lambda x, y, z: np.exp2(x - z), lambda x, y, z: np.exp2(y - z),
     math="d log₂(2ˣ+2ʸ) = (2ˣ dx + 2ʸ dy) / (2ˣ+2ʸ)", numpy_faster="k1")

# ---- trigonometry -----------------------------------------------------------------------------------------
rule("sin", np.sin, lambda x, z: np.cos(x), math="d sin x = cos x dx")
rule("cos", np.cos, lambda x, z: -np.sin(x), math="d cos x = -sin x dx")
rule("tan", np.tan, lambda x, z: 1.0 + z * z, math="d tan x = (1 + tan²x) dx", domain=(-1.4, 1.4), numpy_faster=_LIBM)
rule("arcsin", np.arcsin, lambda x, z: 1.0 / np.sqrt(1.0 - x * x), math="d asin x = dx / √(1-x²)",
     domain=(-0.95, 0.95), numpy_faster=_LIBM)
rule("arccos", np.arccos, lambda x, z: -1.0 / np.sqrt(1.0 - x * x), math="d acos x = -dx / √(1-x²)",
     domain=(-0.95, 0.95), numpy_faster=_LIBM)
rule("arctan", np.arctan, lambda x, z: 1.0 / (1.0 + x * x), math="d atan x = dx / (1+x²)", numpy_faster=_LIBM)
rule("arctan2", np.arctan2, lambda x, y, z: y / (x * x + y * y), lambda x, y, z: -x / (x * x + y * y),
     math="d atan2(x, y) = (y dx - x dy) / (x²+y²)", domain=(0.2, 3.0), numpy_faster=_LIBM)
rule("hypot", np.hypot, lambda x, y, z: x / z, lambda x, y, z: y / z,
     math="d √(x²+y²) = (x dx + y dy) / √(x²+y²)", domain=(0.2, 3.0))
rule("deg2rad", np.deg2rad, math.pi / 180.0, aliases=(np.radians,), math="d rad(x) = π/180 dx", numpy_faster="kn")
rule("rad2deg", np.rad2deg, 180.0 / math.pi, aliases=(np.degrees,), math="d deg(x) = 180/π dx", numpy_faster="kn")

# ---- hyperbolic -------------------------------------------------------------------------------------------
rule("sinh", np.sinh, lambda x, z: np.cosh(x), math="d sinh x = cosh x dx", numpy_faster=_LIBM)
rule("cosh", np.cosh, lambda x, z: np.sinh(x), math="d cosh x = sinh x dx", numpy_faster=_LIBM)
rule("tanh", np.tanh, lambda x, z: 1.0 - z * z, math="d tanh x = (1 - tanh²x) dx", numpy_faster=_LIBM)
rule("arcsinh", np.arcsinh, lambda x, z: 1.0 / np.sqrt(x * x + 1.0),
     math="d asinh x = dx / √(x²+1)", numpy_faster=_LIBM)
rule("arccosh", np.arccosh, lambda x, z: 1.0 / np.sqrt(x * x - 1.0), math="d acosh x = dx / √(x²-1)",
     domain=(1.1, 4.0), numpy_faster=_LIBM)
rule("arctanh", np.arctanh, lambda x, z: 1.0 / (1.0 - x * x), math="d atanh x = dx / (1-x²)",
     domain=(-0.9, 0.9), numpy_faster=_LIBM)

# ---- kinks: max, min, clip, where --------------------------------------------------------------------------
rule("maximum", np.maximum, lambda x, y, z: _half_step(x - y), lambda x, y, z: _half_step(y - x),
     math="d max(x,y) = [x>y] dx + [y>x] dy, ties split 1/2 each", smooth=False)
rule("minimum", np.minimum, lambda x, y, z: _half_step(y - x), lambda x, y, z: _half_step(x - y),
     math="d min(x,y) = [x<y] dx + [y<x] dy, ties split 1/2 each", smooth=False)
rule("fmax", np.fmax, lambda x, y, z: _half_step(x - y), lambda x, y, z: _half_step(y - x),
     math="as maximum", smooth=False)
rule("fmin", np.fmin, lambda x, y, z: _half_step(y - x), lambda x, y, z: _half_step(x - y),
     math="as minimum", smooth=False)
rule("clip", np.clip,
     lambda x, lo, hi, z: (x >= lo) & (x <= hi),
     lambda x, lo, hi, z: x < lo,
     lambda x, lo, hi, z: (x > hi) & (x >= lo),
     math="d clip(x, lo, hi) = [lo≤x≤hi] dx + [x<lo] dlo + [x>hi] dhi", smooth=False)
rule("where", np.where, 0.0, lambda c, x, y, z: c != 0, lambda c, x, y, z: c == 0,
     math="d where(c, x, y) = [c] dx + [not c] dy", smooth=False, nondiff=(0,))

# ---- functions that are not in numpy but every model needs ------------------------------------------------
rule("sigmoid", _sigmoid, lambda x, z: z * (1.0 - z), math="d σ(x) = σ(x)(1-σ(x)) dx", domain=(-6.0, 6.0))
rule("relu", lambda x: np.maximum(x, 0.0), lambda x, z: x > 0,
     math="d relu(x) = [x>0] dx (0 at x = 0, as Flux)", smooth=False, numpy_faster="kn")

# ---- remainders: sawtooth functions, slope 1 in x between their jumps --------------------------------------------
rule("remainder", np.remainder, 1.0, lambda x, y, z: -np.floor(x / y), aliases=(np.mod,),
     math="d(x mod y) = dx - floor(x/y) dy (between the jumps at x/y integer)", smooth=False,
     domain=(0.2, 3.0), domain2=(0.5, 3.0))
rule("fmod", np.fmod, 1.0, lambda x, y, z: -np.trunc(x / y),
     math="d fmod(x, y) = dx - trunc(x/y) dy (between the jumps at x/y integer)", smooth=False,
     domain=(0.2, 3.0), domain2=(0.5, 3.0))
rule("conjugate", np.conjugate, 1.0, math="d conj(x) = dx (a real x is its own conjugate)")
rule("fabs", np.fabs, lambda x, z: _select(x >= 0, 1.0, -1.0), math="d|x| = sign(x) dx, +1 at 0", smooth=False)
rule("copysign", np.copysign, lambda x, y, z: np.copysign(1.0, x) * np.copysign(1.0, y), 0.0,
     math="d copysign(x, y) = sign(x) sign(y) dx (y only gives the sign: 0 dy)", smooth=False,
     domain=(0.2, 3.0), domain2=(-3.0, -0.2))  # (tests sample away from the kink at x = 0 and the jump at y = 0)

# ---- sinc: its slope formula is 0/0 at x = 0, so a series serves near 0 ------------------------------------------
_PI2_3, _PI4_30, _PI6_840 = math.pi ** 2 / 3.0, math.pi ** 4 / 30.0, math.pi ** 6 / 840.0


def _sinc_slope(x, z):
    # (cos πx - sinc x) / x, and near 0 its Taylor series -π²x/3 + π⁴x³/30 - π⁶x⁵/840 (error < 1e-14 there), so
    # that the slope (0) and its own derivative (-π²/3) at 0 are exact to every order the series carries. The
    # branch not taken divides by 1, never by 0: its nested derivatives stay finite, not NaN
    small = np.abs(x) < 0.01
    x2 = x * x
    return _select(small, x * (x2 * (_PI4_30 - x2 * _PI6_840) - _PI2_3),
                   (np.cos(math.pi * x) - z) / _select(small, 1.0, x))


rule("sinc", np.sinc, _sinc_slope, math="d sinc x = (cos πx - sinc x) / x dx (0 at x = 0, and d² = -π²/3 there)")


# ---- zero derivative almost everywhere ----------------------------------------------------------------------
for _name, _f, _aliases in [("sign", np.sign, ()), ("floor", np.floor, ()), ("ceil", np.ceil, ()),
                            ("rint", np.rint, (np.round, np.around)), ("trunc", np.trunc, (np.fix,))]:
    rule(_name, _f, 0.0, aliases=_aliases, math=f"d {_name}(x) = 0", smooth=False, zero=True)
rule("floor_divide", np.floor_divide, 0.0, 0.0, math="d floor(x/y) = 0 (an integer-valued step)", smooth=False,
     zero=True, domain=(0.2, 3.0), domain2=(0.5, 3.0))
rule("heaviside", np.heaviside, 0.0, 0.0, math="d H(x, h0) = 0 (a step; h0 is its value at 0)", smooth=False,
     zero=True, domain=(0.2, 3.0))  # (tests sample away from the step at 0)

# ufuncs whose result depends on the value only and carries no derivative (comparisons, predicates)
VALUE_ONLY = frozenset([
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isnan, np.isinf, np.isfinite, np.signbit, np.logical_and, np.logical_or, np.logical_not,
    np.logical_xor,
])


# ---- ldexp(x, n) = x · 2ⁿ: n is an integer (numpy accepts no other), so it carries no derivative. Dispatched by
# numpy's ufunc, but kept out of RULES, whose rules take real numbers in every argument (tests and kernels)
def _ldexp(x, n):
    """np.ldexp, with an integer-valued float exponent taken as the integer it is (scalar duals hold floats)."""
    m = np.asarray(n)
    if m.dtype.kind == "f":
        if not np.all(m == np.round(m)):
            raise TypeError(f"np.ldexp(x, n): the exponent n must be an integer, got {n!r}")
        n = m.astype(np.int64) if m.ndim else int(m)
    return np.ldexp(x, n)


LDEXP = Rule("ldexp", _ldexp, (lambda x, n, z: _ldexp(1.0, n), 0.0), math="d ldexp(x, n) = 2ⁿ dx (n an integer)",
             nondiff=(1,))
BY_FUNCTION[np.ldexp] = LDEXP


# ---- numpy's object loops: np.sin(np.array([x0, x1])) calls x0.sin() ----------------------------------------------
_OBJECT_LOOPS: list = []  # (number type, method(rule) -> the method it gets) for every type that asked


def object_loop_methods(cls, method):
    """Give ``cls`` a method per ufunc of the table, named as numpy's object loops call it (np.sin of an object
    array calls each element's ``sin()``), now and for every ufunc that joins the table later; ``method(rule)``
    makes it."""
    _OBJECT_LOOPS.append((cls, method))
    _give_object_loop_methods()


def _give_object_loop_methods():
    for cls, method in _OBJECT_LOOPS:
        for r in list(BY_FUNCTION.values()):
            if isinstance(r.f, np.ufunc) and not hasattr(cls, r.f.__name__):
                setattr(cls, r.f.__name__, method(r))


# ---- scipy.special (optional: its rules join the table when scipy is loaded) --------------------------------------
_SCIPY: list = []  # [True] once scipy.special's rules are in the table


def lookup(func):
    """The rule of a numpy (or scipy) function, or None. scipy.special's rules cost scipy's import time, so they
    join the table when a scipy function first reaches a number type here (scipy is then loaded already)."""
    r = BY_FUNCTION.get(func)
    if r is None and not _SCIPY and "scipy.special" in sys.modules:
        scipy_rules()
        r = BY_FUNCTION.get(func)
    return r


def _no_zeta_ds(s, q, z):
    raise TypeError("scipy.special.zeta(s, q): the derivative in s is not provided (only in q); pass s as a "
                    "plain number")


def scipy_rules():
    """Add scipy.special's common ufuncs to the table; False when scipy is not installed (nothing changes)."""
    if _SCIPY:
        return True
    try:
        import scipy.special as sp
        from scipy.special import _ufuncs
    except ImportError:
        return False
    _SCIPY.append(True)
    c = 2.0 / math.sqrt(math.pi)
    kw = dict(compiled=False)
    rule("expit", sp.expit, lambda x, z: z * (1.0 - z), math="d expit(x) = expit(x)(1 - expit(x)) dx",
         domain=(-6.0, 6.0), **kw)
    rule("logit", sp.logit, lambda x, z: 1.0 / (x * (1.0 - x)), math="d logit(x) = dx / (x(1-x))",
         domain=(0.05, 0.95), **kw)
    rule("erf", sp.erf, lambda x, z: c * np.exp(-x * x), math="d erf(x) = 2/√π e^(-x²) dx", **kw)
    rule("erfc", sp.erfc, lambda x, z: -c * np.exp(-x * x), math="d erfc(x) = -2/√π e^(-x²) dx", **kw)
    rule("gammaln", sp.gammaln, lambda x, z: sp.digamma(x), math="d ln|Γ(x)| = ψ(x) dx", domain=(0.2, 5.0),
         **kw)
    # ψ'(x) is Hurwitz's ζ(2, x); ζ(s, q) has a rule in q (-s ζ(s+1, q)), so every order is a formula
    rule("digamma", sp.digamma, lambda x, z: _ufuncs._zeta(2.0, x), math="d ψ(x) = ζ(2, x) dx (ψ' = ψ₁)",
         domain=(0.2, 5.0), **kw)
    BY_FUNCTION[_ufuncs._zeta] = Rule("zeta", _ufuncs._zeta, (_no_zeta_ds, lambda s, q, z: -s * _ufuncs._zeta(
        s + 1.0, q)), math="d ζ(s, q) = -s ζ(s+1, q) dq (no derivative in s)", **kw)
    rule("xlogy", sp.xlogy, lambda x, y, z: np.log(y), lambda x, y, z: _select(x == 0, 0.0, x / y),
         math="d(x log y) = log y dx + x/y dy (0 dy at x = 0)", domain=(0.2, 3.0), guarded=True, **kw)
    rule("xlog1py", sp.xlog1py, lambda x, y, z: np.log1p(y), lambda x, y, z: _select(x == 0, 0.0, x / (1.0 + y)),
         math="d(x log(1+y)) = log(1+y) dx + x/(1+y) dy (0 dy at x = 0)", domain=(0.2, 3.0),
         domain2=(-0.5, 3.0), guarded=True, **kw)
    _give_object_loop_methods()
    return True


if "scipy.special" in sys.modules:  # loaded before dualnum: its rules are in the table from the start
    scipy_rules()



# ---- a rule for one block only: a student's rule, an experiment ------------------------------------------------
#: rules whose Rule object the number types hold from import on (their operators, ``dualnum.sigmoid``, Taylor
#: mode): a replacement in the table would be used by some paths and not others, so override refuses them
BOUND = frozenset("add subtract multiply true_divide power negative absolute sigmoid relu remainder floor_divide "
                  "log".split())


class override:
    """``with override(rule, ...) as r:`` the table holds ``rule`` (added, or replacing the rule of its name and
    function) inside the block only; on exit the table is exactly as before, even after an exception.

    The rule in the table is a copy marked ``compiled=False`` (``r``, or a tuple when several are given), and
    the compiled kernels and fused loops are switched off while any override block is open: a temporary
    formula never reaches numba's on-disk cache or a fused loop, and nothing compiled from the real table
    serves a name the block replaced. Every mode reaches the rule through the table: numpy functions (``np.tan(x)``
    on a Dual, a DualArray, a tracked value) and ``dualnum.functions.apply(r, x)`` for a function numpy has not.
    The switch is process-wide (``dualnum.backends``' "numpy", above any ``backends.use`` block opened inside):
    other threads compute with numpy meanwhile (same numbers, slower).
    """

    def __init__(self, *new_rules: Rule):
        if not new_rules:
            raise TypeError("override(rule, ...) needs at least one Rule, e.g. "
                            "override(Rule('softplus', f, (df,)))")
        for r in new_rules:
            if not isinstance(r, Rule):
                raise TypeError(f"override(...) takes dualnum.rules.Rule objects, got {type(r).__name__} {r!r}; "
                                f"build one with Rule(name, f, (partial, ...))")
            if r.name in BOUND:
                raise ValueError(f"override cannot replace the rule {r.name!r}: the operators of Dual, DualArray "
                                 f"and tracked values hold it from import on, so some paths would not see the "
                                 f"new one; give your rule another name and call it with "
                                 f"dualnum.functions.apply(rule, x)")
            if not callable(r.f) or not r.partials or not all(callable(p) or isinstance(p, (int, float))
                                                              for p in r.partials):
                raise TypeError(f"override: rule {r.name!r} needs a value function f and one partial (a function "
                                f"or a number) per argument, got f={r.f!r}, partials={r.partials!r}")
        names = [r.name for r in new_rules]
        if len(set(names)) != len(names):
            raise ValueError(f"override: two rules named the same in {names}")
        self.rules = tuple(dataclasses.replace(r, compiled=False) for r in new_rules)
        self._saved = None
        self._numpy = None  # the backends' "numpy" hold while the block is open

    def __enter__(self):
        if self._saved is not None:
            raise RuntimeError("override: this block is already open (make a new override(...) to nest)")
        # a rule replaced by name follows into every function it is registered under (np.abs and np.absolute)
        funcs = {}
        for r in self.rules:
            funcs[r.f] = r
            old = RULES.get(r.name)
            for f, o in BY_FUNCTION.items():
                if old is not None and o is old:
                    funcs.setdefault(f, r)
        self._saved = ({r.name: RULES.get(r.name, _ABSENT) for r in self.rules},
                       {f: BY_FUNCTION.get(f, _ABSENT) for f in funcs})
        new_ufunc = any(isinstance(f, np.ufunc) and f not in BY_FUNCTION for f in funcs)
        from .backends import _hold
        self._numpy = _hold("numpy", above_use=True)  # numpy until the block closes, whatever use() says inside
        for r in self.rules:
            RULES[r.name] = r
        BY_FUNCTION.update(funcs)
        if new_ufunc:  # the number types give a ufunc new to the table its object-loop methods
            _give_object_loop_methods()
        return self.rules[0] if len(self.rules) == 1 else self.rules

    def __exit__(self, *exc):
        names, funcs = self._saved
        self._saved = None
        for name, old in names.items():
            if old is _ABSENT:
                RULES.pop(name, None)
            else:
                RULES[name] = old
        for f, old in funcs.items():
            if old is _ABSENT:
                BY_FUNCTION.pop(f, None)
            else:
                BY_FUNCTION[f] = old
        self._numpy, hold = None, self._numpy
        hold.release()
        return False


_ABSENT = object()

