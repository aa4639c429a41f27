"""Reverse mode, the Flux Tracker: record the operations on tracked values, then sweep back once.

    >>> from dualnum.tracker import gradient, param, params
    >>> gradient(lambda W, b, x: W*x + b, 2, 3, 4)
    (4.0, 1.0, 2.0)
    >>> W, b = param(2), param(3)
    >>> gs = gradient(lambda: W*4 + b, params(W, b))
    >>> gs[W], gs[b]
    (4.0, 1.0)

The backward pass, for a loss ``y`` that depends on leaves ``x``:  ȳ = 1, then for every recorded node ``z`` in
reverse topological order, ``x̄ᵢ += z̄ · ∂z/∂xᵢ`` for each argument ``xᵢ`` of ``z`` (the sweep is
dualnum/reverse/backward.py; the partials come from :mod:`dualnum.rules`, the structural adjoints from
:mod:`dualnum.reverse.tracked`). Afterwards the graph is freed: a second sweep through it raises, as in Tracker.

Threads: each gradient call keeps its leaves' adjoints in a dict of its own and marks only the nodes it made, so
gradients taken at the same time in different threads, through the same parameters, never mix. An implicit
gradient makes the parameters "being differentiated" (float(W) refuses) in its own thread only; an explicit
gradient's level belongs to that call, wherever its function runs. (``back`` adds into ``x.grad``, which is
shared: use it from one thread per parameter, or use ``gradient``.)

``gradient(f, x, nest=True)`` returns gradients that are themselves tracked (the backward pass was recorded), so
they can be differentiated again: reverse-over-reverse. ``hvp(f, x, v)`` is forward-over-reverse: the tracker
run on dual numbers (it lives with the other mixed modes in dualnum/nested.py).

``show(y)`` prints the graph recorded behind ``y`` (``draw(y)``: the picture), with the gradient that reached each
node once ``back(y)`` has run: ``show(y); back(y); show(y)`` (dualnum/tape.py; the forward-mode counterpart is
``dualnum.backends.fusion.loop_source``).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import numbers
import types

import numpy as np

from .forward.dual import Dual
from .forward.dualarray import DualArray
from .tags import new_tag
from .reverse.backward import _topo, backprop as _backprop
from .reverse.tracked import Tracked, _const, activate, deactivate, is_active, leaf, value
from .tape import draw, recording, show  # see the tape: the graph recorded behind a value, and its gradients

__all__ = ["param", "gradient", "Params", "params", "Grads", "value", "update", "back", "hvp", "Tracked",
           "istracked", "data", "show", "draw", "recording"]

data = value  # Flux's name


def istracked(x) -> bool:
    return type(x) is Tracked


# =============================================================================================================
# parameters
# =============================================================================================================

def _as_float(x, where="param"):
    """A number or array as float (float32 stays float32), or a dual number as it is; a clear error otherwise."""
    t = type(x)
    if t is np.ndarray and x.dtype.kind == "f" or t is float:  # the usual inputs, as they are
        return x
    if type(x) is Dual or isinstance(x, DualArray):
        return x
    if getattr(x, "_is_device", False):  # a GPU array (nn.gpu): tracked where it lies
        if x.dtype.kind == "b":
            raise _bool_error(where)
        return x if x.dtype.kind == "f" else x.astype(np.float64)
    if isinstance(x, (bool, np.bool_)):
        raise _bool_error(where)
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{where}: expected a number or an array of numbers, got {type(x).__name__} {x!r}")
    if isinstance(x, np.floating):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, np.ndarray):
        return float(x)
    if isinstance(x, numbers.Complex) and not isinstance(x, np.ndarray):
        raise TypeError(f"{where}: the complex number {x!r}; the tracker differentiates real functions")
    try:
        arr = np.asarray(x)
    except ValueError as e:
        raise ValueError(f"{where}: a ragged nested list is not an array of numbers: {x!r}") from e
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind == "b":
        raise _bool_error(where)
    if arr.dtype.kind in "iu":
        return arr.astype(float)
    raise TypeError(f"{where}: expected a number or an array of numbers, got {type(x).__name__} "
                    f"(dtype {arr.dtype})")


def _bool_error(where):
    # the same words as forward mode's: bools are refused as differentiation inputs in every mode
    return TypeError(f"{where} is a bool (or bool array); differentiate with respect to numbers, e.g. "
                     "x.astype(float) if you mean 0 and 1")


def _all_bools(x):
    """A bool, a bool array, or a non-empty (nested) list of them: what a differentiation input must not be."""
    if isinstance(x, (bool, np.bool_)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind == "b"
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(_all_bools(e) for e in x)


def param(x, name=None) -> Tracked:
    """A tracked parameter (a leaf) holding a float copy of ``x``: ``param(2)`` is ``2.0 (tracked)``.

    ``name`` is shown by repr (``W = 2.0 (tracked)``), :func:`show` and :func:`draw`; ``param(W, name="W")`` of
    a tracked parameter names it and returns it."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"param: name is a str (shown by show and draw), got {type(name).__name__} {name!r}")
    if type(x) is Tracked:
        t = x
    else:
        d = _as_float(x)
        if isinstance(d, np.ndarray) and (d is x or not d.flags.owndata) or d is x and getattr(d, "_is_device", 0):
            d = d.copy()  # a parameter owns its numbers: update() changes them in place
        t = leaf(d, 0)
    if name is not None:
        t._name = name
    return t


