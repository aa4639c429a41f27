"""Tutorials 6 (inside backprop) and 7 (Taylor and Newton): run them fast, check what they print.

Each runs once per module through ``tutorials.common.run(N, fast=True)``, figures going to a temporary folder.
The numbers are read back from the printed text (and the tutorial's globals) and compared with references
worked out here independently: closed forms, central differences, exact rational arithmetic, bisection.
"""
import contextlib
import io
import math
import re
import types
from fractions import Fraction

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from tutorials import common

NUM = r"(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)"


def grab(pattern, text, n=1):
    m = re.search(pattern, text)
    assert m, f"not printed: {pattern!r}"
    vals = [float(v) for v in m.groups()]
    return vals[0] if n == 1 else vals


def printed_array(label, text):
    """The numpy array printed right after ``label`` (possibly over several lines)."""
    m = re.search(re.escape(label) + r"\s*\[([^\]]*)\]", text)
    assert m, f"not printed: {label!r}"
    return np.array([float(v) for v in m.group(1).split()])


@pytest.fixture(scope="module", autouse=True)
def figures_dir(tmp_path_factory):
    """Fast-mode figures go to a temporary folder, so running the tests never rewrites the committed figures/."""
    d = tmp_path_factory.mktemp("figures")
    mp = pytest.MonkeyPatch()
    mp.setattr(common, "FIGURES", d)
    yield d
    mp.undo()


def run_fast(name):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        namespace = common.run(name, fast=True)
    assert namespace["FAST"] is True
    return buf.getvalue(), types.SimpleNamespace(**namespace)


def assert_png(name):
    path = common.FIGURES / name
    assert path.exists(), f"figures/{name} was not written"
    import matplotlib.image
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.05, f"{name} is (nearly) blank"


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_registered_in_order():
    assert common.TUTORIALS[5:7] == ["t6_inside_backprop", "t7_taylor_and_newton"]
    assert common.tutorial_name(6) == "t6_inside_backprop" and common.tutorial_name(7) == "t7_taylor_and_newton"


# ---- tutorial 6: inside backprop ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def t6_run():
    return run_fast("t6_inside_backprop")


@pytest.fixture(scope="module")
def neuron(t6_run):
    """The neuron's data and parameters, and its loss written out again here: L = (tanh(w1 x1 + w2 x2 + b) - t)²."""
    t6 = t6_run[1]
    x1, x2, t = t6.x1, t6.x2, t6.target
    w = np.array([t6.w1_0, t6.w2_0, t6.b_0])
    loss = lambda p: (math.tanh(p[0] * x1 + p[1] * x2 + p[2]) - t) ** 2   # noqa: E731
    a = math.tanh(w[0] * x1 + w[1] * x2 + w[2])
    dz = 2 * (a - t) * (1 - a * a)              # ∂L/∂z, the closed form
    return types.SimpleNamespace(x1=x1, x2=x2, t=t, w=w, loss=loss, a=a, dz=dz,
                                 grad=np.array([dz * x1, dz * x2, dz]))


def test_t6_show_before_and_after_back(t6_run, neuron):
    out, _ = t6_run
    before, after = out.split("## the tape after back(L)", 1)
    ops = ["w1", "w2", "b", "multiply", "multiply", "add", "add", "tanh", "subtract", "power"]
    rows = re.findall(r"(?m)^(\d+)\s+(\S+)\s+\(\)", before)
    assert [op for _, op in rows] == ops and [int(i) for i, _ in rows] == list(range(10))
    assert "no backward pass yet" in before and "gradient" not in before.split("\n")[2]
    assert "gradients from the backward pass" in after
    # the gradient column after back(L): ∂L/∂node for every node, against the closed forms
    r = neuron.a - neuron.t
    expected = [neuron.grad[0], neuron.grad[1], neuron.grad[2]] + [neuron.dz] * 4 + [2 * r, 2 * r, 1.0]
    table = after.split("## backprop by hand", 1)[0]
    for k, (op, g) in enumerate(zip(ops, expected)):
        m = re.search(rf"(?m)^{k}\s+{op}\s+\(\)\s+\S+\s+(?:·|[\dc]+(?:, [\dc]+)*)\s+{NUM}\s", table)
        assert m, f"row {k} ({op}) of the swept tape not printed with a gradient"
        assert float(m.group(1)) == pytest.approx(g, rel=1e-3, abs=1e-4)   # show prints 4 significant digits
    for rule_math in ("d tanh x = (1 - tanh²x) dx", "d(xy) = y dx + x dy", "d(x+y) = dx + dy"):
        assert rule_math in table


