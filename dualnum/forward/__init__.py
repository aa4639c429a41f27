"""Forward-mode differentiation: seed dual numbers, run f once per chunk of inputs, read the partials off.

``derivative(f, x)`` seeds ``x + 1ε``; ``gradient``/``jacobian`` seed the n inputs in chunks of at most
``chunk`` directions per pass (one dual array carries the whole chunk), so the cost grows with the number of
inputs, about n / chunk evaluations of f. Every call draws a fresh tag, so calls nest without perturbation
confusion (second derivatives: dualnum/nested.py).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .dual import Dual, escaped_error
from .dualarray import DualArray, _stack_any, _stack_scalars, from_objects, readonly
from ..tags import LIVE, new_tag
from ..reverse.tracked import Tracked, peel_idle, value

#: ForwardDiff splits n inputs into chunks of at most 12 directions; array code pays a Python overhead per
#: pass, so larger chunks pay off here (see benchmarks/).
DEFAULT_CHUNK_THRESHOLD = 64
_F64 = np.dtype(np.float64)


def chunk_size(n: int, threshold: int = DEFAULT_CHUNK_THRESHOLD) -> int:
    """ForwardDiff's heuristic: all n at once if n ≤ threshold, else near-equal chunks of at most threshold."""
    if n <= threshold:
        return max(n, 1)
    nchunks = math.ceil(n / threshold)
    return math.ceil(n / nchunks)


# ---- input checking ---------------------------------------------------------------------------------------

def _describe(x):
    r = repr(x)
    return type(x).__name__ + " " + (r if len(r) < 40 else r[:37] + "...")


def as_input(x, fname, pos=None):
    """A differentiation input as float, float ndarray, or (nested) dual; students get a clear message."""
    if type(x) is np.ndarray and x.dtype is _F64 and x.ndim:  # the common case, checked first
        return readonly(x)  # no copy of the caller's array, and no way to write into it
    where = f"{fname}: argument {pos}" if pos is not None else f"{fname}: x"
    if type(x) is Dual or isinstance(x, DualArray):
        return x
    if getattr(x, "_is_device", False):  # a GPU array: differentiated where it lies
        if x.dtype.kind != "f":
            raise TypeError(f"{where} is a device array of dtype {x.dtype}; differentiate with respect to "
                            "floats (x.astype(np.float32))")
        return x
    if type(x) is Tracked:
        x = peel_idle(x)  # an nn weight or a param nobody differentiates: its numbers
        if type(x) is Tracked:  # reverse-over-forward: the input is being differentiated by tracker.gradient
            if x.shape != ():
                raise TypeError(
                    f"{where} is a tracked array that tracker.gradient is differentiating: forward mode inside a "
                    "reverse-mode gradient works for scalars only. For second derivatives of arrays use "
                    "dualnum.hessian(f, x, method=\"forward-over-reverse\") or tracker.gradient(..., nest=True).")
            return x
        return as_input(x, fname, pos)
    if isinstance(x, bool) or isinstance(x, np.bool_):
        raise TypeError(_bool_message(where))
    if isinstance(x, numbers.Real) and not isinstance(x, np.ndarray):
        return float(x)
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{where} is {_describe(x)}; expected a number or an array of numbers")
    if isinstance(x, numbers.Complex) and not isinstance(x, np.ndarray):
        raise TypeError(f"{where} is the complex number {x!r}; dualnum differentiates real functions, "
                        "split it into real and imaginary parts")
    if isinstance(x, (list, tuple)) and _holds_duals(x):
        return _stack_any([as_input(e, fname, pos) for e in x])
    try:
        arr = np.asarray(x)
    except ValueError as e:
        raise ValueError(f"{where} is a ragged nested list (its rows have different lengths), so it is not an "
                         f"array of numbers: {_describe(x)}") from e
    if arr.dtype.kind == "c":
        raise TypeError(f"{where} holds complex numbers; dualnum differentiates real functions")
    if arr.dtype.kind == "b":
        raise TypeError(_bool_message(where))
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where} must be a number or an array of numbers, got {_describe(x)} "
                        f"(dtype {arr.dtype})")
    if arr.ndim == 0:
        return float(arr)
    return readonly(np.asarray(arr, dtype=float))  # no copy of the caller's array, and no way to write into it


