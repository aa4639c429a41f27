"""Tracked values: a number or array that remembers the operation that made it, for the reverse pass.

``Tracked(data)`` holds ``data`` (a float, a numpy array, a dual number, or -- when gradients are nested -- a
tracked value of an *older* level) plus the recipe of how it was computed: the operation ``_op`` and the
arguments ``_parents``. Ordinary numpy code runs on it through numpy's protocols, exactly as for
:class:`~dualnum.forward.dualarray.DualArray`; every ufunc goes to its rule in :mod:`dualnum.rules`, so the reverse
pass multiplies the incoming gradient by the *same* partial derivatives the dual numbers use::

    z = f(x, y)   records   (rule f, parents (x, y))
    backward:   x̄ += z̄ · ∂f/∂x(x, y, z),   ȳ += z̄ · ∂f/∂y(x, y, z)      (then undo broadcasting)

Structural operations (sum, reshape, indexing, ``@``, concatenate, ...) have no entry in the rules table: their
adjoints are written below, each next to its forward operation, except the maps that only move, copy or drop
elements (tile, rot90, triu, ...), whose adjoints come from :mod:`dualnum.linear`'s table, and the functions
with hand-written derivatives (:mod:`dualnum.primitive`). Every adjoint is itself written with numpy
operations, so when the data and gradients are tracked values of an outer level (``nest=True``), the backward
pass is recorded too and can be differentiated again.

Levels (tags) work as for the duals: every ``gradient`` call gets a fresh, larger tag; ``param`` makes tag 0.
When values of different levels meet, the larger tag is the outer layer and the other is a constant there.
"""
from __future__ import annotations

import itertools
import numbers
import operator
import sys
import threading

import numpy as np

from .. import functions, linear, rules
from .._numpy.arraymethods import ArrayMethods
from ..forward.dual import Dual, primal
from .._numpy.composites import make as _composites, prod
from ..forward.dualarray import DEFER_TO, DualArray, lift
from .._numpy.protocol import fname as _fname, registrar as _registrar, index_trick as _index_trick, ndim_of as _ndim, no_out as _no_out, \
    normalize_axes as _axes, shape_of as _shape, ufunc_extra as _ufunc_extra, \
    ufunc_reduce as _ufunc_reduce

_ADD, _SUB, _MUL, _DIV, _POW, _NEG, _ABS = (rules.RULES[n] for n in (
    "add", "subtract", "multiply", "true_divide", "power", "negative", "absolute"))
_Rule = rules.Rule


_NUMPY_METHODS = ("_methods.py",)  # numpy's own mean/var/std of object arrays (numpy/_core/_methods.py)


class _Consumed:
    """Marks a node whose graph a backward pass has already used (and freed)."""

    def __repr__(self):
        return "<consumed>"


CONSUMED = _Consumed()


class Watch:
    """A recorded operation that a tape (dualnum/tape.py: show, draw) is watching, in place of its ``_op``.

    The backward sweep calls it as any structural adjoint: it notes the gradient that reached the node (for
    each tape's line of it), runs the operation's own adjoint, and adds what went to a parameter into that
    parameter's line (a parameter's adjoint lives in the sweep's own dict). Only watched nodes pay for it.
    """

    __slots__ = ("op", "node", "lines", "sinks")

    def __init__(self, op, node):
        self.op, self.node, self.lines, self.sinks = op, node, [], []  # sinks: (argument position, its line)

    def __call__(self, g):
        for line in self.lines:
            line.grad = g
        op = self.op
        gs = _rule_vjp(op, self.node, g) if type(op) is _Rule else op(g)
        for i, line in self.sinks:
            gi = gs[i]
            if gi is not None:
                line.grad = gi if line.grad is None else line.grad + gi
        return gs

# ---- levels: which gradient calls are in progress -------------------------------------------------------------
#: tag (> 0) -> number of gradient calls in progress at that level. Each such tag belongs to one explicit
#: gradient call, so it is active in every thread that call's function may use.
ACTIVE: dict = {}
#: tag 0 is the parameters', which all threads share: an implicit gradient makes it active in its own thread
#: only, so float(W) in one thread is not refused because another thread is differentiating W
_PARAMS = threading.local()


def is_active(tag) -> bool:
    """True while a gradient call could still differentiate values of this level (in this thread, for tag 0)."""
    if tag:
        return tag in ACTIVE
    return getattr(_PARAMS, "depth", 0) > 0


def activate(tag):
    """A gradient call at level ``tag`` begins (pair with :func:`deactivate` in a ``finally``)."""
    if tag:
        ACTIVE[tag] = ACTIVE.get(tag, 0) + 1
    else:
        _PARAMS.depth = getattr(_PARAMS, "depth", 0) + 1


def deactivate(tag):
    if tag:
        n = ACTIVE.pop(tag, 1) - 1
        if n > 0:
            ACTIVE[tag] = n
    else:
        _PARAMS.depth -= 1


# =============================================================================================================
# the tracked value
# =============================================================================================================

