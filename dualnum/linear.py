"""Linear maps that only move, copy or drop elements -- ``flip``, ``roll``, ``tile``, ``diag``, ``triu``, ... --
written once for both modes.

Such a map L is a *gather*: every element of ``L(x)`` is one element of ``x``, or 0. Being linear,
d(Lx) = L dx, so forward mode applies L to the value and to each direction's partials; reverse mode needs the
adjoint Lᵀ, which sends each output's gradient back to the input element it came from (adding where an
element was copied twice, as ``tile`` and ``repeat`` do). Both come from L itself: applied to the element
numbers 1..n of x, L says where each output element came from (0 where it came from nowhere), so an entry of
this table is just the numpy function -- a rule with no formula to get wrong.
"""
from __future__ import annotations

import math

import numpy as np

#: numpy functions that gather: L(x)[j] = x[src(j)] or 0; their extra arguments (axis, shift, k, reps, ...) are
#: passed through to them as given
GATHERS = (np.flip, np.fliplr, np.flipud, np.roll, np.rot90, np.tile, np.repeat, np.diag, np.diagonal, np.triu,
           np.tril, np.take_along_axis, np.take, np.rollaxis, np.matrix_transpose, np.delete, np.resize,
           np.diagflat)

#: where a gather's ``out=`` sits among its positional arguments after the array (it would write into a plain
#: array, dropping the derivatives: refused)
_OUT_AT = {np.take: 2}


def split_call(func, args, kwargs):
    """(the array, the other positional arguments, the keywords) of a call to a gather, however the array was
    passed (np.diag(v=x), np.flip(m=x), np.take(a=x, indices=i)); ``out=`` is refused."""
    if args:
        a, rest = args[0], tuple(args[1:])
    else:
        name = _first_parameter(func)
        if name not in kwargs:
            raise TypeError(f"{func.__name__}() missing 1 required positional argument: '{name}'")
        kwargs = dict(kwargs)
        a, rest = kwargs.pop(name), ()
    at = _OUT_AT.get(func)
    if kwargs.get("out") is not None or (at is not None and len(rest) > at and rest[at] is not None):
        raise TypeError(f"np.{func.__name__}(..., out=...) is not supported with derivatives: it would write into "
                        "a plain array and drop them; assign the result instead")
    return a, rest, kwargs


_FIRST: dict = {}


def _first_parameter(func):
    name = _FIRST.get(func)
    if name is None:
        import inspect
        name = _FIRST[func] = next(iter(inspect.signature(func).parameters))
    return name


def sources(func, shape, args=(), kwargs=None):
    """For each element of func(x, *args, **kwargs), x of ``shape``: the flat index of its element of x, or -1."""
    numbers = np.arange(1, math.prod(shape) + 1, dtype=np.int64).reshape(shape)
    return np.asarray(func(numbers, *args, **(kwargs or {}))) - 1


def adjoint(g, src, shape, scatter):
    """Lᵀ g: each output's gradient added into the input element it came from (``scatter`` adds at indices for
    whatever number type g is: plain, tracked when the backward pass is itself recorded, or dual)."""
    hit = src >= 0
    if hit.all():
        return np.reshape(scatter(np.reshape(g, -1), src.reshape(-1), (math.prod(shape),)), shape)
    return np.reshape(scatter(g[hit], src[hit], (math.prod(shape),)), shape)
