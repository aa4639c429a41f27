"""See the tape: tracker.show / tracker.draw list every node of the recorded graph once, inputs first, with the
gradient that reached it after a backward pass; and a tracked value nobody differentiates converts to numbers."""
import re

import numpy as np
import pytest

import dualnum
from dualnum import tape as tapes, tracker
from dualnum.testing import numeric_gradient
from dualnum.tracker import back, draw, gradient, param, params, recording, show

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _graph(y):
    """The nodes behind y at its level, walked here independently of dualnum/tape.py."""
    found, stack = {id(y): y}, [y]
    while stack:
        for p in stack.pop()._parents:
            if type(p) is tracker.Tracked and p._tag == y._tag and id(p) not in found:
                found[id(p)] = p
                stack.append(p)
    return list(found.values())


def _rows(text):
    """(index, operation, [source indices]) of each node line in show's text."""
    lines = text.splitlines()[2:]
    out = []
    for line in lines:
        m = re.match(r"\s*(\d+)\s+(\S+)\s+(\(.*?\))\s+(.*)$", line)
        assert m, line
        out.append((int(m.group(1)), m.group(2), line))
    return out


def _check_order(t):
    """Every node once, each after the nodes it came from."""
    assert len({id(line.node) for line in t.lines}) == len(t.lines)
    for k in range(len(t)):
        assert all(s < k for s in t.sources(k) if s is not None)


def _ad(f, *xs):
    return gradient(f, *xs)


def _close(a, b, tol=1e-6):
    np.testing.assert_allclose(dualnum.value(a), dualnum.value(b), rtol=tol, atol=tol)


# ---- a small network: named and unnamed parameters, matmul, add, a rule, sum ---------------------------------------

W0 = np.array([[1.0, 2.0, -0.5], [0.3, -1.0, 0.7]])
B0 = np.array([0.5, -0.5])
X = np.array([0.3, 0.7, -0.2])


def _net(W, b, c):
    u = W @ X + b
    return np.sum(np.sin(u) ** 2) * c


def test_show_lists_every_node_once_in_order_then_the_gradients_after_back():
    W, b, c = param(W0, name="W"), param(B0, name="b"), param(1.5)
    y = _net(W, b, c)
    nodes = _graph(y)
    text = show(y)
    rows = _rows(text)
    assert len(rows) == len(nodes)
    assert [r[0] for r in rows] == list(range(len(nodes)))
    ops = [r[1] for r in rows]
    assert ops == ["W", "b", "param", "matmul", "add", "sin", "power", "sum", "multiply"]  # names where given
    assert "d sin x = cos x dx" in text and "gradient" not in text.splitlines()[1]
    t = tapes.tape(y)
    _check_order(t)
    back(y)
    text2 = show(y)
    assert "gradient" in text2.splitlines()[1]
    gW, gb, gc = _ad(_net, W0, B0, 1.5)
    by_op = {line.op: line for line in t.lines}
    _close(by_op["W"].grad, gW)
    _close(by_op["b"].grad, gb)
    _close(by_op["param"].grad, gc)
    _close(W.grad, gW)
    u = W0 @ X + B0
    _close(by_op["add"].grad, 1.5 * 2 * np.sin(u) * np.cos(u))  # dy/du, closed form
    _close(by_op["sin"].grad, 1.5 * 2 * np.sin(u))
    _close(t.lines[-1].grad, 1.0)  # the seed
    _close(by_op["W"].grad, numeric_gradient(lambda w: _net(w, B0, 1.5), W0)[0], 1e-5)


def test_watching_does_not_change_the_gradient_and_a_graph_is_shown_each_time():
    W = param(W0)
    y = np.sum(np.tanh(W @ X))
    show(y)
    show(y)  # twice: the same tape, no double bookkeeping
    back(y)
    plain = _ad(lambda W: np.sum(np.tanh(W @ X)), W0)[0]
    _close(W.grad, plain)
    _close(tapes.tape(y).lines[0].grad, plain)


def test_structural_operations_and_primitives():
    A0 = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.5]])

    def f(A):
        s, logdet = np.linalg.slogdet(A)  # several results in one node
        joined = np.concatenate([A[0], A[1:, 1]]).reshape(1, 5)
        m = np.einsum("ij,jk->ik", A, A)
        return s * logdet + np.linalg.det(A) + np.sum(joined ** 2) + np.sum(m[1:, :2]) + np.sum(A.T @ A)

    A = param(A0, name="A")
    y = f(A)
    text = show(y)
    ops = [r[1] for r in _rows(text)]
    for op in ("A", "slogdet", "getitem", "reshape", "concatenate", "einsum", "det", "matmul", "transpose",
               "sum", "multiply", "power", "add"):
        assert op in ops, (op, ops)
    assert len(ops) == len(_graph(y)) and ops.count("A") == 1
    assert "tr(A⁻¹ dA)" in text
    t = tapes.tape(y)
    _check_order(t)
    back(y)
    expected = _ad(f, A0)[0]
    _close(A.grad, expected)
    _close(t.lines[0].grad, expected)
    _close(expected, numeric_gradient(f, A0)[0], 1e-5)
    for line in t.lines:  # every node on a path to y got a gradient of its own shape
        assert line.grad is not None and np.shape(dualnum.value(line.grad)) == np.shape(dualnum.value(line.node))


