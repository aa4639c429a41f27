"""Optimisers: turn a gradient into a step. ``apply(x, dx)`` returns the step; ``update`` subtracts it, x -= step.

The formulas and defaults are Flux's (``Flux.Optimise``), so the numbers match the Julia tutorials. An
optimiser with memory (momentum, running averages) keeps one state per parameter, looked up by the
parameter's identity -- the same object, not an equal-valued one -- as Flux's ``IdDict`` does.
"""
from __future__ import annotations

import numpy as np

from ._backend import update_in_place, value
from .data import InputError

#: added to denominators so that a zero running average does not divide by zero (Flux's ϵ)
EPS = 1e-8


class Optimiser:
    """Base class: the per-parameter state, keyed by identity. Subclasses define ``apply(x, dx)``."""

    def __init__(self):
        # id(x) -> (x, state): holding x itself keeps it alive, so its id cannot be reused by another array
        self._state = {}

    def state(self, x, make):
        """The state of parameter x, created by ``make()`` on first use."""
        entry = self._state.get(id(x))
        if entry is None or entry[0] is not x:
            entry = self._state[id(x)] = (x, make())
        return entry[1]

    def apply(self, x, dx):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def _zeros(x):
    v = value(x)
    if getattr(v, "_is_device", False):  # a parameter on the GPU keeps its state there
        return np.zeros_like(v)
    return np.zeros_like(np.asarray(v, dtype=float))


class Descent(Optimiser):
    """Gradient descent: step = η·Δ."""

    def __init__(self, eta=0.1):
        super().__init__()
        self.eta = eta

    def apply(self, x, dx):
        return self.eta * dx


class Momentum(Optimiser):
    """Momentum: v ← ρ·v - η·Δ; step = -v (the velocity remembers the previous steps)."""

    def __init__(self, eta=0.01, rho=0.9):
        super().__init__()
        self.eta, self.rho = eta, rho

    def apply(self, x, dx):
        v = self.state(x, lambda: _zeros(x))
        v *= self.rho
        v -= self.eta * dx
        return -v


class Nesterov(Optimiser):
    """Nesterov momentum: d = ρ²·v - (1+ρ)·η·Δ; v ← ρ·v - η·Δ; step = -d (a look-ahead momentum)."""

    def __init__(self, eta=0.001, rho=0.9):
        super().__init__()
        self.eta, self.rho = eta, rho

    def apply(self, x, dx):
        eta, rho = self.eta, self.rho
        v = self.state(x, lambda: _zeros(x))
        d = rho ** 2 * v - (1 + rho) * eta * dx
        v *= rho
        v -= eta * dx
        return -d


class RMSProp(Optimiser):
    """RMSProp: a ← ρ·a + (1-ρ)·Δ²; step = η·Δ / (√a + ε) (each coordinate scaled by its recent size)."""

    def __init__(self, eta=0.001, rho=0.9):
        super().__init__()
        self.eta, self.rho = eta, rho

    def apply(self, x, dx):
        acc = self.state(x, lambda: _zeros(x))
        acc *= self.rho
        acc += (1 - self.rho) * dx ** 2
        return self.eta * dx / (np.sqrt(acc) + EPS)


class Adam(Optimiser):
    """Adam: m ← β₁m + (1-β₁)Δ; v ← β₂v + (1-β₂)Δ²; step = η·m̂ / (√v̂ + ε), m̂ = m/(1-β₁ᵗ), v̂ = v/(1-β₂ᵗ)."""

    def __init__(self, eta=0.001, beta=(0.9, 0.999)):
        super().__init__()
        self.eta, self.beta = eta, tuple(beta)

    def apply(self, x, dx):
        b1, b2 = self.beta
        # βp holds β₁ᵗ and β₂ᵗ for this parameter's step count t (Flux keeps them per parameter too)
        m, v, bp = self.state(x, lambda: (_zeros(x), _zeros(x), [b1, b2]))
        m *= b1
        m += (1 - b1) * dx
        v *= b2
        v += (1 - b2) * dx ** 2
        step = m / (1 - bp[0]) / (np.sqrt(v / (1 - bp[1])) + EPS) * self.eta
        bp[0] *= b1
        bp[1] *= b2
        return step


def _check_shape(x, g, who):
    """A gradient of another shape than its parameter would broadcast into it: a wrong step, silently."""
    if np.shape(g) != np.shape(value(x)):
        raise ValueError(f"{who}: the gradient has shape {np.shape(g)} but its parameter has shape "
                         f"{np.shape(value(x))}; a gradient has its parameter's shape (gs[x] for x in ps)")


def apply(opt, x, dx):
    """The step opt would take for parameter x with gradient dx (Flux's ``apply!``, without mutating dx)."""
    _check_shape(x, dx, "apply(opt, x, dx)")
    return opt.apply(x, dx)


def update(opt, ps, gs):
    """One optimiser step, in place: x -= opt.apply(x, gs[x]) for every x in ps whose gradient is not None.

    ``gs`` is looked up by parameter, as the ``Grads`` that ``gradient(fn, ps)`` returns. (``dualnum.tracker
    .update(x, δ)``, which adds δ to one parameter, is a different function: Flux's ``update!`` had both
    meanings too.)"""
    if isinstance(gs, (list, tuple, np.ndarray)) or _is_plain_array(gs):
        raise InputError(
            f"update(opt, ps, gs): gs is a {type(gs).__name__}; it must map each parameter to its gradient, as the "
            "Grads of gs = nn.gradient(lambda: loss(x, y), ps) do (gs[W]). Gradients in a sequence, as the "
            "explicit gradient(f, W, b) returns them, are applied one by one: "
            "for W, g in zip(ps, grads): dualnum.tracker.update(W, -opt.apply(W, g)).")
    for i, x in enumerate(ps):
        g = gs[x]
        if g is None:
            continue  # x did not take part in the loss: nothing to learn from this batch
        g = value(g)
        if not getattr(g, "_is_device", False):
            g = np.asarray(g, dtype=float)
        if g.shape != np.shape(value(x)):
            _check_shape(x, g, f"update(opt, ps, gs): parameter {i} (counted from 0)")
        update_in_place(x, -opt.apply(x, g))


def _is_plain_array(x):
    return hasattr(x, "shape") and hasattr(x, "__array_function__")


__all__ = ["Optimiser", "Descent", "Momentum", "Nesterov", "RMSProp", "Adam", "apply", "update", "EPS"]
