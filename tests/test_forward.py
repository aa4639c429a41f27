"""Forward mode: the sources' numbers, nesting, DualArray through ordinary numpy code, bad input."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dualnum as dn
from dualnum import Dual, DualArray, derivative, gradient, jacobian, hessian, jvp
from dualnum.testing import check_grad, gradcheck, numeric_gradient


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


# ---- the numbers from the sources --------------------------------------------------------------------------------
def test_polynomial_from_the_sources():
    f = lambda x: 3 * x**2 + 2 * x + 1  # noqa: E731
    assert derivative(f, 2.0) == 14.0
    assert derivative(f, 2) == 14.0
    assert derivative(f, 2.0, order=2) == 6.0
    assert derivative(f, 2.0, order=3) == 0.0
    assert type(derivative(f, 2.0)) is float


def test_gradient_of_squared_distance_from_the_sources():
    gx, gy = gradient(lambda x, y: np.sum((x - y) ** 2), [2, 1], [2, 0])
    np.testing.assert_array_equal(gx, [0.0, 2.0])
    np.testing.assert_array_equal(gy, [-0.0, -2.0])
    assert gx.dtype == float and gy.shape == (2,)


def test_rosenbrock_value_gradient_hessian():
    x = np.array([0.1, 0.2, 0.3])
    assert rosenbrock(x) == pytest.approx(11.82)
    g, = gradient(rosenbrock, x)
    np.testing.assert_allclose(g, [-9.4, 15.6, 52.0], atol=1e-12)
    H = hessian(rosenbrock, x)
    np.testing.assert_allclose(H, [[-66, -40, 0], [-40, 130, -80], [0, -80, 200]], atol=1e-12)
    np.testing.assert_allclose(hessian(rosenbrock, x, method="forward-over-reverse"), H, atol=1e-12)


@pytest.mark.parametrize("n", [2, 40, 300])
def test_both_hessian_methods_give_the_closed_form_rosenbrock_hessian(n):
    x = np.linspace(-1.0, 1.5, n)
    H = np.zeros((n, n))  # ∂² of 100 (x[i+1] - x[i]²)² + (1 - x[i])², summed
    i = np.arange(n - 1)
    H[i, i] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    H[i + 1, i + 1] += 200
    H[i, i + 1] = H[i + 1, i] = -400 * x[:-1]
    for method in ("forward-over-reverse", "forward-over-forward") if n < 300 else ("forward-over-reverse",):
        np.testing.assert_allclose(hessian(rosenbrock, x, method=method), H, rtol=1e-12, atol=1e-9)
    assert hessian(lambda t: t**3 * np.sin(t), 0.7, method="forward-over-reverse") == pytest.approx(
        6 * 0.7 * np.sin(0.7) + 6 * 0.7**2 * np.cos(0.7) - 0.7**3 * np.sin(0.7), rel=1e-12)
    with pytest.raises(ValueError, match="method must be one of"):
        hessian(rosenbrock, x, method="reverse")


def test_gradient_one_argument_is_a_one_tuple_and_scalars_stay_floats():
    g = gradient(lambda x: 3 * x**2 + 2 * x + 1, 2.0)
    assert isinstance(g, tuple) and len(g) == 1 and g[0] == 14.0 and type(g[0]) is float
    assert gradient(lambda W, b, x: W * x + b, 2, 3, 4) == (4.0, 1.0, 2.0)


# ---- perturbation confusion --------------------------------------------------------------------------------------
def test_no_perturbation_confusion():
    assert derivative(lambda x: x * derivative(lambda y: x + y, 1.0), 1.0) == 1.0
    assert derivative(lambda x: x * derivative(lambda y: x * y, 1.0), 4.0) == 8.0
    # the inner derivative of a function of x and y, differentiated in x: d/dx [x * d/dy (x y²)] at y = 1 = 4x
    assert derivative(lambda x: x * derivative(lambda y: x * y**2, 1.0), 3.0) == 12.0


def test_no_perturbation_confusion_arrays():
    # d/dx sum(x * grad_y(sum(x*y))) = d/dx sum(x*x) = 2x
    x0 = np.array([1.0, 2.0, 3.0])
    g, = gradient(lambda x: np.sum(x * gradient(lambda y: np.sum(x * y), np.ones(3))[0]), x0)
    np.testing.assert_allclose(g, 2 * x0)


def test_jacobian_of_gradient_of_bilinear_form_is_exactly_A():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 4))
    x0, y0 = rng.normal(size=4), rng.normal(size=3)

    def grad_xy(z):
        gx, gy = gradient(lambda x, y: y @ (A @ x), z[:4], z[4:])
        return np.concatenate([gx, gy])

    J = jacobian(grad_xy, np.concatenate([x0, y0]))
    expected = np.zeros((7, 7))
    expected[:4, 4:] = A.T
    expected[4:, :4] = A
    np.testing.assert_array_equal(J, expected)


def test_third_derivative_three_deep():
    f = lambda x: x**4 + np.sin(x)  # noqa: E731
    d3 = derivative(lambda a: derivative(lambda b: derivative(f, b), a), 0.7)
    assert d3 == pytest.approx(24 * 0.7 - np.cos(0.7))
    assert derivative(f, 0.7, order=3) == pytest.approx(24 * 0.7 - np.cos(0.7))
    assert derivative(np.exp, 1.0, order=4) == pytest.approx(math.e)


def test_third_order_array_nesting():
    # d/dx of the hessian's trace: sum x³ has H = diag(6x), trace' = 6 per element
    g, = gradient(lambda x: np.trace(hessian(lambda z: np.sum(z**3), x)), np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [6.0, 6.0])


def test_hessian_of_array_function_matches_differences_of_gradient():
    f = lambda x: np.sum(np.tanh(x) * np.roll(x, 1)) + np.prod(x) ** 2  # noqa: E731
    x = np.array([0.3, -0.5, 0.8, 1.1])
    H = hessian(f, x)
    fd = np.stack([(gradient(f, x + e)[0] - gradient(f, x - e)[0]) / 2e-6 for e in np.eye(4) * 1e-6])
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    np.testing.assert_allclose(hessian(f, x, method="forward-over-reverse"), H, rtol=1e-12, atol=1e-12)


# ---- API shapes, chunking, jvp -----------------------------------------------------------------------------------
def test_jacobian_shape_and_values():
    A = np.arange(6.0).reshape(2, 3)
    J = jacobian(lambda x: np.sin(A @ x), np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(J, np.cos(A @ [0.1, 0.2, 0.3])[:, None] * A)
    J2 = jacobian(lambda x: np.outer(x, x), np.array([1.0, 2.0]))
    assert J2.shape == (2, 2, 2)
    assert J2[0, 1, 0] == 2.0 and J2[0, 1, 1] == 1.0


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, None])
def test_chunking_gives_the_same_gradient(chunk):
    x = np.linspace(-1, 1, 7)
    y = np.array([0.5, 2.0])
    f = lambda x, y: rosenbrock(x) * y[0] + np.sum(y**2 * x[:2])  # noqa: E731
    gx, gy = gradient(f, x, y, chunk=chunk)
    nx, ny = numeric_gradient(f, x, y)
    np.testing.assert_allclose(gx, nx, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(gy, ny, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("shape,chunk", [((7,), 1), ((7,), 3), ((3, 4), 5), ((3, 4), None), ((1100,), None),
                                         ((1100,), 400)])
def test_one_array_gradient_in_chunks_matches_the_closed_form(shape, chunk):
    x = np.linspace(-1.0, 1.2, math.prod(shape)).reshape(shape)
    f = lambda v: np.sum(np.sin(v) * v**2)  # noqa: E731
    g, = gradient(f, x, chunk=chunk)
    assert g.shape == shape
    np.testing.assert_allclose(g, np.cos(x) * x**2 + 2 * x * np.sin(x), rtol=1e-13, atol=1e-15)
    g2, = gradient(lambda v: np.sum(v**3).item(), x, chunk=chunk)  # a scalar Dual, not a 0-d DualArray
    np.testing.assert_allclose(g2, 3 * x**2, rtol=1e-13)


def test_a_gradient_is_the_callers_to_write_into():
    g, = gradient(lambda v: v.reshape(()), np.array([2.0]))  # the output is a view of the seeds themselves
    g[0] = 5.0
    assert gradient(lambda v: v.reshape(()), np.array([2.0]))[0][0] == 1.0


def test_chunk_size_heuristic():
    assert dn.chunk_size(5) == 5
    assert dn.chunk_size(100, threshold=12) == 12  # ceil(100 / ceil(100/12)) = ceil(100/9) = 12
    assert dn.chunk_size(13, threshold=12) == 7


def test_jvp_matches_jacobian_product():
    f = lambda x: np.exp(x) * np.sum(x**2)  # noqa: E731
    x, v = np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 0.5])
    y, t = jvp(f, x, v)
    np.testing.assert_allclose(y, f(x))
    np.testing.assert_allclose(t, jacobian(f, x) @ v)
    assert jvp(np.sin, 1.0, 2.0) == (pytest.approx(np.sin(1.0)), pytest.approx(2 * np.cos(1.0)))


def test_derivative_of_array_valued_function():
    d = derivative(lambda t: np.array([1.0, 2.0]) * t**2, 3.0)
    np.testing.assert_allclose(d, [6.0, 12.0])


def test_constant_function():
    assert derivative(lambda x: 5.0, 1.0) == 0.0
    g, = gradient(lambda x: 1.0, [1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])


# ---- DualArray through ordinary numpy code -----------------------------------------------------------------------
FUNCS = {
    "sin-exp": lambda x: np.sum(np.sin(x) * np.exp(-x) + x**2 / (1 + x**2)),
    "tanh-maximum": lambda x: np.sum(np.tanh(x) + np.maximum(x, 0.3)),
    "where": lambda x: np.sum(np.where(x > 0, x**2, -x)),
    "matmul-T": lambda x: np.sum((x.reshape(2, 3) @ x.reshape(2, 3).T) ** 2),
    "dot": lambda x: np.dot(x, x) + np.dot(x[:3], x[3:]),
    "mean-axis": lambda x: np.sum(np.mean(x.reshape(2, 3), axis=0) ** 3),
    "sum-keepdims": lambda x: np.sum(x.reshape(2, 3) / np.sum(x.reshape(2, 3), axis=1, keepdims=True)),
    "concat-stack": lambda x: np.sum(np.concatenate([x, x**2]) * np.stack([x, x]).ravel()),
    "clip-log1p-sqrt": lambda x: np.sum(np.clip(x, -0.2, 0.5) + np.log1p(x**2) + np.sqrt(x**2 + 1)),
    "abs-slicing": lambda x: np.sum(np.abs(x[::2])) + x[-1] * x[0],
    "fancy-index": lambda x: np.sum(x[[0, 2, 2, 5]] ** 2) + np.sum(x[x > 0]),
    "broadcast": lambda x: np.sum(x.reshape(2, 3) * x[:3] + x[4:, None]),
    "max-min-prod": lambda x: np.max(x) * np.min(x) + np.prod(x[:3]),
    "softmax": lambda x: np.sum(np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x))) * np.arange(6.0)),
    "norm-var-std": lambda x: np.linalg.norm(x) + np.var(x) + np.std(x),
    "cumsum-diff": lambda x: np.sum(np.cumsum(x) ** 2) + np.sum(np.diff(x) ** 2),
    "sort": lambda x: np.sum(np.sort(x) * np.arange(6.0)),
    "transpose-swap": lambda x: np.sum(np.swapaxes(x.reshape(1, 2, 3), 1, 2)[0] * np.arange(6.0).reshape(3, 2)),
    "expand-squeeze": lambda x: np.sum(np.squeeze(np.expand_dims(x, 0)) ** 2 * np.moveaxis(x.reshape(2, 3), 0, 1).ravel()),
    "builtin-sum-iter": lambda x: sum(xi**2 for xi in x),
    "arctan2-hypot": lambda x: np.sum(np.arctan2(x[:3], x[3:] + 3) + np.hypot(x[:3], x[3:] + 2)),
    "outer": lambda x: np.sum(np.outer(x[:2], x[2:]) ** 2),
}


@pytest.mark.parametrize("name", list(FUNCS))
def test_numpy_code_on_dualarray(name):
    x = np.array([0.3, -0.7, 1.2, 0.4, -1.5, 0.9])
    res = check_grad(FUNCS[name], x)
    assert res.ok, str(res)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                                    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                                    ((5, 2, 3), (3,)), ((3,), (5, 3, 4))])
def test_matmul_shapes(shapes):
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    W = rng.normal(size=np.shape(A @ B))
    gradcheck(lambda a, b: np.sum(W * (a @ b)), A, B)
    gradcheck(lambda a: np.sum(W * (a @ B)), A)
    gradcheck(lambda b: np.sum(W * (A @ b)), B)


def test_reductions_axis_keepdims():
    x = np.arange(24.0).reshape(2, 3, 4) / 10
    for axis in (None, 0, 1, 2, -1, (0, 2)):
        for keepdims in (False, True):
            y = np.sum(DualArray(x, np.ones_like(x)) ** 2, axis=axis, keepdims=keepdims)
            assert y.shape == np.sum(x, axis=axis, keepdims=keepdims).shape
            np.testing.assert_allclose(y.partials[0], np.sum(2 * x, axis=axis, keepdims=keepdims))
            m = np.mean(DualArray(x, np.ones_like(x)), axis=axis, keepdims=keepdims)
            assert m.shape == np.mean(x, axis=axis, keepdims=keepdims).shape
            mx = np.max(DualArray(x, np.ones_like(x)), axis=axis, keepdims=keepdims)
            np.testing.assert_allclose(mx.value, np.max(x, axis=axis, keepdims=keepdims))
            np.testing.assert_allclose(mx.partials[0], 1.0)


def test_indexing_and_assignment():
    x = DualArray(np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(1, 2, 3))
    e = x[1, 2]
    assert isinstance(e, Dual) and e.value == 5.0 and e.partials == (5.0,)
    assert x[..., 1].shape == (2,) and x[:, None].shape == (2, 1, 3)
    np.testing.assert_array_equal(x[[1, 0], [0, 2]].partials[0], [3.0, 2.0])
    np.testing.assert_array_equal(x[np.array([[True, False, True], [False, True, False]])].value, [0, 2, 4])
    y = x + 1  # y must not share partials with x: writing into y leaves x alone
    y[0, 0] = Dual(10.0, 7.0, tag=x.tag)
    y[1] = 0.0
    assert x.partials[0, 0, 0] == 0.0 and y.partials[0, 0, 0] == 7.0
    np.testing.assert_array_equal(y.partials[0, 1], 0.0)


def test_comparisons_act_on_values():
    a, b = Dual(1.0, 5.0), Dual(1.0, -3.0)
    assert a == b and not a < b and a <= b and Dual(2.0, 1.0) > 1
    x = DualArray([1.0, 2.0], [[1.0, 1.0]])
    np.testing.assert_array_equal(x > 1.5, [False, True])
    np.testing.assert_array_equal(x == np.array([1.0, 0.0]), [True, False])


def test_repr():
    assert repr(Dual(17.0, 14.0)) == "Dual(17.0, 14.0)"
    assert repr(Dual(1, 2, 3)) == "Dual(1.0, 2.0, 3.0)"
    assert "DualArray" in repr(DualArray([1.0, 2.0]))


def test_value_strips_every_level():
    def inner(x):
        v = dn.value(x)
        assert type(v) is float
        return x
    derivative(lambda x: derivative(inner, x), 1.0)


# ---- derivatives are never dropped silently ----------------------------------------------------------------------
def test_float_of_dual_with_derivative_raises():
    with pytest.raises(TypeError, match="drop the derivative"):
        float(Dual(1.0, 1.0))
    assert float(Dual(1.0, 0.0)) == 1.0
    with pytest.raises(TypeError, match="drop the derivative"):
        derivative(lambda x: math.sin(x), 1.0)


def test_writing_a_dual_into_a_float_array_raises():
    def f(x):
        out = np.zeros(2)
        out[0] = x[0]
        return np.sum(out)
    with pytest.raises(TypeError, match="drop"):
        gradient(f, [1.0, 2.0])
    with pytest.raises(TypeError, match="drop its derivatives"):
        gradient(lambda x: np.sum(np.asarray(x)), [1.0, 2.0])


@pytest.mark.parametrize("call,name", [
    (lambda x: np.linalg.svd(x.reshape(2, 1)), "svd"),
    (lambda x: np.fft.fft(x).real, "fft"),
    (lambda x: np.unwrap(x), "unwrap"),
    (lambda x: np.add.accumulate(x), "accumulate"),
    (lambda x: np.sin(x, out=np.zeros(2)), "out="),
    (lambda x: np.convolve(x, x), "convolve"),
])
def test_unsupported_functions_raise_naming_them(call, name):
    with pytest.raises(TypeError, match=name):  # (and the mode: an array through forward mode)
        gradient(lambda x: np.sum(call(x)), [1.0, 2.0])


def test_unsupported_ufunc_on_scalar_dual_names_it():
    with pytest.raises(TypeError, match="sinc|spacing"):
        derivative(np.spacing, 1.0)


# ---- bad input gets a clear message ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad,exc,msg", [
    ("abc", TypeError, "str"), (None, TypeError, "NoneType"), (1 + 2j, TypeError, "complex"),
    ([[1, 2], [3]], ValueError, "ragged"), ([1 + 1j, 2], TypeError, "complex"), (["a", "b"], TypeError, "numbers"),
    (True, TypeError, "bool"),
])
def test_bad_input(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        gradient(lambda x: np.sum(x), bad)
    if not isinstance(bad, list):
        with pytest.raises(exc, match=msg):
            derivative(lambda x: x, bad)


def test_misuse_hints():
    with pytest.raises(TypeError, match="perhaps you meant gradient"):
        derivative(lambda x: np.sum(x), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(2,\): perhaps you meant jacobian"):
        gradient(lambda x: x * 2, [1.0, 2.0])
    with pytest.raises(TypeError, match="must return a number"):
        derivative(lambda x: "oops", 1.0)
    with pytest.raises(ValueError, match="order"):
        derivative(lambda x: x, 1.0, order=0)
    with pytest.raises(ValueError, match="shape"):
        jvp(lambda x: x, [1.0, 2.0], [1.0])


def test_nan_flows_through():
    assert math.isnan(derivative(lambda x: x**2, math.nan))
    assert derivative(lambda x: x * 2, math.nan) == 2.0  # a linear function has slope 2 even at NaN
    g, = gradient(lambda x: np.sum(x**2), [1.0, math.nan])
    assert math.isnan(g[1])  # (g[0] is 2: a term with a zero partial is 0, NaN-safe as ForwardDiff's option)
    with np.errstate(invalid="ignore"):
        y, t = jvp(np.log, -1.0, 1.0)
    assert math.isnan(y) and t == -1.0  # the formula 1/x still holds; JAX gives the same


def test_gradcheck_reports_where_it_disagrees():
    wrong = lambda x: (2 * x + np.array([0.0, 1.0]),)  # noqa: E731
    res = check_grad(lambda x: np.sum(x**2), np.array([1.0, 2.0]), grad=wrong(np.array([1.0, 2.0])))
    assert not res.ok
    assert "FAILED" in str(res) and "(1,)" in str(res)
    with pytest.raises(AssertionError, match="FAILED"):
        gradcheck(lambda x: np.sum(x**2), np.array([1.0, 2.0]), grad=wrong(np.array([1.0, 2.0])))
    assert gradcheck(lambda x: np.sum(x**3), np.array([1.0, 2.0]))


# ---- random compositions (hypothesis) ----------------------------------------------------------------------------
UNARY_SAFE = [np.sin, np.cos, np.tanh, np.arctan, lambda t: np.exp(-t * t), lambda t: np.log1p(t * t), lambda t: np.sqrt(t * t + 1),
              dn.sigmoid, np.square]


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(st.sampled_from(range(len(UNARY_SAFE))), min_size=1, max_size=4),
       x=st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_random_compositions_match_finite_differences(ops, x):
    def f(v):
        for i in ops:
            v = UNARY_SAFE[i](v) * 0.9 + v[::-1] * 0.1
        return np.sum(v * np.array([1.0, -0.5, 0.25]))
    res = check_grad(f, np.array(x), rtol=1e-4, atol=1e-6)
    assert res.ok, str(res)
    H = hessian(f, np.array(x))
    np.testing.assert_allclose(H, H.T, atol=1e-10)


def test_arrays_built_from_duals_with_np_array():
    """np.array([x[0] * x[1], ...]) makes an object array of Duals: it works as an output, an operand and a ufunc
    argument (numpy calls dual.sin() on each element, which uses the rule)."""
    J = jacobian(lambda x: np.array([x[0] * x[1], x[1] ** 2, np.sin(x[0])]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(J, [[2, 1], [0, 4], [np.cos(1.0), 0]])
    np.testing.assert_allclose(derivative(lambda t: np.array([t, t**2]), 3.0), [1.0, 6.0])
    g, = gradient(lambda x: np.sum(np.sin(np.array([x[0], 2 * x[1]]))), [1.0, 2.0])
    np.testing.assert_allclose(g, [np.cos(1.0), 2 * np.cos(4.0)])
    g, = gradient(lambda x: np.sum(x * np.array([x[1], x[0]])), [1.0, 2.0])
    np.testing.assert_allclose(g, [4.0, 2.0])
    H = hessian(lambda x: np.sum(np.array([x[0] ** 2 * x[1], x[1]])), [1.0, 2.0])
    np.testing.assert_allclose(H, [[4.0, 2.0], [2.0, 0.0]])


def test_integer_valued_builtins_on_a_dual():
    # their derivative is zero almost everywhere, so they may return plain integers; math.sin may not
    x = Dual(2.7, 1.0)
    assert (math.floor(x), math.ceil(x), math.trunc(x), round(x), int(x)) == (2, 3, 2, 3, 2)
    assert max(Dual(1.0, 1.0), Dual(2.0, 5.0)).partials == (5.0,)


# ---- duals that escaped the call that made them ------------------------------------------------------------------
def _leak():
    kept = []

    def f(x):
        kept.append(x)
        return x * x
    derivative(f, 1.0)
    gradient(lambda v: (kept.append(v), np.sum(v * v))[1], np.ones(2))
    return kept  # [a scalar Dual, a DualArray], both of finished calls


@pytest.mark.parametrize("use", [
    lambda old, y: old,  # returned as it is
    lambda old, y: old * y,  # combined with a live dual (the older tag is the outer one here)
    lambda old, y: y * 2 + np.sin(old),
    lambda old, y: [y, old],  # inside a list the caller reads
])
def test_an_escaped_dual_is_refused_with_a_clear_message(use):
    old, old_arr = _leak()
    with pytest.raises(ValueError, match="escaped the derivative/gradient/jacobian call"):
        derivative(lambda y: use(old, y), 2.0)
    with pytest.raises(ValueError, match="escaped"):
        gradient(lambda v: np.sum(v * old_arr), np.ones(2))
    with pytest.raises(ValueError, match="escaped"):
        gradient(lambda v: np.sum(v) + old, np.ones(2))
    with pytest.raises(ValueError, match="escaped"):
        jacobian(lambda v: v * old, np.ones(2))
    with pytest.raises(ValueError, match="escaped"):
        jvp(lambda v: v * old, 1.0, 1.0)


def test_live_and_hand_built_duals_are_not_escaped():
    # nested calls: the outer call's dual is live inside the inner one
    assert derivative(lambda x: derivative(lambda y: x * y * y, x), 3.0) == 2 * 3.0 * 2
    assert derivative(lambda x: x * Dual(2.0, 0.0), 3.0) == 2.0  # tag 0: built by hand, a constant
    assert np.allclose(hessian(lambda v: np.sum(v ** 3), np.ones(2)), 6 * np.eye(2))
    assert Dual(1.0, 1.0, tag=5) * Dual(2.0, 1.0, tag=7) == 2.0  # by hand, outside any call: any tags


# ---- chunk and bool arguments -----------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk", [-1, 0, 2.5, "a", True, np.float64(2.0)])
def test_a_bad_chunk_is_refused_naming_the_argument(chunk):
    f = lambda v: np.sum(v ** 2)  # noqa: E731
    for call in (lambda: gradient(f, np.ones(3), chunk=chunk), lambda: gradient(f, np.ones(3), 1.0, chunk=chunk),
                 lambda: jacobian(lambda v: v * 2, np.ones(3), chunk=chunk), lambda: hessian(f, np.ones(3), chunk=chunk)):
        with pytest.raises(ValueError, match=r"chunk must be a positive integer .* got"):
            call()


def test_a_good_chunk_as_numpy_int_works():
    g, = gradient(lambda v: np.sum(v ** 2), np.arange(5.0), chunk=np.int64(2))
    assert np.array_equal(g, 2 * np.arange(5.0))


BOOL_MESSAGE = r"is a bool \(or bool array\); differentiate with respect to numbers, e.g. x.astype\(float\)"


@pytest.mark.parametrize("x", [True, np.True_, np.array([True, False]), [True, False], np.array(True)])
def test_bool_inputs_are_refused_in_every_forward_call(x):
    scalar = np.ndim(x) == 0
    calls = [lambda: gradient(lambda v: np.sum(v * 1.0), x), lambda: gradient(lambda a, v: np.sum(v * a), 1.0, x),
             lambda: jacobian(lambda v: v * 1.0, x), lambda: hessian(lambda v: np.sum(v * v), x),
             lambda: jvp(lambda v: v * 1.0, x, x), lambda: jvp(lambda v: v * 1.0, 1.0 if scalar else [1.0, 2.0], x)]
    if scalar:
        calls.append(lambda: derivative(lambda v: v * 1.0, x))
    for call in calls:
        with pytest.raises(TypeError, match=BOOL_MESSAGE):
            call()


def test_bools_inside_f_are_numbers():
    assert derivative(lambda x: x * True + False, 2.0) == 1.0
    g, = gradient(lambda v: np.sum(v * np.array([True, False])), np.ones(2))
    assert np.array_equal(g, [1.0, 0.0])


def test_jvp_of_a_function_with_several_results_gives_a_tangent_for_each():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    V = np.array([[0.3, -0.2], [-0.2, 0.5]])
    (w, U), (dw, dU) = jvp(np.linalg.eigh, A, V)
    h = 1e-6
    plus, minus = np.linalg.eigh(A + h * V), np.linalg.eigh(A - h * V)
    np.testing.assert_allclose(w, np.linalg.eigh(A)[0])
    np.testing.assert_allclose(dw, (plus[0] - minus[0]) / (2 * h), rtol=1e-6)
    np.testing.assert_allclose(dU, (plus[1] - minus[1]) / (2 * h), rtol=1e-5, atol=1e-8)


def test_jacobian_with_respect_to_no_inputs_is_empty():
    J = jacobian(lambda x: np.sum(x) * np.ones(3), np.zeros(0))
    assert J.shape == (3, 0)


def test_an_array_built_from_zero_dimensional_duals_keeps_their_derivatives():
    x = np.array([0.4, 0.6])
    f = lambda z: np.array([z[0], np.sum(z), np.mean(z) * 2.0])  # noqa: E731  (0-d DualArrays in a list)
    h = 1e-6
    fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(jacobian(f, x), fd, rtol=1e-6)
    with pytest.raises(TypeError, match="drop"):
        np.asarray(DualArray(1.0, 1.0), dtype=float)