def test_draw_returns_a_figure_with_one_patch_per_node_and_arrows():
    W, b = param(W0, name="W"), param(B0)
    y = np.sum(np.sin(W @ X + b) ** 2)
    fig = draw(y)
    assert isinstance(fig, matplotlib.figure.Figure)
    n = len(_graph(y))
    assert len(fig.axes[0].patches) == n
    edges = sum(len({s for s in tapes.tape(y).sources(k) if s is not None}) for k in range(n))
    assert len([a for a in fig.axes[0].texts if getattr(a, "arrow_patch", None) is not None]) == edges
    plt.close(fig)
    back(y)
    fig, ax = plt.subplots()
    assert draw(y, ax=ax) is fig and len(ax.patches) == n
    assert any("grad" in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_layers_are_the_longest_path_from_an_input():
    x = param(1.0, name="x")
    a = np.sin(x)
    y = a * x + np.exp(a)  # x feeds layer 1 (sin) and layer 2 (multiply)
    t = tapes.tape(y)
    layer = dict(zip((line.op for line in t.lines), tapes._layers(t)))
    assert layer == {"x": 0, "sin": 1, "multiply": 2, "exp": 2, "add": 3}


def test_recording_takes_the_tape_before_the_sweep_frees_it():
    W = param(W0, name="W")
    y = np.sum(np.cos(W @ X))
    with recording():
        back(y)
    text = show(y)
    assert "gradient" in text.splitlines()[1] and re.search(r"\bW\b", text)
    _close(tapes.tape(y).lines[0].grad, _ad(lambda W: np.sum(np.cos(W @ X)), W0)[0])
    with recording():  # inside gradient the loss is not the user's: show() shows the latest tape
        g = gradient(lambda v: np.sum(np.tanh(v) * v), X)[0]
    t = tapes.tape()
    assert [line.op for line in t.lines] == ["input", "tanh", "multiply", "sum"]
    _close(t.lines[0].grad, g)
    _close(g, numeric_gradient(lambda v: np.sum(np.tanh(v) * v), X)[0], 1e-5)


def test_show_after_back_without_a_tape_says_what_to_do():
    y = np.sum(np.sin(param(W0)))
    back(y)
    with pytest.raises(RuntimeError, match=r"before back\(y\).*recording"):
        show(y)
    with pytest.raises(TypeError, match="loop_source"):
        show(dualnum.DualArray(X, np.ones((1, 3))))  # forward mode has no tape: its loop is what to read
    with pytest.raises(TypeError, match="tracked value"):
        draw(3.0)


def test_a_node_inside_a_shown_graph_after_back():
    W = param(W0, name="W")
    u = W @ X
    y = np.sum(np.exp(u))
    show(y)
    back(y)
    part = tapes.tape(u)  # u's graph was freed, but y's tape holds it
    assert [line.op for line in part.lines] == ["W", "matmul"]
    _close(part.lines[-1].grad, np.exp(W0 @ X))


def test_parameters_keep_their_names_into_gradient():
    W = param(2.0, name="W")
    assert repr(W) == "W = 2.0 (tracked)" and W.name == "W"
    assert repr(param(2.0)) == "2.0 (tracked)"
    with pytest.raises(TypeError, match="name is a str"):
        param(1.0, name=3)
    seen = []

    def f(w):
        y = w * w * 3.0
        seen.append(show(y))
        return y
    assert gradient(f, W) == (12.0,)
    assert re.search(r"\s0\s+W\s", seen[0]) and "level" in seen[0]
    assert "12" in show().splitlines()[2]  # the gradient that reached W, after the sweep


def test_nested_levels_are_constants_on_the_inner_tape_and_the_result_is_unchanged():
    tapes_seen = []

    def f(x):
        y = np.sin(x) * x
        tapes_seen.append(tapes.tape(y))
        return y

    def df(x):
        return gradient(f, x, nest=True)[0]
    d2 = gradient(df, 0.7)[0]
    x = 0.7
    _close(d2, 2 * np.cos(x) - x * np.sin(x))  # d²/dx² (x sin x), closed form
    inner = tapes_seen[-1]
    assert [line.op for line in inner.lines] == ["input", "sin", "multiply"]  # only the inner level's nodes
    _close(inner.lines[0].grad, np.cos(x) * x + np.sin(x))  # (tracked at the outer level: shown by value)
    assert "0.7" in str(inner)
    # first order, the same function without nesting, the same numbers
    assert gradient(f, 0.7)[0] == pytest.approx(np.cos(x) * x + np.sin(x))


def test_zero_derivative_and_gathers_are_named():
    x = param(np.array([0.4, 1.6, -2.2]))
    y = np.sum(np.round(x) * x) + np.sum(np.tile(x, 2)) + np.max(x)
    ops = [line.op for line in tapes.tape(y).lines]
    assert "round" in ops or "constant" in ops
    assert "tile" in ops and "max" in ops
    show(y)
    back(y)
    expected = np.round([0.4, 1.6, -2.2]) + 2.0 + np.array([0.0, 1.0, 0.0])
    _close(x.grad, expected)


# ---- model outputs plot directly ------------------------------------------------------------------------------------

def _model():
    import nn
    rng = np.random.default_rng(0)
    return nn.Chain(nn.Dense(rng.normal(size=(4, 1)), rng.normal(size=4), np.tanh),
                    nn.Dense(rng.normal(size=(1, 4)), rng.normal(size=1)))


def test_np_asarray_of_a_model_output_outside_a_gradient():
    m = _model()
    x = np.linspace(-2, 2, 7)[None, :]
    d1, d2 = m.layers
    plain = dualnum.value(d2.W) @ np.tanh(dualnum.value(d1.W) @ x + dualnum.value(d1.b)[:, None]) + \
        dualnum.value(d2.b)[:, None]
    out = np.asarray(m(x))
    assert out.dtype == np.float64 and type(out) is np.ndarray
    np.testing.assert_allclose(out, plain, rtol=1e-12)
    np.testing.assert_allclose(np.array(m(x), dtype=np.float32), plain, rtol=1e-6)
    fig, ax = plt.subplots()
    (line,) = ax.plot(x[0], m(x)[0])
    np.testing.assert_allclose(line.get_ydata(), plain[0])
    plt.close(fig)


def test_np_asarray_still_refuses_inside_a_gradient():
    m = _model()
    x = np.linspace(-2, 2, 7)[None, :]
    ps = params(*[p for layer in m.layers for p in (layer.W, layer.b)])
    with pytest.raises(TypeError, match="would drop"):
        gradient(lambda: np.sum(np.asarray(m(x))), ps)
    with pytest.raises(TypeError, match="would drop"):
        gradient(lambda mm: np.sum(np.asarray(mm(x))), m)
    g = gradient(lambda: np.sum(m(x)), ps)  # and the same loss, kept tracked, differentiates
    assert np.shape(g[m.layers[0].W]) == (4, 1)


def test_a_nested_gradient_converts_once_its_level_is_done_and_refuses_while_it_runs():
    f = lambda v: np.sum(np.sin(v) * v)  # noqa: E731
    g = gradient(f, X, nest=True)[0]  # tracked at a level nobody differentiates any more
    _close(np.asarray(g), np.cos(X) * X + np.sin(X))
    with pytest.raises(TypeError, match="would drop"):  # inside the outer gradient the level is live
        gradient(lambda v: np.sum(np.asarray(gradient(f, v, nest=True)[0])), X)
    hess = gradient(lambda v: np.sum(gradient(f, v, nest=True)[0]), X)[0]  # second order, kept tracked
    _close(hess, 2 * np.cos(X) - X * np.sin(X))


def test_plots_that_read_to_numpy_or_call_other_numpy_functions_work_outside_a_gradient():
    m = _model()
    x = np.linspace(-2, 2, 9)[None, :]
    y = m(x)
    plain = np.asarray(y)
    assert y.tolist() == plain.tolist() and y[0, 3].tolist() == plain[0, 3]
    fig, ax = plt.subplots()
    counts = ax.hist(y[0], bins=4)[0]  # matplotlib splits a non-ndarray into elements unless it has to_numpy
    np.testing.assert_array_equal(counts, np.histogram(plain[0], bins=4)[0])
    bars = ax.bar(x[0], y[0])  # np.broadcast_arrays: no derivative here, none needed outside a gradient
    np.testing.assert_allclose([b.get_height() for b in bars], plain[0])
    h = np.histogram2d(y[0], x[0], bins=3)[0]
    np.testing.assert_array_equal(h, np.histogram2d(plain[0], x[0], bins=3)[0])
    np.testing.assert_allclose(np.add.outer(y[0], y[0]), np.add.outer(plain[0], plain[0]))
    plt.close(fig)


def test_the_same_calls_inside_a_gradient_still_refuse():
    with pytest.raises(TypeError, match="would drop"):
        gradient(lambda v: np.sum(v) + v.tolist()[0], X)
    with pytest.raises(TypeError, match="would drop"):
        gradient(lambda v: v.to_numpy(), 1.0)
    with pytest.raises(TypeError, match="histogram2d is not supported in reverse mode"):
        gradient(lambda v: np.sum(v) + np.histogram2d(v, v)[0].sum(), X)
    with pytest.raises(TypeError, match="outer is not supported in reverse mode"):
        gradient(lambda v: np.sum(np.add.outer(v, v)), X)
    # the second level: a nested gradient's result is live inside the outer gradient
    with pytest.raises(TypeError, match="histogram2d is not supported"):
        gradient(lambda v: np.histogram2d(gradient(lambda u: np.sum(u ** 3), v, nest=True)[0], X)[0].sum(), X)
