"""Every numpy function dualnum handles agrees with numpy: same shape, same numbers, and derivatives equal to
central differences of numpy's own function, in forward mode (DualArray, and scalar Dual for 0-d inputs) and
in reverse mode (Tracked, through tracker.gradient).

The tables ``dualarray.HANDLED`` and ``tracked.HANDLED`` are iterated, so a new handler is checked as soon as
it is registered; one without cases here fails ``test_every_handled_function_has_cases``. Where numpy raises,
the handler must raise TypeError/ValueError too; a handler may refuse (a clear TypeError naming the function)
only the cases marked ``may_refuse`` below.
"""
import itertools
import sys
import warnings

import numpy as np
import pytest

import dualnum
from dualnum.forward import dualarray
from dualnum.reverse import tracked
from dualnum import tracker
from dualnum.forward.dual import Dual
from dualnum.forward.dualarray import DualArray
from dualnum._numpy.protocol import fname
from dualnum.reverse.tracked import Tracked

SHAPES = [(), (3,), (2, 3), (2, 3, 4)]
RTOL, ATOL, H = 1e-5, 1e-6, 1e-6


def data(shape, salt=0):
    """Distinct values in about ±2, away from 0 and from each other (no ties for max/sort/clip)."""
    rng = np.random.default_rng(abs(hash((shape, salt))) % 2**32)
    n = int(np.prod(shape))
    v = np.sort(rng.uniform(0.2, 2.0, n)) * rng.choice([-1.0, 1.0], n)
    v = rng.permutation(v + np.arange(n) * 1e-3)
    return float(v[0]) if shape == () else v.reshape(shape)


class Case:
    """``call(f, xs)`` evaluates the function on the inputs ``xs`` (plain, dual or tracked); ``arrays`` are
    their plain values."""

    def __init__(self, label, arrays, call, may_refuse=False):
        self.label, self.arrays, self.call, self.may_refuse = label, arrays, call, may_refuse


CASES = {}


def cases(*funcs):
    def register(gen):
        for f in funcs:
            CASES.setdefault(f, []).append(gen)
        return gen
    return register


def axes_of(nd):
    if nd == 0:  # (numpy's ufunc reductions take axis=0 of a 0-d array, its other functions refuse it)
        return [None]
    out = [None] + list(range(-nd, nd)) + [nd]  # nd: out of range, numpy raises
    if nd >= 2:
        out += [(0, nd - 1), (-1, 0), ()]
    return out


# ---- reductions ----------------------------------------------------------------------------------------------

@cases(np.sum, np.mean, np.max, np.amax, np.min, np.amin, np.prod, np.var, np.std)
def reductions(f):
    for shape in SHAPES:
        x = data(shape)
        for axis in axes_of(len(shape)):
            for keepdims in (False, True):
                yield Case(f"{shape} axis={axis} keepdims={keepdims}", [x],
                           lambda f, xs, a=axis, k=keepdims: f(xs[0], axis=a, keepdims=k))
        yield Case(f"{shape} positional axis", [x], lambda f, xs, nd=len(shape): f(xs[0], nd - 1 if nd else None))
        name = {"amax": "max", "amin": "min"}.get(f.__name__, f.__name__)
        if shape and name in ("sum", "mean", "prod", "max", "min"):  # x.sum(): the method reaches the handler
            yield Case(f"{shape} method", [x], lambda f, xs, m=name: getattr(xs[0], m)(axis=0))
        if f in (np.var, np.std):
            for ddof in (0, 1):
                yield Case(f"{shape} ddof={ddof}", [x], lambda f, xs, d=ddof: f(xs[0], ddof=d))
                yield Case(f"{shape} positional ddof={ddof}", [x], lambda f, xs, d=ddof: f(xs[0], None, None, None, d))
                yield Case(f"{shape} axis=0 correction={ddof}", [x],
                           lambda f, xs, d=ddof: f(xs[0], axis=0 if np.ndim(xs[0]) else None, correction=d))
            if shape:
                yield Case(f"{shape} mean=", [x, np.expand_dims(np.mean(x, axis=0), 0)],
                           lambda f, xs: f(xs[0], axis=0, keepdims=True, mean=xs[1]))
        if f in (np.max, np.amax, np.min, np.amin, np.sum, np.prod):
            yield Case(f"{shape} initial=0.5", [x], lambda f, xs: f(xs[0], initial=0.5), may_refuse=True)
            if shape:
                mask = data(shape, 3) > 0
                mask.flat[0] = True
                yield Case(f"{shape} where=mask", [x], lambda f, xs: f(xs[0], where=mask, initial=0.5),
                           may_refuse=True)
        if f is np.mean and shape:
            mask = data(shape, 3) > 0
            mask.flat[0] = True
            yield Case(f"{shape} where=mask", [x], lambda f, xs: f(xs[0], where=mask), may_refuse=True)
        yield Case(f"{shape} out=", [x], lambda f, xs: f(xs[0], out=np.zeros(())) if not np.ndim(xs[0])
                   else f(xs[0], axis=None, out=np.zeros(())), may_refuse=True)
        yield Case(f"{shape} dtype=float64", [x],
                   lambda f, xs: f(xs[0], dtype=np.float64) if f not in (np.max, np.amax, np.min, np.amin)
                   else f(xs[0]))


