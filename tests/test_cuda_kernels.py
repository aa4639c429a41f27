"""Every generated CUDA kernel against numpy on the host: value maps of every ufunc, the dual kernel of every rule,
reductions, matmul (dual too), views and copies, the memory pool, and every kernel compiled to PTX for a real GPU.

The kernels run under numba's simulator here (tests/conftest.py turns it on, and ``strict_device`` strips its
device array down to what a real one offers). The PTX test compiles in a child process with the simulator off,
because only the real CUDA target lowers (or refuses) what the simulator runs as plain Python.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from dualnum import rules
from dualnum.backends import cuda as dc
from dualnum.backends import use

AVAILABLE = dc.available()
if AVAILABLE:
    from dualnum import DualArray, functions
    from dualnum.backends.cuda import kernels, ops, pool
    from dualnum.backends.cuda.array import DeviceArray

pytestmark = [pytest.mark.usefixtures("strict_device"),
              pytest.mark.skipif(not AVAILABLE, reason="no CUDA GPU, and numba's simulator is off "
                                 "(NUMBA_ENABLE_CUDASIM=1 before numba is imported turns it on)")]

TOL = {np.float64: dict(rtol=1e-12, atol=1e-13), np.float32: dict(rtol=4e-6, atol=4e-6)}
DUAL_TOL = {np.float64: dict(rtol=1e-11, atol=1e-12), np.float32: dict(rtol=3e-5, atol=3e-5)}
BOOL_UFUNCS = ("invert", "bitwise_and", "bitwise_or", "bitwise_xor")


def _ufunc(name):
    return np.sinc if name == "sinc" else getattr(np, name)


def _rule_for(name):
    r = rules.RULES.get(name)
    if r is None:
        r = next((r for r in rules.RULES.values() if getattr(r.f, "__name__", None) == name), None)
    return r


def _domains(name):
    r = _rule_for(name)
    if r is None:
        return (-3.0, 3.0), (-3.0, 3.0)
    return r.domain, r.domain2 or r.domain


def _sample(rng, domain, shape, dtype, grid=False):
    lo, hi = domain
    x = rng.uniform(lo, hi, size=shape)
    if grid:  # comparisons and logical functions: a coarse grid, so equal elements and zeros occur
        x = np.clip(np.round(x * 2) / 2, lo, hi)
    return x.astype(dtype)


def dev(x):
    return dc.to_device(x)


def check(d, h, tol, exact_dtype=True):
    assert isinstance(d, DeviceArray), type(d)
    if exact_dtype:
        assert d.dtype == np.asarray(h).dtype, (d.dtype, np.asarray(h).dtype)
    got = d.get()
    assert got.shape == np.shape(h)
    if np.asarray(h).dtype.kind == "b":
        np.testing.assert_array_equal(got, h)
    else:
        np.testing.assert_allclose(got, h, equal_nan=True, **tol)


# ---- value maps: every ufunc of the table -----------------------------------------------------------------------

VALUE_UFUNCS = sorted(kernels.value_ufuncs().items()) if AVAILABLE else []
def _value_params():
    out = []
    for name, arity in VALUE_UFUNCS:
        for dtype, tag in ((np.float64, "f64"), (np.float32, "f32")):
            out.append(pytest.param(name, arity, dtype, id=f"{name}-{tag}"))
    return out


@pytest.mark.parametrize("name,arity,dtype", _value_params())
def test_value_map(name, arity, dtype):
    """f(device x) == f(host x) for contiguous arrays, strided views, broadcasting and scalars on either side."""
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    uf = _ufunc(name)
    d1, d2 = _domains(name)
    if name in BOOL_UFUNCS:
        x, y = rng.random((6, 5)) > 0.5, rng.random((6, 5)) > 0.5
        tol = {}
    else:
        grid = _rule_for(name) is None
        x, y = _sample(rng, d1, (6, 5), dtype, grid), _sample(rng, d2, (6, 5), dtype, grid)
        tol = TOL[dtype]
    dx, dy = dev(x), dev(y)
    views = [lambda a: a, lambda a: a.T, lambda a: a[::2], lambda a: a[1:, :], lambda a: a[1:, ::2]]
    with np.errstate(all="ignore"):
        if arity == 1:
            for v in views:
                check(uf(v(dx)), uf(v(x)), tol)
            return
        for v in views:
            check(uf(v(dx), v(dy)), uf(v(x), v(y)), tol)
        check(uf(dx[:3, :1], dy[:1, :4]), uf(x[:3, :1], y[:1, :4]), tol)  # (3, 1) with (1, 4)
        check(uf(dx.T[:, 1:2], dy[2:3]), uf(x.T[:, 1:2], y[2:3]), tol)  # strided and broadcast at once
        check(uf(dx[0], dy), uf(x[0], y), tol)  # (5,) with (6, 5)
        s, t = x.flat[3].item(), y.flat[7].item()  # Python scalars (numpy keeps the array's dtype)
        check(uf(s, dy), uf(s, y), tol)
        check(uf(dx.T, t), uf(x.T, t), tol)


EDGES = {  # numpy's semantics at the edges, which formulas.py rewrites with math for the GPU
    "rint": [[-2.5, -1.5, 0.5, 1.5, 2.5, 3.5, 0.49999999999999994, 1e300]],
    "sign": [[-2.0, 0.0, 3.0, np.nan, -np.inf]],
    "cbrt": [[-8.0, -27.0, 0.0, 1e-300, 64.0, np.inf, -np.inf, np.nan]],
    "absolute": [[-0.0, -1.5, np.nan, -np.inf]],
    "floor": [[-1.5, 2.0, 1e300]], "ceil": [[-1.5, 2.0, -1e300]], "trunc": [[-1.5, 2.7, 1e300]],
    "sinc": [[0.0, 1.0, -2.0, 0.5, 1e-9]],
    "signbit": [[-0.0, 0.0, -1.0, np.nan, -np.inf]],
    "isnan": [[np.nan, np.inf, 1.0]], "isinf": [[np.nan, -np.inf, 1.0]], "isfinite": [[np.nan, np.inf, 1.0]],
    "maximum": [[np.nan, 1.0, 2.0], [1.0, np.nan, 2.0]],
    "minimum": [[np.nan, 1.0, 2.0], [1.0, np.nan, 2.0]],
    "fmax": [[np.nan, 1.0, np.nan, 2.0], [1.0, np.nan, np.nan, 3.0]],
    "fmin": [[np.nan, 1.0, np.nan, 2.0], [1.0, np.nan, np.nan, 3.0]],
    "remainder": [[5.0, -5.0, 5.0, -5.0, 6.0], [3.0, 3.0, -3.0, -3.0, 3.0]],
    "fmod": [[5.0, -5.0, 5.0, -5.0, 6.0, -0.0], [3.0, 3.0, -3.0, -3.0, 3.0, 2.0]],
    "floor_divide": [[5.0, -5.0, 5.0, -5.0, 6.0], [3.0, 3.0, -3.0, -3.0, 3.0]],
    "heaviside": [[-1.0, 0.0, 2.0, np.nan, 0.0], [0.5, 0.5, 0.5, 0.5, 0.25]],
    "copysign": [[1.0, 1.0, -2.0, 0.0], [-0.0, 0.0, 3.0, -1.0]],
    "logaddexp": [[-np.inf, 1.0, np.inf, np.nan, 1000.0], [-np.inf, -np.inf, 1.0, 1.0, 1000.0]],
    "logaddexp2": [[-np.inf, 1.0, np.inf, np.nan, 1000.0], [-np.inf, -np.inf, 1.0, 1.0, 1000.0]],
    "power": [[2.0, 0.0, -2.0, 4.0, 1.0], [3.0, 0.0, 2.0, 0.5, np.nan]],
    "hypot": [[3.0, np.inf, 0.0], [4.0, np.nan, 0.0]],
    "arctan2": [[0.0, -0.0, 1.0, -1.0], [-1.0, -1.0, 0.0, -0.0]],
}


def _check_edges(name, args):
    args = [np.array(a) for a in args]
    with np.errstate(all="ignore"):
        want = _ufunc(name)(*args)
        got = _ufunc(name)(*[dev(a) for a in args]).get()
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, equal_nan=True)
    if want.dtype.kind == "f":  # the sign of a zero is part of the answer
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy scalars warn in simulated threads (no errstate)
@pytest.mark.parametrize("name", sorted(EDGES))
def test_value_map_edges(name):
    """NaN, infinities, halves, huge values: the device gives numpy's answer (formulas.py's claim)."""
    _check_edges(name, EDGES[name])


#: out of each function's domain (the simulator once ran these as Python's math, which raises on log(0),
#: exp(1000), floor(nan); a GPU's libdevice gives NaN and inf, as numpy does)
NONFINITE = {
    "floor": [[np.nan, np.inf, -0.0]],
    "ceil": [[np.nan, -np.inf, -0.5]],
    "trunc": [[np.nan, np.inf, -0.5]],
    "rint": [[np.nan, np.inf, -0.0]],
    "floor_divide": [[5.0, -5.0], [0.0, 0.0]],
    "log": [[0.0, -1.0]],
    "log2": [[0.0]],
    "log10": [[0.0]],
    "log1p": [[-1.0, -2.0]],
    "sqrt": [[-1.0]],
    "exp": [[1000.0]],
    "expm1": [[1000.0]],
    "exp2": [[2000.0]],
    "cosh": [[1000.0]],
    "arccos": [[2.0]],
    "arcsin": [[2.0]],
    "arccosh": [[0.5]],
    "arctanh": [[1.0, 2.0]],
    "power": [[0.0, -8.0, 10.0], [-1.0, 1 / 3, 400.0]],
    "fmod": [[5.0, np.inf], [0.0, 2.0]],
    "remainder": [[5.0], [0.0]],
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy scalars warn in simulated threads (no errstate)
@pytest.mark.parametrize("name", sorted(NONFINITE))
def test_value_map_out_of_domain(name):
    """Out of a function's domain numpy gives NaN, inf or -0.0, never an exception; so must the device."""
    _check_edges(name, NONFINITE[name])


