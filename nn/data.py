"""Feeding data: mini-batches along the columns, one-hot labels, and the UCI handwritten digits.

Samples are columns (shape ``(features, n)``), so a batch is a slice of columns and ``onecold`` reads the
class of each column off axis 0.
"""
from __future__ import annotations

import math

import numpy as np

from ._backend import value


class InputError(TypeError, ValueError):
    """An argument is not in the form nn expects; the message names it and the form. (A TypeError and a
    ValueError both, so either ``except`` catches it.)"""


def _is_array(x):
    return isinstance(x, np.ndarray) or hasattr(x, "shape") and (hasattr(x, "__array__") or
                                                                 hasattr(x, "__array_function__"))


class DataLoader:
    """Iterate over ``data`` (an array or a tuple of arrays) in batches of ``batchsize`` columns.

    Every array is sliced along its last axis with the same indices, so ``(x, y)`` stay paired. The last batch
    may be smaller (``partial=False`` drops it). With ``shuffle=True`` each pass draws a new order from a
    generator seeded with ``seed``, so a run is reproducible but no two epochs see the same batches.
    """

    def __init__(self, data, batchsize=1, shuffle=False, *, partial=True, seed=None):
        self.tuple = isinstance(data, tuple)
        self.data = tuple(_samples(d) for d in (data if self.tuple else (data,)))
        if not self.data:
            raise InputError("DataLoader: data is an empty tuple; give an array, or a tuple (x, y) of arrays")
        ns = {np.shape(d)[-1] for d in self.data}
        if len(ns) != 1:
            raise ValueError(f"DataLoader: all arrays need the same number of samples (last axis), got "
                             f"shapes {[np.shape(d) for d in self.data]}")
        if isinstance(batchsize, bool) or not isinstance(batchsize, (int, np.integer)):
            raise InputError(f"DataLoader: batchsize must be a whole number of samples (an int ≥ 1), got "
                             f"{type(batchsize).__name__} {batchsize!r}")
        if batchsize < 1:
            raise ValueError(f"DataLoader: batchsize must be at least 1, got {batchsize}")
        self.n = ns.pop()
        self.batchsize, self.shuffle, self.partial = int(batchsize), shuffle, partial
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        f = math.ceil if self.partial else math.floor
        return f(self.n / self.batchsize)

    def __iter__(self):
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for k in range(len(self)):
            idx = order[k * self.batchsize:(k + 1) * self.batchsize]
            if not self.shuffle:
                idx = slice(idx[0], idx[-1] + 1)  # a contiguous slice: a view, no copy
            batch = tuple(d[..., idx] for d in self.data)
            yield batch if self.tuple else batch[0]

    def __repr__(self):
        return (f"DataLoader({self.n} samples, batchsize={self.batchsize}, shuffle={self.shuffle}, "
                f"{len(self)} batches)")


_FORM = "an array with the samples along its last axis, or a tuple (x, y) of such arrays"


def _samples(d):
    """d as an array whose last axis counts samples, or an InputError naming the form DataLoader expects."""
    if isinstance(d, list):
        if any(_is_array(e) or isinstance(e, tuple) for e in d):
            raise InputError(f"DataLoader: data is a list of {len(d)} arrays; to batch arrays together (x with its "
                             "labels y) pass them as a tuple, DataLoader((x, y), ...), as Flux does (a list is "
                             "read as one array of numbers)")
        try:
            d = np.asarray(d)
        except ValueError as e:
            raise InputError(f"DataLoader: data is a list that is not an array of numbers ({e}); give "
                             f"{_FORM}") from None
    elif not _is_array(d):
        raise InputError(f"DataLoader: data must be {_FORM}; got {type(d).__name__} {d!r:.60}")
    if np.ndim(d) == 0:
        raise InputError(f"DataLoader: data must be {_FORM}; got a single number (shape ())")
    return d


def onehot(labels, nclasses):
    """onehot([2, 0], 3) = [[0, 1], [0, 0], [1, 0]]: column j has a 1 in row labels[j] (labels count from 0).

    Labels are 1-D (a (1, n) row or (n, 1) column is read as n labels); one label gives one column, shape
    (nclasses,)."""
    if isinstance(nclasses, bool) or not isinstance(nclasses, (int, np.integer)) or nclasses < 1:
        raise ValueError(f"onehot: nclasses must be a whole number ≥ 1, got {nclasses!r}")
    lab = np.asarray(value(labels))
    if lab.ndim == 2 and 1 in lab.shape:
        lab = lab.reshape(-1)  # a row or a column of labels is a list of labels: (nclasses, n), never 3-D
    if lab.ndim > 1:
        raise ValueError(f"onehot: labels must be 1-D (one class per sample; a single row or column is fine), got "
                         f"shape {lab.shape}; flatten them first (labels.ravel()) if they are one list")
    if lab.dtype.kind not in "iu":
        if lab.dtype.kind == "f" and np.all(lab == np.round(lab)):
            lab = lab.astype(int)
        else:
            raise TypeError(f"onehot: labels must be integers 0..{nclasses - 1}, got dtype {lab.dtype}")
    if lab.size and (lab.min() < 0 or lab.max() >= nclasses):
        raise ValueError(f"onehot: labels must lie in 0..{nclasses - 1}, got {lab.min()}..{lab.max()}")
    return np.eye(nclasses)[:, lab]


def _host(y):
    """y's numbers as a numpy array; from the GPU by an explicit copy (class labels are read on the host)."""
    v = value(y)
    return v.get() if getattr(v, "_is_device", False) else np.asarray(v)


def onecold(y):
    """The class of each column: argmax over axis 0 (0-based). A 1-D y gives one int."""
    return np.argmax(_host(y), axis=0)


def accuracy(ŷ, y):
    """Fraction of columns whose predicted class onecold(ŷ) equals the label (y one-hot, or integer labels)."""
    s = np.shape(ŷ)
    y = _host(y)
    if y.shape == s:  # one-hot (or scores) like ŷ
        truth = onecold(y)
    elif len(s) >= 1 and y.shape == s[1:]:  # one class label per column
        if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
            raise ValueError(f"accuracy: y of shape {y.shape} reads as class labels, which must be integers, "
                             f"got dtype {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= s[0]):
            raise ValueError(f"accuracy: class labels must lie in 0..{s[0] - 1} (ŷ has {s[0]} rows, one per "
                             f"class), got {y.min()}..{y.max()}")
        truth = y
    else:
        raise ValueError(f"accuracy: ŷ has shape {s} but y has shape {y.shape}; y must be one-hot columns of "
                         f"ŷ's shape or one integer class label per column, shape {s[1:]}")
    return float(np.mean(onecold(ŷ) == truth))


def digits(test_fraction=0.25, seed=0):
    """The UCI 8×8 handwritten digits (1797 images, as shipped with scikit-learn), split into train and test.

    Returns ``(xtrain, ytrain, xtest, ytest)``: x has shape (64, n) with pixels scaled to [0, 1], y holds
    integer labels 0-9. Needs the optional extra: ``pip install -e ".[digits]"``.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError('nn.data.digits needs scikit-learn: pip install -e ".[digits]"') from e
    d = load_digits()
    x = np.ascontiguousarray(d.data.T) / 16.0  # pixels are 0..16; samples become (row-major) columns: fast @
    y = d.target.astype(int)
    order = np.random.default_rng(seed).permutation(len(y))
    ntest = int(round(test_fraction * len(y)))
    test, train = order[:ntest], order[ntest:]
    return x[:, train], y[train], x[:, test], y[test]


__all__ = ["DataLoader", "InputError", "onehot", "onecold", "accuracy", "digits"]