@cases(np.cumsum, np.cumprod)
def running(f):
    for shape in SHAPES:
        x = data(shape)
        for axis in axes_of(len(shape))[:len(shape) * 2 + 2]:
            yield Case(f"{shape} axis={axis}", [x], lambda f, xs, a=axis: f(xs[0], axis=a))
        if shape and f is np.cumprod:
            z = np.array(x, dtype=float)
            z.flat[0] = 0.0  # a zero: the products after it are 0, their derivatives are not
            yield Case(f"{shape} with a zero", [z], lambda f, xs: f(xs[0], axis=-1))


@cases(np.linalg.norm)
def norm(f):
    for shape in SHAPES:
        x = data(shape)
        nd = len(shape)
        for ord in (None, 2, 1, np.inf, -np.inf, 3, 0.5, "fro", "nuc", -1, 0):
            for axis in [None] + list(range(nd)) + ([(0, 1), (-1, 0)] if nd >= 2 else []):
                for keepdims in (False, True):
                    yield Case(f"{shape} ord={ord} axis={axis} keepdims={keepdims}", [x],
                               lambda f, xs, o=ord, a=axis, k=keepdims: f(xs[0], ord=o, axis=a, keepdims=k),
                               may_refuse=ord in ("nuc", 0) or (ord in (2, -2) and isinstance(axis, tuple))
                               or (ord == 2 and nd == 2 and axis is None))
        yield Case(f"{shape} positional", [x], lambda f, xs: f(xs[0], None))


# ---- products ------------------------------------------------------------------------------------------------

PAIRS = [(a, b) for a in SHAPES + [(3, 2), (4,), (4, 2)] for b in SHAPES + [(3, 2), (4,), (3, 4, 2)]]


def binary(f, pairs=PAIRS, consts=True):
    for sa, sb in pairs:
        a, b = data(sa, 1), data(sb, 2)
        yield Case(f"{sa} {sb}", [a, b], lambda f, xs: f(xs[0], xs[1]))
        if consts:  # one operand a plain constant (a Python float when 0-d)
            yield Case(f"{sa} {sb}, second constant", [a], lambda f, xs, b=b: f(xs[0], b))
            yield Case(f"{sa} {sb}, first constant", [b], lambda f, xs, a=a: f(a, xs[0]))


cases(np.dot, np.inner, np.vdot, np.outer, np.matmul)(binary)


@cases(np.where)
def where(f):
    for sc, sx, sy in [((3,), (3,), (3,)), ((2, 3), (3,), ()), ((2, 3, 4), (4,), (2, 3, 4)), ((), (2, 3), (2, 3)),
                       ((3,), (2,), (3,))]:
        c = data(sc, 5) > 0
        x, y = data(sx, 1), data(sy, 2)
        yield Case(f"{sc} {sx} {sy}", [x, y], lambda f, xs, c=c: f(c, xs[0], xs[1]))
        yield Case(f"{sc} {sx} {sy} y constant", [x], lambda f, xs, c=c, y=y: f(c, xs[0], y))
        yield Case(f"{sc} {sx} {sy} x constant", [y], lambda f, xs, c=c, x=x: f(c, x, xs[0]))
    for shape in SHAPES:
        x = data(shape)
        yield Case(f"{shape} condition is the array", [x], lambda f, xs: f(xs[0] > 0.5))
        yield Case(f"{shape} condition from the array", [x], lambda f, xs: f(xs[0] > 0.5, xs[0], 0.0))


@cases(np.clip)
def clip(f):
    for shape in SHAPES:
        x = data(shape)
        for lo, hi in [(-0.5, 0.5), (None, 0.5), (-0.5, None), (0.5, -0.5)]:
            yield Case(f"{shape} {lo} {hi}", [x], lambda f, xs, lo=lo, hi=hi: f(xs[0], lo, hi))
            yield Case(f"{shape} min={lo} max={hi}", [x], lambda f, xs, lo=lo, hi=hi: f(xs[0], min=lo, max=hi))
        yield Case(f"{shape} None None", [x], lambda f, xs: f(xs[0], None, None))
        yield Case(f"{shape} no bounds", [x], lambda f, xs: f(xs[0]))
        yield Case(f"{shape} a_min only", [x], lambda f, xs: f(xs[0], -0.5))
        yield Case(f"{shape} a_max=", [x], lambda f, xs: f(xs[0], a_max=0.5))
        if shape:
            lo, hi = data(shape[-1:], 3) * 0.3 - 0.5, data(shape[-1:], 4) * 0.3 + 0.5
            yield Case(f"{shape} array bounds", [x, lo, hi], lambda f, xs: f(xs[0], xs[1], xs[2]))
            yield Case(f"{shape} scalar x, array bounds", [0.1, lo, hi], lambda f, xs: f(xs[0], xs[1], xs[2]))
        yield Case(f"{shape} method", [x], lambda f, xs: xs[0].clip(-0.5, 0.5) if hasattr(xs[0], "clip")
                   else f(xs[0], -0.5, 0.5))


