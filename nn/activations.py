"""Activation functions, written once as numpy code: they run on floats, arrays, dual numbers and tracked values.

``sigmoid`` and ``relu`` come from dualnum's table of rules, so their derivatives are the table's in every mode;
the rest are compositions of numpy ufuncs. ``softmax`` and ``logsoftmax`` work over axis 0 (the features of
each column), because a batch is a matrix whose columns are samples.
"""
from __future__ import annotations

import numpy as np

import dualnum

from ._backend import value

#: σ(x) = 1 / (1 + e⁻ˣ), stable for large |x| (it never exponentiates a positive number)
sigmoid = dualnum.sigmoid
σ = sigmoid

#: relu(x) = max(x, 0), with derivative 0 at 0 (as Flux)
relu = dualnum.relu


def identity(x):
    """identity(x) = x: the activation of a plain affine layer."""
    return x


def tanh(x):
    """tanh(x) = (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ)."""
    return np.tanh(x)


def leakyrelu(x, a=0.01):
    """leakyrelu(x) = x for x > 0, a·x otherwise (slope a at 0, as Flux)."""
    # multiply by a plain slope array rather than branching, so every number type only needs `*`
    slope = np.where(value(x) > 0, 1.0, a)
    return x * (float(slope) if slope.ndim == 0 else slope)


def _shift(x, axis):
    # softmax(x) = softmax(x - c) for any constant c; c = max x keeps exp from overflowing. c is taken without
    # derivatives: it cancels mathematically, so carrying them would only cost time.
    c = np.max(value(x), axis=axis, keepdims=True)
    return x - c


def softmax(x, axis=0):
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ), over axis 0 (each column of a batch), computed as exp(x - max x)."""
    e = np.exp(_shift(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def logsoftmax(x, axis=0):
    """logsoftmax(x)ᵢ = xᵢ - log Σⱼ exp(xⱼ), over axis 0; never takes log(0) (the sum is at least 1)."""
    z = _shift(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


__all__ = ["sigmoid", "σ", "relu", "identity", "tanh", "leakyrelu", "softmax", "logsoftmax"]
