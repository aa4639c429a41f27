"""Tutorials 4 (source 003, "Teaching myself ML") and 5 (dual numbers from scratch): run them fast, check what they print.

Each runs top to bottom as a script through ``tutorials.common.run(N, fast=True)`` (what ``python -m tutorials
--fast`` does), which hands back the tutorial's globals: its models, data and functions, checked directly below.
The numbers are read back from the printed text, so a tutorial that prints something wrong fails here; the
reference values are recomputed independently (np.polyfit, finite differences) rather than copied.
"""
import contextlib
import io
import math
import re
import types

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from tutorials import common

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NUM = r"(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)"


def grab(pattern, text, n=1):
    m = re.search(pattern, text)
    assert m, f"not printed: {pattern!r}"
    vals = [float(v) for v in m.groups()]
    return vals[0] if n == 1 else vals


@pytest.fixture(scope="module", autouse=True)
def figures_dir(tmp_path_factory):
    """Fast-mode figures go to a temporary folder, so running the tests never rewrites the committed figures/."""
    d = tmp_path_factory.mktemp("figures")
    mp = pytest.MonkeyPatch()
    mp.setattr(common, "FIGURES", d)
    yield d
    mp.undo()


def run_fast(n):
    """(stdout, globals as a namespace) of tutorial n run in fast mode, figures going to ``common.FIGURES``."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        namespace = common.run(n, fast=True)
    assert namespace["FAST"] is True
    return buf.getvalue(), types.SimpleNamespace(**namespace)


def assert_png(name):
    path = common.FIGURES / name
    assert path.exists(), f"figures/{name} was not written"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    from PIL import Image
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.size[0] > 300 and im.size[1] > 200
        assert np.asarray(im.convert("L"), dtype=float).std() > 5  # not blank


# ---- tutorial 4 -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def t4_run():
    return run_fast(4)


@pytest.fixture(scope="module")
def t4_out(t4_run):
    return t4_run[0]


@pytest.fixture(scope="module")
def t4(t4_run):
    """The tutorial's globals: Line, Parabola, make_line_data, model_gradient, SEED, ..."""
    return t4_run[1]


def line_data(t4):
    rng = np.random.default_rng(t4.SEED)
    x, y = t4.make_line_data(rng)
    model = t4.Line(float(rng.random()), float(rng.random()))
    return x, y, model


def test_t4_runs_under_capsys(capsys):
    common.run(4, fast=True)
    out = capsys.readouterr().out
    assert "fitted Line" in out and "DIVERGED" in out


def test_t4_data_are_the_sources_recipe(t4_out, t4):
    x, y, _ = line_data(t4)
    assert np.array_equal(x, np.arange(1.0, 101.0))
    noise = y - 3 * x - 100
    assert noise.min() >= 0 and noise.max() < 100
    m_ls, b_ls = grab(rf"least squares .*: m = {NUM}, b = {NUM}", t4_out, 2)
    m_ref, b_ref = np.polyfit(x, y, 1)
    assert m_ls == pytest.approx(m_ref, abs=1e-4) and b_ls == pytest.approx(b_ref, abs=1e-4)


def test_t4_gradient_is_a_structure_matching_finite_differences(t4_out, t4):
    x, y, model = line_data(t4)
    m = re.search(r"g = \{'m': " + NUM + r", 'b': " + NUM + r"\}", t4_out)
    assert m, "the gradient must print as a structure with keys m and b"
    gm, gb = float(m.group(1)), float(m.group(2))
    mse = lambda mm, bb: np.mean((mm * x + bb - y) ** 2)
    h = 1e-5
    assert gm == pytest.approx((mse(model.m + h, model.b) - mse(model.m - h, model.b)) / (2 * h), rel=1e-6)
    assert gb == pytest.approx((mse(model.m, model.b + h) - mse(model.m, model.b - h)) / (2 * h), rel=1e-6)
    # the closed form, too
    r = model.m * x + model.b - y
    assert gm == pytest.approx(2 * np.mean(r * x), rel=1e-10) and gb == pytest.approx(2 * np.mean(r), rel=1e-10)