def _bool_message(where):
    return (f"{where} is a bool (or bool array); differentiate with respect to numbers, e.g. x.astype(float) if "
            "you mean 0 and 1")


def _check_chunk(chunk, fname):
    """chunk: None (the default heuristic) or a positive int, the number of directions per pass."""
    if chunk is None or (type(chunk) is int and chunk > 0):
        return chunk
    if isinstance(chunk, (int, np.integer)) and not isinstance(chunk, (bool, np.bool_)) and chunk > 0:
        return int(chunk)
    raise ValueError(f"{fname}: chunk must be a positive integer (the number of input directions carried per "
                     f"pass of f) or None for the default, got {chunk!r}")


def _holds_duals(xs):
    return any(type(e) is Dual or isinstance(e, DualArray) or
               (isinstance(e, (list, tuple)) and _holds_duals(e)) for e in xs)


_SCALARS = (float, Dual, Tracked)  # what as_input returns for a scalar (a Tracked only if it is one)


def _shape(x):
    return () if type(x) in _SCALARS else x.shape


def _size(x):
    return 1 if type(x) in _SCALARS else x.size


# ---- seeding and reading off ------------------------------------------------------------------------------

def _seed(x, offset, start, c, tag):
    """x as a dual whose direction j (0 ≤ j < c) is the unit vector of global input index start + j."""
    m = _size(x)
    if max(start, offset) >= min(start + c, offset + m):
        return x  # no direction of this chunk touches x: a constant in this pass
    if type(x) in _SCALARS:
        parts = [0.0] * c
        parts[offset - start] = 1.0
        return Dual._new(x, tuple(parts), tag)
    return DualArray._new(x, _unit_block(c, m, start - offset, x).reshape((c,) + x.shape), tag)


_EYES: dict = {}


def _on_device(x):
    """x (or, for nested duals, the numbers inside it) lives on the GPU."""
    while type(x) is Dual or isinstance(x, DualArray):
        x = x.value
    return getattr(x, "_is_device", False)


def _unit_block(c, m, k, like=None):
    """P[j, i] = 1 where i = j + k, else 0 (np.eye(c, m, k)), read-only: c seed directions for m inputs."""
    if _on_device(like):  # seeds for a GPU input are made on the host once and sent there
        from ..backends.cuda import to_device
        return to_device(np.eye(c, m, k), dtype=np.dtype(like.dtype))
    if 0 <= k and k + c <= m <= 1024:  # rows k .. k + c of the m × m identity, which is kept: seeds repeat
        e = _EYES.get(m)
        if e is None:
            if len(_EYES) > 8:
                _EYES.clear()
            e = _EYES[m] = readonly(np.eye(m))  # at most 8 MiB
        return e if c == m else e[k:k + c]
    return readonly(np.eye(c, m, k))


def _check_escape(y, tag):
    """Every level of dual numbers in f's output belongs to this call, one in progress, or was built by hand (0)."""
    while type(y) is Dual or isinstance(y, DualArray):
        if y.tag != tag and y.tag and y.tag not in LIVE:
            raise escaped_error(y.tag)
        y = y.value


def _stack_partials(ps):
    if any(type(p) is Tracked for p in ps):  # reverse-over-forward: the partials are tracked values, kept so
        return np.stack([p if type(p) is Tracked else np.float64(p) for p in ps])
    return _stack_scalars(ps)


