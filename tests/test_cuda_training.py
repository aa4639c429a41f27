"""Training on the device: a Chain moved with nn.gpu trains with nn.train and the optimisers exactly as on the CPU,
step for step; losses, gradients and the Flux manual's Affine work on device arrays; a host input meeting device
weights is refused by name.

Runs under numba's simulator in CI (tests/conftest.py), with its device array stripped to a real one's surface.
"""
import numpy as np
import pytest

import nn
from dualnum import tracker
from dualnum.backends import cuda as dc
from dualnum.backends import use

AVAILABLE = dc.available()
if AVAILABLE:
    from dualnum.backends.cuda.array import DeviceArray

pytestmark = [pytest.mark.usefixtures("strict_device"),
              pytest.mark.skipif(not AVAILABLE, reason="no CUDA GPU, and numba's simulator is off "
                                 "(NUMBA_ENABLE_CUDASIM=1 before numba is imported turns it on)")]

TOL = {np.float64: dict(rtol=1e-10, atol=1e-13), np.float32: dict(rtol=2e-5, atol=1e-6)}


def as_dtype(model, dtype):
    """The model with every parameter converted to dtype (still a trainable parameter)."""
    if dtype == np.float64:
        return model
    return nn.fmap(lambda p: tracker.param(np.asarray(p.data, dtype)) if hasattr(p, "data") else p, model)


def chain(dtype=np.float64):
    nn.seed(0)
    return as_dtype(nn.Chain(nn.Dense(3, 5, nn.tanh), nn.Dense(5, 2)), dtype)


def data(dtype=np.float64, n=8):
    rng = np.random.default_rng(1)
    return rng.normal(size=(3, n)).astype(dtype), rng.normal(size=(2, n)).astype(dtype)


def host_values(ps):
    return [np.array(nn.cpu(p.data) if getattr(p.data, "_is_device", False) else p.data) for p in ps]


def run(opt, model, x, y, steps=3):
    """(losses, parameters after each step): nn.train one batch at a time."""
    ps = nn.params(model)

    def loss(a, b):
        return nn.mse(model(a), b)
    losses, values = [], []
    for _ in range(steps):
        losses += nn.train(loss, ps, [(x, y)], opt)
        values.append(host_values(ps))
    return losses, values


OPTIMISERS = {"Descent": lambda: nn.Descent(0.1), "Adam": lambda: nn.Adam(0.01),
              "Momentum": lambda: nn.Momentum(0.05, 0.9), "RMSProp": lambda: nn.RMSProp(0.01)}


@pytest.mark.parametrize("opt", ["Descent", "Adam", "Momentum", "RMSProp"])
def test_train_matches_cpu_step_for_step(opt):
    x, y = data()
    with use("numpy"):
        losses, values = run(OPTIMISERS[opt](), chain(), x, y)
    model = nn.gpu(chain())
    assert all(isinstance(p.data, DeviceArray) for p in nn.params(model))
    dlosses, dvalues = run(OPTIMISERS[opt](), model, nn.gpu(x), nn.gpu(y))
    assert all(isinstance(p.data, DeviceArray) for p in nn.params(model))  # updated on the device
    assert all(type(v) is float for v in dlosses)
    np.testing.assert_allclose(dlosses, losses, **TOL[np.float64])
    assert losses[-1] < losses[0]  # it trained
    for step, (d, h) in enumerate(zip(dvalues, values)):
        for i, (a, b) in enumerate(zip(d, h)):
            np.testing.assert_allclose(a, b, err_msg=f"step {step}, parameter {i}", **TOL[np.float64])


def test_float32_model_trains_in_float32():
    x, y = data(np.float32)
    with use("numpy"):
        losses, values = run(nn.Descent(0.1), chain(np.float32), x, y)
    model = nn.gpu(chain(np.float32))
    dlosses, dvalues = run(nn.Descent(0.1), model, nn.gpu(x), nn.gpu(y))
    assert all(p.data.dtype == np.float32 for p in nn.params(model))
    np.testing.assert_allclose(dlosses, losses, **TOL[np.float32])
    for d, h in zip(dvalues[-1], values[-1]):
        assert d.dtype == np.float32
        np.testing.assert_allclose(d, h, **TOL[np.float32])


def test_gradient_with_params():
    x, y = data()
    m = chain()
    g = nn.gpu(m)
    ps, pg = nn.params(m), nn.params(g)
    with use("numpy"):
        gs = nn.gradient(lambda: nn.mse(m(x), y), ps)
    xg, yg = nn.gpu(x), nn.gpu(y)
    gg = nn.gradient(lambda: nn.mse(g(xg), yg), pg)
    for p, q in zip(ps, pg):
        assert isinstance(gg[q], DeviceArray)
        np.testing.assert_allclose(nn.cpu(gg[q]), gs[p], **TOL[np.float64])


def test_gpu_and_cpu_of_arrays_and_models():
    x = np.arange(6.0).reshape(2, 3)
    d = nn.gpu(x)
    assert isinstance(d, DeviceArray) and d.shape == (2, 3) and d.dtype == np.float64
    back = nn.cpu(d)
    assert type(back) is np.ndarray
    np.testing.assert_array_equal(back, x)
    assert nn.gpu(d) is d and nn.gpu(2.5) == 2.5
    m = chain()
    c = nn.cpu(nn.gpu(m))
    for p, q in zip(nn.params(m), nn.params(c)):
        assert type(q.data) is np.ndarray
        np.testing.assert_array_equal(q.data, p.data)
    with pytest.raises(TypeError, match="nn.cpu"):
        np.asarray(d)
    assert float(nn.gpu(np.array(2.5))) == 2.5 and "DeviceArray" in repr(d)


