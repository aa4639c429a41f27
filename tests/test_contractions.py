"""Contractions (einsum, tensordot, kron, cross, dot, inner, vdot, outer, matmul and numpy 2's np.linalg names) in
both modes: values against numpy's, first derivatives against central differences of numpy's own function, second
derivatives forward over forward against forward over reverse, reverse over reverse and second differences."""
import itertools
import warnings

import numpy as np
import pytest

import dualnum
from dualnum import tracker
from dualnum.forward.dual import Dual
from dualnum.forward.dualarray import DualArray

H = 1e-6


def data(shape, salt=0):
    rng = np.random.default_rng(abs(hash((tuple(shape), salt))) % 2**32)
    return rng.uniform(-1.5, 1.5, shape) + 0.1 * np.sign(rng.uniform(-1, 1, shape))


def fd_jacobian(f, x, h=H):
    """∂f(x)/∂x by central differences of numpy's function: shape f(x).shape + x.shape."""
    y = np.asarray(f(x), dtype=float)
    J = np.zeros(y.shape + x.shape)
    for j in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        J[(Ellipsis,) + j] = (np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * h)
    return J


def fd_hessian(f, x, h=1e-4):
    """∂²f/∂xᵢ∂xⱼ by second central differences of numpy's function (independent of both modes)."""
    n = x.size
    Hm = np.zeros((n, n))
    e = np.eye(n) * h
    flat = lambda v: f(v.reshape(x.shape))  # noqa: E731
    x0 = x.ravel()
    for i in range(n):
        for j in range(n):
            Hm[i, j] = (flat(x0 + e[i] + e[j]) - flat(x0 + e[i] - e[j]) - flat(x0 - e[i] + e[j])
                        + flat(x0 - e[i] - e[j])) / (4 * h * h)
    return Hm.reshape(x.shape + x.shape)


def check_both_modes(f, x):
    """f's value and derivative in forward mode (jvp, jacobian) and in reverse mode (the gradient of a weighted
    sum) against numpy's value and central differences."""
    ref = np.asarray(f(x))
    J = fd_jacobian(f, x)
    # forward: the value and every column of the jacobian
    value, _ = dualnum.jvp(f, x, np.ones_like(x))
    np.testing.assert_allclose(np.asarray(dualnum.value(value)), ref, rtol=1e-12, atol=1e-12)
    assert np.shape(dualnum.value(value)) == ref.shape
    np.testing.assert_allclose(dualnum.jacobian(f, x), J, rtol=1e-6, atol=1e-7, err_msg="forward jacobian")
    # reverse: value and gradient of Σ w ⊙ f
    w = data(ref.shape, 7)
    seen = []

    def loss(z):
        y = f(z)
        seen.append(dualnum.value(y))
        return np.sum(y * w)
    g = tracker.gradient(loss, x)[0]
    np.testing.assert_allclose(np.asarray(seen[0]), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, np.tensordot(w, J, axes=w.ndim), rtol=1e-6, atol=1e-7, err_msg="reverse gradient")


def packed(shapes):
    """(x, unpack): one vector holding every operand, so one jacobian covers the derivative in each."""
    sizes = [int(np.prod(s)) for s in shapes]
    x = np.concatenate([np.ravel(data(s, i)) for i, s in enumerate(shapes)]) if shapes else np.zeros(0)

    def unpack(v):
        out, start = [], 0
        for s, n in zip(shapes, sizes):
            out.append(np.reshape(v[start:start + n], s))
            start += n
        return out
    return x, unpack


# ---- einsum over a generated set of specs ----------------------------------------------------------------------

# operand terms with their shapes (i: 2, j: 3, k: 4, b: 2); '...' broadcasts (2, 1) against (4,) and (), and a
# size-1 j stretches against j = 3
TERMS = [("", ()), ("i", (2,)), ("j", (3,)), ("ij", (2, 3)), ("ji", (3, 2)), ("ii", (2, 2)), ("ijk", (2, 3, 4)),
         ("jk", (3, 4)), ("iij", (2, 2, 3)), ("bij", (2, 2, 3)), ("...j", (2, 1, 3)), ("...ij", (4, 2, 3)),
         ("j...", (3,)), ("ij", (2, 1))]


def _outputs(t1, t2):
    letters = [c for c in t1 + t2 if c != "."]
    once = [c for c in dict.fromkeys(letters) if letters.count(c) == 1]
    dots = "..." if "..." in t1 + t2 else ""
    return [None, dots + "".join(sorted(set(letters))), dots + "".join(reversed(once)), dots]