#: the sign of a zero result (formulas.py rewrites these with math; numpy keeps the zero's sign). maximum and
#: minimum of -0. and 0. are left out: IEEE lets either zero be the answer, and numpy's SIMD loops pick 0.
ZERO_SIGNS = {"sign": [[-0.0, 0.0]], "cbrt": [[-0.0, 0.0]], "remainder": [[-0.0, 0.0, 4.0], [2.0, -2.0, -2.0]],
              "rint": [[-0.5, -0.0, 0.4]], "floor": [[-0.0]], "ceil": [[-0.5, -0.0]], "trunc": [[-0.5, -0.0]],
              "fmod": [[-0.0, -4.0], [2.0, 2.0]], "floor_divide": [[-0.0, -1.0], [2.0, 3.0]]}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy scalars warn in simulated threads (no errstate)
@pytest.mark.parametrize("name", sorted(ZERO_SIGNS))
def test_value_map_signed_zeros(name):
    _check_edges(name, ZERO_SIGNS[name])


def test_comparisons_give_bool():
    x = np.array([[0.5, 1.0, 2.0], [1.0, -1.0, 0.0]])
    d = dev(x)
    for op in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal):
        r = op(d, 1.0)
        assert r.dtype == np.bool_
        check(r, op(x, 1.0), {})
        check(op(1.0, d.T), op(1.0, x.T), {})
    check((d > 0) & (d < 2), (x > 0) & (x < 2), {})
    check(~(d > 0), ~(x > 0), {})


def test_bitwise_on_integers_is_refused_by_name():
    """The bitwise kernels are the logical ones, right for masks only: integers are refused, never computed
    wrongly (numpy's 6 & 3 is 2, ~6 is -7)."""
    a, b = np.array([6, 5, 0, -3]), np.array([3, 1, 7, 2])
    for f in (np.bitwise_and, np.bitwise_or, np.bitwise_xor):
        with pytest.raises(TypeError, match=f"np.{f.__name__} .* bool arrays"):
            f(dev(a), dev(b))
    with pytest.raises(TypeError, match="np.invert .* bool arrays"):
        ~dev(a)


def test_integer_arithmetic():
    a, b = np.array([6, 5, 0, -3]), np.array([3, 1, 7, 2])
    for f in (np.add, np.subtract, np.multiply, np.floor_divide, np.remainder, np.power, np.maximum, np.minimum,
              np.less, np.equal, np.true_divide):
        check(f(dev(a), dev(b)), f(a, b), TOL[np.float64])
    for f in (np.negative, np.absolute, np.sign, np.logical_not, np.square):
        check(f(dev(a)), f(a), TOL[np.float64])
    check(dev(np.array([2 ** 60 + 1])) + 1, np.array([2 ** 60 + 1]) + 1, {})  # exact: computed in int64


UNSUPPORTED = {"left_shift": lambda a, i: np.left_shift(i, i), "gcd": lambda a, i: np.gcd(i, i),
               "spacing": lambda a, i: np.spacing(a), "nextafter": lambda a, i: np.nextafter(a, a),
               "ldexp": lambda a, i: np.ldexp(a, i), "float_power": lambda a, i: np.float_power(a, a),
               "divmod": lambda a, i: np.divmod(a, a), "modf": lambda a, i: np.modf(a),
               "frexp": lambda a, i: np.frexp(a)}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_ufuncs_are_refused_by_name(name):
    a, i = dev(np.array([1.5, 2.0])), dev(np.array([1, 2]))
    with pytest.raises(TypeError, match=name):
        UNSUPPORTED[name](a, i)


