"""Fusion (dualnum/backends/fusion.py): a pending chain of elementwise operations, computed by one compiled loop.

The reference is the unfused path (fusion off), itself checked against finite differences in test_rules; here
every fusable rule runs inside fused trees and must give the same values and partials to rounding, and
pending arrays must be indistinguishable from computed ones.
"""
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum.backends import current, fusion, kernels, use
from dualnum import rules
from dualnum.forward.dualarray import DualArray

pytestmark = pytest.mark.skipif(current() != "numba" or kernels.module() is None, reason="numba unavailable")

N, K = 37, 3


@pytest.fixture
def hot(monkeypatch):
    """Compile every tree the first time it is computed (the default waits for the 16th computation and for half a
    second spent computing it operation by operation)."""
    monkeypatch.setattr(fusion, "HOT", 1)
    monkeypatch.setattr(fusion, "PAYBACK", 0.0)


def unfused(fn):
    with use("kernels"):  # every operation on its own (the per-rule kernels on big arrays)
        return fn()


def sample(lo, hi, rng):
    return DualArray(rng.uniform(lo, hi, N), rng.standard_normal((K, N)))


def same(a, b):
    np.testing.assert_allclose(a.value, b.value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.partials, b.partials, rtol=1e-11, atol=1e-11)


def groups(size=4):
    names = sorted(fusion.FUSABLE)
    return [names[i:i + size] for i in range(0, len(names), size)]


@pytest.mark.parametrize("names", groups(), ids=lambda g: "+".join(g))
def test_every_rule_fuses_to_the_unfused_result(hot, names):
    rng = np.random.default_rng(len(names[0]))
    args = []
    for name in names:
        r = rules.RULES[name]
        lo, hi = r.domain
        if r.arity == 1:
            args.append((r, (sample(lo, hi, rng),)))
        else:
            lo2, hi2 = r.domain2 or r.domain
            args.append((r, (sample(lo, hi, rng), sample(lo2, hi2, rng))))

    def expr():  # 1.5 * r1(x1) + r2(x2, y2) * 0.5 - ... : every rule, and constants on both sides
        from dualnum.forward.dualarray import apply_rule
        total = None
        for i, (r, a) in enumerate(args):
            term = apply_rule(r, a)
            term = 1.5 * term if i % 2 else term * 0.5
            total = term if total is None else (total - term if i % 3 == 0 else total + term)
        return total

    with np.errstate(all="ignore"):
        fused_tree = expr()
        assert fused_tree._lazy is not None and fused_tree._lazy.nops > len(names)
        key = fused_tree._lazy.key
        fused_sum = np.sum(expr())
        _ = fused_tree.value  # reading it computes it
        fused_map = fused_tree
        ref = unfused(expr)
        ref_sum = unfused(lambda: np.sum(expr()))
    assert fusion._compiled.get(key) is not None and fusion._compiled.get(("sum", key)) is not None
    same(fused_map, ref)
    np.testing.assert_allclose(fused_sum.value, ref_sum.value, rtol=1e-12)
    np.testing.assert_allclose(fused_sum.partials, ref_sum.partials, rtol=1e-11, atol=1e-11)


def test_keys_spell_their_trees():
    x = DualArray(np.ones(3), np.ones((1, 3)))
    y = np.sin(x) * 2.0 + np.arctan2(x, 1.0 - x)
    assert y._lazy.key == "add(multiply(sin(L),C),arctan2(L,subtract(C,L)))"
    assert fusion.parse(y._lazy.key) == ("add", ("multiply", ("sin", "L"), "C"),
                                         ("arctan2", "L", ("subtract", "C", "L")))


def b1(x):
    return np.sum(np.sin(x) * np.exp(-x) + x**2 / (1 + x**2))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("f", [b1, rosenbrock])
def test_fused_gradients_match_finite_differences(hot, f):
    from dualnum.testing import check_grad
    x = np.linspace(-1.2, 1.4, 23)
    res = check_grad(f, x, rtol=1e-6)
    assert res.ok, str(res)
    g = dn.gradient(f, x)[0]
    np.testing.assert_allclose(g, unfused(lambda: dn.gradient(f, x)[0]), rtol=1e-12, atol=1e-12)


