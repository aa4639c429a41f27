"""hessian's default picks its method: nested duals for a few inputs, duals over the tracker for many, and nested
duals again where the tracker refuses f or gives an inf/NaN forward mode's NaN-safe chain rule avoids."""
import tracemalloc

import numpy as np
import pytest

import dualnum
from dualnum import nested, tracker
from dualnum.backends import blocks


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_hessian(x):
    """The closed form: tridiagonal."""
    n = x.size
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    return H


@pytest.mark.parametrize("n", [3, nested.SMALL, nested.SMALL + 1, 130])
def test_the_default_is_right_at_every_size(n, monkeypatch):
    x = np.linspace(-1.0, 1.5, n)
    calls = []
    real = tracker.gradient
    monkeypatch.setattr(tracker, "gradient", lambda *a, **k: calls.append(1) or real(*a, **k))
    np.testing.assert_allclose(dualnum.hessian(rosen, x), rosen_hessian(x), rtol=1e-10, atol=1e-8)
    assert bool(calls) == (n > nested.SMALL)  # the tracker is used exactly when n is large


def test_code_the_tracker_refuses_falls_back_to_nested_duals():
    def f(x):
        y = x * 1.0
        z = y  # another name for y: the tracker refuses to write into it, forward mode writes in place
        z[0] = x[1] ** 3
        return np.sum(y ** 2)
    x = np.linspace(0.5, 1.5, 20)
    with pytest.raises(TypeError):
        dualnum.hessian(f, x, method="forward-over-reverse")
    H = dualnum.hessian(f, x)
    np.testing.assert_allclose(H, dualnum.hessian(f, x, method="forward-over-forward"), rtol=1e-12)
    assert H[1, 1] == pytest.approx(30 * x[1] ** 4 + 2)  # d²/dx₁² (x₁⁶ + x₁²)


def test_an_inf_or_nan_from_the_tracker_falls_back_to_the_nan_safe_forward_mode():
    x = np.linspace(0.5, 3.0, 20)
    # the branch where does not take is √ of a negative number: NaN, times the zero the tracker sends into it
    f = lambda z: np.sum(np.where(z > 2, np.sqrt(z - 2) ** 3, 0.0) + z ** 3)  # noqa: E731
    with np.errstate(invalid="ignore"):
        assert not np.all(np.isfinite(dualnum.hessian(f, x, method="forward-over-reverse")))
        H = dualnum.hessian(f, x)
    d2 = np.where(x > 2, 0.75 / np.sqrt(np.where(x > 2, x - 2, 1.0)), 0.0) + 6 * x  # (u^{3/2})'' = ¾ u^{-1/2}
    np.testing.assert_allclose(H, np.diag(d2), rtol=1e-10, atol=1e-12)


def test_nested_duals_keep_their_memory_bounded():
    x = np.linspace(-1.0, 1.5, 130)
    f = lambda z: np.sum(z[1:] * z[:-1]) + np.sum(np.sin(z) ** 2)  # noqa: E731
    tracemalloc.start()
    H = dualnum.hessian(f, x, method="forward-over-forward")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    want = np.diag(2 * np.cos(2 * x)) + np.eye(130, k=1) + np.eye(130, k=-1)
    np.testing.assert_allclose(H, want, atol=1e-10)
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_the_method_is_checked():
    with pytest.raises(ValueError, match="auto"):
        dualnum.hessian(rosen, np.ones(3), method="reverse")


def test_the_default_sizes_its_passes_by_the_graph_so_memory_stays_bounded():
    # ‖x xᵀ‖ (the Frobenius norm of the outer product) is ‖x‖², Hessian 2I; its intermediates hold n² numbers,
    # so pushing all 130 directions through the tracker at once would hold ~110 MB
    x = np.linspace(-1.0, 1.5, 130) + 0.01
    f = lambda z: np.sqrt(np.sum((z[None, :] * z[:, None]) ** 2))  # noqa: E731
    blocks.clear()  # the kernels' kept blocks count too: this call makes its own
    tracemalloc.start()
    H = dualnum.hessian(f, x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(H, 2 * np.eye(130), atol=1e-9)
    assert peak < 100e6, f"peak {peak / 1e6:.0f} MB"
    assert tracker._recorded_size(f, x) == 3 * 130 + 2 * 130 ** 2 + 2  # x, two views, x xᵀ, its square, Σ, √