# ---- NaN-skipping reductions, ptp, average -----------------------------------------------------------------------

@cases(np.nansum, np.nanmean, np.nanmax, np.nanmin, np.nanprod, np.nanvar, np.nanstd, np.ptp)
def nan_reductions(f):
    for shape in SHAPES:
        x = data(shape)
        holed = np.array(x, dtype=float)
        if shape:
            holed.flat[1 if holed.size > 1 else 0] = np.nan  # one NaN, which the nan-functions skip
        for arr, label in ((x, ""), (holed, " with a NaN")):
            for axis in axes_of(len(shape))[:len(shape) + 2]:
                for keepdims in (False, True):
                    yield Case(f"{shape}{label} axis={axis} keepdims={keepdims}", [arr],
                               lambda f, xs, a=axis, k=keepdims: f(xs[0], axis=a, keepdims=k))
        if f in (np.nanvar, np.nanstd):
            yield Case(f"{shape} ddof=1", [holed], lambda f, xs: f(xs[0], ddof=1))


@cases(np.nan_to_num, np.real, np.imag)
def nan_to_num(f):
    for shape in SHAPES:
        x = np.array(data(shape), dtype=float)
        yield Case(f"{shape}", [x], lambda f, xs: f(xs[0]))
        if x.size >= 3:
            holes = x.copy()
            holes.flat[:3] = [np.nan, np.inf, -np.inf]
            yield Case(f"{shape} nan/inf", [holes], lambda f, xs: f(xs[0]))
            if f is np.nan_to_num:
                yield Case(f"{shape} nan/inf replaced by", [holes],
                           lambda f, xs: f(xs[0], nan=1.5, posinf=9.0, neginf=-9.0))


@cases(np.average)
def average(f):
    for shape in SHAPES:
        x = data(shape)
        yield Case(f"{shape}", [x], lambda f, xs: f(xs[0]))
        if shape:
            w = data(shape, 5) ** 2 + 0.1
            yield Case(f"{shape} weights", [x, w], lambda f, xs: f(xs[0], weights=xs[1]))
            yield Case(f"{shape} axis=0 weights", [x, w], lambda f, xs: f(xs[0], axis=0, weights=xs[1]))
            w1 = data(shape[-1:], 6) ** 2 + 0.1
            yield Case(f"{shape} axis=-1 1-d weights", [x, w1], lambda f, xs: f(xs[0], axis=-1, weights=xs[1]))
            yield Case(f"{shape} returned", [x, w], lambda f, xs: f(xs[0], axis=0, weights=xs[1], returned=True))
            yield Case(f"{shape} no axis, 1-d weights", [x, w1], lambda f, xs: f(xs[0], weights=xs[1]))


# ---- splitting ---------------------------------------------------------------------------------------------------

@cases(np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit)
def splitting(f):
    for shape in [(), (6,), (4, 6), (2, 4, 6), (5,)]:
        x = data(shape)
        for how in (2, 3, 4, 0, [1, 3], [2], [], [-2], [1, 9]):
            yield Case(f"{shape} {how}", [x], lambda f, xs, h=how: f(xs[0], h))
        if f in (np.split, np.array_split) and len(shape) > 1:
            for axis in (1, -1, len(shape)):
                yield Case(f"{shape} 2 axis={axis}", [x], lambda f, xs, a=axis: f(xs[0], 2, axis=a))


@cases(np.append)
def appending(f):
    for sa, sb in [((3,), (2,)), ((2, 3), (3,)), ((), ()), ((2, 3), (1, 3)), ((2, 3), (2, 2))]:
        arrays = [data(sa), data(sb, 1)]
        yield Case(f"{sa} {sb}", arrays, lambda f, xs: f(xs[0], xs[1]))
        yield Case(f"{sa} {sb} axis=0", arrays, lambda f, xs: f(xs[0], xs[1], axis=0))
        yield Case(f"{sa} {sb} axis=-1", arrays, lambda f, xs: f(xs[0], xs[1], axis=-1))
        yield Case(f"{sa} {sb} constant values", arrays[:1], lambda f, xs, b=arrays[1]: f(xs[0], b))


