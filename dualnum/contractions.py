"""Contractions -- ``einsum``, ``tensordot``, ``kron``, ... -- multilinear maps in the format of
dualnum/primitive.py, for both modes and every order.

``einsum`` is the one entry with a hand-written adjoint: it is multilinear, so its jvp is einsum itself, and the
adjoint of operand i is again an einsum, of the cotangent and the other operands, written to operand i's
subscripts. The other contractions are composites: ``tensordot``/``dot``/``inner`` are transposes, reshapes and
one ``matmul`` (numpy's own algorithm, so one BLAS call), ``kron``/``outer`` a broadcast product, ``cross`` three
differences of products, ``vdot`` a flattened ``matmul``.
"""
import string
import warnings

import numpy as np

from .primitive import composite, define
from ._numpy.protocol import ndim_of, no_out, normalize_axes, shape_of

# the letters einsum's sublist form numbers 0..51 (numpy's order: 'A'..'Z', then 'a'..'z')
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


# =============================================================================================================
# einsum: y = Σ over the letters not in the output of Π operands  ->  ẏ = Σᵢ einsum(..., dxᵢ, ...)
# =============================================================================================================

def _sublist(sub):
    """One sublist of einsum's sublist form ([0, 1], [Ellipsis, 2]) as subscripts ('AB', '...C')."""
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
            continue
        if not isinstance(s, (int, np.integer)) or isinstance(s, (bool, np.bool_)):
            raise TypeError(f"np.einsum: a sublist holds integers in [0, 52) and Ellipsis, got {s!r}")
        n = int(s)
        if not 0 <= n < len(_LETTERS):
            raise ValueError(f"np.einsum: subscript {n} is not within the valid range [0, 52)")
        out.append(_LETTERS[n])
    return "".join(out)


def _einsum_prepare(args, kwargs):
    """The call in the string form einsum's jvp and vjp read: np.einsum(a, [0, 1], b, [1, 2], [0, 2]) is
    np.einsum('AB,BC->AC', a, b); ``out=`` is refused (a plain array cannot hold derivatives)."""
    if "out" in kwargs:
        no_out("np.einsum", kwargs["out"])
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    if not args:
        raise ValueError("np.einsum: no subscripts and no operands were given")
    if isinstance(args[0], str):
        return args, kwargs
    ops, subs = args[0::2], args[1::2]
    if len(args) % 2:  # a trailing sublist is the output
        ops, out = ops[:-1], "->" + _sublist(args[-1])
    else:
        out = ""
    return (",".join(_sublist(s) for s in subs) + out,) + tuple(ops), kwargs


def _parse(subscripts, shapes):
    """(input terms, output term, unused letters) with every '...' written out as letters.

    The ellipsis dims broadcast right-aligned across the operands, as numpy's do; an implicit output is the
    ellipsis then the letters that appear once, in alphabetical (ASCII) order, as numpy's."""
    s = subscripts.replace(" ", "")
    ins, out = s.split("->") if "->" in s else (s, None)
    terms = ins.split(",")
    used = set(s) - set(".,->")
    free = [c for c in _LETTERS if c not in used]
    dots = [len(shape) - (len(t) - 3) if "..." in t else 0 for t, shape in zip(terms, shapes)]
    n_dots = max(dots, default=0)
    ell, free = "".join(free[:n_dots]), free[n_dots:]
    expanded = [t.replace("...", ell[n_dots - d:]) for t, d in zip(terms, dots)]
    if out is None:
        once = sorted(c for c in set(ins) - set(".,") if ins.count(c) == 1)
        out = ell + "".join(once)
    else:
        out = out.replace("...", ell)
    return expanded, out, free


def _einsum_vjp(g, y, subscripts, *ops, **kwargs):
    """x̄ᵢ = einsum(ȳ, the other operands -> operand i's subscripts), one per operand (None for the subscripts)."""
    shapes = [shape_of(o) for o in ops]
    terms, out, free = _parse(subscripts, shapes)
    size = {}  # every letter's size after broadcasting (a size-1 axis stretches to the others')
    for t, shape in zip(terms, shapes):
        for c, n in zip(t, shape):
            if size.get(c, 1) == 1:
                size[c] = n
    return (None,) + tuple(_einsum_adjoint(i, g, ops, terms, out, shapes, size, list(free))
                           for i in range(len(ops)))


