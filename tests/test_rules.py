"""Every rule in the table against central differences, first and second order, scalar and array."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import dualnum as dn
from dualnum import rules
from dualnum.functions import apply

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

UNARY = [r for r in rules.RULES.values() if r.arity == 1]
BINARY = [r for r in rules.RULES.values() if r.arity == 2]


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def away_from_kinks(r, x):
    """Points where a piecewise rule is differentiable (a finite difference must not straddle a kink)."""
    if r.smooth:
        return True
    if r.name in ("absolute", "fabs", "relu", "sign"):
        return abs(x) > 1e-3
    if r.name in ("floor", "ceil", "trunc"):
        return abs(x - round(x)) > 1e-3
    if r.name == "rint":
        return abs(abs(x - math.floor(x)) - 0.5) > 1e-3
    return True


def xs_for(r):
    lo, hi = r.domain
    return st.floats(lo, hi, allow_nan=False)


def tol(v):
    return 1e-5 * max(1.0, abs(v))


@pytest.mark.parametrize("r", UNARY, ids=lambda r: r.name)
@SETTINGS
@given(data=st.data())
def test_unary_rule_first_and_second_order_scalar(r, data):
    x = data.draw(xs_for(r))
    if not away_from_kinks(r, x):
        return
    f = lambda t: apply(r, t)  # noqa: E731
    d1 = dn.derivative(f, x)
    assert d1 == pytest.approx(central(lambda t: float(r.f(t)), x), abs=tol(d1), rel=1e-5)
    if r.smooth:
        d2 = dn.derivative(f, x, order=2)
        fd2 = central(lambda t: dn.derivative(f, t), x, h=1e-5)  # difference of the (checked) first derivative
        assert d2 == pytest.approx(fd2, rel=1e-4, abs=1e-4 * max(1, abs(d2)))
        h = 1e-4
        pure = (float(r.f(x + h)) - 2 * float(r.f(x)) + float(r.f(x - h))) / h**2
        assert d2 == pytest.approx(pure, rel=1e-3, abs=1e-3 * max(1, abs(d2)))


@pytest.mark.parametrize("r", UNARY, ids=lambda r: r.name)
@SETTINGS
@given(data=st.data())
def test_unary_rule_array(r, data):
    xs = np.array(data.draw(st.lists(xs_for(r), min_size=2, max_size=6)))
    if not all(away_from_kinks(r, x) for x in xs):
        return
    w = np.linspace(0.5, 1.5, xs.size)
    g, = dn.gradient(lambda t: np.sum(w * apply(r, t)), xs)
    fd = np.array([w[i] * central(lambda t: float(r.f(t)), x) for i, x in enumerate(xs)])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5)
    if r.smooth:
        H = dn.hessian(lambda t: np.sum(w * apply(r, t)), xs)
        fd2 = np.array([w[i] * central(lambda t: dn.derivative(lambda s: apply(r, s), t), x, 1e-5)
                        for i, x in enumerate(xs)])
        np.testing.assert_allclose(H, np.diag(fd2), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("r", [r for r in UNARY if isinstance(r.f, np.ufunc)], ids=lambda r: r.name)
def test_numpy_dispatch_uses_the_rule(r):
    """np.sin(dual) (the numpy protocol path) gives what the rule gives."""
    x = 0.5 * (r.domain[0] + r.domain[1]) + 0.123
    a = r.f(dn.Dual(x, 1.0, 2.0))
    b = apply(r, dn.Dual(x, 1.0, 2.0))
    assert a.partials == pytest.approx(b.partials)
    arr = r.f(dn.DualArray([x, x], [[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_allclose(arr.partials, np.diag([b.partials[0]] * 2))


def near_binary_kink(r, x, y):
    """A finite difference would straddle a kink or jump: max/min at x = y, the remainders at x/y integer."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    if r.name in ("remainder", "fmod", "floor_divide"):
        q = x / y
        return bool(np.any(np.abs(q - np.round(q)) < 1e-3 * np.maximum(1.0, np.abs(q))))
    return not r.smooth and bool(np.min(np.abs(x - y)) < 1e-3)


def binary_domain(r):
    lo, hi = r.domain
    lo2, hi2 = r.domain2 or r.domain
    return st.floats(lo, hi), st.floats(lo2, hi2)


