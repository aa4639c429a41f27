"""nn.landscape: loss grids (vectorised), gradient fields, filter-normalised slices (Li et al. 2018), figures."""
import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import nn

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

X = np.arange(1.0, 101.0)
Y = 3 * X + 100 + 100 * np.random.default_rng(0).random(100)


def mse_point(m, b):
    return np.mean((m * X + b - Y) ** 2, axis=-1)


@dataclasses.dataclass
class Line:
    m: float
    b: float

    def __call__(self, x):
        return self.m * x + self.b


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    from PIL import Image
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        w, h = im.size
        assert w > 200 and h > 200
        px = np.asarray(im.convert("L"), dtype=float)
    assert px.std() > 5, "the figure is blank"


# ---- loss_grid / model_grid ----------------------------------------------------------------------------------

def test_loss_grid_equals_a_loop_at_some_points():
    ms, bs = np.linspace(-2, 8, 17), np.linspace(-100, 400, 13)
    g = nn.loss_grid(mse_point, ms, bs, labels=("m", "b"))
    assert g.Z.shape == (13, 17)
    for i, j in [(0, 0), (3, 11), (12, 16), (6, 8), (12, 0)]:
        direct = np.mean((ms[j] * X + bs[i] - Y) ** 2)
        assert g.Z[i, j] == pytest.approx(direct, rel=1e-12)
    assert g.labels == ("m", "b")


def test_loss_grid_calls_f_once_with_the_whole_grid():
    calls = []

    def f(a, b):
        calls.append((np.shape(a), np.shape(b)))
        return mse_point(a, b)

    g = nn.loss_grid(f, np.linspace(0, 1, 7), np.linspace(0, 1, 5))
    grid_calls = [c for c in calls if c != ((), ())]
    assert grid_calls == [((5, 7, 1), (5, 7, 1))]    # the whole grid in one call ...
    assert len(calls) <= 4 and g.vectorized is True  # ... checked against at most three single points
    calls.clear()
    nn.loss_grid(f, np.linspace(0, 1, 7), np.linspace(0, 1, 5), vectorized=True)
    assert calls == [((5, 7, 1), (5, 7, 1))]


def test_loss_grid_explains_a_loss_that_averages_over_the_grid_when_told_to_vectorise():
    with pytest.raises(ValueError, match="axis=-1"):
        nn.loss_grid(lambda m, b: np.mean((m * X + b - Y) ** 2), np.linspace(0, 1, 3), np.linspace(0, 1, 4),
                     vectorized=True)


def direct_loop(f, xs, ys):
    """The reference: f at every grid point, one call each with plain floats."""
    return np.array([[float(nn.value(f(float(a), float(b)))) for a in xs] for b in ys])


ORDINARY_LOSSES = {
    "nn.mse": lambda m, b: nn.mse(m * X + b, Y),                        # refuses shapes that differ
    "mean over everything": lambda m, b: np.mean((m * X + b - Y) ** 2),  # one number for the whole grid
    "python branch": lambda m, b: np.sum(np.abs(m * X + b - Y)) if m > 0 else (m - 1) ** 2,
    "float()": lambda m, b: float(np.mean((float(m) * X + b - Y) ** 2)),
}


@pytest.mark.parametrize("name", list(ORDINARY_LOSSES))
def test_loss_grid_evaluates_an_ordinary_loss_point_by_point(name):
    f = ORDINARY_LOSSES[name]
    ms, bs = np.linspace(-2, 8, 9), np.linspace(-100, 400, 7)
    g = nn.loss_grid(f, ms, bs, labels=("m", "b"))
    assert g.vectorized is False and g.Z.shape == (7, 9)
    np.testing.assert_allclose(g.Z, direct_loop(f, ms, bs), rtol=1e-13)
    np.testing.assert_allclose(nn.loss_grid(f, ms, bs, vectorized=False).Z, g.Z, rtol=0)


def test_loss_grid_of_nn_mse_equals_the_vectorised_loss():
    ms, bs = np.linspace(-2, 8, 12), np.linspace(-100, 400, 10)
    np.testing.assert_allclose(nn.loss_grid(ORDINARY_LOSSES["nn.mse"], ms, bs).Z, nn.loss_grid(mse_point, ms, bs).Z,
                               rtol=1e-12)


