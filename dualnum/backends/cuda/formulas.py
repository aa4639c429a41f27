"""The table's formulas compiled for one element on the GPU: numpy's names mapped to scalar math.

A rule's formulas call numpy (``np.exp(x)``, ``np.where``-like ``_select``, ``np.sign``); numba's CUDA target
lowers only some of numpy's functions on scalars (not ``np.exp``, ``np.sqrt``, ``np.sign``...). So each formula
is compiled with its module's ``np`` rebound to :data:`NP`, a module of scalar functions with numpy's names and
numpy's semantics at the edges (NaN propagation in ``maximum``, ``rint`` rounding half to even, ``remainder``
taking the divisor's sign). Nothing here knows a derivative: the formulas are the table's own.
"""
from __future__ import annotations

import math
import types

import numpy as np

from ... import rules
from . import simulating

# ---- numpy's scalar functions, written with math (each compiled as an inlined CUDA device function) ----------


def _absolute(x):
    return abs(x)


def _sign(x):
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 if x == 0 else x  # NaN stays NaN


def _square(x):
    return x * x


def _reciprocal(x):
    return 1.0 / x


def _cbrt(x):
    r = math.pow(-x if x < 0 else x, 1.0 / 3.0)
    if r != 0.0 and r == r and r != math.inf:
        r = r - (r * r * r - (-x if x < 0 else x)) / (3.0 * r * r)  # one Newton step: pow's 1/3 is inexact
    return math.copysign(r, x)


def _exp2(x):
    return math.pow(2.0, x)


def _log2(x):
    return math.log(x) * 1.4426950408889634


def _log10(x):
    return math.log10(x)


def _logaddexp(x, y):
    if x != x or y != y:
        return x + y
    m = x if x > y else y
    if m == -math.inf:
        return m
    return m + math.log1p(math.exp(-abs(x - y)))


def _logaddexp2(x, y):
    if x != x or y != y:
        return x + y
    m = x if x > y else y
    if m == -math.inf:
        return m
    return m + math.log1p(math.pow(2.0, -abs(x - y))) * 1.4426950408889634


def _maximum(x, y):
    if x != x or y != y:
        return x + y  # NaN, as numpy's maximum
    return x if x >= y else y


def _minimum(x, y):
    if x != x or y != y:
        return x + y
    return x if x <= y else y


def _fmax(x, y):
    if y != y:
        return x
    if x != x:
        return y
    return x if x >= y else y


def _fmin(x, y):
    if y != y:
        return x
    if x != x:
        return y
    return x if x <= y else y


def _rint(x):
    r = math.floor(x)
    d = x - r
    if d > 0.5 or (d == 0.5 and math.fmod(r, 2.0) != 0.0):
        r += 1.0
    return math.copysign(r, x)  # -0.3 rounds to -0.0, as numpy's


def _remainder(x, y):
    r = math.fmod(x, y)
    if r != 0.0 and (r < 0.0) != (y < 0.0):
        r += y
    return math.copysign(0.0, y) if r == 0.0 else r  # a zero remainder takes the divisor's sign, as numpy's


def _floor_divide(x, y):
    return math.floor(x / y)


def _heaviside(x, h0):
    if x != x:
        return x
    if x < 0:
        return 0.0
    if x > 0:
        return 1.0
    return h0


def _sinc(x):
    if x == 0.0:
        return 1.0
    y = math.pi * x
    return math.sin(y) / y


def _deg2rad(x):
    return x * (math.pi / 180.0)


def _rad2deg(x):
    return x * (180.0 / math.pi)


def _power(x, y):
    # math.pow costs a logarithm and an exponential; these exponents give the same correctly rounded result
    # with one instruction (a constant exponent takes the same branch in every thread)
    if y == 2.0:
        return x * x
    if y == 1.0:
        return x
    if y == -1.0:
        return 1.0 / x
    return math.pow(x, y)


def _signbit(x):
    return math.copysign(1.0, x) < 0


def _where(c, a, b):
    return a if c else b


def _positive(x):
    return x


def _conjugate(x):
    return x


SCALAR = {  # numpy name -> a scalar function with numpy's meaning on one element
    "absolute": _absolute, "abs": _absolute, "fabs": _absolute, "sign": _sign, "square": _square,
    "reciprocal": _reciprocal, "cbrt": _cbrt, "sqrt": math.sqrt, "exp": math.exp, "exp2": _exp2,
    "expm1": math.expm1, "log": math.log, "log2": _log2, "log10": _log10, "log1p": math.log1p,
    "logaddexp": _logaddexp, "logaddexp2": _logaddexp2, "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "arcsin": math.asin, "arccos": math.acos, "arctan": math.atan, "arctan2": math.atan2, "hypot": math.hypot,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "arcsinh": math.asinh, "arccosh": math.acosh,
    "arctanh": math.atanh, "deg2rad": _deg2rad, "rad2deg": _rad2deg, "radians": _deg2rad, "degrees": _rad2deg,
    "maximum": _maximum, "minimum": _minimum, "fmax": _fmax, "fmin": _fmin, "floor": math.floor,
    "ceil": math.ceil, "rint": _rint, "round": _rint, "trunc": math.trunc, "fix": math.trunc,
    "remainder": _remainder, "mod": _remainder, "fmod": math.fmod, "floor_divide": _floor_divide,
    "heaviside": _heaviside, "copysign": math.copysign, "sinc": _sinc, "power": _power,
    "positive": _positive, "conjugate": _conjugate, "signbit": _signbit, "where": _where,
    "isnan": math.isnan, "isinf": math.isinf, "isfinite": math.isfinite,
}
OPERATORS = {  # one instruction each, never a library call
    "add": lambda x, y: x + y, "subtract": lambda x, y: x - y, "multiply": lambda x, y: x * y,
    "true_divide": lambda x, y: x / y, "divide": lambda x, y: x / y, "negative": lambda x: -x,
    "greater": lambda x, y: x > y, "greater_equal": lambda x, y: x >= y, "less": lambda x, y: x < y,
    "less_equal": lambda x, y: x <= y, "equal": lambda x, y: x == y, "not_equal": lambda x, y: x != y,
    "logical_and": lambda x, y: (x != 0) and (y != 0), "logical_or": lambda x, y: (x != 0) or (y != 0),
    "logical_xor": lambda x, y: (x != 0) != (y != 0), "logical_not": lambda x: x == 0,
    # on bool arrays (masks), the bitwise operators are the logical ones
    "invert": lambda x: not x, "bitwise_and": lambda x, y: x and y, "bitwise_or": lambda x, y: x or y,
    "bitwise_xor": lambda x, y: x != y,
}
CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan, "newaxis": None}

