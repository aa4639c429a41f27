"""Exercise 10 -- the Momentum optimiser (follows tutorial 3, "A modern ML library": `Momentum` uses x).

Plain gradient descent steps by η·Δ, where Δ is the gradient. Momentum keeps a *velocity* v for every
parameter, starting at zero, and lets it build up over the steps (Flux's ``Momentum(η, ρ)``):

    v ← ρ·v + η·Δ          the step is v, and the parameter moves against it:  x ← x - v

With the same gradient Δ every time the steps grow as η·Δ, η·Δ·(1 + ρ), η·Δ·(1 + ρ + ρ²), ... towards η·Δ/(1 - ρ).
(``nn.Momentum`` stores the opposite sign, v ← ρ·v - η·Δ, and returns -v: the same steps.)

The velocity belongs to the parameter *object*, not to its values: two arrays with equal numbers are two
parameters, each with its own velocity. That is why ``apply(x, Δ)`` takes ``x``. Keep the velocities in
``self.velocity``, a dict from ``id(x)`` to ``(x, v)`` (holding x keeps its id from being reused).

Write:
1. ``Momentum.apply(x, dx)``: update x's velocity and return the step (a new array, x is not changed);
2. ``descend(opt, x, grad, steps)``: ``steps`` times, x -= opt.apply(x, grad(x)), in place on the array x;
   return the list of the values of x after each step (copies).

Check it with ``python -m tutorials.exercises check 10``.
"""
import numpy as np


class Momentum:
    """Flux's Momentum: v ← ρ·v + η·Δ, step = v (so x ← x - v). Defaults η = 0.01, ρ = 0.9, as Flux."""

    def __init__(self, eta=0.01, rho=0.9):
        self.eta, self.rho = eta, rho
        self.velocity = {}   # id(x) -> (x, v)

    def apply(self, x, dx):
        """The step for parameter x whose gradient is dx: v ← ρ·v + η·dx, returned as a new array."""
        dx = np.asarray(dx, dtype=float)
        # BEGIN SOLUTION: look up x's velocity by identity (zero the first time), then v ← ρ·v + η·Δ
        entry = self.velocity.get(id(x))
        if entry is None or entry[0] is not x:
            v = np.zeros_like(dx)
        else:
            v = entry[1]
        v = self.rho * v + self.eta * dx
        self.velocity[id(x)] = (x, v)
        return v.copy()
        # END SOLUTION


def descend(opt, x, grad, steps):
    """``steps`` optimiser steps on the array x, in place: x -= opt.apply(x, grad(x)). Returns x after each step."""
    path = []
    # BEGIN SOLUTION: the loop: ask opt for the step and subtract it from x in place
    for _ in range(steps):
        x -= opt.apply(x, grad(x))
        path.append(x.copy())
    # END SOLUTION
    return path


if __name__ == "__main__":
    import nn
    x, g = np.zeros(2), np.array([1.0, -2.0])
    mine, flux = Momentum(0.1, 0.9), nn.Momentum(0.1, 0.9)
    for k in range(3):
        print(f"step {k + 1}: yours {mine.apply(x, g)}, nn.Momentum's {nn.apply(flux, x, g)}")