class Params:
    """An ordered set of parameters with identity semantics: the same object once, equal values distinct."""

    def __init__(self, xs=()):
        self._order = []
        self._ids = set()
        for x in xs:
            self.push(x)

    def push(self, x):
        if id(x) not in self._ids:
            self._ids.add(id(x))
            self._order.append(x)
        return self

    add = push

    def __iter__(self):
        return iter(self._order)

    def __len__(self):
        return len(self._order)

    def __contains__(self, x):
        return id(x) in self._ids

    def __getitem__(self, i):
        return self._order[i]

    def __repr__(self):
        return f"Params([{', '.join(repr(x) for x in self._order)}])"


def params(*xs) -> Params:
    """``Params`` of the given parameters, in order: ``params(W, b)``."""
    return Params(xs)


class Grads:
    """``gs[W]``: the gradient for parameter ``W`` (looked up by identity); None if the loss did not use it."""

    def __init__(self, ps: Params, grads: dict):
        self.params = ps
        self._grads = grads  # id(param) -> gradient

    def __getitem__(self, x):
        if id(x) in self._grads:
            return self._grads[id(x)]
        if x in self.params:
            return None
        raise KeyError(f"{x!r} is not one of the parameters this gradient was taken with respect to")

    def get(self, x, default=None):
        g = self._grads.get(id(x))
        return default if g is None else g

    def __contains__(self, x):
        return x in self.params

    def __iter__(self):
        return iter(self.params)

    def __len__(self):
        return len(self.params)

    def keys(self):
        return list(self.params)

    def values(self):
        return [self[x] for x in self.params]

    def items(self):
        return [(x, self[x]) for x in self.params]

    def __repr__(self):
        return "Grads(" + ", ".join(f"{_short(x)}: {_short(g)}" for x, g in self.items()) + ")"


def _short(x):
    r = repr(x).replace("\n", " ")
    return r if len(r) < 60 else r[:57] + "..."


def update(x, delta):
    """Flux's ``update!``: ``x += delta`` in place on a parameter (its ``grad`` is reset, as Tracker did)."""
    d = value(delta)
    shape, dshape = np.shape(value(x)), np.shape(d)
    if dshape != shape and dshape != ():  # a step is one number, or one per element: never broadcast silently
        raise ValueError(f"update: the step has shape {dshape} but the parameter has shape {shape}; a gradient "
                         "step must match its parameter (was the gradient of another parameter, or transposed?)")
    if type(x) is Tracked:
        if not x.is_leaf:
            raise TypeError("update: only parameters (leaves) can be updated in place, not the result of an "
                            "operation")
        if isinstance(x.data, np.ndarray):
            x.data += d
        else:
            x.data = x.data + d
        x.grad = None
        return x
    if isinstance(x, np.ndarray):
        x += d
        return x
    raise TypeError(f"update: cannot update {type(x).__name__} in place; use param(...) for parameters")


# =============================================================================================================
# the backward pass
# =============================================================================================================

def _joined(y):
    """A loss returned as an object array of tracked scalars (np.array(x), np.array([x0 * x1])) as one tracked
    value, as the operations it meets would join it."""
    if type(y) is np.ndarray and y.dtype.hasobject:
        return _const(y)
    return y


