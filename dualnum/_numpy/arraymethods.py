"""ndarray-style methods (``x.sum()``, ``x.reshape(...)``, ``x.T``, ``len``, iteration) for the array types that
wrap numpy arrays.

Each method is the numpy function of the same name, so it reaches the type's ``__array_function__`` handler:
``DualArray`` and the tracker's ``Tracked`` share these lines and differ only in their handlers.
"""
import sys

import numpy as np


def _not_a_sequence(cls):
    """Clear CPython's "is a sequence" mark (the sq_item slot) of ``cls``; ``x[i]`` keeps working (mp_subscript).

    numpy writes an object into an element of a float array (``out[0] = np.sum(x)``) through ``float(obj)``; when
    that raises, numpy replaces the message with "setting an array element with a sequence" for any object whose
    class has ``__getitem__``. Our arrays are not sequences to numpy -- they are array-likes whose ``float()``
    says what to do -- so the slot numpy checks is cleared, after checking the type layout on a probe class (any
    doubt, and nothing is touched: numpy's message then chains ours as its cause). True when it was cleared.
    """
    try:
        import ctypes
        if sys.implementation.name != "cpython" or hasattr(sys, "_is_gil_enabled"):  # free-threaded: other layout
            return False
        word = ctypes.sizeof(ctypes.c_void_p)
        check = ctypes.pythonapi.PySequence_Check
        check.argtypes, check.restype = [ctypes.py_object], ctypes.c_int

        class Probe:
            def __getitem__(self, i):
                return i

        def sq_item(c):  # the address of c's sq_item slot: PyTypeObject.tp_as_sequence -> PySequenceMethods[3]
            seq = ctypes.c_void_p.from_address(id(c) + 13 * word).value
            if not seq or not id(c) < seq < id(c) + type(c).__sizeof__(c):  # heap types embed it
                raise LookupError
            return seq + 3 * word
        generic = ctypes.c_void_p.from_address(sq_item(Probe)).value
        slot = ctypes.c_void_p.from_address(sq_item(cls))
        if not check(Probe()) or not generic or slot.value != generic or not check(object.__new__(cls)):
            return False
        slot.value = None
        return not check(object.__new__(cls))
    except Exception:  # noqa: BLE001 -- an unknown interpreter: leave the class as it is
        return False


class ArrayMethods:
    __slots__ = ()
    _scalar_name = "0-d array"  # what len() of a 0-d one calls it

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__getitem__" in cls.__dict__:
            _not_a_sequence(cls)

    def __reversed__(self):  # (reversed() would otherwise look for the sequence mark)
        for i in range(len(self) - 1, -1, -1):
            yield self[i]

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

    def flatten(self):
        return np.copy(np.reshape(self, -1))  # a copy, as ndarray's: writing into it leaves self alone

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def dot(self, other):
        return np.dot(self, other)

    def clip(self, lo=None, hi=None):
        return np.clip(self, lo, hi)

    def cumsum(self, axis=None):
        return np.cumsum(self, axis)
