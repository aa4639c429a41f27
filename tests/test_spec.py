"""The examples of ../shared/SPEC.md, one test each: the public contract users and the acceptance tests rely on."""
import math

import numpy as np
import pytest

import dualnum as dn
import nn
from dualnum import Dual, DualArray, derivative, gradient, hessian, jacobian, jvp, tracker


# ---- Forward mode -------------------------------------------------------------------------------------------
def test_dual_value_partials_repr_and_operators():
    x = Dual(3.0, 1.0)
    assert (x.value, x.partials) == (3.0, (1.0,))
    assert repr(Dual(17.0, 14.0)) == "Dual(17.0, 14.0)"
    for y, expected in [(x + 2, (5.0, 1.0)), (x - 2, (1.0, 1.0)), (x * 2, (6.0, 2.0)), (x / 2, (1.5, 0.5)),
                        (x ** 2, (9.0, 6.0)), (abs(Dual(-2.0, 1.0)), (2.0, -1.0)), (np.float64(2) * x, (6.0, 2.0))]:
        assert (y.value, y.partials[0]) == pytest.approx(expected)
    assert np.sin(x).partials[0] == pytest.approx(math.cos(3.0))
    assert np.exp(x).partials[0] == pytest.approx(math.exp(3.0))
    assert x < 4 and x == 3.0 and Dual(3.0, 5.0) == x  # comparisons on the value only


def test_float_of_dual_raises_unless_partials_are_zero():
    with pytest.raises(TypeError):
        math.sin(Dual(1.0, 1.0))
    assert float(Dual(1.0, 0.0, 0.0)) == 1.0


def test_dualarray_runs_ordinary_numpy_code():
    x = DualArray(np.array([0.5, 1.0, 2.0]), np.eye(3))
    y = np.sum(np.sin(x) * np.exp(x) + np.tanh(x) @ np.ones(3) + np.maximum(x, 1.0) + np.where(x > 1, x, 0.0)
               + np.clip(x, 0, 1.5) + np.log1p(x) + np.sqrt(x) + np.abs(x) + np.mean(x) + x.T
               + np.concatenate([x[:1], x[1:]]) + np.stack([x, x])[0] + x.reshape(3, 1)[:, 0])
    v = x.value
    max_slope = np.where(v > 1, 1.0, np.where(v == 1, 0.5, 0.0))  # maximum(x, 1) splits the tie at x = 1
    # the scalar tanh(x) @ 1 and mean(x) are added to all 3 elements; abs, x.T, concatenate, stack, reshape: 1 each
    expected = (np.cos(v) + np.sin(v)) * np.exp(v) + 3 * (1 - np.tanh(v) ** 2) + max_slope + (v > 1) + \
        (v <= 1.5) + 1 / (1 + v) + 0.5 / np.sqrt(v) + 1 + 3 * (1 / 3) + 1 + 1 + 1 + 1
    np.testing.assert_allclose(y.partials, expected)


def test_unsupported_numpy_function_names_itself():
    with pytest.raises(TypeError, match="fft"):
        gradient(lambda x: np.sum(np.abs(np.fft.fft(x))), [1.0, 2.0])


def test_derivative_examples():
    assert derivative(lambda x: 3 * x**2 + 2 * x + 1, 2.0) == 14.0
    assert derivative(lambda x: 3 * x**2 + 2 * x + 1, 2.0, order=2) == 6.0
    np.testing.assert_allclose(derivative(lambda t: np.array([t, t**2]), 3.0), [1.0, 6.0])


def test_gradient_example_and_types():
    gx, gy = gradient(lambda x, y: np.sum((x - y) ** 2), [2, 1], [2, 0])
    np.testing.assert_array_equal(gx, [0.0, 2.0])
    np.testing.assert_array_equal(gy, [-0.0, -2.0])
    assert gx.dtype == np.float64 and gy.shape == (2,)
    g = gradient(lambda x: 3 * x**2 + 2 * x + 1, 2.0)
    assert isinstance(g, tuple) and g[0] == 14.0


