"""DualArray meets numpy and the tracker: composite handlers in both modes, in-place operators, writing into
plain arrays, astype, and the levels rule (forward mode sees through tracked values nobody differentiates)."""
import numpy as np
import pytest

import dualnum as dn
from dualnum import tracker
from dualnum.forward.dualarray import DualArray
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


# ---- in-place operators in forward mode -----------------------------------------------------------------------

def _inplace(x):
    y = x * 2
    v = y[1:]  # a view: it sees every in-place change of y, as in numpy
    y += 1
    y *= x
    y -= 0.5
    y /= 2.0
    y **= 2
    y[np.array([True, False, True])] *= 3
    return np.sum(y) + np.sum(v)


def _rebinding(x):
    y = ((((x * 2 + 1) * x - 0.5) / 2.0) ** 2) * np.array([3.0, 1.0, 3.0])
    return np.sum(y) + np.sum(y[1:])


def test_inplace_operators_write_into_the_dual_array():
    x = np.array([0.5, 1.5, -2.0])
    np.testing.assert_allclose(dn.gradient(_inplace, x)[0], fd(_rebinding, x), rtol=1e-6)
    np.testing.assert_allclose(dn.gradient(_inplace, x)[0], tracker.gradient(_rebinding, x)[0])
    np.testing.assert_allclose(dn.hessian(_inplace, x), dn.hessian(_rebinding, x))
    np.testing.assert_array_equal(x, [0.5, 1.5, -2.0])  # the caller's array is never written


def test_views_see_inplace_writes_of_read_only_bases():
    def f(x):
        v, t = x[1:], x.T  # views of the (read-only) input: they share its memory once it is written
        x *= 2
        y = x + 1
        w = y[:2]
        y *= 3
        return np.sum(v) + np.sum(t) + np.sum(w)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(dn.gradient(f, x)[0], [2 + 6, 4 + 6, 4])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_inplace_write_does_not_reach_a_result_made_from_it():
    def f(x):
        a = x * 2
        y = a + 1  # a new array: a's later changes are not y's
        a *= 3
        return np.sum(y)
    np.testing.assert_allclose(dn.gradient(f, np.array([1.0, 2.0, 3.0]))[0], 2.0)


def test_item_assignment_does_not_reach_a_result_made_from_it():
    def f(x):
        a = x * 2
        y = 1 + a  # shares a's partials until one of them is written into
        a[0] = 7.0
        a[1:] += y[1:]
        return np.sum(y) + np.sum(a)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(dn.gradient(f, x)[0], [2.0, 6.0, 6.0])


def test_flatten_and_astype_copy_as_numpy_does():
    y = DualArray(np.array([1.0, 2.0]), np.eye(2)) * 1.0
    f, a, r = y.flatten(), y.astype(float), y.ravel()
    f += 1
    a *= 3
    r -= 1  # ravel is a view: y sees it
    np.testing.assert_array_equal(y.value, [0.0, 1.0])
    np.testing.assert_array_equal(f.value, [2.0, 3.0])
    np.testing.assert_array_equal(a.partials, 3 * np.eye(2))
    np.testing.assert_array_equal(y.partials, np.eye(2))


def test_inplace_follows_numpys_shape_rule_and_out():
    y = DualArray(np.array([1.0, 2.0, 3.0]), np.eye(3))
    with pytest.raises(ValueError, match="non-broadcastable output operand"):
        y += np.ones((2, 3))
    y += np.ones(3)  # broadcasting the right-hand side is fine
    np.sin(y, out=y)  # out= a DualArray: in place too
    np.testing.assert_allclose(y.value, np.sin([2.0, 3.0, 4.0]))
    np.testing.assert_allclose(y.partials, np.diag(np.cos([2.0, 3.0, 4.0])))
    a = np.zeros(3)
    with pytest.raises(TypeError, match="out="):  # a plain array cannot hold the derivatives
        a += y
    c = DualArray(np.ones(3))  # a constant (no partials) takes the partials of what is added in
    c += y
    np.testing.assert_allclose(c.partials, y.partials)


# ---- writing a dual into a plain float array: one clear message ----------------------------------------------