# ---- dual kernels: every rule, through DualArray --------------------------------------------------------------

DUAL_RULES = [r.name for r in kernels.dual_rules()] if AVAILABLE else []
DUAL_CASES = [(1, np.float64), (3, np.float64), (3, np.float32)]


def _dual_params():
    out = []
    for name in DUAL_RULES:
        for k, dtype in DUAL_CASES:
            out.append(pytest.param(name, k, dtype, id=f"{name}-k{k}-{np.dtype(dtype).name}"))
    return out


def unfused():
    """A block in which device dual arrays compute each operation at once (its dual kernel), never fused."""
    import contextlib
    from dualnum.backends.cuda import fusion

    @contextlib.contextmanager
    def block():
        old, fusion.ENABLED = fusion.ENABLED, False
        try:
            yield
        finally:
            fusion.ENABLED = old
    return block()


def _call(rule, *args):
    if isinstance(rule.f, np.ufunc) or rule.f is np.sinc:
        return rule.f(*args)  # what user code writes: numpy's protocol on a DualArray
    return functions.apply(rule, *args)


def _pair(rng, x, k, dtype):
    """A device dual array and its host twin (same value, same k partials)."""
    p = rng.normal(size=(k,) + x.shape).astype(dtype)
    return DualArray(dev(x), dev(p)), DualArray(x.astype(np.float64), p.astype(np.float64))


def check_dual(d, h, dtype):
    assert type(d) is DualArray and isinstance(d.value, DeviceArray) and isinstance(d.partials, DeviceArray)
    assert d.value.dtype == dtype and d.partials.dtype == dtype
    tol = DUAL_TOL[dtype]
    np.testing.assert_allclose(d.value.get(), h.value, equal_nan=True, **tol)
    hp = np.broadcast_to(h.partials, d.partials.shape) if h.partials.shape[0] == 0 else h.partials
    np.testing.assert_allclose(d.partials.get(), hp, equal_nan=True, **tol)


@pytest.mark.parametrize("name,k,dtype", _dual_params())
def test_dual_rule(name, k, dtype):
    """value and k partials of the rule's dual kernel == the host DualArray's (numpy's path)."""
    rule = rules.RULES[name]
    rng = np.random.default_rng(abs(hash((name, k))) % 2**32)
    d1, d2 = rule.domain, rule.domain2 or rule.domain
    x = _sample(rng, d1, (4, 3), dtype)
    y = _sample(rng, d2, (4, 3), dtype)
    dx, hx = _pair(rng, x, k, dtype)
    dy, hy = _pair(rng, y, k, dtype)
    with use("numpy"), np.errstate(all="ignore"):
        with unfused():  # the rule's own dual kernel (contiguous operands otherwise join a fused tree)
            check_dual(_call(rule, *([dx] if rule.arity == 1 else [dx, dy])),
                       _call(rule, *([hx] if rule.arity == 1 else [hx, hy])), dtype)
        if rule.arity == 1:
            check_dual(_call(rule, dx), _call(rule, hx), dtype)
            check_dual(_call(rule, dx.T), _call(rule, hx.T), dtype)  # strided value and partials
            return
        check_dual(_call(rule, dx, dy), _call(rule, hx, hy), dtype)
        check_dual(_call(rule, dx.T, dy.T), _call(rule, hx.T, hy.T), dtype)
        bx, hbx = _pair(rng, x[:, :1], k, dtype)  # (4, 1) with (1, 3)
        by, hby = _pair(rng, y[:1, :], k, dtype)
        check_dual(_call(rule, bx, by), _call(rule, hbx, hby), dtype)
        s, t = float(x[1, 2]), float(y[2, 1])  # a number on either side
        check_dual(_call(rule, s, dy), _call(rule, s, hy), dtype)
        check_dual(_call(rule, dx, t), _call(rule, hx, t), dtype)
        # a plain device array (a constant) on either side, broadcast
        check_dual(_call(rule, dev(x[:1]), dy), _call(rule, x[:1].astype(np.float64), hy), dtype)
        check_dual(_call(rule, dx, dev(y[:, :1])), _call(rule, hx, y[:, :1].astype(np.float64)), dtype)


# ---- fused trees (cuda/fusion.py) -------------------------------------------------------------------------------

def _b1(a, b):
    return np.sin(a) * np.exp(-a) + a ** 2 / (1.0 + b ** 2) - np.tanh(a * b) * 0.5


@pytest.mark.parametrize("k,dtype", [(1, np.float64), (3, np.float64), (3, np.float32), (9, np.float64)],
                         ids=["k1-f64", "k3-f64", "k3-f32", "k9-f64"])
def test_fused_tree(k, dtype):
    """A chain of operations is one pending tree, computed in one launch (map) or summed in one (sum kernel; over
    MAX_K_SUM directions it computes the array first): equal to the host and to one kernel per operation."""
    rng = np.random.default_rng(11)
    shape = (5, 7) if k <= 3 else (2, 3)  # (the simulator runs every direction of every element in Python)
    x, y = rng.uniform(0.2, 2.0, size=shape).astype(dtype), rng.uniform(0.2, 2.0, size=shape).astype(dtype)
    dx, hx = _pair(rng, x, k, dtype)
    dy, hy = _pair(rng, y, k, dtype)
    with use("numpy"):
        h = _b1(hx, hy)
        hs = np.sum(h)
    with unfused():
        u = _b1(dx, dy)
        us = np.sum(_b1(dx, dy))
    assert _b1(dx, dy)._lazy is not None  # pending: the tree path is the one under test
    check_dual(_b1(dx, dy), h, dtype)
    check_dual(u, h, dtype)
    s = np.sum(_b1(dx, dy))
    assert s.value.shape == () and s.partials.shape == (k,)
    tol = DUAL_TOL[dtype] if dtype == np.float64 else dict(rtol=2e-5, atol=2e-4)
    for d in (s, us):
        np.testing.assert_allclose(d.value.get(), hs.value, **tol)
        np.testing.assert_allclose(d.partials.get(), hs.partials, **tol)
    check_dual(np.sum(_b1(dx, dy), axis=0), np.sum(h, axis=0), dtype)  # a partial sum computes the tree first


def test_fused_tree_deeper_than_a_kernel():
    """More nodes than one kernel holds (fusion.MAX_NODES): the deepest part is computed first, same numbers."""
    rng = np.random.default_rng(12)
    x = rng.uniform(-1.0, 1.0, size=(4, 3))
    dx, hx = _pair(rng, x, 2, np.float64)
    a, b = dx, hx
    with use("numpy"):
        for _ in range(30):
            a = np.sin(a) * 0.9 + a * 0.1
            b = np.sin(b) * 0.9 + b * 0.1
    check_dual(a, b, np.float64)
    check_dual(np.sum(a * dx), np.sum(b * hx), np.float64)


