"""Dual numbers meet tracked values (dualnum's levels): forward mode sees through parameters nobody
differentiates, forward-over-reverse and reverse-over-forward nest by tag. The tracker's side of the contract."""
import numpy as np
import pytest

import dualnum as dn
from dualnum import tracker as T
from dualnum.testing import numeric_gradient


def central_jacobian(f, x, h=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        cols.append((np.asarray(T.value(f(x + e))) - np.asarray(T.value(f(x - e)))) / (2 * h))
    return np.stack(cols, axis=-1)


def test_derivative_through_a_parameter():
    p = T.param(3.0)
    assert dn.derivative(lambda s: s * p, 2.0) == 3.0
    assert dn.derivative(lambda s: p * s, 2.0) == 3.0
    assert dn.derivative(lambda s: p / s + s ** p, 2.0) == pytest.approx(-3.0 / 4 + 3.0 * 4.0)
    assert dn.derivative(lambda s: np.arctan2(p, s), 2.0) == pytest.approx(-3.0 / 13)
    assert T.istracked(p) and T.value(p) == 3.0 and p.grad is None  # the parameter is left alone


def test_forward_gradient_through_array_parameters():
    W = T.param(np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]]))
    b = T.param(np.array([0.1, -0.2]))
    x = np.array([0.3, -1.2, 0.7])
    f = lambda x: np.sum(np.tanh(W @ x + b) ** 2)  # noqa: E731
    g = dn.gradient(f, x)[0]
    assert type(g) is np.ndarray
    np.testing.assert_allclose(g, numeric_gradient(lambda x: float(T.value(f(x))), x)[0], rtol=1e-6, atol=1e-8)
    # the parameters in numpy functions beside dual arrays
    for h in (lambda x: np.sum(np.concatenate([x, T.value(b)]) * np.concatenate([W[0], b])),
              lambda x: np.sum(np.maximum(W[1], x) ** 2),
              lambda x: np.sum(np.where(np.array([True, False, True]), W[0], x) * x),
              lambda x: np.sum(np.stack([x, W[0]]) ** 3),
              lambda x: np.sum(np.clip(x, W[1] - 1.0, W[0])),
              lambda x: x @ W.T @ b):
        got = dn.gradient(h, x)[0]
        ref = numeric_gradient(lambda x: float(T.value(h(x))), x)[0]
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-8)


def test_jacobian_and_hessian_of_a_model():
    nn = pytest.importorskip("nn")
    model = nn.Chain(nn.Dense(3, 4, nn.tanh), nn.Dense(4, 2))
    x = np.array([0.5, -1.0, 2.0])
    J = dn.jacobian(model, x)
    assert type(J) is np.ndarray and J.shape == (2, 3)
    np.testing.assert_allclose(J, central_jacobian(model, x), rtol=1e-6, atol=1e-9)
    loss = lambda x: np.sum(model(x) ** 2)  # noqa: E731
    H = dn.hessian(loss, x)
    Hc = central_jacobian(lambda x: dn.gradient(loss, x)[0], x, h=1e-5)
    np.testing.assert_allclose(H, Hc, rtol=1e-5, atol=1e-8)
    # the tracker's gradient of the same loss: plain, and the same numbers as forward mode
    np.testing.assert_allclose(T.gradient(loss, x)[0], dn.gradient(loss, x)[0], rtol=1e-12)


def test_forward_over_reverse_keeps_working_with_parameters_inside():
    W = T.param(np.array([1.0, -2.0, 0.5]))
    f = lambda x: np.sum(W * x ** 3) + np.sum(x) ** 2  # noqa: E731
    x, v = np.array([0.5, 1.0, -1.5]), np.array([1.0, 0.0, 2.0])
    H = np.diag(6 * T.value(W) * x) + 2.0
    np.testing.assert_allclose(T.hvp(f, x, v), H @ v, rtol=1e-12)
    np.testing.assert_allclose(dn.hessian(f, x, method="forward-over-reverse"), H, rtol=1e-12)
    np.testing.assert_allclose(dn.hessian(f, x), H, rtol=1e-12)


def test_reverse_over_forward_scalars():
    assert T.gradient(lambda x: dn.derivative(lambda y: y ** 3, x), 2.0) == (12.0,)
    # the outer variable inside the inner function: d/dx [d/dy (x y² + sin(x y))]_{y=x}
    g = T.gradient(lambda x: dn.derivative(lambda y: x * y * y + np.sin(x * y), x), 2.0)[0]
    # inner: 2xy + x cos(xy) at y = x: 2x² + x cos(x²); outer: 4x + cos(x²) - 2x² sin(x²)
    assert g == pytest.approx(8.0 + np.cos(4.0) - 8.0 * np.sin(4.0), rel=1e-12)


def test_forward_mode_inside_an_implicit_gradient():
    # the inner derivative is taken with the parameter as a constant of its level; the outer gradient sees it
    W = T.param(1.5)
    gs = T.gradient(lambda: dn.derivative(lambda s: W * s ** 2, 2.0), T.params(W))
    assert gs[W] == 4.0  # d/dW (2 W s) at s = 2


def test_reverse_over_forward_arrays_right_or_a_clear_error():
    x = np.array([1.0, 2.0])
    f = lambda x: np.sum(dn.gradient(lambda y: np.sum(np.sin(y * x)), np.ones(2))[0])  # noqa: E731  Σ x cos x
    try:
        g = T.gradient(f, x)[0]
    except TypeError as e:
        assert "forward-over-reverse" in str(e) or "nest=True" in str(e), e
    else:
        np.testing.assert_allclose(g, np.cos(x) - x * np.sin(x), rtol=1e-12)


def test_idle_tracked_values_meeting_duals_are_stripped_not_recorded():
    # outside any gradient a parameter combined with a dual gives a dual, not a tracked value holding one
    W = T.param(np.array([2.0, 3.0]))
    y = dn.jvp(lambda x: W * x, np.array([1.0, 1.0]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(y[0], [2.0, 3.0])
    np.testing.assert_array_equal(y[1], [2.0, 0.0])