def test_jacobian_hessian_jvp_shapes():
    J = jacobian(lambda x: np.array([x[0] * x[1], x[1] ** 2, np.sin(x[0])]), np.array([1.0, 2.0]))
    assert J.shape == (3, 2)
    np.testing.assert_allclose(J, [[2, 1], [0, 4], [np.cos(1.0), 0]])
    H = hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]))
    np.testing.assert_allclose(H, [[4, 2], [2, 0]])
    y, t = jvp(lambda x: x**2, np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(y, [1, 4])
    np.testing.assert_allclose(t, [2, 4])


def test_nesting_without_perturbation_confusion():
    assert derivative(lambda x: x * derivative(lambda y: x + y, 1.0), 1.0) == 1.0


# ---- Reverse mode -------------------------------------------------------------------------------------------
def test_param_repr_and_explicit_gradient():
    assert repr(tracker.param(2.0)) == "2.0 (tracked)"
    assert tracker.gradient(lambda W, b, x: W * x + b, 2, 3, 4) == (4.0, 1.0, 2.0)


def test_nested_reverse_gradients():
    f = lambda x: 3 * x**2 + 2 * x + 1  # noqa: E731
    df = lambda x: tracker.gradient(f, x, nest=True)[0]  # noqa: E731
    assert repr(df(2.0)) == "14.0 (tracked)"
    assert tracker.gradient(df, 2.0, nest=True)[0] == 6.0


def test_implicit_params_and_grads():
    W, b = tracker.param(2), tracker.param(3)
    unused = tracker.param(7)
    gs = tracker.gradient(lambda: W * 4 + b, tracker.params(W, b, unused))
    assert gs[W] == 4.0 and gs[b] == 1.0 and gs[unused] is None


def test_params_identity_semantics():
    a, b = np.ones(2), np.ones(2)
    ps = tracker.Params([a, a, b])
    assert len(ps) == 2 and a in ps and list(ps)[0] is a
    ps2 = tracker.params(a)
    assert b not in ps2  # equal value, distinct object


def test_value_and_update():
    W = tracker.param(np.array([1.0, 2.0]))
    tracker.update(W, np.array([0.5, 0.5]))
    np.testing.assert_array_equal(tracker.value(W), [1.5, 2.5])
    assert dn.value(Dual(2.0, 1.0)) == 2.0


# ---- nn -----------------------------------------------------------------------------------------------------
def test_affine_dense_chain():
    a = nn.Affine(3, 2)
    assert a.W.shape == (2, 3) and a.b.shape == (2,)
    a1 = nn.Affine((3, 1), bias=False, init=np.ones)
    np.testing.assert_array_equal(nn.value(a1.W), np.ones((1, 3)))
    d = nn.Dense(10, 2, init=np.ones)
    out = d(np.hstack([np.ones((10, 1)), 2 * np.ones((10, 1))]))
    np.testing.assert_array_equal(nn.value(out), [[10, 20], [10, 20]])
    assert nn.value(d.b).tolist() == [0.0, 0.0]  # init makes W only; the bias starts at zero
    assert nn.Chain(lambda x: x**2, lambda x: x + 1)(5) == 26
    c = nn.Chain(nn.Dense(4, 3), nn.Dense(3, 2), nn.Dense(2, 1))
    assert len(c) == 3 and isinstance(c[1:], nn.Chain) and len(c[1:]) == 2 and isinstance(c[0], nn.Dense)


def test_dense_shape_error_names_layer_and_sizes():
    with pytest.raises(ValueError, match=r"Dense\(32 => 10\) got input with 64 rows"):
        nn.Dense(32, 10)(np.ones((64, 5)))
    with pytest.raises(ValueError, match=r"chain\[2\]"):
        nn.Chain(nn.Dense(784, 64, nn.relu), nn.Dense(64, 64, nn.relu), nn.Dense(32, 10))(np.ones((784, 2)))


def test_activations_and_losses():
    np.testing.assert_allclose(nn.softmax(np.array([1.0, 2.0, 3.0])), [0.0900, 0.2447, 0.6652], atol=1e-4)
    assert nn.σ is nn.sigmoid
    z = np.array([[1.0, -2.0], [0.5, 3.0]])
    y = nn.onehot([0, 1], 2)
    assert nn.mse(z, np.zeros_like(z)) == pytest.approx(np.mean(z**2))
    assert nn.logitcrossentropy(z, y) == pytest.approx(nn.crossentropy(nn.softmax(z), y))
    np.testing.assert_allclose(nn.logsoftmax(z), np.log(nn.softmax(z)))


def test_optimiser_defaults_and_first_steps():
    assert (nn.Descent().eta, nn.Momentum().eta, nn.Momentum().rho) == (0.1, 0.01, 0.9)
    assert (nn.Nesterov().eta, nn.Nesterov().rho, nn.RMSProp().eta, nn.RMSProp().rho) == (0.001, 0.9, 0.001, 0.9)
    assert (nn.Adam().eta, tuple(nn.Adam().beta)) == (0.001, (0.9, 0.999))
    for opt, expected in [(nn.Descent(), [0.9, 0.81]), (nn.Momentum(), [0.99, 0.9711])]:
        w = np.array([1.0])
        seen = []
        for _ in range(2):
            nn.update(opt, [w], _grads_for(w))
            seen.append(w[0])
        assert seen == pytest.approx(expected)


def _grads_for(w):
    class G(dict):
        def __getitem__(self, k):
            return w.copy()  # the gradient of w²/2 is w
    return G()


def test_train_returns_losses_and_calls_callbacks():
    W = tracker.param(np.zeros((1, 2)))
    x, y = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([[1.0, 3.0]])
    calls = []
    losses = nn.train(lambda a, b: nn.mse(W @ a, b), nn.params(W), [(x, y)] * 5, nn.Descent(0.1),
                      cb=[lambda: calls.append(1)])
    assert len(losses) == 5 and losses[-1] < losses[0] and len(calls) == 5


def test_data_helpers():
    dl = nn.DataLoader((np.arange(10.0).reshape(2, 5), np.arange(5.0)), batchsize=2, shuffle=False)
    assert [b[0].shape for b in dl] == [(2, 2), (2, 2), (2, 1)]  # a partial last batch is kept
    Y = nn.onehot([0, 2, 1], 3)
    assert Y.shape == (3, 3) and nn.onecold(Y).tolist() == [0, 2, 1] and nn.accuracy(Y, [0, 2, 1]) == 1.0


def test_params_and_fmap_on_user_classes():
    @nn.functor
    class Line:
        def __init__(self, m, b):
            self.m, self.b = m, b
    line = Line(np.array([1.0]), np.array([2.0]))
    ps = nn.params(line)
    assert len(ps) == 2
    doubled = nn.fmap(lambda a: 2 * a, line)
    assert doubled.m[0] == 2.0 and doubled.b[0] == 4.0
