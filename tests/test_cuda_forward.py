"""Forward mode with device inputs: jvp, gradient, derivative, jacobian on device arrays equal the same calls on host
arrays (numpy's path), in float64 and float32, and their results stay on the device.

Runs under numba's simulator in CI (tests/conftest.py), with its device array stripped to a real one's surface.
"""
import numpy as np
import pytest

import dualnum
from dualnum.backends import cuda as dc
from dualnum.backends import use

AVAILABLE = dc.available()
if AVAILABLE:
    from dualnum.backends.cuda.array import DeviceArray

pytestmark = [pytest.mark.usefixtures("strict_device"),
              pytest.mark.skipif(not AVAILABLE, reason="no CUDA GPU, and numba's simulator is off "
                                 "(NUMBA_ENABLE_CUDASIM=1 before numba is imported turns it on)")]

DTYPES = [pytest.param(np.float64, id="f64"), pytest.param(np.float32, id="f32")]
TOL = {np.float64: dict(rtol=1e-11, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


def on_device(dtype):
    return lambda a: dc.to_device(np.asarray(a, dtype=dtype))


def on_host(a):
    return np.asarray(a, dtype=np.float64)


def model(put):
    """x (4, n) -> (n,): matmul, a broadcast bias, sums and means over axes, and several rules at once."""
    rng = np.random.default_rng(0)
    W, b = put(rng.normal(size=(3, 4))), put(rng.normal(size=3))

    def f(x):
        h = np.tanh(W @ x + b[:, None])
        g = h * np.sin(h) / (1.0 + h ** 2) + np.exp(-0.5 * h) * np.log1p(h * h)
        return np.sum(g, axis=0) + np.mean(np.maximum(x, 0.1), axis=0) * np.sqrt(1.0 + x[0] ** 2)
    return f


def same(d, h, dtype):
    assert isinstance(d, DeviceArray), f"expected a device array, got {type(d).__name__}"
    assert d.dtype == dtype
    np.testing.assert_allclose(d.get(), h, **TOL[dtype])


def host(call):
    with use("numpy"):  # the reference: numpy's path, no compiled host kernels
        return call()


@pytest.mark.parametrize("dtype", DTYPES)
def test_jvp(dtype):
    rng = np.random.default_rng(1)
    x, v = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    put = on_device(dtype)
    y, t = dualnum.jvp(model(put), put(x), put(v))
    yh, th = host(lambda: dualnum.jvp(model(on_host), x.astype(dtype), v.astype(dtype)))
    same(y, yh, dtype)
    same(t, th, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient(dtype):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 5))
    put = on_device(dtype)
    f, fh = model(put), model(on_host)
    g, = dualnum.gradient(lambda a: np.sum(f(a)), put(x))
    gh, = host(lambda: dualnum.gradient(lambda a: np.sum(fh(a)), x.astype(dtype)))
    same(g, gh, dtype)
    # two arguments, a chunk smaller than the input (several forward passes)
    x, y = x[:3, :3], rng.uniform(0.5, 2.0, size=(3, 3))

    def two(a, c):
        return np.sum(a * c ** 2 + np.sin(a) / c) + np.max(a * c)
    ga, gc = dualnum.gradient(two, put(x), put(y), chunk=7)
    gha, ghc = host(lambda: dualnum.gradient(two, x.astype(dtype), y.astype(dtype), chunk=7))
    same(ga, gha, dtype)
    same(gc, ghc, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_derivative_on_a_grid(dtype):
    grid = np.linspace(0.1, 3.0, 40)

    def f(a):
        return np.sin(a) * a ** 2 + np.sqrt(a) / (1.0 + a) - np.arctan(a) * np.exp(-a)
    d = dualnum.derivative(f, on_device(dtype)(grid))
    dh = host(lambda: dualnum.derivative(f, grid.astype(dtype)))
    same(d, dh, dtype)
    closed = (np.cos(grid) * grid ** 2 + 2 * grid * np.sin(grid) + (1 - grid) / (2 * np.sqrt(grid) * (1 + grid) ** 2)
              - np.exp(-grid) / (1 + grid ** 2) + np.arctan(grid) * np.exp(-grid))
    np.testing.assert_allclose(d.get(), closed, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_jacobian(dtype):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3))
    put = on_device(dtype)
    J = dualnum.jacobian(model(put), put(x))
    Jh = host(lambda: dualnum.jacobian(model(on_host), x.astype(dtype)))
    assert J.shape == Jh.shape == (3, 4, 3)
    same(J, Jh, dtype)
    # a vector function of a vector, chunked
    v = rng.normal(size=6)
    J = dualnum.jacobian(lambda a: np.tanh(a[:, None] * a[None, :]).sum(axis=1), put(v),
                         chunk=4)
    Jh = host(lambda: dualnum.jacobian(lambda a: np.tanh(a[:, None] * a[None, :]).sum(axis=1), v.astype(dtype)))
    same(J, Jh, dtype)


def test_hvp_on_device():
    x = np.linspace(0.2, 1.5, 6)
    v = np.cos(np.arange(6.0))

    def f(a):
        return np.sum(np.sin(a) * a ** 2)
    r = dualnum.hvp(f, dc.to_device(x), dc.to_device(v))
    assert isinstance(r, DeviceArray)
    H = np.diag(2 * np.sin(x) + 4 * x * np.cos(x) - x ** 2 * np.sin(x))  # the closed form
    np.testing.assert_allclose(r.get(), H @ v, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("which", ["derivative2", "hessian"])
def test_second_order_on_device(which):
    x = np.linspace(0.2, 1.5, 6)
    if which == "derivative2":
        d = dualnum.derivative(lambda a: np.sin(a) * a, dc.to_device(x), order=2)
        want = 2 * np.cos(x) - x * np.sin(x)
    else:
        d = dualnum.hessian(lambda a: np.sum(np.sin(a) * a), dc.to_device(x))
        want = np.diag(2 * np.cos(x) - x * np.sin(x))
    assert isinstance(d, DeviceArray)
    np.testing.assert_allclose(d.get(), want, rtol=1e-11, atol=1e-12)


def test_host_array_meeting_device_array_names_gpu():
    x = np.linspace(0.1, 1.0, 5)
    with pytest.raises(TypeError, match="nn.gpu"):
        dualnum.gradient(lambda a: np.sum(a * x), dc.to_device(x))
    with pytest.raises(TypeError, match="nn.gpu"):
        dualnum.jacobian(lambda a: np.tanh(a) + x, dc.to_device(x))
    with pytest.raises(TypeError, match="nn.gpu"):
        dualnum.derivative(lambda a: a @ np.eye(5), dc.to_device(x))


def test_jvp_host_tangent_names_gpu():
    x = np.linspace(0.1, 1.0, 5)
    with pytest.raises(TypeError, match="gpu"):
        dualnum.jvp(lambda a: a * 2.0, dc.to_device(x), np.ones(5))
    with pytest.raises(TypeError, match="gpu"):
        dualnum.jvp(lambda a: a * 2.0, x, dc.to_device(np.ones(5)))


def test_numbers_and_device_scalars():
    """A Python number meets a device dual array as a constant; a device scalar result stays on the device."""
    x = dc.to_device(np.array([0.5, 1.0, 2.0]))
    g, = dualnum.gradient(lambda a: 3.0 * np.sum(a ** 2) - 1.0, x)
    np.testing.assert_allclose(g.get(), 6.0 * np.array([0.5, 1.0, 2.0]))
    y, t = dualnum.jvp(lambda a: np.sum(a * a), x, dc.to_device(np.ones(3)))
    assert isinstance(y, DeviceArray) and y.shape == () and float(t) == pytest.approx(7.0)


# ---- the same functions in reverse mode (the tracker on device values) -------------------------------------------

REVERSE_CASES = {
    "model": lambda f: (lambda a: np.sum(f(a))),
    "where-getitem-max": lambda f: (lambda a: np.sum(np.where(a > 0, a[::-1] ** 2, -a)) + np.max(a, axis=0).sum()),
    "concatenate-mean": lambda f: (lambda a: np.mean(np.concatenate([a, np.exp(a)], axis=1) ** 2)),
    "transpose-matmul": lambda f: (lambda a: np.sum(a.T @ a)),
    "clip-abs-min": lambda f: (lambda a: np.sum(np.abs(np.clip(a, -0.5, 0.5)) * np.min(a, axis=1, keepdims=True))),
    "reshape-stack": lambda f: (lambda a: np.sum(np.reshape(a, (2, 10)).T ** 3) + np.sum(np.stack([a, 2 * a])[1] * a)),
}


@pytest.mark.parametrize("case", sorted(REVERSE_CASES))
def test_tracker_gradient_of_a_device_param(case):
    """tracker.gradient on a device parameter == the host's, and == forward mode on the device."""
    from dualnum import tracker
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 5))
    put = on_device(np.float64)
    fd = REVERSE_CASES[case](model(put))
    fh = REVERSE_CASES[case](model(on_host))
    g, = tracker.gradient(fd, tracker.param(put(x)))
    gh, = host(lambda: tracker.gradient(fh, tracker.param(x)))
    same(g, gh, np.float64)
    gf, = dualnum.gradient(fd, put(x))
    same(gf, gh, np.float64)


def test_tracker_gradient_of_a_plain_device_array():
    from dualnum import tracker
    x = np.linspace(0.1, 1.0, 5)
    g, = tracker.gradient(lambda a: np.sum(a ** 2), dc.to_device(x))
    assert isinstance(g, DeviceArray)
    np.testing.assert_allclose(g.get(), 2 * x)


def test_index_array_in_forward_mode():
    x = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    idx = np.array([2, 0, 2])

    def f(a):
        return np.sum(a[:, idx] ** 3)
    g, = dualnum.gradient(f, dc.to_device(x))
    gh, = host(lambda: dualnum.gradient(f, x))
    same(g, gh, np.float64)


def test_index_array_in_reverse_mode():
    from dualnum import tracker
    x = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    idx = np.array([2, 0, 2])  # a repeated index: the adjoints add up

    def f(a):
        return np.sum(a[:, idx] ** 3)
    g, = tracker.gradient(f, tracker.param(dc.to_device(x)))
    gh, = host(lambda: tracker.gradient(f, tracker.param(x)))
    same(g, gh, np.float64)
