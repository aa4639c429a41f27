"""Checks for exercise 11 (fitting the Parabola): the model and the cost against closed forms, the gradient against
central differences and the closed form, one step by hand, the descent path against gradient descent written with
numpy, and the fit against np.polyfit."""
import numpy as np

from tutorials.exercises import grader

NAME = "fitting the Parabola"
TASK = "fit y = a·x² + b·x + c by gradient descent with the tracker's gradient of the model"
FOLLOWS = "tutorial 4 (teaching myself ML: a Parabola with the same code)"
TIME_LIMIT = 30

# the checker's own data (not the student file's): 33 points on [-1, 1], a parabola plus a wiggle
X = np.linspace(-1.0, 1.0, 33)
Y = -1.5 * X ** 2 + 0.8 * X + 2.0 + 0.2 * np.cos(5 * X)
A = np.stack([X ** 2, X, np.ones_like(X)], axis=1)   # the design matrix: ŷ = A @ (a, b, c)


def _cost(p):
    return float(np.mean((A @ p - Y) ** 2))


def _grad(p):
    """∇mse = (2/n) Aᵀ (A p - y): ∂/∂a = (2/n) Σ rᵢ xᵢ², ∂/∂b = (2/n) Σ rᵢ xᵢ, ∂/∂c = (2/n) Σ rᵢ."""
    return 2 / X.size * A.T @ (A @ p - Y)


def _descent(p, rate, steps):
    """Gradient descent with numpy and the closed-form gradient: the costs, the starting one first."""
    p = np.array(p, dtype=float)
    costs = [_cost(p)]
    for _ in range(steps):
        p = p - rate * _grad(p)
        costs.append(_cost(p))
    return p, costs


def _fields(model):
    return np.array([model.a, model.b, model.c], dtype=float)


def checks(student):
    P = student.Parabola

    # ŷ at x = 0, 1, -2, 0.5 for (a, b, c) = (2, -3, 5): 5;  2 - 3 + 5 = 4;  8 + 6 + 5 = 19;  0.5 - 1.5 + 5 = 4
    yield grader.close("Parabola(2, -3, 5) at x = [0, 1, -2, 0.5] (expected [5, 4, 19, 4])",
                       lambda: P(2.0, -3.0, 5.0)(np.array([0.0, 1.0, -2.0, 0.5])), np.array([5.0, 4.0, 19.0, 4.0]),
                       hint="ŷ = a·x² + b·x + c: x squared for a, x itself for b, c alone")
    yield grader.close("Parabola(0.5, 0, -1) at x = 3 (a plain number: 0.5·9 - 1 = 3.5)",
                       lambda: P(0.5, 0.0, -1.0)(3.0), 3.5, hint="ŷ = a·x² + b·x + c for a number x too")

    # mse([1, 2, 3], [1, 0, 0]) = (0 + 4 + 9) / 3
    yield grader.close("mse([1, 2, 3], [1, 0, 0]) (expected 13/3)",
                       lambda: student.mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0])), 13 / 3,
                       hint="the MEAN of the squared differences: square each difference, then average (not sum)")
    yield grader.close("mse([2, 4], [3, 1]) (expected (1 + 9) / 2 = 5)",
                       lambda: student.mse(np.array([2.0, 4.0]), np.array([3.0, 1.0])), 5.0,
                       hint="mse = (1/n) Σ (ŷ - y)²: the difference squared (not its absolute value)")

    p0 = np.array([0.3, -0.7, 1.1])

    def grad_keys():
        return sorted(student.loss_gradient(P(*p0), X, Y))

    yield grader.equal("loss_gradient returns one entry per field", grad_keys, ["a", "b", "c"],
                       hint="tracker.gradient(lambda m: mse(m(x), y), model)[0] is a dict keyed by field name")

    def grad_values():
        g = student.loss_gradient(P(*p0), X, Y)
        return np.array([float(np.asarray(g[k])) for k in "abc"])

    yield grader.close("∂mse/∂(a, b, c) at (0.3, -0.7, 1.1) vs central differences", grad_values,
                       lambda: grader.fd_gradient(_cost, p0), rtol=1e-6, atol=1e-8,
                       hint="differentiate mse(model(x), y) with respect to the model (the lambda's argument m, "
                            "called on x) -- not the model you were given, which the tracker does not see")
    yield grader.close("∂mse/∂(a, b, c) at (0.3, -0.7, 1.1) vs (2/n) Σ (ŷ - y)·(x², x, 1)", grad_values,
                       _grad(p0), hint="∂mse/∂a = (2/n) Σ (ŷᵢ - yᵢ)·xᵢ²; a factor 2 or a sign points at mse")

    # one step by hand: (1, 2, 3) - 0.1 · (10, -20, 0.5) = (0, 4, 2.95)
    def one_step():
        m = P(1.0, 2.0, 3.0)
        r = student.descent_step(m, {"a": 10.0, "b": -20.0, "c": 0.5}, 0.1)
        if r is not None and r is not m:
            raise TypeError(f"descent_step returned {type(r).__name__}; it should change the model in place "
                            "(and return None)")
        return _fields(m)

    yield grader.close("descent_step(Parabola(1, 2, 3), g = (10, -20, 0.5), rate 0.1) (expected (0, 4, 2.95))",
                       one_step, np.array([0.0, 4.0, 2.95]),
                       hint="field ← field - rate·g[field]: minus (downhill), times the rate, each field its own g")

    # the descent path: the costs of the first steps against numpy's gradient descent
    _, ref_costs = _descent(p0, 0.4, 12)

    def first_costs():
        return np.array(student.fit(P(*p0), X, Y, rate=0.4, steps=12), dtype=float)

    yield grader.close("fit(rate=0.4, steps=12): the costs, the starting one first, vs gradient descent in numpy",
                       first_costs, np.array(ref_costs), rtol=1e-9,
                       hint="costs[0] is the cost before any step, then one cost after each step (steps + 1 in all); "
                            "each step is descent_step(model, loss_gradient(model, x, y), rate)")

    def decreasing():
        c = np.array(student.fit(P(0.0, 0.0, 0.0), X, Y, rate=0.5, steps=200), dtype=float)
        return bool(c.size == 201 and np.all(np.diff(c) < 0))

    yield grader.true("the cost falls at every one of 200 steps with rate 0.5 (below 2/λmax)", decreasing,
                      hint="a stable rate lowers the cost at every step of a quadratic: if it rises, the step goes "
                           "uphill (a sign) or is too long (a factor)")

    p_ls = np.polyfit(X, Y, 2)

    def fitted():
        m = P(0.0, 0.0, 0.0)
        student.fit(m, X, Y, rate=0.5, steps=600)
        return _fields(m)

    yield grader.close("fitted (a, b, c) after 600 steps vs np.polyfit(x, y, 2)", fitted, p_ls, rtol=1e-6,
                       atol=1e-8, hint="fit must change the model it is given, step after step, until it "
                                       "reaches the least-squares parabola")

    def final_cost():
        return student.fit(P(0.0, 0.0, 0.0), X, Y, rate=0.5, steps=600)[-1]

    yield grader.close("the final cost vs the least-squares cost", final_cost, _cost(p_ls), rtol=1e-6,
                       hint="the last entry is the cost after the last step")
