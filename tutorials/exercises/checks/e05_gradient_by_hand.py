"""Checks for exercise 05: Rosenbrock's value, its gradient by hand, the residuals and their JVP.

References are computed here without the student's code: the terms of f summed one at a time in a Python loop,
the gradient collected term by term, central differences of that reference f, and hand-computed numbers at
(-1.2, 1). dualnum's forward and reverse modes run on the student's own ``rosenbrock`` (so it must be written
with numpy operations) and are compared with the reference gradient, not with the student's hand gradient.
"""
import numpy as np

import dualnum
from dualnum import tracker
from tutorials.exercises import grader

NAME = "a gradient by hand"
TASK = "write Rosenbrock's f, its gradient by hand and the JVP of its residuals; check them against dualnum"
FOLLOWS = "tutorial 1 (how Flux works) and tutorial 5 (dual numbers from scratch)"
TIME_LIMIT = 60


def f_ref(x):
    """Σᵢ 100(xᵢ₊₁ - xᵢ²)² + (1 - xᵢ)², one term at a time."""
    return float(sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(len(x) - 1)))


def grad_ref(x):
    """∇f collected term by term: term i sends ∂/∂xᵢ and ∂/∂xᵢ₊₁."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(len(x) - 1):
        u = x[i + 1] - x[i] ** 2
        g[i] += 100.0 * 2 * u * (-2 * x[i]) + 2 * (1.0 - x[i]) * (-1.0)
        g[i + 1] += 100.0 * 2 * u
    return g


def hess_ref(x):
    """The tridiagonal Hessian, term by term: term i adds to the 2×2 block of xᵢ, xᵢ₊₁."""
    x = np.asarray(x, dtype=float)
    H = np.zeros((len(x), len(x)))
    for i in range(len(x) - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i, i + 1] += -400.0 * x[i]
        H[i + 1, i] += -400.0 * x[i]
        H[i + 1, i + 1] += 200.0
    return H


def res_ref(x):
    n = len(x)
    return np.array([10.0 * (x[i + 1] - x[i] ** 2) for i in range(n - 1)] + [1.0 - x[i] for i in range(n - 1)])


def jvp_ref(x, v):
    n = len(x)
    return np.array([10.0 * (v[i + 1] - 2 * x[i] * v[i]) for i in range(n - 1)] + [-v[i] for i in range(n - 1)])


def _arr(f):
    """The student's result as a float array (a tracked or dual result refused: these are plain numpy)."""
    return lambda: np.asarray(f(), dtype=float)