_NP = None
_compiled: dict = {}

# numba's simulator runs device functions as Python, where math.log(0) raises and math.floor returns an int;
# compiled for a GPU, math is IEEE arithmetic on floats. Under the simulator the helpers therefore read a
# ``math`` of numpy's scalar functions, which compute what the GPU computes (inf, NaN, float results).
_SIM_MATH = {"exp": np.exp, "log": np.log, "log10": np.log10, "log1p": np.log1p, "expm1": np.expm1,
             "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
             "atan": np.arctan, "atan2": np.arctan2, "hypot": np.hypot, "sinh": np.sinh, "cosh": np.cosh,
             "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh, "floor": np.floor,
             "ceil": np.ceil, "trunc": np.trunc, "fmod": np.fmod, "copysign": np.copysign, "pow": np.power,
             "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite}


def _quiet(f):
    def g(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return g


def _sim_math():
    mod = _compiled.get("sim_math")
    if mod is None:
        mod = types.ModuleType("dualnum_simulated_math")
        for name, f in _SIM_MATH.items():
            setattr(mod, name, _quiet(f))
        for name in ("pi", "e", "inf", "nan"):
            setattr(mod, name, getattr(math, name))
        _compiled["sim_math"] = mod
    return mod


_TWO = frozenset(["atan2", "hypot", "copysign", "fmod", "pow"])


def _device(f):
    from numba import cuda
    if not isinstance(f, types.FunctionType):  # a math builtin: a Python function around it, as every target needs
        g = getattr(_sim_math(), f.__name__) if simulating() else f
        f = (lambda x, y: g(x, y)) if f.__name__ in _TWO else (lambda x: g(x))
    elif simulating() and f.__globals__.get("math") is math:
        f = _rebind(f, {**f.__globals__, "math": _sim_math()})
    return cuda.jit(device=True, inline="always")(f)


def scalar_numpy():
    """A module standing in for ``numpy`` inside compiled formulas: ``NP.exp`` is a device function."""
    global _NP
    if _NP is None:
        mod = types.ModuleType("dualnum_cuda_numpy")
        for name, f in {**SCALAR, **OPERATORS}.items():
            setattr(mod, name, _device(f))
        for name, c in CONSTANTS.items():
            setattr(mod, name, c)
        _NP = mod
    return _NP


def scalar_function(ufunc_name):
    """numpy's function of that name on one element, as a device function (None if there is none)."""
    f = SCALAR.get(ufunc_name) or OPERATORS.get(ufunc_name)
    return None if f is None else getattr(scalar_numpy(), ufunc_name)


def _namespace():
    """rules.py's globals with ``np`` rebound to the scalar module and its helpers (``_select``, ``_sigmoid``...)
    compiled as device functions over it."""
    ns = _compiled.get("ns")
    if ns is None:
        ns = dict(vars(rules))
        ns["np"] = scalar_numpy()
        for name, obj in vars(rules).items():
            if isinstance(obj, types.FunctionType) and obj.__module__ == rules.__name__ and name.startswith("_"):
                ns[name] = _device(_rebind(obj, ns))
        ns["_select"] = _device(_where)  # np.where on one element: a branch
        _compiled["ns"] = ns
    return ns


def _rebind(f, ns):
    return types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__, f.__closure__)


class NotCompilable(TypeError):
    """A formula that has no scalar form on the GPU (a scipy function, a rule's numpy call with no mapping)."""


def compile_formula(f, arity):
    """A rule's value function or partial as a CUDA device function of ``arity`` arguments."""
    if isinstance(f, np.ufunc) or (callable(f) and not isinstance(f, types.FunctionType)):
        name = getattr(f, "__name__", "")
        g = scalar_function(name)
        if g is None:
            raise NotCompilable(f"{name or f!r} has no scalar form for the GPU")
        return g
    if not callable(f):
        c = float(f)
        return _device(lambda x, z: c) if arity == 2 else _device(lambda x, y, z: c)
    if getattr(f, "__globals__", None) is not vars(rules):
        # a formula from another module reads its own module's globals, with numpy rebound there too
        ns = dict(f.__globals__)
        ns["np"] = scalar_numpy()
        return _device(_rebind(f, ns))
    return _device(_rebind(f, _namespace()))


def reset():
    """Forget the compiled formulas (tests switch between the simulator and a GPU target)."""
    global _NP
    _NP = None
    _compiled.clear()
