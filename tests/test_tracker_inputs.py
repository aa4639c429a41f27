"""What the tracker's gradient takes as inputs: the same object twice, tracked constants, bools."""
import numpy as np
import pytest

import dualnum as dn
from dualnum import tracker as T

BINARY = {
    "add": lambda x, y: x + y,
    "subtract": lambda x, y: x - y,
    "multiply": lambda x, y: x * y,
    "divide": lambda x, y: x / y,
    "power": lambda x, y: x ** y,
    "arctan2": np.arctan2,
    "hypot": np.hypot,
    "maximum": lambda x, y: np.maximum(x, 2 * y),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("x", [1.5, np.array([0.5, 1.0, 2.0])], ids=["scalar", "array"])
def test_the_same_object_as_two_arguments_gets_two_gradients(name, x):
    op = BINARY[name]
    f = lambda a, b: np.sum(op(a, b) * np.sin(a))  # noqa: E731  (not symmetric in a and b)
    got = T.gradient(f, x, x)
    ref = dn.gradient(f, x, x)  # forward mode: one seed per argument
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    # the closed forms of the commonest two, from numpy alone
    if name == "subtract":
        np.testing.assert_allclose(got[1], -np.sin(x))
    if name == "multiply":
        np.testing.assert_allclose(got[1], x * np.sin(x))


def test_the_same_matrix_as_both_factors_of_matmul():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    f = lambda a, b: np.sum(np.sin(a @ b))  # noqa: E731
    ga, gb = T.gradient(f, A, A)
    C = np.cos(A @ A)
    np.testing.assert_allclose(ga, C @ A.T)  # d/dA sum sin(AB) = cos(AB) Bᵀ
    np.testing.assert_allclose(gb, A.T @ C)  # d/dB = Aᵀ cos(AB)
    fa, fb = dn.gradient(f, A, A)
    np.testing.assert_allclose(ga, fa, rtol=1e-12)
    np.testing.assert_allclose(gb, fb, rtol=1e-12)


def test_the_same_object_twice_nested_models_and_params():
    a = np.array([1.0, 2.0, 3.0])
    # nest=True and the same array twice
    gx, gy = T.gradient(lambda x, y: np.sum(x * y * y), a, a, nest=True)
    np.testing.assert_allclose(T.value(gx), a * a)
    np.testing.assert_allclose(T.value(gy), 2 * a * a)
    # a tracked parameter passed twice: two inputs as well
    p = T.param(a)
    g1, g2 = T.gradient(lambda x, y: np.sum(x - 3 * y), p, p)
    np.testing.assert_array_equal(g1, np.ones(3))
    np.testing.assert_array_equal(g2, -3 * np.ones(3))
    # an array in a model and the same array as another argument: each argument its own leaves
    model = {"W": a}
    gm, gw = T.gradient(lambda m, w: np.sum(m["W"] * 2 + w * 5), model, a)
    np.testing.assert_array_equal(gm["W"], np.full(3, 2.0))
    np.testing.assert_array_equal(gw, np.full(3, 5.0))


def test_tied_weights_inside_one_argument_share_one_gradient():
    # the same array twice in one model is one parameter: each place reports the total, as Flux's params does
    W = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = T.gradient(lambda ws: np.sum(ws[0] * 2) + np.sum(np.sin(ws[1])), [W, W])[0]
    total = 2 + np.cos(W)
    np.testing.assert_allclose(g[0], total)
    np.testing.assert_allclose(g[1], total)