def test_t6_parameter_gradients_match_closed_form_and_central_differences(t6_run, neuron):
    out, t6 = t6_run
    g = grab(rf"w1.grad = {NUM}\s+w2.grad = {NUM}\s+b.grad = {NUM}", out, 3)
    fd = [central(lambda s: neuron.loss(neuron.w + s * e), 0.0) for e in np.eye(3)]
    assert g == pytest.approx(list(neuron.grad), rel=1e-9)
    assert g == pytest.approx(fd, rel=1e-6)
    assert grab(rf"∂L/∂w1 = 2\(a - t\)\(1 - a²\)·x1 = {NUM}", out) == pytest.approx(neuron.grad[0], rel=1e-9)
    assert [t6.w1.grad, t6.w2.grad, t6.b.grad] == pytest.approx(list(neuron.grad), rel=1e-12)


def test_t6_hand_sweep_matches_the_tape_node_by_node(t6_run, neuron):
    out, t6 = t6_run
    assert grab(rf"largest difference between the hand sweep and the tape: {NUM}", out) < 1e-15
    table = out.split("## backprop by hand", 1)[1].split("largest difference", 1)[0]
    rows = re.findall(rf"(?m)^\s*(\S+)\s+{NUM}\s+{NUM}\s", table)
    assert [op for op, _, _ in rows] == ["power", "subtract", "tanh", "add", "add", "multiply", "multiply",
                                         "w1", "w2", "b"]
    r = neuron.a - neuron.t
    arriving = [1.0, 2 * r, 2 * r] + [neuron.dz] * 4 + list(neuron.grad)
    for (op, mine, tape_g), ref in zip(rows, arriving):
        assert float(mine) == pytest.approx(ref, rel=1e-9) and float(tape_g) == pytest.approx(ref, rel=1e-9), op
    from dualnum.rules import RULES
    for op in ("power", "subtract", "tanh", "add", "multiply"):
        assert RULES[op].math in table   # each step is shown beside its rule from the table
    # the tape the tutorial kept: every line's gradient, one per node, in the same order
    assert [line.op for line in t6.lines][:3] == ["w1", "w2", "b"] and len(t6.lines) == 10


def test_t6_tape_figure_has_one_box_per_node(t6_run):
    out, t6 = t6_run
    assert "-> wrote figures/backprop_tape.png" in out
    assert_png("backprop_tape.png")
    assert len(t6.fig.axes[0].patches) == len(t6.lines) == 10


def test_t6_forward_and_reverse_agree_on_the_neuron(t6_run, neuron):
    out, _ = t6_run
    section = out.split("## forward mode, one pass per direction", 1)[1]
    for name, ref in zip(["w1", "w2", "b"], neuron.grad):
        jvp_g, fwd_g, rev_g = grab(rf"(?m)^\s*{name}\s+{NUM}\s+{NUM}\s+{NUM}$", section, 3)
        assert jvp_g == pytest.approx(ref, rel=1e-9)
        assert fwd_g == pytest.approx(ref, rel=1e-9)
        assert rev_g == pytest.approx(ref, rel=1e-9)
    assert grab(rf"the modes agree to {NUM}", section) < 1e-12
    assert "back(L) above gave the same: True" in section
    assert "forward mode: 3 passes, one per parameter" in section


