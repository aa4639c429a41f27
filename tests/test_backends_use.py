"""dualnum.backends.use: the host backend chosen by a block, and each rule's measured speed facts (Rule.numpy_faster).

Every backend must give numpy's numbers (first and second order, forward and reverse mode) while taking the path
its name says (observed: the per-rule kernels called or not, pending fused expressions made or not); the previous
choice comes back after the block, after an exception, in nested blocks and in blocks closed out of order.
"""
import dataclasses
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum import rules, tracker
from dualnum.backends import current, elementwise, fusion, kernels, use
from dualnum.functions import apply
from dualnum.rules import Rule, override

NAMES = ("numpy", "kernels", "numba")


def state():
    return kernels.ENABLED, fusion.ENABLED, kernels.ALWAYS


def needs_numba():
    pytest.importorskip("numba")
    if kernels.module() is None:
        pytest.skip("numba kernels unavailable here")


class Spy:
    """Counts the per-rule kernels that computed a result and the pending (fused) expressions made."""

    def __init__(self, monkeypatch):
        self.kernel = self.pending = 0
        real_apply, real_unary, real_binary = kernels.try_apply, fusion.unary, fusion.binary

        def try_apply(*a):
            out = real_apply(*a)
            self.kernel += out is not None
            return out

        def unary(*a):
            out = real_unary(*a)
            self.pending += out is not None
            return out

        def binary(*a):
            out = real_binary(*a)
            self.pending += out is not None
            return out
        monkeypatch.setattr(kernels, "try_apply", try_apply)
        monkeypatch.setattr(fusion, "unary", unary)
        monkeypatch.setattr(fusion, "binary", binary)

    def reset(self):
        self.kernel = self.pending = 0


# ---- the path each name takes -------------------------------------------------------------------------------------

def test_each_name_takes_its_path(monkeypatch):
    needs_numba()
    spy = Spy(monkeypatch)
    n, k = 5000, 8  # (k + 1) n is above kernels.MIN_SIZE: big enough for the kernels
    x = dn.DualArray(np.linspace(0.1, 2.0, n), np.ones((k, n)))
    seen = {}
    for name in NAMES:
        spy.reset()
        with use(name) as b:
            assert current() == name and b.name == name
            y = x * x
            pending = y._lazy is not None
            value = y.partials  # reading it computes it
        seen[name] = (spy.kernel, spy.pending, pending)
        np.testing.assert_allclose(value, 2.0 * x.value * x.partials, rtol=1e-15)
    assert seen["numpy"] == (0, 0, False)  # numpy computed it: no kernel, no pending expression
    assert seen["kernels"] == (1, 0, False)  # the per-rule kernel, at once
    assert seen["numba"][1:] == (1, True)  # pending, computed when read (by the kernel: a lone product)


def test_a_rule_numpy_is_faster_for_takes_numpy_unless_always(monkeypatch):
    needs_numba()
    spy = Spy(monkeypatch)
    n = kernels.MIN_SIZE
    x1 = dn.DualArray(np.linspace(-1.0, 1.0, n), np.ones((1, n)))
    x8 = dn.DualArray(x1.value, np.ones((8, n)))
    assert rules.RULES["exp"].numpy_faster == {"k1", "kn", "fused"}
    assert rules.RULES["logaddexp"].numpy_faster == {"k1"}
    cases = [  # (rule, arguments, kernel expected by default)
        ("exp", (x1,), False), ("exp", (x8,), False),
        ("logaddexp", (x1, x1), False), ("logaddexp", (x8, x8), True),  # measured faster on numpy for k = 1 only
        ("sin", (x1,), True), ("sin", (x8,), True),
    ]
    for name, args, by_kernel in cases:
        r = rules.RULES[name]
        want = apply(r, *args)
        with use("numpy"):
            ref = apply(r, *args)
        for backend, expect in ((use("kernels"), by_kernel), (use("kernels", always=True), True)):
            spy.reset()
            with backend:
                got = apply(r, *args)
            assert spy.kernel == expect, (name, backend, len(args[0].partials))
            np.testing.assert_allclose(got.value, ref.value, rtol=1e-14)
            np.testing.assert_allclose(got.partials, ref.partials, rtol=1e-13)
        np.testing.assert_allclose(want.partials, ref.partials, rtol=1e-13)
    # fused loops: a big exp stays out of the tree (numpy computes it) unless always
    with use("numba"):
        assert np.exp(x1)._lazy is None and np.sin(x1)._lazy is not None
    with use("numba", always=True):
        assert np.exp(x1)._lazy is not None
        assert kernels.ALWAYS is True
    assert kernels.ALWAYS is False


def f(x):
    return np.sum(np.sin(x) * np.exp(-x) + x ** 2 / (1.0 + x ** 2))


