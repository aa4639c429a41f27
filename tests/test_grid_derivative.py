"""derivative(f, xs) on a grid of points: f′, f″, … at every point in one pass of f per order, against closed forms,
the scalar derivative at each point, the tracker, central differences; and the refusal of an f that mixes
elements, whichever way it mixes them."""
import numpy as np
import pytest

import dualnum
from dualnum import derivative, gradient, tracker
from dualnum.forward import NotElementwiseError

XS = np.linspace(-2.0, 2.0, 41)
POS = np.linspace(0.2, 3.0, 29)

CLOSED = [  # f, grid, [f′, f″, f‴] (the last f‴: the scalar derivative at each point)
    (np.sin, XS, [np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)]),
    (np.exp, XS, [np.exp, np.exp, np.exp]),
    (lambda x: x ** 3, XS, [lambda x: 3 * x ** 2, lambda x: 6 * x, lambda x: 6 + 0 * x]),
    (np.tanh, XS, [lambda x: 1 - np.tanh(x) ** 2, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
                   lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2)]),
    (np.log, POS, [lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3]),
    (lambda x: np.sqrt(x) * np.sin(x), POS,
     [lambda x: np.sin(x) / (2 * np.sqrt(x)) + np.sqrt(x) * np.cos(x),
      lambda x: -np.sin(x) / (4 * x ** 1.5) + np.cos(x) / np.sqrt(x) - np.sqrt(x) * np.sin(x),
      lambda x: np.array([derivative(lambda t: np.sqrt(t) * np.sin(t), float(t), order=3) for t in x])]),
]


@pytest.mark.parametrize("f,xs,ds", CLOSED)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_closed_forms(f, xs, ds, order):
    got = derivative(f, xs, order=order)
    assert type(got) is np.ndarray and got.shape == xs.shape
    np.testing.assert_allclose(got, ds[order - 1](xs), rtol=1e-12, atol=1e-12)


ELEMENTWISE = [
    lambda x: np.where(x > 0, x ** 2, -x),
    lambda x: np.maximum(x, 0.5) * np.cos(x),
    lambda x: np.clip(x, -1.0, 1.0) ** 3,
    lambda x: dualnum.sigmoid(3 * x) + dualnum.relu(x - 0.3),
    lambda x: np.abs(x) ** 1.5 + np.hypot(x, 1.0),
    lambda x: x / (1 + x * x) + np.arctan2(x, 2.0),
    lambda x: (np.sin(x) * np.ones((3, 1)))[1],  # broadcasting out and indexing back: each point still its own
]


@pytest.mark.parametrize("f", ELEMENTWISE)
@pytest.mark.parametrize("order", [1, 2])
def test_agrees_with_the_scalar_derivative_at_each_point(f, order):
    xs = XS + 0.013  # (off the kinks at 0, ±1, 0.3 and 0.5)
    got = derivative(f, xs, order=order)
    want = [derivative(lambda t: f(np.array([t]))[0], float(x), order=order) for x in xs]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", ELEMENTWISE + [c[0] for c in CLOSED[:4]])
def test_first_and_second_order_agree_with_the_tracker(f):
    xs = XS + 0.013
    rev = tracker.gradient(lambda x: np.sum(f(x)), xs)[0]  # for an elementwise f, ∇ Σ f = f′ at each point
    np.testing.assert_allclose(derivative(f, xs), dualnum.value(rev), rtol=1e-12, atol=1e-12)
    rev2 = tracker.gradient(lambda x: np.sum(tracker.gradient(lambda y: np.sum(f(y)), x, nest=True)[0]), xs)[0]
    np.testing.assert_allclose(derivative(f, xs, order=2), dualnum.value(rev2), rtol=1e-10, atol=1e-10)


def test_agrees_with_central_differences():
    f = ELEMENTWISE[1]
    h = 1e-6
    xs = XS + 0.013
    np.testing.assert_allclose(derivative(f, xs), (f(xs + h) - f(xs - h)) / (2 * h), rtol=1e-6, atol=1e-7)


def test_one_pass_of_f_per_call_at_every_order():
    calls = []

    def f(x):
        calls.append(1)
        return np.sin(x) * x
    for order in (1, 2, 3):
        calls.clear()
        derivative(f, XS, order=order)
        assert len(calls) == 1


def test_grids_of_any_shape_lists_and_several_curves():
    g = np.linspace(0.1, 2.0, 12).reshape(3, 4)
    np.testing.assert_allclose(derivative(np.log, g), 1 / g, rtol=1e-14)
    np.testing.assert_allclose(derivative(lambda x: x * x, [1.0, 2.0, 3.0]), [2.0, 4.0, 6.0])
    s, c = derivative(lambda x: (np.sin(x), np.cos(x)), XS)
    np.testing.assert_allclose(s, np.cos(XS), rtol=1e-14)
    np.testing.assert_allclose(c, -np.sin(XS), rtol=1e-14)
    np.testing.assert_allclose(derivative(lambda x: 2.0, XS), np.zeros_like(XS))  # a constant: slope 0
    np.testing.assert_allclose(derivative(lambda x: np.zeros(x.shape), XS), np.zeros_like(XS))
    assert derivative(np.sin, np.array(0.5)) == np.cos(0.5)  # a 0-d array is a scalar, as before
    assert derivative(np.sin, np.zeros(0)).shape == (0,)


