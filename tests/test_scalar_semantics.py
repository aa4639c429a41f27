"""Scalar dual numbers follow numpy's float semantics and the NaN-safe chain rule, like one element of an array.

Python floats differ from numpy's: ``0.0 ** -1`` and ``1 / 0.0`` raise, ``(-8.0) ** (1/3)`` is a complex number,
``1e200 ** 2`` raises OverflowError. A scalar derivative must never see any of that: it must equal the same
expression on a one-element DualArray (numpy's inf/NaN). References below are that array path, the derivative
taken one input at a time (NaN-safety), central differences or a closed form.
"""
import itertools
import math
import warnings

import numpy as np
import pytest

import dualnum as dn
from dualnum import Dual, DualArray, rules
from dualnum.functions import apply

EDGES = [0.0, -0.0, -1.0, 1.0, -8.0, 0.5, 2.5, math.inf, -math.inf, math.nan, 1e300, -1e-320]
RULES = [r for r in rules.RULES.values() if not r.nondiff]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own warnings about inf/NaN: expected here
        yield


def same(a, b):
    """Equal as numpy compares floats: NaN equals NaN, a last-bit difference of pow() is allowed, and so is a
    rounding residue below 1e-100 (the inlined quotient rule gives d(x/(cx)) = 0 exactly, the table's 1e-200)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=1e-100, equal_nan=True)


def points(r):
    if r.arity == 1:
        return [(x,) for x in EDGES]
    if r.arity == 2:
        return list(itertools.product(EDGES, repeat=2))
    return [(x, -1.0, 1.0) for x in EDGES] + [(0.0, lo, hi) for lo in EDGES for hi in (1.0, math.inf)]


def one_arg(r, args, i, wrap):
    """args with position i replaced by t (and every other argument wrapped by ``wrap``)."""
    def f(t):
        a = [t if j == i else wrap(v) for j, v in enumerate(args)]
        return apply(r, *a)
    return f


def scalar_derivative(r, args, i):
    return dn.derivative(one_arg(r, args, i, lambda v: v), args[i])


def array_derivative(r, args, i):
    """The same derivative on one-element arrays: numpy's semantics (one direction, so no NaN-safety is involved)."""
    g, = dn.gradient(lambda t: np.sum(one_arg(r, args, i, lambda v: np.array([v]))(t)), np.array([args[i]]))
    return float(g[0])


# ---- case: Python float semantics leaking into scalar derivatives --------------------------------------------------

def test_fractional_power_of_a_negative_base_is_nan_as_for_arrays():
    assert math.isnan(dn.derivative(lambda x: x ** 0.5, -1.0))
    assert math.isnan(dn.derivative(lambda x: x ** (1 / 3), -8.0))
    g, = dn.gradient(lambda x: x[0] ** 0.7 + x[1], [-1.0, 4.0])
    assert math.isnan(g[0]) and g[1] == 1.0
    # the array path is the reference: numpy's power of a negative base with a fractional exponent is NaN
    ga, = dn.gradient(lambda x: np.sum(x ** 0.7), np.array([-1.0]))
    assert math.isnan(ga[0])
    # the exponent's partial at a negative base, the base's at a base of 0 (0**-0.5 raised ZeroDivisionError)
    assert math.isnan(dn.derivative(lambda y: (-8.0) ** y, 1 / 3))
    assert dn.derivative(lambda x: x ** -0.5, 0.0) == array_derivative(rules.RULES["power"], (0.0, -0.5), 0)


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.name)
def test_every_rule_scalar_equals_one_element_array_at_edges(r):
    """Each rule, each argument, at 0, -0, negatives, ±inf, NaN, huge and subnormal values."""
    bad = []
    for args in points(r):
        for i in range(r.arity):
            try:
                s = scalar_derivative(r, args, i)
            except Exception as e:  # noqa: BLE001 -- any exception is a failure: numpy raises none
                bad.append((args, i, f"{type(e).__name__}: {e}"))
                continue
            a = array_derivative(r, args, i)
            if not same(s, a):
                bad.append((args, i, s, a))
    assert not bad, f"{r.name}: scalar vs array derivative differ at {bad[:5]} ({len(bad)} in all)"