def test_pending_fusion_sees_old_contents():
    """A write into a device array first computes the pending trees that read it (they saw the new contents)."""
    v = np.array([0.5, 1.0, 2.0])
    x = DualArray(dev(v), dev(np.ones((1, 3))))
    z = np.sin(x)
    x.value[0] = 100.0
    xv = x.partials
    xv *= 3.0
    np.testing.assert_allclose(z.value.get(), np.sin(v))
    np.testing.assert_allclose(z.partials.get(), np.cos(v)[None])
    for write in (lambda a: a.fill(3.0), lambda a: np.add(a, 1.0, out=a), lambda a: a.__setitem__(slice(1), -1.0)):
        x = DualArray(dev(v), dev(np.ones((1, 3))))
        z = np.exp(x) * x
        write(x.value)
        np.testing.assert_allclose(z.value.get(), np.exp(v) * v)


# ---- reductions ------------------------------------------------------------------------------------------------

REDUCTIONS = {"sum": np.sum, "max": np.max, "min": np.min, "mean": np.mean}
#: (axis, keepdims) per reduction (each costs a few barriers in the simulator: sum, which mean is built on,
#: gets every combination; the others the ones that take another path through ops.reduce)
AXES = {"sum": [(None, False), (0, False), (1, False), (2, False), (-1, True), ((0, 2), False), ((1, 2), True)],
        "mean": [(None, False), ((0, 2), True), (1, False)],
        "max": [(None, False), (1, True), ((0, 2), False)],
        "min": [(None, True), (2, False), ((0, 1), False)]}


@pytest.mark.parametrize("op", sorted(REDUCTIONS))
def test_reductions(op):
    f = REDUCTIONS[op]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 5))
    d = dev(x)
    tol = TOL[np.float64]
    for axis, keepdims in AXES[op]:
        check(f(d, axis=axis, keepdims=keepdims), f(x, axis=axis, keepdims=keepdims), tol)
    # on views: a transpose, a strided slice, a broadcast
    check(f(d.transpose(2, 0, 1), axis=(0, 1)), f(x.transpose(2, 0, 1), axis=(0, 1)), tol)
    check(f(d[:, ::2, 1:], axis=1), f(x[:, ::2, 1:], axis=1), tol)
    check(f(np.broadcast_to(d[:1, :1], (3, 4, 5)), axis=(0, 1)),
          f(np.broadcast_to(x[:1, :1], (3, 4, 5)), axis=(0, 1)), tol)
    # the method spelling and, for sum, max and min, numpy's ufunc.reduce
    check(getattr(d, op)(axis=1), getattr(x, op)(axis=1), tol)
    if op != "mean":
        uf = {"sum": np.add, "max": np.maximum, "min": np.minimum}[op]
        check(uf.reduce(d, axis=2), uf.reduce(x, axis=2), tol)
    # float32 stays float32 (summed in float64 on the device: at least as close as numpy's own float32 sum)
    x32 = x.astype(np.float32)
    for axis in (None, (0, 2)):
        check(f(dev(x32), axis=axis), f(x32, axis=axis), dict(rtol=2e-6, atol=2e-6))


@pytest.mark.parametrize("op", ["sum", "max", "min", "mean"])
def test_reductions_over_several_chunks(op):
    """Lengths spanning several blocks (a second pass) and results that are the same bits every time."""
    chunk = kernels.config().chunk
    n = 2 * chunk + 22
    f = REDUCTIONS[op]
    rng = np.random.default_rng(4)
    x = rng.normal(size=n)
    d = dev(x)
    first = f(d)
    check(first, f(x), TOL[np.float64])
    assert first.get().tobytes() == f(d).get().tobytes()  # deterministic: no atomics, a fixed order
    m = rng.normal(size=(2, n))
    dm = dev(m)
    check(f(dm, axis=1), f(m, axis=1), TOL[np.float64])
    check(f(dm.T, axis=0, keepdims=True), f(m.T, axis=0, keepdims=True), TOL[np.float64])  # strided


def test_reductions_of_masks_and_ints():
    x = np.array([[0.5, -1.0, 2.0], [1.0, -1.0, 0.0]])
    d = dev(x)
    check(np.sum(d > 0), np.sum(x > 0), {})
    check(np.sum(d > 0, axis=0), np.sum(x > 0, axis=0), {})
    assert bool(np.any(d > 1.5)) and not bool(np.all(d > -1.0))
    check(np.all(d > -2, axis=1), np.all(x > -2, axis=1), {})
    i = np.arange(12).reshape(3, 4)
    check(np.sum(dev(i), axis=0), np.sum(i, axis=0), {})
    check(np.mean(dev(i)), np.mean(i), TOL[np.float64])


def test_empty_reductions():
    d = dev(np.zeros((0, 3)))
    check(np.sum(d, axis=0), np.zeros(3), {})
    with pytest.raises(ValueError):
        np.max(d, axis=0)


# ---- matmul ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_matmul(dtype):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(5, 7)).astype(dtype), rng.normal(size=(7, 3)).astype(dtype)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    da, db = dev(a), dev(b)
    check(da @ db, a @ b, tol)
    check(np.matmul(da, db), a @ b, tol)
    check(np.dot(da, db), a @ b, tol)
    check(db.T @ da.T, b.T @ a.T, tol)  # transposes read through their strides
    check(da[::2, 1:] @ db[1:, ::2], a[::2, 1:] @ b[1:, ::2], tol)
    check(da[0] @ db, a[0] @ b, tol)  # 1-D on either side
    check(da @ db[:, 1], a @ b[:, 1], tol)
    check(da[1] @ db[:, 0], a[1] @ b[:, 0], tol)
    c = rng.normal(size=(2, 5, 7)).astype(dtype)
    e = rng.normal(size=(2, 7, 3)).astype(dtype)
    check(dev(c) @ db, c @ b, tol)  # a batch with a matrix
    check(dev(c) @ dev(e), c @ e, tol)
    check(dev(c[:1]) @ dev(e), c[:1] @ e, tol)  # a batch of one broadcast
    check(dev(c).transpose(0, 2, 1).transpose(0, 2, 1) @ dev(e[:, :, ::-1].copy()), c @ e[:, :, ::-1], tol)
    check(da @ dev(np.zeros((7, 0), dtype)), a @ np.zeros((7, 0), dtype), tol)
    with pytest.raises(ValueError):
        da @ da


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_dual_matmul(dtype):
    """ops.matmul(a, b, da, db): the product and every direction dA_j·B + A·dB_j in one launch."""
    rng = np.random.default_rng(6)
    k = 3
    a, b = rng.normal(size=(5, 7)).astype(dtype), rng.normal(size=(7, 3)).astype(dtype)
    pa, pb = rng.normal(size=(k, 5, 7)).astype(dtype), rng.normal(size=(k, 7, 3)).astype(dtype)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    z, pz = ops.matmul(dev(a), dev(b), dev(pa), dev(pb))
    check(z, a @ b, tol)
    check(pz, pa @ b + a @ pb, tol)
    z, pz = ops.matmul(dev(a), dev(b), dev(pa), None)
    check(pz, pa @ b, tol)
    z, pz = ops.matmul(dev(a), dev(b), None, dev(pb))
    check(pz, a @ pb, tol)
    if dtype == np.float32:
        return  # the layouts below read the same code paths in either dtype
    # transposed views of value and partials
    at, pat = a.T.copy(), pa.transpose(0, 2, 1).copy()
    z, pz = ops.matmul(dev(at).T, dev(b), dev(pat).transpose(0, 2, 1), dev(pb))
    check(pz, pa @ b + a @ pb, tol)
    # a vector times a matrix, and a batch
    z, pz = ops.matmul(dev(a[0]), dev(b), dev(pa[:, 0]), dev(pb))
    check(z, a[0] @ b, tol)
    check(pz, pa[:, 0] @ b + a[0] @ pb, tol)
    c, pc = rng.normal(size=(2, 5, 7)).astype(dtype), rng.normal(size=(k, 2, 5, 7)).astype(dtype)
    z, pz = ops.matmul(dev(c), dev(b), dev(pc), dev(pb))
    check(z, c @ b, tol)
    check(pz, pc @ b + c @ pb[:, None], tol)