def _einsum_adjoint(i, g, ops, terms, out, shapes, size, free):
    term, shape = terms[i], shapes[i]
    size = dict(size)
    in_terms, in_ops = [out], [g]
    for j, (t, o) in enumerate(zip(terms, ops)):
        if j != i:
            in_terms.append(t)
            in_ops.append(o)
    result, seen = [], set()
    for c, n in zip(term, shape):
        if n == 1 and size[c] != 1:
            continue  # a size-1 axis numpy stretched: its adjoint sums over the stretch (the einsum's own sum)
        if c in seen:
            # a repeated letter ('ii': a diagonal): a fresh letter tied to the first by a Kronecker delta, so the
            # adjoint is ȳ scattered onto the diagonal and 0 elsewhere
            if not free:
                raise ValueError(f"np.einsum: '{','.join(terms)}->{out}' uses too many letters to write the "
                                 "derivative of its repeated subscripts (52 at most)")
            fresh = free.pop(0)
            size[fresh] = size[c]
            in_terms.append(c + fresh)
            in_ops.append(np.eye(size[c]))
            result.append(fresh)
        else:
            seen.add(c)
            result.append(c)
    # a letter the other factors do not hold at its full size (summed out in operand i alone, or stretched
    # from size 1 there) is broadcast back: Σ over it of a constant is that constant times ones
    full = {c for t, o in zip(in_terms, in_ops) for c, n in zip(t, shape_of(o)) if n == size[c]}
    for c in dict.fromkeys(result):
        if c not in full:
            in_terms.append(c)
            in_ops.append(np.ones(size[c]))
    spec = ",".join(in_terms) + "->" + "".join(result)
    bar = np.einsum(spec, *in_ops, optimize=len(in_ops) > 2)  # (several factors: the cheap order of products)
    return bar if len(result) == len(term) else np.reshape(bar, shape)  # (the size-1 axes back)


define(np.einsum, vjp=_einsum_vjp, argnums=(1,), variadic=True, prepare=_einsum_prepare)


@composite(np.einsum_path)
def einsum_path(*operands, **kwargs):
    """The order of products einsum would take: it reads the shapes only."""
    args, kwargs = _einsum_prepare(operands, kwargs)
    return np.einsum_path(args[0], *[np.zeros(np.shape(a)) for a in args[1:]], **kwargs)


# =============================================================================================================
# the other contractions, written with matmul, reshape and products
# =============================================================================================================

def _array(a):
    """A list or tuple as an array (one holding duals or tracked values by np.stack, keeping their derivatives)."""
    if not isinstance(a, (list, tuple)):
        return a
    try:
        arr = np.asarray(a)
        if arr.dtype != object:
            return arr
    except (TypeError, ValueError):
        pass
    return np.stack([_array(e) for e in a])


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


@composite(np.tensordot, np.linalg.tensordot)
def tensordot(a, b, axes=2):
    """tensordot = Σ over axes[0] of a and axes[1] of b: numpy's own transposes, reshapes and one matmul."""
    a, b = _array(a), _array(b)
    try:
        iter(axes)
    except TypeError:
        n = int(axes)
        axes_a, axes_b = list(range(-n, 0)), list(range(0, n))
    else:
        axes_a, axes_b = axes
    axes_a = [int(x) for x in axes_a] if isinstance(axes_a, (list, tuple, np.ndarray, range)) else [int(axes_a)]
    axes_b = [int(x) for x in axes_b] if isinstance(axes_b, (list, tuple, np.ndarray, range)) else [int(axes_b)]
    sa, sb = shape_of(a), shape_of(b)
    na, nb = len(sa), len(sb)
    if len(axes_a) != len(axes_b):
        raise ValueError("np.tensordot: shape-mismatch for sum (axes name "
                         f"{len(axes_a)} axes of a and {len(axes_b)} of b)")
    for k, (i, j) in enumerate(zip(axes_a, axes_b)):
        if not (-na <= i < na and -nb <= j < nb):
            raise np.exceptions.AxisError(f"np.tensordot: axes {i} of a {sa} and {j} of b {sb} out of range")
        if sa[i] != sb[j]:
            raise ValueError(f"np.tensordot: shape-mismatch for sum: axis {i} of a {sa} has {sa[i]}, axis {j} "
                             f"of b {sb} has {sb[j]}")
        axes_a[k], axes_b[k] = i % na, j % nb
    free_a = [k for k in range(na) if k not in axes_a]
    free_b = [k for k in range(nb) if k not in axes_b]
    inner = _size([sa[k] for k in axes_a])
    at = np.reshape(np.transpose(a, free_a + axes_a), (_size([sa[k] for k in free_a]), inner))
    bt = np.reshape(np.transpose(b, axes_b + free_b), (inner, _size([sb[k] for k in free_b])))
    return np.reshape(np.matmul(at, bt), tuple(sa[k] for k in free_a) + tuple(sb[k] for k in free_b))