def _read(y, tag, c, fname):
    """(value, partials with shape (c,) + shape(y)) of f's output at this tag."""
    if type(y) is Tracked:
        y = peel_idle(y)  # model(x) wraps the result of a layer in the (inactive) level of its weights
        if type(y) is Tracked:  # a value of an outer reverse-mode level: a constant to this call, unless ...
            inner = y
            while type(inner) is Tracked:
                inner = inner.data
            if (type(inner) is Dual or isinstance(inner, DualArray)) and inner.tag in LIVE | {tag}:
                raise TypeError(  # ... the tracker recorded this call's duals as its constants: never drop them
                    f"{fname}: f returned a tracked value of an outer tracker.gradient holding this call's dual "
                    "numbers, whose derivative would be lost; the dual numbers must be the outer layer "
                    "(dualnum's levels: the newer call's values wrap the older's)")
            return y, np.zeros((c,) + y.shape)
    _check_escape(y, tag)
    if type(y) is Dual:
        if y.tag == tag:
            return y.value, _stack_partials(y.partials)
        return y, np.zeros(c)
    if isinstance(y, DualArray):
        if y.tag == tag:
            return y.value, y.partials
        return y, np.zeros((c,) + y.shape)
    if isinstance(y, (bool, np.bool_)) or isinstance(y, (str, bytes)) or y is None:
        raise TypeError(f"{fname}: f must return a number or an array of numbers, got {_describe(y)}")
    if isinstance(y, numbers.Real):
        return float(y), np.zeros(c)
    if isinstance(y, (list, tuple)) and _holds_duals(y):
        return _read(_stack_any(y), tag, c, fname)
    arr = np.asarray(y)
    if arr.dtype == object and any(type(e) is Dual or isinstance(e, DualArray) for e in arr.flat):
        return _read(from_objects(arr), tag, c, fname)  # np.array([x[0] * x[1], ...]) of dual numbers
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{fname}: f must return a number or an array of numbers, got {_describe(y)}")
    return arr.astype(float), np.zeros((c,) + arr.shape)


def _plain(x):
    """np.float64 and 0-d arrays as Python float; arrays and duals unchanged."""
    if isinstance(x, (np.floating, float)):
        return float(x)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return float(x)
    if isinstance(x, DualArray) and x.ndim == 0:
        return x[()]
    return x


# ---- the API ----------------------------------------------------------------------------------------------

def derivative(f, x, order: int = 1):
    """dᵒʳᵈᵉʳf/dxᵒʳᵈᵉʳ at a scalar x, by (nested) dual numbers. Returns a float, or an array if f returns one.

    x may be an array of points (a grid): then f must act elementwise, and the result is f⁽ᵒʳᵈᵉʳ⁾(xᵢ) at every
    point, in one pass of f per order; an f that mixes elements raises ValueError."""
    if not (type(x) is float and order == 1 and type(order) is int):  # checks skipped in the common case:
        if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 1:  # students feel µs
            raise ValueError(f"derivative: order must be an integer ≥ 1, got {order!r}")
        if order > 1:
            return derivative(lambda z: derivative(f, z, order - 1), x)
        x = as_input(x, "derivative")
        if isinstance(x, (np.ndarray, DualArray)) or _on_device(x):
            if x.ndim:
                return _on_grid(f, x)
            x = x[()]
    tag = new_tag()
    _live(tag)
    try:
        y = f(Dual._new(x, (1.0,), tag))
    finally:
        _done(tag)
    if type(y) is Dual and y.tag == tag:
        p = y.partials[0]
        return float(p) if type(p) is float else _plain(p)
    if isinstance(y, (tuple, list)):
        return type(y)(_plain(_read(e, tag, 1, "derivative")[1][0]) for e in y)
    return _plain(_read(y, tag, 1, "derivative")[1][0])


_live, _done = LIVE.add, LIVE.discard


# ---- derivatives on a grid ----------------------------------------------------------------------------------

class NotElementwiseError(ValueError, TypeError):
    """derivative(f, xs) on a grid, for an f that mixes elements. (Also a TypeError: an array x was refused
    with one before grids were allowed.)"""


def _on_grid(f, x):
    """f′(xᵢ) for every point of x, f elementwise: J is then diagonal, so one pass seeded with 1 everywhere gives
    diag(J). A second direction v, 2^eᵢ at random, rides along in the same pass and checks it: for an elementwise
    f, J·v = diag(J)⊙v exactly (a power of two scales every rounding alike), and f mixes elements if it differs."""
    v = _probe(x.size, x.shape)
    tag = new_tag()
    seeds = np.stack([np.ones(x.shape), v])
    if _on_device(x):
        from ..backends.cuda import to_device
        seeds = to_device(seeds, dtype=x.dtype)
        v = seeds[1]
    y = _call(f, tag, DualArray._new(x, seeds, tag))
    if isinstance(y, (tuple, list)) and not _holds_scalars(y):
        return type(y)(_grid_read(e, tag, x.shape, v) for e in y)  # f returned several curves
    return _grid_read(y, tag, x.shape, v)


def _holds_scalars(y):
    return all(_primal_shape(e) == () for e in y if not isinstance(e, (tuple, list)))


