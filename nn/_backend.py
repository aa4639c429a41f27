"""The few things nn needs from dualnum, in one place: tracked parameters, stripping derivatives, Params.

Everything else in nn is plain numpy code that runs unchanged on floats, arrays, dual numbers and tracked
values, so this is the only module that knows which number types exist.
"""
from __future__ import annotations

import numpy as np

import dualnum

_TRACKER = None


def _tracker():
    """dualnum.tracker (reverse mode), imported on first use so that nn's forward-mode parts never need it."""
    global _TRACKER
    if _TRACKER is None:
        from dualnum import tracker
        _TRACKER = tracker
    return _TRACKER


def _tracked_type():
    try:
        from dualnum.tracked import Tracked
    except ImportError:  # no reverse mode in this dualnum: nothing is ever tracked
        class Tracked:
            pass
    return Tracked


Tracked = _tracked_type()


def is_tracked(x) -> bool:
    """True for a value recorded by the tracker (a parameter or the result of an operation on one)."""
    return type(x) is Tracked


def value(x):
    """The plain number or array inside x: strips tracking and every level of dual numbers (Flux's ``data``)."""
    while type(x) is Tracked:
        x = x.data
    return dualnum.value(x)


def param(x):
    """A trainable, tracked parameter holding a float copy of x."""
    return _tracker().param(np.array(x, dtype=float))


def is_float_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def is_trainable(x) -> bool:
    """A tracked parameter, or a plain float array (which ``params`` also collects, as the seeds do)."""
    return is_float_array(x) or (is_tracked(x) and is_param(x))


def is_param(x) -> bool:
    """A tracked leaf: made by ``param``, not computed from one."""
    return type(x) is Tracked and x.is_leaf


def Params(xs=()):
    """The tracker's ordered collection with identity semantics (it keeps the first of repeated objects)."""
    return _tracker().Params(list(xs))


def update_in_place(x, delta):
    """x += delta in place: through the tracker for a parameter, with numpy for a plain array."""
    if is_tracked(x):
        _tracker().update(x, delta)
    else:
        np.add(x, delta, out=x)


# ---- stand-ins for forward mode ------------------------------------------------------------------------------
#: id(parameter) -> the dual array that stands in for it while forward-mode training evaluates the loss
STAND_INS: dict = {}
#: ids of the parameters that a layer actually read through ``live`` during that evaluation
READ: set = set()


def live(x):
    """x itself -- or, while forward-mode training seeds x with dual numbers, the dual array standing in for it.

    Layers read their arrays through this one function, so forward mode needs no copy of the model."""
    if STAND_INS:  # empty (one cheap test) except inside train(..., mode="forward")
        s = STAND_INS.get(id(x))
        if s is not None:
            READ.add(id(x))
            return s
    return x
