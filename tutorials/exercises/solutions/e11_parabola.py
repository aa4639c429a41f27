"""Exercise 11 -- fitting a Parabola by gradient descent (follows tutorial 4, "Teaching myself ML").

A model is a struct plus a call. The ``Parabola`` has three fields and predicts

    ŷ = a·x² + b·x + c

Its cost on data (x, y) is the mean squared error, mse(ŷ, y) = (1/n) Σ (ŷᵢ - yᵢ)². The gradient of the cost
*with respect to the model* is one number per field, ∂mse/∂a, ∂mse/∂b, ∂mse/∂c: the tracker gives it,
``dualnum.tracker.gradient(lambda m: mse(m(x), y), model)[0]`` is a dict {"a": ..., "b": ..., "c": ...}. (By hand:
∂mse/∂a = (2/n) Σ (ŷᵢ - yᵢ)·xᵢ², and likewise with xᵢ and 1 for b and c.) Gradient descent moves every field
against its derivative, field ← field - rate·∂mse/∂field, and repeats.

Write:
1. ``Parabola.__call__(x)``: a·x² + b·x + c, for a number or a numpy array x;
2. ``mse(ŷ, y)``: the mean squared error, one number;
3. ``loss_gradient(model, x, y)``: the dict of ∂mse/∂field from ``dualnum.tracker.gradient``;
4. ``descent_step(model, g, rate)``: every field ← field - rate·g[field], changing the model in place;
5. ``fit(model, x, y, rate, steps)``: ``steps`` descent steps; return the list of the costs, the starting cost first
   and then the cost after each step (``steps + 1`` numbers).

On the data below (x from -1 to 1), rate = 0.5 is stable and 500 steps reach ``np.polyfit(x, y, 2)``.
Check it with ``python -m tutorials.exercises check 11``.
"""
import dataclasses

import numpy as np

from dualnum import tracker


@dataclasses.dataclass
class Parabola:
    a: float
    b: float
    c: float

    def __call__(self, x):
        # BEGIN SOLUTION: the prediction a·x² + b·x + c
        return self.a * x ** 2 + self.b * x + self.c
        # END SOLUTION


def mse(ŷ, y):
    """The mean squared error (1/n) Σ (ŷ - y)²."""
    # BEGIN SOLUTION: the mean of the squared differences
    return np.mean((ŷ - y) ** 2)
    # END SOLUTION


def loss_gradient(model, x, y):
    """{field: ∂mse(model(x), y)/∂field} for the fields a, b, c, by the tracker (reverse mode)."""
    # BEGIN SOLUTION: the gradient with respect to the model (the tracker returns one entry per field)
    cost = lambda m: mse(m(x), y)  # noqa: E731  # no-mutate: mse is symmetric, mse(y, m(x)) is the same
    return tracker.gradient(cost, model)[0]
    # END SOLUTION


def descent_step(model, g, rate):
    """One gradient-descent step, in place: field ← field - rate·g[field] for every field of the model."""
    for field in dataclasses.fields(model):
        # BEGIN SOLUTION: move this field against its derivative
        setattr(model, field.name, getattr(model, field.name) - rate * g[field.name])
        # END SOLUTION


def fit(model, x, y, rate=0.5, steps=500):
    """``steps`` gradient-descent steps on the model; returns the costs, the starting one first (steps + 1 numbers)."""
    costs = [float(mse(model(x), y))]
    # BEGIN SOLUTION: the loop: gradient, step, then record the new cost
    for _ in range(steps):
        descent_step(model, loss_gradient(model, x, y), rate)
        cost = mse(model(x), y)  # no-mutate: mse is symmetric, mse(y, model(x)) is the same number
        costs.append(float(cost))
    # END SOLUTION
    return costs


def data():
    """41 points on [-1, 1]: y = 2x² - x + 0.5 plus a fixed wiggle (so that no parabola fits exactly)."""
    x = np.linspace(-1.0, 1.0, 41)
    return x, 2 * x ** 2 - x + 0.5 + 0.1 * np.sin(7 * x)


if __name__ == "__main__":
    x, y = data()
    model = Parabola(0.0, 0.0, 0.0)
    costs = fit(model, x, y)
    print(f"cost {costs[0]:.4f} -> {costs[-1]:.6f}; fitted {model}; np.polyfit {np.polyfit(x, y, 2)}")