def _check_loss(y, fname):
    """The ones-seed for a scalar loss ``y``; a clear error for anything that is not one number.

    An infinite or NaN loss is differentiated as the math gives, as jax.grad and PyTorch do (d log x = 1/x is
    inf at 0; the other inputs' gradients stay finite where they are): refusing to train on it is nn.train's
    business, not the derivative's.
    """
    if isinstance(y, (list, tuple, dict)):
        raise ValueError(f"{fname}: the function must return a scalar loss, got a {type(y).__name__}")
    v = value(y)
    t = type(v)
    if t is float or t is np.float64 or t is np.float32:  # the usual scalar loss
        return 1.0 if t is float else t(1)
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"{fname}: the function must return a number, got {type(v).__name__} {v!r}")
    if np.size(v) != 1:
        raise ValueError(f"{fname}: the function must return a scalar loss, but it returned an array of shape "
                         f"{np.shape(v)}; reduce it (np.sum, np.mean), or use back(y, seed) for a "
                         "vector-Jacobian product")
    if isinstance(v, np.ndarray) or getattr(v, "_is_device", False):
        return np.ones_like(v)  # (on a GPU loss: on the GPU, so every adjoint computes there)
    return v.dtype.type(1) if isinstance(v, np.floating) else 1.0


def _strip_above(y, tag, fname):
    """y at level ``tag``: layers of inner, finished levels are values only (nobody differentiates them now)."""
    while type(y) is Tracked and y._tag > tag:
        if is_active(y._tag):
            raise ValueError(f"{fname}: the loss depends on a value being differentiated by an enclosing "
                             "gradient call; nesting an implicit-parameter gradient inside an explicit one is "
                             "not supported, use the explicit form gradient(f, x) for both")
        y = y.data
    return y


def back(y, seed=None):
    """Flux's ``back!``: accumulate ``seed · dy/dx`` into ``x.grad`` for every leaf ``x`` that ``y`` depends on."""
    if type(y) is not Tracked:
        raise TypeError(f"back: expected a tracked value, got {type(y).__name__}")
    if seed is None:
        seed = _check_loss(y, "back")
    else:
        seed = value(seed)
        v = value(y)
        seed = np.asarray(seed, dtype=getattr(v, "dtype", float))
        if seed.shape != np.shape(v):
            raise ValueError(f"back: the seed has shape {seed.shape} but the value has shape {np.shape(v)}")
        if not isinstance(y.data, np.ndarray):
            seed = seed[()]
    leaves, lg = _backprop(y, seed, y._tag)
    for x in leaves:
        g = lg.get(id(x))
        if g is not None:
            x.grad = g if x.grad is None else x.grad + g


# =============================================================================================================
# gradient: explicit arguments, implicit parameters, models
# =============================================================================================================

def gradient(f, *args, nest: bool = False):
    """∇f by reverse mode: a tuple (one gradient per argument), or ``Grads`` for ``gradient(fn, ps::Params)``.

    With ``nest=True`` the gradients are tracked values (the backward pass is recorded), so they can be
    differentiated again. Models (objects, dataclasses, lists, dicts) as arguments give gradients of the same
    structure: a dict of field -> gradient for an object, None for fields that are not differentiable.
    The same array object twice inside one argument is one (tied) parameter: every place it appears gets the
    total gradient, as Flux's ``params`` and PyTorch's shared parameters do. The same object given as two
    arguments, ``gradient(f, a, a)``, is two inputs, each with its own gradient, as in JAX and PyTorch.
    """
    if not args:
        raise TypeError("gradient(f, *args) needs arguments to differentiate with respect to, or a Params")
    if len(args) == 1 and isinstance(args[0], Params):
        return _implicit(f, args[0], nest)
    outer = new_tag() if nest else None  # the level the backward pass is recorded at, for plain inputs
    if nest and any(_idle_param(a) for a in args):
        outer = 0  # the parameters' own level (Flux: back!(gradient(f, x; nest=true)[1]) fills x.grad)
    tag = new_tag()
    made = []
    # one memo per argument: the same array inside one model is one (tied) parameter, but gradient(f, a, a)
    # gives each argument its own leaves and its own gradient, as forward mode, JAX and PyTorch do
    xs = [_inputs(a, tag, outer, {}, made, top=i + 1) for i, a in enumerate(args)]
    activate(tag)
    try:
        y = _joined(f(*xs))
    finally:
        deactivate(tag)
    y = _strip_above(y, tag, "gradient")
    seed = _check_loss(y, "gradient")
    lg = _backprop(y, seed, tag)[1] if type(y) is Tracked and y._tag == tag else {}
    grads = {}
    for x in made:  # each input's adjoint (zero if the loss does not depend on it)
        g = _finish(lg.get(id(x)), x)
        if nest and type(g) is not Tracked:
            g = leaf(g, outer)  # a constant gradient (d(Wx + b)/db = 1) is tracked too, as in Flux: 1.0 (tracked)
        grads[id(x)] = g
    _unalias(grads)
    return tuple(_mirror(a, x, grads) for a, x in zip(args, xs))