class Tracked(ArrayMethods):
    """A value that records how it was computed. ``data`` is the value, ``grad`` the gradient ``back`` left."""

    __slots__ = ("data", "grad", "_parents", "_op", "_tag", "_g", "_seq", "_mark", "_name")
    __array_priority__ = 1000  # ndarray (op) Tracked: let numpy hand the operation to us
    _scalar_name = "tracked scalar"

    def __init__(self, data, tag: int = 0):
        self.data, self.grad, self._parents, self._op, self._tag, self._g = data, None, (), None, tag, None
        self._seq, self._mark = next(_counter), None

    # ---- array attributes --------------------------------------------------------------------------------
    shape = property(lambda self: _shape(self.data))
    ndim = property(lambda self: len(_shape(self.data)))
    size = property(lambda self: int(np.prod(_shape(self.data))))
    @property
    def dtype(self):
        d = self.data
        if type(d) is not np.ndarray and sys._getframe(1).f_code.co_filename.endswith(_NUMPY_METHODS):
            # np.mean of an object array of tracked scalars divides the sum by n, as ret.dtype.type(ret / n)
            # when the sum has a dtype: float64(ret) would drop the derivative, so a scalar has none there
            raise AttributeError("dtype")
        return getattr(d, "dtype", _FLOAT)

    @property
    def name(self):
        """The name given by ``param(x, name=...)`` (shown by repr, show and draw), or None."""
        return getattr(self, "_name", None)  # (an unset slot: nodes made by operations never pay for it)

    @property
    def is_leaf(self):
        """A parameter or input: made by ``param``/``gradient``, not by an operation."""
        return self._op is None

    # ---- display and conversion ----------------------------------------------------------------------------
    def __repr__(self):
        v = value(self)
        s = str(v) if np.ndim(v) == 0 else repr(v)
        name = getattr(self, "_name", None)
        return f"{name} = {s} (tracked)" if name else f"{s} (tracked)"

    __str__ = __repr__

    def __format__(self, spec):
        return format(value(self), spec) if spec else str(self)

    def __float__(self):
        if is_active(self._tag):
            raise TypeError(
                f"float() would drop the derivative of {self!r}: a gradient is being taken with respect to it. "
                "Tracked values cannot go into math.sin or plain float arrays; use numpy functions (np.sin(x)), "
                "build arrays with np.stack/np.concatenate (np.arange takes floats only: for a differentiable "
                "start write start + step * np.arange(n)), or call dualnum.value(x) to drop the derivative on "
                "purpose.")
        return float(self.data)

    def item(self):
        return float(self)

    def __int__(self):
        return int(value(self))  # int() is piecewise constant: its derivative is zero, nothing is lost

    def __bool__(self):
        return bool(value(self))

    def __array__(self, dtype=None, copy=None):
        if _shape(self.data) == ():
            # a scalar is kept whole, as an object: np.array([x0, 2 * x1]) is an array of tracked scalars (as of
            # Duals in forward mode), which numpy's object loops compute with and the tracker joins when they meet
            # (_from_objects); float() of it still refuses to drop a derivative
            box = np.empty((), dtype=object)
            box[()] = self
            return box
        d = peel_idle(self)
        if type(d) is not Tracked:
            # nobody differentiates it now (an nn model's output outside any gradient): its numbers lose nothing,
            # so plt.plot(x, model(x)) and np.asarray(model(x)) work; inside a gradient this still refuses
            d = np.asarray(d, dtype=dtype)
            return d.copy() if copy else d
        raise TypeError(
            f"np.asarray() of a tracked value ({self!r}) would drop its derivatives (this also happens when it "
            "is written into a plain float array or passed to code that needs plain floats). Keep it tracked: "
            "build arrays with np.stack/np.concatenate/np.where; use dualnum.tracker.value(x) (Flux's data) if "
            "you really want the numbers without the derivative." + _index_trick())

    def to_numpy(self):
        """The numbers, as a numpy array, of a value nobody differentiates now (matplotlib's hist, boxplot, ...
        and pandas read this); inside a gradient it refuses, as np.asarray and float do."""
        d = peel_idle(self)
        if type(d) is Tracked:
            return float(self) if _shape(self.data) == () else self.__array__()  # (each refuses, saying why)
        return np.asarray(d)

    def tolist(self):
        return self.to_numpy().tolist()

    def __setitem__(self, idx, val):
        refs = sys.getrefcount(self)  # (first: the count is compared with the same call's on a probe)
        _write(self, idx, val, refs)

    # ---- comparisons act on the value (as Tracker did) ----------------------------------------------------
    def __eq__(self, o):
        return value(self) == value(o)

    def __ne__(self, o):
        return value(self) != value(o)

    def __lt__(self, o):
        return value(self) < value(o)

    def __le__(self, o):
        return value(self) <= value(o)

    def __gt__(self, o):
        return value(self) > value(o)

    def __ge__(self, o):
        return value(self) >= value(o)

    __hash__ = object.__hash__  # identity: Params, Grads and dicts key parameters by the object itself

    # ---- arithmetic: each operator is the rule of the same name ---------------------------------------------
    def __add__(self, o):
        if type(o) is not Tracked and (type(o) is not np.ndarray or o.dtype.hasobject):
            o = _operand(o)
            if o is None:
                return NotImplemented
            if type(o) in _DUALS:
                return _with_dual(operator.add, _ADD, self, o)
        return apply_rule(_ADD, (self, o))

    def __radd__(self, o):
        o = _operand(o)
        if o is None:
            return NotImplemented
        if type(o) in _DUALS:
            return _with_dual(operator.add, _ADD, o, self)
        return apply_rule(_ADD, (o, self))

    def __sub__(self, o):
        if type(o) is not Tracked and (type(o) is not np.ndarray or o.dtype.hasobject):
            o = _operand(o)
            if o is None:
                return NotImplemented
            if type(o) in _DUALS:
                return _with_dual(operator.sub, _SUB, self, o)
        return apply_rule(_SUB, (self, o))

    def __rsub__(self, o):
        o = _operand(o)
        if o is None:
            return NotImplemented
        if type(o) in _DUALS:
            return _with_dual(operator.sub, _SUB, o, self)
        return apply_rule(_SUB, (o, self))

    def __mul__(self, o):
        if type(o) is not Tracked and (type(o) is not np.ndarray or o.dtype.hasobject):
            o = _operand(o)
            if o is None:
                return NotImplemented
            if type(o) in _DUALS:
                return _with_dual(operator.mul, _MUL, self, o)
        return apply_rule(_MUL, (self, o))

    def __rmul__(self, o):
        o = _operand(o)
        if o is None:
            return NotImplemented
        if type(o) in _DUALS:
            return _with_dual(operator.mul, _MUL, o, self)
        return apply_rule(_MUL, (o, self))

    def __truediv__(self, o):
        if type(o) is not Tracked and (type(o) is not np.ndarray or o.dtype.hasobject):
            o = _operand(o)
            if o is None:
                return NotImplemented
            if type(o) in _DUALS:
                return _with_dual(operator.truediv, _DIV, self, o)
        return apply_rule(_DIV, (self, o))

    def __rtruediv__(self, o):
        o = _operand(o)
        if o is None:
            return NotImplemented
        if type(o) in _DUALS:
            return _with_dual(operator.truediv, _DIV, o, self)
        return apply_rule(_DIV, (o, self))

    def __pow__(self, o):
        o = _operand(o)
        if o is None:
            return NotImplemented
        if type(o) in _DUALS:
            return _with_dual(operator.pow, _POW, self, o)
        return apply_rule(_POW, (self, o))

    def __rpow__(self, o):
        o = _operand(o)
        if o is None:
            return NotImplemented
        if type(o) in _DUALS:
            return _with_dual(operator.pow, _POW, o, self)
        return apply_rule(_POW, (o, self))

    def __matmul__(self, o):
        if type(o) is not Tracked and (type(o) is not np.ndarray or o.dtype.hasobject):
            o = _operand(o)
            if o is None:
                return NotImplemented
            if type(o) in _DUALS:
                return _with_dual(operator.matmul, matmul, self, o)
        return matmul(self, o)

    def __rmatmul__(self, o):
        o = _operand(o)
        if o is None:
            return NotImplemented
        if type(o) in _DUALS:
            return _with_dual(operator.matmul, matmul, o, self)
        return matmul(o, self)

    # ---- in place: W -= lr * gs[W] updates a parameter (Flux's W .-= lr .* W̄); anything being differentiated
    # records the operation and rebinds the name, as Python does for immutable numbers (and JAX for arrays)
    def __iadd__(self, o):
        return self if self._op is None and _update_in_place(self, o, np.add, "+=") else self.__add__(o)

    def __isub__(self, o):
        return self if self._op is None and _update_in_place(self, o, np.subtract, "-=") else self.__sub__(o)

    def __imul__(self, o):
        return self if self._op is None and _update_in_place(self, o, np.multiply, "*=") else self.__mul__(o)

    def __itruediv__(self, o):
        return self if self._op is None and _update_in_place(self, o, np.true_divide, "/=") \
            else self.__truediv__(o)

    def __ipow__(self, o):
        return self if self._op is None and _update_in_place(self, o, np.power, "**=") else self.__pow__(o)

    def __imatmul__(self, o):
        if self._op is None and not is_active(self._tag):
            raise TypeError("W @= M on a parameter would change the parameter's shape in place; write "
                            "W = param(value(W) @ M) for a new parameter (and collect params again)")
        return self.__matmul__(o)

    # operators without a rule go through numpy, which names the missing rule in a TypeError
    def __floordiv__(self, o):
        return np.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return np.floor_divide(o, self)

    def __mod__(self, o):
        return np.remainder(self, o)

    def __rmod__(self, o):
        return np.remainder(o, self)

    def __neg__(self):
        return apply_rule(_NEG, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_rule(_ABS, (self,))

    # ---- numpy protocols ------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if len(inputs) > 1:
            for a in inputs:
                if type(a) not in _NO_DUAL and (type(a) is Dual or isinstance(a, DualArray)):
                    levels = _levels(inputs, kwargs)  # a dual number is here: who is the outer layer?
                    if levels is NotImplemented:
                        return NotImplemented
                    if levels is not None:
                        f = ufunc if method == "__call__" else getattr(ufunc, method)
                        return f(*levels[0], **levels[1])
                    break
        if method == "__call__" and not kwargs:  # the common case, kept short
            r = rules.BY_FUNCTION.get(ufunc)
            if r is not None:
                if len(inputs) == 1:
                    return apply_rule(r, inputs)
                if len(inputs) == 2:
                    return apply_rule(r, (_const(inputs[0]), _const(inputs[1])))
                return apply_rule(r, tuple([_const(a) for a in inputs]))
        return _dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if len(types) > 1:
            for t in types:
                if t is Dual or issubclass(t, DualArray):
                    levels = _levels(args, kwargs)  # a dual number is here: who is the outer layer?
                    if levels is NotImplemented:
                        return NotImplemented
                    if levels is not None:
                        return func(*levels[0], **levels[1])
                    break
        h = HANDLED.get(func)
        if h is not None:
            return h(*args, **kwargs)
        r = rules.BY_FUNCTION.get(func)  # np.round, np.fix (zero rules), np.sinc: functions with a rule
        if r is not None and r.zero:
            return _zero_derivative(func, args, kwargs)
        if r is not None and r.arity == 1:
            if kwargs:
                raise TypeError(f"{_fname(func)} on a tracked value does not take {', '.join(kwargs)}")
            return apply_rule(r, tuple(args))
        return _on_numbers(func, args, kwargs, _fname(func))

    # ---- indexing and numpy-style methods -------------------------------------------------------------------
    def __getitem__(self, idx):
        return getitem(self, idx)

    def copy(self):
        return _copy(self)

    def astype(self, dtype, copy=True):
        return astype(self, dtype)

    def backward(self, seed=None):
        """``back(self, seed)``: accumulate the gradient of this value into ``.grad`` of every leaf."""
        from ..tracker import back
        back(self, seed)


_counter = itertools.count()  # creation order: a node is always made after its arguments


# ---- y[idx] = v on a recorded value: PyTorch's index_put, recorded -------------------------------------------------
# The write makes y a new node, put(y_old, idx, v), whose adjoint sends ȳ to y_old (0 at idx) and ȳ[idx] to v. The
# operations recorded from y before the write must keep y_old: those that v was computed from (y[m] *= 2 reads
# y[m]) are found in v's graph and re-pointed; any other reference to y (an operation recorded earlier and kept,
# another name for y) is seen in y's reference count, and the write is refused rather than go stale.

class _Probe:
    def __getitem__(self, idx):
        return 1.0

    def __setitem__(self, idx, val):
        refs = sys.getrefcount(self)
        _PROBE.append(refs)


_PROBE: list = []


def _baseline():
    """References to y that the interpreter itself holds during ``y[i] = v`` and ``y[i] *= v`` from a function
    with y in a local variable (measured on a probe: it differs between Python versions); the smaller one."""
    if not _PROBE:
        def plain():
            y = _Probe()
            y[0] = 1.0

        def augmented():
            y = _Probe()
            y[0] *= 2.0
        plain()
        augmented()
        _PROBE[:] = [min(_PROBE)]
    return _PROBE[0]


_NO_WRITE = ("y[idx] = v (a write in place) on a tracked value in reverse mode: {why}. Build the new array "
             "instead: y = np.where(mask, v, y) for a mask, y = np.concatenate([y[:i], v, y[i + 1:]]) for a "
             "slice, or collect the pieces in a list and np.stack them")


def _write(y, idx, val, refs):
    if not (type(y.data) is np.ndarray or type(y.data) is Tracked or isinstance(y.data, DualArray)):
        raise TypeError("'tracked scalar' object does not support item assignment (as numpy's scalars)")
    idx = _clean_index(idx)
    if y._op is None:
        raise TypeError(_NO_WRITE.format(why="y is a parameter or an input (write into a copy: y = x.copy())"))
    if y._op is CONSUMED:
        raise TypeError(_NO_WRITE.format(why="y's graph was already used by a backward pass"))
    v = _const(val)
    if type(v) is Tracked:
        v = peel_idle(v)
    if type(v) is Dual or isinstance(v, DualArray) or (type(v) is Tracked and v._tag != y._tag):
        raise TypeError(_NO_WRITE.format(why="v belongs to another level of differentiation than y"))
    # the recorded operations that read y and that v was computed from: created after y, reached from v
    slots, stack, seen = [], [v] if type(v) is Tracked and v._seq > y._seq else [], set()
    while stack:
        node = stack.pop()
        for i, p in enumerate(node._parents):
            if p is y:
                slots.append((node, i))
            elif type(p) is Tracked and p._seq > y._seq and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    if refs - _baseline() - len(slots) > 0:
        raise TypeError(_NO_WRITE.format(
            why="y was used by operations recorded before this write (or has another name), which would see the "
                "new values; write before using y, or build a new array"))
    shape = _shape(y.data)
    numbers = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    hit = np.reshape(numbers[idx], -1)
    if not _is_basic(idx) and np.unique(hit).size != hit.size:
        raise TypeError(_NO_WRITE.format(why="the index repeats an element (which write wins is numpy's detail)"))
    keep = np.ones(shape)
    keep.flat[hit] = 0.0
    old = _new_node(y.data, y._op, y._parents, y._tag)
    old._seq = y._seq  # (it is y as it was: after its arguments, before everything that read it)
    for node, i in slots:
        node._parents = tuple(old if j == i else p for j, p in enumerate(node._parents))
    data = y.data.copy()
    vd = v.data if type(v) is Tracked else v
    data[idx] = vd
    moving = type(v) is Tracked

    def back(g):
        return (g * keep, _fit(g[idx], vd)) if moving else (g * keep,)
    y.data, y._op, y._parents, y.grad, y._g = data, back, (old, v) if moving else (old,), None, None
    y._seq = next(_counter)


def _update_in_place(x, o, ufunc, sym):
    """``x sym o`` on a leaf ``x``: done in place and True when x is a parameter nobody differentiates now and
    ``o`` carries no derivative (as ``update``, which also resets ``x.grad``); False means: record it instead."""
    if is_active(x._tag):
        return False  # an input being differentiated: x += 1 is a new value of the computation
    d = o
    while type(d) is Tracked and not is_active(d._tag):
        d = d.data
    if type(d) is Tracked or type(d) is Dual or isinstance(d, DualArray):
        return False  # W += (something being differentiated): a recorded operation, not an update
    d = _const(d)
    data = x.data
    if type(data) is np.ndarray:
        try:
            ufunc(data, d, out=data)
        except (ValueError, TypeError) as e:
            raise ValueError(f"W {sym} delta on a parameter of shape {data.shape} and dtype {data.dtype}: delta "
                             f"({type(d).__name__} of shape {np.shape(d)}) does not fit in place ({e})") from None
    elif type(data) is Dual or isinstance(data, DualArray):
        return False
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            new = ufunc(data, d)
        if np.ndim(new) != 0:
            raise ValueError(f"W {sym} delta on a scalar parameter: delta has shape {np.shape(d)}; a scalar "
                             "parameter takes a scalar step")
        x.data = float(new) if type(data) is float else type(data)(new)
    x.grad = None
    return True


def _new_node(data, op, parents, tag):
    t = object.__new__(Tracked)
    t.data, t.grad, t._parents, t._op, t._tag, t._g = data, None, parents, op, tag, None
    t._seq, t._mark = next(_counter), None
    return t


def leaf(data, tag):
    """A node that records nothing: a parameter or a differentiation input."""
    return _new_node(data, None, (), tag)


def value(x):
    """The plain number or array inside a tracked (or dual) value, every level stripped (Flux's ``data``)."""
    while type(x) is Tracked:
        x = x.data
    t = type(x)
    if t is np.ndarray:
        return _object_values(x) if x.dtype.hasobject else x
    if t is float or t is np.float64 or t is np.float32:  # nothing to strip
        return x
    return primal(x)


def _object_values(a):
    """An object array holding tracked scalars (np.array([x0, x1])) is refused: it is not one tracked value, and
    taking its numbers would make a loss returned as np.array(x) look constant (gradient 0)."""
    if any(type(e) is Tracked for e in a.flat):
        raise TypeError("an array of objects holding tracked values (what np.array of tracked scalars builds) is "
                        "not one tracked value: return the tracked value itself (np.array(x) of a scalar x "
                        "is x), or join the array into one with np.stack(list(a.flat)).reshape(a.shape)")
    return a


# =============================================================================================================
# small helpers
# =============================================================================================================

def unsupported(name, why="the tracker has no derivative for it"):
    return TypeError(f"{name} is not supported in reverse mode (tracked values): {why}. Derivatives are never "
                     "dropped silently; rewrite the code with supported numpy functions, or add a rule to "
                     "dualnum/rules.py (ufuncs), a gather to dualnum/linear.py or a jvp and vjp to "
                     "dualnum/primitive.py's table.")


_PLAIN = frozenset([float, int, np.float64, np.float32, np.float16, np.ndarray, np.int64, np.int32, bool,
                    np.bool_, Dual])


def _operand(o):
    """The other operand of an arithmetic operator, or None (-> NotImplemented) for things that are not numbers."""
    t = type(o)
    if t is np.ndarray and o.dtype.hasobject:
        return _from_objects(o)
    if t is Tracked or t in _PLAIN or isinstance(o, DualArray):
        return o
    if t is list or t is tuple:
        return _const(o)
    if isinstance(o, (numbers.Real, np.generic)) and not isinstance(o, np.complexfloating):
        return o
    return None


def _const(a):
    """A ufunc/function argument: tracked and dual values pass, lists become arrays, non-numbers are refused."""
    t = type(a)
    if t is np.ndarray and a.dtype.hasobject:
        return _from_objects(a)
    if t is Tracked or t in _PLAIN or isinstance(a, DualArray):
        return a
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"cannot compute with {type(a).__name__} {a!r} and a tracked value; expected numbers")
    if isinstance(a, (numbers.Complex, np.complexfloating)) and not isinstance(a, numbers.Real):
        raise TypeError(f"complex numbers are not supported by the tracker (got {a!r})")
    if isinstance(a, (list, tuple)):
        a = np.asarray(a)  # tracked scalars in it (nested lists too) make an object array: joined below
        return _from_objects(a) if a.dtype.hasobject else a
    return a