def _grid_read(y, tag, shape, v):
    yv, p = _read(y, tag, 2, "derivative")
    ys = _primal_shape(yv)
    d, dv = p[0], p[1]
    if ys != shape:
        if ys == () and not np.any(value(d)):  # a constant (f = lambda x: 2.0): slope 0 at every point
            return np.zeros(shape)
        raise NotElementwiseError(
            f"derivative(f, xs) with xs an array of shape {shape} (a grid of points) needs f to act elementwise, "
            f"returning one value per point, but f returned shape {ys}: perhaps you meant gradient(f, x) "
            "(scalar f of the whole array) or jacobian(f, x) (every output by every input)")
    a, b = value(d), value(dv)
    scaled = a * v
    with np.errstate(invalid="ignore"):
        off = np.abs(b - scaled) > 1e-12 * np.abs(scaled) + 1e-300
    if np.any(off):
        same_nonfinite = ~np.isfinite(a) & ((np.isnan(a) & np.isnan(b)) | (a * v == b))
        off &= ~same_nonfinite
    if np.any(off):
        i = np.unravel_index(int(np.argmax(off)), shape)
        raise NotElementwiseError(
            f"derivative(f, xs) with xs an array of shape {shape} (a grid of points) needs f to act elementwise "
            f"(result[i] depending on xs[i] only), but f mixes elements: result[{', '.join(map(str, i))}] depends "
            "on other points "
            "(np.sum, np.roll, np.cumsum, np.diff, x[::-1], @ and the like do that). Perhaps you meant "
            "gradient(f, x) (scalar f of the whole array) or jacobian(f, x) (every output by every input).")
    return d if type(d) is not np.ndarray or d.flags.writeable else d.copy()


_PROBES: dict = {}


def _probe(n, shape):
    """2^eᵢ, eᵢ in -8..7: all different on the first 16 points, random after them (fixed, so results repeat)."""
    v = _PROBES.get(n)
    if v is None:
        rng = np.random.default_rng(14)
        e = rng.integers(-8, 8, size=n)
        e[:min(n, 16)] = rng.permutation(16)[:min(n, 16)] - 8
        if len(_PROBES) > 8:
            _PROBES.clear()
        v = _PROBES[n] = readonly(np.ldexp(1.0, e))
    return v.reshape(shape)


def _call(f, tag, *args):
    """f(*args) while this tag is live: a dual of it found later, outside the call, has escaped."""
    _live(tag)
    try:
        return f(*args)
    finally:
        _done(tag)


def gradient(f, *args, chunk: int | None = None):
    """∇f for scalar f, with respect to every argument: a tuple, one entry per argument, each of its shape."""
    if chunk is not None:
        chunk = _check_chunk(chunk, "gradient")
    if len(args) == 1:  # the common case, one array, without the bookkeeping of several arguments
        x = as_input(args[0], "gradient", 1)
        if type(x) is np.ndarray and x.size:
            n = x.size
            c = min(chunk or chunk_size(n), n)
            pieces = []
            for start in range(0, n, c):
                cc = min(c, n - start)
                tag = new_tag()
                seeds = _unit_block(cc, n, start)
                y = _call(f, tag, DualArray._new(x, seeds if x.ndim == 1 else seeds.reshape((cc,) + x.shape), tag))
                pieces.append(_scalar_partials(y, tag, cc))
            g = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
            if type(g) is np.ndarray and not g.flags.writeable:
                g = g.copy()  # f returned a view of the seeds (f = lambda v: v.reshape(())): the caller owns g
            return (g if x.ndim == 1 and type(g) is np.ndarray else np.reshape(g, x.shape),)
    if not args:
        raise TypeError("gradient(f, *args) needs at least one argument to differentiate with respect to")
    xs = [as_input(a, "gradient", i + 1) for i, a in enumerate(args)]
    offsets = [0]
    for x in xs:
        offsets.append(offsets[-1] + _size(x))
    n = offsets[-1]
    c = chunk or chunk_size(n)
    pieces = []
    for start in range(0, n, c):
        cc = min(c, n - start)
        tag = new_tag()
        pieces.append(_scalar_partials(_call(f, tag, *[_seed(x, offsets[i], start, cc, tag)
                                                       for i, x in enumerate(xs)]), tag, cc))
    flat = pieces[0] if len(pieces) == 1 else _join(pieces) if pieces else np.zeros(0)
    out = []
    for i, x in enumerate(xs):
        g = flat[offsets[i]:offsets[i + 1]]
        out.append(_plain(g[0]) if type(x) in _SCALARS else
                   g.reshape(x.shape) if type(g) is np.ndarray else np.reshape(g, x.shape))
    return tuple(out)