def _generated_specs():
    specs = []
    for (t1, s1), (t2, s2) in itertools.product(TERMS, repeat=2):
        for out in _outputs(t1, t2):
            spec = f"{t1},{t2}" + ("" if out is None else "->" + out)
            try:
                np.einsum(spec, np.ones(s1), np.ones(s2))
            except ValueError:
                continue  # numpy refuses it (checked below: so do both modes)
            specs.append((spec, [s1, s2]))
    return specs


GENERATED = _generated_specs()

NAMED = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("iij->j", [(2, 2, 3)]),
         ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("i,j->ij", [(3,), (4,)]), ("ij->", [(2, 3)]),
         ("ij->ji", [(2, 3)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
         ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
         ("ij,ij->i", [(2, 3), (2, 3)]), ("ij,jk", [(2, 3), (3, 4)]), ("iii->i", [(2, 2, 2)]),
         ("i,ij,jk,k->", [(2,), (2, 3), (3, 2), (2,)]), ("...ii->...", [(2, 3, 3)]), ("Ab,bA->A", [(2, 3), (3, 2)])]


def test_the_generated_set_is_broad():
    assert len(GENERATED) > 250
    kinds = {"diagonal": any("ii" in s for s, _ in GENERATED), "ellipsis": any("..." in s for s, _ in GENERATED),
             "implicit": any("->" not in s for s, _ in GENERATED), "sum": any(s.endswith("->") for s, _ in GENERATED),
             "stretch": any((2, 1) in sh for _, sh in GENERATED)}
    assert all(kinds.values()), kinds


@pytest.mark.parametrize("spec,shapes", NAMED + GENERATED, ids=lambda v: repr(v) if isinstance(v, str) else "")
def test_einsum_both_modes(spec, shapes):
    x, unpack = packed(shapes)
    check_both_modes(lambda v: np.einsum(spec, *unpack(v)), x)


@pytest.mark.parametrize("spec,shapes", [("ij,jk", [(2, 3), (4, 2)]), ("ij->ii", [(2, 2)]), ("ii", [(2, 3)]),
                                         ("...i->i", [(2, 3)]), ("ij,jk", [(2, 3)]), ("ij->k", [(2, 3)]),
                                         ("i,i", [(2,), (3,)]), ("i->i->i", [(2,)])])
def test_einsum_refuses_what_numpy_refuses(spec, shapes):
    ops = [data(s) for s in shapes]
    with pytest.raises(ValueError):
        np.einsum(spec, *ops)
    with pytest.raises(ValueError):
        np.einsum(spec, *[DualArray(o, np.ones((1,) + o.shape)) for o in ops])
    with pytest.raises(ValueError):
        tracker.gradient(lambda *z: np.sum(np.einsum(spec, *z)), *ops)


def test_einsum_sublist_form_is_the_string_form():
    a, b = data((3, 4)), data((4, 2), 1)
    x, unpack = packed([(3, 4), (4, 2)])
    for sub, spec in [(lambda p, q: np.einsum(p, [0, 1], q, [1, 2], [0, 2]), "ij,jk->ik"),
                      (lambda p, q: np.einsum(p, [0, 1], q, [1, 2]), "ij,jk"),
                      (lambda p, q: np.einsum(p, [Ellipsis, 1], q[:, 0], [1], [Ellipsis]), "...j,j->..."),
                      (lambda p, q: np.einsum(p[:, :3], [7, 7]), "ii"),
                      (lambda p, q: np.einsum(p, [30, 1], q, [1, 2], [2, 30]), "ij,jk->ki")]:
        np.testing.assert_allclose(sub(a, b), {"...j,j->...": lambda: np.einsum(spec, a, b[:, 0]),
                                               "ii": lambda: np.einsum(spec, a[:, :3])}.get(
                                                   spec, lambda: np.einsum(spec, a, b))())
        check_both_modes(lambda v: sub(*unpack(v)), x)
    with pytest.raises(ValueError, match="52"):
        np.einsum(DualArray(a, np.ones((1, 3, 4))), [0, 60])


def test_einsum_same_operand_twice_and_scalar_duals():
    x = data((3,))
    check_both_modes(lambda v: np.einsum("i,i", v, v), x)
    check_both_modes(lambda v: np.einsum("i,j,i->j", v, v, v), x)
    # a scalar Dual joins as a 0-d operand
    d = Dual(2.0, 1.0)
    y = np.einsum(",i->i", d, x)
    np.testing.assert_allclose(dualnum.value(y), 2.0 * x)
    np.testing.assert_allclose(np.asarray(y.partials)[0], x)


def test_einsum_optimize_accepted_out_refused():
    x, unpack = packed([(3, 4), (4, 2), (3,)])
    for opt in (True, False, "greedy", "optimal", ["einsum_path", (0, 1), (0, 1)]):
        check_both_modes(lambda v, o=opt: np.einsum("ij,jk,i->k", *unpack(v), optimize=o), x)
    a = data((2, 3))
    for mode, z in (("forward", DualArray(a, np.ones((1, 2, 3)))), ("reverse", None)):
        if z is None:
            with pytest.raises(TypeError, match=r"np.einsum\(\.\.\., out=\.\.\.\) is not supported"):
                tracker.gradient(lambda v: np.sum(np.einsum("ij->ji", v, out=np.zeros((3, 2)))), a)
        else:
            with pytest.raises(TypeError, match=r"np.einsum\(\.\.\., out=\.\.\.\) is not supported"):
                np.einsum("ij->ji", z, out=np.zeros((3, 2)))


def test_einsum_of_plain_arrays_is_numpys():
    # the handlers see only calls with a dual or tracked operand: plain code keeps numpy's einsum
    a = data((3, 3))
    assert np.einsum("ii->i", a).base is not None  # (numpy's writable view)


@pytest.mark.parametrize("spec", ["ii->i", "ij->ji", "ij"])
def test_a_write_into_einsums_view_moves_value_and_derivative_together(spec):
    # numpy returns a writable view of the operand here; the derivative is a new array, so a write through the
    # view would change the operand's value and leave its derivative: the value comes back as a copy (the
    # operand keeps its value and its derivative, one function)
    a = data((2, 2))
    p = np.stack([np.eye(4).reshape(4, 2, 2)[i] for i in range(4)])
    A = DualArray(a.copy(), p.copy())
    d = np.einsum(spec, A)
    d[0] = 7.0
    np.testing.assert_array_equal(A.value, a)
    np.testing.assert_array_equal(A.partials, p)
    np.testing.assert_array_equal(np.asarray(d.partials)[:, 0], 0.0)


# ---- the other contractions ------------------------------------------------------------------------------------

def _quiet(f):
    def g(*a, **k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # np.cross of 2-vectors (numpy 2 deprecates them)
            return f(*a, **k)
    return g


CONTRACTIONS = [
    ("tensordot axes=2", lambda a, b: np.tensordot(a, b), [(2, 3, 4), (3, 4, 2)]),
    ("tensordot axes=1", lambda a, b: np.tensordot(a, b, 1), [(2, 3), (3, 4)]),
    ("tensordot axes=0", lambda a, b: np.tensordot(a, b, axes=0), [(2,), (3,)]),
    ("tensordot pairs", lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 2])), [(3, 2, 4), (2, 4, 3)]),
    ("tensordot ints", lambda a, b: np.tensordot(a, b, axes=(0, 1)), [(3, 2), (4, 3)]),
    ("linalg.tensordot", lambda a, b: np.linalg.tensordot(a, b, axes=1), [(2, 3), (3, 2)]),
    ("kron 1-d", np.kron, [(3,), (2,)]), ("kron 2-d", np.kron, [(2, 3), (2, 2)]),
    ("kron mixed dims", np.kron, [(2, 3), (4,)]), ("kron 3-d", np.kron, [(2, 1, 2), (3, 2)]),
    ("cross 3", np.cross, [(3,), (3,)]), ("cross stacks", np.cross, [(2, 1, 3), (4, 3)]),
    ("cross 2x3", _quiet(np.cross), [(2,), (3,)]), ("cross 3x2", _quiet(np.cross), [(3,), (2,)]),
    ("cross 2x2", _quiet(np.cross), [(4, 2), (2,)]),
    ("cross axisa axisb axisc", lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0), [(3, 2), (2, 3)]),
    ("cross axis", lambda a, b: np.cross(a, b, axis=-2), [(2, 3, 4), (3, 4)]),
    ("linalg.cross", lambda a, b: np.linalg.cross(a, b, axis=0), [(3, 2), (3, 1)]),
    ("outer", np.outer, [(3,), (4,)]), ("outer n-d", np.outer, [(2, 3), (2, 2)]),
    ("linalg.outer", np.linalg.outer, [(3,), (2,)]),
    ("inner 1-d", np.inner, [(3,), (3,)]), ("inner n-d", np.inner, [(2, 3, 4), (5, 4)]),
    ("inner scalar", np.inner, [(), (2, 3)]),
    ("vdot", np.vdot, [(2, 3), (3, 2)]), ("vdot 1-d", np.vdot, [(4,), (4,)]),
    ("dot 2-d", np.dot, [(2, 3), (3, 4)]), ("dot n-d", np.dot, [(2, 3, 4), (5, 4, 2)]),
    ("dot n-d 1-d", np.dot, [(2, 3, 4), (4,)]), ("dot 1-d n-d", np.dot, [(4,), (2, 4, 3)]),
    ("dot scalar", np.dot, [(), (2, 3)]), ("dot 2-d 3-d", np.dot, [(2, 3), (2, 3, 4)]),
    ("matmul stacks", np.matmul, [(2, 1, 3, 4), (5, 4, 2)]), ("matmul vector stack", np.matmul, [(4,), (2, 4, 3)]),
    ("matmul stack vector", np.matmul, [(2, 3, 4), (4,)]), ("@ broadcast", lambda a, b: a @ b, [(1, 3, 4), (2, 4, 2)]),
    ("linalg.matmul", np.linalg.matmul, [(2, 3, 4), (4, 2)]),
    ("linalg.vecdot", np.linalg.vecdot, [(2, 1, 3), (4, 3)]),
    ("linalg.vecdot axis", lambda a, b: np.linalg.vecdot(a, b, axis=0), [(3, 2), (3, 1)]),
]