def _from_objects(arr):
    """An object array of tracked scalars and numbers (what np.array([x0 * x1, 2.0]) builds) as one tracked
    array; the numbers are constants in it."""
    items = list(arr.flat)
    if not any(type(e) is Tracked for e in items):
        if any(type(e) is Dual or isinstance(e, DualArray) for e in items):
            return arr  # dual numbers only: forward mode's to join
        return np.array(items, dtype=float).reshape(arr.shape)
    for e in items:
        if not (type(e) is Tracked or isinstance(e, (numbers.Real, np.number))) or _shape(e) != ():
            raise TypeError(f"an array of objects holding {type(e).__name__} {e!r} beside tracked values: "
                            "expected numbers")
    return _reshape(_stack(items), arr.shape)


def _top(args):
    """The largest tag among the tracked arguments: the level this operation is recorded at."""
    tag = -1
    for a in args:
        if type(a) is Tracked and a._tag > tag:
            tag = a._tag
    return tag


def _val(a, tag):
    return a.data if type(a) is Tracked and a._tag == tag else a


_add_reduce = np.add.reduce  # what ndarray.sum calls, without the Python wrapper in between
_UNBROADCAST_AXES: dict = {}  # (g's shape, target shape) -> (axes to sum over); shapes repeat every step


def _summed_axes(gshape, shape):
    key = (gshape, shape)
    axes = _UNBROADCAST_AXES.get(key)
    if axes is None:
        lead = len(gshape) - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
        if len(_UNBROADCAST_AXES) < 4096:
            _UNBROADCAST_AXES[key] = axes
    return axes