@pytest.mark.skipif(not hasattr(nn, "Affine"), reason="nn has no Affine layer")
def test_affine_from_the_flux_manual():
    """Affine((3, 1), bias=False, init=np.ones) |> gpu: W·x with W of ones, on the device."""
    a = nn.gpu(nn.Affine((3, 1), bias=False, init=np.ones))
    x = np.array([1.0, 2.0, 3.0])
    r = a(nn.gpu(x))
    rv = r.data if hasattr(r, "data") and not isinstance(r, DeviceArray) else r
    assert isinstance(rv, DeviceArray)
    np.testing.assert_allclose(nn.cpu(rv), [6.0])
    g = nn.gradient(lambda: np.sum(a(nn.gpu(x)) ** 2), nn.params(a))
    W = nn.params(a)[0]
    np.testing.assert_allclose(nn.cpu(g[W]), 2 * 6.0 * x[None, :])


@pytest.mark.parametrize("loss", ["mse", "crossentropy", "logitcrossentropy"])
def test_losses_on_device(loss):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(3, 5))
    labels = np.eye(3)[:, rng.integers(0, 3, size=5)]
    if loss == "mse":
        args = (logits, rng.normal(size=(3, 5)))
    elif loss == "crossentropy":
        args = (nn.softmax(logits), labels)
    else:
        args = (logits, labels)
    f = getattr(nn, loss)
    with use("numpy"):
        want = f(*args)
    got = f(*[nn.gpu(a) for a in args])
    assert isinstance(got, DeviceArray)
    assert float(got) == pytest.approx(float(want), rel=1e-12)
    # its gradient through the tracker, on the device
    p = tracker.param(nn.gpu(args[0]))
    g = nn.gradient(lambda: f(p, nn.gpu(args[1])), nn.Params([p]))
    hp = tracker.param(args[0].copy())
    with use("numpy"):
        gh = nn.gradient(lambda: f(hp, args[1]), nn.Params([hp]))
    np.testing.assert_allclose(nn.cpu(g[p]), gh[hp], rtol=1e-10, atol=1e-13)


def test_host_input_with_device_weights_names_gpu():
    m = nn.gpu(chain())
    x, _ = data()
    with pytest.raises(nn.ShapeError, match="gpu"):
        m(x)
    with pytest.raises(nn.ShapeError, match="cpu|gpu"):
        chain()(nn.gpu(x))  # and the other way round


def test_train_over_a_dataloader_of_device_arrays():
    x, y = data(n=6)
    with use("numpy"):
        m = chain()
        losses = nn.train(lambda a, b: nn.mse(m(a), b), m, nn.DataLoader((x, y), batchsize=4), nn.Adam(0.01),
                          epochs=2)
    g = nn.gpu(chain())
    loader = nn.DataLoader((nn.gpu(x), nn.gpu(y)), batchsize=4)
    dlosses = nn.train(lambda a, b: nn.mse(g(a), b), g, loader, nn.Adam(0.01), epochs=2)
    assert len(dlosses) == len(losses) == 4
    np.testing.assert_allclose(dlosses, losses, **TOL[np.float64])
    for p, q in zip(nn.params(m), nn.params(g)):
        np.testing.assert_allclose(nn.cpu(q.data), p.data, **TOL[np.float64])


def test_accuracy_of_device_predictions():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(3, 6))
    labels = np.eye(3)[:, rng.integers(0, 3, size=6)]
    want = nn.accuracy(logits, labels)
    assert float(nn.accuracy(nn.gpu(logits), nn.gpu(labels))) == pytest.approx(want)
    np.testing.assert_array_equal(nn.cpu(nn.onecold(nn.gpu(logits))), nn.onecold(logits))


def test_without_a_gpu_gpu_warns_once_and_changes_nothing():
    """In a process with neither a GPU nor the simulator: importing dualnum and nn loads no numba.cuda, and
    nn.gpu warns once and returns its argument (the model still trains on the CPU)."""
    import os
    import subprocess
    import sys
    code = r'''
import sys, warnings
import numpy as np
import dualnum, nn
assert "numba.cuda" not in sys.modules, "import dualnum, nn imported numba.cuda"
from dualnum.backends import cuda
if cuda.available():
    print("GPU")
    raise SystemExit(0)
nn.seed(0)
m = nn.Chain(nn.Dense(3, 2))
x = np.ones((3, 4))
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    g = nn.gpu(m)
    y = nn.gpu(x)
assert g is m and y is x, (g, y)
assert len(w) == 1 and issubclass(w[0].category, RuntimeWarning) and "gpu" in str(w[0].message), w
l = nn.train(lambda a, b: nn.mse(g(a), b), g, [(y, np.zeros((2, 4)))], nn.Descent(0.1))
assert np.isfinite(l[0])
print("OK")
'''
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    if r.stdout.strip() == "GPU":
        pytest.skip("this machine has a GPU: nn.gpu moves things there")
    assert r.stdout.strip() == "OK"