def _aligned(name, sa, sb, ia, ib):
    if sa[ia] != sb[ib]:
        raise ValueError(f"{name}: shapes {sa} and {sb} not aligned: {sa[ia]} (dim {ia % len(sa)}) != "
                         f"{sb[ib]} (dim {ib % len(sb)})")


@composite(np.dot)
def dot(a, b, out=None):
    """dot = a · b for a scalar, else Σ over a's last axis and b's second-to-last (its only one if 1-d)."""
    no_out("np.dot", out)
    a, b = _array(a), _array(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return np.multiply(a, b)
    sa, sb = shape_of(a), shape_of(b)
    _aligned("np.dot", sa, sb, -1, 0 if nb == 1 else -2)
    if nb == 1 or (na <= 2 and nb == 2):  # matmul's own meaning: (..., n) @ (n,), (m, n) @ (n, p)
        return np.matmul(a, b)
    return tensordot(a, b, ([na - 1], [nb - 2]))


@composite(np.inner)
def inner(a, b):
    """inner = a · b for a scalar, else Σ over the last axes of both."""
    a, b = _array(a), _array(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return np.multiply(a, b)
    _aligned("np.inner", shape_of(a), shape_of(b), -1, -1)
    if na == 1 and nb == 1:
        return np.matmul(a, b)
    return tensordot(a, b, ([na - 1], [nb - 1]))


@composite(np.vdot)
def vdot(a, b):
    """vdot = Σ a.ravel() · b.ravel() (real numbers: the conjugate is the number itself)."""
    fa, fb = np.reshape(_array(a), -1), np.reshape(_array(b), -1)
    if shape_of(fa) != shape_of(fb):
        raise ValueError(f"np.vdot: vectors have different lengths ({shape_of(fa)[0]} and {shape_of(fb)[0]})")
    return np.matmul(fa, fb)


@composite(np.outer)
def outer(a, b, out=None):
    """outer[i, j] = a.ravel()[i] · b.ravel()[j]."""
    no_out("np.outer", out)
    return np.multiply(np.reshape(_array(a), (-1, 1)), np.reshape(_array(b), (1, -1)))


@composite(np.linalg.outer)
def linalg_outer(x1, x2, /):
    """np.linalg.outer: np.outer of two 1-d arrays."""
    x1, x2 = _array(x1), _array(x2)
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError("np.linalg.outer: input arrays must be one-dimensional, but they are "
                         f"x1.ndim={ndim_of(x1)} and x2.ndim={ndim_of(x2)}")
    return outer(x1, x2)


@composite(np.kron)
def kron(a, b):
    """kron[i·sb + j] = a[i] · b[j] per axis: the product of a and b broadcast on interleaved axes, reshaped."""
    a, b = _array(a), _array(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return np.multiply(a, b)
    nd = max(na, nb)
    sa = (1,) * (nd - na) + tuple(shape_of(a))
    sb = (1,) * (nd - nb) + tuple(shape_of(b))
    a2 = np.reshape(a, tuple(x for n in sa for x in (n, 1)))
    b2 = np.reshape(b, tuple(x for n in sb for x in (1, n)))
    return np.reshape(np.multiply(a2, b2), tuple(m * n for m, n in zip(sa, sb)))


@composite(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """a × b = (a₁b₂ - a₂b₁, a₂b₀ - a₀b₂, a₀b₁ - a₁b₀), a 2-vector's third component taken as 0."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _array(a), _array(b)
    if ndim_of(a) < 1 or ndim_of(b) < 1:
        raise ValueError("np.cross: at least one array has zero dimension")
    a = np.moveaxis(a, normalize_axes(axisa, ndim_of(a))[0], -1)
    b = np.moveaxis(b, normalize_axes(axisb, ndim_of(b))[0], -1)
    da, db = shape_of(a)[-1], shape_of(b)[-1]
    if da not in (2, 3) or db not in (2, 3):
        raise ValueError(f"np.cross: incompatible dimensions for cross product (dimension must be 2 or 3, got "
                         f"{da} and {db})")
    if da == 2 or db == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional vectors "
                      "instead. (deprecated in NumPy 2.0)", DeprecationWarning, stacklevel=3)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    c2 = a0 * b1 - a1 * b0
    if da == 2 and db == 2:
        return c2  # the z component alone
    if da == 3 and db == 3:
        a2, b2 = a[..., 2], b[..., 2]
        c0, c1 = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif da == 2:
        b2 = b[..., 2]
        c0, c1 = a1 * b2, -(a0 * b2)
    else:
        a2 = a[..., 2]
        c0, c1 = -(a2 * b1), a2 * b0
    c = np.stack([c0, c1, c2], axis=-1)  # (each of the broadcast shape of a's and b's stacks)
    return np.moveaxis(c, -1, normalize_axes(axisc, ndim_of(c))[0])


# =============================================================================================================
# numpy 2's array-API names (np.linalg.*): the same maps, with their stricter checks
# =============================================================================================================

@composite(np.linalg.matmul)
def linalg_matmul(x1, x2, /):
    return np.matmul(_array(x1), _array(x2))


@composite(np.linalg.vecdot)
def linalg_vecdot(x1, x2, /, *, axis=-1):
    """vecdot = Σ x1 · x2 over ``axis`` of each (real numbers: the conjugate is the number itself)."""
    x1, x2 = _array(x1), _array(x2)
    if ndim_of(x1) < 1 or ndim_of(x2) < 1:
        raise ValueError("np.linalg.vecdot: an operand has 0 dimensions, it needs at least the vector axis")
    x1 = np.moveaxis(x1, normalize_axes(axis, ndim_of(x1))[0], -1)
    x2 = np.moveaxis(x2, normalize_axes(axis, ndim_of(x2))[0], -1)
    if shape_of(x1)[-1] != shape_of(x2)[-1]:  # (the vector axis is a core dimension: it does not broadcast)
        raise ValueError(f"np.linalg.vecdot: the vectors along axis {axis} have different lengths "
                         f"({shape_of(x1)[-1]} and {shape_of(x2)[-1]})")
    return np.sum(np.multiply(x1, x2), axis=-1)


@composite(np.linalg.cross)
def linalg_cross(x1, x2, /, *, axis=-1):
    """np.cross of 3-vectors only."""
    x1, x2 = _array(x1), _array(x2)
    n1, n2 = shape_of(x1)[axis], shape_of(x2)[axis]
    if n1 != 3 or n2 != 3:
        raise ValueError(f"np.linalg.cross: both input arrays must be (arrays of) 3-dimensional vectors, but they "
                         f"are {n1} and {n2} dimensional instead")
    return cross(x1, x2, axis=axis)


# =============================================================================================================
# numpy 2's generalized ufuncs np.vecdot, np.matvec, np.vecmat: ufuncs reach __array_ufunc__, not the function
# tables, so each mode's ufunc dispatch looks them up here
# =============================================================================================================

def _gufunc_keywords(name, kwargs, allowed=()):
    for k, v in kwargs.items():
        if k == "out":
            no_out(name, v)
        elif k not in allowed and not (k in ("casting", "order", "subok", "dtype") and v in (None, "same_kind", "K",
                                                                                                  True)):
            raise TypeError(f"{name} with derivatives does not take {k}= (not supported); call it without")


def _vecdot_ufunc(x1, x2, **kwargs):
    """np.vecdot(x1, x2, axis=-1) = Σ x1 · x2 over the vector axis."""
    _gufunc_keywords("np.vecdot", kwargs, ("axis",))
    return linalg_vecdot(x1, x2, axis=kwargs.get("axis", -1))


def _matvec_ufunc(x1, x2, **kwargs):
    """np.matvec(A, v) = A v over the last two axes of A and the last of v, the stacks broadcast."""
    _gufunc_keywords("np.matvec", kwargs)
    x1, x2 = _array(x1), _array(x2)
    if ndim_of(x1) < 2 or ndim_of(x2) < 1:
        raise ValueError(f"np.matvec: needs a matrix (stack) and a vector (stack), got shapes {shape_of(x1)} and "
                         f"{shape_of(x2)}")
    return np.matmul(x1, np.expand_dims(x2, -1))[..., 0]


def _vecmat_ufunc(x1, x2, **kwargs):
    """np.vecmat(v, A) = vᵀ A over the last axis of v and the last two of A, the stacks broadcast."""
    _gufunc_keywords("np.vecmat", kwargs)
    x1, x2 = _array(x1), _array(x2)
    if ndim_of(x1) < 1 or ndim_of(x2) < 2:
        raise ValueError(f"np.vecmat: needs a vector (stack) and a matrix (stack), got shapes {shape_of(x1)} and "
                         f"{shape_of(x2)}")
    return np.matmul(np.expand_dims(x1, -2), x2)[..., 0, :]


#: ufunc -> handler(*inputs, **kwargs), for the ufunc dispatch of both modes (a ufunc never reaches HANDLED)
UFUNCS = {u: h for u, h in ((getattr(np, "vecdot", None), _vecdot_ufunc), (getattr(np, "matvec", None), _matvec_ufunc),
                            (getattr(np, "vecmat", None), _vecmat_ufunc)) if u is not None}