def unbroadcast(g, shape):
    """Σ of g over the axes broadcasting added or stretched, so the result has ``shape``: broadcasting's adjoint."""
    gshape = _shape(g)
    if gshape == shape:
        return g
    if shape == ():
        return _add_reduce(g, None) if type(g) is np.ndarray else np.sum(g)
    axes = _summed_axes(gshape, shape)
    if type(g) is np.ndarray:  # methods skip numpy's Python-level dispatch: this runs for every broadcast
        if not axes:
            return g.reshape(shape)
        g = _add_reduce(g, axes, None, None, True)  # ndarray.sum without its Python wrapper
        return g if len(gshape) == len(shape) else g.reshape(shape)  # no leading axes: already in shape
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return np.reshape(g, shape) if _shape(g) != shape else g


def _fit(g, x):
    """The adjoint g reshaped to x's shape (undoing broadcasting) and in x's float type (float32 stays float32)."""
    if type(g) is np.ndarray and type(x) is np.ndarray:  # the common case, kept short
        shape = x.shape
        if g.shape != shape:
            g = unbroadcast(g, shape)
        xd = x.dtype
        if g.dtype != xd and xd.kind == "f":
            g = g.astype(xd)
        return g
    shape = getattr(x, "shape", ())
    if getattr(g, "shape", ()) != shape:
        g = unbroadcast(g, shape)
    t = type(g)
    if t is np.ndarray or t is np.float64:
        xd = getattr(x, "dtype", None)
        if xd is not None and g.dtype != xd and xd.kind == "f":
            g = g.astype(xd)
    return g


# =============================================================================================================
# rules from the table: value = f(x, y), x̄ += z̄ ∂f/∂x, ȳ += z̄ ∂f/∂y
# =============================================================================================================

def apply_rule(rule, args):
    """Record ``rule.f(*args)``; the partials are read from the rule in the backward pass."""
    if len(args) == 1:  # unary: the argument is the tracked one
        a = args[0]
        tag, vals = a._tag, (a.data,)
    elif len(args) == 2:  # binary operators are the hot path: unrolled
        a, b = args
        ta = a._tag if type(a) is Tracked else -1
        tb = b._tag if type(b) is Tracked else -1
        if ta != tb and tb >= 0 and ta >= 0:  # two levels meet: a finished one is only its value
            stripped = _strip_idle(args)
            if stripped is not args:
                return apply_rule(rule, stripped)
        if ta >= tb:
            tag, vals = ta, (a.data, b.data if tb == ta else b)
        else:
            tag, vals = tb, (a, b.data)
    else:
        stripped = _strip_idle(args)
        if stripped is not args:
            return apply_rule(rule, stripped)
        tag = -1
        for a in args:
            if type(a) is Tracked and a._tag > tag:
                tag = a._tag
        vals = [a.data if type(a) is Tracked and a._tag == tag else a for a in args]
    try:
        if rule.guarded:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = rule.f(*vals)
        else:
            out = rule.f(*vals)
    except _FLOAT_ERRORS:  # a rule written with Python arithmetic, on Python floats: numpy's inf/NaN instead
        out = _ieee(rule.f, *vals)
    if type(out) is complex:  # (-8.0) ** (1/3) in Python: NaN, as numpy gives
        out = _ieee(rule.f, *vals)
    t = _object_new(Tracked)  # _new_node, inlined: this runs for every operation
    t.data, t.grad, t._parents, t._op, t._tag, t._g = out, None, args if type(args) is tuple else tuple(args), \
        rule, tag, None
    t._seq, t._mark = next(_counter), None
    return t


_object_new = object.__new__


# ---- dual numbers meet tracked values: the larger tag is the outer layer (dualnum's levels) -------------------
_NO_DUAL = frozenset([Tracked, np.ndarray, float, int, bool, np.float64, np.float32])
_DUALS = frozenset([Dual, DualArray])  # an operator's other operand is checked against it: one set lookup


