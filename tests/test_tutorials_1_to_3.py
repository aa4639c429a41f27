"""Tutorials 1-3 (sources 002, 001, 000) print the sources' numbers and write their figures.

Each tutorial runs once per module, top to bottom as a script (``tutorials.common.run(name, fast=True)``, what
``python -m tutorials --fast`` does), with stdout captured; figures go to a temporary folder (so the tests never
overwrite the committed figures/). The assertions are on exact printed substrings and on parsed numbers.
"""
import ast
import contextlib
import io
import math
import pathlib
import re

import numpy as np
import pytest

import tutorials.common as common

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_tutorial(name, tmp_path_factory):
    """(stdout, figures folder) of ``tutorials.common.run(name, fast=True)``, with figures written to a temp folder."""
    folder = tmp_path_factory.mktemp(name)
    mp = pytest.MonkeyPatch()
    mp.setattr(common, "FIGURES", folder)
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            namespace = common.run(name, fast=True)
    finally:
        mp.undo()
    assert namespace["FAST"] is True, "the runner did not hand FAST to the tutorial"
    return buf.getvalue(), folder


@pytest.mark.parametrize("name", common.TUTORIALS)
def test_tutorial_is_top_level_cells(name):
    """Every tutorial opens as a notebook: ``# %%`` cells of top-level code, no main() holding them, FAST read from
    the globals (the runner sets it, a notebook defaults to False), no relative imports (a notebook has no package)."""
    path = pathlib.Path(common.__file__).with_name(f"{name}.py")
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree), f"{name} has no module docstring"
    assert source.count("\n# %%") >= 5, f"{name} has too few # %% cells"
    cells = re.split(r"(?m)^# %%", source)[1:]
    code_cells = [cell for cell in cells if not cell.startswith(" [markdown]")]
    assert 'FAST = globals().get("FAST", False)' in code_cells[0], f"{name}: the first code cell must set FAST"
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert not defined & {"main", "lesson"}, f"{name} still wraps its cells in a function"
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level], \
        f"{name} uses a relative import"
    assert sum(isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) for node in tree.body) >= 5, \
        f"{name}: its cells should run at top level"


def test_run_rejects_unknown_tutorials():
    with pytest.raises(ValueError):
        common.run(0)
    with pytest.raises(ValueError):
        common.run("t9_nothing")


def number_after(label, out):
    """The float printed right after ``label`` (first occurrence)."""
    m = re.search(re.escape(label) + r"\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)", out)
    assert m, f"{label!r} not printed"
    return float(m.group(1))


def assert_png(path):
    assert path.exists(), f"{path.name} was not written"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    import matplotlib.image
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
    assert img[..., :3].std() > 0.05, f"{path.name} is (nearly) blank"


# ---- tutorial 1: How Flux works (source 002) ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def t1_out(tmp_path_factory):
    return run_tutorial("t1_how_flux_works", tmp_path_factory)[0]


def test_t1_derivatives(t1_out):
    assert "df(2) = 14.0\n" in t1_out
    assert "d2f(2) = 6.0\n" in t1_out


def test_t1_gradient_of_two_arguments_keeps_the_signed_zero(t1_out):
    line = "gradient(f, [2, 1], [2, 0]) = ([0.0, 2.0], [-0.0, -2.0])"
    assert line in t1_out
    gx, gy = ast.literal_eval(line.split(" = ", 1)[1])
    assert gx == [0.0, 2.0] and gy == [-0.0, -2.0]
    assert math.copysign(1.0, gy[0]) == -1.0  # the zero really is -0.0
    assert math.copysign(1.0, gx[0]) == 1.0


def test_t1_implicit_params(t1_out):
    assert "gs[x] = [0.0, 2.0]" in t1_out
    assert "gs[y] = [-0.0, -2.0]" in t1_out


def test_t1_one_step_lowers_the_loss(t1_out):
    before = number_after("loss(x, y) =", t1_out)
    after = number_after("loss(x, y) =", t1_out.split("(before)", 1)[1])
    assert 0 < after < before


def test_t1_layers_chain_and_functor(t1_out):
    assert "m(5) = 26\n" in t1_out
    assert "model(rand(10)) = [" in t1_out and "sum = 1.0" in t1_out
    assert "params(a) before functor: 0 arrays" in t1_out
    assert "params(a) after  functor: 2 arrays" in t1_out
    assert "Affine(3 => 1; bias=False)  W = [[1.0, 1.0, 1.0]]  b = False" in t1_out
    assert "a([1, 2, 3]) = [6.0]" in t1_out
    assert "Dense(10 => 5, sigmoid)" in t1_out


# ---- tutorial 2: A gentle introduction (source 001) -----------------------------------------------------------------

@pytest.fixture(scope="module")
def t2_run(tmp_path_factory):
    return run_tutorial("t2_gentle_introduction", tmp_path_factory)


def test_t2_tracked_derivatives(t2_run):
    out, _ = t2_run
    assert "df(2) = 14.0 (tracked)\n" in out
    assert "d2f(2) = 6.0 (tracked)\n" in out


