"""The few things nn needs from dualnum, in one place: tracked parameters, stripping derivatives, Params.

Everything else in nn is plain numpy code that runs unchanged on floats, arrays, dual numbers and tracked
values, so this is the only module that knows which number types exist.
"""
from __future__ import annotations

import numpy as np

import dualnum
from dualnum import tracker
from dualnum.reverse.tracked import Tracked


def is_tracked(x) -> bool:
    """True for a value recorded by the tracker (a parameter or the result of an operation on one)."""
    return type(x) is Tracked


value = dualnum.value  # the plain number or array inside x: every level of tracking and duals stripped


def param(x):
    """A trainable, tracked parameter holding a float copy of x."""
    return tracker.param(np.array(x, dtype=float))


def is_float_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def is_trainable(x) -> bool:
    """A tracked parameter, or a plain float array (which ``params`` also collects, as the sources do)."""
    return is_float_array(x) or (is_tracked(x) and is_param(x))


def is_param(x) -> bool:
    """A tracked leaf: made by ``param``, not computed from one."""
    return type(x) is Tracked and x.is_leaf


def Params(xs=()):
    """The tracker's ordered collection with identity semantics (it keeps the first of repeated objects)."""
    return tracker.Params(list(xs))


def update_in_place(x, delta):
    """x += delta in place: through the tracker for a parameter, with numpy for a plain array."""
    if is_tracked(x):
        tracker.update(x, delta)
    else:
        np.add(x, delta, out=x)


# ---- stand-ins for forward mode ------------------------------------------------------------------------------
#: id(parameter) -> what stands in for it while train evaluates the loss: its dual array in forward mode, and
#: in reverse mode a tracked copy of each plain float array (the tracker cannot see operations on those)
STAND_INS: dict = {}
#: ids of the parameters that a layer actually read through ``live`` during that evaluation
READ: set = set()


def live(x):
    """x itself -- or, while train differentiates with respect to x, what stands in for it (see STAND_INS).

    Layers read their arrays through this one function, so forward mode needs no copy of the model. (Plain
    arrays in a model's fields get their stand-ins there too; live matters for arrays kept elsewhere.)"""
    if STAND_INS:  # empty (one cheap test) except inside train(..., mode="forward")
        s = STAND_INS.get(id(x))
        if s is not None:
            READ.add(id(x))
            return s
    return x