def test_dual_matmul_through_dualarray():
    rng = np.random.default_rng(7)
    x, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    dx, hx = _pair(rng, x, 2, np.float64)
    with use("numpy"):
        check_dual(dx @ dev(W), hx @ W, np.float64)
        check_dual(dev(W.T) @ dx.T, W.T @ hx.T, np.float64)
        check_dual(dx.T @ dx, hx.T @ hx, np.float64)


# ---- views, copies, indexing -----------------------------------------------------------------------------------

def test_views_and_copies():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(4, 6))
    d = dev(x)
    tol = TOL[np.float64]
    for v in (lambda a: a.T, lambda a: a[::2], lambda a: a[1:, ::-2], lambda a: a[..., None, 2:4],
              lambda a: a[None, 1], lambda a: a[-1], lambda a: a.T[1:, :3]):
        dv, hv = v(d), v(x)
        check(dv, hv, tol)
        check(dv.copy(), hv.copy(), tol)
        check(dv.reshape(-1), hv.reshape(-1), tol)
        check(dv.astype(np.float32), hv.astype(np.float32), TOL[np.float32])
        check(dv.astype(np.float32).astype(np.float64), hv.astype(np.float32).astype(np.float64), tol)
        check(dv.ravel(), hv.ravel(), tol)
        check(dv.flatten(), hv.flatten(), tol)
    check(d.T.reshape(3, 8), x.T.reshape(3, 8), tol)
    check(np.swapaxes(d[None], 0, 2), np.swapaxes(x[None], 0, 2), tol)
    check(np.moveaxis(d[None], 0, -1), np.moveaxis(x[None], 0, -1), tol)
    check(np.expand_dims(d.T, 1), np.expand_dims(x.T, 1), tol)
    check(np.squeeze(d[:, :1]), np.squeeze(x[:, :1]), tol)
    check(np.broadcast_to(d[1], (3, 6)), np.broadcast_to(x[1], (3, 6)), tol)
    check(np.concatenate([d.T, d[:, :2].T]), np.concatenate([x.T, x[:, :2].T]), tol)
    check(np.concatenate([d[::2], d[1:2]], axis=0), np.concatenate([x[::2], x[1:2]], axis=0), tol)
    check(np.concatenate([d.T, d.T], axis=1), np.concatenate([x.T, x.T], axis=1), tol)
    check(np.stack([d[0], d[1]], axis=1), np.stack([x[0], x[1]], axis=1), tol)
    check(np.stack([d.T, d.T]), np.stack([x.T, x.T]), tol)
    check(np.where(d.T > 0, d.T, -1.0), np.where(x.T > 0, x.T, -1.0), tol)
    check(np.where(d[:, :1] > 0, 2.0, d[::2][:1]), np.where(x[:, :1] > 0, 2.0, x[::2][:1]), tol)
    check(np.clip(d.T, -0.5, 0.5), np.clip(x.T, -0.5, 0.5), tol)
    check(np.zeros_like(d.T), np.zeros_like(x.T), tol)
    check(np.ones_like(d, dtype=np.float32), np.ones_like(x, dtype=np.float32), tol)
    check(np.full_like(d[::2], 7.5), np.full_like(x[::2], 7.5), tol)
    check((d > 0).astype(np.float64), (x > 0).astype(np.float64), tol)
    check(d.astype(bool), x.astype(bool), {})


def test_gather_with_an_index_array():
    """One host index array (positions, negative ones, repeats, a mask) among basic indices: numpy's answer."""
    rng = np.random.default_rng(10)
    x = rng.normal(size=(4, 6))
    c = rng.normal(size=(3, 4, 5))
    d, dc3 = dev(x), dev(c)
    idx = np.array([3, 0, -1, 3])
    for f in (lambda a: a[idx], lambda a: a[:, idx], lambda a: a[1, idx], lambda a: a[idx, 1:],
              lambda a: a.T[idx], lambda a: a[:, ::2][:, [2, 0]], lambda a: a[np.array([], dtype=int)],
              lambda a: a[x[:, 0] > 0], lambda a: a[:, idx, None]):
        check(f(d), f(x), {})
    for f in (lambda a: a[..., [4, 1]], lambda a: a[1:, [3, 0, 0]], lambda a: a[:, 1, idx],
              lambda a: a[np.array([0, 2]), :, 1]):
        check(f(dc3), f(c), {})
    for dt in (np.float32, np.int64, np.bool_):  # every dtype a device array holds
        h = (x > 0) if dt == np.bool_ else x.astype(dt)
        check(dev(h)[:, idx], h[:, idx], {})
    with pytest.raises(IndexError):
        d[np.array([4])]
    with pytest.raises(TypeError):
        d[idx, idx]  # two index arrays: index in two steps


def test_gather_with_separated_integer_index():
    c = np.random.default_rng(13).normal(size=(3, 4, 5))
    d = dev(c)
    idx = np.array([3, 0, -1, 3])
    check(d[1, :, idx], c[1, :, idx], {})  # (4, 4) either way: only the values tell
    check(d[2, :, [1]], c[2, :, [1]], {})  # numpy: (1, 4)


def test_shuffled_dataloader_over_device_arrays():
    import nn
    x, y = np.arange(12.0).reshape(2, 6), np.arange(6.0)[None]
    host = [(bx, by) for bx, by in nn.DataLoader((x, y), batchsize=4, shuffle=True, seed=3)]
    devb = [(bx, by) for bx, by in nn.DataLoader((dev(x), dev(y)), batchsize=4, shuffle=True, seed=3)]
    assert len(host) == len(devb) == 2
    for (hx, hy), (gx, gy) in zip(host, devb):
        check(gx, hx, {})
        check(gy, hy, {})


