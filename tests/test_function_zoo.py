"""A zoo of small programs a student (or ForwardDiff's and autograd's own suites) would differentiate: scalar to
scalar, vector and matrix to scalar, vector to vector, with ordinary numpy code -- linear algebra, contractions,
loops, indexing, in-place updates, arrays built from scalars.

Every program is differentiated in forward mode and in reverse mode, each checked against central differences;
scalar programs also get their second derivatives three ways (forward over forward, forward over reverse, and
central differences of the gradient), which must agree.
"""
import math

import numpy as np
import pytest

import dualnum
from dualnum import tracker
from dualnum.testing import numeric_gradient

RNG = np.random.default_rng(7)
VEC = np.array([0.9, 1.3, 0.7, 1.6, 1.1])
MAT = np.array([[1.4, 0.3, -0.2], [0.1, 1.1, 0.4], [-0.3, 0.2, 0.9]])
RHS = np.array([0.5, -1.0, 2.0])


def rosenbrock_loop(x):
    total = 0.0
    for i in range(len(x) - 1):
        total = total + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def ackley(x):
    n = x.shape[0]
    return (-20.0 * np.exp(-0.2 * np.sqrt(np.sum(x * x) / n)) - np.exp(np.sum(np.cos(2 * np.pi * x)) / n)
            + 20.0 + math.e)


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def in_place_updates(x):
    y = x * 1.0
    y += 1.0
    y[1:] -= x[:-1]
    y[y > 1.5] *= 2.0
    y /= 3.0
    return np.sum(y * y)


def built_from_scalars(x):
    a = np.array([x[0] * x[1], x[1] ** 2, np.sin(x[2])])
    b = np.stack([x[3], x[4] * 2.0])
    return np.sum(a ** 2) + np.prod(b) + np.concatenate([a, b])[2]


SCALAR = {  # f: R -> R, at x
    "sin²/cos²": (lambda x: np.sin(x) ** 2 / np.cos(x) ** 2, 0.4),
    "2x + √x³": (lambda x: 2 * x + np.sqrt(x * x * x), 1.7),
    "10.31^(2x) - x": (lambda x: 10.31 ** (x + x) - x, 0.3),
    "logistic": (lambda x: 1.0 / (1.0 + np.exp(-x)), -0.6),
    "hypot, arctan2": (lambda x: np.hypot(x, 2.0) * np.arctan2(x, 3.0), 1.2),
    "tanh log1p": (lambda x: np.tanh(x) * np.log1p(x * x), 0.8),
    "loop power": (lambda x: sum(x ** k / math.factorial(k) for k in range(6)), 0.5),
}

TO_NUMBER = {  # f: array -> R, at x
    "(exp x₁ + log x₃·x₄)/x₅": (lambda x: (np.exp(x[0]) + np.log(x[2]) * x[3]) / x[4], VEC),
    "x₁x₂ + sin x₁": (lambda x: x[0] * x[1] + np.sin(x[0]), VEC),
    "norm": (lambda x: np.linalg.norm(x), VEC),
    "sum + prod": (lambda x: np.sum(x) + np.prod(x), VEC),
    "Σ(-x)³": (lambda x: np.sum((-x) ** 3), VEC),
    "Σ relu": (lambda x: np.sum(np.where(x > 1.0, x, 0.0)), VEC),
    "Σ x₁·x": (lambda x: np.sum(x[0] * x), VEC),
    "rosenbrock": (lambda x: np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2), VEC),
    "rosenbrock loop": (rosenbrock_loop, VEC),
    "ackley": (ackley, VEC),
    "self-weighted logit": (lambda x: 1.0 / (1.0 + np.exp(-np.dot(x, x))), VEC * 0.3),
    "nested products": (lambda x: x @ (np.outer(x, x) @ x), VEC),
    "first element": (lambda x: x[0], VEC),
    "softmax sum": (lambda x: np.sum(np.exp(x) / np.sum(np.exp(x))) * x[1], VEC),
    "logsumexp": (logsumexp, VEC),
    "std, var ddof=1": (lambda x: np.std(x) + np.var(x, ddof=1), VEC),
    "two smallest": (lambda x: np.sum(np.sort(x)[:2] ** 2), VEC),
    "Σ cumprod": (lambda x: np.sum(np.cumprod(x)), VEC),
    "in-place updates": (in_place_updates, VEC),
    "built from scalars": (built_from_scalars, VEC),
    "det(x₁₁ inv(x x) + x)": (lambda x: np.linalg.det(x[0, 0] * np.linalg.inv(x @ x) + x), MAT),
    "mean Σ sin(x) x": (lambda x: np.mean(np.sum(np.sin(x) @ x, axis=1)), MAT),
    "trace(x x)": (lambda x: np.trace(x @ x), MAT),
    "logabsdet": (lambda x: np.linalg.slogdet(x)[1], MAT),
    "Σ solve(x, b)": (lambda x: np.sum(np.linalg.solve(x, RHS) ** 2), MAT),
    "Σ solve(x, xᵀ)": (lambda x: np.sum(np.linalg.solve(x, x.T)), MAT),
    "frobenius, nuclear, 2-norm": (lambda x: np.linalg.norm(x) + np.linalg.norm(x, "nuc") + np.linalg.norm(x, 2),
                                   MAT),
    "largest eigenvalue": (lambda x: np.linalg.eigvalsh(x + x.T)[-1], MAT),
    "Σ cholesky(x xᵀ + I)": (lambda x: np.sum(np.linalg.cholesky(x @ x.T + np.eye(3))), MAT),
    "Σ einsum(ij,jk)": (lambda x: np.sum(np.einsum("ij,jk->ik", x, x) ** 2), MAT),
    "Σ kron(x, x)": (lambda x: np.sum(np.kron(x, x) ** 2), MAT),
    "Σ x³ (matrix power)": (lambda x: np.sum(np.linalg.matrix_power(x, 3)), MAT),
    "quadratic form": (lambda x: np.einsum("i,ij,j", x[:, 0], x, x[0]), MAT),
}