def test_the_result_is_the_callers():
    d = derivative(lambda x: x, XS)
    d[0] = 5.0  # writable, and not the seed directions of a later call
    np.testing.assert_allclose(derivative(lambda x: x, XS), np.ones_like(XS))


def test_infinite_and_nan_slopes_are_not_mistaken_for_mixing():
    x = np.array([0.0, 1.0, 4.0, -1.0])
    with np.errstate(all="ignore"):
        d = derivative(np.sqrt, x)
    assert d[0] == np.inf and d[1] == 0.5 and d[2] == 0.25 and np.isnan(d[3])
    with np.errstate(all="ignore"):
        d2 = derivative(np.sqrt, x, order=2)
    assert d2[1] == -0.25 and not np.isfinite(d2[0])


def test_rounding_in_cancelling_slopes_is_not_mistaken_for_mixing():
    # f′ = cos x - 1 ≈ -x²/2: a slope that is mostly rounding error, identical for both seed directions
    tiny = np.array([1e-5, 2e-5, 3e-7, 1e-3])
    np.testing.assert_allclose(derivative(lambda x: np.sin(x) - x, tiny), np.cos(tiny) - 1, atol=1e-16)


def test_inside_another_differentiation():
    g = gradient(lambda w: np.sum(derivative(np.sin, w)), XS)[0]  # d/dw Σ cos w = -sin w
    np.testing.assert_allclose(g, -np.sin(XS), rtol=1e-14)


MIXING = [
    ("np.sum", lambda x: np.sum(x)),
    ("np.mean broadcast back", lambda x: x - np.mean(x)),
    ("np.roll 1", lambda x: np.roll(x, 1)),
    ("np.roll 16", lambda x: np.roll(x, 16)),
    ("np.roll -7", lambda x: np.roll(x, -7)),
    ("np.cumsum", lambda x: np.cumsum(x)),
    ("reversed", lambda x: x[::-1]),
    ("matmul", lambda x: np.ones((x.size, x.size)) @ x),
    ("np.diff", lambda x: np.diff(x)),
    ("convolve same", lambda x: np.concatenate([x[:1], (x[1:] + x[:-1]) / 2])),
    ("np.sort of a shuffled grid", lambda x: np.sort(x[::-1] * np.where(np.arange(x.size) % 2, 1.0, -1.0))),
    ("one neighbour", lambda x: x + 1e-6 * np.concatenate([x[1:], x[:1]])),
    ("x times its last point", lambda x: x * x[-1]),
]


@pytest.mark.parametrize("name,f", MIXING, ids=[m[0] for m in MIXING])
@pytest.mark.parametrize("n", [2, 3, 17, 40, 200])
def test_an_f_that_mixes_elements_is_refused(name, f, n):
    xs = np.linspace(0.1, 2.0, n)
    if name == "np.roll 16" and n == 2:  # a roll by 16 of 2 points moves nothing: elementwise, and accepted
        np.testing.assert_array_equal(derivative(f, xs), [1.0, 1.0])
        return
    with pytest.raises(ValueError, match="elementwise"):
        derivative(f, xs)
    with pytest.raises(ValueError, match="elementwise"):
        derivative(f, xs, order=2)


def test_the_refusal_teaches():
    with pytest.raises(NotElementwiseError, match=r"mixes elements.*gradient\(f, x\).*jacobian\(f, x\)"):
        derivative(lambda x: np.roll(x, 1), XS)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*result\[0, 2\] depends on other points"):
        derivative(lambda x: x * np.array([1.0, 1.0, 0.0]) + x[:, :1] * np.array([0.0, 0.0, 1.0]),
                   np.arange(1.0, 7.0).reshape(2, 3))
    with pytest.raises(NotElementwiseError, match=r"returned shape \(\).*gradient\(f, x\)"):
        derivative(np.sum, XS)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):  # the same for several curves
        derivative(lambda x: (np.sin(x), np.outer(x, x)), np.array([1.0, 2.0]))


def test_the_scalar_path_is_unchanged():
    assert derivative(lambda x: 3 * x ** 2 + 2 * x + 1, 2.0) == 14.0
    assert derivative(lambda x: 3 * x ** 2 + 2 * x + 1, 2.0, order=2) == 6.0
    np.testing.assert_allclose(derivative(lambda t: np.array([t, t ** 2]), 3.0), [1.0, 6.0])


def test_compiled_loops_keep_the_check_exact():
    # after 16 runs of one expression, fusion compiles it into one loop: the check must still see J·v = (J·1)⊙v
    xs = np.linspace(-30.0, 30.0, 301)

    def f(x):
        return np.sin(x) * np.exp(-x * x / 50) + x * x / (1 + x * x) - np.tanh(3 * x) * np.cos(x)
    for _ in range(20):
        d = derivative(f, xs)
    want = (np.cos(xs) * np.exp(-xs ** 2 / 50) - np.sin(xs) * np.exp(-xs ** 2 / 50) * xs / 25
            + 2 * xs / (1 + xs ** 2) ** 2 - 3 * (1 - np.tanh(3 * xs) ** 2) * np.cos(xs)
            + np.tanh(3 * xs) * np.sin(xs))
    np.testing.assert_allclose(d, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="elementwise"):
        for _ in range(20):
            derivative(lambda x: f(x) + 0.5 * f(x[::-1]), xs)