def test_setitem_on_views():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, 6))
    d = dev(x)
    d[1] = 5.0
    x[1] = 5.0
    d[:, ::2] = dev(np.arange(4.0)[:, None])
    x[:, ::2] = np.arange(4.0)[:, None]
    d.T[1:3, 2:] = dev(np.ones((2, 2)) * -3)
    x.T[1:3, 2:] = -3
    d[..., -1] = d[..., 0]
    x[..., -1] = x[..., 0]
    d -= 1.0
    x -= 1.0
    d[2:, 1:3] *= 2.0
    x[2:, 1:3] *= 2.0
    check(d, x, {})
    d.fill(0.25)
    x.fill(0.25)
    check(d, x, {})
    with pytest.raises(TypeError, match="gpu"):
        d[0] = np.ones(6)  # a host array is not copied behind the caller's back


def test_out_argument():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    d = dev(x)
    out = dc.empty((2, 3))
    r = np.add(d, 1.0, out=out)
    assert r is out
    check(out, x + 1, {})
    np.multiply(d.T, 2.0, out=out.T)
    check(out, x * 2, {})


# ---- the memory pool ---------------------------------------------------------------------------------------------

def test_pool_reuses_freed_buffers():
    import gc
    gc.collect()
    n = 300  # 2400 bytes: the 4096-byte class
    a = dc.empty((n,))
    buf = a._buf.data
    cls = pool.size_class(n * 8)
    before = pool.held()
    del a
    gc.collect()
    assert pool.held() == before + cls  # kept, not given back to the device
    b = dc.empty((n - 20,))  # the same size class
    assert pool.held() == before
    assert b._buf.data is buf
    c = dc.empty((n * 4,))  # another class: a new buffer
    assert c._buf.data is not buf
    assert pool.size_class(1) == pool.size_class(256) == 256 and pool.size_class(257) == 512


# ---- the device array's boundary ---------------------------------------------------------------------------------

def test_no_silent_host_copies():
    x = np.arange(6.0).reshape(2, 3)
    d = dev(x)
    with pytest.raises(TypeError, match="nn.cpu"):
        np.asarray(d)
    with pytest.raises(TypeError, match="gpu"):
        d + x  # a host array meeting a device array
    with pytest.raises(TypeError, match="not supported on device arrays"):
        np.linalg.norm(d)
    with pytest.raises(TypeError, match="host array"):
        d[dev(np.array([0, 1]))]  # its values would have to come to the host to size the result
    assert float(d[1, 2]) == 5.0 and int(d[0, 1]) == 1 and bool(d[0, 1])
    assert "DeviceArray" in repr(d) and "5." in repr(d) and "5." in str(d)
    import nn
    np.testing.assert_array_equal(nn.cpu(d), x)
    np.testing.assert_array_equal(d.get(), x)


def test_strict_device_strips_the_simulator(strict_device):
    """The fixture itself: the simulator's conveniences raise outside kernels, kernels still run."""
    if strict_device is None:
        pytest.skip("a real GPU: its device arrays have no simulator conveniences to strip")
    d = dev(np.arange(4.0))
    raw = d.data
    with pytest.raises(TypeError):
        np.asarray(raw)
    with pytest.raises(TypeError):
        raw + 1.0
    with pytest.raises(TypeError):
        np.sin(raw)
    with pytest.raises(TypeError):
        raw[0]  # one element: a host copy
    with pytest.raises(AttributeError):
        raw.sum()
    with pytest.raises(TypeError, match="host array"):
        kernels.get("fill")[1, 1](4, np.zeros(4), 1.0)
    check(np.exp(d) + d, np.exp(np.arange(4.0)) + np.arange(4.0), TOL[np.float64])


# ---- PTX for a real GPU ------------------------------------------------------------------------------------------

#: kernels known not to compile for a real GPU: name -> why (each xfails on its own; empty when all compile)
PTX_KNOWN_FAILURES: dict = {}
#: float32 variants compiled besides every kernel's float64 one: the kernels a float32 model runs through nn
#: (layers, activations, losses, optimisers). DUALNUM_PTX_ALL=1 compiles every kernel in float32 too (slower).
PTX_FLOAT32 = {"add", "subtract", "multiply", "true_divide", "divide", "power", "negative", "square", "sqrt", "exp",
               "log", "log1p", "tanh", "sigmoid", "relu", "maximum", "minimum", "absolute", "logaddexp",
               "greater", "less", "greater_equal", "less_equal", "equal", "not_equal", "positive"}


def _ptx_signatures(name, all_float32):
    """The argument types each launch of kernel ``name`` passes (see kernels.py's templates and ops.py's calls):
    buffers are 1-D C arrays, offsets and flags int64 (Python ints), ``fast`` a bool, shapes and strides
    UniTuple(int64, D), scalar operands of the buffer's dtype."""
    from numba.cuda import types as T
    from dualnum.backends.cuda import kernels as K
    I, B, U = T.int64, T.boolean, T.UniTuple(T.int64, K.D)
    nt = {"float64": T.float64, "float32": T.float32, "bool": T.boolean, "int64": T.int64}

    def buf(dt):
        return nt[np.dtype(dt).name][::1]

    def sc(dt):
        return nt[np.dtype(dt).name]

    kind, _, stem = name.partition("_")
    # float32 besides float64 for the dual kernels nn's float32 models run (their chain rule mixes a float64
    # literal with float32 partials); a map kernel only passes one formula's result through
    floats = ("float64", "float32") if (all_float32 or (kind.startswith("dual") and stem in PTX_FLOAT32)) \
        else ("float64",)
    out = []
    if kind in ("map1", "map2", "map1c", "map2c"):
        uf = _ufunc(stem)
        nin = int(kind[3])
        for dt in floats + ("bool", "int64"):
            try:
                with np.errstate(all="ignore"):
                    r = np.asarray(uf(*[np.ones(1, dt)] * nin)).dtype
            except TypeError:
                continue
            if dt in ("bool", "int64") and r.name not in ("bool", dt):
                continue  # computed in the float result type: the input is cast first (ops._elementwise)
            if kind == "map1":
                out.append((I, B, buf(r), buf(dt), I, U, U))
            elif kind == "map2":
                out.append((I, B, buf(r), buf(dt), I, U, U, I, sc(dt), buf(dt), I, U, U, I, sc(dt)))
            elif kind == "map1c":
                out.append((I, buf(r), buf(dt), I))
            else:
                out.append((I, buf(r), buf(dt), I, I, sc(dt), buf(dt), I, I, sc(dt)))
        if stem == "positive":  # also the cast kernel of astype (ops._convert): any dtype into a number dtype
            for r in ("float64", "float32", "int64"):
                for dt in ("float64", "float32", "bool", "int64"):
                    out.append((I, buf(r), buf(dt), I) if kind == "map1c" else (I, B, buf(r), buf(dt), I, U, U))
    elif name.startswith("dual1_"):
        out = [(I, I, B, buf(dt), buf(dt), buf(dt), I, U, U, buf(dt), I, U, U, I) for dt in floats]
    elif name.startswith("dual2_"):
        for dt in floats:
            operand = (buf(dt), I, U, U, I, sc(dt), buf(dt), I, U, U, I, I)
            out.append((I, I, B, buf(dt), buf(dt)) + operand + operand)
    elif name.startswith("reduce_"):
        out = [(I, I, I, buf("float64"), buf(dt), I, U, U) for dt in ("float64", "float32", "bool", "int64")]
    elif kind in ("matmul", "matmulsmall"):
        dt = stem
        ints = lambda n: (I,) * n  # noqa: E731
        out = [ints(4) + (buf(dt),) + (buf(dt),) + ints(4) + (buf(dt),) + ints(6)
               + (buf(dt),) + ints(4) + (buf(dt),) + ints(6)]
    elif name == "copy":
        out = [(I, buf(dt), I, U, U, buf(dt), I, U, U) for dt in ("float64", "float32", "bool", "int64")]
    elif name == "where":
        out = [(I, buf(dt), buf("bool"), I, U, U, buf(dt), I, U, U, I, sc(dt), buf(dt), I, U, U, I, sc(dt))
               for dt in ("float64", "float32", "bool")]
    elif name == "fill":
        out = [(I, buf(dt), sc(dt)) for dt in ("float64", "float32", "bool", "int64")]
    elif name == "gather":
        out = [(I, buf(dt), buf(dt), I, U, U, buf("int64"), I) for dt in ("float64", "float32", "bool", "int64")]
    elif name == "scatter_add":
        out = [(I, buf(dt), I, U, U, buf(dt), I, U, buf("int64"), buf("int64"), I) for dt in ("float64", "float32")]
    return list(dict.fromkeys(out))