def _levels(args, kwargs):
    """Who performs an operation whose operands include a dual number (Dual, DualArray) and a tracked value.

    Tracked values nobody differentiates are only their data when they meet a dual (so ``derivative`` sees
    through an nn model's weights). Then the operand with the larger tag is the outer layer. Returns None: a
    tracked level is outermost, the tracker records it with the duals as constants (forward-over-reverse);
    NotImplemented: a dual is outermost, its type does it with the tracked values as constants
    (reverse-over-forward); or (args, kwargs) with the idle tracked values replaced by their data, to do the
    operation again on (numpy then finds whichever type leads).
    """
    acc = [-1, -1, False]  # largest dual tag, largest tracked tag still being differentiated, anything stripped
    new_args = tuple([_strip_for_duals(a, acc) for a in args])
    new_kwargs = {k: _strip_for_duals(v, acc) for k, v in kwargs.items()} if kwargs else kwargs
    if acc[2]:
        return new_args, new_kwargs
    if acc[1] < 0 or acc[0] > acc[1]:
        return NotImplemented
    return None


def _strip_for_duals(a, acc):
    t = type(a)
    if t is Tracked:
        b = peel_idle(a)
        if b is not a:
            acc[2] = True
        if type(b) is Tracked:
            acc[1] = max(acc[1], b._tag)
        elif type(b) is Dual or isinstance(b, DualArray):
            acc[0] = max(acc[0], b.tag)
        return b
    if t is Dual or isinstance(a, DualArray):
        acc[0] = max(acc[0], a.tag)
        return a
    if t is list or t is tuple:
        out = [_strip_for_duals(e, acc) for e in a]
        return out if t is list else tuple(out)
    return a


def _with_dual(op, record, a, b):
    """``op(a, b)`` for an operator whose other operand is a dual number: see :func:`_levels`."""
    levels = _levels((a, b), None)
    if levels is NotImplemented:
        return NotImplemented
    if levels is None:
        return apply_rule(record, (a, b)) if type(record) is _Rule else record(a, b)
    return op(*levels[0])


def peel_idle(t):
    """A tracked value with every layer nobody is differentiating now peeled off (its plain value, at most):
    the levels contract, for the duals and the tracker alike (an nn weight outside tracker.gradient is its data)."""
    while type(t) is Tracked and not is_active(t._tag):
        t = t.data
    return t


def _strip_idle(args):
    """``args`` (a tuple) with its idle tracked values replaced by their data, when they meet a value being
    differentiated: an nn weight in ``gradient(lambda x: model(x), x)`` is a constant there, and must enter
    the values and the adjoints as plain numbers (else the gradient comes back tracked). Values that meet only
    idle ones keep recording (``W*4 + b`` outside any gradient). Returns ``args`` itself when nothing changes."""
    live = idle = False
    for a in args:
        if type(a) is Tracked:
            if is_active(a._tag):
                live = True
            else:
                idle = True
    if not (live and idle):
        return args
    return tuple([peel_idle(a) if type(a) is Tracked else a for a in args])


_PREPARED: dict = {}  # id(rule) -> (rule, vjp(node, g) made for that rule by _prepare)


def _prepare(rule):
    """The rule's adjoint function ``vjp(node, g) -> (x̄ᵢ)``, specialised once to its kind of partials.

    A partial is a formula (evaluated in the backward pass), a constant (applied after undoing broadcasting:
    sum first, multiply the smaller), or None (an argument never differentiated). The common shapes of rules --
    one argument, or two -- get their own short functions; everything is still read from the rule itself.
    """
    prep = () if rule.zero else tuple(None if i in rule.nondiff else (d, callable(d))
                                      for i, d in enumerate(rule.partials))
    if not prep:
        def vjp(node, g):
            return (None,) * len(node._parents)
    elif len(prep) == 1 and prep[0] is not None:
        vjp = _unary_vjp(*prep[0])
    elif len(prep) == 2 and prep[0] is not None and prep[1] is not None:
        vjp = _binary_vjp(prep[0], prep[1])
    else:
        def vjp(node, g):
            return _partials_times(prep, node, g)
    if rule.guarded:
        plain = vjp

        def vjp(node, g):
            with np.errstate(divide="ignore", invalid="ignore"):
                return plain(node, g)
    _PREPARED[id(rule)] = (rule, vjp)  # holding the rule keeps its id unique
    return vjp


def _unary_vjp(d, fn):
    if fn:
        def vjp(node, g):
            x = node._parents[0].data
            try:
                dx = d(x, node.data)
            except _FLOAT_ERRORS:
                dx = _ieee(d, x, node.data)
            if type(dx) is complex:
                dx = _ieee(d, x, node.data)
            gx = _times(g, dx)
            if type(gx) is np.ndarray and type(x) is np.ndarray and gx.shape == x.shape and gx.dtype == x.dtype:
                return (gx,)
            return (_fit(gx, x),)
    elif d == 1.0:
        def vjp(node, g):
            return (_fit(g, node._parents[0].data),)
    else:
        def vjp(node, g):
            return (_scaled(_fit(g, node._parents[0].data), d),)
    return vjp


def _binary_vjp(pa, pb):
    (da, fa), (db, fb) = pa, pb
    one_a, one_b = not fa and da == 1.0, not fb and db == 1.0  # x + y, x - y: the adjoint passes through

    def vjp(node, g):
        a, b = node._parents
        tag = node._tag
        ta = type(a) is Tracked and a._tag == tag
        tb = type(b) is Tracked and b._tag == tag
        xa = a.data if ta else a
        xb = b.data if tb else b
        ga = gb = None
        if ta:
            if fa:
                try:
                    dx = da(xa, xb, node.data)
                except _FLOAT_ERRORS:
                    dx = _ieee(da, xa, xb, node.data)
                if type(dx) is complex:
                    dx = _ieee(da, xa, xb, node.data)
                ga = _fit(_times(g, dx), xa)
            elif one_a and type(g) is np.ndarray and type(xa) is np.ndarray and g.shape == xa.shape \
                    and g.dtype == xa.dtype:
                ga = g  # _fit(g, xa) would return g as it is
            else:
                ga = _scaled(_fit(g, xa), da)
        if tb:
            if fb:
                try:
                    dx = db(xa, xb, node.data)
                except _FLOAT_ERRORS:
                    dx = _ieee(db, xa, xb, node.data)
                if type(dx) is complex:
                    dx = _ieee(db, xa, xb, node.data)
                gb = _fit(_times(g, dx), xb)
            elif one_b and type(g) is np.ndarray and type(xb) is np.ndarray and g.shape == xb.shape \
                    and g.dtype == xb.dtype:
                gb = g
            else:
                gb = _scaled(_fit(g, xb), db)
        return (ga, gb)
    return vjp


_FLOAT_ERRORS = (ZeroDivisionError, OverflowError)

#: x**2 and x**-1 with a plain number exponent: the power is recorded (the tape shows what was written), but its
#: adjoint takes the partial of square or reciprocal (2x, -z²): y·x^(y-1) would compute a power of x again (for
#: a dual x, x**1 is a copy of all its partials). (Not x**0.5: sqrt's 0.5/z is -inf at -0.0, the power's +inf.)
_POWER_SHORTCUTS = {2: rules.RULES["square"], -1: rules.RULES["reciprocal"]}


def _prepare_power():
    general = _prepare(_POW)

    def vjp(node, g):
        a, b = node._parents
        t = type(b)
        if (t is float or t is int) and b in _POWER_SHORTCUTS and type(a) is Tracked and a._tag == node._tag:
            x = a.data
            with np.errstate(divide="ignore", invalid="ignore"):
                return (_fit(_times(g, _formula(_POWER_SHORTCUTS[b].partials[0], x, node.data)), x), None)
        return general(node, g)
    _PREPARED[id(_POW)] = (_POW, vjp)


# a rule's value or partial on Python floats, again on numpy floats when Python raises or turns complex: the
# checks are inlined where they run per operation, and this is the retry they share with the duals
_ieee = rules.on_numpy_scalars
_formula = rules.evaluate


def _rule_vjp(rule, node, g):
    """(x̄ᵢ) = (z̄ · ∂f/∂xᵢ(x, z)) for the tracked arguments of this level, None for the others."""
    info = _PREPARED.get(id(rule))
    return (info[1] if info is not None else _prepare(rule))(node, g)