# ---- joining ---------------------------------------------------------------------------------------------------

JOIN_SETS = [[(), ()], [(), (3,)], [(3,), (3,)], [(3,), (2,)], [(2, 3), (2, 3)], [(2, 3), (3,)], [(2, 3), (4, 3)],
             [(2, 3), (2, 4)], [(2, 3, 4), (2, 3, 4)], [(2, 3, 4), (1, 3, 4)], [(3,)], [(2, 3), ()]]


@cases(np.concatenate, np.stack, np.vstack, np.hstack, np.atleast_1d, np.atleast_2d, np.atleast_3d,
       np.dstack, np.column_stack)
def joining(f):
    many = f in (np.atleast_1d, np.atleast_2d, np.atleast_3d)
    for shapes in JOIN_SETS:
        arrays = [data(s, i) for i, s in enumerate(shapes)]
        if many:
            yield Case(f"{shapes}", arrays, lambda f, xs: f(*xs))
            continue
        kws = [{}] if f not in (np.concatenate, np.stack) else [{}, {"axis": -1}, {"axis": 1}, {"axis": None}]
        for kw in kws:
            yield Case(f"{shapes} {kw}", arrays, lambda f, xs, kw=kw: f(list(xs), **kw))
            if len(arrays) > 1:
                yield Case(f"{shapes} {kw} tuple, first constant", arrays[1:],
                           lambda f, xs, kw=kw, a=arrays[0]: f((a,) + tuple(xs), **kw))


# ---- shapes ----------------------------------------------------------------------------------------------------

def unary(shapes, *calls, may_refuse=False):
    """A generator of cases: every shape times every ``(label, call(f, x, nd))``."""
    def gen(f):
        for shape in shapes:
            x = data(shape)
            for label, call in calls:
                yield Case(f"{shape} {label}", [x], lambda f, xs, c=call, nd=len(shape): c(f, xs[0], nd),
                           may_refuse=may_refuse)
    return gen


cases(np.reshape)(unary(SHAPES, ("-1", lambda f, x, nd: f(x, -1)), ("(1, -1)", lambda f, x, nd: f(x, (1, -1))),
                        ("shape=", lambda f, x, nd: f(x, shape=(-1, 1))),
                        ("wrong size", lambda f, x, nd: f(x, (5, 7))),
                        ("method", lambda f, x, nd: x.reshape(-1, 1) if hasattr(x, "reshape") else f(x, (-1, 1)))))
cases(np.ravel)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("order=C", lambda f, x, nd: f(x, order="C")),
                      ("order=F", lambda f, x, nd: f(x, order="F"))))
cases(np.transpose)(unary(SHAPES, ("", lambda f, x, nd: f(x)),
                          ("reversed axes", lambda f, x, nd: f(x, tuple(range(nd))[::-1])),
                          ("negative axes", lambda f, x, nd: f(x, tuple(range(-1, -nd - 1, -1)))),
                          ("rotated", lambda f, x, nd: f(x, tuple(range(1, nd)) + (0,) if nd else ())),
                          ("wrong axes", lambda f, x, nd: f(x, (0,) * (nd + 1)))))
cases(np.swapaxes)(unary(SHAPES[1:], ("0 -1", lambda f, x, nd: f(x, 0, -1)), ("-1 0", lambda f, x, nd: f(x, -1, 0)),
                         ("out of range", lambda f, x, nd: f(x, 0, nd))))
cases(np.moveaxis)(unary(SHAPES[1:], ("0 -1", lambda f, x, nd: f(x, 0, -1)), ("-1 0", lambda f, x, nd: f(x, -1, 0)),
                         ("tuples", lambda f, x, nd: f(x, (0, -1), (-1, 0)) if nd > 1 else f(x, (0,), (0,)))))
cases(np.squeeze)(unary([(), (3,), (1, 3), (2, 1, 4), (1, 1)], ("", lambda f, x, nd: f(x)),
                        ("axis=0", lambda f, x, nd: f(x, 0)), ("axis=-1", lambda f, x, nd: f(x, axis=-1)),
                        ("axis=(0,)", lambda f, x, nd: f(x, (0,)))))
cases(np.expand_dims)(unary(SHAPES, ("0", lambda f, x, nd: f(x, 0)), ("-1", lambda f, x, nd: f(x, -1)),
                            ("(0, -1)", lambda f, x, nd: f(x, (0, -1))), ("out of range", lambda f, x, nd: f(x, nd + 2))))
cases(np.broadcast_to)(unary(SHAPES, ("(2, 3, 4)", lambda f, x, nd: f(x, (2, 3, 4))),
                             ("(5, 2, 3, 4)", lambda f, x, nd: f(x, (5, 2, 3, 4))),
                             ("(4, 5)", lambda f, x, nd: f(x, (4, 5)))))
