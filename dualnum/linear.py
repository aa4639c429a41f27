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
           np.tril, np.take_along_axis)


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