def df(x):
    return np.exp(-x) * (np.cos(x) - np.sin(x)) + 2.0 * x / (1.0 + x * x) ** 2


def d2f(x):
    return -2.0 * np.cos(x) * np.exp(-x) + (2.0 - 6.0 * x * x) / (1.0 + x * x) ** 3


@pytest.mark.parametrize("name,always", [("numpy", False), ("kernels", False), ("kernels", True),
                                         ("numba", False), ("numba", True)])
def test_every_backend_gives_numpys_numbers_in_both_modes_and_orders(name, always, monkeypatch):
    if name != "numpy":
        needs_numba()
    spy = Spy(monkeypatch)
    monkeypatch.setattr(fusion, "HOT", 1)  # fused loops from the first computation on
    monkeypatch.setattr(fusion, "PAYBACK", 0.0)
    n = kernels.MIN_SIZE  # k = 1: (k + 1) n is the kernels' size
    rng = np.random.default_rng(3)
    x, v = rng.uniform(-2.0, 2.0, n), rng.standard_normal(n)
    small = np.linspace(-1.0, 1.0, 7)
    got = {}
    with use(name, always=always):
        got["f, jvp"] = dn.jvp(f, x, v)  # forward, first order
        got["gradient"] = dn.gradient(f, small)[0]
        got["tracker"] = tracker.gradient(f, x)[0]  # reverse, first order
        got["hvp"] = dn.hvp(f, x, v)  # forward over reverse: second order on big arrays
        got["vHv"] = dn.jvp(lambda t: dn.jvp(f, t, v)[1], x, v)[1]  # forward over forward
        got["hessian"] = dn.hessian(f, small)
    want = {"f, jvp": (f(x), df(x) @ v), "gradient": df(small), "tracker": df(x), "hvp": d2f(x) * v,
            "vHv": d2f(x) @ (v * v), "hessian": np.diag(d2f(small))}
    for key, w in want.items():
        np.testing.assert_allclose(np.asarray(got[key], dtype=float), np.asarray(w, dtype=float), rtol=1e-10,
                                   atol=1e-10, err_msg=f"{key} under use({name!r}, always={always})")
    if name == "numpy":
        assert spy.kernel == spy.pending == 0
    elif name == "kernels":
        assert spy.kernel > 0 and spy.pending == 0
    else:
        assert spy.pending > 0


# ---- restoring, nesting, refusing ----------------------------------------------------------------------------------

def test_use_restores_after_an_exception_and_nests():
    before, name_before = state(), current()
    with pytest.raises(KeyError):
        with use("numpy"):
            assert current() == "numpy"
            with use("numba", always=True):
                assert current() == "numba" and kernels.ALWAYS
                with use("kernels"):
                    assert current() == "kernels" and not kernels.ALWAYS
                    raise KeyError("inside")
    assert state() == before and current() == name_before
    with use("kernels"):
        with use("numpy"):
            assert current() == "numpy"
        assert current() == "kernels"
    assert state() == before
    b = use("numpy")
    with b:
        with pytest.raises(RuntimeError, match="already open"):
            b.__enter__()
    with b:  # closed: it opens again
        assert current() == "numpy"
    assert state() == before


def test_blocks_closed_out_of_order_leave_the_ones_still_open(monkeypatch):
    before = state()
    a, b = use("numpy"), use("kernels")
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)  # (another thread's block, say)
    assert current() == "kernels"
    b.__exit__(None, None, None)
    assert state() == before
    monkeypatch.setattr(kernels, "ENABLED", False)  # a state set by hand before the first block comes back
    with use("numba"):
        assert current() == "numba"
    assert current() == "numpy"


def test_override_keeps_numpy_whatever_use_says_inside():
    before = state()
    r = Rule("softplus_use", lambda x: np.logaddexp(0.0, x), (lambda x, z: 1.0 / (1.0 + np.exp(-x)),))
    with use("numba", always=True):
        with override(r) as o:
            assert current() == "numpy"
            with use("kernels", always=True):
                assert current() == "numpy"  # the override's block wins: no compiled code while it is open
                xs = np.linspace(-3.0, 3.0, 5)
                g = dn.gradient(lambda x: np.sum(apply(o, x) * x), xs)[0]
                np.testing.assert_allclose(g, np.logaddexp(0.0, xs) + xs / (1.0 + np.exp(-xs)), rtol=1e-12)
            assert current() == "numpy"
        assert current() == "numba" and kernels.ALWAYS
    assert state() == before