def _times(g, d):
    """z̄ · ∂z/∂x for a partial ``d`` evaluated from its formula."""
    if type(g) is np.ndarray and type(d) is np.ndarray and g.dtype is _F32 and d.dtype is not _F32:
        return np.multiply(g, d, dtype=_F32)  # a float64 or bool formula result must not promote float32
    return g * d


_F32 = np.dtype(np.float32)


def _partials_times(prep, node, g):
    parents = node._parents
    out = node.data
    if len(parents) == 1:  # unary: the argument is necessarily tracked at this level
        x = parents[0].data
        d, fn = prep[0]
        if fn:
            return (_fit(_times(g, _formula(d, x, out)), x),)
        return (_scaled(_fit(g, x), d),)
    tag = node._tag
    if len(parents) == 2:  # binary operators are the hot path: unrolled
        a, b = parents
        ta = type(a) is Tracked and a._tag == tag
        tb = type(b) is Tracked and b._tag == tag
        xa = a.data if ta else a
        xb = b.data if tb else b
        pa, pb = prep
        ga = gb = None
        if ta and pa is not None:
            d, fn = pa
            ga = _fit(_times(g, _formula(d, xa, xb, out)), xa) if fn else _scaled(_fit(g, xa), d)
        if tb and pb is not None:
            d, fn = pb
            gb = _fit(_times(g, _formula(d, xa, xb, out)), xb) if fn else _scaled(_fit(g, xb), d)
        return (ga, gb)
    vals = [p.data if type(p) is Tracked and p._tag == tag else p for p in parents]
    return [None if dp is None or type(p) is not Tracked or p._tag != tag else
            (_fit(_times(g, _formula(dp[0], *vals, out)), x) if dp[1] else _scaled(_fit(g, x), dp[0]))
            for p, x, dp in zip(parents, vals, prep)]


def _scaled(g, d):
    """g times a constant partial (applied after undoing the broadcast: sum first, multiply the smaller)."""
    if d == 1.0:
        return g
    return -g if d == -1.0 else g * d


def vjp(node, g):
    """The adjoints of ``node``'s parents given the adjoint ``g`` of node (None where a parent gets nothing)."""
    op = node._op
    if type(op) is _Rule:
        return _rule_vjp(op, node, g)
    return op(g)


functions.APPLIERS[Tracked] = apply_rule  # dualnum.sigmoid(x), dualnum.relu(x) on tracked x


def _object_loop_method(rule):
    # numpy computes a ufunc on an object array (np.array([x0, x1]) of tracked scalars) by calling the method of
    # the ufunc's name on each element: np.sin(arr) calls x0.sin(), which is the ufunc on x0, so its rule
    ufunc = rule.f

    def method(self, *others):
        return ufunc(self, *others)
    method.__name__ = ufunc.__name__
    return method


rules.object_loop_methods(Tracked, _object_loop_method)
DEFER_TO.add(Tracked)  # DualArray (op) Tracked: the tracker records it (forward-over-reverse)


def _record(out, back, parents, tag):
    """A node made by a structural operation whose adjoint is ``back(g) -> (x̄ for each parent)``."""
    return _new_node(out, back, tuple(parents), tag)


def _no_grad(g):
    return (None,)


def _zero_derivative(func, args, kwargs):
    a, rest = args[0], args[1:]
    return _record(func(a.data, *rest, **kwargs), _no_grad, (a,), a._tag)


# =============================================================================================================
# numpy dispatch
# =============================================================================================================

HANDLED = {}  # numpy function -> handler(*args, **kwargs)


implements = _registrar(HANDLED)


def _on_numbers(func, args, kwargs, name):
    """A function without a derivative here, on values nobody differentiates now (an nn model's output outside
    any gradient, drawn by plt.bar or np.histogram2d): computed on their numbers, as nothing is lost; while a
    gradient is being taken it is refused, naming the function."""
    acc = [-1, -1, False]  # (as _levels: largest dual tag, largest live tracked tag, anything peeled)
    plain = tuple([_strip_for_duals(a, acc) for a in args])
    plain_kwargs = {k: _strip_for_duals(v, acc) for k, v in kwargs.items()}
    if acc[1] >= 0 or not acc[2]:
        raise unsupported(name)
    return func(*plain, **plain_kwargs)


def _dispatch_ufunc(ufunc, method, inputs, kwargs):
    name = f"np.{ufunc.__name__}"
    _no_out(name, kwargs.get("out"))
    if method == "__call__" and ufunc in _GUFUNCS:  # numpy 2's vecdot, matvec, vecmat: contractions
        return _GUFUNCS[ufunc](*inputs, **kwargs)
    extra = _ufunc_extra(kwargs)
    if method == "reduce":
        return _ufunc_reduce(ufunc, {np.add: _sum, np.multiply: prod, np.maximum: HANDLED[np.max],
                                     np.minimum: HANDLED[np.min]}, inputs, kwargs, unsupported)
    if method != "__call__":
        return _on_numbers(getattr(ufunc, method), inputs, kwargs, f"{name}.{method}")
    if ufunc in rules.VALUE_ONLY:
        return ufunc(*[value(a) for a in inputs], **extra)
    if extra:
        raise TypeError(f"{name} on a tracked value does not take {', '.join(extra)}")
    if ufunc is np.matmul:
        return matmul(*inputs)
    r = rules.lookup(ufunc)
    if r is None:
        return _on_numbers(ufunc, inputs, kwargs, name)
    return apply_rule(r, tuple(_const(a) for a in inputs))


# =============================================================================================================
# matrix products: C = A B  ->  Ā = C̄ Bᵀ,  B̄ = Aᵀ C̄
# =============================================================================================================

@implements(np.matmul)
def matmul(a, b):
    if type(a) is not Tracked:
        a = _const(a)  # (an object array of tracked scalars becomes one tracked array)
    if type(b) is not Tracked:
        b = _const(b)
    ta = a._tag if type(a) is Tracked else -1
    tb = b._tag if type(b) is Tracked else -1
    if ta != tb and ta >= 0 and tb >= 0:  # two levels meet: a finished one is only its value
        stripped = _strip_idle((a, b))
        if stripped[0] is not a or stripped[1] is not b:
            return matmul(*stripped)
    tag = ta if ta >= tb else tb
    need_a, need_b = ta == tag, tb == tag  # which factors are tracked at this level (the others are constants)
    A = a.data if need_a else a
    B = b.data if need_b else b
    if type(A) is np.ndarray and type(B) is np.ndarray and A.ndim == 2 and B.ndim == 2:
        # the common case, matrices (no vectors, no stacks): the adjoints are two products
        if need_a and need_b:
            def back(g):
                return (g @ B.T, A.T @ g)
        elif need_a:
            def back(g):
                return (g @ B.T, None)
        else:
            def back(g):
                return (None, A.T @ g)
        return _new_node(A @ B, back, (a, b), tag)
    if _ndim(A) == 0 or _ndim(B) == 0:
        raise ValueError("matmul: input operand does not have enough dimensions (use * for scalars)")

    def back(g):
        if _ndim(A) == 2 and _ndim(B) == 2:
            return (g @ B.T if need_a else None, A.T @ g if need_b else None)
        return _matmul_general(g, A, B, need_a, need_b)
    return _new_node(A @ B, back, (a, b), tag)


def _matmul_general(g, A, B, need_a, need_b):
    """Vectors are promoted to matrices (as matmul does), stacks broadcast; undo both afterwards."""
    a_vec, b_vec = _ndim(A) == 1, _ndim(B) == 1
    A2 = np.expand_dims(A, 0) if a_vec else A
    B2 = np.expand_dims(B, -1) if b_vec else B
    if a_vec and b_vec:
        g2 = np.reshape(g, (1, 1))
    elif a_vec:
        g2 = np.expand_dims(g, -2)
    elif b_vec:
        g2 = np.expand_dims(g, -1)
    else:
        g2 = g
    ga = gb = None
    if need_a:
        ga = np.reshape(_fit(g2 @ np.swapaxes(B2, -1, -2), A2), _shape(A))
    if need_b:
        gb = np.reshape(_fit(np.swapaxes(A2, -1, -2) @ g2, B2), _shape(B))
    return ga, gb


