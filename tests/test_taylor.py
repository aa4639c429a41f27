"""Taylor mode, derivatives(f, x, n): against nested derivative for every rule of the table, against closed forms
and Cauchy's integral (an FFT of f on a complex circle) to order 20, against the tracker, and its cost."""
import math
import time

import numpy as np
import pytest

import dualnum
from dualnum import derivative, derivatives, rules, tracker
from dualnum.forward import taylor
from dualnum.functions import apply


def _nested(f, x, n):
    return np.array([float(np.asarray(f(x)))] + [derivative(f, x, order=k) for k in range(1, n + 1)])


def _close(got, want, rtol):
    """Equal to rtol, relative to each order's own size or, for an order that is nearly 0, to its neighbours."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    scale = np.maximum(np.abs(want), 1e-3 * np.max(np.abs(want)))
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):  # (inf - inf)
        ok = both_nan | (got == want) | (np.abs(got - want) <= rtol * scale)
    assert ok.all(), f"\n got {got}\nwant {want}\n bad orders {np.flatnonzero(~ok)}"


def _point(lo, hi, frac):
    return lo + frac * (hi - lo)


def _cases():
    """(name, f, x) for every rule of the table: unary ones at two points of their domain, binary ones with
    the series in either argument and in both, clip and where with series bounds and branches."""
    try:
        rules.scipy_rules()
    except Exception:
        pass
    for r in list(rules.RULES.values()):
        lo, hi = r.domain
        lo2, hi2 = r.domain2 or r.domain
        if r.arity == 1:
            for frac in (0.37, 0.81):
                yield f"{r.name}(x) at {frac}", (lambda rr: lambda t: apply(rr, t))(r), _point(lo, hi, frac)
        elif r.arity == 2:
            c1, c2 = _point(lo, hi, 0.61), _point(lo2, hi2, 0.43)
            x1, x2 = _point(lo, hi, 0.29), _point(lo2, hi2, 0.77)
            yield f"{r.name}(x, c)", (lambda rr, c: lambda t: apply(rr, t, c))(r, c2), x1
            if r.name not in ("copysign", "heaviside"):  # (the first argument only gives a sign or a step)
                yield f"{r.name}(c, x)", (lambda rr, c: lambda t: apply(rr, c, t))(r, c1), x2
            # both arguments series: y = 2x/3 + (domain offset), staying in the second domain near x2
            a, b = x2 - 2 * x1 / 3, 2 / 3
            yield f"{r.name}(x, g(x))", (lambda rr, a, b: lambda t: apply(rr, t, a + b * t))(r, a, b), x1
    yield "clip(x, lo, hi) inside", lambda t: np.clip(t, -1.0, 2.0), 0.3
    yield "clip(x, lo, hi) above", lambda t: np.clip(t, -1.0, 0.1), 0.3
    yield "clip(x, lo(x), hi)", lambda t: np.clip(2.0, t * t, 5.0), 1.7
    yield "where(c, x², sin x)", lambda t: np.where(t > 0, t * t, np.sin(t)), 0.4
    yield "where(c, x², sin x), other branch", lambda t: np.where(t > 0, t * t, np.sin(t)), -0.4


CASES = list(_cases())


@pytest.mark.parametrize("name,f,x", CASES, ids=[c[0] for c in CASES])
def test_every_rule_agrees_with_nested_derivative(name, f, x):
    _close(derivatives(f, x, 5), _nested(f, x, 5), 1e-8)


def test_the_cases_cover_the_whole_table():
    names = {c[0].split("(")[0] for c in CASES}
    assert set(rules.RULES) <= names


# ---- the operations written out by hand agree with the table's rule for them --------------------------------------

@pytest.mark.parametrize("name,hand,args", [
    ("add", lambda u, v: u + v, "uv"), ("subtract", lambda u, v: u - v, "uv"),
    ("multiply", lambda u, v: u * v, "uv"), ("true_divide", lambda u, v: u / v, "uv"),
    ("true_divide", lambda u, v: 1.7 / v, "cv"), ("true_divide", lambda u, v: u / 1.7, "uc"),
    ("power", lambda u, v: u ** 2.5, "up"), ("power", lambda u, v: u ** 3, "u3"), ("power", lambda u, v: u ** -2, "u-2"),
    ("power", lambda u, v: u ** v, "uv"), ("power", lambda u, v: 1.7 ** v, "cv"),
    ("negative", lambda u, v: -u, "u"), ("square", lambda u, v: np.square(u), "u"),
])
def test_the_hand_written_operations_are_the_tables_rules(name, hand, args):
    u = lambda t: np.sin(t) + 2.0  # noqa: E731  (series with every coefficient nonzero)
    v = lambda t: np.exp(t / 2)  # noqa: E731
    rule = rules.RULES[name]
    generic = {"uv": lambda t: (u(t), v(t)), "cv": lambda t: (1.7, v(t)), "uc": lambda t: (u(t), 1.7),
               "up": lambda t: (u(t), 2.5), "u3": lambda t: (u(t), 3.0), "u-2": lambda t: (u(t), -2.0),
               "u": lambda t: (u(t),)}[args]
    by_hand = taylor.coefficients(lambda t: hand(u(t), v(t)), 0.4, 12)
    by_rule = taylor.coefficients(lambda t: taylor._Rule(rule, generic(t)), 0.4, 12)
    _close(by_hand, by_rule, 1e-11)


# ---- closed forms to order 20 ------------------------------------------------------------------------------

def _falling(p, k):
    return math.prod(p - i for i in range(k))


X0 = 0.7
CLOSED = {
    "exp": (np.exp, lambda k: math.exp(X0)),
    "sin": (np.sin, lambda k: math.sin(X0 + k * math.pi / 2)),
    "cos": (np.cos, lambda k: math.cos(X0 + k * math.pi / 2)),
    "1/(1-x)": (lambda x: 1 / (1 - x), lambda k: math.factorial(k) / (1 - X0) ** (k + 1)),
    "log(1+x)": (np.log1p, lambda k: math.log1p(X0) if k == 0 else
                 (-1) ** (k - 1) * math.factorial(k - 1) / (1 + X0) ** k),
    "log": (np.log, lambda k: math.log(X0) if k == 0 else (-1) ** (k - 1) * math.factorial(k - 1) / X0 ** k),
    "sqrt": (np.sqrt, lambda k: _falling(0.5, k) * X0 ** (0.5 - k)),
    "x**2.5": (lambda x: x ** 2.5, lambda k: _falling(2.5, k) * X0 ** (2.5 - k)),
    "x**-1.5": (lambda x: x ** -1.5, lambda k: _falling(-1.5, k) * X0 ** (-1.5 - k)),
    "x**7": (lambda x: x ** 7, lambda k: _falling(7, k) * X0 ** (7 - k) if k <= 7 else 0.0),
    "2**x": (lambda x: 2 ** x, lambda k: 2 ** X0 * math.log(2) ** k),
    "x**x": (lambda x: x ** x, None),  # (only against Cauchy's integral)
    "sinh": (np.sinh, lambda k: math.sinh(X0) if k % 2 == 0 else math.cosh(X0)),
    # atan' = 1/(1+x²) = (1/(x-i) - 1/(x+i)) / 2i, whose (k-1)-th derivative is closed
    "atan": (np.arctan, lambda k: math.atan(X0) if k == 0 else
             ((-1) ** (k - 1) * math.factorial(k - 1) * ((X0 - 1j) ** -k - (X0 + 1j) ** -k) / 2j).real),
    "sin·exp": (lambda x: np.sin(x) * np.exp(x), lambda k: (((1 + 1j) ** k) * np.exp((1 + 1j) * X0)).imag),
    "sin·exp/(1+x²)": (lambda x: np.sin(x) * np.exp(x) / (1 + x ** 2), None),
}


def _tanh_derivatives(n, x):
    """tanh⁽ᵏ⁾ = Pₖ(tanh x) with P₀ = y and Pₖ₊₁ = (1 - y²)·Pₖ'(y): polynomials in y, independent of Taylor mode."""
    P = np.polynomial.Polynomial([0.0, 1.0])
    out = []
    for _ in range(n + 1):
        out.append(P(math.tanh(x)))
        P = np.polynomial.Polynomial([1.0, 0.0, -1.0]) * P.deriv()
    return np.array(out)