def test_loss_grid_catches_a_whole_grid_result_that_mixes_points():
    # the right shape, wrong numbers: on a 4 × 4 grid with 4 data points, axis=0 averages over the grid's rows
    x4, y4 = np.arange(1.0, 5.0), np.array([2.0, 1.0, 4.0, 3.0])
    f = lambda m, b: np.mean((m * x4 + b - y4) ** 2, axis=0)   # noqa: E731
    ms, bs = np.linspace(0, 3, 4), np.linspace(-1, 2, 4)
    with pytest.warns(UserWarning, match="point by point"):
        g = nn.loss_grid(f, ms, bs)
    assert g.vectorized is False
    np.testing.assert_allclose(g.Z, direct_loop(f, ms, bs), rtol=1e-13)
    mixed = f(ms[None, :, None], bs[:, None, None])   # what the whole-grid call gave: the shape fits, not the numbers
    assert mixed.shape == g.Z.shape and not np.allclose(mixed, g.Z)


def test_loss_grid_point_errors_name_the_point_and_the_whole_grid_failure():
    def f(m, b):
        if np.ndim(m):
            raise TypeError("only numbers, please")
        raise ZeroDivisionError("broken at every point")

    with pytest.raises(ZeroDivisionError) as info:
        nn.loss_grid(f, [0.0, 1.0], [2.0, 3.0])
    notes = "\n".join(getattr(info.value, "__notes__", []))
    if hasattr(info.value, "add_note"):
        assert "(0, 2)" in notes and "only numbers, please" in notes
    with pytest.raises(ValueError, match=r"returned shape \(100,\)"):
        nn.loss_grid(lambda m, b: (m * X + b - Y) ** 2, [0.0, 1.0], [2.0, 3.0])   # no reduction at all


def test_model_grid_matches_loss_grid_and_leaves_the_model_alone():
    model = Line(1.5, 2.5)
    ms, bs = np.linspace(0, 6, 9), np.linspace(0, 300, 11)
    g = nn.model_grid(lambda l: np.mean((l(X) - Y) ** 2, axis=-1), model, ("m", "b"), ms, bs)
    np.testing.assert_allclose(g.Z, nn.loss_grid(mse_point, ms, bs).Z, rtol=1e-13)
    assert g.labels == ("m", "b")
    assert model == Line(1.5, 2.5)
    assert g.argmin()[0] == pytest.approx(3.0, abs=0.8)


def test_model_grid_refuses_array_fields():
    layer = nn.Affine(3, 2)
    with pytest.raises(ValueError, match=r"\('W', \(0, 0\)\)"):   # names the way to pick one entry
        nn.model_grid(lambda l: 0.0, layer, ("W", "b"), [0, 1], [0, 1])


def test_model_grid_with_an_ordinary_loss_matches_a_loop():
    model = Line(1.5, 2.5)
    ms, bs = np.linspace(0, 6, 7), np.linspace(0, 300, 6)
    g = nn.model_grid(lambda l: nn.mse(l(X), Y), model, ("m", "b"), ms, bs)
    assert g.vectorized is False and model == Line(1.5, 2.5)
    by_hand = np.array([[np.mean((m * X + b - Y) ** 2) for m in ms] for b in bs])
    np.testing.assert_allclose(g.Z, by_hand, rtol=1e-13)


def _entry_reference(loss, model, arr, idx_a, idx_b, xs, ys, arr_b=None):
    """Z by hand: for every point, copy the array(s), write the two entries, evaluate the loss on a rebuilt model."""
    arr_b = arr if arr_b is None else arr_b
    Z = np.empty((len(ys), len(xs)))
    for i, bv in enumerate(ys):
        for j, av in enumerate(xs):
            new = {id(arr): np.array(nn.value(arr), dtype=float)}
            new.setdefault(id(arr_b), np.array(nn.value(arr_b), dtype=float))
            new[id(arr)][idx_a] = av
            new[id(arr_b)][idx_b] = bv
            m = nn.fmap(lambda leaf: new.get(id(leaf), leaf), model)
            Z[i, j] = float(nn.value(loss(m)))
    return Z


