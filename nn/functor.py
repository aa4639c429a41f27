"""Model trees: which fields of an object hold children, ``params`` (collect the trainable arrays) and ``fmap``.

A model is a tree: a Chain holds layers, a layer holds arrays. Lists, tuples, dicts and dataclasses are
walked automatically; a class of your own is walked once it is marked with ``functor`` (the seeds'
``@functor``) -- until then nn does not look inside it, just as Flux did not.

    >>> @functor
    ... class Affine:
    ...     def __init__(self, W, b): self.W, self.b = W, b
    >>> functor(TwoThirds, ("a", "c"))   # only a and c are children; b is left alone
"""
from __future__ import annotations

import copy
import dataclasses
import numbers

import numpy as np

from ._backend import Params, is_trainable, is_tracked

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
    return (isinstance(x, (np.ndarray, numbers.Number)) or is_tracked(x)
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


def trainables(*things) -> list:
    """Every trainable array in ``things`` -- tracked parameters and plain float arrays -- found in layers,
    chains, lists, tuples, dicts, dataclasses and ``functor``-marked classes, in order of first appearance,
    each object once (a layer used twice contributes its arrays once)."""
    found, seen = [], set()

    def walk(x):
        if id(x) in seen:
            return
        seen.add(id(x))  # things are alive for the whole walk, so ids cannot be reused meanwhile
        if is_trainable(x):
            found.append(x)
        elif type(x).__name__ == "Params":
            for p in x:
                walk(p)
        else:
            for c in children(x).values():
                walk(c)

    for t in things:
        walk(t)
    return found


def params(*things):
    """``Params`` (the tracker's ordered, identity-based collection) of ``trainables(*things)``."""
    return Params(trainables(*things))


__all__ = ["functor", "children", "fmap", "params", "trainables", "is_array_leaf"]