def _scalar_partials(y, tag, c):
    """The c partials of f's output y at this tag, which must be a scalar."""
    if type(y) is DualArray and y.tag == tag and y._lazy is None and type(y._v) is np.ndarray and y._v.ndim == 0:
        return y._p  # np.sum's 0-d result, computed (the common case): its partials have shape (c,) already
    yv, p = _read(y, tag, c, "gradient")
    if _size_any(yv) != 1:
        raise ValueError(f"gradient(f, ...) needs f to return a scalar, but f returned an array of shape "
                         f"{_primal_shape(yv)}: perhaps you meant jacobian(f, x)")
    return p.reshape(c) if type(p) is np.ndarray else np.reshape(p, (c,))


def _size_any(y):
    return math.prod(_primal_shape(y))


def _primal_shape(y):
    if type(y) is np.ndarray:
        return y.shape
    return () if type(y) in (float, Dual) or np.isscalar(y) else y.shape


def _join(pieces):
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate(pieces, axis=0)


def jacobian(f, x, chunk: int | None = None):
    """J[i, j] = ∂fᵢ/∂xⱼ, shape f(x).shape + x.shape ((m, n) for f: Rⁿ → Rᵐ)."""
    chunk = _check_chunk(chunk, "jacobian")
    x = as_input(x, "jacobian")
    n = _size(x)
    c = chunk or chunk_size(n)
    pieces = []
    yshape = None
    if n == 0:  # no inputs, no directions: f's shape, and a jacobian of zeros
        yv, _ = _read(_call(f, -1, x), -1, 0, "jacobian")
        return np.zeros(tuple(_primal_shape(yv)) + _shape(x))
    for start in range(0, n, c):
        cc = min(c, n - start)
        tag = new_tag()
        yv, p = _read(_call(f, tag, _seed(x, 0, start, cc, tag)), tag, cc, "jacobian")
        yshape = _primal_shape(yv)
        pieces.append(p)
    J = _join(pieces)  # (n,) + yshape
    J = np.moveaxis(J, 0, -1) if len(yshape) else J
    J = np.reshape(J, tuple(yshape) + _shape(x))
    return _plain(J) if not yshape and not _shape(x) else J


def jvp(f, x, v):
    """(f(x), J(x)·v): the value and the directional derivative along v, in one forward pass."""
    x = as_input(x, "jvp")
    v = as_input(v, "jvp", "v")
    if _on_device(x) != _on_device(v):
        raise TypeError(f"jvp: x is on the {'GPU' if _on_device(x) else 'CPU'} but the tangent v on the "
                        f"{'GPU' if _on_device(v) else 'CPU'}; move both to one place (nn.gpu(v) or nn.cpu(x))")
    if _shape(v) != _shape(x):
        raise ValueError(f"jvp: the tangent v must have the shape of x, {_shape(x)}, got {_shape(v)}")
    tag = new_tag()
    if type(x) in _SCALARS:
        seeded = Dual._new(x, (v,), tag)
    else:
        seeded = DualArray._new(x, np.reshape(v, (1,) + _shape(x)) if isinstance(v, np.ndarray)
                                else np.expand_dims(v, 0), tag)
    y = _call(f, tag, seeded)
    if _separate(y):  # several results (eigh's values and vectors): a value and a tangent for each, as a tuple
        pairs = [_read(yi, tag, 1, "jvp") for yi in y]
        return tuple(_plain(yv) for yv, _ in pairs), tuple(_plain(p[0]) for _, p in pairs)
    yv, p = _read(y, tag, 1, "jvp")
    return _plain(yv), _plain(p[0])


def _separate(y):
    """f returned several results that are not one array: a named tuple, or a tuple of different shapes."""
    if type(y) is not tuple and not (isinstance(y, tuple) and hasattr(y, "_fields")):
        return False
    return hasattr(y, "_fields") or len({_primal_shape(e) if not isinstance(e, (list, tuple)) else None
                                         for e in y}) > 1


from .taylor import derivatives  # noqa: E402,F401  (Taylor mode: every order in one pass; it uses as_input)
