"""Rules from the table that numpy has no ufunc for (``sigmoid``, ``relu``), callable on any number type.

``sigmoid(x)`` works on a float, an array, a Dual, a DualArray and (later) a tracked value: the type of the
outermost argument decides who applies the rule, so the derivative comes from :mod:`dualnum.rules` in every mode.
"""
from __future__ import annotations

from . import rules
from .forward.dual import Dual, apply_scalar

#: number types outside this package (the tracker) register ``type -> apply(rule, args)`` here
APPLIERS: dict = {}


def apply(rule, *args):
    """Evaluate ``rule`` on args of any number type, with its derivative carried along."""
    for a in args:
        h = APPLIERS.get(type(a))
        if h is not None:
            if not any(type(b) is Dual or getattr(b, "_is_dualarray", False) for b in args):
                return h(rule, args)
            outer, args = _levels(args)  # tracked values meet dual numbers: the newer level goes first
            if outer:
                return h(rule, args)
            break
    if any(getattr(a, "_is_dualarray", False) for a in args):
        from .forward.dualarray import apply_rule
        return apply_rule(rule, args)
    if any(type(a) is Dual for a in args):
        return apply_scalar(rule, args)
    return rule.f(*args)


def _levels(args):
    """(tracked level is the outer one, args with the levels nobody differentiates stripped to their data)."""
    from .reverse.tracked import Tracked, is_active  # tracked.py registers itself here: imported when first needed
    out = []
    top_tracked = -1
    for a in args:
        while type(a) is Tracked and not is_active(a._tag):
            a = a.data
        if type(a) is Tracked:
            top_tracked = max(top_tracked, a._tag)
        out.append(a)
    top_dual = max((a.tag for a in out if type(a) is Dual or getattr(a, "_is_dualarray", False)), default=-1)
    return top_tracked >= top_dual, tuple(out)


def primitive(name):
    r = rules.RULES[name]

    def f(*args):
        return apply(r, *args)
    f.__name__ = name
    f.__doc__ = f"{name}: {r.math}"
    return f


sigmoid = primitive("sigmoid")
relu = primitive("relu")
