"""Reverse mode (dualnum.tracker): the sources' numbers, agreement with forward mode and central differences,
the backward pass's guarantees (iterative, each node once, unbroadcast, freed graph), nesting, hvp, misuse."""
import math
from dataclasses import dataclass

import numpy as np
import pytest

import dualnum as dn
from dualnum.tracker import Grads, Params, back, gradient, hvp, param, params, update, value


def central(f, x, h=1e-6):
    """Central differences of a scalar f at an array x: the independent reference."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


# ---- the sources' numbers ---------------------------------------------------------------------------------------

def test_source_gradient_of_three_arguments():
    assert gradient(lambda W, b, x: W * x + b, 2, 3, 4) == (4.0, 1.0, 2.0)
    gs = gradient(lambda W, b, x: W * x + b, 2, 3, 4)
    assert all(type(g) is float for g in gs)


def test_source_implicit_params():
    W, b = param(2), param(3)
    assert repr(W) == "2.0 (tracked)" and repr(b) == "3.0 (tracked)"
    f = lambda x: W * x + b  # noqa: E731
    grads = gradient(lambda: f(4), params(W, b))
    assert isinstance(grads, Grads)
    assert grads[W] == 4 and grads[b] == 1


def test_source_nested_cubic():
    f = lambda x: 3 * x**2 + 2 * x + 1  # noqa: E731
    df = lambda x: gradient(f, x, nest=True)[0]  # noqa: E731
    d2f = lambda x: gradient(df, x, nest=True)[0]  # noqa: E731
    assert repr(df(2.0)) == "14.0 (tracked)" and str(df(2)) == "14.0 (tracked)"
    assert df(2.0) == 14.0
    assert d2f(2.0) == 6.0 and repr(d2f(2)) == "6.0 (tracked)"
    assert gradient(f, 2.0)[0] == 14.0
    assert gradient(df, 2.0)[0] == 6.0  # the outer call need not nest to differentiate a nested one


def test_source_nested_prod_is_right():
    # old Flux's Tracker (bug #148) got the Hessian of prod wrong; ∑ ∇prod(x) = x₂ + x₁ has gradient [1, 1]
    g = gradient(lambda x: np.sum(gradient(np.prod, x, nest=True)[0]), [1.0, 2.0])[0]
    np.testing.assert_array_equal(g, [1.0, 1.0])
    g = gradient(lambda x: sum(gradient(np.prod, x, nest=True)[0]), [1.0, 2.0])[0]
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_source_backprop_example():
    W = param([[1, 2], [3, 4]])
    x = param([5, 6])
    y = W @ x
    back(y, [1, -1])
    np.testing.assert_array_equal(W.grad, [[5, 6], [-5, -6]])
    np.testing.assert_array_equal(x.grad, [-2, -2])


def test_source_linear_regression_step_lowers_loss():
    rng = np.random.default_rng(0)
    W = param(rng.random((2, 5)))
    b = param(rng.random(2))
    x, y = rng.random(5), rng.random(2)

    def loss(x, y):
        yhat = W @ x + b
        return np.sum((y - yhat) ** 2)
    before = float(value(loss(x, y)))
    gs = gradient(lambda: loss(x, y), params(W, b))
    update(W, -0.1 * gs[W])
    assert float(value(loss(x, y))) < before
    np.testing.assert_allclose(gs[W], central(lambda w: np.sum((y - w @ x - value(b)) ** 2), value(W) + 0.1 * gs[W]),
                               rtol=1e-6)


def test_forward_mode_example_matches():
    gx, gy = gradient(lambda x, y: np.sum((x - y) ** 2), [2, 1], [2, 0])
    np.testing.assert_array_equal(gx, [0.0, 2.0])
    np.testing.assert_array_equal(gy, [-0.0, -2.0])


# ---- against forward mode and central differences --------------------------------------------------------------

FUNCS = {
    "rosenbrock": lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
    "softplus-mean": lambda x: np.mean(np.log1p(np.exp(x)) * np.tanh(x)),
    "norm": lambda x: np.linalg.norm(x) + np.max(x) - np.min(x ** 3),
    "matrix": lambda x: np.sum(np.reshape(x, (2, 2)) @ np.reshape(x, (2, 2)).T),
    "stack": lambda x: np.sum(np.stack([x, x ** 2]) * np.concatenate([x, x])[None, : x.shape[0]]),
    "where-clip": lambda x: np.sum(np.where(x > 0.2, np.sin(x), x ** 2) + np.clip(x, -0.5, 0.5)),
    "sigmoid-relu": lambda x: np.sum(dn.sigmoid(x) * dn.relu(x - 0.1)),
    "prod-cumsum": lambda x: np.prod(x) + np.sum(np.cumsum(x) ** 2),
    "var-std": lambda x: np.var(x) + np.std(x * 2),
    "index": lambda x: x[0] * x[3] + np.sum(x[[0, 0, 2]] ** 2) + np.sum(x[1:3] / (1 + x[0] ** 2)),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_agrees_with_forward_mode_and_central_differences(name):
    f = FUNCS[name]
    x = np.array([0.3, -0.7, 1.1, 0.45])
    g = gradient(f, x)[0]
    assert isinstance(g, np.ndarray) and g.shape == x.shape
    np.testing.assert_allclose(g, dn.gradient(f, x)[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g, central(f, x), rtol=1e-5, atol=1e-7)


# ---- the backward pass -----------------------------------------------------------------------------------------

def test_unbroadcast_bias():
    W, b = param(np.ones((3, 4))), param(np.zeros(3))
    x = np.arange(8.0).reshape(4, 2)
    gs = gradient(lambda: np.sum((W @ x + b[:, None]) ** 2), params(W, b))
    assert gs[b].shape == (3,)
    np.testing.assert_allclose(gs[b], 2 * np.sum(value(W) @ x, axis=1))
    g = gradient(lambda v, m: np.sum(v * m), np.ones(3), np.ones((5, 3)))
    np.testing.assert_array_equal(g[0], [5, 5, 5])


def test_reused_value_accumulates():
    assert gradient(lambda x: x * x * x, 2.0)[0] == 12.0
    assert gradient(lambda x: (lambda y: y + y * y)(x * 3), 1.0)[0] == 3 + 18


def test_long_chain_is_iterative():
    # 100 000 nested operations: a recursive backward pass would hit Python's recursion limit (~1 000);
    # how long it takes is measured in benchmarks/b5_mlp.py, not asserted here
    def f(x):
        for _ in range(100_000):
            x = x * 1.00001
        return x
    g = gradient(f, 1.0)[0]
    assert math.isclose(g, 1.00001 ** 100_000, rel_tol=1e-9)


def test_second_backward_on_consumed_graph_raises():
    W = param(2.0)
    y = W * 3
    back(y)
    assert W.grad == 3
    with pytest.raises(RuntimeError, match="already used by a backward pass"):
        back(y)


def test_nonscalar_loss_raises():
    with pytest.raises(ValueError, match="scalar"):
        gradient(lambda x: x * 2, [1.0, 2.0])


def test_unused_parameter_is_none_and_params_identity():
    W, b, c = param([1.0, 2.0]), param([1.0, 2.0]), param(5.0)
    ps = params(W, b, W)
    assert len(ps) == 2 and W in ps and b in ps and c not in ps
    gs = gradient(lambda: np.sum(W * 3), ps)
    np.testing.assert_array_equal(gs[W], [3, 3])
    assert gs[b] is None
    with pytest.raises(KeyError):
        gs[c]


def test_update_in_place():
    W = param(np.array([1.0, 2.0]))
    data = W.data
    update(W, np.array([0.5, -1.0]))
    assert W.data is data
    np.testing.assert_array_equal(value(W), [1.5, 1.0])
    s = param(1.0)
    update(s, 2.0)
    assert s == 3.0


def test_value_strips_tracking_and_duals():
    assert value(param(2)) == 2.0 and type(value(param(2))) is float
    assert value(dn.Dual(3.0, 1.0)) == 3.0
    assert value(5) == 5


def test_float32_preserved():
    W = param(np.ones((3, 2), dtype=np.float32))
    x = np.ones((2, 4), dtype=np.float32)
    gs = gradient(lambda: np.mean(dn.relu(W @ x) ** 2), params(W))
    assert gs[W].dtype == np.float32


def test_asarray_and_float_refuse_to_drop_derivatives():
    with pytest.raises(TypeError, match="would drop"):  # (outside a gradient a param's numbers lose nothing)
        gradient(lambda x: np.sum(np.asarray(x)), [1.0, 2.0])
    with pytest.raises(TypeError, match="would drop"):
        gradient(lambda x: math.sin(x), 1.0)
    with pytest.raises(TypeError, match="np.fft.fft"):
        gradient(lambda x: np.sum(np.fft.fft(x)), [1.0, 2.0])
    gs = gradient(lambda W: W * 2, 3.0)
    assert float(gs[0]) == 2.0


# ---- models: the explicit form ---------------------------------------------------------------------------------

@dataclass
class Line:
    m: float
    b: float

    def __call__(self, x):
        return self.m * x + self.b


def test_gradient_of_a_model_mirrors_its_fields():
    x = np.array([1.0, 2.0, 3.0])
    y = 2 * x + 1
    model = Line(0.5, 0.0)
    g = gradient(lambda m: np.mean((m(x) - y) ** 2), model)[0]
    assert set(g) == {"m", "b"}
    r = dn.gradient(lambda m, b: np.mean((m * x + b - y) ** 2), 0.5, 0.0)
    assert math.isclose(g["m"], r[0]) and math.isclose(g["b"], r[1])
    assert model.m == 0.5  # the model itself is left alone


# ---- second order ----------------------------------------------------------------------------------------------

def test_hvp_matches_forward_hessian():
    f = FUNCS["rosenbrock"]
    x, v = np.array([0.1, 0.2, 0.3]), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(hvp(f, x, v), dn.hessian(f, x) @ v, rtol=1e-12)


# ---- every rule, and random compositions of rules (hypothesis) ---------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from dualnum import rules  # noqa: E402
from dualnum.functions import apply  # noqa: E402

DIFF_RULES = sorted(n for n, r in rules.RULES.items() if not r.zero)
SMOOTH_1 = sorted(n for n, r in rules.RULES.items() if r.smooth and r.arity == 1)
SMOOTH_2 = sorted(n for n, r in rules.RULES.items() if r.smooth and r.arity == 2)
W3 = np.array([1.0, -0.5, 0.25])


def _inside(lo, hi, u):
    """u in [0, 1] mapped inside the domain, 5 % away from its ends."""
    return lo + (hi - lo) * (0.05 + 0.9 * np.asarray(u))


def _rule_args(r, data):
    u = lambda: np.array(data.draw(st.lists(st.floats(0, 1), min_size=3, max_size=3)))  # noqa: E731
    if r.name == "where":
        return [np.array(data.draw(st.lists(st.booleans(), min_size=3, max_size=3))), _inside(-3, 3, u()),
                _inside(-3, 3, u())]
    if r.name == "clip":
        return [_inside(-3, 3, u()), _inside(-2, -0.5, u()), _inside(0.5, 2, u())]
    args = [_inside(*r.domain, u())]
    if r.arity == 2:
        args.append(_inside(*(r.domain2 or r.domain), u()))
    return args


@pytest.mark.parametrize("name", DIFF_RULES)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_every_rule_reverse_equals_forward_and_differences(name, data):
    r = rules.RULES[name]
    args = _rule_args(r, data)
    diff = [i for i in range(len(args)) if i not in r.nondiff]

    def loss(*xs):
        full = list(args)
        for i, x in zip(diff, xs):
            full[i] = x
        return np.sum(apply(r, *full) * W3)
    rev = gradient(loss, *[args[i] for i in diff])
    fwd = dn.gradient(loss, *[args[i] for i in diff])
    for a, b in zip(rev, fwd):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)  # the same formulas: agree to rounding
    if r.smooth:
        for k, i in enumerate(diff):
            f1 = lambda x: loss(*[x if j == k else args[d] for j, d in enumerate(diff)])  # noqa: E731
            np.testing.assert_allclose(rev[k], central(f1, args[i]), rtol=1e-5, atol=1e-6)


def _program(steps, x):
    """A random composition: each step applies a smooth rule to one or two earlier values, squashed into its domain."""
    pool = [x, x[::-1] * 0.7 + 0.1]
    for name, i, j in steps:
        r = rules.RULES[name]
        squash = lambda v, lo, hi: lo + (hi - lo) * (0.05 + 0.9 * dn.sigmoid(v))  # noqa: E731
        a = squash(pool[i % len(pool)], *r.domain)
        if r.arity == 1:
            pool.append(apply(r, a))
        else:
            pool.append(apply(r, a, squash(pool[j % len(pool)], *(r.domain2 or r.domain))))
    return np.sum(pool[-1] * W3) + 0.1 * np.sum(pool[-2] ** 2)


STEPS = st.lists(st.tuples(st.sampled_from(SMOOTH_1 + SMOOTH_2), st.integers(0, 9), st.integers(0, 9)),
                 min_size=1, max_size=5)
X3 = st.lists(st.floats(-2, 2), min_size=3, max_size=3).map(np.array)


@settings(max_examples=60, deadline=None)
@given(steps=STEPS, x=X3)
def test_random_compositions_reverse_forward_differences(steps, x):
    f = lambda v: _program(steps, v)  # noqa: E731
    rev = gradient(f, x)[0]
    np.testing.assert_allclose(rev, dn.gradient(f, x)[0], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(rev, central(f, x), rtol=1e-4, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(steps=STEPS, x=X3, v=X3)
def test_random_compositions_second_order(steps, x, v):
    f = lambda z: _program(steps, z)  # noqa: E731
    H = dn.hessian(f, x)
    # reverse over reverse: row i of H is the gradient of the i-th component of the (recorded) gradient
    rows = [gradient(lambda z: gradient(f, z, nest=True)[0][i], x)[0] for i in range(3)]
    np.testing.assert_allclose(np.array(rows), H, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(hvp(f, x, v), H @ v, rtol=1e-8, atol=1e-9)  # forward over reverse


# ---- structure, nesting and misuse ---------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                                    ((2, 2, 3), (3, 4)), ((4, 1, 2, 3), (2, 3, 2))])
def test_matmul_shapes(shapes):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    f = lambda a, b: np.sum(np.sin(a @ b))  # noqa: E731
    ga, gb = gradient(f, a, b)
    fa, fb = dn.gradient(f, a, b)
    np.testing.assert_allclose(ga, fa, rtol=1e-10)
    np.testing.assert_allclose(gb, fb, rtol=1e-10)
    assert ga.shape == a.shape and gb.shape == b.shape


def test_structural_ops_agree_with_forward_mode():
    x = np.arange(1.0, 13.0).reshape(3, 4) / 7
    fs = [
        lambda x: np.sum(x.T @ x),
        lambda x: np.sum(np.transpose(x[None], (2, 0, 1)) ** 2 * np.arange(12.0).reshape(4, 1, 3)),
        lambda x: np.sum(np.concatenate([x, x[:, ::-1] ** 2], axis=1) * np.arange(24.0).reshape(3, 8)),
        lambda x: np.sum(np.stack([x, x * 2], axis=2).reshape(-1) ** 2),
        lambda x: np.sum(np.vstack([x[0], x[1:]]) ** 3) + np.sum(np.hstack([x[:, 0], x[:, 1]]) ** 2),
        lambda x: np.sum(np.max(x, axis=0) ** 2) + np.min(x) + np.sum(np.mean(x ** 2, axis=1)),
        lambda x: np.sum(np.squeeze(np.expand_dims(x, 0)) * np.swapaxes(x[None], 1, 2)[0].T),
        lambda x: np.sum(np.moveaxis(x[None] ** 2, 0, 2)) + np.sum(np.flip(x, 1) * x),
        lambda x: np.sum(np.roll(x, 1) * x ** 2) + np.sum(np.roll(x, (1, -2), axis=(0, 1)) * np.arange(12.0)
                                                          .reshape(3, 4) * x),
        lambda x: np.sum(x[[0, 0, 2], 1:3] ** 2) + np.sum(x[x > 1] ** 3) + x[1, 2] * x[0, 0],
        lambda x: np.dot(x[0], x[1]) + np.sum(np.outer(x[0], x[2])) + np.inner(x[1], x[2]),
        lambda x: np.sum(np.broadcast_to(x[0], (5, 4)) ** 2) + np.sum(np.cumsum(x, axis=1) ** 2),
        lambda x: np.sum(np.where(x > 0.8, x, -x) ** 2 * np.clip(x, 0.5, 1.2)),
        lambda x: np.prod(x[0]) + np.sum(np.prod(x, axis=1)) + np.linalg.norm(x),
        lambda x: np.sum(x.sum(axis=0, keepdims=True) * x) + x.mean() + np.sum(x.ravel()[::2] ** 2),
    ]
    for f in fs:
        np.testing.assert_allclose(gradient(f, x)[0], dn.gradient(f, x)[0], rtol=1e-10, atol=1e-12)


def test_max_ties_share_the_gradient():
    g = gradient(lambda x: np.max(x), [1.0, 3.0, 3.0])[0]
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(gradient(lambda x, y: np.maximum(x, y), 2.0, 2.0), (0.5, 0.5))
    assert gradient(abs, 0.0)[0] == 1.0


def test_no_perturbation_confusion():
    # d/dx [x · d/dy (x + y)] = 1: the inner gradient must not see x's level
    assert gradient(lambda x: x * gradient(lambda y: x + y, 1.0, nest=True)[0], 1.0)[0] == 1.0
    # d/dx [d/dy (x · y)] at y = 2 = 1, and the inner result depends on x (it is x)
    assert gradient(lambda x: gradient(lambda y: x * y, 2.0)[0], 3.0)[0] == 1.0


def test_nested_third_order():
    f = lambda x: x ** 4  # noqa: E731
    d1 = lambda x: gradient(f, x, nest=True)[0]  # noqa: E731
    d2 = lambda x: gradient(d1, x, nest=True)[0]  # noqa: E731
    assert gradient(d2, 2.0)[0] == 48.0
    assert d2(2.0) == 48.0 and d1(2.0) == 32.0


def test_nested_implicit_inside_explicit_is_refused_not_wrong():
    W = param(2.0)
    with pytest.raises(ValueError, match="implicit"):
        gradient(lambda x: gradient(lambda: W * x, params(W))[W], 3.0)


def test_explicit_inside_implicit():
    W = param([1.0, 2.0])
    gs = gradient(lambda: np.sum(gradient(lambda w: np.sum(w ** 3), W, nest=True)[0]), params(W))
    np.testing.assert_allclose(gs[W], 6 * value(W))


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.name = "affine"
        self.act = np.tanh

    def __call__(self, x):
        return self.act(self.W @ x + self.b)


def test_gradient_of_nested_models_lists_dicts_and_tied_weights():
    rng = np.random.default_rng(2)
    W1, W2 = rng.standard_normal((3, 2)), rng.standard_normal((1, 3))
    model = {"layers": [Affine(W1, np.zeros(3)), Affine(W2, np.zeros(1))], "scale": 2.0, "n": 3}
    x = np.array([0.5, -1.0])

    def loss(m):
        h = x
        for layer in m["layers"]:
            h = layer(h)
        return np.sum(h) * m["scale"]
    g = gradient(loss, model)[0]
    assert set(g) == {"layers", "scale", "n"} and g["n"] is None
    assert g["layers"][0]["name"] is None and g["layers"][0]["act"] is None
    ref = dn.gradient(lambda a, b: loss({"layers": [Affine(a, np.zeros(3)), Affine(b, np.zeros(1))],
                                         "scale": 2.0}), W1, W2)
    np.testing.assert_allclose(g["layers"][0]["W"], ref[0], rtol=1e-10)
    np.testing.assert_allclose(g["layers"][1]["W"], ref[1], rtol=1e-10)
    assert isinstance(model["layers"][0].W, np.ndarray)  # the model is left alone
    # the same array in two places is one parameter: both places get the total gradient
    tied = [W1, W1]
    gt = gradient(lambda ws: np.sum(ws[0] * 2) + np.sum(ws[1] * 3), tied)[0]
    np.testing.assert_array_equal(gt[0], np.full((3, 2), 5.0))
    np.testing.assert_array_equal(gt[1], np.full((3, 2), 5.0))


def test_model_with_tracked_params_gives_plain_gradients():
    line = Line(param(0.5), param(1.0))
    g = gradient(lambda m: m(2.0) ** 2, line)[0]
    assert g == {"m": 2 * (0.5 * 2 + 1) * 2, "b": 2 * (0.5 * 2 + 1)}
    assert type(g["m"]) is float


def test_back_accumulates_and_update_resets():
    W = param([1.0, 2.0])
    back(np.sum(W * 2))
    back(np.sum(W * 3))
    np.testing.assert_array_equal(W.grad, [5.0, 5.0])
    update(W, -0.1 * W.grad)
    assert W.grad is None
    np.testing.assert_allclose(value(W), [0.5, 1.5])
    y = np.sum(W ** 2)
    y.backward()
    np.testing.assert_allclose(W.grad, [1.0, 3.0])


def test_failed_backward_leaves_no_partial_gradients():
    W = param([1.0, 2.0])

    def boom(g):
        raise RuntimeError("boom")
    from dualnum.reverse.tracked import _record
    y = np.sum(_record(value(W) * 1.0, boom, (W * 2,), 0))
    with pytest.raises(RuntimeError, match="boom"):
        back(y)
    gs = gradient(lambda: np.sum(W * 3), params(W))
    np.testing.assert_array_equal(gs[W], [3.0, 3.0])


def test_params_and_grads_api():
    a, b = param(1.0), param(1.0)
    ps = Params([a, b, a])
    assert list(ps) == [a, b] and ps[1] is b and len(ps) == 2 and "Params" in repr(ps)
    ps.push(param(2.0))
    assert len(ps) == 3
    gs = gradient(lambda: a * b * 3, params(a, b))
    assert gs[a] == 3 and gs[b] == 3 and list(gs) == [a, b] and gs.get(a) == 3
    assert dict(zip(gs.keys(), gs.values())) == {a: 3.0, b: 3.0}
    with pytest.raises(TypeError, match="param"):
        gradient(lambda: 1.0, Params([np.ones(2)]))


def test_repr_and_comparisons():
    x = param([1.0, 2.0])
    assert repr(x) == "array([1., 2.]) (tracked)"
    assert repr(param(np.float32(0.1))) == "0.1 (tracked)"
    assert (x == np.array([1.0, 2.0])).all() and (x < 1.5).tolist() == [True, False]
    assert param(2.0) == 2.0 and param(2.0) < 3 and f"{param(2.0):.2f}" == "2.00"
    assert float(param(2.0)) == 2.0  # no gradient is being taken: nothing is dropped
    assert x.shape == (2,) and x.ndim == 1 and x.size == 2 and len(x) == 2 and x.dtype == np.float64


def test_bad_inputs_and_unsupported_functions():
    with pytest.raises(TypeError, match="str"):
        gradient(lambda x: x, "a")
    with pytest.raises(TypeError, match="complex"):
        gradient(lambda x: x, 1j)
    with pytest.raises(TypeError, match="bool"):
        gradient(lambda x: x, True)
    with pytest.raises(TypeError, match="needs arguments"):
        gradient(lambda: 1.0)
    with pytest.raises(TypeError, match="np.i0"):
        gradient(lambda x: np.i0(x), 3.0)
    assert gradient(lambda x: x // 2 + x % 2, 3.0) == (1.0,)  # floor(x/2) has slope 0, x mod 2 slope 1
    with pytest.raises(TypeError, match="np.linalg.eigvals"):  # (det has its derivative now)
        gradient(lambda x: np.sum(np.linalg.eigvals(np.outer(x, x))), [2.0, 1.0])
    with pytest.raises(TypeError, match="in place"):
        gradient(lambda x: x.__setitem__(0, 1.0), [2.0, 1.0])
    with pytest.raises(TypeError, match="out="):
        gradient(lambda x: np.sum(np.exp(x, out=np.empty(2))), [2.0, 1.0])
    with pytest.raises(ValueError, match="scalar"):
        back(param([1.0, 2.0]) * 2)


def test_zero_derivative_functions_and_constants():
    assert gradient(lambda x: np.floor(x) + np.round(x) + x, 1.3)[0] == 1.0
    assert gradient(lambda x: np.sum(np.zeros_like(x) + x * np.ones_like(x)), [1.0, 2.0])[0].tolist() == [1, 1]
    assert gradient(lambda x: 5.0, 1.0) == (0.0,)
    g = gradient(lambda x, y: np.sum(x), [1.0, 2.0], np.ones((2, 2)))
    np.testing.assert_array_equal(g[1], np.zeros((2, 2)))


def test_gradients_are_writable_and_distinct():
    gx, gy = gradient(lambda x, y: np.sum(x + y), np.ones(3), np.ones(3))
    assert gx is not gy and gx.flags.writeable and gy.flags.writeable
    gx += 1
    np.testing.assert_array_equal(gy, np.ones(3))


def test_deep_graph_without_backward_is_freed():
    x = param(1.0)
    for _ in range(200_000):
        x = x + 1.0
    del x  # a deep chain must be freed without blowing the C stack


def test_nest_true_tracks_every_gradient_even_constant_ones():
    """Flux prints (4.0 (tracked), 1.0 (tracked), 2.0 (tracked)): d(Wx + b)/db = 1 is tracked too."""
    from dualnum.tracker import gradient, istracked, value
    gs = gradient(lambda W, b, x: W * x + b, 2, 3, 4, nest=True)
    assert all(istracked(g) for g in gs)
    assert [value(g) for g in gs] == [4.0, 1.0, 2.0]
    assert repr(gs[1]) == "1.0 (tracked)"
    # a constant gradient has no derivative itself
    assert gradient(lambda b: gradient(lambda W, b, x: W * x + b, 2, b, 4, nest=True)[1], 3.0) == (0.0,)


# ---- the backward pass's short paths compute what the general code computes ------------------------------------

def _general_rule_adjoints(rule, node, g):
    """The adjoints of a rule node by the general code (one formula at a time), as _partials_times does."""
    from dualnum.reverse.tracked import _partials_times
    prep = () if rule.zero else tuple(None if i in rule.nondiff else (d, callable(d))
                                      for i, d in enumerate(rule.partials))
    if not prep:
        return (None,) * len(node._parents)
    with np.errstate(divide="ignore", invalid="ignore"):
        return tuple(_partials_times(prep, node, g))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rule_adjoints_specialised_per_rule_match_the_general_code(dtype):
    """Every unary and binary rule, with broadcasting and constants: the per-rule adjoint function that the
    backward pass uses gives exactly (same numbers, same dtype, same shape) what the general code gives."""
    from dualnum import rules
    from dualnum.reverse.tracked import _rule_vjp, apply_rule, leaf
    rng = np.random.default_rng(7)

    def sample(rule, shape, i):
        lo, hi = rule.domain2 if (i == 1 and rule.domain2) else rule.domain
        return (lo + (hi - lo) * rng.random(shape)).astype(dtype)

    checked = 0
    for rule in rules.RULES.values():
        if rule.arity not in (1, 2) or rule.name == "where":
            continue
        if rule.arity == 1:
            cases = [((3, 4),)]
        else:
            cases = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4)), ((3, 4), ())]
        for shapes in cases:
            for tracked in ([True] if rule.arity == 1 else [(True, True), (True, False), (False, True)]):
                flags = (tracked,) if rule.arity == 1 else tracked
                args = [leaf(sample(rule, s, i), 0) if t else sample(rule, s, i)
                        for i, (s, t) in enumerate(zip(shapes, flags))]
                with np.errstate(all="ignore"):
                    node = apply_rule(rule, tuple(args))
                g = rng.standard_normal(np.shape(node.data)).astype(dtype)
                with np.errstate(all="ignore"):
                    fast = _rule_vjp(rule, node, g)
                    slow = _general_rule_adjoints(rule, node, g)
                assert len(fast) == len(slow)
                for a, b in zip(fast, slow):
                    assert (a is None) == (b is None), rule.name
                    if a is not None:
                        assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype, rule.name
                        np.testing.assert_array_equal(a, b, err_msg=rule.name)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_of_matrices_adjoints_match_the_general_code(dtype):
    from dualnum.reverse.tracked import _matmul_general, leaf, matmul
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)
    g = rng.standard_normal((3, 5)).astype(dtype)
    for need_a, need_b in [(True, True), (True, False), (False, True)]:
        node = matmul(leaf(A, 0) if need_a else A, leaf(B, 0) if need_b else B)
        fast = node._op(g)
        slow = _matmul_general(g, A, B, need_a, need_b)
        for a, b in zip(fast, slow):
            assert (a is None) == (b is None)
            if a is not None:
                assert a.shape == b.shape and a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("idx", [(slice(None), None), (None,), Ellipsis, (None, Ellipsis), (Ellipsis, None),
                                 slice(None), (slice(None), slice(None)), None, ()])
def test_indexing_that_only_adds_axes_has_the_adjoint_of_scatter(idx):
    """b[:, None] and friends: the adjoint is a reshape, equal to scattering into zeros (also for a float64
    adjoint arriving at float32 data, which comes back as float32)."""
    from dualnum.reverse.tracked import leaf, scatter
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    node = leaf(x, 0)[idx]
    for gdtype in (np.float32, np.float64):
        g = (np.arange(np.size(node.data), dtype=gdtype) - 2.5).reshape(np.shape(node.data))
        (fast,) = node._op(g)
        slow = scatter(g, idx, x.shape, x.dtype)
        assert fast.shape == slow.shape == x.shape and fast.dtype == slow.dtype == np.float32
        np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, True), (1, False), ((0, 1), True), (-1, True)])
def test_sum_adjoint_matches_broadcasting_the_adjoint(axis, keepdims):
    from dualnum.reverse.tracked import leaf
    for dtype in (np.float32, np.float64):
        x = np.arange(6.0, dtype=dtype).reshape(2, 3)
        node = np.sum(leaf(x, 0), axis=axis, keepdims=keepdims)
        for g in (np.full(np.shape(node.data), -1.5, dtype=np.float64), np.float64(2.0), 0.25):
            if np.ndim(g) != np.ndim(node.data):
                continue
            (fast,) = node._op(g)
            kept = np.sum(x, axis=axis, keepdims=True).shape
            slow = np.zeros(x.shape, dtype) + np.broadcast_to(np.reshape(g, kept) if np.ndim(g) else g, x.shape)
            assert fast.shape == x.shape and fast.dtype == dtype
            np.testing.assert_array_equal(fast, slow)
    # the same shapes again: the cached axes give the same graph
    a = gradient(lambda x: np.sum(np.sum(x, axis=-1) ** 2), np.ones((2, 3)))[0]
    b = gradient(lambda x: np.sum(np.sum(x, axis=1) ** 2), np.ones((2, 3)))[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.full((2, 3), 6.0))


def test_bias_gradients_are_fresh_arrays_of_the_bias_shape():
    """W @ x + b[:, None]: b's gradient has b's shape and dtype, and is not a view into another gradient."""
    rng = np.random.default_rng(0)
    W, b = param(rng.standard_normal((3, 4)).astype(np.float32)), param(np.zeros(3, np.float32))
    x = rng.standard_normal((4, 5)).astype(np.float32)
    gs = gradient(lambda: np.sum(np.exp(W @ x + b[:, None])), params(W, b))
    z = np.exp(value(W) @ x + value(b)[:, None])
    np.testing.assert_allclose(gs[b], z.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(gs[W], z @ x.T, rtol=1e-5)
    assert gs[b].shape == (3,) and gs[b].dtype == np.float32 and gs[b].base is None and gs[b].flags.writeable


# ---- in-place operators on parameters -------------------------------------------------------------------------
def test_training_with_in_place_minus_equals_keeps_the_parameters():
    # Flux's W .-= lr .* W̄: a least-squares fit written with -=; the parameters stay the same tracked objects
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    W_true, b_true = np.array([[1.0, -2.0, 0.5]]), np.array([0.3])
    Y = W_true @ X + b_true[:, None]
    W, b = param(np.zeros((1, 3))), param(np.zeros(1))
    data, ps = W.data, params(W, b)
    losses = []
    for _ in range(300):
        gs = gradient(lambda: np.mean((W @ X + b[:, None] - Y) ** 2), ps)
        assert gs[W] is not None and gs[b] is not None
        W -= 0.1 * gs[W]
        b += -0.1 * gs[b]
        losses.append(float(np.mean((value(W) @ X + value(b)[:, None] - Y) ** 2)))
    assert type(W) is dn.tracker.Tracked and W.is_leaf and W.data is data
    assert losses[-1] < 1e-8 < losses[0]
    np.testing.assert_allclose(value(W), W_true, atol=1e-4)
    np.testing.assert_allclose(value(b), b_true, atol=1e-4)


def test_in_place_operators_on_a_parameter_update_it():
    W = param(np.array([1.0, 2.0], dtype=np.float32))
    W.grad = np.ones(2)
    before = W
    W *= 0.5
    W /= 2.0
    W **= 2.0
    W += np.array([1.0, 1.0])
    assert W is before and W.grad is None and W.data.dtype == np.float32
    np.testing.assert_allclose(value(W), (np.array([1.0, 2.0]) * 0.5 / 2.0) ** 2 + 1.0)
    s = param(2.0)
    s -= 0.5
    s *= param(4.0)  # a parameter nobody differentiates is a number here
    assert s.is_leaf and type(s.data) is float and s == 6.0
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        W += np.ones((3, 2))
    with pytest.raises(ValueError, match="scalar parameter"):
        s += np.ones(2)
    with pytest.raises(TypeError, match="@="):
        W @= np.ones((2, 2))


def test_in_place_operators_inside_a_gradient_record():
    # on values being differentiated, x += c and x *= c are new values of the computation, not updates
    def f(x):
        x *= 2.0
        x += 1.0
        return x * x  # (2x + 1)²
    assert gradient(f, 3.0)[0] == 4 * (2 * 3.0 + 1)
    xs = np.array([1.0, -2.0])
    g = gradient(lambda x: np.sum(_iadd_then_square(x)), xs)[0]
    np.testing.assert_allclose(g, 2 * (xs + 1))
    np.testing.assert_array_equal(xs, [1.0, -2.0])  # the caller's array is left alone
    # a parameter updated with something being differentiated: recorded, the parameter left alone
    W = param(np.array([1.0, 2.0]))
    g = gradient(lambda x: np.sum(_iadd_then_square(W, x)), 3.0)[0]
    assert g == pytest.approx(np.sum(2 * (value(W) + 3.0)))
    np.testing.assert_array_equal(value(W), [1.0, 2.0])
    # inside an implicit gradient the parameter itself is being differentiated: recorded too
    gs = gradient(lambda: np.sum(_iadd_then_square(W)), params(W))
    np.testing.assert_allclose(gs[W], 2 * (value(W) + 1))
    np.testing.assert_array_equal(value(W), [1.0, 2.0])


def _iadd_then_square(x, c=1.0):
    x += c
    return x * x


# ---- edges: inf and NaN as the math gives, never a Python exception ------------------------------------------
EDGES = [0.0, -0.0, 1.0, -1.0, -2.5, 1e308, np.inf, -np.inf, np.nan]
_RULES = sorted(n for n, r in dn.rules.RULES.items() if r.arity in (1, 2))


@pytest.mark.parametrize("name", _RULES)
def test_every_rule_at_edge_points_on_scalars_as_on_arrays(name):
    """A scalar input (Python floats inside) gets what the same element of an array gets (numpy's inf/NaN),
    never ZeroDivisionError, OverflowError or a complex number."""
    r = dn.rules.RULES[name]
    points = [(a,) for a in EDGES] if r.arity == 1 else [(a, b) for a in EDGES for b in EDGES]
    with np.errstate(all="ignore"):
        for xs in points:
            scalar = gradient(lambda *a: r.f(*a), *xs)
            array = gradient(lambda *a: np.sum(r.f(*a)), *[np.array([x]) for x in xs])
            for s, a in zip(scalar, array):
                assert type(s) is float, (name, xs, s)
                np.testing.assert_array_equal(s, a[0], err_msg=f"{name}{xs}")


def test_power_with_exponent_zero_at_zero():
    # x**0 is the constant 1: its derivative is 0 at x = 0 too (the array path's convention)
    assert gradient(lambda v: v ** 0.0, 0.0) == (0.0,)
    assert gradient(lambda v: np.sum(v ** 0.0), np.array([0.0, 2.0]))[0].tolist() == [0.0, 0.0]
    with np.errstate(all="ignore"):
        assert gradient(lambda x, y: x ** y, 0.0, 0.0) == (0.0, 0.0)
        assert math.isnan(gradient(lambda v: v ** 0.5, -1.0)[0])  # no real derivative: NaN, as numpy


def test_nonfinite_losses_have_the_gradients_the_math_gives():
    with np.errstate(all="ignore"):
        assert gradient(lambda x: np.log(x), 0.0) == (np.inf,)  # d log x = 1/x
        assert gradient(lambda x: np.log(x - 1), 1.0) == (np.inf,)
        assert gradient(lambda x: 1.0 / x, 0.0) == (-np.inf,)  # -1/x², with numpy's sign of 1/0²
        # one input's inf never poisons another's entry
        g = gradient(lambda x: np.sum(np.sqrt(x)), np.array([0.0, 1.0, 4.0]))[0]
        np.testing.assert_array_equal(g, [np.inf, 0.5, 0.25])  # 1/(2√x)
        g = gradient(lambda x: np.sum(np.exp(x)), np.array([1000.0, 1.0]))[0]
        np.testing.assert_array_equal(g, [np.inf, np.exp(1.0)])
        gx, gy = gradient(lambda x, y: np.log(x) + 3 * y, 0.0, 2.0)
        assert gx == np.inf and gy == 3.0
        # a NaN loss: NaN where the NaN flows, the rest as usual
        gx, gy = gradient(lambda x, y: x * np.nan + 2 * y, 1.0, 1.0)
        assert math.isnan(gx) and gy == 2.0
        # implicit parameters and back() too
        W = param(np.array([0.0, 1.0]))
        np.testing.assert_array_equal(gradient(lambda: np.sum(np.sqrt(W)), params(W))[W], [np.inf, 0.5])
        y = np.sum(np.log(W))
        back(y)
        np.testing.assert_array_equal(W.grad, [np.inf, 1.0])


def test_a_rule_written_with_python_arithmetic_follows_numpy_on_scalars():
    # a user's rule (not numpy functions): Python floats raise or turn complex where numpy gives inf/NaN
    from dualnum.reverse.tracked import apply_rule
    recip = dn.rules.Rule("recip_python", lambda x: 1.0 / x, (lambda x, z: -1.0 / (x * x),))
    cbrt = dn.rules.Rule("cbrt_python", lambda x: x ** (1 / 3), (lambda x, z: (1 / 3) * x ** (-2 / 3),))
    with np.errstate(all="ignore"):
        for r, x in ((recip, 0.0), (cbrt, -8.0), (cbrt, 0.0)):
            y = apply_rule(r, (param(x),))
            ya = apply_rule(r, (param(np.array([x])),))
            np.testing.assert_array_equal(value(y), value(ya)[0])
            assert type(value(y)) is not complex
            g = gradient(lambda v: apply_rule(r, (v,)), x)[0]
            ga = gradient(lambda v: np.sum(apply_rule(r, (v,))), np.array([x]))[0]
            np.testing.assert_array_equal(g, ga[0])


def test_a_loss_returned_as_an_object_array_of_tracked_scalars_is_differentiated():
    x = 1.5
    for f, slope in ((lambda v: np.array(v), 1.0), (lambda v: np.array([v * v]), 2 * x),
                     (lambda v: np.array(v) * 3.0, 3.0)):
        assert gradient(f, x)[0] == pytest.approx(slope)
    W = param(x)
    assert gradient(lambda: np.array([W * W]), params(W))[W] == pytest.approx(2 * x)


def test_nested_gradient_of_a_parameter_records_on_the_parameter():
    # Flux: back!(gradient(f, x; nest = true)[1]) accumulates the second derivative into x.grad
    x = param(2.0)
    g = gradient(lambda x: x ** 3, x, nest=True)[0]
    back(g)
    assert x.grad == pytest.approx(6 * 2.0)
    W = param(np.array([1.0, 2.0]))
    gw, gy = gradient(lambda W, y: np.sum(W ** 2) * y, W, 3.0, nest=True)
    back(np.sum(gw))
    np.testing.assert_allclose(W.grad, [6.0, 6.0])  # d/dW Σ 2Wy = 2y
    back(gy)
    np.testing.assert_allclose(W.grad, [6.0 + 2.0, 6.0 + 4.0])  # + d/dW ΣW² = 2W


@pytest.mark.parametrize("p, d", [(2, lambda x: 2 * x), (0.5, lambda x: 0.5 / np.sqrt(x)), (-1, lambda x: -1 / x**2),
                                  (2.0, lambda x: 2 * x), (3, lambda x: 3 * x**2)])
def test_powers_with_their_own_rules_give_the_closed_form(p, d):
    # x**2, x**0.5, x**-1 are recorded as square, sqrt, reciprocal (as forward mode does): same numbers
    x = np.linspace(0.5, 2.0, 7)
    np.testing.assert_allclose(gradient(lambda v: np.sum(v ** p), x)[0], d(x), rtol=1e-14)
    np.testing.assert_allclose(gradient(lambda v: v ** p, 1.5)[0], d(1.5), rtol=1e-14)
    H = dn.hessian(lambda v: np.sum(v ** p), np.linspace(0.5, 2.0, 40), method="forward-over-reverse")
    np.testing.assert_allclose(np.diag(H), dn.derivative(d, np.linspace(0.5, 2.0, 40)), rtol=1e-12)