def test_t2_three_arguments_and_params(t2_run):
    out, _ = t2_run
    assert "\n(4.0, 1.0, 2.0)\n" in out
    assert "W = 2.0 (tracked)" in out and "b = 3.0 (tracked)" in out
    assert number_after("grads[W] =", out) == 4.0
    assert number_after("grads[b] =", out) == 1.0


def test_t2_dual_number(t2_run):
    out, _ = t2_run
    assert "f(x) = Dual(17.0, 14.0)" in out
    assert number_after("automatic differentiation:", out) == 14.0


def test_t2_gradient_descent_reaches_the_least_squares_fit(t2_run):
    out, _ = t2_run
    m = re.search(r"after (\d+) steps \(a, b\) = \((-?[\d.]+), (-?[\d.]+)\), loss ([\d.]+)\s+"
                  r"\(best: (-?[\d.]+), (-?[\d.]+)\)", out)
    assert m, "the gradient-descent result is not printed"
    a, b, loss, best_a, best_b = map(float, m.groups()[1:])
    assert abs(a - best_a) < 0.02 and abs(b - best_b) < 0.03
    start_loss = number_after("start (a, b) = (3.00, 2.00), loss", out)
    assert loss < start_loss / 100


def test_t2_update_and_softmax(t2_run):
    out, _ = t2_run
    m = re.search(r"loss\(x, y\) = ([\d.]+) before, ([\d.]+) after one step", out)
    assert m and float(m.group(2)) < float(m.group(1))
    assert "sum = 1.0" in out
    assert "column sums [1.0, 1.0, 1.0]" in out


def test_t2_landscape_figure(t2_run):
    out, folder = t2_run
    assert "-> wrote figures/polynomial_landscape.png" in out
    assert_png(folder / "polynomial_landscape.png")


# ---- tutorial 3: Implementation of a modern ML library (source 000) -------------------------------------------------

@pytest.fixture(scope="module")
def t3_run(tmp_path_factory):
    return run_tutorial("t3_modern_ml_library", tmp_path_factory)


def test_t3_params_is_an_ordered_identity_set(t3_run):
    out, _ = t3_run
    assert "MiniParams([W, b, W, W_twin]) holds 3; nn's Params holds 3" in out
    assert "order kept: [True, True, True], W in ps: True, a third equal copy in ps: False" in out
    assert "gs[unused] = None" in out


def test_t3_descent_and_momentum(t3_run):
    out, _ = t3_run
    assert "apply(Descent(0.1), x, [1.0, -2.0]) = [0.1, -0.2]" in out
    m = re.search(r"loss ([\d.]+) -> ([\d.]+) after one Descent step", out)
    assert m and float(m.group(2)) < float(m.group(1))
    # v ← 0.9 v - 0.01·1: steps 0.01, 0.019, 0.0271; an equal-valued other array starts from zero velocity
    m = re.search(r"three steps for W with the same gradient 1: (\[[^\]]*\])", out)
    assert m and np.allclose(ast.literal_eval(m.group(1)), [0.01, 0.019, 0.0271])
    assert number_after("first step for W_twin (equal values, other object):", out) == 0.01


def test_t3_train_with_callbacks_stops_early(t3_run):
    out, _ = t3_run
    before = number_after("before training: loss on all data", out)
    m = re.search(r"stopped after (\d+) steps, loss on all data ([\d.]+); largest error in A: ([\d.]+)", out)
    assert m, "the training summary is not printed"
    nsteps, loss, err = int(m.group(1)), float(m.group(2)), float(m.group(3))
    assert nsteps < 500            # the stop callback ended it before the 50 epochs (500 steps) ran out
    assert loss < 1e-3 < before and err < 0.1
    assert "step  50: loss on all data" in out   # the printing callback ran


def test_t3_broken_chain_names_the_layer(t3_run):
    out, _ = t3_run
    assert "ShapeError: chain[2]: Dense(32 => 10) got input with 64 rows" in out
    assert "with Dense(64, 10) as the last layer: output shape (10, 2)" in out


def test_t3_mlp_on_digits(t3_run):
    out, folder = t3_run
    pytest.importorskip("sklearn")
    acc = number_after("held-out accuracy", out)
    assert acc > 90.0
    centre = number_after("loss at the trained weights (α, β) = (0, 0):", out)
    train_loss = number_after("training loss", out.split("epochs:", 1)[1])
    assert abs(centre - train_loss) < 1e-3     # the slice is centred on the trained model
    m = re.search(r"at the corners \(α, β = ±1\): ([\d.]+) to ([\d.]+)", out)
    assert m and float(m.group(1)) > 10 * centre   # the trained weights sit in a basin
    assert "lowest point on the grid: α = 0.00, β = 0.00" in out
    for name in ("mlp_training_curve.png", "mlp_landscape_slice.png"):
        assert f"-> wrote figures/{name}" in out
        assert_png(folder / name)