def test_t4_gradient_function_returns_the_fields(t4):
    x, y, model = line_data(t4)
    g = t4.model_gradient(model, x, y)
    assert set(g) == {"m", "b"}
    p = t4.Parabola(1.0, 2.0, 3.0)
    assert set(t4.model_gradient(p, x, y)) == {"a", "b", "c"}


def test_t4_fitted_line_is_the_least_squares_line(t4_out, t4):
    x, y, _ = line_data(t4)
    m_ref, b_ref = np.polyfit(x, y, 1)
    m_fit, b_fit = grab(rf"fitted Line: m = {NUM}, b = {NUM}", t4_out, 2)
    assert m_fit == pytest.approx(3.0, abs=0.1)
    assert m_fit == pytest.approx(m_ref, abs=1e-3)
    assert b_fit == pytest.approx(b_ref, abs=0.05)
    assert 140 < b_fit < 160  # the data's intercept: 100 + mean of 100·rand ≈ 150
    steps = grab(r"converged after (\d+) steps \(cost fell", t4_out)
    assert steps < 1000  # the convergence test stopped training early


def test_t4_source_recipe_is_slow_and_says_so(t4_out, t4):
    m, b = grab(rf"gradient steps: m = {NUM}, b = {NUM}", t4_out, 2)
    x, y, _ = line_data(t4)
    _, b_ref = np.polyfit(x, y, 1)
    assert b < b_ref - 20  # α = 1e-4 for both fields has not got b there yet


def test_t4_learning_rates_one_diverges_and_the_bound_is_right(t4_out, t4):
    x, _, _ = line_data(t4)
    H = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    bound = 2 / np.linalg.eigvalsh(H)[-1]
    assert grab(rf"2/λmax = {NUM}", t4_out) == pytest.approx(bound, rel=1e-4)
    diverged = re.findall(r"α = " + NUM + r": DIVERGED", t4_out)
    assert len(diverged) == 1 and float(diverged[0]) > bound
    stable = [float(a) for a in re.findall(r"α = " + NUM + r": mse after", t4_out)]
    assert len(stable) >= 3 and all(a < bound for a in stable)


def test_t4_curvatures_by_nested_duals(t4_out, t4):
    x, _, _ = line_data(t4)
    assert grab(rf"d²mse/dm² = {NUM}", t4_out) == pytest.approx(2 * np.mean(x * x), rel=1e-9)
    assert grab(rf"d²mse/db² = {NUM}", t4_out) == pytest.approx(2.0)


def test_t4_parabola_same_code_fits(t4_out):
    a, b, c = grab(rf"fitted Parabola: a = {NUM}, b = {NUM}, c = {NUM}", t4_out, 3)
    a_ls, b_ls, c_ls = grab(rf"least squares a = {NUM}, b = {NUM}, c = {NUM}", t4_out, 3)
    assert (a, b, c) == pytest.approx((a_ls, b_ls, c_ls), abs=1e-3)
    assert a == pytest.approx(5, abs=0.3) and b == pytest.approx(10, abs=1.0) and 30 < c < 80


def test_t4_figures(t4_out):
    for name in ["line_fit.png", "learning_rates.png", "line_cost_surface.png", "parabola_fit.png"]:
        assert f"wrote figures/{name}" in t4_out
        assert_png(name)


# ---- tutorial 5 -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def t5_run():
    return run_fast(5)


@pytest.fixture(scope="module")
def t5_out(t5_run):
    return t5_run[0]


def test_t5_runs_under_capsys(capsys):
    common.run(5, fast=True)
    out = capsys.readouterr().out
    assert "perturbation confusion" in out and "forward_vs_reverse.png" in out


def test_t5_our_dual_prints_value_and_derivative(t5_out):
    assert "f(Dual(2.0, 1.0)) = Dual(17.0, 14.0)" in t5_out
    assert grab(rf"D\(f, 2\) = {NUM}", t5_out) == 14.0
    assert grab(rf"largest difference from the hand-derived derivative: {NUM}", t5_out) < 1e-12


