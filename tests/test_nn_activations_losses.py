"""Activations and losses: closed forms, stability at extreme inputs, derivatives against finite differences."""
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum.testing import numeric_gradient
from nn.activations import identity, leakyrelu, logsoftmax, relu, sigmoid, softmax, tanh, σ
from nn.losses import (binarycrossentropy, crossentropy, logitbinarycrossentropy, logitcrossentropy, mse)

RNG = np.random.default_rng(0)


def fd_close(f, *args, rtol=1e-6, atol=1e-7):
    """Forward-mode gradient equals the central difference, argument by argument."""
    for g, n in zip(dn.gradient(f, *args), numeric_gradient(f, *args)):
        np.testing.assert_allclose(g, n, rtol=rtol, atol=atol)


# ---- activations ---------------------------------------------------------------------------------------------
def test_softmax_of_1_2_3_from_the_issue():
    np.testing.assert_allclose(softmax(np.array([1.0, 2.0, 3.0])), [0.0900, 0.2447, 0.6652], atol=5e-5)


def test_softmax_closed_form_and_columns():
    x = RNG.normal(size=(4, 3))
    e = np.exp(x)
    np.testing.assert_allclose(softmax(x), e / e.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(softmax(x).sum(axis=0), 1.0)  # each column (sample) is a distribution
    np.testing.assert_allclose(logsoftmax(x), np.log(e / e.sum(axis=0)), rtol=1e-12)


def test_softmax_and_logsoftmax_do_not_overflow():
    x = np.array([1000.0, 1001.0, -1000.0])
    s = softmax(x)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[:2], [1 / (1 + math.e), math.e / (1 + math.e)])
    ls = logsoftmax(x)
    assert np.all(np.isfinite(ls))
    np.testing.assert_allclose(ls[1], -math.log1p(math.exp(-1)))
    assert ls[2] == pytest.approx(-2001.0 - math.log1p(math.exp(-1)))


def test_sigmoid_relu_tanh_identity_values():
    assert σ is sigmoid
    assert sigmoid(0.0) == 0.5
    np.testing.assert_allclose(sigmoid(np.array([-800.0, 800.0])), [0.0, 1.0])
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    assert tanh(0.5) == pytest.approx(math.tanh(0.5))
    x = np.arange(3.0)
    assert identity(x) is x


def test_leakyrelu_values_and_slopes():
    np.testing.assert_allclose(leakyrelu(np.array([-2.0, 0.0, 3.0])), [-0.02, 0.0, 3.0])
    assert leakyrelu(-1.0, 0.2) == pytest.approx(-0.2)
    assert leakyrelu(5.0) == 5.0
    # slope a for x ≤ 0 (Flux's convention at 0), 1 for x > 0
    (g,) = dn.gradient(lambda x: np.sum(leakyrelu(x)), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.01, 0.01, 1.0])


@pytest.mark.parametrize("f", [sigmoid, tanh, softmax, logsoftmax, lambda x: leakyrelu(x, 0.3),
                               lambda x: softmax(x, axis=1)])
def test_activation_derivatives_match_finite_differences(f):
    x = RNG.normal(size=(3, 2))
    w = RNG.normal(size=(3, 2))  # a random projection, so every output entry counts
    fd_close(lambda x: np.sum(w * f(x)), x)


def test_softmax_jacobian_closed_form():
    x = np.array([0.3, -1.2, 2.0])
    s = softmax(x)
    np.testing.assert_allclose(dn.jacobian(softmax, x), np.diag(s) - np.outer(s, s), atol=1e-14)


# ---- losses --------------------------------------------------------------------------------------------------
def test_mse_is_the_mean_of_squares():
    assert mse(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 0.0])) == pytest.approx(20 / 3)
    (g,) = dn.gradient(lambda p: mse(p, np.array([1.0, 0.0])), np.array([3.0, 1.0]))
    np.testing.assert_allclose(g, [2.0, 1.0])  # d/dp mean((p-y)²) = 2(p-y)/n


def test_crossentropy_averages_over_the_batch():
    p = np.array([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]])
    y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    assert crossentropy(p, y) == pytest.approx(-(math.log(0.7) + math.log(0.5)) / 2)
    # a single sample (1-D) is a batch of one
    assert crossentropy(p[:, 0], y[:, 0]) == pytest.approx(-math.log(0.7))
    # a predicted probability of 0 for the true class is a large, finite loss
    assert np.isfinite(crossentropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])))


