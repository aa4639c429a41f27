"""Rules from the table that numpy has no ufunc for (``sigmoid``, ``relu``), callable on any number type.

``sigmoid(x)`` works on a float, an array, a Dual, a DualArray and (later) a tracked value: the type of the
outermost argument decides who applies the rule, so the derivative comes from :mod:`dualnum.rules` in every mode.
"""
from __future__ import annotations

from . import rules
from .dual import Dual, apply_scalar

#: number types outside this package (the tracker) register ``type -> apply(rule, args)`` here
APPLIERS: dict = {}


def apply(rule, *args):
    """Evaluate ``rule`` on args of any number type, with its derivative carried along."""
    for a in args:
        h = APPLIERS.get(type(a))
        if h is not None:
            return h(rule, args)
    if any(getattr(a, "_is_dualarray", False) for a in args):
        from .dualarray import apply_rule
        return apply_rule(rule, args)
    if any(type(a) is Dual for a in args):
        return apply_scalar(rule, args)
    return rule.f(*args)


def primitive(name):
    r = rules.RULES[name]

    def f(*args):
        return apply(r, *args)
    f.__name__ = name
    f.__doc__ = f"{name}: {r.math}"
    return f


sigmoid = primitive("sigmoid")
relu = primitive("relu")