def test_model_grid_over_two_entries_of_a_weight_matrix():
    nn.seed(4)
    layer = nn.Dense(3, 2, nn.tanh)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((3, 20)), rng.standard_normal((2, 20))
    loss = lambda m: nn.mse(m(x), y)   # noqa: E731
    W0 = nn.value(layer.W).copy()
    ws, vs = np.linspace(-2, 2, 5), np.linspace(-1, 3, 4)
    g = nn.model_grid(loss, layer, ((layer.W, (0, 0)), (layer.W, (1, 2))), ws, vs)
    assert g.Z.shape == (4, 5) and g.vectorized is False
    assert g.labels == ("W[0, 0]", "W[1, 2]")
    np.testing.assert_allclose(g.Z, _entry_reference(loss, layer, layer.W, (0, 0), (1, 2), ws, vs), rtol=1e-13)
    np.testing.assert_array_equal(nn.value(layer.W), W0)      # the model itself did not move
    assert nn.params(layer)[0] is layer.W                      # and still holds its own parameter
    # the same entries named by field, and a bias entry of another array; a 1-D index may be a plain int
    g2 = nn.model_grid(loss, layer, (("W", (0, 0)), (layer.b, 1)), ws, vs)
    assert g2.labels == ("W[0, 0]", "b[1]")
    np.testing.assert_allclose(g2.Z, _entry_reference(loss, layer, layer.W, (0, 0), (1,), ws, vs, arr_b=layer.b),
                               rtol=1e-13)


def test_model_grid_entries_inside_a_chain_and_with_a_field():
    nn.seed(6)
    chain = nn.Chain(nn.Dense(2, 3, nn.relu), nn.Dense(3, 1))
    x, y = np.random.default_rng(7).standard_normal((2, 15)), np.ones((1, 15))
    loss = lambda m: nn.mse(m(x), y)   # noqa: E731
    W2 = chain[1].W
    g = nn.model_grid(loss, chain, ((chain[0].W, (2, 1)), (W2, (0, 2))), [-1.0, 0.0, 1.5], [0.5, 2.0])
    assert g.labels == ("layers[0].W[2, 1]", "layers[1].W[0, 2]")
    np.testing.assert_allclose(g.Z, _entry_reference(loss, chain, chain[0].W, (2, 1), (0, 2), [-1.0, 0.0, 1.5],
                                                     [0.5, 2.0], arr_b=W2), rtol=1e-13)
    # a scalar field and an array entry together
    @dataclasses.dataclass
    class Scaled:
        s: float
        w: np.ndarray

        def __call__(self, x):
            return self.s * (self.w @ x)

    model = Scaled(2.0, np.array([[1.0, -1.0]]))
    g = nn.model_grid(loss, model, ("s", (model.w, (0, 1))), [0.5, 1.0], [-2.0, 0.0, 2.0])
    by_hand = [[np.mean((s * (np.array([[1.0, w]]) @ x) - y) ** 2) for s in (0.5, 1.0)] for w in (-2.0, 0.0, 2.0)]
    np.testing.assert_allclose(g.Z, by_hand, rtol=1e-13)
    assert g.labels == ("s", "w[0, 1]")


