"""Ordinary numpy array code in both modes, first and second order: arrays built from differentiable scalars,
in-place operators, padding, selecting, reordering, sinc/ldexp, linspace, gradient, interp, scipy.special.

Each scalar function below is checked against central differences of the same code on plain floats: its
gradient in forward mode (DualArray and, for scalars, Dual) and in reverse mode (the tracker), and its Hessian
forward over forward, forward over reverse and by central differences of the gradient.
"""
import warnings

import numpy as np
import pytest

import dualnum
from dualnum import tracker

H = 1e-6


def central_gradient(f, x, h=H):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def check(f, x, second=True, rtol=1e-5, atol=1e-6):
    """f's gradient in both modes, and its Hessian by both mixed orders, against central differences."""
    x = np.asarray(x, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = central_gradient(f, x)
        fwd, = dualnum.gradient(f, x)
        rev, = tracker.gradient(f, x)
        np.testing.assert_allclose(np.asarray(fwd, dtype=float), ref, rtol=rtol, atol=atol, err_msg="forward")
        np.testing.assert_allclose(np.asarray(dualnum.value(rev), dtype=float), ref, rtol=rtol, atol=atol,
                                   err_msg="reverse")
        if not second:
            return
        hff = dualnum.hessian(f, x)
        hfr = dualnum.hessian(f, x, method="forward-over-reverse")
        href = np.stack([central_gradient(lambda v: dualnum.gradient(f, v)[0][i], x, 1e-5)
                         for i in range(x.size)])
        np.testing.assert_allclose(hff, href, rtol=1e-4, atol=1e-4, err_msg="forward over forward")
        np.testing.assert_allclose(hfr, hff, rtol=1e-8, atol=1e-8, err_msg="forward over reverse")


X = np.array([0.7, -1.3, 2.1, 0.4])

# ---- arrays built from differentiable scalars ---------------------------------------------------------------

BUILDERS = {
    "np.array of scalars and a float": lambda x: np.sum(np.array([x[0] * x[1], x[2] ** 2, 3.0]) ** 2),
    "nested lists": lambda x: np.sum(np.array([[x[0], 1.0], [x[1] * x[3], x[2]]]) ** 3),
    "np.asarray of a list": lambda x: np.sum(np.asarray([x[0], x[1] * x[3], 2.0]) * x[1:]),
    "object array times an array": lambda x: np.sum(x[:2] * np.array([x[2], 1.0])),
    "array times object array": lambda x: np.sum(np.array([x[2], 1.0]) * x[:2]),
    "object array @ array": lambda x: np.sum(np.array([[x[0], x[1]], [1.0, x[2]]]) @ x[:2]),
    "array @ object array": lambda x: np.sum(x[:2] @ np.array([[x[0], x[1]], [1.0, x[2]]])),
    "ufuncs on an object array": lambda x: np.sum(np.exp(np.array([x[0], x[1] * x[2]])) +
                                                  np.arctan2(np.array([x[0], x[3]]), 2.0)),
    "np.sin of a list": lambda x: np.sum(np.sin([x[0], x[1]])),
    "np.mean, var, std of object arrays": lambda x: (np.mean(np.array([x[0] * x[1], x[2], 1.0]) ** 2)
                                                     + np.var(np.array([x[0] * x[1], x[2], 1.0]))
                                                     + np.std(np.array([x[0], x[3] ** 2]))),
    "np.stack of scalars": lambda x: np.sum(np.stack([x[0], x[2] * x[3], 1.0]) ** 3),
    "np.stack of an object array": lambda x: np.sum(np.stack([np.array([x[0], x[1]]), x[2:]]) ** 3),
    "np.concatenate with a list": lambda x: np.sum(np.concatenate([x[:2], [x[2] * x[3], 1.0]]) ** 3),
    "np.hstack of scalars": lambda x: np.sum(np.hstack([x[0], x[2] * x[3], 1.0]) ** 3),
    "np.vstack with a list": lambda x: np.sum(np.vstack([x[:2], [x[2] * x[3], 1.0]]) ** 3),
    "np.column_stack with a list": lambda x: np.sum(np.column_stack([x[:2], [x[2] * x[3], 1.0]]) ** 3),
    "np.dstack of scalars": lambda x: np.sum(np.dstack([x[0], x[1] * x[2]]) ** 3),
    "np.r_ of scalars": lambda x: np.sum(np.r_[x[0], x[1] * 2, 1.0] ** 3),
    "np.atleast_2d of a scalar": lambda x: np.sum(np.atleast_2d(x[0] * x[1]) ** 3),
    "np.atleast_3d of a scalar": lambda x: np.sum(np.atleast_3d(x[0] * x[1]) ** 3),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_arrays_built_from_scalars(name):
    check(BUILDERS[name], X)


@pytest.mark.parametrize("trick", ["r_", "c_"])
def test_index_tricks_of_arrays_name_themselves(trick):
    f = (lambda x: np.sum(np.r_[x, x])) if trick == "r_" else (lambda x: np.sum(np.c_[x, x]))
    for grad in (dualnum.gradient, tracker.gradient):
        with pytest.raises(TypeError, match=rf"np\.{trick}\[\.\.\.\].*np\.(concatenate|column_stack)"):
            grad(f, X)


# ---- in-place operators on intermediates ----------------------------------------------------------------------

def in_place(x):
    y = x * 1
    y += 1
    y[x > 0] *= 2
    y[1:] -= x[:-1]
    y /= 3
    y[::2] **= 2
    return np.sum(y ** 2)


def in_place_view(x):
    y = x ** 2
    v = y[1:]  # a view: the writes into y reach it, as in numpy
    y *= x
    v += x[:-1]
    return np.sum(y * np.arange(1.0, 5.0)) + np.sum(v)


def in_place_nested_views(x):
    y = x * 1.0
    v = y[1:]
    w = v[::2]  # a view of a view: a write of second-order terms through it reaches y
    w *= w
    t = np.reshape(y, (2, 2)).T
    t *= x[:2]
    return np.sum(y * np.arange(1.0, 5.0))


def in_place_rebinding(x):
    y = x * 1
    y += 1
    y *= x
    y -= x[::-1]
    y /= 3
    y **= 2
    return np.sum(y)


@pytest.mark.parametrize("f", [in_place_view, in_place_nested_views], ids=lambda f: f.__name__)
def test_in_place_writes_through_views_in_forward_mode(f):
    # (the tracker has no views: there y *= x rebinds y, as JAX's arrays do, and v keeps the old values)
    ref = central_gradient(f, X)
    np.testing.assert_allclose(dualnum.gradient(f, X)[0], ref, rtol=1e-5, atol=1e-6)
    href = np.stack([central_gradient(lambda v: dualnum.gradient(f, v)[0][i], X, 1e-5) for i in range(X.size)])
    np.testing.assert_allclose(dualnum.hessian(f, X), href, rtol=1e-4, atol=1e-4)


def copy_then_write(x):
    y = x.copy()
    y[0] = 0.0
    y[-1] = x[0] * x[1]
    y[:2] = [x[2] * 2.0, 1.0]  # a list holding a dual: its derivative is written too
    return np.sum(y ** 3)


def recurrence(x):
    y = x * 1.0
    for i in range(1, 4):
        y[i] = y[i - 1] * x[i] + 1.0
    return np.sum(y ** 2)


def fancy_writes(x):
    y = np.reshape(x * 1.0, (2, 2))
    y[:, 0] = x[2:] ** 2
    y[[1, 0], [1, 1]] = np.array([3.0, x[0]])
    y[y > 1.0] -= 0.5
    return np.sum(y ** 3)


@pytest.mark.parametrize("f", [in_place, copy_then_write, recurrence, fancy_writes], ids=lambda f: f.__name__)
def test_item_writes_into_intermediates_in_both_modes(f):
    check(f, X)


def stale_read(x):
    y = x * 1.0
    a = y[0] * 2.0  # recorded from y before the write, kept: it would see the new y
    y[1] = 5.0
    return a + np.sum(y)


def another_name(x):
    y = x * 1.0
    z = y
    y[1] = 5.0
    return np.sum(z)


def repeated_index(x):
    y = x * 1.0
    y[[0, 0]] = x[1:3]
    return np.sum(y)


def into_the_input(x):
    x[0] = 1.0
    return np.sum(x)


@pytest.mark.parametrize("f,why", [(stale_read, "used by operations recorded before"),
                                   (another_name, "another name"), (repeated_index, "repeats an element"),
                                   (into_the_input, "an input")], ids=lambda a: getattr(a, "__name__", ""))
def test_item_writes_the_tracker_cannot_record_refuse(f, why):
    np.testing.assert_allclose(dualnum.gradient(f, X)[0], central_gradient(f, X), atol=1e-6)  # forward: numpy's
    with pytest.raises(TypeError, match=rf"reverse mode: .*{why}.*np\.where"):
        tracker.gradient(f, X)


def test_in_place_operators_rebind_in_both_modes():
    check(in_place_rebinding, X)


# ---- elementwise: sinc, ldexp ------------------------------------------------------------------------------------

def test_sinc_first_and_second_derivative_at_zero_and_away():
    # sinc'(0) = 0, sinc''(0) = -π²/3 (the Taylor series 1 - (πx)²/6 + ...): closed forms, in every mode
    x = np.array([0.0, -0.0, 0.004, 0.3, -1.7, 2.0])
    for grad in (dualnum.gradient, tracker.gradient):
        g = np.asarray(dualnum.value(grad(lambda v: np.sum(np.sinc(v)), x)[0]))
        np.testing.assert_allclose(g[:2], 0.0, atol=1e-15)
        np.testing.assert_allclose(g[2:], (np.cos(np.pi * x[2:]) - np.sinc(x[2:])) / x[2:], rtol=1e-12)
    for method in ("forward-over-forward", "forward-over-reverse"):
        kw = {} if method == "forward-over-forward" else {"method": method}
        h = dualnum.hessian(lambda v: np.sum(np.sinc(v)), x, **kw)
        np.testing.assert_allclose(np.diag(h)[:2], -np.pi ** 2 / 3, rtol=1e-12)
    assert dualnum.derivative(np.sinc, 0.0) == 0.0  # the scalar Dual
    assert dualnum.derivative(lambda t: dualnum.derivative(np.sinc, t), 0.0) == pytest.approx(-np.pi ** 2 / 3)
    check(lambda v: np.sum(np.sinc(v) * v), np.array([0.0, 0.005, 0.3, -1.7]))


def test_ldexp_scales_by_a_power_of_two():
    n = np.array([1, -2, 3, 0])
    check(lambda v: np.sum(np.ldexp(v, n) ** 2), X)
    check(lambda v: np.sum(np.ldexp(v * v, 3)), X)
    assert dualnum.derivative(lambda t: np.ldexp(t, 3), 1.5) == 8.0
    for grad in (dualnum.gradient, tracker.gradient):
        with pytest.raises(TypeError, match="integer"):
            grad(lambda v: np.sum(np.ldexp(v, 2.5)), X)


# ---- gathers, reordering, padding, selecting: first and second order in both modes ---------------------------------

W4 = np.array([1.0, -2.0, 0.5, 3.0])
COMPOSED = {
    "take": lambda x: np.sum(np.take(x * x, [0, 2, 2, -1]) * W4),
    "take axis mode=wrap": lambda x: np.sum(np.take(np.reshape(x ** 3, (2, 2)), [3, 0], axis=1, mode="wrap")),
    "take keywords": lambda x: np.sum(np.take(a=np.sin(x), indices=[1, 1]) ** 2),
    "diag(v=...)": lambda x: np.sum(np.diag(v=x ** 2, k=1) ** 2),
    "flip(m=...)": lambda x: np.sum(np.flip(m=x ** 2) * W4),
    "rollaxis": lambda x: np.sum(np.rollaxis(np.reshape(x ** 2, (2, 2, 1)), 2) * np.reshape(W4, (1, 2, 2))),
    "matrix_transpose": lambda x: np.sum(np.matrix_transpose(np.reshape(x ** 3, (2, 2))) * np.reshape(W4, (2, 2))),
    "delete": lambda x: np.sum(np.delete(x ** 3, [1]) * W4[:3]),
    "resize": lambda x: np.sum(np.resize(x ** 2, 6) * np.arange(6.0)),
    "unstack": lambda x: np.sum(np.unstack(np.reshape(x, (2, 2)) ** 3)[1]),
    "diagflat": lambda x: np.sum(np.diagflat(x ** 2, k=1) * np.arange(25.0).reshape(5, 5)),
    "compress": lambda x: np.sum(np.compress([False, True], np.reshape(x, (2, 2)) ** 3, axis=1)),
    "extract": lambda x: np.sum(np.extract(x > 0, x ** 3)),
    "block": lambda x: np.sum(np.block([[np.reshape(x, (2, 2)), x[:2, None] ** 2], [x[None, 1:] ** 3]])
                              * np.arange(9.0).reshape(3, 3)),
    "block of scalars": lambda x: np.sum(np.block([x[:2], 1.0, x[3] * 2]) ** 3),
    "partition": lambda x: np.sum(np.partition(x ** 3, 1) * W4),
    "partition axis=None": lambda x: np.sum(np.partition(np.reshape(x ** 3, (2, 2)), 2, axis=None) * W4),
    "sort by argsort indices": lambda x: np.sum(x[np.argsort(dualnum.value(x))] ** 3 * W4),
    "take_along_axis(argsort)": lambda x: np.sum(np.take_along_axis(x ** 3, np.argsort(dualnum.value(x)), 0) * W4),
    "pad constant": lambda x: np.sum(np.pad(x ** 2, (1, 2), constant_values=(3.0, 4.0)) ** 2 * np.arange(7.0)),
    "pad reflect": lambda x: np.sum(np.pad(x ** 2, 2, mode="reflect") * np.arange(8.0)),
    "pad symmetric 2-d": lambda x: np.sum(np.pad(np.reshape(x, (2, 2)) ** 3, ((1, 0), (0, 2)), mode="symmetric")
                                          * np.arange(12.0).reshape(3, 4)),
    "pad wrap": lambda x: np.sum(np.pad(x ** 3, 3, mode="wrap") * np.arange(10.0)),
    "pad edge": lambda x: np.sum(np.pad(x ** 3, (2, 1), mode="edge") * np.arange(7.0)),
    "select": lambda x: np.sum(np.select([x > 1, x < 0], [x ** 2, -x ** 3], default=x * 3)),
    "nested where": lambda x: np.sum(np.where(x > 1, x ** 2, np.where(x < 0, -x ** 3, np.sin(x)))),
    "piecewise": lambda x: np.sum(np.piecewise(x, [x > 1, x < 0], [np.square, lambda v: -v ** 3, np.sin])),
    "piecewise with a constant": lambda x: np.sum(np.piecewise(x, [x > 0.5], [np.exp, 2.0]) * W4),
}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_composed_array_functions_in_both_modes(name):
    check(COMPOSED[name], X)


def test_partition_puts_the_kth_value_in_place_and_its_derivative_follows():
    x = np.array([3.0, -1.0, 2.0, 0.5])
    for grad in (dualnum.gradient, tracker.gradient):
        g, = grad(lambda v: np.partition(v, 1)[1], x)  # the second smallest: 0.5, element 3
        np.testing.assert_array_equal(np.asarray(dualnum.value(g)), [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("mode", ["maximum", "linear_ramp"])
def test_pad_modes_that_compute_refuse_naming_the_mode(mode):
    for grad, word in ((dualnum.gradient, "forward"), (tracker.gradient, "reverse")):
        with pytest.raises(TypeError, match=rf"np\.pad\(mode='{mode}'\).*{word}"):
            grad(lambda v: np.sum(np.pad(v, 1, mode=mode)), X)


# ---- grids with differentiable ends, numerical gradients, interpolation ---------------------------------------------

XP, FP = np.array([-1.5, -0.2, 0.4, 1.1, 2.5]), np.array([0.3, -1.0, 2.0, 0.5, 1.5])
GRIDS = {
    "linspace(a, b)": lambda x: np.sum(np.linspace(x[0], x[1], 5) ** 2 * np.arange(5.0)),
    "linspace of arrays, axis=1": lambda x: np.sum(np.linspace(x[:2], x[2:] ** 2, 4, axis=1) ** 2
                                                   * np.arange(8.0).reshape(2, 4)),
    "linspace without the endpoint": lambda x: np.sum(np.linspace(x[0], 3.0, 5, endpoint=False) ** 3),
    "linspace retstep": lambda x: np.linspace(x[0], x[3] ** 2, 7, retstep=True)[1] ** 2,
    "logspace": lambda x: np.sum(np.logspace(x[0], x[3], 4) * np.arange(4.0)),
    "gradient": lambda x: np.sum(np.gradient(x ** 2) ** 2 * W4),
    "gradient edge_order=2, spacing": lambda x: np.sum(np.gradient(x ** 3, 0.5, edge_order=2) ** 2 * W4),
    "gradient coordinates": lambda x: np.sum(np.gradient(x ** 2, np.array([0.0, 1.0, 1.5, 3.5]), edge_order=2)
                                             ** 2 * W4),
    "gradient of a matrix, both axes": lambda x: sum(np.sum(g ** 2 * np.reshape(W4, (2, 2)))
                                                     for g in np.gradient(np.reshape(x, (2, 2)) ** 3)),
    "gradient, differentiable spacing": lambda x: np.sum(np.gradient(np.sin(x), x[0] ** 2) * W4),
    "interp in x": lambda x: np.sum(np.interp(x + 0.05, XP, FP) ** 2 * W4),  # (X[3] is a knot: a kink)
    "interp in fp": lambda x: np.sum(np.interp(np.array([-3.0, 0.1, 2.0, 9.0]), XP[:4], x ** 3) * W4),
    "interp left/right": lambda x: np.sum(np.interp(x * 2.0, XP, FP, left=-1.0, right=7.0) * W4),
    "interp period": lambda x: np.sum(np.interp(x + 0.05, XP, FP, period=4.0) ** 2 * W4),
}


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_grids_gradients_interpolation_in_both_modes(name):
    check(GRIDS[name], X)


def test_interp_slope_is_the_segment_slope():
    x = np.array([-0.1, 0.9, 3.0, -2.0])  # two inside, two outside [xp[0], xp[-1]] (slope 0 there)
    expect = [(FP[2] - FP[1]) / (XP[2] - XP[1]), (FP[3] - FP[2]) / (XP[3] - XP[2]), 0.0, 0.0]
    for grad in (dualnum.gradient, tracker.gradient):
        g, = grad(lambda v: np.sum(np.interp(v, XP, FP)), x)
        np.testing.assert_allclose(np.asarray(dualnum.value(g)), expect, rtol=1e-12)
    assert dualnum.derivative(lambda t: np.interp(t, XP, FP), 0.9) == pytest.approx(expect[1])


def test_interp_in_its_knots_refuses_in_both_modes():
    for grad, word in ((dualnum.gradient, "forward"), (tracker.gradient, "reverse")):
        with pytest.raises(TypeError, match=rf"np\.interp.*knots xp.*{word}"):
            grad(lambda v: np.interp(0.3, v, FP[:4]), X)


def test_linspace_ends_move_the_points():
    # d/da of linspace(a, b, n)[i] = 1 - i/(n-1), d/db = i/(n-1): a closed form, in both modes and for a Dual
    n = 5
    t = np.arange(n) / (n - 1)
    for grad in (dualnum.gradient, tracker.gradient):
        for i in range(n):
            ga, gb = grad(lambda a, b: np.linspace(a, b, n)[i], 0.3, 2.0)
            assert (float(dualnum.value(ga)), float(dualnum.value(gb))) == pytest.approx((1 - t[i], t[i]))


# ---- reductions: var/std with ddof, cumprod, nan-skipping, weighted average ---------------------------------------

REDUCTIONS = {
    "var ddof=1": lambda x: np.var(x ** 2, ddof=1),
    "std ddof=n-1": lambda x: np.std(np.sin(x), ddof=3),
    "var axis ddof": lambda x: np.sum(np.var(np.reshape(x, (2, 2)) ** 2, axis=0, ddof=1) * W4[:2]),
    # (the NaN is put in after the powers: a NaN through x ** 2 makes the tracker's gradient NaN there, as JAX's)
    "nanstd ddof=1": lambda x: np.nanstd(np.where(x > 2.0, np.nan, x ** 2), ddof=1),
    "cumprod": lambda x: np.sum(np.cumprod(x) * W4),
    "cumprod axis": lambda x: np.sum(np.cumprod(np.reshape(x, (2, 2)), axis=1) ** 2),
    "nanmean, nansum, nanmax": lambda x: (np.nanmean(np.where(x < 0, np.nan, x ** 2))
                                          + np.nansum(np.where(x > 2, np.nan, x ** 3))
                                          + np.nanmax(np.where(x > 2, np.nan, x * x))),
    "average with differentiable weights": lambda x: np.average(x[:2] ** 2, weights=x[2:] ** 2),
    "average axis, weights, returned": lambda x: np.sum(np.average(np.reshape(x, (2, 2)) ** 3, axis=1,
                                                                   weights=np.exp(x[:2]), returned=True)[0]),
    "mod, divide, true_divide": lambda x: np.sum(np.mod(x, 0.6) + np.divide(x, 0.7) * np.true_divide(x, 3.0)),
    "conj, real, imag": lambda x: np.sum(np.conj(x) * np.real(x) ** 2 + np.imag(x)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_in_both_modes(name):
    check(REDUCTIONS[name], X)


@pytest.mark.parametrize("f", [np.var, np.std], ids=lambda f: f.__name__)
def test_no_degree_of_freedom_left_is_a_constant_in_both_modes(f):
    # ddof >= n: numpy's inf whatever x is (a constant function): derivative 0, the same in every mode
    def loss(v, ddof):
        return np.sum(v * v) + np.minimum(f(v, ddof=ddof), 1.0)
    for ddof in (4, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert np.isinf(dualnum.value(f(dualnum.DualArray(X, np.eye(4)), ddof=ddof)))
            for grad in (dualnum.gradient, tracker.gradient):
                g, = grad(lambda v: loss(v, ddof), X)
                np.testing.assert_array_equal(np.asarray(dualnum.value(g), dtype=float), 2 * X)


# ---- scipy.special (optional) ------------------------------------------------------------------------------------

SPECIAL = {  # name -> (scalar function of x built from it, a point)
    "expit": (lambda sp: lambda x: np.sum(sp.expit(x * 2.0) ** 2), X),
    "logit": (lambda sp: lambda x: np.sum(sp.logit(x) ** 2), np.array([0.3, 0.6, 0.45, 0.8])),
    "erf, erfc": (lambda sp: lambda x: np.sum(sp.erf(x) * sp.erfc(x * 0.5)), X),
    "gammaln": (lambda sp: lambda x: np.sum(sp.gammaln(x * x + 0.5)), X),
    "digamma": (lambda sp: lambda x: np.sum(sp.digamma(x + 3.0) ** 2), X),
    "xlogy": (lambda sp: lambda x: np.sum(sp.xlogy(x, x ** 2 + 0.5)), X),
    "xlog1py": (lambda sp: lambda x: np.sum(sp.xlog1py(x ** 2, np.abs(x) * 0.3)), X),
    "zeta in q": (lambda sp: lambda x: np.sum(sp.zeta(2.0, x + 3.0)), X),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_scipy_special_in_both_modes(name):
    sp = pytest.importorskip("scipy.special")
    make, x = SPECIAL[name]
    check(make(sp), x)


def test_scipy_special_closed_forms_and_refusals():
    sp = pytest.importorskip("scipy.special")
    from dualnum import rules
    assert rules.scipy_rules() and all(n in rules.RULES for n in ("expit", "erf", "gammaln", "xlogy"))
    # d³ ln Γ = ψ₂ (polygamma(2)): three levels of forward mode through the table's ψ and ζ rules
    d3 = dualnum.derivative(lambda t: dualnum.derivative(lambda u: dualnum.derivative(sp.gammaln, u), t), 2.0)
    assert d3 == pytest.approx(sp.polygamma(2, 2.0), rel=1e-12)
    assert dualnum.derivative(sp.erf, 0.3) == pytest.approx(2 / np.sqrt(np.pi) * np.exp(-0.09), rel=1e-14)
    for grad in (dualnum.gradient, tracker.gradient):
        g, = grad(lambda v: np.sum(sp.xlogy(0.0, v)), np.array([0.5, 2.0]))  # 0·log y: no derivative in y
        np.testing.assert_array_equal(np.asarray(dualnum.value(g)), 0.0)
        with pytest.raises(TypeError, match=r"zeta\(s, q\).*in s"):
            grad(lambda s: np.sum(sp.zeta(s, 2.0)), np.array([3.0]))
    from dualnum.backends import kernels
    assert not any(r.name in ("expit", "erf", "gammaln") for r in kernels.kernel_rules())  # numba: numpy serves


def test_arange_with_a_differentiable_start_says_what_to_write():
    # numpy's arange does not dispatch: it takes float(start), which refuses; the message gives the rewrite
    for grad in (dualnum.gradient, tracker.gradient):
        with pytest.raises(TypeError, match=r"np\.arange.*start \+ step \* np\.arange\(n\)"):
            grad(lambda v: np.sum(np.arange(v[0], 5.0)), X)
    check(lambda v: np.sum((v[0] + 0.5 * np.arange(4.0)) ** 2 * v), X)  # the rewrite, in both modes


def test_a_loss_returned_as_an_object_array_is_right():
    # np.array(x) of a tracked scalar is an object array holding x: never a constant loss (gradient 0)
    assert float(tracker.gradient(lambda v: np.array(v), 1.5)[0]) == 1.0
    assert dualnum.derivative(lambda v: np.array(v), 1.5) == 1.0
    with pytest.raises(TypeError, match="array of objects holding tracked values"):
        dualnum.value(np.array([tracker.param(1.5), 2.0]))  # the numbers alone would drop the derivative
    for grad in (dualnum.gradient, tracker.gradient):
        assert float(dualnum.value(grad(lambda v: np.array(v * 2.0) + 1.0, 1.5)[0])) == 2.0
        assert float(dualnum.value(grad(lambda v: np.array([v, v * v])[1], 1.5)[0])) == 3.0


def test_a_write_into_a_scalar_refuses_as_numpy_does():
    def f(x):
        s = x[0] * 2.0  # numpy: a numpy scalar, which does not support item assignment
        s[()] = x[1] ** 2
        return s * 3.0
    with pytest.raises(TypeError, match="does not support item assignment"):
        f(np.array([1.0, 2.0]))
    for grad in (dualnum.gradient, tracker.gradient):
        with pytest.raises(TypeError, match="does not support item assignment"):
            grad(f, np.array([1.0, 2.0]))