@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_storing_a_dual_in_a_float_array_says_float_drops_the_derivative(mode):
    messages = []

    def f(x):
        for v in (np.sum(x), x[0]):  # a 0-d array and an element: numpy used to call the first a sequence
            out = np.zeros(2)
            with pytest.raises(TypeError, match="float\\(\\) would drop the derivative") as e:
                out[0] = v
            messages.append(str(e.value).split(" of ")[0])
        return np.sum(x)
    grad(mode, f, np.array([1.0, 2.0]))
    assert len(messages) == 2 and messages[0] == messages[1]


# ---- astype -------------------------------------------------------------------------------------------------------

def test_astype_honours_float_types_in_both_modes():
    x = np.array([0.1, 1.7, -2.3])
    y = DualArray(x, np.eye(3))
    z = y.astype(np.float32)
    assert z.value.dtype == np.float32 and z.partials.dtype == np.float32
    np.testing.assert_array_equal(z.value, x.astype(np.float32))
    with pytest.raises(TypeError, match="astype"):
        y.astype(np.int64)
    w = y.astype(np.float64)  # numpy copies: writing into the copy leaves y alone
    w += 1
    np.testing.assert_array_equal(y.value, x)
    seen = []

    def f(v):
        u = v.astype(np.float32) * 3
        seen.append(dn.value(u).dtype)
        return np.sum(u * u)
    gf, gr = dn.gradient(f, x)[0], tracker.gradient(f, x)[0]
    assert seen == [np.float32, np.float32]  # the same precision in both modes
    np.testing.assert_allclose(gf, gr, rtol=1e-6)
    np.testing.assert_allclose(gf, 18 * x, rtol=1e-6)


# ---- levels: forward mode over tracked values ------------------------------------------------------------------

def _model():
    import nn
    rng = np.random.default_rng(3)
    W1, b1 = rng.normal(size=(4, 3)), rng.normal(size=4)
    W2, b2 = rng.normal(size=(2, 4)), rng.normal(size=2)
    m = nn.Chain(nn.Dense(3, 4, nn.tanh), nn.Dense(4, 2))
    return m, (W1, b1, W2, b2)


def _plain_model(params, x):
    W1, b1, W2, b2 = params
    return W2 @ np.tanh(W1 @ x + b1) + b2


def test_forward_jacobian_of_an_nn_model_matches_central_differences():
    model, _ = _model()
    x = np.array([0.3, -0.7, 1.1])
    J = dn.jacobian(model, x)
    h = 1e-6
    ref = np.stack([(np.asarray(dn.value(model(x + h * e))) - np.asarray(dn.value(model(x - h * e)))) / (2 * h)
                    for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(J, ref, rtol=1e-6, atol=1e-8)


def test_forward_hessian_through_an_nn_model_matches_central_differences():
    import nn
    model, _ = _model()
    x, y = np.array([0.3, -0.7, 1.1]), np.array([0.5, -0.2])
    f = lambda v: nn.mse(model(v), y)  # noqa: E731
    H = dn.hessian(f, x)
    h, n = 1e-4, 3
    ref = np.zeros((n, n))
    val = lambda v: float(dn.value(f(v)))  # noqa: E731
    for i in range(n):
        for j in range(n):
            ei, ej = h * np.eye(n)[i], h * np.eye(n)[j]
            ref[i, j] = (val(x + ei + ej) - val(x + ei - ej) - val(x - ei + ej) + val(x - ei - ej)) / (4 * h * h)
    np.testing.assert_allclose(H, ref, rtol=1e-5, atol=1e-6)


def test_an_idle_tracked_value_is_its_data_to_a_dual_array():
    W = tracker.param(np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = DualArray(np.array([1.0, 2.0]), np.eye(2))
    for out in (x @ W, W @ x, x * W, W * x, x ** W[0], np.concatenate([x, W[0]]), np.add(x, W[0])):
        assert type(out) is DualArray  # no tracked layer, no np.asarray() error
    np.testing.assert_allclose((x @ W).partials, W.data)
    np.testing.assert_allclose((W @ x).partials, W.data.T)


def test_an_active_tracked_outer_level_records_and_reverse_over_forward_arrays_work():
    from dualnum.tags import new_tag
    # forward-over-reverse (tracked outside, duals inside) is the tracker's to record: hvp
    np.testing.assert_allclose(tracker.hvp(lambda v: np.sum(v ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0])),
                               [6.0, 0.0])

    # reverse-over-forward on arrays: a DualArray of a newer tag whose value is tracked; the tracked x it meets
    # is a constant at the dual's level, and the tracker differentiates everything: d/dx Σ 3x³ = 9x²
    def f(xt):
        xd = DualArray._new(xt, np.eye(2), new_tag())
        return np.sum((xd ** 3 * xt).partials)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(tracker.gradient(f, x)[0], 9 * x ** 2)


def test_reverse_over_forward_with_the_forward_api():
    assert tracker.gradient(lambda x: dn.derivative(lambda y: y ** 3, x), 2.0)[0] == pytest.approx(12.0)
    x = np.array([1.0, 2.0])
    try:  # arrays: the right second derivative, or a clear refusal naming the alternative -- never a wrong one
        g = tracker.gradient(lambda v: np.sum(dn.gradient(lambda y: np.sum(y ** 3), v)[0]), x)[0]
    except TypeError as e:
        assert "forward-over-reverse" in str(e)
    else:
        np.testing.assert_allclose(g, 6 * x)


def test_as_constant_never_calls_asarray_on_a_tracked_value():
    from dualnum.forward.dualarray import as_constant
    W = tracker.param(np.array([1.0, 2.0]))
    assert as_constant(W) is W.data


@pytest.mark.parametrize("func", [np.flip, np.fliplr, np.flipud, np.rot90, np.roll, np.tile, np.repeat, np.diff,
                                  np.trace, np.diag, np.diagonal, np.triu, np.tril])
def test_structural_functions_of_a_constant_without_partials(func):
    v = np.arange(6.0).reshape(2, 3)
    args = {np.roll: (1,), np.tile: (2,), np.repeat: (2,)}.get(func, ())
    c = func(DualArray(v), *args)  # DualArray(v) has no directions (k = 0): the result has none either
    np.testing.assert_array_equal(c.value, func(v, *args))
    assert c.partials.shape == (0,) + np.shape(func(v, *args))
    shape = np.shape(func(v, *args))
    y = c * 2.0 + DualArray(np.ones(shape), np.ones((2,) + shape))  # and it joins any k as zeros
    np.testing.assert_array_equal(y.partials, np.ones((2,) + shape))


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 2)),
                                    ((3,), (3,))])