def test_rosenbrock_gradient_closed_form(hot):
    x = np.linspace(-1.0, 1.5, 10)
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    for _ in range(3):  # compiled on the first pass, reused after
        np.testing.assert_allclose(dn.gradient(rosenbrock, x)[0], g, rtol=1e-12)


def test_a_tree_compiles_on_its_HOTth_computation(monkeypatch):
    monkeypatch.setattr(fusion, "HOT", 3)
    monkeypatch.setattr(fusion, "PAYBACK", 0.0)
    x = DualArray(np.linspace(0, 1, 5), np.ones((2, 5)))
    compiled = []
    for _ in range(4):
        y = np.cos(x) * x + 0.25 * x  # a tree only this test builds
        key = y._lazy.key
        _ = y.value
        compiled.append(fusion._compiled.get(key) is not None)
    assert compiled == [False, False, True, True]
    np.testing.assert_allclose(y.partials, np.broadcast_to(-np.sin(x.value) * x.value + np.cos(x.value) + 0.25,
                                                           (2, 5)), rtol=1e-14)


def test_a_tree_compiles_only_once_computing_it_op_by_op_has_cost_the_payback(monkeypatch):
    """Rent or buy: a class-sized tree computed again and again is never compiled until the time spent on it
    operation by operation reaches PAYBACK, so a compile never costs more than the tree already did."""
    monkeypatch.setattr(fusion, "HOT", 1)
    monkeypatch.setattr(fusion, "PAYBACK", 0.05)
    monkeypatch.setattr(fusion, "_on_disk", lambda key, kind: False)  # (an earlier run compiled it to the cache)
    x = DualArray(np.linspace(0, 1, 7), np.ones((1, 7)))
    compiled, spent = [], []
    while not compiled or not compiled[-1]:
        y = np.sin(x) * x + 0.75 * x  # a tree only this test builds
        key = y._lazy.key
        _ = y.value
        compiled.append(fusion._compiled.get(key) is not None)
        spent.append(fusion._spent.get(key, 0.0))
        assert len(compiled) < 100_000
    assert not compiled[0] and spent[-2] >= 0.05 > spent[-3]  # compiled on the first pass past the payback
    np.testing.assert_allclose(y.partials[0], np.cos(x.value) * x.value + np.sin(x.value) + 0.75, rtol=1e-14)


def test_a_tree_whose_loop_is_on_disk_is_loaded_at_once(monkeypatch):
    """Loading a loop numba cached on disk costs milliseconds: no payback to wait for."""
    monkeypatch.setattr(fusion, "HOT", 1)
    monkeypatch.setattr(fusion, "PAYBACK", 1e9)
    x = DualArray(np.linspace(0, 1, 7), np.ones((1, 7)))
    y = np.cos(x) * x - 0.5 * x  # a tree only this test builds
    key = y._lazy.key
    monkeypatch.setattr(fusion, "_on_disk", lambda k, kind: k == key)
    _ = y.value
    assert fusion._compiled.get(key) is not None
    np.testing.assert_allclose(y.partials[0], -np.sin(x.value) * x.value + np.cos(x.value) - 0.5, rtol=1e-14)


def test_pending_arrays_look_computed(hot):
    x = DualArray(np.arange(6.0).reshape(2, 3), np.ones((4, 2, 3)))
    y = x * x + 1.0
    assert y._lazy is not None
    assert y.shape == (2, 3) and y.ndim == 2 and y.size == 6 and y.npartials == 4 and y.dtype == np.float64
    assert y._lazy is not None  # the attributes above did not compute it
    np.testing.assert_array_equal(y.value, x.value ** 2 + 1)
    np.testing.assert_array_equal(y.partials, np.broadcast_to(2 * x.value, (4, 2, 3)))
    assert y._lazy is None and "DualArray(" in repr(y)