@pytest.mark.parametrize("name,f,shapes", CONTRACTIONS, ids=[c[0] for c in CONTRACTIONS])
def test_contraction_both_modes(name, f, shapes):
    x, unpack = packed(shapes)
    check_both_modes(lambda v: f(*unpack(v)), x)
    # one operand a plain constant
    c = data(shapes[1], 9)
    check_both_modes(lambda v: f(np.reshape(v[:int(np.prod(shapes[0]))], shapes[0]), c), x[:int(np.prod(shapes[0]))])


@pytest.mark.parametrize("call", [lambda a, b: np.tensordot(a, b, axes=([0], [0])), lambda a, b: np.dot(a, b),
                                  lambda a, b: np.inner(a, b), lambda a, b: np.vdot(a, b[:2]),
                                  lambda a, b: np.cross(a, b), lambda a, b: np.linalg.outer(a, b[None]),
                                  lambda a, b: np.linalg.cross(a[:, :2], b[:, :2]),
                                  lambda a, b: np.linalg.vecdot(a, b[:, :2]), lambda a, b: np.tensordot(a, b, 3)],
                         ids=["tensordot", "dot", "inner", "vdot", "cross", "linalg.outer", "linalg.cross",
                              "linalg.vecdot", "tensordot too many"])
def test_contractions_refuse_what_numpy_refuses(call):
    a, b = data((2, 3)), data((4, 4), 1)
    with pytest.raises((ValueError, IndexError)):
        call(a, b)
    with pytest.raises((ValueError, IndexError)):
        call(DualArray(a, np.ones((1, 2, 3))), b)
    with pytest.raises((ValueError, IndexError)):
        tracker.gradient(lambda z: np.sum(call(z, b)), a)


