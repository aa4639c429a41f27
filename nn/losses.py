"""Loss functions: how far the prediction ŷ is from the target y, one number averaged over the batch.

A batch has its samples in columns, so "the batch size" is the number of columns (1 for a single 1-D sample).
Like the activations, these are plain numpy code and differentiate in forward and reverse mode alike.
``agg`` (Flux's keyword) says how the per-element (mse, binary) or per-sample (cross-entropies) losses become
one number: ``np.mean`` by default, ``np.sum``, or e.g. ``lambda l: np.mean(l, axis=-1)`` to keep leading axes
(a whole grid of parameters evaluated at once, as nn.landscape does).

Losses compare like with like: ŷ and y must have the same shape, or numpy would broadcast them into a
matrix of every prediction against every target and average that -- a plausible, wrong number. The
exceptions, each unambiguous: a plain number as the target of every element (``mse(ŷ, 0.0)``); integer class
labels for the cross-entropies (a 1-D array with one class index per column of ŷ, as PyTorch's
``cross_entropy`` takes them); and, when ``agg`` is given, extra *leading* axes on ŷ (a batch of models, e.g. a
parameter grid), which agg can keep (for mse and the binary losses either argument may carry them).
"""
from __future__ import annotations

import numpy as np

from ._backend import value
from .activations import logsoftmax

#: added inside log so that a predicted probability of exactly 0 gives a large finite loss, not -inf
#: (Flux adds eps of the element type: for Float64 that is this number)
EPS = float(np.finfo(float).eps)


def _batchsize(y):
    s = np.shape(y)
    return s[-1] if len(s) >= 2 else 1


def _leading(s, t):
    """s is t with extra axes in front (a grid or batch of models), e.g. (5, 7, 3, 10) and (3, 10)."""
    return len(s) > len(t) and s[len(s) - len(t):] == t


def _mismatch(who, s, t, hint=""):
    return ValueError(
        f"{who}: ŷ has shape {s} but y has shape {t}; a loss compares each prediction with its own target, so "
        f"both need the same shape (numpy would broadcast them against each other and average a wrong "
        f"matrix){hint}")


def _hint(s, y, agg):
    """What probably happened, for ŷ of shape s and a target y of another shape."""
    t = np.shape(y)
    if [d for d in s if d != 1] == [d for d in t if d != 1]:
        return (f". The same numbers in another layout: reshape one of them, e.g. y.reshape{s} (a 1-D array is "
                "one sample; a batch is (features, batch), samples in columns)")
    if len(s) == 2 and t == s[::-1]:
        return ". y is transposed: samples are columns, so use y.T"
    if len(t) == 1 and len(s) == 2 and t[0] == s[1]:
        lab = np.asarray(value(y))
        if lab.dtype.kind in "iu" or lab.dtype.kind == "f" and np.all(lab == np.round(lab)) and np.all(lab >= 0):
            cast = "" if lab.dtype.kind in "iu" else " (as integers: y.astype(int))"
            return (f". y looks like {t[0]} class labels{cast}: use nn.onehot(y, {s[0]}) for an elementwise loss; "
                    "logitcrossentropy and crossentropy take integer class labels directly")
    if agg is np.mean and _leading(s, t):
        return (". If ŷ holds many models along its leading axes (a grid of parameters), give an agg that keeps "
                "them, e.g. agg=lambda l: np.mean(l, axis=-1); the default mean would average them all into one")
    return ""


def _same_shape(who, ŷ, y, agg):
    """For the elementwise losses: ŷ and y of one shape (or y a number; or, when agg is given, one of them with
    extra leading axes)."""
    s, t = np.shape(ŷ), np.shape(y)
    if s == t or t == ():
        return
    if agg is not np.mean and (_leading(s, t) or _leading(t, s)):
        return
    raise _mismatch(who, s, t, _hint(s, y, agg))