TO_ARRAY = {  # f: array -> array, at x
    "chebyquad-like": (lambda x: np.array([np.mean(np.cos(k * np.arccos(2 * x / 2.0 - 1.0))) for k in (1, 2, 3)]),
                       VEC * 0.5),
    "brown almost linear": (lambda x: np.concatenate([x[:-1] + np.sum(x) - (len(x) + 1), [np.prod(x) - 1.0]]),
                            VEC),
    "trigonometric": (lambda x: len(x) - np.sum(np.cos(x)) + np.arange(1, len(x) + 1) * (1 - np.cos(x))
                      - np.sin(x), VEC),
    "row + row + corner": (lambda x: x[0, :] + x[0, :] + x[0, 0], MAT),
    "-x, xᵀ, x x": (lambda x: np.concatenate([(-x).ravel(), x.T.ravel(), (x @ x).ravel()]), MAT),
    "inv": (lambda x: np.linalg.inv(x), MAT),
    "solve(x, xᵀ)": (lambda x: np.linalg.solve(x, x.T), MAT),
    "x / xᵀ (right division)": (lambda x: np.linalg.solve(x.T, x.T).T, MAT),
    "eigh values": (lambda x: np.linalg.eigh(x @ x.T)[0], MAT),
    "singular values": (lambda x: np.linalg.svd(x, compute_uv=False), MAT),
}


def reverse_gradient(f, x):
    return np.asarray(tracker.gradient(f, x)[0], dtype=float)


def numeric_jacobian(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        cols.append((np.ravel(f(x + e)) - np.ravel(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def check(got, want, what, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("name", list(SCALAR))
def test_scalar_programs(name):
    f, x = SCALAR[name]
    fd = numeric_gradient(f, x)[0]
    check(dualnum.derivative(f, x), fd, "forward")
    check(tracker.gradient(f, x)[0], fd, "reverse")
    fd2 = numeric_gradient(lambda z: dualnum.derivative(f, z), x)[0]
    check(dualnum.derivative(f, x, order=2), fd2, "forward over forward", rtol=1e-4)
    check(dualnum.hessian(f, x, method="forward-over-reverse"), fd2, "forward over reverse", rtol=1e-4)


@pytest.mark.parametrize("name", list(TO_NUMBER))
def test_programs_to_a_number(name):
    f, x = TO_NUMBER[name]
    fd = numeric_gradient(f, x)[0]
    check(dualnum.gradient(f, x)[0], fd, "forward")
    check(reverse_gradient(f, x), fd, "reverse")
    h_ff = dualnum.hessian(f, x)
    h_fr = dualnum.hessian(f, x, method="forward-over-reverse")
    h_fd = numeric_jacobian(lambda z: dualnum.gradient(f, z)[0], x).reshape(h_ff.shape)
    check(h_ff, h_fd, "forward over forward vs differences of the gradient", rtol=1e-4, atol=1e-5)
    check(h_fr, h_ff, "forward over reverse vs forward over forward", rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", list(TO_ARRAY))
def test_programs_to_an_array(name):
    f, x = TO_ARRAY[name]
    fd = numeric_jacobian(f, x)
    y = np.ravel(f(x))
    j_fwd = np.asarray(dualnum.jacobian(f, x), dtype=float).reshape(fd.shape)
    check(j_fwd, fd, "forward jacobian")
    rows = [np.ravel(reverse_gradient(lambda z, i=i: np.ravel(f(z))[i], x)) for i in range(y.size)]
    check(np.stack(rows), fd, "reverse jacobian, row by row")