def test_logitcrossentropy_equals_crossentropy_of_softmax_and_is_stable():
    z = RNG.normal(size=(4, 5))
    y = np.eye(4)[:, [0, 1, 2, 3, 0]]
    assert logitcrossentropy(z, y) == pytest.approx(crossentropy(softmax(z), y), rel=1e-12)
    big = np.array([[1000.0], [-1000.0]])
    assert logitcrossentropy(big, np.array([[0.0], [1.0]])) == pytest.approx(2000.0)
    assert logitcrossentropy(big, np.array([[1.0], [0.0]])) == pytest.approx(0.0, abs=1e-300)
    # gradient: (softmax(z) - y) / batchsize
    (g,) = dn.gradient(lambda z: logitcrossentropy(z, y), z)
    np.testing.assert_allclose(g, (softmax(z) - y) / 5, atol=1e-14)
    (g,) = dn.gradient(lambda z: logitcrossentropy(z, np.array([[0.0], [1.0]])), big)
    assert np.all(np.isfinite(g))


def test_binarycrossentropy_closed_form():
    p = np.array([0.9, 0.2, 0.6])
    y = np.array([1.0, 0.0, 1.0])
    expect = -(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3
    assert binarycrossentropy(p, y) == pytest.approx(expect)
    assert binarycrossentropy(p[None, :], y[None, :]) == pytest.approx(expect)  # (1, n): a batch of n
    assert np.isfinite(binarycrossentropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])))
    z = np.array([2.0, -1.0, 0.5])
    assert logitbinarycrossentropy(z, y) == pytest.approx(binarycrossentropy(sigmoid(z), y), rel=1e-12)
    assert logitbinarycrossentropy(np.array([800.0]), np.array([1.0])) == pytest.approx(0.0, abs=1e-300)


@pytest.mark.parametrize("loss, make_pred", [
    (mse, lambda: RNG.normal(size=(3, 4))),
    (crossentropy, lambda: softmax(RNG.normal(size=(3, 4)))),
    (logitcrossentropy, lambda: RNG.normal(size=(3, 4))),
    (binarycrossentropy, lambda: sigmoid(RNG.normal(size=(3, 4)))),
    (logitbinarycrossentropy, lambda: RNG.normal(size=(3, 4))),
])
def test_loss_derivatives_match_finite_differences(loss, make_pred):
    p = make_pred()
    y = np.eye(3)[:, [0, 2, 1, 1]]
    fd_close(lambda p: loss(p, y), p)


# ---- reverse mode agrees ------------------------------------------------------------------------------------
@pytest.mark.parametrize("f", [sigmoid, relu, tanh, softmax, logsoftmax, leakyrelu, identity])
def test_activations_reverse_mode_equals_forward_mode(f):
    from dualnum.tracker import gradient as rgradient
    x = RNG.normal(size=(3, 4))
    w = RNG.normal(size=(3, 4))
    g = lambda x: np.sum(w * f(x))  # noqa: E731
    np.testing.assert_allclose(rgradient(g, x)[0], dn.gradient(g, x)[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", [mse, crossentropy, logitcrossentropy, binarycrossentropy, logitbinarycrossentropy])
def test_losses_reverse_mode_equals_forward_mode(loss):
    from dualnum.tracker import gradient as rgradient
    p = sigmoid(RNG.normal(size=(3, 4)))
    y = np.eye(3)[:, [0, 2, 1, 1]]
    g = lambda p: loss(p, y)  # noqa: E731
    np.testing.assert_allclose(rgradient(g, p)[0], dn.gradient(g, p)[0], rtol=1e-12, atol=1e-15)


def test_losses_take_flux_agg_keyword():
    import nn
    rng = np.random.default_rng(3)
    yhat, y = rng.random((3, 4)), rng.random((3, 4))
    assert nn.mse(yhat, y, agg=np.sum) == pytest.approx(np.sum((yhat - y) ** 2))
    np.testing.assert_allclose(nn.mse(yhat, y, agg=lambda l: np.mean(l, axis=-1)), np.mean((yhat - y) ** 2, axis=-1))
    p = nn.softmax(rng.normal(size=(3, 4)))
    t = nn.onehot([0, 2, 1, 1], 3)
    per_sample = -np.sum(t * np.log(p + nn.losses.EPS), axis=0)
    assert nn.crossentropy(p, t, agg=np.sum) == pytest.approx(np.sum(per_sample))
    assert nn.crossentropy(p, t) == pytest.approx(np.mean(per_sample))
    z = rng.normal(size=(3, 4))
    assert nn.logitcrossentropy(z, t, agg=np.sum) == pytest.approx(nn.crossentropy(nn.softmax(z), t, eps=0, agg=np.sum))
    b = rng.random(4)
    assert nn.binarycrossentropy(b, (b > 0.5) * 1.0, agg=np.sum) == pytest.approx(
        4 * nn.binarycrossentropy(b, (b > 0.5) * 1.0))
