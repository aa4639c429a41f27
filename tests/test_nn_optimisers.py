"""Optimisers: the first steps on f(w) = w²/2 (gradient w) from w = 1, against Flux's formulas worked by hand."""
import math

import numpy as np
import pytest

from nn.optimisers import Adam, Descent, Momentum, Nesterov, RMSProp, apply, update


class IdGrads:
    """A minimal gs: gradient by parameter identity (the tracker's Grads does this for real)."""

    def __init__(self, pairs):
        self.d = {id(x): (x, g) for x, g in pairs}

    def __getitem__(self, x):
        hit = self.d.get(id(x))
        return hit[1] if hit else None


def two_steps(opt):
    w = np.array([1.0])
    out = []
    for _ in range(2):
        update(opt, [w], IdGrads([(w, w.copy())]))  # d(w²/2)/dw = w
        out.append(float(w[0]))
    return out


def test_descent_from_the_issue():
    assert two_steps(Descent()) == pytest.approx([0.9, 0.81], abs=1e-15)


def test_momentum_from_the_issue():
    assert two_steps(Momentum()) == pytest.approx([0.99, 0.9711], abs=1e-15)


def test_nesterov_by_hand():
    # d = ρ²v - (1+ρ)ηΔ, v = ρv - ηΔ, w -= -d; η = 0.001, ρ = 0.9
    w1 = 1 - 1.9 * 0.001                       # v was 0: d = -0.0019
    w2 = w1 - (0.81 * 0.001 + 1.9 * 0.001 * w1)  # v = -0.001 after step 1
    assert two_steps(Nesterov()) == pytest.approx([w1, w2], abs=1e-15)
    assert w2 == pytest.approx(0.99539361)


def test_rmsprop_by_hand():
    # a = ρa + (1-ρ)Δ², step = ηΔ/(√a + ε); η = 0.001, ρ = 0.9, ε = 1e-8
    w1 = 1 - 0.001 / (math.sqrt(0.1) + 1e-8)
    w2 = w1 - 0.001 * w1 / (math.sqrt(0.09 + 0.1 * w1**2) + 1e-8)
    assert two_steps(RMSProp()) == pytest.approx([w1, w2], abs=1e-15)


def test_adam_by_hand():
    # m = β₁m + (1-β₁)Δ, v = β₂v + (1-β₂)Δ², step = η (m/(1-β₁ᵗ)) / (√(v/(1-β₂ᵗ)) + ε)
    w1 = 1 - 0.001 * 1.0 / (1.0 + 1e-8)  # bias correction makes the first step exactly η·sign
    m2 = 0.9 * 0.1 + 0.1 * w1
    v2 = 0.999 * 0.001 + 0.001 * w1**2
    w2 = w1 - 0.001 * (m2 / (1 - 0.9**2)) / (math.sqrt(v2 / (1 - 0.999**2)) + 1e-8)
    assert two_steps(Adam()) == pytest.approx([w1, w2], abs=1e-15)


def test_defaults_are_fluxs():
    assert Descent().eta == 0.1
    assert (Momentum().eta, Momentum().rho) == (0.01, 0.9)
    assert (Nesterov().eta, Nesterov().rho) == (0.001, 0.9)
    assert (RMSProp().eta, RMSProp().rho) == (0.001, 0.9)
    assert (Adam().eta, Adam().beta) == (0.001, (0.9, 0.999))
    assert repr(Momentum()) == "Momentum(0.01, 0.9)"


@pytest.mark.parametrize("make", [Descent, Momentum, Nesterov, RMSProp, Adam])
def test_apply_returns_the_step_and_leaves_both_arrays_alone(make):
    x, dx = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    step = apply(make(), x, dx)
    np.testing.assert_array_equal(x, [1.0, -2.0])
    np.testing.assert_array_equal(dx, [0.5, 0.25])
    assert step.shape == x.shape and np.all(np.sign(step) == np.sign(dx))  # a first step goes downhill


def test_state_is_per_parameter_by_identity():
    opt = Momentum()
    a, b = np.array([1.0]), np.array([1.0])  # equal values, distinct parameters
    update(opt, [a], IdGrads([(a, np.array([1.0]))]))
    update(opt, [b], IdGrads([(b, np.array([1.0]))]))
    assert a[0] == b[0] == pytest.approx(0.99)  # b's first step did not see a's velocity
    update(opt, [a], IdGrads([(a, np.array([1.0]))]))
    assert a[0] == pytest.approx(0.99 - 0.019)


def test_update_skips_parameters_without_a_gradient_and_works_in_place():
    a, b = np.array([1.0, 2.0]), np.array([3.0])
    a_before = a
    update(Descent(0.5), [a, b], IdGrads([(a, np.array([2.0, 2.0]))]))
    assert a is a_before
    np.testing.assert_array_equal(a, [0.0, 1.0])
    np.testing.assert_array_equal(b, [3.0])


@pytest.mark.parametrize("make", [Descent, Momentum, Nesterov, RMSProp, Adam])
def test_every_optimiser_minimises_a_quadratic(make):
    opt = make(0.05) if make is not Descent else make(0.1)
    w = np.array([3.0, -2.0])
    for _ in range(500):
        update(opt, [w], IdGrads([(w, 2 * w)]))
    assert np.max(np.abs(w)) < 0.1