def _class_targets(who, ŷ, y, agg):
    """For the cross-entropies: y as a float array shaped like ŷ (integer class labels become one-hot columns),
    and the axis of ŷ that holds the classes."""
    s, t = np.shape(ŷ), np.shape(y)
    if len(t) <= 1 and len(s) >= len(t) + 1 and (not t or s[-1] == t[0]) and \
            (len(s) == len(t) + 1 or agg is not np.mean):
        lab = np.asarray(value(y))
        if lab.dtype.kind in "iu":  # class indices, one per column of ŷ (or one for a 1-D ŷ)
            nclasses = s[len(s) - len(t) - 1]
            if lab.size and (lab.min() < 0 or lab.max() >= nclasses):
                raise ValueError(f"{who}: class labels must lie in 0..{nclasses - 1} (ŷ has {nclasses} rows, one "
                                 f"per class), got labels {lab.min()}..{lab.max()}")
            y, t = np.eye(nclasses)[:, lab], (nclasses,) + t
    if s != t and not (agg is not np.mean and _leading(s, t)):
        raise _mismatch(who, s, t, _hint(s, y, agg) or ". Class labels (a 1-D integer array, one per column of "
                                   "ŷ) or one-hot columns (nn.onehot(labels, nclasses)) are the two forms of y")
    if not t:
        raise ValueError(f"{who}: ŷ and y are single numbers; a cross-entropy needs a class axis (shape "
                         "(nclasses,) or (nclasses, batch))")
    return y, (0 if len(s) == len(t) else -len(t))


def mse(ŷ, y, agg=np.mean):
    """mse(ŷ, y) = mean((ŷ - y)²), over every element (``agg`` replaces the mean)."""
    _same_shape("mse", ŷ, y, agg)
    return agg((ŷ - y) ** 2)


def crossentropy(ŷ, y, eps=EPS, agg=np.mean):
    """crossentropy(ŷ, y) = -Σ y·log(ŷ + ε) / batchsize, for probabilities ŷ (columns that sum to 1).

    y: one-hot columns like ŷ, or integer class labels (one per column)."""
    y, axis = _class_targets("crossentropy", ŷ, y, agg)
    return _per_sample(-y * np.log(ŷ + eps), y, agg, axis)


def logitcrossentropy(logits, y, agg=np.mean):
    """logitcrossentropy(z, y) = -Σ y·logsoftmax(z) / batchsize = crossentropy(softmax(z), y), but stable.

    y: one-hot columns like z, or integer class labels (one per column)."""
    y, axis = _class_targets("logitcrossentropy", logits, y, agg)
    return _per_sample(-y * logsoftmax(logits, axis=axis), y, agg, axis)


def _per_sample(terms, y, agg, axis):
    if agg is np.mean:  # the common case in one reduction: Σ terms / batchsize
        return np.sum(terms) / _batchsize(y)
    return agg(np.sum(terms, axis=axis))  # one loss per sample (column), then agg


def binarycrossentropy(ŷ, y, eps=EPS, agg=np.mean):
    """binarycrossentropy(ŷ, y) = mean(-y·log(ŷ + ε) - (1 - y)·log(1 - ŷ + ε)), for probabilities ŷ ∈ [0, 1].

    The mean runs over every element (as Flux): for one output per sample, that is the batch average."""
    _same_shape("binarycrossentropy", ŷ, y, agg)
    return agg(-y * np.log(ŷ + eps) - (1.0 - y) * np.log(1.0 - ŷ + eps))


def logitbinarycrossentropy(logits, y, agg=np.mean):
    """binarycrossentropy(σ(z), y) computed from z: mean((1 - y)·z + log(1 + e⁻ᶻ)), stable for any z."""
    _same_shape("logitbinarycrossentropy", logits, y, agg)
    # log(1 + e^-z) = log(e^0 + e^-z) = logaddexp(0, -z): no overflow for large |z|
    return agg((1.0 - y) * logits + np.logaddexp(0.0, -logits))


__all__ = ["mse", "crossentropy", "logitcrossentropy", "binarycrossentropy", "logitbinarycrossentropy"]