def test_lists_are_arrays():
    # a list operand is an array, as in numpy (not a scalar)
    a = data((2, 3))
    for f in (np.dot, np.inner, np.kron, np.outer, np.vdot, np.cross):
        lst = [0.5, -1.0, 2.0] if f is not np.vdot else [0.5, -1.0, 2.0, 1.0, 0.0, 3.0]
        check_both_modes(lambda v: f(v, lst), a)


def test_numpy2_vecdot_ufunc_is_right_or_refused():
    # np.vecdot is a ufunc (it does not reach the function tables): right, or a clear refusal naming it
    a, b = data((2, 3)), data((3,), 1)
    for run in (lambda: np.vecdot(DualArray(a, np.ones((1, 2, 3))), b),
                lambda: tracker.gradient(lambda z: np.sum(np.vecdot(z, b)), a)[0]):
        try:
            out = run()
        except TypeError as e:
            assert "vecdot" in str(e) and "not supported" in str(e)
            continue
        if isinstance(out, DualArray):
            np.testing.assert_allclose(out.value, np.vecdot(a, b))
            np.testing.assert_allclose(out.partials[0], np.vecdot(np.ones((2, 3)), b))
        else:
            np.testing.assert_allclose(out, np.broadcast_to(b, (2, 3)))


# ---- second order ----------------------------------------------------------------------------------------------