cases(np.copy)(unary(SHAPES, ("", lambda f, x, nd: f(x))))
cases(np.flip)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("0", lambda f, x, nd: f(x, 0)),
                     ("axis=-1", lambda f, x, nd: f(x, axis=-1)), ("(0, -1)", lambda f, x, nd: f(x, (0, -1)))))
cases(np.fliplr, np.flipud)(unary(SHAPES, ("", lambda f, x, nd: f(x))))
cases(np.roll)(unary(SHAPES, ("1", lambda f, x, nd: f(x, 1)), ("-2 axis=0", lambda f, x, nd: f(x, -2, axis=0)),
                     ("(1, 2) (0, -1)", lambda f, x, nd: f(x, (1, 2), (0, -1))),
                     ("5 axis=-1", lambda f, x, nd: f(x, 5, -1))))
cases(np.rot90)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("k=3 axes=(1, 0)", lambda f, x, nd: f(x, 3, (1, 0)))))
cases(np.tile)(unary(SHAPES, ("2", lambda f, x, nd: f(x, 2)), ("(2, 1)", lambda f, x, nd: f(x, (2, 1)))))
cases(np.repeat)(unary(SHAPES, ("2", lambda f, x, nd: f(x, 2)), ("2 axis=-1", lambda f, x, nd: f(x, 2, axis=-1)),
                       ("[1, 2, 0] axis=0", lambda f, x, nd: f(x, [1, 2, 0], axis=0))))
cases(np.diff)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("n=2 axis=0", lambda f, x, nd: f(x, n=2, axis=0)),
                     ("prepend=0", lambda f, x, nd: f(x, prepend=0.0)),
                     ("append=[1]", lambda f, x, nd: f(x, append=np.ones(np.shape(x)[:-1] + (1,))))))
cases(np.trace)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("offset=1", lambda f, x, nd: f(x, 1)),
                      ("axes (1, 2)", lambda f, x, nd: f(x, axis1=-2, axis2=-1))))
cases(np.diag)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("k=1", lambda f, x, nd: f(x, 1)),
                     ("k=-1", lambda f, x, nd: f(x, k=-1))))
cases(np.diagonal)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("offset=1", lambda f, x, nd: f(x, 1)),
                         ("axes -1 0", lambda f, x, nd: f(x, 0, -1, 0))))
cases(np.triu, np.tril)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("k=1", lambda f, x, nd: f(x, 1)),
                              ("k=-1", lambda f, x, nd: f(x, k=-1))))
cases(np.sort)(unary(SHAPES, ("", lambda f, x, nd: f(x)), ("axis=0", lambda f, x, nd: f(x, 0)),
                     ("axis=None", lambda f, x, nd: f(x, axis=None))))


@cases(np.take_along_axis)
def take_along_axis(f):
    for shape in SHAPES[1:]:
        x = data(shape)
        idx = np.argsort(data(shape, 9), axis=-1)[..., :2]
        yield Case(f"{shape} axis=-1", [x], lambda f, xs, i=idx: f(xs[0], i, -1))
        yield Case(f"{shape} axis=None", [x], lambda f, xs, i=idx: f(xs[0], i.ravel(), None))


# ---- values only, and constants --------------------------------------------------------------------------------

for _f in (np.shape, np.ndim, np.size, np.argsort, np.nonzero, np.isnan, np.isfinite, np.isinf, np.argwhere,
           np.flatnonzero, np.result_type, np.zeros_like, np.ones_like, np.empty_like):
    cases(_f)(unary(SHAPES, ("", lambda f, x, nd: f(x))))
cases(np.argmax, np.argmin, np.count_nonzero)(unary(SHAPES, ("", lambda f, x, nd: f(x)),
                                                    ("axis=-1", lambda f, x, nd: f(x, axis=-1) if nd else f(x)),
                                                    ("keepdims", lambda f, x, nd: f(x, axis=0, keepdims=True)
                                                     if nd else f(x))))
cases(np.size)(unary(SHAPES[1:], ("axis=0", lambda f, x, nd: f(x, 0))))
cases(np.isclose, np.allclose, np.array_equal)(lambda f: binary(f, [((3,), (3,)), ((2, 3), (3,)), ((), (2, 3))]))
cases(np.full_like)(unary(SHAPES, ("2.5", lambda f, x, nd: f(x, 2.5)), ("dtype=int", lambda f, x, nd: f(x, 2, dtype=int))))


@cases(np.full_like)
def full_like_dual_fill(f):
    for shape in SHAPES:
        yield Case(f"{shape} differentiable fill", [data(shape), 1.5], lambda f, xs: f(xs[0], xs[1]))