@pytest.mark.parametrize("r", [r for r in RULES if r.arity <= 2], ids=lambda r: r.name)
def test_every_rule_tracker_scalar_formulas_follow_numpy(r):
    """The tracker evaluates the same formulas on Python floats for scalar inputs: same numbers, no exception."""
    bad = []
    for args in points(r):
        if not all(math.isfinite(float(v)) for v in args):
            continue  # (a non-finite loss is the tracker's own business)
        for i in range(r.arity):
            f = one_arg(r, args, i, lambda v: v)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y = float(r.f(*args))
            if not math.isfinite(y):
                continue
            try:
                t, = dn.tracker.gradient(f, args[i])
            except Exception as e:  # noqa: BLE001
                bad.append((args, i, f"{type(e).__name__}: {e}"))
                continue
            a = array_derivative(r, args, i)
            if not same(t, a):
                bad.append((args, i, t, a))
    assert not bad, f"{r.name}: tracker vs array derivative differ at {bad[:5]} ({len(bad)} in all)"


def test_formulas_evaluate_with_numpy_semantics_on_python_floats():
    """rules.evaluate is the one place Python floats meet a formula: inf/NaN, never an exception or complex."""
    for r in rules.RULES.values():
        for i, d in enumerate(r.partials):
            if not callable(d):
                continue
            for args in points(r):
                z = r.f(*args)
                v = rules.evaluate(d, *[float(a) for a in args], float(z))
                with np.errstate(all="ignore"):
                    ref = d(*[np.float64(a) for a in args], np.float64(z))
                assert not isinstance(v, (complex, np.complexfloating)), (r.name, args)
                assert same(v, ref), (r.name, i, args, v, ref)


# ---- division and the other inlined operators: numpy's inf/NaN, never ZeroDivisionError -----------------------

OPERATORS = {
    "x / c": lambda x, c: x / c, "c / x": lambda x, c: c / x, "x * c": lambda x, c: x * c,
    "c * x": lambda x, c: c * x, "x + c": lambda x, c: x + c, "c - x": lambda x, c: c - x,
    "x - c": lambda x, c: x - c, "x ** 2": lambda x, c: x ** 2, "x ** 3 * c": lambda x, c: x ** 3 * c,
    "x ** -1": lambda x, c: x ** -1, "x ** -2": lambda x, c: x ** -2, "x ** 0": lambda x, c: x ** 0,
    "x ** c": lambda x, c: x ** c, "c ** x": lambda x, c: c ** x, "x * x / c": lambda x, c: x * x / c,
    "x / x": lambda x, c: x / x, "sin(x) / x": lambda x, c: np.sin(x) / x, "x / (x * c)": lambda x, c: x / (x * c),
    "1 / (x - x)": lambda x, c: 1.0 / (x - x), "-x * c": lambda x, c: -x * c, "abs(x) ** c": lambda x, c: abs(x) ** c,
}


@pytest.mark.parametrize("name", list(OPERATORS))
def test_inlined_operators_follow_numpy_like_one_element_arrays(name):
    op = OPERATORS[name]
    bad = []
    # (not the subnormal -1e-320: there 1/x overflows, and the inlined quotient rule (p - z q)/y is the more
    # accurate of two exact formulas -- d(x/x) = 0 where the table's 1/y - z/y gives inf - inf)
    for x, c in itertools.product([e for e in EDGES if e != -1e-320], [0.0, -0.0, 1.0, -2.0, 0.5, math.inf, math.nan,
                                                                     1e200]):
        try:
            s = dn.derivative(lambda t: op(t, c), x)
        except Exception as e:  # noqa: BLE001
            bad.append((x, c, f"{type(e).__name__}: {e}"))
            continue
        g, = dn.gradient(lambda t: np.sum(op(t, np.array([c]))), np.array([x]))  # (c an array: see below)
        if not same(s, g[0]):
            bad.append((x, c, s, g[0]))
    assert not bad, f"{name}: scalar vs array differ at {bad[:5]} ({len(bad)} in all)"