def test_writing_into_an_input_does_not_change_a_pending_result(hot):
    x = DualArray(np.arange(5.0), np.ones((1, 5)))
    y = x * 2.0 + 1.0
    view = x[1:]
    z = view * view - 3.0
    x[1] = 100.0  # writes through to view too
    np.testing.assert_array_equal(y.value, [1, 3, 5, 7, 9])
    np.testing.assert_array_equal(z.value, [-2, 1, 6, 13])
    np.testing.assert_array_equal(z.partials, [[2, 4, 6, 8]])


def test_long_chains_are_computed_in_pieces(hot):
    x = DualArray(np.linspace(0, 1, 8), np.ones((1, 8)))
    y = x
    for _ in range(200):
        y = y * 1.01 + 0.001
        assert y._lazy.size <= fusion.MAX_NODES
    a = 1.01 ** 200
    np.testing.assert_allclose(y.value, a * x.value + 0.001 * (a - 1) / 0.01, rtol=1e-12)
    np.testing.assert_allclose(y.partials, np.full((1, 8), a), rtol=1e-12)


def test_what_does_not_fuse_is_computed_at_once(hot):
    x = DualArray(np.linspace(0.1, 1, 4), np.ones((1, 4)))
    col = DualArray(np.ones((4, 1)), np.ones((1, 4, 1)))
    assert (x * col)._lazy is None  # broadcasting
    assert (x * np.arange(4.0))._lazy is None  # an array of constants
    assert (DualArray._new(np.ones(4, np.float32), np.ones((1, 4), np.float32), 0) * 2.0)._lazy is None
    big = DualArray(np.linspace(0.1, 1, kernels.MIN_SIZE), np.ones((1, kernels.MIN_SIZE)))
    assert np.tanh(big)._lazy is None and np.tanh(x)._lazy is not None  # numpy's SIMD tanh wins when big
    assert np.sin(big)._lazy is not None
    H = dn.hessian(lambda v: np.sum(np.sin(v) * v), np.array([0.3, 0.7]))  # nested duals
    np.testing.assert_allclose(H, np.diag(2 * np.cos([0.3, 0.7]) - np.sin([0.3, 0.7]) * [0.3, 0.7]), rtol=1e-12)


def test_a_kernel_that_fails_leaves_the_unfused_path(hot, monkeypatch):
    def broken(*a):
        raise RuntimeError("no compiler today")
    monkeypatch.setattr(fusion, "_compile", lambda tree, kind: broken)
    x = DualArray(np.linspace(0, 1, 3), np.ones((1, 3)))
    y = np.tanh(x) * x - x  # a tree no other test builds
    key = y._lazy.key
    np.testing.assert_allclose(y.partials[0], (1 - np.tanh(x.value) ** 2) * x.value + np.tanh(x.value) - 1)
    assert key in fusion._compiled and fusion._compiled[key] is None


def test_fusion_can_be_switched_off(hot):
    x = DualArray(np.linspace(0, 1, 3), np.ones((1, 3)))
    assert unfused(lambda: x * x + 1.0)._lazy is None
    with use("numpy"):
        assert (x * x + 1.0)._lazy is None  # the numpy-only path stays numpy only


def test_scalars_constants_pickles_and_copies(hot):
    import copy
    import pickle
    x = DualArray(np.array(0.5), np.array([1.0, 2.0]))  # 0-d, k = 2
    y = np.sin(x) * x + np.float64(1.5) * x - 2
    assert y._lazy is not None and y.shape == ()
    z = pickle.loads(pickle.dumps(np.cos(x) * x + 1))
    w = copy.deepcopy(np.cos(x) * x + 1)
    np.testing.assert_allclose(y.value, np.sin(0.5) * 0.5 + 1.5 * 0.5 - 2, rtol=1e-15)
    np.testing.assert_allclose(y.partials, (np.cos(0.5) * 0.5 + np.sin(0.5) + 1.5) * np.array([1.0, 2.0]), rtol=1e-14)
    for v in (z, w):
        assert v._lazy is None
        np.testing.assert_allclose(v.partials, (-np.sin(0.5) * 0.5 + np.cos(0.5)) * np.array([1.0, 2.0]), rtol=1e-14)