def _recorded_size(f, x):
    """How many numbers the graph that ``f`` records from ``x`` holds: every tracked intermediate's size, summed.

    A pass that pushes c directions through the tracker (``hessian``'s forward over reverse) holds about
    (c + 1) times as many, and its adjoints as many again: this is what sizes its chunks. It runs ``f`` once
    and raises what the tracker raises for code it refuses."""
    tag = new_tag()
    activate(tag)
    try:
        y = _joined(f(leaf(_as_float(x, "hessian"), tag)))
    finally:
        deactivate(tag)
    if type(y) is not Tracked or y._tag != tag:
        return 0
    nodes, leaves = _topo(y, tag)  # (the backward sweep's own walk: every node once, and the leaves)
    return sum(int(np.size(value(node))) for node in nodes + leaves)


def _implicit(fn, ps, nest):
    if nest:
        raise TypeError("gradient(fn, ps; nest=True) is not supported for implicit parameters; take the nested "
                        "gradient with the explicit form gradient(f, x, nest=True)")
    for p in ps:
        if type(p) is not Tracked:
            raise TypeError(f"gradient(fn, ps): {_short(p)} is a plain {type(p).__name__}, not a tracked "
                            "parameter, so the tracker cannot see the operations done on it; wrap it with "
                            "param(...) (or take the gradient with the explicit form gradient(f, x))")
    activate(0)
    try:
        y = _joined(fn())
    finally:
        deactivate(0)
    y = _strip_above(y, 0, "gradient")
    seed = _check_loss(y, "gradient")
    found = {}
    if type(y) is Tracked and y._tag == 0:
        ids = ps._ids
        leaves, lg = _backprop(y, seed, 0)
        for x in leaves:
            if id(x) in ids:
                found[id(x)] = _finish(lg.get(id(x)), x)
    _unalias(found)
    return Grads(ps, found)


def _finish(g, x):
    """A gradient for the user: zeros where none arrived, plain floats for scalars, writable arrays."""
    if type(g) is np.ndarray and g.ndim and g.base is None and g.flags.writeable:
        return g  # the usual case: an array the backward pass made
    if g is None:
        d = x.data
        while type(d) is Tracked:
            d = d.data
        if isinstance(d, (DualArray, Dual)):
            d = value(d)
        if isinstance(d, np.ndarray):
            return np.zeros_like(d)
        return type(d)(0.0) if isinstance(d, (float, np.floating)) else 0.0  # not 0 * d: inf * 0 is NaN
    if type(g) is Tracked or isinstance(g, (DualArray, Dual)):
        return g
    if isinstance(g, np.ndarray):
        if g.ndim == 0:
            return float(g) if g.dtype == np.float64 else g[()]
        return g if g.flags.writeable and g.base is None else g.copy()
    if isinstance(g, np.float64):
        return float(g)
    return g


def _unalias(grads):
    """Distinct parameters get distinct gradient arrays (x̄ and ȳ of x + y are the same array otherwise)."""
    seen = set()
    for k, g in grads.items():
        if isinstance(g, np.ndarray):
            if id(g) in seen:
                grads[k] = g.copy()
            seen.add(id(g))


# ---- inputs: numbers, arrays, and models made of them ---------------------------------------------------------

_OPAQUE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, type,
           functools.partial, np.ufunc, np.generic, np.dtype, np.random.Generator)


def _is_model(x):
    """A user object whose fields may hold parameters (dataclasses, plain classes), not functions or modules."""
    if isinstance(x, _OPAQUE) or callable(x) and not hasattr(x, "__dict__"):
        return False
    return dataclasses.is_dataclass(x) or hasattr(x, "__dict__")