def test_model_grid_entry_of_a_tied_layer_changes_every_use():
    nn.seed(1)
    d = nn.Dense(2, 2, nn.tanh)
    chain = nn.Chain(d, d)                      # one layer used twice: its W is one (tied) parameter
    x, y = np.ones((2, 3)), np.zeros((2, 3))
    g = nn.model_grid(lambda m: nn.mse(m(x), y), chain, ((d.W, (0, 0)), (d.b, 1)), [0.0, 1.0], [0.5, -1.0])
    W, b = nn.value(d.W), nn.value(d.b)
    for i, bv in enumerate([0.5, -1.0]):
        for j, wv in enumerate([0.0, 1.0]):
            W2, b2 = W.copy(), b.copy()
            W2[0, 0], b2[1] = wv, bv
            h = np.tanh(W2 @ np.tanh(W2 @ x + b2[:, None]) + b2[:, None])
            assert g.Z[i, j] == pytest.approx(np.mean(h ** 2), rel=1e-13)
    # a dict model: an entry of one of its arrays and a scalar key
    model = {"w": np.array([1.0, 2.0]), "c": 0.5}
    g = nn.model_grid(lambda m: np.sum(m["w"]) * m["c"], model, ((model["w"], 0), "c"), [0.0, 1.0], [1.0, 2.0])
    np.testing.assert_allclose(g.Z, [[2.0, 3.0], [4.0, 6.0]])
    assert model["w"].tolist() == [1.0, 2.0] and model["c"] == 0.5