def _cauchy(g, x, n, r, m=128):
    """f⁽ᵏ⁾(x) = k!/(2πi) ∮ f(z)/(z-x)^(k+1) dz: an FFT of f (complex numpy) on the circle |z - x| = r."""
    z = x + r * np.exp(2j * np.pi * np.arange(m) / m)
    c = np.fft.fft(g(z)) / m
    return np.array([(c[k] / r ** k).real * math.factorial(k) for k in range(n + 1)])


@pytest.mark.parametrize("name", [k for k, (_, d) in CLOSED.items() if d is not None])
def test_closed_forms_to_order_20(name):
    f, d = CLOSED[name]
    _close(derivatives(f, X0, 20), [d(k) for k in range(21)], 1e-9)


def test_tanh_to_order_20():
    _close(derivatives(np.tanh, 0.3, 20), _tanh_derivatives(20, 0.3), 1e-9)


# (rule, point, radius, complex reference): the radius half the distance to the nearest singularity or branch cut,
# or for an entire function about where its growth balances k! (the FFT's rounding, eps·max|f|/rᵏ, stays small)
ANALYTIC = [
    ("exp", 0.3, 12.0, np.exp), ("exp2", 0.3, 12.0, np.exp2), ("expm1", 0.3, 12.0, np.expm1),
    ("log", 2.0, 1.0, np.log), ("log2", 2.0, 1.0, np.log2), ("log10", 2.0, 1.0, np.log10),
    ("log1p", 1.0, 1.0, np.log1p), ("sin", 0.3, 12.0, np.sin), ("cos", 0.3, 12.0, np.cos),
    ("tan", 0.3, 0.6, np.tan), ("arcsin", 0.3, 0.3, np.arcsin), ("arccos", 0.3, 0.3, np.arccos),
    ("arctan", 0.5, 0.5, np.arctan), ("sinh", 0.3, 12.0, np.sinh), ("cosh", 0.3, 12.0, np.cosh),
    ("tanh", 0.3, 0.7, np.tanh), ("arcsinh", 0.5, 0.5, np.arcsinh), ("arccosh", 2.0, 0.5, np.arccosh),
    ("arctanh", 0.3, 0.3, np.arctanh), ("sqrt", 2.0, 1.0, np.sqrt), ("reciprocal", 2.0, 1.0, np.reciprocal),
    ("sigmoid", 0.5, 1.5, lambda z: 1 / (1 + np.exp(-z))),
    ("cbrt", 2.0, 1.0, lambda z: np.exp(np.log(z) / 3)), ("sinc", 1.3, 4.0, np.sinc),
]