# =============================================================================================================
# the checks
# =============================================================================================================

def _flat(out):
    """A function's output as a list of leaves (tuples and lists of arrays, e.g. atleast_1d(a, b), nonzero)."""
    if isinstance(out, (tuple, list)):
        return [e for o in out for e in _flat(o)]
    return [out]


def _plain(o):
    """The plain value of an output leaf, and whether it is dual/tracked (so carries derivatives)."""
    return dualnum.value(o)


def _is_float(ref):
    return isinstance(ref, (float, np.floating)) or (isinstance(ref, np.ndarray) and ref.dtype.kind == "f")


def _equal(ref, got, where, f=None):
    if isinstance(ref, np.dtype) or isinstance(ref, tuple) and all(isinstance(e, int) for e in ref):
        assert ref == got, f"{where}: numpy gives {ref!r}, got {got!r}"
        return
    got = np.asarray(got)
    assert np.shape(ref) == got.shape, f"{where}: numpy gives shape {np.shape(ref)}, got {got.shape}"
    if f is np.empty_like:  # its values are whatever the memory held
        return
    if isinstance(ref, np.ndarray) and ref.dtype != np.dtype(object) and ref.dtype.kind in "biu":
        assert np.array_equal(ref, got), f"{where}: numpy gives {ref!r}, got {got!r}"
    else:
        np.testing.assert_allclose(got, ref, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=where)


