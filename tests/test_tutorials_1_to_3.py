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
import subprocess
import sys

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


def _cells(name):
    """(kind, lines) for each ``# %%`` cell of a tutorial, in order; kind is "markdown" or "code"."""
    source = pathlib.Path(common.__file__).with_name(f"{name}.py").read_text(encoding="utf-8")
    out = []
    for cell in re.split(r"(?m)^# %%", source)[1:]:
        header, _, body = cell.partition("\n")
        out.append(("markdown" if header.strip() == "[markdown]" else "code", body.rstrip("\n").splitlines()))
    return out


@pytest.mark.parametrize("name", common.TUTORIALS)
def test_tutorial_prose_is_in_markdown_cells(name):
    """Jupyter (jupytext's percent format) renders ``# %% [markdown]`` cells as text: the prose lives there, not in
    comment blocks at the top of code cells, and the notebook opens with a title."""
    cells = _cells(name)
    markdown = [lines for kind, lines in cells if kind == "markdown"]
    assert len(markdown) >= 5, f"{name}: only {len(markdown)} markdown cells"
    assert cells[0][0] == "markdown" and cells[0][1][0].startswith("# # "), f"{name} should open with a # title"
    for lines in markdown:
        text = [ln for ln in lines if ln.strip()]
        assert text, f"{name}: an empty markdown cell"
        assert all(ln.startswith("#") for ln in text), f"{name}: a markdown cell holds code: {text}"
    for kind, lines in cells:
        if kind == "code":
            lead = 0
            for ln in (ln for ln in lines if ln.strip()):
                if not ln.startswith("#"):
                    break
                lead += 1
            assert lead <= 2, f"{name}: a code cell opens with {lead} lines of comments; prose goes in markdown"
    words = sum(len(" ".join(lines).split()) for lines in markdown)
    assert words >= 150, f"{name}: its markdown cells hold only {words} words"


def test_help_prints_usage_and_runs_nothing(monkeypatch, capsys):
    import tutorials.__main__ as entry
    ran = []
    monkeypatch.setattr(entry, "run", lambda *a, **k: ran.append(a))
    for flag in ("--help", "-h"):
        with pytest.raises(SystemExit) as stop:
            entry.main([flag])
        assert stop.value.code == 0
    out = capsys.readouterr().out
    assert ran == []
    assert "usage: python -m tutorials" in out and "--fast" in out
    for i, name in enumerate(common.TUTORIALS, start=1):
        assert f"  {i}. {entry.title(name)}" in out
    with pytest.raises(SystemExit) as stop:       # a number out of range, or an unknown option: an error, no run
        entry.main([str(len(common.TUTORIALS) + 1)])
    assert stop.value.code == 2
    with pytest.raises(SystemExit):
        entry.main(["--fsat"])
    assert ran == []
    entry.main(["--fast", "2"])                   # and a real choice runs exactly that one
    assert ran == [("t2_gentle_introduction",)]