A34 = data((3, 4), 3)
B = data((3, 3), 4)
C = data((2, 2, 3), 5)


def reverse_over_reverse(f, x):
    inner = lambda z: tracker.gradient(f, z, nest=True)[0]  # noqa: E731
    rows = [tracker.gradient(lambda z, j=j: inner(z)[j], x)[0] for j in np.ndindex(x.shape)]
    return np.reshape(np.stack(rows), x.shape + x.shape)


SCALAR_FUNCTIONS = [
    ("x A x", lambda x: np.einsum("i,ij,j", x, B, x), (3,)),
    ("trace x xᵀ", lambda x: np.einsum("ii", np.outer(x, x)), (3,)),
    ("Σ kron(x, x)²", lambda x: np.sum(np.kron(x, x) ** 2), (3,)),
    ("einsum diagonal of x xᵀ, cubed", lambda x: np.sum(np.einsum("ii->i", np.einsum("i,j->ij", x, x)) ** 3), (3,)),
    ("einsum ellipsis broadcast", lambda x: np.sum(np.einsum("...ij,...jk->...ik", x, C) ** 2), (2, 1, 2, 2)),
    ("einsum X Xᵀ X", lambda x: np.sum(np.einsum("ij,kj,kl->il", x, x, x) * B[:2, :2]), (2, 2)),
    ("einsum sublists", lambda x: np.einsum(x, [0], B, [0, 1], x, [1], []), (3,)),
    ("einsum repeated letters", lambda x: np.einsum("iij,j->", np.einsum("i,j,k->ijk", x, x, x), x), (3,)),
    ("tensordot", lambda x: np.sum(np.tensordot(np.reshape(x, (2, 3)), C, axes=([0, 1], [1, 2])) ** 2), (6,)),
    ("cross", lambda x: np.sum(np.cross(x[:3], x[3:]) ** 2), (6,)),
    ("dot n-d", lambda x: np.sum(np.dot(np.reshape(x, (2, 1, 2)), np.reshape(x, (2, 2, 1))) ** 2), (4,)),
    ("inner", lambda x: np.sum(np.inner(np.reshape(x, (2, 2)), np.reshape(x, (2, 2))) ** 2), (4,)),
    ("vdot", lambda x: np.vdot(x, x ** 2), (4,)),
    ("outer", lambda x: np.sum(np.outer(x, x ** 2) * B), (3,)),
    ("matmul stacks", lambda x: np.sum((np.reshape(x, (2, 1, 2)) @ np.reshape(x, (1, 2, 2))) ** 2), (4,)),
    ("linalg names", lambda x: np.linalg.vecdot(np.linalg.cross(x, x ** 2), x + 1.0)
     + np.sum(np.linalg.outer(x, x) ** 2), (3,)),
]


@pytest.mark.parametrize("name,f,shape", SCALAR_FUNCTIONS, ids=[c[0] for c in SCALAR_FUNCTIONS])
def test_hessians_agree(name, f, shape):
    x = data(shape, 11)
    ff = dualnum.hessian(f, x)
    fr = dualnum.hessian(f, x, method="forward-over-reverse")
    rr = reverse_over_reverse(f, x)
    ref = fd_hessian(f, x)
    np.testing.assert_allclose(ff, ref, rtol=1e-5, atol=1e-5, err_msg="forward over forward")
    np.testing.assert_allclose(fr, ff, rtol=1e-10, atol=1e-10, err_msg="forward over reverse")
    np.testing.assert_allclose(rr, ff, rtol=1e-10, atol=1e-10, err_msg="reverse over reverse")