#: fused trees (cuda/fusion.py) are generated per expression: one small tree (two inputs, a constant, the B1 mix of
#: rules) in each kind -- its nodes' formulas are the rules' own, compiled above in every dual kernel
FUSED_KEY = "add(multiply(sin(L0),exp(negative(L0))),true_divide(multiply(L0,L0),add(C,multiply(L1,L1))))"
FUSED_PTX = {"fused_map_float64": ("map", 0, "float64"), "fused_map_float32": ("map", 0, "float32"),
             "fused_sum1_float64": ("sum", 1, "float64"), "fused_sum3_float32": ("sum", 3, "float32")}


def _ptx_fused(name):
    """(python function, signature) of a fused kernel for FUSED_KEY: fused(n, k, z, pz, leaves..., consts...)
    or, summing, fused(n, out, leaves..., consts...); a leaf is (value, offset, partials, offset)."""
    from numba.cuda import types as T
    from dualnum.backends.cuda import fusion, kernels as K
    kind, k, dt = FUSED_PTX[name]
    ns = dict(K._ns())
    exec(compile(fusion.source(FUSED_KEY, kind, k), f"<fused {name}>", "exec"), ns)
    b, s = getattr(T, dt)[::1], getattr(T, dt)
    leaves = (b, T.int64, b, T.int64) * 2
    head = (T.int64, T.int64, b, b) if kind == "map" else (T.int64, T.float64[::1])
    return ns["fused"].py_func, head + leaves + (s,) * FUSED_KEY.count("C")


def _ptx_probe(a):
    a[0] = math.sin(a[0])


def _ptx_main(part=0, parts=1):
    """In a child process with the simulator off: compile every kernel (every parts-th one from part) to sm_90 PTX,
    print a JSON report."""
    assert os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "1"
    report = {}
    try:
        from numba import cuda
        from dualnum.backends.cuda import kernels as K
        cuda.compile_ptx(_ptx_probe, "void(float64[::1])", cc=(9, 0))  # a math call needs NVVM and NVRTC
    except Exception as e:  # no toolkit: nothing can be compiled in this environment
        print(json.dumps({"__skip__": f"{type(e).__name__}: {e}"}))
        return
    all32 = os.environ.get("DUALNUM_PTX_ALL", "0") == "1"
    for name in K.kernel_names()[part::parts]:
        try:
            f = K.python_function(name)
            sigs = _ptx_signatures(name, all32)
            if not sigs:
                report[name] = "no signature for this kernel in the test: add its argument types"
                continue
            for sig in sigs:
                ptx, _ = cuda.compile_ptx(f, sig, cc=(9, 0))
                if ".entry" not in ptx:
                    raise AssertionError("no kernel entry in the PTX")
            report[name] = "ok"
        except Exception as e:
            report[name] = f"{type(e).__name__}: {str(e)[:2000]}"
    for name in list(FUSED_PTX)[part::parts]:
        try:
            f, sig = _ptx_fused(name)
            ptx, _ = cuda.compile_ptx(f, sig, cc=(9, 0))
            report[name] = "ok" if ".entry" in ptx else "no kernel entry in the PTX"
        except Exception as e:
            report[name] = f"{type(e).__name__}: {str(e)[:2000]}"
    print(json.dumps(report))


def _ptx_key():
    """A digest of everything the PTX depends on: the generating modules, the table, the signatures here, numba's
    version. Same digest, same PTX: a rerun reads the last report from pytest's cache instead of compiling."""
    import hashlib
    import importlib.metadata
    import dualnum.backends.cuda as pkg
    from dualnum.backends import elementwise
    h = hashlib.sha256()
    files = sorted(os.path.join(os.path.dirname(pkg.__file__), f) for f in os.listdir(os.path.dirname(pkg.__file__))
                   if f.endswith(".py"))
    for path in files + [elementwise.__file__, rules.__file__, os.path.abspath(__file__)]:
        with open(path, "rb") as fh:
            h.update(fh.read())
    for dist in ("numba", "numba-cuda"):
        try:
            h.update(importlib.metadata.version(dist).encode())
        except importlib.metadata.PackageNotFoundError:
            pass
    h.update(os.environ.get("DUALNUM_PTX_ALL", "0").encode())
    return h.hexdigest()


_PTX: dict = {}  # the child process compiling every kernel, or its report (one per test run)


