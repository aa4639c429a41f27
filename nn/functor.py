"""Model trees: which fields of an object hold children, ``params`` (collect the trainable arrays) and ``fmap``.

A model is a tree: a Chain holds layers, a layer holds arrays. Lists, tuples, dicts and dataclasses are
walked automatically; a class of your own is walked once it is marked with ``functor`` (the sources'
``@functor``) -- until then nn does not look inside it, just as Flux did not.

    >>> @functor
    ... class Affine:
    ...     def __init__(self, W, b): self.W, self.b = W, b
    >>> functor(TwoThirds, ("a", "c"))   # only a and c are children; b is left alone
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import numbers
import os
import sys
import types
import warnings

import numpy as np

from dualnum import tracker

from ._backend import is_float_array, is_trainable, is_tracked

#: class -> tuple of child field names, or None for "every field"
_FUNCTORS: dict = {}


def functor(cls=None, fields=None):
    """Mark ``cls`` so that params/fmap look inside it (all fields, or only ``fields``); returns cls.

    Usable as ``@functor``, ``@functor(fields=("a", "c"))`` or ``functor(cls, ("a", "c"))``. Called on an
    *instance* instead, it returns ``(children, rebuild)`` as Flux's ``Functors.functor``:
    ``rebuild(new_children)`` makes a copy with those children put back in order.
    """
    if cls is None:
        return lambda c: functor(c, fields)
    if not isinstance(cls, type):
        kids = children(cls)
        names = list(kids)
        return tuple(kids.values()), lambda new: _rebuild(cls, dict(zip(names, new)))
    if isinstance(fields, str):
        fields = (fields,)
    _FUNCTORS[cls] = tuple(fields) if fields is not None else None
    return cls


def _fields_of(x):
    """The child field names of x if it is a marked class or a dataclass, else None."""
    for c in type(x).__mro__:
        if c in _FUNCTORS:
            names = _FUNCTORS[c]
            return list(names) if names is not None else _all_fields(x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [f.name for f in dataclasses.fields(x)]
    return None


def _all_fields(x):
    names = list(getattr(x, "__dict__", {}))
    for c in type(x).__mro__:
        for s in getattr(c, "__slots__", ()):
            if s not in names and not s.startswith("__") and hasattr(x, s):
                names.append(s)
    return names


def children(x) -> dict:
    """The children of x as an ordered dict (name or position -> child); empty for a leaf."""
    if isinstance(x, (list, tuple)):
        return dict(enumerate(x))
    if isinstance(x, dict):
        return dict(x)
    names = _fields_of(x)
    if names is None:
        return {}
    return {n: getattr(x, n) for n in names}


def _rebuild(x, new):
    """A copy of x with its children replaced by ``new`` (same keys as children(x))."""
    if isinstance(x, list):
        return type(x)(new[i] for i in range(len(x)))
    if isinstance(x, tuple):
        vals = [new[i] for i in range(len(x))]
        return type(x)(*vals) if hasattr(x, "_fields") else type(x)(vals)  # namedtuple or tuple
    if isinstance(x, dict):
        out = copy.copy(x)
        out.update(new)
        return out
    # a shallow copy keeps every non-child field; object.__setattr__ works for frozen dataclasses too
    out = copy.copy(x)
    for k, v in new.items():
        object.__setattr__(out, k, v)
    return out


def is_array_leaf(x) -> bool:
    """An array or a number: what fmap applies its function to (functions, strings, None are left alone)."""
    if isinstance(x, (bool, np.bool_)):
        return False
    return (isinstance(x, (np.ndarray, numbers.Number)) or is_tracked(x) or getattr(x, "_is_device", False)
            or getattr(x, "_is_dualarray", False) or type(x).__name__ == "Dual")


def fmap(f, x, *, _cache=None):
    """A copy of the tree x with every array (and number) leaf y replaced by f(y).

    An array or sub-model that appears twice in x appears twice in the result as one shared object, so
    tied weights stay tied: f is called once per distinct leaf.
    """
    cache = {} if _cache is None else _cache
    hit = cache.get(id(x))
    if hit is not None and hit[0] is x:
        return hit[1]
    if is_array_leaf(x):
        out = f(x)
    else:
        kids = children(x)
        if not kids and not isinstance(x, (list, tuple, dict)):
            return x  # an opaque leaf (a function, a string, an unmarked object): kept as it is
        out = _rebuild(x, {k: fmap(f, c, _cache=cache) for k, c in kids.items()})
    if not isinstance(x, numbers.Number):
        cache[id(x)] = (x, out)  # keep x alive with its image, so its id is not reused during the walk
    return out


class ModelParams(tracker.Params):
    """The tracker's ``Params``, plus where ``params`` found each plain float array in a model.

    ``slots`` lists the (owner, field) places -- an object's attribute, a list position or a dict key inside
    a model -- that hold plain float arrays (directly, or inside tuples); ``located`` holds those arrays' ids.
    While ``train`` differentiates, it puts a differentiable stand-in in those places (the tracker and dual
    numbers cannot see operations on a plain array), so a model's own code needs no convention to be trained.
    """

    def __init__(self, xs=(), slots=(), located=()):
        super().__init__(xs)
        self.slots, self.located = list(slots), set(located)


def _collect(things, unmarked="warn"):
    """(trainable arrays in order of first appearance, slots, ids of the located plain arrays).

    ``unmarked``: what to do with an object of a class that is not marked with functor: "warn" if its fields
    hold trainable arrays, "skip" quietly, or "look" inside it anyway (to find what a warning should name)."""
    found, seen, slots, located = [], set(), {}, set()

    def walk(x, slot, top):
        # slot: the nearest (mutable owner, field) above x inside a model, None outside one. The containers
        # passed to params themselves do not count: code reads W, not the list [W, b] it was collected from.
        if is_float_array(x) and slot is not None:
            slots.setdefault((id(slot[0]), slot[1]), slot)
            located.add(id(x))
        if id(x) in seen:
            return
        seen.add(id(x))  # things are alive for the whole walk, so ids cannot be reused meanwhile
        if is_trainable(x):
            found.append(x)
            return
        if isinstance(x, tracker.Params):
            for p in x:
                walk(p, None, False)
            return
        kids = children(x)
        if not kids and unmarked != "skip" and not isinstance(x, _OPAQUE) and not is_array_leaf(x):
            if unmarked == "look":
                kids = {n: getattr(x, n, None) for n in _all_fields(x)}
            else:
                _warn_if_hiding(x)
        if not kids:
            return
        owner = not isinstance(x, tuple) and not (top and isinstance(x, (list, dict)))
        for k, c in kids.items():
            walk(c, (x, k) if owner else slot, False)

    for t in things:
        walk(t, None, True)
    return found, list(slots.values()), located


def trainables(*things) -> list:
    """Every trainable array in ``things`` -- tracked parameters and plain float arrays -- found in layers,
    chains, lists, tuples, dicts, dataclasses and ``functor``-marked classes, in order of first appearance,
    each object once (a layer used twice contributes its arrays once). An object of an unmarked class whose
    fields hold trainable arrays is not looked inside, with a warning that says to mark it."""
    return _collect(things)[0]


def params(*things):
    """``Params`` (the tracker's ordered, identity-based collection) of ``trainables(*things)``."""
    found, slots, located = _collect(things)
    return ModelParams(found, slots, located)


# ---- unmarked classes: say so instead of training nothing --------------------------------------------------------
_OPAQUE = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, str, bytes,
           numbers.Number, np.ndarray, np.generic, np.ufunc, functools.partial)


def trainables_quiet(*things) -> list:
    """``trainables`` without the warning about unmarked classes (for counting, e.g. in a Chain's repr)."""
    return _collect(things, "skip")[0]


def _warn_if_hiding(x):
    names = [n for n in _all_fields(x) if _collect([getattr(x, n, None)], "look")[0]]
    if names:
        cls = type(x).__name__
        warnings.warn(f"{cls} is not marked with nn.functor, so params (and train) do not look inside it and miss "
                      f"the trainable arrays in its field(s) {', '.join(names)}. Mark the class -- @nn.functor "
                      f"above `class {cls}`, or nn.functor({cls}) once -- as Flux's @functor.",
                      UserWarning, stacklevel=_outside_nn())


def _outside_nn():
    """The stacklevel of the first caller outside the nn package, so the warning points at the user's line."""
    here = os.path.dirname(__file__)
    f, level = sys._getframe(1), 1  # level 1: the function that calls warnings.warn
    while f is not None and os.path.dirname(f.f_code.co_filename) == here:
        f, level = f.f_back, level + 1
    return level


__all__ = ["functor", "children", "fmap", "params", "trainables", "trainables_quiet", "is_array_leaf",
           "ModelParams"]