def _fields(x):
    if dataclasses.is_dataclass(x):
        return [f.name for f in dataclasses.fields(x)]
    return list(vars(x))


def _numeric_list(x):
    """A (nested) list/tuple of plain numbers: the forward mode's convention makes it one float array."""
    return all(isinstance(e, numbers.Real) and not isinstance(e, (bool, np.bool_)) or
               (isinstance(e, (list, tuple)) and e and _numeric_list(e)) for e in x) and len(x) > 0


def _idle_param(a):
    return type(a) is Tracked and a._tag == 0 and a._op is None and not is_active(0)


def _input_leaf(x, tag, outer, made, where="gradient"):
    name = x.name if type(x) is Tracked else None  # gradient(f, W): the tape shows W's input by W's name
    if not (outer == 0 and _idle_param(x)):  # (nest=True on a parameter: the backward pass is recorded on it)
        while type(x) is Tracked and not is_active(x._tag):
            x = x.data  # a finished level (or a param outside an implicit gradient): only its value matters here
    if type(x) is not Tracked:
        x = _as_float(x, where)
        if outer is not None:
            x = leaf(x, outer)  # nest=True: record the backward pass at this outer level
    t = leaf(x, tag)
    if name is not None:
        t._name = name
    made.append(t)
    return t


def _differentiable(a, top):
    """Floats and float arrays are; ints only as top-level arguments (gradient(f, 2, 3)), not inside models."""
    if type(a) is np.ndarray:
        return a.dtype.kind == "f" or (top and a.dtype.kind in "iu")
    if type(a) is Tracked or type(a) is Dual or isinstance(a, DualArray):
        return True
    if isinstance(a, np.ndarray):
        return a.dtype.kind == "f" or (top and a.dtype.kind in "iu")
    if isinstance(a, (float, np.floating)):
        return True
    if getattr(a, "_is_device", False):  # a GPU array: as a numpy array of its dtype
        return a.dtype.kind == "f" or (top and a.dtype.kind in "iu")
    return top and isinstance(a, numbers.Real) and not isinstance(a, (bool, np.bool_))


def _inputs(a, tag, outer, memo, made, top=0):
    """``a`` with every differentiable number/array replaced by a fresh leaf of level ``tag``.

    ``top`` is the argument's position (from 1) for the arguments of gradient itself, 0 inside them: a bool
    there is refused, a bool inside a model (a mask) is a constant."""
    if id(a) in memo:
        return memo[id(a)]
    where = f"gradient: argument {top}" if top else "gradient"
    if top and _all_bools(a):
        raise _bool_error(where)
    if _differentiable(a, top):
        out = _input_leaf(a, tag, outer, made, where)
        if isinstance(a, (np.ndarray, Tracked, DualArray)) or getattr(a, "_is_device", False):
            memo[id(a)] = out  # the same array twice in one model (tied weights) is one leaf: gradients add up
        return out
    if isinstance(a, (list, tuple)):
        if top and _numeric_list(a):
            return _input_leaf(a, tag, outer, made, where)
        out = [_inputs(e, tag, outer, memo, made) for e in a]
        return out if isinstance(a, list) else (type(a)(*out) if hasattr(a, "_fields") else tuple(out))
    if isinstance(a, dict):
        return {k: _inputs(v, tag, outer, memo, made) for k, v in a.items()}
    if _is_model(a):
        c = copy.copy(a)
        memo[id(a)] = c
        for name in _fields(a):
            object.__setattr__(c, name, _inputs(getattr(a, name), tag, outer, memo, made))
        return c
    if top:
        _as_float(a, where)  # raises a clear error for strings, None, complex, ...
    return a  # not differentiable (functions, strings, ints in a model, ...)


def _mirror(a, x, grads):
    """The gradient for input ``a`` (whose leaves are in ``x``), shaped like ``a``; None where not differentiable."""
    if type(x) is Tracked:
        return grads[id(x)]
    if x is a:
        return None
    if isinstance(a, (list, tuple)):
        out = [_mirror(e, xe, grads) for e, xe in zip(a, x)]
        return out if isinstance(a, list) else tuple(out)
    if isinstance(a, dict):
        return {k: _mirror(a[k], x[k], grads) for k in a}
    if _is_model(a):
        return {name: _mirror(getattr(a, name), getattr(x, name), grads) for name in _fields(a)}
    return None