def test_a_pending_array_meets_every_other_path(hot):
    x = DualArray(np.linspace(0.2, 1.0, 4), np.eye(4))
    y = x * x - 0.5  # pending
    checks = [
        (np.sum(y, axis=0).partials, 2 * x.value),  # a reduction with an axis
        ((y @ np.ones(4)).partials, 2 * x.value),  # matmul
        (y[1:3].partials, np.eye(4)[:, 1:3] * 2 * x.value[1:3]),  # indexing
        (np.maximum(y, 0.0).partials, np.eye(4) * 2 * x.value * (x.value ** 2 > 0.5)),  # a kink: slope 1 if y > 0
        ((y * np.arange(4.0)).partials, np.eye(4) * 2 * x.value * np.arange(4.0)),  # an array constant
    ]
    for got, want in checks:
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


UNARY = [np.sin, np.cos, np.tanh, lambda a: np.exp(0.3 * a), lambda a: a * a, lambda a: -a, lambda a: 2.0 - a,
         np.arctan, lambda a: np.sqrt(1.0 + a * a)]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (1.0 + b * b),
          np.maximum, np.hypot, np.arctan2, lambda a, b: 0.5 * a + b * 1.5]


def random_expression(rng, depth):
    """f(x, y) built from random elementwise operations: a tree of depth ≤ depth over x, y and numbers."""
    if depth == 0 or rng.random() < 0.2:
        leaf = rng.integers(3)
        c = float(rng.uniform(-1, 1))
        return (lambda x, y: x) if leaf == 0 else (lambda x, y: y) if leaf == 1 else (lambda x, y: x * c)
    if rng.random() < 0.4:
        op, a = UNARY[rng.integers(len(UNARY))], random_expression(rng, depth - 1)
        return lambda x, y: op(a(x, y))
    op = BINARY[rng.integers(len(BINARY))]
    a, b = random_expression(rng, depth - 1), random_expression(rng, depth - 1)
    return lambda x, y: op(a(x, y), b(x, y))


@pytest.mark.parametrize("seed", range(6))
def test_random_trees_fuse_to_the_unfused_result(hot, seed):
    rng = np.random.default_rng(seed)
    shape = [(5,), (2, 3)][seed % 2]
    x = DualArray(rng.uniform(-1.5, 1.5, shape), rng.standard_normal((3,) + shape))
    y = DualArray(rng.uniform(-1.5, 1.5, shape), rng.standard_normal((3,) + shape))
    for _ in range(50):  # draw until the tree has a few operations to fuse
        f = random_expression(rng, 4)
        pending = f(x, y)._lazy
        if pending is not None and pending.nops >= 4:
            break
    else:
        raise AssertionError("no random tree with four operations in 50 draws")
    ref, ref_sum = unfused(lambda: f(x, y)), unfused(lambda: np.sum(f(x, y)))
    for _ in range(2):  # compiled on the first, reused on the second
        got, got_sum = f(x, y), np.sum(f(x, y))
        same(got, ref)
        same(got_sum, ref_sum)


def test_many_live_pending_arrays_are_all_computed_before_a_write(hot):
    x = DualArray(np.linspace(0, 1, 3), np.ones((1, 3)))
    kept = [x * float(i) for i in range(20_000)]  # all alive and pending, past several clean-ups of the registry
    np.testing.assert_allclose(kept[-1].partials, [[19_999.0] * 3])
    x[0] = 5.0  # computes all 20 000 first
    assert all(k._lazy is None for k in kept) and kept[7].value[0] == 0.0


def test_DUALNUM_FUSE_0_switches_fusion_off_in_a_fresh_process():
    import os
    import subprocess
    import sys
    code = ("import numpy as np; from dualnum.backends import current; from dualnum import DualArray; "
            "x = DualArray(np.ones(3), np.ones((1, 3))); print(current(), (x * x + 1.0)._lazy is None)")
    for env, want in (({"DUALNUM_FUSE": "0"}, "kernels True"), ({"DUALNUM_NUMBA": "0"}, "numpy True"),
                      ({}, "numba False")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "DUALNUM_FUSE": "1", "DUALNUM_NUMBA": "1", **env})
        assert out.stdout.split() == want.split()


