"""DualArray meets numpy and the tracker: composite handlers in both modes, in-place operators, writing into
plain arrays, astype, and the levels rule (forward mode sees through tracked values nobody differentiates)."""
import numpy as np
import pytest

import dualnum as dn
from dualnum import tracker
from dualnum.dualarray import DualArray
from dualnum.testing import numeric_gradient

X = np.array([0.5, -1.2, 2.0])


def fd(f, x):
    return numeric_gradient(f, x)[0]


def grad(mode, f, x):
    """The gradient of f at x in forward mode or in reverse mode."""
    return (dn.gradient if mode == "forward" else tracker.gradient)(f, x)[0]


# ---- composites: numpy's results, in both modes ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_inner_with_a_scalar_is_a_product(mode):
    w = np.array([1.0, 2.0, 3.0])
    f = lambda x: np.sum(np.inner(1.5, x) * w)  # noqa: E731 -- inner(1.5, x) = 1.5 x, not Σ 1.5 x
    g = grad(mode, f, X)
    np.testing.assert_allclose(g, fd(f, X), rtol=1e-6)
    y = DualArray(X, np.eye(3)) if mode == "forward" else tracker.param(X)
    assert np.shape(dn.value(np.inner(1.5, y))) == np.inner(1.5, X).shape == (3,)
    assert np.shape(dn.value(np.inner(y, 2.0))) == (3,)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_vdot_flattens_and_inner_contracts_the_last_axes(mode):
    A, B = np.arange(6.0).reshape(2, 3) / 5, np.arange(6.0, 12.0).reshape(2, 3) / 7
    wrap = (lambda a: DualArray(a, np.ones((1,) + a.shape))) if mode == "forward" else tracker.param
    np.testing.assert_allclose(dn.value(np.vdot(wrap(A), B)), np.vdot(A, B))
    np.testing.assert_allclose(dn.value(np.inner(wrap(A), B)), np.inner(A, B))
    np.testing.assert_allclose(dn.value(np.dot(wrap(A), B.T)), np.dot(A, B.T))
    with pytest.raises(ValueError):
        np.vdot(wrap(A), np.ones(5))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("func, shape, expected", [
    (np.atleast_1d, (), (1,)), (np.atleast_2d, (), (1, 1)), (np.atleast_2d, (3,), (1, 3)),
    (np.atleast_3d, (), (1, 1, 1)), (np.atleast_3d, (3,), (1, 3, 1)), (np.atleast_3d, (2, 3), (2, 3, 1))])
def test_atleast_nd_gives_numpy_shapes(mode, func, shape, expected):
    x = np.full(shape, 0.7)
    assert func(x).shape == expected
    y = DualArray(x, np.ones((1,) + shape)) if mode == "forward" else tracker.param(x)
    out = func(y)
    assert np.shape(dn.value(out)) == expected
    f = lambda v: np.sum(func(v) * np.arange(1.0, 1.0 + np.prod(expected)).reshape(expected))  # noqa: E731
    x1 = np.full(shape, 0.7) if shape else 0.7
    g = grad(mode, f, x1)
    np.testing.assert_allclose(g, fd(f, x1), rtol=1e-6)


# ---- square roots at 0: the subgradient 0, not NaN ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("func", [np.std, np.var])
def test_std_and_var_of_one_element_have_gradient_zero(mode, func):
    # one element: std and var are the constant 0, so the derivative is 0 (it was NaN: sqrt'(0) · 0)
    x = np.array([2.0])
    g = grad(mode, func, x)
    np.testing.assert_array_equal(g, fd(func, x))
    np.testing.assert_array_equal(g, [0.0])
    x2 = np.array([[1.0, 2.0, 4.0]])
    f = lambda v: np.sum(np.std(v, axis=0))  # noqa: E731 -- a column of one element each
    g = grad(mode, f, x2)
    np.testing.assert_array_equal(g, np.zeros((1, 3)))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_norm_of_zero_vector_has_the_subgradient_zero(mode):
    # PyTorch's choice: ‖x‖ at x = 0 has the subgradient 0 (numpy-consistent NaN would poison a whole model)
    z = np.zeros(3)
    g = grad(mode, np.linalg.norm, z)
    np.testing.assert_array_equal(g, np.zeros(3))
    x = np.array([3.0, 0.0, -4.0])  # elsewhere the gradient is x / ‖x‖, as before
    g = grad(mode, np.linalg.norm, x)
    np.testing.assert_allclose(g, x / 5.0)


def test_std_hessian_stays_finite_for_one_element():
    H = dn.hessian(lambda v: np.std(v), np.array([2.0]))
    np.testing.assert_array_equal(H, [[0.0]])