def test_matmul_keeps_one_inputs_inf_out_of_the_other_directions(shapes):
    """d(AB) = dA·B + A·dB is NaN-safe like every other chain-rule product: a constant factor's inf meets the
    zero partials of the directions that do not pass through it; reverse mode gives the same gradient."""
    rng = np.random.default_rng(3)
    sa, sb = shapes
    a, b = rng.random(sa) + 0.5, rng.random(sb) + 0.5
    a.flat[0] = np.inf
    for f, x in [(lambda x: np.sum(a @ x), b), (lambda x: np.sum(x @ b), a.copy())]:
        if np.isinf(x).any():
            x = rng.random(x.shape) + 0.5
        fwd = dn.gradient(f, x)[0]
        rev = tracker.gradient(f, x)[0]
        np.testing.assert_array_equal(np.isnan(fwd), False)
        np.testing.assert_allclose(fwd, rev)
    b2 = b.copy()
    b2.flat[-1] = np.inf  # the differentiated side holds the inf: only its own column of derivatives is hit
    g = lambda x: np.sum(x @ b2)
    x = rng.random(sa) + 0.5
    np.testing.assert_allclose(dn.gradient(g, x)[0], tracker.gradient(g, x)[0])


@pytest.mark.parametrize("f", [np.max, np.min, np.ptp, np.nanmax])
def test_a_nan_in_one_slice_of_max_stays_in_that_slice(f):
    """max of a slice holding a NaN is NaN, and its derivative flows to the NaN: the other slices' derivatives
    (and the other directions) stay finite, in both modes."""
    x = np.array([[1.0, np.nan, 3.0], [0.5, 2.0, -1.0]])
    g = lambda x: np.sum(np.where(np.isnan(f(x, axis=1)), 0.0, f(x, axis=1)) * np.array([1.0, 2.0]))  # noqa: E731
    fwd, rev = dn.gradient(g, x)[0], tracker.gradient(g, x)[0]
    assert np.all(np.isfinite(fwd)) and np.all(np.isfinite(rev))
    np.testing.assert_allclose(fwd, rev)
    h = 1e-6
    e = np.zeros_like(x)
    e[1, 1] = h
    np.testing.assert_allclose(fwd[1, 1], (g(x + e) - g(x - e)) / (2 * h), rtol=1e-6)