def start_ptx(config):
    """Start compiling (once): tests/conftest.py calls this right after collection, so the child works while
    every other test runs; the PTX tests, moved to the end of the run, read its report."""
    if _PTX:
        return
    key = _ptx_key()
    cache = getattr(config, "cache", None)  # (None with -p no:cacheprovider: compile every time)
    cached = cache.get("dualnum/ptx", None) if cache is not None else None
    if cached and cached.get("key") == key:
        _PTX["report"] = cached["report"]
        return
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))  # installed or not
    # one child per spare core (one on a 2-core machine, which also runs the simulated tests)
    parts = int(os.environ.get("DUALNUM_PTX_JOBS", 0)) or max(1, min(4, (os.cpu_count() or 1) - 1))
    import tempfile
    errs = [tempfile.TemporaryFile() for _ in range(parts)]  # a child's warnings never fill a pipe nobody reads
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--ptx", f"{i}/{parts}"], env=env,
                              cwd=root,
                              stdout=subprocess.PIPE, stderr=errs[i], text=True) for i in range(parts)]
    _PTX.update(procs=procs, errs=errs, key=key)
    import atexit
    atexit.register(lambda: [p.kill() for p in procs if p.poll() is None])


@pytest.fixture
def ptx_report(request):
    """The report of the child process (see start_ptx), kept in pytest's cache under a digest of the sources."""
    start_ptx(request.config)

    def result():
        if "report" not in _PTX:
            report = {}
            for proc, errfile in zip(_PTX["procs"], _PTX["errs"]):
                out, _ = proc.communicate(timeout=900)
                lines = [ln for ln in out.splitlines() if ln.startswith("{")]
                if proc.returncode != 0 or not lines:
                    errfile.seek(0)
                    err = errfile.read().decode(errors="replace")
                    pytest.fail(f"the PTX child process failed (rc {proc.returncode}):\n{err[-3000:]}")
                part = json.loads(lines[-1])
                if "__skip__" in part:
                    report = part
                    break
                report.update(part)
            _PTX["report"] = report
            for errfile in _PTX["errs"]:
                errfile.close()
            if "__skip__" not in report:
                if getattr(request.config, "cache", None) is not None:
                    request.config.cache.set("dualnum/ptx", {"key": _PTX["key"], "report": report})
        return _PTX["report"]
    return result


def _ptx_params():
    if not AVAILABLE:
        return []
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=PTX_KNOWN_FAILURES[n]))
            if n in PTX_KNOWN_FAILURES else n for n in kernels.kernel_names() + list(FUSED_PTX)]


def test_ptx_signatures_match_the_launches(monkeypatch):
    """The argument types the PTX check compiles are the ones ops.py really launches with: record every launch
    of a workload touching each kernel family (under the simulator) and find each in _ptx_signatures."""
    if not dc.simulating():
        pytest.skip("records launches through the simulator's kernel object")
    from numba.cuda.simulator import kernel as simkernel
    from numba.cuda.typing.typeof import typeof
    seen = {}
    call = simkernel.FakeCUDAKernel.__call__

    def record(self, *args):
        if not (self._device or simkernel._kernel_context is not None):
            seen.setdefault(self.fn.__name__, set()).add(tuple(typeof(a) for a in args))
        return call(self, *args)
    monkeypatch.setattr(simkernel.FakeCUDAKernel, "__call__", record)
    rng = np.random.default_rng(14)
    for dtype in (np.float64, np.float32):
        x = rng.uniform(0.5, 2.0, size=(3, 4)).astype(dtype)
        d = dev(x)
        (np.sin(d), np.sin(d.T), d + 1.0, 2.0 * d.T, d > 1.0, (d.T > 1.0) & (d.T < 1.5), ~(d > 1.0))
        (np.sum(d, axis=0), np.max(d.T), np.sum(d > 1.0), d.astype(np.float64 if dtype == np.float32 else np.float32))
        (d @ d.T, dev(rng.normal(size=(40, 40)).astype(dtype)) @ dev(rng.normal(size=(40, 40)).astype(dtype)))
        (np.where(d > 1.0, d, 0.0), np.zeros_like(d), d[:, np.array([2, 0])], d.T.copy(), (d > 1).astype(dtype))
        for k in (1, 3):
            dx, _ = _pair(rng, x, k, dtype)
            with unfused():
                (np.tanh(dx), np.tanh(dx.T), dx * dx, dx * 2.0, 3.0 / dx, dx * d, dx @ d.T)
            (np.sum(np.sin(dx) * dx + 1.0), (np.exp(-dx) * dx).value)
    i, m = dev(np.arange(6)), dev(np.arange(6) > 2)
    (i + 1, i * 0.5, np.sum(i), np.max(i), i.astype(np.float32), np.where(m, m, False), m.copy(), m[np.array([1])])
    checked = 0
    for name, sigs in seen.items():
        if name == "fused":
            continue  # generated per expression: FUSED_PTX compiles one of each kind
        want = set(_ptx_signatures(name, True))
        for sig in sigs:
            assert sig in want, f"{name} launched with {sig}, which the PTX check never compiles"
            checked += 1
    assert checked > 40 and {"matmul_float64", "matmulsmall_float32", "gather", "copy", "where", "fill"} & set(seen)


@pytest.mark.parametrize("name", _ptx_params())
def test_ptx(name, ptx_report):
    """Kernel ``name`` compiles for a real GPU (sm_90): numba's CUDA target lowers every call in it."""
    report = ptx_report()
    if "__skip__" in report:
        pytest.skip("no CUDA toolkit (NVVM/NVRTC) for compiling PTX: pip install 'numba-cuda[cu13]' "
                    f"({report['__skip__'][:300]})")
    assert report.get(name) == "ok", report.get(name, "not compiled")


def test_ptx_covers_every_kernel(ptx_report):
    report = ptx_report()
    if "__skip__" in report:
        pytest.skip("no CUDA toolkit for compiling PTX")
    assert sorted(k for k in report) == sorted(kernels.kernel_names() + list(FUSED_PTX))


if __name__ == "__main__" and sys.argv[1:2] == ["--ptx"]:
    _ptx_main(*(map(int, sys.argv[2].split("/")) if len(sys.argv) > 2 else ()))


def test_add_at_on_device_adds_repeated_positions_in_a_fixed_order():
    """np.add.at (the adjoint of a gather) on device arrays: repeats add up, and the same inputs give the same
    bits twice (a fixed order of additions, no atomics)."""
    rng = np.random.default_rng(5)
    idx = np.array([1, 3, 1, 0, 3, 3])
    for shape, index, gshape in [((3, 5), (slice(None), idx), (3, 6)), ((5, 3), idx, (6, 3)),
                                 ((2, 5, 2), (slice(None), idx), (2, 6, 2))]:
        z0, g = rng.normal(size=shape), rng.normal(size=gshape)
        want = z0.copy()
        np.add.at(want, index, g)
        runs = []
        for _ in range(2):
            d = dev(z0)
            np.add.at(d, index, dev(g))
            runs.append(d.get())
        np.testing.assert_allclose(runs[0], want, rtol=1e-14, atol=1e-15)
        assert np.array_equal(runs[0], runs[1])
    with pytest.raises(TypeError, match="np.add.at"):
        np.add.at(dev(np.zeros((3, 3))), (np.array([0]), np.array([1])), 1.0)
