"""Feeding data: mini-batches along the columns, one-hot labels, and the UCI handwritten digits.

Samples are columns (shape ``(features, n)``), so a batch is a slice of columns and ``onecold`` reads the
class of each column off axis 0.
"""
from __future__ import annotations

import math

import numpy as np

from ._backend import value


class DataLoader:
    """Iterate over ``data`` (an array or a tuple of arrays) in batches of ``batchsize`` columns.

    Every array is sliced along its last axis with the same indices, so ``(x, y)`` stay paired. The last batch
    may be smaller (``partial=False`` drops it). With ``shuffle=True`` each pass draws a new order from a
    generator seeded with ``seed``, so a run is reproducible but no two epochs see the same batches.
    """

    def __init__(self, data, batchsize=1, shuffle=False, *, partial=True, seed=None):
        self.tuple = isinstance(data, tuple)
        self.data = tuple(np.asarray(d) if isinstance(d, (list, int, float)) else d
                          for d in (data if self.tuple else (data,)))
        ns = {np.shape(d)[-1] for d in self.data}
        if len(ns) != 1:
            raise ValueError(f"DataLoader: all arrays need the same number of samples (last axis), got "
                             f"shapes {[np.shape(d) for d in self.data]}")
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


def onehot(labels, nclasses):
    """onehot([2, 0], 3) = [[0, 1], [0, 0], [1, 0]]: column j has a 1 in row labels[j] (labels count from 0)."""
    lab = np.asarray(labels)
    if lab.dtype.kind not in "iu":
        if lab.dtype.kind == "f" and np.all(lab == np.round(lab)):
            lab = lab.astype(int)
        else:
            raise TypeError(f"onehot: labels must be integers 0..{nclasses - 1}, got dtype {lab.dtype}")
    if lab.size and (lab.min() < 0 or lab.max() >= nclasses):
        raise ValueError(f"onehot: labels must lie in 0..{nclasses - 1}, got {lab.min()}..{lab.max()}")
    return np.eye(nclasses)[:, lab]


def onecold(y):
    """The class of each column: argmax over axis 0 (0-based). A 1-D y gives one int."""
    return np.argmax(np.asarray(value(y)), axis=0)


def accuracy(ŷ, y):
    """Fraction of columns whose predicted class onecold(ŷ) equals the label (y one-hot, or integer labels)."""
    s = np.shape(ŷ)
    y = np.asarray(value(y))
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


__all__ = ["DataLoader", "onehot", "onecold", "accuracy", "digits"]