@pytest.mark.parametrize("shape", [(fusion.BLOCKED_FROM + 555,), (3, 1000)])
def test_many_elements_and_directions_take_the_blocked_loop(hot, shape):
    rng = np.random.default_rng(7)
    x = DualArray(rng.uniform(-2, 2, shape), rng.standard_normal((4,) + shape))
    y = DualArray(rng.uniform(-2, 2, shape), rng.standard_normal((4,) + shape))

    def f(a, b):  # callable partials, a kink and constants: every kind of term the loop stages
        return np.maximum(np.sin(a) * b, 0.25 * a) / (1.0 + b * b) - 3.0 * a

    assert math.prod(shape) > fusion.BLOCKED_FROM
    same(f(x, y), unfused(lambda: f(x, y)))
    same(np.sum(f(x, y)), unfused(lambda: np.sum(f(x, y))))


def test_loop_source_shows_the_rules_and_compiles_to_the_same_numbers():
    x = DualArray(np.linspace(0.1, 1.0, 4), np.ones((2, 4)))
    y = np.sin(x) * x
    src = fusion.loop_source(y)
    assert "_f_sin = _c(_R['sin'].f, 1)" in src and "def kernel(k, a0, p0, a1, p1):" in src
    namespace = {}
    exec(compile(src.replace("cache=True", "cache=False"), "<loop>", "exec"), namespace)  # no file to cache to
    out = namespace["kernel"].py_func(2, x.value, x.partials, x.value, x.partials)  # run as plain Python
    np.testing.assert_allclose(out[0], np.sin(x.value) * x.value, rtol=1e-15)
    np.testing.assert_allclose(out[1:], np.broadcast_to(np.cos(x.value) * x.value + np.sin(x.value), (2, 4)),
                               rtol=1e-14)
    assert "sv += " in fusion.loop_source(y, kind="sum")
    from dualnum.backends.kernels import compile_formula
    one = {"np": np, "_c": compile_formula, "_R": rules.RULES}
    exec(compile(fusion.loop_source(y, one_direction=True), "<loop>", "exec"), one)  # the tutorial's version
    out = one["kernel"](1, x.value, x.partials[:1], x.value, x.partials[:1])
    np.testing.assert_allclose(out[1], np.cos(x.value) * x.value + np.sin(x.value), rtol=1e-14)
    _ = y.value  # computed now: there is no loop left to show
    with pytest.raises(ValueError, match="pending"):
        fusion.loop_source(y)


def test_a_rules_kernel_is_compiled_only_once_numpy_has_paid_for_it(monkeypatch):
    """Rent or buy, for the per-rule kernels too: numpy computes a rule's big arrays, and the time counts, until
    PAYBACK seconds are spent (or numba's disk cache holds the kernel); then the kernel takes over, same numbers."""
    monkeypatch.setattr(kernels, "PAYBACK", 0.02)
    monkeypatch.setattr(kernels, "_bought", set())
    monkeypatch.setattr(kernels, "_spent", {})
    monkeypatch.setattr(kernels, "cached_on_disk", lambda *args: False)
    monkeypatch.setattr(kernels, "_disk", {})
    n = kernels.MIN_SIZE
    x = DualArray(np.linspace(0.1, 1.0, n), np.ones((1, n)))
    calls = []
    real = kernels._call
    monkeypatch.setattr(kernels, "_call", lambda *a: calls.append(a[1]) or real(*a))
    rounds = 0
    with use("kernels"):
        while "unary_sin" not in calls:
            before = kernels._spent.get("unary_sin", 0.0)
            y = np.sin(x)
            np.testing.assert_allclose(y.partials[0], np.cos(x.value), rtol=1e-14)
            if "unary_sin" not in calls:
                assert kernels._spent["unary_sin"] > before  # numpy's time was counted
            rounds += 1
            assert rounds < 100_000
    assert rounds > 1 and kernels._spent["unary_sin"] >= 0.02