def test_array_formulas_with_a_python_float_constant():
    """The array chain rule evaluates the same formulas with the constant as a Python float: x / 0.0 must not
    raise ZeroDivisionError (d(x/y)/dx = 1.0 / y on two Python floats)."""
    x = np.array([1.0, 0.0])
    g, = dn.gradient(lambda t: np.sum(t / 0.0), x)
    ref, = dn.gradient(lambda t: np.sum(t / np.float64(0.0)), x)
    assert np.array_equal(g, ref) and np.all(np.isinf(g))


def test_division_by_zero_gives_numpys_inf_and_nan():
    q = Dual(1.0, 1.0) / Dual(0.0, 1.0)
    a = DualArray(np.array([1.0]), np.array([[1.0]])) / DualArray(np.array([0.0]), np.array([[1.0]]))
    assert same(q.value, a.value[0]) and same(q.partials[0], a.partials[0, 0])
    assert same(dn.derivative(lambda x: np.sin(x) / x, 0.0),
                dn.gradient(lambda x: np.sum(np.sin(x) / x), np.array([0.0]))[0][0])
    assert dn.derivative(lambda x: 1.0 / x, 0.0) == -math.inf == float(np.float64(-1.0) / np.float64(0.0) ** 2)


def test_overflowing_integer_power_is_inf_not_overflowerror():
    assert dn.derivative(lambda x: x ** 2, 1e200) == 2e200  # the value 1e400 overflowed: OverflowError before
    assert dn.derivative(lambda x: x ** 3, -1e200) == math.inf
    assert dn.derivative(lambda x: x ** -2, 1e-200) == -math.inf
    assert Dual(1e200, 1.0) ** 2 == np.float64(1e200) ** 2


# ---- second derivatives at the edges of x ** y -------------------------------------------------------------------

def central(f, x, h=1e-4):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("f, x", [(lambda v: v ** 0.0, 0.0), (lambda v: v ** 0, 0.0), (lambda y: 0.0 ** y, 0.289),
                                  (lambda y: 0.0 ** y, 2.0)])
def test_power_conventions_survive_differentiation(f, x):
    """d/dx x**0 = 0 and d/dy 0**y = 0 everywhere, so every higher derivative is 0 too (the first derivative's
    central difference is the reference)."""
    d1 = lambda t: dn.derivative(f, t)  # noqa: E731
    assert d1(x) == 0.0
    assert dn.derivative(f, x, order=2) == central(d1, x) == 0.0
    assert dn.derivative(f, x, order=3) == 0.0


def test_power_conventions_in_the_tracker_and_on_arrays():
    assert dn.tracker.gradient(lambda v: v ** 0.0, 0.0) == (0.0,)  # ZeroDivisionError before
    assert dn.tracker.gradient(lambda y: 0.0 ** y, 0.289) == (0.0,)
    x = np.zeros(3)
    assert np.array_equal(dn.gradient(lambda v: np.sum(v ** 0.0), x)[0], np.zeros(3))
    assert np.array_equal(dn.hessian(lambda v: np.sum(v ** 0.0), x), np.zeros((3, 3)))
    assert np.array_equal(dn.hessian(lambda y: np.sum(0.0 ** y), np.array([0.3, 1.0])), np.zeros((2, 2)))


def test_power_conventions_with_an_array_exponent():
    """The exponent an array: the convention goes through np.where, whose unselected branch (y x**(y-1) at 0)
    is NaN; the array chain rule must not let it through (a zero local derivative contributes nothing)."""
    x, y = np.zeros(3), np.zeros(3)
    assert np.array_equal(dn.gradient(lambda v: np.sum(v ** y), x)[0], np.zeros(3))
    assert np.array_equal(dn.hessian(lambda v: np.sum(v ** y), x), np.zeros((3, 3)))


# ---- NaN-safe forward mode: one input's inf/NaN never poisons another's entry -------------------------------------

@pytest.mark.parametrize("g, x", [(np.sqrt, 0.0), (np.log, 0.0), (np.exp, 1000.0), (lambda t: t ** 0.5, 0.0),
                                  (lambda t: 1.0 / t, 0.0), (np.arcsin, 1.0), (lambda t: t * np.inf, 1.0)])
