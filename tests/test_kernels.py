"""The numba kernels and the numpy path give the same numbers for every rule in the table."""
import os
import subprocess
import sys

import numpy as np
import pytest

from dualnum import DualArray

from dualnum.backends import kernels, use
from dualnum.functions import apply

pytest.importorskip("numba")

N = 5000  # with k = 8 directions this is above kernels.MIN_SIZE, so the kernel path is taken


def both_paths(fn):
    with use("kernels", always=True):  # every rule through its kernel, even where numpy is the faster
        fast = fn()
    with use("numpy"):
        slow = fn()
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


@pytest.mark.parametrize("r", [r for r in kernels.kernel_rules() if r.arity == 2], ids=lambda r: r.name)
def test_broadcasting_kernel_matches_numpy_path(r, monkeypatch):
    """Operands that broadcast to a bigger result (an outer product, a column added to a matrix) take the
    kernel that reads them through index arrays."""
    names = []
    real = kernels._call
    monkeypatch.setattr(kernels, "_call", lambda mod, name, args: names.append(name) or real(mod, name, args))
    rng = np.random.default_rng(3)
    lo, hi = r.domain
    lo2, hi2 = r.domain2 or r.domain
    for k, sa, sb in [(8, (1, 90), (70, 1)), (1, (130, 190), (190,)), (3, (40, 1, 30), (20, 1))]:
        x = DualArray(rng.uniform(lo, hi, sa), rng.normal(size=(k,) + sa), tag=7)
        y = DualArray(rng.uniform(lo2, hi2, sb), rng.normal(size=(k,) + sb), tag=7)
        for args in [(x, y), (x, y.value), (x.value, y)]:
            names.clear()
            fast, slow = both_paths(lambda: apply(r, *args))
            assert names == [f"binary_{r.name}_bb"]
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
    with use("numpy"):
        _ = (x * x).value  # reading it computes it (a lone product is pending until then)
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
            "from dualnum.backends import kernels; print(kernels.module() is not None, kernels.cache_dir())\n")
    env = dict(os.environ, DUALNUM_CACHE_DIR=d, HOME=home)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert float(lines[0]) == pytest.approx(2 * np.sum(np.linspace(0, 1, 40000)))
    used, where = lines[1].split(" ", 1)
    assert used == "True"
    assert where.startswith(d) if setup == "missing" else not where.startswith("/proc")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("setting,expected", [("1", "True"), ("0", "False"), (None, "False")])
def test_allocator_tuning_is_opt_in(setting, expected):
    """import dualnum leaves the host process's allocator alone unless DUALNUM_MALLOPT=1 asks for it."""
    code = "import dualnum; from dualnum.backends import allocator; print(allocator._done)"
    env = {k: v for k, v in os.environ.items() if k != "DUALNUM_MALLOPT"}
    if setting is not None:
        env["DUALNUM_MALLOPT"] = setting
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


# ---- NaN-safe forward mode: one input's inf/NaN stays in its own directions -------------------------------

@pytest.mark.parametrize("f, df, x0", [(np.sqrt, lambda x: 0.5 / np.sqrt(x), 0.0),
                                       (np.log, lambda x: 1.0 / x, 0.0),
                                       (np.exp, np.exp, 1000.0),
                                       (lambda x: 1.0 / x, lambda x: -1.0 / x ** 2, 0.0)])
def test_one_inputs_inf_does_not_poison_the_others_gradient(f, df, x0):
    import dualnum as dn
    g = dn.gradient(lambda x: np.sum(f(x)), [x0, 1.0, 2.0])[0]
    assert np.isinf(g[0])  # jax.grad's answer: the non-finite entry stays where it belongs
    np.testing.assert_allclose(g[1:], df(np.array([1.0, 2.0])), rtol=1e-14)


def test_zero_local_derivative_silences_an_inf_partial():
    import dualnum as dn
    np.testing.assert_array_equal(dn.hessian(lambda x: np.sum(x ** 0.0), np.zeros(3)), np.zeros((3, 3)))
    # np.where's unselected branch: sqrt'(0) = inf is multiplied by where's zero derivative
    g = dn.gradient(lambda x: np.sum(np.where(x > 0, np.sqrt(np.abs(x)), 0.0)), [0.0, 4.0])[0]
    np.testing.assert_allclose(g, [0.0, 0.25], rtol=1e-15)


@pytest.mark.parametrize("path", ["numpy", "kernels", "fused"])
@pytest.mark.parametrize("k", [1, 2])
def test_nan_safe_on_big_arrays_in_every_path(path, k, monkeypatch):
    """Element 0 is 0 (sqrt' = inf there); the last direction seeds every other element, and must stay finite."""
    from dualnum.backends import fusion
    n = kernels.MIN_SIZE  # (k + 1) n elements: the kernels' size
    v = np.linspace(0.0, 2.0, n)
    p = np.zeros((k, n))
    p[0, 0] = 1.0
    p[-1, 1:] = 1.0
    q = np.zeros((k, n))
    q[0] = 1.0  # y moves in direction 0 only
    monkeypatch.setattr(fusion, "HOT", 1)
    monkeypatch.setattr(fusion, "PAYBACK", 0.0)
    backend = {"numpy": use("numpy"), "kernels": use("kernels", always=True), "fused": use("numba", always=True)}
    x, y = DualArray(v, p), DualArray(v + 1.0, q)
    w = v[1:]
    cases = [  # (expression, its derivative along the last direction on elements 1.., by hand)
        (lambda: np.sqrt(x), 0.5 / np.sqrt(w)),
        (lambda: np.sqrt(x) * x, 1.5 * np.sqrt(w)),
        (lambda: np.sin(np.sqrt(x)) + x, np.cos(np.sqrt(w)) * 0.5 / np.sqrt(w) + 1.0),
        (lambda: np.sqrt(x) * y, (w + 1.0) * 0.5 / np.sqrt(w) + (np.sqrt(w) if k == 1 else 0.0)),
        (lambda: np.where(v > 0, np.sqrt(x), 0.0), 0.5 / np.sqrt(w)),
    ]
    with np.errstate(divide="ignore", invalid="ignore"), backend[path]:
        for expr, want in cases:
            for _ in range(2):  # fused: compiled on the first, reused on the second
                r = expr()
                np.testing.assert_allclose(r.partials[-1, 1:], want, rtol=1e-13)
                if k == 2:
                    assert not np.isnan(r.partials[0, 1:]).any() and not np.isnan(r.partials[1, 0])
            if k == 2:  # (k = 1: the one direction also moves element 0, whose inf the sum keeps)
                s = np.sum(expr())  # the fused sum accumulates the same terms
                np.testing.assert_allclose(s.partials[-1], np.sum(want), rtol=1e-10)


def test_a_rule_numba_does_not_compile_never_rebuilds_the_kernels(monkeypatch):
    sp = pytest.importorskip("scipy.special")
    from dualnum.backends import kernels as K
    refreshes = []
    real = K._refresh
    monkeypatch.setattr(K, "_refresh", lambda *a, **k: refreshes.append(1) or real(*a, **k))
    x = np.linspace(-2.0, 2.0, 5000)
    import dualnum
    g = dualnum.gradient(lambda z: np.sum(sp.expit(z) * sp.erf(z)), x)[0]
    e, d = sp.expit(x), sp.erf(x)
    np.testing.assert_allclose(g, e * (1 - e) * d + e * 2 / np.sqrt(np.pi) * np.exp(-x * x), rtol=1e-12)
    assert not refreshes  # (each such operation used to regenerate the kernel module: seconds per gradient)