def test_einsum_hessian_closed_form():
    # x ↦ xᵀ B x has the Hessian B + Bᵀ
    x = data((3,), 2)
    for method in ("forward-over-forward", "forward-over-reverse"):
        np.testing.assert_allclose(dualnum.hessian(lambda v: np.einsum("i,ij,j", v, B, v), x, method=method),
                                   B + B.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,F", [("einsum diagonal", lambda A, B: np.einsum("ij,jjk->ik", A, B)),
                                    ("tensordot", lambda A, B: np.tensordot(A, B, axes=([1], [1]))),
                                    ("dot", lambda A, B: np.dot(A, B[0])), ("kron", np.kron),
                                    ("cross", lambda A, B: np.cross(A, B[0].T))],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_third_derivative_along_a_line(name, F):
    # g(t) = Σ F(a + t·da, b + t·db)² is a quartic in t: its third derivative is the fitted polynomial's, exactly
    a, da, b, db = data((2, 3), 1), data((2, 3), 2), data((3, 3, 2), 3), data((3, 3, 2), 4)
    g = lambda t: np.sum(F(a + t * da, b + t * db) ** 2)  # noqa: E731
    ts = np.linspace(-1, 1, 9)
    d3 = np.polyval(np.polyder(np.polyfit(ts, [g(t) for t in ts], 4), 3), 0.3)
    np.testing.assert_allclose(dualnum.derivative(g, 0.3, order=3), d3, rtol=1e-8)


# ---- numpy 2's generalized ufuncs, through the handlers both modes' ufunc dispatch calls --------------------------

from dualnum.contractions import UFUNCS  # noqa: E402

GUFUNC_CASES = [("vecdot", lambda h: lambda a, b: h(a, b), [(2, 1, 3), (4, 3)]),
                ("vecdot axis=0", lambda h: lambda a, b: h(a, b, axis=0), [(3, 2), (3, 1)]),
                ("matvec", lambda h: lambda a, b: h(a, b), [(2, 1, 3, 4), (5, 4)]),
                ("vecmat", lambda h: lambda a, b: h(a, b), [(5, 4), (2, 1, 4, 3)])]


@pytest.mark.skipif(not hasattr(np, "matvec"), reason="numpy < 2.2 has no np.matvec/np.vecmat")
@pytest.mark.parametrize("name,make,shapes", GUFUNC_CASES, ids=[c[0] for c in GUFUNC_CASES])
def test_gufunc_handlers_both_modes(name, make, shapes):
    ufunc = getattr(np, name.split()[0])
    x, unpack = packed(shapes)
    ops = unpack(x)
    np.testing.assert_allclose(make(UFUNCS[ufunc])(*ops), make(ufunc)(*ops), rtol=1e-13)
    check_both_modes(lambda v: make(UFUNCS[ufunc])(*unpack(v)), x)
    check_both_modes(lambda v: make(ufunc)(*unpack(v)), x)  # the ufunc itself reaches the handler in both modes
    ff = dualnum.hessian(lambda v: np.sum(make(UFUNCS[ufunc])(*unpack(v)) ** 2), x)
    fr = dualnum.hessian(lambda v: np.sum(make(UFUNCS[ufunc])(*unpack(v)) ** 2), x, method="forward-over-reverse")
    np.testing.assert_allclose(ff, fd_hessian(lambda v: np.sum(make(ufunc)(*unpack(v)) ** 2), x), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(fr, ff, rtol=1e-10, atol=1e-10)


@pytest.mark.skipif(not hasattr(np, "matvec"), reason="numpy < 2.2 has no np.matvec/np.vecmat")
def test_gufunc_handlers_refuse_what_numpy_refuses():
    a, b = data((2, 3)), data((4,))
    for name in ("vecdot", "matvec", "vecmat"):
        h, u = UFUNCS[getattr(np, name)], getattr(np, name)
        for x1, x2 in ((a, b), (a[0, 0], b)):
            with pytest.raises(ValueError):
                u(x1, x2)
            with pytest.raises(ValueError):
                h(DualArray(np.asarray(x1), np.ones((1,) + np.shape(x1))), x2)
        with pytest.raises(TypeError, match=f"np.{name}.*keepdims"):
            h(DualArray(a, np.ones((1, 2, 3))), a.T, keepdims=True)


def test_a_contraction_over_an_empty_axis_is_zero_in_both_modes():
    b = np.ones((0, 2))
    for f in (lambda x: np.matmul(x.reshape(2, 3, 0), b), lambda x: np.dot(x.reshape(3, 0), b),
              lambda x: np.tensordot(x.reshape(3, 0), b, 1)):
        y = f(np.zeros(0))
        assert np.array_equal(y, np.zeros(y.shape))
        J = dualnum.jacobian(f, np.zeros(0))
        assert J.shape == y.shape + (0,)
        g = tracker.gradient(lambda x: np.sum(f(x)), np.zeros(0))[0]
        assert np.shape(g) == (0,)

