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
        calls.append((a.shape, b.shape))
        return mse_point(a, b)

    nn.loss_grid(f, np.linspace(0, 1, 7), np.linspace(0, 1, 5))
    assert calls == [((5, 7, 1), (5, 7, 1))]


def test_loss_grid_explains_a_loss_that_averages_over_the_grid():
    with pytest.raises(ValueError, match="axis=-1"):
        nn.loss_grid(lambda m, b: np.mean((m * X + b - Y) ** 2), np.linspace(0, 1, 3), np.linspace(0, 1, 4))


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
    with pytest.raises(ValueError, match="slice_2d"):
        nn.model_grid(lambda l: 0.0, layer, ("W", "b"), [0, 1], [0, 1])


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
    import matplotlib.pyplot as plt
    plt.close("all")
