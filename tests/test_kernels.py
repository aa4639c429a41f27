"""The numba kernels and the numpy path give the same numbers for every rule in the table."""
import os
import subprocess
import sys

import numpy as np
import pytest

from dualnum import DualArray, kernels
from dualnum.functions import apply

pytest.importorskip("numba")

N = 5000  # with k = 8 directions this is above kernels.MIN_SIZE, so the kernel path is taken


def both_paths(fn):
    saved = kernels.ENABLED, kernels.NUMPY_FASTER
    try:
        kernels.ENABLED, kernels.NUMPY_FASTER = True, frozenset()  # force every rule through its kernel
        fast = fn()
        kernels.ENABLED = False
        slow = fn()
    finally:
        kernels.ENABLED, kernels.NUMPY_FASTER = saved
    return fast, slow


def sample(r, n, seed):
    lo, hi = r.domain
    return np.random.default_rng(seed).uniform(lo, hi, n)


@pytest.mark.parametrize("r", kernels.kernel_rules(), ids=lambda r: r.name)
@pytest.mark.parametrize("k", [1, 8])
def test_kernel_matches_numpy_path(r, k):
    rng = np.random.default_rng(0)
    x = DualArray(sample(r, N, 1), rng.normal(size=(k, N)), tag=7)
    if r.arity == 1:
        cases = [(x,)]
    else:
        lo2, hi2 = r.domain2 or r.domain
        yv = np.random.default_rng(2).uniform(lo2, hi2, N)
        y = DualArray(yv, rng.normal(size=(k, N)), tag=7)
        s = DualArray(np.array(yv[0]), rng.normal(size=(k,)), tag=7)
        cases = [(x, y), (x, yv), (yv, x), (x, 1.7), (1.3, x), (x, s), (s, x)]
    for args in cases:
        fast, slow = both_paths(lambda: apply(r, *args))
        np.testing.assert_allclose(fast.value, slow.value, rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(fast.partials, slow.partials, rtol=1e-12, atol=1e-12)
        assert fast.shape == slow.shape and fast.partials.shape == slow.partials.shape


def test_kernel_path_is_taken_and_numpy_path_when_disabled(monkeypatch):
    calls = []
    real = kernels.try_apply

    def spy(*a):
        out = real(*a)
        calls.append(out is not None)
        return out
    monkeypatch.setattr(kernels, "try_apply", spy)
    x = DualArray(np.linspace(0, 1, N), np.ones((8, N)))
    _ = (x * x).value  # reading it computes it (a lone product is pending until then)
    assert calls == [True]
    _ = (x[:10] * x[:10]).value  # small: numpy (the kernel is not even asked)
    assert calls.count(True) == 1
    kernels.ENABLED = False
    try:
        _ = (x * x).value  # reading it computes it (a lone product is pending until then)
    finally:
        kernels.ENABLED = True
    assert calls.count(True) == 1


def test_gradient_through_kernels_matches_finite_differences():
    from dualnum.testing import check_grad
    x = np.linspace(-1, 1, 300)
    res = check_grad(lambda v: np.sum(v * v / (1.0 + v * v) - np.maximum(v, 0.1) * v), x, rtol=1e-5)
    assert res.ok, str(res)


def test_generated_source_covers_the_table():
    src = kernels.source()
    for r in kernels.kernel_rules():
        assert f"unary_{r.name}(" in src or f"binary_{r.name}_vv(" in src


@pytest.mark.parametrize("setup", ["unwritable", "missing"])
def test_unwritable_or_missing_cache_dir_still_works(tmp_path, setup):
    # unwritable: even root cannot create anything under /proc, so both the configured directory and the
    # home cache fail and dualnum must fall back to a temporary directory
    d = "/proc/dualnum-cache" if setup == "unwritable" else str(tmp_path / "not" / "yet")
    home = "/proc/dualnum-home" if setup == "unwritable" else str(tmp_path / "home")
    code = ("import numpy as np, dualnum as dn\n"
            "x = np.linspace(0, 1, 40000)\n"
            "print(dn.jvp(lambda v: np.sum(v * v), x, np.ones_like(x))[1])\n"
            "from dualnum import kernels; print(kernels.module() is not None, kernels.cache_dir())\n")
    env = dict(os.environ, DUALNUM_CACHE_DIR=d, HOME=home)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert float(lines[0]) == pytest.approx(2 * np.sum(np.linspace(0, 1, 40000)))
    used, where = lines[1].split(" ", 1)
    assert used == "True"
    assert where.startswith(d) if setup == "missing" else not where.startswith("/proc")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("setting,expected", [("1", "True"), ("0", "False")])
def test_allocator_tuning_is_on_by_default_and_can_be_turned_off(setting, expected):
    code = "import dualnum; from dualnum import allocator; print(allocator._done)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, DUALNUM_MALLOPT=setting))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