def test_one_inputs_inf_does_not_poison_the_other(g, x):
    gx, gy = dn.gradient(lambda a, b: g(a) + 3.0 * b, x, 1.0)
    assert gx == dn.derivative(g, x) and not math.isfinite(gx)
    assert gy == 3.0
    # one array argument read element by element: the same scalar path
    v, = dn.gradient(lambda z: g(z[0]) + 3.0 * z[1], [x, 1.0])
    assert v[0] == gx and v[1] == 3.0


def test_nan_safe_products_of_hand_built_duals():
    z = Dual(math.inf, 1.0, 0.0) * Dual(2.0, 0.0, 1.0)
    assert z.partials == (2.0, math.inf)
    z = Dual(2.0, 0.0, 1.0) * Dual(math.inf, 1.0, 0.0)
    assert z.partials == (2.0, math.inf)
    z = Dual(2.0, 1.0, 0.0) / Dual(0.0, 0.0, 1.0)
    assert z.partials == (math.inf, -math.inf)  # 1/y and -x/y² at y = 0
    assert (Dual(math.nan, 0.0, 1.0) ** 2).partials == (0.0, math.nan) or \
        math.isnan((Dual(math.nan, 0.0, 1.0) ** 2).partials[1])
    assert (Dual(math.nan, 0.0, 1.0) ** 2).partials[0] == 0.0


@pytest.mark.parametrize("r", [r for r in RULES if r.arity == 2], ids=lambda r: r.name)
def test_every_binary_rule_gradient_equals_its_one_at_a_time_derivatives(r):
    """gradient(f, a, b) carries both directions in one dual; NaN-safety makes each entry what it is alone."""
    bad = []
    for a, b in itertools.product(EDGES, repeat=2):
        g = dn.gradient(lambda s, t: apply(r, s, t), a, b)
        alone = (scalar_derivative(r, (a, b), 0), scalar_derivative(r, (a, b), 1))
        if not (same(g[0], alone[0]) and same(g[1], alone[1])):
            bad.append(((a, b), g, alone))
    assert not bad, f"{r.name}: {bad[:4]} ({len(bad)} in all)"


def test_a_zero_local_derivative_stops_an_infinite_partial():
    # maximum(1, sqrt(b)) at b = 0 does not depend on b: 0 · inf contributes 0
    assert dn.gradient(lambda a, b: np.maximum(a, np.sqrt(b)), 1.0, 0.0) == (1.0, 0.0)
    assert dn.derivative(lambda b: 0.0 * np.sqrt(b), 0.0) == 0.0


def test_nested_partials_that_are_zero_only_in_value_are_kept():
    """A partial Dual(0, 2) is not zero (its own derivative is 2): NaN-safety must not drop it."""
    assert dn.derivative(lambda x: np.exp(x * x), 0.0, order=2) == 2.0  # (2 + 4x²) e^(x²) at 0
    assert dn.derivative(lambda x: np.sin(x * x), 0.0, order=2) == 2.0
    assert dn.derivative(lambda x: (x * x) ** 2 + x * x, 0.0, order=2) == 2.0


# ---- duals with different numbers of partials -------------------------------------------------------------------

BINARY_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
              "**": lambda a, b: a ** b, "arctan2": np.arctan2, "hypot": np.hypot, "maximum": np.maximum,
              "logaddexp": np.logaddexp}


@pytest.mark.parametrize("name", list(BINARY_OPS))
def test_a_dual_without_partials_is_a_constant(name):
    op = BINARY_OPS[name]
    for a, b in [(Dual(3.0, 1.0), Dual(2.0)), (Dual(2.0), Dual(3.0, 1.0, -2.0))]:
        got = op(a, b)
        padded = op(*[Dual(d.value, *([0.0] * 2)) if not d.partials else
                      Dual(d.value, *(d.partials + (0.0,) * (2 - len(d.partials)))) for d in (a, b)])
        k = max(len(a.partials), len(b.partials))
        assert len(got.partials) == k, (name, got)
        assert same(got.value, padded.value) and same(got.partials, padded.partials[:k])