def test_help_from_the_command_line():
    done = subprocess.run([sys.executable, "-m", "tutorials", "--help"], capture_output=True, text=True,
                          cwd=pathlib.Path(common.__file__).parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m tutorials")
    assert "Tutorial 1:" not in done.stdout and "wrote figures" not in done.stdout


@pytest.mark.parametrize("name", common.TUTORIALS)
def test_tutorial_runs_as_a_notebook(name, tmp_path):
    """The tutorial converted by jupytext and executed by nbconvert (in fast mode, figures to a temporary folder):
    no cell fails, the markdown cells stay markdown, and the printed output comes back in the cells' outputs."""
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    preprocessors = pytest.importorskip("nbconvert.preprocessors")
    path = pathlib.Path(common.__file__).with_name(f"{name}.py")
    nb = jupytext.read(path)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds.count("markdown") == sum(kind == "markdown" for kind, _ in _cells(name))
    setup = ("FAST = True\nimport pathlib, tutorials.common\n"
             f"tutorials.common.FIGURES = pathlib.Path({str(tmp_path)!r})")
    nb.cells.insert(0, nbformat.v4.new_code_cell(setup))
    runner = preprocessors.ExecutePreprocessor(timeout=600, kernel_name="python3")
    try:
        runner.preprocess(nb, {"metadata": {"path": str(path.parent.parent)}})
    except preprocessors.CellExecutionError as e:
        if "SkipRest" not in str(e):   # a tutorial that stops because something optional is missing says so
            raise
    printed = "".join(out.get("text", "") for c in nb.cells if c.cell_type == "code" for out in c.get("outputs", ()))
    assert "\n## " in printed, f"{name}: nothing printed in the notebook"
    if name == "t1_how_flux_works":
        assert "d2f(2) = 6.0" in printed and "m(5) = 26" in printed
    if name == "t2_gentle_introduction":
        assert "df(2) = 14.0 (tracked)" in printed
        assert_png(tmp_path / "polynomial_landscape.png")


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


def test_t1_second_derivative_needs_no_nest():
    """The source writes d2f(x) = gradient(df, x)[1]: a gradient of a gradient, no nest. t1 does the same (and
    prints 6.0, checked above), and its text does not say nest=True is needed for it."""
    path = pathlib.Path(common.__file__).with_name("t1_how_flux_works.py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defs = {node.targets[0].id: node.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    for name in ("df", "d2f"):
        calls = [n for n in ast.walk(defs[name]) if isinstance(n, ast.Call)]
        assert calls and not any(k.arg == "nest" for c in calls for k in c.keywords), f"{name} uses nest"
    text = " ".join(line for kind, lines in _cells("t1_how_flux_works") if kind == "markdown" for line in lines)
    assert "does not need it" in text
    assert not re.search(r"must be recorded too: nest=True|needs? nest=True", text)
    # and that is true of the tracker: reverse over reverse without nest, against the closed form 6
    from dualnum import tracker
    f = lambda x: 3 * x**2 + 2 * x + 1   # noqa: E731
    assert tracker.gradient(lambda x: tracker.gradient(f, x)[0], 2.0) == (6.0,)


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


def test_t1_gpu_step_runs_where_a_device_or_the_simulator_is_and_says_why_not_elsewhere(t1_out):
    from dualnum.backends import cuda
    gpu = t1_out.split("## gpu(a)", 1)[1]
    if cuda.available():  # (the test suite runs on numba's simulator: the same kernels, in Python)
        where = "numba's CUDA simulator" if cuda.simulating() else "the GPU"
        assert f"on {where}: W is a DeviceArray, a([1, 2, 3]) = [6.0]" in gpu  # the CPU's number, from the device
    else:
        assert "skipped: no CUDA GPU here" in gpu


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
    # the source's line, (tracked) included, and the plain one without nest=True
    assert "gradient(f, 2, 3, 4, nest=True) = (4.0 (tracked), 1.0 (tracked), 2.0 (tracked))\n" in out
    assert "gradient(f, 2, 3, 4)            = (4.0, 1.0, 2.0)\n" in out
    assert "W = 2.0 (tracked)" in out and "b = 3.0 (tracked)" in out
    assert "grads[W] = 4.0\n" in out and "grads[b] = 1.0\n" in out


def test_t2_says_why_grads_is_not_tracked():
    text = " ".join(line for kind, lines in _cells("t2_gentle_introduction") if kind == "markdown" for line in lines)
    assert "`4.0 (tracked)`" in text and "no `nest=True`" in text


def test_t2_layers_and_chains_as_the_source(t2_run):
    out, _ = t2_run
    assert "m(5) = 26\n" in out
    for line in ("by hand: model(rand(5)) has shape (2,)", "linear: model(rand(5)) has shape (2,)",
                 "Affine: a(rand(10)) has shape (5,)", "foldl: model(rand(10)) has shape (2,)",
                 "(Dense(5, 2) ∘ Dense(10, 5, σ))(rand(10)) has shape (2,)"):
        assert line in out


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