def test_t6_mlp_forward_and_reverse_against_central_differences(t6_run):
    out, t6 = t6_run
    X, Y, theta = t6.X, t6.Y, t6.theta
    assert theta.size == 13

    def loss(p):   # written again here: 2 -> 3 -> 1 with tanh, mean squared error over the 4 columns
        W1, b1 = p[:6].reshape(3, 2), p[6:9].reshape(3, 1)
        W2, b2 = p[9:12].reshape(1, 3), p[12:].reshape(1, 1)
        return np.mean((W2 @ np.tanh(W1 @ X + b1) + b2 - Y) ** 2)

    fd = np.array([central(lambda s: loss(theta + s * e), 0.0) for e in np.eye(13)])
    np.testing.assert_allclose(t6.forward_mlp, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(t6.reverse_mlp, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(printed_array("1 backward pass:", out), t6.reverse_mlp, atol=1e-6)
    np.testing.assert_allclose(printed_array("13 jvp passes:", out), fd, rtol=1e-5, atol=1e-6)
    assert grab(rf"largest difference between the modes: {NUM}", out) < 1e-12
    ops = re.search(r"its tape: (\d+) nodes: (.*)", out)
    assert ops and int(ops.group(1)) == len(ops.group(2).split(", "))
    assert {"matmul", "tanh", "getitem"} <= set(ops.group(2).split(", "))


def test_t6_forward_loop_gives_the_same_derivative_along_w1(t6_run, neuron):
    out, t6 = t6_run
    import dualnum
    if dualnum.backends.fusion.ENABLED:
        assert "def kernel(" in out and "_R['tanh']" in out
    else:
        assert "fusion is off here" in out
    z = t6.w_grid * neuron.x1 + neuron.w[1] * neuron.x2 + neuron.w[2]
    a = np.tanh(z)
    exact = 2 * (a - neuron.t) * (1 - a * a) * neuron.x1
    np.testing.assert_allclose(printed_array("∂L/∂w1 on the grid:", out), exact, atol=1e-6)
    fwd, rev = grab(rf"at w1 = 0.8: forward {NUM}, reverse \(the tape\) {NUM}", out, 2)
    assert fwd == pytest.approx(neuron.grad[0], rel=1e-9) and rev == pytest.approx(neuron.grad[0], rel=1e-9)


# ---- tutorial 7: Taylor and Newton --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def t7_run():
    return run_fast("t7_taylor_and_newton")


def iterate_rows(section):
    """(k, x_k, error) of a Newton table."""
    return [(int(k), float(x), float(e)) for k, x, e in
            re.findall(rf"(?m)^\s*(\d+)\s+{NUM}\s+{NUM}", section)]


def test_t7_newton_sqrt2_is_the_exact_recurrence_and_converges_quadratically(t7_run):
    out, _ = t7_run
    section = out.split("## Newton's method for x² - 2", 1)[1].split("## Newton's method for cos", 1)[0]
    rows = iterate_rows(section)
    assert [k for k, _, _ in rows] == list(range(len(rows))) and len(rows) >= 5
    x = Fraction(1)
    for k, xk, ek in rows:   # Newton's step for x² - 2 is x ← (x + 2/x)/2: exact in rationals
        assert xk == pytest.approx(float(x), rel=1e-15, abs=0)
        assert ek == pytest.approx(abs(float(x) - math.sqrt(2)), rel=1e-2, abs=1e-16)
        x = (x + 2 / x) / 2
    errors = [e for _, _, e in rows]
    for e0, e1 in zip(errors, errors[1:]):   # quadratic: e_{k+1} ≈ e_k² / (2√2), never worse than e_k²
        assert e1 <= e0 ** 2
    ratios = [float(m[2]) for m in re.findall(rf"(?m)^\s*\d+\s+{NUM}\s+{NUM}\s+{NUM}$", section)]
    assert ratios[-1] == pytest.approx(1 / (2 * math.sqrt(2)), rel=1e-3)
    assert grab(rf"Newton's √2 = {NUM}", section) == math.sqrt(2)
    assert grab(rf"\|f″\(r\) / \(2 f′\(r\)\)\| = {NUM}", section) == pytest.approx(1 / (2 * math.sqrt(2)), abs=1e-6)


def test_t7_newton_cos_root_against_bisection(t7_run):
    out, t7 = t7_run
    section = out.split("## Newton's method for cos x - x", 1)[1].split("-> wrote", 1)[0]
    lo, hi = 0.0, 1.0
    for _ in range(80):   # bisection: slow but sure
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.cos(mid) - mid > 0 else (lo, mid)
    root = grab(rf"root r = {NUM}", section)
    assert root == pytest.approx(lo, abs=2e-16)
    rows = iterate_rows(section)
    assert rows[0][1] == 1.0 and len(rows) <= 6
    assert grab(rf"Newton steps: {NUM}", section) == len(rows) - 1
    limit = math.cos(lo) / (2 * (1 + math.sin(lo)))   # |f″/(2f′)| for f = cos x - x
    assert grab(rf"\|f″\(r\) / \(2 f′\(r\)\)\| = {NUM}", section) == pytest.approx(limit, abs=1e-6)
    ratios = [float(m[2]) for m in re.findall(rf"(?m)^\s*\d+\s+{NUM}\s+{NUM}\s+{NUM}$", section)]
    assert ratios[-1] == pytest.approx(limit, rel=1e-2)
    # pressing cos converges linearly, by the factor sin r per press: about log(e₀/1e-15)/log(1/sin r) presses
    presses = grab(rf"pressing cos from 1 gets as close in {NUM} presses", section)
    assert presses == pytest.approx(math.log(abs(1 - lo) / 1e-15) / -math.log(math.sin(lo)), abs=8)


def exp_sin_derivatives(n):
    """f⁽ᵏ⁾(0) of exp(sin x), k ≤ n, exactly: compose the series, exp(s) = Σ sᵐ/m!, in rationals."""
    s = [Fraction(0)] * (n + 1)
    for k in range(1, n + 1, 2):
        s[k] = Fraction((-1) ** (k // 2), math.factorial(k))
    total, power = [Fraction(0)] * (n + 1), [Fraction(1)] + [Fraction(0)] * n
    for m in range(n + 1):
        total = [t + p / math.factorial(m) for t, p in zip(total, power)]
        power = [sum(power[i] * s[k - i] for i in range(k + 1)) for k in range(n + 1)]
    return [c * math.factorial(k) for k, c in enumerate(total)]


def test_t7_derivatives_against_closed_forms(t7_run):
    out, t7 = t7_run
    n = t7.N
    sin_printed = printed_array("sin:", out)
    np.testing.assert_allclose(sin_printed, [math.sin(k * math.pi / 2) for k in range(n + 1)], atol=1e-12)
    exact = exp_sin_derivatives(n)
    assert all(c.denominator == 1 for c in exact)   # the derivatives of exp(sin x) at 0 are integers
    np.testing.assert_allclose(printed_array("exp(sin x):", out), [float(c) for c in exact], rtol=1e-12)
    np.testing.assert_allclose(t7.f_derivs, [float(c) for c in exact], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(printed_array("k = 1..5:", out), [float(c) for c in exact[1:6]], atol=1e-9)


def test_t7_taylor_polynomials_approach_f(t7_run):
    out, _ = t7_run
    exact = exp_sin_derivatives(15)
    rows = re.findall(rf"(?m)^\s*(\d+)\s+{NUM}\s+{NUM}\s+{NUM}$", out.split("T_n(1) for exp(sin x)", 1)[1])
    assert [int(r[0]) for r in rows] == [1, 2, 4, 6, 8, 10, 12, 15]
    f1, f2 = math.exp(math.sin(1.0)), math.exp(math.sin(2.0))
    errs = []
    for n, t1, e1, e2 in rows:
        n = int(n)
        poly = lambda x: float(sum(exact[k] * Fraction(x) ** k / math.factorial(k) for k in range(n + 1)))  # noqa
        assert float(t1) == pytest.approx(poly(1), rel=1e-13)
        assert float(e1) == pytest.approx(abs(poly(1) - f1), rel=2e-2)
        assert float(e2) == pytest.approx(abs(poly(2) - f2), rel=2e-2)
        errs.append(float(e1))
    assert errs[-1] < 1e-5 < errs[0]
    assert all(b < a for a, b in zip(errs, errs[1:]))   # at x = 1 each order listed is closer


def test_t7_grid_derivatives_against_closed_forms_and_central_differences(t7_run):
    out, t7 = t7_run
    xs = t7.xs
    assert xs.size >= 100
    f = lambda x: np.exp(np.sin(x))   # noqa: E731
    np.testing.assert_allclose(t7.f1, np.cos(xs) * np.exp(np.sin(xs)), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(t7.f2, (np.cos(xs) ** 2 - np.sin(xs)) * np.exp(np.sin(xs)), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(t7.f1, central(f, xs, 1e-5), atol=1e-8)
    np.testing.assert_allclose(t7.f2, (f(xs + 1e-4) - 2 * f(xs) + f(xs - 1e-4)) / 1e-8, atol=1e-5)
    e1, e2 = grab(rf"largest error of f′: {NUM}, of f″: {NUM}", out, 2)
    assert e1 < 1e-13 and e2 < 1e-13
    grid, taylor = grab(rf"at x = 1: f″ from the grid call {NUM}, from derivatives\(f, 1, 2\) {NUM}", out, 2)
    exact = (math.cos(1) ** 2 - math.sin(1)) * math.exp(math.sin(1))
    assert grid == pytest.approx(exact, abs=1e-11) and taylor == pytest.approx(exact, abs=1e-11)
    assert "derivative(np.cumsum, xs) refuses: NotElementwiseError" in out


def test_t7_figures(t7_run):
    out, _ = t7_run
    for name in ("newton.png", "taylor_polynomials.png", "grid_derivatives.png"):
        assert f"-> wrote figures/{name}" in out
        assert_png(name)
