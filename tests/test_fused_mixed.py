"""Fused and unfused paths agree on every input the unfused path accepts: mixed k, shapes and constants.

Random expression trees are built over DualArrays with different numbers of partials (k = 0 constants,
``DualArray(c)``, beside k = 1 or 3 directions), broadcasting shapes (which must leave the fused path),
Python numbers and numpy constant arrays. Each tree is computed twice: with fusion off (the reference), and
with every tree fused on its first computation. Both must give the same values and partials to rounding, or
raise the same error. The loops run as their Python source (``py_func``): no numba compile per tree, and an
index out of bounds raises instead of reading another array's memory.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dualnum.backends import current, fusion, kernels, use
from dualnum.forward.dualarray import DualArray

pytestmark = pytest.mark.skipif(current() != "numba" or kernels.module() is None, reason="numba unavailable")

UNARY = ["sin", "cos", "square", "negative", "absolute", "tanh"]
BINARY = ["add", "subtract", "multiply", "true_divide", "maximum"]
UFUNCS = {"sin": np.sin, "cos": np.cos, "square": np.square, "negative": np.negative, "absolute": np.absolute,
          "tanh": np.tanh, "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "true_divide": np.true_divide, "maximum": np.maximum}
OPERATORS = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
             "true_divide": lambda a, b: a / b}


def trees():
    """A binary root over a unary node and another subtree: at least two operations, so a loop is fused."""
    leaf = st.sampled_from(["x", "x", "c0", "y", "cy", "f", "i", "a", "ab"])
    sub = st.recursive(
        leaf, lambda t: st.one_of(st.tuples(st.sampled_from(UNARY), t),
                                  st.tuples(st.sampled_from(BINARY), t, t, st.booleans())), max_leaves=4)
    return st.tuples(st.sampled_from(BINARY), st.tuples(st.sampled_from(UNARY), sub), sub, st.booleans())


def evaluate(tree, env):
    if isinstance(tree, str):
        return env[tree]
    if len(tree) == 2:
        return UFUNCS[tree[0]](evaluate(tree[1], env))
    name, a, b, operator = tree
    a, b = evaluate(a, env), evaluate(b, env)
    if operator and name in OPERATORS:  # DualArray.__add__ and friends: their own route into fusion
        return OPERATORS[name](a, b)
    return UFUNCS[name](a, b)


def outcome(fn):
    """(value, partials) of fn(), with np.sum of it; or the type of the exception it raised."""
    try:
        r = fn()
        if not isinstance(r, DualArray):
            return np.asarray(r, dtype=float), None, None
        s = np.sum(fn())  # a second, fresh tree: the fused sum accumulates without storing
        return (r.value, r.partials, (s.value, s.partials))
    except (ValueError, TypeError) as e:
        return type(e)


def assert_same(got, want):
    if isinstance(want, type) or isinstance(got, type):
        assert got == want
        return
    for g, w in zip(got[:2], want[:2]):
        assert (g is None) == (w is None)
        if w is not None:
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    if want[2] is not None:
        for g, w in zip(got[2], want[2]):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-11)


class PythonLoops:
    """Every tree fused the first time it is computed, its loop run as Python; the knobs restored after."""

    def __enter__(self):
        self.saved = fusion.HOT, fusion._compile, dict(fusion._compiled), dict(fusion._seen), fusion.PAYBACK
        self.raised = []
        compile_numba = self.saved[1]

        def compile_python(tree, kind):
            kern = compile_numba(tree, kind)
            if kern is None:
                return None

            def run(*args):
                try:
                    return kern.py_func(*args)
                except Exception as e:  # fusion would fall back quietly; here it is a bug in the loop
                    self.raised.append(repr(e))
                    raise
            return run

        fusion.HOT, fusion._compile, fusion.PAYBACK = 1, compile_python, 0.0
        fusion._compiled.clear()
        fusion._seen.clear()
        return self

    def __exit__(self, *exc):
        fusion.HOT, fusion._compile = self.saved[:2]
        fusion.PAYBACK = self.saved[4]
        fusion._compiled.clear()
        fusion._compiled.update(self.saved[2])
        fusion._seen.clear()
        fusion._seen.update(self.saved[3])


def unfused(fn):
    with use("kernels"):
        return outcome(fn)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(tree=trees(), kx=st.sampled_from([1, 3]), ky=st.sampled_from([0, 1, 3]),
       shape=st.sampled_from([(4,), (2, 3)]), broadcast=st.booleans(), seed=st.integers(0, 3))
def test_random_trees_with_mixed_k_shapes_and_constants_fuse_to_the_unfused_result(tree, kx, ky, shape, broadcast,
                                                                                     seed):
    rng = np.random.default_rng(seed)
    other = shape[-1:] if broadcast else shape  # broadcasting operands must leave the fused path
    env = {
        "x": DualArray(rng.uniform(0.2, 1.5, shape), rng.standard_normal((kx,) + shape)),
        "y": DualArray(rng.uniform(0.2, 1.5, other), rng.standard_normal((ky,) + other) if ky else None),
        "c0": DualArray(rng.uniform(0.2, 1.5, shape)),  # a constant: k = 0, zeros in any k
        "cy": DualArray(rng.uniform(0.2, 1.5, other)),
        "f": float(rng.uniform(0.5, 2.0)), "i": 3,
        "a": rng.uniform(0.2, 1.5, shape), "ab": rng.uniform(0.2, 1.5, other),
    }
    want = unfused(lambda: evaluate(tree, env))
    with PythonLoops() as loops:
        got = outcome(lambda: evaluate(tree, env))
    assert not loops.raised, f"a fused loop failed: {loops.raised}"
    assert_same(got, want)


def test_k0_constant_beside_k_directions_in_a_compiled_loop(monkeypatch):
    """DualArray(v, 3 directions) with DualArray(c) (k = 0), numba-compiled: no row of c is ever read."""
    monkeypatch.setattr(fusion, "HOT", 1)
    monkeypatch.setattr(fusion, "PAYBACK", 0.0)
    v, c = np.linspace(0.1, 1.0, 8), np.linspace(1.0, 2.0, 8)
    x = DualArray(v, np.eye(3, 8))

    def f():
        return x * DualArray(c) + np.sin(x) * DualArray(c)

    want = unfused(f)
    for _ in range(3):  # compiled on the first, loaded on the next
        assert_same(outcome(f), want)
    np.testing.assert_allclose(want[1], np.eye(3, 8) * (c + np.cos(v) * c), rtol=1e-14)


def test_different_nonzero_k_at_one_tag_raise_naming_both_counts():
    x = DualArray(np.ones(4), np.ones((3, 4)))
    y = DualArray(np.ones(4), np.ones((1, 4)))
    for fn in (lambda: x * y, lambda: np.sin(x) + np.cos(y), lambda: x @ y, lambda: np.concatenate([x, y])):
        with pytest.raises(ValueError, match=r"k = 3 and k = 1"):
            out = fn()
            _ = out.partials  # a pending result raises when computed


def test_k0_constants_everywhere_partials_are_read():
    """A k = 0 DualArray in reductions, indexing, matmul, joining and conversions, alone and beside k = 2."""
    c = DualArray(np.arange(6.0).reshape(2, 3))
    x = DualArray(np.ones((2, 3)), np.stack([np.ones((2, 3)), np.arange(6.0).reshape(2, 3)]))
    assert c.npartials == 0 and "DualArray" in repr(c) and float(DualArray(2.5)) == 2.5 and float(c[1, 2]) == 5.0
    for r in (np.sum(c), np.sum(c, axis=0), np.max(c), c[0], c[:, [0, 2]], c @ c.T, np.cumsum(c), np.sin(c),
              np.mean(c), c.reshape(-1)):
        assert r.npartials == 0
    np.testing.assert_allclose((x @ c.T).partials, np.matmul(x.partials, c.value.T))
    np.testing.assert_allclose((c.T @ x).partials, np.matmul(c.value.T, x.partials))
    j = np.concatenate([c, x])
    np.testing.assert_allclose(j.partials, np.concatenate([np.zeros((2, 2, 3)), x.partials], axis=1))
    np.testing.assert_allclose((c * x).partials, c.value * x.partials)
    np.testing.assert_allclose((c - x).partials, -x.partials)