_NOVALUE = np._NoValue
_SUM_SHAPES: dict = {}  # (shape, axis) -> (axes, shape of the sum with keepdims): the same every step


@implements(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
    """z = Σ x over axes  ->  x̄ = z̄ broadcast back over those axes."""
    if out is not None:
        _no_out("np.sum", out)
    if initial is not _NOVALUE or where is not _NOVALUE:
        raise TypeError("np.sum on a tracked value does not take initial= or where=")
    if type(a) is not Tracked:
        a = _const(a)
        if type(a) is not Tracked:
            return np.sum(a, axis=axis, keepdims=keepdims)
    x = a.data
    shape = _shape(x)
    key = (shape, axis) if axis is None or type(axis) is int else None
    cached = _SUM_SHAPES.get(key) if key is not None else None
    if cached is None:
        axes = _axes(axis, len(shape))
        cached = axes, tuple(1 if i in axes else n for i, n in enumerate(shape))  # the sum's shape, keepdims
        if key is not None and len(_SUM_SHAPES) < 4096:
            _SUM_SHAPES[key] = cached
    axes, kept = cached

    dtype = getattr(x, "dtype", None)

    def back(g):
        t = type(g)
        if (t is np.ndarray or t is float or t is np.float64 or t is np.float32) and type(x) is np.ndarray:
            out = np.empty(shape, dtype)  # materialising is cheaper than np.broadcast_to at these sizes
            out[...] = g.reshape(kept) if t is np.ndarray else g
            return (out,)
        return (np.broadcast_to(np.reshape(g, kept) if _ndim(g) else g, shape),)
    z = _add_reduce(x, axes, None, None, keepdims) if type(x) is np.ndarray else np.sum(x, axis=axes, keepdims=keepdims)
    return _record(z, back, (a,), a._tag)


def _extremum(a, axis, keepdims, fn):
    """z = max x  ->  x̄ = z̄ where x attains the max, shared evenly between ties (as the maximum rule)."""
    x = a.data
    shape = _shape(x)
    axes = _axes(axis, len(shape))
    z = fn(x, axis=axes, keepdims=True)
    out = z if keepdims else np.reshape(z, tuple(n for i, n in enumerate(shape) if i not in axes))

    def back(g):
        x0, z0 = value(x), value(z)  # which elements attain the extreme (a NaN does): a constant
        hit = (x0 == z0) | (np.isnan(x0) & np.isnan(z0))
        w = hit / np.sum(hit, axis=axes, keepdims=True)
        if getattr(x, "dtype", None) is not None and x.dtype.kind == "f":
            w = w.astype(x.dtype)
        return ((g if keepdims else np.reshape(g, _shape(z))) * w,)
    back.__qualname__ = f"{fn.__name__}.back"  # (np.max or np.min: the name show and draw give the node)
    return _record(out, back, (a,), a._tag)


@implements(np.cumsum)
def _cumsum(a, axis=None, dtype=None, out=None):
    """z = cumsum x  ->  x̄ = reversed cumsum of z̄."""
    _no_out("np.cumsum", out)
    if axis is None:
        a, axis = _reshape(a, -1), 0
    ax = _axes(axis, _ndim(a))[0]
    return _record(np.cumsum(a.data, axis=ax),
                   lambda g: (np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax),), (a,), a._tag)


def _linear(a, forward, adjoint):
    """A structural op on one tracked array: value ``forward(x)``, adjoint ``adjoint(z̄)``."""
    return _record(forward(a.data), lambda g: (adjoint(g),), (a,), a._tag)


@implements(np.reshape)
def _reshape(a, shape=None, order="C", newshape=None, copy=None):
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if order != "C":
        raise TypeError("reshape(order=...) other than 'C' is not supported on tracked values")
    old = _shape(a)
    return _linear(a, lambda x: np.reshape(x, shape), lambda g: np.reshape(g, old))


@implements(np.transpose)
def transpose(a, axes=None):
    nd = _ndim(a)
    axes = tuple(range(nd))[::-1] if axes is None else _axes(axes, nd)
    if sorted(axes) != list(range(nd)):
        raise ValueError(f"np.transpose: axes {axes} don't match an array of {nd} dimensions")
    inverse = tuple(np.argsort(axes))
    if nd == 2 and axes == (1, 0):
        return _linear(a, lambda x: x.T, lambda g: g.T)
    return _linear(a, lambda x: np.transpose(x, axes), lambda g: np.transpose(g, inverse))