@pytest.mark.parametrize("name,x,r,ref", ANALYTIC, ids=[a[0] for a in ANALYTIC])
def test_every_smooth_unary_rule_to_order_20(name, x, r, ref):
    got = derivatives(lambda t: apply(rules.RULES[name], t), x, 20)
    assert np.all(np.isfinite(got))
    _close(got, _cauchy(ref, x, 20, r), 1e-6)


@pytest.mark.parametrize("name,f,ref,r", [  # (r: half the distance from X0 to the nearest singularity)
    ("x**x", lambda t: t ** t, lambda z: np.exp(z * np.log(z)), 0.35),
    ("sin·exp/(1+x²)", CLOSED["sin·exp/(1+x²)"][0], lambda z: np.sin(z) * np.exp(z) / (1 + z * z), 0.6),
    ("hypot(x, 2)", lambda t: np.hypot(t, 2.0), lambda z: np.sqrt(z * z + 4.0), 1.0),
    ("logaddexp(x, 0.5)", lambda t: np.logaddexp(t, 0.5), lambda z: np.log(np.exp(z) + np.exp(0.5)), 1.5),
    ("x ** sin x", lambda t: t ** np.sin(t), lambda z: np.exp(np.sin(z) * np.log(z)), 0.35),
    ("1/(2 + cos x)", lambda t: 1 / (2 + np.cos(t)), lambda z: 1 / (2 + np.cos(z)), 1.3),
], ids=lambda v: v if isinstance(v, str) else "")
def test_compositions_and_binary_rules_to_order_20(name, f, ref, r):
    _close(derivatives(f, X0, 20), _cauchy(ref, X0, 20, r), 1e-6)