def _evaluate(case, f, xs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case.call(f, xs)


def _jacobian_fd(case, f):
    """d(every output element)/d(every input element) by central differences of numpy's function."""
    base = [np.array(a, dtype=float) for a in case.arrays]
    outs = []
    for i, a in enumerate(base):
        for j in range(a.size):
            vals = []
            for s in (1, -1):
                xs = [b.copy() for b in base]
                xs[i].flat[j] += s * H
                xs = [float(x) if np.ndim(case.arrays[n]) == 0 else x for n, x in enumerate(xs)]
                vals.append([np.asarray(o, dtype=float) for o in _flat(_evaluate(case, f, xs))])
            outs.append([(p - m) / (2 * H) for p, m in zip(*vals)])
    return outs  # outs[input element][output leaf] -> array of the output leaf's shape


def _seed_forward(case, scalar_dual):
    n = sum(np.size(a) for a in case.arrays)
    eye, off, xs = np.eye(n), 0, []
    for a in case.arrays:
        m = np.size(a)
        p = eye[:, off:off + m].reshape((n,) + np.shape(a))
        if np.ndim(a) == 0 and scalar_dual:
            xs.append(Dual(float(a), *p.tolist()))
        else:
            xs.append(DualArray(np.array(a, dtype=float), p))
        off += m
    return xs


def _forward_parts(o, n):
    if type(o) is Dual:
        return np.array([float(p) for p in o.partials]) if o.partials else np.zeros(n)
    if isinstance(o, DualArray):
        return np.asarray(o.partials)
    return None  # a plain result: a constant


def check_forward(case, f, ref, jac, scalar_dual=False):
    mode = "forward (Dual)" if scalar_dual else "forward"
    out = _evaluate(case, f, _seed_forward(case, scalar_dual))
    leaves, refs = _flat(out), _flat(ref)
    assert len(leaves) == len(refs), f"{mode}: numpy returns {len(refs)} arrays, got {len(leaves)}"
    if isinstance(ref, tuple) != isinstance(out, tuple) and not isinstance(out, list):
        raise AssertionError(f"{mode}: numpy returns {type(ref).__name__}, got {type(out).__name__}")
    n = sum(np.size(a) for a in case.arrays)
    for i, (o, r) in enumerate(zip(leaves, refs)):
        _equal(r, _plain(o), f"{mode} value {i}", f)
        if not _is_float(r) or jac is None:
            continue
        p = _forward_parts(o, n)
        fd = np.stack([j[i] for j in jac]) if jac else np.zeros((0,) + np.shape(r))
        if p is None:
            p = np.zeros_like(fd)
        assert p.shape == fd.shape, f"{mode} partials {i}: shape {p.shape}, expected {fd.shape}"
        np.testing.assert_allclose(p, fd, rtol=RTOL, atol=ATOL, err_msg=f"{mode} derivative {i}")


def check_reverse(case, f, ref, jac):
    refs = _flat(ref)
    rng = np.random.default_rng(0)
    weights = [rng.uniform(0.5, 1.5, np.shape(r)) for r in refs]
    seen = []

    def loss(*xs):
        out = _evaluate(case, f, list(xs))
        seen.append(out)
        total = 0.0
        for o, r, w in zip(_flat(out), refs, weights):
            if _is_float(r):
                total = total + np.sum(o * w)
        return total if not isinstance(total, float) else np.sum(xs[0]) * 0.0
    args = [np.array(a, dtype=float) if np.ndim(a) else float(a) for a in case.arrays]
    if jac is None and _nan(ref):  # a NaN loss is refused by gradient: compare the values only
        loss(*[tracker.param(a) for a in args])
        grads = None
    else:
        grads = tracker.gradient(loss, *args)
    out = seen[0]
    leaves = _flat(out)
    assert len(leaves) == len(refs), f"reverse: numpy returns {len(refs)} arrays, got {len(leaves)}"
    for i, (o, r) in enumerate(zip(leaves, refs)):
        _equal(r, _plain(o), f"reverse value {i}", f)
    if jac is None:
        return
    expect = [sum(np.sum(j[i] * weights[i]) for i in range(len(refs)) if _is_float(refs[i])) for j in jac]
    got = np.concatenate([np.ravel(np.asarray(dualnum.value(g), dtype=float)) for g in grads])
    np.testing.assert_allclose(got, np.array(expect, dtype=float), rtol=RTOL, atol=ATOL,
                               err_msg="reverse gradient")


def _raises_clearly(mode, run):
    try:
        run()
    except (TypeError, ValueError, IndexError):
        return None
    except Exception as e:  # noqa: BLE001 -- anything else is not a clear error
        return f"{mode}: numpy raises, this raises {type(e).__name__}: {e}"
    return f"{mode}: numpy raises, this returns a result"


def _refused(e, f):
    """A refusal by design: a TypeError that says what is not supported."""
    return isinstance(e, TypeError) and ("not supported" in str(e) or "does not take" in str(e))


def run_case(case, f, every_mode=False):
    """Failures of one case as a list of strings (empty: agreement in every mode)."""
    problems = []
    modes = []
    if f in dualarray.HANDLED or every_mode:
        modes.append(("forward", lambda ref, jac: check_forward(case, f, ref, jac)))
        if any(np.ndim(a) == 0 for a in case.arrays):
            modes.append(("forward (Dual)", lambda ref, jac: check_forward(case, f, ref, jac, True)))
    if f in tracked.HANDLED or every_mode:
        modes.append(("reverse", lambda ref, jac: check_reverse(case, f, ref, jac)))
    try:
        ref = _evaluate(case, f, list(case.arrays))
    except Exception:  # noqa: BLE001 -- numpy refuses: so must we, clearly
        for mode, _ in modes:
            xs = (lambda m=mode: _seed_forward(case, m == "forward (Dual)")) if mode != "reverse" else None
            if mode == "reverse":
                msg = _raises_clearly(mode, lambda: tracker.gradient(
                    lambda *x: _evaluate(case, f, list(x)) and 0.0,
                    *[np.array(a, dtype=float) if np.ndim(a) else float(a) for a in case.arrays]))
            else:
                msg = _raises_clearly(mode, lambda xs=xs: _evaluate(case, f, xs()))
            if msg:
                problems.append(msg)
        return problems
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        floats = any(_is_float(r) for r in _flat(ref))
        jac = _jacobian_fd(case, f) if floats and not _nan(ref) and f is not np.empty_like else None
    for mode, check in modes:
        try:
            check(ref, jac)
        except AssertionError as e:
            problems.append(f"{mode}: {str(e).strip().splitlines()[0] if str(e).strip() else e!r}"
                            + "".join("\n      " + ln for ln in str(e).strip().splitlines()[1:8]))
        except Exception as e:  # noqa: BLE001
            if not (case.may_refuse and _refused(e, f)):
                problems.append(f"{mode}: raises {type(e).__name__}: {e}")
    return problems


def _nan(ref):
    return any(_is_float(r) and np.any(~np.isfinite(r)) for r in _flat(ref))


import cases_arrays, cases_contractions, cases_linalg  # noqa: E402  (more cases, by subject)

for _more in (cases_arrays, cases_contractions, cases_linalg):
    _more.register(sys.modules[__name__])

FUNCS = sorted(set(dualarray.HANDLED) | set(tracked.HANDLED), key=fname)


def test_every_handled_function_has_cases():
    missing = [fname(f) for f in FUNCS if f not in CASES]
    assert not missing, f"no agreement cases for {missing}: add them to tests/test_numpy_agreement.py"


@pytest.mark.parametrize("f", FUNCS, ids=fname)
def test_agrees_with_numpy(f):
    failures = []
    for gen in CASES.get(f, []):
        for case in gen(f):
            for p in run_case(case, f):
                failures.append(f"{fname(f)}[{case.label}] {p}")
    assert not failures, f"{len(failures)} disagreements:\n" + "\n".join(failures[:25])


# ---- the ndarray-style methods (x.sum(0), x.reshape(2, 3), x.T, ...) agree with ndarray's ----------------------

def _method(name, *args, **kwargs):
    return lambda f, xs: getattr(xs[0], name)(*args, **kwargs) if name != "T" else xs[0].T


METHOD_CASES = {
    "sum": [(), (0,), ((0, 1),), ({"axis": -1, "keepdims": True})], "mean": [(), (0,), ({"keepdims": True})],
    "prod": [(), (1,)], "max": [(), (0,), ({"axis": 1, "keepdims": True})], "min": [(), (-1,)],
    "reshape": [(6, 4), ((3, -1),), (-1,)], "transpose": [(), ((1, 0, 2),), (2, 0, 1)], "ravel": [()],
    "flatten": [()], "squeeze": [(), (0,)], "clip": [(-0.5, 0.5), (None, 0.5)], "cumsum": [(), (1,)],
    "dot": [("vector",)], "T": [()], "copy": [()], "astype": [(np.float64,)],
}


def test_every_array_method_has_cases():
    from dualnum._numpy.arraymethods import ArrayMethods
    names = {n for n in dir(ArrayMethods) if not n.startswith("_")} | {"copy", "astype"}
    assert not names - set(METHOD_CASES), f"no agreement cases for the methods {sorted(names - set(METHOD_CASES))}"


@pytest.mark.parametrize("name", sorted(METHOD_CASES))
def test_array_methods_agree_with_ndarray(name):
    failures = []
    x = data((2, 3, 4))
    for spec in METHOD_CASES[name]:
        args, kwargs = (spec, {}) if isinstance(spec, tuple) else ((), spec)
        arrays = [x]
        if args == ("vector",):
            args, arrays = (), [x, data((4,), 1)]
            call = lambda f, xs: xs[0].dot(xs[1])  # noqa: E731
        else:
            call = _method(name, *args, **kwargs)
        case = Case(f"x.{name}{args or ''}{kwargs or ''}", arrays, call)
        for p in run_case(case, None, every_mode=True):
            failures.append(f"{case.label} {p}")
    assert not failures, "\n".join(failures)


# ---- ufunc.reduce (np.add.reduce(x) reduces axis 0, np.sum(x) everything) ---------------------------------------

@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.maximum, np.minimum], ids=lambda u: u.__name__)
def test_ufunc_reduce_agrees_with_numpy(ufunc):
    failures = []
    for shape in SHAPES[1:]:
        x = data(shape)
        for kw in [{}, {"axis": None}, {"axis": -1}, {"axis": 0, "keepdims": True}, {"axis": (0, -1)},
                   {"initial": 0.5}, {"axis": 1}]:
            case = Case(f"np.{ufunc.__name__}.reduce {shape} {kw}", [x], lambda f, xs, kw=kw: ufunc.reduce(xs[0], **kw),
                        may_refuse="initial" in kw)
            for p in run_case(case, None, every_mode=True):
                failures.append(f"{case.label} {p}")
    assert not failures, "\n".join(failures[:20])