@implements(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    return _linear(a, lambda x: np.swapaxes(x, axis1, axis2), lambda g: np.swapaxes(g, axis1, axis2))


@implements(np.moveaxis)
def _moveaxis(a, source, destination):
    return _linear(a, lambda x: np.moveaxis(x, source, destination),
                   lambda g: np.moveaxis(g, destination, source))


@implements(np.squeeze)
def _squeeze(a, axis=None):
    old = _shape(a)
    return _linear(a, lambda x: np.squeeze(x, axis), lambda g: np.reshape(g, old))


@implements(np.expand_dims)
def _expand_dims(a, axis):
    old = _shape(a)
    return _linear(a, lambda x: np.expand_dims(x, axis), lambda g: np.reshape(g, old))


@implements(np.broadcast_to)
def _broadcast_to(a, shape, subok=False):
    old = _shape(a)
    return _linear(a, lambda x: np.broadcast_to(x, shape), lambda g: unbroadcast(g, old))


@implements(np.flip)
def _flip(m, axis=None):  # (numpy's name for the array: np.flip(m=x))
    return _linear(m, lambda x: np.flip(x, axis), lambda g: np.flip(g, axis))


@implements(np.roll)
def _roll(a, shift, axis=None):
    back = tuple(-s for s in shift) if isinstance(shift, (tuple, list)) else -shift
    return _linear(a, lambda x: np.roll(x, shift, axis), lambda g: np.roll(g, back, axis))


def _gather(func):
    """An entry of dualnum.linear's table: the value is func itself, the adjoint scatters z̄ back to the elements
    func gathered from (flip and roll above have their own, cheaper, adjoints: the inverse flip or shift)."""
    def handler(*args, **kwargs):
        a, args, kwargs = linear.split_call(func, args, kwargs)
        a = _const(a)
        if type(a) is not Tracked:  # (a tracked argument elsewhere: an index array is never differentiated)
            return func(value(a), *[value(b) for b in args], **kwargs)
        shape, dtype = _shape(a), getattr(a.data, "dtype", _FLOAT)
        src = linear.sources(func, shape, args, kwargs)
        def put(g, idx, size):
            return scatter(g, idx, size, dtype)

        def back(g):
            return (linear.adjoint(g, src, shape, put),)
        back.__qualname__ = f"{func.__name__}.back"  # (the operation's name, as show and draw read it)
        return _record(func(a.data, *args, **kwargs), back, (a,), a._tag)
    handler.__name__ = f"_{func.__name__}"
    return handler


@implements(np.copy)
def _copy(a, order="K", subok=False):
    return _linear(a, lambda x: x.copy() if hasattr(x, "copy") else x, lambda g: g)


def astype(a, dtype):
    """A change of float precision; the gradient comes back in the original precision."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"astype({dtype}) would drop the derivatives of a tracked value (not a float type)")
    old = getattr(a.data, "dtype", None)
    if not isinstance(a.data, np.ndarray) or old == dtype:
        return a
    return _linear(a, lambda x: x.astype(dtype), lambda g: g.astype(old) if hasattr(g, "astype") else g)


# ---- functions that look at the values only ------------------------------------------------------------------


def _index_part(i):
    if type(i) is Tracked:
        v = value(i)
        if np.asarray(v).dtype.kind == "f":
            raise TypeError("a tracked float cannot be used as an index (indices are integers or booleans)")
        return v
    return i


def _clean_index(idx):
    if type(idx) is tuple:
        for i in idx:
            if type(i) is Tracked:
                return tuple(_index_part(i) for i in idx)
        return idx  # nothing tracked in it (the usual case): the index as it is
    return tuple(_index_part(i) for i in idx) if isinstance(idx, tuple) else _index_part(idx)


def _is_basic(idx):
    """Only ints, slices, None and ...: every element is picked at most once, so plain assignment scatters."""
    tidx = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in tidx)


def getitem(a, idx):
    idx = _clean_index(idx)
    x = a.data
    if type(x) is not np.ndarray:
        shape, dtype = _shape(x), getattr(x, "dtype", _FLOAT)
    elif _is_view_of_all(idx):  # x[:, None], x[...]: every element once, in order
        shape, dtype = x.shape, x.dtype
        ftype = dtype if dtype.kind == "f" else _FLOAT  # as scatter's array of zeros

        def back(g):
            if type(g) is np.ndarray:
                return (g.reshape(shape) if g.dtype == ftype else g.reshape(shape).astype(ftype),)
            return (scatter(g, idx, shape, dtype),)
        return _record(x[idx], back, (a,), a._tag)
    else:
        shape, dtype = x.shape, x.dtype
    return _record(x[idx], lambda g: (scatter(g, idx, shape, dtype),), (a,), a._tag)


_ALL = slice(None)
_FLOAT = np.dtype(float)


def _is_view_of_all(idx):
    """An index of only ``:``, None and ``...``: x[idx] is x with axes of length 1 added, its adjoint a reshape."""
    if type(idx) is tuple:
        for i in idx:
            if not (i is None or i is Ellipsis or (type(i) is slice and i == _ALL)):
                return False
        return True
    return idx is None or idx is Ellipsis or (type(idx) is slice and idx == _ALL)


def scatter(g, idx, shape, dtype=float):
    """The adjoint of indexing: an array of zeros of ``shape`` with ``g`` added at ``idx`` (repeats add up)."""
    if type(g) is Tracked:  # nested: scattering is linear, its own adjoint is indexing again
        return _record(scatter(g.data, idx, shape, dtype), lambda h: (h[idx],), (g,), g._tag)
    if type(g) is Dual:
        g = lift(g)
    if isinstance(g, DualArray):  # hvp: scatter the value and every direction's partials alike
        k = _shape(g.partials)[0]
        parts = [scatter(g.partials[j], idx, shape, float) for j in range(k)]
        return DualArray._new(scatter(g.value, idx, shape, float), np.stack(parts), g.tag)
    if getattr(g, "_is_device", False):  # a GPU gradient: zeros there, g written into the indexed view
        z = np.zeros_like(g, shape=shape, dtype=g.dtype)
    else:
        z = np.zeros(shape, dtype=dtype if np.dtype(dtype).kind == "f" else float)
    if _is_basic(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)
    return z


# =============================================================================================================
# joining, selecting, clipping
# =============================================================================================================

def _join(arrays, axis, func, piece):
    """func(values) for concatenate/stack; the adjoint hands each input back its ``piece`` of z̄."""
    arrays = list(_strip_idle(tuple([_const(a) for a in arrays])))
    tag = _top(arrays)
    vals = [_val(a, tag) for a in arrays]
    shapes = [_shape(v) for v in vals]

    def back(g):
        return tuple(piece(g, i, shapes) if type(a) is Tracked and a._tag == tag else None
                     for i, a in enumerate(arrays))
    return _record(func(vals, axis), back, arrays, tag)


@implements(np.concatenate)
def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_out("np.concatenate", out)
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [np.ravel(a) for a in arrays], 0
    nd = _ndim(arrays[0]) if arrays else 1
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    ax = _axes(axis, nd)[0]

    def piece(g, i, shapes):
        start = sum(s[ax] for s in shapes[:i])
        return g[(slice(None),) * ax + (slice(start, start + shapes[i][ax]),)]
    return _join(arrays, ax, lambda xs, ax: np.concatenate(xs, axis=ax), piece)


@implements(np.stack)
def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_out("np.stack", out)
    arrays = list(arrays)
    ax = _axes(axis, _ndim(arrays[0]) + 1)[0]
    return _join(arrays, ax, lambda xs, ax: np.stack(xs, axis=ax),
                 lambda g, i, shapes: g[(slice(None),) * ax + (i,)])


__all__ = ["Tracked", "leaf", "value", "apply_rule", "vjp", "CONSUMED", "ACTIVE", "is_active", "activate",
           "deactivate", "unbroadcast",
           "scatter", "HANDLED", "unsupported"]


for _f in linear.GATHERS:
    HANDLED.setdefault(_f, _gather(_f))

def _carries(a):
    return type(peel_idle(a)) is Tracked or type(a) is Dual or isinstance(a, DualArray)


HANDLED.update(_composites(unsupported, value, lambda rule, args: apply_rule(rule, tuple(_const(a) for a in args)),
                           _extremum, _carries))  # mean, std, dot, max, clip, where, ... once for all types


# =============================================================================================================
# functions with a hand-written vjp (dualnum/primitive.py): one node; several results travel packed in one
# =============================================================================================================

def _from_primitive(prim):
    def handler(*args, **kwargs):
        if prim.prepare is not None:
            args, kwargs = prim.prepare(args, kwargs)
        pos = prim.positions(len(args))
        args = list(args)
        for i in pos:
            args[i] = _const(args[i])
        live = tuple(_strip_idle(tuple(args[i] for i in pos)))
        for i, a in zip(pos, live):
            args[i] = a
        tag = _top(live)
        x = [_val(a, tag) if i in pos else value(a) for i, a in enumerate(args)]
        y = prim.func(*x, **kwargs)
        if tag < 0:
            return y
        y = primitive.unaliased(y, x)
        parents = [i for i in pos if type(args[i]) is Tracked and args[i]._tag == tag]

        def adjoints(g):
            bars = tuple(prim.vjp(g, y, *x, **kwargs)) + (None,) * len(args)
            return tuple(None if bars[i] is None else _fit(bars[i], x[i]) for i in parents)
        if not isinstance(y, tuple):
            return _record(y, adjoints, [args[i] for i in parents], tag)
        # several results: one node holds them all, flattened end to end; each result is a slice of it
        moving = [n for n in range(len(y)) if n not in prim.constant]
        shapes = [_shape(y[n]) for n in moving]
        sizes = [int(np.prod(s)) for s in shapes]
        ends = list(itertools.accumulate(sizes))

        def unpack(flat):
            parts = [None] * len(y)
            for n, s, e, size in zip(moving, shapes, ends, sizes):
                parts[n] = np.reshape(flat[e - size:e], s)
            return parts

        def back(gflat):
            return adjoints(tuple(unpack(gflat)))
        packed = np.concatenate([np.reshape(y[n], -1) for n in moving]) if len(moving) > 1 else \
            np.reshape(y[moving[0]], -1)
        node = _record(packed, back, [args[i] for i in parents], tag)
        out = unpack(node)
        for n in prim.constant:
            out[n] = y[n]
        return primitive.like(y, out)
    handler.__name__ = f"_{prim.func.__name__}"
    return handler


from .. import contractions, linalg, primitive  # noqa: E402,F401  (the entries; their modules import no mode)

_GUFUNCS = contractions.UFUNCS  # (read when a ufunc call runs, after this module has loaded)

for _f, _prim in primitive.TABLE.items():
    HANDLED[_f] = _from_primitive(_prim)
HANDLED.update(primitive.COMPOSITES)


_prepare_power()
