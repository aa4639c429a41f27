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


# ---- a parameter nobody differentiates is a constant: plain numbers in, plain gradients out --------------------
W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
CONSTANT_USES = {
    "matmul": lambda W, x: W @ x,
    "rmatmul": lambda W, x: x[:2] @ W,
    "multiply": lambda W, x: W * x,
    "subtract": lambda W, x: x - W,
    "divide": lambda W, x: W / (x * x + 1.0),
    "power": lambda W, x: np.abs(W) ** x,
    "maximum": lambda W, x: np.maximum(W, x),
    "arctan2": lambda W, x: np.arctan2(W, x),
    "getitem": lambda W, x: W[1] * x + W[0, 1],
    "concatenate": lambda W, x: np.concatenate([W[0], x, W[1]]) * np.arange(9.0),
    "stack": lambda W, x: np.stack([x, W[0]]) ** 2,
    "where": lambda W, x: np.where(np.array([True, False, True]), W[0], x) * x,
    "where-rule": lambda W, x: np.where(np.array([True, False, True]), x, W),
    "clip": lambda W, x: np.clip(x, W[0], W[1] + 2.0),
    "broadcast": lambda W, x: np.broadcast_to(W[0], (4, 3)) * x,
    "dot": lambda W, x: np.dot(W, x),
    "outer": lambda W, x: np.outer(W[0], x),
    "sum-axis": lambda W, x: np.sum(W, axis=0) * x,
    "mean": lambda W, x: np.mean(W * x, axis=1),
}


@pytest.mark.parametrize("name", sorted(CONSTANT_USES))
def test_an_idle_parameter_is_a_plain_constant_inside_a_gradient(name):
    use = CONSTANT_USES[name]
    W = T.param(W0)
    x = np.array([0.3, -0.7, 1.1])
    f = lambda x: np.sum(np.sin(use(W, x)))  # noqa: E731
    g = T.gradient(f, x)[0]
    assert type(g) is np.ndarray, type(g)  # not a tracked value
    ref = dn.gradient(lambda x: np.sum(np.sin(use(W0, x))), x)[0]  # the same numbers as a plain array: forward mode
    np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-12)
    # the explicit form with the parameter as an argument too: both gradients plain
    gW, gx = T.gradient(lambda W, x: np.sum(np.sin(use(W, x))), W, x)
    assert type(gW) is np.ndarray and type(gx) is np.ndarray
    np.testing.assert_allclose(gx, ref, rtol=1e-12, atol=1e-12)


def test_gradient_with_respect_to_a_models_input_is_plain():
    nn = pytest.importorskip("nn")
    model = nn.Chain(nn.Dense(3, 4, nn.tanh), nn.Dense(4, 2))
    x = np.array([0.5, -1.0, 2.0])
    g = T.gradient(lambda x: np.sum(model(x)), x)[0]
    assert type(g) is np.ndarray
    W1, b1 = T.value(model[0].W), T.value(model[0].b)
    W2 = T.value(model[1].W)
    # d/dx Σ W2 tanh(W1 x + b1) + b2 = W1ᵀ ((1 - tanh²) ⊙ W2ᵀ 1)
    h = np.tanh(W1 @ x + b1)
    np.testing.assert_allclose(g, W1.T @ ((1 - h ** 2) * (W2.T @ np.ones(2))), rtol=1e-12)
    # scalar input, scalar parameter
    p = T.param(3.0)
    g = T.gradient(lambda s: p * s * s, 2.0)[0]
    assert type(g) is float and g == 12.0


def test_idle_values_inside_nested_and_implicit_gradients():
    W = T.param(np.array([1.0, 2.0]))
    # reverse over reverse: the parameter is a constant at both levels
    d2 = T.gradient(lambda x: T.gradient(lambda y: np.sum(W * y ** 3) * x, 2.0, nest=True)[0] * x, 1.5)[0]
    assert type(d2) is float and d2 == pytest.approx(2 * 1.5 * np.sum(T.value(W)) * 12.0)
    # a gradient that escaped a finished call (tracked, idle) used inside an implicit gradient: a constant
    c = T.gradient(lambda y: y ** 2, 3.0, nest=True)[0]  # 6.0 (tracked), nobody differentiates it now
    assert T.istracked(c)
    gs = T.gradient(lambda: np.sum(W * c), T.params(W))
    assert type(gs[W]) is np.ndarray
    np.testing.assert_array_equal(gs[W], [6.0, 6.0])


# ---- bools: refused as differentiation inputs, numbers as constants --------------------------------------------
BOOL_WORDS = r"is a bool \(or bool array\); differentiate with respect to numbers, e\.g\. x\.astype\(float\)"


@pytest.mark.parametrize("x", [True, np.bool_(False), np.array([True, False]), [True, False], [[True], [False]]],
                         ids=["bool", "np.bool_", "bool array", "list", "nested list"])
def test_bool_inputs_are_refused_in_every_form(x):
    with pytest.raises(TypeError, match="gradient: argument 1 " + BOOL_WORDS):
        T.gradient(lambda a: np.sum(a * 1.0), x)
    with pytest.raises(TypeError, match="gradient: argument 2 " + BOOL_WORDS):
        T.gradient(lambda a, b: a * np.sum(b * 1.0), 1.0, x)
    if not isinstance(x, list):
        with pytest.raises(TypeError, match="param " + BOOL_WORDS):
            T.param(x)


def test_bools_as_constants_keep_numpy_semantics():
    x = np.array([1.0, -2.0, 3.0])
    mask = np.array([True, False, True])
    g = T.gradient(lambda x: np.sum(x * mask) + x[1] * True + np.sum(np.where(mask, x, 0.0)), x)[0]
    np.testing.assert_array_equal(g, mask * 1.0 + np.array([0.0, 1.0, 0.0]) + mask)
    # a bool array inside a model is a constant (a mask), not a parameter
    g = T.gradient(lambda m: np.sum(m["w"] * m["mask"]), {"w": x, "mask": mask})[0]
    np.testing.assert_array_equal(g["w"], mask * 1.0)
    assert g["mask"] is None


def test_update_refuses_a_step_of_another_shape():
    W = T.param(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(1, 3\).*\(2, 3\)"):
        T.update(W, np.ones((1, 3)))
    np.testing.assert_array_equal(T.value(W), np.ones((2, 3)))  # nothing was added
    T.update(W, np.full((2, 3), 0.5))
    T.update(W, 0.25)  # one number for every element
    np.testing.assert_array_equal(T.value(W), np.full((2, 3), 1.75))