# ---- indexing -------------------------------------------------------------------------------------------------

INDICES = [0, -1, slice(None, None, -1), slice(1, None), (0, 1), (Ellipsis, 0), (None, 0), (slice(None), None),
           np.array([1, 0, 1]), [0, 0], (np.array([0, 1]), slice(None), np.array([1, 2])),
           (slice(None), np.array([0, 2])), (0, slice(None), np.array([3, 0])), np.array([True, False]),
           (np.array([[0], [1]]), np.array([0, 2])), (slice(None), 0, np.array([0, 3])), 5, (0, 0, 0, 0)]


@pytest.mark.parametrize("idx", INDICES, ids=repr)
def test_indexing_agrees_with_numpy(idx):
    x = data((2, 3, 4))
    case = Case(f"x[{idx!r}]", [x], lambda f, xs: xs[0][idx])
    failures = run_case(case, None, every_mode=True)
    assert not failures, "\n".join(failures)


def _set(idx, from_input):
    def call(f, xs):
        y = xs[0] * 1.0
        y[idx] = xs[1] if from_input else 0.25
        return y
    return call


@pytest.mark.parametrize("idx", [0, (1, 2), slice(1, None), (Ellipsis, 0), np.array([True, False]),
                                 (slice(None), np.array([0, 2])), ((0, 1), (2, 0))], ids=repr)
def test_item_assignment_agrees_with_numpy_in_forward_mode(idx):
    # (tracked values refuse item assignment by design: their recorded operations would go stale)
    x = data((2, 3, 4))
    z = data(np.shape(x[idx])[-1:], 4)
    for case in (Case(f"y[{idx!r}] = z", [x, z], _set(idx, True)), Case(f"y[{idx!r}] = 0.25", [x], _set(idx, False))):
        ref = _evaluate(case, None, list(case.arrays))
        check_forward(case, None, ref, _jacobian_fd(case, None))
