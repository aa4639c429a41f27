"""Loss functions: how far the prediction ŷ is from the target y, one number averaged over the batch.

A batch has its samples in columns, so "the batch size" is the number of columns (1 for a single 1-D sample).
Like the activations, these are plain numpy code and differentiate in forward and reverse mode alike.
``agg`` (Flux's keyword) says how the per-element (mse, binary) or per-sample (cross-entropies) losses become
one number: ``np.mean`` by default, ``np.sum``, or e.g. ``lambda l: np.mean(l, axis=-1)`` to keep leading axes
(a whole grid of parameters evaluated at once, as nn.landscape does).
"""
from __future__ import annotations

import numpy as np

from .activations import logsoftmax

#: added inside log so that a predicted probability of exactly 0 gives a large finite loss, not -inf
#: (Flux adds eps of the element type: for Float64 that is this number)
EPS = float(np.finfo(float).eps)


def _batchsize(y):
    s = np.shape(y)
    return s[-1] if len(s) >= 2 else 1


def mse(ŷ, y, agg=np.mean):
    """mse(ŷ, y) = mean((ŷ - y)²), over every element (``agg`` replaces the mean)."""
    return agg((ŷ - y) ** 2)


def crossentropy(ŷ, y, eps=EPS, agg=np.mean):
    """crossentropy(ŷ, y) = -Σ y·log(ŷ + ε) / batchsize, for probabilities ŷ (columns that sum to 1)."""
    return _per_sample(-y * np.log(ŷ + eps), y, agg)


def logitcrossentropy(logits, y, agg=np.mean):
    """logitcrossentropy(z, y) = -Σ y·logsoftmax(z) / batchsize = crossentropy(softmax(z), y), but stable."""
    return _per_sample(-y * logsoftmax(logits), y, agg)


def _per_sample(terms, y, agg):
    if agg is np.mean:  # the common case in one reduction: Σ terms / batchsize
        return np.sum(terms) / _batchsize(y)
    return agg(np.sum(terms, axis=0))  # one loss per sample (column), then agg


def binarycrossentropy(ŷ, y, eps=EPS, agg=np.mean):
    """binarycrossentropy(ŷ, y) = mean(-y·log(ŷ + ε) - (1 - y)·log(1 - ŷ + ε)), for probabilities ŷ ∈ [0, 1].

    The mean runs over every element (as Flux): for one output per sample, that is the batch average."""
    return agg(-y * np.log(ŷ + eps) - (1.0 - y) * np.log(1.0 - ŷ + eps))


def logitbinarycrossentropy(logits, y, agg=np.mean):
    """binarycrossentropy(σ(z), y) computed from z: mean((1 - y)·z + log(1 + e⁻ᶻ)), stable for any z."""
    # log(1 + e^-z) = log(e^0 + e^-z) = logaddexp(0, -z): no overflow for large |z|
    return agg((1.0 - y) * logits + np.logaddexp(0.0, -logits))


__all__ = ["mse", "crossentropy", "logitcrossentropy", "binarycrossentropy", "logitbinarycrossentropy"]