def test_t5_dualnum_dual_repr(t5_out):
    assert "f(dualnum.Dual(2.0, 1.0)) = Dual(17.0, 14.0)" in t5_out
    assert "partials (14.0,)" in t5_out


def test_t5_nested_second_derivatives(t5_out):
    assert grab(rf"ours:    D\(x -> D\(f, x\), 2\) = {NUM}", t5_out) == 6.0
    assert grab(rf"derivative\(f, 2, order=2\) = {NUM}", t5_out) == 6.0
    assert grab(rf"derivative\(x -> derivative\(f, x\), 2\) = {NUM}", t5_out) == 6.0


def test_t5_perturbation_confusion_naive_2_dualnum_1(t5_out):
    assert grab(rf"our tagless Dual:\s+{NUM}", t5_out) == 2.0
    assert grab(rf"dualnum.derivative: {NUM}", t5_out) == 1.0


def test_t5_the_lesson_dual_itself(t5_run):
    import math
    t5 = t5_run[1]
    D, Dual, cos, exp, sin = t5.D, t5.Dual, t5.cos, t5.exp, t5.sin
    assert D(lambda x: x * D(lambda y: x + y, 1.0), 1.0) == 2.0   # the confused answer, on purpose
    assert D(lambda x: 1 / x, 2.0) == pytest.approx(-0.25)
    assert D(lambda x: 5 - x / 4, 1.0) == pytest.approx(-0.25)
    assert D(lambda x: -exp(2 * x), 0.0) == pytest.approx(-2.0)
    assert D(lambda x: D(lambda z: sin(z), x), 0.3) == pytest.approx(-math.sin(0.3))   # nested, no confusion
    assert D(cos, 0.5) == pytest.approx(-math.sin(0.5))
    assert repr(Dual(1.0, 2.0) * Dual(3.0, 4.0)) == "Dual(3.0, 10.0)"
    assert D(lambda x: 7.0, 1.0) == 0.0


def test_t5_forward_vs_reverse_table(t5_out):
    import dualnum
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)µs\s+([\d.]+)µs\s+([\d.]+)µs\s+([\d.]+)\s+([\d.e+-]+)$",
                      t5_out, flags=re.M)
    assert len(rows) >= 5
    ns = [int(r[0]) for r in rows]
    assert ns[0] == 1 and ns[-1] >= 300
    for n, passes, chunk, tf, tr, t0, ratio, err in rows:
        n, passes, chunk = int(n), int(passes), int(chunk)
        assert chunk == dualnum.chunk_size(n) and passes == math.ceil(n / chunk)
        assert float(err) < 1e-12                              # both modes give sin(x) + x cos(x)
        assert float(ratio) == pytest.approx(float(tf) / float(tr), rel=0.05, abs=0.06)
    # with hundreds of inputs forward mode needs several passes; reverse mode is faster (by ~10x here)
    assert int(rows[-1][1]) >= 4
    assert float(rows[-1][6]) > 1.0


def test_t5_shows_the_fused_loop_and_its_derivative_is_right(t5_out):
    assert "def kernel(k, a0, p0, a1, p1):" in t5_out and "_d0_sin = _c(_R['sin'].partials[0], 2)" in t5_out
    got = re.search(r"^y' = \[([^\]]*)\]", t5_out, flags=re.M).group(1).split()
    want = re.search(r"^sin x \+ x cos x = \[([^\]]*)\]", t5_out, flags=re.M).group(1).split()
    x = np.linspace(0.0, 1.0, 5)
    np.testing.assert_allclose([float(v) for v in got], np.sin(x) + x * np.cos(x), atol=1e-8)
    np.testing.assert_allclose([float(v) for v in got], [float(v) for v in want], atol=1e-8)


def test_t5_figure(t5_out):
    assert "wrote figures/forward_vs_reverse.png" in t5_out
    assert_png("forward_vs_reverse.png")
