"""ndarray-style methods (``x.sum()``, ``x.reshape(...)``, ``x.T``, ``len``, iteration) for the array types that
wrap numpy arrays.

Each method is the numpy function of the same name, so it reaches the type's ``__array_function__`` handler:
``DualArray`` and the tracker's ``Tracked`` share these lines and differ only in their handlers.
"""
import numpy as np


class ArrayMethods:
    __slots__ = ()
    _scalar_name = "0-d array"  # what len() of a 0-d one calls it

    def __len__(self):
        if self.ndim == 0:
            raise TypeError(f"len() of a {self._scalar_name}")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    T = property(lambda self: np.transpose(self))

    def sum(self, axis=None, keepdims=False):
        return np.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return np.mean(self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        return np.prod(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return np.min(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape, order="C"):
        return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def transpose(self, *axes):
        return np.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def ravel(self):
        return np.reshape(self, -1)

    flatten = ravel

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def dot(self, other):
        return np.dot(self, other)

    def clip(self, lo=None, hi=None):
        return np.clip(self, lo, hi)

    def cumsum(self, axis=None):
        return np.cumsum(self, axis)