@pytest.mark.parametrize("r", BINARY, ids=lambda r: r.name)
@SETTINGS
@given(data=st.data())
def test_binary_rule_scalar(r, data):
    sx, sy = binary_domain(r)
    x, y = data.draw(sx), data.draw(sy)
    if near_binary_kink(r, x, y):
        return
    gx, gy = dn.gradient(lambda a, b: apply(r, a, b), x, y)
    assert gx == pytest.approx(central(lambda t: float(r.f(t, y)), x), rel=1e-5, abs=1e-5)
    assert gy == pytest.approx(central(lambda t: float(r.f(x, t)), y), rel=1e-5, abs=1e-5)
    if r.smooth:
        H = dn.hessian(lambda v: apply(r, v[0], v[1]), np.array([x, y]))
        for i in range(2):
            def gi(t, i=i):
                return dn.gradient(lambda a, b: apply(r, a, b), *t)[i]
            fd = [(gi([x + 1e-5, y]) - gi([x - 1e-5, y])) / 2e-5, (gi([x, y + 1e-5]) - gi([x, y - 1e-5])) / 2e-5]
            np.testing.assert_allclose(H[i], fd, rtol=1e-4, atol=1e-4)
        assert H[0, 1] == pytest.approx(H[1, 0], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("r", BINARY, ids=lambda r: r.name)
@SETTINGS
@given(data=st.data())
def test_binary_rule_array_broadcasting(r, data):
    """x of shape (3,) against y of shape (2, 3): the gradient of x sums over the broadcast rows."""
    sx, sy = binary_domain(r)
    x = np.array([data.draw(sx) for _ in range(3)])
    y = np.array([[data.draw(sy) for _ in range(3)] for _ in range(2)])
    if near_binary_kink(r, x, y):
        return
    w = np.arange(1.0, 7.0).reshape(2, 3) / 6
    gx, gy = dn.gradient(lambda a, b: np.sum(w * apply(r, a, b)), x, y)
    fx = np.array([sum(w[i, j] * central(lambda t: float(r.f(t, y[i, j])), x[j]) for i in range(2))
                   for j in range(3)])
    fy = np.array([[w[i, j] * central(lambda t: float(r.f(x[j], t)), y[i, j]) for j in range(3)] for i in range(2)])
    np.testing.assert_allclose(gx, fx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gy, fy, rtol=1e-5, atol=1e-5)


def test_every_rule_has_documented_math():
    for r in rules.RULES.values():
        assert r.math, r.name
        assert all(callable(p) or isinstance(p, (int, float)) for p in r.partials), r.name


def test_issue_list_is_covered():
    names = ("add subtract multiply true_divide power negative absolute sqrt cbrt square reciprocal exp exp2 "
             "expm1 log log2 log10 log1p sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh "
             "arccosh arctanh hypot logaddexp maximum minimum clip where sign floor ceil rint").split()
    missing = [n for n in names if n not in rules.RULES]
    assert not missing


# ---- the inlined arithmetic of Dual agrees with the table ------------------------------------------------------
OPS = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
       "true_divide": lambda a, b: a / b, "power": lambda a, b: a ** b}


@pytest.mark.parametrize("name", list(OPS))
@SETTINGS
@given(x=st.floats(0.2, 3), y=st.floats(0.2, 3), p=st.floats(-2, 2), q=st.floats(-2, 2))
def test_dual_fast_paths_match_the_table(name, x, y, p, q):
    from dualnum.forward.dual import apply_scalar
    r = rules.RULES[name]
    for a, b in [(dn.Dual(x, p, 1.0), dn.Dual(y, q, 0.5)), (dn.Dual(x, p), y), (x, dn.Dual(y, q)),
                 (dn.Dual(x, p), 2), (dn.Dual(x, p), 3)]:
        fast = OPS[name](a, b)
        slow = apply_scalar(r, (a, b))
        assert fast.value == pytest.approx(slow.value, rel=1e-12)
        assert fast.partials == pytest.approx(slow.partials, rel=1e-12, abs=1e-12)


# ---- conventions at kinks and special points --------------------------------------------------------------------
def test_abs_slope_at_zero_is_plus_one():
    assert dn.derivative(abs, 0.0) == 1.0
    assert dn.derivative(np.abs, 0.0) == 1.0
    assert dn.derivative(abs, -2.0) == -1.0


def test_maximum_minimum_split_ties():
    assert dn.gradient(lambda x, y: np.maximum(x, y), 1.0, 1.0) == (0.5, 0.5)
    assert dn.gradient(lambda x, y: np.minimum(x, y), 1.0, 1.0) == (0.5, 0.5)
    assert dn.derivative(lambda x: np.maximum(x, x), 1.0) == 1.0
    g, = dn.gradient(lambda x: np.max(x), [1.0, 3.0, 3.0])
    np.testing.assert_array_equal(g, [0, 0.5, 0.5])


def test_clip_is_inclusive_and_bounds_differentiable():
    assert dn.derivative(lambda x: np.clip(x, 0.0, 1.0), 1.0) == 1.0
    assert dn.derivative(lambda x: np.clip(x, 0.0, 1.0), 1.5) == 0.0
    assert dn.derivative(lambda lo: np.clip(-1.0, lo, 1.0), 0.0) == 1.0
    assert dn.derivative(lambda hi: np.clip(2.0, 0.0, hi), 1.0) == 1.0


def test_relu_slope_zero_at_zero_as_flux():
    assert dn.derivative(dn.relu, 0.0) == 0.0
    assert dn.derivative(dn.relu, 2.0) == 1.0


def test_power_special_cases():
    # 0 ** y: derivative in y is 0 (the limit from the right), in x it is y*0**(y-1)
    assert dn.derivative(lambda y: 0.0 ** y, 2.0) == 0.0
    assert dn.derivative(lambda x: x ** 2, 0.0) == 0.0
    assert dn.derivative(lambda x: x ** 0, 0.0) == 0.0
    assert dn.derivative(lambda x: x ** 0.0, 0.0) == 0.0
    # negative base with integer exponents, int and float
    assert dn.derivative(lambda x: x ** 3, -2.0) == 12.0
    assert dn.derivative(lambda x: x ** 3.0, -2.0) == pytest.approx(12.0)
    assert dn.derivative(lambda x: x ** -1, -2.0) == pytest.approx(-0.25)
    g, = dn.gradient(lambda x: np.sum(x ** 2), [-1.0, -3.0])
    np.testing.assert_allclose(g, [-2, -6])
    # dual exponent
    assert dn.derivative(lambda y: 2.0 ** y, 3.0) == pytest.approx(8 * math.log(2))
    assert dn.derivative(lambda x: x ** x, 2.0) == pytest.approx(4 * (math.log(2) + 1))
    # sqrt at 0 is infinite slope, like every other library
    assert dn.derivative(np.sqrt, 0.0) == math.inf


def test_zero_derivative_rules():
    for f in (np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc):
        assert dn.derivative(f, 1.3) == 0.0
        g, = dn.gradient(lambda x: np.sum(f(x) * x), [1.3, -2.7])
        np.testing.assert_allclose(g, f(np.array([1.3, -2.7])))  # product rule, f' = 0