def checks(student):
    rng = np.random.default_rng(5)
    classic = np.array([-1.2, 1.0])
    # hand-computed: f = 100(1 - 1.44)² + (1 + 1.2)² = 19.36 + 4.84 = 24.2;
    # ∂f/∂x₀ = -400·(-1.2)·(1 - 1.44) - 2·(1 + 1.2) = -211.2 - 4.4 = -215.6;  ∂f/∂x₁ = 200·(1 - 1.44) = -88
    xs = [rng.uniform(-2, 2, n) for n in (2, 3, 6)]
    floor = np.array([0.5, 0.25, 0.0625, 0.00390625])   # xᵢ₊₁ = xᵢ²: every 100(…)² term and its derivative vanish

    # ---- 1. rosenbrock --------------------------------------------------------------------------------------
    yield grader.close("f(-1.2, 1) = 24.2", lambda: student.rosenbrock(classic.copy()), 24.2,
                       hint="f = 100·(x₁ - x₀²)² + (1 - x₀)²: check the factor 100, the squares and the slices")
    yield grader.close("f(1, 1, 1, 1) = 0 (the minimum)", lambda: student.rosenbrock(np.ones(4)), 0.0,
                       hint="at x = 1 both parts of every term are 0; check the sign inside (1 - xᵢ)")
    for x in xs:
        yield grader.close(f"f at a random x of {len(x)} numbers", lambda x=x: student.rosenbrock(x.copy()),
                           f_ref(x), hint="sum over i = 0..n-2 of 100·(x[i+1] - x[i]²)² + (1 - x[i])²: "
                                          "x[1:] is xᵢ₊₁ and x[:-1] is xᵢ; the result is one number (np.sum)")
    yield grader.close("f on the valley floor xᵢ₊₁ = xᵢ² (only the (1 - xᵢ)² terms are left)",
                       lambda: student.rosenbrock(floor.copy()), f_ref(floor),
                       hint="there the 100·(…)² terms are 0: check (1 - xᵢ)², summed over i = 0..n-2 only")

    # ---- 2. the gradient by hand ----------------------------------------------------------------------------
    yield grader.close("∇f(-1.2, 1) = (-215.6, -88) by hand", _arr(lambda: student.rosenbrock_grad(classic.copy())),
                       np.array([-215.6, -88.0]),
                       hint="∂f/∂x₀ = -400·x₀·(x₁ - x₀²) - 2·(1 - x₀), ∂f/∂x₁ = 200·(x₁ - x₀²)")
    yield grader.close("∇f(1, 1, 1) = 0 (the minimum)", _arr(lambda: student.rosenbrock_grad(np.ones(3))),
                       np.zeros(3), hint="every part of the gradient vanishes at x = 1: check the signs of (1 - xⱼ)")
    yield grader.close("∇f on the valley floor: only -2·(1 - xⱼ) is left", _arr(
        lambda: student.rosenbrock_grad(floor.copy())), grad_ref(floor),
        hint="where xⱼ₊₁ = xⱼ², ∂f/∂xⱼ = -2·(1 - xⱼ) for j ≤ n-2 and 0 for the last: check the sign and the 2")
    for x in xs:
        yield grader.close(f"∇f at a random x of {len(x)} numbers, against the formula term by term",
                           _arr(lambda x=x: student.rosenbrock_grad(x.copy())), grad_ref(x), rtol=1e-9,
                           hint="xⱼ gets -400·xⱼ·(xⱼ₊₁ - xⱼ²) - 2·(1 - xⱼ) from the term it starts and "
                                "200·(xⱼ - xⱼ₋₁²) from the term it ends: check which entries differ")
    x = xs[2]
    yield grader.close("∇f at a random x against central differences of f",
                       _arr(lambda: student.rosenbrock_grad(x.copy())), lambda: grader.fd_gradient(f_ref, x),
                       rtol=1e-5, atol=1e-5, hint="your hand gradient is not the slope of f: check each factor "
                                                  "(400 = 100·2·2, 200 = 100·2) and each sign")
    yield grader.close("∇f keeps x's shape and leaves x unchanged",
                       lambda: (lambda x0: (student.rosenbrock_grad(x0), x0)[1])(xs[1].copy()), xs[1],
                       hint="return a new array g; do not write into x")

    # ---- 3. dualnum runs your rosenbrock: both modes against the reference gradient ---------------------------
    for x in xs[1:]:
        yield grader.close(f"dualnum.gradient(rosenbrock, x) (forward mode, n = {len(x)})",
                           lambda x=x: dualnum.gradient(student.rosenbrock, x.copy())[0], grad_ref(x), rtol=1e-9,
                           hint="forward mode ran your rosenbrock on dual numbers: if the value checks pass, use "
                                "only numpy operations (no float(), math.*, or np.array(..., dtype=float) inside)")
        yield grader.close(f"dualnum.tracker.gradient(rosenbrock, x) (reverse mode, n = {len(x)})",
                           lambda x=x: tracker.gradient(student.rosenbrock, x.copy())[0], grad_ref(x), rtol=1e-9,
                           hint="reverse mode ran your rosenbrock on tracked values: use only numpy operations")
    for k, v in enumerate([np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0]), rng.standard_normal(6)]):
        x = xs[2]
        yield grader.close(f"dualnum.jvp(rosenbrock, x, v)[1] = ∇f·v (direction {k + 1})",
                           lambda x=x, v=v: dualnum.jvp(student.rosenbrock, x.copy(), v)[1],
                           float(grad_ref(x) @ v), rtol=1e-9,
                           hint="the derivative of f along v is ∇f·v; forward mode runs your rosenbrock once")

    # second order: dualnum nests its modes through your rosenbrock (forward over forward, forward over reverse)
    yield grader.close("dualnum.hessian(rosenbrock, (-1.2, 1)) = [[1330, 480], [480, 200]] by hand",
                       lambda: dualnum.hessian(student.rosenbrock, classic.copy()),
                       np.array([[1330.0, 480.0], [480.0, 200.0]]), rtol=1e-9,
                       hint="∂²f/∂x₀² = 1200x₀² - 400x₁ + 2, ∂²f/∂x₀∂x₁ = -400x₀, ∂²f/∂x₁² = 200: if your f's values "
                            "pass, write it with numpy operations only")
    for method in ("forward-over-forward", "forward-over-reverse"):
        yield grader.close(f"dualnum.hessian(rosenbrock, x, method={method!r}) at a random x of 6 numbers",
                           lambda m=method: dualnum.hessian(student.rosenbrock, xs[2].copy(), method=m),
                           hess_ref(xs[2]), rtol=1e-9, hint="use numpy operations only, so both modes can nest")

    # ---- 4. the residuals -----------------------------------------------------------------------------------
    yield grader.close("r(-1.2, 1) = [10·(1 - 1.44), 1 + 1.2] = [-4.4, 2.2]",
                       _arr(lambda: student.residuals(classic.copy())), np.array([-4.4, 2.2]),
                       hint="r = [10·(x[1:] - x[:-1]²), 1 - x[:-1]], all the first kind, then the second")
    for x in xs:
        yield grader.close(f"r(x) at a random x of {len(x)} numbers", _arr(lambda x=x: student.residuals(x.copy())),
                           res_ref(x), hint="r = [10·(x[1:] - x[:-1]²), 1 - x[:-1]]: 2(n-1) numbers, joined with "
                                            "np.concatenate in that order")
    yield grader.close("Σ r(x)² = f(x)", lambda: np.sum(np.asarray(student.residuals(xs[2].copy()), float) ** 2),
                       f_ref(xs[2]), hint="10² = 100: the residuals must square to Rosenbrock's terms")

    # ---- 5. the JVP by hand, and forward mode along the same directions -------------------------------------
    dirs = [np.eye(6)[0], np.eye(6)[5], rng.standard_normal(6), rng.standard_normal(6)]
    x = xs[2]
    for k, v in enumerate(dirs):
        yield grader.close(f"J(x)·v by hand (direction {k + 1})",
                           _arr(lambda v=v: student.residuals_jvp(x.copy(), v.copy())), jvp_ref(x, v), rtol=1e-9,
                           hint="d(10·(xᵢ₊₁ - xᵢ²)) = 10·(vᵢ₊₁ - 2·xᵢ·vᵢ) and d(1 - xᵢ) = -vᵢ: check the 2 "
                                "of the chain rule, the signs, and which slice of v goes with which of x")
    v = dirs[2]
    yield grader.close("dualnum.jvp(residuals, x, v): forward mode through your residuals",
                       lambda: dualnum.jvp(student.residuals, x.copy(), v)[1], jvp_ref(x, v), rtol=1e-9,
                       hint="forward mode ran your residuals on dual numbers: use numpy operations only")
    h = 1e-6
    yield grader.close("J(x)·v by hand against central differences (r(x + hv) - r(x - hv)) / 2h",
                       _arr(lambda: student.residuals_jvp(x.copy(), v.copy())),
                       lambda: (res_ref(x + h * v) - res_ref(x - h * v)) / (2 * h), rtol=1e-5, atol=1e-6,
                       hint="your JVP is not the change of r along v: differentiate each residual again")
    x2, v2 = xs[0], np.array([0.3, -0.7])
    yield grader.close("J(x)·v for n = 2", _arr(lambda: student.residuals_jvp(x2.copy(), v2.copy())),
                       jvp_ref(x2, v2), rtol=1e-9, hint="with two numbers there are two residuals: "
                                                        "[10·(v₁ - 2·x₀·v₀), -v₀]")
