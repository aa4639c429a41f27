"""Forward mode meets tracked values: the newer call's values wrap the older's; levels nobody differentiates are
constants (an nn model's weights). References: the same derivative in forward-over-forward mode, closed forms, or
the model with its weights as plain arrays."""
import math

import numpy as np
import pytest

import dualnum as dn
import nn
from dualnum import derivative, rules, tracker
from dualnum.functions import apply
from dualnum.reverse.tracked import Tracked


# ---- reverse-over-forward: a forward-mode call inside tracker.gradient ------------------------------------------

def test_reverse_over_forward_scalar():
    assert tracker.gradient(lambda x: derivative(lambda y: y ** 3, x), 2.0) == (12.0,)
    assert tracker.gradient(lambda x: derivative(lambda y: y ** 3, x, order=2), 2.0) == (6.0,)


@pytest.mark.parametrize("g", [
    lambda x: x * derivative(lambda y: x * y ** 2, x),  # the inner function closes over the outer variable
    lambda x: x * derivative(lambda y: y ** 2 * x, x),
    lambda x: derivative(lambda y: np.sin(x * y), x),
    lambda x: derivative(lambda y: np.exp(y) / x + x ** 2 * y, x),
    lambda x: derivative(lambda y: np.arctan2(y, x) + np.hypot(x, y), x),
    lambda x: dn.gradient(lambda a, b: a * b * x, x, 3.0)[1],
    lambda x: dn.jacobian(lambda a: a * a * x, x),
    lambda x: dn.jvp(lambda a: np.tanh(a * x), x, 1.0)[1],
    lambda x: dn.hessian(lambda a: a ** 3 * x, x),
])
def test_reverse_over_forward_equals_forward_over_forward(g):
    x = 1.3
    (r,) = tracker.gradient(g, x)
    f = derivative(g, x)  # the same second-order quantity with duals of two tags
    assert type(r) is float or isinstance(r, np.floating)
    assert r == pytest.approx(f, rel=1e-12)


def test_reverse_over_forward_closed_forms():
    x = 2.0
    assert tracker.gradient(lambda x: x * derivative(lambda y: x * y ** 2, x), x) == (6 * x ** 2,)
    (r,) = tracker.gradient(lambda x: derivative(lambda y: np.sin(x * y), x), x)
    assert r == pytest.approx(math.cos(x * x) - 2 * x * x * math.sin(x * x), rel=1e-12)


def test_forward_returns_the_tracked_partial_unconverted():
    seen = []

    def g(x):
        d = derivative(lambda y: y ** 3, x)
        seen.append(type(d))
        return d
    tracker.gradient(g, 2.0)
    assert seen == [Tracked]


def test_a_tracked_array_being_differentiated_is_refused_clearly():
    with pytest.raises(TypeError, match="forward-over-reverse"):
        tracker.gradient(lambda x: np.sum(dn.gradient(lambda a: np.sum(a ** 3), x)[0]), np.ones(2))


# ---- levels nobody differentiates are constants -------------------------------------------------------------------

OPS = {"s * p": lambda s, p: s * p, "p * s": lambda s, p: p * s, "s / p": lambda s, p: s / p,
       "p / s": lambda s, p: p / s, "s + p": lambda s, p: s + p, "p - s": lambda s, p: p - s,
       "s ** p": lambda s, p: s ** p, "p ** s": lambda s, p: p ** s, "np.multiply": lambda s, p: np.multiply(s, p),
       "np.arctan2": lambda s, p: np.arctan2(p, s), "np.maximum": lambda s, p: np.maximum(s, p),
       "sin(p * s)": lambda s, p: np.sin(p * s)}


@pytest.mark.parametrize("name", list(OPS))
def test_a_param_outside_any_gradient_is_a_constant_to_forward_mode(name):
    op = OPS[name]
    got = derivative(lambda s: op(s, tracker.param(3.0)), 2.0)
    assert type(got) is float
    assert got == derivative(lambda s: op(s, 3.0), 2.0)
    assert derivative(lambda s: op(s, tracker.param(3.0)), 2.0, order=2) == derivative(lambda s: op(s, 3.0), 2.0,
                                                                                        order=2)


def test_inactive_tracked_inputs_are_their_numbers():
    p = tracker.param(np.array([1.0, 2.0]))
    g, = dn.gradient(lambda v: np.sum(v ** 2), p)
    assert type(g) is np.ndarray and np.array_equal(g, [2.0, 4.0])
    assert derivative(lambda v: v ** 2, tracker.param(3.0)) == 6.0


def test_jacobian_and_hessian_of_an_nn_model():
    model = nn.Chain(nn.Dense(3, 4, nn.tanh), nn.Dense(4, 2))
    x = np.array([0.3, -0.2, 0.5])
    plain = [(dn.value(layer.W), dn.value(layer.b)) for layer in model.layers]

    def by_hand(v):
        for (W, b), act in zip(plain, (np.tanh, lambda t: t)):
            v = act(W @ v + b)
        return v
    J = dn.jacobian(model, x)
    assert type(J) is np.ndarray
    np.testing.assert_allclose(J, dn.jacobian(by_hand, x), rtol=1e-12, atol=1e-14)
    H = dn.hessian(lambda v: nn.mse(model(v), np.array([0.1, 0.2])), x)
    np.testing.assert_allclose(H, dn.hessian(lambda v: nn.mse(by_hand(v), np.array([0.1, 0.2])), x),
                               rtol=1e-10, atol=1e-12)


def test_dual_with_an_older_active_level_inside_keeps_both_derivatives():
    # Dual(tracked value, tracked partial): reading it off must neither float() it nor drop the partial
    def g(x):
        y = derivative(lambda s: s * x + x * x, 1.0)  # d/ds = x (tracked)
        return y * y
    assert tracker.gradient(g, 3.0) == (6.0,)


@pytest.mark.parametrize("g", [
    lambda x: derivative(lambda s: apply(rules.RULES["logaddexp"], x, s * s), x),  # a binary rule via apply
    lambda x: derivative(lambda s: apply(rules.RULES["logaddexp"], s, x * 3.0), x),
    lambda x: derivative(lambda s: dn.sigmoid(x * s) + dn.relu(s - x), x),
])
def test_rules_applied_by_functions_apply_follow_the_levels(g):
    (r,) = tracker.gradient(g, 0.7)
    assert r == pytest.approx(derivative(g, 0.7), rel=1e-12, abs=1e-15)
    # a param nobody differentiates is a constant there too
    p = tracker.param(0.7)
    assert derivative(lambda s: apply(rules.RULES["logaddexp"], p, s), 0.2) == \
        derivative(lambda s: apply(rules.RULES["logaddexp"], 0.7, s), 0.2)