def test_bad_names_are_refused_with_the_valid_ones_listed():
    before = state()
    with pytest.raises(ValueError) as e:
        use("torch")
    assert "'torch'" in str(e.value) and all(repr(n) in str(e.value) for n in NAMES)
    with pytest.raises(ValueError) as e:
        use("cuda")
    text = str(e.value)
    assert "device arrays" in text and "nn.gpu" in text and "dualnum.backends.cuda.to_device" in text
    assert all(repr(n) in text for n in NAMES)
    with pytest.raises(ValueError, match="always=True"):
        use("numpy", always=True)
    assert state() == before  # a refused name changes nothing


def test_DUALNUM_NUMBA_0_starts_on_numpy_and_use_still_switches():
    import os
    import subprocess
    import sys
    code = ("import numpy as np; from dualnum.backends import current, use; print(current())\n"
            "with use('kernels'):\n    print(current())\nprint(current())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "DUALNUM_NUMBA": "0"})
    assert out.stdout.split() == ["numpy", "kernels", "numpy"]


# ---- the facts on the rules table ----------------------------------------------------------------------------------

#: the facts as they were measured (benchmarks/b1_jvp.py's per-rule table) and held in name sets before they moved
#: onto the rules: numba calls scalar libm for these, numpy runs SIMD loops (slower in every compiled path)...
LIBM = set("exp exp2 expm1 log log2 log10 log1p tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh "
           "arctanh cbrt power".split())
#: ...and numpy's path was faster for these with one direction, or with k > 1 directions
K1 = LIBM | {"add", "negative", "logaddexp", "logaddexp2"}
KN = LIBM | {"add", "negative", "positive", "square", "reciprocal", "sqrt", "relu", "deg2rad", "rad2deg"}


def test_every_rule_carries_the_measured_facts():
    for name, r in rules.RULES.items():
        assert ("k1" in r.numpy_faster) == (name in K1), name
        assert ("kn" in r.numpy_faster) == (name in KN), name
        assert ("fused" in r.numpy_faster) == (name in LIBM), name
        assert isinstance(r.numpy_faster, frozenset)
    assert K1 | KN <= {r.name for r in kernels.kernel_rules()}  # every fact is about a rule that has a kernel


def test_numpy_faster_takes_words_or_a_set_and_refuses_other_paths():
    r = Rule("sin_copy", np.sin, (lambda x, z: np.cos(x),), numpy_faster="k1 fused")
    assert r.numpy_faster == frozenset({"k1", "fused"})
    assert Rule("sin_copy", np.sin, (lambda x, z: np.cos(x),), numpy_faster={"kn"}).numpy_faster == {"kn"}
    assert Rule("sin_copy", np.sin, (lambda x, z: np.cos(x),)).numpy_faster == frozenset()
    assert dataclasses.replace(r, compiled=False).numpy_faster == r.numpy_faster  # (override's copy keeps it)
    with pytest.raises(ValueError, match=r"sin_copy.*'fused', 'k1', 'kn'.*\['gpu'\]"):
        Rule("sin_copy", np.sin, (lambda x, z: np.cos(x),), numpy_faster="k1 gpu")


def test_a_change_in_numpy_faster_compiles_nothing_again_but_a_formula_does():
    old = rules.RULES["tanh"]
    digest, src = kernels._digest(), kernels.source()
    try:
        rules.RULES["tanh"] = dataclasses.replace(old, numpy_faster=frozenset())
        assert kernels._digest() == digest and kernels.source() == src  # the same module file and numba cache
        rules.RULES["tanh"] = dataclasses.replace(old, partials=(lambda x, z: 1.0 - z * z * 1.5,))
        assert kernels._digest() != digest  # (the test can fail: a formula's change is seen)
    finally:
        rules.RULES["tanh"] = old
    assert kernels._digest() == digest


# ---- one per-element body for every compiled target ----------------------------------------------------------------

def test_the_kernels_per_element_text_is_elementwise_s(monkeypatch):
    src = kernels.source()
    for r in (rules.RULES["sin"], rules.RULES["true_divide"]):
        assert elementwise.formulas(r) in src
        if r.arity == 1:
            assert f"zi = {elementwise.value(r, 'xi')}" in src
            assert f"q0[i] = {elementwise.chain(elementwise.partial(r, 0, 'xi', None, 'zi'), 'p0[i]')}" in src
        else:
            assert f"zi = {elementwise.value(r, 'xi', 'yi')}" in src
            assert elementwise.partial(r, 1, "xi", "yi", "zi") in src
    assert elementwise.TIMES.format(decorator=kernels._INLINE) in src
    # the chain rule's text is taken from elementwise.chain, not written in the templates: change it, and it shows
    monkeypatch.setattr(elementwise, "chain", lambda d, p: f"_marked({d}, {p})")
    marked = kernels.source()
    assert "_times(d[i]" not in marked and marked.count("_marked(") >= len(kernels.kernel_rules())
    assert math.isclose(len(marked), len(src), rel_tol=0.1)