def test_model_grid_refuses_what_it_cannot_grid():
    layer = nn.Affine(3, 2)
    other = nn.param(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not inside the model"):
        nn.model_grid(lambda l: 0.0, layer, ((other, (0, 0)), (layer.W, (0, 1))), [0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"picks 3 entries"):
        nn.model_grid(lambda l: 0.0, layer, ((layer.W, (0,)), (layer.W, (0, 1))), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="does not pick one entry"):
        nn.model_grid(lambda l: 0.0, layer, ((layer.W, (5, 0)), (layer.W, (0, 1))), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="field name or a pair"):
        nn.model_grid(lambda l: 0.0, layer, (3, (layer.W, (0, 1))), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="point by point"):
        nn.model_grid(lambda l: 0.0, layer, ((layer.W, (0, 0)), (layer.W, (0, 1))), [0, 1], [0, 1],
                      vectorized=True)
    with pytest.raises(ValueError, match="no field 'c'"):
        nn.model_grid(lambda l: 0.0, Line(1.0, 2.0), ("m", "c"), [0, 1], [0, 1])


def test_grid_gradient_matches_finite_differences():
    ms, bs = np.linspace(-2, 8, 6), np.linspace(-100, 400, 5)
    ga, gb = nn.grid_gradient(mse_point, ms, bs)
    assert ga.shape == gb.shape == (5, 6)
    h = 1e-4
    for i, j in [(0, 0), (2, 3), (4, 5)]:
        m, b = ms[j], bs[i]
        fd_m = (np.mean(((m + h) * X + b - Y) ** 2) - np.mean(((m - h) * X + b - Y) ** 2)) / (2 * h)
        fd_b = (np.mean((m * X + b + h - Y) ** 2) - np.mean((m * X + b - h - Y) ** 2)) / (2 * h)
        assert ga[i, j] == pytest.approx(fd_m, rel=1e-6)
        assert gb[i, j] == pytest.approx(fd_b, rel=1e-6, abs=1e-6)
        # and the closed form: d/dm mean((mx+b-y)^2) = 2 mean((mx+b-y) x)
        assert ga[i, j] == pytest.approx(2 * np.mean((m * X + b - Y) * X), rel=1e-12)


def closed_form_gradient(m, b):
    r = m * X + b - Y
    return 2 * np.mean(r * X), 2 * np.mean(r)


@pytest.mark.parametrize("name", ["nn.mse", "mean over everything"])
def test_grid_gradient_of_an_ordinary_loss_is_per_point(name):
    # a mean over everything, summed and differentiated on the whole grid, would divide every gradient by the
    # number of grid points: it must be taken point by point instead
    f = ORDINARY_LOSSES[name]
    ms, bs = np.linspace(-2, 8, 4), np.linspace(-100, 400, 3)
    ga, gb = nn.grid_gradient(f, ms, bs)
    for i, b in enumerate(bs):
        for j, m in enumerate(ms):
            cm, cb = closed_form_gradient(m, b)
            assert ga[i, j] == pytest.approx(cm, rel=1e-12)
            assert gb[i, j] == pytest.approx(cb, rel=1e-12, abs=1e-9)
    with pytest.raises(ValueError):
        nn.grid_gradient(f, ms, bs, vectorized=True)


def test_grid_gradient_of_model_grid_entries_agrees_with_forward_mode_and_differences():
    import dualnum
    nn.seed(8)
    layer = nn.Dense(2, 2, nn.tanh)
    x, y = np.random.default_rng(9).standard_normal((2, 12)), np.zeros((2, 12))
    loss = lambda m: nn.mse(m(x), y)   # noqa: E731
    ws, vs = np.linspace(-1, 1, 3), np.linspace(-0.5, 0.5, 2)
    g = nn.model_grid(loss, layer, ((layer.W, (0, 1)), (layer.b, 0)), ws, vs)
    ga, gb = nn.grid_gradient(g.f, ws, vs, vectorized=g.vectorized)
    h = 1e-6
    for i, v in enumerate(vs):
        for j, w in enumerate(ws):
            fa, fb = dualnum.gradient(g.f, w, v)            # the other mode, through the same model copy
            assert ga[i, j] == pytest.approx(fa, rel=1e-12, abs=1e-14)
            assert gb[i, j] == pytest.approx(fb, rel=1e-12, abs=1e-14)
            fd = (g.f(w + h, v) - g.f(w - h, v)) / (2 * h)  # and central differences of the loss itself
            assert ga[i, j] == pytest.approx(float(nn.value(fd)), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("vectorized", [None, False])
def test_grids_of_a_loss_built_on_a_derivative_second_order(vectorized):
    # f(a, b) = d/dt [a sin(bt)] at t = 1 = a b cos b (forward mode inside); its gradient (reverse over forward):
    # (b cos b, a (cos b - b sin b))
    import dualnum
    f = lambda a, b: dualnum.derivative(lambda t: a * np.sin(b * t), 1.0)   # noqa: E731
    xs, ys = np.linspace(-1, 2, 4), np.linspace(0.5, 2.5, 3)
    A, B = np.meshgrid(xs, ys)
    g = nn.loss_grid(f, xs, ys, vectorized=vectorized)
    np.testing.assert_allclose(g.Z, A * B * np.cos(B), rtol=1e-12, atol=1e-14)
    ga, gb = nn.grid_gradient(f, xs, ys, vectorized=vectorized)
    np.testing.assert_allclose(ga, B * np.cos(B), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gb, A * (np.cos(B) - B * np.sin(B)), rtol=1e-12, atol=1e-14)


# ---- filter normalisation and slices ---------------------------------------------------------------------------

def _mlp(seed=3):
    nn.seed(seed)
    return nn.Chain(nn.Dense(4, 8, nn.tanh), nn.Dense(8, 3))


def test_filter_normalisation_row_norms_equal_the_weights():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((5, 7)) * np.arange(1, 6)[:, None]   # rows of different sizes
    K = rng.standard_normal((3, 2, 4, 4))                       # a conv-like kernel: filters along axis 0
    b = rng.standard_normal(5)
    d = [rng.standard_normal(W.shape) * 100, rng.standard_normal(K.shape), rng.standard_normal(5)]
    dW, dK, db = nn.filter_normalize(d, [W, K, b])
    np.testing.assert_allclose(np.linalg.norm(dW, axis=1), np.linalg.norm(W, axis=1), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(dK.reshape(3, -1), axis=1), np.linalg.norm(K.reshape(3, -1), axis=1),
                               rtol=1e-12)
    # only the length changes, not the direction of each row
    cos = np.sum(dW * d[0], axis=1) / np.linalg.norm(dW, axis=1) / np.linalg.norm(d[0], axis=1)
    np.testing.assert_allclose(cos, 1.0, rtol=1e-12)
    assert np.all(db == 0)                                     # biases: zero direction by default
    np.testing.assert_array_equal(nn.filter_normalize(d, [W, K, b], bias="copy")[2], b)
    assert np.linalg.norm(nn.filter_normalize(d, [W, K, b], bias="filter")[2]) == pytest.approx(np.linalg.norm(b))
    with pytest.raises(ValueError):
        nn.filter_normalize(d, [W, K, b], bias="nope")


def test_random_directions_are_filter_normalised_and_reproducible():
    model = _mlp()
    d1 = nn.random_directions(model, 2, seed=7)
    d2 = nn.random_directions(model, 2, seed=7)
    ws = [nn.value(p) for p in nn.trainables(model)]
    assert len(d1) == 2 and [a.shape for a in d1[0]] == [w.shape for w in ws]
    for a, b in zip(d1[0] + d1[1], d2[0] + d2[1]):
        np.testing.assert_array_equal(a, b)
    for d in d1:
        for a, w in zip(d, ws):
            if w.ndim == 2:
                np.testing.assert_allclose(np.linalg.norm(a, axis=1), np.linalg.norm(w, axis=1), rtol=1e-12)
            else:
                assert np.all(a == 0)
    assert not np.allclose(d1[0][0], d1[1][0])  # two different directions


def test_slice_centre_is_the_trained_loss_and_points_are_shifted_weights():
    model = _mlp()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 50)), rng.standard_normal((3, 50))
    loss = lambda m: nn.mse(m(x), y)
    before = [nn.value(p).copy() for p in nn.trainables(model)]
    s = nn.slice_2d(loss, model, span=0.5, n=5, seed=2)
    assert s.Z.shape == (5, 5) and s.center == (0.0, 0.0) and s.labels == ("α", "β")
    assert s.Z[2, 2] == pytest.approx(float(nn.value(loss(model))), rel=1e-12)
    # the model itself did not move
    for p, w in zip(nn.trainables(model), before):
        np.testing.assert_array_equal(nn.value(p), w)
    # a corner by hand: θ + α δ + β η with α = s.xs[4] = 0.5, β = s.ys[0] = -0.5
    (W1, b1, W2, b2) = before
    dlt, eta = s.directions
    Ws = [w + 0.5 * d - 0.5 * e for w, d, e in zip(before, dlt, eta)]
    by_hand = np.mean((Ws[2] @ np.tanh(Ws[0] @ x + Ws[1][:, None]) + Ws[3][:, None] - y) ** 2)
    assert s.Z[0, 4] == pytest.approx(by_hand, rel=1e-12)
    assert np.all(s.Z >= s.Z.min()) and s.Z.max() > s.Z[2, 2]


def test_slice_with_given_directions_checks_shapes():
    model = _mlp()
    with pytest.raises(ValueError, match="same shapes"):
        nn.slice_2d(lambda m: 0.0, model, directions=[[np.zeros(3)], [np.zeros(3)]])


# ---- figures --------------------------------------------------------------------------------------------------

def test_surface_and_contour_writes_valid_pngs(tmp_path):
    g = nn.loss_grid(mse_point, np.linspace(-2, 8, 31), np.linspace(-100, 400, 25), labels=("m", "b"))
    path = [(0.0, 0.0), (2.0, 10.0), (3.0, 60.0), (3.0, 150.0)]
    fig = nn.surface_and_contour(g, path=path, gradient=True, log=True, title="line")
    assert len(fig.axes) == 3  # surface, contour, colour bar
    p1 = tmp_path / "grid.png"
    fig.savefig(p1)
    assert_png(p1)

    model = _mlp()
    x, y = np.ones((4, 10)), np.zeros((3, 10))
    s = nn.slice_2d(lambda m: nn.mse(m(x), y), model, n=7)
    fig = nn.surface_and_contour(s, gradient=True, title="slice")
    p2 = tmp_path / "slice.png"
    fig.savefig(p2)
    assert_png(p2)

    # an ordinary loss over two entries of a weight matrix: arrows and the path's heights point by point
    layer = nn.Dense(2, 1)
    xd, yd = np.ones((2, 5)), np.zeros((1, 5))
    g = nn.model_grid(lambda m: nn.mse(m(xd), yd), layer, ((layer.W, (0, 0)), (layer.W, (0, 1))),
                      np.linspace(-1, 1, 21), np.linspace(-1, 1, 21))
    fig = nn.surface_and_contour(g, path=[(0.8, 0.9), (0.1, 0.2)], gradient=True, arrows=5)
    p3 = tmp_path / "entries.png"
    fig.savefig(p3)
    assert_png(p3)
    import matplotlib.pyplot as plt
    plt.close("all")