def test_against_arbitrary_precision():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    for f, g in [(lambda t: np.arctan2(1.5, t), lambda z: mpmath.atan(1.5 / z)),
                 (lambda t: np.arcsin(t) / (1 + t), lambda z: mpmath.asin(z) / (1 + z))]:
        want = [float(mpmath.diff(g, mpmath.mpf(X0) / 2, k)) for k in range(21)]
        _close(derivatives(f, X0 / 2, 20), want, 1e-11)


def test_polynomials_and_linear_rules_are_exact():
    assert derivatives(np.square, 0.3, 5).tolist() == [0.09, 0.6, 2.0, 0.0, 0.0, 0.0]
    assert derivatives(lambda x: (x - 1) ** 3, 3.0, 5).tolist() == [8.0, 12.0, 12.0, 6.0, 0.0, 0.0]
    _close(derivatives(np.deg2rad, 30.0, 3), [math.pi / 6, math.pi / 180, 0.0, 0.0], 1e-15)
    _close(derivatives(lambda x: x % 0.5 + x // 0.25, 0.7, 3), [0.2 + 2.0, 1.0, 0.0, 0.0], 1e-12)


def test_scipy_rules_to_order_12():
    sp = pytest.importorskip("scipy.special")
    from scipy.special import erf
    _close(derivatives(erf, 0.4, 12), _cauchy(lambda z: sp.erf(z), 0.4, 12, 1.0), 1e-6)
    _close(derivatives(sp.gammaln, 2.5, 6), _nested(sp.gammaln, 2.5, 6), 1e-8)


# ---- the other mode, and second order -------------------------------------------------------------------------

@pytest.mark.parametrize("f", [lambda x: np.sin(x) * x ** 3, lambda x: np.exp(-x * x) / (1 + x),
                               lambda x: np.maximum(x, 0.2) * np.tanh(x)])
def test_first_and_second_order_agree_with_the_tracker(f):
    d = derivatives(f, 0.6, 2)
    g = tracker.gradient(f, 0.6)[0]
    gg = derivative(lambda t: tracker.gradient(f, t)[0], 0.6)  # forward over reverse
    assert d[1] == pytest.approx(float(dualnum.value(g)), rel=1e-12)
    assert d[2] == pytest.approx(float(dualnum.value(gg)), rel=1e-10)


def test_first_order_agrees_with_central_differences():
    f = CLOSED["sin·exp/(1+x²)"][0]
    num = dualnum.testing.numeric_gradient(f, 0.9)[0]
    assert derivatives(f, 0.9, 1)[1] == pytest.approx(num, rel=1e-7)


# ---- the language: operators, functions, constants, long programs ----------------------------------------------

def test_operators_and_functions_of_the_package():
    def f(x):
        y = abs(-x) + 2 ** x + 3.0 / x + (+x) + dualnum.sigmoid(x) + dualnum.relu(x - 0.1)
        if x > 0.5:  # comparisons act on the value
            y = y * x
        return y + np.float64(2.0) * x + np.array(1.5) * x
    _close(derivatives(f, 0.7, 5), _nested(f, 0.7, 5), 1e-10)


def test_order_zero_constants_and_plain_results():
    assert derivatives(np.sin, 0.4, 0).tolist() == [math.sin(0.4)]
    assert derivatives(lambda x: 3.0, 0.4, 3).tolist() == [3.0, 0.0, 0.0, 0.0]
    assert derivatives(lambda x: np.floor(x) + 1.0, 2.5, 2).tolist() == [3.0, 0.0, 0.0]
    assert derivatives(lambda x: x ** 0, 0.0, 2).tolist() == [1.0, 0.0, 0.0]
    assert derivatives(lambda x: x, 2, 2).tolist() == [2.0, 1.0, 0.0]  # an int x
    assert derivatives(lambda x: x * x, np.float32(3.0), 3).tolist() == [9.0, 6.0, 2.0, 0.0]
    assert derivatives(np.exp, np.array(0.0), 2).tolist() == [1.0, 1.0, 1.0]
    assert dualnum.derivatives is derivatives


def test_a_long_program_needs_no_deep_recursion():
    def f(x):
        y = x
        for _ in range(3000):
            y = y + 0.001 * np.sin(y)
        return y
    _close(derivatives(f, 0.3, 3), _nested(f, 0.3, 3), 1e-9)


def test_singular_points_give_inf_or_nan_as_nested_duals_do():
    got = derivatives(np.sqrt, 0.0, 2)
    assert got[0] == 0.0 and got[1] == np.inf and not np.isfinite(got[2])
    assert derivative(np.sqrt, 0.0) == np.inf
    # a zero base with a constant exponent: the table's formula p·x^(p-1), order by order
    _close(derivatives(lambda x: x ** 2.5, 0.0, 3), [0.0, 0.0, 0.0, derivative(lambda x: x ** 2.5, 0.0, order=3)],
           1e-12)


# ---- cost grows like n², not 2ⁿ -------------------------------------------------------------------------------

def test_the_number_of_series_does_not_grow_with_the_order():
    f = CLOSED["sin·exp/(1+x²)"][0]
    counts = []
    for n in (4, 20, 60):
        start = next(taylor._ids)
        derivatives(f, 0.5, n)
        counts.append(next(taylor._ids) - start)
    assert counts[0] == counts[1] == counts[2] < 16  # a bounded graph: each coefficient costs O(k) on it


def test_the_time_grows_like_n_squared():
    f = CLOSED["sin·exp/(1+x²)"][0]

    def best(n):
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            derivatives(f, 0.5, n)
            ts.append(time.perf_counter() - t0)
        return min(ts)
    best(10)
    ratio = best(80) / best(20)
    assert ratio < 40, ratio  # 16 for n², 2⁶⁰ for nesting; room for the constant overhead and a busy machine


# ---- errors that teach ---------------------------------------------------------------------------------------

def test_errors():
    with pytest.raises(ValueError, match="n must be an integer ≥ 0"):
        derivatives(np.sin, 1.0, -1)
    with pytest.raises(ValueError, match="n must be an integer"):
        derivatives(np.sin, 1.0, 2.5)
    with pytest.raises(ValueError, match="n must be an integer"):
        derivatives(np.sin, 1.0, True)
    with pytest.raises(TypeError, match=r"scalar x, but x has shape \(3,\).*derivative\(f, xs, order=k\)"):
        derivatives(np.sin, np.zeros(3), 2)
    with pytest.raises(TypeError, match="complex"):
        derivatives(np.sin, 1j, 2)
    with pytest.raises(TypeError, match="np.spacing"):
        derivatives(np.spacing, 1.0, 2)
    with pytest.raises(TypeError, match="np.cumsum"):
        derivatives(np.cumsum, 1.0, 2)
    with pytest.raises(TypeError, match="float"):
        derivatives(math.sin, 1.0, 2)
    with pytest.raises(TypeError, match="array of shape"):
        derivatives(lambda x: x * np.ones(3), 1.0, 2)
    with pytest.raises(TypeError, match="one number"):
        derivatives(lambda x: "no", 1.0, 2)
    with pytest.raises(TypeError, match="does not nest with dual numbers"):
        derivatives(lambda x: derivative(lambda y: x * y, 1.0), 1.0, 2)
    with pytest.raises(TypeError, match="plain number"):
        derivative(lambda x: derivatives(np.sin, x, 2)[1], 1.0)
    with pytest.raises(TypeError, match="np.add.accumulate"):
        derivatives(lambda x: np.add.accumulate(x), 1.0, 2)


# ---- high orders -----------------------------------------------------------------------------------------------

def test_high_orders():
    _close(derivatives(np.exp, 0.3, 150), np.full(151, math.exp(0.3)), 1e-12)  # k! past 1e250, cₖ below 1e-260
    _close(derivatives(lambda x: 1 / (1 - x), 0.5, 100)[[50, 100]],
           [math.factorial(50) * 2.0 ** 51, math.factorial(100) * 2.0 ** 101], 1e-12)
    # a formula that makes a new rule every order (x**2.5 at 0: the table's p·x^(p-1)) is a chain 200 deep
    d = derivatives(lambda x: x ** 2.5, 0.0, 200)
    assert d[:3].tolist() == [0.0, 0.0, 0.0] and d[3] == np.inf and d[4] == -np.inf


def test_underflowing_coefficients_warn_and_rescaling_helps():
    with pytest.warns(RuntimeWarning, match="underflow from order 171"):
        derivatives(np.exp, 0.0, 200)
    h = 10.0
    assert derivatives(lambda s: np.exp(h * s), 0.0, 200)[200] / h ** 200 == pytest.approx(1.0, rel=1e-12)