@pytest.mark.parametrize("name", list(BINARY_OPS))
def test_different_numbers_of_partials_raise(name):
    op = BINARY_OPS[name]
    for a, b in [(Dual(1.0, 1.0, 0.0), Dual(2.0, 1.0)), (Dual(2.0, 1.0), Dual(1.0, 1.0, 0.0))]:
        with pytest.raises(ValueError, match=r"k = (2 and k = 1|1 and k = 2)"):
            op(a, b)
    with pytest.raises(ValueError, match="k = 3 and k = 2"):
        np.clip(Dual(0.5, 1.0, 0.0, 0.0), Dual(0.0, 1.0, 1.0), 1.0)


def test_six_with_the_partial_kept():
    z = Dual(3.0, 1.0) * Dual(2.0)
    assert z.partials == (2.0,)
    with pytest.raises(TypeError, match="drop the derivative"):
        float(z)


def test_a_rule_written_with_python_operators_gets_numpy_semantics_too():
    """A user's rule (not registered, so no kernel is built) whose value and partial use ** and /."""
    cube = rules.Rule("cube", lambda x: x ** 3, (lambda x, z: 3.0 * x ** 2,))
    root = rules.Rule("croot", lambda x: x ** (1 / 3), (lambda x, z: 1.0 / (3.0 * z * z),))
    assert dn.derivative(lambda x: apply(cube, x), 1e200) == math.inf  # 1e200 ** 2: OverflowError in Python
    assert dn.derivative(lambda x: apply(cube, x), -2.0) == 12.0
    assert math.isnan(dn.derivative(lambda x: apply(root, x), -8.0))  # Python's (-8) ** (1/3) is complex
    assert math.isnan(apply(root, Dual(-8.0, 1.0)).value)
    assert dn.derivative(lambda x: apply(root, x), 0.0) == math.inf  # 1 / 0.0: ZeroDivisionError in Python
    assert dn.derivative(lambda x: apply(root, x), 8.0) == pytest.approx(1 / 12)


FINITE = [0.0, -1.0, 1.0, -8.0, 0.5, 2.5, -0.3]


def _near_kink(r, args):
    if r.name == "hypot" and not any(args):
        return True  # the cone √(x²+y²) at its apex: no derivative (NaN, as JAX)
    if r.smooth:
        return False
    if r.arity >= 2 and len(set(args)) < len(args):
        return True  # maximum(x, x), clip at a bound: ties
    return any(abs(a - round(a * 2) / 2) < 1e-3 for a in args)  # abs/relu/sign at 0, floor/rint at (half) integers


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.name)
def test_every_rule_scalar_derivative_matches_central_differences_at_finite_edges(r):
    """Where the function is finite and smooth around the point (0 and negatives included), the scalar derivative
    is the central difference; where the central difference is not finite, neither is the derivative."""
    h = 1e-6
    bad = []
    pts = [(x,) for x in FINITE] if r.arity == 1 else list(itertools.product(FINITE, repeat=2)) \
        if r.arity == 2 else [(x, -1.0, 1.0) for x in FINITE]
    for args in pts:
        if _near_kink(r, args):
            continue
        for i in range(r.arity):
            f = one_arg(r, args, i, lambda v: v)
            with np.errstate(all="ignore"):
                fp, fm, f0 = (float(r.f(*[a + (s if j == i else 0.0) for j, a in enumerate(args)]))
                              for s in (h, -h, 0.0))
            fd = (fp - fm) / (2 * h)
            d = dn.derivative(f, args[i])
            if not all(math.isfinite(v) for v in (fp, fm, f0)):
                continue  # outside the domain on one side: no reference
            if abs(fd) > 1e3 and not math.isfinite(d):
                continue  # a vertical tangent (∛x at 0): the difference quotient grows without bound
            if abs(fd) > 1e6:
                continue  # a pole at the point (1/x at 0): the difference quotient means nothing
            if not (d == pytest.approx(fd, rel=1e-4, abs=1e-4)):
                bad.append((args, i, d, fd))
    assert not bad, f"{r.name}: {bad[:5]} ({len(bad)} in all)"
